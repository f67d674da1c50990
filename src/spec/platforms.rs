//! `[platform]`: Compose, Kubernetes and DigitalOcean App Platform.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// The platforms to generate files for; a table's presence turns one on.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Platforms {
    pub compose: Option<Compose>,
    pub kubernetes: Option<Kubernetes>,
    pub digitalocean: Option<DigitalOcean>,
}

/// `docker-compose.yml` with the monitoring stack.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    /// Image tags of the monitoring stack.
    pub prometheus_image: Option<Image>,
    pub alertmanager_image: Option<Image>,
    pub grafana_image: Option<Image>,
}

/// Kubernetes manifests under `k8s/`.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kubernetes {
    /// Namespace (default: the project name).
    pub namespace: Option<Name>,
    /// `true`: the cluster runs the Prometheus Operator (kube-prometheus-stack),
    /// so harden generates its objects (a PodMonitor per scraped workload, a
    /// PrometheusRule per rule file, the operator's Alertmanager
    /// configuration, dashboard ConfigMaps for Grafana's sidecar) instead of
    /// an in-cluster Prometheus, Alertmanager, Grafana and kube-state-metrics.
    pub prometheus_operator: Option<bool>,
    /// With `prometheus_operator`: the labels the operator's
    /// `podMonitorSelector` and `ruleSelector` select, put on every
    /// PodMonitor and PrometheusRule (default `{ release =
    /// "kube-prometheus-stack" }`, kube-prometheus-stack's selector for a
    /// Helm release of that name).
    pub operator_labels: Option<BTreeMap<K8sLabelKey, K8sLabelValue>>,
    /// With `prometheus_operator`: the labels Grafana's dashboard sidecar
    /// loads ConfigMaps by (default `{ grafana_dashboard = "1" }`).
    pub dashboard_labels: Option<BTreeMap<K8sLabelKey, K8sLabelValue>>,
    /// With `prometheus_operator`: the namespace the operator's Prometheus,
    /// Alertmanager and Grafana run in (default `monitoring`); the
    /// Alertmanager configuration and the dashboards go there (`k8s-monitoring/`).
    pub operator_namespace: Option<Name>,
    /// The kube-state-metrics image, which reports the pods' requests and
    /// the autoscalers' replica counts the saturation alerts read.
    pub kube_state_metrics_image: Option<Image>,
}

/// DigitalOcean App Platform spec `.do/app.yaml`.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigitalOcean {
    /// App name (default: the project name).
    pub app: Option<Name>,
    /// Instance size slug, such as `apps-d-1vcpu-1gb`.
    pub instance_size: Option<Name>,
    /// How each instance's metrics reach Prometheus. App Platform balances
    /// a service's requests across its instances and gives no instance an
    /// address of its own, so Prometheus cannot scrape them one by one.
    /// `otlp`: every instance pushes its metrics to Prometheus's OTLP
    /// receiver at `otlp_endpoint`, with its own `service.instance.id`.
    /// Required when a service can run more than one instance.
    pub metrics: Option<DoMetrics>,
    /// With `metrics = "otlp"`: the URL of Prometheus's OTLP receiver as the
    /// instances reach it, such as
    /// `https://prometheus.example.com/api/v1/otlp/v1/metrics`.
    pub otlp_endpoint: Option<Url>,
}

/// How App Platform instances' metrics reach Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DoMetrics {
    /// Each instance pushes OTLP metrics to Prometheus's OTLP receiver.
    Otlp,
}
