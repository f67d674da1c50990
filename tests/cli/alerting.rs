//! Alertmanager: amtool accepts the config, renders the templates, and routes
//! every severity and service exactly as the spec says.

use std::path::Path;
use std::process::Command;

use harden::model::Severity;

use crate::common::*;

pub(crate) fn amtool(amtool: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(amtool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("amtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn model(spec: &Path) -> harden::model::Model {
    harden::load::load(spec).unwrap_or_else(|_| panic!("{} is valid", spec.display()))
}

#[test]
fn amtool_accepts_every_examples_config_and_templates() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    for spec in example_specs() {
        let out = generate_example(&spec);
        let dir = out.path().join("alertmanager");
        let (ok, text) = amtool(&amtool_bin, &dir, &["check-config", "alertmanager.yml"]);
        assert!(
            ok,
            "amtool check-config failed for {}:\n{text}",
            spec.display()
        );
        assert!(
            text.contains("1 templates"),
            "templates not loaded:\n{text}"
        );
        for name in [
            "harden.slack.title",
            "harden.slack.text",
            "harden.email.subject",
            "harden.pagerduty.description",
        ] {
            let (ok, text) = amtool(
                &amtool_bin,
                &dir,
                &[
                    "template",
                    "render",
                    "--template.glob=templates/*.tmpl",
                    &format!("--template.text={{{{ template \"{name}\" . }}}}"),
                ],
            );
            assert!(ok, "{name} does not render:\n{text}");
        }
    }
}

/// Every severity × service (and no service) reaches exactly the receivers
/// the spec's routes name, as amtool resolves them.
#[test]
fn amtool_routes_every_severity_and_service_as_the_spec_says() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    for spec in example_specs() {
        let model = model(&spec);
        let out = generate_example(&spec);
        let dir = out.path().join("alertmanager");
        let mut services: Vec<Option<(&str, Option<&str>)>> = vec![None];
        services.extend(
            model
                .services
                .iter()
                .map(|s| Some((s.name.as_str(), s.team.as_deref()))),
        );
        for severity in Severity::ALL {
            for service in &services {
                let (name, team) = service.map_or((None, None), |(n, t)| (Some(n), t));
                let expected = model.alerting.receivers_for(severity, name, team).join(",");
                let mut args = vec![
                    "config".to_string(),
                    "routes".into(),
                    "test".into(),
                    "--config.file=alertmanager.yml".into(),
                    format!("--verify.receivers={expected}"),
                    "alertname=Test".into(),
                    format!("severity={}", severity.as_str()),
                ];
                if let Some(name) = name {
                    args.push(format!("service={name}"));
                }
                if let Some(team) = team {
                    args.push(format!("team={team}"));
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let (ok, text) = amtool(&amtool_bin, &dir, &args);
                assert!(
                    ok,
                    "{}: {severity:?} {name:?} should reach {expected}:\n{text}",
                    spec.display()
                );
            }
        }
    }
}

/// The seed's routing: critical pages PagerDuty and Slack, warnings go to
/// Slack and email, anything else to the default Slack channel.
#[test]
fn app_oint_routes_match_the_seed_report() {
    let model = model(&root().join("examples/app-oint/hardening.toml"));
    let routes = |s| {
        model
            .alerting
            .receivers_for(s, Some("api"), Some("backend"))
    };
    assert_eq!(routes(Severity::Critical), vec!["oncall", "team-slack"]);
    assert_eq!(routes(Severity::Warning), vec!["team-slack", "team-email"]);
    assert_eq!(routes(Severity::Info), vec!["team-slack"]);
}

/// Secrets reach Alertmanager only as file paths; the values in the
/// environment of `harden generate` never reach a generated file.
#[test]
fn no_secret_value_reaches_a_generated_file() {
    let out = tempfile::tempdir().expect("tempdir");
    let spec = root().join("examples/app-oint/hardening.toml");
    let values = [
        (
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B0/sekrit-slack",
        ),
        ("PAGERDUTY_ROUTING_KEY", "sekrit-pagerduty-key"),
        ("SMTP_PASSWORD", "sekrit-smtp-password"),
    ];
    let status = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args([
            "generate",
            &spec.to_string_lossy(),
            "--out",
            &out.path().to_string_lossy(),
        ])
        .envs(values)
        .status()
        .expect("harden runs");
    assert!(status.success());
    for (path, bytes) in read_tree(out.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("sekrit"), "{path} contains a secret value");
    }
    let config =
        std::fs::read_to_string(out.path().join("alertmanager/alertmanager.yml")).expect("config");
    for file in [
        "api_url_file: /run/secrets/slack-webhook-url",
        "routing_key_file: /run/secrets/pagerduty-routing-key",
        "auth_password_file: /run/secrets/smtp-password",
    ] {
        assert!(config.contains(file), "missing `{file}` in:\n{config}");
    }
}
