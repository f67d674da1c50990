//! `harden explain`: the burn-rate table it prints, and an invalid spec
//! reported as such.

use crate::support::*;

#[test]
fn explain_prints_the_burn_rate_table() {
    let run = harden(&["explain", "examples/app-oint/hardening.toml"]).success();
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("explain-app-oint", run.stdout);
    });
}

#[test]
fn explain_reports_an_invalid_spec() {
    let run = harden(&["explain", "tests/fixtures/invalid/bad-promql.toml"]).code(2);
    assert!(run.stderr.contains("does not parse"), "{}", run.stderr);
}
