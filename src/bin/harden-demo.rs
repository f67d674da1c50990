//! harden-demo: a stand-in for App-Oint's API, to try the generated stack
//! and to drive the end-to-end test. Not part of harden: std only.
//!
//! ```text
//! harden-demo [--port 5001] [--bind 127.0.0.1]
//! ```
//!
//! Serves `/health`, `/liveness`, `/readiness`, `/metrics` and App-Oint's
//! API paths (`POST /api/auth/register`, `POST /api/auth/login`,
//! `GET /api/availability`, `POST /api/appointments`), with Prometheus
//! metrics: `http_requests_total{method,path,status}` and the
//! `http_request_duration_seconds` histogram.
//!
//! Faults, set at run time: `GET /admin/faults?error_rate=0.5&latency_ms=200`
//! makes that share of API requests answer 500 (spread evenly, not at
//! random) and adds the latency to each; `GET /admin/faults` shows them;
//! `error_rate=0&latency_ms=0` restores health.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Upper bounds of the duration histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct State {
    /// Share of API requests that fail, in parts per thousand.
    error_permille: u64,
    latency: Duration,
    /// API requests seen, to spread the failures evenly.
    api_requests: u64,
    requests: BTreeMap<(String, String, u16), u64>,
    durations: BTreeMap<(String, String), Histogram>,
    bookings: u64,
    registrations: u64,
}

fn main() {
    let mut port: u16 = 5001;
    let mut bind = "127.0.0.1".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => fail(&format!("--port {v}: not a port number")),
            },
            ("--bind", Some(v)) => bind = v,
            _ => fail(&format!(
                "unknown argument {arg}; usage: harden-demo [--port 5001] [--bind 127.0.0.1]"
            )),
        }
    }
    let listener = TcpListener::bind((bind.as_str(), port))
        .unwrap_or_else(|e| fail(&format!("cannot listen on {bind}:{port}: {e}")));
    eprintln!("harden-demo listening on http://{bind}:{port}");
    let state = Arc::new(Mutex::new(State::default()));
    for stream in listener.incoming().flatten() {
        let state = Arc::clone(&state);
        std::thread::spawn(move || {
            let _ = serve(stream, &state);
        });
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0).min(1 << 20);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let started = Instant::now();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, content_type, text) = route(&method, path, query, state);
    respond(stream, status, content_type, &text)?;
    if path != "/metrics" && !path.starts_with("/admin/") {
        record(state, &method, path, status, started.elapsed());
    }
    Ok(())
}

fn respond(
    mut stream: TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

const JSON: &str = "application/json";

fn route(
    method: &str,
    path: &str,
    query: &str,
    state: &Mutex<State>,
) -> (u16, &'static str, String) {
    let ok = |s: u16| {
        (
            s,
            JSON,
            format!(
                "{{\"status\":\"{}\"}}",
                if s < 400 { "ok" } else { "error" }
            ),
        )
    };
    match (method, path) {
        ("GET", "/health" | "/liveness" | "/readiness") => ok(200),
        ("GET", "/metrics") => (200, "text/plain; version=0.0.4", metrics(state)),
        ("GET" | "POST", "/admin/faults") => faults(query, state),
        ("POST", "/api/auth/register") => api(state, 201, |s| s.registrations += 1),
        ("POST", "/api/auth/login") => api(state, 200, |_| {}),
        ("GET", "/api/availability") => api(state, 200, |_| {}),
        ("POST", "/api/appointments") => api(state, 201, |s| s.bookings += 1),
        _ => ok(404),
    }
}

/// An API request: delayed and maybe failed by the current faults.
fn api(
    state: &Mutex<State>,
    success: u16,
    on_success: impl FnOnce(&mut State),
) -> (u16, &'static str, String) {
    let (fails, latency) = {
        let mut s = lock(state);
        let n = s.api_requests;
        s.api_requests += 1;
        // Fail when the running count of failures due steps up: exactly
        // error_permille of every thousand requests, evenly spread.
        let fails = (n + 1) * s.error_permille / 1000 > n * s.error_permille / 1000;
        if !fails {
            on_success(&mut s);
        }
        (fails, s.latency)
    };
    std::thread::sleep(latency);
    let status = if fails { 500 } else { success };
    (
        status,
        JSON,
        format!("{{\"status\":\"{}\"}}", if fails { "error" } else { "ok" }),
    )
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn faults(query: &str, state: &Mutex<State>) -> (u16, &'static str, String) {
    let mut s = lock(state);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "error_rate" => match v.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => s.error_permille = (r * 1000.0).round() as u64,
                _ => {
                    return (
                        400,
                        JSON,
                        format!("{{\"error\":\"error_rate must be 0 to 1, got {v:?}\"}}"),
                    );
                }
            },
            "latency_ms" => match v.parse::<u64>() {
                Ok(ms) if ms <= 60_000 => s.latency = Duration::from_millis(ms),
                _ => {
                    return (
                        400,
                        JSON,
                        format!("{{\"error\":\"latency_ms must be 0 to 60000, got {v:?}\"}}"),
                    );
                }
            },
            _ => {
                return (
                    400,
                    JSON,
                    format!("{{\"error\":\"unknown parameter {k:?}\"}}"),
                );
            }
        }
    }
    (
        200,
        JSON,
        format!(
            "{{\"error_rate\":{},\"latency_ms\":{}}}",
            s.error_permille as f64 / 1000.0,
            s.latency.as_millis()
        ),
    )
}

fn record(state: &Mutex<State>, method: &str, path: &str, status: u16, took: Duration) {
    let mut s = lock(state);
    *s.requests
        .entry((method.to_string(), path.to_string(), status))
        .or_default() += 1;
    let h = s
        .durations
        .entry((method.to_string(), path.to_string()))
        .or_default();
    let secs = took.as_secs_f64();
    for (i, le) in BUCKETS.iter().enumerate() {
        if secs <= *le {
            h.counts[i] += 1;
        }
    }
    h.sum += secs;
    h.count += 1;
}

fn metrics(state: &Mutex<State>) -> String {
    let s = lock(state);
    let mut out = String::new();
    out.push_str("# HELP http_requests_total HTTP requests by method, path and status.\n");
    out.push_str("# TYPE http_requests_total counter\n");
    for ((method, path, status), n) in &s.requests {
        out.push_str(&format!(
            "http_requests_total{{method=\"{method}\",path=\"{path}\",status=\"{status}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP http_request_duration_seconds HTTP request durations.\n");
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for ((method, path), h) in &s.durations {
        let labels = format!("method=\"{method}\",path=\"{path}\"");
        for (le, n) in BUCKETS.iter().zip(h.counts) {
            out.push_str(&format!(
                "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
            h.count
        ));
        out.push_str(&format!(
            "http_request_duration_seconds_sum{{{labels}}} {}\n",
            h.sum
        ));
        out.push_str(&format!(
            "http_request_duration_seconds_count{{{labels}}} {}\n",
            h.count
        ));
    }
    out.push_str("# TYPE appointments_booked_total counter\n");
    out.push_str(&format!("appointments_booked_total {}\n", s.bookings));
    out.push_str("# TYPE user_registrations_total counter\n");
    out.push_str(&format!("user_registrations_total {}\n", s.registrations));
    out
}
