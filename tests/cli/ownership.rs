//! What `generate` may overwrite or delete (issue 21): only a file whose
//! contents still hash to what the manifest recorded harden wrote; never the
//! spec, never a file the manifest names but harden cannot prove it wrote.
//! Also the bounded spec read and `check --output`'s atomic write.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::*;

const STARTER: &str = include_str!("../../templates/init/hardening.toml");

/// A directory holding the starter spec, generated into that same directory.
fn generated_starter() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("hardening.toml");
    fs::write(&spec, STARTER).expect("write spec");
    harden(&["generate", &spec.to_string_lossy()]).success();
    (dir, spec)
}

fn manifest(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join(".harden-manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest is JSON")
}

fn set_manifest(dir: &Path, value: &serde_json::Value) {
    fs::write(
        dir.join(".harden-manifest.json"),
        serde_json::to_string_pretty(value).expect("json"),
    )
    .expect("write manifest");
}

fn add_entries(dir: &Path, entries: &[serde_json::Value]) {
    let mut value = manifest(dir);
    let files = value["files"].as_array_mut().expect("files");
    files.extend(entries.iter().cloned());
    set_manifest(dir, &value);
}

#[test]
fn the_manifest_records_the_sha256_of_every_file_harden_wrote() {
    let (dir, _spec) = generated_starter();
    let value = manifest(dir.path());
    let files = value["files"].as_array().expect("files");
    assert!(files.len() > 10, "{value}");
    for entry in files {
        let path = entry["path"].as_str().expect("path");
        let bytes = fs::read(dir.path().join(path)).expect("listed file exists");
        let recorded = entry["sha256"].as_str().expect("every entry has a sha256");
        assert_eq!(recorded.len(), 64, "{path}");
        assert!(entry.get("previous_sha256").is_none(), "{entry}");
        // The same digest sha256sum gives, where it is installed.
        if path == "docker-compose.yml"
            && let Ok(out) = std::process::Command::new("sha256sum")
                .arg(dir.path().join(path))
                .output()
        {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stdout.starts_with(recorded), "{stdout} vs {recorded}");
        }
        assert!(!bytes.is_empty(), "{path}");
    }
}

/// Issue 21: a hand-edited manifest listing the spec and a user's file made
/// generate delete both. Listed without a hash, or with one that does not
/// match, neither is deleted; the spec not even with --force.
#[test]
fn a_hand_edited_manifest_cannot_delete_the_spec_or_a_users_notes() {
    let (dir, spec) = generated_starter();
    let notes = dir.path().join("notes.md");
    fs::write(&notes, "my notes\n").expect("write notes");
    let clean = manifest(dir.path());
    let spec_arg = spec.to_string_lossy().into_owned();

    add_entries(
        dir.path(),
        &[serde_json::json!({"path": "notes.md", "mode": "0644"})],
    );
    let run = harden(&["generate", &spec_arg]).code(2);
    assert!(
        run.stderr.contains("notes.md") && run.stderr.contains("without a content hash"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);

    set_manifest(dir.path(), &clean);
    add_entries(
        dir.path(),
        &[serde_json::json!({"path": "notes.md", "mode": "0644", "sha256": "0".repeat(64)})],
    );
    let run = harden(&["generate", &spec_arg]).code(2);
    assert!(
        run.stderr
            .contains("notes.md was changed since harden wrote it"),
        "{}",
        run.stderr
    );

    for entry in [
        serde_json::json!({"path": "hardening.toml", "mode": "0644"}),
        serde_json::json!({"path": "hardening.toml", "mode": "0644",
            "sha256": sha256_of(&spec)}),
    ] {
        set_manifest(dir.path(), &clean);
        add_entries(dir.path(), &[entry]);
        let run = harden(&["generate", &spec_arg]).code(2);
        assert!(
            run.stderr.contains("refusing to delete hardening.toml")
                && run.stderr.contains("even with --force"),
            "{}",
            run.stderr
        );
        let run = harden(&["generate", &spec_arg, "--force"]).success();
        assert!(
            run.stdout.contains("kept      hardening.toml"),
            "{}",
            run.stdout
        );
        assert!(!run.stdout.contains("removed   "), "{}", run.stdout);
        assert_eq!(fs::read_to_string(&spec).expect("spec"), STARTER);
    }
    assert_eq!(fs::read_to_string(&notes).expect("notes"), "my notes\n");
    harden(&["diff", &spec_arg]).success();
}

/// The digest the manifest would record, computed by the tool users have.
fn sha256_of(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs (coreutils)");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

/// Issue 21: turning a platform off deleted the user's edited
/// docker-compose.yml although `diff` only called it stale.
#[test]
fn an_edited_file_of_a_platform_turned_off_is_kept_without_force() {
    let (dir, spec) = generated_starter();
    let spec_arg = spec.to_string_lossy().into_owned();
    let compose = dir.path().join("docker-compose.yml");
    let mut edited = fs::read_to_string(&compose).expect("compose");
    edited.push_str("# tuned by hand\n");
    fs::write(&compose, &edited).expect("edit");
    fs::write(&spec, STARTER.replace("[platform.compose]\n", "")).expect("spec");

    let diff = harden(&["diff", &spec_arg]).code(1);
    assert!(
        diff.stdout.contains("stale     docker-compose.yml"),
        "{}",
        diff.stdout
    );
    let before = read_tree(dir.path());
    let run = harden(&["generate", &spec_arg]).code(2);
    assert!(
        run.stderr
            .contains("docker-compose.yml was changed since harden wrote it")
            && run.stderr.contains("--force to delete it"),
        "{}",
        run.stderr
    );
    assert_eq!(read_tree(dir.path()), before, "nothing is written");

    let run = harden(&["generate", &spec_arg, "--force"]).success();
    assert!(
        run.stdout.contains("removed   docker-compose.yml"),
        "{}",
        run.stdout
    );
    harden(&["diff", &spec_arg]).success();
}

/// An unedited file of a platform turned off is still removed without --force.
#[test]
fn an_untouched_file_of_a_platform_turned_off_is_removed() {
    let (dir, spec) = generated_starter();
    let spec_arg = spec.to_string_lossy().into_owned();
    fs::write(&spec, STARTER.replace("[platform.compose]\n", "")).expect("spec");
    let run = harden(&["generate", &spec_arg]).success();
    assert!(
        run.stdout.contains("removed   docker-compose.yml"),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("docker-compose.yml").exists());
}

#[test]
fn an_edited_generated_file_is_not_overwritten_without_force() {
    let (dir, spec) = generated_starter();
    let spec_arg = spec.to_string_lossy().into_owned();
    let prometheus = dir.path().join("prometheus/prometheus.yml");
    fs::write(&prometheus, "# mine now\n").expect("edit");
    let run = harden(&["generate", &spec_arg]).code(2);
    assert!(
        run.stderr
            .contains("prometheus/prometheus.yml was changed since harden wrote it"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(&prometheus).expect("read"),
        "# mine now\n"
    );
    harden(&["generate", &spec_arg, "--force"]).success();
    harden(&["diff", &spec_arg]).success();
}

/// A manifest written before hashes were recorded keeps working: what
/// harden would write unchanged is adopted and the hashes are recorded.
#[test]
fn an_old_format_manifest_is_upgraded_by_an_unchanged_generate() {
    let (dir, spec) = generated_starter();
    let spec_arg = spec.to_string_lossy().into_owned();
    let mut value = manifest(dir.path());
    let with_hashes = value.clone();
    for entry in value["files"].as_array_mut().expect("files") {
        entry.as_object_mut().expect("entry").remove("sha256");
    }
    set_manifest(dir.path(), &value);
    harden(&["diff", &spec_arg]).success();
    let run = harden(&["generate", &spec_arg]).success();
    assert!(run.stdout.contains("0 written"), "{}", run.stdout);
    assert_eq!(manifest(dir.path()), with_hashes);

    // A changed file listed without a hash cannot be told from a user's edit.
    value["files"]
        .as_array_mut()
        .expect("files")
        .retain(|e| e["path"] != "docker-compose.yml");
    let mut compose = with_hashes["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|e| e["path"] == "docker-compose.yml")
        .expect("compose entry")
        .clone();
    compose.as_object_mut().expect("entry").remove("sha256");
    value["files"].as_array_mut().expect("files").push(compose);
    set_manifest(dir.path(), &value);
    fs::write(dir.path().join("docker-compose.yml"), "services: {}\n").expect("write");
    let run = harden(&["generate", &spec_arg]).code(2);
    assert!(
        run.stderr.contains(
            "docker-compose.yml is listed in .harden-manifest.json without a content hash"
        ),
        "{}",
        run.stderr
    );
}

/// Issue 21: a spec path of /dev/zero was read without limit.
#[cfg(unix)]
#[test]
fn a_spec_past_16_mib_is_refused_without_reading_on() {
    for command in ["validate", "generate"] {
        let started = std::time::Instant::now();
        let run = harden(&[command, "/dev/zero"]).code(2);
        assert!(
            run.stderr.contains("spec-too-large")
                && run.stderr.contains("16 MiB")
                && run.stderr.contains("/dev/zero"),
            "{}",
            run.stderr
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("hardening.toml");
    let mut text = STARTER.to_string();
    text.push_str(&"# padding\n".repeat(1_700_000));
    fs::write(&big, text).expect("write");
    let run = harden(&["validate", &big.to_string_lossy()]).code(2);
    assert!(run.stderr.contains("spec-too-large"), "{}", run.stderr);
}

/// `check --output` replaces its file atomically and never writes through a symlink.
#[cfg(unix)]
#[test]
fn check_output_is_written_atomically_and_never_through_a_symlink() {
    let (dir, spec) = generated_starter();
    let spec_arg = spec.to_string_lossy().into_owned();
    let reports = tempfile::tempdir().expect("tempdir");
    let report = reports.path().join("report.md");
    fs::write(&report, "old report\n").expect("write");
    harden(&["check", &spec_arg, "--output", &report.to_string_lossy()]).success();
    let text = fs::read_to_string(&report).expect("report");
    assert!(text.contains("Production Hardening Report"), "{text}");

    let precious = reports.path().join("precious.txt");
    fs::write(&precious, "keep\n").expect("write");
    let link = reports.path().join("link.md");
    std::os::unix::fs::symlink(&precious, &link).expect("symlink");
    let run = harden(&["check", &spec_arg, "--output", &link.to_string_lossy()]).code(2);
    assert!(
        run.stderr.contains("link.md") && run.stderr.contains("a symbolic link"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&precious).expect("read"), "keep\n");
    let names: Vec<String> = fs::read_dir(reports.path())
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("harden-tmp")),
        "no temporary file is left: {names:?}"
    );
    drop(dir);
}
