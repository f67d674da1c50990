//! `harden check` of the k6 load test.

use super::{DURATION, FAILED, SCRIPT, error_condition, latency_condition};
use crate::check::Check;
use crate::check::plural;
use crate::check::tree::{S, Tree};
use crate::model::{Model, Service};

/// The load test's thresholds are the service's SLO.
pub(crate) fn slo_load_test(model: &Model, service: &Service, tree: &Tree<'_>) -> Check {
    let name = format!("SLO of {} is a load-test threshold", service.name);
    if service.http().is_none_or(|h| h.slos.is_empty()) {
        return Check::skip(S, name, "no [[service.slo]]", "");
    }
    let lt = match &model.load_test {
        None => {
            return Check::skip(
                S,
                name,
                "the spec has no [load_test]",
                "add a [load_test] for the service to test its SLO under load",
            );
        }
        Some(lt) if lt.service != service.name => {
            return Check::skip(
                S,
                name,
                format!("the load test is of {}", lt.service),
                "one load test per spec: its thresholds are its service's SLO",
            );
        }
        Some(lt) => lt,
    };
    let script = match tree.text(SCRIPT) {
        Ok(t) => t,
        Err(e) => return Check::fail(S, name, e, tree.fix()),
    };
    let line_of = |metric: &str| {
        script
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(&format!("\"{metric}\":")))
            .unwrap_or("")
            .to_string()
    };
    // Each gate, the objective it must equal, in words.
    let gates = &lt.gates;
    let mut wanted: Vec<(&str, String, String)> = gates
        .latency
        .iter()
        .map(|g| {
            (
                DURATION,
                latency_condition(g),
                format!(
                    "the p{} objective of {}ms",
                    g.percentile,
                    g.threshold.as_millis()
                ),
            )
        })
        .collect();
    if let Some(g) = &gates.errors {
        wanted.push((FAILED, error_condition(g), g.source.to_string()));
    }
    if wanted.is_empty() {
        return Check::skip(
            S,
            name,
            "no latency or availability objective to test under load",
            "",
        );
    }
    let mut problems = Vec::new();
    for (metric, condition, objective) in &wanted {
        let line = line_of(metric);
        if !line.contains(&format!("\"{condition}\"")) {
            problems.push(format!(
                "{SCRIPT} should gate {metric} at {condition} ({objective}); it has {}",
                if line.is_empty() {
                    "no such threshold"
                } else {
                    line.as_str()
                }
            ));
        }
    }
    Check::from_problems(
        S,
        name,
        format!(
            "{SCRIPT} thresholds equal the objectives: {}",
            wanted
                .iter()
                .map(|(m, c, o)| format!("{m} {c} ({o})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        problems,
        tree.fix(),
    )
}

/// The k6 script runs the spec's users over the spec's stages.
pub(crate) fn load_test(model: &Model, tree: &Tree<'_>) -> Option<Check> {
    let lt = model.load_test.as_ref()?;
    let name = format!(
        "Load test is configured for {} concurrent users",
        lt.concurrent_users
    );
    let script = match tree.text(SCRIPT) {
        Ok(t) => t,
        Err(e) => return Some(Check::fail(S, name, e, tree.fix())),
    };
    let mut problems = Vec::new();
    // `stages(N)` per scenario: the users at peak.
    let users: u64 = script
        .match_indices("stages(")
        .filter_map(|(i, m)| {
            let rest = &script[i + m.len()..];
            rest[..rest.find(')')?].trim().parse::<u64>().ok()
        })
        .sum();
    if users != u64::from(lt.concurrent_users) {
        problems.push(format!(
            "the scenarios of {SCRIPT} ramp to {users} users in all, the spec says {}",
            lt.concurrent_users
        ));
    }
    let stages = format!(
        "{{ rampUp: \"{}\", hold: \"{}\", rampDown: \"{}\" }}",
        lt.ramp_up, lt.hold, lt.ramp_down
    );
    if !script.contains(&stages) {
        problems.push(format!(
            "{SCRIPT} does not ramp up over {}, hold {} and ramp down over {}",
            lt.ramp_up, lt.hold, lt.ramp_down
        ));
    }
    let service = format!("const SERVICE = \"{}\";", lt.service);
    if !script.contains(&service) {
        problems.push(format!("{SCRIPT} does not test {}", lt.service));
    }
    Some(Check::from_problems(
        S,
        name,
        format!(
            "{SCRIPT}: {users} users over {} scenario{}, ramp up {}, hold {}, ramp down {}",
            lt.scenarios.len(),
            plural(lt.scenarios.len()),
            lt.ramp_up,
            lt.hold,
            lt.ramp_down
        ),
        problems,
        tree.fix(),
    ))
}
