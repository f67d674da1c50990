//! The generated k6 load test: k6 accepts it, plans the spec's load with the
//! SLOs as thresholds, and a real smoke run passes against a healthy service
//! and fails against an erroring one. Only loopback traffic.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crate::common::*;

fn app_oint() -> std::path::PathBuf {
    root().join("examples/app-oint/hardening.toml")
}

pub(crate) fn inspect(k6: &Path, script: &Path) -> serde_json::Value {
    let result = Command::new(k6)
        .args(["inspect", "--execution-requirements"])
        .arg(script)
        .output()
        .expect("k6 runs");
    assert!(
        result.status.success(),
        "k6 inspect rejected {}:\n{}",
        script.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    serde_json::from_slice(&result.stdout).expect("k6 inspect prints JSON")
}

#[test]
fn k6_accepts_every_examples_load_test() {
    let Some(k6) = validator("k6") else {
        return;
    };
    for spec in example_specs() {
        let out = generate_example(&spec);
        let script = out.path().join("testing/load-tests/load-test.js");
        if script.is_file() {
            inspect(&k6, &script);
        }
    }
}

#[test]
fn app_oint_plans_ten_thousand_users_with_its_slos_as_thresholds() {
    let Some(k6) = validator("k6") else {
        return;
    };
    // The numbers the spec states, checked here so the test follows the spec.
    let spec = std::fs::read_to_string(app_oint()).expect("spec");
    for stated in [
        "concurrent_users = 10000",
        "{ percentile = 95, threshold = \"500ms\" }",
        "{ percentile = 99, threshold = \"1500ms\" }",
        "error_rate_5xx = \"1%\"",
        "ramp_up = \"5m\"",
        "hold = \"15m\"",
        "ramp_down = \"2m\"",
    ] {
        assert!(spec.contains(stated), "the example no longer says {stated}");
    }
    let out = generate_example(&app_oint());
    let plan = inspect(&k6, &out.path().join("testing/load-tests/load-test.js"));
    assert_eq!(plan["maxVUs"], 10_000, "{plan:#}");
    assert_eq!(
        plan["totalDuration"], "22m30s",
        "ramp-up + hold + ramp-down + the default 30s graceful stop"
    );
    assert_eq!(plan["discardResponseBodies"], true);
    let thresholds = &plan["thresholds"];
    let latency = serde_json::json!(["p(95)<500", "p(99)<1500"]);
    let failed = serde_json::json!(["rate<0.01"]);
    let checks = serde_json::json!(["rate>0.99"]);
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

/// A tiny HTTP service on 127.0.0.1 answering App-Oint's scenario paths
/// with their expected statuses, or 500 to everything when `failing`. It
/// records each request line and body. Dropped, it stops accepting.
pub(crate) struct Service {
    pub(crate) url: String,
    stop: Arc<AtomicBool>,
    pub(crate) requests: Arc<std::sync::Mutex<Vec<String>>>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Service {
    pub(crate) fn start(failing: bool) -> Service {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stop_flag, log) = (stop.clone(), requests.clone());
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let log = log.clone();
                thread::spawn(move || serve(stream, failing, &log));
            }
        });
        Service {
            url,
            stop,
            requests,
            accept: Some(accept),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Answers requests on one keep-alive connection until the client closes it.
fn serve(stream: TcpStream, failing: bool, log: &std::sync::Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let status = match (failing, method, path) {
            (true, _, _) => "500 Internal Server Error",
            (_, "POST", "/api/auth/register" | "/api/appointments") => "201 Created",
            (_, "POST", "/api/auth/login") | (_, "GET", "/api/availability") => "200 OK",
            _ => "404 Not Found",
        };
        log.lock().expect("log").push(format!(
            "{method} {path} {}",
            String::from_utf8_lossy(&body)
        ));
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Runs the generated runner in smoke mode against `service`, bounded by
/// `timeout`; returns the exit code and output.
fn smoke_run(service: &Service) -> (i32, String, Vec<String>) {
    let out = generate_example(&app_oint());
    let results = tempfile::tempdir().expect("tempdir");
    let result = Command::new("timeout")
        .arg("120")
        .arg(out.path().join("testing/load-tests/run-load-test.sh"))
        .args(["--smoke", "--base-url", &service.url, "staging"])
        .env("RESULTS_DIR", results.path())
        .env("LOAD_TEST_EMAIL", "smoke@example.com")
        .env("LOAD_TEST_PASSWORD", "not-a-real-password")
        .env("K6_NO_USAGE_REPORT", "true")
        .output()
        .expect("the runner runs");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    for file in ["summary.json", "junit.xml"] {
        assert!(results.path().join(file).is_file(), "no {file}:\n{output}");
    }
    let junit = std::fs::read_to_string(results.path().join("junit.xml")).expect("junit");
    assert!(
        junit.contains("<testsuite name=\"api\" tests=\"16\""),
        "{junit}"
    );
    let requests = service.requests.lock().expect("log").clone();
    (result.status.code().unwrap_or(-1), output, requests)
}

#[test]
fn a_smoke_run_passes_against_a_healthy_service() {
    if validator("k6").is_none() {
        return;
    }
    let service = Service::start(false);
    let (code, output, requests) = smoke_run(&service);
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
    let (code, output, requests) = smoke_run(&service);
    assert_eq!(code, 99, "k6's exit code for crossed thresholds\n{output}");
    assert!(
        output.contains("FAIL  http_req_failed rate<0.01"),
        "{output}"
    );
    assert!(
        output.contains("FAIL: staging crossed an SLO threshold"),
        "{output}"
    );
    assert!(!requests.is_empty());
}
