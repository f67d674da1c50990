//! `harden check` of the rule files, their tests and the runbooks.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::check::Check;
use crate::check::plural;
use crate::check::tree::{S, Tree, items, rules_of};
use crate::model::{AlertKind, Model, Service};
use crate::targets::alerting::{RULES_DIR, RUNBOOKS_DIR, rules_path, runbook_url, tests_path};
use crate::targets::grafana::dashboard_path;

/// The rule file parses and every expression is valid PromQL.
pub(crate) fn rules_load(service: &Service, tree: &Tree<'_>) -> Check {
    let path = rules_path(&service.name);
    let name = format!("Rules load: {path}");
    let rules = match tree.parsed(&path) {
        Ok(v) => v,
        Err(e) => return Check::fail(S, name, e, tree.fix()),
    };
    let all = rules_of(&rules);
    let mut problems = Vec::new();
    for (group, rule) in &all {
        let id = rule["alert"]
            .as_str()
            .or(rule["record"].as_str())
            .unwrap_or("(unnamed)");
        match rule["expr"].as_str() {
            None => problems.push(format!("rule `{id}` in group `{group}` has no expr")),
            Some(expr) => {
                // Bounded before it is parsed: a hand-edited rule file nested
                // deep enough would overflow the parser's stack.
                if let Err(e) = crate::engine::promql::check(expr) {
                    problems.push(format!(
                        "rule `{id}` in group `{group}` is not valid PromQL: {e}"
                    ));
                }
            }
        }
    }
    if all.is_empty() {
        problems.push(format!("{path} has no rules"));
    }
    Check::from_problems(
        S,
        name,
        {
            let groups = items(&rules["groups"]).len();
            format!(
                "{} rules in {groups} group{}, every expression valid PromQL",
                all.len(),
                if groups == 1 { "" } else { "s" }
            )
        },
        problems,
        tree.fix(),
    )
}

/// The alerts the model generates for a service, by name.
pub(crate) fn expected_alerts(service: &Service) -> Vec<&str> {
    if let Some(http) = service.http() {
        return http.alert_rules.iter().map(|a| a.name.as_str()).collect();
    }
    let mut names: Vec<&str> = service
        .redis()
        .map(|r| r.alert_rules.iter().map(|a| a.name.as_str()).collect())
        .unwrap_or_default();
    if service.backup().is_some() {
        names.extend(super::BackupAlert::ALL.map(|a| a.name()));
    }
    names
}

/// The alerts a promtool test file expects to fire somewhere.
pub(crate) fn fired(test_file: &Value) -> BTreeSet<&str> {
    items(&test_file["tests"])
        .iter()
        .flat_map(|t| items(&t["alert_rule_test"]))
        .filter(|t| !items(&t["exp_alerts"]).is_empty())
        .filter_map(|t| t["alertname"].as_str())
        .collect()
}

/// Every alert the model generates is in the rule file, and every alert in
/// the rule file has a unit test expecting it to fire.
pub(crate) fn alerts_tested(service: &Service, expected: &[&str], tree: &Tree<'_>) -> Check {
    let rules = rules_path(&service.name);
    let tests = tests_path(&service.name);
    let name = format!("Every alert of {} has a unit test", service.name);
    let (rule_file, test_file) = match (tree.parsed(&rules), tree.parsed(&tests)) {
        (Ok(r), Ok(t)) => (r, t),
        (Err(e), _) | (_, Err(e)) => return Check::fail(S, name, e, tree.fix()),
    };
    let alerts: BTreeSet<&str> = rules_of(&rule_file)
        .iter()
        .filter_map(|(_, r)| r["alert"].as_str())
        .collect();
    let tested = fired(&test_file);
    let mut problems = Vec::new();
    for alert in expected {
        if !alerts.contains(alert) {
            problems.push(format!("{rules} has no alert {alert}"));
        }
    }
    for alert in &alerts {
        if !tested.contains(alert) {
            problems.push(format!("no test in {tests} expects {alert} to fire"));
        }
    }
    Check::from_problems(
        S,
        name,
        format!(
            "{} alerts in {rules}, each expected to fire by a test in {tests}",
            alerts.len()
        ),
        problems,
        tree.fix(),
    )
}

/// Every alert in every generated rule file links its runbook
/// (`runbook_url`, whose last path segment names a file in `runbooks/`),
/// that runbook is on disk, and every runbook on disk belongs to an alert.
pub(crate) fn runbooks(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "Every alert links a generated runbook";
    let mut problems = Vec::new();
    let mut alerts = BTreeSet::new();
    let rule_files = tree
        .set
        .iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with(RULES_DIR));
    for path in rule_files {
        let rules = match tree.parsed(path) {
            Ok(v) => v,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for (_, rule) in rules_of(&rules) {
            let Some(alert) = rule["alert"].as_str() else {
                continue;
            };
            alerts.insert(alert.to_string());
            let expected = runbook_url(model, alert);
            match rule["annotations"]["runbook_url"].as_str() {
                None => problems.push(format!("{alert} in {path} has no runbook_url")),
                Some(url) => {
                    let file = url.rsplit('/').next().unwrap_or_default();
                    if url != expected {
                        problems.push(format!(
                            "{alert} in {path} links `{url}`, not its runbook `{expected}`"
                        ));
                    }
                    if !tree.dir.join(RUNBOOKS_DIR).join(file).is_file() || file.is_empty() {
                        problems.push(format!(
                            "{alert} in {path} links {RUNBOOKS_DIR}/{file}, which is not on disk"
                        ));
                    }
                }
            }
        }
    }
    let on_disk: Vec<String> = std::fs::read_dir(tree.dir.join(RUNBOOKS_DIR))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for file in &on_disk {
        let alert = file.strip_suffix(".md").unwrap_or(file);
        if !alerts.contains(alert) {
            problems.push(format!("{RUNBOOKS_DIR}/{file} belongs to no alert"));
        }
    }
    Check::from_problems(
        S,
        name,
        format!(
            "{} alerts, each linking its runbook in {RUNBOOKS_DIR}/",
            alerts.len()
        ),
        problems,
        tree.fix(),
    )
}

/// Every `expr` string anywhere in a dashboard.
pub(crate) fn exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", Value::String(s)) => out.push(s.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

/// Each of the service's SLOs has its alerts and a dashboard row, and each
/// threshold alert a panel.
pub(crate) fn slo_covered(service: &Service, tree: &Tree<'_>) -> Check {
    let name = format!("SLOs of {} have alerts and dashboard panels", service.name);
    let (Some(http), rules, dashboard) = (
        service.http(),
        rules_path(&service.name),
        dashboard_path(&service.name),
    ) else {
        return Check::skip(S, name, "not an http service", "");
    };
    if http.slos.is_empty() {
        return Check::skip(S, name, "no [[service.slo]]", "");
    }
    let (rule_file, board) = match (tree.parsed(&rules), tree.parsed(&dashboard)) {
        (Ok(r), Ok(d)) => (r, d),
        (Err(e), _) | (_, Err(e)) => return Check::fail(S, name, e, tree.fix()),
    };
    // Each alert as `Name` or `Name{slo}`.
    let alerts: BTreeSet<String> = rules_of(&rule_file)
        .iter()
        .filter_map(|(_, r)| {
            let alert = r["alert"].as_str()?;
            Some(match r["labels"]["slo"].as_str() {
                Some(slo) => format!("{alert}{{{slo}}}"),
                None => alert.to_string(),
            })
        })
        .collect();
    let mut queries = Vec::new();
    exprs(&board, &mut queries);
    let alert_of = |kind: AlertKind, slo: Option<&str>| {
        http.alert_rules
            .iter()
            .find(|a| a.kind == kind && a.slo.as_deref() == slo)
            .map(|a| match slo {
                Some(s) => format!("{}{{{s}}}", a.name),
                None => a.name.clone(),
            })
    };
    // (objective, alerts, what a panel's query must contain)
    let mut wanted: Vec<(String, Vec<Option<String>>, String)> = Vec::new();
    for slo in &http.slos {
        let tiers: Vec<Option<String>> = [AlertKind::SloBurnPage, AlertKind::SloBurnTicket]
            .into_iter()
            .filter(|k| {
                slo.burn_rates
                    .iter()
                    .any(|b| AlertKind::of_tier(b.tier) == *k)
            })
            .map(|k| alert_of(k, Some(&slo.name)))
            .collect();
        wanted.push((
            format!("{} {} ({})", slo.name, slo.objective, slo.sli.kind()),
            tiers,
            format!("slo=\"{}\"", slo.name),
        ));
    }
    if let Some(r) = http.error_rate_5xx {
        wanted.push((
            format!("5xx rate {r}"),
            vec![alert_of(AlertKind::ErrorRate5xx, None)],
            format!("{}=~\"5..\"", http.metrics.status_label),
        ));
    }
    if let Some(r) = http.error_rate_4xx {
        wanted.push((
            format!("4xx rate {r}"),
            vec![alert_of(AlertKind::ErrorRate4xx, None)],
            format!("{}=~\"4..\"", http.metrics.status_label),
        ));
    }
    let mut problems = Vec::new();
    for (objective, kinds, series) in &wanted {
        let names: Vec<&String> = kinds.iter().flatten().collect();
        if names.is_empty() {
            problems.push(format!(
                "the {objective} objective has no alert (every tier disabled, or the alert off in [service.alerts])"
            ));
        }
        for n in names {
            if !alerts.contains(n.as_str()) {
                problems.push(format!(
                    "{rules} has no alert {n} for the {objective} objective"
                ));
            }
        }
        if !queries.iter().any(|q| q.contains(series.as_str())) {
            problems.push(format!(
                "{dashboard} has no panel querying {series} for the {objective} objective"
            ));
        }
    }
    Check::from_problems(
        S,
        name,
        format!(
            "{} objective{} ({}), each alerted on in {rules} and graphed in {dashboard}",
            wanted.len(),
            plural(wanted.len()),
            wanted
                .iter()
                .map(|w| w.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        problems,
        "enable a tier of the SLO (or the alert in [service.alerts]), or run harden generate",
    )
}
