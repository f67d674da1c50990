//! `harden check` of `prometheus/prometheus.yml`.

use std::collections::BTreeSet;

use super::PATH;
use crate::check::Check;
use crate::check::tree::{S, Tree, http_services, items, strings};
use crate::model::{Model, REPLICA_LABEL, member_names};
use crate::targets::alerting::rules_path;
use crate::targets::compose;

/// Prometheus has a job per HTTP service with its targets and metrics path,
/// and loads every rule file.
pub(crate) fn scrapes(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "Prometheus scrapes every service";
    let config = match tree.parsed(PATH) {
        Ok(v) => v,
        Err(e) => return Check::fail(S, name, e, tree.fix()),
    };
    let mut problems = Vec::new();
    let jobs = items(&config["scrape_configs"]);
    for service in http_services(model) {
        let Some(http) = service.http() else { continue };
        let Some(job) = jobs.iter().find(|j| j["job_name"] == service.name.as_str()) else {
            problems.push(format!("{PATH} has no scrape job `{}`", service.name));
            continue;
        };
        if http.discovered {
            // Every replica: Docker's DNS names each container of the service.
            let names: BTreeSet<&str> = items(&job["dns_sd_configs"])
                .iter()
                .filter(|c| c["type"] == "A" && c["port"] == http.port)
                .flat_map(|c| strings(&c["names"]))
                .collect();
            if !names.contains(service.name.as_str()) {
                problems.push(format!(
                    "job `{}` does not discover every replica (dns_sd_configs type A of {} at port {})",
                    service.name, service.name, http.port
                ));
            }
        } else {
            let targets: BTreeSet<&str> = items(&job["static_configs"])
                .iter()
                .flat_map(|c| strings(&c["targets"]))
                .collect();
            for t in &http.targets {
                if !targets.contains(t.address.as_str()) {
                    problems.push(format!(
                        "job `{}` does not scrape {}",
                        service.name, t.address
                    ));
                }
            }
        }
        let path = job["metrics_path"].as_str().unwrap_or("/metrics");
        if path != http.endpoints.metrics {
            problems.push(format!(
                "job `{}` scrapes {path}, not the service's metrics endpoint {}",
                service.name, http.endpoints.metrics
            ));
        }
        let rules = rules_path(&service.name);
        let relative = rules.trim_start_matches(super::CONFIG_DIR);
        if !strings(&config["rule_files"])
            .iter()
            .any(|g| glob(g, relative))
        {
            problems.push(format!("rule_files does not load {rules}"));
        }
    }
    if !model.project.regions.is_empty() {
        for job in jobs {
            let job_name = job["job_name"].as_str().unwrap_or("?");
            if !items(&job["dns_sd_configs"]).is_empty() {
                let region = items(&job["relabel_configs"])
                    .iter()
                    .find(|r| r["target_label"] == "region")
                    .and_then(|r| r["replacement"].as_str());
                if !region.is_some_and(|r| model.project.regions.iter().any(|p| p == r)) {
                    problems.push(format!(
                        "job `{job_name}` labels its discovered targets with no region of the project's regions"
                    ));
                }
            }
            for group in items(&job["static_configs"]) {
                let region = group["labels"]["region"].as_str();
                if !region.is_some_and(|r| model.project.regions.iter().any(|p| p == r)) {
                    problems.push(format!(
                        "job `{job_name}` has targets without a region label of the project's regions ({})",
                        strings(&group["targets"]).join(", ")
                    ));
                }
            }
        }
    }
    let names: Vec<&str> = http_services(model).map(|s| s.name.as_str()).collect();
    Check::from_problems(
        S,
        name,
        format!(
            "{PATH} scrapes {} at {} targets and metrics paths, and loads {} rule file{}",
            names.join(", "),
            if names.len() == 1 { "its" } else { "their" },
            if names.len() == 1 { "its" } else { "their" },
            if names.len() == 1 { "" } else { "s" }
        ),
        problems,
        tree.fix(),
    )
}

/// Every Prometheus configuration sends alerts to every Alertmanager
/// member by its own address and, with several replicas, names each
/// replica and drops that name from its alerts (so they deduplicate).
pub(crate) fn alerting(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "Prometheus alerts every Alertmanager member, once per alert";
    let m = &model.monitoring;
    let mut configs = vec![(
        PATH,
        super::alertmanagers(
            model,
            compose::members(compose::ALERTMANAGER, m.alertmanager_replicas),
            |member| format!("{member}:{}", m.alertmanager_port),
        ),
    )];
    if let Some(k8s) = &model.platforms.kubernetes {
        configs.push((
            super::kubernetes::PATH,
            super::alertmanagers(
                model,
                member_names(
                    super::kubernetes::ALERTMANAGER_SERVICE,
                    m.alertmanager_replicas,
                ),
                |member| {
                    super::kubernetes::alertmanager_address(
                        member,
                        &k8s.namespace,
                        m.alertmanager_port,
                    )
                },
            ),
        ));
    }
    let mut problems = Vec::new();
    for (path, expected) in &configs {
        let config = match tree.parsed(path) {
            Ok(v) => v,
            Err(e) => return Check::fail(S, name, e, tree.fix()),
        };
        let sent: BTreeSet<&str> = items(&config["alerting"]["alertmanagers"])
            .iter()
            .flat_map(|a| items(&a["static_configs"]))
            .flat_map(|c| strings(&c["targets"]))
            .collect();
        for member in expected {
            if !sent.contains(member.as_str()) {
                problems.push(format!("{path} does not send alerts to {member}"));
            }
        }
        if m.prometheus_replicas > 1 {
            if config["global"]["external_labels"][REPLICA_LABEL].is_null() {
                problems.push(format!(
                    "{path} has no `{REPLICA_LABEL}` external label to tell its {} replicas apart",
                    m.prometheus_replicas
                ));
            }
            let dropped = items(&config["alerting"]["alert_relabel_configs"])
                .iter()
                .any(|r| r["action"] == "labeldrop" && r["regex"] == REPLICA_LABEL);
            if !dropped {
                problems.push(format!(
                    "{path} keeps `{REPLICA_LABEL}` on its alerts: Alertmanager would notify once per replica"
                ));
            }
        }
    }
    Check::from_problems(
        S,
        name,
        format!(
            "{} Prometheus replica{} send{} each alert to {} Alertmanager member{}",
            m.prometheus_replicas,
            if m.prometheus_replicas == 1 { "" } else { "s" },
            if m.prometheus_replicas == 1 { "s" } else { "" },
            configs[0].1.len(),
            if configs[0].1.len() == 1 { "" } else { "s" },
        ),
        problems,
        tree.fix(),
    )
}

/// A glob with `*` (any run of characters but `/`) against a relative path.
pub(crate) fn glob(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| go(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_within_one_directory() {
        assert!(glob("rules/*.yml", "rules/api.yml"));
        assert!(!glob("rules/*.yml", "rules/a/api.yml"));
        assert!(!glob("rules/*.yml", "rules/api.yaml"));
        assert!(glob("*", "x"));
    }
}
