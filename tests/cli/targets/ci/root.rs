//! With `[ci] directory = "deploy"` the spec and its files live in the
//! repository's `deploy/`, and the workflow at the repository root, where
//! GitHub runs it: generate writes it there, diff and check read it there,
//! and harden writes nothing else outside the output directory, never over a
//! workflow of the user's.

use std::fs;
use std::path::Path;

use crate::support::*;

/// A repository (it has a `.git`) with App-Oint in `deploy/`.
fn repository() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("tempdir");
    fs::create_dir(repo.path().join(".git")).expect(".git");
    fs::create_dir(repo.path().join("deploy")).expect("deploy");
    fs::write(
        repo.path().join("deploy/hardening.toml"),
        app_oint_in_deploy(),
    )
    .expect("spec");
    repo
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_workflow_is_generated_at_the_repository_root_and_diff_and_check_read_it_there() {
    let repo = repository();
    let root = repo.path();
    let deploy = root.join("deploy");
    let run = harden_in(&deploy, &["generate"]).success();
    assert!(
        run.stdout
            .contains("wrote     ../.github/workflows/harden.yml"),
        "{}",
        run.stdout
    );
    assert!(
        !deploy.join(".github").exists(),
        "nothing under deploy/.github"
    );
    let workflow = yaml(&root.join(WORKFLOW));
    assert_eq!(workflow["defaults"]["run"]["working-directory"], "deploy");
    let manifest = read(&deploy.join(".harden-manifest.json"));
    assert!(
        manifest.contains("\"path\": \"../.github/workflows/harden.yml\""),
        "{manifest}"
    );

    // What the workflow runs, where it runs it; and the same from the root.
    harden_in(&deploy, &["diff", "--format", "github", "hardening.toml"]).success();
    harden_in(&deploy, &["check", "--format", "github", "hardening.toml"]).success();
    harden_in(root, &["diff", "deploy/hardening.toml"]).success();
    let check = harden_in(root, &["check", "deploy/hardening.toml"]).success();
    assert!(
        check
            .stdout
            .contains("Generated file ../.github/workflows/harden.yml"),
        "{}",
        check.stdout
    );

    // An edit of the root workflow is drift, which diff and check name.
    let text = read(&root.join(WORKFLOW));
    fs::write(
        root.join(WORKFLOW),
        text.replace("timeout-minutes: 30", "timeout-minutes: 31"),
    )
    .expect("edit");
    let diff = harden_in(&deploy, &["diff"]).code(1);
    assert!(
        diff.stdout
            .contains("+++ b/../.github/workflows/harden.yml"),
        "{}",
        diff.stdout
    );
    harden_in(&deploy, &["check"]).code(1);
    // Edited, it is the user's: generate refuses it without --force.
    let run = harden_in(&deploy, &["generate"]).code(2);
    assert!(
        run.stderr
            .contains("../.github/workflows/harden.yml was changed since harden wrote it"),
        "{}",
        run.stderr
    );
    assert!(read(&root.join(WORKFLOW)).contains("timeout-minutes: 31"));
    harden_in(&deploy, &["generate", "--force"]).success();
    harden_in(&deploy, &["diff"]).success();

    // Without [ci] the workflow harden wrote is removed, and the directories
    // it made with it; a workflow of the user's beside it stays.
    fs::write(root.join(".github/workflows/tests.yml"), "name: tests\n").expect("user's");
    let spec = read(&deploy.join("hardening.toml"));
    let (before, _) = spec.split_once("\n[ci]\n").expect("[ci]");
    fs::write(deploy.join("hardening.toml"), format!("{before}\n")).expect("spec");
    let run = harden_in(&deploy, &["generate"]).success();
    assert!(
        run.stdout
            .contains("removed   ../.github/workflows/harden.yml"),
        "{}",
        run.stdout
    );
    assert!(!root.join(WORKFLOW).exists());
    assert_eq!(
        read(&root.join(".github/workflows/tests.yml")),
        "name: tests\n"
    );
    fs::remove_file(root.join(".github/workflows/tests.yml")).expect("rm");
    fs::write(deploy.join("hardening.toml"), app_oint_in_deploy()).expect("spec");
    harden_in(&deploy, &["generate"]).success();
    fs::write(deploy.join("hardening.toml"), format!("{before}\n")).expect("spec");
    harden_in(&deploy, &["generate"]).success();
    assert!(
        !root.join(".github").exists(),
        "the empty .github/ is pruned"
    );
}

#[test]
fn a_workflow_harden_did_not_write_at_the_root_is_refused_and_nothing_is_written() {
    let repo = repository();
    let root = repo.path();
    let deploy = root.join("deploy");
    fs::create_dir_all(root.join(".github/workflows")).expect("workflows");
    let mine = "name: harden\non: push\njobs: {}\n";
    fs::write(root.join(WORKFLOW), mine).expect("user's workflow");
    let run = harden_in(&deploy, &["generate"]).code(2);
    assert!(
        run.stderr.contains(
            "../.github/workflows/harden.yml exists and was not written by harden; move it away or re-run with --force"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(read(&root.join(WORKFLOW)), mine);
    assert_eq!(
        read_tree(&deploy)
            .into_iter()
            .map(|(p, _)| p)
            .collect::<Vec<_>>(),
        ["hardening.toml"],
        "nothing half-written"
    );
    // diff reports it as drift; it never writes.
    harden_in(&deploy, &["diff"]).code(1);
    assert_eq!(read(&root.join(WORKFLOW)), mine);
}

#[test]
fn an_output_directory_that_does_not_end_with_the_ci_directory_is_refused() {
    let repo = repository();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let out = elsewhere.path().join("out");
    for command in ["generate", "diff", "check"] {
        let run = harden_in(
            repo.path(),
            &[
                command,
                "deploy/hardening.toml",
                "--out",
                &out.to_string_lossy(),
            ],
        )
        .code(2);
        assert!(
            run.stderr.contains(&format!(
                "error: deploy/hardening.toml: the output directory {} does not end with `deploy`, the spec's [ci] directory",
                out.display()
            )),
            "{command}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("set [ci] directory to"),
            "{}",
            run.stderr
        );
    }
    assert!(!out.exists(), "nothing written");
    assert!(!elsewhere.path().join(".github").exists());
    assert!(!repo.path().join(".github").exists());
}
