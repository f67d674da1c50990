//! `prometheus_operator = true`: the Prometheus Operator's objects instead
//! of an in-cluster Prometheus, Alertmanager and Grafana. Each PodMonitor
//! and PrometheusRule passes the operator's CRD schema; each PrometheusRule
//! holds exactly its rule file's groups, which promtool checks and unit-tests
//! there; the operator's Alertmanager configuration routes, notifies and
//! inhibits as `alertmanager/alertmanager.yml` does (amtool); the PodMonitors
//! select each Deployment's pods at its metrics port with the in-cluster
//! job's relabelling; kustomize builds both kustomizations and
//! kubernetes-validate accepts every built object that is not a custom
//! resource.

use std::path::Path;

use harden::model::Severity;
use serde_json::{Value, json};

use crate::support::*;

fn operator_tree() -> Tree {
    generate(&Spec::Fixture(OPERATOR))
}

/// The fixture as a plain Kubernetes spec: the in-cluster Prometheus and
/// Alertmanager the operator's objects must agree with.
fn plain_tree() -> Tree {
    let text = std::fs::read_to_string(root().join(OPERATOR)).expect("fixture");
    let plain: String = text
        .lines()
        .filter(|l| {
            !l.starts_with("prometheus_operator")
                && !l.starts_with("operator_")
                && !l.starts_with("dashboard_labels")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(plain, text, "the fixture turns the operator on");
    generate(&Spec::toml(plain))
}

/// Every file under `dir` of a tree, by path.
fn files_under(out: &Tree, dir: &str) -> Vec<String> {
    read_tree(out.path())
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with(dir))
        .collect()
}

fn objects(out: &Tree) -> Vec<Value> {
    operator_objects(out.path())
        .iter()
        .map(|p| yaml(&out.join(p)))
        .collect()
}

/// The rule files' names: `prometheus/rules/<name>.yml`.
fn rule_names(out: &Tree) -> Vec<String> {
    files_in(&out.join("prometheus/rules"))
        .iter()
        .map(|p| {
            p.file_stem()
                .expect("a file")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

// --- the objects against the operator's CRD schemas ---------------------------

#[test]
fn every_operator_object_passes_its_crd_schema() {
    let Some(node) = operator_crds() else {
        return;
    };
    let out = operator_tree();
    let objects = objects(&out);
    let kinds = |kind: &str| objects.iter().filter(|o| o["kind"] == kind).count();
    // checkout, catalog, the cache's exporter and the Pushgateway.
    assert_eq!(kinds("PodMonitor"), 4, "{objects:?}");
    assert_eq!(kinds("PrometheusRule"), rule_names(&out).len());
    assert_eq!(objects.len(), kinds("PodMonitor") + kinds("PrometheusRule"));
    let (ok, text) = crd_validate(&node, &objects);
    assert!(ok, "{text}");
}

/// The check above can fail: a relabeling action and a `for` the CRDs do
/// not allow are refused.
#[test]
fn the_crd_schema_check_refuses_an_invalid_object() {
    let Some(node) = operator_crds() else {
        return;
    };
    let out = operator_tree();
    for (kind, break_it) in [
        (
            "PodMonitor",
            (|o: &mut Value| {
                o["spec"]["podMetricsEndpoints"][0]["relabelings"][0]["action"] = json!("Keep it");
            }) as fn(&mut Value),
        ),
        ("PrometheusRule", |o: &mut Value| {
            o["spec"]["groups"][0]["rules"][0]["for"] = json!("5 minutes");
        }),
    ] {
        let mut object = objects(&out)
            .into_iter()
            .find(|o| o["kind"] == kind)
            .expect("one of the kind");
        break_it(&mut object);
        let (ok, text) = crd_validate(&node, &[object]);
        assert!(!ok, "an invalid {kind} passed: {text}");
        assert!(text.contains(kind), "{text}");
    }
}

/// No field the CRDs do not define: their schemas let unknown fields
/// through (the API server would drop them silently), so every object is
/// also type-checked against the operator's types, whose excess-property
/// check refuses a misspelt field.
#[test]
fn every_operator_object_has_only_fields_its_crd_defines() {
    let (Some(_), Some((node, tsc))) = (operator_crds(), typescript()) else {
        return;
    };
    let out = operator_tree();
    let mut objects = objects(&out);
    let (ok, text) = crd_type_check(&node, &tsc, &objects);
    assert!(ok, "{text}");
    let endpoint = &mut objects
        .iter_mut()
        .find(|o| o["kind"] == "PodMonitor")
        .expect("a PodMonitor")["spec"]["podMetricsEndpoints"][0];
    endpoint["honorLabel"] = json!(true);
    let (ok, text) = crd_type_check(&node, &tsc, &objects);
    assert!(
        !ok && text.contains("honorLabel"),
        "a misspelt field passed:\n{text}"
    );
}

// --- PrometheusRules: the rule files' groups ----------------------------------

/// Each rule file's PrometheusRule has exactly its groups, in the project's
/// namespace, with the labels the operator's `ruleSelector` selects.
#[test]
fn each_prometheus_rule_holds_exactly_its_rule_files_groups() {
    let out = operator_tree();
    let names = rule_names(&out);
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let file = yaml(&out.join(format!("prometheus/rules/{name}.yml")));
        let rule = yaml(&out.join(format!("{OPERATOR_DIR}{name}-rules.yaml")));
        assert_eq!(rule["spec"]["groups"], file["groups"], "{name}");
        assert_eq!(rule["metadata"]["name"], name.as_str());
        assert_eq!(rule["metadata"]["namespace"], "shop-prod");
        assert_eq!(
            rule["metadata"]["labels"],
            json!({ "release": "monitoring", "app.kubernetes.io/part-of": "shop" }),
            "{name}"
        );
    }
}

/// promtool checks every PrometheusRule's groups as a rule file, and the
/// promtool unit tests of the rule files pass against them.
#[test]
fn promtool_checks_and_unit_tests_the_prometheus_rules_groups() {
    let Some(tool) = validator("promtool") else {
        return;
    };
    let out = operator_tree();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("rules")).expect("rules/");
    std::fs::create_dir_all(dir.path().join("tests")).expect("tests/");
    for name in rule_names(&out) {
        let rule = yaml(&out.join(format!("{OPERATOR_DIR}{name}-rules.yaml")));
        let rules = dir.path().join(format!("rules/{name}.yml"));
        std::fs::write(&rules, serde_json::to_string(&rule["spec"]).expect("json"))
            .expect("rules written");
        promtool(&tool, &["check", "rules", "--lint-fatal"], &rules);
        // The test names its rule file as `../rules/<name>.yml`.
        let test = dir.path().join(format!("tests/{name}.test.yml"));
        std::fs::copy(out.join(format!("prometheus/tests/{name}.test.yml")), &test)
            .expect("test copied");
        promtool(&tool, &["test", "rules"], &test);
    }
}

// --- the operator's Alertmanager ----------------------------------------------

/// The configuration differs from `alertmanager/alertmanager.yml` only where
/// the operator mounts things: the templates and the receivers' secrets.
#[test]
fn the_operators_alertmanager_configuration_is_alertmanager_yml_with_operator_paths() {
    let out = operator_tree();
    let plain = yaml(&out.join("alertmanager/alertmanager.yml"));
    let operator = yaml(&out.join("k8s-monitoring/alertmanager.yaml"));
    assert_eq!(operator["route"], plain["route"]);
    assert_eq!(operator["inhibit_rules"], plain["inhibit_rules"]);
    assert_eq!(
        operator["templates"],
        json!(["/etc/alertmanager/config/*.tmpl"])
    );
    let moved = serde_json::to_string(&plain["receivers"])
        .expect("json")
        .replace(
            "/run/secrets/",
            "/etc/alertmanager/secrets/shop-alertmanager/",
        );
    assert_eq!(operator["receivers"].to_string(), moved);
    assert!(moved.contains("/etc/alertmanager/secrets/shop-alertmanager/slack-webhook-url"));
}

/// amtool accepts the configuration, and every severity × service × team
/// reaches exactly the receivers the spec's routes name, as with
/// `alertmanager.yml`.
#[test]
fn amtool_routes_the_operators_alertmanager_as_the_spec_says() {
    let Some(amtool_bin) = validator("amtool") else {
        return;
    };
    let out = operator_tree();
    let model = model(&out.join("hardening.toml"));
    // amtool reads the configuration as the operator mounts it: the file
    // and the templates in one directory.
    let dir = out.join("k8s-monitoring");
    let (ok, text) = amtool(&amtool_bin, &dir, &["check-config", "alertmanager.yaml"]);
    assert!(ok, "{text}");
    let mut cases = 0;
    for severity in Severity::ALL {
        for service in &model.services {
            let team = service.team.as_deref();
            let expected = model
                .alerting
                .receivers_for(severity, Some(&service.name), team)
                .join(",");
            let mut args = vec![
                "config".to_string(),
                "routes".into(),
                "test".into(),
                "--config.file=alertmanager.yaml".into(),
                format!("--verify.receivers={expected}"),
                "alertname=Test".into(),
                format!("severity={}", severity.as_str()),
                format!("service={}", service.name),
            ];
            if let Some(team) = team {
                args.push(format!("team={team}"));
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ok, text) = amtool(&amtool_bin, &dir, &args);
            assert!(ok, "{args:?}:\n{text}");
            cases += 1;
        }
    }
    assert!(cases >= 12, "{cases}");
}

// --- PodMonitors: the pods and labels the in-cluster Prometheus scrapes -------

/// A PodMonitor's relabelings in Prometheus's own spelling.
fn as_prometheus(relabelings: &Value) -> Vec<Value> {
    relabelings
        .as_array()
        .expect("relabelings")
        .iter()
        .map(|r| {
            let mut out = serde_json::Map::new();
            for (k, v) in r.as_object().expect("a relabeling") {
                if k == "action" && v == "replace" {
                    continue; // Prometheus's default
                }
                let key = match k.as_str() {
                    "sourceLabels" => "source_labels",
                    "targetLabel" => "target_label",
                    other => other,
                };
                out.insert(key.to_string(), v.clone());
            }
            Value::Object(out)
        })
        .collect()
}

/// Each PodMonitor selects its Deployment's pods at the container port that
/// serves its metrics, and relabels as the in-cluster job of the same name
/// does, then sets that job and drops the two labels only the operator adds:
/// each replica a target with exactly the labels the rules query.
#[test]
fn each_pod_monitor_scrapes_the_pods_the_in_cluster_job_scrapes() {
    let out = operator_tree();
    let plain = plain_tree();
    let config = yaml(&plain.join("k8s/prometheus/prometheus.yml"));
    let jobs = config["scrape_configs"].as_array().expect("jobs");
    let monitors: Vec<Value> = objects(&out)
        .into_iter()
        .filter(|o| o["kind"] == "PodMonitor")
        .collect();
    for monitor in &monitors {
        let name = monitor["metadata"]["name"].as_str().expect("a name");
        let job = jobs
            .iter()
            .find(|j| j["job_name"] == name)
            .unwrap_or_else(|| panic!("no in-cluster job {name}"));
        let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
        assert_eq!(endpoint["path"], job["metrics_path"], "{name}");
        assert_eq!(
            endpoint["honorLabels"].as_bool().unwrap_or(false),
            job["honor_labels"].as_bool().unwrap_or(false),
            "{name}"
        );
        let mut relabel = as_prometheus(&endpoint["relabelings"]);
        assert_eq!(
            relabel.pop(),
            Some(json!({ "action": "labeldrop", "regex": "container|endpoint" })),
            "{name}"
        );
        assert_eq!(
            relabel.pop(),
            Some(json!({ "target_label": "job", "replacement": name })),
            "{name}"
        );
        assert_eq!(Value::Array(relabel), job["relabel_configs"], "{name}");

        // The Deployment's pods carry the selector's labels and name the
        // port the PodMonitor scrapes, at the port the in-cluster job keeps.
        let deployment = yaml(&out.join(format!("k8s/{name}/deployment.yaml")));
        let template = &deployment["spec"]["template"];
        for (key, value) in monitor["spec"]["selector"]["matchLabels"]
            .as_object()
            .expect("matchLabels")
        {
            assert_eq!(&template["metadata"]["labels"][key], value, "{name} {key}");
        }
        let port_kept = job["relabel_configs"]
            .as_array()
            .expect("relabel")
            .iter()
            .find(|r| r["source_labels"] == json!(["__meta_kubernetes_pod_container_port_number"]))
            .expect("a port filter")["regex"]
            .clone();
        let ports: Vec<&Value> = template["spec"]["containers"]
            .as_array()
            .expect("containers")
            .iter()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .filter(|p| p["name"] == endpoint["port"])
            .collect();
        assert_eq!(ports.len(), 1, "{name}: {ports:?}");
        assert_eq!(
            ports[0]["containerPort"].to_string(),
            port_kept.as_str().expect("a port").to_string(),
            "{name}"
        );
        assert_eq!(
            monitor["metadata"]["labels"],
            json!({ "release": "monitoring", "app.kubernetes.io/part-of": "shop" })
        );
    }
}

// --- what is and is not generated; kustomize and kubernetes-validate ----------

/// kube-prometheus-stack runs Prometheus, Alertmanager, Grafana and
/// kube-state-metrics: none of them, nor their configuration copies, is in
/// `k8s/`, and the kustomization lists every manifest and operator object.
#[test]
fn the_operator_replaces_the_in_cluster_monitoring_stack() {
    let out = operator_tree();
    for dir in [
        "k8s/prometheus/",
        "k8s/alertmanager/",
        "k8s/grafana/",
        "k8s/kube-state-metrics/",
    ] {
        assert!(
            files_under(&out, dir).is_empty(),
            "{dir}: {:?}",
            files_under(&out, dir)
        );
    }
    let kustomization = yaml(&out.join("k8s/kustomization.yaml"));
    let listed: Vec<String> = kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| format!("k8s/{}", r.as_str().expect("a path")))
        .collect();
    let mut manifests: Vec<String> = files_under(&out, "k8s/")
        .into_iter()
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .collect();
    manifests.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, manifests);
    assert!(kustomization.get("configMapGenerator").is_none());
}

fn built(kubectl: &Path, out: &Tree, dir: &str) -> Vec<Value> {
    kustomize(kubectl, out.path(), dir)
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str(d).expect("a YAML object"))
        .collect()
}

/// `kubectl kustomize` builds both kustomizations; kubernetes-validate
/// --strict accepts every built object but the custom resources (checked
/// against their CRDs above).
#[test]
fn both_kustomizations_build_and_pass_kubernetes_validate() {
    let (Some(kubectl), Some(validate)) = (validator("kubectl"), validator("kubernetes-validate"))
    else {
        return;
    };
    let out = operator_tree();
    for dir in ["k8s", "k8s-monitoring"] {
        let objects: Vec<Value> = built(&kubectl, &out, dir)
            .into_iter()
            .filter(|o| o["apiVersion"] != "monitoring.coreos.com/v1")
            .collect();
        assert!(objects.len() >= 5, "{dir}: {objects:?}");
        // One document per object (JSON is YAML).
        let file = out.join(format!("{dir}-built.yaml"));
        let docs: Vec<String> = objects.iter().map(Value::to_string).collect();
        std::fs::write(&file, docs.join("\n---\n")).expect("write");
        let result = kubernetes_validate_files(&validate, out.path(), &[&file]);
        let text = assert_ok("kubernetes-validate", &result);
        assert!(!text.contains("WARN"), "{dir}: {text}");
    }
}

/// In the operator's namespace: the Alertmanager's configuration Secret
/// holds the generated files byte for byte; each dashboard is a ConfigMap
/// with the spec's sidecar labels and a fixed name; the datasource the
/// dashboards name points at the operator's Prometheus and is not the
/// default (kube-prometheus-stack's Grafana has its own).
#[test]
fn the_monitoring_namespace_gets_the_configuration_and_dashboards() {
    let Some(kubectl) = validator("kubectl") else {
        return;
    };
    let out = operator_tree();
    let objects = built(&kubectl, &out, "k8s-monitoring");
    let read = |p: &str| std::fs::read_to_string(out.join(p)).expect("generated");
    for o in &objects {
        assert_eq!(o["metadata"]["namespace"], "observability", "{o}");
    }
    let secret = objects
        .iter()
        .find(|o| o["kind"] == "Secret")
        .expect("the configuration Secret");
    assert_eq!(secret["metadata"]["name"], "shop-alertmanager-config");
    for (key, path) in [
        ("alertmanager.yaml", "k8s-monitoring/alertmanager.yaml"),
        ("harden.tmpl", "alertmanager/templates/harden.tmpl"),
    ] {
        let encoded = secret["data"][key].as_str().expect("a key");
        let decoded = base64_decode(encoded);
        assert_eq!(decoded, read(path), "{key}");
    }
    let dashboards = files_in(&out.join("grafana/dashboards"));
    assert!(dashboards.len() >= 4, "{dashboards:?}");
    for board in &dashboards {
        let file = board
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        let stem = file.trim_end_matches(".json");
        let map = objects
            .iter()
            .find(|o| o["metadata"]["name"] == format!("shop-dashboard-{stem}"))
            .unwrap_or_else(|| panic!("no ConfigMap for {file}"));
        assert_eq!(
            map["metadata"]["labels"],
            json!({ "grafana_dashboard": "1" })
        );
        assert_eq!(
            map["data"][&file].as_str(),
            Some(read(&format!("grafana/dashboards/{file}")).as_str())
        );
    }
    let datasource = objects
        .iter()
        .find(|o| o["metadata"]["labels"]["grafana_datasource"] == "1")
        .expect("the datasource ConfigMap");
    let provisioned: Value = serde_saphyr::from_str(
        datasource["data"]["grafana-datasource.yaml"]
            .as_str()
            .expect("the file"),
    )
    .expect("yaml");
    let source = &provisioned["datasources"][0];
    assert_eq!(source["uid"], "harden-prometheus");
    assert_eq!(
        source["url"],
        "http://prometheus-operated.observability.svc:9090"
    );
    assert_eq!(source["isDefault"], false);
    assert_ne!(source["name"], "Prometheus");
}

/// Standard base64, as kustomize writes a Secret's data.
fn base64_decode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    String::from_utf8(bytes).expect("utf-8")
}
