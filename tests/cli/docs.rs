//! Shell completions and the man page, generated from the clap definition
//! and read by the shells and man themselves; exit codes in `--help`.

use std::process::Command;

use crate::support::*;

/// Writes `text` to a file and runs `program args… file`, expecting success
/// and nothing on standard error.
fn accepts(program: &std::path::Path, args: &[&str], text: &str, what: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("script");
    std::fs::write(&file, text).expect("write");
    let output = Command::new(program)
        .args(args)
        .arg(&file)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "{} rejects {what}: {stderr}",
        program.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn completions_parse_in_every_shell_and_name_the_commands() {
    for (shell, checker, args) in [
        ("bash", "bash", vec!["-n"]),
        ("zsh", "zsh", vec!["-n"]),
        ("fish", "fish", vec!["--no-execute"]),
    ] {
        let run = harden(&["completions", shell]).success();
        for command in ["validate", "generate", "diff", "check", "templates", "man"] {
            assert!(run.stdout.contains(command), "{shell}: no {command}");
        }
        if let Some(tool) = validator(checker) {
            accepts(
                &tool,
                &args,
                &run.stdout,
                &format!("the {shell} completion"),
            );
        }
    }
    // bash completes a command's flags.
    let run = harden(&["completions", "bash"]).success();
    assert!(run.stdout.contains("--ca-cert"), "{}", run.stdout);
    let run = harden(&["completions", "powershell"]).success();
    assert!(
        run.stdout.contains("Register-ArgumentCompleter"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_man_pages_render_without_warnings() {
    let page = harden(&["man"]).success().stdout;
    assert!(
        page.starts_with(".ie"),
        "roff: {}",
        &page[..page.len().min(200)]
    );
    let check = harden(&["man", "check"]).success().stdout;
    let Some(groff) = validator("groff") else {
        return;
    };
    // -ww: every warning; -z: no output, only the diagnostics.
    accepts(&groff, &["-man", "-Tutf8", "-ww", "-z"], &page, "harden(1)");
    // -P-cbu: plain text, no overstriking or underlining.
    let text = accepts(
        &groff,
        &["-man", "-Tascii", "-P-cbu"],
        &check,
        "harden-check(1)",
    );
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "--ca-cert", "Exit codes"] {
        assert!(
            text.contains(section),
            "harden-check(1) has no {section}:\n{text}"
        );
    }
    let run = harden(&["man", "nope"]).code(2);
    assert!(run.stderr.contains("no command `nope`"), "{}", run.stderr);
}

#[test]
fn help_lists_the_exit_codes_of_each_command() {
    let run = harden(&["--help"]).success();
    assert!(
        run.stdout.contains("Exit codes: 0 success; 1 drift"),
        "{}",
        run.stdout
    );
    let run = harden(&["diff", "--help"]).success();
    assert!(run.stdout.contains("1 they drifted"), "{}", run.stdout);
    assert!(
        run.stdout.contains("diff never writes a file"),
        "{}",
        run.stdout
    );
    let run = harden(&["check", "--help"]).success();
    assert!(run.stdout.contains("1 a check failed"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("generate writes there, diff and check read it"),
        "{}",
        run.stdout
    );
}
