//! `harden check` of `alertmanager/alertmanager.yml`.

use std::collections::BTreeSet;

use super::PATH;
use crate::check::Check;
use crate::check::tree::{S, Tree, http_services, items};
use crate::model::Model;

/// Every alert's severity reaches at least one receiver Alertmanager has.
pub(crate) fn routing(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "Every alert severity routes to a receiver";
    let config = match tree.parsed(PATH) {
        Ok(v) => v,
        Err(e) if tree.set.get(PATH).is_some() => {
            return Check::fail(S, name, e, tree.fix());
        }
        Err(_) => {
            return Check::skip(
                S,
                name,
                "the spec has no receivers",
                "add [[alerting.receiver]] and [alerting] default_receiver",
            );
        }
    };
    let defined: BTreeSet<&str> = items(&config["receivers"])
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    let mut problems = Vec::new();
    let mut routed: std::collections::BTreeMap<crate::model::Severity, Vec<&str>> =
        Default::default();
    for service in http_services(model) {
        for alert in service
            .http()
            .map(|h| h.alert_rules.as_slice())
            .unwrap_or(&[])
        {
            let receivers = model.alerting.receivers_for(
                alert.severity,
                Some(&service.name),
                service.team.as_deref(),
            );
            if receivers.is_empty() {
                problems.push(format!(
                    "{} of {} ({}) reaches no receiver",
                    alert.name,
                    service.name,
                    alert.severity.as_str()
                ));
            }
            for r in receivers {
                if !defined.contains(r) {
                    problems.push(format!("{PATH} does not define receiver `{r}`"));
                }
                let to = routed.entry(alert.severity).or_default();
                if !to.contains(&r) {
                    to.push(r);
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    Check::from_problems(
        S,
        name,
        if routed.is_empty() {
            "no alerts".to_string()
        } else {
            routed
                .iter()
                .map(|(sev, to)| format!("{} → {}", sev.as_str(), to.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        },
        problems,
        "add a route or a default receiver for the severity in [alerting]",
    )
}
