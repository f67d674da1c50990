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

use super::catalog::{self, AlertEntry, BackupAlert, RuleFile, Topic};
use crate::engine::escape::shell_word;
use crate::engine::{EmitError, Emitter};
use crate::model::{AlertKind, CacheAlertKind, Model, ReceiverChannel, Severity};
use crate::output::FileMode;
use crate::targets::{compose, scripts};

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

/// One step: what to do and why, and the commands that do it.
#[derive(Serialize)]
pub struct Step {
    pub title: String,
    pub text: String,
    pub command: Option<String>,
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

/// The Prometheus and Alertmanager the commands talk to: the environment
/// variables they read, with the Compose stack's published ports as defaults.
pub fn prometheus_default(model: &Model) -> String {
    format!("http://localhost:{}", model.monitoring.prometheus_port)
}

pub fn alertmanager_default(model: &Model) -> String {
    format!("http://localhost:{}", model.monitoring.alertmanager_port)
}

/// Stands for the service in a command drafted for one service; [`word`]
/// turns it into `$SERVICE`, which each block sets first.
const SVC: &str = "\u{1}";
/// Stands for the service's port (`$PORT`).
const PORT: &str = "\u{2}";

/// `s` as one shell word, like [`shell_word`], except that [`SVC`] and
/// [`PORT`] expand to `$SERVICE` and `$PORT`: such a word is double-quoted
/// with every other `$`, `` ` ``, `"` and `\` escaped (and `!` kept out of
/// the quotes, where interactive bash would expand history).
fn word(s: &str) -> String {
    if !s.contains([SVC, PORT].map(|m| m.chars().next().unwrap_or_default())) {
        return shell_word(s);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::from("\"");
    for (i, c) in chars.iter().enumerate() {
        let var = match c {
            '\u{1}' => Some("SERVICE"),
            '\u{2}' => Some("PORT"),
            _ => None,
        };
        match var {
            Some(var) => {
                let glued = chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_');
                if glued {
                    out.push_str(&format!("${{{var}}}"));
                } else {
                    out.push('$');
                    out.push_str(var);
                }
            }
            None if *c == '!' => out.push_str("\"'!'\""),
            None => {
                if matches!(c, '$' | '`' | '"' | '\\') {
                    out.push('\\');
                }
                out.push(*c);
            }
        }
    }
    out.push('"');
    out
}

/// A step as drafted for one service: its commands use [`SVC`] (and the
/// variables in `vars`) for what differs between services.
struct Draft {
    title: String,
    text: String,
    lines: Vec<String>,
    vars: Vec<Var>,
}

/// A shell variable a draft's commands read besides `SERVICE`, with this
/// service's value; the table shows it when services differ.
#[derive(Clone, PartialEq)]
struct Var {
    name: &'static str,
    value: String,
    /// What to set it to when the services of a block differ (plain
    /// words: it is written unquoted in `${NAME:?hint}`).
    hint: &'static str,
}

fn draft(title: &str, text: impl Into<String>, lines: Vec<String>) -> Draft {
    Draft {
        title: title.to_string(),
        text: text.into(),
        lines,
        vars: Vec::new(),
    }
}

/// Services whose drafts of one step read the same.
struct Group<'a> {
    text: String,
    lines: Vec<String>,
    names: Vec<&'static str>,
    hints: Vec<&'static str>,
    services: Vec<&'a str>,
    values: Vec<Vec<String>>,
}

/// The line that sets `SERVICE` for a block: the service's name when the
/// block is for one service, else a demand that the reader set it.
fn service_line(services: &[&str]) -> String {
    match services {
        [one] => format!("SERVICE={}", shell_word(one)),
        _ => "SERVICE=${SERVICE:?set SERVICE to the service label of the alert}".to_string(),
    }
}

/// `line` with every use of `$name` written `${name:?}`. A block pasted
/// into a shell runs line by line: when the reader has not set the variable,
/// the line that demands it stops only itself, and without this every later
/// command would run with an empty word (a `kubectl` on no deployment, a
/// silence for `service=""`). [`word`] writes `${name}` where a name
/// character follows, so `$name` is never the start of a longer name.
fn demand(line: &str, name: &str) -> String {
    let guarded = format!("${{{name}:?}}");
    line.replace(&format!("${{{name}}}"), &guarded)
        .replace(&format!("${name}"), &guarded)
}

fn uses_service(lines: &[String]) -> bool {
    lines
        .iter()
        .any(|l| l.contains("$SERVICE") || l.contains("${SERVICE}"))
}

/// Merges every service's drafts into steps, in the order steps first
/// appear: one step per distinct draft, for the services that share it.
/// A step that does not cover every service names the ones it covers.
fn merge<'a>(drafts: Vec<(&'a str, Vec<Draft>)>) -> Vec<Step> {
    let total = drafts.len();
    let mut titles: Vec<(String, Vec<Group<'a>>)> = Vec::new();
    for (service, list) in drafts {
        for d in list {
            let slot = match titles.iter().position(|(t, _)| *t == d.title) {
                Some(i) => i,
                None => {
                    titles.push((d.title.clone(), Vec::new()));
                    titles.len() - 1
                }
            };
            let names: Vec<&'static str> = d.vars.iter().map(|v| v.name).collect();
            let values: Vec<String> = d.vars.iter().map(|v| v.value.clone()).collect();
            let groups = &mut titles[slot].1;
            match groups
                .iter_mut()
                .find(|g| g.text == d.text && g.lines == d.lines && g.names == names)
            {
                Some(g) => {
                    g.services.push(service);
                    g.values.push(values);
                }
                None => groups.push(Group {
                    text: d.text,
                    lines: d.lines,
                    names,
                    hints: d.vars.iter().map(|v| v.hint).collect(),
                    services: vec![service],
                    values: vec![values],
                }),
            }
        }
    }
    let mut steps = Vec::new();
    for (title, groups) in titles {
        let whole = groups.len() == 1 && groups[0].services.len() == total;
        for g in groups {
            let mut lines = Vec::new();
            // Variables the reader must set (several services share the
            // block): every use demands them, see `demand`.
            let mut demanded = Vec::new();
            if uses_service(&g.lines) {
                lines.push(service_line(&g.services));
                if g.services.len() > 1 {
                    demanded.push("SERVICE");
                }
            }
            for (i, name) in g.names.iter().enumerate() {
                let first = &g.values[0][i];
                if g.values.iter().all(|v| v[i] == *first) {
                    lines.push(format!("{name}={}", shell_word(first)));
                } else {
                    lines.push(format!("{name}=${{{name}:?{}}}", g.hints[i]));
                    demanded.push(name);
                }
            }
            lines.extend(
                g.lines
                    .iter()
                    .map(|l| demanded.iter().fold(l.clone(), |l, name| demand(&l, name))),
            );
            steps.push(Step {
                title: if whole {
                    title.clone()
                } else {
                    format!("{title} ({})", g.services.join(", "))
                },
                text: g.text,
                command: (!lines.is_empty()).then(|| lines.join("\n")),
            });
        }
    }
    steps
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
    let lead = format!(
        "Severity {} · {}",
        severities.join(" / "),
        match entries {
            [one] => format!("service {}", one.about.service),
            _ => format!("{} services (the table below)", entries.len()),
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

/// Runs a PromQL query against Prometheus's HTTP API. [`SVC`] in `expr`
/// stands for `$SERVICE`.
pub fn query_command(expr: &str) -> String {
    format!(
        "curl -fsSG \"$PROMETHEUS_URL/api/v1/query\" --data-urlencode {} | jq '.data.result'",
        word(&format!("query={expr}"))
    )
}

fn prometheus_env(model: &Model) -> String {
    format!(
        "PROMETHEUS_URL=${{PROMETHEUS_URL:-{}}}",
        prometheus_default(model)
    )
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

fn http_meaning(
    model: &Model,
    kind: AlertKind,
    entries: &[AlertEntry<'_>],
) -> (Vec<String>, Vec<String>) {
    // Per service; a sentence about them all only when they agree, else the
    // table below (one row per service) is the place to look.
    let agreed = |of: &dyn Fn(&AlertEntry<'_>) -> Option<String>| {
        let first = of(&entries[0]);
        entries
            .iter()
            .all(|e| of(e) == first)
            .then_some(first)
            .flatten()
    };
    let slo_of = |e: &AlertEntry<'_>| {
        model
            .service(&e.about.service)
            .and_then(|s| s.http())
            .and_then(|h| h.slo.as_ref())
    };
    let fires = agreed(&|e| Some(e.about.threshold.clone())).map_or_else(
        || "Each service's threshold is in the table below.".to_string(),
        |t| format!("It fires when errors are {t}."),
    );
    let budget = agreed(&|e| {
        let slo = slo_of(e)?;
        Some(format!(
            "The objective is {} availability over {}: an error budget of {} of requests.",
            slo.availability?,
            slo.window,
            crate::vocab::percent(slo.error_budget()?)
        ))
    });
    // How long the whole budget lasts at each tier's burn rate: window ÷ factor.
    let lasts = agreed(&|e| {
        let slo = slo_of(e)?;
        let tier = match kind {
            AlertKind::SloBurnPage => crate::model::Tier::Page,
            AlertKind::SloBurnTicket => crate::model::Tier::Ticket,
            _ => return None,
        };
        let parts: Vec<String> = slo
            .burn_rates
            .iter()
            .filter(|b| b.tier == tier && b.factor.digits() > 0)
            .map(|b| {
                let ms = u128::from(slo.window.as_millis()) * 10u128.pow(b.factor.scale())
                    / b.factor.digits();
                let ms = u64::try_from(ms - ms % 60_000).unwrap_or(u64::MAX);
                format!(
                    "at {}x the budget lasts {}",
                    b.factor,
                    crate::units::Duration::from_millis(ms)
                )
            })
            .collect();
        Some(format!(
            "Of the {} budget, {}",
            slo.window,
            parts.join(", ")
        ))
    });
    let burn = |consequence: &str| match (&budget, &lasts) {
        (Some(budget), Some(lasts)) => format!("{budget} {lasts}: {consequence}"),
        _ => format!(
            "The services have different objectives, so their budgets last different times at these burn rates: {consequence}"
        ),
    };
    let budget = budget.clone().unwrap_or_default();
    let (meaning, impact): (&str, String) = match kind {
        AlertKind::SloBurnPage => (
            "The service is failing requests (5xx) fast enough to spend a large share of its error budget within hours: the error ratio is above the page tier's threshold over both a long and a short window, so the problem is real and still happening.",
            format!("{} {fires}", burn("users are seeing errors now, and the objective is lost within days unless the burn stops. This is the alert the SLO exists for: act at once.")),
        ),
        AlertKind::SloBurnTicket => (
            "The service is spending its error budget faster than the objective allows, slowly: the error ratio has stayed above the ticket tier's threshold over both windows for hours.",
            format!("{} {fires}", burn("left alone, it is gone by the end of the window and the objective is missed. Not an emergency: handle it within working hours, and hold risky changes until the burn stops.")),
        ),
        AlertKind::ErrorRate5xx => (
            "More than the threshold of requests returned a 5xx status over the last 5 minutes.",
            format!("Server errors are failed requests for users and spend the error budget. {budget}"),
        ),
        AlertKind::ErrorRate4xx => (
            "More than the threshold of requests returned a 4xx status over the last 5 minutes.",
            "4xx are the clients' errors, but a jump usually has a server-side cause: a deploy that changed an API contract or validation, broken authentication (401/403), a missing route (404), or a client release or bot hammering an endpoint. It does not count against the availability objective.".to_string(),
        ),
        AlertKind::Latency => (
            "The latency percentile of the service's requests is above its objective over the last 5 minutes (from the request duration histogram).",
            "Slow responses are failures to users even when they succeed: timeouts upstream, retries, abandoned bookings. Latency usually rises before errors do when the service or its database saturates.".to_string(),
        ),
        AlertKind::TargetDown => (
            "Prometheus cannot scrape one of the service's targets: the process is down, restarting, or unreachable from Prometheus.",
            "A down target serves no traffic; with every target down the service is down. It also blinds every other alert of the service, which read its metrics.".to_string(),
        ),
        AlertKind::MetricsAbsent => (
            "Prometheus has no up series or no request metric for the service at all: its scrape job is missing, or the service does not export the request counter harden's rules use.",
            "Every other alert of the service reads these series: while they are absent, no SLO, error-rate or latency alert can fire. The service may be fine; monitoring is not.".to_string(),
        ),
        AlertKind::CpuHigh | AlertKind::MemoryHigh => (
            "The service's pods use more of their requested resource than the autoscaling target, for a sustained period: the autoscaler is not bringing usage back under its target.",
            "Pods running hot serve slower (CPU throttling) or are killed and restarted (memory past its limit is an OOM kill). It means the autoscaler cannot add pods, or adding pods does not help.".to_string(),
        ),
        AlertKind::ReplicasAtMax => (
            "The service's HorizontalPodAutoscaler runs its maximum number of replicas: it cannot add capacity.",
            "Any further load growth lands on pods already at their target: latency and errors follow. The limit may be right (a cost cap) or stale (traffic has grown).".to_string(),
        ),
        AlertKind::RegionDown => (
            "Every target of the service in one region is down while other regions still serve.",
            "Users routed to that region fail until traffic moves: DNS or the load balancer must send them to a healthy region. Capacity in the remaining regions must absorb the extra load.".to_string(),
        ),
    };
    (vec![meaning.to_string()], vec![impact.trim().to_string()])
}

/// Commands to look at the service ([`SVC`]) on each platform the spec
/// enables. `app_component`: the service is a component of the App
/// Platform apps (not a managed database).
fn inspect(model: &Model, logs: bool, kubernetes_only: bool, app_component: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let svc = word(SVC);
    if let Some(k) = &model.platforms.kubernetes {
        let ns = shell_word(&k.namespace);
        let selector = word(&format!("app.kubernetes.io/name={SVC}"));
        lines.push("# Kubernetes".into());
        lines.push(format!("kubectl -n {ns} get pods -l {selector} -o wide"));
        lines.push(format!("kubectl -n {ns} rollout history deployment/{svc}"));
        if logs {
            lines.push(format!(
                "kubectl -n {ns} logs deployment/{svc} --since=30m --all-containers | tail -n 200"
            ));
            lines.push(format!(
                "kubectl -n {ns} get events --sort-by=.lastTimestamp | tail -n 30"
            ));
        }
    }
    if kubernetes_only {
        return lines;
    }
    if model.platforms.compose.is_some() {
        lines.push("# Docker Compose".into());
        lines.push(format!("docker compose ps {svc}"));
        if logs {
            lines.push(format!(
                "docker compose logs --since 30m {svc} | tail -n 200"
            ));
        }
    }
    if let Some(d) = model
        .platforms
        .digitalocean
        .as_ref()
        .filter(|_| app_component)
    {
        lines.push("# DigitalOcean App Platform".into());
        for app in &d.apps {
            lines.push(app_id(&app.name));
            lines.push("doctl apps list-deployments \"$APP_ID\" | head -n 5".into());
            if logs {
                lines.push(format!(
                    "doctl apps logs \"$APP_ID\" {svc} --type run --tail 200"
                ));
            }
        }
    }
    lines
}

fn rollback(model: &Model) -> Option<Draft> {
    let svc = word(SVC);
    let mut lines = Vec::new();
    if let Some(k) = &model.platforms.kubernetes {
        lines.push("# Kubernetes: back to the previous ReplicaSet".into());
        lines.push(format!(
            "kubectl -n {} rollout undo deployment/{svc}",
            shell_word(&k.namespace)
        ));
    }
    if model.platforms.compose.is_some() {
        lines.push(format!(
            "# Docker Compose: set the service's previous image tag in {}, then",
            compose::PATH
        ));
        lines.push(format!("docker compose up -d --wait {svc}"));
    }
    if let Some(d) = &model.platforms.digitalocean {
        lines.push("# DigitalOcean: roll each app back to its last good deployment (doctl has no rollback command)".into());
        for app in &d.apps {
            lines.push(app_id(&app.name));
            lines.push("doctl apps list-deployments \"$APP_ID\" --format ID,Cause,Phase,Created | head -n 5".into());
            lines.push("GOOD_DEPLOYMENT_ID=paste-the-last-good-ID-here".into());
            lines.push("curl -fsS -X POST -H \"Authorization: Bearer $DIGITALOCEAN_TOKEN\" -H 'Content-Type: application/json' -d \"{\\\"deployment_id\\\": \\\"$GOOD_DEPLOYMENT_ID\\\"}\" \"https://api.digitalocean.com/v2/apps/$APP_ID/rollback\"".into());
        }
    }
    if model.rollback.is_some() {
        lines.push("# Or, on the platform you deploy to, let the generated script check the deploy and undo it when unhealthy".into());
        let mut platforms = Vec::new();
        if model.platforms.kubernetes.is_some() {
            platforms.push("kubernetes");
        }
        if model.platforms.compose.is_some() {
            platforms.push("compose");
        }
        if model.platforms.digitalocean.is_some() {
            platforms.push("digitalocean");
        }
        for p in platforms {
            lines.push(format!("{} {p}", scripts::ROLLBACK));
        }
    }
    (!lines.is_empty()).then(|| {
        draft(
            "Roll back a bad deploy",
            "If the alert started within minutes of a deploy of the service, roll back first and debug after: restoring service beats understanding the bug.",
            lines,
        )
    })
}

fn http_steps(model: &Model, kind: AlertKind, service: &str) -> Vec<Draft> {
    let mut steps = Vec::new();
    let Some(http) = http_of(model, service) else {
        return steps;
    };
    let job = format!("job=\"{SVC}\"");
    let req = &http.metrics.requests;
    let status = &http.metrics.status_label;
    let query = |title: &str, text: &str, exprs: &[String]| {
        let mut lines = vec![prometheus_env(model)];
        lines.extend(exprs.iter().map(|x| query_command(x)));
        draft(title, text, lines)
    };
    match kind {
        AlertKind::SloBurnPage | AlertKind::SloBurnTicket | AlertKind::ErrorRate5xx => {
            steps.push(query(
                "Find where the errors come from",
                "Break the 5xx rate down by instance and by status: one bad instance points at a node or a pod; every instance at once points at a deploy or a dependency (the database). The budget left says how much room there is.",
                &[
                    format!("sum by (instance, {status}) (rate({req}{{{job},{status}=~\"5..\"}}[5m]))"),
                    format!("{}{{service=\"{SVC}\",slo=\"availability\"}}", crate::model::record::BUDGET_REMAINING),
                ],
            ));
        }
        AlertKind::ErrorRate4xx => {
            steps.push(query(
                "Which 4xx, and since when",
                "401/403 after a deploy: authentication or a secret (such as a rotated signing key). 404: a route removed or renamed. 429: rate limiting. 400/422: a validation change or a client sending a new payload.",
                &[format!("sum by ({status}) (rate({req}{{{job},{status}=~\"4..\"}}[5m]))")],
            ));
        }
        AlertKind::Latency => {
            steps.push(query(
                "Is the service saturated?",
                "Compare the request rate with last week, and check throughput per instance: latency with flat traffic points at a slow dependency (database, network); latency with rising traffic at capacity.",
                &[
                    format!("sum(rate({req}{{{job}}}[5m]))"),
                    format!("sum(rate({req}{{{job}}}[5m] offset 1w))"),
                    format!("sum by (instance) (rate({req}{{{job}}}[5m]))"),
                ],
            ));
        }
        AlertKind::TargetDown | AlertKind::MetricsAbsent => {
            let targets = vec![
                prometheus_env(model),
                format!(
                    "curl -fsSG \"$PROMETHEUS_URL/api/v1/targets\" --data-urlencode state=active | jq --arg job {} '.data.activeTargets[] | select(.labels.job == $job) | {{instance: .labels.instance, health, lastError}}'",
                    word(SVC)
                ),
            ];
            if kind == AlertKind::MetricsAbsent {
                let mut lines = vec![
                    prometheus_env(model),
                    "# Is the scrape job in the configuration Prometheus runs?".to_string(),
                    format!(
                        "curl -fsS \"$PROMETHEUS_URL/api/v1/status/config\" | jq -r .data.yaml | grep -n {}",
                        word(&format!("job_name: {SVC}"))
                    ),
                    format!("# Does the service export {req}? Ask it directly"),
                ];
                if let Some(k) = &model.platforms.kubernetes {
                    lines.push(format!(
                        "kubectl -n {} port-forward deployment/{} {} &",
                        shell_word(&k.namespace),
                        word(SVC),
                        word(&format!("{PORT}:{PORT}"))
                    ));
                }
                lines.push(format!(
                    "curl -fsS {} | grep -c {}",
                    word(&format!(
                        "http://localhost:{PORT}{}",
                        http.endpoints.metrics
                    )),
                    shell_word(&format!("^{req}"))
                ));
                let mut step = draft(
                    "Find which series is missing",
                    "No job in the running configuration: the generated prometheus.yml was not deployed, or Prometheus was not reloaded. A job but no request counter: the service exports its metrics under another name (set [service.metrics] requests) or not at all.",
                    lines,
                );
                step.vars.push(Var {
                    name: "PORT",
                    value: http.port.to_string(),
                    hint: "set PORT to the port of the service in the table above",
                });
                steps.push(step);
            }
            steps.push(draft(
                "Ask Prometheus why it cannot scrape the service",
                format!("The target's lastError says whether the connection is refused (the process is down), times out (network, or an overloaded process) or the metrics path {} answers with an error.", http.endpoints.metrics),
                targets,
            ));
        }
        AlertKind::CpuHigh | AlertKind::MemoryHigh | AlertKind::ReplicasAtMax => {
            if let Some(k) = &model.platforms.kubernetes {
                let ns = shell_word(&k.namespace);
                let svc = word(SVC);
                let selector = word(&format!("app.kubernetes.io/name={SVC}"));
                steps.push(draft(
                    "Look at the autoscaler and the pods",
                    "The HPA's events say whether it is scaling, limited by maxReplicas, or missing metrics; pods Pending mean the cluster has no room; OOMKilled in the last state means the memory limit is too low or the service leaks.",
                    vec![
                        format!("kubectl -n {ns} describe hpa {svc}"),
                        format!("kubectl -n {ns} top pods -l {selector}"),
                        format!("kubectl -n {ns} get pods -l {selector} -o jsonpath='{{range .items[*]}}{{.metadata.name}} {{.status.containerStatuses[0].lastState.terminated.reason}}{{\"\\n\"}}{{end}}'"),
                    ],
                ));
                steps.push(draft(
                    "Add capacity",
                    "To raise the ceiling now, patch the HPA; then make the same change in hardening.toml ([service.autoscaling] max_replicas, or resources) and regenerate, or the next deploy reverts it.",
                    vec![format!(
                        "kubectl -n {ns} patch hpa {svc} --type merge -p '{{\"spec\":{{\"maxReplicas\":NEW_MAX}}}}'"
                    )],
                ));
            }
        }
        AlertKind::RegionDown => {
            steps.push(query(
                "Confirm which region is down",
                "Then move traffic away from it: take the region's records out of DNS (or let health-checked failover do it) and check that the remaining regions have the capacity.",
                &[format!("sum by (region, instance) (up{{{job}}})")],
            ));
        }
    }
    // The saturation alerts read cAdvisor and kube-state-metrics series:
    // they can only fire on Kubernetes.
    let saturation = matches!(
        kind,
        AlertKind::CpuHigh | AlertKind::MemoryHigh | AlertKind::ReplicasAtMax
    );
    let logs = !matches!(kind, AlertKind::ReplicasAtMax);
    let lines = inspect(model, logs, saturation, true);
    if !lines.is_empty() {
        steps.push(draft(
            "Look at the service where it runs",
            "Crash loops, restarts, failed health checks and the latest deployment.",
            lines,
        ));
    }
    if matches!(
        kind,
        AlertKind::SloBurnPage
            | AlertKind::SloBurnTicket
            | AlertKind::ErrorRate5xx
            | AlertKind::ErrorRate4xx
            | AlertKind::Latency
            | AlertKind::TargetDown
    ) && let Some(step) = rollback(model)
    {
        steps.push(step);
    }
    steps
}

fn cache_meaning(kind: CacheAlertKind) -> (Vec<String>, Vec<String>) {
    let (meaning, impact) = match kind {
        CacheAlertKind::Down => (
            "redis_exporter cannot reach Redis (redis_up is 0), or Prometheus cannot scrape the exporter (up is 0).",
            "Every read misses and every write fails: the services fall back to the database, which then carries the full read load. It also blinds the cache's other alerts.",
        ),
        CacheAlertKind::MemoryHigh => (
            "Redis uses more than the threshold of its maxmemory, and its eviction policy cannot make room freely: with noeviction writes fail once it is full; with a volatile-* policy only keys that have a TTL can be evicted.",
            "Writes that need memory fail with OOM errors: what the application stores in Redis (sessions, locks, queues) stops being saved.",
        ),
        CacheAlertKind::TooManyClients => (
            "The connected clients exceed the threshold of maxclients.",
            "At maxclients Redis refuses new connections: clients without a pooled connection get errors. Usually a connection leak or a pool sized per process times too many processes.",
        ),
        CacheAlertKind::RejectedConnections => (
            "Redis refused at least one client connection in the last 5 minutes: it is at maxclients.",
            "Requests that needed a new connection failed or fell back to the database.",
        ),
    };
    (vec![meaning.to_string()], vec![impact.to_string()])
}

/// `redis-cli` inside the cache's ([`SVC`]) container on each platform the
/// spec enables, running `args`; the password is read where the platform
/// puts it.
fn redis_cli(model: &Model, service: &str, args: &str) -> Vec<String> {
    let svc = word(SVC);
    let redis = model.service(service).and_then(|s| s.redis());
    let mut lines = Vec::new();
    if let Some(k) = &model.platforms.kubernetes {
        lines.push("# Kubernetes (the container has REDISCLI_AUTH when a password is set)".into());
        lines.push(format!(
            "kubectl -n {} exec deployment/{svc} -c redis -- redis-cli {args}",
            shell_word(&k.namespace)
        ));
    }
    if model.platforms.compose.is_some() {
        lines.push("# Docker Compose".into());
        match redis.and_then(|r| r.password.as_ref()) {
            Some(secret) => lines.push(format!(
                "docker compose exec {svc} sh -c {}",
                shell_word(&format!(
                    "REDISCLI_AUTH=\"$(cat {})\" redis-cli {args}",
                    secret.file_path()
                ))
            )),
            None => lines.push(format!("docker compose exec {svc} redis-cli {args}")),
        }
    }
    lines
}

fn cache_steps(model: &Model, kind: CacheAlertKind, service: &str) -> Vec<Draft> {
    let mut steps = Vec::new();
    let (title, text, args) = match kind {
        CacheAlertKind::Down => (
            "Is Redis up?",
            "PONG means Redis answers and the exporter (or the network to it) is at fault; no answer means Redis itself is down: look at its restarts and last exit reason (OOMKilled means the container's memory limit is below what Redis uses).",
            "ping",
        ),
        CacheAlertKind::MemoryHigh => (
            "What fills Redis?",
            "used_memory against maxmemory, the fragmentation ratio, and the biggest keys. Keys without a TTL that should have one are the usual cause; raise maxmemory in hardening.toml (with the memory limit) only once the growth is understood.",
            "info memory",
        ),
        CacheAlertKind::TooManyClients | CacheAlertKind::RejectedConnections => (
            "Who holds the connections?",
            "Count connections by client address: one address with hundreds of connections is a leak or an oversized pool in that process.",
            "client list",
        ),
    };
    let mut lines = redis_cli(model, service, args);
    if kind == CacheAlertKind::MemoryHigh {
        lines.extend(redis_cli(model, service, "--bigkeys"));
    }
    if !lines.is_empty() {
        steps.push(draft(title, text, lines));
    }
    if model.platforms.digitalocean.is_some() {
        steps.push(draft(
            "On DigitalOcean",
            "There the cache is a managed Valkey cluster, which Prometheus does not scrape: its metrics and alerts are in the DigitalOcean control panel (Databases → the cluster → Insights).",
            vec!["doctl databases list --format ID,Name,Engine,Status,Size".into()],
        ));
    }
    let lines = inspect(model, true, false, false);
    if !lines.is_empty() {
        steps.push(draft(
            "Look at the cache where it runs",
            "Restarts, the last exit reason, and the log.",
            lines,
        ));
    }
    steps
}

fn backup_meaning(alert: BackupAlert) -> (Vec<String>, Vec<String>) {
    let (meaning, impact) = match alert {
        BackupAlert::Stale => (
            "The database's last successful backup is older than its schedule allows (the interval plus a quarter): at least one scheduled backup failed or did not run.",
            "A restore now loses everything written since the last good dump, and the window grows with every missed run. The older dumps are kept: the backup script prunes only after a dump succeeds.",
        ),
        BackupAlert::Missing => (
            "No backup of the database has ever reported success to the Pushgateway (or the Pushgateway lost its state): the backup job never ran, fails every time, or cannot reach the Pushgateway.",
            "There may be no backup to restore from at all. If dumps do exist at the destination, only the reporting is broken, and BackupStale is blind until it is fixed.",
        ),
    };
    (vec![meaning.to_string()], vec![impact.to_string()])
}

fn backup_steps(model: &Model, db: &str) -> Vec<Draft> {
    let mut steps = Vec::new();
    let Some(backup) = model.service(db).and_then(|s| s.backup()) else {
        return steps;
    };
    let job = word(&format!("{SVC}-backup"));
    let mut logs = vec![prometheus_env(model)];
    logs.push("# When the job last failed".into());
    logs.push(query_command(&format!(
        "{}{{database=\"{SVC}\"}}",
        crate::model::backup_metrics::LAST_FAILURE
    )));
    let mut rerun = Vec::new();
    if let Some(k) = &model.platforms.kubernetes {
        let ns = shell_word(&k.namespace);
        logs.push("# Kubernetes: the CronJob, its recent Jobs, and the last one's log".into());
        logs.push(format!("kubectl -n {ns} get cronjob/{job}"));
        logs.push(format!(
            "kubectl -n {ns} get jobs --sort-by=.metadata.creationTimestamp | grep {job} | tail -n 5"
        ));
        logs.push(format!(
            "JOB=$(kubectl -n {ns} get jobs --sort-by=.metadata.creationTimestamp -o name | grep {job} | tail -n 1 | cut -d/ -f2)"
        ));
        logs.push(format!(
            "kubectl -n {ns} logs \"job/${{JOB:?no Job of this CronJob yet}}\""
        ));
        rerun.push("# Kubernetes: a Job from the CronJob, now".into());
        rerun.push(format!(
            "kubectl -n {ns} create job --from=cronjob/{job} \"$SERVICE-backup-manual-$(date +%s)\""
        ));
    }
    if model.platforms.compose.is_some() {
        logs.push("# Docker Compose".into());
        logs.push(format!(
            "docker compose logs --since 48h {job} | tail -n 100"
        ));
        rerun.push("# Docker Compose: one run in the backup container".into());
        rerun.push(format!(
            "docker compose exec {job} bash /opt/harden/backup.sh {}",
            word(SVC)
        ));
    }
    if backup.digitalocean_job
        && let Some(app) = model
            .platforms
            .digitalocean
            .as_ref()
            .and_then(|d| d.apps.first())
    {
        logs.push(
            "# DigitalOcean App Platform: the backup worker in the primary region's app".into(),
        );
        logs.push(app_id(&app.name));
        logs.push(format!(
            "doctl apps logs \"$APP_ID\" {job} --type run --tail 200"
        ));
    }
    steps.push(draft(
        "Find why the backup did not succeed",
        "The job's log says which step failed: the connection to the database (credentials, network), pg_dump itself, the check of the dump, or the upload to its destination (the table above). A job that succeeds but never reaches the Pushgateway (PUSHGATEWAY_URL) looks the same to this alert.",
        logs,
    ));
    if !rerun.is_empty() {
        steps.push(draft(
            "Back the database up now",
            "Once the cause is fixed, take a backup rather than waiting for the next scheduled one; the alert clears when its success reaches Prometheus.",
            rerun,
        ));
    }
    steps.push(draft(
        "Prove the latest dump restores",
        "A dump that exists is not a backup until it restores: the drill restores the latest one into a scratch database and runs its sanity query. It reads the same PG* variables and destination as the backup job.",
        vec![format!("{} {}", scripts::RESTORE_DRILL, word(SVC))],
    ));
    steps
}

/// How to silence the alert for one service: the same for every service.
fn silence(model: &Model, name: &str) -> Draft {
    let mut lines = vec![format!(
        "ALERTMANAGER_URL=${{ALERTMANAGER_URL:-{}}}",
        alertmanager_default(model)
    )];
    if let Some(k) = &model.platforms.kubernetes {
        lines.push(format!(
            "# Kubernetes: kubectl -n {} port-forward svc/alertmanager {}:{}",
            shell_word(&k.namespace),
            model.monitoring.alertmanager_port,
            model.monitoring.alertmanager_port
        ));
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

/// Sets `APP_ID` to the id of the App Platform app named `name`.
pub fn app_id(name: &str) -> String {
    format!(
        "APP_ID=$(doctl apps list --format ID,Spec.Name --no-header | awk -v n={} '$2 == n {{print $1}}')",
        shell_word(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What bash makes of `word`, with SERVICE and PORT set.
    fn in_bash(word: &str) -> String {
        let out = std::process::Command::new("bash")
            .args(["-c", &format!("printf '%s' {word}")])
            .env("SERVICE", "svc-1")
            .env("PORT", "8080")
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{word}");
        String::from_utf8(out.stdout).expect("utf-8")
    }

    #[test]
    fn words_expand_the_service_and_port_and_nothing_else() {
        for s in [
            format!("job=\"{SVC}\""),
            format!("{SVC}-backup"),
            format!("{SVC}_x{PORT}:{PORT}"),
            format!("a $HOME `id` \\ \" ' ! {SVC} $(touch x) ${{PATH}}"),
            "no variable $HOME 'here'".to_string(),
        ] {
            let expected = s.replace(SVC, "svc-1").replace(PORT, "8080");
            assert_eq!(in_bash(&word(&s)), expected, "{}", word(&s));
        }
    }

    fn step(title: &str, lines: &[&str]) -> Draft {
        draft(title, "", lines.iter().map(|l| l.to_string()).collect())
    }

    #[test]
    fn services_share_a_step_unless_it_reads_differently() {
        let drafts = vec![
            (
                "a",
                vec![step("Look", &["ps \"$SERVICE\""]), step("Ask", &["ask x"])],
            ),
            (
                "b",
                vec![step("Look", &["ps \"$SERVICE\""]), step("Ask", &["ask y"])],
            ),
            (
                "c",
                vec![step("Look", &["ps \"$SERVICE\""]), step("Ask", &["ask x"])],
            ),
        ];
        let steps = merge(drafts);
        assert_eq!(
            demand("a $SERVICE ${SERVICE}_b \"$SERVICE\" $PORT", "SERVICE"),
            "a ${SERVICE:?} ${SERVICE:?}_b \"${SERVICE:?}\" $PORT"
        );
        let got: Vec<(&str, &str)> = steps
            .iter()
            .map(|s| (s.title.as_str(), s.command.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Look",
                    // Shared: every use demands SERVICE (see `demand`).
                    "SERVICE=${SERVICE:?set SERVICE to the service label of the alert}\nps \"${SERVICE:?}\""
                ),
                ("Ask (a, c)", "ask x"),
                ("Ask (b)", "ask y"),
            ]
        );
        // One service: SERVICE is preset, and a variable takes its value.
        let mut one = step("Look", &["curl \"localhost:$PORT/$SERVICE\""]);
        one.vars.push(Var {
            name: "PORT",
            value: "8080".into(),
            hint: "set PORT",
        });
        let steps = merge(vec![("a", vec![one])]);
        assert_eq!(
            steps[0].command.as_deref(),
            Some("SERVICE=a\nPORT=8080\ncurl \"localhost:$PORT/$SERVICE\"")
        );
    }
}
