//! Secrets are never echoed and never accepted: every kind of credential in
//! every kind of field is refused by `validate` and `generate` (exit 2,
//! nothing written) without its value on stderr, and `harden check` calls
//! the same shapes leaks in a tree. One detector (`harden::secrets`) serves
//! all three.

use std::fs;

use crate::support::*;

/// One credential of each kind the detector knows, and a piece of it that
/// must never be printed.
const KINDS: &[(&str, &str)] = &[
    ("xoxb-123456789012-ABCDEFabcdef123", "ABCDEFabcdef123"),
    ("ghp_Zx8Kq2Lm9Pw4Rt7Yv1Bn6Cd3Fg5Hj0Aa11", "Zx8Kq2Lm9Pw4Rt7"),
    (
        "github_pat_11ABCDEFG0Zx8Kq2Lm9Pw4_Rt7Yv1Bn6Cd3Fg5Hj0",
        "Rt7Yv1Bn6Cd3Fg5Hj0",
    ),
    ("AKIAQ3EGUWPJ7ZLNV4XM", "Q3EGUWPJ7ZLNV4XM"),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----b3BlbnNzaC1rZXktdjEAAAAA",
        "b3BlbnNzaC1rZXktdjEAAAAA",
    ),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N",
    ),
    ("Qm9Xr7TzL2pW8vK4nJ6hY1sD3fG5aZ0c", "Qm9Xr7TzL2pW8vK4nJ6h"),
];

/// A valid spec with every kind of text field the placements below use.
fn spec() -> String {
    r#"
[project]
name = "shop"

[monitoring]
grafana_url = "https://grafana.example.com"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080

[[service.business_metric]]
name = "orders"
title = "Orders"
expr = "sum(rate(orders_total[5m]))"

[alerting]
default_receiver = "mail"

[[alerting.receiver]]
name = "mail"
type = "email"
to = "ops@example.com"
from = "alerts@example.com"
smarthost = "smtp.example.com:587"
username = "alerts"
password = { env = "SMTP_PASSWORD" }

[[alerting.receiver]]
name = "hook"
type = "webhook"
url = "https://hooks.example.com/shop"

[ci]
provider = "github"
harden_git = "https://github.com/example/harden"
"#
    .to_string()
}

/// Each kind of text field, as a replacement of the valid spec's line:
/// (what it is, the line as the valid spec has it, the line with `{}` for
/// the credential).
const FIELDS: &[(&str, &str, &str)] = &[
    ("a user name", "username = \"alerts\"", "username = \"{}\""),
    (
        "a webhook URL's user info",
        "url = \"https://hooks.example.com/shop\"",
        "url = \"https://alerts:{}@hooks.example.com/shop\"",
    ),
    (
        "a webhook URL's query",
        "url = \"https://hooks.example.com/shop\"",
        "url = \"https://hooks.example.com/shop?token={}\"",
    ),
    (
        "the Grafana URL",
        "grafana_url = \"https://grafana.example.com\"",
        "grafana_url = \"https://admin:{}@grafana.example.com\"",
    ),
    (
        "harden_git",
        "harden_git = \"https://github.com/example/harden\"",
        "harden_git = \"https://x:{}@github.com/example/harden\"",
    ),
    (
        "a PromQL expression",
        "expr = \"sum(rate(orders_total[5m]))\"",
        "expr = \"sum(rate(orders_total{key=\\\"{}\\\"}[5m]))\"",
    ),
    ("a title", "title = \"Orders\"", "title = \"Orders {}\""),
    (
        "a patterned name (its headline quotes values)",
        "name = \"orders\"",
        "name = \"{}\"",
    ),
];

fn placed(field: &(&str, &str, &str), secret: &str) -> String {
    let (_, line, with) = field;
    let text = spec();
    assert!(text.contains(line), "{line}");
    text.replacen(line, &with.replace("{}", secret), 1)
}

#[test]
fn the_base_spec_is_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("hardening.toml"), spec()).expect("write");
    harden_in(dir.path(), &["validate", "hardening.toml"]).success();
}

#[test]
fn every_credential_in_every_field_is_refused_and_never_printed() {
    for field in FIELDS {
        for (secret, piece) in KINDS {
            let dir = tempfile::tempdir().expect("tempdir");
            let text = placed(field, secret);
            fs::write(dir.path().join("hardening.toml"), &text).expect("write");
            for command in ["validate", "generate"] {
                let run = harden_in(dir.path(), &[command, "hardening.toml"]).code(2);
                let what = format!("{command}: {secret} in {}", field.0);
                assert!(
                    run.stderr.contains("harden::credential"),
                    "{what}\n{}",
                    run.stderr
                );
                assert!(
                    !run.stderr.contains(piece),
                    "{what} printed\n{}",
                    run.stderr
                );
                assert!(
                    !run.stdout.contains(piece),
                    "{what} printed\n{}",
                    run.stdout
                );
            }
            let written: Vec<_> = fs::read_dir(dir.path())
                .expect("list")
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert_eq!(written.len(), 1, "generate wrote {written:?}");
        }
    }
}

#[test]
fn a_secret_key_with_a_value_is_masked_and_names_its_own_variable() {
    let cases = [
        (
            "password = { env = \"SMTP_PASSWORD\" }",
            "password = \"hunter2-smtp\"",
            "SMTP_PASSWORD",
        ),
        (
            "url = \"https://hooks.example.com/shop\"",
            "url = \"https://hooks.example.com/shop\"\ntoken = \"s3cr3t-bearer-token\"",
            "WEBHOOK_TOKEN",
        ),
        (
            "port = 8080",
            "port = 8080\n\n[[service]]\nname = \"cache\"\nkind = \"database\"\nengine = \"redis\"\npassword = \"hunter2-redis\"",
            "REDIS_PASSWORD",
        ),
    ];
    for (line, with, variable) in cases {
        let text = spec().replacen(line, with, 1);
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("hardening.toml"), &text).expect("write");
        let run = harden_in(dir.path(), &["validate", "hardening.toml"]).code(2);
        assert!(
            run.stderr.contains("harden::plaintext-secret"),
            "{}",
            run.stderr
        );
        for value in ["hunter2-smtp", "s3cr3t-bearer-token", "hunter2-redis"] {
            assert!(!run.stderr.contains(value), "{}", run.stderr);
        }
        assert!(
            run.stderr.contains("\"****"),
            "the frame masks: {}",
            run.stderr
        );
        let words: String = run.stderr.split_whitespace().collect();
        assert!(
            words.contains(&format!("env=\"{variable}\"")),
            "the hint names {variable}: {}",
            run.stderr
        );
    }
}

#[test]
fn check_calls_every_kind_a_leak_without_printing_it() {
    let tree = generate(&Spec::toml(MINIMAL));
    for (secret, piece) in KINDS {
        fs::write(tree.path().join("leak.txt"), format!("value: {secret}\n")).expect("write");
        let run = harden_in(
            tree.path(),
            &["check", "hardening.toml", "--format", "json"],
        )
        .code(1);
        assert!(
            run.stdout.contains("leak.txt line 1 looks like"),
            "{secret}: {}",
            run.stdout
        );
        assert!(!run.stdout.contains(piece), "{}", run.stdout);
        assert!(!run.stderr.contains(piece), "{}", run.stderr);
    }
}
