//! `harden explain`: what the generated alerts mean in numbers, read from
//! the model. For every SLO: what it counts, the error budget over the
//! window and, per burn-rate tier, the windows, burn factor, threshold, the
//! budget a burn at that rate spends before the alert fires, and how soon it
//! fires when every event fails. Then every alert of every HTTP service.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::model::{Alert, BurnRate, Model, Slo};
use crate::units::{Decimal, Duration};
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

/// An SLO's budget as a fraction and the minutes of total outage it
/// allows over the window.
fn budget(slo: &Slo) -> (Decimal, Decimal) {
    let budget = slo.error_budget();
    let window_ms = u128::from(slo.window.as_millis());
    let minutes = scaled(
        window_ms * budget.digits(),
        10u128.pow(budget.scale()) * 60_000,
        2,
    );
    (budget, minutes)
}

/// One burn-rate tier and, when its alert is on, when that alert fires.
struct TierRow<'a> {
    burn: &'a BurnRate,
    alert: Option<TierAlert>,
}

/// A tier's alert under 100% errors.
struct TierAlert {
    for_: Duration,
    /// After a full long window of good traffic, once every event fails.
    fires: Duration,
    /// The window's budget spent by then, in percent.
    spent_percent: Decimal,
}

fn tier_rows<'a>(slo: &'a Slo, alerts: &[Alert]) -> Vec<TierRow<'a>> {
    let budget = slo.error_budget();
    let window_ms = u128::from(slo.window.as_millis());
    slo.burn_rates
        .iter()
        .map(|b| {
            let alert = alerts
                .iter()
                .find(|a| a.tier == Some(b.tier) && a.slo.as_deref() == Some(slo.name.as_str()))
                .map(|_| {
                    let fires = b.fires_after_total_outage();
                    // Every event failing burns budget at 1/budget the allowed rate.
                    let spent_percent = scaled(
                        u128::from(fires.as_millis()) * 100 * 10u128.pow(budget.scale()),
                        window_ms * budget.digits(),
                        2,
                    );
                    TierAlert {
                        for_: b.for_,
                        fires,
                        spent_percent,
                    }
                });
            TierRow { burn: b, alert }
        })
        .collect()
}

fn burn_table(out: &mut String, slo: &Slo, alerts: &[Alert]) {
    let (budget, budget_minutes) = budget(slo);
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
    for TierRow { burn: b, alert } in tier_rows(slo, alerts) {
        let mut row = vec![
            b.tier.as_str().to_string(),
            b.long.to_string(),
            b.short.to_string(),
            format!("{}x", b.factor),
            percent(b.threshold),
            percent(b.budget_consumed),
        ];
        if let Some(a) = alert {
            row.push(a.for_.to_string());
            row.push(a.fires.to_string());
            row.push(format!("{}%", a.spent_percent));
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

/// The explanation as JSON (`harden explain --format json`, documented in
/// the README): the same numbers as the text, exact decimals as JSON
/// numbers, durations as harden writes them and in seconds.
pub fn to_json(model: &Model) -> Value {
    let services: Vec<Value> = model
        .services
        .iter()
        .filter_map(|service| {
            let http = service.http()?;
            let slos: Vec<Value> = http
                .slos
                .iter()
                .map(|slo| {
                    let (budget, minutes) = budget(slo);
                    let tiers: Vec<Value> = tier_rows(slo, &http.alert_rules)
                        .iter()
                        .map(|TierRow { burn: b, alert }| {
                            json!({
                                "tier": b.tier.as_str(),
                                "long": duration(b.long),
                                "short": duration(b.short),
                                "burn": number(b.factor),
                                "threshold_percent": percent_number(b.threshold),
                                "budget_spent_percent": percent_number(b.budget_consumed),
                                "alert": alert.as_ref().map(|a| json!({
                                    "for": duration(a.for_),
                                    "fires_at_full_errors": duration(a.fires),
                                    "budget_spent_by_then_percent": number(a.spent_percent),
                                })),
                            })
                        })
                        .collect();
                    json!({
                        "slo": slo.name,
                        "sli": slo.sli.kind(),
                        "objective_percent": percent_number(slo.objective.fraction()),
                        "window": duration(slo.window),
                        "error_budget_percent": percent_number(budget),
                        "outage_minutes": number(minutes),
                        "min_requests": slo.min_requests,
                        "tiers": tiers,
                    })
                })
                .collect();
            let alerts: Vec<Value> = http
                .alert_rules
                .iter()
                .map(|a| {
                    json!({
                        "alert": a.name,
                        "severity": a.severity.as_str(),
                        "for": duration(a.for_),
                        "slo": a.slo,
                        "tier": a.tier.map(|t| t.as_str()),
                    })
                })
                .collect();
            Some(json!({
                "service": service.name,
                "slos": slos,
                "alerts": alerts,
            }))
        })
        .collect();
    json!({ "project": model.project.name, "services": services })
}

/// A duration as text (`1h`) and in seconds.
fn duration(d: Duration) -> Value {
    json!({ "text": d.to_string(), "seconds": d.as_millis() / 1000 })
}

/// An exact decimal as a JSON number (its shortest text: `14.4`, `0.1`).
fn number(d: Decimal) -> Value {
    d.to_string()
        .parse::<serde_json::Number>()
        .map_or(Value::Null, Value::Number)
}

/// A fraction as a percentage number (0.001 → 0.1).
fn percent_number(fraction: Decimal) -> Value {
    fraction
        .checked_mul(Decimal::HUNDRED)
        .map_or(Value::Null, number)
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
