//! The saturation alerts against a real Prometheus: fixture exporters
//! (std-only HTTP servers) serve cAdvisor and kube-state-metrics series as
//! the kubelet and kube-state-metrics name and label them; Prometheus
//! scrapes them and evaluates the rule file Kubernetes mounts
//! (`k8s/prometheus/rules/api.yml`) with only `for` shortened. HighCPUUsage
//! and HighMemoryUsage stay quiet over the autoscaler's target while it can
//! still add replicas, and fire at its maximum; ReplicasAtMaximum fires at
//! the maximum alone. Also: the spec's thresholds are checked.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const ALERTS: [&str; 3] = ["HighCPUUsage", "HighMemoryUsage", "ReplicasAtMaximum"];
/// App-Oint's api: requests of 500m CPU and 512Mi memory per pod, targets of
/// 80% CPU and 75% memory, at most 20 replicas.
const CPU_REQUEST: f64 = 0.5;
const MEMORY_REQUEST: f64 = 536_870_912.0;
const MAX_REPLICAS: u32 = 20;
const PODS: [&str; 2] = ["api-0", "api-1"];

/// What the fixtures serve: a steady load; the CPU counter grows at its rate.
struct Load {
    /// CPU use per pod as a share of its request, and since when.
    cpu_share: f64,
    cpu_since: Instant,
    cpu_seconds: f64,
    memory_share: f64,
    replicas: u32,
}

impl Load {
    fn cpu_counter(&self) -> f64 {
        self.cpu_seconds + self.cpu_since.elapsed().as_secs_f64() * self.cpu_share * CPU_REQUEST
    }
}

/// cAdvisor as the kubelet serves it: per container, with the pod-level
/// cgroup (`container=""`) beside it, which the alerts must not count.
fn cadvisor(load: &Load) -> String {
    let mut text = String::from(
        "# TYPE container_cpu_usage_seconds_total counter\n# TYPE container_memory_working_set_bytes gauge\n",
    );
    let cpu = load.cpu_counter();
    let memory = load.memory_share * MEMORY_REQUEST;
    for pod in PODS {
        let labels = |container: &str| {
            format!(
                "container=\"{container}\",id=\"/kubepods/{pod}/{container}\",image=\"app-oint/api:1.4.2\",name=\"{container}\",namespace=\"app-oint\",pod=\"{pod}\""
            )
        };
        text += &format!(
            "container_cpu_usage_seconds_total{{{}}} {cpu}\n",
            labels("api")
        );
        text += &format!(
            "container_cpu_usage_seconds_total{{{}}} {}\n",
            labels(""),
            cpu * 3.0
        );
        text += &format!(
            "container_memory_working_set_bytes{{{}}} {memory}\n",
            labels("api")
        );
        text += &format!(
            "container_memory_working_set_bytes{{{}}} {}\n",
            labels(""),
            memory * 3.0
        );
    }
    text
}

/// kube-state-metrics v2: each pod's requests, and the autoscaler.
fn kube_state_metrics(load: &Load) -> String {
    let mut text = String::from("# TYPE kube_pod_container_resource_requests gauge\n");
    for pod in PODS {
        for (resource, unit, value) in [
            ("cpu", "core", CPU_REQUEST),
            ("memory", "byte", MEMORY_REQUEST),
        ] {
            text += &format!(
                "kube_pod_container_resource_requests{{container=\"api\",namespace=\"app-oint\",node=\"node-1\",pod=\"{pod}\",resource=\"{resource}\",uid=\"{pod}-uid\",unit=\"{unit}\"}} {value}\n"
            );
        }
    }
    let hpa = "horizontalpodautoscaler=\"api\",namespace=\"app-oint\"";
    text += &format!(
        "# TYPE kube_horizontalpodautoscaler_status_current_replicas gauge\nkube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} {}\n",
        load.replicas
    );
    text += &format!(
        "# TYPE kube_horizontalpodautoscaler_spec_max_replicas gauge\nkube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}} {MAX_REPLICAS}\n"
    );
    text
}

/// A loopback exporter answering every request with `body(load)`; it stops
/// accepting when dropped.
struct Exporter {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Exporter {
    fn start(load: Arc<Mutex<Load>>, body: fn(&Load) -> String) -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let text = body(&load.lock().expect("load"));
                        answer(stream, &text);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Exporter { port, stop }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads the request head, then answers with `body` and closes.
fn answer(mut stream: TcpStream, body: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16_384 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Prometheus, killed and reaped when dropped.
struct Prometheus {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// `GET path` on the API, as JSON (`Null` when it does not answer).
    fn get(&self, path: &str) -> Value {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return Value::Null;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        text.split_once("\r\n\r\n")
            .and_then(|(_, body)| serde_json::from_str(body).ok())
            .unwrap_or(Value::Null)
    }

    /// The state (`pending`, `firing`) of each active saturation alert.
    fn active(&self) -> Vec<(String, String)> {
        let alerts = self.get("/api/v1/alerts");
        let mut out: Vec<(String, String)> = alerts["data"]["alerts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            x["labels"]["alertname"].as_str().unwrap_or("").to_string(),
                            x["state"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .filter(|(name, _)| ALERTS.contains(&name.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The value of an instant query with one result, if it has one.
    fn value(&self, query: &str) -> Option<f64> {
        let encoded = harden::history::api::encode(query);
        let answer = self.get(&format!("/api/v1/query?query={encoded}"));
        answer["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits (bounded) until `ready` holds; panics with the log otherwise.
    fn wait(&self, what: &str, limit: Duration, mut ready: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + limit;
        while !ready(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; alerts {:?}; targets {}\n{}",
                self.active(),
                self.get("/api/v1/targets")["data"]["activeTargets"],
                self.log_tail()
            );
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// `expected` are the active alerts, all firing, over `evaluations`
    /// consecutive evaluation rounds (1s apart).
    fn holds(&self, what: &str, expected: &[&str], evaluations: u32) {
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|a| (a.to_string(), "firing".to_string()))
            .collect();
        self.wait(
            &format!("{what}: exactly {expected:?} firing"),
            LIMIT,
            |p| p.active() == want,
        );
        for _ in 0..evaluations {
            thread::sleep(Duration::from_secs(1));
            assert_eq!(self.active(), want, "{what}: over later evaluations");
        }
    }
}

const LIMIT: Duration = Duration::from_secs(30);

/// The rule file Kubernetes mounts, with the saturation alerts' `for` at 0s
/// (and nothing else changed: every expression is the generated one).
fn test_rules(out: &Tree, dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let text = fs::read_to_string(out.join("k8s/prometheus/rules/api.yml")).expect("rules");
    let generated = fs::read_to_string(out.join("prometheus/rules/api.yml")).expect("rules");
    assert_eq!(
        text, generated,
        "the mounted rule file is the generated one"
    );
    let mut rules: Value = serde_saphyr::from_str(&text).expect("yaml");
    let mut exprs = Vec::new();
    for group in rules["groups"].as_array_mut().expect("groups") {
        for rule in group["rules"].as_array_mut().expect("rules") {
            if rule["alert"].as_str().is_some_and(|a| ALERTS.contains(&a)) {
                assert_eq!(rule["for"], "15m", "{rule}");
                rule["for"] = Value::from("0s");
                exprs.push(rule["expr"].as_str().expect("expr").to_string());
            }
        }
    }
    assert_eq!(
        exprs.len(),
        ALERTS.len(),
        "every saturation alert is generated"
    );
    let path = dir.join("saturation-rules.yml");
    // JSON is YAML: Prometheus reads it as the rule file it is.
    fs::write(&path, serde_json::to_string_pretty(&rules).expect("json")).expect("write");
    (path, exprs)
}

/// The window of the CPU alert's `rate()`: a steady load is backfilled
/// over it (and a little more), so the generated 5m rate reads that load at
/// once instead of after five minutes of scraping.
const HISTORY_SECS: u64 = 330;
const HISTORY_STEP_SECS: u64 = 15;

/// One steady state: `cpu_share` and `memory_share` of the requests on every
/// pod for the past five minutes and now, and the autoscaler at `replicas`.
/// A fresh Prometheus (the history written into its TSDB by `promtool tsdb
/// create-blocks-from openmetrics`, the present scraped from the fixtures)
/// must measure exactly that and have exactly `expected` firing, over
/// several evaluations.
fn steady_state(
    tools: (&Path, &Path),
    rules: &Path,
    exprs: (&str, &str),
    (cpu_share, memory_share, replicas): (f64, f64, u32),
    expected: &[&str],
) {
    let (prometheus, promtool) = tools;
    let dir = tempfile::tempdir().expect("tempdir");
    let counter_now = 1000.0;
    let load = Arc::new(Mutex::new(Load {
        cpu_share,
        cpu_since: Instant::now(),
        cpu_seconds: counter_now,
        memory_share,
        replicas,
    }));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let kubelet = Exporter::start(load.clone(), cadvisor);
    let ksm = Exporter::start(load.clone(), kube_state_metrics);

    // The counters' history, with the labels the live scrape gives them, so
    // history and present are one series.
    let mut history = String::new();
    for step in (1..=HISTORY_SECS / HISTORY_STEP_SECS).rev() {
        let ago = step * HISTORY_STEP_SECS;
        let value = counter_now - ago as f64 * cpu_share * CPU_REQUEST;
        for pod in PODS {
            for (container, scale) in [("api", 1.0), ("", 3.0)] {
                history += &format!(
                    "container_cpu_usage_seconds_total{{container=\"{container}\",id=\"/kubepods/{pod}/{container}\",image=\"app-oint/api:1.4.2\",instance=\"127.0.0.1:{port}\",job=\"kubernetes-cadvisor\",name=\"{container}\",namespace=\"app-oint\",pod=\"{pod}\"}} {} {}\n",
                    value * scale,
                    now - ago,
                    port = kubelet.port,
                );
            }
        }
    }
    history += "# EOF\n";
    let openmetrics = dir.path().join("history.om");
    fs::write(&openmetrics, history).expect("write");
    let data = dir.path().join("data");
    assert_ok(
        "promtool tsdb create-blocks-from openmetrics",
        &Command::new(promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&openmetrics)
            .arg(&data)
            .output()
            .expect("promtool"),
    );

    let [port] = free_ports();
    let config = dir.path().join("prometheus.yml");
    fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\nscrape_configs:\n  - job_name: kubernetes-cadvisor\n    static_configs:\n      - targets: ['127.0.0.1:{kubelet}']\n  - job_name: kube-state-metrics\n    honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:{ksm}']\n",
            rules = rules.display(),
            kubelet = kubelet.port,
            ksm = ksm.port,
        ),
    )
    .expect("write");
    let log = dir.path().join("prometheus.log");
    let file = fs::File::create(&log).expect("log");
    let child = Command::new(prometheus)
        .args([
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file)
        .spawn()
        .expect("start prometheus");
    let prom = Prometheus { child, port, log };
    // Each alert's left side, without its threshold: the utilization now.
    let ratio = |expr: &str| {
        expr.split(" >= ")
            .next()
            .expect("expr")
            .trim_start_matches('(')
            .to_string()
    };
    let (cpu, memory) = (ratio(exprs.0), ratio(exprs.1));
    let what = format!(
        "CPU at {cpu_share} and memory at {memory_share} of the requests, {replicas} of {MAX_REPLICAS} replicas"
    );
    // Measured as loaded (within 5%), so a quiet alert is not for lack of
    // series.
    prom.wait(&format!("{what} to be measured"), LIMIT, |p| {
        p.value(&cpu)
            .is_some_and(|v| (v - cpu_share).abs() <= cpu_share * 0.05)
            && p.value(&memory)
                .is_some_and(|v| (v - memory_share).abs() <= memory_share * 0.05)
            && p.value("kube_horizontalpodautoscaler_status_current_replicas")
                == Some(f64::from(replicas))
    });
    prom.holds(&what, expected, 3);
}

#[test]
fn saturation_alerts_fire_at_the_maximum_and_stay_quiet_below_on_a_real_prometheus() {
    let (Some(prometheus), Some(promtool)) = (validator("prometheus"), validator("promtool"))
    else {
        return;
    };
    let started = Instant::now();
    let out = generate(&Spec::app_oint());
    let dir = tempfile::tempdir().expect("tempdir");
    let (rules, exprs) = test_rules(&out, dir.path());
    let (cpu_expr, memory_expr) = (exprs[0].as_str(), exprs[1].as_str());
    assert!(cpu_expr.contains(">= 0.8) and on ()"), "{cpu_expr}");
    assert!(memory_expr.contains(">= 0.75) and on ()"), "{memory_expr}");
    let run = |load, expected: &[&str]| {
        steady_state(
            (&prometheus, &promtool),
            &rules,
            (cpu_expr, memory_expr),
            load,
            expected,
        );
    };
    // Under the targets, a replica to spare: quiet.
    run((0.5, 0.5, MAX_REPLICAS - 1), &[]);
    // At the maximum, just under the targets: only ReplicasAtMaximum.
    run((0.78, 0.73, MAX_REPLICAS), &["ReplicasAtMaximum"]);
    // Over both targets with a replica left to add: the autoscaler's job,
    // not an alert.
    run((0.9, 0.9, MAX_REPLICAS - 1), &[]);
    // Over them at the maximum: all three fire.
    run((0.9, 0.9, MAX_REPLICAS), &ALERTS);
    eprintln!(
        "saturation alerts against Prometheus, four steady states: {:?}",
        started.elapsed()
    );
}

/// A threshold the spec raises is the alert's; one under the autoscaler's
/// target, or for a resource it does not scale on, is refused.
#[test]
fn alert_thresholds_are_the_specs_and_never_under_the_target() {
    let spec = |extra: &str| {
        format!(
            r#"[project]
name = "shop"
[[service]]
name = "api"
image = "shop/api:1"
port = 8080
resources = {{ cpu = "500m", memory = "512Mi" }}
[service.autoscaling]
min_replicas = 2
max_replicas = 6
cpu_percent = 70
{extra}
[platform.kubernetes]
"#
        )
    };
    let out = generate(&Spec::toml(spec("cpu_alert_percent = 90")));
    let rules = std::fs::read_to_string(out.join("prometheus/rules/api.yml")).expect("rules");
    assert!(rules.contains(">= 0.9) and on ()"), "{rules}");
    assert!(rules.contains("the alert threshold of 90% (the autoscaling target is 70%)"));
    assert!(
        !rules.contains("HighMemoryUsage"),
        "no memory target, no memory alert"
    );

    for (extra, message) in [
        (
            "cpu_alert_percent = 60",
            "cpu_alert_percent (60) is below cpu_percent (70)",
        ),
        (
            "memory_alert_percent = 90",
            "`memory_alert_percent` needs the autoscaler to scale on memory",
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hardening.toml");
        std::fs::write(&path, spec(extra)).expect("write");
        let out = dir.path().join("out");
        let run = harden(&[
            "generate",
            &path.to_string_lossy(),
            "--out",
            &out.to_string_lossy(),
        ])
        .code(2);
        assert!(run.stderr.contains(message), "{extra}: {}", run.stderr);
        assert!(!out.exists(), "{extra}: nothing is written");
    }
}

/// The saturation series (cAdvisor, kube-state-metrics) are collected only
/// by the in-cluster Prometheus: without Kubernetes no saturation alert,
/// runbook or dashboard row is generated (it could never fire or show
/// anything). ReplicasAtMaximum needs room between the autoscaler's bounds:
/// at `min_replicas == max_replicas` it would fire for as long as the
/// service runs.
#[test]
fn saturation_alerts_and_panels_exist_only_where_their_series_do() {
    let spec = |min: u32, platform: &str| {
        format!(
            r#"[project]
name = "shop"
[[service]]
name = "api"
image = "shop/api:1"
port = 8080
resources = {{ cpu = "500m", memory = "512Mi" }}
[service.autoscaling]
min_replicas = {min}
max_replicas = 4
cpu_percent = 70
memory_percent = 80
[platform.{platform}]
"#
        )
    };
    let alerts = |out: &Tree| -> Vec<String> {
        let rules = out.yaml("prometheus/rules/api.yml");
        rules["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules"))
            .filter_map(|r| r["alert"].as_str())
            .filter(|a| ALERTS.contains(a))
            .map(str::to_string)
            .collect()
    };
    // The row, or any panel reading the series.
    let saturation_row = |out: &Tree| {
        let board = out.read("grafana/dashboards/api.json");
        board.contains("\"Saturation\"")
            || board.contains("container_cpu_usage_seconds_total")
            || board.contains("kube_horizontalpodautoscaler")
    };
    let k8s = generate(&Spec::toml(spec(2, "kubernetes")));
    assert_eq!(alerts(&k8s), ALERTS, "Kubernetes collects their series");
    assert!(saturation_row(&k8s));
    assert!(k8s.has("runbooks/ReplicasAtMaximum.md"));

    for platform in ["compose", "digitalocean"] {
        let out = generate(&Spec::toml(
            spec(2, platform).replace("shop/api:1", "registry.digitalocean.com/shop/api:1")
                + if platform == "digitalocean" {
                    "instance_size = \"apps-d-1vcpu-1gb\"\nmetrics = \"otlp\"\notlp_endpoint = \"https://prometheus.shop.example/api/v1/otlp/v1/metrics\"\n"
                } else {
                    ""
                },
        ));
        assert!(alerts(&out).is_empty(), "{platform}: {:?}", alerts(&out));
        assert!(!saturation_row(&out), "{platform}: an empty saturation row");
        for alert in ALERTS {
            assert!(
                !out.has(&format!("runbooks/{alert}.md")),
                "{platform}: {alert}"
            );
        }
    }

    let pinned = generate(&Spec::toml(spec(4, "kubernetes")));
    assert_eq!(
        alerts(&pinned),
        ["HighCPUUsage", "HighMemoryUsage"],
        "at min = max the autoscaler always runs its maximum"
    );
    assert!(!pinned.has("runbooks/ReplicasAtMaximum.md"));
}
