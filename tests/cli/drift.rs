//! `harden diff` and `harden generate` on a tree: drift is found, named and
//! shown; exit codes say what happened; nothing is written for a bad spec.

use std::fs;
use std::path::Path;

use crate::support::*;

fn app_oint() -> String {
    root()
        .join("examples/app-oint/hardening.toml")
        .to_string_lossy()
        .into_owned()
}

fn diff(out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "diff".to_string(),
        app_oint(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    harden(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn a_fresh_tree_has_no_drift() {
    let out = generate(&Spec::app_oint());
    let run = diff(out.path(), &[]).success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("match"), "{}", run.stderr);
}

#[test]
fn an_edited_file_is_named_with_a_unified_diff() {
    let out = generate(&Spec::app_oint());
    let path = out.path().join("prometheus/prometheus.yml");
    let text = fs::read_to_string(&path).expect("read");
    fs::write(
        &path,
        text.replace("scrape_interval: 15s", "scrape_interval: 1m"),
    )
    .expect("write");
    let run = diff(out.path(), &[]).code(1);
    assert!(
        run.stdout.contains("--- a/prometheus/prometheus.yml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+++ b/prometheus/prometheus.yml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("-  scrape_interval: 1m"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+  scrape_interval: 15s"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("prometheus/prometheus.yml"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: run `harden generate"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_drift_is_reported_not_only_the_first() {
    let out = generate(&Spec::app_oint());
    fs::remove_file(out.path().join("prometheus/prometheus.yml")).expect("remove");
    // A file harden wrote earlier and no longer generates.
    fs::write(out.path().join("old.yml"), "x: 1\n").expect("write");
    let manifest_path = out.path().join(".harden-manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest_path).expect("manifest")).expect("json");
    manifest["files"]
        .as_array_mut()
        .expect("files")
        // A file harden wrote earlier: listed with the hash of what it wrote.
        .push(serde_json::json!({"path": "old.yml", "mode": "0644",
            "sha256": "d09edadd173a8bbc233d47dcafc30cc876af2fb569812f2bbe0e92a1905bbce8"}));
    fs::write(
        &manifest_path,
        serde_json::to_string_pretty(&manifest).expect("json"),
    )
    .expect("write");

    let run = diff(out.path(), &[]).code(1);
    assert!(
        run.stdout.contains("missing   prometheus/prometheus.yml"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("stale     old.yml"), "{}", run.stdout);
    assert!(run.stderr.contains("2 files"), "{}", run.stderr);

    let json = diff(out.path(), &["--format", "json"]).code(1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON report");
    assert_eq!(report["clean"], false);
    let kinds: Vec<(&str, &str)> = report["drifts"]
        .as_array()
        .expect("drifts")
        .iter()
        .map(|d| {
            (
                d["path"].as_str().expect("path"),
                d["kind"].as_str().expect("kind"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("old.yml", "stale"),
            ("prometheus/prometheus.yml", "missing")
        ]
    );

    // generate repairs the tree: the file comes back, the stale one goes.
    let run = harden(&[
        "generate",
        &app_oint(),
        "--out",
        &out.path().to_string_lossy(),
    ])
    .success();
    assert!(run.stdout.contains("removed   old.yml"), "{}", run.stdout);
    assert!(!out.path().join("old.yml").exists());
    diff(out.path(), &[]).success();
}

#[test]
fn an_invalid_spec_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("hardening.toml");
    fs::write(&spec, "[project]\nname = \"Bad Name\"\n").expect("write");
    let out = dir.path().join("out");
    for command in ["generate", "diff", "validate"] {
        let mut args = vec![command, spec.to_str().expect("utf-8 path")];
        if command != "validate" {
            args.extend(["--out", out.to_str().expect("utf-8 path")]);
        }
        let run = harden(&args).code(2);
        assert!(run.stderr.contains("project.name"), "{}", run.stderr);
        assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    }
    assert!(
        !out.exists(),
        "an invalid spec must not create the output directory"
    );
}

#[test]
fn a_users_own_file_is_never_overwritten_without_force() {
    let out = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(out.path().join("prometheus")).expect("mkdir");
    let mine = out.path().join("prometheus/prometheus.yml");
    fs::write(&mine, "# my own config\n").expect("write");
    let run = harden(&[
        "generate",
        &app_oint(),
        "--out",
        &out.path().to_string_lossy(),
    ])
    .code(2);
    assert!(
        run.stderr.contains("was not written by harden"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(&mine).expect("read"),
        "# my own config\n"
    );
    harden(&[
        "generate",
        &app_oint(),
        "--out",
        &out.path().to_string_lossy(),
        "--force",
    ])
    .success();
    assert_ne!(
        fs::read_to_string(&mine).expect("read"),
        "# my own config\n"
    );
}

#[test]
fn a_missing_spec_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = harden_in(dir.path(), &["validate"]).code(2);
    assert!(
        run.stderr.contains("no hardening.toml found"),
        "{}",
        run.stderr
    );
    // It says where it looked: here first.
    let here = dir
        .path()
        .canonicalize()
        .expect("canonical")
        .join("hardening.toml");
    assert!(
        run.stderr.contains(&here.display().to_string()),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("harden init"), "{}", run.stderr);
    // A spec named on the command line that is not there.
    let run = harden_in(dir.path(), &["validate", "nope.toml"]).code(2);
    assert!(
        run.stderr.contains("cannot read nope.toml"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_spec_directory_is_the_default_output_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::copy(app_oint(), dir.path().join("hardening.toml")).expect("copy");
    harden_in(dir.path(), &["generate"]).success();
    assert!(dir.path().join("prometheus/prometheus.yml").is_file());
    harden_in(dir.path(), &["diff"]).success();
}

#[test]
fn template_overrides_replace_builtins_and_typos_are_errors() {
    let templates = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(templates.path().join("prometheus")).expect("mkdir");
    fs::write(
        templates.path().join("prometheus/prometheus.yml.j2"),
        "# {{ header }}\n# custom\nglobal:\n  scrape_interval: {{ scrape_interval }}\n",
    )
    .expect("write");
    let out = tempfile::tempdir().expect("tempdir");
    let (t, o) = (
        templates.path().to_string_lossy(),
        out.path().to_string_lossy(),
    );
    harden(&["generate", &app_oint(), "--out", &o, "--templates", &t]).success();
    let text = fs::read_to_string(out.path().join("prometheus/prometheus.yml")).expect("read");
    assert!(text.contains("# custom\n"), "{text}");

    fs::write(templates.path().join("prometheus/prometheus.yaml.j2"), "x").expect("write");
    let run = harden(&["generate", &app_oint(), "--out", &o, "--templates", &t]).code(2);
    assert!(
        run.stderr.contains("prometheus/prometheus.yaml.j2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("not a template harden uses"),
        "{}",
        run.stderr
    );

    // A template that references a value the context lacks fails, naming it.
    fs::remove_file(templates.path().join("prometheus/prometheus.yaml.j2")).expect("rm");
    fs::write(
        templates.path().join("prometheus/prometheus.yml.j2"),
        "x: {{ nope }}\n",
    )
    .expect("write");
    let run = harden(&["generate", &app_oint(), "--out", &o, "--templates", &t]).code(2);
    assert!(
        run.stderr.contains("prometheus/prometheus.yml.j2"),
        "{}",
        run.stderr
    );

    // A template that renders invalid YAML is caught before anything is written.
    fs::write(
        templates.path().join("prometheus/prometheus.yml.j2"),
        "a: [unclosed\n",
    )
    .expect("write");
    let run = harden(&["generate", &app_oint(), "--out", &o, "--templates", &t]).code(2);
    assert!(run.stderr.contains("is not valid YAML"), "{}", run.stderr);
}
