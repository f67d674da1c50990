//! `prometheus/prometheus.yml`: global intervals, external labels, rule
//! files, the Alertmanager, and a scrape job for Prometheus, Alertmanager,
//! every service that exposes metrics, and every Redis cache's exporter.
//! When the project names regions, every target carries a `region` label
//! (the monitoring stack's own targets the primary's), so a federated or
//! global view tells them apart.

pub(crate) mod check;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{Model, Target, backup_metrics};
use crate::output::FileMode;

/// The directory Prometheus's files are in; `rule_files` are relative to it.
pub const CONFIG_DIR: &str = "prometheus/";
pub const PATH: &str = "prometheus/prometheus.yml";

#[derive(Serialize)]
struct Context {
    scrape_interval: String,
    scrape_timeout: String,
    evaluation_interval: String,
    external_labels: Vec<Label>,
    rule_files: Vec<&'static str>,
    alertmanagers: Vec<String>,
    jobs: Vec<Job>,
}

#[derive(Serialize)]
struct Label {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Job {
    name: String,
    metrics_path: String,
    /// Keep the pushed `job` and `database` labels (the Pushgateway).
    honor_labels: bool,
    groups: Vec<Group>,
}

/// One `static_configs` entry: targets that share labels.
#[derive(Serialize)]
struct Group {
    targets: Vec<String>,
    labels: Vec<Label>,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let m = &model.monitoring;
    let mut external_labels = vec![
        Label {
            name: "project",
            value: model.project.name.clone(),
        },
        Label {
            name: "environment",
            value: model.project.environment.clone(),
        },
    ];
    if let Some(region) = model.project.primary_region() {
        external_labels.push(Label {
            name: "region",
            value: region.to_string(),
        });
    }
    let alertmanager = format!("alertmanager:{}", m.alertmanager_port);
    // The monitoring stack runs in the primary region: its own targets say
    // so, like every service target, so a global view tells regions apart.
    let primary = model.project.primary_region();
    let mut jobs = vec![
        plain_job(
            "prometheus",
            format!("localhost:{}", m.prometheus_port),
            primary,
        ),
        plain_job("alertmanager", alertmanager.clone(), primary),
    ];
    for service in &model.services {
        let Some(http) = service.http() else { continue };
        jobs.push(Job {
            name: service.name.clone(),
            metrics_path: http.endpoints.metrics.clone(),
            honor_labels: false,
            groups: groups_by_region(&service.name, &http.targets),
        });
    }
    // Each Redis cache through its exporter.
    for service in &model.services {
        let Some(redis) = service.redis() else {
            continue;
        };
        jobs.push(Job {
            name: service.name.clone(),
            metrics_path: "/metrics".to_string(),
            honor_labels: false,
            groups: groups_by_region(&service.name, std::slice::from_ref(&redis.target)),
        });
    }
    if model.services.iter().any(|s| s.backup().is_some()) {
        jobs.push(Job {
            honor_labels: true,
            ..plain_job(
                "pushgateway",
                backup_metrics::PUSHGATEWAY.to_string(),
                primary,
            )
        });
    }
    let context = Context {
        scrape_interval: m.scrape_interval.to_string(),
        scrape_timeout: m.scrape_timeout.to_string(),
        evaluation_interval: m.evaluation_interval.to_string(),
        external_labels,
        rule_files: vec!["rules/*.yml"],
        alertmanagers: vec![alertmanager],
        jobs,
    };
    out.render(
        PATH,
        "prometheus/prometheus.yml.j2",
        &context,
        FileMode::Regular,
    )
}

fn plain_job(name: &str, target: String, region: Option<&str>) -> Job {
    Job {
        name: name.to_string(),
        metrics_path: "/metrics".to_string(),
        honor_labels: false,
        groups: vec![Group {
            targets: vec![target],
            labels: region
                .map(|r| Label {
                    name: "region",
                    value: r.to_string(),
                })
                .into_iter()
                .collect(),
        }],
    }
}

/// One group per region, in the model's order (primary first), each target
/// labelled with its service and region.
fn groups_by_region(service: &str, targets: &[Target]) -> Vec<Group> {
    let mut groups: Vec<(Option<&str>, Vec<String>)> = Vec::new();
    for t in targets {
        let region = t.region.as_deref();
        match groups.iter_mut().find(|(r, _)| *r == region) {
            Some((_, addresses)) => addresses.push(t.address.clone()),
            None => groups.push((region, vec![t.address.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|(region, targets)| {
            let mut labels = vec![Label {
                name: "service",
                value: service.to_string(),
            }];
            if let Some(region) = region {
                labels.push(Label {
                    name: "region",
                    value: region.to_string(),
                });
            }
            Group { targets, labels }
        })
        .collect()
}
