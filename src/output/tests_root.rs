//! Unit tests of the one file outside the output directory: the workflow at
//! the repository root (`root.rs`).

use std::fs;

use tempfile::TempDir;

use super::manifest::read_manifest;
use super::tests::{NO_FORCE, set_of, tree};
use super::*;

/// `a.yml` and the workflow, for an output directory at `directory`.
fn with_workflow(directory: &str, workflow: &str) -> OutputSet {
    let mut set = set_of(&[("a.yml", "a\n")]);
    set.insert_at_repository_root(directory, workflow, FileMode::Regular)
        .unwrap();
    set
}

#[test]
fn only_the_workflow_leaves_the_output_directory_and_only_up_to_the_root() {
    let set = with_workflow("deploy/x", "w\n");
    assert_eq!(set.directory(), Some("deploy/x"));
    assert_eq!(
        set.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        ["../../.github/workflows/harden.yml", "a.yml"]
    );
    // At the root it is an ordinary file of the output directory.
    let at_root = with_workflow(".", "w\n");
    assert_eq!(at_root.directory(), None);
    assert!(at_root.get(AT_REPOSITORY_ROOT).is_some());
    // No other path may climb out, by insert or by a bad directory.
    let mut set = OutputSet::new();
    for bad in ["../.github/workflows/harden.yml", "../a.yml"] {
        let err = set.insert(bad, "", FileMode::Regular).unwrap_err();
        assert!(matches!(err, OutputError::InvalidPath { .. }), "{err:?}");
    }
    for bad in ["", "/deploy", "deploy/..", "../deploy", "deploy//x"] {
        let err = set
            .insert_at_repository_root(bad, "", FileMode::Regular)
            .unwrap_err();
        assert!(
            matches!(err, OutputError::InvalidPath { .. }),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn the_workflow_is_written_at_the_root_recorded_in_the_manifest_and_diffed() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("deploy/x");
    write(&with_workflow("deploy/x", "w\n"), &out, &NO_FORCE).unwrap();
    assert_eq!(
        fs::read_to_string(tmp.path().join(AT_REPOSITORY_ROOT)).unwrap(),
        "w\n"
    );
    let manifest = read_manifest(&out).unwrap();
    assert!(manifest.contains_key("../../.github/workflows/harden.yml"));
    assert!(
        diff(&with_workflow("deploy/x", "w\n"), &out)
            .unwrap()
            .is_clean()
    );
    let drift = diff(&with_workflow("deploy/x", "v\n"), &out).unwrap();
    assert_eq!(
        drift.drifts.iter().map(Drift::path).collect::<Vec<_>>(),
        ["../../.github/workflows/harden.yml"]
    );
    // No longer generated: removed from the root, its empty directories too.
    write(&set_of(&[("a.yml", "a\n")]), &out, &NO_FORCE).unwrap();
    assert!(!tmp.path().join(".github").exists());
    assert_eq!(tree(tmp.path()).len(), 2, "{:?}", tree(tmp.path()));
}

#[test]
fn an_output_directory_not_ending_with_the_directory_is_refused_before_any_write() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("elsewhere");
    let err = write(&with_workflow("deploy", "w\n"), &out, &NO_FORCE).unwrap_err();
    assert!(
        matches!(&err, OutputError::NotUnderDirectory { directory, .. } if directory == "deploy"),
        "{err:?}"
    );
    assert!(!out.exists(), "nothing is created");
    let err = diff(&with_workflow("deploy", "w\n"), &out).unwrap_err();
    assert!(
        matches!(err, OutputError::NotUnderDirectory { .. }),
        "{err:?}"
    );
}

#[test]
fn a_manifest_naming_another_path_outside_the_output_directory_is_corrupt() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("deploy");
    fs::create_dir_all(&out).unwrap();
    for (path, ok) in [
        ("../.github/workflows/harden.yml", true),
        ("../../.github/workflows/harden.yml", true),
        ("../.github/workflows/other.yml", false),
        ("../a.yml", false),
        ("x/../../.github/workflows/harden.yml", false),
    ] {
        let manifest = serde_json::json!({
            "generated_by": "harden",
            "files": [{"path": path, "mode": "0644"}],
        });
        fs::write(out.join(MANIFEST), manifest.to_string()).unwrap();
        let read = read_manifest(&out);
        assert_eq!(
            read.is_ok(),
            ok,
            "{path}: {:?}",
            read.map(|m| m.len()).map_err(|e| e.to_string())
        );
    }
}
