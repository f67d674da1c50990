//! Unit tests of writing, diffing and the manifest.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use tempfile::TempDir;

use super::manifest::{Manifest, Owned, read_manifest, render_manifest, write_manifest};
use super::write::write_atomic;
use super::*;

pub(super) const NO_FORCE: WriteOptions = WriteOptions {
    force: false,
    spec: None,
};
pub(super) const FORCE: WriteOptions = WriteOptions {
    force: true,
    spec: None,
};

pub(super) fn set_of(files: &[(&str, &str)]) -> OutputSet {
    let mut set = OutputSet::new();
    for (path, contents) in files {
        set.insert(*path, *contents, FileMode::Regular).unwrap();
    }
    set
}

/// Every regular file under `dir` (manifest included), relative path → contents.
pub(super) fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The tree `write(set)` must leave: the set's files plus its manifest.
pub(super) fn expected_tree(set: &OutputSet) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = set
        .iter()
        .map(|(p, f)| {
            (
                p.to_string(),
                String::from_utf8(f.contents.clone()).unwrap(),
            )
        })
        .collect();
    let manifest: Manifest = set
        .iter()
        .map(|(p, f)| (p.to_string(), Owned::new(f.mode, &f.contents)))
        .collect();
    out.insert(
        MANIFEST.into(),
        String::from_utf8(render_manifest(&manifest).unwrap()).unwrap(),
    );
    out
}

#[test]
fn write_to_empty_dir_then_diff_is_clean() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("out/nested");
    let set = set_of(&[("prometheus/rules.yml", "groups: []\n"), ("a.yml", "a\n")]);
    let report = write(&set, &dir, &NO_FORCE).unwrap();
    assert_eq!(report.written, ["a.yml", "prometheus/rules.yml"]);
    assert!(report.unchanged.is_empty() && report.removed.is_empty());
    assert_eq!(tree(&dir), expected_tree(&set));
    assert!(diff(&set, &dir).unwrap().is_clean());
}

#[test]
fn manifest_is_sorted_pretty_json_with_trailing_newline() {
    let tmp = TempDir::new().unwrap();
    let mut set = set_of(&[("z.yml", "z\n")]);
    set.insert("bin/run.sh", "#!/bin/sh\n", FileMode::Executable)
        .unwrap();
    write(&set, tmp.path(), &NO_FORCE).unwrap();
    let manifest = fs::read_to_string(tmp.path().join(MANIFEST)).unwrap();
    let expected = r#"{
  "generated_by": "harden",
  "files": [
    {
      "path": "bin/run.sh",
      "mode": "0755",
      "sha256": "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf"
    },
    {
      "path": "z.yml",
      "mode": "0644",
      "sha256": "c865f6c5ab8d1b0bcd383a5e1e3879d22681c96bf462c269b7581d523fbe70ab"
    }
  ]
}
"#;
    assert_eq!(manifest, expected);
}

#[test]
fn second_write_leaves_everything_untouched() {
    #[cfg(unix)]
    use std::os::unix::fs::MetadataExt;
    let tmp = TempDir::new().unwrap();
    let set = set_of(&[("a.yml", "a\n"), ("k8s/hpa.yaml", "hpa\n")]);
    write(&set, tmp.path(), &NO_FORCE).unwrap();
    let paths = ["a.yml", "k8s/hpa.yaml", MANIFEST];
    let stamp = |p: &str| {
        let meta = fs::metadata(tmp.path().join(p)).unwrap();
        #[cfg(unix)]
        return (meta.modified().unwrap(), meta.ino());
        #[cfg(not(unix))]
        return (meta.modified().unwrap(), 0);
    };
    let before: Vec<_> = paths.iter().map(|p| stamp(p)).collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = write(&set, tmp.path(), &NO_FORCE).unwrap();
    assert_eq!(
        report,
        WriteReport {
            unchanged: vec!["a.yml".into(), "k8s/hpa.yaml".into()],
            ..Default::default()
        }
    );
    let after: Vec<_> = paths.iter().map(|p| stamp(p)).collect();
    assert_eq!(before, after);
}

#[test]
fn edited_file_is_changed_with_a_unified_diff() {
    let tmp = TempDir::new().unwrap();
    let mut set = set_of(&[("alerts.yml", "one\ntwo\nthree\n")]);
    set.insert("logo.bin", vec![0xff, 0x00], FileMode::Regular)
        .unwrap();
    write(&set, tmp.path(), &NO_FORCE).unwrap();
    fs::write(tmp.path().join("alerts.yml"), "one\nTWO\nthree\n").unwrap();
    fs::write(tmp.path().join("logo.bin"), [0xfe]).unwrap();

    let report = diff(&set, tmp.path()).unwrap();
    let [
        Drift::Changed { path, unified },
        Drift::Changed {
            path: bin,
            unified: note,
        },
    ] = &report.drifts[..]
    else {
        panic!("expected two Changed drifts, got {:?}", report.drifts);
    };
    assert_eq!(path, "alerts.yml");
    assert!(
        unified.starts_with("--- a/alerts.yml\n+++ b/alerts.yml\n@@"),
        "{unified}"
    );
    assert!(unified.contains("\n-TWO\n+two\n"), "{unified}");
    assert_eq!(bin, "logo.bin");
    assert_eq!(note, "binary files a/logo.bin and b/logo.bin differ\n");
}

#[test]
fn every_drift_is_reported_sorted_by_path() {
    let tmp = TempDir::new().unwrap();
    let set = set_of(&[("a.yml", "a\n"), ("b.yml", "b\n"), ("c/d.yml", "d\n")]);
    write(&set, tmp.path(), &NO_FORCE).unwrap();
    fs::remove_file(tmp.path().join("c/d.yml")).unwrap();
    fs::remove_file(tmp.path().join("a.yml")).unwrap();
    fs::write(tmp.path().join("b.yml"), "changed\n").unwrap();
    let drifts = diff(&set, tmp.path()).unwrap().drifts;
    let summary: Vec<_> = drifts
        .iter()
        .map(|d| match d {
            Drift::Missing { path } => format!("missing {path}"),
            Drift::Changed { path, .. } => format!("changed {path}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        ["missing a.yml", "changed b.yml", "missing c/d.yml"]
    );
}

#[test]
fn diff_of_a_missing_dir_reports_everything_missing() {
    let tmp = TempDir::new().unwrap();
    let set = set_of(&[("a.yml", "a\n")]);
    let drifts = diff(&set, &tmp.path().join("nope")).unwrap().drifts;
    assert_eq!(
        drifts,
        [Drift::Missing {
            path: "a.yml".into()
        }]
    );
}

#[test]
fn dropped_file_is_stale_then_removed_with_its_empty_parents() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let old = set_of(&[
        ("keep.yml", "k\n"),
        ("old/deep/x.yml", "x\n"),
        ("old/y.yml", "y\n"),
    ]);
    write(&old, dir, &NO_FORCE).unwrap();
    fs::write(dir.join("old/notes.txt"), "user's\n").unwrap();
    let new = set_of(&[("keep.yml", "k\n")]);

    let drifts = diff(&new, dir).unwrap().drifts;
    assert_eq!(
        drifts,
        [
            Drift::Stale {
                path: "old/deep/x.yml".into()
            },
            Drift::Stale {
                path: "old/y.yml".into()
            },
        ]
    );

    let report = write(&new, dir, &NO_FORCE).unwrap();
    assert_eq!(report.removed, ["old/deep/x.yml", "old/y.yml"]);
    assert_eq!(report.unchanged, ["keep.yml"]);
    assert!(!dir.join("old/deep").exists(), "empty parent must go");
    let mut expected = expected_tree(&new);
    expected.insert("old/notes.txt".into(), "user's\n".into());
    assert_eq!(tree(dir), expected, "non-empty parent and user file stay");
    assert!(diff(&new, dir).unwrap().is_clean());
}

#[test]
fn foreign_file_is_refused_before_writing_anything_then_forced() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("b.yml"), "mine\n").unwrap();
    let set = set_of(&[
        ("a.yml", "a\n"),
        ("b.yml", "generated\n"),
        ("c/d.yml", "d\n"),
    ]);

    let err = write(&set, dir, &NO_FORCE).unwrap_err();
    assert!(
        matches!(&err, OutputError::NotOwned { path } if path == "b.yml"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("move it away or re-run with --force")
    );
    assert_eq!(
        tree(dir),
        BTreeMap::from([("b.yml".into(), "mine\n".into())])
    );

    let report = write(&set, dir, &FORCE).unwrap();
    assert_eq!(report.written, ["a.yml", "b.yml", "c/d.yml"]);
    assert_eq!(tree(dir), expected_tree(&set));
}

#[test]
fn identical_foreign_file_is_adopted() {
    let tmp = TempDir::new().unwrap();
    fs::write(tmp.path().join("a.yml"), "a\n").unwrap();
    let set = set_of(&[("a.yml", "a\n")]);
    let report = write(&set, tmp.path(), &NO_FORCE).unwrap();
    assert_eq!(report.unchanged, ["a.yml"]);
    assert_eq!(tree(tmp.path()), expected_tree(&set));
}

#[cfg(unix)]
#[test]
fn symlinks_and_directories_in_the_way_are_refused() {
    use std::os::unix::fs::symlink;
    let tmp = TempDir::new().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("hpa.yaml"), "precious\n").unwrap();
    let set = set_of(&[("a.yml", "a\n"), ("k8s/hpa.yaml", "hpa\n")]);
    let obstructed_at = |dir: &Path, opts: &WriteOptions| match write(&set, dir, opts) {
        Err(OutputError::Obstructed { at, found, .. }) => {
            assert_eq!(
                tree(&outside),
                BTreeMap::from([("hpa.yaml".into(), "precious\n".into())])
            );
            assert!(!dir.join("a.yml").exists() && !dir.join(MANIFEST).exists());
            (at, found)
        }
        other => panic!("expected Obstructed, got {other:?}"),
    };

    let parent_link = tmp.path().join("parent-link");
    fs::create_dir(&parent_link).unwrap();
    symlink(&outside, parent_link.join("k8s")).unwrap();
    assert_eq!(
        obstructed_at(&parent_link, &NO_FORCE),
        ("k8s".into(), "a symbolic link")
    );
    assert_eq!(
        obstructed_at(&parent_link, &FORCE),
        ("k8s".into(), "a symbolic link")
    );

    let target_link = tmp.path().join("target-link");
    fs::create_dir_all(target_link.join("k8s")).unwrap();
    symlink(outside.join("hpa.yaml"), target_link.join("k8s/hpa.yaml")).unwrap();
    let found = obstructed_at(&target_link, &FORCE);
    assert_eq!(found, ("k8s/hpa.yaml".into(), "a symbolic link"));

    let target_dir = tmp.path().join("target-dir");
    fs::create_dir_all(target_dir.join("k8s/hpa.yaml")).unwrap();
    assert_eq!(
        obstructed_at(&target_dir, &FORCE),
        ("k8s/hpa.yaml".into(), "a directory")
    );

    // A stale file reached through a symlink is not harden's to delete.
    let stale_link = tmp.path().join("stale-link");
    write(&set, &stale_link, &NO_FORCE).unwrap();
    fs::remove_dir_all(stale_link.join("k8s")).unwrap();
    symlink(&outside, stale_link.join("k8s")).unwrap();
    let only_a = set_of(&[("a.yml", "a\n")]);
    assert!(
        write(&only_a, &stale_link, &NO_FORCE)
            .unwrap()
            .removed
            .is_empty()
    );
    assert!(outside.join("hpa.yaml").exists());

    // The output directory itself may be a symlink.
    let real = tmp.path().join("real");
    fs::create_dir(&real).unwrap();
    symlink(&real, tmp.path().join("dir-link")).unwrap();
    write(&set, &tmp.path().join("dir-link"), &NO_FORCE).unwrap();
    assert_eq!(tree(&real), expected_tree(&set));
}

#[test]
fn invalid_and_conflicting_paths_are_rejected_by_insert() {
    let mut set = OutputSet::new();
    for bad in [
        "",
        "/etc/passwd",
        "../x",
        "a/../b",
        "./a",
        "a/./b",
        "a//b",
        "a/",
        "a\\b",
        "a\0b",
        MANIFEST,
        ".harden-manifest.json.bak",
        "x/.a.yml.harden-tmp",
    ] {
        let err = set.insert(bad, "", FileMode::Regular).unwrap_err();
        assert!(
            matches!(err, OutputError::InvalidPath { .. }),
            "{bad:?}: {err:?}"
        );
    }
    set.insert(".github/workflows/ci.yml", "", FileMode::Regular)
        .unwrap();
    set.insert("a/b", "", FileMode::Regular).unwrap();
    let dup = set.insert("a/b", "", FileMode::Executable).unwrap_err();
    assert!(matches!(dup, OutputError::Duplicate { path } if path == "a/b"));
    for conflict in ["a", "a/b/c"] {
        let err = set.insert(conflict, "", FileMode::Regular).unwrap_err();
        assert!(
            matches!(err, OutputError::InvalidPath { .. }),
            "{conflict}: {err:?}"
        );
    }
    assert_eq!(set.len(), 2);
    assert_eq!(
        set.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        [".github/workflows/ci.yml", "a/b"]
    );
}

#[cfg(unix)]
#[test]
fn executable_mode_is_written_and_mode_drift_detected() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let mut set = set_of(&[("a.yml", "a\n")]);
    set.insert("run.sh", "#!/bin/sh\n", FileMode::Executable)
        .unwrap();
    write(&set, dir, &NO_FORCE).unwrap();
    let mode = |p: &str| fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
    let chmod =
        |p: &str, m: u32| fs::set_permissions(dir.join(p), fs::Permissions::from_mode(m)).unwrap();
    assert_eq!((mode("run.sh"), mode("a.yml")), (0o755, 0o644));
    assert!(diff(&set, dir).unwrap().is_clean());

    chmod("run.sh", 0o644);
    chmod("a.yml", 0o664); // another umask is not drift: only the executable bit counts
    let drifts = diff(&set, dir).unwrap().drifts;
    assert_eq!(
        drifts,
        [Drift::ModeChanged {
            path: "run.sh".into(),
            expected: FileMode::Executable
        }]
    );

    let report = write(&set, dir, &NO_FORCE).unwrap();
    assert_eq!(
        (report.written, report.unchanged),
        (vec!["run.sh".into()], vec!["a.yml".into()])
    );
    assert_eq!(mode("run.sh"), 0o755);
    assert!(diff(&set, dir).unwrap().is_clean());
}

#[test]
fn corrupt_manifest_is_an_error_unless_forced() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let set = set_of(&[("a.yml", "a\n")]);
    write(&set, dir, &NO_FORCE).unwrap();
    fs::write(dir.join(MANIFEST), "{ not json").unwrap();

    let err = write(&set, dir, &NO_FORCE).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, OutputError::CorruptManifest { .. }));
    assert!(
        message.contains(MANIFEST) && message.contains("delete it and re-run"),
        "{message}"
    );
    assert!(matches!(
        diff(&set, dir),
        Err(OutputError::CorruptManifest { .. })
    ));

    let report = write(&set, dir, &FORCE).unwrap();
    assert_eq!(report.unchanged, ["a.yml"]);
    assert_eq!(tree(dir), expected_tree(&set));
}

#[test]
fn manifest_entries_outside_dir_are_refused() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir(&dir).unwrap();
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, "precious\n").unwrap();
    let set = set_of(&[("a.yml", "a\n")]);
    let absolute = outside.to_string_lossy().into_owned();
    for bad in ["../outside.txt", absolute.as_str()] {
        let manifest = serde_json::json!({
            "generated_by": "harden",
            "files": [{"path": bad, "mode": "0644"}],
        });
        fs::write(dir.join(MANIFEST), manifest.to_string()).unwrap();
        let err = write(&set, &dir, &NO_FORCE).unwrap_err();
        assert!(err.to_string().contains(bad), "{err}");
        assert!(matches!(
            diff(&set, &dir),
            Err(OutputError::CorruptManifest { .. })
        ));
        assert!(!dir.join("a.yml").exists());
    }
    write(&set, &dir, &FORCE).unwrap();
    assert_eq!(fs::read_to_string(&outside).unwrap(), "precious\n");
    assert_eq!(tree(&dir), expected_tree(&set));
}

#[test]
fn interrupted_write_is_repaired_by_the_next_run() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let old = set_of(&[
        ("a.yml", "old\n"),
        ("gone/x.yml", "x\n"),
        ("keep.yml", "k\n"),
    ]);
    write(&old, dir, &NO_FORCE).unwrap();
    let new = set_of(&[
        ("a.yml", "new\n"),
        ("b/c.yml", "new\n"),
        ("keep.yml", "k\n"),
    ]);

    // Replay a run killed after the union manifest and the first new file: a file being
    // replaced is listed with the new hash and the old one it still has on disk.
    let mut union = read_manifest(dir).unwrap();
    for (path, file) in new.iter() {
        let mut owned = Owned::new(file.mode, &file.contents);
        owned.previous_sha256 = union.get(path).and_then(|o| o.sha256.clone());
        union.insert(path.to_string(), owned);
    }
    write_manifest(dir, &union).unwrap();
    fs::create_dir(dir.join("b")).unwrap();
    write_atomic(dir, "b/c.yml", b"new\n", FileMode::Regular).unwrap();

    let drifts: Vec<_> = diff(&new, dir)
        .unwrap()
        .drifts
        .iter()
        .map(|d| d.path().to_string())
        .collect();
    assert_eq!(drifts, ["a.yml", "gone/x.yml"]);

    let report = write(&new, dir, &NO_FORCE).unwrap();
    assert_eq!(report.written, ["a.yml"]);
    assert_eq!(report.unchanged, ["b/c.yml", "keep.yml"]);
    assert_eq!(report.removed, ["gone/x.yml"]);
    assert_eq!(tree(dir), expected_tree(&new));
    assert!(!dir.join("gone").exists());
    assert!(diff(&new, dir).unwrap().is_clean());
}

#[test]
fn write_failing_midway_leaves_owned_files_and_next_run_repairs() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let old = set_of(&[
        (
            "a.yml", "old
",
        ),
        (
            "gone.yml", "g
",
        ),
    ]);
    write(&old, dir, &NO_FORCE).unwrap();
    let new = set_of(&[
        (
            "a.yml", "new
",
        ),
        (
            "b/c.yml", "c
",
        ),
    ]);
    // A directory where b/c.yml's temp file goes makes that write fail.
    fs::create_dir_all(dir.join("b/.c.yml.harden-tmp/x")).unwrap();

    let err = write(&new, dir, &NO_FORCE).unwrap_err();
    assert!(
        matches!(&err, OutputError::Io { path, .. } if path.ends_with("b/.c.yml.harden-tmp")),
        "{err:?}"
    );
    let owned: Vec<String> = read_manifest(dir).unwrap().into_keys().collect();
    assert_eq!(
        owned,
        ["a.yml", "b/c.yml", "gone.yml"],
        "manifest is the union"
    );
    assert_eq!(fs::read_to_string(dir.join("a.yml")).unwrap(), "new\n");
    assert!(dir.join("gone.yml").exists());

    fs::remove_dir_all(dir.join("b/.c.yml.harden-tmp")).unwrap();
    let report = write(&new, dir, &NO_FORCE).unwrap();
    assert_eq!(
        (report.written, report.removed),
        (vec!["b/c.yml".into()], vec!["gone.yml".into()])
    );
    assert_eq!(tree(dir), expected_tree(&new));
}
