//! `[dns]`: failover records from the primary region to the next.

use super::*;

impl Lower {
    /// `[dns]`: failover from the primary region to the next, per record.
    pub(super) fn dns(
        &mut self,
        d: &spec::Dns,
        project: &Project,
        services: &[Service],
    ) -> Option<Dns> {
        let ttl = d.ttl.unwrap_or(DNS_TTL);
        let health_check_interval = d.health_check_interval.unwrap_or(30);
        if !matches!(health_check_interval, 10 | 30) {
            self.invalid(
                "/dns/health_check_interval",
                format!(
                    "Route 53 health checks run every 10 or 30 seconds, not every {health_check_interval}"
                ),
                "set `health_check_interval = 30`, or `10` for faster failover (billed higher)",
            );
        }
        let failure_threshold = d.failure_threshold.unwrap_or(3);
        if project.regions.len() < 2 {
            self.report(
                Problem::new(
                    Code::InvalidValue,
                    "DNS failover needs a second region to fail over to",
                )
                .with_label(Label::key("/dns", "failover is asked for here"))
                .with_help(
                    "list two regions in [project], primary first, such as `regions = [\"fra1\", \"nyc1\"]`",
                ),
            );
            return None;
        }
        self.unique_names(
            "/dns/record",
            d.records.iter().map(|r| r.name.as_str()),
            "DNS record",
        );
        let http: Vec<(&str, &HttpService)> = services
            .iter()
            .filter_map(|s| s.http().map(|h| (s.name.as_str(), h)))
            .collect();
        let mut ids: Vec<String> = Vec::new();
        let mut records = Vec::new();
        for (i, r) in d.records.iter().enumerate() {
            let at = format!("/dns/record/{i}");
            let fqdn = format!("{}.{}", r.name.as_str(), d.zone.as_str());
            if fqdn.len() > 253 {
                self.invalid(
                    &format!("{at}/name"),
                    format!("`{fqdn}` is longer than DNS's 253 characters"),
                    "use a shorter record name or zone",
                );
            }
            let service = r.service.as_str();
            let health_path = if self.reference(
                &format!("{at}/service"),
                service,
                "http service",
                http.iter().map(|(n, _)| *n),
            ) {
                http.iter()
                    .find(|(n, _)| *n == service)
                    .map(|(_, h)| h.endpoints.health.clone())
            } else {
                None
            };
            let origins_at = format!("{at}/origins");
            let mut known = true;
            for (region, host) in &r.origins {
                let here = push_pointer(&origins_at, region);
                known &= self.reference(
                    &here,
                    region,
                    "region",
                    project.regions.iter().map(String::as_str),
                );
                if host.as_str() == fqdn {
                    self.invalid(
                        &here,
                        format!("`{fqdn}` cannot point at itself"),
                        "give the host name that serves the service in this region, such as the App Platform app's `<app>.ondigitalocean.app`",
                    );
                }
            }
            // Failover follows the project's order: primary first.
            let ordered: Vec<(&String, &spec::Hostname)> = project
                .regions
                .iter()
                .filter_map(|region| r.origins.get(region).map(|h| (region, h)))
                .collect();
            let primary = &project.regions[0];
            if known && !r.origins.contains_key(primary) {
                self.report(
                    Problem::new(
                        Code::MissingKey,
                        format!("`origins` has no host for the primary region `{primary}`"),
                    )
                    .with_label(Label::value(&origins_at, "the primary region is missing here"))
                    .with_help(format!(
                        "add `{primary} = \"<host serving {service} in {primary}>\"`: the record answers with it while it is healthy"
                    )),
                );
            } else if known && ordered.len() != 2 {
                self.report(
                    Problem::new(
                        Code::InvalidValue,
                        format!(
                            "{} fails over between two origins, a primary and a secondary; `origins` lists {}",
                            "Route 53",
                            ordered.len()
                        ),
                    )
                    .with_label(Label::value(&origins_at, "here"))
                    .with_help(format!(
                        "list `{primary}` and the one region to fail over to"
                    )),
                );
            }
            let (Some(health_path), [(p_region, p_host), (s_region, s_host)]) =
                (health_path, ordered.as_slice())
            else {
                continue;
            };
            let mut origin = |region: &str, host: &str| {
                let mut id = format!("{}{}", camel(r.name.as_str()), camel(region));
                if ids.contains(&id) {
                    id = format!("{id}R{i}");
                }
                ids.push(id.clone());
                DnsOrigin {
                    region: region.to_string(),
                    host: host.to_string(),
                    id,
                }
            };
            let primary = origin(p_region, p_host.as_str());
            let secondary = origin(s_region, s_host.as_str());
            records.push(DnsRecord {
                name: r.name.as_str().to_string(),
                fqdn,
                service: service.to_string(),
                health_path,
                primary,
                secondary,
            });
        }
        Some(Dns {
            provider: d.provider,
            zone: d.zone.as_str().to_string(),
            ttl,
            health_check_interval,
            failure_threshold,
            records,
        })
    }
}

/// The DNS TTL unless the spec sets one: short, so a failover reaches
/// clients within a minute of the health check's verdict.
const DNS_TTL: u32 = 60;

/// `api-v2` → `ApiV2`: a DNS label as letters and digits only.
fn camel(label: &str) -> String {
    label
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}
