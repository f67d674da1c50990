//! The single `[service.slo]` table of older harden, refused with the
//! `[[service.slo]]` tables it becomes. It is not read as before: a latency
//! objective is now counted from the histogram bucket at its threshold,
//! which needs the service's declared buckets the old table never had, and
//! one shape keeps one place for each SLO's settings.

use serde_json::Value;

use crate::codes::Code;
use crate::diagnostics::{Label, Problem};

/// One problem per service whose `slo` is a table, with the pointer of that
/// table (its schema errors are this problem's, not the reader's).
pub fn problems(document: &Value) -> Vec<(String, Problem)> {
    let Some(services) = document.get("service").and_then(Value::as_array) else {
        return Vec::new();
    };
    services
        .iter()
        .enumerate()
        .filter_map(|(i, service)| {
            let table = service.get("slo")?.as_object()?;
            let pointer = format!("/service/{i}/slo");
            let problem = Problem::new(
                Code::SloTable,
                "`[service.slo]` is one table; SLOs are now `[[service.slo]]`, one per objective",
            )
            .with_label(Label::key(pointer.clone(), "the old single table"))
            .with_help(format!("rewrite it as:\n\n{}", rewrite(table)));
            Some((pointer, problem))
        })
        .collect()
}

/// The tables the old one becomes, as TOML text.
fn rewrite(table: &serde_json::Map<String, Value>) -> String {
    let text = |key: &str| table.get(key).and_then(Value::as_str);
    let mut out = String::new();
    if let Some(window) = text("window") {
        out.push_str(&format!(
            "[defaults.slo]             # or `window` in each [[service.slo]]\nwindow = \"{window}\"\n\n"
        ));
    }
    if let Some(a) = text("availability") {
        // The old gate read the availability budget: it stays on that SLO.
        let freeze = text("freeze_below")
            .map(|f| format!("freeze_below = \"{f}\"\n"))
            .unwrap_or_default();
        out.push_str(&format!(
            "[[service.slo]]\nname = \"availability\"\nobjective = \"{a}\"\navailability = {{}}\n{freeze}\n"
        ));
    }
    let mut thresholds = Vec::new();
    for l in table
        .get("latency")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(p), Some(t)) = (
            l.get("percentile").and_then(Value::as_f64),
            l.get("threshold").and_then(Value::as_str),
        ) else {
            continue;
        };
        thresholds.push(t.to_string());
        out.push_str(&format!(
            "[[service.slo]]               # p{p} below {t}: {p}% of requests within {t}\nname = \"latency-{t}\"\nobjective = \"{p}%\"\nlatency = {{ threshold = \"{t}\" }}\n\n"
        ));
    }
    let rates: Vec<String> = ["error_rate_5xx", "error_rate_4xx"]
        .iter()
        .filter_map(|k| Some(format!("{k} = {{ threshold = \"{}\" }}", text(k)?)))
        .collect();
    if !rates.is_empty() {
        out.push_str(&format!(
            "[service.alerts]              # threshold alerts, not objectives\n{}\n\n",
            rates.join("\n")
        ));
    }
    if !thresholds.is_empty() {
        out.push_str(&format!(
            "and declare the duration histogram's buckets (seconds), {} among them:\nmetrics = {{ buckets = [...] }}",
            thresholds.join(", ")
        ));
    }
    out.trim_end().to_string()
}
