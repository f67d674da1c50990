//! End to end on real software: the demo service, Prometheus and
//! Alertmanager (`prometheus` and `alertmanager` on PATH: in CI the upstream
//! builds of .ci/upstream.sh) on loopback, run with the files harden
//! generates from a spec with short intervals. A 5xx burst must reach a
//! Slack-style and a PagerDuty-style capture server naming the alert, the
//! service and the runbook; health restored, both must see it resolved;
//! `harden check --live` passes against the stack, and fails once the demo
//! is stopped. Every process is stopped by PID (a Drop guard), every wait
//! is bounded.
//!
//! Two test-side edits to a *copy* of the tree, because the spec cannot
//! say them: Prometheus reaches Alertmanager as `alertmanager:<port>` (the
//! Compose/Kubernetes service name), rewritten to `127.0.0.1:<port>`; and
//! Alertmanager's global `pagerduty_url` points at the capture server
//! (PagerDuty's URL is not a secret and not in the spec). The generated
//! tree itself stays untouched, so the static checks run on it.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// A loopback HTTP server that records every request body and answers
/// `status` with `reply` of `content_type`.
struct Capture {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Capture {
    fn start(status: &'static str, content_type: &'static str, reply: &'static str) -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (Arc::clone(&bodies), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(body) = read_request(stream, status, content_type, reply) {
                            b.lock().expect("lock").push(body);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Capture { url, bodies, stop }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().expect("lock").clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(
    stream: TcpStream,
    status: &str,
    content_type: &str,
    reply: &str,
) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// GET or POST `path` on 127.0.0.1:`port`; the status, or 0 when unreachable.
fn request(port: u16, method: &str, path: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().expect("addr"),
        Duration::from_secs(1),
    ) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Polls `done` every 250ms until it holds or `limit` passes.
fn wait_for(what: &str, limit: Duration, procs: &[&Proc], mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            let logs: Vec<String> = procs.iter().map(|p| p.tail()).collect();
            panic!(
                "timed out after {limit:?} waiting for {what}\n{}",
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Sends API requests to the demo until stopped: `per_tick` every 50ms.
struct Traffic {
    stop: Arc<AtomicBool>,
    per_tick: Arc<Mutex<u32>>,
}

impl Traffic {
    fn start(port: u16) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let per_tick = Arc::new(Mutex::new(1));
        let (s, n) = (Arc::clone(&stop), Arc::clone(&per_tick));
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let count = *n.lock().expect("lock");
                for _ in 0..count {
                    request(port, "GET", "/api/availability");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Traffic { stop, per_tick }
    }

    fn set(&self, per_tick: u32) {
        *self.per_tick.lock().expect("lock") = per_tick;
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn spec(ports: &Ports, secrets: &Path) -> String {
    format!(
        r##"[project]
name = "e2e"
environment = "test"
regions = ["local"]
runbook_url = "https://runbooks.example.test"

[monitoring]
prometheus_port = {prometheus}
alertmanager_port = {alertmanager}
grafana_port = {grafana}
scrape_interval = "1s"
evaluation_interval = "1s"

[[service]]
name = "api"
image = "example/api:1"
port = {demo}
targets = {{ local = ["127.0.0.1:{demo}"] }}

[service.slo]
availability = "99%"
error_rate_5xx = "10%"

[service.alerts]
slo_burn_page = {{ for = "1s" }}
error_rate_5xx = {{ for = "1s" }}

[alerting]
group_wait = "1s"
group_interval = "1s"
repeat_interval = "1h"
default_receiver = "slack"

[[alerting.receiver]]
name = "pager"
type = "pagerduty"
routing_key = {{ file = "{secrets}/pagerduty-routing-key" }}

[[alerting.receiver]]
name = "slack"
type = "slack"
channel = "#e2e"
webhook_url = {{ file = "{secrets}/slack-webhook-url" }}

[[alerting.route]]
severity = "critical"
receivers = ["pager", "slack"]
"##,
        prometheus = ports.prometheus,
        alertmanager = ports.alertmanager,
        grafana = ports.grafana,
        demo = ports.demo,
        secrets = secrets.display(),
    )
}

struct Ports {
    demo: u16,
    prometheus: u16,
    alertmanager: u16,
    grafana: u16,
}

fn live_check(spec: &Path, out: &Path, ports: &Ports) -> Run {
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    harden(&[
        "check",
        &s(spec),
        "--out",
        &s(out),
        "--live",
        "--format",
        "json",
        "--base-url",
        &format!("api={}", url(ports.demo)),
        "--prometheus",
        &url(ports.prometheus),
        "--alertmanager",
        &url(ports.alertmanager),
        "--grafana",
        "off",
    ])
}

fn failed_checks(run: &Run) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json report");
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| format!("{}: {}", c["name"], c["detail"]))
        .collect()
}

/// The notifications for `alert` in a capture's bodies.
fn about<'a>(bodies: &'a [String], alert: &str) -> Vec<&'a String> {
    bodies.iter().filter(|b| b.contains(alert)).collect()
}

#[test]
fn alerts_fire_reach_receivers_and_resolve_on_a_real_stack() {
    let (Some(prometheus), Some(alertmanager)) =
        (validator("prometheus"), validator("alertmanager"))
    else {
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let root_dir = dir.path();
    let secrets = root_dir.join("secrets");
    fs::create_dir_all(&secrets).expect("mkdir");
    // A Slack incoming webhook answers a bare `ok` as text; Alertmanager
    // (0.26 on) parses a reply labelled JSON as JSON and fails on `ok`.
    let slack = Capture::start("200 OK", "text/html", "ok");
    let pagerduty = Capture::start(
        "202 Accepted",
        "application/json",
        r#"{"status":"success","message":"Event processed","dedup_key":"e2e"}"#,
    );
    fs::write(
        secrets.join("slack-webhook-url"),
        format!("{}/services/e2e", slack.url),
    )
    .expect("write");
    fs::write(
        secrets.join("pagerduty-routing-key"),
        "e2e0000000000000000000000000000",
    )
    .expect("write");
    let [demo_port, prometheus_port, alertmanager_port, grafana_port] = free_ports();
    let ports = Ports {
        demo: demo_port,
        prometheus: prometheus_port,
        alertmanager: alertmanager_port,
        grafana: grafana_port,
    };
    let spec_path = root_dir.join("hardening.toml");
    fs::write(&spec_path, spec(&ports, &secrets)).expect("write spec");
    let out = root_dir.join("out");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    harden(&["generate", &s(&spec_path), "--out", &s(&out)]).success();

    // Run Prometheus and Alertmanager from a copy with the two loopback edits.
    let run = root_dir.join("run");
    copy_tree(&out, &run);
    let prom_yml = run.join("prometheus/prometheus.yml");
    let text = fs::read_to_string(&prom_yml).expect("read");
    let from = format!("alertmanager:{}", ports.alertmanager);
    assert!(text.contains(&from), "{text}");
    fs::write(
        &prom_yml,
        text.replace(&from, &format!("127.0.0.1:{}", ports.alertmanager)),
    )
    .expect("write");
    let am_yml = run.join("alertmanager/alertmanager.yml");
    let text = fs::read_to_string(&am_yml).expect("read");
    assert!(!text.contains("\nglobal:"), "{text}");
    fs::write(
        &am_yml,
        format!(
            "global:\n  pagerduty_url: {}/v2/enqueue\n{text}",
            pagerduty.url
        ),
    )
    .expect("write");

    let mut demo = Proc::start(
        "harden-demo",
        root_dir,
        Path::new(env!("CARGO_BIN_EXE_harden-demo")),
        &["--port".into(), ports.demo.to_string()],
    );
    let am = Proc::start(
        "alertmanager",
        root_dir,
        &alertmanager,
        &[
            format!("--config.file={}", s(&am_yml)),
            format!("--storage.path={}", s(&root_dir.join("am-data"))),
            format!("--web.listen-address=127.0.0.1:{}", ports.alertmanager),
            "--cluster.listen-address=".into(),
        ],
    );
    let prom = Proc::start(
        "prometheus",
        root_dir,
        &prometheus,
        &[
            format!("--config.file={}", s(&prom_yml)),
            format!("--storage.tsdb.path={}", s(&root_dir.join("prom-data"))),
            format!("--web.listen-address=127.0.0.1:{}", ports.prometheus),
        ],
    );
    let procs = [&demo, &am, &prom];
    let limit = Duration::from_secs(60);
    wait_for(
        "the demo, Prometheus and Alertmanager to be ready",
        limit,
        &procs,
        || {
            request(ports.demo, "GET", "/readiness") == 200
                && request(ports.prometheus, "GET", "/-/ready") == 200
                && request(ports.alertmanager, "GET", "/-/ready") == 200
        },
    );

    // Healthy traffic first, so every series has a history before the burst.
    let traffic = Traffic::start(ports.demo);
    std::thread::sleep(Duration::from_secs(4));

    // The live checks pass against the running stack, once Prometheus has
    // picked up its targets (it applies discovered targets every 5s) and
    // scraped them.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let check = live_check(&spec_path, &out, &ports);
        if check.code == 0 {
            break;
        }
        let failed = failed_checks(&check);
        assert!(
            Instant::now() < deadline,
            "harden check --live never passed: {failed:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Half the API requests fail: both critical alerts fire and reach both receivers.
    assert_eq!(
        request(ports.demo, "GET", "/admin/faults?error_rate=0.5"),
        200
    );
    let alerts = ["HighErrorRate5xx", "SLOErrorBudgetBurnPage"];
    wait_for("both alerts at both receivers", limit, &procs, || {
        let (sl, pd) = (slack.bodies(), pagerduty.bodies());
        alerts
            .iter()
            .all(|a| !about(&sl, a).is_empty() && !about(&pd, a).is_empty())
    });
    for alert in alerts {
        let runbook = format!("https://runbooks.example.test/{alert}.md");
        let sl = slack.bodies();
        let firing = about(&sl, alert);
        let body = firing[0];
        assert!(body.contains("[FIRING"), "{body}");
        assert!(body.contains(&format!("{alert} (api)")), "{body}");
        assert!(body.contains(&runbook), "{body}");
        assert!(body.contains("#e2e"), "{body}");
        let pd = pagerduty.bodies();
        let body = about(&pd, alert)[0];
        let event: serde_json::Value = serde_json::from_str(body).expect("pagerduty json");
        assert_eq!(event["event_action"], "trigger", "{body}");
        assert_eq!(
            event["routing_key"], "e2e0000000000000000000000000000",
            "{body}"
        );
        let summary = event["payload"]["summary"].as_str().unwrap_or("");
        assert!(summary.starts_with(&format!("{alert} (api): ")), "{body}");
        assert!(body.contains(&runbook), "{body}");
    }

    // The runbook's first step, run as written against this Prometheus,
    // finds the firing rule of the service and its query's current result.
    let runbook = fs::read_to_string(out.join("runbooks/HighErrorRate5xx.md")).expect("runbook");
    let confirm = runbook
        .split("### 1. Confirm it")
        .nth(1)
        .and_then(|s| s.split("```sh\n").nth(1))
        .and_then(|s| s.split("\n```").next())
        .expect("the Confirm it block");
    let run = Command::new("bash")
        .args(["-c", &format!("set -euo pipefail\n{confirm}")])
        .env(
            "PROMETHEUS_URL",
            format!("http://127.0.0.1:{}", ports.prometheus),
        )
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{confirm}\n{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (rule, now) = stdout
        .split_once("\n}\n")
        .expect("the rule, then the query's result");
    assert!(rule.contains("\"state\": \"firing\""), "{stdout}");
    assert!(rule.contains("\"activeAt\""), "{stdout}");
    assert!(now.contains("\"service\": \"api\""), "{stdout}");

    // Health restored and a flood of successes: the 5m ratios fall below
    // the thresholds and both receivers hear the alerts resolve.
    assert_eq!(
        request(ports.demo, "GET", "/admin/faults?error_rate=0"),
        200
    );
    traffic.set(40);
    wait_for(
        "both alerts resolved at both receivers",
        limit,
        &procs,
        || {
            let (sl, pd) = (slack.bodies(), pagerduty.bodies());
            alerts.iter().all(|a| {
                about(&sl, a).iter().any(|b| b.contains("[RESOLVED]"))
                    && about(&pd, a)
                        .iter()
                        .any(|b| b.contains("\"event_action\":\"resolve\""))
            })
        },
    );
    drop(traffic);

    // With the demo stopped, the live checks fail and say where.
    demo.stop();
    let check = live_check(&spec_path, &out, &ports).code(1);
    let fails = failed_checks(&check);
    assert!(
        fails.iter().any(|f| f.contains("api health endpoint")
            && f.contains(&format!("127.0.0.1:{}", ports.demo))),
        "{fails:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(240),
        "{:?}",
        started.elapsed()
    );
    drop((prom, am));
}
