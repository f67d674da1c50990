//! End to end on real software: the demo service, Prometheus and
//! Alertmanager (`prometheus` and `alertmanager` on PATH: in CI the upstream
//! builds of .ci/upstream.sh) on
//! loopback, run with the files harden generates from a spec with short
//! intervals. `harden check --live` passes against the stack. A service that
//! has served no 5xx has its whole error budget and no burn. A 5xx burst
//! pages: the page tier reaches a Slack-style and a PagerDuty-style capture
//! server naming the alert, the service and the runbook, while the ticket
//! tier and the 5xx warning it covers fire too but are inhibited
//! (`inhibitedBy` in Alertmanager's API) and notify no one; every panel of
//! every generated dashboard has data, with its variables at their defaults
//! and at one value each. Health restored, both receivers see the page
//! resolved. Then an outage: only TargetDown is notified (MetricsAbsent
//! stays quiet), and `harden check --live` fails naming the demo. Every
//! process is stopped by PID (a Drop guard), every wait is bounded.
//!
//! Three test-side edits to a *copy* of the tree, because the spec cannot
//! say them: Prometheus reaches Alertmanager as `alertmanager:<port>` (the
//! Compose/Kubernetes service name), rewritten to `127.0.0.1:<port>`;
//! Alertmanager's global `pagerduty_url` points at the capture server
//! (PagerDuty's URL is not a secret and not in the spec); and the SLO-window
//! group's `interval: 5m` becomes 1s, so its budget series exist within
//! the test (Prometheus first evaluates a group up to one interval after
//! it starts). The generated tree itself stays untouched, so the static
//! checks run on it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

/// Alertmanager's active alerts named `name` (`/api/v2/alerts`).
fn am_alerts(port: u16, name: &str) -> Vec<serde_json::Value> {
    let body = get(port, "/api/v2/alerts");
    let alerts: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap_or_default();
    alerts
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == name)
        .collect()
}

/// Every panel query of every generated dashboard, with each template
/// variable at its default (All, `allValue`) and then at one concrete
/// value, as Grafana would substitute them: those that return no series.
fn blank_panels(out: &Path, port: u16) -> Vec<String> {
    let mut blank = Vec::new();
    let dir = out.join("grafana/dashboards");
    let mut boards: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("dashboards")
        .map(|e| e.expect("entry").path())
        .collect();
    boards.sort();
    assert!(!boards.is_empty());
    for board in boards {
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&board).expect("read")).expect("json");
        let variables = json["templating"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // (name, default, one value): the value from the variable's own query.
        let mut settings: Vec<Vec<(String, String)>> = vec![Vec::new(), Vec::new()];
        for v in &variables {
            let name = v["name"].as_str().expect("variable name").to_string();
            let all = v["allValue"].as_str().unwrap_or(".*").to_string();
            let query_text = v["query"].as_str().expect("label_values query");
            let (series, label) = query_text
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .and_then(|q| q.rsplit_once(", "))
                .expect("label_values(series, label)");
            let series = series.replace("$region", ".*");
            let one = query(port, &series)
                .first()
                .and_then(|r| r["metric"][label].as_str().map(str::to_string))
                .unwrap_or_else(|| panic!("{}: no value for ${name}", board.display()));
            settings[0].push((name.clone(), all));
            settings[1].push((name, one));
        }
        for panel in json["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().cloned().unwrap_or_default() {
                let expr = target["expr"].as_str().expect("expr");
                for setting in &settings {
                    let mut q = expr.to_string();
                    for (name, value) in setting {
                        q = q.replace(&format!("${name}"), value);
                    }
                    if query(port, &q).is_empty() {
                        blank.push(format!(
                            "{} / {}: {q}",
                            board.file_name().expect("name").to_string_lossy(),
                            panel["title"]
                        ));
                    }
                }
            }
        }
    }
    blank
}

/// harden-demo's bucket bounds (src/bin/harden-demo.rs), as a spec lists them.
const DEMO_BUCKETS: &str = "0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10";

fn spec(ports: &Ports, secrets: &Path) -> String {
    spec_with(ports, secrets, DEMO_BUCKETS, "250ms")
}

/// The spec with other declared buckets and latency threshold.
fn spec_with(ports: &Ports, secrets: &Path, buckets: &str, threshold: &str) -> String {
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
# One of each: tests/cli/ha.rs runs the replicated stack.
prometheus_replicas = 1
alertmanager_replicas = 1

[[service]]
name = "api"
image = "example/api:1"
port = {demo}
targets = {{ local = ["127.0.0.1:{demo}"] }}
# harden-demo's histogram (src/bin/harden-demo.rs).
metrics = {{ buckets = [{buckets}] }}

# The page fires first; the lesser alerts it covers follow, as with the
# default `for`s (2m, 5m, 15m).
[[service.slo]]
name = "availability"
objective = "99%"
availability = {{}}
tiers = [
  {{ alert = "page", long = "1h", short = "5m", budget_consumed = "2%", for = "1s" }},
  {{ alert = "page", long = "6h", short = "30m", budget_consumed = "5%", for = "1s" }},
  {{ alert = "ticket", long = "1d", short = "2h", budget_consumed = "10%", for = "5s" }},
  {{ alert = "ticket", long = "3d", short = "6h", budget_consumed = "10%", for = "5s" }},
]

# 99% of one route's requests within {threshold}, over windows short
# enough for a test.
[[service.slo]]
name = "search-latency"
objective = "99%"
window = "1d"
latency = {{ threshold = "{threshold}", matchers = {{ path = "/api/availability" }} }}
tiers = [{{ alert = "page", long = "1m", short = "10s", factor = 10, for = "1s" }}]

# The same route within a whole second: Prometheus 3 stores harden-demo's
# `le="1"` as `le="1.0"`, and the rules must count that bucket either way.
[[service.slo]]
name = "search-within-1s"
objective = "99%"
window = "1d"
latency = {{ threshold = "1s", matchers = {{ path = "/api/availability" }} }}
tiers = [{{ alert = "page", long = "1m", short = "10s", factor = 10, for = "1s" }}]

# Bookings answered 201, counted from the request counter's labels.
[[service.slo]]
name = "bookings"
objective = "99%"
events = {{ good = 'http_requests_total{{path="/api/appointments",status="201"}}', total = 'http_requests_total{{path="/api/appointments"}}' }}

[service.alerts]
error_rate_5xx = {{ threshold = "10%", for = "5s" }}
target_down = {{ for = "1s" }}
metrics_absent = {{ for = "1s" }}
# The spent budget (ErrorBudgetExhausted) is a warning the page inhibits;
# its notification after the page would blur what this test asserts.
error_budget_exhausted = {{ enabled = false }}

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
        buckets = buckets,
        threshold = threshold,
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
    let rules_yml = run.join("prometheus/rules/api.yml");
    let text = fs::read_to_string(&rules_yml).expect("read");
    assert!(text.contains("    interval: 5m\n"), "{text}");
    fs::write(
        &rules_yml,
        text.replace("    interval: 5m\n", "    interval: 1s\n"),
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

    // No 5xx yet: the whole error budget is left, and nothing burns.
    let p = ports.prometheus;
    // Each of the four SLOs has its whole budget (search-within-1s's only if
    // its whole-second bucket is matched as Prometheus 3 stores it).
    wait_for(
        "the SLO series of a service without 5xx",
        limit,
        &procs,
        || {
            let budgets = query(p, "slo:error_budget:remaining{service=\"api\"}");
            budgets.len() == 4 && budgets.iter().all(|b| b["value"][1] == "1")
        },
    );
    let all_ratios = "{__name__=~\"slo:sli_error:.+\", service=\"api\"}";
    // Per SLO, every burn window and the SLO window: availability's 5m to
    // 3d and 30d, search-latency's and search-within-1s's 10s, 1m and 1d,
    // bookings' seven and 30d.
    wait_for("every SLO error ratio", limit, &procs, || {
        query(p, all_ratios).len() == 8 + 3 + 3 + 8
    });
    let ratios = query(p, all_ratios);
    for r in &ratios {
        assert_eq!(r["value"][1], "0", "{r}");
    }
    assert_eq!(
        value_of(p, "service:http_requests_5xx:ratio_rate5m{service=\"api\"}").as_deref(),
        Some("0")
    );

    // Half the API requests fail: the page reaches both receivers, and the
    // lesser alerts of the same burn fire but are inhibited.
    assert_eq!(
        request(ports.demo, "GET", "/admin/faults?error_rate=0.5"),
        200
    );
    let page = "SLOErrorBudgetBurnPage";
    let covered = ["SLOErrorBudgetBurnTicket", "HighErrorRate5xx"];
    wait_for("the page at both receivers", limit, &procs, || {
        !about(&slack.bodies(), page).is_empty() && !about(&pagerduty.bodies(), page).is_empty()
    });
    wait_for(
        "the covered alerts inhibited by the page",
        limit,
        &procs,
        || {
            covered.iter().all(|name| {
                let alerts = am_alerts(ports.alertmanager, name);
                !alerts.is_empty()
                    && alerts.iter().all(|a| {
                        a["status"]["state"] == "suppressed"
                            && a["status"]["inhibitedBy"]
                                .as_array()
                                .is_some_and(|by| !by.is_empty())
                    })
            })
        },
    );
    // Every dashboard panel has data, at every variable setting.
    let blank = blank_panels(&out, p);
    assert!(
        blank.is_empty(),
        "panels without data:\n{}",
        blank.join("\n")
    );
    // Several group intervals later, still only the page was notified.
    std::thread::sleep(Duration::from_secs(3));
    for name in covered {
        assert!(
            about(&slack.bodies(), name).is_empty(),
            "{name} reached Slack"
        );
        assert!(
            about(&pagerduty.bodies(), name).is_empty(),
            "{name} reached PagerDuty"
        );
    }
    let alert = page;
    {
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
    // the thresholds and both receivers hear the page resolve.
    assert_eq!(
        request(ports.demo, "GET", "/admin/faults?error_rate=0"),
        200
    );
    traffic.set(40);
    wait_for("the page resolved at both receivers", limit, &procs, || {
        about(&slack.bodies(), page)
            .iter()
            .any(|b| b.contains("[RESOLVED]"))
            && about(&pagerduty.bodies(), page)
                .iter()
                .any(|b| b.contains("\"event_action\":\"resolve\""))
    });

    // Latency, on the route the latency SLO counts: every request just
    // under its 250ms bucket fires nothing; every request over it pages.
    let latency_page = "ALERTS{alertname=\"SLOErrorBudgetBurnPage\",slo=\"search-latency\"}";
    assert_eq!(
        request(ports.demo, "GET", "/admin/faults?latency_ms=200"),
        200
    );
    traffic.set(1);
    std::thread::sleep(Duration::from_secs(12));
    assert!(
        query(p, latency_page).is_empty(),
        "{:?}",
        query(p, latency_page)
    );
    // The 10s ratio exists and stays under the page's 10% (a loaded machine
    // may stretch a few 200ms requests past 250ms: that is not a page).
    let ratio = |slo: &str| -> f64 {
        value_of(
            p,
            &format!("slo:sli_error:ratio_rate10s{{service=\"api\",slo=\"{slo}\"}}"),
        )
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no 10s error ratio of {slo}"))
    };
    let under = ratio("search-latency");
    assert!(under < 0.1, "{under}");
    assert_eq!(
        request(ports.demo, "GET", "/admin/faults?latency_ms=300"),
        200
    );
    wait_for("the latency page", Duration::from_secs(90), &procs, || {
        query(p, latency_page)
            .iter()
            .any(|a| a["metric"]["alertstate"] == "firing")
    });
    // Every request is within 1s: the whole-second bucket is found (a
    // matcher on the scraped spelling `le="1"` alone would find no series).
    let within = ratio("search-within-1s");
    assert!(within < 0.1, "{within}");
    assert_eq!(
        request(ports.demo, "GET", "/admin/faults?latency_ms=0"),
        200
    );
    // A spec whose latency SLO is at 300ms, a bucket the spec declares but
    // the live histogram does not have: check --live fails and names the
    // buckets it found.
    let no_bucket = root_dir.join("no-bucket.toml");
    fs::write(
        &no_bucket,
        spec_with(&ports, &secrets, "0.1, 0.3, 1", "300ms"),
    )
    .expect("write spec");
    let fails = failed_checks(&live_check(&no_bucket, &out, &ports).code(1));
    let bucket = fails
        .iter()
        .find(|f| f.contains("histogram has a bucket at each latency SLO's threshold"))
        .unwrap_or_else(|| panic!("{fails:?}"));
    assert!(
        bucket.contains("0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10")
            && bucket.contains("none at 300ms (le=\\\"0.3\\\")"),
        "{bucket}"
    );
    drop(traffic);
    // What the page's end releases (the ticket tier, if still burning) is
    // notified now, before the outage.
    std::thread::sleep(Duration::from_secs(3));

    // An outage: TargetDown, and only TargetDown, is notified; MetricsAbsent
    // does not fire (up exists and is 0).
    let (slack_seen, pd_seen) = (slack.bodies().len(), pagerduty.bodies().len());
    demo.stop();
    wait_for("TargetDown at both receivers", limit, &[&am, &prom], || {
        !about(&slack.bodies()[slack_seen..], "TargetDown").is_empty()
            && !about(&pagerduty.bodies()[pd_seen..], "TargetDown").is_empty()
    });
    std::thread::sleep(Duration::from_secs(4));
    let firing_slack: Vec<String> = slack.bodies()[slack_seen..]
        .iter()
        .filter(|b| b.contains("[FIRING"))
        .cloned()
        .collect();
    let firing_pd: Vec<String> = pagerduty.bodies()[pd_seen..]
        .iter()
        .filter(|b| b.contains("\"event_action\":\"trigger\""))
        .cloned()
        .collect();
    for body in firing_slack.iter().chain(&firing_pd) {
        assert!(
            body.contains("TargetDown"),
            "only TargetDown is notified: {body}"
        );
    }
    let rules = get(p, "/api/v1/alerts");
    assert!(!rules.contains("MetricsAbsent"), "{rules}");
    assert!(am_alerts(ports.alertmanager, "MetricsAbsent").is_empty());

    // With the demo stopped, the live checks fail and say where.
    let check = live_check(&spec_path, &out, &ports).code(1);
    let fails = failed_checks(&check);
    assert!(
        fails.iter().any(|f| f.contains("api health endpoint")
            && f.contains(&format!("127.0.0.1:{}", ports.demo))),
        "{fails:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(330),
        "{:?}",
        started.elapsed()
    );
    drop((prom, am));
}
