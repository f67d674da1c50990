//! A backtest as an SVG picture: one panel per SLO, its remaining error
//! budget over the days replayed, the freeze line, and a band for every
//! time one of the service's alerts would have fired (red pages, orange
//! warnings; hover for the alert and its times).

use super::backtest::{AlertOutcome, Backtest, BudgetCurve};
use super::calendar::{self, ONE_DAY};
use crate::check::report::xml;

const WIDTH: f64 = 960.0;
const PANEL: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 56.0;

/// The picture, deterministic for the same backtest.
pub fn render(b: &Backtest, spec: &str) -> String {
    let panels: Vec<Option<&BudgetCurve>> = if b.budgets.is_empty() {
        vec![None]
    } else {
        b.budgets.iter().map(Some).collect()
    };
    let height = PANEL * panels.len() as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for (i, curve) in panels.iter().enumerate() {
        out.push_str(&panel(b, *curve, spec, PANEL * i as f64));
    }
    out.push_str("</svg>\n");
    out
}

fn panel(b: &Backtest, curve: Option<&BudgetCurve>, spec: &str, y0: f64) -> String {
    let (x0, x1) = (LEFT, WIDTH - RIGHT);
    let (top, bottom) = (y0 + TOP, y0 + PANEL - BOTTOM);
    let span = (b.end - b.start).max(1) as f64;
    let x = |t: i64| x0 + (t - b.start) as f64 / span * (x1 - x0);
    let values = curve
        .map(|c| {
            c.points
                .iter()
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .collect::<Vec<f64>>()
        })
        .unwrap_or_default();
    let hi = values.iter().fold(1.0_f64, |a, &v| a.max(v));
    let lo = values.iter().fold(0.0_f64, |a, &v| a.min(v));
    let (hi, lo) = ((hi * 4.0).ceil() / 4.0, (lo * 4.0).floor() / 4.0);
    let y = |v: f64| top + (hi - v) / (hi - lo) * (bottom - top);
    let title = match curve {
        Some(c) => format!(
            "Error budget left: {} ({} over {}) · {}",
            c.slo, c.objective, c.window, spec
        ),
        None => format!("Alerts replayed · {spec}"),
    };
    let mut out = format!(
        "<g>\n<text x=\"{x0}\" y=\"{:.1}\" font-size=\"15\" font-weight=\"bold\">{}</text>\n<text x=\"{x0}\" y=\"{:.1}\" fill=\"#555\">{} → {} UTC, from {}</text>\n",
        y0 + 20.0,
        xml(&title),
        y0 + 36.0,
        calendar::format(b.start),
        calendar::format(b.end),
        xml(&b.prometheus)
    );
    // Bands: when the service's alerts would have fired.
    let service = curve.map(|c| c.service.as_str());
    let mut legend: Vec<(String, &str)> = Vec::new();
    for a in b.alerts.iter().filter(|a| a.fired()) {
        if service.is_some_and(|s| a.labels.get("service").map(String::as_str) != Some(s)) {
            continue;
        }
        let color = color(a);
        legend.push((a.name.clone(), color));
        for s in &a.series {
            for f in &s.firings {
                let (a_x, b_x) = (x(f.from), x(f.to.unwrap_or(b.end)));
                out.push_str(&format!(
                    "<rect x=\"{a_x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\" fill-opacity=\"0.22\"><title>{} fired {} → {}</title></rect>\n",
                    (b_x - a_x).max(1.0),
                    bottom - top,
                    xml(&a.name),
                    calendar::format(f.from),
                    f.to.map_or("the end".to_string(), calendar::format)
                ));
            }
        }
    }
    // Horizontal grid every 25%.
    let mut level = lo;
    while level <= hi + 1e-9 {
        let yy = y(level);
        let stroke = if level.abs() < 1e-9 {
            "#888"
        } else {
            "#e3e3e3"
        };
        out.push_str(&format!(
            "<line x1=\"{x0}\" y1=\"{yy:.1}\" x2=\"{x1}\" y2=\"{yy:.1}\" stroke=\"{stroke}\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{:.0}%</text>\n",
            x0 - 6.0,
            yy + 4.0,
            level * 100.0
        ));
        level += 0.25;
    }
    // Days.
    let days = ((b.end - b.start) / ONE_DAY).max(1);
    let every = (days + 13) / 14;
    let mut t = calendar::day_start(b.start) + ONE_DAY;
    let mut n = 0;
    while t < b.end {
        if n % every == 0 {
            let xx = x(t);
            out.push_str(&format!(
                "<line x1=\"{xx:.1}\" y1=\"{top:.1}\" x2=\"{xx:.1}\" y2=\"{bottom:.1}\" stroke=\"#eee\"/>\n<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
                bottom + 16.0,
                calendar::short_day(t)
            ));
        }
        t += ONE_DAY;
        n += 1;
    }
    out.push_str(&format!(
        "<rect x=\"{x0}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#888\"/>\n",
        x1 - x0,
        bottom - top
    ));
    if let Some(c) = curve {
        let g = y(c.freeze_below);
        out.push_str(&format!(
            "<line x1=\"{x0}\" y1=\"{g:.1}\" x2=\"{x1}\" y2=\"{g:.1}\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#d62728\">deploy freeze below {:.0}%</text>\n",
            x1 - 4.0,
            g - 4.0,
            c.freeze_below * 100.0
        ));
        for line in runs(&c.points) {
            let pts: Vec<String> = line
                .iter()
                .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
                .collect();
            out.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n",
                pts.join(" ")
            ));
        }
        if c.points.iter().all(|p| !p.1.is_finite()) {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">no requests in these days</text>\n",
                (x0 + x1) / 2.0,
                (top + bottom) / 2.0
            ));
        }
    }
    // Legend.
    legend.dedup();
    let mut lx = x0;
    let ly = bottom + 36.0;
    if legend.is_empty() {
        out.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ly:.1}\" fill=\"#555\">No alert would have fired.</text>\n"
        ));
    }
    for (name, color) in &legend {
        out.push_str(&format!(
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{color}\" fill-opacity=\"0.5\"/>\n<text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>\n",
            ly - 10.0,
            lx + 16.0,
            xml(name)
        ));
        lx += 24.0 + 7.0 * name.len() as f64;
    }
    out.push_str("</g>\n");
    out
}

/// Pages red, the rest orange.
fn color(a: &AlertOutcome) -> &'static str {
    if a.labels.get("severity").map(String::as_str) == Some("critical") {
        "#d62728"
    } else {
        "#ff7f0e"
    }
}

/// The finite points in runs without gaps (a gap: over twice the usual step).
fn runs(points: &[(i64, f64)]) -> Vec<Vec<(i64, f64)>> {
    let step = points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .min()
        .unwrap_or(0);
    let mut out: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut last: Option<i64> = None;
    for &(t, v) in points {
        if !v.is_finite() {
            last = None;
            continue;
        }
        match (out.last_mut(), last) {
            (Some(run), Some(prev)) if t - prev <= 2 * step => run.push((t, v)),
            _ => out.push(vec![(t, v)]),
        }
        last = Some(t);
    }
    out
}
