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
