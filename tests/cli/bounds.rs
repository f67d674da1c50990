//! Bounded input: no spec drives harden's recursion past a fixed depth or
//! its work past a documented size. Deep PromQL and TOML nesting and long
//! expressions are refused by `validate` and `generate` with exit 2 and a
//! diagnostic at their line, never a stack overflow (a signal) or a hang.

use std::fs;

use crate::support::*;

/// A valid spec whose one business metric is `expr`.
fn with_expr(expr: &str) -> String {
    format!(
        "[project]\nname = \"x\"\n\n[[service]]\nname = \"api\"\nimage = \"registry.example.com/api:1.0\"\nport = 8080\n\n[[service.business_metric]]\nname = \"m\"\nexpr = \"{expr}\"\n"
    )
}

/// Runs validate and generate on `text`: both exit 2 with `code` on stderr,
/// located at `line`; generate writes nothing.
#[track_caller]
fn refused(text: &str, code: &str, line: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("hardening.toml"), text).expect("write");
    for command in ["validate", "generate"] {
        let run = harden_in(dir.path(), &[command, "hardening.toml"]).code(2);
        assert!(
            run.stderr.contains(&format!("harden::{code}")),
            "{command}: {}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(
            run.stderr.contains(&format!("hardening.toml:{line}:")),
            "{command}: not at line {line}: {}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
    }
    assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
}

#[test]
fn promql_nested_100000_parentheses_deep_is_refused_not_a_stack_overflow() {
    let expr = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    refused(&with_expr(&expr), "too-deep", 11);
}

#[test]
fn promql_of_8000_nested_sums_is_refused() {
    let expr = format!("{}x{}", "sum(".repeat(8_000), ")".repeat(8_000));
    refused(&with_expr(&expr), "too-deep", 11);
}

#[test]
fn promql_of_80000_terms_is_refused_as_too_large() {
    let expr = format!("1{}", " + 1".repeat(80_000));
    refused(&with_expr(&expr), "too-large", 11);
}

#[test]
fn promql_at_the_limits_is_accepted() {
    // 32 levels deep and just under 4,096 bytes: the documented limits.
    let deep = format!("{}x{}", "(".repeat(32), ")".repeat(32));
    let long = format!("x{}", " + x".repeat(1_000));
    for expr in [deep, long] {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("hardening.toml"), with_expr(&expr)).expect("write");
        harden_in(dir.path(), &["validate", "hardening.toml"]).success();
    }
}

#[test]
fn a_5000_part_dotted_key_is_reported_at_its_line() {
    let key = vec!["a"; 5_000].join(".");
    refused(
        &format!("[project]\nname = \"x\"\n\n{key} = 1\n"),
        "too-deep",
        4,
    );
    refused(
        &format!("[project]\nname = \"x\"\n\n[{key}]\nb = 1\n"),
        "too-deep",
        4,
    );
}

#[test]
fn toml_nested_100000_deep_is_refused() {
    let arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    refused(
        &format!("[project]\nname = \"x\"\nx = {arrays}\n"),
        "too-deep",
        3,
    );
    let tables = format!("{}1{}", "{a=".repeat(100_000), "}".repeat(100_000));
    refused(
        &format!("[project]\nname = \"x\"\nx = {tables}\n"),
        "too-deep",
        3,
    );
}
