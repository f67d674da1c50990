//! `[project]` and `[monitoring]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// What the project is and where it runs.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project's name: a DNS label, used in file names, labels and Kubernetes names.
    pub name: Name,
    /// The environment these files are for, such as `production` or `staging`.
    pub environment: Option<Name>,
    /// Regions the project runs in, primary first (DigitalOcean slugs such as `fra1`, `nyc1`).
    #[schemars(length(min = 1))]
    pub regions: Option<Vec<Name>>,
    /// Where the generated `runbooks/` directory is published, such as
    /// `https://github.com/org/repo/blob/main/deploy/runbooks`: each alert's
    /// `runbook_url` is `<runbook_url>/<alert name>.md`, its generated runbook.
    /// Without it, alerts carry the runbook's path in the generated tree
    /// (`runbooks/<alert name>.md`).
    pub runbook_url: Option<Url>,
}

/// The monitoring stack: Prometheus, Alertmanager and Grafana.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Prometheus's port (default 9090).
    pub prometheus_port: Option<Port>,
    /// Grafana's port (default 3000).
    pub grafana_port: Option<Port>,
    /// Alertmanager's port (default 9093).
    pub alertmanager_port: Option<Port>,
    /// How often Prometheus scrapes its targets (default `15s`).
    pub scrape_interval: Option<DurationStr>,
    /// How long a scrape may take (default `10s`, at most the scrape interval).
    pub scrape_timeout: Option<DurationStr>,
    /// How often Prometheus evaluates rules (default `15s`).
    pub evaluation_interval: Option<DurationStr>,
    /// How long Prometheus keeps its data (default `15d`); must cover the longest SLO window.
    pub retention: Option<DurationStr>,
    /// The URL people open Grafana at; alert annotations link dashboards there
    /// (default `http://localhost:<grafana_port>`).
    pub grafana_url: Option<Url>,
    /// Identical Prometheus replicas (default 2), each scraping every target
    /// and evaluating every rule, told apart by a `replica` external label
    /// that their alerts drop, so Alertmanager deduplicates them. `1` for a
    /// small staging environment.
    #[schemars(range(min = 1, max = 5))]
    pub prometheus_replicas: Option<u8>,
    /// Members of the generated Alertmanager cluster (default 3), gossiping
    /// silences and sent notifications so each alert notifies once. `1`
    /// runs a single Alertmanager with clustering off.
    #[schemars(range(min = 1, max = 7))]
    pub alertmanager_replicas: Option<u8>,
    /// How long each member of the generated Alertmanager cluster waits
    /// per position before it notifies (`--cluster.peer-timeout`, default
    /// `15s`): the time the member before it has to notify and gossip that
    /// it did. `[alerting] group_interval` must be at least the members
    /// times this, or a member's wait outlasts its group's interval.
    pub alertmanager_peer_timeout: Option<DurationStr>,
    /// An existing Alertmanager's members, `host:port` each, such as
    /// `["am-0.example.com:9093", "am-1.example.com:9093"]`: Prometheus sends
    /// every alert to each of them, and Compose and Kubernetes run no
    /// Alertmanager of their own (`alertmanager/alertmanager.yml` is then
    /// yours to load into it).
    #[schemars(length(min = 1))]
    pub alertmanagers: Option<Vec<HostPort>>,
    /// Ship every series to a long-term or global store over the Prometheus
    /// remote-write protocol (Thanos Receive, Grafana Mimir, Cortex,
    /// VictoriaMetrics).
    pub remote_write: Option<RemoteWrite>,
}
