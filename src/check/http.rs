//! A minimal HTTP/1.0 GET client over `std::net`, for the live checks:
//! `http://`, and `https://` through rustls (no OpenSSL) verifying the
//! server against the system's roots and `--ca-cert`; basic or bearer
//! authorization; bounded in time and size, never hangs. The Prometheus API
//! queries of `report`, `backtest` and `check --budget`
//! (`crate::history::api`) go through it too, with longer [`Limits`].

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};

/// Time to connect, and the longest wait for any read or write.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// The whole exchange, however slowly the server trickles bytes.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Tries per request: a failed connection is retried after a short pause
/// (a service may be restarting); a server that accepted and then stalled
/// is not, so one endpoint costs at most two connect timeouts or one
/// deadline.
pub const ATTEMPTS: u32 = 2;
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

const PAUSE: Duration = Duration::from_millis(250);
/// Bodies larger than this are cut off (an error).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A response: status code and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Credentials for one endpoint, read from the environment (never from
/// the command line, where other users and shell history see them).
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic`, from `user:password`.
    Basic(String),
}

impl Auth {
    fn header(&self) -> String {
        match self {
            Auth::Bearer(token) => format!("Bearer {token}"),
            Auth::Basic(pair) => format!("Basic {}", base64(pair.as_bytes())),
        }
    }
}

impl std::fmt::Debug for Auth {
    /// Never the credential itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Bearer(_) => "Bearer(…)",
            Auth::Basic(_) => "Basic(…)",
        })
    }
}

/// The one HTTP client of the live checks. Its TLS configuration (the
/// system's roots plus `--ca-cert`) is built on the first `https://`
/// request, so a run against `http://` only never reads a certificate.
#[derive(Debug, Default, Clone)]
pub struct Client {
    ca_cert: Option<PathBuf>,
    tls: OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
}

impl Client {
    /// A client that also trusts the CA certificates (PEM) in `ca_cert`.
    /// The file is read now, so a bad one is an error before any check.
    pub fn new(ca_cert: Option<&Path>) -> Result<Client, String> {
        let client = Client {
            ca_cert: ca_cert.map(Path::to_path_buf),
            tls: OnceLock::new(),
        };
        if let Some(path) = ca_cert {
            extra_roots(path)?;
        }
        Ok(client)
    }

    /// GETs `url` (`http[s]://host[:port]/path`), retrying failures up to
    /// [`ATTEMPTS`] times. The error names the address and the cause.
    pub fn get(&self, url: &str, auth: Option<&Auth>) -> Result<Response, String> {
        self.get_with(url, auth, LIVE)
    }

    /// [`Client::get`] within `limits`.
    pub fn get_with(
        &self,
        url: &str,
        auth: Option<&Auth>,
        limits: Limits,
    ) -> Result<Response, String> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(PAUSE);
            }
            match self.get_once(url, auth, limits) {
                Ok(r) => return Ok(r),
                Err(Failed::Connect(e)) => last = e,
                Err(Failed::Other(e)) => return Err(e),
            }
        }
        Err(last)
    }

    fn tls(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        self.tls
            .get_or_init(|| tls_config(self.ca_cert.as_deref()).map(Arc::new))
            .clone()
    }

    fn get_once(&self, url: &str, auth: Option<&Auth>, limits: Limits) -> Result<Response, Failed> {
        let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(Failed::Other(format!(
                "{url}: only http:// and https:// URLs are checked"
            )));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.ends_with(':') && p.parse::<u16>().is_ok());
        let address = if has_port {
            authority.to_string()
        } else {
            format!("{authority}:{}", if secure { 443 } else { 80 })
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
        let stream = stream.ok_or(Failed::Connect(error))?;
        let io = |e: std::io::Error| Failed::Other(format!("{url}: {e}"));
        stream.set_read_timeout(Some(limits.idle)).map_err(io)?;
        stream.set_write_timeout(Some(limits.idle)).map_err(io)?;
        let request = Request {
            url,
            authority,
            path,
            auth,
            started,
            deadline: limits.deadline,
        };
        if !secure {
            return request.exchange(stream).map_err(Failed::Other);
        }
        let host = match address.rsplit_once(':') {
            Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
            None => address.as_str(),
        };
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| Failed::Other(format!("{url}: `{host}` cannot name a TLS server: {e}")))?;
        let config = self.tls().map_err(Failed::Other)?;
        let connection = rustls::ClientConnection::new(config, name)
            .map_err(|e| Failed::Other(format!("{url}: {e}")))?;
        request
            .exchange(rustls::StreamOwned::new(connection, stream))
            .map_err(Failed::Other)
    }
}

/// Why one attempt failed: before a connection (worth retrying) or after.
enum Failed {
    Connect(String),
    Other(String),
}

/// The system's root certificates, plus those in `ca_cert`.
fn tls_config(ca_cert: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    // A system store that cannot be read leaves only `--ca-cert`: the
    // handshake then says the certificate is unknown, naming the server.
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_cert {
        for cert in extra_roots(path)? {
            roots
                .add(cert)
                .map_err(|e| format!("--ca-cert {}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificates of a PEM file; an error names the file and the fix.
fn extra_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bad = |detail: String| {
        format!(
            "--ca-cert {}: {detail}; pass the PEM file of the CA that signed the servers' certificates",
            path.display()
        )
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    Ok(certs)
}

/// One request on an open connection.
struct Request<'a> {
    url: &'a str,
    authority: &'a str,
    path: &'a str,
    auth: Option<&'a Auth>,
    started: Instant,
    deadline: Duration,
}

impl Request<'_> {
    fn exchange(&self, mut stream: impl Read + Write) -> Result<Response, String> {
        let url = self.url;
        let io = |e: std::io::Error| format!("{url}: {e}");
        let authorization = self
            .auth
            .map(|a| format!("Authorization: {}\r\n", a.header()))
            .unwrap_or_default();
        let request = format!(
            "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: harden-check\r\nAccept: */*\r\n{authorization}Connection: close\r\n\r\n",
            self.path, self.authority
        );
        stream.write_all(request.as_bytes()).map_err(io)?;
        stream.flush().map_err(io)?;
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            if self.started.elapsed() > self.deadline {
                return Err(format!(
                    "{url}: no complete answer within {}s",
                    self.deadline.as_secs()
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
                // A TLS server that closes without close_notify after a
                // complete HTTP/1.0 answer (many do): the answer stands.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {
                    break;
                }
                Err(e) => return Err(format!("{url}: reading the answer: {e}")),
            }
        }
        parse(&raw).map_err(|e| format!("{url}: {e}"))
    }
}

/// Standard base64 with padding (RFC 4648), for basic authorization.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
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

    fn get(url: &str) -> Result<Response, String> {
        Client::default().get(url, None)
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

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
