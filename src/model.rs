//! The model: one resolved, typed description of the project that every
//! emitter reads. Defaults are applied, units parsed, references resolved and
//! every number that several outputs share is computed here, once.
//!
//! [`lower`] builds it from a [`crate::spec::Spec`] and reports every problem
//! it finds; a `Model` only exists for a valid spec.

mod alerting;
mod alerts;
mod backup;
mod ci;
mod dns;
mod load_test;
mod lower;
mod platforms;
mod project;
mod redis;
mod rollback;
mod service;
mod slo;

pub use alerting::*;
pub use alerts::*;
pub use backup::*;
pub use ci::*;
pub use dns::*;
pub use load_test::*;
pub use lower::lower;
pub use platforms::*;
pub use project::*;
pub use redis::*;
pub use rollback::*;
pub use service::*;
pub use slo::*;

pub use crate::spec::{
    CiInstall, CiProvider, DatabaseEngine, DnsProvider, EvictionPolicy, Method, ReceiverType,
    Severity,
};

/// A valid project, resolved.
#[derive(Debug)]
pub struct Model {
    pub project: Project,
    pub monitoring: Monitoring,
    pub services: Vec<Service>,
    pub alerting: Alerting,
    pub load_test: Option<LoadTest>,
    pub rollback: Option<Rollback>,
    pub platforms: Platforms,
    /// Health-checked DNS failover between regions, when the spec asks.
    pub dns: Option<Dns>,
    pub ci: Option<Ci>,
    /// `[generate] templates`: the template override directory, relative to
    /// the spec (the command line resolves it; no target reads it).
    pub templates: Option<String>,
    /// Indices into `services`, in name order, for [`Model::service`].
    by_name: Vec<usize>,
}

impl Model {
    /// The service named `name` (a binary search: emitters look services up
    /// by name for every alert, so a scan would grow with the square).
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.by_name
            .binary_search_by(|&i| self.services[i].name.as_str().cmp(name))
            .ok()
            .map(|k| &self.services[self.by_name[k]])
    }
}
