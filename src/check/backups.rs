//! A check across targets: a database's backups are alerted, scheduled on
//! every platform, and drillable.

use crate::check::Check;
use crate::check::tree::{S, Tree, items, rules_of};
use crate::model::{Model, Service};
use crate::targets::alerting::BackupAlert;
use crate::targets::{alerting, compose, digitalocean, kubernetes, scripts};

/// A database's backups, as the tree runs them: the freshness alerts with
/// the model's threshold and a firing test each, the job on every platform
/// (the CronJob's schedule, the Compose service, the App Platform worker
/// where DigitalOcean's retention falls short), and the drill script.
pub(crate) fn backups(model: &Model, service: &Service, tree: &Tree<'_>) -> Option<Check> {
    let b = service.backup()?;
    let db = service.name.as_str();
    let name = format!("Backups of {db} are scheduled, alerted and drillable");
    let mut problems = Vec::new();
    let mut said = Vec::new();
    let (rules, tests) = (alerting::rules_path(db), alerting::tests_path(db));
    match (tree.parsed(&rules), tree.parsed(&tests)) {
        (Ok(rule_file), Ok(test_file)) => {
            let fired = alerting::check::fired(&test_file);
            let stale = format!("> {}", b.stale_after.as_millis() / 1000);
            for kind in BackupAlert::ALL {
                let alert = kind.name();
                let rule = rules_of(&rule_file)
                    .into_iter()
                    .find(|(_, r)| r["alert"].as_str() == Some(alert));
                match rule {
                    None => problems.push(format!("{rules} has no alert {alert}")),
                    Some((_, r)) => {
                        let expr = r["expr"].as_str().unwrap_or("");
                        if kind == BackupAlert::Stale && !expr.ends_with(&stale) {
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
        let path = kubernetes::backup_cronjob_path(db);
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
        let path = compose::PATH;
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
        .and_then(|d| Some(digitalocean::app_path(d, d.apps.first()?)));
    if let Some(path) = worker_app {
        let worker = format!("{db}-backup");
        match tree.parsed(&path) {
            Ok(spec) => {
                if items(&spec["workers"])
                    .iter()
                    .any(|w| w["name"].as_str() == Some(worker.as_str()))
                {
                    said.push(format!("{path}: worker {worker}"));
                } else {
                    problems.push(format!("{path} has no worker {worker}"));
                }
            }
            Err(e) => problems.push(e),
        }
    }
    for script in [scripts::BACKUP, scripts::RESTORE_DRILL] {
        match tree.text(script) {
            Ok(text) if text.lines().any(|l| l.trim() == format!("{db})")) => {}
            Ok(_) => problems.push(format!("{script} does not know {db}")),
            Err(e) => problems.push(e),
        }
    }
    said.push(scripts::RESTORE_DRILL.to_string());
    Some(Check::from_problems(
        S,
        name,
        said.join("; "),
        problems,
        tree.fix(),
    ))
}
