//! `OPERATIONS.md`: the weekly, monthly and quarterly procedures for this
//! spec, each with the exact commands for the platforms it enables. Only
//! what the spec has is listed: no restore drill without a backed-up
//! database, no failover drill with one region, no load test without one.

use std::collections::BTreeMap;

use serde::Serialize;

use super::catalog::{self, RuleFile};
use super::commands::{Step, alertmanager_default, app_id, prometheus_default, query_command};
use crate::engine::escape::shell_word;
use crate::engine::{EmitError, Emitter};
use crate::model::{Model, Scaling, Severity, record};
use crate::output::FileMode;
use crate::targets::{alertmanager, loadtest, scripts};
use crate::vocab::{OVERVIEW_UID, dashboard_url};

pub const PATH: &str = "OPERATIONS.md";

#[derive(Serialize)]
struct Context {
    project: String,
    environment: String,
    setup: String,
    sections: Vec<Section>,
    runbooks: Vec<RunbookLink>,
}

#[derive(Serialize)]
struct Section {
    title: String,
    intro: String,
    steps: Vec<Step>,
}

/// The runbooks of the alerts one set of services has.
#[derive(Serialize)]
struct RunbookLink {
    services: String,
    alerts: Vec<Link>,
}

#[derive(Serialize)]
struct Link {
    alert: String,
    path: String,
}

pub fn emit(model: &Model, files: &[RuleFile], out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let context = Context {
        project: model.project.name.clone(),
        environment: model.project.environment.clone(),
        setup: setup(model),
        sections: vec![
            weekly(model),
            monthly(model, files),
            quarterly(model, files),
        ],
        runbooks: runbook_links(files),
    };
    out.render(
        PATH,
        "runbooks/OPERATIONS.md.j2",
        &context,
        FileMode::Regular,
    )
}

fn setup(model: &Model) -> String {
    let mut lines = vec![
        format!(
            "export PROMETHEUS_URL=${{PROMETHEUS_URL:-{}}}",
            prometheus_default(model)
        ),
        format!(
            "export ALERTMANAGER_URL=${{ALERTMANAGER_URL:-{}}}",
            alertmanager_default(model)
        ),
    ];
    if let Some(forward) = crate::targets::kubernetes::alertmanager_port_forward(model) {
        lines.push(format!(
            "# Kubernetes runs Alertmanager in the cluster; reach it with:\n{forward} &"
        ));
    }
    lines.join("\n")
}

fn http_names(model: &Model) -> Vec<&str> {
    model
        .services
        .iter()
        .filter(|s| s.http().is_some())
        .map(|s| s.name.as_str())
        .collect()
}

fn weekly(model: &Model) -> Section {
    let mut steps = Vec::new();
    let grafana = &model.monitoring.grafana_url;
    let mut text = format!(
        "Open the overview ({}) and each service's dashboard for the past 7 days.",
        dashboard_url(grafana, OVERVIEW_UID)
    );
    // Services whose dashboards have the same rows are listed together.
    let mut groups: Vec<(Vec<&str>, Vec<String>)> = Vec::new();
    for service in &model.services {
        let Some(http) = service.http() else { continue };
        let mut rows = Vec::new();
        if !http.slos.is_empty() {
            rows.push("one row per SLO (objective, error budget remaining, burn rate)");
        }
        rows.push("Traffic and errors (request rate, 5xx and 4xx ratios)");
        rows.push("Latency (p50, p95, p99 and each latency SLO's threshold)");
        if matches!(http.scaling, Scaling::Auto(_)) {
            rows.push("Saturation (CPU and memory of request, replicas against the maximum)");
        }
        rows.push("Health (targets up, firing alerts)");
        if !http.business_metrics.is_empty() {
            rows.push("Business");
        }
        let link = format!(
            "{} ({})",
            service.name,
            dashboard_url(grafana, &service.dashboard_uid())
        );
        match groups.iter_mut().find(|(r, _)| *r == rows) {
            Some((_, links)) => links.push(link),
            None => groups.push((rows, vec![link])),
        }
    }
    for (rows, links) in groups {
        text.push_str(&format!(" {}: {}.", links.join(", "), rows.join("; ")));
    }
    text.push_str(" Look for trends, not incidents: error ratios creeping up, latency growing with traffic, replicas nearing their maximum, budget spent faster than the window passes.");
    steps.push(Step {
        title: "Review the dashboards".into(),
        text,
        command: None,
    });
    let has_budget = model
        .services
        .iter()
        .any(|s| s.http().is_some_and(|h| !h.slos.is_empty()));
    if has_budget {
        steps.push(Step {
            title: "Check the error budget left".into(),
            text: "With less than a quarter of the budget left, hold risky changes and spend the time on reliability until the window recovers; with the budget spent, release only fixes.".into(),
            command: Some(format!(
                "# Each SLO's budget left, lowest first: 1 is untouched, 0 is spent, below 0 overspent\ncurl -fsSG \"$PROMETHEUS_URL/api/v1/query\" --data-urlencode {} | jq -r '.data.result[] | \"\\(.metric.service)\\t\\(.metric.slo)\\t\\(.value[1])\"'",
                shell_word(&format!("query=sort({})", record::BUDGET_REMAINING))
            )),
        });
    }
    steps.push(Step {
        title: "Review what fired".into(),
        text: "Every alert that fired should have led to an action; an alert nobody acted on is noise to fix in the spec (its threshold or severity), and a silence still active is a problem someone forgot.".into(),
        command: Some(
            [
                query_command("count by (alertname, service, severity) (max_over_time(ALERTS{alertstate=\"firing\"}[7d]))"),
                "amtool silence query --alertmanager.url=\"$ALERTMANAGER_URL\"".to_string(),
            ]
            .join("\n"),
        ),
    });
    steps.push(Step {
        title: "Check the running system against the spec".into(),
        text: "The static checks and the live ones: every service healthy, every target scraped, every rule loaded, every alert routed, every dashboard provisioned.".into(),
        command: Some(format!(
            "harden check hardening.toml --live --prometheus \"$PROMETHEUS_URL\" --alertmanager \"$ALERTMANAGER_URL\" --grafana {}",
            shell_word(grafana)
        )),
    });
    Section {
        title: "Weekly".into(),
        intro: format!(
            "About 30 minutes, by whoever is on call for {}.",
            http_names(model).join(", ")
        ),
        steps,
    }
}

fn monthly(model: &Model, files: &[RuleFile]) -> Section {
    let mut steps = Vec::new();
    let backed_up: Vec<&str> = model
        .services
        .iter()
        .filter(|s| s.backup().is_some())
        .map(|s| s.name.as_str())
        .collect();
    if !backed_up.is_empty() {
        let mut lines = vec![
            "# With the database's PG* connection variables (and the AWS_* ones for an s3:// destination) set:".to_string(),
        ];
        lines.extend(
            backed_up
                .iter()
                .map(|db| format!("{} {}", scripts::RESTORE_DRILL, shell_word(db))),
        );
        steps.push(Step {
            title: "Verify the backups restore".into(),
            text: format!(
                "A backup is only as good as its last restore. The drill restores the latest backup of {} into a scratch database, runs its sanity query and drops the scratch database; exit 0 is a pass, and the result is pushed as a metric the overview dashboard shows. A failure is an incident, not a chore.",
                backed_up.join(", ")
            ),
            command: Some(lines.join("\n")),
        });
    }
    let mut lines = vec![
        "# The rules still fire as their tests expect".to_string(),
        format!("promtool test rules {}", super::tests_path("*")),
        "# Where each severity is routed, offline".to_string(),
    ];
    let mut fire = Vec::new();
    for severity in [Severity::Critical, Severity::Warning] {
        let Some(entry) = catalog::alerts(files)
            .into_iter()
            .find(|e| e.about.severity == severity)
        else {
            continue;
        };
        let mut labels = vec![
            format!("severity={}", severity.as_str()),
            format!("service={}", entry.about.service),
        ];
        if let Some(team) = &entry.about.team {
            labels.push(format!("team={team}"));
        }
        let words: Vec<String> = labels.iter().map(|l| shell_word(l)).collect();
        lines.push(format!(
            "amtool config routes test --config.file={} {}",
            alertmanager::PATH,
            words.join(" ")
        ));
        fire.push(format!(
            "amtool alert add --alertmanager.url=\"$ALERTMANAGER_URL\" alertname=HardenTestFire {} --annotation=summary={} --end=\"$(date -u -d '+10 minutes' +%Y-%m-%dT%H:%M:%SZ)\"",
            words.join(" "),
            shell_word(&format!(
                "Monthly test fire ({} route): acknowledge and resolve",
                severity.as_str()
            ))
        ));
    }
    lines.push("# A synthetic alert down each route: every receiver must get it".into());
    lines.extend(fire);
    steps.push(Step {
        title: "Test-fire the alerts".into(),
        text: "Paging that silently broke (an expired webhook, a rotated key) is found here, not during an incident. Each receiver should get the test alert within the group wait; the alert ends itself after 10 minutes.".into(),
        command: Some(lines.join("\n")),
    });
    steps.push(Step {
        title: "Look for drift".into(),
        text: "Files edited by hand, or a spec changed without regenerating: either regenerate, or move the edit into the spec.".into(),
        command: Some("harden diff hardening.toml".into()),
    });
    Section {
        title: "Monthly".into(),
        intro: "About an hour; record the results where the team keeps its operations log.".into(),
        steps,
    }
}

fn quarterly(model: &Model, files: &[RuleFile]) -> Section {
    let mut steps = Vec::new();
    if model.project.regions.len() >= 2 {
        let primary = &model.project.regions[0];
        let others = model.project.regions[1..].join(", ");
        let mut lines = Vec::new();
        if let Some(k) = &model.platforms.kubernetes {
            // One command for all http services, one to restore each
            // group of services with the same replica count.
            let ns = shell_word(&k.namespace);
            let mut by_replicas: Vec<(u32, Vec<String>)> = Vec::new();
            for service in &model.services {
                let Some(http) = service.http() else { continue };
                let n = http.scaling.min_replicas();
                let name = format!("deployment/{}", shell_word(&service.name));
                match by_replicas.iter_mut().find(|(r, _)| *r == n) {
                    Some((_, names)) => names.push(name),
                    None => by_replicas.push((n, vec![name])),
                }
            }
            if !by_replicas.is_empty() {
                let all: Vec<&str> = by_replicas
                    .iter()
                    .flat_map(|(_, names)| names.iter().map(String::as_str))
                    .collect();
                lines.push(format!(
                    "# Kubernetes: take the services out in {primary} (KUBE_CONTEXT_PRIMARY is that cluster's context)"
                ));
                lines.push(format!(
                    "kubectl --context \"$KUBE_CONTEXT_PRIMARY\" -n {ns} scale {} --replicas=0",
                    all.join(" ")
                ));
                for (n, names) in &by_replicas {
                    lines.push(format!(
                        "# Afterwards: kubectl --context \"$KUBE_CONTEXT_PRIMARY\" -n {ns} scale {} --replicas={n}",
                        names.join(" ")
                    ));
                }
            }
        }
        if let Some(d) = &model.platforms.digitalocean
            && let Some(app) = d.apps.first()
        {
            lines.push(format!(
                "# DigitalOcean: App Platform cannot scale {} to zero; take it out at DNS instead",
                app.name
            ));
            lines.push(
                "# (remove its records, or fail its health check), after noting its ingress:"
                    .into(),
            );
            lines.push(app_id(&app.name));
            lines.push(
                "doctl apps get \"$APP_ID\" --format ID,DefaultIngress,ActiveDeployment.ID".into(),
            );
        }
        let region_down = catalog::alerts(files)
            .iter()
            .any(|e| e.name == "RegionDown");
        if region_down {
            lines.push(format!(
                "# During the drill: RegionDown must fire for {primary} while the other regions serve"
            ));
            lines.push(query_command("sum by (region) (up)"));
            lines.push(
                "amtool alert query --alertmanager.url=\"$ALERTMANAGER_URL\" alertname=RegionDown"
                    .into(),
            );
        } else if super::global_region_down(model) {
            lines.push(format!(
                "# RegionDown is evaluated by the remote-write store's ruler ({}): check it fires there for the lost region",
                super::rules::global_rules_path()
            ));
            lines.push("# Each region's Prometheus sees only its own replicas: watch TargetDown there meanwhile".into());
        } else {
            lines.push("# No RegionDown alert is generated: each region's Prometheus discovers only its own replicas.".into());
            lines.push("# Watch TargetDown in the primary's Prometheus and the error ratio in the other regions' instead".into());
        }
        if let Some(lt) = &model.load_test
            && let Some((_, url)) = lt.environments.iter().find(|(n, _)| n == "production")
        {
            lines.push(format!(
                "curl -fsS -o /dev/null -w '%{{http_code}}\\n' {}",
                shell_word(url)
            ));
        }
        steps.push(Step {
            title: format!("Fail over from {primary}"),
            text: format!(
                "In a planned window, take the primary region {primary} out and confirm users are served from {others}: the alerts fire and page, DNS health checks move traffic within their TTL, and the remaining regions carry the load. Time each step; the total is your real recovery time. Then bring {primary} back and confirm traffic returns."
            ),
            command: Some(lines.join("\n")),
        });
    }
    if let Some(lt) = &model.load_test {
        let staging = lt
            .environments
            .iter()
            .find(|(n, _)| n == "staging")
            .or(lt.environments.first())
            .map(|(n, _)| n.as_str())
            .unwrap_or("staging");
        steps.push(Step {
            title: "Load test at full size".into(),
            text: format!(
                "{} concurrent users against {staging}, judged against {}'s objectives: the capacity the autoscaling limits promise must still be there after a quarter of changes. Smoke first, so a broken script does not cost the full run.",
                lt.concurrent_users, lt.service
            ),
            command: Some(format!(
                "{runner} --smoke {s}\n{runner} {s}",
                runner = loadtest::RUNNER,
                s = shell_word(staging)
            )),
        });
    }
    steps.push(Step {
        title: "Review the objectives and alerts".into(),
        text: "Do the objectives still match what users need, and did each alert that paged deserve to? Change the spec, not the generated files.".into(),
        command: Some("harden explain hardening.toml".into()),
    });
    Section {
        title: "Quarterly".into(),
        intro: "Half a day, planned ahead and announced: these exercises break things on purpose."
            .into(),
        steps,
    }
}

/// The runbooks, grouped by the services that have their alerts: most
/// alerts are had by the same services, so each name appears once per group.
fn runbook_links(files: &[RuleFile]) -> Vec<RunbookLink> {
    let mut by_alert: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in catalog::alerts(files) {
        by_alert.entry(e.name).or_default().push(&e.about.service);
    }
    let mut out: Vec<RunbookLink> = Vec::new();
    for (alert, services) in by_alert {
        let services = services.join(", ");
        let link = Link {
            alert: alert.to_string(),
            path: catalog::runbook_path(alert),
        };
        match out.iter_mut().find(|r| r.services == services) {
            Some(r) => r.alerts.push(link),
            None => out.push(RunbookLink {
                services,
                alerts: vec![link],
            }),
        }
    }
    out
}
