//! The output targets: one module per kind of file harden writes. Each owns
//! its output paths, its render contexts and templates, and the `harden
//! check` checks that read its files back. Adding an output is one module
//! here and one line in [`TARGETS`].

pub mod alerting;
pub mod alertmanager;
pub mod ci;
pub mod compose;
pub mod digitalocean;
pub mod dns;
pub mod grafana;
pub mod kubernetes;
pub mod loadtest;
pub mod prometheus;
pub mod scripts;

use crate::engine::{EmitError, Emitter};
use crate::model::Model;

/// One output target: its name (as `harden` speaks of it) and how it emits.
pub struct Target {
    pub name: &'static str,
    pub emit: fn(&Model, &mut Emitter<'_>) -> Result<(), EmitError>,
}

/// Every target, in the order they emit. A target with nothing to write for
/// a spec (a platform it does not turn on) writes nothing. Kubernetes comes
/// after the targets whose files it copies into `k8s/` (`Emitter::copy`).
pub const TARGETS: &[Target] = &[
    Target {
        name: "prometheus",
        emit: prometheus::emit,
    },
    Target {
        name: "alerting",
        emit: alerting::emit,
    },
    Target {
        name: "alertmanager",
        emit: alertmanager::emit,
    },
    Target {
        name: "loadtest",
        emit: loadtest::emit,
    },
    Target {
        name: "scripts",
        emit: scripts::emit,
    },
    Target {
        name: "compose",
        emit: compose::emit,
    },
    Target {
        name: "digitalocean",
        emit: digitalocean::emit,
    },
    Target {
        name: "dns",
        emit: dns::emit,
    },
    Target {
        name: "grafana",
        emit: grafana::emit,
    },
    Target {
        name: "kubernetes",
        emit: kubernetes::emit,
    },
    Target {
        name: "ci",
        emit: ci::emit,
    },
];

/// Emits every target in order; the first error stops.
pub(crate) fn emit_all(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    TARGETS.iter().try_for_each(|t| (t.emit)(model, out))
}
