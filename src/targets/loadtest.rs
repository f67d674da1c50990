//! `testing/load-tests/`: the k6 script (one `ramping-vus` scenario per spec
//! scenario, thresholds from the service's SLOs, a smoke mode) and the
//! runner that picks an environment's base URL and reports pass or fail.

pub(crate) mod check;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{ErrorGate, Gates, LatencyGate, LoadTest, Method, Model};
use crate::output::FileMode;
use crate::units::{Decimal, Duration};

pub const SCRIPT: &str = "testing/load-tests/load-test.js";
pub const RUNNER: &str = "testing/load-tests/run-load-test.sh";

/// The smoke run's shape: one user per scenario for a few seconds, enough
/// to exercise every step and threshold.
const SMOKE: [Duration; 3] = [Duration::secs(1), Duration::secs(3), Duration::secs(1)];

#[derive(Serialize)]
struct Context {
    project: String,
    service: String,
    concurrent_users: u32,
    stages: Stages,
    smoke: Stages,
    scenarios: Vec<ScenarioCx>,
    thresholds: Vec<Threshold>,
    /// k6's `summaryTrendStats`: its defaults and every SLO percentile, so
    /// the summary shows the value each threshold was judged on.
    trend_stats: Vec<String>,
    /// The SLOs in words, for the runner's verdict.
    objectives: Vec<String>,
    environments: Vec<Environment>,
}

/// k6 stage durations.
#[derive(Serialize)]
struct Stages {
    ramp_up: String,
    hold: String,
    ramp_down: String,
}

#[derive(Serialize)]
struct ScenarioCx {
    name: String,
    weight: u32,
    users: u32,
    think_time_ms: u64,
    steps: Vec<StepCx>,
}

#[derive(Serialize)]
struct StepCx {
    name: String,
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
    /// The body as JSON text, for `JSON.parse`, when an object literal
    /// would lose part of it: a `__proto__` key there sets the prototype
    /// instead of making a key, so the request would go without it.
    body_json: Option<String>,
    expect: u16,
}

/// Whether a JSON value has an object key `__proto__` anywhere.
fn has_proto_key(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(k, v)| k == "__proto__" || has_proto_key(v)),
        serde_json::Value::Array(items) => items.iter().any(has_proto_key),
        _ => false,
    }
}

/// One k6 threshold: a metric (maybe with a tag filter) and its conditions.
#[derive(Serialize)]
struct Threshold {
    metric: String,
    conditions: Vec<String>,
}

#[derive(Serialize)]
struct Environment {
    name: String,
    url: String,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(load) = &model.load_test else {
        return Ok(());
    };
    let context = context(model, load);
    out.render(
        SCRIPT,
        "load-tests/load-test.js.j2",
        &context,
        FileMode::Regular,
    )?;
    out.render(
        RUNNER,
        "load-tests/run-load-test.sh.j2",
        &context,
        FileMode::Executable,
    )
}

fn context(model: &Model, load: &LoadTest) -> Context {
    let conditions = conditions(&load.gates);
    let mut thresholds = Vec::new();
    let filters = std::iter::once(String::new()).chain(
        load.scenarios
            .iter()
            .map(|s| format!("{{scenario:{}}}", s.name)),
    );
    for filter in filters {
        for (metric, conds) in &conditions {
            thresholds.push(Threshold {
                metric: format!("{metric}{filter}"),
                conditions: conds.clone(),
            });
        }
    }
    Context {
        project: model.project.name.clone(),
        service: load.service.clone(),
        concurrent_users: load.concurrent_users,
        stages: Stages {
            ramp_up: load.ramp_up.to_string(),
            hold: load.hold.to_string(),
            ramp_down: load.ramp_down.to_string(),
        },
        smoke: Stages {
            ramp_up: SMOKE[0].to_string(),
            hold: SMOKE[1].to_string(),
            ramp_down: SMOKE[2].to_string(),
        },
        scenarios: load
            .scenarios
            .iter()
            .map(|s| ScenarioCx {
                name: s.name.clone(),
                weight: s.weight,
                users: s.users,
                think_time_ms: s.think_time.as_millis(),
                steps: s
                    .steps
                    .iter()
                    .map(|st| StepCx {
                        name: st.name.clone(),
                        method: st.method,
                        path: st.path.clone(),
                        body: st.body.clone(),
                        body_json: st
                            .body
                            .as_ref()
                            .filter(|b| has_proto_key(b))
                            .map(|b| b.to_string()),
                        expect: st.expect,
                    })
                    .collect(),
            })
            .collect(),
        thresholds,
        trend_stats: ["avg", "min", "med", "max", "p(90)", "p(95)"]
            .into_iter()
            .map(String::from)
            .chain(
                load.gates
                    .latency
                    .iter()
                    .map(|l| format!("p({})", l.percentile)),
            )
            .fold(Vec::new(), |mut acc, stat| {
                if !acc.contains(&stat) {
                    acc.push(stat);
                }
                acc
            }),
        objectives: objectives(&load.gates),
        environments: load
            .environments
            .iter()
            .map(|(name, url)| Environment {
                name: name.clone(),
                url: url.clone(),
            })
            .collect(),
    }
}

/// The metric a latency gate applies to (milliseconds).
pub(crate) const DURATION: &str = "http_req_duration";
/// The metric an error gate applies to: the script counts only 5xx and
/// transport errors as failed.
pub(crate) const FAILED: &str = "http_req_failed";
/// Each step's expected status.
pub(crate) const CHECKS: &str = "checks";

/// `p(95)<=500`: at most 5% of requests slower than 500ms, as a latency
/// objective counts them (a request at the threshold is in its `le` bucket).
pub(crate) fn latency_condition(g: &LatencyGate) -> String {
    format!("p({})<={}", g.percentile, g.threshold.as_millis())
}

/// `rate<=0.001`: failed requests no more than the error budget allows.
pub(crate) fn error_condition(g: &ErrorGate) -> String {
    format!("rate<={}", g.max_ratio)
}

/// k6 threshold conditions by metric: every latency gate on
/// `http_req_duration`, the error gate on `http_req_failed`, and the same
/// share as the most checks that may fail.
fn conditions(gates: &Gates) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    let latency: Vec<String> = gates.latency.iter().map(latency_condition).collect();
    if !latency.is_empty() {
        out.push((DURATION, latency));
    }
    if let Some(g) = &gates.errors {
        out.push((FAILED, vec![error_condition(g)]));
        if let Some(pass) = Decimal::ONE.checked_sub(g.max_ratio) {
            out.push((CHECKS, vec![format!("rate>={pass}")]));
        }
    }
    out
}

/// The gates in words, for the runner's verdict.
fn objectives(gates: &Gates) -> Vec<String> {
    let mut out: Vec<String> = gates
        .latency
        .iter()
        .map(|l| {
            format!(
                "p{} latency at most {}ms",
                l.percentile,
                l.threshold.as_millis()
            )
        })
        .collect();
    if let Some(g) = &gates.errors {
        let percent = g
            .max_ratio
            .checked_mul(Decimal::HUNDRED)
            .unwrap_or(g.max_ratio);
        out.push(format!(
            "at most {percent}% of requests failed ({})",
            g.source
        ));
        if let Some(pass) = Decimal::HUNDRED.checked_sub(percent) {
            out.push(format!("at least {pass}% of checks passing"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorGateSource;
    use crate::units::{Duration, Percent};

    #[test]
    fn thresholds_are_the_objectives_in_k6_units() {
        let availability = Percent::parse("99.95%").expect("percent");
        let gates = Gates {
            errors: Some(ErrorGate {
                max_ratio: Decimal::parse("0.0005").expect("decimal"),
                source: ErrorGateSource::Availability(availability),
            }),
            latency: vec![LatencyGate {
                percentile: Decimal::parse("99.9").expect("decimal"),
                threshold: Duration::parse("1s500ms").expect("duration"),
            }],
        };
        assert_eq!(
            conditions(&gates),
            vec![
                ("http_req_duration", vec!["p(99.9)<=1500".to_string()]),
                ("http_req_failed", vec!["rate<=0.0005".to_string()]),
                ("checks", vec!["rate>=0.9995".to_string()]),
            ]
        );
        assert_eq!(
            objectives(&gates),
            [
                "p99.9 latency at most 1500ms",
                "at most 0.05% of requests failed (the error budget of the 99.95% availability objective)",
                "at least 99.95% of checks passing",
            ]
        );
    }
}
