//! `harden explain`: what the generated alerts mean in numbers, read from
//! the model. For every SLO: what it counts, the error budget over the
//! window and, per burn-rate tier, the windows, burn factor, threshold, the
//! budget a burn at that rate spends before the alert fires, and how soon it
//! fires when every event fails. Then every alert of every HTTP service.

use std::fmt::Write as _;

use crate::model::{Alert, Model, Slo};
use crate::units::Decimal;
use crate::vocab::percent;

/// The whole explanation, as plain aligned text.
pub fn render(model: &Model) -> String {
    let mut out = String::new();
    let mut first = true;
    for service in &model.services {
        let Some(http) = service.http() else { continue };
        if !first {
            out.push('\n');
        }
        first = false;
        let _ = writeln!(out, "service {}", service.name);
        if http.slos.is_empty() {
            out.push_str("  no [[service.slo]]: no burn-rate alerts\n");
        }
        for (i, slo) in http.slos.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            burn_table(&mut out, slo, &http.alert_rules);
        }
        if !http.slos.is_empty() {
            out.push_str(LEGEND);
        }
        out.push('\n');
        alert_table(&mut out, &http.alert_rules);
    }
    if first {
        out.push_str("no http services: harden generates no alerts\n");
    }
    out
}

/// What the burn tables' columns mean, once per service.
const LEGEND: &str = concat!(
    "\n",
    "  burn: times faster than the budget allows; the alert fires when both windows'\n",
    "    error ratios are above the threshold (burn x budget), for `for`.\n",
    "  budget spent: the window's budget a burn at exactly that rate uses in the long window.\n",
    "  fires at 100% errors: after a full long window of good traffic, once every event\n",
    "    fails; add up to a scrape and an evaluation interval. A new Prometheus (less\n",
    "    history than the long window) fires sooner: its ratio counts only the events it has.\n",
);

fn burn_table(out: &mut String, slo: &Slo, alerts: &[Alert]) {
    let budget = slo.error_budget();
    let window_ms = u128::from(slo.window.as_millis());
    let budget_minutes = scaled(
        window_ms * budget.digits(),
        10u128.pow(budget.scale()) * 60_000,
        2,
    );
    let _ = writeln!(
        out,
        "  slo {} ({}): {} of {} over {}: error budget {} of events, {budget_minutes} minutes of total outage",
        slo.name,
        slo.sli.kind(),
        slo.objective,
        slo.good_events(),
        slo.window,
        percent(budget),
    );
    out.push('\n');
    let mut rows = vec![
        [
            "tier",
            "long",
            "short",
            "burn",
            "threshold",
            "budget spent",
            "for",
            "fires at 100% errors",
            "budget spent by then",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for b in &slo.burn_rates {
        let alert = alerts
            .iter()
            .find(|a| a.tier == Some(b.tier) && a.slo.as_deref() == Some(slo.name.as_str()));
        let mut row = vec![
            b.tier.as_str().to_string(),
            b.long.to_string(),
            b.short.to_string(),
            format!("{}x", b.factor),
            percent(b.threshold),
            percent(b.budget_consumed),
        ];
        if alert.is_some() {
            let fires = b.fires_after_total_outage();
            // Every event failing burns budget at 1/budget the allowed rate.
            let spent = scaled(
                u128::from(fires.as_millis()) * 100 * 10u128.pow(budget.scale()),
                window_ms * budget.digits(),
                2,
            );
            row.push(b.for_.to_string());
            row.push(fires.to_string());
            row.push(format!("{spent}%"));
        }
        rows.push(row);
    }
    table(out, &rows);
    if slo.min_requests > 0 {
        let _ = writeln!(
            out,
            "\n  page tiers fire only with at least {} events in their long window.",
            slo.min_requests
        );
    }
}

fn alert_table(out: &mut String, alerts: &[Alert]) {
    let mut rows = vec![vec![
        "alert".to_string(),
        "severity".to_string(),
        "for".to_string(),
        "labels".to_string(),
    ]];
    for a in alerts {
        let mut labels = Vec::new();
        if let Some(slo) = &a.slo {
            labels.push(format!("slo={slo}"));
        }
        if let Some(tier) = a.tier {
            labels.push(format!("tier={}", tier.as_str()));
        }
        rows.push(vec![
            a.name.clone(),
            a.severity.as_str().to_string(),
            a.for_.to_string(),
            labels.join(" "),
        ]);
    }
    table(out, &rows);
}

/// Rows as columns padded to their widest cell, two spaces indented.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from(" ");
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, " {cell:<width$} ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// `num ÷ den` rounded half up to `places` decimal places.
fn scaled(num: u128, den: u128, places: u32) -> Decimal {
    let unit = 10u128.pow(places);
    let q = if den == 0 {
        0
    } else {
        (num.saturating_mul(unit).saturating_mul(2) + den) / den.saturating_mul(2)
    };
    Decimal::from_parts(q, places).unwrap_or(Decimal::ZERO)
}
