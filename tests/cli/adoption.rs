//! Getting harden and running it in CI: harden's own release workflow and
//! GitHub Action pass actionlint, the Dockerfile passes hadolint and builds
//! the binary by the release's command, and the pre-commit hooks pass a
//! good spec and fail a broken one under the real `pre-commit`.
//!
//! No Docker engine runs here: the image is linted, not built.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The `cargo build` commands of a file (a `run:` or `RUN` line that starts with one).
fn cargo_builds(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            line.strip_prefix("run: ")
                .or_else(|| line.strip_prefix("RUN "))
                .and_then(|command| command.strip_prefix("cargo build "))
        })
        .map(|rest| {
            rest.split_whitespace()
                .take_while(|w| *w != "&&" && *w != "\\")
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn the_release_workflow_passes_actionlint_and_publishes_every_platform_with_sha256_sums() {
    let release = read(".github/workflows/release.yml");
    if let (Some(actionlint), Some(shellcheck)) = (validator("actionlint"), validator("shellcheck"))
    {
        actionlint_accepts(&actionlint, &shellcheck, &[("release.yml", &release)], &[]);
    }
    let workflow = yaml(&root().join(".github/workflows/release.yml"));
    assert_eq!(workflow["on"]["push"]["tags"], serde_json::json!(["v*"]));
    assert_eq!(workflow["permissions"]["contents"], "read");
    let build = &workflow["jobs"]["build"];
    let targets: Vec<&str> = build["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix")
        .iter()
        .map(|m| m["target"].as_str().expect("target"))
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc"
        ]
    );
    // The asset names the install script asks for.
    assert_eq!(
        build["env"]["ASSET"],
        "harden-${{ github.ref_name }}-${{ matrix.target }}"
    );
    let script = read("templates/ci/install-harden.sh.j2");
    assert!(script.contains("asset=\"harden-v$HARDEN_VERSION-$target.tar.gz\""));
    for target in &targets[..4] {
        assert!(script.contains(&format!("target={target} ;;")), "{target}");
    }
    let publish = &workflow["jobs"]["publish"];
    assert_eq!(publish["permissions"]["contents"], "write");
    let runs: Vec<&str> = publish["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("sha256sum -- harden-* >SHA256SUMS"))
    );
    assert!(
        runs.iter()
            .any(|r| r.contains("gh release create \"$GITHUB_REF_NAME\" dist/*"))
    );
    // The only job that may write is the one that publishes.
    assert!(build.get("permissions").is_none());
}

#[test]
fn the_action_is_usable_from_a_workflow_as_actionlint_reads_its_inputs() {
    let (Some(actionlint), Some(shellcheck)) = (validator("actionlint"), validator("shellcheck"))
    else {
        return;
    };
    let action = read("action.yml");
    let checkout = harden::targets::ci::ACTIONS
        .iter()
        .find(|a| a.name == "checkout")
        .expect("checkout is pinned");
    let usage = |inputs: &str| {
        format!(
            r#"name: harden
"on": pull_request
permissions:
  contents: read
jobs:
  harden:
    runs-on: ubuntu-24.04
    steps:
      - uses: {} # {}
        with:
          persist-credentials: false
      - uses: ./
        with:
{inputs}"#,
            checkout.uses, checkout.tag
        )
    };
    let good = usage(
        "          version: 0.1.0\n          args: check --format github hardening.toml\n          working-directory: deploy\n",
    );
    actionlint_accepts(
        &actionlint,
        &shellcheck,
        &[("harden.yml", &good)],
        &[("action.yml", &action)],
    );
    // actionlint reads action.yml: a missing required input is an error.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".git")).expect(".git");
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("workflows");
    std::fs::write(dir.path().join("action.yml"), &action).expect("action");
    std::fs::write(
        dir.path().join(".github/workflows/harden.yml"),
        usage("          args: validate\n"),
    )
    .expect("workflow");
    let out = Command::new(&actionlint)
        .arg("-no-color")
        .current_dir(dir.path())
        .output()
        .expect("actionlint runs");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("missing input \"version\" which is required by action \"harden\""),
        "{}",
        text(&out)
    );
}

#[test]
fn the_dockerfile_passes_hadolint_and_builds_by_the_release_command_as_non_root() {
    let dockerfile = read("Dockerfile");
    if let Some(hadolint) = validator("hadolint") {
        let out = Command::new(hadolint)
            .args(["--no-color", "--failure-threshold", "info", "-"])
            .stdin(std::fs::File::open(root().join("Dockerfile")).expect("Dockerfile"))
            .output()
            .expect("hadolint runs");
        assert_ok("hadolint Dockerfile", &out);
    }
    // The builder runs the release workflow's build, on its own (musl) target.
    let release = read(".github/workflows/release.yml");
    let mut released = cargo_builds(&release);
    assert_eq!(released.len(), 1, "{released:?}");
    let released = released.remove(0);
    let (target_flag, rest): (Vec<String>, Vec<String>) = released
        .into_iter()
        .partition(|w| w == "--target" || w == "\"$TARGET\"");
    assert_eq!(target_flag.len(), 2);
    assert_eq!(cargo_builds(&dockerfile), [rest]);
    assert!(dockerfile.contains("FROM rust:1.95-alpine AS build"));
    let rust_version = read("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version")
        .trim_matches('"')
        .to_string();
    assert!(dockerfile.contains(&format!("FROM rust:{rust_version}-alpine")));
    // The final stage: distroless static, a numeric non-root user, harden as the entrypoint.
    let last_stage = dockerfile.rsplit("\nFROM ").next().expect("stages");
    assert!(
        last_stage.starts_with("gcr.io/distroless/static"),
        "{last_stage}"
    );
    let user = last_stage
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER");
    let uid: u32 = user
        .split(':')
        .next()
        .and_then(|u| u.parse().ok())
        .expect("numeric");
    assert_ne!(uid, 0);
    assert!(last_stage.contains("ENTRYPOINT [\"harden\"]"));
    // The build context leaves out what builds and tests leave behind.
    let ignore = read(".dockerignore");
    for dir in ["target/", "tests/grafana-types/node_modules/", ".git/"] {
        assert!(ignore.lines().any(|l| l == dir), "{dir}");
    }
}

/// Runs git quietly in `dir`, with a fixed identity.
fn git(dir: &Path, args: &[&str]) {
    run_ok(
        &format!("git {}", args.join(" ")),
        Command::new("git")
            .args([
                "-c",
                "user.name=harden-test",
                "-c",
                "user.email=test@example.com",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
    );
}

/// `pre-commit run --all-files` in `project`: (exit code, output).
fn pre_commit(tool: &Path, project: &Path, home: &Path) -> (i32, String) {
    let harden_dir = Path::new(env!("CARGO_BIN_EXE_harden"))
        .parent()
        .expect("harden's directory")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        harden_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(tool)
        .args(["run", "--all-files", "--color", "never"])
        .current_dir(project)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("pre-commit runs");
    (out.status.code().unwrap_or(-1), text(&out))
}

#[test]
fn the_pre_commit_hooks_pass_a_good_spec_and_fail_a_broken_one_under_pre_commit() {
    let Some(tool) = validator("pre-commit") else {
        return;
    };
    let scratch = tempfile::tempdir().expect("tempdir");
    // harden's hooks, as a repository pre-commit clones.
    let hooks = scratch.path().join("harden");
    std::fs::create_dir_all(&hooks).expect("hooks repo");
    std::fs::copy(
        root().join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .expect("copy hooks");
    git(&hooks, &["init", "-q"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);
    let rev = run_ok(
        "git rev-parse",
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&hooks),
    );
    // A project with a spec and its generated files.
    let project = scratch.path().join("project");
    std::fs::create_dir_all(&project).expect("project");
    std::fs::copy(
        root().join("examples/app-oint/hardening.toml"),
        project.join("hardening.toml"),
    )
    .expect("spec");
    harden_in(&project, &["generate"]).success();
    std::fs::write(
        project.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: harden-validate\n      - id: harden-diff\n",
            hooks.display(),
            rev.trim()
        ),
    )
    .expect("config");
    git(&project, &["init", "-q"]);
    git(&project, &["add", "."]);
    git(&project, &["commit", "-q", "-m", "spec"]);
    let home = scratch.path().join("pre-commit-home");

    let (code, output) = pre_commit(&tool, &project, &home);
    assert_eq!(code, 0, "{output}");
    for hook in ["harden validate", "harden diff"] {
        let line = output
            .lines()
            .find(|l| l.starts_with(hook))
            .unwrap_or_else(|| panic!("{hook} did not run:\n{output}"));
        assert!(line.ends_with("Passed"), "{line}");
    }

    // A generated file edited by hand: the diff hook fails and names it.
    let rules = project.join("OPERATIONS.md");
    let mut text = std::fs::read_to_string(&rules).expect("OPERATIONS.md");
    text.push_str("\nedited by hand\n");
    std::fs::write(&rules, text).expect("edit");
    git(&project, &["add", "."]);
    let (code, output) = pre_commit(&tool, &project, &home);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("OPERATIONS.md"), "{output}");
    assert!(
        output
            .lines()
            .any(|l| l.starts_with("harden diff") && l.ends_with("Failed")),
        "{output}"
    );

    // A broken spec: the validate hook fails with the diagnostic at its line.
    let spec = std::fs::read_to_string(project.join("hardening.toml"))
        .expect("spec")
        .replace("provider = \"github\"", "provider = \"gitlab\"");
    std::fs::write(project.join("hardening.toml"), spec).expect("break");
    git(&project, &["add", "."]);
    let (code, output) = pre_commit(&tool, &project, &home);
    assert_eq!(code, 1, "{output}");
    assert!(
        output
            .lines()
            .any(|l| l.starts_with("harden validate") && l.ends_with("Failed")),
        "{output}"
    );
    assert!(output.contains("gitlab"), "{output}");
    assert!(output.contains("hardening.toml has 1 problem"), "{output}");
}
