//! An HTTP service's alerts, and the series they and the dashboards share
//! (recording rules, saturation).

use super::*;
use crate::units::Duration;

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
    /// The `slo` label: the name of the SLO an alert is on.
    pub slo: Option<String>,
    /// The `tier` label of burn-rate alerts.
    pub tier: Option<Tier>,
}

/// The alerts harden generates for a service, as the spec names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertKind {
    SloBurnPage,
    SloBurnTicket,
    BudgetExhausted,
    ErrorRate5xx,
    ErrorRate4xx,
    TargetDown,
    MetricsAbsent,
    CpuHigh,
    MemoryHigh,
    ReplicasAtMax,
    RegionDown,
}

impl AlertKind {
    /// Its key under `[service.alerts]` in the spec, such as `error_rate_5xx`
    /// (the burn-rate alerts have none: their tiers are in the SLO's `tiers`).
    pub fn spec_key(self) -> &'static str {
        use AlertKind::*;
        match self {
            SloBurnPage => "slo_burn_page",
            SloBurnTicket => "slo_burn_ticket",
            BudgetExhausted => "error_budget_exhausted",
            ErrorRate5xx => "error_rate_5xx",
            ErrorRate4xx => "error_rate_4xx",
            TargetDown => "target_down",
            MetricsAbsent => "metrics_absent",
            CpuHigh => "cpu_high",
            MemoryHigh => "memory_high",
            ReplicasAtMax => "replicas_at_max",
            RegionDown => "region_down",
        }
    }

    /// Whether the alert is a symptom of failing requests (an SLO's or an
    /// error rate's): a critical one, or the service being down, makes the
    /// others of the service redundant (Alertmanager inhibits them).
    pub fn is_symptom(self) -> bool {
        use AlertKind::*;
        matches!(
            self,
            SloBurnPage | SloBurnTicket | BudgetExhausted | ErrorRate5xx | ErrorRate4xx
        )
    }

    /// The burn-rate alert of an SLO tier.
    pub fn of_tier(tier: super::Tier) -> AlertKind {
        match tier {
            super::Tier::Page => AlertKind::SloBurnPage,
            super::Tier::Ticket => AlertKind::SloBurnTicket,
        }
    }

    /// The severity an alert of this kind has unless the spec changes it.
    /// Only the SLO's page tier and outages page: the 5xx threshold alert
    /// looks at 5 minutes of errors, so a short blip a well-designed SLO
    /// absorbs would page ahead of the burn-rate tiers if it were critical.
    /// A spec that wants it to page says `severity = "critical"`.
    pub fn default_severity(self) -> Severity {
        use AlertKind::*;
        match self {
            SloBurnPage | TargetDown | RegionDown => Severity::Critical,
            SloBurnTicket | BudgetExhausted | ErrorRate5xx | ErrorRate4xx | MetricsAbsent
            | CpuHigh | MemoryHigh | ReplicasAtMax => Severity::Warning,
        }
    }

    /// The `for` an alert of this kind has unless the spec changes it.
    pub fn default_for(self) -> Duration {
        use AlertKind::*;
        Duration::secs(match self {
            SloBurnPage | TargetDown | RegionDown => 120,
            ErrorRate5xx => 300,
            // The budget's own ratio is recorded every 5m: one evaluation
            // below zero is the fact, not noise.
            BudgetExhausted => 0,
            ErrorRate4xx | MetricsAbsent => 600,
            SloBurnTicket | CpuHigh | MemoryHigh | ReplicasAtMax => 900,
        })
    }
}

#[derive(Debug, Clone)]
pub struct AlertOverride {
    pub enabled: bool,
    pub for_: Option<Duration>,
    pub severity: Option<Severity>,
}

/// Names of the recording rules harden writes for each HTTP service, in
/// `prometheus/rules/<service>.yml`. Every series has a `service` label
/// (the service's name); the SLO series also `slo="<the SLO's name>"`.
/// Grafana and the alerts query exactly these.
///
/// - `service:http_requests:rate5m`: requests per second
/// - `service:http_requests_5xx:ratio_rate5m`, `service:http_requests_4xx:ratio_rate5m`
/// - `service:http_request_duration_seconds:p50`, `…:p95`, `…:p99`
///   ([`READ_PERCENTILES`]): for reading; latency alerts are SLOs on the
///   histogram's bucket at their threshold, not on these estimates
/// - per SLO, `slo:sli_error:ratio_rate<w>` for every burn window (5m, 30m,
///   1h, 2h, 6h, 1d, 3d) and for the SLO window (`ratio_rate30d`), the
///   latter from increases over the whole window
/// - `slo:objective:ratio` (0.999) and `slo:error_budget:remaining`
///   (1 − window error ratio ÷ budget; negative once overspent)
pub mod record {
    use crate::units::{Decimal, Duration};

    pub const REQUEST_RATE: &str = "service:http_requests:rate5m";
    pub const RATIO_5XX: &str = "service:http_requests_5xx:ratio_rate5m";
    pub const RATIO_4XX: &str = "service:http_requests_4xx:ratio_rate5m";
    pub const OBJECTIVE: &str = "slo:objective:ratio";
    pub const BUDGET_REMAINING: &str = "slo:error_budget:remaining";

    /// The latency percentiles recorded for the dashboards.
    pub const READ_PERCENTILES: [u64; 3] = [50, 95, 99];

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

    /// The autoscaler of `hpa` (a selector from [`hpa`]) runs its maximum
    /// replica count: the value is the current count.
    pub fn at_max_replicas(hpa: &str) -> String {
        format!("{REPLICAS}{{{hpa}}} >= {MAX_REPLICAS}{{{hpa}}}")
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
