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
    let explain = explain_of(THREE_SLOS);
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

/// The problems of a refused spec on one line: miette wraps long messages
/// under a `│` gutter.
fn refused_joined(spec: &str) -> String {
    refused(spec)
        .lines()
        .map(|line| line.trim().trim_start_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `harden explain` of a spec.
fn explain_of(spec: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hardening.toml");
    std::fs::write(&path, spec).expect("write");
    harden(&["explain", &path.to_string_lossy()]).code(0).stdout
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
    let stderr = refused_joined(&format!(
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

#[test]
fn ratio_slis_put_each_window_in_place_of_dollar_window() {
    // promtool runs this spec's rules and generated tests in
    // promtool_checks_and_runs_the_rules_of_other_specs.
    let tree = generate(&Spec::toml(RATIO_SLOS));
    let text = tree.read("prometheus/rules/checkout.yml");
    for said in [
        // Bad events of one counter; none yet is a ratio of 0.
        "'(sum(rate(payments_failed_total{method=\"card\"}[5m])) or 0 * sum(rate(payments_total{method=\"card\"}[5m]))) / sum(rate(payments_total{method=\"card\"}[5m]))'",
        // The SLO window's ratio.
        "(sum(rate(payments_failed_total{method=\"card\"}[30d])) or 0 * sum(rate(payments_total{method=\"card\"}[30d])))",
        // Good events, each expression summed into one series.
        "'(sum(rate(jobs_started_total{queue=\"mail\"}[1h])) - (sum(rate(jobs_done_total{queue=\"mail\"}[1h])) or 0 * sum(rate(jobs_started_total{queue=\"mail\"}[1h])))) / sum(rate(jobs_started_total{queue=\"mail\"}[1h]))'",
        // The guard counts events as the total rate times the window's seconds.
        "and on () sum(rate(jobs_started_total{queue=\"mail\"}[6h])) * 21600 >= 100)",
        // A ratio already divided, over a total of 1.
        "(sum(sum(rate(upstream_requests_total{code=~\"5..\"}[2h])) / sum(rate(upstream_requests_total[2h]))) or 0 * sum(vector(1))) / sum(vector(1))",
        // Its promtool input cannot be derived from a regex: said, not hidden.
        "# No generated test cases for SLO upstream: its expressions are not each one counter's sum(rate(counter[$window])) with `=` matchers",
    ] {
        assert!(text.contains(said), "{said} missing:\n{text}");
    }
    assert!(
        !text
            .lines()
            .any(|l| !l.starts_with('#') && l.contains("$window")),
        "{text}"
    );
    // The counters' SLOs have their own promtool cases.
    let tests = tree.read("prometheus/tests/checkout.test.yml");
    for said in [
        "payments_failed_total{instance=\"checkout:8080\",job=\"checkout\",method=\"card\",service=\"checkout\"}",
        "jobs_done_total{instance=\"checkout:8080\",job=\"checkout\",queue=\"mail\",service=\"checkout\"}",
        "fires within",
    ] {
        assert!(tests.contains(said), "{said} missing:\n{tests}");
    }
    // Dashboard row and explain table, like every SLI.
    let board = tree.read("grafana/dashboards/checkout.json");
    assert!(board.contains("SLO card-payments: 99.5% ratio (30d window)"));
    let explain = explain_of(RATIO_SLOS);
    for said in [
        "slo card-payments (ratio): 99.5% of events that are not bad over 30d",
        "slo jobs (ratio): 99% of good events over 30d",
    ] {
        assert!(explain.contains(said), "{said} missing:\n{explain}");
    }
}

#[test]
fn ratio_expressions_are_refused_at_their_line() {
    let stderr = refused_joined(&format!(
        r#"{SERVICE}
[[service.slo]]
name = "fixed"
objective = "99%"
ratio = {{ bad = 'sum(rate(a_total[5m]))', total = 'sum(rate(b_total[$window]))' }}

[[service.slo]]
name = "broken"
objective = "99%"
ratio = {{ bad = 'sum(rate(a_total[$window])', total = 'sum(rate(b_total[$window]))' }}

[[service.slo]]
name = "misplaced"
objective = "99%"
ratio = {{ bad = 'label_replace(a_total, "w", "$window", "", "")', total = 'sum(rate(b_total[$window]))' }}

[[service.slo]]
name = "guarded"
objective = "99%"
min_requests = 10
ratio = {{ bad = 'sum(rate(a_total[$window]))', total = 'sum(increase(b_total[$window]))' }}

[[service.slo]]
name = "both"
objective = "99%"
ratio = {{ bad = 'sum(rate(a_total[$window]))', good = 'sum(rate(c_total[$window]))', total = 'sum(rate(b_total[$window]))' }}
"#
    ));
    for said in [
        "the expression reads a fixed range, so every window's ratio would be the same",
        "hardening.toml:13:17]",
        "the expression does not parse",
        "hardening.toml:18:17]",
        "`$window` is not a range here",
        "`min_requests` counts events as this expression × the window's seconds",
        "a ratio SLI counts either its bad or its good events",
        "harden::invalid-promql",
    ] {
        assert!(stderr.contains(said), "{said} missing:\n{stderr}");
    }
}
