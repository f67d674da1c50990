//! The project and its monitoring stack, resolved.

use super::SecretRef;
use crate::units::Duration;

#[derive(Debug)]
pub struct Project {
    pub name: String,
    pub environment: String,
    /// Primary first; empty when the spec names none.
    pub regions: Vec<String>,
    pub runbook_url: Option<String>,
}

impl Project {
    pub fn primary_region(&self) -> Option<&str> {
        self.regions.first().map(String::as_str)
    }

    /// Whether these files are for production (`environment` is
    /// `production`, the default, or `prod`): platforms then give data its
    /// production form (App Platform: a managed database cluster, not a
    /// dev database).
    pub fn is_production(&self) -> bool {
        matches!(self.environment.as_str(), "production" | "prod")
    }
}

#[derive(Debug)]
pub struct Monitoring {
    pub prometheus_port: u16,
    pub grafana_port: u16,
    pub alertmanager_port: u16,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub evaluation_interval: Duration,
    /// At least the longest SLO window, so window-long ratios have their data.
    pub retention: Duration,
    pub grafana_url: String,
    /// Identical Prometheus replicas, each with its own `replica` external
    /// label (dropped from its alerts) when there are several.
    pub prometheus_replicas: u8,
    /// Members of the generated Alertmanager cluster.
    pub alertmanager_replicas: u8,
    /// Each member's wait per position before it notifies
    /// (`--cluster.peer-timeout`); at most `group_interval` over the
    /// members (`lower/monitoring.rs`).
    pub alertmanager_peer_timeout: Duration,
    /// An existing Alertmanager's members (`host:port`), used instead of a
    /// generated one; none: the platforms run their own.
    pub external_alertmanagers: Vec<String>,
    pub remote_write: Option<RemoteWrite>,
}

/// The external label that tells Prometheus replicas apart; their alerts
/// drop it, so Alertmanager sees one alert, and a store that receives both
/// replicas' series deduplicates on it.
pub const REPLICA_LABEL: &str = "replica";
/// Alertmanager's gossip port (its default), on every member.
pub const ALERTMANAGER_CLUSTER_PORT: u16 = 9094;

impl Monitoring {
    /// Whether the platforms run their own Alertmanager.
    pub fn runs_alertmanager(&self) -> bool {
        self.external_alertmanagers.is_empty()
    }
}

/// The members of a replicated component, named as a StatefulSet names its
/// pods: `<name>-0`, `<name>-1`, ….
pub fn member_names(name: &str, count: u8) -> Vec<String> {
    (0..count).map(|i| format!("{name}-{i}")).collect()
}

/// `[monitoring.remote_write]`, resolved: every replica ships every series.
#[derive(Debug)]
pub struct RemoteWrite {
    pub url: String,
    pub auth: Option<RemoteWriteAuth>,
    pub capacity: u32,
    pub max_shards: u32,
    pub max_samples_per_send: u32,
}

/// How Prometheus authenticates to the store; secrets by file.
#[derive(Debug)]
pub enum RemoteWriteAuth {
    Basic {
        username: String,
        password: SecretRef,
    },
    Bearer(SecretRef),
}

impl RemoteWrite {
    /// The secret Prometheus reads (platforms deliver it).
    pub fn secret(&self) -> Option<&SecretRef> {
        match &self.auth {
            Some(RemoteWriteAuth::Basic { password, .. }) => Some(password),
            Some(RemoteWriteAuth::Bearer(token)) => Some(token),
            None => None,
        }
    }
}
