//! What an HTTP service's alert means, and the first steps on each
//! platform the spec turns on: look, roll back, scale.

use super::super::catalog::AlertEntry;
use super::super::commands::{PORT, SVC, app_id, prometheus_env, query_command, word};
use super::merge::{Draft, Var, draft};
use super::{http_of, slo_of};
use crate::engine::escape::shell_word;
use crate::model::{AlertKind, Model};
use crate::targets::{compose, scripts};

pub(super) fn http_meaning(
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
    let slo_of = |e: &AlertEntry<'_>| slo_of(model, e);
    let fires = agreed(&|e| Some(e.about.threshold.clone())).map_or_else(
        || "Each service's threshold is in the table below.".to_string(),
        |t| format!("It fires when bad events are {t}."),
    );
    let budget = agreed(&|e| {
        let slo = slo_of(e)?;
        Some(format!(
            "The objective is {} of {} over {}: an error budget of {} of events.",
            slo.objective,
            slo.good_events(),
            slo.window,
            crate::vocab::percent(slo.error_budget())
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
            .tiers(tier)
            .filter(|b| b.factor.digits() > 0)
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
            "The SLOs have different objectives, so their budgets last different times at these burn rates: {consequence}"
        ),
    };
    let budget = budget.clone().unwrap_or_default();
    let (meaning, impact): (&str, String) = match kind {
        AlertKind::SloBurnPage => (
            "An SLO of the service (its `slo` label) is failing events fast enough to spend a large share of its error budget within hours: failed requests (5xx) for an availability SLO, requests slower than the threshold for a latency SLO, the bad events of an events SLO. The bad ratio is above the page tier's threshold over both a long and a short window, so the problem is real and still happening.",
            format!("{} {fires}", burn("users are seeing failures now, and the objective is lost within days unless the burn stops. This is the alert the SLO exists for: act at once.")),
        ),
        AlertKind::SloBurnTicket => (
            "An SLO of the service (its `slo` label) is spending its error budget faster than the objective allows, slowly: the bad ratio has stayed above the ticket tier's threshold over both windows for hours. While the page tier of the same SLO fires, Alertmanager holds this alert back (inhibition).",
            format!("{} {fires}", burn("left alone, it is gone by the end of the window and the objective is missed. Not an emergency: handle it within working hours, and hold risky changes until the burn stops.")),
        ),
        AlertKind::BudgetExhausted => (
            "An SLO of the service (its `slo` label) has spent its whole error budget over the window: the objective is missed for now, and stays missed until the bad events age out of the window.",
            format!("{budget} Every further bad event breaks the objective more. Freeze risky changes (release only fixes) and spend the time on reliability until the budget is positive again."),
        ),
        AlertKind::ErrorRate5xx => (
            "More than the threshold of requests returned a 5xx status over the last 5 minutes. A warning unless the spec makes it critical: five minutes of errors is a blip the SLO's budget absorbs, and the SLO's page tier (SLOErrorBudgetBurnPage) is what pages when the errors threaten the objective. While that page fires, Alertmanager holds this alert back (inhibition): one incident, one notification.",
            format!("Server errors are failed requests for users and spend the error budget. {budget}"),
        ),
        AlertKind::ErrorRate4xx => (
            "More than the threshold of requests returned a 4xx status over the last 5 minutes.",
            "4xx are the clients' errors, but a jump usually has a server-side cause: a deploy that changed an API contract or validation, broken authentication (401/403), a missing route (404), or a client release or bot hammering an endpoint. It does not count against the availability objective.".to_string(),
        ),
        AlertKind::TargetDown => (
            "Prometheus cannot scrape one of the service's targets: the process is down, restarting, or unreachable from Prometheus.",
            "A down target serves no traffic; with every target down the service is down. It also blinds every other alert of the service, which read its metrics.".to_string(),
        ),
        AlertKind::MetricsAbsent => (
            "Prometheus scrapes no target of the service (no up series for its job); or a target is up yet exports no request counter of the name harden's rules use while the service serves traffic; or every target is up and none has exported it for a day. It does not fire while a target is down (TargetDown does), nor for a replica that has served no request yet while the service is idle: many client libraries create a labelled counter at its first request. A replica that is up but kept out of the load balancer (not ready) for as long as the alert waits receives no traffic and fires too.",
            "Every other alert of the service reads these series: while they are absent, no SLO, error-rate or latency alert can fire. The service may be fine; monitoring is not.".to_string(),
        ),
        AlertKind::CpuHigh | AlertKind::MemoryHigh => (
            "The service's autoscaler runs its maximum number of replicas and the pods still use at least the alert threshold of their requested resource (the autoscaling target unless the spec sets cpu_alert_percent or memory_alert_percent higher), for a sustained period. Use over the target below the maximum is not an alert: that is the autoscaler adding pods.",
            "The autoscaler has no pods left to add, so the load stays on pods past their target: they serve slower (CPU throttling) or are killed and restarted (memory past its limit is an OOM kill). Raise max_replicas or the requests, or find what made each pod more expensive.".to_string(),
        ),
        AlertKind::ReplicasAtMax => (
            "The service's HorizontalPodAutoscaler runs its maximum number of replicas: it cannot add capacity.",
            "Any further load growth lands on pods already at their target: latency and errors follow. HighCPUUsage or HighMemoryUsage firing too means the pods are past their target already. The limit may be right (a cost cap) or stale (traffic has grown).".to_string(),
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
pub(super) fn inspect(
    model: &Model,
    logs: bool,
    kubernetes_only: bool,
    app_component: bool,
) -> Vec<String> {
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

pub(super) fn rollback(model: &Model) -> Option<Draft> {
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

pub(super) fn http_steps(model: &Model, kind: AlertKind, service: &str) -> Vec<Draft> {
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
        AlertKind::SloBurnPage
        | AlertKind::SloBurnTicket
        | AlertKind::BudgetExhausted
        | AlertKind::ErrorRate5xx => {
            steps.push(query(
                "Find where the errors come from",
                "Break the 5xx rate down by instance and by status: one bad instance points at a node or a pod; every instance at once points at a deploy or a dependency (the database). The budget left of each SLO (its `slo` label) says how much room there is.",
                &[
                    format!("sum by (instance, {status}) (rate({req}{{{job},{status}=~\"5..\"}}[5m]))"),
                    format!("{}{{service=\"{SVC}\"}}", crate::model::record::BUDGET_REMAINING),
                ],
            ));
            if kind != AlertKind::ErrorRate5xx {
                steps.push(query(
                    "For a latency SLO: is the service saturated?",
                    "Slow responses are failures to users even when they succeed: timeouts upstream, retries, users who give up. Compare the request rate with last week, and the throughput per instance: latency with flat traffic points at a slow dependency (database, network); latency with rising traffic at capacity.",
                    &[
                        format!("sum(rate({req}{{{job}}}[5m]))"),
                        format!("sum(rate({req}{{{job}}}[5m] offset 1w))"),
                        format!("sum by (instance) (rate({req}{{{job}}}[5m]))"),
                    ],
                ));
            }
        }
        AlertKind::ErrorRate4xx => {
            steps.push(query(
                "Which 4xx, and since when",
                "401/403 after a deploy: authentication or a secret (such as a rotated signing key). 404: a route removed or renamed. 429: rate limiting. 400/422: a validation change or a client sending a new payload.",
                &[format!("sum by ({status}) (rate({req}{{{job},{status}=~\"4..\"}}[5m]))")],
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
            | AlertKind::TargetDown
    ) && let Some(step) = rollback(model)
    {
        steps.push(step);
    }
    steps
}
