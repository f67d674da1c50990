//! Compose, `docker-compose.yml`: the compose spec's schema and
//! docker-compose accept it, it carries the spec's numbers and delivers
//! secrets by name, and App-Oint's matches its snapshot.

use serde_json::Value;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn compose_file_passes_the_compose_spec_schema() {
    let Some(tool) = validator("check-jsonschema") else {
        return;
    };
    for out in platform_trees("compose") {
        compose_schema(&tool, out.name(), out.path());
    }
}

/// docker-compose 1.29 checks a copy whose secrets read files (see
/// `docker_compose_config`); everything else is checked as written.
#[test]
fn docker_compose_config_accepts_the_compose_file() {
    let Some(tool) = validator("docker-compose") else {
        return;
    };
    for out in platform_trees("compose") {
        docker_compose_config(&tool, out.name(), out.path(), &["config", "-q"]);
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

/// The ports, health check, dependencies and retention are the spec's
/// numbers (as on the other platforms).
#[test]
fn app_oint_compose_carries_the_spec_numbers() {
    let out = generate(&Spec::app_oint());
    let compose = out.yaml("docker-compose.yml");
    assert!(compose.get("version").is_none());
    let api = &compose["services"]["api"];
    assert_eq!(api["ports"][0], "5001:5001");
    assert_eq!(
        api["healthcheck"]["test"]
            .as_array()
            .expect("test")
            .last()
            .expect("url"),
        "http://localhost:5001/health"
    );
    assert_eq!(
        api["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    // Two Prometheus replicas and three Alertmanagers by default; one host
    // port each, on the first.
    let services = &compose["services"];
    assert_eq!(services["prometheus-0"]["ports"][0], "9090:9090");
    assert_eq!(services["grafana"]["ports"][0], "3001:3000");
    assert_eq!(services["alertmanager-0"]["ports"][0], "9093:9093");
    for other in ["prometheus-1", "alertmanager-1", "alertmanager-2"] {
        assert!(
            services[other]["ports"].is_null(),
            "{other} publishes a port"
        );
    }
    assert!(services["prometheus"].is_null() && services["alertmanager"].is_null());
    for replica in ["prometheus-0", "prometheus-1"] {
        let command = services[replica]["command"].to_string();
        assert!(
            command.contains("--storage.tsdb.retention.time=30d"),
            "{command}"
        );
        assert_eq!(
            services[replica]["environment"]["PROMETHEUS_REPLICA"],
            replica
        );
        assert_eq!(
            services[replica]["networks"]["default"]["aliases"],
            serde_json::json!(["prometheus"])
        );
    }
}

/// Receiver secrets reach Alertmanager at `/run/secrets/<name>` from the
/// variables the spec names, as names only (as on Kubernetes).
#[test]
fn receiver_secrets_are_delivered_by_name_on_compose() {
    let out = generate(&Spec::app_oint());
    let expected = [
        ("pagerduty-routing-key", "PAGERDUTY_ROUTING_KEY"),
        ("slack-webhook-url", "SLACK_WEBHOOK_URL"),
        ("smtp-password", "SMTP_PASSWORD"),
    ];
    let compose = out.yaml("docker-compose.yml");
    for member in ["alertmanager-0", "alertmanager-1", "alertmanager-2"] {
        let mounted = &compose["services"][member]["secrets"];
        for (name, var) in expected {
            assert_eq!(compose["secrets"][name]["environment"], var);
            assert!(
                mounted
                    .as_array()
                    .expect("list")
                    .contains(&Value::from(name)),
                "{member}: {name}"
            );
        }
    }
}

/// A fixed count's service names its secret variables, and a receiver's
/// secret file is mounted where Alertmanager reads it.
#[test]
fn a_fixed_count_spec_mounts_its_secret_file_on_compose() {
    let out = generate(&Spec::toml(FIXED));
    let compose = out.yaml("docker-compose.yml");
    assert_eq!(
        compose["services"]["api"]["environment"],
        serde_json::json!(["API_TOKEN"])
    );
    // A secret file is mounted where Alertmanager reads it.
    let volumes = compose["services"]["alertmanager-0"]["volumes"].to_string();
    assert!(
        volumes.contains(
            "/etc/alertmanager/secrets/hook-token:/etc/alertmanager/secrets/hook-token:ro"
        ),
        "{volumes}"
    );
    assert!(compose.get("secrets").is_none());
}

/// A variable named by a receiver, a service and a database is one secret.
#[test]
fn a_shared_variable_is_one_compose_secret() {
    let out = generate(&Spec::toml(
        r#"
[project]
name = "shop"

[[service]]
name = "api"
image = "shop/api:1"
port = 8080
secrets = ["POSTGRES_PASSWORD"]

[[service]]
name = "postgres"
kind = "database"
engine = "postgres"

[alerting]
default_receiver = "hook"

[[alerting.receiver]]
name = "hook"
type = "webhook"
url = "https://hooks.example.com/shop"
token = { env = "POSTGRES_PASSWORD" }

[platform.compose]
"#,
    ));
    let text = out.read("docker-compose.yml");
    assert_eq!(
        text.matches("\n    environment: POSTGRES_PASSWORD\n")
            .count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("# Needs in the environment: POSTGRES_PASSWORD\n"),
        "{text}"
    );
    let compose = out.yaml("docker-compose.yml");
    assert_eq!(
        compose["services"]["alertmanager-0"]["secrets"],
        serde_json::json!(["postgres-password"])
    );
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_compose_file_matches_its_snapshot() {
    assert_example_snapshots("compose");
}
