//! A service's `slo`: availability, latency and error-rate objectives.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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
    /// The change freeze: `harden check --live --budget` fails while less
    /// than this share of the window's error budget is left, such as
    /// `"25%"` (default `"0%"`: only a spent budget blocks).
    pub freeze_below: Option<PercentStr>,
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
