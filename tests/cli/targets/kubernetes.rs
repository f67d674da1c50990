//! Kubernetes, `k8s/` and `k8s-regions/`: kubernetes-validate accepts
//! every manifest and each region's overlay as kubectl builds it, the
//! kustomization lists every manifest, the manifests carry the spec's
//! numbers, and App-Oint's match their snapshot.

use serde_json::Value;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn kubernetes_validate_accepts_every_manifest_without_warnings() {
    let Some(tool) = validator("kubernetes-validate") else {
        return;
    };
    for out in platform_trees("kubernetes") {
        kubernetes_validate(&tool, out.name(), out.path());
    }
}

/// The check above can fail: an unknown field in a generated manifest is
/// rejected by the same command.
#[test]
fn kubernetes_validate_rejects_an_unknown_field() {
    let Some(tool) = validator("kubernetes-validate") else {
        return;
    };
    let out = generate(&Spec::File(example_specs()[0].clone()));
    let path = out.join("k8s/api/hpa.yaml");
    let text = std::fs::read_to_string(&path).expect("hpa");
    std::fs::write(&path, text.replace("  minReplicas:", "  minReplica:")).expect("written");
    let result = kubernetes_validate_files(&tool, out.path(), &[&path]);
    assert!(!result.status.success(), "a misspelt field passed");
}

/// `kubectl kustomize` of a region's overlay: the base with the region on
/// every object and pod template, selectors untouched.
#[test]
fn each_region_overlay_builds_and_passes_kubernetes_validate() {
    let (Some(kubectl), Some(validate)) = (validator("kubectl"), validator("kubernetes-validate"))
    else {
        return;
    };
    let out = generate(&Spec::app_oint());
    for region in ["fra1", "nyc1"] {
        let built = kustomize(&kubectl, out.path(), &format!("k8s-regions/{region}"));
        let file = out.join(format!("{region}-built.yaml"));
        std::fs::write(&file, &built).expect("write");
        let result = kubernetes_validate_files(&validate, out.path(), &[&file]);
        let text = assert_ok("kubernetes-validate", &result);
        assert!(!text.contains("WARN"), "{region}: {text}");
        let docs: Vec<Value> = built
            .split("\n---\n")
            .map(|d| serde_saphyr::from_str(d).expect("a YAML object"))
            .collect();
        // One object per manifest, and one ConfigMap per generator entry
        // (the copied .yml and .json files are their contents).
        let tree = read_tree(out.path());
        let manifests = tree
            .iter()
            .filter(|(p, _)| {
                p.starts_with("k8s/") && p.ends_with(".yaml") && !p.ends_with("kustomization.yaml")
            })
            .count();
        let generated = std::fs::read_to_string(out.join("k8s/kustomization.yaml"))
            .expect("kustomization")
            .matches("\n  - name: ")
            .count();
        assert_eq!(
            docs.len(),
            manifests + generated,
            "{region}: every base object, once"
        );
        for doc in &docs {
            let what = format!("{region}: {} {}", doc["kind"], doc["metadata"]["name"]);
            assert_eq!(doc["metadata"]["labels"]["region"], region, "{what}");
            if doc["kind"] == "Deployment" {
                let template = &doc["spec"]["template"]["metadata"]["labels"];
                assert_eq!(template["region"], region, "{what}");
                assert!(
                    doc["spec"]["selector"]["matchLabels"]
                        .get("region")
                        .is_none(),
                    "{what}: the selector changed"
                );
            }
        }
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

#[test]
fn kustomization_lists_every_manifest_once() {
    for out in platform_trees("kubernetes") {
        let kustomization = out.yaml("k8s/kustomization.yaml");
        let mut listed: Vec<String> = kustomization["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| format!("k8s/{}", r.as_str().expect("a path")))
            .collect();
        listed.sort();
        let mut present = manifests(out.path());
        present.extend(operator_objects(out.path()));
        present.sort();
        assert_eq!(listed, present, "{}", out.name());
    }
}

/// The CPU and memory targets, replica bounds, ports and health paths are
/// the spec's numbers (as on the other platforms).
#[test]
fn app_oint_kubernetes_carries_the_spec_numbers() {
    let out = generate(&Spec::app_oint());
    let hpa = out.yaml("k8s/api/hpa.yaml");
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

    let deployment = out.yaml("k8s/api/deployment.yaml");
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
    let pdb = out.yaml("k8s/api/pdb.yaml");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
}

/// Receiver secrets reach Alertmanager at `/run/secrets/<name>` from the
/// Secret the spec's variables fill, as names only (as on Compose).
#[test]
fn receiver_secrets_are_delivered_by_name_on_kubernetes() {
    let out = generate(&Spec::app_oint());
    let statefulset = out.yaml("k8s/alertmanager/statefulset.yaml");
    let pod = &statefulset["spec"]["template"]["spec"];
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
    assert_eq!(
        keys,
        [
            "pagerduty-routing-key",
            "slack-webhook-url",
            "smtp-password"
        ]
    );
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "receiver-secrets")
        .expect("mounted");
    assert_eq!(mount["mountPath"], "/run/secrets");
}

#[test]
fn a_fixed_count_has_no_autoscaler_on_kubernetes() {
    let out = generate(&Spec::toml(FIXED));
    assert!(!out.has("k8s/api/hpa.yaml"));
    let deployment = out.yaml("k8s/api/deployment.yaml");
    assert_eq!(deployment["spec"]["replicas"], 3);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    // 4 failures × 15s cover the 1m startup grace.
    assert_eq!(container["startupProbe"]["periodSeconds"], 15);
    assert_eq!(container["startupProbe"]["failureThreshold"], 4);
    assert_eq!(container["livenessProbe"]["timeoutSeconds"], 2);
    let pdb = out.yaml("k8s/api/pdb.yaml");
    assert_eq!(pdb["spec"]["minAvailable"], 2);
}

/// One region: no overlays, no RegionDown, and `[dns]` is refused.
#[test]
fn a_single_region_project_gets_no_overlays() {
    let dir = generate(&Spec::toml(
        "[project]\nname = \"shop\"\nregions = [\"ams3\"]\n\n[[service]]\nname = \"api\"\nimage = \"shop/api:1\"\nport = 8080\n\n[platform.kubernetes]\n",
    ));
    assert!(!dir.has("k8s-regions"));
    assert!(!dir.has("dns"));
    let prom = dir.yaml("prometheus/prometheus.yml");
    for job in prom["scrape_configs"].as_array().expect("jobs") {
        if job["job_name"] == "api" {
            // Every replica through Docker's DNS, labelled with the region.
            let region = job["relabel_configs"]
                .as_array()
                .expect("relabel_configs")
                .iter()
                .find(|r| r["target_label"] == "region")
                .expect("a region relabel");
            assert_eq!(region["replacement"], "ams3");
        } else {
            assert_eq!(job["static_configs"][0]["labels"]["region"], "ams3");
        }
    }
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_manifests_and_overlays_match_their_snapshot() {
    assert_example_snapshots("kubernetes");
}

// --- (c) The monitoring stack ------------------------------------------------

const MONITORING: [&str; 4] = [
    "prometheus",
    "grafana",
    "alertmanager",
    "kube-state-metrics",
];

/// The base as kubectl builds it, one JSON value per object.
fn built_base(kubectl: &std::path::Path, out: &Tree) -> Vec<Value> {
    kustomize(kubectl, out.path(), "k8s")
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str(d).expect("a YAML object"))
        .collect()
}

fn object<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Every workload kubectl builds from `k8s/` (the services and the whole
/// monitoring stack) has requests and limits, probes, a non-root security
/// context, and a PodDisruptionBudget selecting its pods; kubernetes-validate
/// --strict accepts the built objects, generated ConfigMaps included.
#[test]
fn every_workload_has_requests_limits_probes_non_root_and_a_pdb() {
    let (Some(kubectl), Some(validate)) = (validator("kubectl"), validator("kubernetes-validate"))
    else {
        return;
    };
    let out = generate(&Spec::app_oint());
    let built = kustomize(&kubectl, out.path(), "k8s");
    let file = out.join("built.yaml");
    std::fs::write(&file, &built).expect("write");
    let text = assert_ok(
        "kubernetes-validate",
        &kubernetes_validate_files(&validate, out.path(), &[&file]),
    );
    assert!(!text.contains("WARN"), "{text}");
    let docs = built_base(&kubectl, &out);
    let mut seen = Vec::new();
    for d in &docs {
        if d["kind"] != "StatefulSet" && d["kind"] != "Deployment" {
            continue;
        }
        let name = d["metadata"]["name"].as_str().expect("name").to_string();
        let pod = &d["spec"]["template"]["spec"];
        for c in pod["containers"].as_array().expect("containers") {
            let what = format!("{name}/{}", c["name"]);
            let monitoring = MONITORING.contains(&name.as_str());
            for (key, resource) in [
                ("requests", "cpu"),
                ("requests", "memory"),
                ("limits", "memory"),
                ("limits", "cpu"),
            ] {
                // A service's CPU limit is the spec's choice.
                if monitoring || resource == "memory" || key == "requests" {
                    assert!(
                        !c["resources"][key][resource].is_null(),
                        "{what}: {key}.{resource}"
                    );
                }
            }
            let single = SINGLE.contains(&name.as_str());
            if single {
                assert!(!c["livenessProbe"].is_null(), "{what}: liveness");
            }
            if monitoring || single {
                assert!(
                    single || !c["readinessProbe"].is_null(),
                    "{what}: readiness"
                );
                assert!(!c["livenessProbe"].is_null(), "{what}: liveness");
                assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{what}");
                assert_eq!(
                    c["securityContext"]["allowPrivilegeEscalation"], false,
                    "{what}"
                );
                assert_eq!(
                    c["securityContext"]["readOnlyRootFilesystem"], true,
                    "{what}"
                );
            }
        }
        let labels = &d["spec"]["selector"]["matchLabels"];
        let pdb = object(&docs, "PodDisruptionBudget", &name);
        assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels, "{name}");
        if d["spec"]["replicas"] == 1 {
            // One replica: the budget lets a drain evict it; one that kept
            // it available would block every drain.
            assert_eq!(pdb["spec"]["maxUnavailable"], 1, "{name}");
            assert!(pdb["spec"].get("minAvailable").is_none(), "{name}");
        }
        seen.push(name);
    }
    for name in MONITORING.iter().chain(&SINGLE) {
        assert!(
            seen.iter().any(|s| s == name),
            "{name} is not deployed: {seen:?}"
        );
    }
}

/// App-Oint's one-replica workloads beside the services: the Redis cache
/// (with its exporter sidecar) and the backups' Pushgateway.
const SINGLE: [&str; 2] = ["cache", "pushgateway"];

/// Prometheus may read exactly the namespace's pods and the nodes with their
/// kubelet metrics; kube-state-metrics its namespace's pods and autoscalers.
#[test]
fn monitoring_rbac_grants_exactly_what_discovery_needs() {
    let Some(kubectl) = validator("kubectl") else {
        return;
    };
    let out = generate(&Spec::app_oint());
    let docs = built_base(&kubectl, &out);
    let rules = |kind: &str, name: &str| -> Vec<(Vec<String>, Vec<String>, Vec<String>)> {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .expect("a list")
                .iter()
                .map(|s| s.as_str().expect("a string").to_string())
                .collect()
        };
        object(&docs, kind, name)["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| {
                (
                    strings(&r["apiGroups"]),
                    strings(&r["resources"]),
                    strings(&r["verbs"]),
                )
            })
            .collect()
    };
    let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let read = list(&["get", "list", "watch"]);
    assert_eq!(
        rules("Role", "prometheus"),
        vec![(list(&[""]), list(&["pods"]), read.clone())]
    );
    assert_eq!(
        rules("ClusterRole", "app-oint-prometheus"),
        vec![(list(&[""]), list(&["nodes", "nodes/metrics"]), read)]
    );
    assert_eq!(
        rules("Role", "kube-state-metrics"),
        vec![
            (list(&[""]), list(&["pods"]), list(&["list", "watch"])),
            (
                list(&["autoscaling"]),
                list(&["horizontalpodautoscalers"]),
                list(&["list", "watch"])
            ),
        ]
    );
    for (kind, name, account) in [
        ("RoleBinding", "prometheus", "prometheus"),
        ("ClusterRoleBinding", "app-oint-prometheus", "prometheus"),
        ("RoleBinding", "kube-state-metrics", "kube-state-metrics"),
    ] {
        let b = object(&docs, kind, name);
        assert_eq!(b["subjects"][0]["name"], account, "{kind} {name}");
        assert_eq!(b["subjects"][0]["namespace"], "app-oint", "{kind} {name}");
        assert_eq!(
            object(&docs, "ServiceAccount", account)["metadata"]["namespace"],
            "app-oint"
        );
    }
    let sts = object(&docs, "StatefulSet", "prometheus");
    assert_eq!(
        sts["spec"]["template"]["spec"]["serviceAccountName"],
        "prometheus"
    );
    let ksm = object(&docs, "Service", "kube-state-metrics");
    assert_eq!(ksm["spec"]["ports"][0]["port"], 8080);
}

/// The ConfigMaps kustomize generates hold the generated configuration,
/// rule files and Grafana files byte for byte, and the pods mount them by
/// their hashed names; Grafana's password comes from a Secret reference.
#[test]
fn generated_config_maps_carry_the_generated_files() {
    let Some(kubectl) = validator("kubectl") else {
        return;
    };
    let out = generate(&Spec::app_oint());
    let docs = built_base(&kubectl, &out);
    let map = |prefix: &str| -> &Value {
        docs.iter()
            .find(|d| {
                d["kind"] == "ConfigMap"
                    && d["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(prefix) && n.len() == prefix.len() + 10)
            })
            .unwrap_or_else(|| panic!("no ConfigMap {prefix}<hash>"))
    };
    let read = |path: &str| std::fs::read_to_string(out.join(path)).expect(path);
    let config = map("app-oint-prometheus-config-");
    assert_eq!(
        config["data"]["prometheus.yml"],
        read("k8s/prometheus/prometheus.yml")
    );
    let rules = map("app-oint-prometheus-rules-");
    for name in ["api.yml", "cache.yml", "postgres.yml"] {
        assert_eq!(
            rules["data"][name],
            read(&format!("prometheus/rules/{name}")),
            "{name}"
        );
    }
    let alertmanager = map("app-oint-alertmanager-config-");
    assert_eq!(
        alertmanager["data"]["alertmanager.yml"],
        read("alertmanager/alertmanager.yml")
    );
    let dashboards = map("app-oint-grafana-dashboards-");
    for name in ["api.json", "cache.json", "overview.json"] {
        assert_eq!(
            dashboards["data"][name],
            read(&format!("grafana/dashboards/{name}")),
            "{name}"
        );
    }
    let sts = object(&docs, "StatefulSet", "prometheus");
    let volumes = &sts["spec"]["template"]["spec"]["volumes"];
    assert_eq!(volumes[0]["configMap"]["name"], config["metadata"]["name"]);
    assert_eq!(volumes[1]["configMap"]["name"], rules["metadata"]["name"]);
    let grafana = object(&docs, "Deployment", "grafana");
    let env = grafana["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    let password = env
        .iter()
        .find(|e| e["name"] == "GF_SECURITY_ADMIN_PASSWORD")
        .expect("the admin password");
    assert!(password["value"].is_null(), "a password value: {password}");
    assert_eq!(
        password["valueFrom"]["secretKeyRef"]["name"],
        "app-oint-grafana"
    );
}

/// App-Oint's volume, worked by hand: (5,000 + 20 × 1,000 + 500) series ×
/// (30d ÷ 15s = 172,800 samples) × 2 bytes × 2 = 17,625,600,000 bytes, 16.4
/// GiB, so 17Gi; retention.size at 80% of it (13,926 MiB).
#[test]
fn prometheus_volume_is_sized_for_the_retention() {
    let out = generate(&Spec::app_oint());
    let text = std::fs::read_to_string(out.join("k8s/prometheus/statefulset.yaml")).expect("sts");
    let sts: Value = serde_saphyr::from_str(&text).expect("yaml");
    let claim = &sts["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "17Gi");
    let args = &sts["spec"]["template"]["spec"]["containers"][0]["args"];
    let args: Vec<&str> = args
        .as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        args.contains(&"--storage.tsdb.retention.time=30d"),
        "{args:?}"
    );
    assert!(
        args.contains(&"--storage.tsdb.retention.size=13926MB"),
        "{args:?}"
    );
}
