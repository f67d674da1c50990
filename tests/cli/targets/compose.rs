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

/// Caddy (the version the Compose file pins) loads every generated OTLP
/// gateway, with the password hash its environment must give it; App-Oint
/// has one (App Platform pushes), and the gateway runs in `otlp.rs`.
#[test]
fn caddy_accepts_every_otlp_gateway() {
    let Some(caddy) = validator("caddy") else {
        return;
    };
    let hash = run_ok(
        "caddy hash-password",
        std::process::Command::new(&caddy).args(["hash-password", "--plaintext", "x"]),
    );
    let mut checked = Vec::new();
    for out in platform_trees("compose") {
        if !out.has("otlp-gateway/Caddyfile") {
            continue;
        }
        run_ok(
            &format!("caddy adapt --validate ({})", out.name()),
            std::process::Command::new(&caddy)
                .args(["adapt", "--adapter", "caddyfile", "--validate", "--config"])
                .arg(out.join("otlp-gateway/Caddyfile"))
                .env("OTLP_PUSH_PASSWORD_HASH", hash.trim())
                .env("XDG_DATA_HOME", out.path())
                .env("XDG_CONFIG_HOME", out.path()),
        );
        checked.push(out.name().to_string());
    }
    assert!(
        checked.iter().any(|n| n.contains("app-oint")),
        "{checked:?}"
    );
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
    // 2 to 20 replicas: no fixed host port (see the --scale test).
    assert_eq!(api["ports"][0], "5001");
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
    // App Platform pushes to its OTLP receiver: loopback only (otlp.rs).
    assert_eq!(services["prometheus-0"]["ports"][0], "127.0.0.1:9090:9090");
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

/// `docker compose up --scale api=3` starts three replicas only if no host
/// port is fixed: a service that may run several publishes its container
/// port alone (Docker gives each replica a host port), one that runs one
/// keeps its fixed port, and Prometheus finds every replica by DNS at the
/// container port. docker-compose 1.29 reads the file as the engine would
/// get it; there is no Docker engine here to start replicas.
#[test]
fn a_service_that_scales_has_no_fixed_host_port() {
    let Some(tool) = validator("docker-compose") else {
        return;
    };
    let scaled = generate(&Spec::app_oint());
    let single = generate(&Spec::toml(
        "[project]\nname = \"shop\"\n[[service]]\nname = \"api\"\nimage = \"shop/api:1\"\nport = 8080\nreplicas = 1\n[platform.compose]\n",
    ));
    for (out, port, published) in [(&scaled, 5001, None), (&single, 8080, Some(8080))] {
        let text = docker_compose_config(&tool, out.name(), out.path(), &["config"]);
        let config: Value = serde_saphyr::from_str(&text).expect("docker-compose config is YAML");
        let ports = config["services"]["api"]["ports"]
            .as_array()
            .expect("ports");
        assert_eq!(ports.len(), 1, "{ports:?}");
        // docker-compose prints `- 5001/tcp` or the long form.
        let (target, host) = match &ports[0] {
            Value::String(s) => {
                let s = s.trim_end_matches("/tcp");
                match s.rsplit_once(':') {
                    Some((h, t)) => (
                        t.parse().ok(),
                        h.rsplit(':').next().and_then(|h| h.parse().ok()),
                    ),
                    None => (s.parse().ok(), None),
                }
            }
            p => (
                p["target"].as_u64(),
                p["published"]
                    .as_u64()
                    .or_else(|| p["published"].as_str().and_then(|s| s.parse().ok())),
            ),
        };
        assert_eq!(target, Some(port), "{}: {ports:?}", out.name());
        assert_eq!(host, published, "{}: {ports:?}", out.name());
        let prometheus = out.yaml("prometheus/prometheus.yml");
        let api = prometheus["scrape_configs"]
            .as_array()
            .expect("jobs")
            .iter()
            .find(|j| j["job_name"] == "api")
            .expect("api job");
        assert_eq!(api["dns_sd_configs"][0]["names"][0], "api");
        assert_eq!(api["dns_sd_configs"][0]["port"], port);
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
