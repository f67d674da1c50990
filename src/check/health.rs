//! A check across platforms: every platform's health checks call the
//! service's endpoints.

use serde_json::Value;

use crate::check::Check;
use crate::check::plural;
use crate::check::tree::{S, Tree, items, strings};
use crate::model::{Model, Service};
use crate::targets::{compose, digitalocean, kubernetes};

/// Every platform's health checks call the service's endpoints: the
/// Kubernetes probes, the Compose health check, App Platform's checks.
pub(crate) fn probes(model: &Model, service: &Service, tree: &Tree<'_>) -> Option<Check> {
    let http = service.http()?;
    let p = &model.platforms;
    if p.kubernetes.is_none() && p.compose.is_none() && p.digitalocean.is_none() {
        return None;
    }
    let name = format!("Health checks of {} use its endpoints", service.name);
    let e = &http.endpoints;
    let mut problems = Vec::new();
    let mut said = Vec::new();
    let expect = |problems: &mut Vec<String>, what: String, found: &Value, wanted: &str| match found
        .as_str()
    {
        Some(f) if f == wanted => {}
        Some(f) => problems.push(format!("{what} is {f}, the spec says {wanted}")),
        None => problems.push(format!("{what} is not set, the spec says {wanted}")),
    };
    if p.kubernetes.is_some() {
        let path = kubernetes::deployment_path(&service.name);
        match tree.parsed(&path) {
            Err(e) => problems.push(e),
            Ok(d) => {
                let containers = items(&d["spec"]["template"]["spec"]["containers"]);
                match containers
                    .iter()
                    .find(|c| c["name"] == service.name.as_str())
                    .or(containers.first())
                {
                    None => problems.push(format!("{path} has no container")),
                    Some(c) => {
                        for (probe, wanted) in [
                            ("livenessProbe", &e.liveness),
                            ("readinessProbe", &e.readiness),
                        ] {
                            expect(
                                &mut problems,
                                format!("{path} {probe} path"),
                                &c[probe]["httpGet"]["path"],
                                wanted,
                            );
                        }
                        said.push("Kubernetes liveness and readiness probes".to_string());
                    }
                }
            }
        }
    }
    if p.compose.is_some() {
        let path = compose::PATH;
        match tree.parsed(path) {
            Err(e) => problems.push(e),
            Ok(d) => {
                // Compose's exec form: `CMD` then the command.
                let test = strings(&d["services"][service.name.as_str()]["healthcheck"]["test"]);
                let found = test.strip_prefix(&["CMD"]).unwrap_or(&test);
                let wanted: Vec<&str> = http.probes.command.iter().map(String::as_str).collect();
                if found != wanted {
                    problems.push(format!(
                        "{path} health check of {} is {found:?}, the spec implies {wanted:?}",
                        service.name
                    ));
                }
                said.push(format!("Compose health check ({})", e.health));
            }
        }
    }
    if let Some(d) = &p.digitalocean {
        for app in &d.apps {
            let path = digitalocean::app_path(d, app);
            match tree.parsed(&path) {
                Err(e) => problems.push(e),
                Ok(spec) => {
                    let s = items(&spec["services"])
                        .iter()
                        .find(|s| s["name"] == service.name.as_str())
                        .cloned()
                        .unwrap_or(Value::Null);
                    expect(
                        &mut problems,
                        format!("{path} health_check path"),
                        &s["health_check"]["http_path"],
                        &e.readiness,
                    );
                    expect(
                        &mut problems,
                        format!("{path} liveness_health_check path"),
                        &s["liveness_health_check"]["http_path"],
                        &e.liveness,
                    );
                }
            }
        }
        said.push(format!(
            "{} App Platform spec{}",
            d.apps.len(),
            plural(d.apps.len())
        ));
    }
    Some(Check::from_problems(
        S,
        name,
        format!(
            "liveness {}, readiness {}, health {}: {}",
            e.liveness,
            e.readiness,
            e.health,
            said.join(", ")
        ),
        problems,
        tree.fix(),
    ))
}
