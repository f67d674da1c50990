//! `runbooks/<AlertName>.md`: one runbook per alert name harden emits,
//! covering every service that has the alert, read from the same
//! [`catalog`] the rule files are written from. Each alert's `runbook_url`
//! annotation names its file ([`catalog::runbook_url`]).
//!
//! Commands are built here with every value as one shell word, and go out
//! as fenced code blocks; all other values are escaped Markdown text.

use std::collections::BTreeMap;

use serde::Serialize;

use super::catalog::{self, AlertEntry, BackupAlert, RuleFile, Topic};
use super::escape::shell_word;
use super::{EmitError, Emitter};
use crate::model::{AlertKind, CacheAlertKind, Model, ReceiverChannel, Severity};
use crate::output::FileMode;

#[derive(Serialize)]
struct Context {
    alert: String,
    lead: String,
    meaning: Vec<String>,
    impact: Vec<String>,
    services: Vec<ServiceCx>,
    steps: Vec<Step>,
    silence: Vec<Step>,
    escalation: Vec<String>,
}

#[derive(Serialize)]
struct ServiceCx {
    name: String,
    severity: String,
    hold: String,
    threshold: String,
    expr: String,
    labels: String,
    summary: String,
    description: String,
    dashboard_url: String,
    rule_file: String,
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

fn severity_name(s: Severity) -> &'static str {
    super::rules::severity_name(s)
}

fn runbook(model: &Model, name: &str, entries: &[AlertEntry<'_>]) -> Context {
    let first = entries[0].about;
    let services: Vec<ServiceCx> = entries
        .iter()
        .map(|e| ServiceCx {
            name: e.about.service.clone(),
            severity: severity_name(e.about.severity).to_string(),
            hold: e.rule.for_.clone().unwrap_or_else(|| "0s (at once)".into()),
            threshold: e.about.threshold.clone(),
            expr: e.rule.expr.clone(),
            labels: e
                .rule
                .labels
                .iter()
                .map(|p| format!("{}=\"{}\"", p.name, p.value))
                .collect::<Vec<_>>()
                .join(", "),
            summary: e.rule.annotation("summary").unwrap_or_default().to_string(),
            description: e
                .rule
                .annotation("description")
                .unwrap_or_default()
                .to_string(),
            dashboard_url: e.about.dashboard_url.clone(),
            rule_file: e.file.path.clone(),
        })
        .collect();
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    let mut severities: Vec<&str> = services.iter().map(|s| s.severity.as_str()).collect();
    severities.dedup();
    let lead = format!(
        "Severity {} · services: {} · rule file{}: {}",
        severities.join(" / "),
        names.join(", "),
        if entries.len() == 1 { "" } else { "s" },
        services
            .iter()
            .map(|s| s.rule_file.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (meaning, impact) = match first.topic {
        Topic::Http(kind) => http_meaning(model, kind, entries),
        Topic::Cache(kind) => cache_meaning(kind),
        Topic::Backup(alert) => backup_meaning(alert),
    };
    let mut steps = vec![confirm(model, entries)];
    match first.topic {
        Topic::Http(kind) => steps.extend(http_steps(model, kind, entries)),
        Topic::Cache(kind) => steps.extend(cache_steps(model, kind, entries)),
        Topic::Backup(_) => steps.extend(backup_steps(model, entries)),
    }
    Context {
        alert: name.to_string(),
        lead,
        meaning,
        impact,
        services,
        steps,
        silence: silence(model, name, entries),
        escalation: escalation(model, entries),
    }
}

/// Runs a PromQL query against Prometheus's HTTP API.
pub fn query_command(expr: &str) -> String {
    format!(
        "curl -fsSG \"$PROMETHEUS_URL/api/v1/query\" --data-urlencode {} | jq '.data.result'",
        shell_word(&format!("query={expr}"))
    )
}

fn prometheus_env(model: &Model) -> String {
    format!(
        "PROMETHEUS_URL=${{PROMETHEUS_URL:-{}}}",
        prometheus_default(model)
    )
}

fn confirm(model: &Model, entries: &[AlertEntry<'_>]) -> Step {
    let mut lines = vec![prometheus_env(model)];
    for e in entries {
        lines.push(format!("# {}", e.about.service));
        lines.push(query_command(&e.rule.expr));
    }
    Step {
        title: "Confirm it".into(),
        text: "Open the service's dashboard (above) for the last hour and run the alert's own query: an empty result means the condition has cleared. Note when it started; compare with the last deploy.".into(),
        command: Some(lines.join("\n")),
    }
}

fn http_meaning(
    model: &Model,
    kind: AlertKind,
    entries: &[AlertEntry<'_>],
) -> (Vec<String>, Vec<String>) {
    let t = &entries[0].about.threshold;
    let objective = entries.iter().find_map(|e| {
        model
            .services
            .iter()
            .find(|s| s.name == e.about.service)
            .and_then(|s| s.http())
            .and_then(|h| h.slo.as_ref())
            .and_then(|slo| Some((slo.availability?, slo.window, slo.error_budget()?)))
    });
    let budget = objective.map(|(a, w, b)| {
        format!(
            "The objective is {a} availability over {w}: an error budget of {} of requests.",
            super::rules::percent(b)
        )
    });
    // How long the whole budget lasts at each tier's burn rate: window ÷ factor.
    let lasts = entries
        .iter()
        .find_map(|e| {
            let slo = model
                .services
                .iter()
                .find(|s| s.name == e.about.service)?
                .http()?
                .slo
                .as_ref()?;
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
            Some(parts.join(", "))
        })
        .unwrap_or_default();
    let (meaning, impact): (&str, String) = match kind {
        AlertKind::SloBurnPage => (
            "The service is failing requests (5xx) fast enough to spend a large share of its error budget within hours: the error ratio is above the page tier's threshold over both a long and a short window, so the problem is real and still happening.",
            format!("{} Of the {} budget, {lasts}: users are seeing errors now, and the objective is lost within days unless the burn stops. This is the alert the SLO exists for: act at once. It fires when errors are {t}.", budget.clone().unwrap_or_default(), objective.map(|(_, w, _)| w.to_string()).unwrap_or_default()),
        ),
        AlertKind::SloBurnTicket => (
            "The service is spending its error budget faster than the objective allows, slowly: the error ratio has stayed above the ticket tier's threshold over both windows for hours.",
            format!("{} Of the {} budget, {lasts}: left alone, it is gone by the end of the window and the objective is missed. Not an emergency: handle it within working hours, and hold risky changes until the burn stops. It fires when errors are {t}.", budget.clone().unwrap_or_default(), objective.map(|(_, w, _)| w.to_string()).unwrap_or_default()),
        ),
        AlertKind::ErrorRate5xx => (
            "More than the threshold of requests returned a 5xx status over the last 5 minutes.",
            format!("Server errors are failed requests for users and spend the error budget. {}", budget.clone().unwrap_or_default()),
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

/// Commands to look at a service on each platform the spec enables.
/// `app_component`: the service is a component of the App Platform apps
/// (not a managed database).
fn inspect(
    model: &Model,
    service: &str,
    logs: bool,
    kubernetes_only: bool,
    app_component: bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    let svc = shell_word(service);
    if let Some(k) = &model.platforms.kubernetes {
        let ns = shell_word(&k.namespace);
        lines.push("# Kubernetes".into());
        lines.push(format!(
            "kubectl -n {ns} get pods -l app.kubernetes.io/name={svc} -o wide"
        ));
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

fn rollback(model: &Model, service: &str) -> Option<Step> {
    let svc = shell_word(service);
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
            "# Docker Compose: set {service}'s previous image tag in docker-compose.yml, then"
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
            lines.push(format!("scripts/auto-rollback.sh {p}"));
        }
    }
    (!lines.is_empty()).then(|| Step {
        title: "Roll back a bad deploy".into(),
        text: format!("If the alert started within minutes of a deploy of {service}, roll back first and debug after: restoring service beats understanding the bug."),
        command: Some(lines.join("\n")),
    })
}

fn http_steps(model: &Model, kind: AlertKind, entries: &[AlertEntry<'_>]) -> Vec<Step> {
    let mut steps = Vec::new();
    for e in entries {
        let service = e.about.service.as_str();
        let Some(http) = model
            .services
            .iter()
            .find(|s| s.name == service)
            .and_then(|s| s.http())
        else {
            continue;
        };
        let job = format!("job=\"{service}\"");
        let req = &http.metrics.requests;
        let status = &http.metrics.status_label;
        let query = |title: &str, text: &str, exprs: &[String]| {
            let mut lines = vec![prometheus_env(model)];
            lines.extend(exprs.iter().map(|x| query_command(x)));
            Step {
                title: title.to_string(),
                text: text.to_string(),
                command: Some(lines.join("\n")),
            }
        };
        match kind {
            AlertKind::SloBurnPage | AlertKind::SloBurnTicket | AlertKind::ErrorRate5xx => {
                steps.push(query(
                    &format!("Find where {service}'s errors come from"),
                    "Break the 5xx rate down by instance and by status: one bad instance points at a node or a pod; every instance at once points at a deploy or a dependency (the database).",
                    &[
                        format!("sum by (instance, {status}) (rate({req}{{{job},{status}=~\"5..\"}}[5m]))"),
                        format!("{}{{service=\"{service}\",slo=\"availability\"}}", crate::model::record::BUDGET_REMAINING),
                    ],
                ));
            }
            AlertKind::ErrorRate4xx => {
                steps.push(query(
                    &format!("Which 4xx, and since when ({service})"),
                    "401/403 after a deploy: authentication or a secret (such as a rotated signing key). 404: a route removed or renamed. 429: rate limiting. 400/422: a validation change or a client sending a new payload.",
                    &[format!("sum by ({status}) (rate({req}{{{job},{status}=~\"4..\"}}[5m]))")],
                ));
            }
            AlertKind::Latency => {
                steps.push(query(
                    &format!("Is {service} saturated?"),
                    "Compare the request rate with last week, and check throughput per instance: latency with flat traffic points at a slow dependency (database, network); latency with rising traffic at capacity.",
                    &[
                        format!("sum(rate({req}{{{job}}}[5m]))"),
                        format!("sum(rate({req}{{{job}}}[5m] offset 1w))"),
                        format!("sum by (instance) (rate({req}{{{job}}}[5m]))"),
                    ],
                ));
            }
            AlertKind::TargetDown | AlertKind::MetricsAbsent => {
                let mut lines = vec![prometheus_env(model)];
                lines.push(format!(
                    "curl -fsSG \"$PROMETHEUS_URL/api/v1/targets\" --data-urlencode state=active | jq {}",
                    shell_word(&format!(
                        ".data.activeTargets[] | select(.labels.job == \"{service}\") | {{instance: .labels.instance, health, lastError}}"
                    ))
                ));
                if kind == AlertKind::MetricsAbsent {
                    let mut lines = vec![
                        prometheus_env(model),
                        "# Is the scrape job in the configuration Prometheus runs?".to_string(),
                        format!(
                            "curl -fsS \"$PROMETHEUS_URL/api/v1/status/config\" | jq -r .data.yaml | grep -n {}",
                            shell_word(&format!("job_name: {service}"))
                        ),
                        format!("# Does {service} export {req}? Ask it directly"),
                    ];
                    let port = http.port;
                    if let Some(k) = &model.platforms.kubernetes {
                        lines.push(format!(
                            "kubectl -n {} port-forward deployment/{} {port}:{port} &",
                            shell_word(&k.namespace),
                            shell_word(service)
                        ));
                    }
                    lines.push(format!(
                        "curl -fsS {} | grep -c {}",
                        shell_word(&format!(
                            "http://localhost:{port}{}",
                            http.endpoints.metrics
                        )),
                        shell_word(&format!("^{req}"))
                    ));
                    steps.push(Step {
                        title: format!("Find which series is missing for {service}"),
                        text: "No job in the running configuration: the generated prometheus.yml was not deployed, or Prometheus was not reloaded. A job but no request counter: the service exports its metrics under another name (set [service.metrics] requests) or not at all.".into(),
                        command: Some(lines.join("\n")),
                    });
                }
                steps.push(Step {
                    title: format!("Ask Prometheus why it cannot scrape {service}"),
                    text: format!("The target's lastError says whether the connection is refused (the process is down), times out (network, or an overloaded process) or the metrics path {} answers with an error.", http.endpoints.metrics),
                    command: Some(lines.join("\n")),
                });
            }
            AlertKind::CpuHigh | AlertKind::MemoryHigh | AlertKind::ReplicasAtMax => {
                if let Some(k) = &model.platforms.kubernetes {
                    let ns = shell_word(&k.namespace);
                    let svc = shell_word(service);
                    steps.push(Step {
                        title: format!("Look at {service}'s autoscaler and pods"),
                        text: "The HPA's events say whether it is scaling, limited by maxReplicas, or missing metrics; pods Pending mean the cluster has no room; OOMKilled in the last state means the memory limit is too low or the service leaks.".into(),
                        command: Some([
                            format!("kubectl -n {ns} describe hpa {svc}"),
                            format!("kubectl -n {ns} top pods -l app.kubernetes.io/name={svc}"),
                            format!("kubectl -n {ns} get pods -l app.kubernetes.io/name={svc} -o jsonpath='{{range .items[*]}}{{.metadata.name}} {{.status.containerStatuses[0].lastState.terminated.reason}}{{\"\\n\"}}{{end}}'"),
                        ].join("\n")),
                    });
                    steps.push(Step {
                        title: "Add capacity".into(),
                        text: "To raise the ceiling now, patch the HPA; then make the same change in hardening.toml ([service.autoscaling] max_replicas, or resources) and regenerate, or the next deploy reverts it.".into(),
                        command: Some(format!(
                            "kubectl -n {ns} patch hpa {svc} --type merge -p '{{\"spec\":{{\"maxReplicas\":NEW_MAX}}}}'"
                        )),
                    });
                }
            }
            AlertKind::RegionDown => {
                let mut lines = vec![prometheus_env(model)];
                lines.push(query_command(&format!(
                    "sum by (region, instance) (up{{{job}}})"
                )));
                steps.push(Step {
                    title: format!("Confirm which region of {service} is down"),
                    text: "Then move traffic away from it: take the region's records out of DNS (or let health-checked failover do it) and check that the remaining regions have the capacity.".into(),
                    command: Some(lines.join("\n")),
                });
            }
        }
        // The saturation alerts read cAdvisor and kube-state-metrics series:
        // they can only fire on Kubernetes.
        let saturation = matches!(
            kind,
            AlertKind::CpuHigh | AlertKind::MemoryHigh | AlertKind::ReplicasAtMax
        );
        let logs = !matches!(kind, AlertKind::ReplicasAtMax);
        let lines = inspect(model, service, logs, saturation, true);
        if !lines.is_empty() {
            steps.push(Step {
                title: format!("Look at {service} where it runs"),
                text: "Crash loops, restarts, failed health checks and the latest deployment."
                    .into(),
                command: Some(lines.join("\n")),
            });
        }
        if matches!(
            kind,
            AlertKind::SloBurnPage
                | AlertKind::SloBurnTicket
                | AlertKind::ErrorRate5xx
                | AlertKind::ErrorRate4xx
                | AlertKind::Latency
                | AlertKind::TargetDown
        ) && let Some(step) = rollback(model, service)
        {
            steps.push(step);
        }
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

/// `redis-cli` inside the cache's container on each platform the spec
/// enables, running `args`; the password is read where the platform puts it.
fn redis_cli(model: &Model, service: &str, args: &str) -> Vec<String> {
    let svc = shell_word(service);
    let redis = model
        .services
        .iter()
        .find(|s| s.name == service)
        .and_then(|s| s.redis());
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

fn cache_steps(model: &Model, kind: CacheAlertKind, entries: &[AlertEntry<'_>]) -> Vec<Step> {
    let mut steps = Vec::new();
    for e in entries {
        let service = e.about.service.as_str();
        let (title, text, args) = match kind {
            CacheAlertKind::Down => (
                format!("Is {service} up?"),
                "PONG means Redis answers and the exporter (or the network to it) is at fault; no answer means Redis itself is down: look at its restarts and last exit reason (OOMKilled means the container's memory limit is below what Redis uses).",
                "ping",
            ),
            CacheAlertKind::MemoryHigh => (
                format!("What fills {service}?"),
                "used_memory against maxmemory, the fragmentation ratio, and the biggest keys. Keys without a TTL that should have one are the usual cause; raise maxmemory in hardening.toml (with the memory limit) only once the growth is understood.",
                "info memory",
            ),
            CacheAlertKind::TooManyClients | CacheAlertKind::RejectedConnections => (
                format!("Who holds {service}'s connections?"),
                "Count connections by client address: one address with hundreds of connections is a leak or an oversized pool in that process.",
                "client list",
            ),
        };
        let mut lines = redis_cli(model, service, args);
        if kind == CacheAlertKind::MemoryHigh {
            lines.extend(redis_cli(model, service, "--bigkeys"));
        }
        if !lines.is_empty() {
            steps.push(Step {
                title,
                text: text.to_string(),
                command: Some(lines.join("\n")),
            });
        }
        if model.platforms.digitalocean.is_some() {
            steps.push(Step {
                title: format!("{service} on DigitalOcean"),
                text: "There the cache is a managed Valkey cluster, which Prometheus does not scrape: its metrics and alerts are in the DigitalOcean control panel (Databases → the cluster → Insights).".into(),
                command: Some("doctl databases list --format ID,Name,Engine,Status,Size".into()),
            });
        }
        let lines = inspect(model, service, true, false, false);
        if !lines.is_empty() {
            steps.push(Step {
                title: format!("Look at {service} where it runs"),
                text: "Restarts, the last exit reason, and the log.".into(),
                command: Some(lines.join("\n")),
            });
        }
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

fn backup_steps(model: &Model, entries: &[AlertEntry<'_>]) -> Vec<Step> {
    let mut steps = Vec::new();
    for e in entries {
        let db = e.about.service.as_str();
        let Some(backup) = model
            .services
            .iter()
            .find(|s| s.name == db)
            .and_then(|s| s.backup())
        else {
            continue;
        };
        let job = format!("{db}-backup");
        let mut logs = vec![prometheus_env(model)];
        logs.push(format!("# When the job last failed, for {db}"));
        logs.push(query_command(&format!(
            "{}{{database=\"{db}\"}}",
            crate::model::backup_metrics::LAST_FAILURE
        )));
        let mut rerun = Vec::new();
        if let Some(k) = &model.platforms.kubernetes {
            let ns = shell_word(&k.namespace);
            logs.push("# Kubernetes: the CronJob, its recent Jobs, and the last one's log".into());
            logs.push(format!("kubectl -n {ns} get cronjob/{}", shell_word(&job)));
            logs.push(format!(
                "kubectl -n {ns} get jobs --sort-by=.metadata.creationTimestamp | grep {} | tail -n 5",
                shell_word(&job)
            ));
            logs.push(format!(
                "kubectl -n {ns} logs job/\"$(kubectl -n {ns} get jobs --sort-by=.metadata.creationTimestamp -o name | grep {} | tail -n 1 | cut -d/ -f2)\"",
                shell_word(&job)
            ));
            rerun.push("# Kubernetes: a Job from the CronJob, now".into());
            rerun.push(format!(
                "kubectl -n {ns} create job --from=cronjob/{} \"{job}-manual-$(date +%s)\"",
                shell_word(&job)
            ));
        }
        if model.platforms.compose.is_some() {
            logs.push("# Docker Compose".into());
            logs.push(format!(
                "docker compose logs --since 48h {} | tail -n 100",
                shell_word(&job)
            ));
            rerun.push("# Docker Compose: one run in the backup container".into());
            rerun.push(format!(
                "docker compose exec {} bash /opt/harden/backup.sh {}",
                shell_word(&job),
                shell_word(db)
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
                "doctl apps logs \"$APP_ID\" {} --type run --tail 200",
                shell_word(&job)
            ));
        }
        steps.push(Step {
            title: format!("Find why {db}'s backup did not succeed"),
            text: format!(
                "The job's log says which step failed: the connection to the database (credentials, network), pg_dump itself, the check of the dump, or the upload to {}. A job that succeeds but never reaches the Pushgateway (PUSHGATEWAY_URL) looks the same to this alert.",
                backup.destination.as_str()
            ),
            command: Some(logs.join("\n")),
        });
        if !rerun.is_empty() {
            steps.push(Step {
                title: format!("Back {db} up now"),
                text: "Once the cause is fixed, take a backup rather than waiting for the next scheduled one; the alert clears when its success reaches Prometheus.".into(),
                command: Some(rerun.join("\n")),
            });
        }
        steps.push(Step {
            title: format!("Prove the latest dump of {db} restores"),
            text: format!(
                "A dump that exists is not a backup until it restores: the drill restores the latest one into a scratch database and runs its sanity query. It reads the same PG* variables and destination ({}) as the backup job.",
                backup.destination.as_str()
            ),
            command: Some(format!("scripts/restore-drill.sh {}", shell_word(db))),
        });
    }
    steps
}

fn silence(model: &Model, name: &str, entries: &[AlertEntry<'_>]) -> Vec<Step> {
    let mut steps = Vec::new();
    let env = format!(
        "ALERTMANAGER_URL=${{ALERTMANAGER_URL:-{}}}",
        alertmanager_default(model)
    );
    let mut reach = Vec::new();
    if let Some(k) = &model.platforms.kubernetes {
        reach.push(format!(
            "# Kubernetes: kubectl -n {} port-forward svc/alertmanager {}:{}",
            shell_word(&k.namespace),
            model.monitoring.alertmanager_port,
            model.monitoring.alertmanager_port
        ));
    }
    for e in entries {
        let mut lines = vec![env.clone()];
        lines.extend(reach.iter().cloned());
        lines.push(format!(
            "amtool silence add --alertmanager.url=\"$ALERTMANAGER_URL\" --author=\"$USER\" --duration=2h --comment={} {} {}",
            shell_word("Investigating; see the runbook"),
            shell_word(&format!("alertname={name}")),
            shell_word(&format!("service={}", e.about.service)),
        ));
        lines.push("amtool silence query --alertmanager.url=\"$ALERTMANAGER_URL\"".into());
        lines.push("# Lift it when done: amtool silence expire --alertmanager.url=\"$ALERTMANAGER_URL\" SILENCE_ID".into());
        steps.push(Step {
            title: e.about.service.clone(),
            text: String::new(),
            command: Some(lines.join("\n")),
        });
    }
    steps
}

fn escalation(model: &Model, entries: &[AlertEntry<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for e in entries {
        let receivers = model.alerting.receivers_for(
            e.about.severity,
            Some(&e.about.service),
            e.about.team.as_deref(),
        );
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
        let team = e
            .about
            .team
            .as_deref()
            .map(|t| format!(", owned by team {t}"))
            .unwrap_or_default();
        out.push(if reached.is_empty() {
            format!(
                "{}{team}: severity {} reaches no receiver; Alertmanager has none configured.",
                e.about.service,
                severity_name(e.about.severity)
            )
        } else {
            format!(
                "{}{team}: severity {} goes to {}.",
                e.about.service,
                severity_name(e.about.severity),
                reached.join(", ")
            )
        });
    }
    out
}

/// Sets `APP_ID` to the id of the App Platform app named `name`.
pub fn app_id(name: &str) -> String {
    format!(
        "APP_ID=$(doctl apps list --format ID,Spec.Name --no-header | awk -v n={} '$2 == n {{print $1}}')",
        shell_word(name)
    )
}
