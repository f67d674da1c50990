//! `[rollback]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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
