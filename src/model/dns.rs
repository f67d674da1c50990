//! Health-checked DNS failover between regions.

use super::*;

/// Health-checked DNS failover: each record answers with its primary
/// region's origin while that origin's health check passes, else with the
/// secondary's.
#[derive(Debug)]
pub struct Dns {
    pub provider: DnsProvider,
    /// The hosted zone, without the trailing dot.
    pub zone: String,
    /// Seconds resolvers may cache an answer; written once, here.
    pub ttl: u32,
    /// Seconds between a health check's requests.
    pub health_check_interval: u32,
    /// Consecutive failures before an origin counts as down.
    pub failure_threshold: u32,
    pub records: Vec<DnsRecord>,
}

impl Dns {
    /// The provider's name, as people say it.
    pub fn provider_name(&self) -> &'static str {
        match self.provider {
            DnsProvider::Route53 => "Route 53",
        }
    }

    /// Worst case, in seconds, from the primary failing to every client
    /// reaching the secondary: `failure_threshold` checks `health_check_interval`
    /// apart to mark it down, then `ttl` for cached answers to expire.
    pub fn failover_secs(&self) -> u64 {
        u64::from(self.failure_threshold) * u64::from(self.health_check_interval)
            + u64::from(self.ttl)
    }

    /// The record that fails the service over, if any.
    pub fn record_for(&self, service: &str) -> Option<&DnsRecord> {
        self.records.iter().find(|r| r.service == service)
    }
}

/// One failover name.
#[derive(Debug)]
pub struct DnsRecord {
    /// The label in the zone, such as `api`.
    pub name: String,
    /// `api.example.com`, without the trailing dot.
    pub fqdn: String,
    /// The http service behind the name.
    pub service: String,
    /// The service's health endpoint, which the health checks request.
    pub health_path: String,
    /// The primary origin, then the secondary.
    pub primary: DnsOrigin,
    pub secondary: DnsOrigin,
}

/// Where a failover record points in one region.
#[derive(Debug)]
pub struct DnsOrigin {
    pub region: String,
    /// The public host name serving the service there (HTTPS on 443).
    pub host: String,
    /// A name unique among the file's resources, letters and digits only,
    /// such as `ApiFra1` (CloudFormation logical ids).
    pub id: String,
}
