//! What every integration test needs: running harden, generating a tree
//! from a spec, the real validators that read what it wrote, and which
//! target owns which generated file.

#![allow(dead_code)]

mod app_spec;
mod fakes;
mod http;
mod kube_api;
mod owners;
mod postgres;
mod procs;
mod remote_write;
mod servers;
mod specs;
mod tree;
mod validators;

pub use app_spec::app_specs_conform;
pub use fakes::*;
pub use http::*;
pub use kube_api::*;
pub use owners::*;
pub use postgres::*;
pub use procs::*;
pub use remote_write::*;
pub use servers::*;
pub use specs::*;
pub use tree::*;
pub use validators::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The 1-based line of the bundled example spec that starts with `prefix`,
/// so tests of diagnostics at a line survive edits above it.
pub fn example_line(prefix: &str) -> usize {
    let text = std::fs::read_to_string(root().join("examples/app-oint/hardening.toml"))
        .expect("the example spec");
    1 + text
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line of the example starts with {prefix}"))
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
    pub fn from_output(output: &Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

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
    Run::from_output(&output)
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

/// A YAML file read as JSON values; panics naming the file.
pub fn yaml(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JSON file; panics naming the file.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The resolved model of a valid spec.
pub fn model(spec: &Path) -> harden::model::Model {
    harden::load::load(spec).unwrap_or_else(|_| panic!("{} is valid", spec.display()))
}

/// insta settings that keep snapshots in the top-level `snapshots/` folder.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
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

/// Makes `path` executable (0755).
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
