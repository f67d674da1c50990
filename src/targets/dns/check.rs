//! `harden check` of the DNS failover file.

use serde_json::Value;

use crate::check::Check;
use crate::check::tree::{S, Tree, compare, strings};
use crate::model::Model;

/// The DNS failover file answers each record's name with the primary
/// region's origin, then the secondary's, with the spec's TTL, each behind a
/// health check of the service's health endpoint at the spec's interval.
pub(crate) fn dns(model: &Model, tree: &Tree<'_>) -> Option<Check> {
    let dns = model.dns.as_ref()?;
    let path = super::path(dns);
    let name = format!("DNS failover in {path} matches the spec");
    let template = match tree.parsed(path) {
        Ok(v) => v,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let resources = template["Resources"].as_object();
    let of_type = |ty: &str| -> Vec<(&String, &Value)> {
        resources
            .into_iter()
            .flatten()
            .filter(|(_, r)| r["Type"] == ty)
            .collect()
    };
    let records = of_type("AWS::Route53::RecordSet");
    let mut problems = Vec::new();
    let mut said = Vec::new();
    for r in &dns.records {
        let fqdn = format!("{}.", r.fqdn);
        for (origin, failover) in [(&r.primary, "PRIMARY"), (&r.secondary, "SECONDARY")] {
            let what = format!("{} {failover}", r.fqdn);
            let found: Vec<&Value> = records
                .iter()
                .map(|(_, v)| &v["Properties"])
                .filter(|p| p["Name"] == fqdn.as_str() && p["Failover"] == failover)
                .collect();
            let [p] = found.as_slice() else {
                problems.push(format!("{} {what} records, not one", found.len()));
                continue;
            };
            // CloudFormation takes the TTL as a string; accept a number too.
            let ttl = p["TTL"]
                .as_str()
                .and_then(|t| t.parse::<u64>().ok())
                .or_else(|| p["TTL"].as_u64());
            if ttl != Some(u64::from(dns.ttl)) {
                problems.push(format!("{what} has TTL {}, the spec {}", p["TTL"], dns.ttl));
            }
            if strings(&p["ResourceRecords"]) != [origin.host.as_str()] {
                problems.push(format!(
                    "{what} answers {}, the spec {} ({})",
                    p["ResourceRecords"], origin.host, origin.region
                ));
            }
            let check = p["HealthCheckId"]["Ref"]
                .as_str()
                .and_then(|id| resources.and_then(|all| all.get(id)))
                .filter(|c| c["Type"] == "AWS::Route53::HealthCheck");
            let Some(check) = check else {
                problems.push(format!("{what} has no health check of this file"));
                continue;
            };
            let c = &check["Properties"]["HealthCheckConfig"];
            if c["ResourcePath"] != r.health_path.as_str() {
                problems.push(format!(
                    "{what}'s health check requests {}, the service's health endpoint is {}",
                    c["ResourcePath"], r.health_path
                ));
            }
            if c["FullyQualifiedDomainName"] != origin.host.as_str() {
                problems.push(format!(
                    "{what}'s health check requests host {}, the spec {}",
                    c["FullyQualifiedDomainName"], origin.host
                ));
            }
            compare(
                &mut problems,
                format!("{what} health check interval"),
                &c["RequestInterval"],
                u64::from(dns.health_check_interval),
            );
            compare(
                &mut problems,
                format!("{what} health check failure threshold"),
                &c["FailureThreshold"],
                u64::from(dns.failure_threshold),
            );
        }
        said.push(format!(
            "{} {} → {}",
            r.fqdn, r.primary.region, r.secondary.region
        ));
    }
    Some(Check::from_problems(
        S,
        name,
        format!(
            "{}; TTL {}s; health checks of each service's health endpoint every {}s, down after {}",
            said.join(", "),
            dns.ttl,
            dns.health_check_interval,
            dns.failure_threshold
        ),
        problems
            .into_iter()
            .map(|p| format!("{path}: {p}"))
            .collect(),
        tree.fix(),
    ))
}
