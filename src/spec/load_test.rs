//! `[load_test]`: k6 scenarios and their steps.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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
