//! `harden backtest`, `harden report` and the budget gate of `harden check
//! --budget` against a real Prometheus 3 whose history is backfilled with
//! `promtool tsdb create-blocks-from openmetrics`: days of synthetic
//! traffic (600 requests a minute) with planted failures, so every answer
//! has an exact expected value.
//!
//! - `outage`: four days, a 30-minute stretch of 10% errors 30 hours ago.
//!   The backtest finds it: the page tier fires `for` after the errors show
//!   and resolves when its 30m short window has let them go, the 5xx alert
//!   likewise; nothing else fires. The budget left is about 48%: a gate at
//!   60% fails, one at 35% passes.
//! - `quiet`: four days without an error. The backtest reports nothing.
//! - `month`: 31 January to 2 March 2024 (a leap February), sampled
//!   hourly, with 10% errors for 12 hours on 10 February. `report --month
//!   2024-02` gives the planted attainment (a miss); March, of which
//!   Prometheus holds one good day, 100%; the current month is partial.
//!   (A month in the past, fixed: `promtool` writes a 2h block at a time
//!   and rereads its input for each, so a month up to now would take
//!   minutes to backfill.)

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::*;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Requests a minute, and the bad ones in a failing stretch (10%).
const PER_MINUTE: u64 = 600;
const BAD_PER_MINUTE: u64 = 60;

fn spec(freeze_below: &str) -> String {
    format!(
        r#"[project]
name = "shop"

[monitoring]
scrape_interval = "1m"
evaluation_interval = "1m"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
replicas = 2

[[service.slo]]
name = "availability"
objective = "99.9%"
availability = {{}}
window = "30d"
freeze_below = "{freeze_below}"

[service.alerts]
error_rate_5xx = {{ threshold = "1%" }}
"#
    )
}

/// A backfilled history: bad requests a minute by the minute's end.
struct History {
    start: i64,
    end: i64,
    /// A sample every this many milliseconds.
    every: i64,
    /// Half-open failing stretches `[from, to)`, by the minute's end.
    bad: Vec<(i64, i64)>,
}

impl History {
    fn bad_in(&self, minute_end: i64) -> u64 {
        if self
            .bad
            .iter()
            .any(|&(a, b)| a < minute_end && minute_end <= b)
        {
            BAD_PER_MINUTE
        } else {
            0
        }
    }

    /// Bad and all requests of the minutes ending in `(from, to]`.
    fn counts(&self, from: i64, to: i64) -> (u64, u64) {
        let mut t = (from / MINUTE + 1) * MINUTE;
        let (mut bad, mut all) = (0, 0);
        while t <= to {
            if t > self.start {
                bad += self.bad_in(t);
                all += PER_MINUTE;
            }
            t += MINUTE;
        }
        (bad, all)
    }

    /// The counters and `up` as OpenMetrics, a sample `every`.
    fn openmetrics(&self) -> String {
        let mut text = String::from("# TYPE http_requests counter\n# TYPE up gauge\n");
        let (mut good, mut bad) = (0u64, 0u64);
        let mut t = self.start;
        let mut samples = Vec::new();
        while t <= self.end {
            if t > self.start {
                let b = self.bad_in(t);
                bad += b;
                good += PER_MINUTE - b;
            }
            if (t - self.start) % self.every == 0 {
                samples.push((t, good, bad));
            }
            t += MINUTE;
        }
        let labels = "instance=\"127.0.0.1:18080\",job=\"api\"";
        for (status, pick) in [("200", 1), ("500", 2)] {
            for &(t, g, b) in &samples {
                let v = if pick == 1 { g } else { b };
                writeln!(
                    text,
                    "http_requests_total{{{labels},status=\"{status}\"}} {v} {}",
                    t / 1000
                )
                .expect("write");
            }
        }
        for &(t, _, _) in &samples {
            writeln!(text, "up{{{labels}}} 1 {}", t / 1000).expect("write");
        }
        text.push_str("# EOF\n");
        text
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// A Prometheus on loopback serving `history`, with `rules` loaded.
struct Server {
    proc: Proc,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(
        prometheus: &Path,
        promtool: &Path,
        history: &History,
        rules: Option<&Path>,
    ) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let om = dir.path().join("history.om");
        fs::write(&om, history.openmetrics()).expect("write");
        let data = dir.path().join("data");
        assert_ok(
            "promtool tsdb create-blocks-from openmetrics",
            &Command::new(promtool)
                .args(["tsdb", "create-blocks-from", "openmetrics"])
                .arg(&om)
                .arg(&data)
                .output()
                .expect("promtool"),
        );
        let config = dir.path().join("prometheus.yml");
        let rule_files = rules
            .map(|r| format!("rule_files:\n  - {}\n", r.display()))
            .unwrap_or_default();
        fs::write(
            &config,
            format!("global:\n  evaluation_interval: 1s\n{rule_files}scrape_configs: []\n"),
        )
        .expect("write");
        let [port] = free_ports();
        let proc = Proc::start(
            "prometheus",
            dir.path(),
            prometheus,
            &[
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", data.display()),
                "--storage.tsdb.retention.time=400d".to_string(),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ],
        );
        let server = Server {
            proc,
            port,
            _dir: dir,
        };
        server.wait("Prometheus to be ready", |s| {
            s.get("/-/ready").is_some_and(|b| b.contains("Ready"))
        });
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
    }

    fn wait(&self, what: &str, mut ready: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !ready(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\n{}",
                self.proc.tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// The generated rule file with only its SLO-window group (what records
/// the budget), evaluated every second instead of every 5m: the
/// expressions are the generated ones.
fn budget_rules(tree: &Tree, dir: &Path) -> std::path::PathBuf {
    let mut rules = yaml(&tree.join("prometheus/rules/api.yml"));
    let groups = rules["groups"].as_array_mut().expect("groups");
    groups.retain(|g| g["name"] == "api-slo-window");
    assert_eq!(groups.len(), 1, "the SLO window group is generated");
    assert_eq!(groups[0]["interval"], "5m");
    groups[0]["interval"] = Value::from("1s");
    let path = dir.join("budget-rules.yml");
    fs::write(&path, serde_json::to_string_pretty(&rules).expect("json")).expect("write");
    path
}

fn backtest_json(spec: &Path, url: &str, days: &str, svg: &Path) -> Value {
    let run = harden(&[
        "backtest",
        &spec.to_string_lossy(),
        "--prometheus",
        url,
        "--days",
        days,
        "--format",
        "json",
        "--svg",
        &svg.to_string_lossy(),
    ])
    .success();
    serde_json::from_str(&run.stdout).expect("backtest JSON")
}

/// `(from, to)` of every firing of `alert`.
fn firings(b: &Value, alert: &str) -> Vec<(i64, Option<i64>)> {
    b["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["name"] == alert)
        .flat_map(|a| a["series"].as_array().cloned().unwrap_or_default())
        .flat_map(|s| s["firings"].as_array().cloned().unwrap_or_default())
        .map(|f| (f["from"].as_i64().expect("from"), f["to"].as_i64()))
        .collect()
}

fn fired(b: &Value) -> Vec<String> {
    let mut names: Vec<String> = b["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| {
            a["series"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|s| s["firings"].as_array().is_some_and(|f| !f.is_empty()))
            })
        })
        .map(|a| a["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[track_caller]
fn near(what: &str, got: i64, want: i64, tolerance: i64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: at {got}, expected {want} ± {}s (off by {}s)",
        tolerance / 1000,
        (got - want) / 1000
    );
}

#[test]
fn the_backtest_finds_a_planted_outage_and_the_budget_gate_holds_on_a_real_prometheus() {
    let (Some(prometheus), Some(promtool)) = (validator("prometheus"), validator("promtool"))
    else {
        return;
    };
    let started = Instant::now();
    let end = now_ms() / MINUTE * MINUTE;
    let outage = end - 30 * HOUR;
    let history = History {
        start: end - 4 * DAY,
        end,
        every: MINUTE,
        bad: vec![(outage, outage + 30 * MINUTE)],
    };
    let tree = generate(&Spec::toml(spec("60%")));
    let spec_path = tree.join("hardening.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = budget_rules(&tree, dir.path());
    let server = Server::start(&prometheus, &promtool, &history, Some(&rules));

    let svg = dir.path().join("backtest.svg");
    let b = backtest_json(&spec_path, &server.url(), "3", &svg);
    assert_eq!(
        fired(&b),
        ["HighErrorRate5xx", "SLOErrorBudgetBurnPage"],
        "exactly the page tier and the 5xx alert fire; {b:#}"
    );
    let step = MINUTE;
    // The page tier's 1h/5m pair holds once the 1h window has over 1.44%
    // errors: 0.0144 / 10% × 60m = 8.64 minutes of the outage, so from
    // the evaluation 9 minutes in (its 6h/30m pair needs 21.6); then 2m of
    // `for`.
    let page = firings(&b, "SLOErrorBudgetBurnPage");
    assert_eq!(page.len(), 1, "one page: {page:?}");
    near(
        "page fires",
        page[0].0,
        outage + 9 * MINUTE + 2 * MINUTE,
        2 * step,
    );
    // It resolves once the 30m short window of the 6h/30m pair holds less
    // than 0.6% errors: 1.8 of its 30 minutes at 10%.
    let page_end = page[0].1.expect("the page resolved");
    near(
        "page resolves",
        page_end,
        outage + 30 * MINUTE + 28 * MINUTE,
        2 * step,
    );
    let errors = firings(&b, "HighErrorRate5xx");
    assert_eq!(errors.len(), 1, "{errors:?}");
    // Its 5m ratio is over 1% from the first scrape with errors, a minute
    // in; then 5m of `for`.
    near(
        "5xx fires",
        errors[0].0,
        outage + MINUTE + 5 * MINUTE,
        2 * step,
    );
    // Its 5m window drops under 1% once it holds under half a minute of
    // the outage.
    near(
        "5xx resolves",
        errors[0].1.expect("resolved"),
        outage + 30 * MINUTE + 5 * MINUTE,
        2 * step,
    );

    // The budget over time: whole before the outage, lowest right after
    // it, then growing back as good requests dilute it.
    let curve = b["budgets"][0]["points"].as_array().expect("budget points");
    let at = |t: i64| {
        curve
            .iter()
            .rfind(|p| p[0].as_i64().expect("t") <= t)
            .map(|p| p[1].as_f64().expect("v"))
            .expect("a point")
    };
    assert!(
        (at(outage - HOUR) - 1.0).abs() < 1e-9,
        "{}",
        at(outage - HOUR)
    );
    let (bad, all) = history.counts(history.start, outage + 30 * MINUTE);
    let after = 1.0 - bad as f64 / all as f64 / 0.001;
    assert!(
        (at(outage + 35 * MINUTE) - after).abs() < 0.02,
        "right after the outage {after}, got {}",
        at(outage + 35 * MINUTE)
    );
    let picture = fs::read_to_string(&svg).expect("svg");
    assert!(picture.starts_with("<svg"), "{picture}");
    assert!(
        picture.contains("SLOErrorBudgetBurnPage fired"),
        "the page is drawn"
    );
    assert!(picture.contains("deploy freeze below 60%"));

    // The text a person reads names the alert and when.
    let text = harden(&[
        "backtest",
        &spec_path.to_string_lossy(),
        "--prometheus",
        &server.url(),
        "--days",
        "3",
    ])
    .success()
    .stdout;
    assert!(text.contains("2 of 6 alerts would have fired"), "{text}");
    assert!(
        text.contains("SLOErrorBudgetBurnPage [service=api slo=availability tier=page"),
        "{text}"
    );
    assert!(
        text.contains("Error budget of api/availability (99.9% over 30d)"),
        "{text}"
    );

    // The gate: Prometheus records the budget from the generated rule.
    server.wait("the budget to be recorded", |s| {
        s.get("/api/v1/query?query=slo:error_budget:remaining")
            .is_some_and(|b| b.contains("\"slo\":\"availability\""))
    });
    let (bad, all) = history.counts(end - 30 * DAY, end);
    let left = 1.0 - bad as f64 / all as f64 / 0.001;
    assert!(
        (0.40..0.55).contains(&left),
        "the planted budget left: {left}"
    );
    let gate = |freeze: &str| {
        let tree = generate(&Spec::toml(spec(freeze)));
        let run = harden(&[
            "check",
            &tree.join("hardening.toml").to_string_lossy(),
            "--budget",
            "--prometheus",
            &server.url(),
            "--format",
            "json",
        ]);
        let report: Value = serde_json::from_str(&run.stdout).expect("report");
        let check = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| {
                c["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("error budget"))
            })
            .cloned()
            .expect("a budget check");
        (run.code, check)
    };
    let (code, check) = gate("60%");
    assert_eq!(code, 1, "below the 60% freeze the check fails: {check}");
    assert_eq!(check["status"], "fail");
    let shown = format!("{:.1}%", left * 100.0);
    let detail = check["detail"].as_str().expect("detail");
    assert!(detail.contains("below the freeze at 60%"), "{detail}");
    let (code, check) = gate("35%");
    assert_eq!(code, 0, "above the 35% freeze it passes: {check}");
    let detail = check["detail"].as_str().expect("detail");
    // The recorded budget is the planted one, to a tenth of a percent
    // (the recording rule extrapolates like any increase()).
    let got: f64 = detail
        .split('%')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a percentage");
    assert!(
        (got - left * 100.0).abs() < 1.0,
        "recorded {detail}, planted {shown}"
    );
    eprintln!(
        "backtest and budget gate on a backfilled Prometheus: {:?}",
        started.elapsed()
    );
}

#[test]
fn quiet_days_report_nothing() {
    let (Some(prometheus), Some(promtool)) = (validator("prometheus"), validator("promtool"))
    else {
        return;
    };
    let end = now_ms() / MINUTE * MINUTE;
    let history = History {
        start: end - 4 * DAY,
        end,
        every: MINUTE,
        bad: Vec::new(),
    };
    let tree = generate(&Spec::toml(spec("25%")));
    let spec_path = tree.join("hardening.toml");
    let server = Server::start(&prometheus, &promtool, &history, None);
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("quiet.svg");
    let b = backtest_json(&spec_path, &server.url(), "3", &svg);
    assert!(fired(&b).is_empty(), "quiet days: {:?}", fired(&b));
    let curve = b["budgets"][0]["points"].as_array().expect("points");
    assert!(
        curve.len() > 800,
        "a budget point every 5m: {}",
        curve.len()
    );
    assert!(
        curve.iter().all(|p| p[1].as_f64() == Some(1.0)),
        "the budget stays whole"
    );
    let picture = fs::read_to_string(&svg).expect("svg");
    assert!(picture.contains("No alert would have fired."));
    let text = harden(&[
        "backtest",
        &spec_path.to_string_lossy(),
        "--prometheus",
        &server.url(),
        "--days",
        "3",
    ])
    .success()
    .stdout;
    // Burn page, burn ticket, ErrorBudgetExhausted, 5xx, TargetDown, MetricsAbsent.
    assert!(text.contains("0 of 6 alerts would have fired"), "{text}");

    // Nothing records the budget here (no rules loaded): the gate cannot
    // pass on an unknown budget.
    let run = harden(&[
        "check",
        &spec_path.to_string_lossy(),
        "--budget",
        "--prometheus",
        &server.url(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("the budget is unknown"),
        "{}",
        run.stdout
    );
}

/// The first instant of a UTC day, from GNU date (a calendar from outside
/// harden).
fn utc(day: &str) -> i64 {
    let out = run_ok(
        "date",
        Command::new("date").args(["-u", "-d", &format!("{day} 00:00 UTC"), "+%s"]),
    );
    out.trim().parse::<i64>().expect("seconds") * 1000
}

#[test]
fn a_planted_bad_month_has_its_attainment() {
    let (Some(prometheus), Some(promtool)) = (validator("prometheus"), validator("promtool"))
    else {
        return;
    };
    let (feb, mar) = (utc("2024-02-01"), utc("2024-03-01"));
    let stretch = utc("2024-02-10") + 6 * HOUR;
    let history = History {
        start: utc("2024-01-31"),
        end: utc("2024-03-02"),
        every: HOUR,
        bad: vec![(stretch, stretch + 12 * HOUR)],
    };
    let tree = generate(&Spec::toml(spec("25%")));
    let spec_path = tree.join("hardening.toml");
    let server = Server::start(&prometheus, &promtool, &history, None);
    let report = |m: &str| -> Value {
        let run = harden(&[
            "report",
            &spec_path.to_string_lossy(),
            "--prometheus",
            &server.url(),
            "--month",
            m,
            "--format",
            "json",
        ])
        .success();
        serde_json::from_str(&run.stdout).expect("report JSON")
    };
    let r = report("2024-02");
    let (bad, all) = history.counts(feb, mar);
    assert_eq!(all, 29 * 1440 * PER_MINUTE, "a leap February");
    let want = 1.0 - bad as f64 / all as f64;
    let row = &r["rows"][0];
    let got = row["attainment"].as_f64().expect("attainment");
    assert!(
        (got - want).abs() < 1e-5,
        "2024-02: attainment {got}, planted {want}"
    );
    assert_eq!(row["met"], false, "{want} misses 99.9%");
    assert_eq!(r["partial"], false);
    assert_eq!(r["period"], "February 2024");
    assert_eq!(row["from"].as_i64(), Some(feb));
    assert_eq!(row["to"].as_i64(), Some(mar));
    let r = report("2024-03");
    assert_eq!(r["rows"][0]["attainment"].as_f64(), Some(1.0), "{r}");
    assert_eq!(r["rows"][0]["met"], true);
    let this_month = run_ok("date", Command::new("date").args(["-u", "+%Y-%m"]));
    let r = report(this_month.trim());
    assert_eq!(r["partial"], true, "{r}");

    let md = harden(&[
        "report",
        &spec_path.to_string_lossy(),
        "--prometheus",
        &server.url(),
        "--month",
        "2024-02",
    ])
    .success()
    .stdout;
    assert!(
        md.contains("| api/availability | 99.9% | 2024-02-01 00:00 | 2024-03-01 00:00 |"),
        "{md}"
    );
    assert!(md.contains("| **no** |"), "{md}");
}

#[test]
fn unreachable_prometheus_and_bad_arguments_are_clear_errors() {
    let tree = generate(&Spec::toml(spec("25%")));
    let spec_path = tree.join("hardening.toml");
    let [port] = free_ports();
    let url = format!("http://127.0.0.1:{port}");
    let s = spec_path.to_string_lossy();
    let run = harden(&["backtest", &s, "--prometheus", &url, "--days", "2"]).code(2);
    assert!(
        run.stderr
            .contains(&format!("Prometheus at {url} does not answer")),
        "{}",
        run.stderr
    );
    let run = harden(&["report", &s, "--prometheus", &url]).code(2);
    assert!(run.stderr.contains("does not answer"), "{}", run.stderr);
    let run = harden(&["report", &s, "--prometheus", &url, "--month", "2026-13"]).code(2);
    assert!(
        run.stderr.contains("expected a month as YYYY-MM"),
        "{}",
        run.stderr
    );
    let run = harden(&["backtest", &s, "--prometheus", &url, "--days", "0"]).code(2);
    assert!(run.stderr.contains("at least one day"), "{}", run.stderr);
    let run = harden(&["check", &s, "--budget", "--prometheus", "off"]).code(2);
    assert!(run.stderr.contains("not off"), "{}", run.stderr);
    // Unreachable during check: the gate fails (exit 1), naming Prometheus.
    let run = harden(&["check", &s, "--budget", "--prometheus", &url]).code(1);
    assert!(run.stdout.contains("does not answer"), "{}", run.stdout);

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("hardening.toml");
    fs::write(&bad, spec("100%")).expect("write");
    let run = harden(&["validate", &bad.to_string_lossy()]).code(2);
    assert!(run.stderr.contains("freeze_below"), "{}", run.stderr);
}
