//! The `hardening.toml` file as written by its author: plain serde structs
//! whose JSON Schema (schemars) is `schema/hardening.schema.json`.
//!
//! Nothing here is resolved or checked beyond its shape: defaults, units,
//! cross references and derived numbers belong to [`crate::model`]. Leaf
//! strings with a syntax of their own are newtypes ([`Name`], [`DurationStr`],
//! …) whose schema carries a pattern, so editors and `harden validate` agree
//! on what a valid value looks like.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// A whole `hardening.toml`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "hardening.toml",
    description = "One spec for a web service's production hardening, compiled by `harden` into Prometheus, Alertmanager, Grafana, Kubernetes, Compose, DigitalOcean, k6 and script files."
)]
pub struct Spec {
    pub project: Project,
    #[serde(default)]
    pub monitoring: Monitoring,
    /// The deployable parts of the project: HTTP services, static sites and databases.
    #[serde(default, rename = "service")]
    pub services: Vec<Service>,
    #[serde(default)]
    pub alerting: Alerting,
    pub load_test: Option<LoadTest>,
    pub rollback: Option<Rollback>,
    #[serde(default)]
    pub platform: Platforms,
    /// Health-checked DNS failover between the project's regions.
    pub dns: Option<Dns>,
    /// An opt-in CI workflow for the repository that holds the spec.
    pub ci: Option<Ci>,
}

/// What the project is and where it runs.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project's name: a DNS label, used in file names, labels and Kubernetes names.
    pub name: Name,
    /// The environment these files are for, such as `production` or `staging`.
    pub environment: Option<Name>,
    /// Regions the project runs in, primary first (DigitalOcean slugs such as `fra1`, `nyc1`).
    #[schemars(length(min = 1))]
    pub regions: Option<Vec<Name>>,
    /// Where the generated `runbooks/` directory is published, such as
    /// `https://github.com/org/repo/blob/main/deploy/runbooks`: each alert's
    /// `runbook_url` is `<runbook_url>/<alert name>.md`, its generated runbook.
    /// Without it, alerts carry the runbook's path in the generated tree
    /// (`runbooks/<alert name>.md`).
    pub runbook_url: Option<Url>,
}

/// The monitoring stack: Prometheus, Alertmanager and Grafana.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Prometheus's port (default 9090).
    pub prometheus_port: Option<Port>,
    /// Grafana's port (default 3000).
    pub grafana_port: Option<Port>,
    /// Alertmanager's port (default 9093).
    pub alertmanager_port: Option<Port>,
    /// How often Prometheus scrapes its targets (default `15s`).
    pub scrape_interval: Option<DurationStr>,
    /// How long a scrape may take (default `10s`, at most the scrape interval).
    pub scrape_timeout: Option<DurationStr>,
    /// How often Prometheus evaluates rules (default `15s`).
    pub evaluation_interval: Option<DurationStr>,
    /// How long Prometheus keeps its data (default `15d`); must cover the longest SLO window.
    pub retention: Option<DurationStr>,
    /// The URL people open Grafana at; alert annotations link dashboards there
    /// (default `http://localhost:<grafana_port>`).
    pub grafana_url: Option<Url>,
}

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
    /// Service level objectives.
    pub slo: Option<Slo>,
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

/// A service's objectives.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// The SLO period (default `30d`).
    pub window: Option<DurationStr>,
    /// Share of requests that must not fail with a 5xx, such as `"99.9%"`.
    pub availability: Option<PercentStr>,
    /// Latency objectives by percentile.
    #[serde(default)]
    pub latency: Vec<LatencyObjective>,
    /// Alert when the 5xx ratio is above this, such as `"1%"`.
    pub error_rate_5xx: Option<PercentStr>,
    /// Alert (warning) when the 4xx ratio is above this.
    pub error_rate_4xx: Option<PercentStr>,
}

/// "The p95 latency stays below 500ms."
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyObjective {
    /// The percentile, such as 95 or 99.9.
    #[schemars(range(min = 1, max = 100))]
    pub percentile: f64,
    /// The threshold, such as `500ms`.
    pub threshold: DurationStr,
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
    /// How long load must stay low before scaling down (default `5m`).
    pub scale_down_window: Option<DurationStr>,
}

/// Switches for the alerts harden generates for a service, by alert.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertOverrides {
    pub slo_burn_page: Option<AlertOverride>,
    pub slo_burn_ticket: Option<AlertOverride>,
    pub error_rate_5xx: Option<AlertOverride>,
    pub error_rate_4xx: Option<AlertOverride>,
    pub latency: Option<AlertOverride>,
    pub target_down: Option<AlertOverride>,
    pub metrics_absent: Option<AlertOverride>,
    pub cpu_high: Option<AlertOverride>,
    pub memory_high: Option<AlertOverride>,
    pub replicas_at_max: Option<AlertOverride>,
    pub region_down: Option<AlertOverride>,
}

/// Changes to one generated alert.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertOverride {
    /// `false` leaves the alert out.
    pub enabled: Option<bool>,
    /// How long the condition must hold before the alert fires.
    #[serde(rename = "for")]
    pub for_: Option<DurationStr>,
    pub severity: Option<Severity>,
}

/// Alert severities, from the most urgent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

    /// The label value, as alerts carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
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

/// Alert routing and receivers.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alerting {
    /// Labels alerts are grouped by (default `["alertname", "service"]`).
    pub group_by: Option<Vec<LabelName>>,
    /// Default `30s`.
    pub group_wait: Option<DurationStr>,
    /// Default `5m`.
    pub group_interval: Option<DurationStr>,
    /// Default `4h`.
    pub repeat_interval: Option<DurationStr>,
    /// The receiver for alerts no route matches (default: the first receiver).
    pub default_receiver: Option<Name>,
    #[serde(default, rename = "receiver")]
    pub receivers: Vec<Receiver>,
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
}

/// Receiver types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    Slack,
    Email,
    Pagerduty,
    Webhook,
}

/// One `[[alerting.receiver]]`. Which keys apply depends on `type`.
/// Secrets are named by environment variable or file, never written here.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    pub name: Name,
    #[serde(rename = "type")]
    pub type_: ReceiverType,
    /// Also notify when the alert resolves (default true, except email).
    pub send_resolved: Option<bool>,
    /// Slack: the channel, such as `#alerts`.
    pub channel: Option<SlackChannel>,
    /// Slack: the incoming-webhook URL (a secret).
    pub webhook_url: Option<Secret>,
    /// Email: recipient.
    pub to: Option<Email>,
    /// Email: sender.
    pub from: Option<Email>,
    /// Email: SMTP server `host:port`.
    pub smarthost: Option<HostPort>,
    /// Email: SMTP user name. Alertmanager reads it only from its config
    /// file, so it is written out: not a secret.
    pub username: Option<Credential>,
    /// Email: SMTP password (a secret).
    pub password: Option<Secret>,
    /// Email: require STARTTLS (default true).
    pub require_tls: Option<bool>,
    /// PagerDuty: Events API v2 routing key (a secret).
    pub routing_key: Option<Secret>,
    /// Webhook: the URL to POST to. Keep tokens out of it: use `token`.
    pub url: Option<Url>,
    /// Webhook: a bearer token sent as `Authorization: Bearer …` (a secret).
    pub token: Option<Secret>,
}

/// A secret, named by where it is found at deploy time, never by value.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// An environment variable that holds the secret, such as `SLACK_WEBHOOK_URL`.
    pub env: Option<EnvVar>,
    /// A file that holds the secret on the machine that runs Alertmanager.
    pub file: Option<AbsPath>,
}

/// A value written out, or (refused, with a hint, where the consumer cannot
/// read it from a file) named like a secret.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Credential {
    Plain(Text),
    Secret(Secret),
}

/// One `[[alerting.route]]`: alerts that match go to the receivers.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Match alerts of this severity.
    pub severity: Option<Severity>,
    /// Match alerts of this service.
    pub service: Option<Name>,
    /// Match alerts of this team.
    pub team: Option<Name>,
    /// Receivers, in order; every one gets the alert.
    #[schemars(length(min = 1))]
    pub receivers: Vec<Name>,
    /// Keep matching later routes after this one (default false).
    #[serde(rename = "continue")]
    pub continue_: Option<bool>,
}

/// The load test.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadTest {
    /// The service whose SLOs become the test's thresholds (default: the first http service).
    pub service: Option<Name>,
    /// Base URLs by environment name, such as `staging = "https://staging.example.com"`.
    pub environments: BTreeMap<String, Url>,
    /// Peak concurrent virtual users.
    #[schemars(range(min = 1, max = 1000000))]
    pub concurrent_users: u32,
    pub ramp_up: DurationStr,
    pub hold: DurationStr,
    pub ramp_down: DurationStr,
    /// Pause between iterations of a scenario (default `1s`).
    pub think_time: Option<DurationStr>,
    #[serde(default, rename = "scenario")]
    pub scenarios: Vec<Scenario>,
}

/// A user journey; scenarios share the users by weight.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: Name,
    /// Relative share of the users.
    #[schemars(range(min = 1, max = 1000))]
    pub weight: u32,
    pub think_time: Option<DurationStr>,
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
}

/// HTTP methods a step may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

/// One request of a scenario.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Name shown in k6's checks (default: method and path).
    pub name: Option<Text>,
    pub method: Method,
    pub path: UrlPath,
    /// JSON body to send.
    pub body: Option<serde_json::Value>,
    /// Expected HTTP status.
    #[schemars(range(min = 100, max = 599))]
    pub expect: u16,
}

/// Where the CI workflow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CiProvider {
    /// GitHub Actions: `.github/workflows/harden.yml`.
    Github,
}

/// A CI workflow that runs `harden diff` and `harden check` on every push
/// and pull request, a k6 smoke test against a load-test environment, and
/// a CVE scan of every service image (also weekly, for new CVEs).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ci {
    /// The CI system: `github`.
    pub provider: CiProvider,
    /// The git repository of harden's source. harden publishes no release
    /// binaries, so the workflow builds it with `cargo install --locked --git`.
    pub harden_git: Url,
    /// The tag or commit of harden to build (recommended: the one that
    /// generated these files); the repository's default branch without it.
    pub harden_rev: Option<GitRev>,
    /// The directory of `hardening.toml` (and the generated files), relative
    /// to the repository root (default `.`).
    pub directory: Option<RelPath>,
    /// The load-test environment the k6 smoke test runs against (default
    /// `staging` when the load test names it). Without a load test, no smoke test.
    pub smoke_environment: Option<String>,
}

/// Automatic rollback after a deployment.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    /// How long the new version has to become healthy.
    pub health_timeout: DurationStr,
    /// Time between health checks (default `10s`).
    pub check_interval: Option<DurationStr>,
    /// A Slack receiver told about rollbacks.
    pub notify: Option<Name>,
}

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

/// DNS providers harden writes failover records for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsProvider {
    /// Amazon Route 53: a CloudFormation template `dns/route53.json` with a
    /// health check per origin and PRIMARY/SECONDARY failover records.
    Route53,
}

/// `[dns]`: names that fail over from the primary region to the next one
/// when the primary's health check fails.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// The DNS provider: `route53`.
    pub provider: DnsProvider,
    /// The hosted zone, such as `example.com`.
    pub zone: Hostname,
    /// Seconds resolvers may cache an answer (default 60): with the health
    /// checks, it bounds how long clients keep reaching a failed region.
    #[schemars(range(min = 1, max = 86400))]
    pub ttl: Option<u32>,
    /// Seconds between health checks: `10` or `30` (Route 53's choices; default 30).
    pub health_check_interval: Option<u32>,
    /// Consecutive failed health checks before an origin counts as down (1 to 10, default 3).
    #[schemars(range(min = 1, max = 10))]
    pub failure_threshold: Option<u32>,
    /// The failover records.
    #[serde(rename = "record")]
    #[schemars(length(min = 1))]
    pub records: Vec<DnsRecord>,
}

/// One `[[dns.record]]`: `<name>.<zone>` answers with the primary region's
/// origin while its health check passes, else with the next region's.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    /// The record's label in the zone, such as `api` for `api.example.com`.
    pub name: Name,
    /// The http service behind it: health checks request its health endpoint.
    pub service: Name,
    /// The public host name serving the service in each region, such as the
    /// App Platform app's `<app>-<id>.ondigitalocean.app` (HTTPS on 443).
    /// The primary region and one other: failover goes in the project's order.
    pub origins: BTreeMap<String, Hostname>,
}

/// Strings with a syntax of their own: each is a JSON Schema definition
/// with a pattern, and [`string_rule`] describes it in words.
macro_rules! pattern_strings {
    ($($(#[$doc:meta])* $ty:ident, $pattern:expr, $what:expr $(, max $max:expr)?;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
            #[serde(transparent)]
            pub struct $ty(pub String);

            impl $ty {
                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl JsonSchema for $ty {
                fn schema_name() -> Cow<'static, str> {
                    stringify!($ty).into()
                }
                fn json_schema(_: &mut SchemaGenerator) -> Schema {
                    #[allow(unused_mut)]
                    let mut schema = json_schema!({
                        "type": "string",
                        "pattern": $pattern,
                        "description": $what,
                    });
                    $(schema.insert("maxLength".into(), $max.into());)?
                    schema
                }
            }
        )*

        /// The rule a patterned string follows, in words, by its schema name.
        pub fn string_rule(schema_name: &str) -> Option<&'static str> {
            match schema_name {
                $(stringify!($ty) => Some($what),)*
                _ => None,
            }
        }
    };
}

pattern_strings! {
    /// A name usable as a file name, a label value and a DNS label.
    Name, r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        "a lowercase DNS label: letters a-z, digits and '-', starting and ending with a letter or digit, at most 63 characters";
    /// A Prometheus-style duration.
    DurationStr, r"^([0-9]+(ms|s|m|h|d|w|y))+$", "a duration such as 30s, 5m, 1h30m or 30d";
    /// A percentage with its sign.
    PercentStr, r"^[0-9]+(\.[0-9]+)?%$", "a percentage such as \"99.9%\"";
    /// A Kubernetes CPU quantity.
    CpuStr, r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$", "a CPU quantity such as 500m or 2";
    /// A Kubernetes memory quantity.
    MemoryStr, r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$", "a memory quantity such as 512Mi or 1Gi";
    /// An absolute URL path, optionally with a query.
    UrlPath, r"^/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$", "an absolute URL path such as /health, without spaces or quotes";
    /// An http or https URL.
    Url, r"^(https?|s3)://[A-Za-z0-9._~!$&()*+,;=:@%/?#\[\]-]+$", "a URL such as https://example.com, without spaces or quotes";
    /// A container image reference.
    Image, r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_.-]{1,128})?(@sha256:[a-f0-9]{64})?$",
        "a container image such as registry.example.com/app/api:1.8.0";
    /// A fully qualified DNS name, without the trailing dot.
    Hostname, r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$",
        "a lowercase DNS name with at least two labels, such as api.example.com";
    /// `host:port`.
    HostPort, r"^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$", "host:port, such as api:5001";
    /// A Prometheus metric name.
    MetricName, r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", "a Prometheus metric name such as http_requests_total";
    /// A Prometheus label name.
    LabelName, r"^[a-zA-Z_][a-zA-Z0-9_]*$", "a Prometheus label name such as status";
    /// An environment variable's name.
    EnvVar, r"^[A-Za-z_][A-Za-z0-9_]*$", "an environment variable name such as SLACK_WEBHOOK_URL";
    /// An absolute file path.
    AbsPath, r"^/[A-Za-z0-9._/-]+$", "an absolute path such as /etc/alertmanager/secrets/slack-url";
    /// A relative path inside the project.
    RelPath, r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$", "a relative path such as build/web";
    /// A git tag, branch or commit.
    GitRev, r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", "a git tag or commit such as v0.1.0 or 4f2c1e9", max 128;
    /// An email address.
    Email, r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", "an email address such as ops@example.com";
    /// A Slack channel or user.
    SlackChannel, r"^[#@][a-z0-9._-]+$", "a Slack channel such as #alerts (at most 80 characters after the # or @)", max 81;
    /// A version string.
    VersionStr, r"^[0-9]+(\.[0-9]+){0,2}$", "a version such as \"16\" or \"8.0\"";
    /// A backup schedule.
    Schedule, r"^(hourly|daily|weekly)$", "hourly, daily or weekly";
    /// Where backups go: an S3 URL or an absolute directory.
    BackupDestination, r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\u0000-\u0020\u007f]*)?|/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)$", "s3://bucket/prefix or an absolute directory such as /backups";
    /// A PromQL expression (checked by a PromQL parser).
    PromQl, r"^[^\u0000-\u0008\u000b-\u001f\u007f]+$", "a PromQL expression";
    /// One argument of a command run in a container: any text but control
    /// characters (tabs and newlines aside), which no exec or shell passes on.
    CommandArg, r"^[^\u0000-\u0008\u000b-\u001f\u007f]*$", "a command argument without control characters";
    /// Free text on one line. (Its length is a `maxLength`, not a `{1,200}`
    /// in the pattern: that repetition of a Unicode class alone took 1.4 ms
    /// to compile, half of all the patterns together.)
    Text, r"^[^\u0000-\u001f\u007f]+$", "text on one line, at most 200 characters", max 200;
}

/// A TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Port(pub u16);

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": 65535, "description": "a TCP port number from 1 to 65535" })
    }
}
