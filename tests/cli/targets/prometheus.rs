//! Prometheus's scrape config, `prometheus/prometheus.yml`: promtool
//! accepts it, it scrapes every service, the stack and every region the
//! spec names, and App-Oint's matches its snapshot.

use std::collections::BTreeMap;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn promtool_accepts_every_examples_prometheus_config() {
    let Some(tool) = validator("promtool") else {
        return;
    };
    let mut kubernetes = 0;
    for tree in examples_and_fixtures().iter().chain(&other_trees()) {
        promtool_check_config(&tool, tree.path());
        // The in-cluster config names files only a pod has (its token, the
        // rules mounted at /etc/prometheus/rules): its syntax, discovery
        // and relabelling are checked.
        if tree.has(KUBERNETES) {
            promtool(
                &tool,
                &["check", "config", "--syntax-only"],
                &tree.join(KUBERNETES),
            );
            kubernetes += 1;
        }
    }
    assert!(kubernetes > 0, "no tree has {KUBERNETES}");
}

const KUBERNETES: &str = harden::targets::prometheus::kubernetes::PATH;

// --- (b) The numbers in the files equal the model and the spec ----------------

/// The jobs of a config: name, static targets, and the names DNS discovery
/// resolves.
fn jobs(config: &serde_json::Value) -> Vec<(&str, Vec<&str>, Vec<&str>)> {
    fn strings<'a>(v: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
        v.as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g[key].as_array().expect("a list").iter())
            .map(|t| t.as_str().expect("a string"))
            .collect()
    }
    config["scrape_configs"]
        .as_array()
        .expect("scrape_configs")
        .iter()
        .map(|job| {
            (
                job["job_name"].as_str().expect("job_name"),
                strings(&job["static_configs"], "targets"),
                strings(&job["dns_sd_configs"], "names"),
            )
        })
        .collect()
}

/// The seed report's failed check: "Prometheus configuration missing App-Oint targets".
#[test]
fn app_oint_prometheus_scrapes_every_service_and_the_stack() {
    let out = generate(&Spec::app_oint());
    let config = out.yaml("prometheus/prometheus.yml");
    let none: Vec<&str> = Vec::new();
    assert_eq!(
        jobs(&config),
        vec![
            ("prometheus", vec!["localhost:9090"], none.clone()),
            // Every member of the Alertmanager cluster, each a process.
            (
                "alertmanager",
                vec![
                    "alertmanager-0:9093",
                    "alertmanager-1:9093",
                    "alertmanager-2:9093",
                ],
                none.clone(),
            ),
            // Every replica: each A record of `api` in Docker's DNS.
            ("api", none.clone(), vec!["api"]),
            ("cache", vec!["cache:9121"], none.clone()),
            // Where the backup jobs push their metrics.
            ("pushgateway", vec!["pushgateway:9091"], none.clone()),
        ]
    );
    assert_eq!(config["global"]["external_labels"]["project"], "app-oint");
    assert_eq!(config["global"]["external_labels"]["region"], "fra1");
    // Two replicas: each names itself, and their alerts drop the name.
    assert_eq!(
        config["global"]["external_labels"]["replica"],
        "${PROMETHEUS_REPLICA}"
    );
    assert_eq!(
        config["alerting"]["alert_relabel_configs"],
        serde_json::json!([{"regex": "replica", "action": "labeldrop"}])
    );
    // Every member by its own address, none load-balanced.
    assert_eq!(
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"],
        serde_json::json!([
            "alertmanager-0:9093",
            "alertmanager-1:9093",
            "alertmanager-2:9093"
        ])
    );
    let api = &config["scrape_configs"][2];
    assert_eq!(api["metrics_path"], "/metrics");
    assert_eq!(api["dns_sd_configs"][0]["type"], "A");
    assert_eq!(api["dns_sd_configs"][0]["port"], 5001);
    let labels: Vec<(&str, &str)> = api["relabel_configs"]
        .as_array()
        .expect("relabel_configs")
        .iter()
        .map(|r| {
            (
                r["target_label"].as_str().expect("target_label"),
                r["replacement"].as_str().expect("replacement"),
            )
        })
        .collect();
    assert_eq!(labels, [("service", "api"), ("region", "fra1")]);
}

#[test]
fn every_scrape_target_carries_a_project_region() {
    let out = generate(&Spec::app_oint());
    let config = out.yaml("prometheus/prometheus.yml");
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for job in config["scrape_configs"].as_array().expect("jobs") {
        let name = job["job_name"].as_str().expect("job name");
        let regions: Vec<&str> = match job["static_configs"].as_array() {
            Some(groups) => groups
                .iter()
                .map(|g| {
                    g["labels"]["region"]
                        .as_str()
                        .unwrap_or_else(|| panic!("job {name} has a target without a region: {g}"))
                })
                .collect(),
            None => job["relabel_configs"]
                .as_array()
                .expect("discovered targets are relabelled")
                .iter()
                .filter(|r| r["target_label"] == "region")
                .map(|r| r["replacement"].as_str().expect("a region"))
                .collect(),
        };
        for region in regions {
            assert!(["fra1", "nyc1"].contains(&region), "{name}: {region}");
            seen.entry(name.to_string())
                .or_default()
                .push(region.to_string());
        }
    }
    // Compose runs in the primary region: the stack and the api there.
    assert_eq!(seen["prometheus"], ["fra1"]);
    assert_eq!(seen["alertmanager"], ["fra1"]);
    assert_eq!(seen["api"], ["fra1"]);
}

/// The in-cluster config: each pod of each service (by its Deployment's pod
/// labels and its metrics port) in the spec's namespace, the kubelet's
/// cAdvisor and kube-state-metrics; rules from the mounted directory; the
/// region in the external labels from the pod's environment (each region's
/// cluster runs the same file); every Alertmanager member by its pod's name.
#[test]
fn app_oint_kubernetes_prometheus_discovers_each_pod_in_the_namespace() {
    let out = generate(&Spec::app_oint());
    let config = out.yaml(KUBERNETES);
    assert_eq!(config["rule_files"][0], "/etc/prometheus/rules/*.yml");
    assert_eq!(
        config["global"]["external_labels"]["region"],
        "${PROMETHEUS_REGION}"
    );
    assert_eq!(
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"],
        serde_json::json!([
            "alertmanager-0.alertmanager.app-oint.svc:9093",
            "alertmanager-1.alertmanager.app-oint.svc:9093",
            "alertmanager-2.alertmanager.app-oint.svc:9093"
        ])
    );
    let by_name = |name: &str| -> serde_json::Value {
        config["scrape_configs"]
            .as_array()
            .expect("jobs")
            .iter()
            .find(|j| j["job_name"] == name)
            .unwrap_or_else(|| panic!("no job {name}"))
            .clone()
    };
    let deployment = out.yaml("k8s/api/deployment.yaml");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (job, port) in [("api", "5001"), ("cache", "9121"), ("pushgateway", "9091")] {
        let j = by_name(job);
        assert_eq!(j["kubernetes_sd_configs"][0]["role"], "pod", "{job}");
        assert_eq!(
            j["kubernetes_sd_configs"][0]["namespaces"]["names"],
            serde_json::json!(["app-oint"]),
            "{job}"
        );
        let relabel = j["relabel_configs"].as_array().expect("relabel");
        assert_eq!(relabel[0]["action"], "keep");
        assert_eq!(relabel[0]["regex"], format!("{job};app-oint"));
        assert_eq!(relabel[1]["regex"], port);
        let targets: Vec<&str> = relabel
            .iter()
            .filter_map(|r| r["target_label"].as_str())
            .collect();
        assert_eq!(targets, ["service", "namespace", "pod", "region"], "{job}");
    }
    // The keep rule's labels are those the Deployment puts on its pods.
    assert_eq!(pod_labels["app.kubernetes.io/name"], "api");
    assert_eq!(pod_labels["app.kubernetes.io/part-of"], "app-oint");
    let cadvisor = by_name("kubernetes-cadvisor");
    assert_eq!(cadvisor["kubernetes_sd_configs"][0]["role"], "node");
    assert_eq!(cadvisor["scheme"], "https");
    assert_eq!(cadvisor["metrics_path"], "/metrics/cadvisor");
    assert_eq!(
        cadvisor["authorization"]["credentials_file"],
        "/var/run/secrets/kubernetes.io/serviceaccount/token"
    );
    assert_eq!(
        cadvisor["tls_config"]["ca_file"],
        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    );
    assert_eq!(
        by_name("kube-state-metrics")["static_configs"][0]["targets"][0],
        "kube-state-metrics.app-oint.svc:8080"
    );
    // No role beyond what the RBAC grants (pods in the namespace, nodes).
    let roles: std::collections::BTreeSet<&str> = config["scrape_configs"]
        .as_array()
        .expect("jobs")
        .iter()
        .flat_map(|j| j["kubernetes_sd_configs"].as_array().into_iter().flatten())
        .map(|sd| sd["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["node", "pod"].into());
}

/// `targets` in the spec stay static on every platform: one process per
/// address, as written.
#[test]
fn explicit_targets_stay_static_in_both_configs() {
    let text = std::fs::read_to_string(root().join("examples/app-oint/hardening.toml"))
        .expect("read App-Oint");
    let spec = text.replacen(
        "port = 5001\n",
        "port = 5001\ntargets = { fra1 = [\"10.0.0.11:5001\"], nyc1 = [\"10.1.0.11:5001\"] }\n",
        1,
    );
    let out = generate(&Spec::toml(spec));
    for path in ["prometheus/prometheus.yml", KUBERNETES] {
        let config = out.yaml(path);
        let api = config["scrape_configs"]
            .as_array()
            .expect("jobs")
            .iter()
            .find(|j| j["job_name"] == "api")
            .expect("api job")
            .clone();
        assert!(api.get("kubernetes_sd_configs").is_none(), "{path}");
        assert!(api.get("dns_sd_configs").is_none(), "{path}");
        let targets: Vec<&str> = api["static_configs"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["targets"][0].as_str().expect("target"))
            .collect();
        assert_eq!(targets, ["10.0.0.11:5001", "10.1.0.11:5001"], "{path}");
    }
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_prometheus_config_matches_its_snapshot() {
    assert_example_snapshots("prometheus");
}
