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
}
