//! `[[service]]`: every kind's keys, with their resources, probes,
//! autoscaling, business metrics and backup.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// What a service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// A long-running HTTP service with endpoints and metrics (the default).
    #[default]
    Http,
    /// A static site, such as a Flutter web build served from files.
    Static,
    /// A managed or self-run database.
    Database,
}

/// One `[[service]]`. Which keys apply depends on `kind`; `harden validate`
/// names any key that does not apply to the service's kind.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service's name: a DNS label, unique in the spec.
    pub name: Name,
    /// `http` (default), `static` or `database`.
    #[serde(default)]
    pub kind: ServiceKind,
    /// Container image (http services).
    pub image: Option<Image>,
    /// Port the service listens on (http services; databases default to the engine's port).
    pub port: Option<Port>,
    /// Paths of the service's endpoints.
    pub endpoints: Option<Endpoints>,
    /// Fixed replica count, for a service without `autoscaling` (default 1).
    #[schemars(range(min = 1, max = 1000))]
    pub replicas: Option<u32>,
    /// Container resource requests and limits (http services and Redis).
    pub resources: Option<Resources>,
    /// Names of the metrics the service exposes (client libraries differ).
    pub metrics: Option<MetricNames>,
    /// Where Prometheus scrapes the service, by region (default `<name>:<port>` in the primary region).
    pub targets: Option<BTreeMap<String, Vec<HostPort>>>,
    /// Probe timings and the health-check command for platforms that run one.
    pub probes: Option<Probes>,
    /// Service level objectives, one `[[service.slo]]` each (http services).
    #[serde(default, rename = "slo")]
    pub slos: Vec<Slo>,
    /// Horizontal autoscaling.
    pub autoscaling: Option<Autoscaling>,
    /// Pods that must stay up during voluntary disruptions such as node drains
    /// (http services; default: at most one pod down at a time). Must be below
    /// the minimum replica count, or no node can ever be drained.
    #[schemars(range(min = 1, max = 1000))]
    pub min_available: Option<u32>,
    /// Environment variables the service reads secrets from (http services).
    /// Platforms pass them by name (Kubernetes Secret, Compose environment,
    /// DigitalOcean `SECRET` env); their values never enter the spec.
    pub secrets: Option<Vec<EnvVar>>,
    /// Per-alert switches and overrides.
    pub alerts: Option<AlertOverrides>,
    /// Business metrics to chart, each a PromQL expression.
    #[serde(default, rename = "business_metric")]
    pub business_metrics: Vec<BusinessMetric>,
    /// How a static site is built (static sites).
    pub build: Option<Build>,
    /// Database engine (databases).
    pub engine: Option<DatabaseEngine>,
    /// Database engine major version, such as `"16"` (databases).
    pub version: Option<VersionStr>,
    /// Backups (databases).
    pub backup: Option<Backup>,
    /// Redis only: the most memory the cache holds before it evicts, such as
    /// `256Mi` (default: three quarters of the memory limit, or `256Mi`).
    pub maxmemory: Option<MemoryStr>,
    /// Redis only: which keys go when `maxmemory` is reached (default
    /// `allkeys-lru`, right for a cache; `noeviction` makes writes fail instead).
    pub eviction_policy: Option<EvictionPolicy>,
    /// Redis only: the password clients authenticate with, named by
    /// environment variable (`{ env = "REDIS_PASSWORD" }`), never written here.
    pub password: Option<Secret>,
    /// Redis only: keep the data across restarts in a volume, with an
    /// append-only file (default false: a cache starts empty).
    pub persistence: Option<bool>,
    /// The team that owns the service; alerts carry it as a `team` label for routing.
    pub team: Option<Name>,
}

/// Endpoint paths of an HTTP service.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// Overall health, with dependencies (default `/health`).
    pub health: Option<UrlPath>,
    /// Liveness: the process is alive; must not check dependencies (default `/liveness`).
    pub liveness: Option<UrlPath>,
    /// Readiness: the service can take traffic (default `/readiness`).
    pub readiness: Option<UrlPath>,
    /// Prometheus metrics (default `/metrics`).
    pub metrics: Option<UrlPath>,
}

/// Resource requests and limits, as Kubernetes quantities.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU request, such as `500m` or `1`.
    pub cpu: CpuStr,
    /// Memory request, such as `512Mi`.
    pub memory: MemoryStr,
    /// CPU limit (default: none, so the service is not throttled).
    pub cpu_limit: Option<CpuStr>,
    /// Memory limit (default: the memory request).
    pub memory_limit: Option<MemoryStr>,
}

/// The names of a service's metrics.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricNames {
    /// Counter of requests (default `http_requests_total`).
    pub requests: Option<MetricName>,
    /// Histogram of request durations in seconds (default `http_request_duration_seconds`).
    pub duration: Option<MetricName>,
    /// The label holding the HTTP status code: `status`, `code` or `status_code` (default `status`).
    pub status_label: Option<LabelName>,
    /// The duration histogram's bucket boundaries in seconds, as the service
    /// declares them, such as `[0.1, 0.25, 0.5, 1, 2.5]`: a latency SLO's
    /// threshold must be one of them.
    pub buckets: Option<Vec<f64>>,
}

/// Probe timings shared by Kubernetes probes and Compose health checks.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probes {
    /// Time between probes (default `10s`).
    pub interval: Option<DurationStr>,
    /// Time a probe may take (default `3s`).
    pub timeout: Option<DurationStr>,
    /// Consecutive failures before the container counts as unhealthy (default 3).
    #[schemars(range(min = 1, max = 100))]
    pub failure_threshold: Option<u32>,
    /// Time the service may take to start before failures count (default `30s`).
    pub startup_grace: Option<DurationStr>,
    /// The health-check command inside the container, for Compose (default:
    /// `wget` on the health endpoint): the program and its arguments, or
    /// `["CMD-SHELL", "a shell command"]`.
    pub command: Option<Vec<CommandArg>>,
}

/// Horizontal autoscaling of a service.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    #[schemars(range(min = 1, max = 1000))]
    pub min_replicas: u32,
    #[schemars(range(min = 1, max = 1000))]
    pub max_replicas: u32,
    /// Target average CPU utilization, percent of the request.
    #[schemars(range(min = 1, max = 100))]
    pub cpu_percent: Option<u32>,
    /// Target average memory utilization, percent of the request.
    #[schemars(range(min = 1, max = 100))]
    pub memory_percent: Option<u32>,
    /// HighCPUUsage fires when the autoscaler runs `max_replicas` and CPU
    /// use is at or above this percent of the request (default:
    /// `cpu_percent`). Below the maximum, use over the target is the
    /// autoscaler's cue to add pods, not an alert.
    #[schemars(range(min = 1, max = 1000))]
    pub cpu_alert_percent: Option<u32>,
    /// HighMemoryUsage's threshold, as `cpu_alert_percent` is HighCPUUsage's
    /// (default: `memory_percent`).
    #[schemars(range(min = 1, max = 1000))]
    pub memory_alert_percent: Option<u32>,
    /// How long load must stay low before scaling down (default `5m`).
    pub scale_down_window: Option<DurationStr>,
}

/// A business metric to chart, such as bookings per minute.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessMetric {
    pub name: Name,
    /// Panel title (default: the name).
    pub title: Option<Text>,
    /// The PromQL expression.
    pub expr: PromQl,
    /// Grafana unit, such as `short`, `reqps` or `percent` (default `short`).
    pub unit: Option<Name>,
}

/// How a static site is built.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// The build command, such as `flutter build web --release`.
    pub command: Option<Text>,
    /// The directory the build writes, such as `build/web`.
    pub output_dir: RelPath,
}

/// Database engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseEngine {
    Postgres,
    Mysql,
    Redis,
}

/// Redis's `maxmemory-policy`: what goes when the cache is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EvictionPolicy {
    /// Evict the least recently used key (the usual cache).
    AllkeysLru,
    /// Evict the least frequently used key.
    AllkeysLfu,
    /// Evict a random key.
    AllkeysRandom,
    /// Evict the least recently used key that has a TTL.
    VolatileLru,
    /// Evict the least frequently used key that has a TTL.
    VolatileLfu,
    /// Evict a random key that has a TTL.
    VolatileRandom,
    /// Evict the key with the nearest expiry.
    VolatileTtl,
    /// Evict nothing: writes fail with an OOM error once full.
    Noeviction,
}

impl EvictionPolicy {
    /// The value Redis's `maxmemory-policy` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            EvictionPolicy::AllkeysLru => "allkeys-lru",
            EvictionPolicy::AllkeysLfu => "allkeys-lfu",
            EvictionPolicy::AllkeysRandom => "allkeys-random",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::VolatileLfu => "volatile-lfu",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
            EvictionPolicy::Noeviction => "noeviction",
        }
    }

    /// Whether any key may be evicted: a full cache then stays writable.
    pub fn evicts_any_key(self) -> bool {
        matches!(
            self,
            EvictionPolicy::AllkeysLru | EvictionPolicy::AllkeysLfu | EvictionPolicy::AllkeysRandom
        )
    }
}

/// Database backups (PostgreSQL): `pg_dump -Fc` on a schedule, kept for
/// `retention_days`, freshness alerted, restorable with `scripts/restore-drill.sh`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// `hourly` (minute 0), `daily` (03:00 UTC) or `weekly` (Sunday 03:00 UTC).
    pub schedule: Schedule,
    /// Days a backup is kept.
    #[schemars(range(min = 1, max = 3650))]
    pub retention_days: u32,
    /// Where dumps go: `s3://bucket/prefix` (any S3-compatible store such as
    /// DigitalOcean Spaces; the endpoint is read from AWS_ENDPOINT_URL at run
    /// time) or an absolute directory such as `/backups` (a volume). Default `/backups`.
    pub destination: Option<BackupDestination>,
    /// The restore drill's sanity query, run on the restored copy; it must
    /// return one value that is not 0, false or empty (default: the number of
    /// tables outside the system schemas).
    pub restore_check: Option<Text>,
    /// The image the backup job runs: it needs `pg_dump` (and the `aws` CLI
    /// for an `s3://` destination). Default `postgres:<version>`.
    pub image: Option<Image>,
}
