//! Every replica scraped on its own, proven against a real Prometheus 3.
//!
//! harden generates a Kubernetes project whose `api` runs 2 (then 3)
//! replicas. A fake Kubernetes API server (`support/kube_api.rs`) reports
//! the pods the generated `k8s/api/deployment.yaml` would create (its pod
//! labels and container ports), at 127.0.0.1, 127.0.0.2, …; a harden-demo
//! listens on each of those addresses at the spec's port. A real Prometheus
//! runs a copy of the generated `k8s/prometheus/prometheus.yml` whose
//! discovery and relabelling are unchanged: only `api_server` points at the
//! fake, the kubelet job's https/token settings are dropped, the intervals
//! are the spec's 1s, and `rule_files` name a copy of the generated rules
//! whose `[5m]` ranges read `[20s]` (so a rate covers its whole range
//! within the test; the selectors and rule names are the generated ones).
//!
//! Each replica gets a known, different request rate. Prometheus must find
//! each replica as its own target (with `service`, `namespace`, `pod` and
//! `instance`), and the recorded `service:http_requests:rate5m` must be
//! within 5% of the true total. A second Prometheus scrapes the same
//! replicas through a round-robin HTTP proxy (what a Service VIP or load
//! balancer does to a scrape): its figure must be far from the truth.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const NAMESPACE: &str = "demo";
/// Requests per second sent to replica i: (i + 1) × this.
const RATE_STEP: u64 = 8;

#[test]
fn prometheus_discovers_two_replicas_and_records_their_true_rate() {
    per_replica_scrape(2);
}

#[test]
fn prometheus_discovers_three_replicas_and_records_their_true_rate() {
    per_replica_scrape(3);
}

fn per_replica_scrape(replicas: usize) {
    let Some(prometheus) = validator("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // One port for every replica (each pod listens on the container port),
    // free on each loopback address used.
    let port = free_port_on(replicas);
    let [prom_port, proxy_prom_port] = free_ports();
    let spec = format!(
        r#"[project]
name = "demo"
environment = "test"

[monitoring]
scrape_interval = "1s"
scrape_timeout = "1s"
evaluation_interval = "1s"

[[service]]
name = "api"
image = "registry.example.com/demo/api:1.0.0"
port = {port}
replicas = {replicas}

[platform.kubernetes]
namespace = "{NAMESPACE}"
"#
    );
    let spec_path = root.join("hardening.toml");
    fs::write(&spec_path, spec).expect("write spec");
    let out = root.join("out");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    harden(&["generate", &s(&spec_path), "--out", &s(&out)]).success();

    // The pods the generated Deployment would create, served by the fake.
    let deployment = yaml(&out.join("k8s/api/deployment.yaml"));
    let mut pods = FakePod::from_deployment(&deployment, replicas);
    let pod_names: Vec<String> = pods.iter().map(|p| p.name.clone()).collect();
    let ips: Vec<String> = pods.iter().map(|p| p.ip.clone()).collect();
    // Pods that must not become api targets, each at an address where a
    // replica would answer: another app's pod on the same port, and an api
    // pod that has not started.
    let mut other = FakePod::from_deployment(&deployment, 1).remove(0);
    other.name = "worker-0".into();
    other.labels["app.kubernetes.io/name"] = json!("worker");
    other.ip = ips[0].clone();
    let mut pending = FakePod::from_deployment(&deployment, 1).remove(0);
    pending.name = "api-5d4f8b7c9-pending".into();
    pending.phase = "Pending";
    pods.push(other);
    pods.push(pending);
    let api = FakeKubeApi::start(NAMESPACE, pods);

    // The test copies: rules with short ranges, the discovered config, and
    // the same config scraping `api` through the proxy.
    let rules = root.join("rules");
    fs::create_dir_all(&rules).expect("mkdir");
    for file in files_in(&out.join("prometheus/rules")) {
        let text = fs::read_to_string(&file).expect("read rules");
        assert!(text.contains("[5m]"), "{}", file.display());
        let name = file.file_name().expect("file name");
        fs::write(rules.join(name), text.replace("[5m]", "[20s]")).expect("write rules");
    }
    let generated = yaml(&out.join(harden::targets::prometheus::kubernetes::PATH));
    let discovered = test_copy(&generated, &api.url, &rules);
    let proxy_port = free_ports::<1>()[0];
    let proxied = through_proxy(&discovered, proxy_port);
    let discovered_path = root.join("discovered.yml");
    let proxied_path = root.join("proxied.yml");
    fs::write(&discovered_path, discovered.to_string()).expect("write config");
    fs::write(&proxied_path, proxied.to_string()).expect("write config");

    // The replicas, each with its own known load, and the proxy.
    let mut procs = demo_replicas(root, &ips, port);
    let stop = Arc::new(AtomicBool::new(false));
    let loads: Vec<Load> = ips
        .iter()
        .enumerate()
        .map(|(i, ip)| Load::start(ip, port, RATE_STEP * (i as u64 + 1), &stop))
        .collect();
    let truth: u64 = (1..=replicas as u64).map(|i| i * RATE_STEP).sum();
    let backends: Vec<String> = ips.iter().map(|ip| format!("{ip}:{port}")).collect();
    let _proxy = RoundRobin::start(proxy_port, backends.clone(), &stop);
    for (name, config, web) in [
        ("prometheus-discovered", &discovered_path, prom_port),
        ("prometheus-proxied", &proxied_path, proxy_prom_port),
    ] {
        procs.push(Proc::start(
            name,
            root,
            &prometheus,
            &[
                format!("--config.file={}", s(config)),
                format!(
                    "--storage.tsdb.path={}",
                    s(&root.join(format!("{name}-data")))
                ),
                format!("--web.listen-address=127.0.0.1:{web}"),
            ],
        ));
    }

    // Each replica is its own target, labelled as the rules and dashboards
    // expect.
    let logs = || procs.iter().map(Proc::tail).collect::<Vec<_>>().join("\n");
    let deadline = Instant::now() + Duration::from_secs(60);
    let targets = loop {
        let up: Vec<Value> = active_targets(prom_port)
            .into_iter()
            .filter(|t| t["labels"]["job"] == "api" && t["health"] == "up")
            .collect();
        if up.len() == replicas {
            break up;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not find {replicas} api targets up: {up:?}\nrequests to the fake API: {:?}\n{}",
            api.requests(),
            logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut instances: Vec<String> = targets
        .iter()
        .map(|t| {
            t["labels"]["instance"]
                .as_str()
                .expect("instance")
                .to_string()
        })
        .collect();
    instances.sort();
    assert_eq!(instances, backends);
    let mut pods: Vec<&str> = targets
        .iter()
        .map(|t| t["labels"]["pod"].as_str().expect("pod label"))
        .collect();
    pods.sort();
    assert_eq!(pods, pod_names);
    for t in &targets {
        assert_eq!(t["labels"]["service"], "api", "{t}");
        assert_eq!(t["labels"]["namespace"], NAMESPACE, "{t}");
    }
    // Prometheus listed and watched the namespace's pods at the fake.
    let asked = api.requests();
    assert!(
        asked
            .iter()
            .any(|r| r.starts_with(&format!("GET /api/v1/namespaces/{NAMESPACE}/pods"))),
        "{asked:?}"
    );
    // Neither the other app's pod nor the pending api pod became a target.
    assert_eq!(
        active_targets(prom_port)
            .iter()
            .filter(|t| t["labels"]["job"] == "api")
            .count(),
        replicas
    );

    // The recorded rate, once its 20s range is covered by scrapes, is the
    // truth within 5%; through the proxy it is not.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(90);
    let (mut good, mut bad) = (None, None);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(2));
        if started.elapsed() < Duration::from_secs(25) {
            continue;
        }
        let (Some(d), Some(p)) = (recorded_rate(prom_port), recorded_rate(proxy_prom_port)) else {
            continue;
        };
        good = Some(d);
        bad = Some(p);
        if (d - truth as f64).abs() <= 0.05 * truth as f64 {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for load in &loads {
        let achieved = load.achieved();
        assert!(
            (achieved - load.rate as f64).abs() <= 0.03 * load.rate as f64,
            "the load generator did not keep its rate: {achieved:.2}/s of {}/s",
            load.rate
        );
    }
    let good = good.unwrap_or_else(|| panic!("no recorded rate from Prometheus\n{}", logs()));
    let bad = bad.expect("a recorded rate through the proxy");
    eprintln!(
        "{replicas} replicas, truth {truth} req/s: per-replica targets {good:.2} req/s, round-robin proxy {bad:.2} req/s"
    );
    assert!(
        (good - truth as f64).abs() <= 0.05 * truth as f64,
        "service:http_requests:rate5m with per-replica targets is {good:.2} req/s, truth {truth} req/s"
    );
    assert!(
        (bad - truth as f64).abs() > 0.5 * truth as f64,
        "scraped through a round-robin proxy the rate should be wrong (counter resets between replicas), yet it is {bad:.2} req/s against a truth of {truth} req/s"
    );
}

/// The generated config for a test: `api_server` at the fake for every
/// Kubernetes discovery, plain http to the kubelet, the rules copy. Every
/// `relabel_configs` entry stays as generated.
pub(crate) fn test_copy(generated: &Value, api_server: &str, rules: &Path) -> Value {
    let mut config = generated.clone();
    config["rule_files"] = json!([format!("{}/*.yml", rules.display())]);
    for job in config["scrape_configs"]
        .as_array_mut()
        .expect("scrape_configs")
    {
        let Some(sds) = job
            .get_mut("kubernetes_sd_configs")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for sd in sds {
            sd["api_server"] = json!(api_server);
        }
        if let Some(job) = job.as_object_mut() {
            for key in ["scheme", "authorization", "tls_config"] {
                job.remove(key);
            }
        }
    }
    config
}

/// The same config with job `api` scraping one address: the proxy.
fn through_proxy(config: &Value, proxy_port: u16) -> Value {
    let mut config = config.clone();
    for job in config["scrape_configs"]
        .as_array_mut()
        .expect("scrape_configs")
    {
        if job["job_name"] == "api" {
            let path = job["metrics_path"].clone();
            *job = json!({
                "job_name": "api",
                "metrics_path": path,
                "static_configs": [{"targets": [format!("127.0.0.1:{proxy_port}")],
                                    "labels": {"service": "api"}}],
            });
        }
    }
    config
}

/// A port free on 127.0.0.1 … 127.0.0.<n>.
pub(crate) fn free_port_on(n: usize) -> u16 {
    for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = first.local_addr().expect("addr").port();
        let rest: Vec<_> = (2..=n)
            .map(|i| TcpListener::bind(format!("127.0.0.{i}:{port}")))
            .collect();
        if rest.iter().all(Result::is_ok) {
            return port;
        }
    }
    panic!("no port free on 127.0.0.1 to 127.0.0.{n}");
}

pub(crate) fn active_targets(port: u16) -> Vec<Value> {
    get_from("127.0.0.1", port, "/api/v1/targets?state=active")
        .and_then(|(_, body)| serde_json::from_str::<Value>(&body).ok())
        .and_then(|v| v["data"]["activeTargets"].as_array().cloned())
        .unwrap_or_default()
}

/// `service:http_requests:rate5m` as the rule recorded it, if it has.
fn recorded_rate(port: u16) -> Option<f64> {
    let (_, body) = get_from(
        "127.0.0.1",
        port,
        "/api/v1/query?query=service:http_requests:rate5m",
    )?;
    let v: Value = serde_json::from_str(&body).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

/// `rate` API requests a second to one replica, paced on a fixed schedule,
/// until `stop`; counts the answered ones.
struct Load {
    rate: u64,
    started: Instant,
    done: Arc<AtomicU64>,
    stopped_at: Arc<std::sync::Mutex<Option<Instant>>>,
}

impl Load {
    fn start(ip: &str, port: u16, rate: u64, stop: &Arc<AtomicBool>) -> Load {
        let done = Arc::new(AtomicU64::new(0));
        let stopped_at = Arc::new(std::sync::Mutex::new(None));
        let started = Instant::now();
        let (ip, stop, d, s) = (
            ip.to_string(),
            Arc::clone(stop),
            Arc::clone(&done),
            Arc::clone(&stopped_at),
        );
        std::thread::spawn(move || {
            let period = Duration::from_micros(1_000_000 / rate);
            // Bounded: at most 10 minutes of requests.
            for k in 0..rate * 600 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let at = started + period * u32::try_from(k).unwrap_or(u32::MAX);
                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                if get_from(&ip, port, "/api/availability").is_some_and(|(c, _)| c == 200) {
                    d.fetch_add(1, Ordering::Relaxed);
                }
            }
            *s.lock().expect("lock") = Some(Instant::now());
        });
        Load {
            rate,
            started,
            done,
            stopped_at,
        }
    }

    /// Answered requests a second so far.
    fn achieved(&self) -> f64 {
        let end = self
            .stopped_at
            .lock()
            .expect("lock")
            .unwrap_or_else(Instant::now);
        self.done.load(Ordering::Relaxed) as f64 / (end - self.started).as_secs_f64()
    }
}

/// An HTTP proxy that sends each request to the next backend in turn, as a
/// Service VIP or load balancer does: one request per connection.
struct RoundRobin;

impl RoundRobin {
    fn start(port: u16, backends: Vec<String>, stop: &Arc<AtomicBool>) -> RoundRobin {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::clone(stop);
        std::thread::spawn(move || {
            let mut next = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let backend = backends[next % backends.len()].clone();
                next += 1;
                std::thread::spawn(move || forward(client, &backend));
            }
        });
        RoundRobin
    }
}

/// One request from `client` to `backend`, its answer back, then close.
fn forward(client: TcpStream, backend: &str) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(read) = client.try_clone() else { return };
    let mut reader = BufReader::new(read);
    let mut head = String::new();
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let end = line == "\r\n";
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.push_str(&line);
        }
        if end {
            break;
        }
    }
    let head = head.replacen("\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1);
    let Ok(mut upstream) = TcpStream::connect(backend) else {
        return;
    };
    let _ = upstream.set_read_timeout(Some(Duration::from_secs(5)));
    if upstream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer);
    let mut client = client;
    let _ = client.write_all(&answer);
}
