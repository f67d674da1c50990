//! A fake Kubernetes API server, std only: enough of `/api/v1` for
//! Prometheus's Kubernetes discovery (client-go informers). It answers the
//! list of pods in one namespace (and an empty list of nodes), and holds
//! each watch open (streaming the pods first when the client asks for
//! initial events, then the bookmark that ends them) until the watch's
//! timeout or the server stops. Every request path is logged, so a test can
//! show what Prometheus asked. Stopped (and its threads told to end) on drop.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One pod the fake reports: what the generated Deployment's pod template
/// says (labels, containers with their ports), at a loopback IP.
pub struct FakePod {
    pub name: String,
    pub labels: Value,
    pub containers: Value,
    pub ip: String,
    /// `Running`, or `Pending` for a pod not started yet.
    pub phase: &'static str,
}

impl FakePod {
    /// `replicas` pods of a generated Deployment (`k8s/<service>/deployment.yaml`
    /// read as JSON), the i-th at 127.0.0.<i+1>.
    pub fn from_deployment(deployment: &Value, replicas: usize) -> Vec<FakePod> {
        let template = &deployment["spec"]["template"];
        let name = deployment["metadata"]["name"]
            .as_str()
            .expect("deployment name");
        (0..replicas)
            .map(|i| FakePod {
                name: format!("{name}-5d4f8b7c9-{i}"),
                labels: template["metadata"]["labels"].clone(),
                containers: template["spec"]["containers"].clone(),
                ip: format!("127.0.0.{}", i + 1),
                phase: "Running",
            })
            .collect()
    }

    fn json(&self, namespace: &str) -> Value {
        let statuses: Vec<Value> = self
            .containers
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                json!({"name": c["name"], "ready": true, "restartCount": 0,
                       "image": c["image"], "imageID": "", "containerID": format!("containerd://{}", c["name"].as_str().unwrap_or("c")),
                       "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}})
            })
            .collect();
        json!({
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "name": self.name,
                "namespace": namespace,
                "uid": format!("uid-{}", self.name),
                "resourceVersion": "1",
                "labels": self.labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": self.name.rsplit_once('-').map_or(self.name.as_str(), |(a, _)| a),
                    "uid": "rs-uid", "controller": true}],
            },
            "spec": {"nodeName": "node-1", "containers": self.containers},
            "status": {
                "phase": self.phase,
                "hostIP": "127.0.0.1",
                "podIP": self.ip,
                "podIPs": [{"ip": self.ip}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": statuses,
            }
        })
    }
}

pub struct FakeKubeApi {
    pub url: String,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
}

impl FakeKubeApi {
    pub fn start(namespace: &str, pods: Vec<FakePod>) -> FakeKubeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<Value> = pods.iter().map(|p| p.json(namespace)).collect();
        let state = Arc::new(Shared {
            namespace: namespace.to_string(),
            pods: items,
            stop: Arc::clone(&stop),
            log: Arc::clone(&log),
        });
        std::thread::spawn(move || {
            while !state.stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let state = Arc::clone(&state);
                        std::thread::spawn(move || state.serve(stream));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        FakeKubeApi { url, stop, log }
    }

    /// Every request line so far (method and path with query).
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for FakeKubeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Shared {
    namespace: String,
    pods: Vec<Value>,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Shared {
    fn serve(&self, stream: TcpStream) {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(match stream.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        });
        let mut out = stream;
        // HTTP/1.1 keep-alive: one request after another on the connection.
        for _ in 0..1000 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut headers = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || headers > 100 {
                    break;
                }
                headers += 1;
            }
            let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            self.log.lock().expect("log").push(line.trim().to_string());
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let param = |key: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                    .map(str::to_string)
            };
            let pods_path = format!("/api/v1/namespaces/{}/pods", self.namespace);
            let (kind, items) = if path == pods_path {
                ("Pod", self.pods.clone())
            } else if path == "/api/v1/nodes" {
                ("Node", Vec::new())
            } else {
                let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                  "reason": "NotFound", "code": 404})
                .to_string();
                let _ = write!(
                    out,
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                continue;
            };
            if param("watch").as_deref() == Some("true") || param("watch").as_deref() == Some("1") {
                let timeout = param("timeoutSeconds")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(60u64);
                let initial = param("sendInitialEvents").as_deref() == Some("true");
                self.watch(
                    out,
                    kind,
                    if initial { items } else { Vec::new() },
                    initial,
                    timeout,
                );
                return;
            }
            let body = json!({
                "kind": format!("{kind}List"),
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "1"},
                "items": items,
            })
            .to_string();
            if write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .is_err()
            {
                return;
            }
        }
    }

    /// A chunked watch stream: ADDED events (when asked for initial
    /// events) and the bookmark that ends them, then nothing until the
    /// timeout or the server stops.
    fn watch(
        &self,
        mut out: TcpStream,
        kind: &str,
        items: Vec<Value>,
        initial: bool,
        timeout: u64,
    ) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        let mut chunk = |text: String| -> bool {
            write!(out, "{:x}\r\n{text}\r\n", text.len()).is_ok() && out.flush().is_ok()
        };
        for item in items {
            if !chunk(format!("{}\n", json!({"type": "ADDED", "object": item}))) {
                return;
            }
        }
        if initial {
            let bookmark = json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": "v1",
                "metadata": {"resourceVersion": "1", "annotations": {"k8s.io/initial-events-end": "true"}}}});
            if !chunk(format!("{bookmark}\n")) {
                return;
            }
        }
        let until = Instant::now() + Duration::from_secs(timeout.min(600));
        while Instant::now() < until && !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = chunk(String::new());
    }
}
