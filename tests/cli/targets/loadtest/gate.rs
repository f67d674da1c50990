//! The error gate is the availability objective's error budget, not the
//! looser 5xx alert threshold: a real k6 smoke run of the generated script
//! against harden-demo failing 5% of its requests (above the 1% budget of
//! 99%, below the 10% alert threshold) exits 99, k6's code for crossed
//! thresholds, and against a healthy harden-demo exits 0. Loopback only.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

/// One service with a 99% objective and a 10% 5xx alert; a load test of
/// one scenario with a short think time, so the smoke run sends enough
/// requests for harden-demo's evenly spread failures to show.
const SPEC: &str = r#"
[project]
name = "gate"

[[service]]
name = "api"
image = "example/api:1"
port = 5001

[[service.slo]]
name = "availability"
objective = "99%"
availability = {}

[service.alerts]
error_rate_5xx = { threshold = "10%" }

[load_test]
service = "api"
environments = { staging = "https://staging.example.com" }
concurrent_users = 1
ramp_up = "1s"
hold = "1s"
ramp_down = "1s"
think_time = "50ms"

[[load_test.scenario]]
name = "browse"
weight = 1
steps = [{ method = "GET", path = "/api/availability", expect = 200 }]
"#;

/// The share of requests k6 counted as failed in a run's summary.
fn failed_rate(results: &Path) -> f64 {
    let text = std::fs::read_to_string(results.join("summary.json")).expect("summary.json");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("summary JSON");
    summary["metrics"]["http_req_failed"]["values"]["rate"]
        .as_f64()
        .expect("http_req_failed rate")
}

#[test]
fn a_smoke_run_fails_past_the_error_budget_and_passes_when_healthy() {
    if validator("k6").is_none() {
        return;
    }
    let out = generate(&Spec::toml(SPEC));
    let [port] = free_ports();
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = Proc::start(
        "harden-demo",
        dir.path(),
        Path::new(env!("CARGO_BIN_EXE_harden-demo")),
        &["--port".into(), port.to_string()],
    );
    let started = Instant::now();
    while request(port, "GET", "/readiness") != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "harden-demo did not start\n{}",
            demo.tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("http://127.0.0.1:{port}");

    assert_eq!(request(port, "GET", "/admin/faults?error_rate=0.05"), 200);
    let (code, output, results) = smoke_run(&out, &url, &[]);
    assert_eq!(code, 99, "k6's exit code for crossed thresholds\n{output}");
    assert!(
        output.contains("FAIL  http_req_failed rate<=0.01"),
        "{output}"
    );
    let rate = failed_rate(results.path());
    assert!(
        rate > 0.01 && rate < 0.1,
        "{rate} of requests failed: the test needs a rate the old gate (the 10% alert) passed\n{output}"
    );

    assert_eq!(request(port, "GET", "/admin/faults?error_rate=0"), 200);
    let (code, output, results) = smoke_run(&out, &url, &[]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("PASS  http_req_failed rate<=0.01"),
        "{output}"
    );
    assert_eq!(failed_rate(results.path()), 0.0);
}
