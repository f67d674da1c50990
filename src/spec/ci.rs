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

/// How the CI workflow gets harden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CiInstall {
    /// The release binary of the harden that generated the workflow, from
    /// `<harden_git>/releases/download/v<version>/`, refused unless its
    /// SHA-256 is the one the release's `SHA256SUMS` lists.
    #[default]
    Release,
    /// Built from `harden_git` at `harden_rev` with `cargo install --locked`
    /// (minutes of CPU on a cache miss): for a fork, or a host without releases.
    Source,
}

/// A CI workflow that runs `harden diff` and `harden check` on every push
/// and pull request, a k6 smoke test against a load-test environment, and
/// a CVE scan of every service image (also weekly, for new CVEs).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ci {
    /// The CI system: `github`.
    pub provider: CiProvider,
    /// harden's repository: its GitHub releases (`<harden_git>/releases/download/`)
    /// hold the binaries the workflow installs; `install = "source"` builds from it.
    pub harden_git: Url,
    /// `release` (default): the release binary of the harden that generated the
    /// workflow, checked against the release's SHA-256 sums; `source`: built from `harden_git`.
    pub install: Option<CiInstall>,
    /// With `install = "source"`: the tag or commit to build (default the tag
    /// `v<version>` of the harden that generated the workflow).
    pub harden_rev: Option<GitRev>,
    /// The directory of `hardening.toml` (and the generated files), relative
    /// to the repository root (default `.`). The workflow is written at the
    /// repository root, where GitHub runs it (the output directory's path
    /// must end with this directory), and runs harden here.
    pub directory: Option<RelPath>,
    /// The load-test environment the k6 smoke test runs against (default
    /// `staging` when the load test names it). Without a load test, no smoke test.
    pub smoke_environment: Option<String>,
}
