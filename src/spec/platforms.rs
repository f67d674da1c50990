//! `[platform]`: Compose, Kubernetes and DigitalOcean App Platform.

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
    /// Reserved for prometheus-operator `ServiceMonitor` and `PrometheusRule`
    /// objects, which are not generated yet: `true` is refused.
    pub prometheus_operator: Option<bool>,
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
