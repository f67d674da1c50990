//! A real smoke run of the generated runner against a stand-in service on
//! loopback: it passes against a healthy service and fails against an
//! erroring one. Only loopback traffic.

use crate::support::*;

/// Runs App-Oint's runner in smoke mode against `service`; returns the
/// exit code, the output and the requests the service saw.
fn app_oint_smoke_run(service: &Service) -> (i32, String, Vec<String>) {
    let out = generate(&Spec::app_oint());
    let env = [
        ("LOAD_TEST_EMAIL", "smoke@example.com"),
        ("LOAD_TEST_PASSWORD", "not-a-real-password"),
    ];
    let (code, output, results) = smoke_run(&out, &service.url, &env);
    for file in ["summary.json", "junit.xml"] {
        assert!(results.path().join(file).is_file(), "no {file}:\n{output}");
    }
    let junit = std::fs::read_to_string(results.path().join("junit.xml")).expect("junit");
    assert!(
        junit.contains("<testsuite name=\"api\" tests=\"16\""),
        "{junit}"
    );
    let requests = service.requests.lock().expect("log").clone();
    (code, output, requests)
}

#[test]
fn a_smoke_run_passes_against_a_healthy_service() {
    if validator("k6").is_none() {
        return;
    }
    let service = Service::start(false);
    let (code, output, requests) = app_oint_smoke_run(&service);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("PASS: staging meets its SLOs"), "{output}");
    // Every step ran, with generated and environment data in the bodies.
    for expected in [
        "POST /api/auth/register {\"email\":\"load-",
        "POST /api/auth/login {\"email\":\"smoke@example.com\",\"password\":\"not-a-real-password\"}",
        "GET /api/availability ",
        "POST /api/appointments {\"slot\":\"next-available\"}",
    ] {
        assert!(
            requests.iter().any(|r| r.starts_with(expected)),
            "no request like {expected:?} in {requests:#?}"
        );
    }
    let registrations: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("/api/auth/register"))
        .collect();
    let unique: std::collections::BTreeSet<&&String> = registrations.iter().collect();
    assert_eq!(
        unique.len(),
        registrations.len(),
        "registration data repeats: {registrations:#?}"
    );
}

#[test]
fn a_smoke_run_fails_against_an_erroring_service() {
    if validator("k6").is_none() {
        return;
    }
    let service = Service::start(true);
    let (code, output, requests) = app_oint_smoke_run(&service);
    assert_eq!(code, 99, "k6's exit code for crossed thresholds\n{output}");
    assert!(
        output.contains("FAIL  http_req_failed rate<=0.001"),
        "{output}"
    );
    assert!(
        output.contains("FAIL: staging crossed an SLO threshold"),
        "{output}"
    );
    assert!(!requests.is_empty());
}
