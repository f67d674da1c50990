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
}
