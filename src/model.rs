//! The model: one resolved, typed description of the project that every
//! emitter reads. Defaults are applied, units parsed, references resolved and
//! every number that several outputs share is computed here, once.
//!
//! [`lower`] builds it from a [`crate::spec::Spec`] and reports every problem
//! it finds; a `Model` only exists for a valid spec.

mod lower;

pub use lower::lower;

use std::collections::BTreeMap;

pub use crate::spec::{
    CiProvider, DatabaseEngine, DnsProvider, EvictionPolicy, Method, ReceiverType, Severity,
};
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
    /// Health-checked DNS failover between regions, when the spec asks.
    pub dns: Option<Dns>,
    pub ci: Option<Ci>,
    /// Indices into `services`, in name order, for [`Model::service`].
    by_name: Vec<usize>,
}

impl Model {
    /// The service named `name` (a binary search: emitters look services up
    /// by name for every alert, so a scan would grow with the square).
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.by_name
            .binary_search_by(|&i| self.services[i].name.as_str().cmp(name))
            .ok()
            .map(|k| &self.services[self.by_name[k]])
    }
}

/// The opt-in CI workflow.
#[derive(Debug)]
pub struct Ci {
    pub provider: CiProvider,
    pub harden_git: String,
    pub harden_rev: Option<String>,
    /// Relative to the repository root; `.` for the root.
    pub directory: String,
    /// The load-test environment of the k6 smoke test; none without a load test.
    pub smoke_environment: Option<String>,
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
    /// Scrape targets, primary region first.
    pub targets: Vec<Target>,
    pub probes: Probes,
    pub slo: Option<Slo>,
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
    /// The multiwindow multi-burn-rate tiers of the availability objective
    /// (page first); empty without one.
    pub burn_rates: Vec<BurnRate>,
}

impl Slo {
    /// The error budget as a fraction (0.001 for 99.9%), if there is an
    /// availability objective.
    pub fn error_budget(&self) -> Option<Decimal> {
        self.availability
            .and_then(|a| Decimal::ONE.checked_sub(a.fraction()))
    }

    /// Every window an SLI error ratio is recorded over for the burn-rate
    /// alerts, shortest first (5m, 30m, 1h, 2h, 6h, 1d, 3d).
    pub fn burn_windows(&self) -> Vec<Duration> {
        let mut windows: Vec<Duration> = self
            .burn_rates
            .iter()
            .flat_map(|b| [b.long, b.short])
            .collect();
        windows.sort();
        windows.dedup();
        windows
    }
}

/// Alert tiers of the burn-rate alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Page,
    Ticket,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Page => "page",
            Tier::Ticket => "ticket",
        }
    }
}

/// One window pair of a burn-rate alert (Google SRE workbook, "Alerting on
/// SLOs"): fire when the error ratio over both `long` and `short` is above
/// `threshold`.
#[derive(Debug, Clone)]
pub struct BurnRate {
    pub tier: Tier,
    pub long: Duration,
    pub short: Duration,
    /// Share of the whole window's budget spent when the long window burns
    /// at exactly `factor` (0.02 for the 1h page tier).
    pub budget_consumed: Decimal,
    /// `budget_consumed × SLO window ÷ long`: 14.4 / 6 / 3 / 1 for 30d.
    /// A quotient with more than [`BURN_FACTOR_PLACES`] decimal places
    /// (28d's 3d tier: 0.9333…) is rounded half up to that many.
    pub factor: Decimal,
    /// `factor × error budget`: the error ratio both windows must exceed.
    pub threshold: Decimal,
}

/// Decimal places a non-terminating burn factor is rounded to.
pub const BURN_FACTOR_PLACES: u32 = 4;

/// What an SLO alert protects (its `slo` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SloKind {
    Availability,
    Latency,
    Errors,
}

impl SloKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SloKind::Availability => "availability",
            SloKind::Latency => "latency",
            SloKind::Errors => "errors",
        }
    }
}

/// One generated alert of a service, resolved.
#[derive(Debug, Clone)]
pub struct Alert {
    pub kind: AlertKind,
    /// The alert's name (`alertname`), the same for every service:
    /// `SLOErrorBudgetBurnPage`, `HighLatencyP95`, `TargetDown`, …
    pub name: String,
    pub severity: Severity,
    /// How long the condition must hold; zero means at once.
    pub for_: Duration,
    /// The `slo` label, for alerts on an objective.
    pub slo: Option<SloKind>,
    /// The `tier` label of burn-rate alerts.
    pub tier: Option<Tier>,
    /// The objective's percentile, for latency alerts (95 for p95).
    pub percentile: Option<Decimal>,
}

impl AlertKind {
    /// The severity an alert of this kind has unless the spec changes it.
    pub fn default_severity(self) -> Severity {
        use AlertKind::*;
        match self {
            SloBurnPage | ErrorRate5xx | TargetDown | RegionDown => Severity::Critical,
            SloBurnTicket | ErrorRate4xx | Latency | MetricsAbsent | CpuHigh | MemoryHigh
            | ReplicasAtMax => Severity::Warning,
        }
    }

    /// The `for` an alert of this kind has unless the spec changes it.
    pub fn default_for(self) -> Duration {
        use AlertKind::*;
        Duration::secs(match self {
            SloBurnPage | TargetDown | RegionDown => 120,
            ErrorRate5xx | Latency => 300,
            ErrorRate4xx | MetricsAbsent => 600,
            SloBurnTicket | CpuHigh | MemoryHigh | ReplicasAtMax => 900,
        })
    }
}

/// Names of the recording rules harden writes for each HTTP service, in
/// `prometheus/rules/<service>.yml`. Every series has a `service` label
/// (the service's name); the SLO series also `slo="availability"`.
/// Grafana and the alerts query exactly these.
///
/// - `service:http_requests:rate5m`: requests per second
/// - `service:http_requests_5xx:ratio_rate5m`, `service:http_requests_4xx:ratio_rate5m`
/// - `service:http_request_duration_seconds:p50` and one per latency
///   objective (`…:p95`, `…:p99`, `…:p99_9` for 99.9)
/// - `slo:sli_error:ratio_rate<w>` for every burn window (5m, 30m, 1h, 2h,
///   6h, 1d, 3d) and for the SLO window (`ratio_rate30d`), the latter from
///   increases over the whole window
/// - `slo:objective:ratio` (0.999) and `slo:error_budget:remaining`
///   (1 − window error ratio ÷ budget; negative once overspent)
pub mod record {
    use crate::units::{Decimal, Duration};

    pub const REQUEST_RATE: &str = "service:http_requests:rate5m";
    pub const RATIO_5XX: &str = "service:http_requests_5xx:ratio_rate5m";
    pub const RATIO_4XX: &str = "service:http_requests_4xx:ratio_rate5m";
    pub const OBJECTIVE: &str = "slo:objective:ratio";
    pub const BUDGET_REMAINING: &str = "slo:error_budget:remaining";

    /// `service:http_request_duration_seconds:p95` for 95.
    pub fn latency(percentile: Decimal) -> String {
        format!(
            "service:http_request_duration_seconds:{}",
            percentile_name(percentile)
        )
    }

    /// `p95`, `p99_9`: a percentile as a metric-name part.
    pub fn percentile_name(percentile: Decimal) -> String {
        format!("p{}", percentile.to_string().replace('.', "_"))
    }

    /// `slo:sli_error:ratio_rate1h` for 1h.
    pub fn sli_error(window: Duration) -> String {
        format!("slo:sli_error:ratio_rate{window}")
    }
}

/// The cAdvisor and kube-state-metrics series that measure a service's
/// saturation on Kubernetes, and the queries the alerts and the autoscaling
/// monitor share (the dashboards break the same series down by pod).
pub mod saturation {
    pub const CPU_USAGE: &str = "container_cpu_usage_seconds_total";
    pub const MEMORY_USAGE: &str = "container_memory_working_set_bytes";
    pub const REQUESTS: &str = "kube_pod_container_resource_requests";
    pub const REPLICAS: &str = "kube_horizontalpodautoscaler_status_current_replicas";
    pub const MAX_REPLICAS: &str = "kube_horizontalpodautoscaler_spec_max_replicas";

    fn selector(label: &str, service: &str, namespace: Option<&str>) -> String {
        use crate::vocab::matcher;
        match namespace {
            Some(ns) => format!("{},{}", matcher(label, service), matcher("namespace", ns)),
            None => matcher(label, service),
        }
    }

    /// `container="api",namespace="app-oint"`.
    pub fn container(service: &str, namespace: Option<&str>) -> String {
        selector("container", service, namespace)
    }

    /// `horizontalpodautoscaler="api",namespace="app-oint"`.
    pub fn hpa(service: &str, namespace: Option<&str>) -> String {
        selector("horizontalpodautoscaler", service, namespace)
    }

    /// Use of `resource` (`cpu` or `memory`) as a ratio of its request.
    pub fn utilization(resource: &str, container: &str) -> String {
        let usage = if resource == "cpu" {
            format!("sum(rate({CPU_USAGE}{{{container}}}[5m]))")
        } else {
            format!("sum({MEMORY_USAGE}{{{container}}})")
        };
        format!("{usage} / sum({REQUESTS}{{{container},resource=\"{resource}\"}})")
    }
}

/// redis_exporter's series (oliver006/redis_exporter) that the cache
/// alerts and dashboards read.
pub mod redis_series {
    pub const UP: &str = "redis_up";
    pub const MEMORY_USED: &str = "redis_memory_used_bytes";
    pub const MEMORY_MAX: &str = "redis_memory_max_bytes";
    pub const CLIENTS: &str = "redis_connected_clients";
    pub const MAX_CLIENTS: &str = "redis_config_maxclients";
    pub const REJECTED: &str = "redis_rejected_connections_total";
    pub const EVICTED: &str = "redis_evicted_keys_total";
    pub const HITS: &str = "redis_keyspace_hits_total";
    pub const MISSES: &str = "redis_keyspace_misses_total";
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

/// The port redis_exporter listens on; Prometheus scrapes `<name>:9121`
/// on Compose (the exporter shares the cache's network namespace) and on
/// Kubernetes (a sidecar behind the cache's Service).
pub const REDIS_EXPORTER_PORT: u16 = 9121;

/// A self-run Redis cache (Compose, Kubernetes) with redis_exporter beside
/// it. On DigitalOcean it is a managed cluster instead, which nothing here
/// scrapes.
#[derive(Debug)]
pub struct Redis {
    /// `redis:<version>`.
    pub image: String,
    pub exporter_image: String,
    /// `maxmemory`, in bytes (Redis reads a bare number as bytes).
    pub maxmemory_bytes: u64,
    /// `maxmemory` as written, or the default, for comments: `256Mi`.
    pub maxmemory: String,
    pub eviction_policy: EvictionPolicy,
    /// `maxclients`: Redis's default, which the clients alert measures against.
    pub maxclients: u32,
    /// An environment variable's secret; never a value.
    pub password: Option<SecretRef>,
    pub persistence: bool,
    /// Requests and limits: the spec's, or sized from `maxmemory`.
    pub resources: Resources,
    /// The volume a persistent cache keeps its append-only file on
    /// (Kubernetes PersistentVolumeClaim size): twice the memory limit,
    /// room for the file and its rewrite.
    pub storage: Option<String>,
    /// The exporter's scrape target, in the primary region.
    pub target: Target,
    /// The cache's alerts, in a fixed order; rules, tests and dashboards
    /// read these.
    pub alert_rules: Vec<CacheAlert>,
}

impl Redis {
    /// `redis-server`'s options, the same on every platform that runs it:
    /// the port, the memory bound and its policy, `maxclients`, no RDB
    /// snapshots, and the append-only file only with persistence.
    pub fn server_args(&self, port: u16) -> Vec<String> {
        [
            "--port",
            &port.to_string(),
            "--maxmemory",
            &self.maxmemory_bytes.to_string(),
            "--maxmemory-policy",
            self.eviction_policy.as_str(),
            "--maxclients",
            &self.maxclients.to_string(),
            "--save",
            "",
            "--appendonly",
            if self.persistence { "yes" } else { "no" },
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    }
}

/// The alerts harden generates for a Redis cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CacheAlertKind {
    /// Redis or its exporter is down.
    Down,
    /// Memory used near `maxmemory` where a full cache rejects writes
    /// (`noeviction`) or can only evict keys with a TTL (`volatile-*`).
    MemoryHigh,
    /// Connected clients near `maxclients`.
    TooManyClients,
    /// Redis refused connections at `maxclients`.
    RejectedConnections,
}

/// One generated alert of a cache, resolved.
#[derive(Debug, Clone)]
pub struct CacheAlert {
    pub kind: CacheAlertKind,
    /// `RedisDown`, `RedisMemoryHigh`, …
    pub name: String,
    pub severity: Severity,
    pub for_: Duration,
    /// The ratio the alert fires above, for the ratio alerts (0.9).
    pub threshold: Option<Decimal>,
}

#[derive(Debug)]
pub struct Backup {
    pub schedule: BackupSchedule,
    /// The schedule as a five-field cron expression (UTC).
    pub cron: String,
    /// Time between two backups.
    pub interval: Duration,
    /// When in each interval (counted from the Unix epoch) the backup
    /// runs: what the cron expression says, for the loops that sleep to it.
    pub offset: Duration,
    /// The freshness alert's threshold: the interval plus a quarter of it
    /// for the dump to run and a late start.
    pub stale_after: Duration,
    pub retention_days: u32,
    pub destination: BackupDestination,
    /// The restore drill's sanity query.
    pub restore_check: String,
    /// The image the backup job runs.
    pub image: String,
    /// The same image as App Platform pulls it, when DigitalOcean is on.
    pub do_image: Option<DoImage>,
    /// DigitalOcean's managed database keeps fewer days than asked: App
    /// Platform runs the backup job to cover the gap.
    pub digitalocean_job: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupSchedule {
    Hourly,
    Daily,
    Weekly,
}

impl BackupSchedule {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupSchedule::Hourly => "hourly",
            BackupSchedule::Daily => "daily",
            BackupSchedule::Weekly => "weekly",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupDestination {
    /// A directory (a volume on each platform).
    Dir(String),
    /// `s3://bucket/prefix`, as written.
    S3(String),
}

impl BackupDestination {
    pub fn as_str(&self) -> &str {
        match self {
            BackupDestination::Dir(d) | BackupDestination::S3(d) => d,
        }
    }
}

/// The metrics the backup job and the restore drill push to the
/// Pushgateway (grouped by `job` and `database`), which the freshness alert
/// and the dashboards read.
pub mod backup_metrics {
    pub const LAST_SUCCESS: &str = "harden_backup_last_success_timestamp_seconds";
    pub const LAST_FAILURE: &str = "harden_backup_last_failure_timestamp_seconds";
    pub const LAST_SIZE: &str = "harden_backup_last_size_bytes";
    pub const LAST_DURATION: &str = "harden_backup_last_duration_seconds";
    pub const DRILL_SUCCESS: &str = "harden_restore_drill_success";
    pub const DRILL_LAST_RUN: &str = "harden_restore_drill_last_run_timestamp_seconds";
    /// The Pushgateway `job` the backup job pushes as.
    pub const JOB: &str = "harden-backup";
    /// The Pushgateway `job` the restore drill pushes as.
    pub const DRILL_JOB: &str = "harden-restore-drill";
    /// The Pushgateway's port.
    pub const PUSHGATEWAY_PORT: u16 = 9091;
    /// Where Compose and Kubernetes run the Pushgateway (a service of that
    /// name), and Prometheus scrapes it.
    pub const PUSHGATEWAY: &str = "pushgateway:9091";
}

/// Days DigitalOcean keeps a managed PostgreSQL cluster's daily backups:
/// "PostgreSQL cluster backups run automatically once per day and are
/// retained for seven days."
/// <https://docs.digitalocean.com/products/databases/postgresql/how-to/restore-from-backups/>
pub const DIGITALOCEAN_BACKUP_RETENTION_DAYS: u32 = 7;

/// The PostgreSQL version of the backup image when the spec names none.
pub const DEFAULT_POSTGRES_VERSION: &str = "16";

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

impl Alerting {
    /// The receivers an alert with these labels reaches, in order: every
    /// matching route's receivers until one that does not `continue`, else
    /// the default receiver. The generated Alertmanager route tree behaves
    /// exactly so; amtool's route test proves it for every example.
    pub fn receivers_for(
        &self,
        severity: Severity,
        service: Option<&str>,
        team: Option<&str>,
    ) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for route in &self.routes {
            let matches = route.severity.is_none_or(|s| s == severity)
                && route.service.as_deref().is_none_or(|s| Some(s) == service)
                && route.team.as_deref().is_none_or(|t| Some(t) == team);
            if !matches {
                continue;
            }
            out.extend(route.receivers.iter().map(String::as_str));
            if !route.continue_ {
                return out;
            }
        }
        if out.is_empty()
            && let Some(default) = &self.default_receiver
        {
            out.push(default);
        }
        out
    }
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
        username: Option<String>,
        password: Option<SecretRef>,
        require_tls: bool,
    },
    Pagerduty {
        routing_key: SecretRef,
    },
    Webhook {
        url: String,
        /// Sent as a bearer token, read from a file.
        token: Option<SecretRef>,
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
    /// Every secret the receivers read, once each (variables by platform
    /// name, which `lower` keeps unique; files by path), in that order:
    /// what Compose and Kubernetes deliver to Alertmanager.
    pub fn secrets(&self) -> Vec<SecretRef> {
        let mut out: BTreeMap<String, SecretRef> = BTreeMap::new();
        let mut add = |s: &SecretRef| {
            let key = match s {
                SecretRef::Env(_) => s.secret_name(),
                SecretRef::File(path) => path.clone(),
            };
            out.entry(key).or_insert_with(|| s.clone());
        };
        for r in &self.receivers {
            match &r.channel {
                ReceiverChannel::Slack { webhook_url, .. } => add(webhook_url),
                ReceiverChannel::Email { password, .. } => {
                    if let Some(s) = password {
                        add(s);
                    }
                }
                ReceiverChannel::Pagerduty { routing_key } => add(routing_key),
                ReceiverChannel::Webhook { token, .. } => {
                    if let Some(s) = token {
                        add(s);
                    }
                }
            }
        }
        out.into_values().collect()
    }

    /// [`Self::secrets`] split by source: `(platform name, variable)` for
    /// those from the environment, and the paths of those in files.
    pub fn secret_sources(&self) -> (Vec<(String, String)>, Vec<String>) {
        let mut env = Vec::new();
        let mut files = Vec::new();
        for s in self.secrets() {
            match &s {
                SecretRef::Env(var) => env.push((s.secret_name(), var.clone())),
                SecretRef::File(path) => files.push(path.clone()),
            }
        }
        (env, files)
    }
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
    /// The project's region the app runs in, such as `fra1`.
    pub project_region: Option<String>,
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

/// Health-checked DNS failover: each record answers with its primary
/// region's origin while that origin's health check passes, else with the
/// secondary's.
#[derive(Debug)]
pub struct Dns {
    pub provider: DnsProvider,
    /// The hosted zone, without the trailing dot.
    pub zone: String,
    /// Seconds resolvers may cache an answer; written once, here.
    pub ttl: u32,
    /// Seconds between a health check's requests.
    pub health_check_interval: u32,
    /// Consecutive failures before an origin counts as down.
    pub failure_threshold: u32,
    pub records: Vec<DnsRecord>,
}

impl Dns {
    /// The file harden writes for the provider.
    pub fn path(&self) -> &'static str {
        match self.provider {
            DnsProvider::Route53 => "dns/route53.json",
        }
    }

    /// The provider's name, as people say it.
    pub fn provider_name(&self) -> &'static str {
        match self.provider {
            DnsProvider::Route53 => "Route 53",
        }
    }

    /// Worst case, in seconds, from the primary failing to every client
    /// reaching the secondary: `failure_threshold` checks `health_check_interval`
    /// apart to mark it down, then `ttl` for cached answers to expire.
    pub fn failover_secs(&self) -> u64 {
        u64::from(self.failure_threshold) * u64::from(self.health_check_interval)
            + u64::from(self.ttl)
    }

    /// The record that fails the service over, if any.
    pub fn record_for(&self, service: &str) -> Option<&DnsRecord> {
        self.records.iter().find(|r| r.service == service)
    }
}

/// One failover name.
#[derive(Debug)]
pub struct DnsRecord {
    /// The label in the zone, such as `api`.
    pub name: String,
    /// `api.example.com`, without the trailing dot.
    pub fqdn: String,
    /// The http service behind the name.
    pub service: String,
    /// The service's health endpoint, which the health checks request.
    pub health_path: String,
    /// The primary origin, then the secondary.
    pub primary: DnsOrigin,
    pub secondary: DnsOrigin,
}

/// Where a failover record points in one region.
#[derive(Debug)]
pub struct DnsOrigin {
    pub region: String,
    /// The public host name serving the service there (HTTPS on 443).
    pub host: String,
    /// A name unique among the file's resources, letters and digits only,
    /// such as `ApiFra1` (CloudFormation logical ids).
    pub id: String,
}
