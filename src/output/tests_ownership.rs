//! Unit tests of ownership by content hash (issue 21): edited files, old
//! manifests, the spec, temporary names and `replace_file`.

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use super::manifest::read_manifest;
use super::sha256;
use super::tests::{FORCE, NO_FORCE, expected_tree, set_of, tree};
use super::*;

/// A manifest as an older harden wrote it: paths and modes, no hashes.
fn old_format_manifest(dir: &Path, paths: &[&str]) {
    let files: Vec<_> = paths
        .iter()
        .map(|p| serde_json::json!({"path": p, "mode": "0644"}))
        .collect();
    let manifest = serde_json::json!({"generated_by": "harden", "files": files});
    fs::write(dir.join(MANIFEST), manifest.to_string()).unwrap();
}

#[test]
fn a_generated_file_the_user_edited_is_not_overwritten_without_force() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    write(
        &set_of(&[("a.yml", "a\n"), ("b.yml", "b\n")]),
        dir,
        &NO_FORCE,
    )
    .unwrap();
    fs::write(dir.join("a.yml"), "a # mine\n").unwrap();
    let before = tree(dir);
    let new = set_of(&[("a.yml", "A\n"), ("b.yml", "B\n")]);

    let err = write(&new, dir, &NO_FORCE).unwrap_err();
    assert!(
        matches!(&err, OutputError::Edited { path, action: "overwrite", .. } if path == "a.yml"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("a.yml") && message.contains("--force"),
        "{message}"
    );
    assert_eq!(tree(dir), before, "nothing is written");

    let report = write(&new, dir, &FORCE).unwrap();
    assert_eq!(report.written, ["a.yml", "b.yml"]);
    assert_eq!(tree(dir), expected_tree(&new));
}

#[test]
fn an_edited_file_the_spec_no_longer_generates_is_not_deleted_without_force() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let both = set_of(&[("a.yml", "a\n"), ("docker-compose.yml", "services: {}\n")]);
    write(&both, dir, &NO_FORCE).unwrap();
    fs::write(dir.join("docker-compose.yml"), "services: {mine: {}}\n").unwrap();
    let before = tree(dir);
    let only_a = set_of(&[("a.yml", "a\n")]);

    let err = write(&only_a, dir, &NO_FORCE).unwrap_err();
    assert!(
        matches!(&err, OutputError::Edited { path, action: "delete", .. } if path == "docker-compose.yml"),
        "{err:?}"
    );
    assert_eq!(tree(dir), before, "nothing is deleted or written");

    let report = write(&only_a, dir, &FORCE).unwrap();
    assert_eq!(report.removed, ["docker-compose.yml"]);
    assert_eq!(tree(dir), expected_tree(&only_a));
}

#[test]
fn an_old_manifest_owns_a_file_only_when_harden_would_write_it_again() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("same.yml"), "same\n").unwrap();
    fs::write(dir.join("other.yml"), "old\n").unwrap();
    fs::write(dir.join("stale.yml"), "stale\n").unwrap();
    old_format_manifest(dir, &["other.yml", "same.yml", "stale.yml"]);

    // Identical contents: a no-op overwrite, and the manifest gains its hash.
    let same = set_of(&[("same.yml", "same\n")]);
    let err = write(&same, dir, &NO_FORCE).unwrap_err();
    assert!(
        matches!(&err, OutputError::Unverified { path, action: "delete", .. } if path == "other.yml"),
        "{err:?}"
    );
    assert!(err.to_string().contains("without a content hash"), "{err}");

    // Other contents: harden cannot tell an edit from an older output.
    let changed = set_of(&[("other.yml", "new\n"), ("stale.yml", "stale\n")]);
    let err = write(&changed, dir, &NO_FORCE).unwrap_err();
    assert!(
        matches!(&err, OutputError::Unverified { path, action: "overwrite", .. } if path == "other.yml"),
        "{err:?}"
    );
    assert_eq!(fs::read_to_string(dir.join("other.yml")).unwrap(), "old\n");

    // What harden writes again unchanged is adopted with its hash.
    let all = set_of(&[
        ("other.yml", "old\n"),
        ("same.yml", "same\n"),
        ("stale.yml", "stale\n"),
    ]);
    let report = write(&all, dir, &NO_FORCE).unwrap();
    assert_eq!(report.unchanged.len(), 3);
    assert_eq!(tree(dir), expected_tree(&all));
    // From now on a stale file whose hash matches is deleted as usual.
    let report = write(&same, dir, &NO_FORCE).unwrap();
    assert_eq!(report.removed, ["other.yml", "stale.yml"]);
}

#[test]
fn a_manifest_hash_that_is_not_sha256_hex_is_corrupt() {
    let tmp = TempDir::new().unwrap();
    let manifest = serde_json::json!({
        "generated_by": "harden",
        "files": [{"path": "a.yml", "mode": "0644", "sha256": "abc"}],
    });
    fs::write(tmp.path().join(MANIFEST), manifest.to_string()).unwrap();
    let err = diff(&set_of(&[("a.yml", "a\n")]), tmp.path()).unwrap_err();
    assert!(
        matches!(err, OutputError::CorruptManifest { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("SHA-256"), "{err}");
}

#[test]
fn the_spec_is_never_deleted_or_overwritten_even_with_force() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let spec = dir.join("hardening.toml");
    fs::write(&spec, "[project]\n").unwrap();
    fs::write(dir.join("notes.md"), "my notes\n").unwrap();
    old_format_manifest(dir, &["hardening.toml", "notes.md"]);
    let set = set_of(&[("a.yml", "a\n")]);
    let opts = |force| WriteOptions {
        force,
        spec: Some(&spec),
    };

    let err = write(&set, dir, &opts(false)).unwrap_err();
    assert!(
        matches!(&err, OutputError::Protected { path, action: "delete", .. } if path == "hardening.toml"),
        "{err:?}"
    );
    // A hand-edited hash does not make a file harden's either.
    let manifest = serde_json::json!({"generated_by": "harden", "files": [
        {"path": "notes.md", "mode": "0644", "sha256": sha256::hex(b"what harden wrote\n")},
    ]});
    fs::write(dir.join(MANIFEST), manifest.to_string()).unwrap();
    let err = write(&set, dir, &opts(false)).unwrap_err();
    assert!(
        matches!(&err, OutputError::Edited { path, .. } if path == "notes.md"),
        "{err:?}"
    );
    assert_eq!(fs::read_to_string(&spec).unwrap(), "[project]\n");
    assert_eq!(
        fs::read_to_string(dir.join("notes.md")).unwrap(),
        "my notes\n"
    );

    // --force: the spec stays (and leaves the manifest); forced deletes are the user's call.
    old_format_manifest(dir, &["hardening.toml"]);
    let report = write(&set, dir, &opts(true)).unwrap();
    assert_eq!(report.kept, ["hardening.toml"]);
    assert!(report.removed.is_empty());
    assert_eq!(fs::read_to_string(&spec).unwrap(), "[project]\n");
    assert!(!read_manifest(dir).unwrap().contains_key("hardening.toml"));

    // A generated path that is the spec (here through a hard link) is refused, even forced.
    let clash = set_of(&[("hardening.toml", "generated\n")]);
    let err = write(&clash, dir, &opts(true)).unwrap_err();
    assert!(
        matches!(
            &err,
            OutputError::Protected {
                action: "overwrite",
                ..
            }
        ),
        "{err:?}"
    );
    #[cfg(unix)]
    {
        fs::hard_link(&spec, dir.join("alias.toml")).unwrap();
        let alias = set_of(&[("alias.toml", "generated\n")]);
        let err = write(&alias, dir, &opts(true)).unwrap_err();
        assert!(matches!(&err, OutputError::Protected { .. }), "{err:?}");
    }
    assert_eq!(fs::read_to_string(&spec).unwrap(), "[project]\n");
}

#[test]
fn temporary_names_are_unique_and_leftovers_of_killed_runs_are_cleared() {
    let a = super::write::tmp_name("x.yml");
    let b = super::write::tmp_name("x.yml");
    assert_ne!(a, b);
    let pid = std::process::id().to_string();
    assert!(a.starts_with(".x.yml.") && a.contains(&pid) && a.ends_with(".harden-tmp"));
    assert!(super::write::is_tmp_name(&a));
    for not_tmp in [
        ".x.yml.harden-tmp",
        "x.yml",
        ".x.yml.12-a.harden-tmp",
        ".x.12-.harden-tmp",
    ] {
        assert!(!super::write::is_tmp_name(not_tmp), "{not_tmp}");
    }

    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    fs::create_dir(dir.join("k8s")).unwrap();
    fs::write(dir.join("k8s/.hpa.yaml.4242-7.harden-tmp"), "half").unwrap();
    fs::write(dir.join("k8s/.hpa.yaml.harden-tmp"), "half").unwrap();
    fs::write(dir.join("k8s/notes.harden-tmp"), "the user's").unwrap();
    let set = set_of(&[("k8s/hpa.yaml", "hpa\n")]);
    write(&set, dir, &NO_FORCE).unwrap();
    let mut expected = expected_tree(&set);
    expected.insert("k8s/notes.harden-tmp".into(), "the user's".into());
    assert_eq!(tree(dir), expected);
}

#[cfg(unix)]
#[test]
fn replace_file_is_atomic_keeps_permissions_and_never_follows_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new().unwrap();
    let report = tmp.path().join("report.md");
    replace_file(&report, b"one\n").unwrap();
    fs::set_permissions(&report, fs::Permissions::from_mode(0o600)).unwrap();
    replace_file(&report, b"two\n").unwrap();
    assert_eq!(fs::read_to_string(&report).unwrap(), "two\n");
    let mode = fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let target = tmp.path().join("precious");
    fs::write(&target, "keep\n").unwrap();
    let link = tmp.path().join("link.md");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = replace_file(&link, b"report\n").unwrap_err();
    assert!(
        matches!(
            &err,
            OutputError::Obstructed {
                found: "a symbolic link",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep\n");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let err = replace_file(tmp.path(), b"x").unwrap_err();
    assert!(
        matches!(
            &err,
            OutputError::Obstructed {
                found: "a directory",
                ..
            }
        ),
        "{err:?}"
    );

    replace_file(Path::new("/dev/null"), b"discarded\n").unwrap();
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".harden-tmp")),
        "{names:?}"
    );
}
