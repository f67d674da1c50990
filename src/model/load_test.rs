//! The k6 load test: scenarios and their steps.

use super::*;
use crate::units::Duration;

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
