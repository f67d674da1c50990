//! A loopback HTTP side for tests that run real servers: a capture server
//! that records what is posted to it, plain GETs and POSTs, Prometheus
//! queries, requests to any loopback address with any method and headers
//! (`http_request`, `get_from`), and bounded polling.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Proc, request};

/// A loopback HTTP server that records every request (its headers, names
/// in lower case, and body) and answers `status` with `reply` of
/// `content_type`.
pub struct Capture {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

/// One request a [`Capture`] received.
#[derive(Clone)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Capture {
    pub fn start(status: &'static str, content_type: &'static str, reply: &'static str) -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(request) = read_request(stream, status, content_type, reply) {
                            r.lock().expect("lock").push(request);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Capture {
            url,
            requests,
            stop,
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    /// Every request body so far, as text.
    pub fn bodies(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
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
) -> Option<Request> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
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
    Some(Request { headers, body })
}

/// GET `path` on 127.0.0.1:`port`; the body, or empty when unreachable.
pub fn get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().expect("addr"),
        Duration::from_secs(1),
    ) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// An instant query's result vector (empty when the query fails).
pub fn query(port: u16, promql: &str) -> Vec<serde_json::Value> {
    let encoded = harden::history::api::encode(promql);
    let body = get(port, &format!("/api/v1/query?query={encoded}"));
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    reply["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The single value of an instant query, when it has exactly one series.
pub fn value_of(port: u16, promql: &str) -> Option<String> {
    match query(port, promql).as_slice() {
        [one] => one["value"][1].as_str().map(str::to_string),
        _ => None,
    }
}

/// Polls `done` every 250ms until it holds or `limit` passes.
pub fn wait_for(what: &str, limit: Duration, procs: &[&Proc], mut done: impl FnMut() -> bool) {
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
pub struct Traffic {
    stop: Arc<AtomicBool>,
    per_tick: Arc<Mutex<u32>>,
}

impl Traffic {
    pub fn start(port: u16) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let per_tick = Arc::new(Mutex::new(1));
        let (s, n) = (Arc::clone(&stop), Arc::clone(&per_tick));
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let count = *n.lock().expect("lock");
                for _ in 0..count {
                    request(port, "GET", "/api/availability");
                }
                // A booking a tick: the business counter an events SLO reads.
                request(port, "POST", "/api/appointments");
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Traffic { stop, per_tick }
    }

    pub fn set(&self, per_tick: u32) {
        *self.per_tick.lock().expect("lock") = per_tick;
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `method path` with `headers` and `body` over HTTP/1.0 to `ip:port`: the
/// status and body, or None when unreachable.
pub fn http_request(
    ip: &str,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String)> {
    let addr = format!("{ip}:{port}").parse().ok()?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    // Generous: a gateway checking a bcrypt hash on a busy machine is slow.
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {ip}\r\n");
    for (name, value) in headers {
        head += &format!("{name}: {value}\r\n");
    }
    if !body.is_empty() {
        head += &format!("Content-Length: {}\r\n", body.len());
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).ok()?;
    // A server may answer (401) and close before reading a large body: the
    // answer still counts.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Some((code, body))
}

/// A GET over HTTP/1.0: the status and body, or None when unreachable.
pub fn get_from(ip: &str, port: u16, path: &str) -> Option<(u16, String)> {
    http_request(ip, port, "GET", path, &[], &[])
}

/// Waits (polling every 100ms) until `done`; panics naming `what` after
/// `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
