//! `[ci]`: the opt-in CI workflow.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Where the CI workflow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CiProvider {
    /// GitHub Actions: `.github/workflows/harden.yml`.
    Github,
}

/// A CI workflow that runs `harden diff` and `harden check` on every push
/// and pull request, a k6 smoke test against a load-test environment, and
/// a CVE scan of every service image (also weekly, for new CVEs).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ci {
    /// The CI system: `github`.
    pub provider: CiProvider,
    /// The git repository of harden's source. harden publishes no release
    /// binaries, so the workflow builds it with `cargo install --locked --git`.
    pub harden_git: Url,
    /// The tag or commit of harden to build (recommended: the one that
    /// generated these files); the repository's default branch without it.
    pub harden_rev: Option<GitRev>,
    /// The directory of `hardening.toml` (and the generated files), relative
    /// to the repository root (default `.`).
    pub directory: Option<RelPath>,
    /// The load-test environment the k6 smoke test runs against (default
    /// `staging` when the load test names it). Without a load test, no smoke test.
    pub smoke_environment: Option<String>,
}
