//! Prometheus's scrape config, `prometheus/prometheus.yml`: promtool
//! accepts it, it scrapes every service, the stack and every region the
//! spec names, and App-Oint's matches its snapshot.

use std::collections::BTreeMap;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn promtool_accepts_every_examples_prometheus_config() {
    let Some(promtool) = validator("promtool") else {
        return;
    };
    for tree in examples_and_fixtures().iter().chain(&other_trees()) {
        promtool_check_config(&promtool, tree.path());
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

/// The seed report's failed check: "Prometheus configuration missing App-Oint targets".
#[test]
fn app_oint_prometheus_scrapes_every_service_and_the_stack() {
    let out = generate(&Spec::app_oint());
    let config = out.yaml("prometheus/prometheus.yml");
    let jobs: Vec<(&str, Vec<&str>)> = config["scrape_configs"]
        .as_array()
        .expect("scrape_configs")
        .iter()
        .map(|job| {
            let targets = job["static_configs"]
                .as_array()
                .expect("static_configs")
                .iter()
                .flat_map(|g| g["targets"].as_array().expect("targets").iter())
                .map(|t| t.as_str().expect("string target"))
                .collect();
            (job["job_name"].as_str().expect("job_name"), targets)
        })
        .collect();
    assert_eq!(
        jobs,
        vec![
            ("prometheus", vec!["localhost:9090"]),
            ("alertmanager", vec!["alertmanager:9093"]),
            ("api", vec!["api:5001", "api.nyc1.app-oint.internal:5001"]),
            ("cache", vec!["cache:9121"]),
            // Where the backup jobs push their metrics.
            ("pushgateway", vec!["pushgateway:9091"]),
        ]
    );
    assert_eq!(config["global"]["external_labels"]["project"], "app-oint");
    assert_eq!(config["global"]["external_labels"]["region"], "fra1");
    assert_eq!(
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
        "alertmanager:9093"
    );
    let api = &config["scrape_configs"][2];
    assert_eq!(api["metrics_path"], "/metrics");
    assert_eq!(api["static_configs"][0]["labels"]["service"], "api");
}

#[test]
fn every_scrape_target_carries_a_project_region() {
    let out = generate(&Spec::app_oint());
    let config = out.yaml("prometheus/prometheus.yml");
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for job in config["scrape_configs"].as_array().expect("jobs") {
        let name = job["job_name"].as_str().expect("job name");
        for group in job["static_configs"].as_array().expect("groups") {
            let region = group["labels"]["region"]
                .as_str()
                .unwrap_or_else(|| panic!("job {name} has a target without a region: {group}"));
            assert!(["fra1", "nyc1"].contains(&region), "{name}: {region}");
            seen.entry(name.to_string())
                .or_default()
                .push(region.to_string());
        }
    }
    // The monitoring stack in the primary region; the api in both.
    assert_eq!(seen["prometheus"], ["fra1"]);
    assert_eq!(seen["alertmanager"], ["fra1"]);
    assert_eq!(seen["api"], ["fra1", "nyc1"]);
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_prometheus_config_matches_its_snapshot() {
    assert_example_snapshots("prometheus");
}
