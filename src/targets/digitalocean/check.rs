//! `harden check` of the App Platform specs.

use serde_json::Value;

use crate::check::Check;
use crate::check::tree::{S, Tree, compare, http_services, items};
use crate::model::{Model, Scaling};

/// Each App Platform spec scales and alerts at the spec's thresholds.
pub(crate) fn digitalocean(model: &Model, tree: &Tree<'_>) -> Vec<Check> {
    let Some(d) = &model.platforms.digitalocean else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for app in &d.apps {
        let path = &super::app_path(d, app);
        let name = format!("DigitalOcean thresholds in {path} equal the spec");
        let spec = match tree.parsed(path) {
            Ok(v) => v,
            Err(e) => {
                out.push(Check::fail(S, name, e, tree.fix()));
                continue;
            }
        };
        let mut problems = Vec::new();
        let mut said = Vec::new();
        for service in http_services(model) {
            let Some(Scaling::Auto(auto)) = service.http().map(|h| &h.scaling) else {
                continue;
            };
            let Some(s) = items(&spec["services"])
                .iter()
                .find(|s| s["name"] == service.name.as_str())
            else {
                problems.push(format!("{path} has no service {}", service.name));
                continue;
            };
            let n = &service.name;
            compare(
                &mut problems,
                format!("{n} min_instance_count"),
                &s["autoscaling"]["min_instance_count"],
                u64::from(auto.min_replicas),
            );
            compare(
                &mut problems,
                format!("{n} max_instance_count"),
                &s["autoscaling"]["max_instance_count"],
                u64::from(auto.max_replicas),
            );
            let alert = |rule: &str| {
                items(&s["alerts"])
                    .iter()
                    .find(|a| a["rule"] == rule)
                    .map(|a| a["value"].clone())
                    .unwrap_or(Value::Null)
            };
            let mut parts = vec![format!(
                "{n} {}–{} instances",
                auto.min_replicas, auto.max_replicas
            )];
            if let Some(p) = auto.cpu_percent {
                compare(
                    &mut problems,
                    format!("{n} autoscaling cpu percent"),
                    &s["autoscaling"]["metrics"]["cpu"]["percent"],
                    u64::from(p),
                );
                compare(
                    &mut problems,
                    format!("{n} CPU_UTILIZATION alert"),
                    &alert("CPU_UTILIZATION"),
                    u64::from(p),
                );
                parts.push(format!("cpu {p}%"));
            }
            if let Some(p) = auto.memory_percent {
                compare(
                    &mut problems,
                    format!("{n} MEM_UTILIZATION alert"),
                    &alert("MEM_UTILIZATION"),
                    u64::from(p),
                );
                parts.push(format!("memory alert {p}%"));
            }
            said.push(parts.join(", "));
        }
        let detail = if said.is_empty() {
            "no autoscaled service".to_string()
        } else {
            said.join("; ")
        };
        out.push(Check::from_problems(
            S,
            name,
            detail,
            problems
                .into_iter()
                .map(|p| format!("{path}: {p}"))
                .collect(),
            tree.fix(),
        ));
    }
    out
}
