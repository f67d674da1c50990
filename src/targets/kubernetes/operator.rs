//! With `prometheus_operator = true` the cluster's Prometheus Operator
//! (kube-prometheus-stack) runs Prometheus, Alertmanager and Grafana, so
//! `k8s/` has none of them. Its objects:
//!
//! - in `k8s/operator/` (the project's namespace, listed in
//!   `k8s/kustomization.yaml`): a PodMonitor per scraped workload (written
//!   by the prometheus target) and a PrometheusRule per rule file (by the
//!   alerting target), each with the labels the operator's selectors select;
//! - in `k8s-monitoring/` (the operator's namespace, its own kustomization):
//!   the Alertmanager's configuration Secret (`alertmanager.yaml`, written by
//!   the alertmanager target, and the message templates), the Grafana
//!   datasource the dashboards name and one ConfigMap per dashboard, each
//!   labelled for Grafana's sidecar.
//!
//! The operator's Alertmanager takes the whole configuration from a Secret,
//! not an `AlertmanagerConfig`: the operator adds a `namespace="<its
//! namespace>"` matcher to an AlertmanagerConfig's top route and to each of
//! its inhibition rules (prometheus-operator's `namespaceEnforcer`), and
//! harden's alerts carry no `namespace` label (the rules aggregate it
//! away), so none would be routed.

use serde::Serialize;

use super::receiver_secret;
use crate::engine::{EmitError, Emitter};
use crate::model::{Model, Operator};
use crate::output::FileMode;
use crate::targets::{alertmanager, grafana};

/// The operator's objects in the project's namespace.
pub const OPERATOR_DIR: &str = "k8s/operator/";
/// What goes into the operator's namespace, applied on its own.
pub const MONITORING_DIR: &str = "k8s-monitoring/";
pub const MONITORING_KUSTOMIZATION_PATH: &str = "k8s-monitoring/kustomization.yaml";
/// Alertmanager's configuration for the operator's Alertmanager.
pub const MONITORING_ALERTMANAGER_PATH: &str = "k8s-monitoring/alertmanager.yaml";
const MONITORING_TEMPLATES_PATH: &str = "k8s-monitoring/harden.tmpl";
/// The Grafana datasource the dashboards name, for the operator's Prometheus.
pub const MONITORING_DATASOURCE_PATH: &str = "k8s-monitoring/grafana-datasource.yaml";
/// Where the operator mounts its Alertmanager's configuration Secret.
pub const ALERTMANAGER_CONFIG_DIR: &str = "/etc/alertmanager/config";
/// The label kube-prometheus-stack's Grafana loads datasources by.
const DATASOURCE_LABEL: (&str, &str) = ("grafana_datasource", "1");
/// The Service the operator creates for the Alertmanagers of its
/// namespace, and its port.
pub const OPERATED_ALERTMANAGER: &str = "alertmanager-operated";
pub const OPERATED_ALERTMANAGER_PORT: u16 = 9093;
/// The port of `prometheus-operated`, the Service the operator creates for
/// every Prometheus of its namespace.
const OPERATED_PORT: u16 = 9090;

/// `k8s/operator/<name>-podmonitor.yaml`.
pub fn pod_monitor_path(name: &str) -> String {
    format!("{OPERATOR_DIR}{name}-podmonitor.yaml")
}

/// `k8s/operator/<name>-rules.yaml`: the PrometheusRule of a rule file.
pub fn prometheus_rule_path(name: &str) -> String {
    format!("{OPERATOR_DIR}{name}-rules.yaml")
}

/// Where the operator's Alertmanager reads the receivers' Secret, which
/// its `secrets` lists (mounted at `/etc/alertmanager/secrets/<Secret>`).
pub fn alertmanager_secrets_dir(project: &str) -> String {
    format!("/etc/alertmanager/secrets/{}", receiver_secret(project))
}

/// The operator's Prometheus, as Grafana in its namespace reaches it.
pub fn operator_prometheus_url(namespace: &str) -> String {
    format!("http://prometheus-operated.{namespace}.svc:{OPERATED_PORT}")
}

/// The Secret holding the operator's Alertmanager configuration.
fn alertmanager_config_secret(project: &str) -> String {
    format!("{project}-alertmanager-config")
}

#[derive(Serialize)]
struct Monitoring<'a> {
    namespace: &'a str,
    /// The configuration Secret, when harden writes a configuration.
    alertmanager: Option<Generated>,
    receiver_secret: String,
    /// Receiver secrets from environment variables: (key, variable).
    env_secrets: Vec<(String, String)>,
    file_secrets: Vec<String>,
    datasource: Option<Generated>,
    dashboards: Vec<Generated>,
}

/// One generator entry: its name, files (relative to `k8s-monitoring/`)
/// and labels.
#[derive(Serialize)]
struct Generated {
    name: String,
    files: Vec<String>,
    labels: Vec<(String, String)>,
}

pub(super) fn emit(
    model: &Model,
    operator: &Operator,
    out: &mut Emitter<'_>,
) -> Result<(), EmitError> {
    let project = &model.project.name;
    let relative = |path: &str| {
        path.strip_prefix(MONITORING_DIR)
            .unwrap_or(path)
            .to_string()
    };
    let alertmanager = (!out.emitted_under(MONITORING_ALERTMANAGER_PATH).is_empty()).then(|| {
        out.copy(alertmanager::TEMPLATES_PATH, MONITORING_TEMPLATES_PATH);
        Generated {
            name: alertmanager_config_secret(project),
            files: vec![
                relative(MONITORING_ALERTMANAGER_PATH),
                relative(MONITORING_TEMPLATES_PATH),
            ],
            labels: Vec::new(),
        }
    });
    let datasource =
        (!out.emitted_under(MONITORING_DATASOURCE_PATH).is_empty()).then(|| Generated {
            name: format!("{project}-grafana-datasource"),
            files: vec![relative(MONITORING_DATASOURCE_PATH)],
            labels: vec![(DATASOURCE_LABEL.0.into(), DATASOURCE_LABEL.1.into())],
        });
    // One ConfigMap per dashboard: a ConfigMap holds at most 1 MiB.
    let mut dashboards = Vec::new();
    for path in out.emitted_under(grafana::DASHBOARDS_DIR) {
        let file = path.strip_prefix(grafana::DASHBOARDS_DIR).unwrap_or(&path);
        let copy = format!("{MONITORING_DIR}dashboards/{file}");
        out.copy(&path, &copy);
        dashboards.push(Generated {
            name: format!(
                "{project}-dashboard-{}",
                file.strip_suffix(".json").unwrap_or(file)
            ),
            files: vec![relative(&copy)],
            labels: operator.dashboard_labels.clone(),
        });
    }
    let (env_secrets, file_secrets) = model.alerting.secret_sources();
    out.render(
        MONITORING_KUSTOMIZATION_PATH,
        "kubernetes/monitoring-kustomization.yaml.j2",
        &Monitoring {
            namespace: &operator.namespace,
            alertmanager,
            receiver_secret: receiver_secret(project),
            env_secrets,
            file_secrets,
            datasource,
            dashboards,
        },
        FileMode::Regular,
    )
}
