//! The opt-in CI workflow.

use super::*;

/// The opt-in CI workflow.
#[derive(Debug)]
pub struct Ci {
    pub provider: CiProvider,
    pub harden_git: String,
    pub harden_rev: Option<String>,
    /// Relative to the repository root; `.` for the root.
    pub directory: String,
    /// The load-test environment of the k6 smoke test; none without a load test.
    pub smoke_environment: Option<String>,
}
