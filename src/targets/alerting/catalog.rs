//! The alert catalog: every rule file harden writes, resolved once. The
//! rules emitter writes these files and their promtool tests; the runbooks,
//! OPERATIONS.md and `harden check` read the same values, so an alert, its
//! runbook and its `runbook_url` cannot disagree.
//!
//! Each source of rules adds its [`RuleFile`]s in [`rule_files`]: the HTTP
//! services (`rules.rs`), the Redis caches (`rules/cache.rs`) and the
//! databases' backups (`rules/backup.rs`), and the alerts that compare
//! regions, for the store's ruler (`rules/global.rs`). An alert from another source (a backup, a
//! cache) adds a [`Topic`] variant, which the runbook emitter must then
//! describe: the compiler refuses a topic without a runbook.

use serde::Serialize;

use crate::model::{AlertKind, CacheAlertKind, Model, Severity};

/// One `prometheus/rules/<name>.yml` and its promtool test.
pub struct RuleFile {
    /// `prometheus/rules/api.yml`.
    pub path: String,
    /// `prometheus/tests/api.test.yml`.
    pub test_path: String,
    /// Comments at the top: which alerts are left out, and why.
    pub notes: Vec<String>,
    pub groups: Vec<RuleGroup>,
    /// The promtool test groups; the rules emitter renders them.
    pub tests: Vec<super::rules::TestGroup>,
}

#[derive(Serialize)]
pub struct RuleGroup {
    pub name: String,
    pub interval: Option<String>,
    pub rules: Vec<Rule>,
}

/// A recording or alerting rule, as the rule file has it.
#[derive(Serialize)]
pub struct Rule {
    pub record: Option<String>,
    pub alert: Option<String>,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub labels: Vec<Pair>,
    pub annotations: Vec<Pair>,
    /// What the runbook needs to know about an alert; none for a recording rule.
    #[serde(skip)]
    pub about: Option<About>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub name: String,
    pub value: String,
}

pub fn pair(name: &str, value: &str) -> Pair {
    Pair {
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// An alert's context beyond its rule: what it is about, for whom, and
/// where to look.
#[derive(Clone, Debug)]
pub struct About {
    pub topic: Topic,
    /// The SLO an alert is on, by name.
    pub slo: Option<String>,
    pub service: String,
    pub team: Option<String>,
    pub severity: Severity,
    /// The threshold in words (`1%`, `500ms`, `14.4x the budget rate over 1h/5m`).
    pub threshold: String,
    /// The Grafana dashboard that shows the alert's series.
    pub dashboard_url: String,
}

/// What kind of condition an alert watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Topic {
    /// One of an HTTP service's alerts.
    Http(AlertKind),
    /// One of a Redis cache's alerts.
    Cache(CacheAlertKind),
    /// A database's backup freshness.
    Backup(BackupAlert),
}

/// The backup-freshness alerts of a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BackupAlert {
    /// The last success is older than the schedule allows (`BackupStale`).
    Stale,
    /// No success was ever reported (`BackupMissing`).
    Missing,
}

impl BackupAlert {
    pub const ALL: [BackupAlert; 2] = [BackupAlert::Stale, BackupAlert::Missing];

    /// The alert's name (`alertname`).
    pub fn name(self) -> &'static str {
        match self {
            BackupAlert::Stale => "BackupStale",
            BackupAlert::Missing => "BackupMissing",
        }
    }
}

/// One alert of the catalog with the file it is in.
pub struct AlertEntry<'a> {
    pub file: &'a RuleFile,
    pub rule: &'a Rule,
    pub name: &'a str,
    pub about: &'a About,
}

/// Every rule file harden writes, in output order.
pub fn rule_files(model: &Model) -> Vec<RuleFile> {
    let mut files = super::rules::http_rule_files(model);
    files.extend(super::rules::cache_rule_files(model));
    files.extend(super::rules::backup_rule_files(model));
    files.extend(super::rules::global_rule_files(model));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Every alert in `files`, in file and rule order.
pub fn alerts(files: &[RuleFile]) -> Vec<AlertEntry<'_>> {
    files
        .iter()
        .flat_map(|file| {
            file.groups
                .iter()
                .flat_map(|g| g.rules.iter())
                .filter_map(move |rule| {
                    Some(AlertEntry {
                        file,
                        rule,
                        name: rule.alert.as_deref()?,
                        about: rule.about.as_ref()?,
                    })
                })
        })
        .collect()
}

/// The directory of the runbooks, relative to the output tree.
pub const RUNBOOKS_DIR: &str = "runbooks";

/// Where the runbook of `alert` is generated, relative to the output tree.
pub fn runbook_path(alert: &str) -> String {
    format!("{RUNBOOKS_DIR}/{alert}.md")
}

/// The `runbook_url` annotation of `alert`: `<project.runbook_url>/<alert>.md`,
/// the generated file where the `runbooks/` directory is published; without
/// a base URL, the file's path relative to the generated tree.
pub fn runbook_url(model: &Model, alert: &str) -> String {
    match &model.project.runbook_url {
        Some(base) => format!("{base}/{alert}.md"),
        None => runbook_path(alert),
    }
}
