//! `harden report`: each SLO's attainment (the share of good events) over
//! its window up to now, or over a calendar month.
//!
//! The SLI is the generated window-ratio recording rule
//! (`record::sli_error(window)`), its expression inlined so no recorded
//! history is needed. For a month, the rule's ranges over the window are
//! replaced by the month's length and the expression is evaluated at the
//! month's end: `increase(x[30d])` at 1 December 00:00 counts November's
//! events. The month not yet over is measured from its first instant to
//! now, and marked partial. A month Prometheus holds only part of
//! (retention, a new server) is measured over the part it holds: `increase`
//! counts only stored samples.

use serde::Serialize;

use super::api::{Millis, Prometheus};
use super::calendar::{self, Month};
use super::replay::Replay;
use crate::model::{Model, record};

/// What a report covers.
#[derive(Debug, Clone, Copy)]
pub enum Period {
    /// Each SLO's own window, up to now.
    Window,
    Month(Month),
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub service: String,
    pub slo: String,
    /// `99.9%`.
    pub objective: String,
    pub from: Millis,
    pub to: Millis,
    /// The share of bad events; `None` when there were no events.
    pub error_ratio: Option<f64>,
    /// 1 − error ratio.
    pub attainment: Option<f64>,
    /// 1 − error ratio ÷ error budget.
    pub budget_remaining: Option<f64>,
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub project: String,
    pub prometheus: String,
    /// `November 2026`, or `each SLO's window`.
    pub period: String,
    /// The month is not over: measured up to now.
    pub partial: bool,
    pub rows: Vec<Row>,
}

pub fn run(
    model: &Model,
    prom: &Prometheus,
    period: Period,
    now: Millis,
) -> Result<Report, String> {
    let replay = Replay::of(model)?;
    let inliner = replay.inliner();
    let mut rows = Vec::new();
    let mut partial = false;
    for slo in model.budget_slos() {
        let name = record::sli_error(slo.window);
        let expr = inliner
            .recorded(&name, &slo.labels())
            .map_err(|e| format!("the SLI of {}: {e}", slo.title()))?;
        let window_ms = slo.window.as_millis() as Millis;
        let (expr, from, at) = match period {
            Period::Window => (expr, now - window_ms, now),
            Period::Month(m) => {
                if m.start() >= now {
                    return Err(format!(
                        "--month: {} has not begun (it is {} UTC)",
                        m.name(),
                        calendar::format(now)
                    ));
                }
                let at = m.end().min(now);
                partial = at < m.end();
                let written = format!("[{}]", slo.window);
                if !expr.contains(&written) {
                    return Err(format!(
                        "the SLI of {} has no range over its window {written}: cannot measure a month with it",
                        slo.title()
                    ));
                }
                let range = format!("[{}s]", (at - m.start()) / 1000);
                (expr.replace(&written, &range), m.start(), at)
            }
        };
        let result = prom
            .instant(&expr, Some(at))
            .map_err(|e| format!("the SLI of {}: {e}", slo.title()))?;
        let error_ratio = result.first().map(|r| r.1).filter(|v| v.is_finite());
        let budget: f64 = slo.budget().to_string().parse().unwrap_or(0.0);
        rows.push(Row {
            service: slo.service.to_string(),
            slo: slo.slo.to_string(),
            objective: slo.objective.to_string(),
            from,
            to: at,
            error_ratio,
            attainment: error_ratio.map(|r| 1.0 - r),
            budget_remaining: error_ratio
                .filter(|_| budget > 0.0)
                .map(|r| 1.0 - r / budget),
            met: error_ratio.map(|r| r <= budget),
        });
    }
    Ok(Report {
        project: model.project.name.clone(),
        prometheus: prom.url().to_string(),
        period: match period {
            Period::Window => "each SLO's window".to_string(),
            Period::Month(m) => m.name(),
        },
        partial,
        rows,
    })
}

impl Report {
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# SLO report: {}, {}\n\nFrom Prometheus at {}.",
            self.project, self.period, self.prometheus
        );
        if self.partial {
            out.push_str(" The month is not over: measured from its first day up to now.");
        }
        out.push_str("\n\n| SLO | objective | from (UTC) | to (UTC) | attainment | error budget left | met |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        for r in &self.rows {
            let pct = |v: Option<f64>, places: usize| {
                v.map_or("no requests".to_string(), |v| {
                    format!("{:.*}%", places, v * 100.0)
                })
            };
            out.push_str(&format!(
                "| {}/{} | {} | {} | {} | {} | {} | {} |\n",
                r.service,
                r.slo,
                r.objective,
                calendar::format(r.from),
                calendar::format(r.to),
                pct(r.attainment, 3),
                pct(r.budget_remaining, 1),
                match r.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "–",
                }
            ));
        }
        if self.rows.is_empty() {
            out.push_str("| (no SLO with an availability objective in the spec) | | | | | | |\n");
        }
        out
    }
}
