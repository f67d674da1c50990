//! A service's `[[service.slo]]`: one objective each, on one SLI, and the
//! `[defaults.slo]` settings every objective inherits.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Settings every service inherits unless it sets its own.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// What every `[[service.slo]]` inherits: window, burn-rate tiers, traffic guard.
    pub slo: Option<SloSettings>,
}

/// The settings an SLO inherits from `[defaults.slo]` and may set itself.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloSettings {
    /// The period the objective is promised over (default `30d`).
    pub window: Option<DurationStr>,
    /// The burn-rate alert tiers (default: the SRE workbook's four, two
    /// page and two ticket). A list here replaces the whole default list.
    pub tiers: Option<Vec<BurnTier>>,
    /// The fewest events (requests) the long window of a page tier must hold
    /// before it may page: a handful of requests at night cannot (default 0,
    /// no guard).
    pub min_requests: Option<u64>,
    /// The change freeze: `harden check --live --budget` fails while less
    /// than this share of an SLO's error budget is left (default `"0%"`).
    pub freeze_below: Option<PercentStr>,
}

/// One SLO: a name, an objective and exactly one SLI (`availability`,
/// `latency`, `events` or `ratio`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// The SLO's name, unique in its service: the `slo` label of its series and alerts.
    pub name: Name,
    /// The share of events that must be good over the window, such as `"99.9%"`.
    pub objective: PercentStr,
    /// Good events are the service's requests that do not fail with a 5xx.
    pub availability: Option<AvailabilitySli>,
    /// Good events are requests faster than a threshold, counted from the
    /// duration histogram's bucket at the threshold (a boundary in `metrics.buckets`).
    pub latency: Option<LatencySli>,
    /// Good (or bad) events and all events, each a counter selector.
    pub events: Option<EventsSli>,
    /// Bad (or good) events and all events, each a PromQL expression with
    /// `$window` where each window's range goes.
    pub ratio: Option<RatioSli>,
    /// The period the objective is promised over (default: `[defaults.slo]`, else `30d`).
    pub window: Option<DurationStr>,
    /// The burn-rate alert tiers (default: `[defaults.slo]`, else the workbook's four).
    pub tiers: Option<Vec<BurnTier>>,
    /// The fewest events a page tier's long window must hold to page (default: `[defaults.slo]`, else 0).
    pub min_requests: Option<u64>,
    /// Labels added to this SLO's alerts, such as `{ component = "booking" }`.
    #[serde(default)]
    pub labels: BTreeMap<LabelName, Text>,
    /// Annotations added to this SLO's alerts.
    #[serde(default)]
    pub annotations: BTreeMap<LabelName, Text>,
    /// The change freeze: `harden check --live --budget` fails while less
    /// than this share of the window's error budget is left, such as
    /// `"25%"` (default: `[defaults.slo]`, else `"0%"`: only a spent budget blocks).
    pub freeze_below: Option<PercentStr>,
}

/// Availability: the share of requests that are not 5xx.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilitySli {
    /// Only requests with these label values, such as `{ route = "/api/appointments" }`.
    #[serde(default)]
    pub matchers: BTreeMap<LabelName, Text>,
}

/// Latency: the share of requests answered within `threshold`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencySli {
    /// Requests slower than this are bad, such as `500ms`: a bucket boundary in `metrics.buckets`.
    pub threshold: DurationStr,
    /// Only requests with these label values, such as `{ route = "/api/appointments" }`.
    #[serde(default)]
    pub matchers: BTreeMap<LabelName, Text>,
}

/// Events: counter selectors for the bad (or good) events and for all of them.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsSli {
    /// A counter selector of the bad events, such as `bookings_failed_total{route="/api/appointments"}`.
    pub bad: Option<PromQl>,
    /// A counter selector of the good events (instead of `bad`).
    pub good: Option<PromQl>,
    /// A counter selector of all events, such as `bookings_total`.
    pub total: PromQl,
}

/// Ratio: two PromQL expressions, the bad (or good) events and all events,
/// each written with `$window` as its range, such as
/// `sum(rate(bookings_failed_total[$window]))`. harden puts every burn
/// window and the SLO window in its place; an expression that reads a range
/// must use `$window` for every range.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatioSli {
    /// The bad events per second, such as `sum(rate(http_requests_total{code=~"5.."}[$window]))`.
    pub bad: Option<PromQl>,
    /// The good events per second (instead of `bad`).
    pub good: Option<PromQl>,
    /// All events per second, such as `sum(rate(http_requests_total[$window]))`.
    pub total: PromQl,
}

/// One burn-rate tier (Google SRE workbook, "Alerting on SLOs"): alert when
/// the error ratio over both windows is above `factor` × the error budget.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurnTier {
    /// Which alert the tier raises: `page` (SLOErrorBudgetBurnPage) or `ticket` (SLOErrorBudgetBurnTicket).
    pub alert: TierName,
    /// The long window, such as `1h`.
    pub long: DurationStr,
    /// The short window, shorter than `long`, such as `5m`: the alert stops soon after the errors do.
    pub short: DurationStr,
    /// The share of the whole window's budget spent in `long` at the tier's rate, such as `"2%"`.
    pub budget_consumed: Option<PercentStr>,
    /// The burn rate itself, such as 14.4 (instead of `budget_consumed`).
    #[schemars(range(min = 0))]
    pub factor: Option<f64>,
    /// The alert's severity (default: critical for `page`, warning for `ticket`).
    pub severity: Option<Severity>,
    /// How long both windows must stay above the threshold (default: 2m for `page`, 15m for `ticket`).
    #[serde(rename = "for")]
    pub for_: Option<DurationStr>,
    /// `false` leaves the tier out.
    pub enabled: Option<bool>,
}

/// The alert a burn-rate tier raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TierName {
    Page,
    Ticket,
}
