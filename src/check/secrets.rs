//! No secret value in the generated tree: neither the values of the
//! environment variables the spec references, nor anything shaped like a
//! credential.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::check::Check;
use crate::check::plural;
use crate::check::tree::{S, Tree};
use crate::model::{Model, SecretRef};

/// Secret values shorter than this are not searched for: too many false
/// matches, and no real credential is that short.
const MIN_SECRET_LEN: usize = 8;
/// Files larger than this are not scanned.
const MAX_SCAN_BYTES: u64 = 16 * 1024 * 1024;

/// Every environment variable the spec names as holding a secret.
pub(crate) fn secret_vars(model: &Model) -> Vec<String> {
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
pub(crate) fn env_refs(value: &Value, out: &mut BTreeSet<String>) {
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

/// Every regular file under `dir`, relative, sorted; `.git` and `target`
/// left out.
pub(crate) fn walk(dir: &Path) -> Vec<String> {
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
pub(crate) fn secrets(model: &Model, tree: &Tree<'_>) -> Check {
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
            if let Some(found) = crate::secrets::find(line) {
                let what = found.what;
                problems.push(format!("{path} line {} looks like {what}", n + 1));
            }
        }
    }
    let mut detail = format!(
        "{} file{} scanned for credential patterns",
        files.len(),
        plural(files.len())
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
