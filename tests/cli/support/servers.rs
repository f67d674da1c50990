//! A stand-in HTTP service for the generated load test runner, the
//! runner's smoke run against it, and a plain request to a local server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use super::{Tree, text};

/// A tiny HTTP service on 127.0.0.1 answering App-Oint's scenario paths
/// with their expected statuses, or 500 to everything when `failing`. It
/// records each request line and body. Dropped, it stops accepting.
pub struct Service {
    pub url: String,
    stop: Arc<AtomicBool>,
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Service {
    pub fn start(failing: bool) -> Service {
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

/// Runs a tree's generated load test runner in smoke mode against `url`,
/// bounded by 120 seconds, with `env` set: its exit code, its output, and
/// the directory it wrote its results to.
pub fn smoke_run(tree: &Tree, url: &str, env: &[(&str, &str)]) -> (i32, String, tempfile::TempDir) {
    let results = tempfile::tempdir().expect("tempdir");
    let result = Command::new("timeout")
        .arg("120")
        .arg(tree.join("testing/load-tests/run-load-test.sh"))
        .args(["--smoke", "--base-url", url, "staging"])
        .env("RESULTS_DIR", results.path())
        .env("K6_NO_USAGE_REPORT", "true")
        .envs(env.iter().copied())
        .output()
        .expect("the runner runs");
    (result.status.code().unwrap_or(-1), text(&result), results)
}

/// GET or POST `path` on 127.0.0.1:`port`; the status, or 0 when unreachable.
pub fn request(port: u16, method: &str, path: &str) -> u16 {
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
