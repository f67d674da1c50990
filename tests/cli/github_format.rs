//! `--format github`: GitHub workflow commands on standard output, each at
//! the place it is about, escaped as GitHub's toolkit escapes them, with
//! paths from `GITHUB_WORKSPACE` when harden runs inside it.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// Runs harden in `cwd` with `GITHUB_WORKSPACE` set to `workspace` (or unset).
fn harden_on_github(cwd: &Path, workspace: Option<&Path>, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
    command.args(args).current_dir(cwd).env("NO_COLOR", "1");
    match workspace {
        Some(w) => command.env("GITHUB_WORKSPACE", w),
        None => command.env_remove("GITHUB_WORKSPACE"),
    };
    Run::from_output(&command.output().expect("harden runs"))
}

const TINY: &str = r#"[project]
name = "tiny"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
"#;

/// A workspace with `deploy/hardening.toml`.
fn workspace(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("deploy")).expect("deploy");
    std::fs::write(dir.path().join("deploy/hardening.toml"), spec).expect("spec");
    dir
}

#[test]
fn validate_annotates_each_problem_at_its_line_and_column() {
    let ws = workspace(
        &TINY
            .replace("port = 8080", "port = 80800\nreplicas = \"three\"")
            .replace("name = \"tiny\"", "name = \"ti%ny,x:y\""),
    );
    let expected = "\
::error file=deploy/hardening.toml,line=2,col=8,title=harden%3A%3Ainvalid-value::`project.name` is not valid: \"ti%25ny,x:y\"%0Ahelp: expected a lowercase DNS label: letters a-z, digits and '-', starting and ending with a letter or digit, at most 63 characters
::error file=deploy/hardening.toml,line=7,col=8,title=harden%3A%3Aout-of-range::`service[0].port` must be at most 65535%0Ahelp: use a value at most 65535
::error file=deploy/hardening.toml,line=8,col=12,title=harden%3A%3Awrong-type::`service[0].replicas` should be an integer, not a string%0Ahelp: expected an integer: Fixed replica count, for a service without `autoscaling` (default 1)
";
    // From the workspace root, and from the spec's directory: paths from the workspace.
    let run = harden_on_github(
        ws.path(),
        Some(ws.path()),
        &["validate", "--format", "github", "deploy/hardening.toml"],
    )
    .code(2);
    assert_eq!(run.stdout, expected);
    let run = harden_on_github(
        &ws.path().join("deploy"),
        Some(ws.path()),
        &["validate", "--format", "github"],
    )
    .code(2);
    assert_eq!(run.stdout, expected);
    // Outside GitHub: the path as given.
    let run = harden_on_github(
        &ws.path().join("deploy"),
        None,
        &["validate", "--format", "github"],
    )
    .code(2);
    assert_eq!(
        run.stdout,
        expected.replace("file=deploy/hardening.toml", "file=hardening.toml")
    );
    // The terminal's rendering still goes to standard error.
    assert!(
        run.stderr.contains("has 3 problems; nothing was written"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_spec_warning_is_a_warning_annotation_at_its_line() {
    let run = harden_on_github(
        &root(),
        None,
        &[
            "validate",
            "--format",
            "github",
            "examples/app-oint/hardening.toml",
        ],
    )
    .success();
    let line = example_line("retention_days = 14");
    assert_eq!(
        run.stdout,
        format!(
            "::warning file=examples/app-oint/hardening.toml,line={line},col=18,title=harden%3A%3Aplatform-backup-retention::DigitalOcean keeps a managed PostgreSQL database's daily backups for 7 days; the spec asks for 14%0Ahelp: harden adds an App Platform worker that runs pg_dump to `destination` and keeps 14 days; lower `retention_days` to 7 to rely on DigitalOcean's own backups alone\n\
             examples/app-oint/hardening.toml is valid: project app-oint, 4 services (1 http), 3 receivers, 1 warning\n"
        )
    );
}

#[test]
fn diff_and_check_annotate_each_drifted_file_and_each_failed_check() {
    let ws = workspace(TINY);
    let spec = "deploy/hardening.toml";
    harden_in(ws.path(), &["generate", spec]).success();
    let deploy = ws.path().join("deploy");
    let mut ops = std::fs::read_to_string(deploy.join("OPERATIONS.md")).expect("OPERATIONS.md");
    ops.push_str("edited\n");
    std::fs::write(deploy.join("OPERATIONS.md"), ops).expect("edit");
    std::fs::remove_file(deploy.join("runbooks/TargetDown.md")).expect("remove");
    let fix = "run `harden generate deploy/hardening.toml --out deploy`";

    let run = harden_on_github(
        ws.path(),
        Some(ws.path()),
        &["diff", "--format", "github", spec],
    )
    .code(1);
    assert_eq!(
        run.stdout,
        format!(
            "::error file=deploy/OPERATIONS.md,title=harden diff::OPERATIONS.md differs from what the spec generates: {fix} and commit the result, or change the spec if the edit was meant\n\
             ::error file=deploy/runbooks/TargetDown.md,title=harden diff::runbooks/TargetDown.md is generated but missing: {fix} and commit the result, or change the spec if the edit was meant\n"
        )
    );

    let run = harden_on_github(
        ws.path(),
        Some(ws.path()),
        &["check", "--format", "github", spec],
    )
    .code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "::error file=deploy/hardening.toml,title=harden check%3A Generated file OPERATIONS.md::OPERATIONS.md differs from what the spec generates (1 line on disk not generated, 0 generated lines missing)%0Afix: {fix} to bring the files in line, or change the spec if the edit was meant"
            ),
            format!(
                "::error file=deploy/hardening.toml,title=harden check%3A Generated file runbooks/TargetDown.md::runbooks/TargetDown.md missing%0Afix: {fix} to bring the files in line, or change the spec if the edit was meant"
            ),
            format!(
                "::error file=deploy/hardening.toml,title=harden check%3A Every alert links a generated runbook::TargetDown in prometheus/rules/api.yml links runbooks/TargetDown.md, which is not on disk%0Afix: {fix} to bring the files in line, or change the spec if the edit was meant"
            ),
        ]
    );
    // A clean tree: no annotation at all.
    harden_in(ws.path(), &["generate", "--force", spec]).success();
    let run = harden_on_github(
        ws.path(),
        Some(ws.path()),
        &["diff", "--format", "github", spec],
    )
    .success();
    assert_eq!(run.stdout, "");
    let run = harden_on_github(
        ws.path(),
        Some(ws.path()),
        &["check", "--format", "github", spec],
    )
    .success();
    assert_eq!(run.stdout, "");
}

#[test]
fn an_invalid_spec_is_annotated_by_diff_and_check_too() {
    let ws = workspace(&TINY.replace("port = 8080", "port = 80800"));
    let expected = "::error file=deploy/hardening.toml,line=7,col=8,title=harden%3A%3Aout-of-range::`service[0].port` must be at most 65535%0Ahelp: use a value at most 65535\n";
    for command in ["diff", "check"] {
        let run = harden_on_github(
            ws.path(),
            Some(ws.path()),
            &[command, "--format", "github", "deploy/hardening.toml"],
        )
        .code(2);
        assert_eq!(run.stdout, expected, "{command}");
    }
}
