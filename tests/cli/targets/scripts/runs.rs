//! The generated scripts run with fake `kubectl`, `docker`, `curl` and
//! `sleep` on PATH (`support::Fakes`): the rollback script rolls back
//! exactly when health fails and tells Slack, the scaling monitor notifies
//! once per condition, and a Compose-only spec's scripts carry only
//! Compose. Nothing leaves the machine.

use std::fs;
use std::path::PathBuf;

use crate::support::*;

fn rollback_script() -> (Tree, PathBuf) {
    let out = generate(&Spec::app_oint());
    let script = out.path().join("scripts/auto-rollback.sh");
    (out, script)
}

/// The Slack notification went through curl with the webhook on stdin,
/// never on its command line.
#[track_caller]
fn assert_notified(log: &str, about: &str) {
    assert!(
        log.contains(&format!("curl-stdin: url = \"{WEBHOOK}\"")),
        "{log}"
    );
    assert!(
        log.lines().any(|l| l.starts_with("curl ")
            && l.contains("\"channel\": \"#app-oint-alerts\"")
            && l.contains(about)),
        "no Slack message about {about:?} in\n{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.starts_with("curl ") && l.contains(WEBHOOK)),
        "{log}"
    );
}

#[track_caller]
fn assert_not_notified(log: &str) {
    assert!(!log.contains("#app-oint-alerts"), "{log}");
}

#[test]
fn kubernetes_healthy_deployment_is_left_alone() {
    let (_out, script) = rollback_script();
    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["kubernetes"], &[]);
    let log = fakes.log();
    assert_eq!(code, 0, "{stderr}\n{log}");
    assert!(
        log.contains("kubectl --namespace app-oint rollout status deployment/api --timeout=300s"),
        "{log}"
    );
    assert!(
        log.contains("get --raw /api/v1/namespaces/app-oint/services/api:5001/proxy/readiness"),
        "{log}"
    );
    assert!(!log.contains("rollout undo"), "{log}");
    assert_not_notified(&log);
}

#[test]
fn kubernetes_unready_deployment_is_rolled_back_and_notified() {
    let (_out, script) = rollback_script();
    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["kubernetes"], &[("FAKE_READY", "1")]);
    let log = fakes.log();
    assert_eq!(code, 1, "{stderr}\n{log}");
    // The readiness wait is bounded: 5m every 10s is 30 checks.
    assert_eq!(log.matches("get --raw").count(), 30, "{log}");
    assert!(
        log.contains("kubectl --namespace app-oint rollout undo deployment/api"),
        "{log}"
    );
    assert_notified(&log, "rolled back");
}

#[test]
fn kubernetes_failed_rollout_is_rolled_back() {
    let (_out, script) = rollback_script();
    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["kubernetes"], &[("FAKE_ROLLOUT", "1")]);
    let log = fakes.log();
    assert_eq!(code, 1, "{stderr}\n{log}");
    assert!(log.contains("rollout undo deployment/api"), "{log}");
    assert!(!log.contains("get --raw"), "{log}");
    assert_notified(
        &log,
        "kubernetes: api unhealthy after deployment, rolled back",
    );
}

#[test]
fn compose_healthy_deployment_is_left_alone() {
    let (_out, script) = rollback_script();
    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["compose"], &[]);
    let log = fakes.log();
    assert_eq!(code, 0, "{stderr}\n{log}");
    assert!(
        log.contains(
            "docker compose --file docker-compose.yml up --detach --wait --wait-timeout 300"
        ),
        "{log}"
    );
    assert_eq!(
        log.matches("compose --file docker-compose.yml up").count(),
        1,
        "{log}"
    );
    assert_not_notified(&log);
}

#[test]
fn compose_unhealthy_deployment_gets_its_previous_image_back() {
    let (_out, script) = rollback_script();
    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["compose"], &[("FAKE_UP", "1")]);
    let log = fakes.log();
    assert_eq!(code, 1, "{stderr}\n{log}");
    assert!(log.contains("override: services:\noverride:   api:\noverride:     image: 'registry.example.test/api:1.7.0'"), "{log}");
    assert_notified(&log, "rolled back to the previous images");
}

#[test]
fn digitalocean_unhealthy_deployment_is_rolled_back_through_the_api() {
    if validator("jq").is_none() {
        return;
    }
    let (_out, script) = rollback_script();
    let fakes = Fakes::new();
    let token = "dop_v1_dummy";
    let env = [("DIGITALOCEAN_TOKEN", token), ("FAKE_HEALTH", "22")];
    let (code, stderr) = fakes.run(&script, &["digitalocean", "--app-id", "app-123"], &env);
    let log = fakes.log();
    assert_eq!(code, 1, "{stderr}\n{log}");
    assert!(log.contains("https://app.example.test/health"), "{log}");
    let rollback = log
        .lines()
        .find(|l| l.contains("/v2/apps/app-123/rollback"))
        .unwrap_or_else(|| panic!("no rollback call in\n{log}"));
    assert!(rollback.contains("--request POST"), "{rollback}");
    assert!(
        rollback.contains("\"deployment_id\": \"old-1\""),
        "{rollback}"
    );
    assert!(log.contains(&format!(
        "curl-stdin: header = \"Authorization: Bearer {token}\""
    )));
    assert!(
        !log.lines()
            .any(|l| l.starts_with("curl ") && l.contains(token)),
        "{log}"
    );
    assert_notified(&log, "rolled back to deployment old-1");

    let fakes = Fakes::new();
    let env = [("DIGITALOCEAN_TOKEN", token)];
    let (code, stderr) = fakes.run(&script, &["digitalocean", "--app-id", "app-123"], &env);
    assert_eq!(code, 0, "{stderr}\n{}", fakes.log());
    assert!(!fakes.log().contains("/rollback"));
}

#[test]
fn rollback_without_a_token_or_with_bad_arguments_says_so() {
    let (_out, script) = rollback_script();
    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["digitalocean"], &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("DIGITALOCEAN_TOKEN is not set"), "{stderr}");
    let (code, stderr) = fakes.run(&script, &["nomad"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("usage: auto-rollback.sh PLATFORM"),
        "{stderr}"
    );
}

#[test]
fn the_scaling_monitor_notifies_a_pinned_autoscaler_and_a_crossed_target_once() {
    if validator("jq").is_none() {
        return;
    }
    let out = generate(&Spec::app_oint());
    let script = out.path().join("scripts/auto-scaling-monitor.sh");
    let fakes = Fakes::new();
    let (code, stderr) = fakes.run(&script, &["--count", "3", "--interval", "5"], &[]);
    let log = fakes.log();
    assert_eq!(code, 0, "{stderr}\n{log}");
    assert!(stderr.contains("api: 4 of at most 20 replicas"), "{stderr}");
    assert!(
        stderr.contains("api: cpu at 41.5% of requests (target 80%)"),
        "{stderr}"
    );
    assert_eq!(
        log.matches("sleep 5").count(),
        2,
        "three rounds, two pauses: {log}"
    );
    assert!(log.contains("http://localhost:9090/api/v1/query"), "{log}");
    assert_not_notified(&log);

    let fakes = Fakes::new();
    let env = [
        ("FAKE_REPLICAS", "20"),
        ("FAKE_CPU", "85.25"),
        ("PROMETHEUS_URL", "http://127.0.0.1:1"),
    ];
    let (code, stderr) = fakes.run(&script, &["--count", "2", "--interval", "1"], &env);
    let log = fakes.log();
    assert_eq!(code, 1, "{stderr}\n{log}");
    assert!(log.contains("http://127.0.0.1:1/api/v1/query"), "{log}");
    assert_notified(
        &log,
        "api autoscaler is pinned at its maximum of 20 replicas",
    );
    assert_notified(
        &log,
        "api cpu at 85% of requests, over its autoscaling target of 80%",
    );
    assert_eq!(
        log.matches("#app-oint-alerts").count(),
        2,
        "each condition once: {log}"
    );
    assert!(
        !stderr.contains("memory at 30.25% of requests, over"),
        "{stderr}"
    );

    let (code, stderr) = fakes.run(&script, &["--count", "0"], &[]);
    assert_eq!(code, 2, "{stderr}");
}

/// App-Oint with only Compose turned on, the webhook in a file, no SLO on
/// the load-tested service and sub-second think time: the scripts carry
/// only what the spec turns on, and every validator still accepts them.
#[test]
fn a_compose_only_spec_gets_compose_only_scripts() {
    let spec = fs::read_to_string(root().join(APP_OINT)).expect("spec");
    let slo_start = spec.find("[[service.slo]]").expect("slo");
    let slo_end = spec.find("[service.autoscaling]").expect("autoscaling");
    let platforms = spec.find("[platform.kubernetes]").expect("kubernetes");
    let variant = format!("{}{}", &spec[..slo_start], &spec[slo_end..platforms])
        .replace(
            "webhook_url = { env = \"SLACK_WEBHOOK_URL\" }",
            "webhook_url = { file = \"/etc/app-oint/slack-webhook\" }",
        )
        .replace("think_time = \"1s\"", "think_time = \"250ms\"")
        .replace("#:schema ../../schema/hardening.schema.json\n", "");
    assert!(!variant.contains("[platform.kubernetes]") && variant.contains("[platform.compose]"));
    let dir = generate(&Spec::toml(variant));

    assert!(
        !dir.path().join("scripts/auto-scaling-monitor.sh").exists(),
        "no Kubernetes, no HPA to watch"
    );
    let rollback =
        fs::read_to_string(dir.path().join("scripts/auto-rollback.sh")).expect("rollback");
    for absent in [
        "kubectl",
        "digitalocean",
        "DIGITALOCEAN_TOKEN",
        "SLACK_WEBHOOK_URL",
    ] {
        assert!(!rollback.contains(absent), "{absent} in\n{rollback}");
    }
    assert!(
        rollback.contains("local file=/etc/app-oint/slack-webhook"),
        "{rollback}"
    );
    let script =
        fs::read_to_string(dir.path().join("testing/load-tests/load-test.js")).expect("js");
    assert!(script.contains("thinkTimeMs: 250,"), "{script}");
    assert!(
        script.contains("thresholds: {\n  },"),
        "no SLO, no thresholds:\n{script}"
    );

    if let Some(shellcheck) = validator("shellcheck") {
        shellcheck_clean(&shellcheck, "the compose-only spec", dir.path());
    }
    if let Some(k6) = validator("k6") {
        k6_inspect(&k6, &dir.join("testing/load-tests/load-test.js"));
    }

    // The webhook is read from the file when the script runs.
    let fakes = Fakes::new();
    let script = dir.path().join("scripts/auto-rollback.sh");
    let (code, stderr) = fakes.run(&script, &["compose"], &[("FAKE_UP", "1")]);
    assert_eq!(code, 1, "{stderr}\n{}", fakes.log());
    assert!(
        stderr.contains("not notifying Slack: cannot read /etc/app-oint/slack-webhook"),
        "{stderr}"
    );
    let (code, stderr) = fakes.run(&script, &["kubernetes"], &[]);
    assert_eq!(code, 2, "{stderr}");
}
