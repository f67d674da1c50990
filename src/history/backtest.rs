//! `harden backtest`: every generated alert replayed over the stored
//! history as Prometheus would have evaluated it, and each SLO's error
//! budget over the same days.
//!
//! Each alert's expression, its recording rules inlined ([`super::inline`]),
//! is asked as one range query whose step is the alert's group interval
//! (on multiples of it: Prometheus offsets each group's evaluations by a
//! hash, which moves every time by less than one step); [`firings`] applies
//! `for` exactly as Prometheus's rule manager does: a series present at an
//! evaluation is pending from the first evaluation it appears at, fires at
//! the first evaluation at least `for` later, and resolves at the first
//! evaluation it is absent from.

use std::collections::BTreeMap;

use serde::Serialize;

use super::api::{Labels, Millis, Prometheus};
use super::replay::{AlertRule, Replay};
use crate::model::{Model, record};

/// One stretch of an alert's series being active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Firing {
    /// The first evaluation the expression held at (pending from here).
    pub pending: Millis,
    /// The first evaluation it fired at.
    pub from: Millis,
    /// The first evaluation it no longer held at; `None`: still firing at
    /// the end of the history.
    pub to: Option<Millis>,
    /// It was already active at the first evaluation replayed (it may have
    /// started earlier).
    pub at_start: bool,
}

/// What one alert would have done.
#[derive(Debug, Clone, Serialize)]
pub struct AlertOutcome {
    pub name: String,
    pub file: String,
    /// The rule's labels (`severity`, `service`, `slo`, `tier`, …).
    pub labels: BTreeMap<String, String>,
    pub for_ms: Millis,
    pub interval_ms: Millis,
    /// Firings per series, by the series' own labels (empty for one
    /// unlabelled series).
    pub series: Vec<SeriesOutcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesOutcome {
    pub labels: Labels,
    pub firings: Vec<Firing>,
    /// Times it was pending and cleared before `for` ran out.
    pub pending_only: usize,
}

impl AlertOutcome {
    pub fn fired(&self) -> bool {
        self.series.iter().any(|s| !s.firings.is_empty())
    }
}

/// One SLO's remaining error budget at each evaluation of its rule.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetCurve {
    /// `api/availability`.
    pub slo: String,
    pub service: String,
    pub objective: String,
    pub window: String,
    /// The change freeze as a fraction of the budget (0.25).
    pub freeze_below: f64,
    /// `(time, remaining share)`: 1 is untouched, 0 spent, below 0 overspent.
    pub points: Vec<(Millis, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    pub prometheus: String,
    pub start: Millis,
    pub end: Millis,
    pub alerts: Vec<AlertOutcome>,
    pub budgets: Vec<BudgetCurve>,
}

/// Replays `days` days up to `now`.
pub fn run(model: &Model, prom: &Prometheus, days: u32, now: Millis) -> Result<Backtest, String> {
    if days == 0 {
        return Err("--days 0: replay at least one day".into());
    }
    let start = now - i64::from(days) * super::calendar::ONE_DAY;
    let replay = Replay::of(model)?;
    let inliner = replay.inliner();
    let mut alerts = Vec::new();
    for rule in &replay.alerts {
        let expr = inliner
            .inline(&rule.expr)
            .map_err(|e| format!("alert {} ({}): {e}", rule.name, rule.file))?;
        alerts.push(replay_alert(prom, rule, &expr, start, now)?);
    }
    let mut budgets = Vec::new();
    for slo in model.budget_slos() {
        let labels = slo.labels();
        let name = record::BUDGET_REMAINING;
        let expr = inliner.recorded(name, &labels)?;
        let step = replay
            .interval_of(name, &labels)
            .map_or(60_000, |d| d.as_millis() as Millis);
        let (from, to) = grid(start, now, step);
        let series = prom
            .range(&expr, from, to, step)
            .map_err(|e| format!("the error budget of {}: {e}", slo.title()))?;
        let points = series
            .into_iter()
            .next()
            .map(|s| s.points)
            .unwrap_or_default();
        budgets.push(BudgetCurve {
            slo: slo.title(),
            service: slo.service.to_string(),
            objective: slo.objective.to_string(),
            window: slo.window.to_string(),
            freeze_below: fraction(&slo.freeze_below.fraction().to_string()),
            points,
        });
    }
    if !budgets.is_empty() && budgets.iter().all(|b| b.points.is_empty()) {
        return Err(format!(
            "no data: Prometheus at {} has no requests of any SLO between {} and {} UTC; check the --prometheus URL, the --days, and that it scrapes the services",
            prom.url(),
            super::calendar::format(start),
            super::calendar::format(now)
        ));
    }
    Ok(Backtest {
        prometheus: prom.url().to_string(),
        start,
        end: now,
        alerts,
        budgets,
    })
}

fn fraction(s: &str) -> f64 {
    s.parse().unwrap_or(0.0)
}

/// The evaluation grid inside `[start, end]`: multiples of `step`.
fn grid(start: Millis, end: Millis, step: Millis) -> (Millis, Millis) {
    let from = start.div_euclid(step) * step + if start.rem_euclid(step) == 0 { 0 } else { step };
    (from, end.div_euclid(step) * step)
}

fn replay_alert(
    prom: &Prometheus,
    rule: &AlertRule,
    expr: &str,
    start: Millis,
    end: Millis,
) -> Result<AlertOutcome, String> {
    let step = (rule.interval.as_millis() as Millis).max(1);
    let (from, to) = grid(start, end, step);
    let series = prom
        .range(expr, from, to, step)
        .map_err(|e| format!("alert {} ({}): {e}", rule.name, rule.file))?;
    let for_ms = rule.for_.as_millis() as Millis;
    let series = series
        .into_iter()
        .map(|s| {
            let times: Vec<Millis> = s.points.iter().map(|p| p.0).collect();
            let (firings, pending_only) = firings(&times, step, for_ms, from, to);
            SeriesOutcome {
                labels: s.labels,
                firings,
                pending_only,
            }
        })
        .collect();
    Ok(AlertOutcome {
        name: rule.name.clone(),
        file: rule.file.clone(),
        labels: rule.labels.iter().cloned().collect(),
        for_ms,
        interval_ms: step,
        series,
    })
}

/// The firings of one series present at `times` (sorted evaluations on a
/// `step` grid from `first` to `last`), with `for` of `for_ms`; and how
/// many times it was pending without firing.
pub fn firings(
    times: &[Millis],
    step: Millis,
    for_ms: Millis,
    first: Millis,
    last: Millis,
) -> (Vec<Firing>, usize) {
    let mut out = Vec::new();
    let mut pending_only = 0;
    let mut i = 0;
    while i < times.len() {
        // One run of consecutive evaluations.
        let mut j = i;
        while j + 1 < times.len() && times[j + 1] - times[j] == step {
            j += 1;
        }
        let (active, held) = (times[i], times[j]);
        // The first evaluation at least `for` after the first one, rounded
        // up to the grid.
        let fires = active + (for_ms + step - 1).div_euclid(step) * step;
        if fires <= held {
            out.push(Firing {
                pending: active,
                from: fires,
                to: (held < last).then_some(held + step),
                at_start: active == first,
            });
        } else {
            pending_only += 1;
        }
        i = j + 1;
    }
    (out, pending_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_holds_for_whole_evaluations_and_a_gap_resets_it() {
        let m = 60_000;
        // Present at 10..=20 minutes, 2m `for`: pending at 10, firing at 12,
        // resolved at 21 (the first evaluation without it).
        let times: Vec<Millis> = (10..=20).map(|t| t * m).collect();
        let (f, p) = firings(&times, m, 2 * m, 0, 100 * m);
        assert_eq!(
            f,
            [Firing {
                pending: 10 * m,
                from: 12 * m,
                to: Some(21 * m),
                at_start: false
            }]
        );
        assert_eq!(p, 0);
        // A 90s `for` on a 1m grid fires at the second evaluation after.
        let (f, _) = firings(&times, m, 90_000, 0, 100 * m);
        assert_eq!(f[0].from, 12 * m);
        // Gaps: 1..=2 (pending only), 5..=9 (fires at 7), still on at the end.
        let times: Vec<Millis> = [1, 2, 5, 6, 7, 8, 9].iter().map(|t| t * m).collect();
        let (f, p) = firings(&times, m, 2 * m, m, 9 * m);
        assert_eq!(p, 1);
        assert_eq!(
            f,
            [Firing {
                pending: 5 * m,
                from: 7 * m,
                to: None,
                at_start: false
            }]
        );
        // `for` 0 fires at once; active at the first evaluation is marked.
        let (f, _) = firings(&[0, m], m, 0, 0, 5 * m);
        assert_eq!(
            f,
            [Firing {
                pending: 0,
                from: 0,
                to: Some(2 * m),
                at_start: true
            }]
        );
    }

    #[test]
    fn the_grid_is_multiples_of_the_step_inside_the_range() {
        assert_eq!(grid(61_000, 239_000, 60_000), (120_000, 180_000));
        assert_eq!(grid(60_000, 240_000, 60_000), (60_000, 240_000));
    }
}
