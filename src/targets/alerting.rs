//! Alerting: the alert catalog and every file written from it: the rule
//! files and their promtool tests (`prometheus/rules/`, `prometheus/tests/`),
//! one runbook per alert name (`runbooks/`) and `OPERATIONS.md`. The catalog
//! is built once per generation, so an alert, its test, its runbook and its
//! `runbook_url` cannot disagree.

pub(crate) mod check;

pub(crate) mod catalog;
mod commands;
mod operations;
mod rules;
mod runbooks;

pub use catalog::{BackupAlert, RUNBOOKS_DIR, runbook_path, runbook_url};

use crate::engine::{EmitError, Emitter};
use crate::model::Model;

pub use operations::PATH as OPERATIONS_PATH;

/// Where the rule files are: what `prometheus.yml`'s `rule_files` loads.
pub const RULES_DIR: &str = "prometheus/rules/";

/// `prometheus/rules/<name>.yml`: the rules of a service, cache or database.
pub fn rules_path(name: &str) -> String {
    format!("{RULES_DIR}{name}.yml")
}

/// `prometheus/tests/<name>.test.yml`: the promtool tests of its rules.
pub fn tests_path(name: &str) -> String {
    format!("prometheus/tests/{name}.test.yml")
}

/// Whether the global rules (for the store's ruler) have a RegionDown.
pub fn global_region_down(model: &Model) -> bool {
    !rules::global_rule_files(model).is_empty()
}

/// The names of every rule group a generated Prometheus loads (the global
/// rules are the store's ruler's).
pub fn rule_group_names(model: &Model) -> std::collections::BTreeSet<String> {
    catalog::rule_files(model)
        .into_iter()
        .filter(|f| !f.path.starts_with(rules::GLOBAL_DIR))
        .flat_map(|f| f.groups.into_iter().map(|g| g.name))
        .collect()
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let rule_files = catalog::rule_files(model);
    rules::emit(model, &rule_files, out)?;
    runbooks::emit(model, &rule_files, out)?;
    operations::emit(model, &rule_files, out)
    // The catalog holds every rule and test as values (more than the rule
    // files' text): it is freed here, before the other targets add theirs.
}
