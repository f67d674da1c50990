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

/// A severity route that continues and a team route naming the same
/// receiver: Alertmanager notifies a receiver once per matching route, so
/// the tree must exclude the repeat. amtool resolves each alert to every
/// receiver once, as `receivers_for` (and `harden check`'s summary) says.
const OVERLAPPING_ROUTES: &str = r#"
[project]
name = "dup"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
team = "backend"

[[service]]
name = "web"
image = "registry.example.com/web:1.0"
port = 8081
team = "frontend"

[alerting]
default_receiver = "slack"

[[alerting.receiver]]
name = "pager"
type = "webhook"
url = "https://pager.example.com/"

[[alerting.receiver]]
name = "slack"
type = "webhook"
url = "https://slack.example.com/"

[[alerting.receiver]]
name = "mail"
type = "webhook"
url = "https://mail.example.com/"

[[alerting.route]]
severity = "critical"
receivers = ["pager", "slack"]
continue = true

[[alerting.route]]
team = "backend"
receivers = ["slack"]

[[alerting.route]]
severity = "critical"
receivers = ["mail"]
"#;

#[test]
fn a_receiver_two_routes_name_is_notified_once() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    let out = generate(&Spec::toml(OVERLAPPING_ROUTES));
    let labels = |pairs: &[&str]| -> Vec<String> {
        let mut l = vec!["alertname=Test".to_string()];
        l.extend(pairs.iter().map(|p| p.to_string()));
        l
    };
    // The team route stops: no mail for the backend team's critical alerts.
    for (pairs, expected) in [
        (&["severity=critical", "team=backend"][..], "pager,slack"),
        (
            &["severity=critical", "team=frontend"][..],
            "pager,slack,mail",
        ),
        (&["severity=critical"][..], "pager,slack,mail"),
        (&["severity=warning", "team=backend"][..], "slack"),
        (&["severity=warning", "team=frontend"][..], "slack"),
    ] {
        amtool_routes(&amtool_bin, out.path(), expected, &labels(pairs));
    }
    let spec = out.path().join("hardening.toml");
    let m = model(&spec);
    assert_eq!(
        m.alerting
            .receivers_for(Severity::Critical, Some("api"), Some("backend")),
        vec!["pager", "slack"]
    );
    let report = harden(&["check", &spec.to_string_lossy(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&report.stdout).expect("json report");
    let routing = json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "Every alert severity routes to a receiver")
        .expect("the routing check");
    assert_eq!(routing["status"], "pass", "{routing}");
    let detail = routing["detail"].as_str().unwrap_or_default();
    // Each receiver once, and which services' alerts reach which.
    assert!(
        detail.contains("critical → pager, slack (api) | pager, slack, mail (web)"),
        "{detail}"
    );
    assert!(!detail.contains("slack, slack"), "{detail}");
}

/// Whether an alert's labels satisfy one Alertmanager matcher as harden
/// writes them: `l="v"`, `l!="v"`, or `l=~"a|b"` / `l=~".+"`.
fn satisfies(labels: &std::collections::BTreeMap<String, String>, matcher: &str) -> bool {
    let (label, op, value) = ["=~", "!=", "="]
        .iter()
        .find_map(|op| {
            matcher
                .split_once(op)
                .map(|(l, v)| (l, *op, v.trim_matches('"')))
        })
        .expect("a matcher");
    let have = labels.get(label).map(String::as_str).unwrap_or("");
    match op {
        "=" => have == value,
        "!=" => have != value,
        _ if value == ".+" => !have.is_empty(),
        _ => value.split('|').any(|v| v == have),
    }
}

/// No inhibition rule is dead: for each, two alerts App-Oint's rule files
/// define (their static labels and name) match its source and target and
/// agree on its `equal` labels. The old critical→warning rule, equal on
/// `alertname`, could never match: one name has one severity per service.
#[test]
fn every_inhibition_rule_pairs_two_alerts_harden_generates() {
    let tree = generate(&Spec::app_oint());
    let mut alerts = Vec::new();
    let rules_dir = tree.join("prometheus/rules");
    for entry in std::fs::read_dir(&rules_dir).expect("rules") {
        let rules = yaml(&entry.expect("entry").path());
        for group in rules["groups"].as_array().expect("groups") {
            for rule in group["rules"].as_array().expect("rules") {
                let Some(name) = rule["alert"].as_str() else {
                    continue;
                };
                let mut labels: std::collections::BTreeMap<String, String> = rule["labels"]
                    .as_object()
                    .expect("labels")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("label").to_string()))
                    .collect();
                labels.insert("alertname".into(), name.into());
                alerts.push(labels);
            }
        }
    }
    let config = yaml(&tree.join("alertmanager/alertmanager.yml"));
    let rules = config["inhibit_rules"].as_array().expect("inhibit_rules");
    assert!(!rules.is_empty());
    for rule in rules {
        let all = |key: &str, a: &std::collections::BTreeMap<String, String>| {
            rule[key]
                .as_array()
                .expect("matchers")
                .iter()
                .all(|m| satisfies(a, m.as_str().expect("matcher")))
        };
        let equal: Vec<&str> = rule["equal"]
            .as_array()
            .expect("equal")
            .iter()
            .map(|l| l.as_str().expect("label"))
            .collect();
        let pair = alerts.iter().find_map(|source| {
            alerts
                .iter()
                .find(|target| {
                    source != *target
                        && all("source_matchers", source)
                        && all("target_matchers", target)
                        && !all("source_matchers", target)
                        && equal.iter().all(|l| source.get(*l) == target.get(*l))
                })
                .map(|target| (&source["alertname"], &target["alertname"]))
        });
        assert!(
            pair.is_some(),
            "this inhibition rule can never match: {rule}"
        );
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
        .output()
        .expect("harden runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
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

/// A webhook URL that is itself a credential is a secret Alertmanager 0.26+
/// reads from a file (`url_file`), delivered like every receiver secret on
/// Compose and Kubernetes; a written URL stays `url`. amtool 0.35 accepts
/// both.
#[test]
fn a_secret_webhook_url_is_read_from_a_file() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    let out = generate(&Spec::toml(
        r#"[project]
name = "shop"

[[service]]
name = "api"
image = "shop/api:1"
port = 8080

[alerting]
default_receiver = "hook"

[[alerting.receiver]]
name = "hook"
type = "webhook"
url = { env = "HOOK_URL" }
token = { env = "HOOK_TOKEN" }

[[alerting.receiver]]
name = "plain"
type = "webhook"
url = "https://hooks.example.com/alerts"

[[alerting.route]]
severity = "critical"
receivers = ["hook", "plain"]

[platform.compose]
[platform.kubernetes]
"#,
    ));
    amtool_accepts(&amtool_bin, out.name(), out.path());
    let config = out.yaml("alertmanager/alertmanager.yml");
    let hook = |name: &str| -> serde_json::Value {
        config["receivers"]
            .as_array()
            .expect("receivers")
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no receiver {name}"))["webhook_configs"][0]
            .clone()
    };
    assert_eq!(hook("hook")["url_file"], "/run/secrets/hook-url");
    assert!(hook("hook").get("url").is_none(), "{}", hook("hook"));
    assert_eq!(
        hook("hook")["http_config"]["authorization"]["credentials_file"],
        "/run/secrets/hook-token"
    );
    assert_eq!(hook("plain")["url"], "https://hooks.example.com/alerts");
    assert!(hook("plain").get("url_file").is_none());
    let compose = out.yaml("docker-compose.yml");
    assert_eq!(compose["secrets"]["hook-url"]["environment"], "HOOK_URL");
    // Every member of the Alertmanager cluster mounts it.
    for member in ["alertmanager-0", "alertmanager-1", "alertmanager-2"] {
        let mounted = compose["services"][member]["secrets"].to_string();
        assert!(mounted.contains("hook-url"), "{member}: {mounted}");
    }
    let statefulset = out.read("k8s/alertmanager/statefulset.yaml");
    assert!(
        statefulset.contains("--from-literal=hook-url=\"$HOOK_URL\""),
        "{statefulset}"
    );
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_alertmanager_files_match_their_snapshot() {
    assert_example_snapshots("alertmanager");
}
