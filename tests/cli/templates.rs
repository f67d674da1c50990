//! Template overrides that every command keeps: `[generate] templates` in
//! the spec, `harden templates list/export` to start one, one partial for
//! the labels of every Kubernetes object, and misspelt overrides refused
//! with the close names.

use std::fs;
use std::path::Path;

use crate::support::*;

/// The label partial every Kubernetes object includes.
const LABELS: &str = "kubernetes/labels.yaml.j2";

/// A repository holding App-Oint's spec in `deploy/` (its `[ci] directory`)
/// with `[generate] templates = "harden-templates"` and the labels partial
/// exported there and edited to add `team: payments` to every object.
fn repository_with_override() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("tempdir");
    let deploy = repo.path().join("deploy");
    fs::create_dir_all(repo.path().join(".git")).expect("mkdir .git");
    fs::create_dir_all(&deploy).expect("mkdir deploy");
    let mut spec = app_oint_in_deploy();
    spec.push_str("\n[generate]\ntemplates = \"harden-templates\"\n");
    fs::write(deploy.join("hardening.toml"), spec).expect("write spec");
    harden_in(&deploy, &["templates", "export", LABELS]).success();
    let partial = deploy.join("harden-templates").join(LABELS);
    let mut text = fs::read_to_string(&partial).expect("exported");
    text.push_str("    example.com/team: payments\n");
    fs::write(&partial, text).expect("edit override");
    repo
}

#[test]
fn an_override_recorded_in_the_spec_passes_generate_diff_check_and_the_ci_workflow() {
    let repo = repository_with_override();
    let deploy = repo.path().join("deploy");
    // From a subdirectory: the spec is found upward, and no command needs a flag.
    let k8s = deploy.join("k8s");
    harden_in(&deploy, &["generate"]).success();
    harden_in(&k8s, &["diff"]).success();
    harden_in(&deploy, &["check"]).success();

    // One override changed the labels of every object, and no selector.
    let mut objects = 0;
    for (rel, bytes) in read_tree(&k8s) {
        if !rel.ends_with(".yaml") || rel.ends_with("kustomization.yaml") {
            continue;
        }
        let text = String::from_utf8(bytes).expect("utf-8");
        for doc in text.split("\n---\n") {
            let value: serde_json::Value = serde_saphyr::from_str(doc).expect("yaml");
            if value.is_null() {
                continue;
            }
            objects += 1;
            assert_eq!(
                value["metadata"]["labels"]["example.com/team"], "payments",
                "k8s/{rel}"
            );
            let selector = &value["spec"]["selector"];
            assert!(
                !selector.to_string().contains("example.com/team"),
                "k8s/{rel}: {selector}"
            );
        }
    }
    assert!(objects > 20, "only {objects} objects");

    // The generated CI workflow's harden commands pass as written.
    let workflow = yaml(&repo.path().join(WORKFLOW));
    let directory = workflow["defaults"]["run"]["working-directory"]
        .as_str()
        .expect("working-directory");
    let bin = Path::new(env!("CARGO_BIN_EXE_harden"))
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for step in workflow["jobs"]["harden"]["steps"]
        .as_array()
        .expect("steps")
    {
        let Some(run) = step["run"].as_str().filter(|r| r.starts_with("harden ")) else {
            continue;
        };
        let status = std::process::Command::new("sh")
            .args(["-c", run])
            .current_dir(repo.path().join(directory))
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh runs");
        assert!(
            status.status.success(),
            "{run}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 2, "the workflow runs harden diff and check");

    // Without the override, the same tree has drifted: the spec's override is what diff used.
    let spec = fs::read_to_string(deploy.join("hardening.toml")).expect("spec");
    fs::write(
        deploy.join("hardening.toml"),
        spec.replace("[generate]\ntemplates = \"harden-templates\"\n", ""),
    )
    .expect("write");
    harden_in(&deploy, &["diff"]).code(1);
}

#[test]
fn the_flag_overrides_the_spec_and_a_missing_directory_names_the_key() {
    let repo = repository_with_override();
    let deploy = repo.path().join("deploy");
    // --templates replaces the spec's directory for the run: here an empty one.
    let empty = tempfile::tempdir().expect("tempdir");
    harden_in(
        &deploy,
        &["generate", "--templates", &empty.path().to_string_lossy()],
    )
    .success();
    let ns = fs::read_to_string(deploy.join("k8s/namespace.yaml")).expect("namespace");
    assert!(!ns.contains("example.com/team"), "{ns}");
    harden_in(&deploy, &["diff"]).code(1);

    fs::remove_dir_all(deploy.join("harden-templates")).expect("rm");
    let run = harden_in(&deploy, &["diff"]).code(2);
    assert!(
        run.stderr.contains("[generate] templates"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("harden-templates"), "{}", run.stderr);
}

#[test]
fn templates_list_names_every_template_and_export_writes_them_as_built_in() {
    let run = harden(&["templates", "list"]).success();
    let names: Vec<&str> = run.stdout.lines().collect();
    assert!(names.contains(&LABELS), "{names:?}");
    assert!(
        names.contains(&"kubernetes/deployment.yaml.j2"),
        "{names:?}"
    );
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    let dir = tempfile::tempdir().expect("tempdir");
    let to = dir.path().join("t");
    let to_arg = to.to_string_lossy();
    harden(&[
        "templates",
        "export",
        LABELS,
        "prometheus/prometheus.yml.j2",
        "--to",
        &to_arg,
    ])
    .success();
    assert_eq!(
        fs::read_to_string(to.join(LABELS)).expect("exported"),
        fs::read_to_string(root().join("templates").join(LABELS)).expect("built-in")
    );
    assert!(to.join("prometheus/prometheus.yml.j2").is_file());
    // Never over a file: an edited override survives a second export.
    fs::write(to.join(LABELS), "edited").expect("edit");
    let run = harden(&["templates", "export", LABELS, "--to", &to_arg]).code(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(to.join(LABELS)).expect("kept"), "edited");
    // A misspelt name is refused with the close names, and nothing is written.
    let run = harden(&[
        "templates",
        "export",
        "kubernetes/label.yaml.j2",
        "--to",
        &to_arg,
    ])
    .code(2);
    assert!(
        run.stderr
            .contains("did you mean `kubernetes/labels.yaml.j2`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_override_matching_no_template_is_an_error_naming_the_close_names() {
    let repo = repository_with_override();
    let deploy = repo.path().join("deploy");
    let overrides = deploy.join("harden-templates");
    fs::rename(
        overrides.join(LABELS),
        overrides.join("kubernetes/label.yaml.j2"),
    )
    .expect("mv");
    let run = harden_in(&deploy, &["generate"]).code(2);
    assert!(
        run.stderr
            .contains("`kubernetes/label.yaml.j2` is not a template harden uses"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("did you mean `kubernetes/labels.yaml.j2`"),
        "{}",
        run.stderr
    );
    assert!(!deploy.join("k8s").exists(), "nothing is written");
}

/// Without `--to`, export writes into the `[generate] templates` of the
/// spec found as every command finds it (here from a subdirectory); a spec
/// without the key, or no spec, is an error saying what to do, and nothing
/// is written.
#[test]
fn export_defaults_to_the_specs_templates_directory() {
    let repo = tempfile::tempdir().expect("tempdir");
    let deploy = repo.path().join("deploy");
    let sub = deploy.join("k8s");
    fs::create_dir_all(repo.path().join(".git")).expect("mkdir .git");
    fs::create_dir_all(&sub).expect("mkdir");
    let spec = app_oint_in_deploy();
    fs::write(deploy.join("hardening.toml"), &spec).expect("spec");

    let run = harden_in(&sub, &["templates", "export", LABELS]).code(2);
    assert!(
        run.stderr.contains(
            "../hardening.toml has no [generate] templates, the directory of template overrides that generate, diff and check read: add"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("templates = \"harden-templates\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("or pass --to DIR"), "{}", run.stderr);
    assert_eq!(read_tree(repo.path()).len(), 1, "nothing written");

    fs::write(
        deploy.join("hardening.toml"),
        format!("{spec}\n[generate]\ntemplates = \"overrides/k8s\"\n"),
    )
    .expect("spec");
    let run = harden_in(&sub, &["templates", "export", LABELS]).success();
    let written = deploy.join("overrides/k8s").join(LABELS);
    assert_eq!(
        fs::read_to_string(&written).expect("exported beside the spec"),
        fs::read_to_string(root().join("templates").join(LABELS)).expect("built-in")
    );
    assert!(
        run.stdout
            .contains("[generate] templates in ../hardening.toml"),
        "{}",
        run.stdout
    );
    assert!(!sub.join("overrides").exists() && !sub.join("harden-templates").exists());
    harden_in(&sub, &["generate"]).success();
    harden_in(&sub, &["diff"]).success();

    let empty = tempfile::tempdir().expect("tempdir");
    fs::create_dir(empty.path().join(".git")).expect("mkdir .git");
    let run = harden_in(empty.path(), &["templates", "export", LABELS]).code(2);
    assert!(
        run.stderr.contains("no hardening.toml found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("or pass --to DIR to export without a spec"),
        "{}",
        run.stderr
    );
    assert!(read_tree(empty.path()).is_empty());
}
