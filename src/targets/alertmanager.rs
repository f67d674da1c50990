//! `alertmanager/alertmanager.yml` and its message templates: the route tree
//! (child routes per spec route and receiver, `continue` between them, each
//! receiver reached once per alert), receivers reading every secret from a
//! file, and the inhibition rules (one notification per incident).
//!
//! The tree is built so that an alert reaches exactly
//! [`Alerting::receivers_for`]; the route tests check that with amtool.

pub(crate) mod check;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{
    AlertKind, Alerting, Model, Monitoring, ReceiverChannel, Route, SECRETS_DIR, Severity, Tier,
    WebhookUrl,
};
use crate::output::FileMode;
use crate::targets::kubernetes;

pub const PATH: &str = "alertmanager/alertmanager.yml";
pub const TEMPLATES_PATH: &str = "alertmanager/templates/harden.tmpl";

/// The wait of each cluster member per position before it notifies, as
/// an argument: every platform that runs the cluster passes this one
/// (lowering keeps the members' waits inside `group_interval`).
pub fn peer_timeout_arg(m: &Monitoring) -> String {
    format!(
        "--cluster.peer-timeout={}",
        m.alertmanager_peer_timeout.go_string()
    )
}

/// Alert names whose inhibition this file relies on; the rules emitter
/// gives alerts these names.
const TARGET_DOWN: &str = "TargetDown";
const REGION_DOWN: &str = "RegionDown";

#[derive(Serialize)]
struct Context {
    /// Where the message templates are, relative to the configuration.
    templates: String,
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
    /// `url`, or `url_file` when the URL is a secret.
    url: Option<String>,
    url_file: Option<String>,
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
    let mut context = Context {
        templates: "templates/*.tmpl".into(),
        route: Root {
            receiver: default.clone(),
            group_by: alerting.group_by.clone(),
            group_wait: alerting.group_wait.to_string(),
            group_interval: alerting.group_interval.to_string(),
            repeat_interval: alerting.repeat_interval.to_string(),
            routes: child_routes(alerting),
        },
        receivers: alerting
            .receivers
            .iter()
            .map(|r| receiver(r, SECRETS_DIR))
            .collect(),
        inhibit_rules: inhibit_rules(model),
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
    )?;
    if model
        .platforms
        .kubernetes
        .as_ref()
        .is_some_and(|k| k.operator.is_some())
    {
        // The same routes, receivers and inhibition for the operator's
        // Alertmanager, which mounts its configuration Secret's keys (this
        // file and the templates) in one directory and each Secret it
        // lists under `secrets` in a directory of its own.
        let dir = kubernetes::alertmanager_secrets_dir(&model.project.name);
        context.templates = format!("{}/*.tmpl", kubernetes::ALERTMANAGER_CONFIG_DIR);
        context.receivers = alerting
            .receivers
            .iter()
            .map(|r| receiver(r, &dir))
            .collect();
        out.render(
            kubernetes::MONITORING_ALERTMANAGER_PATH,
            "alertmanager/alertmanager.yml.j2",
            &context,
            FileMode::Regular,
        )?;
    }
    Ok(())
}

/// One child route per receiver of each spec route (or a few, see below),
/// so that an alert reaches exactly [`Alerting::receivers_for`]: each
/// matching spec route's receivers, in order, until one that does not
/// `continue`, and each receiver once.
///
/// Alertmanager notifies a receiver once per route that matches, so a
/// receiver two matching routes name (a severity route that continues and a
/// team route, both naming Slack) would get every alert twice. Each child
/// therefore also excludes the alerts an earlier spec route takes: those of
/// a route that stops, and those of a continuing route that already names
/// the same receiver. Every child but the stopping one continues; the
/// exclusions do the stopping, written as disjoint matcher sets (a matcher
/// list is a conjunction).
fn child_routes(alerting: &Alerting) -> Vec<Child> {
    let mut children = Vec::new();
    for (k, route) in alerting.routes.iter().enumerate() {
        let own = matchers(route);
        let mut receivers: Vec<&String> = Vec::new();
        for r in &route.receivers {
            if !receivers.contains(&r) {
                receivers.push(r);
            }
        }
        let last = receivers.len().saturating_sub(1);
        for (i, receiver) in receivers.into_iter().enumerate() {
            let mut branches = vec![own.clone()];
            let mut narrowed = false;
            for earlier in &alerting.routes[..k] {
                let stops = !earlier.continue_;
                if !stops && !earlier.receivers.contains(receiver) {
                    continue;
                }
                narrowed |= !stops;
                let taken = matchers(earlier);
                branches = branches
                    .into_iter()
                    .flat_map(|b| exclude(&b, &taken))
                    .collect();
            }
            // The last receiver of a stopping route stops, unless an
            // earlier route already named it: then its branches leave out
            // alerts that must stop here too, and later routes exclude them.
            let stop = i == last && !route.continue_ && !narrowed;
            for branch in branches {
                children.push(Child {
                    receiver: receiver.clone(),
                    matchers: branch.iter().map(Matcher::render).collect(),
                    continue_: !stop,
                });
            }
        }
    }
    children
}

/// One Alertmanager matcher: `label="value"` or `label!="value"`.
#[derive(Clone, PartialEq)]
struct Matcher {
    label: &'static str,
    equal: bool,
    value: String,
}

impl Matcher {
    fn render(&self) -> String {
        let op = if self.equal { "=" } else { "!=" };
        format!("{}{op}\"{}\"", self.label, self.value)
    }
}

/// The alerts `branch` matches that `taken` does not, as disjoint matcher
/// sets: none when `taken` covers `branch`, `branch` itself when they
/// cannot overlap, else one set per matcher of `taken` that `branch` does
/// not already imply (`a=1 ∧ ¬(b=2 ∧ c=3)` is `a=1,b!=2` or `a=1,b=2,c!=3`).
fn exclude(branch: &[Matcher], taken: &[Matcher]) -> Vec<Vec<Matcher>> {
    let mut open = Vec::new();
    for t in taken {
        let same = |m: &&Matcher| m.label == t.label;
        if branch
            .iter()
            .filter(same)
            .any(|m| (m.equal && m.value != t.value) || (!m.equal && m.value == t.value))
        {
            return vec![branch.to_vec()];
        }
        if !branch.iter().any(|m| m.equal && m.label == t.label) {
            open.push(t);
        }
    }
    let mut out = Vec::new();
    let mut prefix = branch.to_vec();
    for t in open {
        let mut set = prefix.clone();
        set.push(Matcher {
            equal: false,
            ..t.clone()
        });
        out.push(set);
        prefix.push(t.clone());
    }
    out
}

fn matchers(route: &Route) -> Vec<Matcher> {
    let mut out = Vec::new();
    if let Some(severity) = route.severity {
        out.push(Matcher {
            label: "severity",
            equal: true,
            value: severity.as_str().to_string(),
        });
    }
    for (label, value) in [("service", &route.service), ("team", &route.team)] {
        if let Some(value) = value {
            out.push(Matcher {
                label,
                equal: true,
                value: value.clone(),
            });
        }
    }
    out
}

/// A receiver reading each secret from a file, those from the environment
/// in `secrets_dir`.
fn receiver(r: &crate::model::Receiver, secrets_dir: &str) -> ReceiverContext {
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
                api_url_file: webhook_url.file_path_in(secrets_dir),
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
                auth_password_file: password.as_ref().map(|p| p.file_path_in(secrets_dir)),
                require_tls: *require_tls,
                subject: r#"{{ template "harden.email.subject" . }}"#,
            })
        }
        ReceiverChannel::Pagerduty { routing_key } => {
            context.pagerduty = Some(Pagerduty {
                routing_key_file: routing_key.file_path_in(secrets_dir),
                // Alerts carry critical, warning or info: all PagerDuty severities.
                severity: r#"{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}critical{{ end }}"#,
                description: r#"{{ template "harden.pagerduty.description" . }}"#,
            })
        }
        ReceiverChannel::Webhook { url, token } => {
            let (url, url_file) = match url {
                WebhookUrl::Plain(u) => (Some(u.clone()), None),
                WebhookUrl::Secret(s) => (None, Some(s.file_path_in(secrets_dir))),
            };
            context.webhook = Some(Webhook {
                url,
                url_file,
                token_file: token.as_ref().map(|t| t.file_path_in(secrets_dir)),
            })
        }
    }
    context
}

/// Inhibition, so that one incident notifies once. Each rule pairs alerts
/// that fire together for one cause, with the labels both carry:
///
/// - the page tier of an SLO and its ticket tier (same service and SLO);
/// - a critical symptom of a service (a symptom alert, [`AlertKind::is_symptom`]:
///   an SLO's page tier, or an error-rate alert the spec made critical) and
///   the symptom warnings of that service (ticket tiers, exhausted budgets,
///   5xx, 4xx);
/// - TargetDown and the symptoms its outage causes in the same service;
/// - RegionDown and the TargetDown alerts of that region and service, when
///   a service has RegionDown (static targets in two regions, or the store
///   ruler's global rules; a rule that names an alert no rule file defines
///   would be dead).
///
/// MetricsAbsent needs no rule: it fires only while `up` is 1 or absent, so
/// never beside TargetDown or RegionDown.
fn inhibit_rules(model: &Model) -> Vec<Inhibit> {
    let severity = |s: Severity| format!("severity=\"{}\"", s.as_str());
    let tier = |t: Tier| format!("tier=\"{}\"", t.as_str());
    let mut symptoms: Vec<&str> = model
        .services
        .iter()
        .filter_map(|s| s.http())
        .flat_map(|h| &h.alert_rules)
        .filter(|a| a.kind.is_symptom())
        .map(|a| a.name.as_str())
        .collect();
    symptoms.sort_unstable();
    symptoms.dedup();
    let symptom = format!("alertname=~\"{}\"", symptoms.join("|"));
    let region_down = model.services.iter().filter_map(|s| s.http()).any(|h| {
        h.alert_rules
            .iter()
            .any(|a| a.kind == AlertKind::RegionDown)
    }) || crate::targets::alerting::global_region_down(model);
    let mut rules = vec![Inhibit {
        why: "The page tier of an SLO silences its ticket tier: one burn, one notification.",
        source: vec![tier(Tier::Page)],
        target: vec![tier(Tier::Ticket)],
        equal: vec!["service", "slo"],
    }];
    if !symptoms.is_empty() {
        rules.push(Inhibit {
            why: "A critical symptom of a service (SLO page, or an error-rate alert made critical) silences the symptom warnings of that service.",
            source: vec![severity(Severity::Critical), symptom.clone()],
            target: vec![severity(Severity::Warning), symptom.clone()],
            equal: vec!["service"],
        });
        rules.push(Inhibit {
            why: "A service that is down is not also notified for its SLOs and error rates.",
            source: vec![format!("alertname=\"{TARGET_DOWN}\"")],
            target: vec![symptom],
            equal: vec!["service"],
        });
    }
    if region_down {
        rules.push(Inhibit {
            why: "A region outage silences the per-target alerts in that region.",
            source: vec![format!("alertname=\"{REGION_DOWN}\"")],
            target: vec![format!("alertname=\"{TARGET_DOWN}\"")],
            equal: vec!["service", "region"],
        });
    }
    rules
}
