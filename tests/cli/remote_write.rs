//! `[monitoring.remote_write]` on a real Prometheus: the generated
//! configuration, run as its first replica with the environment the
//! platforms give it, sends every series to a loopback receiver that
//! decodes the remote-write protocol by hand (`support/remote_write.rs`).
//! The receiver holds the recorded SLO series of the service with the
//! configuration's external labels (project, environment, region and the
//! replica's name), and the requests carry the basic authentication whose
//! password Prometheus read from the file the spec names; that password is
//! nowhere in the generated tree.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::support::*;

const PASSWORD: &str = "s3cr3t-remote-write-password";

fn spec(prometheus: u16, demo: u16, store: &str, password: &Path) -> String {
    format!(
        r#"[project]
name = "rw"
environment = "test"
regions = ["local"]

[monitoring]
prometheus_port = {prometheus}
scrape_interval = "1s"
evaluation_interval = "1s"

[monitoring.remote_write]
url = "{store}/api/v1/push"
username = "harden"
password = {{ file = "{password}" }}
max_samples_per_send = 500

[[service]]
name = "api"
image = "example/api:1"
port = {demo}
targets = {{ local = ["127.0.0.1:{demo}"] }}

[[service.slo]]
name = "availability"
objective = "99%"
availability = {{}}
"#,
        password = password.display()
    )
}

#[test]
fn every_series_reaches_the_store_with_the_external_labels() {
    let Some(prometheus) = validator("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let store = Capture::start("204 No Content", "text/plain", "");
    let password = root.join("remote-write-password");
    fs::write(&password, PASSWORD).expect("write");
    let [prom_port, demo_port] = free_ports();
    let spec_path = root.join("hardening.toml");
    fs::write(
        &spec_path,
        spec(prom_port, demo_port, &store.url, &password),
    )
    .expect("write");
    let out = root.join("out");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    harden(&["generate", &s(&spec_path), "--out", &s(&out)]).success();
    for (path, bytes) in read_tree(&out) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "{path} holds the password"
        );
    }
    let config = out.join("prometheus/prometheus.yml");
    let text = fs::read_to_string(&config).expect("read");
    assert!(
        text.contains(&format!("password_file: {}", password.display())),
        "{text}"
    );

    let demo = Proc::start(
        "harden-demo",
        root,
        Path::new(env!("CARGO_BIN_EXE_harden-demo")),
        &["--port".into(), demo_port.to_string()],
    );
    let prom = Proc::start_with_env(
        "prometheus",
        root,
        &prometheus,
        &[
            format!("--config.file={}", s(&config)),
            format!("--storage.tsdb.path={}", s(&root.join("data"))),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        &[("PROMETHEUS_REPLICA", "prometheus-0")],
    );
    let _traffic = Traffic::start(demo_port);
    let recorded = "slo:sli_error:ratio_rate5m";
    let found = || {
        store
            .requests()
            .iter()
            .filter_map(|r| decode_write_request(&r.body).ok())
            .flatten()
            .find(|series| {
                series.labels.get("__name__").map(String::as_str) == Some(recorded)
                    && series.labels.get("service").map(String::as_str) == Some("api")
            })
    };
    wait_for(
        "the recorded SLO series at the store",
        Duration::from_secs(60),
        &[&demo, &prom],
        || found().is_some(),
    );
    let series = found().expect("found");
    for (label, value) in [
        ("project", "rw"),
        ("environment", "test"),
        ("region", "local"),
        ("replica", "prometheus-0"),
    ] {
        assert_eq!(
            series.labels.get(label).map(String::as_str),
            Some(value),
            "{series:?}"
        );
    }
    assert!(!series.samples.is_empty(), "{series:?}");
    // Every request decodes, was compressed as the protocol says, and
    // carries the credentials from the file.
    let basic = format!("Basic {}", base64(&format!("harden:{PASSWORD}")));
    for request in store.requests() {
        decode_write_request(&request.body).expect("a remote-write body");
        assert_eq!(request.header("content-encoding"), Some("snappy"));
        assert_eq!(request.header("authorization"), Some(basic.as_str()));
    }
}

/// Standard base64 with padding.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A credential from the environment reaches every platform's Prometheus
/// as the file its configuration names: a Compose secret, a Secret volume
/// on Kubernetes, never the value.
#[test]
fn the_remote_write_credential_is_a_file_on_every_platform() {
    let out = generate(&Spec::toml(STAGING));
    let file = "/run/secrets/mimir-token";
    for path in ["prometheus/prometheus.yml", "k8s/prometheus/prometheus.yml"] {
        let rw = &out.yaml(path)["remote_write"][0];
        assert_eq!(rw["url"], "https://mimir.example.com/api/v1/push", "{path}");
        assert_eq!(rw["authorization"]["credentials_file"], file, "{path}");
        assert_eq!(
            rw["queue_config"],
            serde_json::json!({"capacity": 10000, "max_shards": 50, "max_samples_per_send": 2000}),
            "{path}"
        );
    }
    let compose = out.yaml("docker-compose.yml");
    assert_eq!(
        compose["services"]["prometheus"]["secrets"],
        serde_json::json!(["mimir-token"])
    );
    assert_eq!(
        compose["secrets"]["mimir-token"]["environment"],
        "MIMIR_TOKEN"
    );
    let pod = &out.yaml("k8s/prometheus/statefulset.yaml")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "remote-write-secret")
        .expect("the credential's volume")
        .clone();
    assert_eq!(volume["secret"]["secretName"], "stage-prometheus");
    assert_eq!(volume["secret"]["items"][0]["path"], "mimir-token");
    let mounted = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .any(|m| m["name"] == "remote-write-secret" && m["mountPath"] == "/run/secrets");
    assert!(mounted);
}

/// Regions that meet only in the store: each region's Prometheus sees only
/// its own pods, so RegionDown is in `prometheus/global/regions.yml` for the
/// store's ruler, and nowhere a region's Prometheus loads it (its rule
/// files, the Kubernetes copies, the rule-group names `harden check
/// --live` expects). promtool proves the rule on series as the store holds
/// them (both replicas, `region` from each Prometheus): it fires for a
/// region whose targets are down and for one whose series stopped, and not
/// while every region, or no region, serves (`promtool_rules`, run on this
/// fixture's tree by the alerting target's tests, runs it too).
#[test]
fn regions_that_meet_in_a_store_get_rules_for_its_ruler_only() {
    let tree = generate(&Spec::Fixture(REGIONS_REMOTE_WRITE));
    let global = tree.yaml("prometheus/global/regions.yml");
    let rules: Vec<(&str, &str)> = global["groups"][0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["alert"].as_str().expect("an alert"),
                r["labels"]["service"].as_str().expect("a service"),
            )
        })
        .collect();
    assert_eq!(rules, [("RegionDown", "api"), ("RegionDown", "worker")]);
    assert_eq!(global["groups"][0]["rules"][0]["for"], "5m");
    for config in ["prometheus/prometheus.yml", "k8s/prometheus/prometheus.yml"] {
        let loads = tree.yaml(config)["rule_files"].to_string();
        assert!(!loads.contains("global"), "{config}: {loads}");
    }
    assert!(!tree.has("k8s/prometheus/rules/regions.yml"));
    for service in ["api", "worker"] {
        let per_region = tree.read(&format!("prometheus/rules/{service}.yml"));
        assert!(!per_region.contains("alert: RegionDown"), "{per_region}");
    }
    let names =
        harden::targets::alerting::rule_group_names(&model(&root().join(REGIONS_REMOTE_WRITE)));
    assert!(!names.contains("global-regions"), "{names:?}");
    // Alertmanager lets a region's outage silence its TargetDown alerts.
    let inhibit = tree.yaml("alertmanager/alertmanager.yml")["inhibit_rules"].to_string();
    assert!(
        inhibit.contains("alertname=\\\"RegionDown\\\""),
        "{inhibit}"
    );

    let Some(promtool) = validator("promtool") else {
        return;
    };
    promtool_rules(&promtool, tree.path());
    let test = tree.yaml("prometheus/tests/global-regions.test.yml");
    let names: Vec<&str> = test["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.iter().any(|n| n.contains("series stop")), "{names:?}");
}
