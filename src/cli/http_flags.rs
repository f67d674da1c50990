//! The flags of every command that speaks HTTP (`check --live`,
//! `check --budget`, `report`, `backtest`): the CA that signed the servers'
//! certificates, and the environment variables that hold each endpoint's
//! credentials (never the credentials themselves: a command line is seen by
//! every user of the machine and kept in shell history). One flag set, one
//! client constructor ([`HttpFlags::client`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Failure;
use crate::check::{Auth, Client, PROMETHEUS};
use crate::history::api::Prometheus;

#[derive(Debug, clap::Args)]
pub struct HttpFlags {
    /// A PEM file of CA certificates to trust for https:// URLs, besides the
    /// system's (a self-signed or private CA).
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Send `Authorization: Bearer $VAR` to an endpoint: prometheus (and,
    /// for the live checks, alertmanager, grafana or a service's name);
    /// repeatable.
    #[arg(long = "bearer-env", value_name = "ENDPOINT=VAR")]
    bearer_env: Vec<String>,
    /// Send basic authorization to an endpoint, from VAR holding
    /// `user:password`; repeatable.
    #[arg(long = "basic-auth-env", value_name = "ENDPOINT=VAR")]
    basic_env: Vec<String>,
}

impl HttpFlags {
    /// The first of these flags given, if any.
    pub fn given(&self) -> Option<&'static str> {
        [
            ("--ca-cert", self.ca_cert.is_some()),
            ("--bearer-env", !self.bearer_env.is_empty()),
            ("--basic-auth-env", !self.basic_env.is_empty()),
        ]
        .into_iter()
        .find_map(|(flag, set)| set.then_some(flag))
    }

    /// The one HTTP client: the system's roots plus `--ca-cert` (read now,
    /// so a bad file is an error before any request).
    pub fn client(&self) -> Result<Client, Failure> {
        Client::new(self.ca_cert.as_deref()).map_err(Failure::Error)
    }

    /// Credentials by endpoint, each read from its environment variable.
    /// `known` says which endpoints the command talks to; `names` lists them
    /// for the error.
    pub fn credentials(
        &self,
        known: &dyn Fn(&str) -> bool,
        names: &str,
    ) -> Result<BTreeMap<String, Auth>, Failure> {
        let mut auth = BTreeMap::new();
        let pairs = self
            .bearer_env
            .iter()
            .map(|p| ("--bearer-env", p, true))
            .chain(
                self.basic_env
                    .iter()
                    .map(|p| ("--basic-auth-env", p, false)),
            );
        for (flag, pair, bearer) in pairs {
            let error = |what: String| Failure::Error(format!("{flag} {pair}: {what}"));
            let Some((endpoint, var)) = pair.split_once('=') else {
                return Err(error(
                    "expected ENDPOINT=VAR, such as prometheus=PROMETHEUS_TOKEN".into(),
                ));
            };
            if !known(endpoint) {
                return Err(error(format!("`{endpoint}` is not {names}")));
            }
            let value = std::env::var(var).map_err(|_| {
                error(format!(
                    "the environment variable {var} is not set (or not UTF-8); export it with the credential"
                ))
            })?;
            if !bearer && !value.contains(':') {
                return Err(error(format!("{var} must hold user:password")));
            }
            if value.contains(['\r', '\n']) {
                return Err(error(format!(
                    "{var} holds a line break, which no HTTP header can carry"
                )));
            }
            let credential = if bearer {
                Auth::Bearer(value)
            } else {
                Auth::Basic(value)
            };
            if auth.insert(endpoint.to_string(), credential).is_some() {
                return Err(error(format!(
                    "`{endpoint}` already has credentials; give each endpoint one"
                )));
            }
        }
        Ok(auth)
    }

    /// Prometheus at `url`, through the client, with its credentials: for
    /// the commands that read only Prometheus (`report`, `backtest`, the
    /// budget gate).
    pub fn prometheus(&self, url: &str) -> Result<Prometheus, Failure> {
        let mut auth = self.credentials(&|e| e == PROMETHEUS, PROMETHEUS)?;
        Ok(Prometheus::new(
            url,
            self.client()?,
            auth.remove(PROMETHEUS),
        )?)
    }
}
