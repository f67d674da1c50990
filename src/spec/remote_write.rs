//! `[monitoring.remote_write]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Where every Prometheus replica sends every series it scrapes and records.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteWrite {
    /// The store's remote-write endpoint, such as
    /// `https://mimir.example.com/api/v1/push` (no credentials in it).
    pub url: Url,
    /// Basic authentication: the user name (with `password`).
    pub username: Option<Text>,
    /// Basic authentication: the password (a secret, read from a file).
    pub password: Option<Secret>,
    /// A bearer token (a secret, read from a file), instead of basic
    /// authentication.
    pub bearer_token: Option<Secret>,
    /// Samples each shard buffers before it blocks reading the WAL
    /// (default 10000).
    #[schemars(range(min = 1))]
    pub capacity: Option<u32>,
    /// Parallel senders at most (default 50).
    #[schemars(range(min = 1))]
    pub max_shards: Option<u32>,
    /// Samples per request at most (default 2000).
    #[schemars(range(min = 1))]
    pub max_samples_per_send: Option<u32>,
}
