//! `harden check` of `docker-compose.yml`.

use crate::check::Check;
use crate::check::tree::{S, Tree};
use crate::model::Model;

/// Compose runs every Prometheus replica, every Alertmanager member (with
/// receivers, unless the spec names an existing Alertmanager) and Grafana,
/// each with a health check.
pub(crate) fn compose_monitoring(model: &Model, tree: &Tree<'_>) -> Option<Check> {
    model.platforms.compose.as_ref()?;
    let path = super::PATH;
    let name = "Compose runs the monitoring stack with health checks";
    let d = match tree.parsed(path) {
        Ok(d) => d,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let m = &model.monitoring;
    let mut wanted = super::members(super::PROMETHEUS, m.prometheus_replicas);
    if !model.alerting.receivers.is_empty() && m.runs_alertmanager() {
        wanted.extend(super::members(super::ALERTMANAGER, m.alertmanager_replicas));
    }
    wanted.push("grafana".to_string());
    let mut problems = Vec::new();
    for svc in &wanted {
        let s = &d["services"][svc.as_str()];
        if s.is_null() {
            problems.push(format!("{path} has no {svc} service"));
        } else if s["healthcheck"].is_null() {
            problems.push(format!("{path}: {svc} has no health check"));
        }
    }
    Some(Check::from_problems(
        S,
        name,
        format!("{path}: {}, each with a health check", wanted.join(", ")),
        problems,
        tree.fix(),
    ))
}
