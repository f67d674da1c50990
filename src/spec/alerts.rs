//! A service's `alerts`: per-alert overrides, and alert severities.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Switches for the alerts harden generates for a service, by alert. The
/// SLO burn-rate alerts are set per tier in the SLO's `tiers`.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertOverrides {
    /// ErrorBudgetExhausted: an SLO has spent its whole window's budget.
    pub error_budget_exhausted: Option<AlertOverride>,
    /// HighErrorRate5xx, a threshold alert (not an SLO): on with a `threshold`.
    pub error_rate_5xx: Option<AlertOverride>,
    /// HighErrorRate4xx, a threshold alert: on with a `threshold`.
    pub error_rate_4xx: Option<AlertOverride>,
    pub target_down: Option<AlertOverride>,
    pub metrics_absent: Option<AlertOverride>,
    pub cpu_high: Option<AlertOverride>,
    pub memory_high: Option<AlertOverride>,
    pub replicas_at_max: Option<AlertOverride>,
    pub region_down: Option<AlertOverride>,
    /// Labels added to every alert of the service, such as `{ component = "booking" }`.
    #[serde(default)]
    pub labels: BTreeMap<LabelName, Text>,
    /// Annotations added to every alert of the service.
    #[serde(default)]
    pub annotations: BTreeMap<LabelName, Text>,
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
    /// The error-rate alerts only: fire above this share of requests, such as `"1%"`.
    pub threshold: Option<PercentStr>,
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
