//! Invalid specs: each fixture under `tests/fixtures/invalid/` has its
//! rendered diagnostics snapshotted (plain, 80 columns). A fixture's first
//! line says what it breaks; its snapshot shows every problem harden finds.

use std::path::Path;

use harden::diagnostics::{Style, render};
use harden::load::{LoadError, load};

use crate::support::*;

fn fixtures() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/fixtures/invalid"))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn rendered(relative: &Path) -> String {
    match load(relative) {
        Ok(_) => panic!("{} should be invalid", relative.display()),
        Err(LoadError::Read { path, detail }) => panic!("cannot read {path}: {detail}"),
        Err(LoadError::Invalid(diagnostics)) => {
            assert!(!diagnostics.is_empty());
            render(&diagnostics, Style::plain())
        }
    }
}

#[test]
fn every_invalid_fixture_renders_its_diagnostics() {
    // Relative paths keep the snapshots free of this machine's directories;
    // cargo runs integration tests from the package root.
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 40,
        "the fixture corpus shrank to {}",
        fixtures.len()
    );
    for path in fixtures {
        let relative = path
            .strip_prefix(root())
            .expect("inside the root")
            .to_path_buf();
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let text = rendered(&relative);
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("invalid-{stem}"), text);
        });
    }
}

/// The CLI shows every error, each at its line and column, and exits 2.
#[test]
fn validate_reports_every_error_with_line_and_column() {
    let run = harden(&["validate", "tests/fixtures/invalid/many-errors.toml"]).code(2);
    let locations = run
        .stderr
        .matches("[tests/fixtures/invalid/many-errors.toml:")
        .count();
    let problems = run.stderr.matches("  × ").count();
    assert!(
        problems >= 5,
        "expected every problem, got {problems}:\n{}",
        run.stderr
    );
    assert_eq!(
        locations, problems,
        "each problem names its line and column:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("has {problems} problems; nothing was written")),
        "{}",
        run.stderr
    );
}

/// Arbitrary bytes never panic the loader: every failure is a diagnostic.
#[test]
fn hostile_bytes_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("hardening.toml");
    let samples: &[&[u8]] = &[
        b"",
        b"\xff\xfe\x00",
        b"[project]\nname = \"a\"\n[[service]]\n",
        b"[[[",
        b"a = 1979-05-27T07:32:00Z\n[project]\nname = 1979-05-27\n",
        b"[project]\nname = \"x\"\n[monitoring]\nprometheus_port = 99999999999999999999\n",
        b"[project]\nname = \"x\"\nregions = []\n",
        b"[project]\nname = \"x\"\n[[service]]\nname = \"a\"\nmetrics = { buckets = [1e308, 1e-308] }\nslo = { latency = [{ percentile = 1e308, threshold = \"1s\" }] }\n",
        b"[project]\nname = \"x\"\n[[service]]\nname = \"a\"\nimage = \"i\"\nport = 1\n[[service.slo]]\nname = \"s\"\nobjective = \"99%\"\nwindow = \"99999999999999999999d\"\navailability = {}\ntiers = [{ alert = \"page\", long = \"1h\", short = \"5m\", factor = 1e308 }]\n",
    ];
    for bytes in samples {
        std::fs::write(&spec, bytes).expect("write");
        match load(&spec) {
            Ok(_) => {}
            Err(LoadError::Invalid(d)) => assert!(!d.is_empty()),
            Err(LoadError::Read { .. }) => panic!("readable file reported unreadable"),
        }
    }
}

/// Two labels of one problem far apart in the spec are two snippets, each
/// with its own few lines of context, not one frame of everything between.
#[test]
fn labels_far_apart_are_shown_apart() {
    // The service far down the file too: a frame's line count once took
    // its first line's number, merging snippets past the file's middle.
    let lead: String = (0..60).map(|i| format!("# lead line {i}\n")).collect();
    let filler: String = (0..40).map(|i| format!("# filler line {i}\n")).collect();
    let spec = format!(
        "[project]\nname = \"shop\"\n{lead}\n[[service]]\nname = \"api\"\nimage = \"registry.example.com/api:1.0\"\nport = 8080\nreplicas = 3\n\n{filler}\n[platform.digitalocean]\ninstance_size = \"apps-d-1vcpu-1gb\"\n"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hardening.toml");
    std::fs::write(&path, spec).expect("write");
    let run = harden(&["validate", &path.to_string_lossy()]).code(2);
    assert!(
        run.stderr.contains("unscrapable-instances"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("[platform.digitalocean]"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("filler line 20"), "{}", run.stderr);
}
