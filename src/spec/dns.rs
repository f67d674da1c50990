//! `[dns]`: health-checked failover records.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// DNS providers harden writes failover records for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsProvider {
    /// Amazon Route 53: a CloudFormation template `dns/route53.json` with a
    /// health check per origin and PRIMARY/SECONDARY failover records.
    Route53,
}

/// `[dns]`: names that fail over from the primary region to the next one
/// when the primary's health check fails.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// The DNS provider: `route53`.
    pub provider: DnsProvider,
    /// The hosted zone, such as `example.com`.
    pub zone: Hostname,
    /// Seconds resolvers may cache an answer (default 60): with the health
    /// checks, it bounds how long clients keep reaching a failed region.
    #[schemars(range(min = 1, max = 86400))]
    pub ttl: Option<u32>,
    /// Seconds between health checks: `10` or `30` (Route 53's choices; default 30).
    pub health_check_interval: Option<u32>,
    /// Consecutive failed health checks before an origin counts as down (1 to 10, default 3).
    #[schemars(range(min = 1, max = 10))]
    pub failure_threshold: Option<u32>,
    /// The failover records.
    #[serde(rename = "record")]
    #[schemars(length(min = 1))]
    pub records: Vec<DnsRecord>,
}

/// One `[[dns.record]]`: `<name>.<zone>` answers with the primary region's
/// origin while its health check passes, else with the next region's.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    /// The record's label in the zone, such as `api` for `api.example.com`.
    pub name: Name,
    /// The http service behind it: health checks request its health endpoint.
    pub service: Name,
    /// The public host name serving the service in each region, such as the
    /// App Platform app's `<app>-<id>.ondigitalocean.app` (HTTPS on 443).
    /// The primary region and one other: failover goes in the project's order.
    pub origins: BTreeMap<String, Hostname>,
}
