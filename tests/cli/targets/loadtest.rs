//! The k6 load test, `testing/load-tests/`: k6 accepts every script, the
//! plan is the spec's load with its SLOs as thresholds, and App-Oint's
//! matches its snapshot. Real smoke runs are in `loadtest/smoke.rs`.

mod gate;
mod smoke;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn k6_accepts_every_examples_load_test() {
    let Some(k6) = validator("k6") else {
        return;
    };
    for tree in generating("loadtest") {
        k6_inspect(&k6, &tree.join("testing/load-tests/load-test.js"));
    }
}

// --- (b) The numbers in the files equal the model and the spec ----------------

#[test]
fn app_oint_plans_ten_thousand_users_with_its_objectives_as_thresholds() {
    let Some(k6) = validator("k6") else {
        return;
    };
    // The numbers the spec states, checked here so the test follows the spec.
    let spec = std::fs::read_to_string(root().join(APP_OINT)).expect("spec");
    for stated in [
        "concurrent_users = 10000",
        "objective = \"95%\"                    # of requests answered within 500ms\nlatency = { threshold = \"500ms\" }",
        "objective = \"99%\"\nlatency = { threshold = \"1500ms\" }",
        "objective = \"99.9%\"                  # of requests not answered with a 5xx",
        "ramp_up = \"5m\"",
        "hold = \"15m\"",
        "ramp_down = \"2m\"",
    ] {
        assert!(spec.contains(stated), "the example no longer says {stated}");
    }
    let out = generate(&Spec::app_oint());
    let plan = k6_inspect(&k6, &out.path().join("testing/load-tests/load-test.js"));
    assert_eq!(plan["maxVUs"], 10_000, "{plan:#}");
    assert_eq!(
        plan["totalDuration"], "22m30s",
        "ramp-up + hold + ramp-down + the default 30s graceful stop"
    );
    assert_eq!(plan["discardResponseBodies"], true);
    let thresholds = &plan["thresholds"];
    // The objectives themselves: 99.9% leaves 0.1% of requests to fail
    // (not the 1% of the 5xx alert), and p95/p99 at most 500ms/1500ms.
    let latency = serde_json::json!(["p(95)<=500", "p(99)<=1500"]);
    let failed = serde_json::json!(["rate<=0.001"]);
    let checks = serde_json::json!(["rate>=0.999"]);
    for filter in [
        "",
        "{scenario:registration}",
        "{scenario:login}",
        "{scenario:booking}",
    ] {
        assert_eq!(
            thresholds[format!("http_req_duration{filter}")],
            latency,
            "{thresholds:#}"
        );
        assert_eq!(
            thresholds[format!("http_req_failed{filter}")],
            failed,
            "{thresholds:#}"
        );
        assert_eq!(
            thresholds[format!("checks{filter}")],
            checks,
            "{thresholds:#}"
        );
    }
    assert_eq!(
        thresholds.as_object().map(|t| t.len()),
        Some(12),
        "{thresholds:#}"
    );
    // Users split by weight 10 / 30 / 60, each ramping up, holding, ramping down.
    for (scenario, users) in [("registration", 1000), ("login", 3000), ("booking", 6000)] {
        let stages = &plan["scenarios"][scenario]["stages"];
        assert_eq!(
            stages,
            &serde_json::json!([
                { "duration": "5m0s", "target": users },
                { "duration": "15m0s", "target": users },
                { "duration": "2m0s", "target": 0 },
            ]),
            "{scenario}"
        );
        assert_eq!(plan["scenarios"][scenario]["executor"], "ramping-vus");
    }
}

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_load_test_matches_its_snapshot() {
    assert_example_snapshots("loadtest");
}
