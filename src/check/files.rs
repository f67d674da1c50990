//! The checks of the tree as files: every generated file is present, what
//! the spec generates, parses, has its mode; none is stale; scripts are
//! executable.

use crate::check::Check;
use crate::check::plural;
use crate::check::tree::{S, Tree, parse};
use crate::output::{self, Drift, FileMode};

/// One check per generated file: present, parses, what the spec generates,
/// right mode; and one for stale files.
pub(crate) fn files(tree: &Tree<'_>) -> Vec<Check> {
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
                        plural(count('-')),
                        count('+'),
                        plural(count('+'))
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

/// Every script harden generates is executable on disk.
pub(crate) fn executables(tree: &Tree<'_>) -> Check {
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
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub(crate) fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}
