//! `harden check`: the production-hardening report. Static checks compare
//! the generated tree on disk with the spec ([`tree`]); live checks ask the
//! running services and monitoring stack ([`live`]).

mod backups;
mod files;
mod health;
mod http;
mod live;
mod report;
mod secrets;
pub(crate) mod tree;

use std::collections::BTreeSet;
use std::path::Path;

pub use live::Endpoints;
pub use report::{Check, Kind, Report, Status, Summary};

use crate::model::Model;
use crate::output::OutputSet;

/// What to check and where.
pub struct Options<'a> {
    /// The spec's path as the user gave it (for the report and hints).
    pub spec: &'a Path,
    /// The generated tree.
    pub out: &'a Path,
    /// `Some` to run the live checks against these endpoints.
    pub live: Option<&'a Endpoints>,
    /// The spec's warnings: (code, message, help); each becomes a warning check.
    pub warnings: &'a [(String, String, String)],
}

/// Runs every check and returns the report.
pub fn run(model: &Model, set: &OutputSet, options: &Options<'_>) -> Report {
    let tree = tree::Tree {
        dir: options.out,
        set,
        regenerate: format!(
            "harden generate {} --out {}",
            options.spec.display(),
            options.out.display()
        ),
    };
    let mut checks: Vec<Check> = options
        .warnings
        .iter()
        .map(|(code, message, help)| {
            Check::warn(
                Kind::Static,
                format!("spec warning harden::{code}"),
                message.clone(),
                help.clone(),
            )
        })
        .collect();
    checks.extend(tree::checks(model, &tree));
    if let Some(at) = options.live {
        checks.extend(live::checks(model, at, &rule_groups(set)));
    }
    Report::new(
        &model.project.name,
        &options.spec.display().to_string(),
        &options.out.display().to_string(),
        options.live.is_some(),
        checks,
    )
}

/// The rule group names harden generates (from the output set: what
/// Prometheus should have loaded).
fn rule_groups(set: &OutputSet) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, file) in set.iter() {
        if !(path.starts_with("prometheus/rules/") && path.ends_with(".yml")) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&file.contents) else {
            continue;
        };
        let Ok(v) = serde_saphyr::from_str::<serde_json::Value>(text) else {
            continue;
        };
        for g in v["groups"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(name) = g["name"].as_str() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
