//! The flags of `harden check --live`: where the running system is, the CA
//! that signed its certificates, and the environment variables that hold
//! its credentials (never the credentials themselves: a command line is
//! seen by every user of the machine and kept in shell history).

use std::path::PathBuf;

use super::Failure;
use crate::check::{self, Auth, Client, Endpoints};
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
    /// A PEM file of CA certificates to trust for https:// URLs, besides the
    /// system's (a self-signed or private CA).
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Send `Authorization: Bearer $VAR` to an endpoint (prometheus,
    /// alertmanager, grafana or a service's name); repeatable.
    #[arg(long = "bearer-env", value_name = "ENDPOINT=VAR")]
    bearer_env: Vec<String>,
    /// Send basic authorization to an endpoint, from VAR holding
    /// `user:password`; repeatable.
    #[arg(long = "basic-auth-env", value_name = "ENDPOINT=VAR")]
    basic_env: Vec<String>,
}

impl LiveArgs {
    /// `--prometheus`, as given (the budget gate reads it without `--live`).
    pub fn prometheus(&self) -> Option<&str> {
        self.prometheus.as_deref()
    }

    /// The live checks' endpoints, or none without `--live`; every flag
    /// is checked against the spec before any request.
    pub fn endpoints(&self, model: &Model) -> Result<Option<Endpoints>, Failure> {
        if !self.live {
            let given = [
                ("--base-url", !self.base_urls.is_empty()),
                ("--ca-cert", self.ca_cert.is_some()),
                ("--bearer-env", !self.bearer_env.is_empty()),
                ("--basic-auth-env", !self.basic_env.is_empty()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
                return Err(Failure::Error(format!(
                    "{flag} is for the live checks: add --live"
                )));
            }
            return Ok(None);
        }
        let mut at = Endpoints {
            prometheus: self.prometheus.clone(),
            alertmanager: self.alertmanager.clone(),
            grafana: self.grafana.clone(),
            client: Client::new(self.ca_cert.as_deref()).map_err(Failure::Error)?,
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
        let credentials = self
            .bearer_env
            .iter()
            .map(|p| ("--bearer-env", p, true))
            .chain(
                self.basic_env
                    .iter()
                    .map(|p| ("--basic-auth-env", p, false)),
            );
        for (flag, pair, bearer) in credentials {
            let Some((endpoint, var)) = pair.split_once('=') else {
                return Err(Failure::Error(format!(
                    "{flag} {pair}: expected ENDPOINT=VAR, such as prometheus=PROMETHEUS_TOKEN"
                )));
            };
            let monitoring = [check::PROMETHEUS, check::ALERTMANAGER, check::GRAFANA];
            if !monitoring.contains(&endpoint) && !http_service(endpoint) {
                return Err(Failure::Error(format!(
                    "{flag} {pair}: `{endpoint}` is not prometheus, alertmanager, grafana or an http service of the spec"
                )));
            }
            let value = std::env::var(var).map_err(|_| {
                Failure::Error(format!(
                    "{flag} {pair}: the environment variable {var} is not set (or not UTF-8); export it with the credential"
                ))
            })?;
            if !bearer && !value.contains(':') {
                return Err(Failure::Error(format!(
                    "{flag} {pair}: {var} must hold user:password"
                )));
            }
            if value.contains(['\r', '\n']) {
                return Err(Failure::Error(format!(
                    "{flag} {pair}: {var} holds a line break, which no HTTP header can carry"
                )));
            }
            let auth = if bearer {
                Auth::Bearer(value)
            } else {
                Auth::Basic(value)
            };
            if at.auth.insert(endpoint.to_string(), auth).is_some() {
                return Err(Failure::Error(format!(
                    "{flag} {pair}: `{endpoint}` already has credentials; give each endpoint one"
                )));
            }
        }
        Ok(Some(at))
    }
}
