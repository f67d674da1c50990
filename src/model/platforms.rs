//! Where the services run: Compose, Kubernetes, DigitalOcean App Platform.

use std::collections::BTreeMap;

#[derive(Debug)]
pub struct Platforms {
    pub compose: Option<Compose>,
    pub kubernetes: Option<Kubernetes>,
    pub digitalocean: Option<DigitalOcean>,
}

#[derive(Debug)]
pub struct Compose {
    pub prometheus_image: String,
    pub alertmanager_image: String,
    pub grafana_image: String,
    /// Where the backup jobs push their metrics (run when a database has backups).
    pub pushgateway_image: String,
}

#[derive(Debug)]
pub struct Kubernetes {
    pub namespace: String,
    /// The Alertmanager image (the Compose one when both are on).
    pub alertmanager_image: String,
    /// The Pushgateway image (the Compose one when both are on), run when a
    /// database has backups.
    pub pushgateway_image: String,
    /// The Prometheus and Grafana images (the Compose ones when both are on).
    pub prometheus_image: String,
    pub grafana_image: String,
    pub kube_state_metrics_image: String,
    /// With `prometheus_operator = true`: the operator's objects replace
    /// the in-cluster Prometheus, Alertmanager, Grafana and kube-state-metrics.
    pub operator: Option<Operator>,
}

/// The Prometheus Operator (kube-prometheus-stack) harden's objects are for.
#[derive(Debug)]
pub struct Operator {
    /// Labels on every PodMonitor and PrometheusRule, which the operator's
    /// `podMonitorSelector` and `ruleSelector` select, sorted by key.
    pub selector_labels: Vec<(String, String)>,
    /// Labels on every dashboard ConfigMap, which Grafana's sidecar loads.
    pub dashboard_labels: Vec<(String, String)>,
    /// The namespace the operator's Prometheus, Alertmanager and Grafana run in.
    pub namespace: String,
}

#[derive(Debug)]
pub struct DigitalOcean {
    pub app: String,
    pub instance_size: String,
    /// App Platform's region slug, such as `fra` for `fra1`.
    pub region: Option<String>,
    /// One app spec per project region (one without a region when the
    /// project names none), primary first.
    pub apps: Vec<DoApp>,
    /// Where App Platform pulls each http service's image, by service name.
    pub images: BTreeMap<String, DoImage>,
    /// Where each instance pushes its metrics (Prometheus's OTLP receiver),
    /// when the spec chose `metrics = "otlp"`: App Platform gives no
    /// instance an address Prometheus could scrape.
    pub otlp: Option<OtlpPush>,
}

/// App Platform instances pushing OTLP metrics to the Compose stack's
/// Prometheus, through its https gateway.
#[derive(Debug)]
pub struct OtlpPush {
    /// The URL the instances push to, as the spec gives it.
    pub endpoint: String,
    /// Its host (and port, when it names one): the gateway's site, for
    /// which it obtains a certificate.
    pub site: String,
    /// Its path, which the gateway forwards to Prometheus's receiver.
    pub path: String,
}

impl OtlpPush {
    /// The user name the instances authenticate as at the gateway; the
    /// password is theirs, its bcrypt hash the gateway's (neither is
    /// written by harden).
    pub const USER: &'static str = "otlp-push";
    /// Prometheus's OTLP receiver path (`--web.enable-otlp-receiver`).
    pub const RECEIVER_PATH: &'static str = "/api/v1/otlp/v1/metrics";
}

/// One App Platform app: a spec file for one region.
#[derive(Debug)]
pub struct DoApp {
    /// The app's name: the configured one, suffixed `-<region>` when there
    /// are several regions (app names are unique per account).
    pub name: String,
    /// App Platform's short slug, such as `fra`.
    pub region: Option<String>,
    /// The project's region the app runs in, such as `fra1`.
    pub project_region: Option<String>,
}

/// The registries App Platform pulls an image from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoRegistry {
    /// DigitalOcean Container Registry (`registry.digitalocean.com`).
    Docr,
    /// Docker Hub.
    DockerHub,
    /// GitHub Container Registry (`ghcr.io`).
    Ghcr,
}

impl DoRegistry {
    /// The app spec's `registry_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            DoRegistry::Docr => "DOCR",
            DoRegistry::DockerHub => "DOCKER_HUB",
            DoRegistry::Ghcr => "GHCR",
        }
    }
}

/// An image reference split the way App Platform's `image` source takes it.
#[derive(Debug, Clone)]
pub struct DoImage {
    pub registry_type: DoRegistry,
    /// The Docker Hub or GHCR namespace; none for DOCR.
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}
