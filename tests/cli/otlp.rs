//! App Platform instances push their metrics, proven against a real
//! Prometheus 3 and a real Caddy.
//!
//! App-Oint's api runs 2 to 20 App Platform instances, which Prometheus
//! cannot scrape one by one, so each pushes OTLP to the Compose stack's
//! Prometheus through the generated https gateway (`otlp-gateway/Caddyfile`).
//! Prometheus runs the generated `prometheus/prometheus.yml` unchanged (its
//! `otlp:` block, its rule files) with every flag the generated
//! `docker-compose.yml` gives it (paths and address made local); Caddy runs the generated Caddyfile with
//! only its site (plain http on a loopback port: the test has no
//! certificate) and its upstream (Prometheus's loopback port) changed.
//!
//! Two std-only stand-in instances push OTLP/HTTP JSON (which Prometheus
//! accepts beside protobuf): a cumulative counter and a histogram, six
//! minutes of history at known, different rates, as an OpenTelemetry SDK
//! names them. The gateway refuses a push without the password or with a
//! wrong one, and anything but the push; the generated recording rules then
//! read the total rate, the 5xx ratio and the latency right, with each
//! instance its own series.

use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::*;

/// Requests a second (2xx, 5xx) of each stand-in instance.
const INSTANCES: [(&str, &str, f64, f64); 2] = [
    ("api-7d9f-a", "fra1", 9.0, 1.0),
    ("api-7d9f-b", "nyc1", 6.0, 0.0),
];
/// Pushed history: one point every 15 s for six minutes, up to now.
const STEP_SECS: u64 = 15;
const POINTS: u64 = 25;
/// The histogram's bounds: every request takes between 0.1 s and 0.25 s.
const BOUNDS: [f64; 3] = [0.1, 0.25, 1.0];
const PASSWORD: &str = "stand-in-push-password";

#[test]
fn app_platform_instances_push_through_the_gateway_and_the_rules_keep_them_apart() {
    let (Some(prometheus), Some(caddy)) = (validator("prometheus"), validator("caddy")) else {
        return;
    };
    let out = generate(&Spec::app_oint());
    let dir = tempfile::tempdir().expect("tempdir");
    let [prom_port, gateway_port] = free_ports();

    // The flags the generated Compose file gives Prometheus (its first
    // replica: the one the gateway forwards to).
    let compose = out.yaml("docker-compose.yml");
    let service = &compose["services"]["prometheus-0"];
    let flags: Vec<&str> = service["command"]
        .as_array()
        .expect("command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(flags.contains(&"--web.enable-otlp-receiver"), "{flags:?}");
    assert_eq!(
        service["ports"][0], "127.0.0.1:9090:9090",
        "the receiver takes writes from whoever reaches it: loopback only"
    );
    let config = out.yaml("prometheus/prometheus.yml");
    assert_eq!(
        config["otlp"]["translation_strategy"],
        "UnderscoreEscapingWithSuffixes"
    );
    // Every flag the Compose file gives Prometheus (a 3.x Prometheus refuses
    // one it does not know), with only the paths and the address local.
    let local = |flag: &str| -> String {
        let (name, _) = flag.split_once('=').unwrap_or((flag, ""));
        match name {
            "--config.file" => {
                format!("{name}={}", out.join("prometheus/prometheus.yml").display())
            }
            "--storage.tsdb.path" => format!("{name}={}", dir.path().join("data").display()),
            "--web.listen-address" => format!("{name}=127.0.0.1:{prom_port}"),
            _ => flag.to_string(),
        }
    };
    let prom_args: Vec<String> = flags.iter().map(|f| local(f)).collect();
    // The environment Compose gives it (the replica's external label).
    let env: Vec<(&str, &str)> = service["environment"]
        .as_object()
        .map(|e| {
            e.iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let mut prom = Proc::start_with_env("prometheus", dir.path(), &prometheus, &prom_args, &env);

    // The generated gateway, serving plain http on loopback.
    let caddyfile = out.read("otlp-gateway/Caddyfile");
    let site = "prometheus.app-oint.com {";
    let upstream = "reverse_proxy prometheus-0:9090";
    assert!(
        caddyfile.contains(site) && caddyfile.contains(upstream),
        "{caddyfile}"
    );
    let local = caddyfile
        .replace(site, &format!("http://127.0.0.1:{gateway_port} {{"))
        .replace(upstream, &format!("reverse_proxy 127.0.0.1:{prom_port}"));
    let local_path = dir.path().join("Caddyfile");
    fs::write(&local_path, local).expect("write");
    let hash = run_ok(
        "caddy hash-password",
        std::process::Command::new(&caddy).args(["hash-password", "--plaintext", PASSWORD]),
    );
    let hash_var = "OTLP_PUSH_PASSWORD_HASH";
    assert!(
        compose["services"]["otlp-gateway"]["environment"][hash_var].is_string(),
        "{}",
        compose["services"]["otlp-gateway"]
    );
    let wrapper = dir.path().join("caddy.sh");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nXDG_DATA_HOME='{dir}' XDG_CONFIG_HOME='{dir}' {hash_var}='{}' exec '{}' run --adapter caddyfile --config '{}'\n",
            hash.trim(),
            caddy.display(),
            local_path.display(),
            dir = dir.path().display(),
        ),
    )
    .expect("write");
    make_executable(&wrapper);
    let mut gateway = Proc::start("caddy", dir.path(), &wrapper, &[]);

    let path = "/api/v1/otlp/v1/metrics";
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let push = |body: &[u8], auth: Option<&str>| {
        let basic;
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(password) = auth {
            basic = format!("Basic {}", base64(&format!("otlp-push:{password}")));
            headers.push(("Authorization", &basic));
        }
        http_request("127.0.0.1", gateway_port, "POST", path, &headers, body)
    };
    let ready = || push(b"{}", Some(PASSWORD)).is_some_and(|(code, _)| code == 200);
    let started = std::time::Instant::now();
    while !ready() {
        if started.elapsed() > Duration::from_secs(60) {
            panic!(
                "gateway and receiver not ready\n{}\n{}",
                gateway.tail(),
                prom.tail()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // A small body: Caddy answers a refused push before reading it, and a
    // large unread body can reset the connection under its answer.
    for (auth, why) in [
        (None, "without a password"),
        (Some("wrong"), "with a wrong one"),
    ] {
        let answer = push(b"{}", auth);
        assert_eq!(
            answer.as_ref().map(|a| a.0),
            Some(401),
            "a push {why}: {answer:?}"
        );
    }
    let answer = get_from("127.0.0.1", gateway_port, "/api/v1/query?query=up");
    assert_eq!(answer.map(|a| a.0), Some(404), "only the push is forwarded");
    for instance in &INSTANCES {
        let answer = push(&payload(instance, now), Some(PASSWORD));
        assert_eq!(
            answer.as_ref().map(|a| a.0),
            Some(200),
            "{answer:?}\n{}",
            prom.tail()
        );
    }
    gateway.stop();

    // The generated recording rules, evaluated now.
    let rules = out.yaml("prometheus/rules/api.yml");
    let record = |name: &str| -> String {
        rules["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules"))
            .find(|r| r["record"] == name)
            .and_then(|r| r["expr"].as_str())
            .unwrap_or_else(|| panic!("no rule records {name}"))
            .to_string()
    };
    let query = |q: &str| -> Vec<Value> {
        let path = format!(
            "/api/v1/query?query={}&time={now}",
            harden::history::api::encode(q)
        );
        get_from("127.0.0.1", prom_port, &path)
            .and_then(|(_, body)| serde_json::from_str::<Value>(&body).ok())
            .and_then(|v| v["data"]["result"].as_array().cloned())
            .unwrap_or_default()
    };
    let value = |q: &str| -> f64 {
        let result = query(q);
        assert_eq!(result.len(), 1, "{q}: {result:?}\n{}", prom.tail());
        result[0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    let near = |what: &str, got: f64, truth: f64| {
        assert!(
            (got - truth).abs() <= truth * 0.05,
            "{what}: {got}, truly {truth}"
        );
    };
    let total: f64 = INSTANCES.iter().map(|i| i.2 + i.3).sum();
    let errors: f64 = INSTANCES.iter().map(|i| i.3).sum();
    near(
        "service:http_requests:rate5m",
        value(&record("service:http_requests:rate5m")),
        total,
    );
    near(
        "service:http_requests_5xx:ratio_rate5m",
        value(&record("service:http_requests_5xx:ratio_rate5m")),
        errors / total,
    );
    let p95 = value(&record("service:http_request_duration_seconds:p95"));
    assert!(
        (BOUNDS[0]..=BOUNDS[1]).contains(&p95),
        "p95 {p95} lies in the bucket every request fell in"
    );
    // Each instance its own series: job from service.name, instance from
    // service.instance.id, region promoted.
    let per_instance = query("sum by (job, instance, region) (rate(http_requests_total[5m]))");
    let mut seen: Vec<(String, String, String, f64)> = per_instance
        .iter()
        .map(|s| {
            let m = &s["metric"];
            (
                m["job"].as_str().unwrap_or("").to_string(),
                m["instance"].as_str().unwrap_or("").to_string(),
                m["region"].as_str().unwrap_or("").to_string(),
                s["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.0),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(seen.len(), INSTANCES.len(), "{per_instance:?}");
    for ((job, instance, region, rate), (id, want_region, ok, bad)) in seen.iter().zip(INSTANCES) {
        assert_eq!(
            (job.as_str(), instance.as_str(), region.as_str()),
            ("api", id, want_region)
        );
        near(&format!("{id}'s rate"), *rate, ok + bad);
    }
    prom.stop();
}

/// One instance's OTLP export request (JSON): its resource as the generated
/// app spec's variables make it (`OTEL_SERVICE_NAME`, the region), its own
/// `service.instance.id`, and every point of its history.
fn payload(&(id, region, ok, bad): &(&str, &str, f64, f64), now: u64) -> Vec<u8> {
    let nanos = |secs: u64| (secs * 1_000_000_000).to_string();
    let start = now - POINTS * STEP_SECS;
    let attr = |k: &str, v: &str| json!({ "key": k, "value": { "stringValue": v } });
    let times = || (1..=POINTS).map(move |i| (start + i * STEP_SECS, (i * STEP_SECS) as f64));
    let mut counter = Vec::new();
    for (status, per_sec) in [("200", ok), ("500", bad)] {
        for (t, elapsed) in times() {
            counter.push(json!({
                "attributes": [attr("status", status)],
                "startTimeUnixNano": nanos(start),
                "timeUnixNano": nanos(t),
                "asDouble": per_sec * elapsed,
            }));
        }
    }
    let histogram: Vec<Value> = times()
        .map(|(t, elapsed)| {
            let n = ((ok + bad) * elapsed) as u64;
            json!({
                "startTimeUnixNano": nanos(start),
                "timeUnixNano": nanos(t),
                "count": n.to_string(),
                "sum": n as f64 * 0.2,
                "bucketCounts": ["0", n.to_string(), "0", "0"],
                "explicitBounds": BOUNDS,
            })
        })
        .collect();
    let body = json!({ "resourceMetrics": [{
        "resource": { "attributes": [
            attr("service.name", "api"),
            attr("service.instance.id", id),
            attr("region", region),
        ]},
        "scopeMetrics": [{
            "scope": { "name": "stand-in" },
            "metrics": [
                { "name": "http_requests", "unit": "{request}", "sum": {
                    "aggregationTemporality": 2, "isMonotonic": true, "dataPoints": counter } },
                { "name": "http_request_duration", "unit": "s", "histogram": {
                    "aggregationTemporality": 2, "dataPoints": histogram } },
            ],
        }],
    }]});
    serde_json::to_vec(&body).expect("json")
}

/// Standard base64 with padding.
fn base64(s: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
