//! Specs beside the examples and fixtures, each with shapes they lack.

use super::{Spec, Tree, generate, generating};

/// A spec unlike App-Oint: a 28d window (a burn factor that does not
/// terminate), two regions with targets (RegionDown), no autoscaling, no
/// team or runbook, other metric names, and overridden alerts.
pub const VARIANT: &str = r#"
[project]
name = "shop"
regions = ["ams3", "sfo3"]

[monitoring]
grafana_url = "https://grafana.shop.example"

[[service]]
name = "checkout"
image = "registry.example.com/checkout:2.0"
port = 8080
replicas = 3
metrics = { requests = "checkout_requests_total", duration = "checkout_request_seconds", status_label = "code", buckets = [0.12, 0.5, 2] }
targets = { ams3 = ["checkout-a:8080", "checkout-b:8080"], sfo3 = ["checkout-c:8080"] }

[[service.slo]]
name = "availability"
objective = "99.95%"
window = "28d"
availability = {}

[[service.slo]]
name = "latency"
objective = "99.9%"
window = "28d"
latency = { threshold = "2s" }
tiers = [
  { alert = "page", long = "1h", short = "5m", budget_consumed = "2%", for = "90s" },
  { alert = "page", long = "6h", short = "30m", budget_consumed = "5%", for = "90s" },
  { alert = "ticket", long = "1d", short = "2h", budget_consumed = "10%", for = "30m", severity = "info" },
  { alert = "ticket", long = "3d", short = "6h", budget_consumed = "10%", for = "30m", severity = "info" },
]

[service.alerts]
error_rate_5xx = { threshold = "0.5%" }
error_rate_4xx = { enabled = false }
"#;

/// The least a spec can say: one HTTP service, no objective, no autoscaling.
pub const MINIMAL: &str = r#"
[project]
name = "tiny"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
"#;

/// A small spec: one region, a fixed replica count, a secret file.
pub const FIXED: &str = r#"
[project]
name = "shop"
regions = ["ams3"]

[[service]]
name = "api"
image = "ghcr.io/shop/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
port = 8080
replicas = 3
min_available = 2
secrets = ["API_TOKEN"]
probes = { interval = "15s", timeout = "2s", startup_grace = "1m", failure_threshold = 4 }

[alerting]
default_receiver = "hook"

[[alerting.receiver]]
name = "hook"
type = "webhook"
url = "https://hooks.example.com/shop"
token = { file = "/etc/alertmanager/secrets/hook-token" }

[platform.compose]
[platform.kubernetes]
[platform.digitalocean]
metrics = "otlp"
otlp_endpoint = "https://prometheus.example.com/api/v1/otlp/v1/metrics"
"#;

/// The least a spec can say on every platform: no regions, no receivers, no resources.
pub const PLATFORMS_MINIMAL: &str = r#"
[project]
name = "tiny"

[[service]]
name = "web"
image = "nginx:1.27"
port = 8080

[[service]]
name = "cache"
kind = "database"
engine = "redis"

[[service]]
name = "site"
kind = "static"
build = { output_dir = "public" }

[platform.compose]
[platform.kubernetes]
[platform.digitalocean]
"#;

/// Three SLOs on one service (availability, latency on one route, events
/// on a business counter), tiers of its own (one off, one by factor), a
/// traffic guard and extra labels and annotations.
pub const THREE_SLOS: &str = r#"
[project]
name = "shop"

[defaults.slo]
window = "28d"
min_requests = 50

[[service]]
name = "booking"
image = "registry.example.com/booking:1.0"
port = 8080
metrics = { buckets = [0.1, 0.25, 0.5, 1] }

[[service.slo]]
name = "availability"
objective = "99.9%"
availability = {}

[[service.slo]]
name = "search-latency"
objective = "99%"
latency = { threshold = "250ms", matchers = { route = "/api/availability" } }
labels = { component = "search" }
annotations = { playbook = "https://wiki.example.com/search" }

[[service.slo]]
name = "bookings"
objective = "99.5%"
events = { bad = 'appointments_failed_total{kind="online"}', total = 'appointments_total{kind="online"}' }
tiers = [
  { alert = "page", long = "1h", short = "5m", factor = 10, severity = "warning", for = "1m" },
  { alert = "page", long = "6h", short = "30m", budget_consumed = "5%", severity = "warning", for = "1m" },
  { alert = "ticket", long = "1d", short = "2h", budget_consumed = "10%", enabled = false },
]

[service.alerts]
labels = { owner = "booking-team" }
"#;

/// Ratio SLIs: PromQL with `$window` for each range. One counts bad
/// events of one counter (promtool cases fed), one good events with a
/// traffic guard, one an error ratio already divided (over a total of 1,
/// as `harden import sloth` writes Sloth's `raw` SLI).
pub const RATIO_SLOS: &str = r#"
[project]
name = "shop"

[[service]]
name = "checkout"
image = "registry.example.com/checkout:1.0"
port = 8080

[[service.slo]]
name = "card-payments"
objective = "99.5%"
ratio = { bad = 'sum(rate(payments_failed_total{method="card"}[$window]))', total = 'sum(rate(payments_total{method="card"}[$window]))' }

[[service.slo]]
name = "jobs"
objective = "99%"
min_requests = 100
ratio = { good = 'rate(jobs_done_total{queue="mail"}[$window])', total = 'rate(jobs_started_total{queue="mail"}[$window])' }

[[service.slo]]
name = "upstream"
objective = "99.9%"
ratio = { bad = 'sum(rate(upstream_requests_total{code=~"5.."}[$window])) / sum(rate(upstream_requests_total[$window]))', total = 'vector(1)' }
"#;

/// A small staging environment on every platform: one Prometheus, an
/// existing Alertmanager instead of a generated one, and remote write with a
/// bearer token from the environment.
pub const STAGING: &str = r#"
[project]
name = "stage"
environment = "staging"
regions = ["ams3"]

[monitoring]
prometheus_replicas = 1
alertmanagers = ["am-0.example.com:9093", "am-1.example.com:9093"]

[monitoring.remote_write]
url = "https://mimir.example.com/api/v1/push"
bearer_token = { env = "MIMIR_TOKEN" }

[[service]]
name = "api"
image = "ghcr.io/stage/api:1.0"
port = 8080
replicas = 1

[alerting]
default_receiver = "hook"

[[alerting.receiver]]
name = "hook"
type = "webhook"
url = "https://hooks.example.com/stage"

[platform.compose]
[platform.kubernetes]
[platform.digitalocean]
"#;

/// Generated trees beyond the examples whose rules differ from theirs: the
/// variant, the three-SLO spec, the ratio SLIs, the minimal spec and the
/// starter spec `harden init` writes.
pub fn other_trees() -> Vec<Tree> {
    [
        Spec::toml(VARIANT),
        Spec::toml(THREE_SLOS),
        Spec::toml(RATIO_SLOS),
        Spec::toml(MINIMAL),
        Spec::Starter,
    ]
    .iter()
    .map(generate)
    .collect()
}

/// Every tree a platform target's validator must accept: the examples and
/// fixtures that generate the target `name`, a fixed replica count and the
/// least a spec can say (each on every platform).
pub fn platform_trees(name: &str) -> Vec<Tree> {
    let mut trees = generating(name);
    trees.push(generate(&Spec::toml(FIXED)).named("the fixed-replicas spec"));
    trees.push(generate(&Spec::toml(PLATFORMS_MINIMAL)).named("the minimal spec"));
    trees.push(generate(&Spec::toml(STAGING)).named("the staging spec"));
    trees
}

/// App-Oint kept in its repository's `deploy/` (`[ci] directory =
/// "deploy"`), the workflow at the repository root.
pub fn app_oint_in_deploy() -> String {
    let spec = std::fs::read_to_string(super::root().join(super::APP_OINT)).expect("example");
    let ci = "harden_git = \"https://github.com/app-oint/harden\"\n";
    assert!(spec.contains(ci), "the example's [ci] moved");
    spec.replace(ci, &format!("{ci}directory = \"deploy\"\n"))
}
