//! `k8s/`: a Namespace; per http service a Deployment (startup, liveness and
//! readiness probes, requests and limits, rolling updates), a Service, an
//! `autoscaling/v2` HorizontalPodAutoscaler when it autoscales and a
//! `policy/v1` PodDisruptionBudget; an Alertmanager that reads the receiver
//! secrets from a Secret volume at `/run/secrets`; per Redis cache a
//! Deployment with redis_exporter as a sidecar, a Service for both ports, a
//! PodDisruptionBudget that lets a drain move its one pod and, with
//! persistence, a PersistentVolumeClaim; and a `kustomization.yaml`
//! listing every manifest. With several regions, one cluster per region (a
//! cluster does not span regions): `k8s-regions/<region>/kustomization.yaml`
//! applies `k8s/` there with a `region` label on every object and pod. A
//! sibling of `k8s/`, not inside it: kustomize refuses an overlay inside
//! its base's directory (a cycle). No node selector: every node of a
//! regional cluster is in its region. A database with a `backup` section gets a
//! `batch/v1` CronJob running `scripts/backup.sh` (`<db>/backup-cronjob.yaml`),
//! and the project a Pushgateway (`pushgateway/{deployment,service,pdb}.yaml`) it reports to.

pub(crate) mod check;
mod monitoring;
mod operator;

pub use monitoring::{PROMETHEUS_CONFIG_PATH, PROMETHEUS_RULES_DIR, Sizing, rules_copy_path};
pub use operator::{
    ALERTMANAGER_CONFIG_DIR, MONITORING_ALERTMANAGER_PATH, MONITORING_DATASOURCE_PATH,
    MONITORING_DIR, MONITORING_KUSTOMIZATION_PATH, OPERATOR_DIR, alertmanager_secrets_dir,
    operator_prometheus_url, pod_monitor_path, prometheus_rule_path,
};

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{
    ALERTMANAGER_CLUSTER_PORT, BackupDestination, Disruption, Kubernetes, Model,
    REDIS_EXPORTER_PORT, SECRETS_DIR, Scaling, SecretRef, backup_metrics, member_names,
};
use crate::output::FileMode;
use crate::targets::prometheus::kubernetes::{ALERTMANAGER_SERVICE, alertmanager_address};

/// The base every manifest is in; `kustomization.yaml` lists the others
/// relative to it.
const BASE: &str = "k8s/";
pub const NAMESPACE_PATH: &str = "k8s/namespace.yaml";
pub const KUSTOMIZATION_PATH: &str = "k8s/kustomization.yaml";
pub const ALERTMANAGER_STATEFULSET_PATH: &str = "k8s/alertmanager/statefulset.yaml";
pub const ALERTMANAGER_SERVICE_PATH: &str = "k8s/alertmanager/service.yaml";
pub const PUSHGATEWAY_DEPLOYMENT_PATH: &str = "k8s/pushgateway/deployment.yaml";
pub const PUSHGATEWAY_SERVICE_PATH: &str = "k8s/pushgateway/service.yaml";

/// The container port names the Deployment templates give an HTTP service
/// (and the Pushgateway) and a cache's redis_exporter sidecar; a PodMonitor
/// selects the port by name.
pub const HTTP_PORT_NAME: &str = "http";
pub const EXPORTER_PORT_NAME: &str = "metrics";

/// The Secret holding the receivers' secrets (`kubectl create secret`).
fn receiver_secret(project: &str) -> String {
    format!("{project}-alertmanager")
}

/// The command that makes the cluster's Alertmanager answer on the local
/// `alertmanager_port` (the default `ALERTMANAGER_URL` of the runbooks):
/// harden's Deployment, or the Prometheus Operator's `alertmanager-operated`
/// Service in its namespace.
pub fn alertmanager_port_forward(model: &Model) -> Option<String> {
    let k8s = model.platforms.kubernetes.as_ref()?;
    let local = model.monitoring.alertmanager_port;
    let (namespace, service, port) = match &k8s.operator {
        Some(operator) => (
            operator.namespace.as_str(),
            operator::OPERATED_ALERTMANAGER,
            operator::OPERATED_ALERTMANAGER_PORT,
        ),
        // An existing Alertmanager ([monitoring] alertmanagers): none here.
        None if !model.monitoring.runs_alertmanager() => return None,
        None => (k8s.namespace.as_str(), "alertmanager", local),
    };
    Some(format!(
        "kubectl -n {} port-forward svc/{service} {local}:{port}",
        crate::engine::escape::shell_word(namespace)
    ))
}

/// The ConfigMaps of Alertmanager's configuration and of its templates.
fn alertmanager_config_map(project: &str) -> String {
    format!("{project}-alertmanager-config")
}
fn alertmanager_templates_map(project: &str) -> String {
    format!("{project}-alertmanager-templates")
}

/// `k8s/<name>/deployment.yaml`: an HTTP service's or a cache's Deployment.
pub fn deployment_path(name: &str) -> String {
    format!("k8s/{name}/deployment.yaml")
}
/// `k8s/<name>/service.yaml`.
pub fn service_path(name: &str) -> String {
    format!("k8s/{name}/service.yaml")
}
/// `k8s/<name>/hpa.yaml`.
pub fn hpa_path(name: &str) -> String {
    format!("k8s/{name}/hpa.yaml")
}
/// `k8s/<name>/pdb.yaml`.
pub fn pdb_path(name: &str) -> String {
    format!("k8s/{name}/pdb.yaml")
}
/// `k8s/<cache>/pvc.yaml`.
pub fn pvc_path(name: &str) -> String {
    format!("k8s/{name}/pvc.yaml")
}
/// `k8s/<db>/backup-cronjob.yaml`.
pub fn backup_cronjob_path(db: &str) -> String {
    format!("k8s/{db}/backup-cronjob.yaml")
}
/// `k8s-regions/<region>`: the kustomization of one region's cluster.
pub fn overlay_dir(region: &str) -> String {
    format!("k8s-regions/{region}")
}

#[derive(Serialize)]
struct Common<'a> {
    namespace: &'a str,
    project: &'a str,
}

#[derive(Serialize)]
struct App<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    name: &'a str,
    image: &'a str,
    port: u16,
    /// Only for a fixed count: an HPA owns the count otherwise.
    replicas: Option<u32>,
    resources: Option<Resources<'a>>,
    probes: Probes,
    /// The Secret holding the service's own secrets, and its keys.
    secret_name: String,
    secrets: &'a [String],
    metrics_path: &'a str,
}

#[derive(Serialize)]
struct Resources<'a> {
    cpu: &'a str,
    memory: &'a str,
    cpu_limit: Option<&'a str>,
    memory_limit: &'a str,
}

#[derive(Serialize)]
struct Probes {
    startup: Probe,
    liveness: Probe,
    readiness: Probe,
}

#[derive(Serialize)]
struct Probe {
    path: String,
    period: u64,
    timeout: u64,
    failure_threshold: u64,
}

#[derive(Serialize)]
struct Hpa<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    name: &'a str,
    min_replicas: u32,
    max_replicas: u32,
    cpu_percent: Option<u32>,
    memory_percent: Option<u32>,
    scale_down_window: u64,
}

#[derive(Serialize)]
struct Pdb<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    name: &'a str,
    max_unavailable: Option<u32>,
    min_available: Option<u32>,
}

impl<'a> Pdb<'a> {
    /// The budget of a one-replica workload (a cache, the Pushgateway): a
    /// drain may evict the pod, a short gap while it starts elsewhere. A
    /// budget that keeps one replica available would block every drain and
    /// node upgrade until someone deleted it by hand.
    fn single(common: &'a Common<'a>, name: &'a str) -> Pdb<'a> {
        Pdb {
            common,
            name,
            max_unavailable: Some(1),
            min_available: None,
        }
    }
}

#[derive(Serialize)]
struct Alertmanager<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    /// The pod label the anti-affinity selects by.
    name: &'static str,
    image: &'a str,
    port: u16,
    replicas: u8,
    /// The headless Service that names each member.
    service: &'static str,
    cluster_port: u16,
    /// `--cluster.peer-timeout`, as Compose passes it.
    peer_timeout_arg: String,
    /// Every member's gossip address (itself too: one list for all pods);
    /// none for a single member, which gossips with no one.
    peers: Vec<String>,
    secret_name: String,
    config_map: String,
    templates_map: String,
    /// Whether harden writes `alertmanager/alertmanager.yml` (only with
    /// receivers): otherwise the ConfigMap is the user's to create.
    generated_config: bool,
    secrets_dir: &'static str,
    /// Receiver secrets from environment variables: (key, variable).
    env_secrets: Vec<(String, String)>,
    /// Receiver secrets read from files the user provides.
    file_secrets: Vec<String>,
    resources: monitoring::Limits,
    security: monitoring::Security,
}

/// A database's backup CronJob (`scripts/backup.sh` from a ConfigMap).
#[derive(Serialize)]
struct BackupJob<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    name: String,
    database: &'a str,
    port: u16,
    schedule: &'static str,
    cron: &'a str,
    image: &'a str,
    destination: &'a str,
    s3: bool,
    retention_days: u32,
    volume_claim: Option<String>,
    script_config: String,
    secret_name: String,
    starting_deadline: u64,
    active_deadline: u64,
    pushgateway: &'static str,
}

/// The Pushgateway the backup jobs push to.
#[derive(Serialize)]
struct Pushgateway<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    image: &'a str,
    port: u16,
}

#[derive(Serialize)]
struct RedisCx<'a> {
    #[serde(flatten)]
    common: &'a Common<'a>,
    name: &'a str,
    image: &'a str,
    exporter_image: &'a str,
    port: u16,
    exporter_port: u16,
    args: Vec<String>,
    maxmemory: &'a str,
    policy: &'static str,
    resources: Resources<'a>,
    /// The variable (and Secret key) holding the password.
    password: Option<&'a str>,
    secret_name: String,
    /// The PersistentVolumeClaim's size, with persistence.
    storage: Option<&'a str>,
    ping: String,
}

#[derive(Serialize)]
struct Kustomization<'a> {
    namespace: &'a str,
    resources: Vec<String>,
    config_maps: Vec<monitoring::ConfigMap>,
}

#[derive(Serialize)]
struct Overlay<'a> {
    region: &'a str,
    path: String,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(k8s) = &model.platforms.kubernetes else {
        return Ok(());
    };
    let common = Common {
        namespace: &k8s.namespace,
        project: &model.project.name,
    };
    let relative = |path: &str| path.strip_prefix(BASE).unwrap_or(path).to_string();
    let mut resources = vec![relative(NAMESPACE_PATH)];
    let mut render =
        |out: &mut Emitter<'_>, path: String, template: &str, cx: &dyn ErasedContext| {
            let result = cx.render_into(out, &path, template);
            resources.push(relative(&path));
            result
        };
    out.render(
        NAMESPACE_PATH,
        "kubernetes/namespace.yaml.j2",
        &common,
        FileMode::Regular,
    )?;
    for service in &model.services {
        let Some(http) = service.http() else { continue };
        let name = service.name.as_str();
        let p = &http.probes;
        let probe = |path: &str, failure_threshold: u64| Probe {
            path: path.to_string(),
            period: p.interval_secs,
            timeout: p.timeout_secs,
            failure_threshold,
        };
        let app = App {
            common: &common,
            name,
            image: &http.image,
            port: http.port,
            replicas: match &http.scaling {
                Scaling::Fixed { replicas } => Some(*replicas),
                Scaling::Auto(_) => None,
            },
            resources: http.resources.as_ref().map(|r| Resources {
                cpu: &r.cpu,
                memory: &r.memory,
                cpu_limit: r.cpu_limit.as_deref(),
                memory_limit: &r.memory_limit,
            }),
            probes: Probes {
                startup: probe(&http.endpoints.liveness, p.startup_failure_threshold),
                liveness: probe(&http.endpoints.liveness, u64::from(p.failure_threshold)),
                readiness: probe(&http.endpoints.readiness, u64::from(p.failure_threshold)),
            },
            secret_name: format!("{}-{name}", model.project.name),
            secrets: &http.secrets,
            metrics_path: &http.endpoints.metrics,
        };
        render(
            out,
            deployment_path(name),
            "kubernetes/deployment.yaml.j2",
            &app,
        )?;
        render(out, service_path(name), "kubernetes/service.yaml.j2", &app)?;
        if let Scaling::Auto(a) = &http.scaling {
            let hpa = Hpa {
                common: &common,
                name,
                min_replicas: a.min_replicas,
                max_replicas: a.max_replicas,
                cpu_percent: a.cpu_percent,
                memory_percent: a.memory_percent,
                scale_down_window: a.scale_down_window.as_millis().div_ceil(1000),
            };
            render(out, hpa_path(name), "kubernetes/hpa.yaml.j2", &hpa)?;
        }
        let (max_unavailable, min_available) = match http.disruption {
            Disruption::MaxUnavailable(n) => (Some(n), None),
            Disruption::MinAvailable(n) => (None, Some(n)),
        };
        let pdb = Pdb {
            common: &common,
            name,
            max_unavailable,
            min_available,
        };
        render(out, pdb_path(name), "kubernetes/pdb.yaml.j2", &pdb)?;
    }
    for service in &model.services {
        let (Some(db), Some(r)) = (service.database(), service.redis()) else {
            continue;
        };
        let name = service.name.as_str();
        let password = r.password.as_ref().map(|p| match p {
            SecretRef::Env(v) | SecretRef::File(v) => v.as_str(),
        });
        let mut args = r.server_args(db.port);
        if password.is_some() {
            args.extend(["--requirepass".to_string(), "$(REDIS_PASSWORD)".to_string()]);
        }
        let cx = RedisCx {
            common: &common,
            name,
            image: &r.image,
            exporter_image: &r.exporter_image,
            port: db.port,
            exporter_port: REDIS_EXPORTER_PORT,
            args,
            maxmemory: &r.maxmemory,
            policy: r.eviction_policy.as_str(),
            resources: Resources {
                cpu: &r.resources.cpu,
                memory: &r.resources.memory,
                cpu_limit: r.resources.cpu_limit.as_deref(),
                memory_limit: &r.resources.memory_limit,
            },
            password,
            secret_name: format!("{}-{name}", model.project.name),
            storage: r.storage.as_deref(),
            ping: format!("redis-cli -p {} ping | grep -q PONG", db.port),
        };
        if r.storage.is_some() {
            render(out, pvc_path(name), "kubernetes/redis-pvc.yaml.j2", &cx)?;
        }
        render(
            out,
            deployment_path(name),
            "kubernetes/redis-deployment.yaml.j2",
            &cx,
        )?;
        render(
            out,
            service_path(name),
            "kubernetes/redis-service.yaml.j2",
            &cx,
        )?;
        // One instance: the app sees cache misses while a drain moves it.
        render(
            out,
            pdb_path(name),
            "kubernetes/pdb.yaml.j2",
            &Pdb::single(&common, name),
        )?;
    }
    for service in &model.services {
        let (Some(db), Some(b)) = (service.database(), service.backup()) else {
            continue;
        };
        let name = service.name.as_str();
        let interval = b.interval.as_millis() / 1000;
        let job = BackupJob {
            common: &common,
            name: format!("{name}-backup"),
            database: name,
            port: db.port,
            schedule: b.schedule.as_str(),
            cron: &b.cron,
            image: &b.image,
            destination: b.destination.as_str(),
            s3: matches!(b.destination, BackupDestination::S3(_)),
            retention_days: b.retention_days,
            volume_claim: matches!(b.destination, BackupDestination::Dir(_))
                .then(|| format!("{name}-backups")),
            script_config: format!("{}-backup-scripts", model.project.name),
            secret_name: format!("{name}-backup"),
            // A quarter of the interval, at most an hour: the freshness
            // alert's margin is a quarter too.
            starting_deadline: (interval / 4).min(3600),
            active_deadline: (interval / 2).min(6 * 3600),
            pushgateway: backup_metrics::PUSHGATEWAY,
        };
        render(
            out,
            backup_cronjob_path(name),
            "kubernetes/backup-cronjob.yaml.j2",
            &job,
        )?;
    }
    if model.services.iter().any(|s| s.backup().is_some()) {
        let pushgateway = Pushgateway {
            common: &common,
            image: &k8s.pushgateway_image,
            port: backup_metrics::PUSHGATEWAY_PORT,
        };
        render(
            out,
            PUSHGATEWAY_DEPLOYMENT_PATH.to_string(),
            "kubernetes/pushgateway-deployment.yaml.j2",
            &pushgateway,
        )?;
        render(
            out,
            PUSHGATEWAY_SERVICE_PATH.to_string(),
            "kubernetes/pushgateway-service.yaml.j2",
            &pushgateway,
        )?;
        render(
            out,
            pdb_path("pushgateway"),
            "kubernetes/pdb.yaml.j2",
            &Pdb::single(&common, "pushgateway"),
        )?;
    }
    if let Some(operator) = &k8s.operator {
        // The operator's Prometheus, Alertmanager and Grafana: their
        // objects here, their configuration in k8s-monitoring/.
        resources.extend(out.emitted_under(OPERATOR_DIR).iter().map(|p| relative(p)));
        out.render(
            KUSTOMIZATION_PATH,
            "kubernetes/kustomization.yaml.j2",
            &Kustomization {
                namespace: &k8s.namespace,
                resources,
                config_maps: Vec::new(),
            },
            FileMode::Regular,
        )?;
        operator::emit(model, operator, out)?;
        return overlays(model, out);
    }
    if model.monitoring.runs_alertmanager() {
        alertmanager(model, k8s, &common, out, &mut render)?;
    }
    let config_maps = monitoring::emit(model, k8s, &common, out, &mut render)?;
    out.render(
        KUSTOMIZATION_PATH,
        "kubernetes/kustomization.yaml.j2",
        &Kustomization {
            namespace: &k8s.namespace,
            resources,
            config_maps,
        },
        FileMode::Regular,
    )?;
    overlays(model, out)
}

/// `k8s-regions/<region>/kustomization.yaml`, with several regions.
fn overlays(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    if model.project.regions.len() > 1 {
        for region in &model.project.regions {
            let path = overlay_dir(region);
            out.render(
                &format!("{path}/kustomization.yaml"),
                "kubernetes/overlay-kustomization.yaml.j2",
                &Overlay { region, path },
                FileMode::Regular,
            )?;
        }
    }
    Ok(())
}

/// The generated Alertmanager: a StatefulSet of its members and their
/// headless Service.
fn alertmanager(
    model: &Model,
    k8s: &Kubernetes,
    common: &Common<'_>,
    out: &mut Emitter<'_>,
    render: &mut monitoring::Render<'_>,
) -> Result<(), EmitError> {
    let m = &model.monitoring;
    let members = member_names(ALERTMANAGER_SERVICE, m.alertmanager_replicas);
    let (env_secrets, file_secrets) = model.alerting.secret_sources();
    let alertmanager = Alertmanager {
        common,
        name: "alertmanager",
        image: &k8s.alertmanager_image,
        port: m.alertmanager_port,
        replicas: m.alertmanager_replicas,
        service: ALERTMANAGER_SERVICE,
        cluster_port: ALERTMANAGER_CLUSTER_PORT,
        peer_timeout_arg: crate::targets::alertmanager::peer_timeout_arg(m),
        peers: if members.len() > 1 {
            members
                .iter()
                .map(|member| {
                    alertmanager_address(member, &k8s.namespace, ALERTMANAGER_CLUSTER_PORT)
                })
                .collect()
        } else {
            Vec::new()
        },
        secret_name: format!("{}-alertmanager", model.project.name),
        config_map: alertmanager_config_map(&model.project.name),
        templates_map: alertmanager_templates_map(&model.project.name),
        generated_config: !out
            .emitted_under(crate::targets::alertmanager::PATH)
            .is_empty(),
        secrets_dir: SECRETS_DIR,
        env_secrets,
        file_secrets,
        resources: monitoring::alertmanager_limits(),
        security: monitoring::NON_ROOT,
    };
    render(
        out,
        ALERTMANAGER_STATEFULSET_PATH.to_string(),
        "kubernetes/alertmanager-statefulset.yaml.j2",
        &alertmanager,
    )?;
    render(
        out,
        ALERTMANAGER_SERVICE_PATH.to_string(),
        "kubernetes/alertmanager-service.yaml.j2",
        &alertmanager,
    )
}

/// A render context of any type, so one closure renders them all.
trait ErasedContext {
    fn render_into(
        &self,
        out: &mut Emitter<'_>,
        path: &str,
        template: &str,
    ) -> Result<(), EmitError>;
}

impl<T: Serialize> ErasedContext for T {
    fn render_into(
        &self,
        out: &mut Emitter<'_>,
        path: &str,
        template: &str,
    ) -> Result<(), EmitError> {
        out.render(path, template, self, FileMode::Regular)
    }
}
