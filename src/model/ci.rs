//! The opt-in CI workflow.

use super::*;

/// The version of this harden: the release the generated workflow installs.
pub const HARDEN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The opt-in CI workflow.
#[derive(Debug)]
pub struct Ci {
    pub provider: CiProvider,
    pub harden_git: String,
    /// How the workflow gets harden: the release binary, or built from source.
    pub install: CiInstall,
    /// The revision a source build checks out (`v<version>` unless the spec names one).
    pub harden_rev: String,
    /// Relative to the repository root; `.` for the root.
    pub directory: String,
    /// The load-test environment of the k6 smoke test; none without a load test.
    pub smoke_environment: Option<String>,
}
