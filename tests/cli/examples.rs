//! The bundled examples: their whole generated trees, determinism, and the
//! committed copies beside them.

use crate::common::*;

/// One snapshot per example holding its whole generated tree.
#[test]
fn generated_trees_match_their_snapshots() {
    for spec in example_specs() {
        let out = generate_example(&spec);
        let name = spec
            .parent()
            .and_then(|p| p.file_name())
            .expect("examples/<name>/hardening.toml")
            .to_string_lossy()
            .into_owned();
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("example-{name}"), tree_snapshot(out.path()));
        });
    }
}

#[test]
fn generation_is_byte_identical_across_runs_and_directories() {
    for spec in example_specs() {
        let first = generate_example(&spec);
        let second = generate_example(&spec);
        assert_eq!(
            read_tree(first.path()),
            read_tree(second.path()),
            "{}",
            spec.display()
        );
    }
}

#[test]
fn generate_is_idempotent() {
    for spec in example_specs() {
        let out = generate_example(&spec);
        let before = read_tree(out.path());
        let run = harden(&[
            "generate",
            &spec.to_string_lossy(),
            "--out",
            &out.path().to_string_lossy(),
        ])
        .success();
        assert!(
            !run.stdout.contains("wrote"),
            "second run rewrote files:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("0 written"), "{}", run.stdout);
        assert_eq!(before, read_tree(out.path()));
    }
}

/// The tree committed beside each example is what its spec generates, as
/// `harden diff` in CI checks.
#[test]
fn committed_example_trees_are_current() {
    for spec in example_specs() {
        harden(&["diff", &spec.to_string_lossy()]).success();
    }
}

/// The seed report's failed check: "Prometheus configuration missing App-Oint targets".
#[test]
fn app_oint_prometheus_scrapes_every_service_and_the_stack() {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let text = std::fs::read_to_string(out.path().join("prometheus/prometheus.yml"))
        .expect("prometheus.yml");
    let config: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
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
