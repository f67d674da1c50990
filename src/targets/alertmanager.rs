//! `alertmanager/alertmanager.yml` and its message templates: the route tree
//! (one child route per spec route and receiver, `continue` between them),
//! receivers reading every secret from a file, and the inhibition rules.
//!
//! The tree is built so that an alert reaches exactly
//! [`Alerting::receivers_for`]; the route tests check that with amtool.

pub(crate) mod check;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{Alerting, Model, ReceiverChannel, Route};
use crate::output::FileMode;

pub const PATH: &str = "alertmanager/alertmanager.yml";
pub const TEMPLATES_PATH: &str = "alertmanager/templates/harden.tmpl";

/// Alert names whose inhibition this file relies on; the rules emitter
/// gives alerts these names.
const TARGET_DOWN: &str = "TargetDown";
const METRICS_ABSENT: &str = "MetricsAbsent";
const REGION_DOWN: &str = "RegionDown";

#[derive(Serialize)]
struct Context {
    route: Root,
    receivers: Vec<ReceiverContext>,
    inhibit_rules: Vec<Inhibit>,
}

#[derive(Serialize)]
struct Root {
    receiver: String,
    group_by: Vec<String>,
    group_wait: String,
    group_interval: String,
    repeat_interval: String,
    routes: Vec<Child>,
}

#[derive(Serialize)]
struct Child {
    receiver: String,
    matchers: Vec<String>,
    #[serde(rename = "continue")]
    continue_: bool,
}

#[derive(Serialize)]
struct ReceiverContext {
    name: String,
    send_resolved: bool,
    slack: Option<Slack>,
    email: Option<Email>,
    pagerduty: Option<Pagerduty>,
    webhook: Option<Webhook>,
}

#[derive(Serialize)]
struct Slack {
    api_url_file: String,
    channel: String,
    title: &'static str,
    text: &'static str,
}

#[derive(Serialize)]
struct Email {
    to: String,
    from: String,
    smarthost: String,
    auth_username: Option<String>,
    auth_password_file: Option<String>,
    require_tls: bool,
    subject: &'static str,
}

#[derive(Serialize)]
struct Pagerduty {
    routing_key_file: String,
    severity: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct Webhook {
    url: String,
    token_file: Option<String>,
}

#[derive(Serialize)]
struct Inhibit {
    why: &'static str,
    source: Vec<String>,
    target: Vec<String>,
    equal: Vec<&'static str>,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let alerting = &model.alerting;
    // Without receivers there is nothing to route to.
    let Some(default) = &alerting.default_receiver else {
        return Ok(());
    };
    let context = Context {
        route: Root {
            receiver: default.clone(),
            group_by: alerting.group_by.clone(),
            group_wait: alerting.group_wait.to_string(),
            group_interval: alerting.group_interval.to_string(),
            repeat_interval: alerting.repeat_interval.to_string(),
            routes: child_routes(alerting),
        },
        receivers: alerting.receivers.iter().map(receiver).collect(),
        inhibit_rules: inhibit_rules(),
    };
    out.render(
        PATH,
        "alertmanager/alertmanager.yml.j2",
        &context,
        FileMode::Regular,
    )?;
    out.render(
        TEMPLATES_PATH,
        "alertmanager/templates/harden.tmpl.j2",
        &(),
        FileMode::Regular,
    )
}

/// One child route per receiver of each spec route, all but the last of a
/// spec route with `continue: true` so every receiver gets the alert.
fn child_routes(alerting: &Alerting) -> Vec<Child> {
    let mut children = Vec::new();
    for route in &alerting.routes {
        let matchers = matchers(route);
        let last = route.receivers.len().saturating_sub(1);
        for (i, receiver) in route.receivers.iter().enumerate() {
            children.push(Child {
                receiver: receiver.clone(),
                matchers: matchers.clone(),
                continue_: i < last || route.continue_,
            });
        }
    }
    children
}

fn matchers(route: &Route) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(severity) = route.severity {
        out.push(format!("severity=\"{}\"", severity.as_str()));
    }
    if let Some(service) = &route.service {
        out.push(format!("service=\"{service}\""));
    }
    if let Some(team) = &route.team {
        out.push(format!("team=\"{team}\""));
    }
    out
}

fn receiver(r: &crate::model::Receiver) -> ReceiverContext {
    let mut context = ReceiverContext {
        name: r.name.clone(),
        send_resolved: r.send_resolved,
        slack: None,
        email: None,
        pagerduty: None,
        webhook: None,
    };
    match &r.channel {
        ReceiverChannel::Slack {
            channel,
            webhook_url,
        } => {
            context.slack = Some(Slack {
                api_url_file: webhook_url.file_path(),
                channel: channel.clone(),
                title: r#"{{ template "harden.slack.title" . }}"#,
                text: r#"{{ template "harden.slack.text" . }}"#,
            })
        }
        ReceiverChannel::Email {
            to,
            from,
            smarthost,
            username,
            password,
            require_tls,
        } => {
            context.email = Some(Email {
                to: to.clone(),
                from: from.clone(),
                smarthost: smarthost.clone(),
                auth_username: username.clone(),
                auth_password_file: password.as_ref().map(|p| p.file_path()),
                require_tls: *require_tls,
                subject: r#"{{ template "harden.email.subject" . }}"#,
            })
        }
        ReceiverChannel::Pagerduty { routing_key } => {
            context.pagerduty = Some(Pagerduty {
                routing_key_file: routing_key.file_path(),
                // Alerts carry critical, warning or info: all PagerDuty severities.
                severity: r#"{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}critical{{ end }}"#,
                description: r#"{{ template "harden.pagerduty.description" . }}"#,
            })
        }
        ReceiverChannel::Webhook { url, token } => {
            context.webhook = Some(Webhook {
                url: url.clone(),
                token_file: token.as_ref().map(|t| t.file_path()),
            })
        }
    }
    context
}

fn inhibit_rules() -> Vec<Inhibit> {
    vec![
        Inhibit {
            why: "A critical alert silences the warning of the same alert and service.",
            source: vec!["severity=\"critical\"".into()],
            target: vec!["severity=\"warning\"".into()],
            equal: vec!["alertname", "service"],
        },
        Inhibit {
            why: "A service that is down is not also paged for its SLOs and latency.",
            source: vec![format!("alertname=\"{TARGET_DOWN}\"")],
            target: vec!["slo=~\".+\"".into()],
            equal: vec!["service"],
        },
        Inhibit {
            why: "A region outage silences the per-target alerts in that region.",
            source: vec![format!("alertname=\"{REGION_DOWN}\"")],
            target: vec![format!("alertname=~\"{TARGET_DOWN}|{METRICS_ABSENT}\"")],
            equal: vec!["service", "region"],
        },
    ]
}
