//! `harden check` of the Kubernetes manifests.

use serde_json::Value;

use super::hpa_path;
use crate::check::Check;
use crate::check::tree::{S, Tree, compare, items};
use crate::model::{Model, Scaling, Service};

/// The HorizontalPodAutoscaler's bounds and targets are the spec's.
pub(crate) fn hpa(model: &Model, service: &Service, tree: &Tree<'_>) -> Option<Check> {
    model.platforms.kubernetes.as_ref()?;
    let Scaling::Auto(auto) = &service.http()?.scaling else {
        return None;
    };
    let path = hpa_path(&service.name);
    let name = format!("HPA thresholds of {} equal the spec", service.name);
    let hpa = match tree.parsed(&path) {
        Ok(v) => v,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let mut problems = Vec::new();
    let spec = &hpa["spec"];
    compare(
        &mut problems,
        format!("{path} minReplicas"),
        &spec["minReplicas"],
        u64::from(auto.min_replicas),
    );
    compare(
        &mut problems,
        format!("{path} maxReplicas"),
        &spec["maxReplicas"],
        u64::from(auto.max_replicas),
    );
    let metric = |resource: &str| {
        items(&spec["metrics"])
            .iter()
            .find(|m| m["resource"]["name"] == resource)
            .map(|m| m["resource"]["target"]["averageUtilization"].clone())
            .unwrap_or(Value::Null)
    };
    let mut said = vec![format!(
        "replicas {}–{}",
        auto.min_replicas, auto.max_replicas
    )];
    for (resource, percent) in [("cpu", auto.cpu_percent), ("memory", auto.memory_percent)] {
        if let Some(p) = percent {
            compare(
                &mut problems,
                format!("{path} {resource} averageUtilization"),
                &metric(resource),
                u64::from(p),
            );
            said.push(format!("{resource} {p}%"));
        }
    }
    Some(Check::from_problems(
        S,
        name,
        format!("{path}: {}", said.join(", ")),
        problems,
        tree.fix(),
    ))
}
