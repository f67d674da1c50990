//! Alertmanager: receivers, routes and the secrets they read.

use std::collections::BTreeMap;

use super::*;
use crate::units::Duration;

#[derive(Debug)]
pub struct Alerting {
    pub group_by: Vec<String>,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// None only when the spec has no receivers.
    pub default_receiver: Option<String>,
    pub receivers: Vec<Receiver>,
    pub routes: Vec<Route>,
}

impl Alerting {
    /// The receivers an alert with these labels reaches, in order, each
    /// once: every matching route's receivers until one that does not
    /// `continue`, else the default receiver. The generated Alertmanager route tree behaves
    /// exactly so; amtool's route test proves it for every example.
    pub fn receivers_for(
        &self,
        severity: Severity,
        service: Option<&str>,
        team: Option<&str>,
    ) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for route in &self.routes {
            let matches = route.severity.is_none_or(|s| s == severity)
                && route.service.as_deref().is_none_or(|s| Some(s) == service)
                && route.team.as_deref().is_none_or(|t| Some(t) == team);
            if !matches {
                continue;
            }
            // Alertmanager would notify a receiver once per matching
            // route; the route tree excludes the repeats, so each receiver
            // is here once.
            for r in &route.receivers {
                if !out.contains(&r.as_str()) {
                    out.push(r);
                }
            }
            if !route.continue_ {
                return out;
            }
        }
        if out.is_empty()
            && let Some(default) = &self.default_receiver
        {
            out.push(default);
        }
        out
    }
}

impl Alerting {
    /// Every secret the receivers read, once each (variables by platform
    /// name, which `lower` keeps unique; files by path), in that order:
    /// what Compose and Kubernetes deliver to Alertmanager.
    pub fn secrets(&self) -> Vec<SecretRef> {
        let mut out: BTreeMap<String, SecretRef> = BTreeMap::new();
        let mut add = |s: &SecretRef| {
            let key = match s {
                SecretRef::Env(_) => s.secret_name(),
                SecretRef::File(path) => path.clone(),
            };
            out.entry(key).or_insert_with(|| s.clone());
        };
        for r in &self.receivers {
            match &r.channel {
                ReceiverChannel::Slack { webhook_url, .. } => add(webhook_url),
                ReceiverChannel::Email { password, .. } => {
                    if let Some(s) = password {
                        add(s);
                    }
                }
                ReceiverChannel::Pagerduty { routing_key } => add(routing_key),
                ReceiverChannel::Webhook { url, token } => {
                    if let WebhookUrl::Secret(s) = url {
                        add(s);
                    }
                    if let Some(s) = token {
                        add(s);
                    }
                }
            }
        }
        out.into_values().collect()
    }

    /// [`Self::secrets`] split by source: `(platform name, variable)` for
    /// those from the environment, and the paths of those in files.
    pub fn secret_sources(&self) -> (Vec<(String, String)>, Vec<String>) {
        let mut env = Vec::new();
        let mut files = Vec::new();
        for s in self.secrets() {
            match &s {
                SecretRef::Env(var) => env.push((s.secret_name(), var.clone())),
                SecretRef::File(path) => files.push(path.clone()),
            }
        }
        (env, files)
    }
}

#[derive(Debug)]
pub struct Receiver {
    pub name: String,
    pub send_resolved: bool,
    pub channel: ReceiverChannel,
}

#[derive(Debug)]
pub enum ReceiverChannel {
    Slack {
        channel: String,
        webhook_url: SecretRef,
    },
    Email {
        to: String,
        from: String,
        smarthost: String,
        username: Option<String>,
        password: Option<SecretRef>,
        require_tls: bool,
    },
    Pagerduty {
        routing_key: SecretRef,
    },
    Webhook {
        url: WebhookUrl,
        /// Sent as a bearer token, read from a file.
        token: Option<SecretRef>,
    },
}

/// Where Alertmanager finds a webhook's URL.
#[derive(Debug)]
pub enum WebhookUrl {
    /// In its configuration (`url`).
    Plain(String),
    /// In a file (`url_file`, Alertmanager 0.26 and later).
    Secret(SecretRef),
}

#[derive(Debug)]
pub struct Route {
    pub severity: Option<Severity>,
    pub service: Option<String>,
    pub team: Option<String>,
    pub receivers: Vec<String>,
    pub continue_: bool,
}

/// Where a secret is found at deploy time. Its value never enters harden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(String),
}

/// Where platforms mount secrets that come from environment variables.
pub const SECRETS_DIR: &str = "/run/secrets";

impl SecretRef {
    /// The file Alertmanager reads the secret from (its `*_file` fields):
    /// the spec's own path, or `/run/secrets/<name>` for an environment
    /// variable, which each platform delivers there (Compose secrets,
    /// Kubernetes Secret volumes).
    pub fn file_path(&self) -> String {
        self.file_path_in(SECRETS_DIR)
    }

    /// [`Self::file_path`] where a platform mounts the secrets from the
    /// environment in `dir` instead (the Prometheus Operator mounts each
    /// Secret an Alertmanager lists at `/etc/alertmanager/secrets/<Secret>`).
    pub fn file_path_in(&self, dir: &str) -> String {
        match self {
            SecretRef::File(path) => path.clone(),
            SecretRef::Env(_) => format!("{dir}/{}", self.secret_name()),
        }
    }

    /// The secret's name on platforms, valid as a Kubernetes object name
    /// and a Compose secret: the variable's name in lower case with `-` for
    /// `_` (`SLACK_WEBHOOK_URL` → `slack-webhook-url`), or the file's name.
    pub fn secret_name(&self) -> String {
        let raw = match self {
            SecretRef::Env(var) => var.as_str(),
            SecretRef::File(path) => path.rsplit('/').next().unwrap_or(path),
        };
        let name = raw.to_ascii_lowercase().replace('_', "-");
        name.trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string()
    }
}
