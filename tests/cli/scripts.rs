//! The generated operations scripts: shellcheck is clean, and the rollback
//! script, run with fake `kubectl`, `docker`, `curl` and `sleep` on PATH,
//! rolls back exactly when health fails and tells Slack. The fakes record
//! their calls (and curl its stdin) to a log; nothing leaves the machine.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const WEBHOOK: &str = "https://hooks.slack.test/services/T000/B000/dummy";

#[test]
fn shellcheck_is_clean_on_every_generated_script() {
    let Some(shellcheck) = validator("shellcheck") else {
        return;
    };
    for spec in example_specs() {
        let out = generate_example(&spec);
        shellcheck_clean(&shellcheck, &spec.display().to_string(), out.path());
    }
}

/// shellcheck, down to style notes, finds nothing in any script of a tree.
pub(crate) fn shellcheck_clean(shellcheck: &Path, name: &str, out: &Path) {
    let scripts: Vec<PathBuf> = read_tree(out)
        .into_iter()
        .filter(|(path, _)| path.ends_with(".sh"))
        .map(|(path, _)| out.join(path))
        .collect();
    assert!(!scripts.is_empty());
    let result = Command::new(shellcheck)
        .args(["--severity=style", "--shell=bash"])
        .args(&scripts)
        .output()
        .expect("shellcheck runs");
    assert!(
        result.status.success(),
        "shellcheck on {name}:\n{}",
        String::from_utf8_lossy(&result.stdout)
    );
}

#[test]
fn scripts_are_executable_and_a_mode_change_is_drift() {
    let spec = root().join("examples/app-oint/hardening.toml");
    let out = generate_example(&spec);
    for script in [
        "scripts/auto-rollback.sh",
        "scripts/auto-scaling-monitor.sh",
        "testing/load-tests/run-load-test.sh",
    ] {
        let path = out.path().join(script);
        let mode = fs::metadata(&path).expect(script).permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{script}");
    }
    let rollback = out.path().join("scripts/auto-rollback.sh");
    fs::set_permissions(&rollback, fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = harden(&[
        "diff",
        &spec.to_string_lossy(),
        "--out",
        &out.path().to_string_lossy(),
    ])
    .code(1);
    assert!(
        run.stdout
            .contains("scripts/auto-rollback.sh (should be 0755)"),
        "{}",
        run.stdout
    );
}

/// A temporary PATH directory of fake CLIs and the log they write.
pub(crate) struct Fakes {
    dir: tempfile::TempDir,
}

impl Fakes {
    pub(crate) fn new() -> Fakes {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("bin")).expect("bin");
        let fakes = Fakes { dir };
        // sleep returns at once, so bounded waits take no time.
        fakes.script("sleep", r#"echo "sleep $*" >>"$FAKE_LOG""#);
        // curl: records its arguments and its --config stdin, then answers
        // like DigitalOcean's API or a health endpoint.
        fakes.script(
            "curl",
            r#"echo "curl $*" >>"$FAKE_LOG"
case " $* " in
  *" --config - "*) sed 's/^/curl-stdin: /' >>"$FAKE_LOG" ;;
esac
case "$*" in
  *"/v2/apps/app-123/deployments"*)
    printf '{"deployments": [{"id": "new-2", "phase": "ACTIVE"}, {"id": "old-1", "phase": "SUPERSEDED"}]}\n' ;;
  *"/v2/apps/app-123/rollback"*) printf '{}\n' ;;
  *"/v2/apps/app-123"*) printf '{"app": {"live_url": "https://app.example.test"}}\n' ;;
  *"/api/v1/query"*)
    case "$*" in
      *current_replicas*) value=${FAKE_REPLICAS:-4} ;;
      *spec_max_replicas*) value=20 ;;
      *container_cpu*) value=${FAKE_CPU:-41.5} ;;
      *) value=${FAKE_MEMORY:-30.25} ;;
    esac
    printf '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "%s"]}]}}\n' "$value" ;;
  *"hooks.slack"* | *"--config -"*) ;;
  *) exit "${FAKE_HEALTH:-0}" ;;
esac"#,
        );
        // kubectl: rollout status fails until an undo when FAKE_ROLLOUT=1;
        // the readiness proxy fails when FAKE_READY=1.
        fakes.script(
            "kubectl",
            r#"echo "kubectl $*" >>"$FAKE_LOG"
case "$*" in
  *"rollout status"*)
    if [ "${FAKE_ROLLOUT:-0}" = 1 ] && ! grep -q "rollout undo" "$FAKE_LOG"; then exit 1; fi ;;
  *"get --raw"*) exit "${FAKE_READY:-0}" ;;
esac"#,
        );
        // docker: the running api container has image api:1.7.0; the first
        // `compose up` exits FAKE_UP; the override file is logged.
        fakes.script(
            "docker",
            r#"echo "docker $*" >>"$FAKE_LOG"
case "$*" in
  *" ps --quiet api"*) echo c0ffee ;;
  "inspect "*) echo registry.example.test/api:1.7.0 ;;
  *" up "*)
    for arg in "$@"; do
      case "$arg" in /*) [ -f "$arg" ] && sed 's/^/override: /' "$arg" >>"$FAKE_LOG" ;; esac
    done
    if [ "$(grep -c 'compose.* up ' "$FAKE_LOG")" -le 1 ]; then exit "${FAKE_UP:-0}"; fi ;;
esac"#,
        );
        fakes
    }

    pub(crate) fn script(&self, name: &str, body: &str) {
        let path = self.dir.path().join("bin").join(name);
        fs::write(&path, format!("#!/usr/bin/env bash\nset -u\n{body}\n")).expect("write fake");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Runs a generated script with the fakes first on PATH, bounded by
    /// `timeout`, and returns its exit code and stderr.
    pub(crate) fn run(&self, script: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new("timeout");
        command
            .arg("60")
            .arg(script)
            .args(args)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("FAKE_LOG", self.dir.path().join("log"))
            .env("SLACK_WEBHOOK_URL", WEBHOOK);
        for (key, value) in env {
            command.env(key, value);
        }
        let result = command.output().expect("script runs");
        (
            result.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&result.stderr).into_owned(),
        )
    }
}

fn rollback_script() -> (tempfile::TempDir, PathBuf) {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
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
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
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
    let spec = fs::read_to_string(root().join("examples/app-oint/hardening.toml")).expect("spec");
    let slo_start = spec.find("[service.slo]").expect("slo");
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
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = dir.path().join("hardening.toml");
    fs::write(&spec_path, variant).expect("write spec");
    harden(&["generate", &spec_path.to_string_lossy()]).success();

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
        let result = Command::new(shellcheck)
            .arg(dir.path().join("scripts/auto-rollback.sh"))
            .arg(dir.path().join("testing/load-tests/run-load-test.sh"))
            .output()
            .expect("shellcheck runs");
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stdout)
        );
    }
    if let Some(k6) = validator("k6") {
        let result = Command::new(k6)
            .args(["inspect", "--execution-requirements"])
            .arg(dir.path().join("testing/load-tests/load-test.js"))
            .output()
            .expect("k6 runs");
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
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
