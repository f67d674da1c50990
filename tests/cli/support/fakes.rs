//! Fake CLIs on a temporary PATH (`kubectl`, `docker`, `curl`, `sleep`)
//! that record their calls (and curl its stdin) to a log, so generated
//! scripts run without anything leaving the machine.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// The Slack webhook the fakes' runs carry in `SLACK_WEBHOOK_URL`.
pub const WEBHOOK: &str = "https://hooks.slack.test/services/T000/B000/dummy";

/// A temporary PATH directory of fake CLIs and the log they write.
pub struct Fakes {
    dir: tempfile::TempDir,
}

impl Fakes {
    pub fn new() -> Fakes {
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

    pub fn script(&self, name: &str, body: &str) {
        let path = self.dir.path().join("bin").join(name);
        fs::write(&path, format!("#!/usr/bin/env bash\nset -u\n{body}\n")).expect("write fake");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Runs a generated script with the fakes first on PATH, bounded by
    /// `timeout`, and returns its exit code and stderr.
    pub fn run(&self, script: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
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
