//! The operations scripts, `scripts/` and `backup/`: shellcheck is clean
//! on every script, they are executable, and App-Oint's match their
//! snapshot. What they do when run (against fake CLIs) is in
//! `scripts/runs.rs`; the backup scripts against a real PostgreSQL in
//! `backup.rs`.

mod runs;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn shellcheck_is_clean_on_every_generated_script() {
    let Some(shellcheck) = validator("shellcheck") else {
        return;
    };
    for tree in generating("scripts") {
        shellcheck_clean(&shellcheck, tree.name(), tree.path());
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

#[test]
fn scripts_are_executable_and_a_mode_change_is_drift() {
    let spec = root().join(APP_OINT);
    let out = generate(&Spec::app_oint());
    for script in [
        "scripts/auto-rollback.sh",
        "scripts/auto-scaling-monitor.sh",
        "testing/load-tests/run-load-test.sh",
    ] {
        let path = out.path().join(script);
        let mode = fs::metadata(&path).expect(script).permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{script}");
    }
    let rollback = out.path().join("scripts/auto-rollback.sh");
    fs::set_permissions(&rollback, fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = harden(&[
        "diff",
        &spec.to_string_lossy(),
        "--out",
        &out.path().to_string_lossy(),
    ])
    .code(1);
    assert!(
        run.stdout
            .contains("scripts/auto-rollback.sh (should be 0755)"),
        "{}",
        run.stdout
    );
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_scripts_and_backup_image_match_their_snapshot() {
    assert_example_snapshots("scripts");
}
