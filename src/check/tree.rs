//! Static checks: the tree on disk against the spec. Each reads the files
//! harden generated (as they are on disk, which may have been edited) and
//! compares what they say with the model; none re-renders a file.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::report::{Check, Kind};
use crate::model::{AlertKind, Model, Scaling, SecretRef, Service, record};
use crate::output::{self, Drift, FileMode, OutputSet};

const S: Kind = Kind::Static;
const PROMETHEUS: &str = "prometheus/prometheus.yml";
const ALERTMANAGER: &str = "alertmanager/alertmanager.yml";
const LOAD_TEST: &str = "testing/load-tests/load-test.js";

fn rules_path(service: &str) -> String {
    format!("prometheus/rules/{service}.yml")
}
fn tests_path(service: &str) -> String {
    format!("prometheus/tests/{service}.test.yml")
}
fn dashboard_path(service: &str) -> String {
    format!("grafana/dashboards/{service}.json")
}
fn hpa_path(service: &str) -> String {
    format!("k8s/{service}/hpa.yaml")
}

/// The generated tree in `dir`, read lazily, with the spec's regenerate
/// command for hints.
pub struct Tree<'a> {
    pub dir: &'a Path,
    pub set: &'a OutputSet,
    /// `harden generate SPEC --out DIR`, for remediation hints.
    pub regenerate: String,
}

impl Tree<'_> {
    fn text(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.dir.join(path)).map_err(|e| format!("cannot read {path}: {e}"))
    }

    /// The file parsed as YAML or JSON (by extension).
    fn parsed(&self, path: &str) -> Result<Value, String> {
        let text = self.text(path)?;
        parse(path, &text)
            .unwrap_or(Ok(Value::Null))
            .map_err(|e| format!("{path} does not parse: {e}"))
    }

    fn fix(&self) -> String {
        format!(
            "run `{}` to bring the files in line, or change the spec if the edit was meant",
            self.regenerate
        )
    }
}

/// Parses `text` by the extension of `path`; `None` for other formats.
fn parse(path: &str, text: &str) -> Option<Result<Value, String>> {
    if path.ends_with(".yml") || path.ends_with(".yaml") {
        Some(serde_saphyr::from_str::<Value>(text).map_err(|e| format!("invalid YAML: {e}")))
    } else if path.ends_with(".json") {
        Some(serde_json::from_str::<Value>(text).map_err(|e| format!("invalid JSON: {e}")))
    } else {
        None
    }
}

/// A database's backups, as the tree runs them: the freshness alerts with
/// the model's threshold and a firing test each, the job on every platform
/// (the CronJob's schedule, the Compose service, the App Platform worker
/// where DigitalOcean's retention falls short), and the drill script.
fn backups(model: &Model, service: &Service, tree: &Tree<'_>) -> Option<Check> {
    let b = service.backup()?;
    let db = service.name.as_str();
    let name = format!("Backups of {db} are scheduled, alerted and drillable");
    let mut problems = Vec::new();
    let mut said = Vec::new();
    let (rules, tests) = (rules_path(db), tests_path(db));
    match (tree.parsed(&rules), tree.parsed(&tests)) {
        (Ok(rule_file), Ok(test_file)) => {
            let fired: BTreeSet<&str> = items(&test_file["tests"])
                .iter()
                .flat_map(|t| items(&t["alert_rule_test"]))
                .filter(|t| !items(&t["exp_alerts"]).is_empty())
                .filter_map(|t| t["alertname"].as_str())
                .collect();
            let stale = format!("> {}", b.stale_after.as_millis() / 1000);
            for alert in ["BackupStale", "BackupMissing"] {
                let rule = rules_of(&rule_file)
                    .into_iter()
                    .find(|(_, r)| r["alert"].as_str() == Some(alert));
                match rule {
                    None => problems.push(format!("{rules} has no alert {alert}")),
                    Some((_, r)) => {
                        let expr = r["expr"].as_str().unwrap_or("");
                        if alert == "BackupStale" && !expr.ends_with(&stale) {
                            problems.push(format!(
                                "{rules}: BackupStale is `{expr}`, not `{stale}` ({})",
                                b.stale_after
                            ));
                        }
                    }
                }
                if !fired.contains(alert) {
                    problems.push(format!("no test in {tests} expects {alert} to fire"));
                }
            }
            said.push(format!(
                "BackupStale after {}, BackupMissing, both tested",
                b.stale_after
            ));
        }
        (Err(e), _) | (_, Err(e)) => problems.push(e),
    }
    if model.platforms.kubernetes.is_some() {
        let path = format!("k8s/{db}/backup-cronjob.yaml");
        match tree.parsed(&path) {
            Ok(job) => {
                if job["spec"]["schedule"].as_str() != Some(b.cron.as_str()) {
                    problems.push(format!(
                        "{path}: schedule {}, not {}",
                        job["spec"]["schedule"], b.cron
                    ));
                }
                if job["spec"]["concurrencyPolicy"].as_str() != Some("Forbid") {
                    problems.push(format!("{path}: concurrencyPolicy is not Forbid"));
                }
                said.push(format!("{path} at {}", b.cron));
            }
            Err(e) => problems.push(e),
        }
    }
    if model.platforms.compose.is_some() {
        let path = "docker-compose.yml";
        match tree.parsed(path) {
            Ok(d) => {
                let svc = format!("{db}-backup");
                if d["services"][&svc].is_null() {
                    problems.push(format!("{path} has no {svc} service"));
                } else if d["services"]["pushgateway"].is_null() {
                    problems.push(format!("{path} has no pushgateway service"));
                } else {
                    said.push(format!("{path}: {svc}"));
                }
            }
            Err(e) => problems.push(e),
        }
    }
    let worker_app = model
        .platforms
        .digitalocean
        .as_ref()
        .filter(|_| b.digitalocean_job)
        .and_then(|d| d.apps.first());
    if let Some(app) = worker_app {
        let worker = format!("{db}-backup");
        match tree.parsed(&app.path) {
            Ok(spec) => {
                if items(&spec["workers"])
                    .iter()
                    .any(|w| w["name"].as_str() == Some(worker.as_str()))
                {
                    said.push(format!("{}: worker {worker}", app.path));
                } else {
                    problems.push(format!("{} has no worker {worker}", app.path));
                }
            }
            Err(e) => problems.push(e),
        }
    }
    for script in ["scripts/backup.sh", "scripts/restore-drill.sh"] {
        match tree.text(script) {
            Ok(text) if text.lines().any(|l| l.trim() == format!("{db})")) => {}
            Ok(_) => problems.push(format!("{script} does not know {db}")),
            Err(e) => problems.push(e),
        }
    }
    said.push("scripts/restore-drill.sh".to_string());
    Some(Check::from_problems(
        S,
        name,
        said.join("; "),
        problems,
        tree.fix(),
    ))
}

/// Every static check, in a fixed order.
pub fn checks(model: &Model, tree: &Tree<'_>) -> Vec<Check> {
    let mut out = files(tree);
    out.push(scrapes(model, tree));
    // Every service harden writes rules for: HTTP services, Redis caches,
    // databases with backups.
    for service in &model.services {
        let expected = expected_alerts(service);
        if !expected.is_empty() || service.http().is_some() {
            out.push(rules_load(service, tree));
            out.push(alerts_tested(service, &expected, tree));
        }
    }
    out.push(routing(model, tree));
    out.push(runbooks(model, tree));
    for service in http_services(model) {
        if service.http().is_some_and(|h| h.slo.is_some()) {
            out.push(slo_covered(service, tree));
            out.push(slo_load_test(model, service, tree));
        }
    }
    for service in http_services(model) {
        out.extend(probes(model, service, tree));
    }
    if let Some(check) = compose_monitoring(model, tree) {
        out.push(check);
    }
    for service in http_services(model) {
        if let Some(check) = hpa(model, service, tree) {
            out.push(check);
        }
    }
    out.extend(digitalocean(model, tree));
    if let Some(check) = dns(model, tree) {
        out.push(check);
    }
    for service in &model.services {
        if let Some(check) = backups(model, service, tree) {
            out.push(check);
        }
    }
    if let Some(check) = load_test(model, tree) {
        out.push(check);
    }
    out.push(executables(tree));
    out.push(secrets(model, tree));
    out
}

fn http_services(model: &Model) -> impl Iterator<Item = &Service> {
    model.services.iter().filter(|s| s.http().is_some())
}

/// One check per generated file: present, parses, what the spec generates,
/// right mode; and one for stale files.
fn files(tree: &Tree<'_>) -> Vec<Check> {
    let report = match output::diff(tree.set, tree.dir) {
        Ok(r) => r,
        Err(e) => {
            return vec![Check::fail(S, "Generated files", e.to_string(), tree.fix())];
        }
    };
    let mut out = Vec::new();
    for (path, file) in tree.set.iter() {
        let name = format!("Generated file {path}");
        let drifts: Vec<&Drift> = report.drifts.iter().filter(|d| d.path() == path).collect();
        let mut problems = Vec::new();
        for drift in &drifts {
            match drift {
                Drift::Missing { .. } => problems.push("missing".to_string()),
                Drift::Changed { unified, .. } => {
                    let count = |c: char| {
                        unified
                            .lines()
                            .filter(|l| {
                                l.starts_with(c) && !l.starts_with("+++") && !l.starts_with("---")
                            })
                            .count()
                    };
                    problems.push(format!(
                        "differs from what the spec generates ({} line{} on disk not generated, {} generated line{} missing)",
                        count('-'),
                        super::plural(count('-')),
                        count('+'),
                        super::plural(count('+'))
                    ));
                }
                Drift::ModeChanged { expected, .. } => problems.push(format!(
                    "has the wrong mode: should be {expected}{}",
                    if *expected == FileMode::Executable {
                        " (executable)"
                    } else {
                        ""
                    }
                )),
                Drift::Stale { .. } => {}
            }
        }
        let format = if path.ends_with(".json") {
            " and parses as JSON"
        } else if path.ends_with(".yml") || path.ends_with(".yaml") {
            " and parses as YAML"
        } else {
            ""
        };
        if !drifts.iter().any(|d| matches!(d, Drift::Missing { .. }))
            && let Ok(text) = tree.text(path)
            && let Some(Err(e)) = parse(path, &text)
        {
            problems.push(format!("does not parse: {e}"));
        }
        let _ = file;
        out.push(Check::from_problems(
            S,
            name,
            format!("matches the spec{format}"),
            problems
                .into_iter()
                .map(|p| format!("{path} {p}"))
                .collect(),
            tree.fix(),
        ));
    }
    let stale: Vec<&str> = report
        .drifts
        .iter()
        .filter(|d| matches!(d, Drift::Stale { .. }))
        .map(Drift::path)
        .collect();
    out.push(Check::from_problems(
        S,
        "No stale generated files",
        "every file harden wrote earlier is still generated",
        stale
            .iter()
            .map(|p| format!("{p} is no longer generated but is still on disk"))
            .collect(),
        tree.fix(),
    ));
    out
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Prometheus has a job per HTTP service with its targets and metrics path,
/// and loads every rule file.
fn scrapes(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "Prometheus scrapes every service";
    let config = match tree.parsed(PROMETHEUS) {
        Ok(v) => v,
        Err(e) => return Check::fail(S, name, e, tree.fix()),
    };
    let mut problems = Vec::new();
    let jobs = items(&config["scrape_configs"]);
    for service in http_services(model) {
        let Some(http) = service.http() else { continue };
        let Some(job) = jobs.iter().find(|j| j["job_name"] == service.name.as_str()) else {
            problems.push(format!("{PROMETHEUS} has no scrape job `{}`", service.name));
            continue;
        };
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
        let path = job["metrics_path"].as_str().unwrap_or("/metrics");
        if path != http.endpoints.metrics {
            problems.push(format!(
                "job `{}` scrapes {path}, not the service's metrics endpoint {}",
                service.name, http.endpoints.metrics
            ));
        }
        let rules = rules_path(&service.name);
        let relative = rules.trim_start_matches("prometheus/");
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
            "{PROMETHEUS} scrapes {} at {} targets and metrics paths, and loads {} rule file{}",
            names.join(", "),
            if names.len() == 1 { "its" } else { "their" },
            if names.len() == 1 { "its" } else { "their" },
            if names.len() == 1 { "" } else { "s" }
        ),
        problems,
        tree.fix(),
    )
}

/// A glob with `*` (any run of characters but `/`) against a relative path.
fn glob(pattern: &str, path: &str) -> bool {
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

/// Every rule in the service's rule file, as (group, rule) JSON values.
fn rules_of(value: &Value) -> Vec<(&str, &Value)> {
    items(&value["groups"])
        .iter()
        .flat_map(|g| {
            let group = g["name"].as_str().unwrap_or("");
            items(&g["rules"]).iter().map(move |r| (group, r))
        })
        .collect()
}

/// The rule file parses and every expression is valid PromQL.
fn rules_load(service: &Service, tree: &Tree<'_>) -> Check {
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
                if let Err(e) = promql_parser::parser::parse(expr) {
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
fn expected_alerts(service: &Service) -> Vec<&str> {
    if let Some(http) = service.http() {
        return http.alert_rules.iter().map(|a| a.name.as_str()).collect();
    }
    let mut names: Vec<&str> = service
        .redis()
        .map(|r| r.alert_rules.iter().map(|a| a.name.as_str()).collect())
        .unwrap_or_default();
    if service.backup().is_some() {
        names.extend(crate::targets::alerting::BackupAlert::ALL.map(|a| a.name()));
    }
    names
}

/// Every alert the model generates is in the rule file, and every alert in
/// the rule file has a unit test expecting it to fire.
fn alerts_tested(service: &Service, expected: &[&str], tree: &Tree<'_>) -> Check {
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
    let tested: BTreeSet<&str> = items(&test_file["tests"])
        .iter()
        .flat_map(|t| items(&t["alert_rule_test"]))
        .filter(|t| !items(&t["exp_alerts"]).is_empty())
        .filter_map(|t| t["alertname"].as_str())
        .collect();
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
fn runbooks(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "Every alert links a generated runbook";
    let mut problems = Vec::new();
    let mut alerts = BTreeSet::new();
    let rule_files = tree
        .set
        .iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with("prometheus/rules/"));
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
            let expected = crate::targets::alerting::runbook_url(model, alert);
            match rule["annotations"]["runbook_url"].as_str() {
                None => problems.push(format!("{alert} in {path} has no runbook_url")),
                Some(url) => {
                    let file = url.rsplit('/').next().unwrap_or_default();
                    if url != expected {
                        problems.push(format!(
                            "{alert} in {path} links `{url}`, not its runbook `{expected}`"
                        ));
                    }
                    if !tree.dir.join("runbooks").join(file).is_file() || file.is_empty() {
                        problems.push(format!(
                            "{alert} in {path} links runbooks/{file}, which is not on disk"
                        ));
                    }
                }
            }
        }
    }
    let on_disk: Vec<String> = std::fs::read_dir(tree.dir.join("runbooks"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for file in &on_disk {
        let alert = file.strip_suffix(".md").unwrap_or(file);
        if !alerts.contains(alert) {
            problems.push(format!("runbooks/{file} belongs to no alert"));
        }
    }
    Check::from_problems(
        S,
        name,
        format!(
            "{} alerts, each linking its runbook in runbooks/",
            alerts.len()
        ),
        problems,
        tree.fix(),
    )
}

/// Every alert's severity reaches at least one receiver Alertmanager has.
fn routing(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "Every alert severity routes to a receiver";
    let config = match tree.parsed(ALERTMANAGER) {
        Ok(v) => v,
        Err(e) if tree.set.get(ALERTMANAGER).is_some() => {
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
                    problems.push(format!("{ALERTMANAGER} does not define receiver `{r}`"));
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

/// Every `expr` string anywhere in a dashboard.
fn exprs(value: &Value, out: &mut Vec<String>) {
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

/// Each objective of the service's SLO has an alert and a dashboard panel.
fn slo_covered(service: &Service, tree: &Tree<'_>) -> Check {
    let name = format!("SLO of {} has alerts and dashboard panels", service.name);
    let (Some(http), rules, dashboard) = (
        service.http(),
        rules_path(&service.name),
        dashboard_path(&service.name),
    ) else {
        return Check::skip(S, name, "not an http service", "");
    };
    let Some(slo) = &http.slo else {
        return Check::skip(S, name, "no [service.slo]", "");
    };
    let (rule_file, board) = match (tree.parsed(&rules), tree.parsed(&dashboard)) {
        (Ok(r), Ok(d)) => (r, d),
        (Err(e), _) | (_, Err(e)) => return Check::fail(S, name, e, tree.fix()),
    };
    let alerts: BTreeSet<&str> = rules_of(&rule_file)
        .iter()
        .filter_map(|(_, r)| r["alert"].as_str())
        .collect();
    let mut queries = Vec::new();
    exprs(&board, &mut queries);
    let alert_of = |kind: AlertKind, percentile: Option<crate::units::Decimal>| {
        http.alert_rules
            .iter()
            .find(|a| a.kind == kind && (percentile.is_none() || a.percentile == percentile))
            .map(|a| a.name.clone())
    };
    // (objective, alert kinds, a series a panel must query)
    let mut wanted: Vec<(String, Vec<Option<String>>, String)> = Vec::new();
    if let Some(a) = slo.availability {
        wanted.push((
            format!("availability {a}"),
            vec![
                alert_of(AlertKind::SloBurnPage, None),
                alert_of(AlertKind::SloBurnTicket, None),
            ],
            record::BUDGET_REMAINING.to_string(),
        ));
    }
    for l in &slo.latency {
        wanted.push((
            format!("p{} latency {}ms", l.percentile, l.threshold.as_millis()),
            vec![alert_of(AlertKind::Latency, Some(l.percentile))],
            record::latency(l.percentile),
        ));
    }
    if let Some(r) = slo.error_rate_5xx {
        wanted.push((
            format!("5xx rate {r}"),
            vec![alert_of(AlertKind::ErrorRate5xx, None)],
            record::RATIO_5XX.to_string(),
        ));
    }
    if let Some(r) = slo.error_rate_4xx {
        wanted.push((
            format!("4xx rate {r}"),
            vec![alert_of(AlertKind::ErrorRate4xx, None)],
            record::RATIO_4XX.to_string(),
        ));
    }
    let mut problems = Vec::new();
    for (objective, kinds, series) in &wanted {
        let names: Vec<&String> = kinds.iter().flatten().collect();
        if names.is_empty() {
            problems.push(format!(
                "the {objective} objective has no alert (disabled in [service.alerts])"
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
            super::plural(wanted.len()),
            wanted
                .iter()
                .map(|w| w.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        problems,
        "re-enable the objective's alert in [service.alerts], or run harden generate",
    )
}

/// The load test's thresholds are the service's SLO.
fn slo_load_test(model: &Model, service: &Service, tree: &Tree<'_>) -> Check {
    let name = format!("SLO of {} is a load-test threshold", service.name);
    let Some(slo) = service.http().and_then(|h| h.slo.as_ref()) else {
        return Check::skip(S, name, "no [service.slo]", "");
    };
    match &model.load_test {
        None => {
            return Check::skip(
                S,
                name,
                "the spec has no [load_test]",
                "add a [load_test] for the service to test its SLO under load",
            );
        }
        Some(lt) if lt.service != service.name => {
            return Check::skip(
                S,
                name,
                format!("the load test is of {}", lt.service),
                "one load test per spec: its thresholds are its service's SLO",
            );
        }
        Some(_) => {}
    }
    let script = match tree.text(LOAD_TEST) {
        Ok(t) => t,
        Err(e) => return Check::fail(S, name, e, tree.fix()),
    };
    let line_of = |metric: &str| {
        script
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(&format!("\"{metric}\":")))
            .unwrap_or("")
            .to_string()
    };
    let mut wanted: Vec<(&str, String)> = Vec::new();
    for l in &slo.latency {
        wanted.push((
            "http_req_duration",
            format!("p({})<{}", l.percentile, l.threshold.as_millis()),
        ));
    }
    if let Some(r) = slo.error_rate_5xx {
        wanted.push(("http_req_failed", format!("rate<{}", r.fraction())));
    }
    let mut problems = Vec::new();
    for (metric, condition) in &wanted {
        if !line_of(metric).contains(&format!("\"{condition}\"")) {
            problems.push(format!("{LOAD_TEST} has no threshold {metric} {condition}"));
        }
    }
    if wanted.is_empty() {
        return Check::skip(
            S,
            name,
            "no latency or 5xx objective to test under load",
            "",
        );
    }
    Check::from_problems(
        S,
        name,
        format!(
            "{LOAD_TEST} thresholds: {}",
            wanted
                .iter()
                .map(|(m, c)| format!("{m} {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        problems,
        tree.fix(),
    )
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn compare(problems: &mut Vec<String>, what: String, found: &Value, expected: u64) {
    match as_u64(found) {
        Some(n) if n == expected => {}
        Some(n) => problems.push(format!("{what} is {n}, the spec says {expected}")),
        None => problems.push(format!("{what} is not set, the spec says {expected}")),
    }
}

/// Every platform's health checks call the service's endpoints: the
/// Kubernetes probes, the Compose health check, App Platform's checks.
fn probes(model: &Model, service: &Service, tree: &Tree<'_>) -> Option<Check> {
    let http = service.http()?;
    let p = &model.platforms;
    if p.kubernetes.is_none() && p.compose.is_none() && p.digitalocean.is_none() {
        return None;
    }
    let name = format!("Health checks of {} use its endpoints", service.name);
    let e = &http.endpoints;
    let mut problems = Vec::new();
    let mut said = Vec::new();
    let expect = |problems: &mut Vec<String>, what: String, found: &Value, wanted: &str| match found
        .as_str()
    {
        Some(f) if f == wanted => {}
        Some(f) => problems.push(format!("{what} is {f}, the spec says {wanted}")),
        None => problems.push(format!("{what} is not set, the spec says {wanted}")),
    };
    if p.kubernetes.is_some() {
        let path = format!("k8s/{}/deployment.yaml", service.name);
        match tree.parsed(&path) {
            Err(e) => problems.push(e),
            Ok(d) => {
                let containers = items(&d["spec"]["template"]["spec"]["containers"]);
                match containers
                    .iter()
                    .find(|c| c["name"] == service.name.as_str())
                    .or(containers.first())
                {
                    None => problems.push(format!("{path} has no container")),
                    Some(c) => {
                        for (probe, wanted) in [
                            ("livenessProbe", &e.liveness),
                            ("readinessProbe", &e.readiness),
                        ] {
                            expect(
                                &mut problems,
                                format!("{path} {probe} path"),
                                &c[probe]["httpGet"]["path"],
                                wanted,
                            );
                        }
                        said.push("Kubernetes liveness and readiness probes".to_string());
                    }
                }
            }
        }
    }
    if p.compose.is_some() {
        let path = "docker-compose.yml";
        match tree.parsed(path) {
            Err(e) => problems.push(e),
            Ok(d) => {
                // Compose's exec form: `CMD` then the command.
                let test = strings(&d["services"][service.name.as_str()]["healthcheck"]["test"]);
                let found = test.strip_prefix(&["CMD"]).unwrap_or(&test);
                let wanted: Vec<&str> = http.probes.command.iter().map(String::as_str).collect();
                if found != wanted {
                    problems.push(format!(
                        "{path} health check of {} is {found:?}, the spec implies {wanted:?}",
                        service.name
                    ));
                }
                said.push(format!("Compose health check ({})", e.health));
            }
        }
    }
    if let Some(d) = &p.digitalocean {
        for app in &d.apps {
            match tree.parsed(&app.path) {
                Err(e) => problems.push(e),
                Ok(spec) => {
                    let s = items(&spec["services"])
                        .iter()
                        .find(|s| s["name"] == service.name.as_str())
                        .cloned()
                        .unwrap_or(Value::Null);
                    expect(
                        &mut problems,
                        format!("{} health_check path", app.path),
                        &s["health_check"]["http_path"],
                        &e.readiness,
                    );
                    expect(
                        &mut problems,
                        format!("{} liveness_health_check path", app.path),
                        &s["liveness_health_check"]["http_path"],
                        &e.liveness,
                    );
                }
            }
        }
        said.push(format!(
            "{} App Platform spec{}",
            d.apps.len(),
            super::plural(d.apps.len())
        ));
    }
    Some(Check::from_problems(
        S,
        name,
        format!(
            "liveness {}, readiness {}, health {}: {}",
            e.liveness,
            e.readiness,
            e.health,
            said.join(", ")
        ),
        problems,
        tree.fix(),
    ))
}

/// Compose runs Prometheus, Alertmanager (with receivers) and Grafana,
/// each with a health check.
fn compose_monitoring(model: &Model, tree: &Tree<'_>) -> Option<Check> {
    model.platforms.compose.as_ref()?;
    let path = "docker-compose.yml";
    let name = "Compose runs the monitoring stack with health checks";
    let d = match tree.parsed(path) {
        Ok(d) => d,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let mut wanted = vec!["prometheus", "grafana"];
    if !model.alerting.receivers.is_empty() {
        wanted.insert(1, "alertmanager");
    }
    let mut problems = Vec::new();
    for svc in &wanted {
        let s = &d["services"][*svc];
        if s.is_null() {
            problems.push(format!("{path} has no {svc} service"));
        } else if s["healthcheck"].is_null() {
            problems.push(format!("{path}: {svc} has no health check"));
        }
    }
    Some(Check::from_problems(
        S,
        name,
        format!("{path}: {}, each with a health check", wanted.join(", ")),
        problems,
        tree.fix(),
    ))
}

/// The HorizontalPodAutoscaler's bounds and targets are the spec's.
fn hpa(model: &Model, service: &Service, tree: &Tree<'_>) -> Option<Check> {
    model.platforms.kubernetes.as_ref()?;
    let Scaling::Auto(auto) = &service.http()?.scaling else {
        return None;
    };
    let path = hpa_path(&service.name);
    let name = format!("HPA thresholds of {} equal the spec", service.name);
    let hpa = match tree.parsed(&path) {
        Ok(v) => v,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let mut problems = Vec::new();
    let spec = &hpa["spec"];
    compare(
        &mut problems,
        format!("{path} minReplicas"),
        &spec["minReplicas"],
        u64::from(auto.min_replicas),
    );
    compare(
        &mut problems,
        format!("{path} maxReplicas"),
        &spec["maxReplicas"],
        u64::from(auto.max_replicas),
    );
    let metric = |resource: &str| {
        items(&spec["metrics"])
            .iter()
            .find(|m| m["resource"]["name"] == resource)
            .map(|m| m["resource"]["target"]["averageUtilization"].clone())
            .unwrap_or(Value::Null)
    };
    let mut said = vec![format!(
        "replicas {}–{}",
        auto.min_replicas, auto.max_replicas
    )];
    for (resource, percent) in [("cpu", auto.cpu_percent), ("memory", auto.memory_percent)] {
        if let Some(p) = percent {
            compare(
                &mut problems,
                format!("{path} {resource} averageUtilization"),
                &metric(resource),
                u64::from(p),
            );
            said.push(format!("{resource} {p}%"));
        }
    }
    Some(Check::from_problems(
        S,
        name,
        format!("{path}: {}", said.join(", ")),
        problems,
        tree.fix(),
    ))
}

/// Each App Platform spec scales and alerts at the spec's thresholds.
fn digitalocean(model: &Model, tree: &Tree<'_>) -> Vec<Check> {
    let Some(d) = &model.platforms.digitalocean else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for app in &d.apps {
        let path = &app.path;
        let name = format!("DigitalOcean thresholds in {path} equal the spec");
        let spec = match tree.parsed(path) {
            Ok(v) => v,
            Err(e) => {
                out.push(Check::fail(S, name, e, tree.fix()));
                continue;
            }
        };
        let mut problems = Vec::new();
        let mut said = Vec::new();
        for service in http_services(model) {
            let Some(Scaling::Auto(auto)) = service.http().map(|h| &h.scaling) else {
                continue;
            };
            let Some(s) = items(&spec["services"])
                .iter()
                .find(|s| s["name"] == service.name.as_str())
            else {
                problems.push(format!("{path} has no service {}", service.name));
                continue;
            };
            let n = &service.name;
            compare(
                &mut problems,
                format!("{n} min_instance_count"),
                &s["autoscaling"]["min_instance_count"],
                u64::from(auto.min_replicas),
            );
            compare(
                &mut problems,
                format!("{n} max_instance_count"),
                &s["autoscaling"]["max_instance_count"],
                u64::from(auto.max_replicas),
            );
            let alert = |rule: &str| {
                items(&s["alerts"])
                    .iter()
                    .find(|a| a["rule"] == rule)
                    .map(|a| a["value"].clone())
                    .unwrap_or(Value::Null)
            };
            let mut parts = vec![format!(
                "{n} {}–{} instances",
                auto.min_replicas, auto.max_replicas
            )];
            if let Some(p) = auto.cpu_percent {
                compare(
                    &mut problems,
                    format!("{n} autoscaling cpu percent"),
                    &s["autoscaling"]["metrics"]["cpu"]["percent"],
                    u64::from(p),
                );
                compare(
                    &mut problems,
                    format!("{n} CPU_UTILIZATION alert"),
                    &alert("CPU_UTILIZATION"),
                    u64::from(p),
                );
                parts.push(format!("cpu {p}%"));
            }
            if let Some(p) = auto.memory_percent {
                compare(
                    &mut problems,
                    format!("{n} MEM_UTILIZATION alert"),
                    &alert("MEM_UTILIZATION"),
                    u64::from(p),
                );
                parts.push(format!("memory alert {p}%"));
            }
            said.push(parts.join(", "));
        }
        let detail = if said.is_empty() {
            "no autoscaled service".to_string()
        } else {
            said.join("; ")
        };
        out.push(Check::from_problems(
            S,
            name,
            detail,
            problems
                .into_iter()
                .map(|p| format!("{path}: {p}"))
                .collect(),
            tree.fix(),
        ));
    }
    out
}

/// The DNS failover file answers each record's name with the primary
/// region's origin, then the secondary's, with the spec's TTL, each behind a
/// health check of the service's health endpoint at the spec's interval.
fn dns(model: &Model, tree: &Tree<'_>) -> Option<Check> {
    let dns = model.dns.as_ref()?;
    let path = dns.path();
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

/// The k6 script runs the spec's users over the spec's stages.
fn load_test(model: &Model, tree: &Tree<'_>) -> Option<Check> {
    let lt = model.load_test.as_ref()?;
    let name = format!(
        "Load test is configured for {} concurrent users",
        lt.concurrent_users
    );
    let script = match tree.text(LOAD_TEST) {
        Ok(t) => t,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let mut problems = Vec::new();
    // `stages(N)` per scenario: the users at peak.
    let users: u64 = script
        .match_indices("stages(")
        .filter_map(|(i, m)| {
            let rest = &script[i + m.len()..];
            rest[..rest.find(')')?].trim().parse::<u64>().ok()
        })
        .sum();
    if users != u64::from(lt.concurrent_users) {
        problems.push(format!(
            "the scenarios of {LOAD_TEST} ramp to {users} users in all, the spec says {}",
            lt.concurrent_users
        ));
    }
    let stages = format!(
        "{{ rampUp: \"{}\", hold: \"{}\", rampDown: \"{}\" }}",
        lt.ramp_up, lt.hold, lt.ramp_down
    );
    if !script.contains(&stages) {
        problems.push(format!(
            "{LOAD_TEST} does not ramp up over {}, hold {} and ramp down over {}",
            lt.ramp_up, lt.hold, lt.ramp_down
        ));
    }
    let service = format!("const SERVICE = \"{}\";", lt.service);
    if !script.contains(&service) {
        problems.push(format!("{LOAD_TEST} does not test {}", lt.service));
    }
    Some(Check::from_problems(
        S,
        name,
        format!(
            "{LOAD_TEST}: {users} users over {} scenario{}, ramp up {}, hold {}, ramp down {}",
            lt.scenarios.len(),
            super::plural(lt.scenarios.len()),
            lt.ramp_up,
            lt.hold,
            lt.ramp_down
        ),
        problems,
        tree.fix(),
    ))
}

/// Every script harden generates is executable on disk.
fn executables(tree: &Tree<'_>) -> Check {
    let name = "Scripts are executable";
    let scripts: Vec<&str> = tree
        .set
        .iter()
        .filter(|(_, f)| f.mode == FileMode::Executable)
        .map(|(p, _)| p)
        .collect();
    let mut problems = Vec::new();
    for path in &scripts {
        match std::fs::metadata(tree.dir.join(path)) {
            Err(e) => problems.push(format!("{path}: {e}")),
            Ok(meta) => {
                if !is_executable(&meta) {
                    problems.push(format!("{path} is not executable"));
                }
            }
        }
    }
    Check::from_problems(
        S,
        name,
        format!("{} executable: {}", scripts.len(), scripts.join(", ")),
        problems,
        format!("chmod +x the scripts, or run `{}`", tree.regenerate),
    )
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}

/// Secret values shorter than this are not searched for: too many false
/// matches, and no real credential is that short.
const MIN_SECRET_LEN: usize = 8;
/// Files larger than this are not scanned.
const MAX_SCAN_BYTES: u64 = 16 * 1024 * 1024;

/// Every environment variable the spec names as holding a secret.
fn secret_vars(model: &Model) -> Vec<String> {
    let mut vars = BTreeSet::new();
    for s in model.alerting.secrets() {
        if let SecretRef::Env(v) = s {
            vars.insert(v);
        }
    }
    for service in &model.services {
        if let Some(h) = service.http() {
            vars.extend(h.secrets.iter().cloned());
        }
        if let Some(SecretRef::Env(v)) = service.redis().and_then(|r| r.password.as_ref()) {
            vars.insert(v.clone());
        }
    }
    if let Some(lt) = &model.load_test {
        for step in lt.scenarios.iter().flat_map(|s| &s.steps) {
            if let Some(body) = &step.body {
                env_refs(body, &mut vars);
            }
        }
    }
    vars.into_iter().collect()
}

/// `${env:NAME}` references in a load-test body.
fn env_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            for (i, m) in s.match_indices("${env:") {
                let rest = &s[i + m.len()..];
                if let Some(end) = rest.find('}') {
                    out.insert(rest[..end].to_string());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| env_refs(v, out)),
        Value::Object(map) => map.values().for_each(|v| env_refs(v, out)),
        _ => {}
    }
}

/// Shapes of credentials that should never be in a repository.
fn secret_pattern(line: &str) -> Option<&'static str> {
    let after = |needle: &str| {
        line.match_indices(needle)
            .map(|(i, m)| &line[i + m.len()..])
            .collect::<Vec<_>>()
    };
    if after("hooks.slack.com/services/")
        .iter()
        .any(|rest| rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
    {
        return Some("a Slack webhook URL");
    }
    if ["xoxb-", "xoxp-", "xoxa-"].iter().any(|p| {
        after(p).iter().any(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .count()
                >= 10
        })
    }) {
        return Some("a Slack token");
    }
    if line.contains("-----BEGIN") && line.contains("PRIVATE KEY-----") {
        return Some("a private key");
    }
    if after("AKIA").iter().any(|rest| {
        rest.len() >= 16
            && rest[..16]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    }) {
        return Some("an AWS access key id");
    }
    None
}

/// Every regular file under `dir`, relative, sorted; `.git` and `target`
/// left out.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if name != ".git" && name != "target" && name != "node_modules" {
                    stack.push(path);
                }
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// No file in the tree holds a secret's value (from the environment, when
/// set) or looks like a credential. Values are never printed.
fn secrets(model: &Model, tree: &Tree<'_>) -> Check {
    let name = "No secret value in the tree";
    let vars = secret_vars(model);
    let mut values: Vec<(&str, String)> = Vec::new();
    let mut unset = Vec::new();
    let mut short = Vec::new();
    for var in &vars {
        match std::env::var(var) {
            Ok(v) if v.trim().len() >= MIN_SECRET_LEN => values.push((var, v.trim().to_string())),
            Ok(v) if !v.trim().is_empty() => short.push(var.as_str()),
            _ => unset.push(var.as_str()),
        }
    }
    let files = walk(tree.dir);
    let mut problems = Vec::new();
    for path in &files {
        let full = tree.dir.join(path);
        if std::fs::metadata(&full)
            .map(|m| m.len() > MAX_SCAN_BYTES)
            .unwrap_or(true)
        {
            continue;
        }
        let Ok(bytes) = std::fs::read(&full) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for (var, value) in &values {
            if text.contains(value.as_str()) {
                problems.push(format!("{path} contains the value of {var}"));
            }
        }
        for (n, line) in text.lines().enumerate() {
            if let Some(what) = secret_pattern(line) {
                problems.push(format!("{path} line {} looks like {what}", n + 1));
            }
        }
    }
    let mut detail = format!(
        "{} file{} scanned for credential patterns",
        files.len(),
        super::plural(files.len())
    );
    if !values.is_empty() {
        detail.push_str(&format!(
            " and the values of {}",
            values
                .iter()
                .map(|(v, _)| *v)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unset.is_empty() {
        detail.push_str(&format!(
            "; not set here, so not searched for: {}",
            unset.join(", ")
        ));
    }
    if !short.is_empty() {
        detail.push_str(&format!(
            "; shorter than {MIN_SECRET_LEN} characters, not searched for: {}",
            short.join(", ")
        ));
    }
    Check::from_problems(
        S,
        name,
        detail,
        problems,
        "remove the value, rotate the credential (it may be in git history), and name it by environment variable or file in the spec",
    )
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

    #[test]
    fn credential_shapes_are_found_and_placeholders_are_not() {
        assert_eq!(
            secret_pattern("url: https://hooks.slack.com/services/T000/B000/XXXX"),
            Some("a Slack webhook URL")
        );
        assert_eq!(
            secret_pattern("see hooks.slack.com/services/ for the format"),
            None
        );
        assert_eq!(
            secret_pattern("key: AKIAIOSFODNN7EXAMPLE"),
            Some("an AWS access key id")
        );
        assert_eq!(
            secret_pattern("-----BEGIN RSA PRIVATE KEY-----"),
            Some("a private key")
        );
        assert_eq!(
            secret_pattern("api_url_file: /run/secrets/slack-webhook-url"),
            None
        );
    }
}
