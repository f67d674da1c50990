//! Static checks: the tree on disk against the spec. Each reads the files
//! harden generated (as they are on disk, which may have been edited) and
//! compares what they say with the model; none re-renders a file.

//!
//! This module holds what every check shares (the [`Tree`] it reads, the
//! JSON helpers) and the report's order; the checks themselves live with the
//! target whose files they read (`crate::targets::<target>::check`), or, when
//! they span targets, beside this module.

use std::path::Path;

use serde_json::Value;

use super::report::{Check, Kind};
use super::{backups, files, health, secrets};
use crate::model::{Model, Service};
use crate::output::OutputSet;
use crate::targets::{
    alerting, alertmanager, compose, digitalocean, dns, kubernetes, loadtest, prometheus,
};

/// Every check here is static.
pub(crate) const S: Kind = Kind::Static;

/// The generated tree in `dir`, read lazily, with the spec's regenerate
/// command for hints.
pub struct Tree<'a> {
    pub dir: &'a Path,
    pub set: &'a OutputSet,
    /// `harden generate SPEC --out DIR`, for remediation hints.
    pub regenerate: String,
}

impl Tree<'_> {
    pub(crate) fn text(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.dir.join(path)).map_err(|e| format!("cannot read {path}: {e}"))
    }

    /// The file parsed as YAML or JSON (by extension).
    pub(crate) fn parsed(&self, path: &str) -> Result<Value, String> {
        let text = self.text(path)?;
        parse(path, &text)
            .unwrap_or(Ok(Value::Null))
            .map_err(|e| format!("{path} does not parse: {e}"))
    }

    pub(crate) fn fix(&self) -> String {
        format!(
            "run `{}` to bring the files in line, or change the spec if the edit was meant",
            self.regenerate
        )
    }
}

/// Parses `text` by the extension of `path`; `None` for other formats.
pub(crate) fn parse(path: &str, text: &str) -> Option<Result<Value, String>> {
    if path.ends_with(".yml") || path.ends_with(".yaml") {
        Some(serde_saphyr::from_str::<Value>(text).map_err(|e| format!("invalid YAML: {e}")))
    } else if path.ends_with(".json") {
        Some(serde_json::from_str::<Value>(text).map_err(|e| format!("invalid JSON: {e}")))
    } else {
        None
    }
}

/// Every static check, in a fixed order.
pub fn checks(model: &Model, tree: &Tree<'_>) -> Vec<Check> {
    let mut out = files::files(tree);
    out.push(prometheus::check::scrapes(model, tree));
    out.push(prometheus::check::alerting(model, tree));
    // Every service harden writes rules for: HTTP services, Redis caches,
    // databases with backups.
    for service in &model.services {
        let expected = alerting::check::expected_alerts(service);
        if !expected.is_empty() || service.http().is_some() {
            out.push(alerting::check::rules_load(service, tree));
            out.push(alerting::check::alerts_tested(service, &expected, tree));
        }
    }
    out.push(alertmanager::check::routing(model, tree));
    out.push(alerting::check::runbooks(model, tree));
    for service in http_services(model) {
        if service.http().is_some_and(|h| !h.slos.is_empty()) {
            out.push(alerting::check::slo_covered(service, tree));
            out.push(loadtest::check::slo_load_test(model, service, tree));
        }
    }
    for service in http_services(model) {
        out.extend(health::probes(model, service, tree));
    }
    if let Some(check) = compose::check::compose_monitoring(model, tree) {
        out.push(check);
    }
    for service in http_services(model) {
        if let Some(check) = kubernetes::check::hpa(model, service, tree) {
            out.push(check);
        }
    }
    out.extend(digitalocean::check::digitalocean(model, tree));
    if let Some(check) = dns::check::dns(model, tree) {
        out.push(check);
    }
    for service in &model.services {
        if let Some(check) = backups::backups(model, service, tree) {
            out.push(check);
        }
    }
    if let Some(check) = loadtest::check::load_test(model, tree) {
        out.push(check);
    }
    out.push(files::executables(tree));
    out.push(secrets::secrets(model, tree));
    out
}

pub(crate) fn http_services(model: &Model) -> impl Iterator<Item = &Service> {
    model.services.iter().filter(|s| s.http().is_some())
}

pub(crate) fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Every rule in the service's rule file, as (group, rule) JSON values.
pub(crate) fn rules_of(value: &Value) -> Vec<(&str, &Value)> {
    items(&value["groups"])
        .iter()
        .flat_map(|g| {
            let group = g["name"].as_str().unwrap_or("");
            items(&g["rules"]).iter().map(move |r| (group, r))
        })
        .collect()
}

pub(crate) fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

pub(crate) fn compare(problems: &mut Vec<String>, what: String, found: &Value, expected: u64) {
    match as_u64(found) {
        Some(n) if n == expected => {}
        Some(n) => problems.push(format!("{what} is {n}, the spec says {expected}")),
        None => problems.push(format!("{what} is not set, the spec says {expected}")),
    }
}
