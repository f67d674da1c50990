//! The machine-readable shapes of `validate --format json` (documented in
//! the README; scripts depend on them, so fields are only ever added).

use std::path::Path;

use serde_json::{Value, json};

use crate::diagnostics::{Level, Located};
use crate::model::Model;

/// One problem: `level` (`error` or `warning`), `code` (the stable
/// `harden::<code>` name without the prefix), `message`, `help` (or null),
/// and the 1-based `line` and `column` of the spec it points at (null for a
/// problem about the whole file).
pub fn problem(located: &Located) -> Value {
    let p = located.problem();
    let (line, column) = match located.position() {
        Some((l, c)) => (json!(l), json!(c)),
        None => (Value::Null, Value::Null),
    };
    json!({
        "level": match p.level {
            Level::Error => "error",
            Level::Warning => "warning",
        },
        "code": p.code.as_str(),
        "message": p.message,
        "help": p.help,
        "line": line,
        "column": column,
    })
}

/// A valid spec: what it holds, and its warnings.
pub fn valid(spec: &Path, model: &Model, warnings: &[Located]) -> Value {
    json!({
        "spec": spec.display().to_string(),
        "valid": true,
        "project": model.project.name,
        "services": model.services.len(),
        "http_services": model.services.iter().filter(|s| s.http().is_some()).count(),
        "receivers": model.alerting.receivers.len(),
        "problems": warnings.iter().map(problem).collect::<Vec<_>>(),
    })
}

/// An invalid spec (or, with `--deny-warnings`, one with warnings).
pub fn invalid(spec: &Path, problems: &[Located]) -> Value {
    json!({
        "spec": spec.display().to_string(),
        "valid": false,
        "problems": problems.iter().map(problem).collect::<Vec<_>>(),
    })
}
