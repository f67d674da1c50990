//! The file system as users meet it: unwritable and odd output directories,
//! symlinks, a user's own files, a hand-edited manifest, and a `generate`
//! that stops half-way. harden never loses a file and the next run repairs.

use std::fs;
use std::path::Path;

use crate::support::*;

fn app_oint() -> String {
    root()
        .join("examples/app-oint/hardening.toml")
        .to_string_lossy()
        .into_owned()
}

/// `harden generate` of App-Oint into `out`, with `extra` arguments.
fn generate_into(out: &Path, extra: &[&str]) -> Run {
    let out = out.to_string_lossy();
    let mut args = vec!["generate", "--out", &out];
    let spec = app_oint();
    args.insert(1, &spec);
    args.extend(extra);
    harden(&args)
}

#[test]
fn an_output_path_that_is_a_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("out");
    fs::write(&file, "not a directory\n").expect("write");
    let run = generate_into(&file, &[]).code(2);
    assert!(run.stderr.contains("is not a directory"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(&file).expect("read"),
        "not a directory\n"
    );
}

/// Root ignores permission bits, so an unwritable place is taken from a
/// file system that refuses everyone: /proc.
#[test]
fn an_unwritable_output_directory_is_a_clear_error() {
    let run = generate_into(Path::new("/proc/harden-test-out"), &[]).code(2);
    assert!(
        run.stderr.contains("/proc/harden-test-out"),
        "{}",
        run.stderr
    );
    // After the spec's warnings (the example has one), one error line.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("error: ") && l.contains("/proc/harden-test-out")),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn an_output_directory_reached_through_a_symlink_is_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("real");
    fs::create_dir(&real).expect("mkdir");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    generate_into(&link, &[]).success();
    assert!(real.join("prometheus/prometheus.yml").is_file());
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_tree_are_never_followed() {
    let out = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(elsewhere.path(), out.path().join("prometheus")).expect("symlink");
    let run = generate_into(out.path(), &["--force"]).code(2);
    assert!(run.stderr.contains("symlink"), "{}", run.stderr);
    assert_eq!(fs::read_dir(elsewhere.path()).expect("read").count(), 0);
    assert!(
        !out.path().join(".harden-manifest.json").exists(),
        "nothing is written"
    );
}

#[test]
fn a_corrupt_manifest_stops_generate_until_forced() {
    let out = generate(&Spec::app_oint());
    let manifest = out.path().join(".harden-manifest.json");
    fs::write(&manifest, "{ this is not json").expect("write");
    let run = generate_into(out.path(), &[]).code(2);
    assert!(
        run.stderr.contains(".harden-manifest.json"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    generate_into(out.path(), &["--force"]).success();
    harden(&["diff", &app_oint(), "--out", &out.path().to_string_lossy()]).success();
}

#[test]
fn a_manifest_naming_files_outside_the_tree_deletes_nothing() {
    let parent = tempfile::tempdir().expect("tempdir");
    let out = parent.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    let outside = parent.path().join("precious.txt");
    fs::write(&outside, "keep me\n").expect("write");
    fs::write(
        out.join(".harden-manifest.json"),
        r#"{"generated_by": "harden", "files": [{"path": "../precious.txt", "mode": "0644"}]}"#,
    )
    .expect("write");
    generate_into(&out, &[]).code(2);
    generate_into(&out, &["--force"]).success();
    assert_eq!(fs::read_to_string(&outside).expect("read"), "keep me\n");
}

/// A run that stops half-way (here: the temporary file for one target
/// cannot be created) leaves every file old or new, and the next run
/// brings the tree to exactly what the spec generates.
#[test]
fn an_interrupted_generate_is_repaired_by_the_next_run() {
    let out = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(
        out.path()
            .join("prometheus/.prometheus.yml.harden-tmp/blocker"),
    )
    .expect("mkdir");
    let run = generate_into(out.path(), &[]).code(2);
    assert!(run.stderr.contains("prometheus"), "{}", run.stderr);
    // Files written before the failure are complete and owned.
    let manifest = fs::read_to_string(out.path().join(".harden-manifest.json")).expect("manifest");
    assert!(manifest.contains("prometheus/prometheus.yml"), "{manifest}");
    for (path, bytes) in read_tree(out.path()) {
        if path.ends_with(".yml") {
            serde_saphyr::from_str::<serde_json::Value>(&String::from_utf8_lossy(&bytes))
                .unwrap_or_else(|e| panic!("{path} is half-written: {e}"));
        }
    }
    fs::remove_dir_all(out.path().join("prometheus/.prometheus.yml.harden-tmp")).expect("rm");
    generate_into(out.path(), &[]).success();
    harden(&["diff", &app_oint(), "--out", &out.path().to_string_lossy()]).success();
}
