//! `harden import sloth|openslo`: the printed tables, placed into a minimal
//! spec, validate and generate rules promtool accepts; what cannot be
//! expressed is named on stderr with exit 1; and the real `sloth generate`
//! on the same file pages at the same evaluation as harden's imported
//! rules, harden later by exactly its `for`.

use std::path::Path;
use std::process::Command;

use crate::support::*;

const FIXTURES: &str = "tests/fixtures/import";

/// The printed tables with an image and a port under each `[[service]]`,
/// after a `[project]`: the least spec they complete.
fn completed(printed: &str) -> String {
    let mut spec = String::from("[project]\nname = \"shop\"\n\n");
    let mut in_service = false;
    for line in printed.lines() {
        spec.push_str(line);
        spec.push('\n');
        if line == "[[service]]" {
            in_service = true;
        } else if in_service && line.starts_with("name = ") {
            spec.push_str("image = \"registry.example.com/app:1.0\"\nport = 8080\n");
            in_service = false;
        }
    }
    spec
}

/// Imports `files`, writes the completed spec into `dir`, and checks that
/// it validates and generates; returns the import's run.
fn round_trip(format: &str, files: &[&str], dir: &Path, code: i32) -> Run {
    let mut args = vec!["import", format];
    let paths: Vec<String> = files.iter().map(|f| format!("{FIXTURES}/{f}")).collect();
    args.extend(paths.iter().map(String::as_str));
    let run = harden(&args).code(code);
    let spec = dir.join("hardening.toml");
    std::fs::write(&spec, completed(&run.stdout)).expect("write spec");
    let spec = spec.to_string_lossy().to_string();
    harden(&["validate", &spec]).success();
    harden(&["generate", "-q", &spec]).success();
    run
}

#[test]
fn sloth_specs_become_ratio_slos_and_the_rest_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = round_trip("sloth", &["sloth/checkout.yml"], dir.path(), 1);
    for said in [
        // events → ratio, `{{.window}}` → `$window`, one line.
        "ratio = { bad = 'sum(rate(http_requests_total{job=\"checkout\",code=~\"5..\"}[$window]))', total = 'sum(rate(http_requests_total{job=\"checkout\"}[$window]))' }",
        "ratio = { bad = 'sum(rate(payments_failed_total{method=\"card\"}[$window]))', total = 'sum(rate(payments_total{method=\"card\"}[$window]))' }",
        // raw → the error ratio over a total of 1.
        "ratio = { bad = 'sum(rate(upstream_requests_total{code=~\"5..\"}[$window])) / sum(rate(upstream_requests_total[$window]))', total = \"vector(1)\" }",
        "objective = \"99.9%\"",
        // Service, SLO and alerting labels and annotations on the SLO.
        "labels = { category = \"availability\", owner = \"payments\" }",
        "annotations = { playbook = \"https://wiki.example.com/checkout/availability\" }",
        "labels = { component = \"cards\", owner = \"payments\" }",
        // A page severity of warning, a disabled ticket alert: tiers.
        "{ alert = \"page\", long = \"1h\", short = \"5m\", budget_consumed = \"2%\", severity = \"warning\" },",
        "{ alert = \"ticket\", long = \"1d\", short = \"2h\", budget_consumed = \"10%\", enabled = false },",
        "# Checkout requests not answered with a 5xx.",
    ] {
        assert!(run.stdout.contains(said), "{said} missing:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("queue-latency"), "{}", run.stdout);
    for said in [
        "not imported: tests/fixtures/import/sloth/checkout.yml: slos[3].sli.plugin: a plugin SLI",
        "not imported: tests/fixtures/import/sloth/checkout.yml: slos[0].alerting.page_alert.labels.routing_key",
        "note: tests/fixtures/import/sloth/checkout.yml: slos[0].alerting.name: Sloth's alerts are CheckoutAvailability",
        "imported 3 SLOs of 1 service; parts of the files were not imported",
    ] {
        assert!(run.stderr.contains(said), "{said} missing:\n{}", run.stderr);
    }
    // The same bytes again: deterministic.
    let again = harden(&["import", "sloth", &format!("{FIXTURES}/sloth/checkout.yml")]);
    assert_eq!(again.stdout, run.stdout);
    let Some(promtool) = validator("promtool") else {
        return;
    };
    promtool_rules(&promtool, dir.path());
}

#[test]
fn the_kubernetes_shape_of_sloth_reads_like_the_plain_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = round_trip("sloth", &["sloth/k8s-checkout.yml"], dir.path(), 0);
    for said in [
        "name = \"checkout\"",
        "ratio = { bad = 'sum(rate(payments_failed_total{method=\"card\"}[$window]))', total = 'sum(rate(payments_total{method=\"card\"}[$window]))' }",
        "total = \"vector(1)\"",
        "{ alert = \"page\", long = \"1h\", short = \"5m\", budget_consumed = \"2%\", enabled = false },",
    ] {
        assert!(run.stdout.contains(said), "{said} missing:\n{}", run.stdout);
    }
    let Some(promtool) = validator("promtool") else {
        return;
    };
    promtool_rules(&promtool, dir.path());
}

#[test]
fn files_in_neither_format_are_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let odd = dir.path().join("odd.yml");
    std::fs::write(&odd, "version: \"prometheus/v2\"\nservice: x\n").expect("write");
    let odd = odd.to_string_lossy().to_string();
    let run = harden(&["import", "sloth", &odd]).code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("not a Sloth spec"), "{}", run.stderr);
    let run = harden(&["import", "openslo", &odd]).code(2);
    assert!(
        run.stderr.contains("not an OpenSLO v1 document"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.path().join("bad.yml"), "a: [\n").expect("write");
    let bad = dir.path().join("bad.yml").to_string_lossy().to_string();
    let run = harden(&["import", "sloth", &bad]).code(2);
    assert!(run.stderr.contains("not YAML"), "{}", run.stderr);
}

#[test]
fn openslo_ratio_slos_round_trip_through_validate_generate_and_promtool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = round_trip("openslo", &["openslo/checkout.yaml"], dir.path(), 0);
    for said in [
        // An SLI by reference, a counter selector as its rate over $window.
        "name = \"checkout-availability\"\nobjective = \"99.9%\"\nwindow = \"28d\"\nratio = { bad = 'sum(rate(http_requests_total{job=\"checkout\",code=\"500\"}[$window]))', total = 'sum(rate(http_requests_total{job=\"checkout\"}[$window]))' }",
        // Burn-rate conditions as page tiers, a short window a twelfth of the long.
        "{ alert = \"page\", long = \"1h\", short = \"5m\", factor = 14.4, for = \"2m\" },",
        "{ alert = \"page\", long = \"6h\", short = \"30m\", factor = 6, for = \"2m\" },",
        // Two objectives, two SLOs; targetPercent and target alike.
        "name = \"card-payments-most\"\nobjective = \"99%\"",
        "name = \"card-payments-nearly-all\"\nobjective = \"99.5%\"",
        "ratio = { good = 'sum(rate(payments_succeeded_total{method=\"card\"}[$window]))'",
    ] {
        assert!(run.stdout.contains(said), "{said} missing:\n{}", run.stdout);
    }
    assert!(
        run.stderr
            .contains("harden's tier also needs a short window, shorter than 1h: 5m"),
        "{}",
        run.stderr
    );
    let rules =
        std::fs::read_to_string(dir.path().join("prometheus/rules/checkout.yml")).expect("rules");
    assert!(
        rules.contains("slo:sli_error:ratio_rate1h{service=\"checkout\",slo=\"checkout-availability\"} > 0.0144"),
        "{rules}"
    );
    // Two objectives on one SLI read the same series: a generated case for
    // one would fire the other's alerts, so there are none, and the file says so.
    assert!(
        rules.contains("# No generated test cases for SLO card-payments-most: SLO card-payments-nearly-all reads the same series"),
        "{rules}"
    );
    let Some(promtool) = validator("promtool") else {
        return;
    };
    promtool_rules(&promtool, dir.path());
}

#[test]
fn what_openslo_says_that_harden_cannot_is_named_not_dropped() {
    let run = harden(&[
        "import",
        "openslo",
        &format!("{FIXTURES}/openslo/unsupported.yaml"),
    ])
    .code(1);
    for said in [
        "(document 1): spec.indicator.spec.thresholdMetric: a threshold metric",
        "(document 1): spec.budgetingMethod: harden budgets occurrences",
        "(document 2): spec.timeWindow[0]: harden's budgets roll; a calendar window is not expressible",
        "(document 2): spec.indicator.spec.ratioMetric.bad.metricSource.spec.query: the query has no `$window`",
        "(document 3): spec.frequency: unknown key `frequency`",
        "harden reads Prometheus metric sources, not `Datadog`",
        "imported 0 SLOs of 0 services; parts of the files were not imported",
    ] {
        assert!(run.stderr.contains(said), "{said} missing:\n{}", run.stderr);
    }
    assert!(
        !run.stdout.lines().any(|l| l.starts_with("[[")),
        "{}",
        run.stdout
    );
}

/// One promtool run loads Sloth's rules for `compare.yml` and harden's for
/// its import, fed the same requests: six hours of 100 a minute, then 10%
/// of them failing. Both pages become active at the same evaluation (the
/// 1h/5m tier's ratio passes 14.4 × 0.1% nine minutes in); Sloth's, with
/// no `for`, fires then; harden's stays pending for its `for` (2m) and fires.
#[test]
fn imported_sloth_slos_page_when_sloths_own_rules_do() {
    let (Some(sloth), Some(promtool)) = (validator("sloth"), validator("promtool")) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    round_trip("sloth", &["sloth/compare.yml"], dir.path(), 0);
    let sloth_rules = dir.path().join("sloth.yml");
    let out = Command::new(&sloth)
        .args([
            "generate",
            "-i",
            &format!("{FIXTURES}/sloth/compare.yml"),
            "-o",
        ])
        .arg(&sloth_rules)
        .current_dir(root())
        .output()
        .expect("run sloth");
    assert_ok("sloth generate", &out);
    let harden_rules =
        std::fs::read_to_string(dir.path().join("prometheus/rules/checkout.yml")).expect("rules");
    assert!(harden_rules.contains("for: 2m"), "{harden_rules}");
    // Each file's groups in its order (recordings before the alerts that
    // read them); promtool orders groups it is not told about at random.
    let mut order = String::new();
    for file in [
        dir.path().join("prometheus/rules/checkout.yml"),
        sloth_rules.clone(),
    ] {
        let text = std::fs::read_to_string(&file).expect("rules");
        let rules: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        for group in rules["groups"].as_array().expect("groups") {
            order.push_str(&format!("  - {}\n", group["name"].as_str().expect("name")));
        }
    }
    // The error counter starts high, as a long-running one does: from 0,
    // rate() would not extrapolate its first window as it does the total's.
    let quiet = 360;
    let test = format!(
        r#"rule_files:
  - prometheus/rules/checkout.yml
  - sloth.yml
evaluation_interval: 1m
group_eval_order:
{order}tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{{job="checkout",instance="checkout:8080",code="200"}}'
        values: '0+100x{quiet} {ok}+90x60'
      - series: 'http_requests_total{{job="checkout",instance="checkout:8080",code="500"}}'
        values: '1000+0x{quiet} 1010+10x59'
    promql_expr_test:
{checks}"#,
        ok = 100 * quiet + 90,
        checks = [
            // (minutes into the errors, sloth's page firing, harden's page state)
            (8, 0, ""),
            (9, 1, "pending"),
            (10, 1, "pending"),
            (11, 1, "firing"),
            (30, 1, "firing"),
        ]
        .iter()
        .map(|&(m, sloth, harden)| check(quiet + m, sloth, harden))
        .collect::<String>()
    );
    let file = dir.path().join("compare.test.yml");
    std::fs::write(&file, test).expect("write test");
    let out = Command::new(&promtool)
        .args(["test", "rules"])
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .expect("run promtool");
    assert_ok("promtool test rules (Sloth's and harden's rules)", &out);
}

/// The checks at minute `at`: Sloth's page firing or not, harden's page in
/// `state` (or absent), and once both are active, the same activation time.
fn check(at: u64, sloth: u8, state: &str) -> String {
    let sloth_page =
        "ALERTS{alertname=\"CheckoutAvailability\",sloth_severity=\"page\",alertstate=\"firing\"}";
    let harden_page = |s: &str| {
        format!(
            "ALERTS{{alertname=\"SLOErrorBudgetBurnPage\",slo=\"requests-availability\",alertstate=\"{s}\"}}"
        )
    };
    let mut out = format!(
        "      - eval_time: {at}m\n        expr: 'count({sloth_page}) or vector(0)'\n        exp_samples:\n          - labels: '{{}}'\n            value: {sloth}\n"
    );
    for s in ["pending", "firing"] {
        let value = u8::from(s == state);
        out.push_str(&format!(
            "      - eval_time: {at}m\n        expr: 'count({}) or vector(0)'\n        exp_samples:\n          - labels: '{{}}'\n            value: {value}\n",
            harden_page(s)
        ));
    }
    if sloth == 1 {
        out.push_str(&format!(
            "      - eval_time: {at}m\n        expr: 'sum(ALERTS_FOR_STATE{{alertname=\"SLOErrorBudgetBurnPage\",slo=\"requests-availability\"}}) - sum(ALERTS_FOR_STATE{{alertname=\"CheckoutAvailability\",sloth_severity=\"page\"}})'\n        exp_samples:\n          - labels: '{{}}'\n            value: 0\n"
        ));
    }
    out
}

/// Keys of the wrong type anywhere: each is noted (or the file refused),
/// never a panic, and what can be read still is.
#[test]
fn malformed_specs_are_noted_never_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sloth = dir.path().join("sloth.yml");
    std::fs::write(
        &sloth,
        r#"version: prometheus/v1
service: "Check Out!"
labels: [1, 2]
slos:
  - 5
  - name: no-objective
    objective: "high"
    sli: {events: {error_query: x, total_query: y}}
  - name: "Odd_Name"
    objective: 99
    labels: {ok: "yes", nested: {a: 1}, "bad-key": "v", multi: "a\nb"}
    sli: {events: {error_query: "sum(rate(e_total[{{.window}}]))"}}
  - name: typed
    objective: 99
    sli: []
    alerting: {page_alert: {labels: {severity: pager}}, ticket_alert: 3}
  - name: fine
    objective: 99.5
    sli: {raw: {error_ratio_query: "sum(rate(e_total[{{.window}}])) / sum(rate(t_total[{{.window}}]))"}}
    alerting: {page_alert: {labels: {severity: pager}}, ticket_alert: 3}
"#,
    )
    .expect("write");
    let run = harden(&["import", "sloth", &sloth.to_string_lossy()]).code(1);
    for said in [
        "note: ",
        "`Check Out!` is `check-out` in harden",
        "labels: not a mapping of strings",
        "slos[0]: not a mapping",
        "has no numeric objective",
        "an events SLI needs `error_query` and `total_query`",
        "harden's severities are critical, warning and info, not `pager`",
        "slos[4].alerting.ticket_alert: not a mapping",
        "imported 1 SLO of 1 service",
    ] {
        assert!(run.stderr.contains(said), "{said} missing:\n{}", run.stderr);
    }
    assert!(run.stdout.contains("name = \"fine\""), "{}", run.stdout);
    let openslo = dir.path().join("openslo.yaml");
    std::fs::write(
        &openslo,
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {name: x}
spec:
  service: 7
  objectives: 3
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: y}
spec:
  service: s
  indicatorRef: missing
  timeWindow: [{duration: "soon"}]
  objectives: [{target: "most"}]
  alertPolicies: [{alertPolicyRef: nowhere}, 4]
---
apiVersion: openslo/v1
kind: SLI
spec: {}
"#,
    )
    .expect("write");
    let run = harden(&["import", "openslo", &openslo.to_string_lossy()]).code(1);
    for said in [
        "(document 1): spec: an SLO without a `service`",
        "(document 2): spec.indicatorRef: no SLI named missing",
        "(document 3): this SLI has no `metadata.name`",
    ] {
        assert!(run.stderr.contains(said), "{said} missing:\n{}", run.stderr);
    }
}
