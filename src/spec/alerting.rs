//! `[alerting]`: receivers, their secrets, and routes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Alert routing and receivers.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alerting {
    /// Labels alerts are grouped by (default `["alertname", "service"]`).
    pub group_by: Option<Vec<LabelName>>,
    /// Default `30s`.
    pub group_wait: Option<DurationStr>,
    /// Default `5m`.
    pub group_interval: Option<DurationStr>,
    /// Default `4h`.
    pub repeat_interval: Option<DurationStr>,
    /// The receiver for alerts no route matches (default: the first receiver).
    pub default_receiver: Option<Name>,
    #[serde(default, rename = "receiver")]
    pub receivers: Vec<Receiver>,
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
}

/// Receiver types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    Slack,
    Email,
    Pagerduty,
    Webhook,
}

/// One `[[alerting.receiver]]`. Which keys apply depends on `type`.
/// Secrets are named by environment variable or file, never written here.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    pub name: Name,
    #[serde(rename = "type")]
    pub type_: ReceiverType,
    /// Also notify when the alert resolves (default true, except email).
    pub send_resolved: Option<bool>,
    /// Slack: the channel, such as `#alerts`.
    pub channel: Option<SlackChannel>,
    /// Slack: the incoming-webhook URL (a secret).
    pub webhook_url: Option<Secret>,
    /// Email: recipient.
    pub to: Option<Email>,
    /// Email: sender.
    pub from: Option<Email>,
    /// Email: SMTP server `host:port`.
    pub smarthost: Option<HostPort>,
    /// Email: SMTP user name. Alertmanager reads it only from its config
    /// file, so it is written out: not a secret.
    pub username: Option<Credential>,
    /// Email: SMTP password (a secret).
    pub password: Option<Secret>,
    /// Email: require STARTTLS (default true).
    pub require_tls: Option<bool>,
    /// PagerDuty: Events API v2 routing key (a secret).
    pub routing_key: Option<Secret>,
    /// Webhook: the URL to POST to, written out, or (when the URL itself is
    /// a credential, such as a chat webhook's) a secret Alertmanager reads
    /// from a file (`url_file`). Keep tokens out of a written URL: use `token`.
    pub url: Option<WebhookUrl>,
    /// Webhook: a bearer token sent as `Authorization: Bearer …` (a secret).
    pub token: Option<Secret>,
}

/// A secret, named by where it is found at deploy time, never by value.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// An environment variable that holds the secret, such as `SLACK_WEBHOOK_URL`.
    pub env: Option<EnvVar>,
    /// A file that holds the secret on the machine that runs Alertmanager.
    pub file: Option<AbsPath>,
}

/// A webhook URL: written out, or a secret.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum WebhookUrl {
    Plain(Url),
    Secret(Secret),
}

/// A value written out, or (refused, with a hint, where the consumer cannot
/// read it from a file) named like a secret.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Credential {
    Plain(Text),
    Secret(Secret),
}

/// One `[[alerting.route]]`: alerts that match go to the receivers.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Match alerts of this severity.
    pub severity: Option<Severity>,
    /// Match alerts of this service.
    pub service: Option<Name>,
    /// Match alerts of this team.
    pub team: Option<Name>,
    /// Receivers, in order; every one gets the alert.
    #[schemars(length(min = 1))]
    pub receivers: Vec<Name>,
    /// Keep matching later routes after this one (default false).
    #[serde(rename = "continue")]
    pub continue_: Option<bool>,
}
