//! `testing/load-tests/`: the k6 script (one `ramping-vus` scenario per spec
//! scenario, thresholds from the service's SLOs, a smoke mode) and the
//! runner that picks an environment's base URL and reports pass or fail.

pub(crate) mod check;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::{HttpService, LoadTest, Method, Model};
use crate::output::FileMode;
use crate::units::{Decimal, Duration, Percent};

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
    let http = model.service(&load.service).and_then(|s| s.http());
    let context = context(model, load, http);
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

fn context(model: &Model, load: &LoadTest, http: Option<&HttpService>) -> Context {
    let latency = http.map(|h| h.latency_objectives()).unwrap_or_default();
    let error_rate = http.and_then(|h| h.error_rate_5xx);
    let conditions = conditions(&latency, error_rate);
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
            .chain(latency.iter().map(|(p, _)| format!("p({p})")))
            .fold(Vec::new(), |mut acc, stat| {
                if !acc.contains(&stat) {
                    acc.push(stat);
                }
                acc
            }),
        objectives: objectives(&latency, error_rate),
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

/// k6 threshold conditions for the SLO, by metric: every latency SLO over
/// all requests on `http_req_duration` as the percentile of its objective
/// (milliseconds), the 5xx error rate on `http_req_failed` (the script
/// counts only 5xx and transport errors as failed), and the same rate as
/// the share of failed checks allowed.
fn conditions(
    latency: &[(Decimal, Duration)],
    error_rate: Option<Percent>,
) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    let latency: Vec<String> = latency
        .iter()
        .map(|(p, t)| format!("p({p})<{}", t.as_millis()))
        .collect();
    if !latency.is_empty() {
        out.push(("http_req_duration", latency));
    }
    if let Some(rate) = error_rate {
        let fraction = rate.fraction();
        out.push(("http_req_failed", vec![format!("rate<{fraction}")]));
        if let Some(pass) = Decimal::ONE.checked_sub(fraction) {
            out.push(("checks", vec![format!("rate>{pass}")]));
        }
    }
    out
}

fn objectives(latency: &[(Decimal, Duration)], error_rate: Option<Percent>) -> Vec<String> {
    let mut out: Vec<String> = latency
        .iter()
        .map(|(p, t)| format!("p{p} latency below {}ms", t.as_millis()))
        .collect();
    if let Some(rate) = error_rate {
        out.push(format!("5xx error rate below {rate}"));
        if let Some(pass) = Decimal::HUNDRED.checked_sub(rate.value()) {
            out.push(format!("at least {pass}% of checks passing"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_the_slo_in_k6_units() {
        let got = conditions(
            &[(
                Decimal::parse("99.9").expect("decimal"),
                Duration::parse("1s500ms").expect("duration"),
            )],
            Some(Percent::parse("0.5%").expect("percent")),
        );
        assert_eq!(
            got,
            vec![
                ("http_req_duration", vec!["p(99.9)<1500".to_string()]),
                ("http_req_failed", vec!["rate<0.005".to_string()]),
                ("checks", vec!["rate>0.995".to_string()]),
            ]
        );
    }
}
