//! The project and its monitoring stack, resolved.

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
}
