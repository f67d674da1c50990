//! SLOs as the spec writes them: each SLO's own rules, the tiers, the
//! traffic guard and the extra labels change the rules exactly as stated;
//! bad tiers and the old single table are refused at their line. promtool
//! runs the three-SLO spec's rules and tests in
//! `promtool_checks_and_runs_the_rules_of_other_specs`.

use serde_json::Value;

use crate::support::*;

/// Every alert rule of the booking service's rule file.
fn alerts(tree: &Tree) -> Vec<Value> {
    let rules = tree.yaml("prometheus/rules/booking.yml");
    rules["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").clone())
        .collect()
}

fn find<'a>(alerts: &'a [Value], name: &str, slo: &str) -> Option<&'a Value> {
    alerts
        .iter()
        .find(|r| r["alert"] == name && r["labels"]["slo"] == slo)
}

#[test]
fn tiers_guards_and_labels_change_the_rules_as_specified() {
    let tree = generate(&Spec::toml(THREE_SLOS));
    let alerts = alerts(&tree);
    let page = |slo: &str| {
        find(&alerts, "SLOErrorBudgetBurnPage", slo)
            .unwrap_or_else(|| panic!("no page of {slo}"))
            .clone()
    };
    // 28d, 99.9%: the workbook's 1h tier at 13.44× a 0.1% budget, and the
    // guard: no page on fewer than 50 requests in the tier's long window.
    let availability = page("availability");
    let expr = availability["expr"].as_str().expect("expr");
    assert!(
        expr.contains(
            "slo:sli_error:ratio_rate1h{service=\"booking\",slo=\"availability\"} > 0.01344"
        ),
        "{expr}"
    );
    assert!(
        expr.contains("and on () sum(increase(http_requests_total{job=\"booking\"}[1h])) >= 50)"),
        "{expr}"
    );
    assert!(
        expr.contains("and on () sum(increase(http_requests_total{job=\"booking\"}[6h])) >= 50)"),
        "{expr}"
    );
    assert_eq!(availability["labels"]["severity"], "critical");
    assert_eq!(availability["for"], "2m");
    assert_eq!(availability["labels"]["owner"], "booking-team");
    // The latency SLO: its route's requests, its own labels and annotations.
    let latency = page("search-latency");
    let expr = latency["expr"].as_str().expect("expr");
    assert!(
        expr.contains("sum(increase(http_request_duration_seconds_count{job=\"booking\",route=\"/api/availability\"}[1h])) >= 50"),
        "{expr}"
    );
    assert_eq!(latency["labels"]["component"], "search");
    assert_eq!(latency["labels"]["owner"], "booking-team");
    assert_eq!(
        latency["annotations"]["playbook"],
        "https://wiki.example.com/search"
    );
    // The events SLO's own tiers: a factor of 10 × a 0.5% budget on 1h, 5%
    // of the 28d budget in 6h (5.6×), its severity and `for`; its only
    // ticket tier is off, so it has no ticket alert.
    let bookings = page("bookings");
    let expr = bookings["expr"].as_str().expect("expr");
    assert!(
        expr.contains("ratio_rate1h{service=\"booking\",slo=\"bookings\"} > 0.05 "),
        "{expr}"
    );
    assert!(
        expr.contains("ratio_rate6h{service=\"booking\",slo=\"bookings\"} > 0.028 "),
        "{expr}"
    );
    assert_eq!(bookings["labels"]["severity"], "warning");
    assert_eq!(bookings["for"], "1m");
    assert!(find(&alerts, "SLOErrorBudgetBurnTicket", "bookings").is_none());
    assert!(find(&alerts, "SLOErrorBudgetBurnTicket", "availability").is_some());
    for slo in ["availability", "search-latency", "bookings"] {
        let exhausted = find(&alerts, "ErrorBudgetExhausted", slo)
            .unwrap_or_else(|| panic!("no ErrorBudgetExhausted of {slo}"));
        assert_eq!(
            exhausted["expr"],
            format!("slo:error_budget:remaining{{service=\"booking\",slo=\"{slo}\"}} <= 0")
        );
    }
    // Each SLI's error ratio, zero bad events a ratio of 0.
    let text = tree.read("prometheus/rules/booking.yml");
    for ratio in [
        "(sum(rate(http_requests_total{job=\"booking\",status=~\"5..\"}[5m])) or 0 * sum(rate(http_requests_total{job=\"booking\"}[5m]))) / sum(rate(http_requests_total{job=\"booking\"}[5m]))",
        "(sum(rate(http_request_duration_seconds_count{job=\"booking\",route=\"/api/availability\"}[5m])) - sum(rate(http_request_duration_seconds_bucket{job=\"booking\",route=\"/api/availability\",le=\"0.25\"}[5m]))) / sum(rate(http_request_duration_seconds_count{job=\"booking\",route=\"/api/availability\"}[5m]))",
        "(sum(rate(appointments_failed_total{job=\"booking\",kind=\"online\"}[5m])) or 0 * sum(rate(appointments_total{job=\"booking\",kind=\"online\"}[5m]))) / sum(rate(appointments_total{job=\"booking\",kind=\"online\"}[5m]))",
    ] {
        assert!(text.contains(ratio), "{ratio} missing");
    }
    // Each SLO has a dashboard row, and explain a table.
    let board = tree.read("grafana/dashboards/booking.json");
    for row in [
        "SLO availability: 99.9% availability (28d window)",
        "SLO search-latency: 99% latency (28d window)",
        "SLO bookings: 99.5% events (28d window)",
    ] {
        assert!(board.contains(row), "{row} missing");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("hardening.toml");
    std::fs::write(&spec, THREE_SLOS).expect("write");
    let explain = harden(&["explain", &spec.to_string_lossy()]).code(0).stdout;
    for said in [
        "slo availability (availability): 99.9% of requests not answered with a 5xx over 28d",
        "slo search-latency (latency): 99% of requests answered within 250ms over 28d",
        "slo bookings (events): 99.5% of events that are not bad over 28d",
        "page tiers fire only with at least 50 events in their long window.",
        "A new Prometheus (less",
    ] {
        assert!(explain.contains(said), "{said} missing:\n{explain}");
    }
}

fn refused(spec: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hardening.toml");
    std::fs::write(&path, spec).expect("write");
    harden(&["validate", &path.to_string_lossy()])
        .code(2)
        .stderr
}

const SERVICE: &str = r#"
[project]
name = "shop"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
"#;

#[test]
fn bad_tiers_are_refused_at_their_line() {
    let stderr = refused(&format!(
        r#"{SERVICE}
[[service.slo]]
name = "availability"
objective = "99.9%"
availability = {{}}
tiers = [
  {{ alert = "page", long = "5m", short = "1h", budget_consumed = "2%" }},
  {{ alert = "page", long = "6h", short = "30m", budget_consumed = "5%", factor = 6 }},
  {{ alert = "ticket", long = "1d", short = "2h", budget_consumed = "10%", for = "15m" }},
  {{ alert = "ticket", long = "3d", short = "6h", budget_consumed = "10%", for = "1h" }},
]

[[service.slo]]
name = "loose"
objective = "90%"
availability = {{}}
annotations = {{ note = "{{{{ $value }}}}" }}
"#
    ));
    // miette wraps long messages under a `│` gutter: read them as one line.
    let stderr = stderr
        .lines()
        .map(|line| line.trim().trim_start_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    for said in [
        "the short window (1h) must be shorter than the long window (5m)",
        "a tier has both `factor` and `budget_consumed`",
        "the ticket tiers disagree on their alert's severity or `for`",
        "the page tier's 1h/5m threshold (14.4× the budget) is 144% of events failing",
        // the loose SLO's objective, where the impossible threshold comes from
        "hardening.toml:23:13]",
        "Prometheus reads `{{` and `}}` in alert labels and annotations as a Go template",
    ] {
        assert!(stderr.contains(said), "{said} missing:\n{stderr}");
    }
}

#[test]
fn the_old_slo_table_is_refused_with_its_rewrite() {
    let stderr = refused(&format!(
        r#"{SERVICE}
[service.slo]
window = "28d"
availability = "99.9%"
latency = [{{ percentile = 95, threshold = "500ms" }}]
error_rate_5xx = "1%"
freeze_below = "25%"
"#
    ));
    for said in [
        "harden::slo-table",
        "freeze_below = \"25%\"",
        "[defaults.slo]",
        "window = \"28d\"",
        "objective = \"99.9%\"",
        "availability = {}",
        "objective = \"95%\"",
        "latency = { threshold = \"500ms\" }",
        "error_rate_5xx = { threshold = \"1%\" }",
        "metrics = { buckets = [...] }",
    ] {
        assert!(stderr.contains(said), "{said} missing:\n{stderr}");
    }
    // One problem for the table, not a schema error per old key.
    assert!(!stderr.contains("harden::wrong-type"), "{stderr}");
    assert!(!stderr.contains("harden::unknown-key"), "{stderr}");
}
