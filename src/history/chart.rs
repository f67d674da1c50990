//! A budget curve as a terminal chart: one column per slice of time, the
//! lowest remaining budget in the slice, the freeze marked.

use super::backtest::BudgetCurve;
use super::calendar;

const WIDTH: usize = 60;
const HEIGHT: usize = 8;

/// The chart, lines ending in `\n`; empty without points.
pub fn render(curve: &BudgetCurve) -> String {
    let Some(&(first, _)) = curve.points.first() else {
        return String::new();
    };
    let last = curve.points.last().map_or(first, |p| p.0);
    let span = (last - first).max(1);
    let mut columns: Vec<Option<f64>> = vec![None; WIDTH];
    for &(t, v) in &curve.points {
        if !v.is_finite() {
            continue;
        }
        let i = (((t - first) as f64 / span as f64) * (WIDTH - 1) as f64).round() as usize;
        let c = &mut columns[i.min(WIDTH - 1)];
        *c = Some(c.map_or(v, |old| old.min(v)));
    }
    let values = columns.iter().flatten();
    let top = values.clone().fold(1.0_f64, |a, &v| a.max(v));
    let bottom = values.fold(0.0_f64, |a, &v| a.min(v));
    let row_of =
        |v: f64| -> usize { (((top - v) / (top - bottom)) * (HEIGHT - 1) as f64).round() as usize };
    let gate = row_of(curve.freeze_below);
    let mut out = String::new();
    for row in 0..HEIGHT {
        let level = top - (top - bottom) * row as f64 / (HEIGHT - 1) as f64;
        out.push_str(&format!("{:>6} │", percent0(level)));
        for c in &columns {
            out.push(match c {
                Some(v) if row_of(*v) <= row => '█',
                _ if row == gate => '┄',
                _ => ' ',
            });
        }
        if row == gate {
            out.push_str(&format!(" freeze below {}", percent0(curve.freeze_below)));
        }
        out.push('\n');
    }
    out.push_str(&format!("{:>6} └{}\n", "", "─".repeat(WIDTH)));
    let (a, b) = (calendar::format(first), calendar::format(last));
    out.push_str(&format!(
        "{:>8}{a}{}{b}\n",
        "",
        " ".repeat(WIDTH.saturating_sub(a.len() + b.len()))
    ));
    out
}

/// `37%`, `-12%`: a share as a whole percentage.
pub fn percent0(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}
