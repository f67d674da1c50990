//! The benchmark scripts (`bench/*.sh`) are shellcheck-clean, down to
//! style notes, following the file each sources: nothing runs them in CI,
//! so nothing else would notice a warning.

use std::process::Command;

use crate::support::*;

#[test]
fn the_benchmark_scripts_are_shellcheck_clean() {
    let Some(shellcheck) = validator("shellcheck") else {
        return;
    };
    let scripts: Vec<_> = files_in(&root().join("bench"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    assert!(scripts.len() >= 3, "{scripts:?}");
    let result = Command::new(shellcheck)
        .args(["--severity=style", "--external-sources"])
        .args(&scripts)
        .current_dir(root())
        .output()
        .expect("shellcheck runs");
    assert!(result.status.success(), "{}", text(&result));
}

/// The synthetic spec the benchmarks time is a valid spec, and generates:
/// a benchmark of a refused spec would time the error path.
#[test]
fn the_benchmark_spec_is_valid_and_generates() {
    let Some(python) = validator("python3") else {
        return;
    };
    let made = Command::new(python)
        .args(["bench/make-spec.py", "3"])
        .current_dir(root())
        .output()
        .expect("make-spec.py runs");
    assert!(made.status.success(), "{}", text(&made));
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("hardening.toml");
    std::fs::write(&spec, &made.stdout).expect("write the spec");
    let spec = spec.to_string_lossy();
    let out = dir.path().join("out");
    let run = harden(&["generate", &spec, "--out", &out.to_string_lossy()]).success();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert!(out.join("prometheus/rules/svc-0002.yml").is_file());
}
