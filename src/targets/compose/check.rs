//! `harden check` of `docker-compose.yml`.

use crate::check::Check;
use crate::check::tree::{S, Tree};
use crate::model::Model;

/// Compose runs Prometheus, Alertmanager (with receivers) and Grafana,
/// each with a health check.
pub(crate) fn compose_monitoring(model: &Model, tree: &Tree<'_>) -> Option<Check> {
    model.platforms.compose.as_ref()?;
    let path = super::PATH;
    let name = "Compose runs the monitoring stack with health checks";
    let d = match tree.parsed(path) {
        Ok(d) => d,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let mut wanted = vec!["prometheus", "grafana"];
    if !model.alerting.receivers.is_empty() {
        wanted.insert(1, "alertmanager");
    }
    let mut problems = Vec::new();
    for svc in &wanted {
        let s = &d["services"][*svc];
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
