//! A PodMonitor finds the same targets, with the same labels, as the
//! in-cluster Prometheus's job, proven with a real Prometheus 3 against the
//! fake Kubernetes API (`support/kube_api.rs`, as in `discovery.rs`).
//!
//! The operator is not run: its translation of a PodMonitor into a scrape
//! job is reproduced here from prometheus-operator's
//! `generatePodMonitorConfig` (pkg/prometheus/promcfg.go): job name
//! `podMonitor/<namespace>/<name>/<endpoint>`, role `pod` in the
//! PodMonitor's namespace, then its relabelings in this order: the job name
//! kept in `__tmp_prometheus_job_name`; pods in phase Failed or Succeeded
//! dropped; each `matchLabels` pair kept (label and its `labelpresent`);
//! the container port kept by name; `namespace`, `container` and `pod`
//! copied; `job` set to `<namespace>/<name>`; `endpoint` set to the port
//! name; the PodMonitor's own relabelings; the sharding `hashmod` of the
//! address (one shard). One Prometheus runs that job beside the generated
//! in-cluster job; every running replica of the service must be a target of
//! both, with exactly the same labels.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::discovery::{active_targets, free_port_on, test_copy};
use crate::support::*;

const NAMESPACE: &str = "demo";
const REPLICAS: usize = 2;

/// The scrape job the operator generates from a PodMonitor (its first
/// endpoint), per `generatePodMonitorConfig`.
fn operator_job(monitor: &Value, api_server: &str) -> Value {
    let ns = monitor["metadata"]["namespace"]
        .as_str()
        .expect("namespace");
    let name = monitor["metadata"]["name"].as_str().expect("name");
    let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
    let port = endpoint["port"].as_str().expect("a named port");
    let sanitize = |l: &str| -> String {
        l.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    };
    let mut relabel = vec![
        json!({ "source_labels": ["job"], "target_label": "__tmp_prometheus_job_name" }),
        json!({ "source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)", "action": "drop" }),
    ];
    let mut selector: Vec<(&String, &Value)> = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("matchLabels")
        .iter()
        .collect();
    selector.sort_by_key(|(k, _)| k.as_str());
    for (key, value) in selector {
        relabel.push(json!({
            "action": "keep",
            "source_labels": [
                format!("__meta_kubernetes_pod_label_{}", sanitize(key)),
                format!("__meta_kubernetes_pod_labelpresent_{}", sanitize(key)),
            ],
            "regex": format!("({});true", value.as_str().expect("a value")),
        }));
    }
    relabel.extend([
        json!({ "action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": port }),
        json!({ "source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace" }),
        json!({ "source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container" }),
        json!({ "source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod" }),
        json!({ "target_label": "job", "replacement": format!("{ns}/{name}") }),
        json!({ "target_label": "endpoint", "replacement": port }),
    ]);
    for r in endpoint["relabelings"].as_array().expect("relabelings") {
        let mut out = serde_json::Map::new();
        for (k, v) in r.as_object().expect("a relabeling") {
            let key = match k.as_str() {
                "sourceLabels" => "source_labels",
                "targetLabel" => "target_label",
                other => other,
            };
            out.insert(key.into(), v.clone());
        }
        relabel.push(Value::Object(out));
    }
    relabel.extend([
        json!({ "source_labels": ["__address__"], "target_label": "__tmp_hash", "modulus": 1, "action": "hashmod" }),
        json!({ "source_labels": ["__tmp_hash"], "regex": "0", "action": "keep" }),
    ]);
    json!({
        "job_name": format!("podMonitor/{ns}/{name}/0"),
        "honor_labels": endpoint["honorLabels"].as_bool().unwrap_or(false),
        "metrics_path": endpoint["path"],
        "kubernetes_sd_configs": [{
            "role": "pod",
            "namespaces": { "names": [ns] },
            "api_server": api_server,
        }],
        "relabel_configs": relabel,
    })
}

/// The labels of each active target of a scrape pool, sorted.
fn pool_labels(prom_port: u16, pool: &str) -> Vec<Value> {
    let mut labels: Vec<Value> = active_targets(prom_port)
        .into_iter()
        .filter(|t| t["scrapePool"] == pool && t["health"] == "up")
        .map(|t| t["labels"].clone())
        .collect();
    labels.sort_by_key(Value::to_string);
    labels
}

#[test]
fn a_real_prometheus_scrapes_each_replica_through_the_pod_monitor_with_the_in_cluster_labels() {
    let Some(prometheus) = validator("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let port = free_port_on(REPLICAS);
    let [prom_port] = free_ports();
    let spec = |operator: &str| {
        format!(
            r#"[project]
name = "demo"

[monitoring]
scrape_interval = "1s"
scrape_timeout = "1s"
evaluation_interval = "1s"

[[service]]
name = "api"
image = "registry.example.com/demo/api:1.0.0"
port = {port}
replicas = {REPLICAS}

[platform.kubernetes]
namespace = "{NAMESPACE}"
{operator}
"#
        )
    };
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let mut outs = Vec::new();
    for (name, operator) in [("plain", ""), ("operator", "prometheus_operator = true")] {
        let spec_path = root.join(format!("{name}.toml"));
        fs::write(&spec_path, spec(operator)).expect("write spec");
        let out = root.join(name);
        harden(&["generate", &s(&spec_path), "--out", &s(&out)]).success();
        outs.push(out);
    }
    let (plain, operator) = (&outs[0], &outs[1]);

    // The generated Deployment's pods, another app's pod at a replica's
    // address and port, and an api pod not started yet.
    let deployment = yaml(&operator.join("k8s/api/deployment.yaml"));
    let mut pods = FakePod::from_deployment(&deployment, REPLICAS);
    let ips: Vec<String> = pods.iter().map(|p| p.ip.clone()).collect();
    let mut other = FakePod::from_deployment(&deployment, 1).remove(0);
    other.name = "worker-0".into();
    other.labels["app.kubernetes.io/name"] = json!("worker");
    let mut pending = FakePod::from_deployment(&deployment, 1).remove(0);
    pending.name = "api-5d4f8b7c9-pending".into();
    pending.phase = "Pending";
    pods.push(other);
    pods.push(pending);
    let api = FakeKubeApi::start(NAMESPACE, pods);

    // The in-cluster job as generated, and the operator's job from the
    // PodMonitor, in one Prometheus.
    let generated = yaml(&plain.join("k8s/prometheus/prometheus.yml"));
    let rules = root.join("no-rules");
    let mut config = test_copy(&generated, &api.url, &rules);
    config["scrape_configs"]
        .as_array_mut()
        .expect("jobs")
        .retain(|j| j["job_name"] == "api");
    let monitor = yaml(&operator.join("k8s/operator/api-podmonitor.yaml"));
    let job = operator_job(&monitor, &api.url);
    let pool = job["job_name"].as_str().expect("name").to_string();
    config["scrape_configs"]
        .as_array_mut()
        .expect("jobs")
        .push(job);
    let config_path = root.join("prometheus.yml");
    fs::write(&config_path, config.to_string()).expect("write config");
    promtool_config_ok(&config_path);

    let mut procs = demo_replicas(root, &ips, port);
    procs.push(Proc::start(
        "prometheus",
        root,
        &prometheus,
        &[
            format!("--config.file={}", s(&config_path)),
            format!("--storage.tsdb.path={}", s(&root.join("data"))),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
    ));

    let deadline = Instant::now() + Duration::from_secs(60);
    let (in_cluster, through_monitor) = loop {
        let a = pool_labels(prom_port, "api");
        let b = pool_labels(prom_port, &pool);
        if a.len() == REPLICAS && b.len() == REPLICAS {
            break (a, b);
        }
        assert!(
            Instant::now() < deadline,
            "not every replica is up in both pools: {a:?} {b:?}\nrequests to the fake API: {:?}\n{}",
            api.requests(),
            procs.iter().map(Proc::tail).collect::<Vec<_>>().join("\n")
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(through_monitor, in_cluster);
    for labels in &through_monitor {
        let mut keys: Vec<&String> = labels.as_object().expect("labels").keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["instance", "job", "namespace", "pod", "service"],
            "{labels}"
        );
        assert_eq!(labels["job"], "api");
        assert_eq!(labels["namespace"], NAMESPACE);
    }
    // Neither the other app's pod nor the pending one became a target.
    let all = active_targets(prom_port)
        .into_iter()
        .filter(|t| t["scrapePool"] == pool.as_str())
        .count();
    assert_eq!(all, REPLICAS);
}

/// `promtool check config` accepts the test's configuration.
fn promtool_config_ok(path: &Path) {
    if let Some(tool) = validator("promtool") {
        promtool(&tool, &["check", "config", "--syntax-only"], path);
    }
}
