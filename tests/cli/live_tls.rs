//! `harden check --live` over https: a local TLS stand-in for Prometheus
//! with a certificate from a self-signed CA made for the test. The check
//! passes with `--ca-cert`, fails without it, and sends the credentials
//! named by `--bearer-env`/`--basic-auth-env` (which never appear in the
//! output). `harden report` and `check --budget` take the same flags
//! (`cli/http_flags.rs`) and query the stand-in's API the same way.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::*;

const SPEC: &str = "examples/app-oint/hardening.toml";

/// A TLS server on 127.0.0.1 answering `/-/ready` with 200, every instant
/// query (`/api/v1/query`) with one sample of [`RATIO`] (everything else
/// 404), recording each request's Authorization header. Its
/// certificate names 127.0.0.1 and localhost, signed by a CA whose PEM is
/// `ca_pem`. Dropped, it stops accepting.
struct TlsStandIn {
    url: String,
    ca_pem: PathBuf,
    authorization: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TlsStandIn {
    fn start() -> TlsStandIn {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "harden test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().expect("server key");
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("params");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_pem = dir.path().join("ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).expect("write CA");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("https://{}", listener.local_addr().expect("address"));
        let stop = Arc::new(AtomicBool::new(false));
        let authorization = Arc::new(Mutex::new(Vec::new()));
        let (stop_flag, seen) = (stop.clone(), authorization.clone());
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (config, seen) = (config.clone(), seen.clone());
                thread::spawn(move || serve(stream, config, &seen));
            }
        });
        TlsStandIn {
            url,
            ca_pem,
            authorization,
            stop,
            accept: Some(accept),
            _dir: dir,
        }
    }
}

impl Drop for TlsStandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("https://"));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// The value of every instant query the stand-in answers.
const RATIO: &str = "0.0001";

/// One connection: the handshake (which a client without the CA aborts),
/// the request head, the answer, close_notify.
fn serve(stream: TcpStream, config: Arc<rustls::ServerConfig>, seen: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if let Some(value) = head.lines().find_map(|l| l.strip_prefix("Authorization: ")) {
        seen.lock().expect("lock").push(value.to_string());
    }
    let answer = if head.starts_with("GET /-/ready ") {
        "HTTP/1.0 200 OK\r\nContent-Length: 27\r\n\r\nPrometheus Server is Ready.".to_string()
    } else if head.starts_with("GET /api/v1/query?") {
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1700000000,"{RATIO}"]}}]}}}}"#
        );
        format!(
            "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
    };
    let _ = tls.write_all(answer.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// `harden check --live` against the stand-in as Prometheus (the other
/// components off), with `extra` flags and `env`.
fn check_live(server: &TlsStandIn, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec!["check", SPEC, "--format", "json", "--live"];
    args.extend(["--prometheus", &server.url]);
    args.extend(["--alertmanager", "off", "--grafana", "off"]);
    args.extend(extra);
    harden_env(&args, env)
}

/// harden with `args` in the repository root, with `env` set.
fn harden_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harden"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from_output(&cmd.output().expect("harden runs"))
}

/// The status and detail of the check named `name` in a JSON report.
fn status_of(run: &Run, name: &str) -> (String, String) {
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let check = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report}"));
    (
        check["status"].as_str().unwrap_or_default().to_string(),
        check["detail"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn https_with_the_ca_passes_and_sends_the_bearer_token_from_the_environment() {
    let server = TlsStandIn::start();
    let ca = server.ca_pem.to_string_lossy().into_owned();
    let token = "live-check-token-7f3a";
    let run = check_live(
        &server,
        &[
            "--ca-cert",
            &ca,
            "--bearer-env",
            "prometheus=PROMETHEUS_TOKEN",
        ],
        &[("PROMETHEUS_TOKEN", token)],
    );
    let (status, detail) = status_of(&run, "Prometheus is ready");
    assert_eq!(status, "pass", "{detail}");
    assert!(detail.contains("→ 200"), "{detail}");
    let seen = server.authorization.lock().expect("lock").clone();
    assert!(
        seen.iter().any(|a| *a == format!("Bearer {token}")),
        "{seen:?}"
    );
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token));
}

#[test]
fn https_without_the_ca_fails_naming_the_certificate() {
    let server = TlsStandIn::start();
    let run = check_live(&server, &[], &[]).code(1);
    let (status, detail) = status_of(&run, "Prometheus is ready");
    assert_eq!(status, "fail", "{detail}");
    assert!(detail.contains(&server.url), "{detail}");
    assert!(detail.to_lowercase().contains("certificate"), "{detail}");
    assert!(server.authorization.lock().expect("lock").is_empty());
}

#[test]
fn basic_auth_comes_from_a_variable_and_a_missing_one_is_an_error() {
    let server = TlsStandIn::start();
    let ca = server.ca_pem.to_string_lossy().into_owned();
    let flags = [
        "--ca-cert",
        ca.as_str(),
        "--basic-auth-env",
        "prometheus=PROMETHEUS_AUTH",
    ];
    let run = check_live(&server, &flags, &[("PROMETHEUS_AUTH", "ops:pa55")]);
    assert_eq!(status_of(&run, "Prometheus is ready").0, "pass");
    let seen = server.authorization.lock().expect("lock").clone();
    // base64("ops:pa55")
    assert!(seen.iter().any(|a| a == "Basic b3BzOnBhNTU="), "{seen:?}");

    let run = check_live(&server, &flags, &[]).code(2);
    assert!(
        run.stderr.contains("PROMETHEUS_AUTH is not set"),
        "{}",
        run.stderr
    );
    let run = check_live(&server, &["--bearer-env", "nope=X"], &[("X", "y")]).code(2);
    assert!(
        run.stderr.contains("`nope` is not prometheus"),
        "{}",
        run.stderr
    );
    let run = check_live(&server, &["--ca-cert", "Cargo.toml"], &[]).code(2);
    assert!(
        run.stderr.contains("--ca-cert Cargo.toml"),
        "{}",
        run.stderr
    );
}

/// `harden report` with `--ca-cert` and `--bearer-env`: every query goes
/// through the one client over https with the token; without the CA it
/// stops naming the certificate, and an endpoint other than Prometheus is
/// refused before any request.
#[test]
fn report_queries_prometheus_over_https_with_the_ca_and_the_bearer_token() {
    let server = TlsStandIn::start();
    let ca = server.ca_pem.to_string_lossy().into_owned();
    let token = "report-token-51c2";
    let report = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["report", SPEC, "--format", "json"];
        args.extend(["--prometheus", &server.url]);
        args.extend(extra);
        harden_env(&args, env)
    };
    let run = report(
        &["--ca-cert", &ca, "--bearer-env", "prometheus=PROM_TOKEN"],
        &[("PROM_TOKEN", token)],
    )
    .success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON report");
    let rows = json["rows"].as_array().expect("rows");
    assert!(!rows.is_empty(), "{json}");
    for row in rows {
        assert_eq!(row["error_ratio"], 0.0001, "{row}");
    }
    let seen = server.authorization.lock().expect("lock").clone();
    assert_eq!(seen.len(), rows.len(), "{seen:?}");
    assert!(
        seen.iter().all(|a| *a == format!("Bearer {token}")),
        "{seen:?}"
    );
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token));

    let run = report(&[], &[]).code(2);
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    let run = report(
        &["--bearer-env", "grafana=PROM_TOKEN"],
        &[("PROM_TOKEN", token)],
    )
    .code(2);
    assert!(
        run.stderr
            .contains("--bearer-env grafana=PROM_TOKEN: `grafana` is not prometheus"),
        "{}",
        run.stderr
    );
    assert_eq!(server.authorization.lock().expect("lock").len(), rows.len());
}

/// `check --budget` without `--live` takes the HTTP flags too and reads
/// the budget over https with the credentials.
#[test]
fn the_budget_gate_reads_prometheus_over_https_with_the_flags() {
    let server = TlsStandIn::start();
    let ca = server.ca_pem.to_string_lossy().into_owned();
    let run = harden_env(
        &[
            "check",
            SPEC,
            "--format",
            "json",
            "--budget",
            "--prometheus",
            &server.url,
            "--ca-cert",
            &ca,
            "--basic-auth-env",
            "prometheus=PROM_AUTH",
        ],
        &[("PROM_AUTH", "ops:pa55")],
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let gates: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| {
            c["name"]
                .as_str()
                .is_some_and(|n| n.contains("deploy freeze"))
        })
        .collect();
    assert!(!gates.is_empty(), "{report}");
    for gate in &gates {
        // 0.0001 of the budget left: Prometheus answered, over https.
        assert!(
            gate["detail"]
                .as_str()
                .is_some_and(|d| d.contains("0.0% of the")),
            "{gate}"
        );
    }
    let seen = server.authorization.lock().expect("lock").clone();
    assert_eq!(seen.len(), gates.len(), "{seen:?}");
    assert!(seen.iter().all(|a| a == "Basic b3BzOnBhNTU="), "{seen:?}");
}
