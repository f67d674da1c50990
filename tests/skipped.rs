//! Runs after the tests (cargo runs test targets by name, and this one
//! comes after `cli`): prints one line per check that this `cargo test` run
//! skipped because its validator is missing, with the install that enables
//! it, as recorded by `tests/cli/support/validators.rs` under the target
//! directory, then removes the records. Prints nothing when nothing was
//! skipped. Not a libtest harness, so the last `test result:` line stays
//! that of the real tests.

use std::collections::BTreeSet;
use std::path::Path;

/// The same directory as `SKIPPED_DIR` in tests/cli/support/validators.rs.
const SKIPPED_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/harden-skipped");

fn main() {
    let root = Path::new(SKIPPED_DIR);
    // The records of this run: cargo started both this binary and the tests.
    let run = root.join(std::os::unix::process::parent_id().to_string());
    let mut checks: Vec<_> = std::fs::read_dir(&run)
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    checks.sort();
    for file in &checks {
        let check = file.file_name().unwrap_or_default().to_string_lossy();
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let mut install = "";
        let mut tests = BTreeSet::new();
        for line in text.lines() {
            if let Some((how, test)) = line.split_once('\t') {
                install = how;
                tests.insert(test);
            }
        }
        let count = tests.len();
        let plural = if count == 1 { "" } else { "s" };
        println!(
            "skipped: {check} is missing, {count} test{plural} did not check with it; install: {install}"
        );
    }
    // Records of earlier runs that ended before this reporter (a failure,
    // a filtered run) are stale: remove them all.
    let _ = std::fs::remove_dir_all(root);
}
