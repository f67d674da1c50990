//! `prometheus/rules/<db>.yml` and `prometheus/tests/<db>.test.yml` for a
//! database with a `backup` section: the backup-freshness alerts on the
//! metrics `scripts/backup.sh` pushes to the Pushgateway.
//!
//! - `BackupStale`: the last successful backup is older than the schedule's
//!   interval plus a quarter (`Backup::stale_after`: 1h15m hourly, 30h
//!   daily, 8d18h weekly).
//! - `BackupMissing`: no success was ever pushed (or the Pushgateway lost
//!   it) for as long: a job that never ran, or never reached the Pushgateway.
//!
//! Each has a promtool test that fires and one that stays quiet.

use std::collections::BTreeMap;

use super::super::catalog::{About, BackupAlert, Pair, Rule, RuleFile, RuleGroup, Topic};
use super::{
    Check, ExpAlert, STEP_SECS, Series, TestGroup, alert_annotations, alert_labels, minutes,
    steps_of,
};
use crate::model::{Backup, Model, Service, Severity, backup_metrics as m};
use crate::targets::scripts;
use crate::vocab::{OVERVIEW_UID, dashboard_url};

/// The rule files of the databases with backups, one per database.
pub fn backup_rule_files(model: &Model) -> Vec<RuleFile> {
    model
        .services
        .iter()
        .filter_map(|service| Some(build(model, service, service.backup()?)))
        .collect()
}

fn build(model: &Model, service: &Service, b: &Backup) -> RuleFile {
    let db = service.name.as_str();
    let selector = format!("job=\"{}\",database=\"{db}\"", m::JOB);
    let stale_secs = b.stale_after.as_millis() / 1000;
    let stale = b.stale_after.to_string();
    let labels = alert_labels(Severity::Warning, service);
    // The backup panels are on the overview, which exists with an http service.
    let dashboard = model
        .services
        .iter()
        .any(|s| s.http().is_some())
        .then(|| dashboard_url(&model.monitoring.grafana_url, OVERVIEW_UID));
    let annotations = |name: &str, summary: String, description: String| {
        alert_annotations(model, name, &summary, &description, dashboard.as_deref())
    };
    let about = |alert: BackupAlert, threshold: String| About {
        topic: Topic::Backup(alert),
        slo: None,
        service: db.to_string(),
        team: service.team.clone(),
        severity: Severity::Warning,
        threshold,
        dashboard_url: dashboard
            .clone()
            .unwrap_or_else(|| format!("{}/dashboards", model.monitoring.grafana_url)),
    };
    let stale_annotations = annotations(
        BackupAlert::Stale.name(),
        format!("{db}: no successful backup for more than {stale}"),
        format!(
            "The last successful {} backup of {db} is more than {stale} old. See the backup job's logs ({}); {} is when it last failed.",
            b.schedule.as_str(),
            scripts::BACKUP,
            m::LAST_FAILURE
        ),
    );
    let missing_annotations = annotations(
        BackupAlert::Missing.name(),
        format!("{db}: no backup has reported success for {stale}"),
        format!(
            "{} for {db} is absent: the backup job has not succeeded since the Pushgateway started, or cannot reach it (PUSHGATEWAY_URL).",
            m::LAST_SUCCESS
        ),
    );
    let series = |database: &str| {
        format!(
            "{}{{database=\"{database}\",job=\"{}\"}}",
            m::LAST_SUCCESS,
            m::JOB
        )
    };
    let exp = |annotations: &[Pair]| {
        let mut all: BTreeMap<String, String> = BTreeMap::new();
        all.insert("database".into(), db.into());
        all.insert("job".into(), m::JOB.into());
        for l in &labels {
            all.insert(l.name.clone(), l.value.clone());
        }
        ExpAlert {
            labels: all
                .into_iter()
                .map(|(name, value)| Pair { name, value })
                .collect(),
            annotations: annotations.to_vec(),
        }
    };
    // promtool's clock starts at 0: a success at 0 is `stale_secs` old at
    // `stale_secs`, and the alert's `>` holds one step later.
    let onset = stale_secs / STEP_SECS + 1;
    let hold = steps_of(b.stale_after);
    let tests = vec![
        TestGroup {
            name: "BackupStale fires when the last success is too old".into(),
            input_series: vec![Series {
                series: series(db),
                values: format!("0+0x{onset}"),
            }],
            checks: vec![
                check(BackupAlert::Stale.name(), onset - 1, vec![]),
                check(
                    BackupAlert::Stale.name(),
                    onset,
                    vec![exp(&stale_annotations)],
                ),
            ],
            exprs: Vec::new(),
        },
        TestGroup {
            name: "BackupStale stays quiet while backups succeed".into(),
            input_series: vec![Series {
                series: series(db),
                values: format!("0+{STEP_SECS}x{onset}"),
            }],
            checks: vec![check(BackupAlert::Stale.name(), onset, vec![])],
            exprs: Vec::new(),
        },
        TestGroup {
            name: "BackupMissing fires when no backup ever reported".into(),
            // Another database's backups do not hide this one's absence.
            input_series: vec![Series {
                series: series("another-database"),
                values: format!("0+{STEP_SECS}x{hold}"),
            }],
            checks: vec![
                check(BackupAlert::Missing.name(), hold - 1, vec![]),
                check(
                    BackupAlert::Missing.name(),
                    hold,
                    vec![exp(&missing_annotations)],
                ),
            ],
            exprs: Vec::new(),
        },
        TestGroup {
            name: "BackupMissing stays quiet once a backup reported".into(),
            input_series: vec![Series {
                series: series(db),
                values: format!("0+0x{hold}"),
            }],
            checks: vec![check(BackupAlert::Missing.name(), hold, vec![])],
            exprs: Vec::new(),
        },
    ];
    let rules = vec![
        Rule {
            record: None,
            alert: Some(BackupAlert::Stale.name().into()),
            expr: format!("time() - {}{{{selector}}} > {stale_secs}", m::LAST_SUCCESS),
            for_: None,
            labels: labels.clone(),
            annotations: stale_annotations,
            about: Some(about(
                BackupAlert::Stale,
                format!("last success older than {stale}"),
            )),
        },
        Rule {
            record: None,
            alert: Some(BackupAlert::Missing.name().into()),
            expr: format!("absent({}{{{selector}}})", m::LAST_SUCCESS),
            // A new deployment has until its first backup is due, and late.
            for_: Some(stale.clone()),
            labels,
            annotations: missing_annotations,
            about: Some(about(
                BackupAlert::Missing,
                format!("no success reported for {stale}"),
            )),
        },
    ];
    RuleFile {
        path: crate::targets::alerting::rules_path(db),
        test_path: crate::targets::alerting::tests_path(db),
        notes: vec![format!(
            "Backups of {db}: {} ({} UTC), kept {} days; {} pushes {} to the Pushgateway.",
            b.schedule.as_str(),
            b.cron,
            b.retention_days,
            scripts::BACKUP,
            m::LAST_SUCCESS
        )],
        groups: vec![RuleGroup {
            name: format!("{db}-backup-alerts"),
            interval: None,
            rules,
        }],
        tests,
    }
}

fn check(alert: &str, step: u64, exp_alerts: Vec<ExpAlert>) -> Check {
    Check {
        eval_time: minutes(step),
        alertname: alert.to_string(),
        exp_alerts,
    }
}
