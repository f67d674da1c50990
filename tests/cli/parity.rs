//! validate and generate agree: what generate (or a consumer of its output)
//! refuses, validate refuses first, at its line; what validate accepts,
//! generate writes.

use std::fs;

use crate::support::*;

/// Fixtures of refusals generate used to reach before validate did, and
/// the line each is reported at.
const REFUSED: &[(&str, &str, usize)] = &[
    ("reserved-overview", "reserved-name", 6),
    ("static-output-dir", "invalid-value", 8),
    ("app-platform-short-names", "invalid-value", 6),
    ("objective-digits", "invalid-value", 13),
    ("not-finite", "out-of-range", 10),
];

#[test]
fn validate_and_generate_refuse_alike_at_the_line() {
    for (name, code, line) in REFUSED {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = root().join(format!("tests/fixtures/invalid/{name}.toml"));
        fs::copy(&spec, dir.path().join("hardening.toml")).expect("copy");
        for command in ["validate", "generate"] {
            let run = harden_in(dir.path(), &[command, "hardening.toml"]).code(2);
            assert!(
                run.stderr.contains(&format!("harden::{code}"))
                    && run.stderr.contains(&format!("hardening.toml:{line}:")),
                "{command} {name}: {}",
                run.stderr
            );
        }
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1, "{name}");
    }
}

#[test]
fn a_crlf_spec_with_a_multi_line_expression_generates_what_its_lf_copy_does() {
    let lf = "[project]\nname = \"x\"\n\n[[service]]\nname = \"api\"\nimage = \"registry.example.com/api:1.0\"\nport = 8080\n\n[[service.business_metric]]\nname = \"m\"\nexpr = \"\"\"\nsum(rate(orders_total[5m]))\n  * 60\n\"\"\"\n";
    let crlf = lf.replace('\n', "\r\n");
    let trees: Vec<_> = [lf.to_string(), crlf]
        .into_iter()
        .map(|text| {
            let dir = tempfile::tempdir().expect("tempdir");
            fs::write(dir.path().join("hardening.toml"), &text).expect("write");
            harden_in(dir.path(), &["generate", "hardening.toml", "--out", "out"]).success();
            let tree = read_tree(&dir.path().join("out"));
            assert!(tree.len() > 10);
            tree
        })
        .collect();
    assert!(trees[0] == trees[1], "the CRLF spec generated another tree");
}
