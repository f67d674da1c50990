//! The budget gate (`harden check --live --budget`): each SLO's remaining
//! error budget as Prometheus records it (`slo:error_budget:remaining`),
//! failing below the spec's `freeze_below`, so CI can block a deploy.

use super::report::{Check, Kind};
use crate::history::api::Prometheus;
use crate::model::{Model, record};

/// One check per SLO with an error budget.
pub fn gates(model: &Model, prom: &Prometheus) -> Vec<Check> {
    model
        .budget_slos()
        .iter()
        .map(|slo| {
            let freeze = slo.freeze_below;
            let name = format!(
                "{} error budget is above the deploy freeze ({freeze})",
                slo.title()
            );
            let query = format!("{}{{{}}}", record::BUDGET_REMAINING, slo.matchers());
            let answer = prom.instant(&query, None);
            let gate: f64 = freeze.fraction().to_string().parse().unwrap_or(0.0);
            match answer.as_deref() {
                Err(e) => Check::fail(
                    Kind::Live,
                    name,
                    e.clone(),
                    "start Prometheus, or pass --prometheus URL",
                ),
                Ok([]) => Check::fail(
                    Kind::Live,
                    name,
                    format!("Prometheus has no {query}: the budget is unknown"),
                    "load the generated rules into Prometheus (the budget is recorded every 5m) and let it scrape the service",
                ),
                Ok([(_, v), ..]) if v.is_nan() => Check::pass(
                    Kind::Live,
                    name,
                    format!("no requests over the {} window: no budget spent", slo.window),
                ),
                Ok([(_, v), ..]) if *v < gate => Check::fail(
                    Kind::Live,
                    name,
                    format!(
                        "{:.1}% of the {} error budget ({} objective) is left, below the freeze at {freeze}",
                        v * 100.0,
                        slo.window,
                        slo.objective
                    ),
                    "deploys are frozen: fix reliability first (see OPERATIONS.md); the gate is the SLO's freeze_below (in its [[service.slo]] or [defaults.slo])",
                ),
                Ok([(_, v), ..]) => Check::pass(
                    Kind::Live,
                    name,
                    format!(
                        "{:.1}% of the {} error budget ({} objective) is left; the freeze is below {freeze}",
                        v * 100.0,
                        slo.window,
                        slo.objective
                    ),
                ),
            }
        })
        .collect()
}
