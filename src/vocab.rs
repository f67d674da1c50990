//! The vocabulary several outputs share, each word and format defined once:
//! how a fraction reads as a percentage, where a Grafana dashboard lives.
//! (A severity's word is [`crate::spec::Severity::as_str`]; recording-rule
//! names are [`crate::model::record`].)

use crate::units::{Decimal, Duration};

/// A fraction as a percentage: 0.0144 → `1.44%`, 0.9 → `90%`.
pub fn percent(fraction: Decimal) -> String {
    fraction
        .checked_mul(Decimal::HUNDRED)
        .map_or_else(|| fraction.to_string(), |p| format!("{p}%"))
}

/// A duration as people read a latency: `500ms`, `1.5s`, `90s`.
pub fn human_duration(d: Duration) -> String {
    match Decimal::from_parts(u128::from(d.as_millis()), 3) {
        Some(s) if d.as_millis() >= 1000 => format!("{s}s"),
        _ => d.to_string(),
    }
}

/// `s` as the inside of a PromQL double-quoted string (a label value).
pub fn promql_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A PromQL label matcher, `label="value"`, its value escaped.
pub fn matcher(label: &str, value: &str) -> String {
    format!("{label}=\"{}\"", promql_str(value))
}

/// The name of the project's overview dashboard
/// (`grafana/dashboards/overview.json`), which no service may take.
pub const OVERVIEW_DASHBOARD: &str = "overview";

/// The uid of the project's overview dashboard.
pub const OVERVIEW_UID: &str = "harden-overview";

/// A dashboard's address: `{grafana}/d/{uid}`, `grafana` without a trailing
/// slash.
pub fn dashboard_url(grafana: &str, uid: &str) -> String {
    format!("{grafana}/d/{uid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_dashboard_addresses() {
        let d = |s: &str| s.parse::<Decimal>().expect("decimal");
        assert_eq!(percent(d("0.0144")), "1.44%");
        assert_eq!(percent(d("0.9")), "90%");
        assert_eq!(matcher("job", "a\"b\\c"), "job=\"a\\\"b\\\\c\"");
        assert_eq!(
            dashboard_url("https://grafana.example.com", OVERVIEW_UID),
            "https://grafana.example.com/d/harden-overview"
        );
    }
}
