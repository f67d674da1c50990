//! The monitoring stack on Kubernetes, beside the services: Prometheus (a
//! StatefulSet whose volume is sized for the retention, with exactly the
//! discovery rights it needs), Grafana, kube-state-metrics, and what they
//! share with Alertmanager (requests and limits, probes, a non-root security
//! context and a PodDisruptionBudget on each). The generated Prometheus
//! configuration, rule files and Grafana provisioning become ConfigMaps
//! through kustomize's `configMapGenerator`, which loads files only from
//! under `k8s/`: they are copied there from the files the other targets
//! emitted (`Emitter::copy`), not rendered twice.

use serde::Serialize;

use super::{Common, ErasedContext, Pdb};
use crate::engine::{EmitError, Emitter};
use crate::model::{Kubernetes, Model, SECRETS_DIR, Scaling, SecretRef};
use crate::targets::{alerting, alertmanager, grafana, prometheus};

/// The in-cluster Prometheus's configuration, which the prometheus target
/// writes into `k8s/` (pod discovery, cAdvisor, kube-state-metrics).
pub const PROMETHEUS_CONFIG_PATH: &str = prometheus::kubernetes::PATH;
/// The rule files in `k8s/` (copies of `prometheus/rules/<name>.yml`).
pub const PROMETHEUS_RULES_DIR: &str = "k8s/prometheus/rules/";
pub const PROMETHEUS_STATEFULSET_PATH: &str = "k8s/prometheus/statefulset.yaml";
pub const GRAFANA_DEPLOYMENT_PATH: &str = "k8s/grafana/deployment.yaml";
pub const KUBE_STATE_METRICS_DEPLOYMENT_PATH: &str = "k8s/kube-state-metrics/deployment.yaml";
/// Grafana's provisioning and dashboards in `k8s/`.
const GRAFANA_DIR: &str = "k8s/grafana/";
/// Where the pod reads them: `rule_files: [rules/*.yml]` is relative to the
/// configuration file, so the rules are in `rules/` beside it.
const PROMETHEUS_CONFIG_DIR: &str = "/etc/prometheus";
const PROMETHEUS_RULES_MOUNT: &str = "/etc/prometheus/rules";
const PROMETHEUS_DATA_DIR: &str = "/prometheus";
const GRAFANA_DATA_DIR: &str = "/var/lib/grafana";
const GRAFANA_PORT: u16 = 3000;
/// The Secret (created by hand) and key of Grafana's admin password.
const GRAFANA_SECRET_KEY: &str = "admin-password";
/// kube-state-metrics' name and port, and Prometheus's ServiceAccount: the
/// scrape configuration names them (`prometheus::kubernetes`).
pub use prometheus::kubernetes::{
    KUBE_STATE_METRICS, KUBE_STATE_METRICS_PORT, SERVICE_ACCOUNT as PROMETHEUS_ACCOUNT,
};
const KUBE_STATE_METRICS_TELEMETRY_PORT: u16 = 8081;

/// The user each image runs as: `nobody` in the Prometheus, Alertmanager and
/// kube-state-metrics images, `grafana` (472) in Grafana's.
const NOBODY: u32 = 65534;
const GRAFANA_USER: u32 = 472;

/// `k8s/prometheus/rules/<file>`: the copy of a rule file.
pub fn rules_copy_path(file_name: &str) -> String {
    format!("{PROMETHEUS_RULES_DIR}{file_name}")
}

/// The PersistentVolumeClaim and memory of Prometheus, from an estimate of
/// the series it keeps (see [`Sizing::of`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Sizing {
    pub series: u64,
    /// The volume, in GiB.
    pub volume_gib: u64,
    /// `--storage.tsdb.retention.size`, in MiB: 80% of the volume.
    pub retention_mib: u64,
    /// The memory request, in MiB; the limit is twice it.
    pub memory_mib: u64,
}

/// Series per replica of an HTTP service at its maximum replica count:
/// request counters by route and status, a latency histogram's buckets,
/// process and runtime metrics, and the pod's cAdvisor series.
const SERIES_PER_REPLICA: u64 = 1_000;
/// Series per Redis cache (redis_exporter and its pod).
const SERIES_PER_CACHE: u64 = 500;
/// The stack itself: Prometheus, Alertmanager, Grafana, kube-state-metrics,
/// the Pushgateway, and cAdvisor's series for their containers.
const SERIES_BASE: u64 = 5_000;
/// Prometheus's documented average after compression is 1 to 2 bytes per
/// sample; the upper figure.
const BYTES_PER_SAMPLE: u64 = 2;
/// Room for the WAL, compaction (which briefly holds a block twice) and
/// growth: twice the estimate.
const HEADROOM: u64 = 2;
/// Head-block memory per series, with room for queries (the documented
/// rule of thumb is a few KiB per active series).
const MEMORY_PER_SERIES_KIB: u64 = 8;
const MIN_VOLUME_GIB: u64 = 10;
const MIN_MEMORY_MIB: u64 = 512;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

impl Sizing {
    /// Volume = series × samples per series over the retention (retention ÷
    /// scrape interval) × 2 bytes × 2 for headroom, rounded up to a GiB (at
    /// least 10 GiB), where series = 1,000 per HTTP replica at its maximum
    /// count, plus 500 per cache, plus 5,000 for the stack.
    ///
    /// `retention.size` at 80% of the volume keeps an underestimate from
    /// filling the disk: Prometheus then drops its oldest blocks early.
    pub fn of(model: &Model) -> Sizing {
        let replicas: u64 = model
            .services
            .iter()
            .filter_map(|s| s.http())
            .map(|h| match &h.scaling {
                Scaling::Fixed { replicas } => u64::from(*replicas),
                Scaling::Auto(a) => u64::from(a.max_replicas),
            })
            .sum();
        let caches = model
            .services
            .iter()
            .filter(|s| s.redis().is_some())
            .count() as u64;
        let series = SERIES_BASE + replicas * SERIES_PER_REPLICA + caches * SERIES_PER_CACHE;
        let m = &model.monitoring;
        let scrape_ms = m.scrape_interval.as_millis().max(1);
        let samples =
            u128::from(series) * u128::from(m.retention.as_millis()) / u128::from(scrape_ms);
        let bytes = samples * u128::from(BYTES_PER_SAMPLE * HEADROOM);
        let volume_gib = u64::try_from(bytes.div_ceil(u128::from(GIB)))
            .unwrap_or(u64::MAX)
            .max(MIN_VOLUME_GIB);
        let memory_mib = (series * MEMORY_PER_SERIES_KIB * 1024)
            .div_ceil(MIB)
            .next_multiple_of(256)
            .max(MIN_MEMORY_MIB);
        Sizing {
            series,
            volume_gib,
            retention_mib: volume_gib * 1024 * 8 / 10,
            memory_mib,
        }
    }
}

/// A container's requests and limits.
#[derive(Serialize)]
pub(super) struct Limits {
    cpu: String,
    memory: String,
    cpu_limit: String,
    memory_limit: String,
}

fn limits(cpu: &str, memory: &str, cpu_limit: &str, memory_limit: &str) -> Limits {
    Limits {
        cpu: cpu.into(),
        memory: memory.into(),
        cpu_limit: cpu_limit.into(),
        memory_limit: memory_limit.into(),
    }
}

/// Alertmanager's: it holds alerts and silences, a few MiB.
pub(super) fn alertmanager_limits() -> Limits {
    limits("10m", "32Mi", "100m", "128Mi")
}

#[derive(Serialize)]
pub(super) struct Security {
    user: u32,
}

pub(super) const NON_ROOT: Security = Security { user: NOBODY };

#[derive(Serialize)]
struct PrometheusCx<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    /// The pod label the anti-affinity selects by.
    name: &'static str,
    image: &'a str,
    port: u16,
    replicas: u8,
    /// The variables the configuration's external labels read: the
    /// replica's name (its pod's), and with several regions its region
    /// (its pod's `region` label).
    replica_env: Option<&'static str>,
    region_env: Option<&'static str>,
    /// The remote-write credential from a Secret.
    remote_write_secret: Option<SecretVolume>,
    /// A remote-write credential file the user mounts.
    remote_write_file: Option<String>,
    service_account: &'static str,
    sizing: Vec<String>,
    retention: String,
    retention_size: String,
    storage: String,
    config_dir: &'static str,
    config_file: &'static str,
    rules_dir: &'static str,
    data_dir: &'static str,
    config_map: String,
    rules_map: String,
    resources: Limits,
    security: Security,
}

/// A Secret created by hand from an environment variable, mounted at `dir`.
#[derive(Serialize)]
struct SecretVolume {
    secret_name: String,
    key: String,
    variable: String,
    dir: &'static str,
}

#[derive(Serialize)]
struct GrafanaCx<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    image: &'a str,
    port: u16,
    root_url: &'a str,
    secret_name: String,
    secret_key: &'static str,
    data_dir: &'static str,
    dashboards_dir: &'static str,
    datasources_map: String,
    providers_map: String,
    dashboards_map: String,
    resources: Limits,
    security: Security,
}

#[derive(Serialize)]
struct KubeStateMetricsCx<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    image: &'a str,
    port: u16,
    telemetry_port: u16,
    service_account: &'static str,
    resources_watched: &'static str,
    resources: Limits,
    security: Security,
}

#[derive(Serialize)]
struct ServiceCx<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    name: &'static str,
    port: u16,
    port_name: &'static str,
    /// Why a client sticks to one backend, when it should.
    sticky: Option<&'static str>,
}

#[derive(Serialize)]
struct Account<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    name: &'static str,
}

#[derive(Serialize)]
struct RoleCx<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    kind: &'static str,
    cluster_wide: bool,
    name: String,
    account: &'static str,
    why: &'static str,
    rules: Vec<RbacRule>,
}

#[derive(Serialize)]
struct RbacRule {
    api_groups: Vec<&'static str>,
    resources: Vec<&'static str>,
    verbs: Vec<&'static str>,
}

const READ: [&str; 3] = ["get", "list", "watch"];

/// One `configMapGenerator` entry: its name and files, relative to `k8s/`.
#[derive(Serialize)]
pub(super) struct ConfigMap {
    name: String,
    files: Vec<String>,
}

/// `render(out, path, template, context)` renders a manifest and lists it
/// in the kustomization.
pub(super) type Render<'r> =
    dyn FnMut(&mut Emitter<'_>, String, &str, &dyn ErasedContext) -> Result<(), EmitError> + 'r;

pub(super) fn emit(
    model: &Model,
    k8s: &Kubernetes,
    common: &Common<'_>,
    out: &mut Emitter<'_>,
    render: &mut Render<'_>,
) -> Result<Vec<ConfigMap>, EmitError> {
    let project = &model.project.name;
    let relative = |path: &str| path.strip_prefix(super::BASE).unwrap_or(path).to_string();
    let mut maps = Vec::new();

    // Alertmanager's configuration and templates, copied into k8s/ (a
    // spec without receivers has none: the StatefulSet then says so; with
    // an existing Alertmanager, k8s/ runs none).
    for (from, name) in [
        (alertmanager::PATH, super::alertmanager_config_map(project)),
        (
            alertmanager::TEMPLATES_PATH,
            super::alertmanager_templates_map(project),
        ),
    ] {
        if !model.monitoring.runs_alertmanager() || out.emitted_under(from).is_empty() {
            continue;
        }
        let copy = format!("{}{from}", super::BASE);
        out.copy(from, &copy);
        maps.push(ConfigMap {
            name,
            files: vec![relative(&copy)],
        });
    }

    // Prometheus: its configuration (written into k8s/ by the prometheus
    // target) and the rule files, copied into k8s/.
    let mut rules = Vec::new();
    for path in out.emitted_under(alerting::RULES_DIR) {
        let name = path.strip_prefix(alerting::RULES_DIR).unwrap_or(&path);
        let copy = rules_copy_path(name);
        out.copy(&path, &copy);
        rules.push(relative(&copy));
    }
    let config_map = format!("{project}-prometheus-config");
    let rules_map = format!("{project}-prometheus-rules");
    maps.push(ConfigMap {
        name: config_map.clone(),
        files: vec![relative(PROMETHEUS_CONFIG_PATH)],
    });
    maps.push(ConfigMap {
        name: rules_map.clone(),
        files: rules,
    });
    let account = |name| Account { common, name };
    render(
        out,
        "k8s/prometheus/serviceaccount.yaml".into(),
        "kubernetes/service-account.yaml.j2",
        &account(PROMETHEUS_ACCOUNT),
    )?;
    render(
        out,
        "k8s/kube-state-metrics/serviceaccount.yaml".into(),
        "kubernetes/service-account.yaml.j2",
        &account(KUBE_STATE_METRICS),
    )?;
    // Exactly what discovery needs: the namespace's pods (each replica a
    // target), and the nodes with their kubelet metrics (cAdvisor).
    let roles = [
        RoleCx {
            common,
            kind: "Role",
            cluster_wide: false,
            name: PROMETHEUS_ACCOUNT.into(),
            account: PROMETHEUS_ACCOUNT,
            why: "Prometheus discovers each replica of the services: the pods of this namespace.",
            rules: vec![RbacRule {
                api_groups: vec![""],
                resources: vec!["pods"],
                verbs: READ.to_vec(),
            }],
        },
        RoleCx {
            common,
            kind: "ClusterRole",
            cluster_wide: true,
            name: format!("{}-prometheus", k8s.namespace),
            account: PROMETHEUS_ACCOUNT,
            why: "Prometheus scrapes each node's kubelet for cAdvisor's container CPU and memory series.",
            rules: vec![RbacRule {
                api_groups: vec![""],
                resources: vec!["nodes", "nodes/metrics"],
                verbs: READ.to_vec(),
            }],
        },
        RoleCx {
            common,
            kind: "Role",
            cluster_wide: false,
            name: KUBE_STATE_METRICS.into(),
            account: KUBE_STATE_METRICS,
            why: "kube-state-metrics reports this namespace's pods (their requests) and autoscalers.",
            rules: vec![
                RbacRule {
                    api_groups: vec![""],
                    resources: vec!["pods"],
                    verbs: vec!["list", "watch"],
                },
                RbacRule {
                    api_groups: vec!["autoscaling"],
                    resources: vec!["horizontalpodautoscalers"],
                    verbs: vec!["list", "watch"],
                },
            ],
        },
    ];
    for role in &roles {
        let file = if role.cluster_wide {
            "cluster"
        } else {
            "namespace"
        };
        let dir = format!("k8s/{}", role.account);
        render(
            out,
            format!("{dir}/{file}-role.yaml"),
            "kubernetes/rbac-role.yaml.j2",
            role,
        )?;
        render(
            out,
            format!("{dir}/{file}-role-binding.yaml"),
            "kubernetes/rbac-binding.yaml.j2",
            role,
        )?;
    }
    let sizing = Sizing::of(model);
    let m = &model.monitoring;
    let remote_write = m.remote_write.as_ref().and_then(|rw| rw.secret());
    let prometheus = PrometheusCx {
        common,
        name: "prometheus",
        image: &k8s.prometheus_image,
        port: m.prometheus_port,
        replicas: m.prometheus_replicas,
        replica_env: (m.prometheus_replicas > 1).then_some(prometheus::REPLICA_ENV),
        region_env: (model.project.regions.len() > 1).then_some(prometheus::REGION_ENV),
        remote_write_secret: match remote_write {
            Some(s @ SecretRef::Env(variable)) => Some(SecretVolume {
                secret_name: format!("{project}-prometheus"),
                key: s.secret_name(),
                variable: variable.clone(),
                dir: SECRETS_DIR,
            }),
            _ => None,
        },
        remote_write_file: match remote_write {
            Some(SecretRef::File(path)) => Some(path.clone()),
            _ => None,
        },
        service_account: PROMETHEUS_ACCOUNT,
        sizing: vec![
            format!(
                "The volume: {} GiB for {} of about {} series scraped every {}",
                sizing.volume_gib, m.retention, sizing.series, m.scrape_interval
            ),
            "(series × samples per series × 2 bytes × 2 for the WAL and compaction,".into(),
            "at least 10 GiB). The series: 1,000 per HTTP replica at its maximum".into(),
            "count, 500 per cache, 5,000 for the monitoring stack. Memory: 8 KiB".into(),
            "per series, at least 512Mi; the limit is twice the request.".into(),
        ],
        retention: m.retention.to_string(),
        retention_size: format!("{}MB", sizing.retention_mib),
        storage: format!("{}Gi", sizing.volume_gib),
        config_dir: PROMETHEUS_CONFIG_DIR,
        config_file: "prometheus.yml",
        rules_dir: PROMETHEUS_RULES_MOUNT,
        data_dir: PROMETHEUS_DATA_DIR,
        config_map,
        rules_map,
        resources: limits(
            "250m",
            &format!("{}Mi", sizing.memory_mib),
            "1",
            &format!("{}Mi", sizing.memory_mib * 2),
        ),
        security: NON_ROOT,
    };
    render(
        out,
        PROMETHEUS_STATEFULSET_PATH.into(),
        "kubernetes/prometheus-statefulset.yaml.j2",
        &prometheus,
    )?;
    let service = |name, port, port_name| ServiceCx {
        common,
        name,
        port,
        port_name,
        sticky: None,
    };
    render(
        out,
        "k8s/prometheus/service.yaml".into(),
        "kubernetes/monitoring-service.yaml.j2",
        &ServiceCx {
            sticky: (m.prometheus_replicas > 1).then_some(
                "Either replica answers every query; a client (Grafana) keeps to one, so a dashboard does not mix their slightly different samples between refreshes.",
            ),
            ..service("prometheus", m.prometheus_port, "http")
        },
    )?;

    // Grafana, when there are dashboards.
    let dashboards = out.emitted_under(grafana::DASHBOARDS_DIR);
    if !dashboards.is_empty() {
        let copy = |path: &str| {
            format!(
                "{GRAFANA_DIR}{}",
                path.strip_prefix("grafana/").unwrap_or(path)
            )
        };
        let mut map = |out: &mut Emitter<'_>, name: String, paths: &[String]| {
            let files = paths
                .iter()
                .map(|p| {
                    let to = copy(p);
                    out.copy(p, &to);
                    relative(&to)
                })
                .collect();
            maps.push(ConfigMap {
                name: name.clone(),
                files,
            });
            name
        };
        let datasources_map = map(
            out,
            format!("{project}-grafana-datasources"),
            &[grafana::DATASOURCE_PATH.to_string()],
        );
        let providers_map = map(
            out,
            format!("{project}-grafana-dashboard-providers"),
            &[grafana::PROVIDER_PATH.to_string()],
        );
        let dashboards_map = map(out, format!("{project}-grafana-dashboards"), &dashboards);
        let cx = GrafanaCx {
            common,
            image: &k8s.grafana_image,
            port: GRAFANA_PORT,
            root_url: &m.grafana_url,
            secret_name: format!("{project}-grafana"),
            secret_key: GRAFANA_SECRET_KEY,
            data_dir: GRAFANA_DATA_DIR,
            dashboards_dir: grafana::DASHBOARDS_MOUNT,
            datasources_map,
            providers_map,
            dashboards_map,
            resources: limits("100m", "128Mi", "500m", "512Mi"),
            security: Security { user: GRAFANA_USER },
        };
        render(
            out,
            GRAFANA_DEPLOYMENT_PATH.into(),
            "kubernetes/grafana-deployment.yaml.j2",
            &cx,
        )?;
        render(
            out,
            "k8s/grafana/service.yaml".into(),
            "kubernetes/monitoring-service.yaml.j2",
            &service("grafana", m.grafana_port, "http"),
        )?;
    }

    // kube-state-metrics: the pods' requests and the autoscalers' counts.
    render(
        out,
        KUBE_STATE_METRICS_DEPLOYMENT_PATH.into(),
        "kubernetes/kube-state-metrics-deployment.yaml.j2",
        &KubeStateMetricsCx {
            common,
            image: &k8s.kube_state_metrics_image,
            port: KUBE_STATE_METRICS_PORT,
            telemetry_port: KUBE_STATE_METRICS_TELEMETRY_PORT,
            service_account: KUBE_STATE_METRICS,
            resources_watched: "horizontalpodautoscalers,pods",
            resources: limits("50m", "64Mi", "200m", "256Mi"),
            security: NON_ROOT,
        },
    )?;
    render(
        out,
        "k8s/kube-state-metrics/service.yaml".into(),
        "kubernetes/monitoring-service.yaml.j2",
        &service(KUBE_STATE_METRICS, KUBE_STATE_METRICS_PORT, "http-metrics"),
    )?;

    // One pod at a time: with one replica, a drain may evict it (a short
    // gap in monitoring) rather than be blocked forever; with several, the
    // others keep scraping and notifying.
    let mut components = vec!["prometheus", KUBE_STATE_METRICS];
    if m.runs_alertmanager() {
        components.insert(1, "alertmanager");
    }
    if !dashboards.is_empty() {
        components.push("grafana");
    }
    for name in components {
        render(
            out,
            super::pdb_path(name),
            "kubernetes/pdb.yaml.j2",
            &Pdb {
                common,
                name,
                max_unavailable: Some(1),
                min_available: None,
            },
        )?;
    }
    Ok(maps)
}
