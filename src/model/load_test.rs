//! The k6 load test: scenarios, their steps, and the gates the run must
//! meet (the tested service's objectives).

use super::*;
use crate::units::{Decimal, Duration, Percent};

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
    pub gates: Gates,
}

/// What a load test must meet to pass: the tested service's objectives,
/// not looser. A run that meets them could go on at that load for the
/// whole SLO window and keep its objectives (burn rate 1); a run past
/// them, kept up, would spend the budget before the window ends. A test
/// against production spends at most its share of the window's budget
/// (22 minutes of 30 days: 0.05%).
#[derive(Debug, Default)]
pub struct Gates {
    /// The largest share of requests that may fail (5xx or no response).
    pub errors: Option<ErrorGate>,
    /// Every latency objective, as the percentile that must stay at or
    /// below its threshold.
    pub latency: Vec<LatencyGate>,
}

#[derive(Debug)]
pub struct ErrorGate {
    /// The largest failed share, as a fraction (0.001).
    pub max_ratio: Decimal,
    pub source: ErrorGateSource,
}

/// Where an error gate comes from.
#[derive(Debug, Clone, Copy)]
pub enum ErrorGateSource {
    /// The availability objective: the gate is its error budget.
    Availability(Percent),
    /// No availability objective: the 5xx alert's threshold, the rate the
    /// spec says is worth an alert.
    AlertThreshold(Percent),
}

impl std::fmt::Display for ErrorGateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorGateSource::Availability(a) => {
                write!(f, "the error budget of the {a} availability objective")
            }
            ErrorGateSource::AlertThreshold(t) => write!(
                f,
                "the {t} 5xx alert threshold (the service has no availability objective)"
            ),
        }
    }
}

#[derive(Debug)]
pub struct LatencyGate {
    /// 95 for p95.
    pub percentile: Decimal,
    pub threshold: Duration,
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
