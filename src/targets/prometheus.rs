//! Prometheus's scrape configurations. `prometheus/prometheus.yml` is the
//! Compose (and any static) Prometheus: global intervals, external labels,
//! rule files, the Alertmanager, and a scrape job for Prometheus,
//! Alertmanager, every service that exposes metrics, and every Redis cache's
//! exporter. An HTTP service without `targets` in the spec is found through
//! Docker's DNS, which answers the service's name with every replica's
//! address, so each replica is its own target (a name that reaches one
//! replica per scrape would mix their counters). With Kubernetes on,
//! `k8s/prometheus/prometheus.yml` (see [`kubernetes`]) is the in-cluster
//! Prometheus's, discovering pods.
//! When the project names regions, every target carries a `region` label
//! (the monitoring stack's own targets the primary's), so a federated or
//! global view tells them apart.

pub(crate) mod check;
pub mod kubernetes;
mod operator;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{HttpService, Model, REPLICA_LABEL, RemoteWriteAuth, Target, backup_metrics};
use crate::output::FileMode;
use crate::targets::compose;

/// The directory Prometheus's files are in; `rule_files` are relative to it.
pub const CONFIG_DIR: &str = "prometheus/";
pub const PATH: &str = "prometheus/prometheus.yml";
const TEMPLATE: &str = "prometheus/prometheus.yml.j2";
/// The environment variable that names a replica (its `replica` external
/// label): Prometheus expands `${…}` in external labels at load time, so
/// every replica reads one configuration.
pub const REPLICA_ENV: &str = "PROMETHEUS_REPLICA";
/// The environment variable that names the region of a cluster's
/// Prometheus (from its pod's `region` label, which each region's overlay
/// sets), for its `region` external label.
pub const REGION_ENV: &str = "PROMETHEUS_REGION";

#[derive(Serialize)]
struct Context {
    scrape_interval: String,
    scrape_timeout: String,
    evaluation_interval: String,
    external_labels: Vec<Label>,
    rule_files: Vec<String>,
    alertmanagers: Vec<String>,
    /// `alert_relabel_configs`: labels dropped from every alert (the
    /// replica label).
    alert_drop_labels: Vec<&'static str>,
    remote_write: Option<RemoteWriteCx>,
    jobs: Vec<Job>,
    /// The OTLP receiver's translation, when App Platform instances push.
    otlp: Option<Otlp>,
}

/// How Prometheus's OTLP receiver turns pushed metrics into series: `job`
/// is the SDK's `service.name` and `instance` its `service.instance.id`
/// (Prometheus does this itself); the promoted resource attributes become
/// labels; names keep the suffixes the rules query.
#[derive(Serialize)]
struct Otlp {
    promote: Vec<&'static str>,
    translation_strategy: &'static str,
}

/// The resource attributes App Platform instances set that become labels:
/// `region` (each app's own; unpromoted, the external label would give every
/// pushed series the primary's).
pub const OTLP_PROMOTED: [&str; 1] = ["region"];
/// Metric names as the rules query them: `_total` on counters and unit
/// suffixes kept, named explicitly so a change of Prometheus's default does
/// not silently rename every pushed series.
pub const OTLP_TRANSLATION: &str = "UnderscoreEscapingWithSuffixes";

/// One `remote_write` entry; secrets by file.
#[derive(Serialize)]
struct RemoteWriteCx {
    url: String,
    username: Option<String>,
    password_file: Option<String>,
    bearer_token_file: Option<String>,
    capacity: u32,
    max_shards: u32,
    max_samples_per_send: u32,
}

#[derive(Serialize)]
struct Label {
    name: &'static str,
    value: String,
}

impl Label {
    fn new(name: &'static str, value: impl Into<String>) -> Label {
        Label {
            name,
            value: value.into(),
        }
    }
}

/// One scrape job: static targets, DNS or Kubernetes discovery, and the
/// relabelling that keeps and labels what discovery finds.
#[derive(Serialize, Default)]
struct Job {
    name: String,
    /// Why the job is shaped as it is, a comment above it.
    comment: Option<&'static str>,
    metrics_path: String,
    /// Keep the pushed `job` and `database` labels (the Pushgateway).
    honor_labels: bool,
    /// `https` with the service account's token and CA (the kubelet).
    kubelet_tls: Option<KubeletTls>,
    groups: Vec<Group>,
    dns: Option<Dns>,
    kubernetes: Option<KubernetesSd>,
    relabel: Vec<Relabel>,
    metric_relabel: Vec<Relabel>,
}

#[derive(Serialize)]
struct KubeletTls {
    ca_file: String,
    credentials_file: String,
}

/// One `static_configs` entry: targets that share labels.
#[derive(Serialize)]
struct Group {
    targets: Vec<String>,
    labels: Vec<Label>,
}

/// `dns_sd_configs`: every A record of `name`, each at `port`.
#[derive(Serialize)]
struct Dns {
    name: String,
    port: u16,
}

/// `kubernetes_sd_configs`: one role, in the listed namespaces (none: the
/// whole cluster, for nodes).
#[derive(Serialize)]
struct KubernetesSd {
    role: &'static str,
    namespaces: Vec<String>,
}

/// One `relabel_configs` entry; `None` fields are left at Prometheus's
/// defaults (`replace`, `(.*)`, `$1`, `;`).
#[derive(Serialize, Default)]
struct Relabel {
    source_labels: Vec<String>,
    separator: Option<&'static str>,
    regex: Option<String>,
    action: Option<&'static str>,
    target_label: Option<&'static str>,
    replacement: Option<String>,
}

impl Relabel {
    /// `target_label` set to a fixed value.
    fn set(target_label: &'static str, value: &str) -> Relabel {
        Relabel {
            target_label: Some(target_label),
            replacement: Some(value.to_string()),
            ..Relabel::default()
        }
    }

    /// `target_label` copied from one discovered label.
    fn copy(source: &str, target_label: &'static str) -> Relabel {
        Relabel {
            source_labels: vec![source.to_string()],
            target_label: Some(target_label),
            ..Relabel::default()
        }
    }
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let m = &model.monitoring;
    let alertmanagers = alertmanagers(
        model,
        compose::members(compose::ALERTMANAGER, m.alertmanager_replicas),
        |member| format!("{member}:{}", m.alertmanager_port),
    );
    // The monitoring stack runs in the primary region: its own targets say
    // so, like every service target, so a global view tells regions apart.
    let primary = model.project.primary_region();
    let mut jobs = stack_jobs(model, &alertmanagers, primary);
    for service in &model.services {
        let Some(http) = service.http() else { continue };
        jobs.push(if http.discovered {
            dns_job(&service.name, http, primary)
        } else {
            Job {
                comment: Some(STATIC_COMMENT),
                groups: groups_by_region(&service.name, &http.targets),
                ..job(&service.name, &http.endpoints.metrics)
            }
        });
    }
    // Each Redis cache through its exporter (one instance).
    for service in &model.services {
        let Some(redis) = service.redis() else {
            continue;
        };
        jobs.push(Job {
            groups: groups_by_region(&service.name, std::slice::from_ref(&redis.target)),
            ..job(&service.name, "/metrics")
        });
    }
    if model.services.iter().any(|s| s.backup().is_some()) {
        jobs.push(Job {
            honor_labels: true,
            ..plain_job(
                backup_metrics::SCRAPE_JOB,
                backup_metrics::PUSHGATEWAY.to_string(),
                primary,
            )
        });
    }
    // App Platform instances push to this Prometheus (the Compose stack's;
    // in a cluster, Prometheus discovers pods and receives nothing).
    let pushed = model
        .platforms
        .digitalocean
        .as_ref()
        .is_some_and(|d| d.otlp.is_some());
    let context = Context {
        external_labels: external_labels(model, primary),
        rule_files: vec!["rules/*.yml".to_string()],
        otlp: pushed.then(|| Otlp {
            promote: OTLP_PROMOTED.to_vec(),
            translation_strategy: OTLP_TRANSLATION,
        }),
        ..context(model, alertmanagers, jobs)
    };
    out.render(PATH, TEMPLATE, &context, FileMode::Regular)?;
    kubernetes::emit(model, out)
}

const STATIC_COMMENT: &str =
    "The spec's targets: each address must reach one process (not a load balancer).";

/// Every Alertmanager member Prometheus sends to (each of them, never a
/// load-balanced address: a cluster deduplicates what every member
/// receives): the spec's existing ones, or the generated `members` at the
/// address `address` gives each.
fn alertmanagers(
    model: &Model,
    members: Vec<String>,
    address: impl Fn(&str) -> String,
) -> Vec<String> {
    let m = &model.monitoring;
    if m.runs_alertmanager() {
        members.iter().map(|member| address(member)).collect()
    } else {
        m.external_alertmanagers.clone()
    }
}

/// The global settings both configurations share.
fn context(model: &Model, alertmanagers: Vec<String>, jobs: Vec<Job>) -> Context {
    let m = &model.monitoring;
    let replicated = m.prometheus_replicas > 1;
    Context {
        scrape_interval: m.scrape_interval.to_string(),
        scrape_timeout: m.scrape_timeout.to_string(),
        evaluation_interval: m.evaluation_interval.to_string(),
        external_labels: external_labels(model, None),
        rule_files: Vec::new(),
        alertmanagers,
        alert_drop_labels: if replicated {
            vec![REPLICA_LABEL]
        } else {
            Vec::new()
        },
        remote_write: m.remote_write.as_ref().map(|rw| {
            let (username, password_file, bearer_token_file) = match &rw.auth {
                Some(RemoteWriteAuth::Basic { username, password }) => {
                    (Some(username.clone()), Some(password.file_path()), None)
                }
                Some(RemoteWriteAuth::Bearer(token)) => (None, None, Some(token.file_path())),
                None => (None, None, None),
            };
            RemoteWriteCx {
                url: rw.url.clone(),
                username,
                password_file,
                bearer_token_file,
                capacity: rw.capacity,
                max_shards: rw.max_shards,
                max_samples_per_send: rw.max_samples_per_send,
            }
        }),
        jobs,
        otlp: None,
    }
}

/// The project and environment, the region (a literal when Prometheus's
/// region is known, else `${PROMETHEUS_REGION}` when `region_from_env`) and
/// with several replicas `${PROMETHEUS_REPLICA}`.
fn external_labels(model: &Model, region: Option<&str>) -> Vec<Label> {
    let mut labels = vec![
        Label::new("project", model.project.name.clone()),
        Label::new("environment", model.project.environment.clone()),
    ];
    if let Some(region) = region {
        labels.push(Label::new("region", region));
    }
    if model.monitoring.prometheus_replicas > 1 {
        labels.push(Label::new(REPLICA_LABEL, format!("${{{REPLICA_ENV}}}")));
    }
    labels
}

/// Prometheus itself (each replica scrapes itself) and every Alertmanager
/// member.
fn stack_jobs(model: &Model, alertmanagers: &[String], region: Option<&str>) -> Vec<Job> {
    let mut alertmanager = plain_job("alertmanager", String::new(), region);
    alertmanager.groups[0].targets = alertmanagers.to_vec();
    vec![
        plain_job(
            "prometheus",
            format!("localhost:{}", model.monitoring.prometheus_port),
            region,
        ),
        alertmanager,
    ]
}

fn job(name: &str, metrics_path: &str) -> Job {
    Job {
        name: name.to_string(),
        metrics_path: metrics_path.to_string(),
        ..Job::default()
    }
}

/// Every replica of a Compose service: Docker's DNS answers the service's
/// name with one A record per container.
fn dns_job(name: &str, http: &HttpService, region: Option<&str>) -> Job {
    let mut relabel = vec![Relabel::set("service", name)];
    if let Some(region) = region {
        relabel.push(Relabel::set("region", region));
    }
    Job {
        comment: Some(
            "Every replica: Docker's DNS answers the service's name with each container's address.",
        ),
        dns: Some(Dns {
            name: name.to_string(),
            port: http.port,
        }),
        relabel,
        ..job(name, &http.endpoints.metrics)
    }
}

fn plain_job(name: &str, target: String, region: Option<&str>) -> Job {
    Job {
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
        ..job(name, "/metrics")
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
