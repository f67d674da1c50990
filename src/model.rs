//! The model: one resolved, typed description of the project that every
//! emitter reads. Defaults are applied, units parsed, references resolved and
//! every number that several outputs share is computed here, once.
//!
//! [`lower`] builds it from a [`crate::spec::Spec`] and reports every problem
//! it finds; a `Model` only exists for a valid spec.

mod lower;

pub use lower::lower;

use std::collections::BTreeMap;

pub use crate::spec::{DatabaseEngine, Method, ReceiverType, Severity};
use crate::units::{Decimal, Duration, Percent};

/// A valid project, resolved.
#[derive(Debug)]
pub struct Model {
    pub project: Project,
    pub monitoring: Monitoring,
    pub services: Vec<Service>,
    pub alerting: Alerting,
    pub load_test: Option<LoadTest>,
    pub rollback: Option<Rollback>,
    pub platforms: Platforms,
}

#[derive(Debug)]
pub struct Project {
    pub name: String,
    pub environment: String,
    /// Primary first; empty when the spec names none.
    pub regions: Vec<String>,
    pub runbook_url: Option<String>,
}

impl Project {
    pub fn primary_region(&self) -> Option<&str> {
        self.regions.first().map(String::as_str)
    }
}

#[derive(Debug)]
pub struct Monitoring {
    pub prometheus_port: u16,
    pub grafana_port: u16,
    pub alertmanager_port: u16,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub evaluation_interval: Duration,
    /// At least the longest SLO window, so window-long ratios have their data.
    pub retention: Duration,
    pub grafana_url: String,
}

#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub team: Option<String>,
    pub workload: Workload,
}

impl Service {
    /// The uid of the service's Grafana dashboard, at most 40 characters
    /// (Grafana's limit): `harden-<name>`, or a shortened name and a hash
    /// of the whole name when that is too long. Alerts link to it.
    pub fn dashboard_uid(&self) -> String {
        let uid = format!("harden-{}", self.name);
        if uid.len() <= 40 {
            return uid;
        }
        // FNV-1a: stable across platforms and releases, unlike std's hasher.
        let hash = self.name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let prefix: String = self.name.chars().take(23).collect();
        format!(
            "harden-{}-{:08x}",
            prefix.trim_end_matches('-'),
            hash as u32
        )
    }

    /// The HTTP part of the service, if it is an HTTP service.
    pub fn http(&self) -> Option<&HttpService> {
        match &self.workload {
            Workload::Http(h) => Some(h),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub enum Workload {
    Http(Box<HttpService>),
    Static(StaticSite),
    Database(Database),
}

#[derive(Debug)]
pub struct HttpService {
    pub image: String,
    pub port: u16,
    pub endpoints: Endpoints,
    pub scaling: Scaling,
    pub resources: Option<Resources>,
    pub metrics: MetricNames,
    /// Scrape targets, primary region first.
    pub targets: Vec<Target>,
    pub probes: Probes,
    pub slo: Option<Slo>,
    pub alerts: BTreeMap<AlertKind, AlertOverride>,
    pub business_metrics: Vec<BusinessMetric>,
    /// How many pods a voluntary disruption (a node drain) may take down.
    pub disruption: Disruption,
    /// Environment variables holding the service's secrets, by name only.
    pub secrets: Vec<String>,
}

/// A service's pod disruption budget. Either form leaves drains possible:
/// `MinAvailable` is always below the minimum replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disruption {
    MaxUnavailable(u32),
    MinAvailable(u32),
}

#[derive(Debug)]
pub struct Endpoints {
    pub health: String,
    pub liveness: String,
    pub readiness: String,
    pub metrics: String,
}

#[derive(Debug)]
pub enum Scaling {
    Fixed { replicas: u32 },
    Auto(Autoscaling),
}

impl Scaling {
    /// The fewest replicas the service runs with.
    pub fn min_replicas(&self) -> u32 {
        match self {
            Scaling::Fixed { replicas } => *replicas,
            Scaling::Auto(a) => a.min_replicas,
        }
    }
}

#[derive(Debug)]
pub struct Autoscaling {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub cpu_percent: Option<u32>,
    pub memory_percent: Option<u32>,
    pub scale_down_window: Duration,
}

#[derive(Debug)]
pub struct Resources {
    /// CPU request in millicores.
    pub cpu_millis: u64,
    pub cpu: String,
    pub memory: String,
    pub memory_bytes: u64,
    pub cpu_limit: Option<String>,
    pub cpu_limit_millis: Option<u64>,
    pub memory_limit: String,
    pub memory_limit_bytes: u64,
}

#[derive(Debug)]
pub struct MetricNames {
    pub requests: String,
    pub duration: String,
    pub status_label: String,
}

#[derive(Debug)]
pub struct Target {
    pub region: Option<String>,
    pub address: String,
}

#[derive(Debug)]
pub struct Probes {
    pub interval: Duration,
    pub timeout: Duration,
    pub failure_threshold: u32,
    pub startup_grace: Duration,
    /// The in-container health check command, for Compose.
    pub command: Vec<String>,
    /// `interval` in whole seconds (rounded up, at least 1), as Kubernetes
    /// and DigitalOcean take it.
    pub interval_secs: u64,
    /// `timeout` in whole seconds (rounded up, at least 1).
    pub timeout_secs: u64,
    /// `startup_grace` in whole seconds (rounded up).
    pub startup_grace_secs: u64,
    /// Failures a startup probe allows so that failures × interval covers
    /// `startup_grace`: at least `failure_threshold`.
    pub startup_failure_threshold: u64,
}

#[derive(Debug)]
pub struct Slo {
    pub window: Duration,
    pub availability: Option<Percent>,
    pub latency: Vec<LatencyObjective>,
    pub error_rate_5xx: Option<Percent>,
    pub error_rate_4xx: Option<Percent>,
}

#[derive(Debug)]
pub struct LatencyObjective {
    /// 95 for p95.
    pub percentile: Decimal,
    /// 0.95 for p95, as `histogram_quantile` takes it.
    pub quantile: Decimal,
    pub threshold: Duration,
}

/// The alerts harden generates for a service, as the spec names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertKind {
    SloBurnPage,
    SloBurnTicket,
    ErrorRate5xx,
    ErrorRate4xx,
    Latency,
    TargetDown,
    MetricsAbsent,
    CpuHigh,
    MemoryHigh,
    ReplicasAtMax,
    RegionDown,
}

#[derive(Debug, Clone)]
pub struct AlertOverride {
    pub enabled: bool,
    pub for_: Option<Duration>,
    pub severity: Option<Severity>,
}

#[derive(Debug)]
pub struct BusinessMetric {
    pub name: String,
    pub title: String,
    pub expr: String,
    pub unit: String,
}

#[derive(Debug)]
pub struct StaticSite {
    pub build_command: Option<String>,
    pub output_dir: String,
}

#[derive(Debug)]
pub struct Database {
    pub engine: DatabaseEngine,
    pub version: Option<String>,
    pub port: u16,
    pub backup: Option<Backup>,
}

#[derive(Debug)]
pub struct Backup {
    /// A five-field cron expression.
    pub cron: String,
    pub retention_days: u32,
    pub destination: Option<String>,
}

#[derive(Debug)]
pub struct Alerting {
    pub group_by: Vec<String>,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// None only when the spec has no receivers.
    pub default_receiver: Option<String>,
    pub receivers: Vec<Receiver>,
    pub routes: Vec<Route>,
}

#[derive(Debug)]
pub struct Receiver {
    pub name: String,
    pub send_resolved: bool,
    pub channel: ReceiverChannel,
}

#[derive(Debug)]
pub enum ReceiverChannel {
    Slack {
        channel: String,
        webhook_url: SecretRef,
    },
    Email {
        to: String,
        from: String,
        smarthost: String,
        username: Option<Credential>,
        password: Option<SecretRef>,
        require_tls: bool,
    },
    Pagerduty {
        routing_key: SecretRef,
    },
    Webhook {
        url: SecretRef,
    },
}

/// Where a secret is found at deploy time. Its value never enters harden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(String),
}

/// Where platforms mount secrets that come from environment variables.
pub const SECRETS_DIR: &str = "/run/secrets";

impl SecretRef {
    /// The file Alertmanager reads the secret from (its `*_file` fields):
    /// the spec's own path, or `/run/secrets/<name>` for an environment
    /// variable, which each platform delivers there (Compose secrets,
    /// Kubernetes Secret volumes).
    pub fn file_path(&self) -> String {
        match self {
            SecretRef::File(path) => path.clone(),
            SecretRef::Env(_) => format!("{SECRETS_DIR}/{}", self.secret_name()),
        }
    }

    /// The secret's name on platforms, valid as a Kubernetes object name
    /// and a Compose secret: the variable's name in lower case with `-` for
    /// `_` (`SLACK_WEBHOOK_URL` → `slack-webhook-url`), or the file's name.
    pub fn secret_name(&self) -> String {
        let raw = match self {
            SecretRef::Env(var) => var.as_str(),
            SecretRef::File(path) => path.rsplit('/').next().unwrap_or(path),
        };
        let name = raw.to_ascii_lowercase().replace('_', "-");
        name.trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string()
    }
}

#[derive(Debug, Clone)]
pub enum Credential {
    Plain(String),
    Secret(SecretRef),
}

#[derive(Debug)]
pub struct Route {
    pub severity: Option<Severity>,
    pub service: Option<String>,
    pub team: Option<String>,
    pub receivers: Vec<String>,
    pub continue_: bool,
}

#[derive(Debug)]
pub struct LoadTest {
    /// The HTTP service whose SLOs are the test's thresholds.
    pub service: String,
    /// Base URLs by environment, in name order.
    pub environments: Vec<(String, String)>,
    pub concurrent_users: u32,
    pub ramp_up: Duration,
    pub hold: Duration,
    pub ramp_down: Duration,
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub weight: u32,
    /// This scenario's share of the concurrent users; the shares add up to
    /// exactly `concurrent_users` (largest remainder), and each is at least 1.
    pub users: u32,
    pub think_time: Duration,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub struct Step {
    pub name: String,
    pub method: Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
    pub expect: u16,
}

#[derive(Debug)]
pub struct Rollback {
    pub health_timeout: Duration,
    pub check_interval: Duration,
    /// A Slack receiver's name.
    pub notify: Option<String>,
}

#[derive(Debug)]
pub struct Platforms {
    pub compose: Option<Compose>,
    pub kubernetes: Option<Kubernetes>,
    pub digitalocean: Option<DigitalOcean>,
}

impl Alerting {
    /// Every secret the receivers read, once each (by platform name), in
    /// name order: what Compose and Kubernetes deliver to Alertmanager.
    pub fn secrets(&self) -> Vec<SecretRef> {
        let mut out: BTreeMap<String, SecretRef> = BTreeMap::new();
        let mut add = |s: &SecretRef| {
            out.entry(s.secret_name()).or_insert_with(|| s.clone());
        };
        for r in &self.receivers {
            match &r.channel {
                ReceiverChannel::Slack { webhook_url, .. } => add(webhook_url),
                ReceiverChannel::Email {
                    username, password, ..
                } => {
                    if let Some(Credential::Secret(s)) = username {
                        add(s);
                    }
                    if let Some(s) = password {
                        add(s);
                    }
                }
                ReceiverChannel::Pagerduty { routing_key } => add(routing_key),
                ReceiverChannel::Webhook { url } => add(url),
            }
        }
        out.into_values().collect()
    }
}

#[derive(Debug)]
pub struct Compose {
    pub prometheus_image: String,
    pub alertmanager_image: String,
    pub grafana_image: String,
}

#[derive(Debug)]
pub struct Kubernetes {
    pub namespace: String,
    pub prometheus_operator: bool,
    /// The Alertmanager image (the Compose one when both are on).
    pub alertmanager_image: String,
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
}

/// One App Platform app: a spec file for one region.
#[derive(Debug)]
pub struct DoApp {
    /// Relative output path: `.do/app.yaml`, or `.do/app-<region>.yaml`
    /// (the project's region name, such as `fra1`) when there are several.
    pub path: String,
    /// The app's name: the configured one, suffixed `-<region>` when there
    /// are several regions (app names are unique per account).
    pub name: String,
    /// App Platform's short slug, such as `fra`.
    pub region: Option<String>,
}

/// An image reference split the way App Platform's `image` source takes it.
#[derive(Debug, Clone)]
pub struct DoImage {
    /// `DOCR`, `DOCKER_HUB` or `GHCR`.
    pub registry_type: &'static str,
    /// The Docker Hub or GHCR namespace; none for DOCR.
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}
