//! A service's `alerts`: per-alert overrides, and alert severities.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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
