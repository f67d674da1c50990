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
        let base = read_tree(out.path())
            .into_iter()
            .filter(|(p, _)| {
                p.starts_with("k8s/")
                    && !p.ends_with("kustomization.yaml")
                    // Prometheus's configuration, not a manifest.
                    && p != harden::targets::prometheus::kubernetes::PATH
            })
            .count();
        assert_eq!(docs.len(), base, "{region}: every base object, once");
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
    let deployment = out.yaml("k8s/alertmanager/deployment.yaml");
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
