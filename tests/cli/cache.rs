//! A Redis cache against the real thing: Debian's `redis-server` started
//! with the arguments the generated Kubernetes Deployment gives it (password
//! included), Debian's `prometheus-redis-exporter` scraping it as the
//! sidecar does, and every `redis_*` series the cache's rules and dashboard
//! query found in the exporter's output, with the `maxmemory` the spec asks.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// Kills the process when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An HTTP/1.0 GET on loopback: the status line and body, or None.
fn get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// Every `redis_…` metric name in `text`.
fn redis_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("redis_") {
        let start = i + at;
        let word_start =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        // The exporter's image name (oliver006/redis_exporter) is not a series.
        if word_start && &text[start..end] != "redis_exporter" {
            names.insert(text[start..end].to_string());
        }
        i = end.max(start + 1);
    }
    names
}

#[test]
fn the_exporter_of_a_real_redis_has_every_series_the_rules_and_dashboard_query() {
    let (Some(server), Some(exporter)) = (
        validator("redis-server"),
        validator("prometheus-redis-exporter"),
    ) else {
        return;
    };
    let out = generate(&Spec::app_oint());
    let deployment: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(out.path().join("k8s/cache/deployment.yaml")).expect("read"),
    )
    .expect("YAML");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"][0], "redis-server");
    let [redis_port, metrics_port] = free_ports();
    let password = "test-only-password-0123456789";
    let mut args: Vec<String> = container["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string").to_string())
        .collect();
    let port_at = args.iter().position(|a| a == "--port").expect("--port") + 1;
    args[port_at] = redis_port.to_string();
    for a in args.iter_mut() {
        if a == "$(REDIS_PASSWORD)" {
            *a = password.to_string();
        }
    }
    assert!(
        args.iter().any(|a| a == password),
        "the cache asks for a password"
    );
    let data = tempfile::tempdir().expect("tempdir");
    let _redis = Killed(
        Command::new(&server)
            .args(&args)
            .args(["--bind", "127.0.0.1", "--daemonize", "no"])
            .arg("--dir")
            .arg(data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts"),
    );
    let _exporter = Killed(
        Command::new(&exporter)
            .arg(format!("-redis.addr=redis://127.0.0.1:{redis_port}"))
            .arg(format!("-web.listen-address=127.0.0.1:{metrics_port}"))
            .env("REDIS_PASSWORD", password)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the exporter starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        if let Some((_, body)) = get(metrics_port, "/metrics")
            && body.lines().any(|l| l == "redis_up 1")
        {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "redis_up 1 never appeared: the exporter could not reach Redis with the password"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // The bound the spec asks for is the one Redis runs with.
    assert!(
        metrics
            .lines()
            .any(|l| l == "redis_memory_max_bytes 2.68435456e+08"),
        "maxmemory is not 256Mi:\n{}",
        metrics
            .lines()
            .filter(|l| l.starts_with("redis_memory_max"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let exported: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split([' ', '{']).next())
        .collect();
    let mut queried = redis_names(
        &std::fs::read_to_string(out.path().join("prometheus/rules/cache.yml")).expect("rules"),
    );
    queried.extend(redis_names(
        &std::fs::read_to_string(out.path().join("grafana/dashboards/cache.json"))
            .expect("dashboard"),
    ));
    assert!(queried.len() >= 8, "too few series found: {queried:?}");
    for name in &queried {
        assert!(
            exported.contains(name.as_str()),
            "{name} is queried but redis_exporter does not export it"
        );
    }
    // The sidecar's liveness probe path.
    let (status, _) = get(metrics_port, "/health").expect("/health answers");
    assert!(status.contains(" 200"), "/health: {status}");
}

/// A session store rather than a cache: `noeviction` with persistence and
/// only a memory request to size from.
const STORE: &str = r#"
[project]
name = "shop"
regions = ["ams3"]
runbook_url = "https://runbooks.example.com"

[[service]]
name = "api"
image = "ghcr.io/shop/api:1.0"
port = 8080

[[service]]
name = "sessions"
kind = "database"
engine = "redis"
eviction_policy = "noeviction"
persistence = true
password = { env = "SESSIONS_PASSWORD" }
resources = { cpu = "250m", memory = "1Gi" }

[[service]]
name = "lookups"
kind = "database"
engine = "redis"
maxmemory = "100Mi"

[platform.compose]
[platform.kubernetes]
[platform.digitalocean]
"#;

fn alerts(tree: &std::path::Path, name: &str) -> Vec<String> {
    let rules = yaml(&tree.join(format!("prometheus/rules/{name}.yml")));
    rules["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").iter())
        .filter_map(|r| r["alert"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_store_that_must_not_evict_gets_a_memory_alert_a_volume_and_half_its_limit() {
    let out = generate(&Spec::toml(STORE));
    let dir = out.path();
    // A full noeviction store refuses writes: it has the memory alert; a
    // full allkeys-lru cache evicts by design: it has none.
    assert_eq!(
        alerts(dir, "sessions"),
        [
            "RedisDown",
            "RedisMemoryHigh",
            "RedisTooManyClients",
            "RedisRejectedConnections"
        ]
    );
    assert_eq!(
        alerts(dir, "lookups"),
        [
            "RedisDown",
            "RedisTooManyClients",
            "RedisRejectedConnections"
        ]
    );
    // With persistence maxmemory defaults to half the limit (a rewrite
    // forks); without, 100Mi needs a 192Mi limit (64Mi steps, ≥ 4/3).
    let deployment = |name: &str| yaml(&dir.join(format!("k8s/{name}/deployment.yaml")));
    let sessions = deployment("sessions");
    let redis = &sessions["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = redis["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("arg"))
        .collect();
    let after = |flag: &str| args[args.iter().position(|a| *a == flag).expect(flag) + 1];
    assert_eq!(after("--maxmemory"), (512u64 << 20).to_string());
    assert_eq!(after("--maxmemory-policy"), "noeviction");
    assert_eq!(after("--appendonly"), "yes");
    assert_eq!(after("--requirepass"), "$(REDIS_PASSWORD)");
    assert_eq!(sessions["spec"]["strategy"]["type"], "Recreate");
    let pvc = yaml(&dir.join("k8s/sessions/pvc.yaml"));
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "2Gi");
    let lookups = deployment("lookups");
    let limits = &lookups["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"];
    assert_eq!(limits["memory"], "192Mi");
    assert!(!dir.join("k8s/lookups/pvc.yaml").exists());
    // Compose: a volume for the store only, and no secret value anywhere.
    let compose = yaml(&dir.join("docker-compose.yml"));
    assert!(compose["volumes"].get("sessions-data").is_some());
    assert!(compose["volumes"].get("lookups-data").is_none());
    assert_eq!(
        compose["services"]["sessions-exporter"]["network_mode"],
        "service:sessions"
    );
    assert_eq!(
        compose["secrets"]["sessions-password"]["environment"],
        "SESSIONS_PASSWORD"
    );
    // Every validator accepts the tree.
    promtool_accepts(dir);
    if let Some(tool) = validator("kubernetes-validate") {
        kubernetes_validate(&tool, "the store spec", dir);
    }
    if let Some(tool) = validator("docker-compose") {
        docker_compose_config(&tool, "the store spec", dir, &["config", "-q"]);
    }
    if let Some(tool) = validator("check-jsonschema") {
        compose_schema(&tool, "the store spec", dir);
    }
    app_specs_conform("the store spec", dir);
}
