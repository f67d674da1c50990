//! Services: the workload of each kind (HTTP service, static site, database)
//! with its replicas or autoscaler, resources, scrape targets and probes.

use std::collections::BTreeMap;

use super::*;
use crate::units::{Decimal, Duration, Percent};

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

    /// The database part of the service, if it is a database.
    pub fn database(&self) -> Option<&Database> {
        match &self.workload {
            Workload::Database(d) => Some(d),
            _ => None,
        }
    }

    /// The database's backup section, if it has one.
    pub fn backup(&self) -> Option<&Backup> {
        self.database()?.backup.as_deref()
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
    /// Scrape targets, primary region first. Without `targets` in the spec
    /// this is the service's name and port in the primary region (the
    /// labels the rule tests give a target), and [`Self::discovered`] is set.
    pub targets: Vec<Target>,
    /// Prometheus finds each replica through the platform (Kubernetes pods,
    /// Compose DNS), one target per process; `false` when the spec lists
    /// `targets` (static, one process per address).
    pub discovered: bool,
    pub probes: Probes,
    /// The service's SLOs, in spec order.
    pub slos: Vec<Slo>,
    /// The threshold alerts' ratios (`[service.alerts] error_rate_5xx`,
    /// `error_rate_4xx`): not objectives, warnings unless the spec says.
    pub error_rate_5xx: Option<Percent>,
    pub error_rate_4xx: Option<Percent>,
    /// Labels and annotations the spec adds to every alert of the service.
    pub alert_labels: Vec<(String, String)>,
    pub alert_annotations: Vec<(String, String)>,
    /// The spec's overrides, as written. Read [`HttpService::alert_rules`]
    /// instead: it has them applied.
    pub alerts: BTreeMap<AlertKind, AlertOverride>,
    /// Every alert harden generates for this service, overrides and
    /// defaults applied, disabled ones left out, in a fixed order. The
    /// rules, their tests, `harden explain`, Alertmanager and Grafana all
    /// read this one list.
    pub alert_rules: Vec<Alert>,
    pub business_metrics: Vec<BusinessMetric>,
    /// How many pods a voluntary disruption (a node drain) may take down.
    pub disruption: Disruption,
    /// Environment variables holding the service's secrets, by name only.
    pub secrets: Vec<String>,
}

impl HttpService {
    /// The availability SLO of the service: its first availability SLO
    /// over all its requests (no matchers).
    pub fn availability_slo(&self) -> Option<&Slo> {
        self.slos
            .iter()
            .find(|s| matches!(&s.sli, Sli::Availability { matchers } if matchers.is_empty()))
    }

    /// The availability objective of the service, such as 99.9%: the
    /// objective of [`Self::availability_slo`].
    pub fn availability_objective(&self) -> Option<Percent> {
        self.availability_slo().map(|s| s.objective)
    }

    /// The latency SLOs over all the service's requests as percentiles:
    /// (95, 500ms) for "95% of requests within 500ms", in spec order.
    pub fn latency_objectives(&self) -> Vec<(Decimal, Duration)> {
        self.slos
            .iter()
            .filter_map(|s| match &s.sli {
                Sli::Latency {
                    threshold,
                    matchers,
                    ..
                } if matchers.is_empty() => Some((s.objective.value(), *threshold)),
                _ => None,
            })
            .collect()
    }
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
    /// The saturation alerts' thresholds, percent of the request, at the
    /// maximum replica count: the spec's `*_alert_percent`, else the
    /// target. Set exactly when its target is.
    pub cpu_alert_percent: Option<u32>,
    pub memory_alert_percent: Option<u32>,
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
    /// The duration histogram's bucket boundaries in seconds, as the spec
    /// declares them (`metrics.buckets`), ascending; empty when it does not.
    pub buckets: Vec<Decimal>,
}

impl MetricNames {
    /// `0.5` for 500ms, `1.0` for 1s: the `le` label value of the bucket at
    /// a duration as Prometheus 3 stores it (it normalizes `le` on ingestion
    /// to the OpenMetrics float form: a whole number gains `.0`).
    pub fn le(threshold: Duration) -> String {
        let text = Decimal::from_parts(u128::from(threshold.as_millis()), 3)
            .map(|d| d.to_string())
            .unwrap_or_default();
        if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        }
    }

    /// The PromQL matcher of the bucket at a duration. A whole number of
    /// seconds is written `1` by some clients (Go, harden-demo) and `1.0` by
    /// others; Prometheus 3 stores `1.0`, Prometheus 2 kept what was scraped,
    /// so the matcher takes both: `le=~"1|1\\.0"`. Other bounds have one
    /// spelling: `le="0.5"`.
    pub fn le_matcher(threshold: Duration) -> String {
        let le = Self::le(threshold);
        match le.strip_suffix(".0") {
            Some(whole) => format!("le=~\"{whole}|{whole}\\\\.0\""),
            None => crate::vocab::matcher("le", &le),
        }
    }
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
    pub backup: Option<Box<Backup>>,
    /// The cache settings, for `engine = "redis"`.
    pub redis: Option<Box<Redis>>,
}

impl Service {
    /// The Redis cache part of the service, if it is one.
    pub fn redis(&self) -> Option<&Redis> {
        self.database().and_then(|d| d.redis.as_deref())
    }
}
