//! Kubernetes, Compose and DigitalOcean: each platform's real validator
//! accepts what harden generates, and the three carry the same numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

/// Every manifest under `k8s/`, relative to the output, kustomization aside.
fn manifests(out: &Path) -> Vec<String> {
    read_tree(out)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|p| {
            p.starts_with("k8s/") && p.ends_with(".yaml") && !p.ends_with("kustomization.yaml")
        })
        .collect()
}

pub(crate) fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[track_caller]
fn assert_ok(what: &str, output: &std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{what} failed:\n{text}");
    text
}

/// A spec written into a temporary directory, generated there.
fn generate_spec(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hardening.toml"), spec).expect("spec written");
    harden_in(dir.path(), &["generate"]).success();
    dir
}

/// A small spec: one region, a fixed replica count, a secret file.
const FIXED: &str = r#"
[project]
name = "shop"
regions = ["ams3"]

[[service]]
name = "api"
image = "ghcr.io/shop/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
port = 8080
replicas = 3
min_available = 2
secrets = ["API_TOKEN"]
probes = { interval = "15s", timeout = "2s", startup_grace = "1m", failure_threshold = 4 }

[alerting]
default_receiver = "hook"

[[alerting.receiver]]
name = "hook"
type = "webhook"
url = "https://hooks.example.com/shop"
token = { file = "/etc/alertmanager/secrets/hook-token" }

[platform.compose]
[platform.kubernetes]
[platform.digitalocean]
"#;

/// The least a spec can say: no regions, no receivers, no resources.
const MINIMAL: &str = r#"
[project]
name = "tiny"

[[service]]
name = "web"
image = "nginx:1.27"
port = 8080

[[service]]
name = "cache"
kind = "database"
engine = "redis"

[[service]]
name = "site"
kind = "static"
build = { output_dir = "public" }

[platform.compose]
[platform.kubernetes]
[platform.digitalocean]
"#;

fn outputs() -> Vec<(String, tempfile::TempDir)> {
    let mut out: Vec<(String, tempfile::TempDir)> = example_specs()
        .into_iter()
        .map(|spec| (spec.display().to_string(), generate_example(&spec)))
        .collect();
    out.push(("the fixed-replicas spec".to_string(), generate_spec(FIXED)));
    out.push(("the minimal spec".to_string(), generate_spec(MINIMAL)));
    out
}

#[test]
fn kubernetes_validate_accepts_every_manifest_without_warnings() {
    let Some(tool) = validator("kubernetes-validate") else {
        return;
    };
    for (name, out) in outputs() {
        kubernetes_validate(&tool, &name, out.path());
    }
}

/// `kubernetes-validate --strict` passes every manifest of a tree, without a warning.
pub(crate) fn kubernetes_validate(tool: &Path, name: &str, out: &Path) {
    let files = manifests(out);
    assert!(files.len() >= 4, "{name}: too few manifests: {files:?}");
    let result = Command::new(tool)
        .arg("--strict")
        .args(&files)
        .current_dir(out)
        .output()
        .expect("kubernetes-validate runs");
    let text = assert_ok(&format!("kubernetes-validate ({name})"), &result);
    assert!(!text.contains("WARN"), "{name}: a manifest warned:\n{text}");
    for file in &files {
        assert!(
            text.lines().any(|l| l.contains(&format!("{file} passed"))),
            "{name}: {file} did not pass:\n{text}"
        );
    }
}

/// The check above can fail: an unknown field in a generated manifest is
/// rejected by the same command.
#[test]
fn kubernetes_validate_rejects_an_unknown_field() {
    let Some(tool) = validator("kubernetes-validate") else {
        return;
    };
    let out = generate_example(&example_specs()[0]);
    let path = out.path().join("k8s/api/hpa.yaml");
    let text = std::fs::read_to_string(&path).expect("hpa");
    std::fs::write(&path, text.replace("  minReplicas:", "  minReplica:")).expect("written");
    let result = Command::new(&tool)
        .arg("--strict")
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!result.status.success(), "a misspelt field passed");
}

#[test]
fn kustomization_lists_every_manifest_once() {
    for (name, out) in outputs() {
        let kustomization = yaml(&out.path().join("k8s/kustomization.yaml"));
        let mut listed: Vec<String> = kustomization["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| format!("k8s/{}", r.as_str().expect("a path")))
            .collect();
        listed.sort();
        let mut present = manifests(out.path());
        present.sort();
        assert_eq!(listed, present, "{name}");
    }
}

#[test]
fn compose_file_passes_the_compose_spec_schema() {
    let Some(tool) = validator("check-jsonschema") else {
        return;
    };
    for (name, out) in outputs() {
        compose_schema(&tool, &name, out.path());
    }
}

/// `check-jsonschema` accepts a tree's `docker-compose.yml` as the compose spec.
pub(crate) fn compose_schema(tool: &Path, name: &str, out: &Path) {
    let result = Command::new(tool)
        .args([
            "--builtin-schema",
            "vendor.compose-spec",
            "docker-compose.yml",
        ])
        .current_dir(out)
        .output()
        .expect("check-jsonschema runs");
    assert_ok(&format!("check-jsonschema ({name})"), &result);
}

/// docker-compose 1.29 (Debian's) predates secrets taken from the
/// environment (Compose 2.x, in the compose spec above): it checks a copy
/// whose secrets read files instead. Everything else is checked as written.
#[test]
fn docker_compose_config_accepts_the_compose_file() {
    let Some(tool) = validator("docker-compose") else {
        return;
    };
    for (name, out) in outputs() {
        docker_compose_config(&tool, &name, out.path(), &["config", "-q"]);
    }
}

/// Runs `docker-compose -f <copy> ARGS` on a tree's compose file (as
/// above: secrets read from files in the copy) and returns its output.
pub(crate) fn docker_compose_config(tool: &Path, name: &str, out: &Path, args: &[&str]) -> String {
    let file = out.join("docker-compose.yml");
    let mut compose = yaml(&file);
    let mut vars = Vec::new();
    if let Some(secrets) = compose.get_mut("secrets").and_then(Value::as_object_mut) {
        for (key, secret) in secrets.iter_mut() {
            let var = secret["environment"]
                .as_str()
                .expect("from the environment")
                .to_string();
            vars.push(var);
            *secret = serde_json::json!({ "file": format!("./secrets/{key}") });
        }
    }
    let copy = out.join("docker-compose.v1.yml");
    std::fs::write(&copy, serde_json::to_string(&compose).expect("json")).expect("written");
    let mut command = Command::new(tool);
    command
        .args(["-f", "docker-compose.v1.yml"])
        .args(args)
        .current_dir(out);
    for var in &vars {
        command.env(var, "dummy");
    }
    let result = command.output().expect("docker-compose runs");
    let text = assert_ok(&format!("docker-compose config ({name})"), &result);
    std::fs::remove_file(&copy).expect("copy removed");
    text
}

/// `../shared` beside the repository (as in CI), or None (skip, or fail when
/// validators are required).
pub(crate) fn shared() -> Option<PathBuf> {
    let dir = root().join("../shared");
    if dir.join("tools/do_validate.py").is_file() {
        return Some(dir);
    }
    let required = std::env::var("HARDEN_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "../shared/tools/do_validate.py is required but missing"
    );
    eprintln!("skipping: ../shared is not beside the repository");
    None
}

#[test]
fn every_app_spec_conforms_to_digitaloceans_models() {
    let (Some(python), Some(shared)) = (validator("python3"), shared()) else {
        return;
    };
    for (name, out) in outputs() {
        do_validate(&python, &shared, &name, out.path());
    }
}

/// `do_validate.py` accepts every app spec of a tree.
pub(crate) fn do_validate(python: &Path, shared: &Path, name: &str, out: &Path) {
    let specs: Vec<String> = read_tree(out)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with(".do/"))
        .collect();
    assert!(!specs.is_empty(), "{name}: no app spec");
    let result = Command::new(python)
        .arg(shared.join("tools/do_validate.py"))
        .arg(shared.join("reference/digitalocean-app-spec"))
        .args(&specs)
        .current_dir(out)
        .output()
        .expect("do_validate.py runs");
    assert_ok(&format!("do_validate.py ({name})"), &result);
}

/// The CPU and memory targets, replica bounds, ports and health paths are
/// the spec's numbers on every platform.
#[test]
fn app_oint_platforms_carry_the_same_numbers() {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let dir = out.path();
    let hpa = yaml(&dir.join("k8s/api/hpa.yaml"));
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["maxReplicas"], 20);
    let targets: Vec<(String, i64)> = hpa["spec"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            (
                m["resource"]["name"].as_str().expect("name").to_string(),
                m["resource"]["target"]["averageUtilization"]
                    .as_i64()
                    .expect("target"),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [("cpu".to_string(), 80), ("memory".to_string(), 75)]
    );

    let deployment = yaml(&dir.join("k8s/api/deployment.yaml"));
    assert!(
        deployment["spec"].get("replicas").is_none(),
        "the HPA owns the count"
    );
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readiness");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/liveness");
    assert_eq!(container["livenessProbe"]["successThreshold"], 1);
    assert_eq!(container["startupProbe"]["successThreshold"], 1);
    assert_eq!(container["resources"]["requests"]["cpu"], "500m");
    assert_eq!(container["ports"][0]["containerPort"], 5001);
    let pdb = yaml(&dir.join("k8s/api/pdb.yaml"));
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);

    for region in ["fra1", "nyc1"] {
        let app = yaml(&dir.join(format!(".do/app-{region}.yaml")));
        assert_eq!(app["name"], format!("app-oint-{region}"));
        assert_eq!(app["region"], &region[..3]);
        let api = &app["services"][0];
        assert_eq!(api["http_port"], 5001);
        assert!(api.get("instance_count").is_none());
        assert_eq!(api["autoscaling"]["min_instance_count"], 2);
        assert_eq!(api["autoscaling"]["max_instance_count"], 20);
        assert_eq!(api["autoscaling"]["metrics"]["cpu"]["percent"], 80);
        assert_eq!(api["health_check"]["http_path"], "/readiness");
        assert_eq!(api["liveness_health_check"]["http_path"], "/liveness");
        let alerts: Vec<(&str, i64)> = api["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter_map(|a| Some((a["rule"].as_str()?, a["value"].as_i64()?)))
            .collect();
        assert!(alerts.contains(&("CPU_UTILIZATION", 80)), "{alerts:?}");
        assert!(alerts.contains(&("MEM_UTILIZATION", 75)), "{alerts:?}");
        assert_eq!(
            api["envs"],
            serde_json::json!([{ "key": "JWT_SECRET", "scope": "RUN_TIME", "type": "SECRET" }])
        );
        assert_eq!(app["static_sites"][0]["output_dir"], "build/web");
        assert_eq!(app["databases"][0]["engine"], "PG");
        assert_eq!(app["databases"][0]["version"], "16");
    }
    assert!(!dir.join(".do/app.yaml").exists());

    let compose = yaml(&dir.join("docker-compose.yml"));
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
    assert_eq!(compose["services"]["prometheus"]["ports"][0], "9090:9090");
    assert_eq!(compose["services"]["grafana"]["ports"][0], "3001:3000");
    assert_eq!(compose["services"]["alertmanager"]["ports"][0], "9093:9093");
    let command = compose["services"]["prometheus"]["command"].to_string();
    assert!(
        command.contains("--storage.tsdb.retention.time=30d"),
        "{command}"
    );
}

/// Receiver secrets reach Alertmanager at `/run/secrets/<name>` from the
/// variables the spec names, on Compose and Kubernetes, as names only.
#[test]
fn receiver_secrets_are_delivered_by_name() {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let dir = out.path();
    let expected = [
        ("pagerduty-routing-key", "PAGERDUTY_ROUTING_KEY"),
        ("slack-webhook-url", "SLACK_WEBHOOK_URL"),
        ("smtp-password", "SMTP_PASSWORD"),
    ];
    let compose = yaml(&dir.join("docker-compose.yml"));
    let mounted = &compose["services"]["alertmanager"]["secrets"];
    for (name, var) in expected {
        assert_eq!(compose["secrets"][name]["environment"], var);
        assert!(
            mounted
                .as_array()
                .expect("list")
                .contains(&Value::from(name)),
            "{name}"
        );
    }
    let deployment = yaml(&dir.join("k8s/alertmanager/deployment.yaml"));
    let pod = &deployment["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "receiver-secrets")
        .expect("a secret volume");
    assert_eq!(volume["secret"]["secretName"], "app-oint-alertmanager");
    let keys: Vec<&str> = volume["secret"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["key"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, expected.map(|(n, _)| n));
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "receiver-secrets")
        .expect("mounted");
    assert_eq!(mount["mountPath"], "/run/secrets");
}

#[test]
fn a_fixed_count_has_no_autoscaler_on_any_platform() {
    let out = generate_spec(FIXED);
    let dir = out.path();
    assert!(!dir.join("k8s/api/hpa.yaml").exists());
    let deployment = yaml(&dir.join("k8s/api/deployment.yaml"));
    assert_eq!(deployment["spec"]["replicas"], 3);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    // 4 failures × 15s cover the 1m startup grace.
    assert_eq!(container["startupProbe"]["periodSeconds"], 15);
    assert_eq!(container["startupProbe"]["failureThreshold"], 4);
    assert_eq!(container["livenessProbe"]["timeoutSeconds"], 2);
    let pdb = yaml(&dir.join("k8s/api/pdb.yaml"));
    assert_eq!(pdb["spec"]["minAvailable"], 2);
    let app = yaml(&dir.join(".do/app.yaml"));
    assert_eq!(app["name"], "shop");
    assert_eq!(app["region"], "ams");
    let api = &app["services"][0];
    assert_eq!(api["instance_count"], 3);
    assert!(api.get("autoscaling").is_none());
    assert_eq!(api["image"]["registry_type"], "GHCR");
    assert_eq!(api["image"]["registry"], "shop");
    assert_eq!(api["image"]["repository"], "api");
    assert!(api["image"].get("tag").is_none());
    assert_eq!(api["liveness_health_check"]["initial_delay_seconds"], 60);
    let compose = yaml(&dir.join("docker-compose.yml"));
    assert_eq!(
        compose["services"]["api"]["environment"],
        serde_json::json!(["API_TOKEN"])
    );
    // A secret file is mounted where Alertmanager reads it.
    let volumes = compose["services"]["alertmanager"]["volumes"].to_string();
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
    let out = generate_spec(
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
    );
    let text = std::fs::read_to_string(out.path().join("docker-compose.yml")).expect("compose");
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
    let compose = yaml(&out.path().join("docker-compose.yml"));
    assert_eq!(
        compose["services"]["alertmanager"]["secrets"],
        serde_json::json!(["postgres-password"])
    );
}
