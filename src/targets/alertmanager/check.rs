//! `harden check` of `alertmanager/alertmanager.yml`.

use std::collections::BTreeSet;

use super::PATH;
use crate::check::Check;
use crate::check::tree::{S, Tree, http_services, items};
use crate::model::Model;

/// Every alert's severity reaches at least one receiver Alertmanager has.
/// The detail is the real delivery: per severity, the receivers an alert
/// reaches, each once, and which services' alerts when they differ.
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
    // Per severity, each distinct delivery (the receivers, each once, as
    // the route tree notifies them) and the services whose alerts get it.
    type Deliveries<'a> = Vec<(Vec<&'a str>, Vec<&'a str>)>;
    let mut routed: std::collections::BTreeMap<crate::model::Severity, Deliveries<'_>> =
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
            for r in &receivers {
                if !defined.contains(r) {
                    problems.push(format!("{PATH} does not define receiver `{r}`"));
                }
            }
            let deliveries = routed.entry(alert.severity).or_default();
            match deliveries.iter_mut().find(|(to, _)| *to == receivers) {
                Some((_, services)) => {
                    if !services.contains(&service.name.as_str()) {
                        services.push(&service.name);
                    }
                }
                None => deliveries.push((receivers, vec![&service.name])),
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
                .map(|(sev, deliveries)| {
                    let each: Vec<String> = match deliveries.as_slice() {
                        [(to, _)] => vec![to.join(", ")],
                        _ => deliveries
                            .iter()
                            .map(|(to, services)| {
                                format!("{} ({})", to.join(", "), services.join(", "))
                            })
                            .collect(),
                    };
                    format!("{} → {}", sev.as_str(), each.join(" | "))
                })
                .collect::<Vec<_>>()
                .join("; ")
        },
        problems,
        "add a route or a default receiver for the severity in [alerting]",
    )
}
