//! Highly available alerting on real software: the Compose stack's three
//! Alertmanagers in a gossip cluster and two Prometheus replicas, each run
//! with the arguments, environment and files harden generates (loopback
//! ports for the container ports, one process per Compose service), against
//! a webhook capture receiver.
//!
//! How the cluster notifies once (Alertmanager 0.35, `notify/`,
//! `dispatch/`, `cluster/`): after each flush of a group (every
//! `group_interval`), the member at position k (members sorted by their
//! gossip names) waits k peer timeouts, then notifies unless the
//! notification log, gossiped by the member that notified, shows the group
//! notified. A flush works on a copy of the group taken when it began, so a
//! member whose wait outlasts `group_interval` (this test's old 1s interval
//! against 3s and 8s timeouts) drifts out of step with the others and
//! notifies a stale copy: firing after the first member notified the
//! resolution, then the resolution again. Lowering refuses such timing;
//! this spec keeps the rule with a 2s peer timeout and a 6s interval.
//!
//! A service's only target is down, so TargetDown fires on both replicas,
//! and each replica sends it to all three members. The receiver gets it
//! once, as one alert without the replica label. Then the member at the
//! cluster's first position (the one that notifies) is killed: nothing
//! more, and when the service comes up the survivors notify the resolution
//! once. "Nothing more" is observed, not slept on: a member's flushes of a
//! group run one at a time, so once its notification log has been read
//! twice since a notification, every flush that could have sent a
//! duplicate has ended; once its group is gone, it flushes no more.
//!
//! What stays at-least-once by Alertmanager's design (README's HA
//! section): a member that cannot reach its peers when it starts notifies
//! alone once it has settled, so the replicas start here once the
//! cluster has formed; and a membership change that lands between two
//! members' flushes (milliseconds apart) can give both one position once.
//!
//! What the test adds to the generated arguments, to be short: gossip every
//! 100ms (default 200ms), full state syncs every 2s (default 1m), a 2s
//! settle (default: the push-pull interval), and the dispatcher's
//! maintenance every 500ms (default 30s; it refreshes the groups gauge the
//! test reads). The ports: each member's web and gossip port on 127.0.0.1,
//! and the peers' Compose names (`alertmanager-1:9094`) rewritten to them.
//!
//! Below it, the shapes of the Kubernetes cluster and of a staging spec that
//! turns replication down and names an existing Alertmanager (both also pass
//! kubernetes-validate --strict and docker-compose config with every
//! platform tree, `support::platform_trees`).

use std::fs;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const MEMBERS: usize = 3;
const REPLICAS: usize = 2;

fn spec(prometheus: u16, alertmanager: u16, demo: u16, hook: &str) -> String {
    format!(
        r#"[project]
name = "ha"
environment = "test"
regions = ["local"]

[monitoring]
prometheus_port = {prometheus}
alertmanager_port = {alertmanager}
scrape_interval = "1s"
evaluation_interval = "1s"
# The defaults, written out: three Alertmanagers, two Prometheus.
alertmanager_replicas = 3
prometheus_replicas = 2
# Three members' waits (0, 2s, 4s) and one more to send fit in 6s.
alertmanager_peer_timeout = "2s"

[[service]]
name = "api"
image = "example/api:1"
port = {demo}
targets = {{ local = ["127.0.0.1:{demo}"] }}

[service.alerts]
target_down = {{ for = "1s" }}

[alerting]
group_wait = "1s"
group_interval = "6s"
repeat_interval = "1h"
default_receiver = "hook"

[[alerting.receiver]]
name = "hook"
type = "webhook"
url = "{hook}/alerts"

[platform.compose]
"#
    )
}

/// The generated Compose command of `service`, as strings.
fn command(compose: &Value, service: &str) -> Vec<String> {
    compose["services"][service]["command"]
        .as_array()
        .unwrap_or_else(|| panic!("{service} has a command"))
        .iter()
        .map(|a| a.as_str().expect("a string argument").to_string())
        .collect()
}

/// The webhook notifications about `alert` with `status`, each a JSON
/// payload.
fn notifications(hook: &Capture, alert: &str, status: &str) -> Vec<Value> {
    hook.bodies()
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .filter(|n| n["status"] == status && n["groupLabels"]["alertname"] == alert)
        .collect()
}

/// The value of an unlabelled gauge or counter in a `/metrics` page.
fn metric(port: u16, name: &str) -> Option<f64> {
    get(port, "/metrics")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok())
}

/// Times a member has read its notification log: once per flush of a
/// group, when it decides whether to notify.
fn log_queries(port: u16) -> f64 {
    metric(port, "alertmanager_nflog_queries_total").unwrap_or(0.0)
}

/// The gossip peers a member sees (itself included), once settled.
fn settled_peers(port: u16) -> Option<usize> {
    let status: Value = serde_json::from_str(&get(port, "/api/v2/status")).unwrap_or_default();
    if status["cluster"]["status"] != "ready" {
        return None;
    }
    status["cluster"]["peers"].as_array().map(Vec::len)
}

/// The notifications a Prometheus sent to the Alertmanager at `url`.
fn sent_to(prometheus: u16, url: &str) -> f64 {
    let prefix = format!("prometheus_notifications_sent_total{{alertmanager=\"{url}\"}} ");
    get(prometheus, "/metrics")
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// [`wait_for`], with the logs of whatever still runs when it times out.
fn wait_for_all(
    members: &[Option<Proc>],
    replicas: &[Proc],
    what: &str,
    limit: Duration,
    done: impl FnMut() -> bool,
) {
    let live: Vec<&Proc> = members.iter().flatten().chain(replicas).collect();
    wait_for(what, limit, &live, done);
}

/// Waits until every live member has ended every flush that began before
/// now: its notification log read twice more (flushes of a group run one
/// at a time, and this test has one group).
fn until_flushes_end(members: &[Option<Proc>], replicas: &[Proc], web: &[u16], limit: Duration) {
    let live: Vec<u16> = (0..web.len())
        .filter(|i| members[*i].is_some())
        .map(|i| web[i])
        .collect();
    let before: Vec<f64> = live.iter().map(|p| log_queries(*p)).collect();
    wait_for_all(
        members,
        replicas,
        "every member to end the flushes it had begun",
        limit,
        || {
            live.iter()
                .zip(&before)
                .all(|(p, b)| log_queries(*p) >= b + 2.0)
        },
    );
    for port in live {
        assert_eq!(
            metric(port, "alertmanager_dispatcher_aggregation_groups"),
            Some(1.0),
            "one group, so the log's reads are its flushes"
        );
    }
}

#[test]
fn a_replicated_stack_notifies_once_through_a_member_loss() {
    let (Some(prometheus), Some(alertmanager)) =
        (validator("prometheus"), validator("alertmanager"))
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let hook = Capture::start("200 OK", "text/plain", "ok");
    let ports: [u16; 1 + REPLICAS + 2 * MEMBERS] = free_ports();
    let demo = ports[0];
    let prom_ports = &ports[1..=REPLICAS];
    let web = &ports[1 + REPLICAS..1 + REPLICAS + MEMBERS];
    let mesh = &ports[1 + REPLICAS + MEMBERS..];
    let spec_path = root.join("hardening.toml");
    fs::write(&spec_path, spec(prom_ports[0], web[0], demo, &hook.url)).expect("write spec");
    let out = root.join("out");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    harden(&["generate", &s(&spec_path), "--out", &s(&out)]).success();
    let compose = yaml(&out.join("docker-compose.yml"));
    let am_port = web[0];

    // Every member's generated command, on loopback ports.
    let names: Vec<String> = (0..MEMBERS).map(|i| format!("alertmanager-{i}")).collect();
    let loopback = |arg: &str, i: usize| -> String {
        let mut arg = arg.replace("0.0.0.0:9094", &format!("127.0.0.1:{}", mesh[i]));
        for (j, peer) in names.iter().enumerate() {
            arg = arg.replace(&format!("{peer}:9094"), &format!("127.0.0.1:{}", mesh[j]));
        }
        arg
    };
    let mut members = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let generated = command(&compose, name);
        let peers: Vec<&String> = generated
            .iter()
            .filter(|a| a.starts_with("--cluster.peer="))
            .collect();
        assert_eq!(peers.len(), MEMBERS - 1, "{name}: {generated:?}");
        for arg in [
            "--cluster.listen-address=0.0.0.0:9094",
            "--cluster.peer-timeout=2s",
        ] {
            assert!(
                generated.contains(&arg.to_string()),
                "{name}: {generated:?}"
            );
        }
        let mut args: Vec<String> = generated
            .iter()
            .map(|a| {
                if a.starts_with("--config.file=") {
                    format!(
                        "--config.file={}",
                        s(&out.join("alertmanager/alertmanager.yml"))
                    )
                } else if a.starts_with("--storage.path=") {
                    format!("--storage.path={}", s(&root.join(format!("{name}-data"))))
                } else if a.starts_with("--web.listen-address=") {
                    assert_eq!(a, &format!("--web.listen-address=:{am_port}"));
                    format!("--web.listen-address=127.0.0.1:{}", web[i])
                } else {
                    loopback(a, i)
                }
            })
            .collect();
        args.extend(
            [
                "--cluster.gossip-interval=100ms",
                "--cluster.pushpull-interval=2s",
                "--cluster.settle-timeout=2s",
                "--dispatch.maintenance-interval=500ms",
            ]
            .map(String::from),
        );
        members.push(Some(Proc::start(name, root, &alertmanager, &args)));
    }
    let limit = Duration::from_secs(60);
    wait_for_all(&members, &[], "a settled cluster of three", limit, || {
        web.iter().all(|p| settled_peers(*p) == Some(MEMBERS))
    });

    // Both replicas from the generated configuration, which names each
    // member by its Compose service.
    let run = root.join("prometheus");
    copy_tree(&out.join("prometheus"), &run);
    let config = run.join("prometheus.yml");
    let mut text = fs::read_to_string(&config).expect("read");
    assert!(text.contains("replica: '${PROMETHEUS_REPLICA}'"), "{text}");
    for (i, name) in names.iter().enumerate() {
        let from = format!("{name}:{am_port}");
        assert!(text.contains(&from), "{text}");
        text = text.replace(&from, &format!("127.0.0.1:{}", web[i]));
    }
    fs::write(&config, text).expect("write");
    let mut replicas = Vec::new();
    for (i, port) in prom_ports.iter().enumerate() {
        let name = format!("prometheus-{i}");
        let service = &compose["services"][name.as_str()];
        let replica = service["environment"]["PROMETHEUS_REPLICA"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} names its replica: {service}"));
        assert_eq!(replica, name);
        let args: Vec<String> = command(&compose, &name)
            .iter()
            .map(|a| {
                if a.starts_with("--config.file=") {
                    format!("--config.file={}", s(&config))
                } else if a.starts_with("--storage.tsdb.path=") {
                    format!(
                        "--storage.tsdb.path={}",
                        s(&root.join(format!("{name}-data")))
                    )
                } else if a.starts_with("--web.listen-address=") {
                    format!("--web.listen-address=127.0.0.1:{port}")
                } else {
                    a.clone()
                }
            })
            .collect();
        replicas.push(Proc::start_with_env(
            &name,
            root,
            &prometheus,
            &args,
            &[("PROMETHEUS_REPLICA", replica)],
        ));
    }

    // TargetDown fires on both replicas; each sends it to every member.
    wait_for_all(
        &members,
        &replicas,
        "TargetDown at the receiver",
        limit,
        || !notifications(&hook, "TargetDown", "firing").is_empty(),
    );
    for port in prom_ports {
        for member in web {
            let url = format!("http://127.0.0.1:{member}/api/v2/alerts");
            wait_for_all(
                &members,
                &replicas,
                &format!("Prometheus :{port} to send to {url}"),
                limit,
                || sent_to(*port, &url) > 0.0,
            );
        }
    }
    // Every later position has decided: still one notification, of one alert.
    until_flushes_end(&members, &replicas, web, limit);
    let firing = notifications(&hook, "TargetDown", "firing");
    assert_eq!(firing.len(), 1, "{firing:#?}");
    let alerts = firing[0]["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "the replicas' alerts are one: {alerts:#?}");
    assert!(alerts[0]["labels"]["replica"].is_null(), "{alerts:#?}");
    assert_eq!(alerts[0]["labels"]["project"], "ha", "{alerts:#?}");

    // The member that notifies first goes, and the survivors see it gone.
    let first = (0..MEMBERS)
        .find(|i| metric(web[*i], "alertmanager_peer_position") == Some(0.0))
        .expect("a member at position 0");
    if let Some(mut gone) = members[first].take() {
        gone.stop();
    }
    let survivors: Vec<u16> = (0..MEMBERS)
        .filter(|i| *i != first)
        .map(|i| web[i])
        .collect();
    wait_for_all(&members, &replicas, "two members left", limit, || {
        survivors
            .iter()
            .all(|p| settled_peers(*p) == Some(MEMBERS - 1))
    });
    until_flushes_end(&members, &replicas, web, limit);
    assert_eq!(notifications(&hook, "TargetDown", "firing").len(), 1);

    // The service comes up: the survivors notify the resolution, once, and
    // then each drops the group (no flush is left to notify again).
    let _demo = Proc::start(
        "harden-demo",
        root,
        Path::new(env!("CARGO_BIN_EXE_harden-demo")),
        &["--port".into(), demo.to_string()],
    );
    wait_for_all(
        &members,
        &replicas,
        "TargetDown resolved at the receiver",
        limit,
        || !notifications(&hook, "TargetDown", "resolved").is_empty(),
    );
    wait_for_all(
        &members,
        &replicas,
        "the survivors to drop the group",
        limit,
        || {
            survivors
                .iter()
                .all(|p| metric(*p, "alertmanager_dispatcher_aggregation_groups") == Some(0.0))
        },
    );
    let resolved = notifications(&hook, "TargetDown", "resolved");
    assert_eq!(resolved.len(), 1, "{resolved:#?}");
    assert_eq!(notifications(&hook, "TargetDown", "firing").len(), 1);
    drop((members, replicas));
}

/// Kubernetes: an Alertmanager StatefulSet whose members peer by their
/// names under a headless Service that publishes members not yet ready,
/// spread over nodes, one evicted at a time; a Prometheus pair naming each
/// replica from its pod; Grafana kept on one replica.
#[test]
fn kubernetes_runs_a_gossip_cluster_and_a_prometheus_pair() {
    let out = generate(&Spec::app_oint());
    let am = out.yaml("k8s/alertmanager/statefulset.yaml");
    assert_eq!(am["kind"], "StatefulSet");
    assert_eq!(am["spec"]["replicas"], 3);
    assert_eq!(am["spec"]["serviceName"], "alertmanager");
    assert_eq!(am["spec"]["podManagementPolicy"], "Parallel");
    let pod = &am["spec"]["template"]["spec"];
    let args: Vec<&str> = pod["containers"][0]["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("an argument"))
        .collect();
    let peers: Vec<&str> = args
        .iter()
        .filter_map(|a| a.strip_prefix("--cluster.peer="))
        .collect();
    assert_eq!(
        peers,
        (0..3)
            .map(|i| format!("alertmanager-{i}.alertmanager.app-oint.svc:9094"))
            .collect::<Vec<_>>()
    );
    assert!(
        args.contains(&"--cluster.listen-address=0.0.0.0:9094"),
        "{args:?}"
    );
    assert!(
        args.contains(&"--cluster.advertise-address=[$(POD_IP)]:9094"),
        "{args:?}"
    );
    // Compose's value: the default 15s, three waits inside the 5m interval.
    assert!(args.contains(&"--cluster.peer-timeout=15s"), "{args:?}");
    let spread = &pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        [0]["podAffinityTerm"];
    assert_eq!(spread["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(
        spread["labelSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "alertmanager"
    );
    let service = out.yaml("k8s/alertmanager/service.yaml");
    assert_eq!(service["spec"]["clusterIP"], "None");
    assert_eq!(service["spec"]["publishNotReadyAddresses"], true);
    let ports: Vec<(&Value, &Value)> = service["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| (&p["port"], &p["protocol"]))
        .collect();
    assert_eq!(ports.len(), 3, "{ports:?}");
    assert_eq!(
        out.yaml("k8s/alertmanager/pdb.yaml")["spec"]["maxUnavailable"],
        1
    );

    let prom = out.yaml("k8s/prometheus/statefulset.yaml");
    assert_eq!(prom["spec"]["replicas"], 2);
    let container = &prom["spec"]["template"]["spec"]["containers"][0];
    // Prometheus 3 expands `${…}` in external labels with no flag.
    assert!(
        !container["args"].to_string().contains("--enable-feature"),
        "{}",
        container["args"]
    );
    let env = container["env"].as_array().expect("env");
    let from = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .map(|e| e["valueFrom"]["fieldRef"]["fieldPath"].clone())
    };
    assert_eq!(
        from("PROMETHEUS_REPLICA"),
        Some(Value::from("metadata.name"))
    );
    assert_eq!(
        from("PROMETHEUS_REGION"),
        Some(Value::from("metadata.labels['region']"))
    );
    assert_eq!(
        out.yaml("k8s/prometheus/service.yaml")["spec"]["sessionAffinity"],
        "ClientIP"
    );
}

/// The staging spec: one Prometheus (no replica label, no alert relabeling,
/// no environment) and an existing Alertmanager: Prometheus sends to each
/// of its members, and neither platform runs one.
#[test]
fn a_staging_spec_runs_one_prometheus_and_an_existing_alertmanager() {
    let out = generate(&Spec::toml(STAGING));
    let external = serde_json::json!(["am-0.example.com:9093", "am-1.example.com:9093"]);
    for path in ["prometheus/prometheus.yml", "k8s/prometheus/prometheus.yml"] {
        let config = out.yaml(path);
        assert_eq!(
            config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"], external,
            "{path}"
        );
        assert!(
            config["alerting"]["alert_relabel_configs"].is_null(),
            "{path}"
        );
        assert!(
            config["global"]["external_labels"]["replica"].is_null(),
            "{path}"
        );
        assert_eq!(
            config["global"]["external_labels"]["region"], "ams3",
            "{path}"
        );
    }
    let compose = out.yaml("docker-compose.yml");
    let services: Vec<&String> = compose["services"]
        .as_object()
        .expect("services")
        .keys()
        .collect();
    assert!(
        !services.iter().any(|s| s.starts_with("alertmanager")),
        "{services:?}"
    );
    let prometheus = &compose["services"]["prometheus"];
    assert!(prometheus["environment"].is_null(), "{prometheus}");
    assert!(
        !prometheus["command"]
            .to_string()
            .contains("expand-external-labels")
    );
    assert!(!out.has("k8s/alertmanager"));
    assert!(!out.read("k8s/kustomization.yaml").contains("alertmanager"));
    let statefulset = out.yaml("k8s/prometheus/statefulset.yaml");
    assert_eq!(statefulset["spec"]["replicas"], 1);
    // The alerting configuration is still written, for the existing one.
    assert!(out.has("alertmanager/alertmanager.yml"));
}
