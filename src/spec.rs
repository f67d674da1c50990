//! The `hardening.toml` file as written by its author: plain serde structs
//! whose JSON Schema (schemars) is `schema/hardening.schema.json`.
//!
//! Nothing here is resolved or checked beyond its shape: defaults, units,
//! cross references and derived numbers belong to [`crate::model`]. Leaf
//! strings with a syntax of their own are newtypes ([`Name`], [`DurationStr`],
//! …) whose schema carries a pattern, so editors and `harden validate` agree
//! on what a valid value looks like.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod alerting;
mod alerts;
mod ci;
mod dns;
mod generate;
mod load_test;
mod platforms;
mod project;
mod remote_write;
mod rollback;
mod service;
mod slo;
mod strings;

pub use alerting::*;
pub use alerts::*;
pub use ci::*;
pub use dns::*;
pub use generate::*;
pub use load_test::*;
pub use platforms::*;
pub use project::*;
pub use remote_write::*;
pub use rollback::*;
pub use service::*;
pub use slo::*;
pub use strings::*;

/// A whole `hardening.toml`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "hardening.toml",
    description = "One spec for a web service's production hardening, compiled by `harden` into Prometheus, Alertmanager, Grafana, Kubernetes, Compose, DigitalOcean, k6 and script files."
)]
pub struct Spec {
    pub project: Project,
    #[serde(default)]
    pub monitoring: Monitoring,
    /// Settings services inherit, such as every SLO's window and burn-rate tiers.
    #[serde(default)]
    pub defaults: Defaults,
    /// The deployable parts of the project: HTTP services, static sites and databases.
    #[serde(default, rename = "service")]
    pub services: Vec<Service>,
    #[serde(default)]
    pub alerting: Alerting,
    pub load_test: Option<LoadTest>,
    pub rollback: Option<Rollback>,
    #[serde(default)]
    pub platform: Platforms,
    /// Health-checked DNS failover between the project's regions.
    pub dns: Option<Dns>,
    /// An opt-in CI workflow for the repository that holds the spec.
    pub ci: Option<Ci>,
    /// How the files are generated: the template overrides every command uses.
    #[serde(default)]
    pub generate: Generate,
}
