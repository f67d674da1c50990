//! What every integration test needs: running harden, reading trees,
//! finding validators.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every bundled example's spec, sorted.
pub fn example_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path().join("hardening.toml"))
        .filter(|p| p.is_file())
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no examples found");
    specs
}

/// A finished harden run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `harden` with `args` in `cwd`, with colour off.
pub fn harden_in(cwd: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("harden runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `harden` with `args` from the repository root.
pub fn harden(args: &[&str]) -> Run {
    harden_in(&root(), args)
}

/// Every file under `dir` (relative path, contents), sorted, manifest included.
pub fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("readable dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, std::fs::read(&path).expect("readable file")));
            }
        }
    }
    files.sort();
    files
}

/// A whole generated tree as one text: a `==== path ====` header per file,
/// so added and removed files show in a snapshot.
pub fn tree_snapshot(dir: &Path) -> String {
    read_tree(dir)
        .into_iter()
        .map(|(path, bytes)| format!("==== {path} ====\n{}", String::from_utf8_lossy(&bytes)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// insta settings that keep snapshots in the top-level `snapshots/` folder.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// A real validator on PATH. When it is missing the calling test is skipped,
/// unless `HARDEN_REQUIRE_VALIDATORS=1` (as in CI), where it fails.
pub fn validator(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let required = std::env::var("HARDEN_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{name} is required (HARDEN_REQUIRE_VALIDATORS=1) but not on PATH; .ci/run installs it"
        );
        eprintln!(
            "skipping: {name} is not installed (set HARDEN_REQUIRE_VALIDATORS=1 to make this a failure)"
        );
    }
    found
}

/// Generates an example into a fresh temporary directory.
pub fn generate_example(spec: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("tempdir");
    let spec_arg = spec.to_string_lossy();
    let out_arg = out.path().to_string_lossy();
    harden(&["generate", &spec_arg, "--out", &out_arg]).success();
    out
}

/// `N` distinct free loopback ports. Each listener is held until all are
/// chosen: a port bound and closed at once can be handed out again, and two
/// servers of one test then collide.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("addr").port())
}
