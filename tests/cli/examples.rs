//! The bundled examples: determinism, the committed copies beside them,
//! and the per-target snapshots covering every generated file once.

use crate::support::*;

/// Every generated file of every example belongs to exactly one owner
/// (`support::OWNERS`), so the per-target snapshots together hold the
/// whole tree, each file once; and every owner has a file in App-Oint, so
/// no snapshot is empty.
#[test]
fn the_target_snapshots_cover_every_generated_file_once() {
    for tree in examples() {
        for path in tree.files() {
            let owners = owners_of(&path);
            assert_eq!(
                owners.len(),
                1,
                "{}: {path} belongs to {owners:?}, not to exactly one owner",
                tree.name()
            );
        }
    }
    let app_oint = generate(&Spec::app_oint());
    for owner in OWNERS {
        assert!(
            app_oint.generates(owner.name),
            "App-Oint has no file of {}",
            owner.name
        );
    }
}

/// The output set's own file, which belongs to no target.
#[test]
fn the_manifest_matches_its_snapshot() {
    assert_example_snapshots("manifest");
}

#[test]
fn generation_is_byte_identical_across_runs_and_directories() {
    for spec in example_specs() {
        let first = generate(&Spec::File(spec.clone()));
        let second = generate(&Spec::File(spec.clone()));
        assert_eq!(
            read_tree(first.path()),
            read_tree(second.path()),
            "{}",
            spec.display()
        );
    }
}

#[test]
fn generate_is_idempotent() {
    for spec in example_specs() {
        let out = generate(&Spec::File(spec.clone()));
        let before = read_tree(out.path());
        let run = harden(&[
            "generate",
            &spec.to_string_lossy(),
            "--out",
            &out.path().to_string_lossy(),
        ])
        .success();
        assert!(
            !run.stdout.contains("wrote"),
            "second run rewrote files:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("0 written"), "{}", run.stdout);
        assert_eq!(before, read_tree(out.path()));
    }
}

/// The tree committed beside each example is what its spec generates, as
/// `harden diff` in CI checks.
#[test]
fn committed_example_trees_are_current() {
    for spec in example_specs() {
        harden(&["diff", &spec.to_string_lossy()]).success();
    }
}
