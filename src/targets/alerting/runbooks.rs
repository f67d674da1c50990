//! `runbooks/<AlertName>.md`: one runbook per alert name harden emits,
//! covering every service that has the alert, read from the same
//! [`catalog`] the rule files are written from. Each alert's `runbook_url`
//! annotation names its file ([`catalog::runbook_url`]).
//!
//! A runbook stays small however many services have its alert: what
//! differs per service is one row of a table, and each step's commands are
//! written once for `"$SERVICE"`. Every step is first drafted per service
//! with [`SVC`] standing for the service; services whose drafts of a step
//! read the same (same metric names, same password file, …) share one
//! block, so a block per service appears only where commands really differ.
//!
//! Commands are built here with every value as one shell word, and go out
//! as fenced code blocks; all other values are escaped Markdown text.

use std::collections::BTreeMap;

use serde::Serialize;

use super::catalog::{self, AlertEntry, RuleFile, Topic};
use crate::engine::escape::shell_word;
use crate::engine::{EmitError, Emitter};
use crate::model::{AlertKind, Model, ReceiverChannel, Severity};
use crate::output::FileMode;

mod http;
mod merge;
mod stores;

use super::commands::{SVC, Step, alertmanager_default, prometheus_env, word};
use http::{http_meaning, http_steps};
use merge::{Draft, draft, merge};
use stores::{backup_meaning, backup_steps, cache_meaning, cache_steps};

#[derive(Serialize)]
struct Context {
    alert: String,
    lead: String,
    meaning: Vec<String>,
    impact: Vec<String>,
    /// Headers of the topic's own columns, after the common ones.
    columns: Vec<String>,
    services: Vec<Row>,
    steps: Vec<Step>,
    silence: Vec<Step>,
    escalation: Vec<String>,
}

/// One service's row of the alert's table.
#[derive(Serialize)]
struct Row {
    name: String,
    severity: String,
    hold: String,
    threshold: String,
    team: String,
    dashboard_url: String,
    rule_file: String,
    /// The topic's own columns.
    extra: Vec<String>,
}

pub fn emit(model: &Model, files: &[RuleFile], out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let mut by_name: BTreeMap<&str, Vec<AlertEntry<'_>>> = BTreeMap::new();
    for entry in catalog::alerts(files) {
        by_name.entry(entry.name).or_default().push(entry);
    }
    for (name, entries) in &by_name {
        let context = runbook(model, name, entries);
        out.render(
            &catalog::runbook_path(name),
            "runbooks/runbook.md.j2",
            &context,
            FileMode::Regular,
        )?;
    }
    Ok(())
}

fn runbook(model: &Model, name: &str, entries: &[AlertEntry<'_>]) -> Context {
    let first = entries[0].about;
    let mut columns = Vec::new();
    let extra = |e: &AlertEntry<'_>| -> Vec<String> {
        match e.about.topic {
            Topic::Http(AlertKind::MetricsAbsent) => vec![
                http_of(model, &e.about.service)
                    .map(|h| h.port.to_string())
                    .unwrap_or_default(),
            ],
            Topic::Http(
                AlertKind::SloBurnPage | AlertKind::SloBurnTicket | AlertKind::BudgetExhausted,
            ) => {
                vec![slo_of(model, e).map_or_else(String::new, |slo| {
                    format!("{}: {} of {}", slo.name, slo.objective, slo.good_events())
                })]
            }
            Topic::Backup(_) => vec![
                model
                    .service(&e.about.service)
                    .and_then(|s| s.backup())
                    .map(|b| format!("{}, to {}", b.schedule.as_str(), b.destination.as_str()))
                    .unwrap_or_default(),
            ],
            _ => Vec::new(),
        }
    };
    match first.topic {
        Topic::Http(AlertKind::MetricsAbsent) => columns.push("Port".to_string()),
        Topic::Http(
            AlertKind::SloBurnPage | AlertKind::SloBurnTicket | AlertKind::BudgetExhausted,
        ) => columns.push("SLO".to_string()),
        Topic::Backup(_) => columns.push("Backup".to_string()),
        _ => {}
    }
    let services: Vec<Row> = entries
        .iter()
        .map(|e| Row {
            name: e.about.service.clone(),
            severity: e.about.severity.as_str().to_string(),
            hold: e.rule.for_.clone().unwrap_or_else(|| "at once".into()),
            threshold: e.about.threshold.clone(),
            team: e.about.team.clone().unwrap_or_else(|| "—".into()),
            // A `|` would end the table cell, even inside the link.
            dashboard_url: e.about.dashboard_url.replace('|', "%7C"),
            rule_file: e.file.path.clone(),
            extra: extra(e),
        })
        .collect();
    let mut severities: Vec<&str> = services.iter().map(|s| s.severity.as_str()).collect();
    severities.sort_unstable();
    severities.dedup();
    let mut names: Vec<&str> = entries.iter().map(|e| e.about.service.as_str()).collect();
    names.dedup();
    let lead = format!(
        "Severity {} · {}",
        severities.join(" / "),
        match (names.as_slice(), entries) {
            ([one], [_]) => format!("service {one}"),
            ([one], _) => format!("service {one}, {} SLOs (the table below)", entries.len()),
            _ => format!("{} services (the table below)", names.len()),
        }
    );
    let (meaning, impact) = match first.topic {
        Topic::Http(kind) => http_meaning(model, kind, entries),
        Topic::Cache(kind) => cache_meaning(kind),
        Topic::Backup(alert) => backup_meaning(alert),
    };
    let drafts = entries
        .iter()
        .map(|e| {
            let service = e.about.service.as_str();
            let mut list = vec![confirm(model, name)];
            match first.topic {
                Topic::Http(kind) => list.extend(http_steps(model, kind, service)),
                Topic::Cache(kind) => list.extend(cache_steps(model, kind, service)),
                Topic::Backup(_) => list.extend(backup_steps(model, service)),
            }
            (service, list)
        })
        .collect();
    let silence = entries
        .iter()
        .map(|e| (e.about.service.as_str(), vec![silence(model, name)]))
        .collect();
    Context {
        alert: name.to_string(),
        lead,
        meaning,
        impact,
        columns,
        services,
        steps: merge(drafts),
        silence: merge(silence),
        escalation: escalation(model, entries),
    }
}

fn http_of<'m>(model: &'m Model, service: &str) -> Option<&'m crate::model::HttpService> {
    model.service(service).and_then(|s| s.http())
}

/// The SLO an alert entry is on.
fn slo_of<'m>(model: &'m Model, e: &AlertEntry<'_>) -> Option<&'m crate::model::Slo> {
    let name = e.about.slo.as_deref()?;
    http_of(model, &e.about.service)?
        .slos
        .iter()
        .find(|s| s.name == name)
}

/// The alert's rule as Prometheus runs it for the service, and its own
/// query run now: the same for every service, so one block.
fn confirm(model: &Model, alert: &str) -> Draft {
    let rules = |flags: &str, filter: &str| {
        format!(
            "curl -fsS \"$PROMETHEUS_URL/api/v1/rules?type=alert\" | jq{flags} --arg alert {} --arg service {} '.data.groups[].rules[] | select(.name == $alert and .labels.service == $service) | {filter}'",
            shell_word(alert),
            word(SVC)
        )
    };
    draft(
        "Confirm it",
        "Open the service's dashboard (the table above) for the last hour. Prometheus says whether the alert is pending or firing and since when (activeAt), with the rule's query, its hold time in seconds and its annotations; running the query now shows the values behind it, and an empty result means the condition has cleared. Note when it started; compare with the last deploy.",
        vec![
            prometheus_env(model),
            "# The rule for this service: its state, query, hold time, annotations and active alerts".to_string(),
            rules("", "{state, query, duration, annotations, alerts: [.alerts[] | {state, activeAt, value}]}"),
            "# Its query, now".to_string(),
            format!("QUERY=$({})", rules(" -r", ".query")),
            "curl -fsSG \"$PROMETHEUS_URL/api/v1/query\" --data-urlencode \"query=$QUERY\" | jq '.data.result'".to_string(),
        ],
    )
}

/// How to silence the alert for one service: the same for every service.
fn silence(model: &Model, name: &str) -> Draft {
    let mut lines = vec![format!(
        "ALERTMANAGER_URL=${{ALERTMANAGER_URL:-{}}}",
        alertmanager_default(model)
    )];
    if let Some(forward) = crate::targets::kubernetes::alertmanager_port_forward(model) {
        lines.push(format!("# Kubernetes: {forward}"));
    }
    lines.push(format!(
        "amtool silence add --alertmanager.url=\"$ALERTMANAGER_URL\" --author=\"$USER\" --duration=2h --comment={} {} {}",
        shell_word("Investigating; see the runbook"),
        shell_word(&format!("alertname={name}")),
        word(&format!("service={SVC}")),
    ));
    lines.push("amtool silence query --alertmanager.url=\"$ALERTMANAGER_URL\"".into());
    lines.push("# Lift it when done: amtool silence expire --alertmanager.url=\"$ALERTMANAGER_URL\" SILENCE_ID".into());
    draft("", String::new(), lines)
}

/// Services that reach the same receivers: (team, severity, receivers)
/// and the services.
type Escalation<'a> = (Option<&'a str>, Severity, Vec<&'a str>, Vec<&'a str>);

/// Who is told, one line per (team, severity, receivers) naming its
/// services, in the order the services come.
fn escalation(model: &Model, entries: &[AlertEntry<'_>]) -> Vec<String> {
    let mut groups: Vec<Escalation<'_>> = Vec::new();
    for e in entries {
        let receivers = model.alerting.receivers_for(
            e.about.severity,
            Some(&e.about.service),
            e.about.team.as_deref(),
        );
        let team = e.about.team.as_deref();
        match groups
            .iter_mut()
            .find(|(t, s, r, _)| *t == team && *s == e.about.severity && *r == receivers)
        {
            // A service with several SLOs has a row per SLO: named once here.
            Some(group) if group.3.contains(&e.about.service.as_str()) => {}
            Some(group) => group.3.push(&e.about.service),
            None => groups.push((team, e.about.severity, receivers, vec![&e.about.service])),
        }
    }
    groups
        .into_iter()
        .map(|(team, severity, receivers, services)| {
            let reached: Vec<String> = receivers
                .iter()
                .map(|name| {
                    let how = model
                        .alerting
                        .receivers
                        .iter()
                        .find(|r| r.name == *name)
                        .map(|r| match &r.channel {
                            ReceiverChannel::Slack { channel, .. } => format!("Slack {channel}"),
                            ReceiverChannel::Email { to, .. } => format!("email to {to}"),
                            ReceiverChannel::Pagerduty { .. } => "PagerDuty".to_string(),
                            // The URL may carry a credential in its path: not printed.
                            ReceiverChannel::Webhook { .. } => "webhook".to_string(),
                        })
                        .unwrap_or_default();
                    format!("{name} ({how})")
                })
                .collect();
            let team = team
                .map(|t| format!(", owned by team {t}"))
                .unwrap_or_default();
            let services = services.join(", ");
            let severity = severity.as_str();
            if reached.is_empty() {
                format!(
                    "{services}{team}: severity {severity} reaches no receiver; Alertmanager has none configured."
                )
            } else {
                format!(
                    "{services}{team}: severity {severity} goes to {}.",
                    reached.join(", ")
                )
            }
        })
        .collect()
}
