//! `harden check`: the production-hardening report. Static checks compare
//! the generated tree on disk with the spec ([`tree`]); live checks ask the
//! running services and monitoring stack ([`live`]).

mod backups;
mod budget;
mod files;
mod health;
pub(crate) mod http;
mod live;
pub(crate) mod report;
mod secrets;
pub(crate) mod tree;

use std::collections::BTreeSet;
use std::path::Path;

pub use http::{Auth, Client};
pub use live::{ALERTMANAGER, Endpoints, GRAFANA, OFF, PROMETHEUS};
pub use report::{Check, Kind, Report, Status, Summary};

use crate::diagnostics::Problem;
use crate::history::api::Prometheus;
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
    /// The spec's warnings; each becomes a warning check.
    pub warnings: &'a [&'a Problem],
    /// `Some(prometheus)`: gate on each SLO's remaining error budget there.
    pub budget: Option<&'a Prometheus>,
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
        .map(|w| {
            Check::warn(
                Kind::Static,
                format!("spec warning harden::{}", w.code),
                w.message.clone(),
                w.help.clone().unwrap_or_default(),
            )
        })
        .collect();
    checks.extend(tree::checks(model, &tree));
    if let Some(at) = options.live {
        checks.extend(live::checks(model, at, &rule_groups(model)));
    }
    if let Some(prometheus) = options.budget {
        checks.extend(budget::gates(model, prometheus));
    }
    Report::new(
        &model.project.name,
        &options.spec.display().to_string(),
        &options.out.display().to_string(),
        options.live.is_some() || options.budget.is_some(),
        checks,
    )
}

/// `http://localhost:<prometheus_port>`: where Prometheus is unless told.
pub fn default_prometheus(model: &Model) -> String {
    format!("http://localhost:{}", model.monitoring.prometheus_port)
}

/// The rule group names harden generates: what Prometheus should have
/// loaded.
fn rule_groups(model: &Model) -> BTreeSet<String> {
    crate::targets::alerting::rule_group_names(model)
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
