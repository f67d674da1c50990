//! Concurrent runs over one output directory (issue 21): `generate` holds an
//! exclusive lock on it, `diff` and `check` a shared one, so runs take turns
//! and every run leaves a tree that is exactly one spec's.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const STARTER: &str = include_str!("../../templates/init/hardening.toml");

/// The starter spec, and a newer version of it that drops a platform and
/// changes a number every file carries, written into `dir`.
fn old_and_new_specs(dir: &Path) -> (PathBuf, PathBuf) {
    let old = dir.join("old.toml");
    let new = dir.join("new.toml");
    fs::write(&old, STARTER).expect("write");
    let changed = STARTER
        .replace("[platform.compose]\n", "")
        .replace("cpu_percent = 80", "cpu_percent = 70");
    assert_ne!(changed, STARTER);
    fs::write(&new, changed).expect("write");
    (old, new)
}

/// `harden generate SPEC --out OUT`, colour off, not yet started.
fn generate_command(spec: &Path, out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
    command
        .arg("generate")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .env("NO_COLOR", "1");
    command
}

fn spawn_generate(spec: &Path, out: &Path) -> Child {
    generate_command(spec, out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harden starts")
}

#[track_caller]
fn wait_success(child: Child, what: &str) {
    let output = child.wait_with_output().expect("harden runs");
    assert!(
        output.status.success(),
        "{what} failed ({:?}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The tree `generate` leaves for `spec` in an empty directory.
fn reference_tree(spec: &Path) -> Vec<(String, Vec<u8>)> {
    let out = tempfile::tempdir().expect("tempdir");
    harden(&[
        "generate",
        &spec.to_string_lossy(),
        "--out",
        &out.path().to_string_lossy(),
    ])
    .success();
    read_tree(out.path())
}

#[test]
fn two_generates_of_one_spec_at_once_both_succeed_and_leave_its_tree() {
    let specs = tempfile::tempdir().expect("tempdir");
    let (spec, _) = old_and_new_specs(specs.path());
    let expected = reference_tree(&spec);
    let spec_arg = spec.to_string_lossy().into_owned();
    for round in 0..50 {
        // Odd rounds start from an empty directory (both create it), even
        // rounds over the previous round's tree.
        let out = specs.path().join(format!("out-{}", round / 2));
        let a = spawn_generate(&spec, &out);
        let b = spawn_generate(&spec, &out);
        wait_success(a, &format!("round {round}: first generate"));
        wait_success(b, &format!("round {round}: second generate"));
        assert!(
            read_tree(&out) == expected,
            "round {round}: the tree is not the spec's"
        );
        harden(&["diff", &spec_arg, "--out", &out.to_string_lossy()]).success();
    }
}

#[test]
fn an_old_and_a_new_spec_generated_at_once_leave_exactly_one_of_their_trees() {
    let specs = tempfile::tempdir().expect("tempdir");
    let (old, new) = old_and_new_specs(specs.path());
    let (old_tree, new_tree) = (reference_tree(&old), reference_tree(&new));
    assert_ne!(old_tree, new_tree);
    let out = specs.path().join("out");
    let mut seen = [0, 0];
    for round in 0..50 {
        // Alternate which starts first, so both orders happen.
        let (first, second) = if round % 2 == 0 {
            (&old, &new)
        } else {
            (&new, &old)
        };
        let a = spawn_generate(first, &out);
        let b = spawn_generate(second, &out);
        wait_success(a, &format!("round {round}: {}", first.display()));
        wait_success(b, &format!("round {round}: {}", second.display()));
        let tree = read_tree(&out);
        let winner = if tree == old_tree {
            seen[0] += 1;
            &old
        } else if tree == new_tree {
            seen[1] += 1;
            &new
        } else {
            panic!("round {round}: the tree matches neither spec");
        };
        harden(&[
            "diff",
            &winner.to_string_lossy(),
            "--out",
            &out.to_string_lossy(),
        ])
        .success();
    }
    assert_eq!(seen[0] + seen[1], 50, "{seen:?}");
}

/// `harden COMMAND SPEC --out OUT`, waiting at most `seconds` for the lock.
fn run_with_timeout(command: &str, spec: &Path, out: &Path, seconds: &str) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_harden"))
        .arg(command)
        .arg(spec)
        .arg("--out")
        .arg(out)
        .env("NO_COLOR", "1")
        .env("HARDEN_LOCK_TIMEOUT", seconds)
        .output()
        .expect("harden runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: text(&output.stdout),
        stderr: text(&output.stderr),
    }
}

/// A run that cannot get the lock waits a bounded time, then exits 2 naming
/// the lock and the other run, having written nothing.
#[test]
fn a_generate_waits_for_the_lock_then_gives_up_naming_the_other_run() {
    let specs = tempfile::tempdir().expect("tempdir");
    let (spec, _) = old_and_new_specs(specs.path());
    let out = specs.path().join("out");
    fs::create_dir(&out).expect("mkdir");

    // This test process plays another `generate`: it holds the exclusive lock.
    let held = File::open(&out).expect("open dir");
    held.lock().expect("lock");
    let started = Instant::now();
    let run = run_with_timeout("generate", &spec, &out, "0.5").code(2);
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(
        run.stderr.contains(&out.display().to_string())
            && run
                .stderr
                .contains("is locked by another `harden generate`")
            && run.stderr.contains("HARDEN_LOCK_TIMEOUT"),
        "{}",
        run.stderr
    );
    #[cfg(target_os = "linux")]
    assert!(
        run.stderr
            .contains(&format!("process {}", std::process::id())),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_dir(&out).expect("read").count(),
        0,
        "nothing written"
    );
    // diff and check wait for a writer too.
    for command in ["diff", "check"] {
        let run = run_with_timeout(command, &spec, &out, "0.2").code(2);
        assert!(run.stderr.contains("is locked by"), "{}", run.stderr);
    }
    drop(held);

    // A reader (diff, check) holds it shared: readers go on, a writer waits.
    let reader = File::open(&out).expect("open dir");
    reader.lock_shared().expect("lock shared");
    let run = run_with_timeout("generate", &spec, &out, "0.2").code(2);
    assert!(
        run.stderr.contains("`harden diff` or `harden check`"),
        "{}",
        run.stderr
    );
    let diff = harden(&[
        "diff",
        &spec.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(
        diff.code, 1,
        "diff runs beside another reader: {}",
        diff.stderr
    );

    // Released within the wait, the lock is taken and the run succeeds.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(reader);
    });
    run_with_timeout("generate", &spec, &out, "10").success();
    release.join().expect("thread");
    harden(&[
        "diff",
        &spec.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ])
    .success();
}
