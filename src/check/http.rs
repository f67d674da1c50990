//! A minimal HTTP/1.0 GET client over `std::net`, for the live checks and
//! the Prometheus API queries of `report`, `backtest` and `check --budget`
//! (`crate::history::api`): plain `http://` only, bounded in time and size,
//! never hangs. Every request harden makes goes through [`get_with`].

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Time to connect, and the longest wait for any read or write.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// The whole exchange, however slowly the server trickles bytes.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Tries per request: a failed connection is retried after a short pause
/// (a service may be restarting); a server that accepted and then stalled
/// is not, so one endpoint costs at most two connect timeouts or one
/// deadline.
pub const ATTEMPTS: u32 = 2;
const PAUSE: Duration = Duration::from_millis(250);
/// Bodies larger than this are cut off (an error).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// How long one request may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest wait for any read or write (the connect timeout is [`TIMEOUT`]).
    pub idle: Duration,
    /// The whole exchange.
    pub deadline: Duration,
}

/// A live check: the endpoint answers at once or is broken.
pub const LIVE: Limits = Limits {
    idle: TIMEOUT,
    deadline: DEADLINE,
};

/// A PromQL query over days of history: Prometheus sends nothing until it
/// has evaluated the whole range, which can take many seconds.
pub const QUERY: Limits = Limits {
    idle: Duration::from_secs(120),
    deadline: Duration::from_secs(120),
};

/// A response: status code and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// GETs `url` (`http://host[:port]/path`), retrying failures up to
/// [`ATTEMPTS`] times. The error names the address and the cause.
pub fn get(url: &str) -> Result<Response, String> {
    get_with(url, LIVE)
}

/// [`get`] within `limits`.
pub fn get_with(url: &str, limits: Limits) -> Result<Response, String> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(PAUSE);
        }
        match get_once(url, limits) {
            Ok(r) => return Ok(r),
            Err(Failed::Connect(e)) => last = e,
            Err(Failed::Other(e)) => return Err(e),
        }
    }
    Err(last)
}

/// Why one attempt failed: before a connection (worth retrying) or after.
enum Failed {
    Connect(String),
    Other(String),
}

fn get_once(url: &str, limits: Limits) -> Result<Response, Failed> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Failed::Other(format!("{url}: only http:// URLs are checked")))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let address = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let started = Instant::now();
    let addrs: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| Failed::Connect(format!("{url}: cannot resolve {address}: {e}")))?
        .collect();
    let mut stream = None;
    let mut error = format!("{url}: {address} has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => error = format!("{url}: cannot connect to {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(Failed::Connect(error))?;
    exchange(&mut stream, url, authority, path, started, limits).map_err(Failed::Other)
}

fn exchange(
    stream: &mut TcpStream,
    url: &str,
    authority: &str,
    path: &str,
    started: Instant,
    limits: Limits,
) -> Result<Response, String> {
    let io = |e: std::io::Error| format!("{url}: {e}");
    stream.set_read_timeout(Some(limits.idle)).map_err(io)?;
    stream.set_write_timeout(Some(limits.idle)).map_err(io)?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: harden-check\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if started.elapsed() > limits.deadline {
            return Err(format!(
                "{url}: no complete answer within {}s",
                limits.deadline.as_secs()
            ));
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_BODY {
                    return Err(format!("{url}: answer larger than {MAX_BODY} bytes"));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{url}: reading the answer: {e}")),
        }
    }
    parse(&raw).map_err(|e| format!("{url}: {e}"))
}

fn parse(raw: &[u8]) -> Result<Response, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP (no end of headers)")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/"))
        .ok_or_else(|| format!("the answer is not HTTP: {status_line:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = &raw[end + 4..];
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a truncated chunked body")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("a bad chunk size {size_text:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("a truncated chunk".into());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "ok"));
        let r = parse(
            b"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_str()), (503, "abc"));
        assert!(parse(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn a_refused_connection_is_an_error_naming_the_address() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = get(&format!("http://127.0.0.1:{port}/health")).unwrap_err();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    }

    #[test]
    fn a_silent_server_times_out_instead_of_hanging() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            // Accept and hold both attempts' connections without answering.
            let a = listener.accept();
            let b = listener.accept();
            std::thread::sleep(Duration::from_secs(5));
            drop((a, b));
        });
        let started = Instant::now();
        assert!(get(&format!("http://127.0.0.1:{port}/")).is_err());
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        drop(handle);
    }
}
