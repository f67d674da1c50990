//! Alertmanager, `alertmanager/`: amtool accepts the config and renders
//! its templates, routes every severity and service exactly as the spec
//! says, secrets reach it only as file paths, and App-Oint's matches its
//! snapshot.

use std::process::Command;

use harden::model::Severity;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn amtool_accepts_every_examples_config_and_templates() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    for tree in generating("alertmanager") {
        amtool_accepts(&amtool_bin, tree.name(), tree.path());
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

/// Every severity × service (and no service) reaches exactly the receivers
/// the spec's routes name, as amtool resolves them.
#[test]
fn amtool_routes_every_severity_and_service_as_the_spec_says() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    for spec in example_specs() {
        let model = model(&spec);
        let out = generate(&Spec::File(spec.clone()));
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
                let mut labels = vec![
                    "alertname=Test".to_string(),
                    format!("severity={}", severity.as_str()),
                ];
                if let Some(name) = name {
                    labels.push(format!("service={name}"));
                }
                if let Some(team) = team {
                    labels.push(format!("team={team}"));
                }
                amtool_routes(&amtool_bin, out.path(), &expected, &labels);
            }
        }
    }
}

/// The seed's routing: critical pages PagerDuty and Slack, warnings go to
/// Slack and email, anything else to the default Slack channel.
#[test]
fn app_oint_routes_match_the_seed_report() {
    let model = model(&root().join(APP_OINT));
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

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_alertmanager_files_match_their_snapshot() {
    assert_example_snapshots("alertmanager");
}
