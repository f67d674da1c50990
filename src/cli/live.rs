//! The flags of `harden check --live` and `--budget`: where the running
//! system is, and the HTTP flags every command that speaks HTTP shares
//! (`http_flags.rs`).

use super::Failure;
use super::http_flags::HttpFlags;
use crate::check::{self, Endpoints};
use crate::history::api::Prometheus;
use crate::model::Model;

#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// Also check the running services, Prometheus, Alertmanager and Grafana.
    #[arg(long)]
    live: bool,
    /// A service's base URL for the live checks (default http://localhost:<port>); repeatable.
    #[arg(long = "base-url", value_name = "SERVICE=URL")]
    base_urls: Vec<String>,
    /// Prometheus's base URL (default http://localhost:<prometheus_port>; `off` skips its checks).
    #[arg(long, value_name = "URL")]
    prometheus: Option<String>,
    /// Alertmanager's base URL (default http://localhost:<alertmanager_port>; `off` skips it).
    #[arg(long, value_name = "URL")]
    alertmanager: Option<String>,
    /// Grafana's base URL (default http://localhost:<grafana_port>; `off` skips it).
    #[arg(long, value_name = "URL")]
    grafana: Option<String>,
    #[command(flatten)]
    http: HttpFlags,
}

impl LiveArgs {
    /// Prometheus for the budget gate (`--budget`, with or without
    /// `--live`): `--prometheus`, else the spec's port.
    pub fn budget_prometheus(&self, model: &Model) -> Result<Prometheus, Failure> {
        match self.prometheus.as_deref() {
            Some(check::OFF) => Err(Failure::Error(
                "--budget reads the error budgets from Prometheus: pass --prometheus URL, not off"
                    .into(),
            )),
            Some(url) => self.http.prometheus(url),
            None => self.http.prometheus(&check::default_prometheus(model)),
        }
    }

    /// The live checks' endpoints, or none without `--live`; every flag
    /// is checked against the spec before any request. `budget`: the
    /// HTTP flags serve the budget gate without `--live`.
    pub fn endpoints(&self, model: &Model, budget: bool) -> Result<Option<Endpoints>, Failure> {
        if !self.live {
            let http = self.http.given().filter(|_| !budget);
            let given = [("--base-url", !self.base_urls.is_empty())]
                .into_iter()
                .find_map(|(flag, set)| set.then_some(flag))
                .or(http);
            if let Some(flag) = given {
                return Err(Failure::Error(format!(
                    "{flag} is for the live checks (and --budget): add --live"
                )));
            }
            return Ok(None);
        }
        let mut at = Endpoints {
            prometheus: self.prometheus.clone(),
            alertmanager: self.alertmanager.clone(),
            grafana: self.grafana.clone(),
            client: self.http.client()?,
            ..Endpoints::default()
        };
        let http_service = |name: &str| {
            model
                .services
                .iter()
                .any(|s| s.name == name && s.http().is_some())
        };
        for pair in &self.base_urls {
            let Some((name, url)) = pair.split_once('=') else {
                return Err(Failure::Error(format!(
                    "--base-url {pair}: expected SERVICE=URL, such as api=http://localhost:5001"
                )));
            };
            if !http_service(name) {
                return Err(Failure::Error(format!(
                    "--base-url {pair}: the spec has no http service `{name}`"
                )));
            }
            at.services.insert(name.to_string(), url.to_string());
        }
        let monitoring = [check::PROMETHEUS, check::ALERTMANAGER, check::GRAFANA];
        at.auth = self.http.credentials(
            &|endpoint| monitoring.contains(&endpoint) || http_service(endpoint),
            "prometheus, alertmanager, grafana or an http service of the spec",
        )?;
        Ok(Some(at))
    }
}
