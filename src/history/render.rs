//! A backtest as text for the terminal.

use super::api::Labels;
use super::backtest::{Backtest, Firing};
use super::calendar::{format, span};
use super::chart;

/// The backtest as a person reads it: what fired when, what stayed quiet,
/// each SLO's budget as a chart.
pub fn text(b: &Backtest, spec: &str) -> String {
    let mut out = format!(
        "Backtest of {spec} against {}: {} → {} UTC ({})\n",
        b.prometheus,
        format(b.start),
        format(b.end),
        span(b.end - b.start)
    );
    let (fired, quiet): (Vec<_>, Vec<_>) = b.alerts.iter().partition(|a| a.fired());
    out.push_str(&format!(
        "\n{} of {} alert{} would have fired:\n",
        fired.len(),
        b.alerts.len(),
        if b.alerts.len() == 1 { "" } else { "s" }
    ));
    for a in &fired {
        out.push_str(&format!(
            "\n  {} {} (for {}, evaluated every {})\n",
            a.name,
            rule_labels(&a.labels),
            span(a.for_ms),
            span(a.interval_ms)
        ));
        for s in a.series.iter().filter(|s| !s.firings.is_empty()) {
            let indent = if s.labels.is_empty() {
                "    "
            } else {
                out.push_str(&format!("    series {}\n", series_labels(&s.labels)));
                "      "
            };
            for f in &s.firings {
                out.push_str(&format!("{indent}{}\n", firing(f, b.end)));
            }
        }
    }
    if !quiet.is_empty() {
        let mut names: Vec<String> = quiet
            .iter()
            .map(|a| match a.labels.get("service") {
                Some(s) => format!("{} ({s})", a.name),
                None => a.name.clone(),
            })
            .collect();
        names.dedup();
        out.push_str(&format!("\nQuiet: {}\n", names.join(", ")));
    }
    for c in &b.budgets {
        out.push_str(&format!(
            "\nError budget of {} ({} over {}):",
            c.slo, c.objective, c.window
        ));
        let finite: Vec<&(i64, f64)> = c.points.iter().filter(|p| p.1.is_finite()).collect();
        match (finite.first(), finite.last()) {
            (Some(first), Some(last)) => {
                let low = finite
                    .iter()
                    .fold(*first, |a, p| if p.1 < a.1 { p } else { a });
                out.push_str(&format!(
                    " {} at the start, {} at the end, lowest {} at {}\n",
                    chart::percent0(first.1),
                    chart::percent0(last.1),
                    chart::percent0(low.1),
                    format(low.0)
                ));
                if let Some(t) = first_below(&c.points, c.freeze_below) {
                    out.push_str(&format!(
                        "  below the freeze ({}) from {}\n",
                        chart::percent0(c.freeze_below),
                        format(t)
                    ));
                }
                out.push_str(&chart::render(c));
            }
            _ => out.push_str(" no requests in these days\n"),
        }
    }
    out
}

/// When the budget first went below `gate`.
fn first_below(points: &[(i64, f64)], gate: f64) -> Option<i64> {
    points.iter().find(|p| p.1 < gate).map(|p| p.0)
}

fn firing(f: &Firing, end: i64) -> String {
    let to = match f.to {
        Some(t) => format!("{} ({})", format(t), span(t - f.from)),
        None => format!("still firing at the end ({}+)", span(end - f.from)),
    };
    let start = if f.at_start {
        format!("pending since before {}", format(f.pending))
    } else {
        format!("pending from {}", format(f.pending))
    };
    format!("fired {} → {to}; {start}", format(f.from))
}

/// The labels that tell an alert's rules apart: service, slo, tier.
fn rule_labels(labels: &std::collections::BTreeMap<String, String>) -> String {
    let parts: Vec<String> = ["service", "slo", "tier", "severity"]
        .iter()
        .filter_map(|k| labels.get(*k).map(|v| format!("{k}={v}")))
        .collect();
    format!("[{}]", parts.join(" "))
}

fn series_labels(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}
