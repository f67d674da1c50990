//! A self-run Redis cache, its exporter and its alerts.

use super::*;
use crate::units::{Decimal, Duration};

/// The port redis_exporter listens on; Prometheus scrapes `<name>:9121`
/// on Compose (the exporter shares the cache's network namespace) and on
/// Kubernetes (a sidecar behind the cache's Service).
pub const REDIS_EXPORTER_PORT: u16 = 9121;

/// A self-run Redis cache (Compose, Kubernetes) with redis_exporter beside
/// it. On DigitalOcean it is a managed cluster instead, which nothing here
/// scrapes.
#[derive(Debug)]
pub struct Redis {
    /// `redis:<version>`.
    pub image: String,
    pub exporter_image: String,
    /// `maxmemory`, in bytes (Redis reads a bare number as bytes).
    pub maxmemory_bytes: u64,
    /// `maxmemory` as written, or the default, for comments: `256Mi`.
    pub maxmemory: String,
    pub eviction_policy: EvictionPolicy,
    /// `maxclients`: Redis's default, which the clients alert measures against.
    pub maxclients: u32,
    /// An environment variable's secret; never a value.
    pub password: Option<SecretRef>,
    pub persistence: bool,
    /// Requests and limits: the spec's, or sized from `maxmemory`.
    pub resources: Resources,
    /// The volume a persistent cache keeps its append-only file on
    /// (Kubernetes PersistentVolumeClaim size): twice the memory limit,
    /// room for the file and its rewrite.
    pub storage: Option<String>,
    /// The exporter's scrape target, in the primary region.
    pub target: Target,
    /// The cache's alerts, in a fixed order; rules, tests and dashboards
    /// read these.
    pub alert_rules: Vec<CacheAlert>,
}

impl Redis {
    /// `redis-server`'s options, the same on every platform that runs it:
    /// the port, the memory bound and its policy, `maxclients`, no RDB
    /// snapshots, and the append-only file only with persistence.
    pub fn server_args(&self, port: u16) -> Vec<String> {
        [
            "--port",
            &port.to_string(),
            "--maxmemory",
            &self.maxmemory_bytes.to_string(),
            "--maxmemory-policy",
            self.eviction_policy.as_str(),
            "--maxclients",
            &self.maxclients.to_string(),
            "--save",
            "",
            "--appendonly",
            if self.persistence { "yes" } else { "no" },
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    }
}

/// The alerts harden generates for a Redis cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CacheAlertKind {
    /// Redis or its exporter is down.
    Down,
    /// Memory used near `maxmemory` where a full cache rejects writes
    /// (`noeviction`) or can only evict keys with a TTL (`volatile-*`).
    MemoryHigh,
    /// Connected clients near `maxclients`.
    TooManyClients,
    /// Redis refused connections at `maxclients`.
    RejectedConnections,
}

/// One generated alert of a cache, resolved.
#[derive(Debug, Clone)]
pub struct CacheAlert {
    pub kind: CacheAlertKind,
    /// `RedisDown`, `RedisMemoryHigh`, …
    pub name: String,
    pub severity: Severity,
    pub for_: Duration,
    /// The ratio the alert fires above, for the ratio alerts (0.9).
    pub threshold: Option<Decimal>,
}

/// redis_exporter's series (oliver006/redis_exporter) that the cache
/// alerts and dashboards read.
pub mod redis_series {
    pub const UP: &str = "redis_up";
    pub const MEMORY_USED: &str = "redis_memory_used_bytes";
    pub const MEMORY_MAX: &str = "redis_memory_max_bytes";
    pub const CLIENTS: &str = "redis_connected_clients";
    pub const MAX_CLIENTS: &str = "redis_config_maxclients";
    pub const REJECTED: &str = "redis_rejected_connections_total";
    pub const EVICTED: &str = "redis_evicted_keys_total";
    pub const HITS: &str = "redis_keyspace_hits_total";
    pub const MISSES: &str = "redis_keyspace_misses_total";
}
