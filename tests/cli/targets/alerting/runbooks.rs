//! What the runbooks say and do for several services: one runbook per
//! alert whatever the number of services sharing it, blocks shared unless
//! their commands differ, a shared block pasted without SERVICE runs
//! nothing, the confirm step finds the rule of the service named, and
//! `harden check` finds a missing and a stray runbook.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

#[test]
fn harden_check_finds_a_missing_and_a_stray_runbook() {
    let out = generate(&Spec::app_oint());
    let dir = out.path().to_string_lossy().into_owned();
    let spec = root().join("examples/app-oint/hardening.toml");
    let spec = spec.to_string_lossy();
    let run = harden(&["check", &spec, "--out", &dir, "--format", "json"]).success();
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let check = |report: &Value| {
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["name"] == "Every alert links a generated runbook")
            .cloned()
            .expect("the runbook check")
    };
    assert_eq!(check(&report)["status"], "pass", "{report}");
    std::fs::remove_file(out.path().join("runbooks/TargetDown.md")).expect("remove");
    std::fs::write(out.path().join("runbooks/Stray.md"), "# Stray\n").expect("stray");
    let run = harden(&["check", &spec, "--out", &dir, "--format", "json"]).code(1);
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let detail = check(&report).to_string();
    assert_eq!(check(&report)["status"], "fail");
    assert!(
        detail.contains("runbooks/TargetDown.md, which is not on disk"),
        "{detail}"
    );
    assert!(
        detail.contains("runbooks/Stray.md belongs to no alert"),
        "{detail}"
    );
}

/// What a runbook says of an alert's objective and threshold holds for
/// every service it covers: said once when they agree, left to the table
/// when they differ.
#[test]
fn a_runbook_states_an_objective_only_when_its_services_share_it() {
    let runbook = |second: &str| {
        let spec = format!(
            r##"
[project]
name = "duo"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
slo = [{{ name = "availability", objective = "99.9%", availability = {{}} }}]

[[service]]
name = "search"
image = "registry.example.com/search:1.0"
port = 8081
slo = [{{ name = "availability", objective = "{second}", availability = {{}} }}]

[[alerting.receiver]]
name = "pager"
type = "pagerduty"
routing_key = {{ env = "PD_KEY" }}

[alerting]
default_receiver = "pager"

[platform.compose]
"##
        );
        generate(&Spec::toml(spec)).read("runbooks/SLOErrorBudgetBurnPage.md")
    };
    let same = runbook("99.9%");
    assert!(
        same.contains("The objective is 99.9% of requests not answered with a 5xx over 30d: an error budget of 0.1% of events. Of the 30d budget, at 14.4x the budget lasts 2d2h"),
        "{same}"
    );
    assert!(
        same.contains("It fires when bad events are above 1.44% over 1h and 5m"),
        "{same}"
    );
    let differ = runbook("99.5%");
    assert!(!differ.contains("The objective is"), "{differ}");
    assert!(!differ.contains("It fires when bad events are"), "{differ}");
    assert!(
        differ.contains("The SLOs have different objectives, so their budgets last different times at these burn rates: users are seeing failures now"),
        "{differ}"
    );
    assert!(
        differ.contains("Each service's threshold is in the table below."),
        "{differ}"
    );
    // The table has both thresholds.
    assert!(differ.contains("| api | critical |"), "{differ}");
    assert!(differ.contains("| search | critical |"), "{differ}");
}

#[test]
fn an_alert_two_services_share_has_one_runbook_covering_both() {
    let dir = generate(&Spec::toml(
        r##"
[project]
name = "duo"
runbook_url = "https://github.com/duo/ops/blob/main/runbooks"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
team = "core"

[[service]]
name = "search"
image = "registry.example.com/search:1.0"
port = 8081

[[alerting.receiver]]
name = "core-slack"
type = "slack"
channel = "#core"
webhook_url = { env = "CORE_SLACK" }

[[alerting.receiver]]
name = "pager"
type = "pagerduty"
routing_key = { env = "PD_KEY" }

[alerting]
default_receiver = "pager"

[[alerting.route]]
team = "core"
receivers = ["core-slack"]
"##,
    ));
    let text = dir.read("runbooks/TargetDown.md");
    assert!(text.contains("Severity critical · 2 services"), "{text}");
    // A row each, and no per-service section or query.
    assert!(
        text.contains("\n| api | critical | 2m | every scrape fails | core | "),
        "{text}"
    );
    assert!(
        text.contains("\n| search | critical | 2m | every scrape fails | — | "),
        "{text}"
    );
    assert!(
        !text.contains("### api") && !text.contains("up{job="),
        "{text}"
    );
    // One block per step, for whichever service the alert names.
    let unset = "SERVICE=${SERVICE:?set SERVICE to the service label of the alert}\n";
    assert!(!text.contains("SERVICE=api"), "{text}");
    assert_eq!(
        text.matches(unset).count(),
        shell_blocks(&text).len(),
        "{text}"
    );
    assert_eq!(text.matches("amtool silence add ").count(), 1, "{text}");
    assert!(text.contains("alertname=TargetDown \"service=${SERVICE:?}\"\n"));
    // Routing per service: the team route for api, the default for search.
    assert!(
        text.contains(
            "- api, owned by team core: severity critical goes to core-slack (Slack \\#core)."
        ),
        "{text}"
    );
    assert!(
        text.contains("- search: severity critical goes to pager (PagerDuty)."),
        "{text}"
    );
    let rules = yaml(&dir.path().join("prometheus/rules/search.yml"));
    let alert = &rules["groups"][1]["rules"][0];
    assert_eq!(
        alert["annotations"]["runbook_url"],
        format!(
            "https://github.com/duo/ops/blob/main/runbooks/{}.md",
            alert["alert"].as_str().expect("alert name")
        )
    );
}

/// A spec shaped like `bench/make-spec.py`'s (every platform, two regions,
/// objectives, autoscaling), with `n` http services, `n` Redis caches
/// (every other one with a password) and `n` backed-up databases.
fn many_services(n: usize) -> String {
    let mut spec = String::from(
        r##"[project]
name = "many"
regions = ["fra1", "nyc1"]
runbook_url = "https://runbooks.example.com"
"##,
    );
    for i in 0..n {
        spec.push_str(&format!(
            r##"
[[service]]
name = "svc-{i:04}"
image = "registry.digitalocean.com/many/svc-{i:04}:1.0.0"
port = {port}
team = "backend"
resources = {{ cpu = "500m", memory = "512Mi" }}
metrics = {{ buckets = [0.1, 0.5, 1] }}
slo = [
  {{ name = "availability", objective = "99.9%", availability = {{}} }},
  {{ name = "latency", objective = "95%", latency = {{ threshold = "500ms" }} }},
]
alerts = {{ error_rate_5xx = {{ threshold = "1%" }}, error_rate_4xx = {{ threshold = "10%" }} }}

[service.autoscaling]
min_replicas = 2
max_replicas = 20
cpu_percent = 80
memory_percent = 75

[[service]]
name = "cache-{i:04}"
kind = "database"
engine = "redis"
{password}
[[service]]
name = "db-{i:04}"
kind = "database"
engine = "postgres"
version = "16"
backup = {{ schedule = "daily", retention_days = 7, destination = "s3://backups/db-{i:04}", image = "registry.digitalocean.com/many/backup:16" }}
"##,
            port = 20000 + i,
            password = if i % 2 == 0 {
                "password = { env = \"REDIS_PASSWORD\" }\n"
            } else {
                ""
            },
        ));
    }
    spec.push_str(
        r##"
[alerting]
default_receiver = "slack"

[[alerting.receiver]]
name = "pager"
type = "pagerduty"
routing_key = { env = "PAGERDUTY_ROUTING_KEY" }

[[alerting.receiver]]
name = "slack"
type = "slack"
channel = "#alerts"
webhook_url = { env = "SLACK_WEBHOOK_URL" }

[[alerting.route]]
severity = "critical"
receivers = ["pager", "slack"]

[platform.compose]
[platform.kubernetes]
[platform.digitalocean]
instance_size = "apps-d-1vcpu-1gb"
metrics = "otlp"
otlp_endpoint = "https://prometheus.example.com/api/v1/otlp/v1/metrics"
"##,
    );
    spec
}

fn generate_many(n: usize) -> Tree {
    generate(&Spec::toml(many_services(n)))
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len()
}

#[test]
fn runbooks_and_operations_grow_by_about_a_table_row_per_service() {
    let (one, many, n) = (generate_many(1), generate_many(50), 50);
    let runbooks = one.names_in("runbooks");
    assert_eq!(runbooks, many.names_in("runbooks"));
    assert!(runbooks.len() >= 15, "{runbooks:?}");
    let growth =
        |path: &str| (size(&many.path().join(path)) - size(&one.path().join(path))) / (n - 1);
    // A table row per alert rule of a service: one per SLO for the SLO
    // alerts (each service here has two SLOs), one for the others.
    let rows = |tree: &Tree, name: &str| {
        let text = std::fs::read_to_string(tree.path().join("runbooks").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        text.lines().filter(|l| l.starts_with("| svc-")).count() as u64
    };
    for name in &runbooks {
        let per_service = growth(&format!("runbooks/{name}"));
        let rows_per_service = (rows(&many, name) - rows(&one, name)) / (n - 1);
        assert!(
            rows_per_service <= 2,
            "{name} grows by {rows_per_service} rows per service"
        );
        let per_row = per_service / rows_per_service.max(1);
        assert!(
            per_row < 400,
            "{name} grows by {per_service} bytes per service ({rows_per_service} rows)"
        );
    }
    // Each step of `n` adds an http service, a cache and a database:
    // about 175 bytes in all (a dashboard link, a few names, a drill line).
    let per_service = growth("OPERATIONS.md");
    assert!(
        per_service < 200,
        "OPERATIONS.md grows by {per_service} bytes per http service, cache and database"
    );
}

#[test]
fn services_share_a_block_unless_their_commands_differ() {
    let tree = generate_many(3);
    let read = |name: &str| {
        std::fs::read_to_string(tree.path().join("runbooks").join(name)).expect("runbook")
    };
    let unset = "SERVICE=${SERVICE:?set SERVICE to the service label of the alert}";
    // The caches with a password read it from its file; the others have
    // none: two blocks, each naming its caches, the lone one preset.
    let down = read("RedisDown.md");
    assert!(
        down.contains("### 2. Is Redis up? (cache-0000, cache-0002)\n"),
        "{down}"
    );
    assert!(
        down.contains("### 3. Is Redis up? (cache-0001)\n"),
        "{down}"
    );
    assert!(down.contains("```sh\nSERVICE=cache-0001\n"), "{down}");
    assert!(
        down.contains("docker compose exec \"$SERVICE\" redis-cli ping\n"),
        "{down}"
    );
    assert!(down.contains("/run/secrets/redis-password"), "{down}");
    // Every other step is one block for all three.
    assert!(down.contains("### 4. On DigitalOcean\n"), "{down}");
    assert!(
        down.contains("### 5. Look at the cache where it runs\n"),
        "{down}"
    );
    // The ports differ: set by the reader, from the table's Port column.
    let absent = read("MetricsAbsent.md");
    assert!(absent.contains("| Rule file | Port |\n"), "{absent}");
    assert!(
        absent.contains(" | prometheus/rules/svc-0001.yml | 20001 |\n"),
        "{absent}"
    );
    assert!(
        absent.contains(&format!(
            "```sh\n{unset}\nPORT=${{PORT:?set PORT to the port of the service in the table above}}\n"
        )),
        "{absent}"
    );
    assert!(absent.contains("\"${PORT:?}:${PORT:?}\""), "{absent}");
    // The backups' destinations are in the table, not in the steps.
    let stale = read("BackupStale.md");
    assert!(
        stale.contains("| daily, to s3://backups/db-0002 |\n"),
        "{stale}"
    );
    assert!(stale.contains("kubectl -n many create job --from=cronjob/\"${SERVICE:?}-backup\" \"${SERVICE:?}-backup-manual-$(date +%s)\"\n"), "{stale}");
    // One escalation line for the services that reach the same receivers.
    assert!(
        stale.contains(
            "- db-0000, db-0001, db-0002: severity warning goes to slack (Slack \\#alerts).\n"
        ),
        "{stale}"
    );
    // Every block is shellcheck-clean, with SERVICE set or demanded.
    let Some(shellcheck) = validator("shellcheck") else {
        return;
    };
    for name in tree.names_in("runbooks") {
        let text = read(&name);
        for block in shell_blocks(&text) {
            shellcheck_block(&shellcheck, tree.path(), &name, &block);
        }
    }
}

/// Prometheus's `/api/v1/rules` answer for the rule files of `tree`: each
/// alerting rule with its name, query, labels and annotations.
/// Pasted into a shell without setting SERVICE (or PORT), a block several
/// services share runs none of its commands: each line that needs the
/// variable stops at it, instead of acting on an empty name.
#[test]
fn a_shared_block_pasted_without_service_runs_no_command() {
    let tree = generate_many(3);
    // Stand-ins that record being run, for every command that acts.
    let bin = tree.path().join("stub-bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let log = tree.path().join("ran.log");
    for name in ["kubectl", "docker", "doctl", "amtool", "redis-cli", "psql"] {
        let stub = bin.join(name);
        std::fs::write(
            &stub,
            format!("#!/bin/sh\necho \"{name} $*\" >> '{}'\n", log.display()),
        )
        .expect("stub");
        let mut perms = std::fs::metadata(&stub).expect("stat").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&stub, perms).expect("chmod");
    }
    let mut lines = 0;
    for name in tree.names_in("runbooks") {
        let text = std::fs::read_to_string(tree.path().join("runbooks").join(&name)).expect("read");
        for block in shell_blocks(&text) {
            if !block.starts_with("SERVICE=${SERVICE:?") {
                continue;
            }
            for line in block.lines().skip(1) {
                if !(line.contains("SERVICE") || line.contains("PORT")) || line.starts_with("PORT=")
                {
                    continue;
                }
                lines += 1;
                // A line sent to the background returns at once: wait for it
                // so that what it ran is in the log.
                let status = Command::new("/bin/bash")
                    .arg("-c")
                    .arg(format!("{line}\nrc=$?\nwait\nexit $rc"))
                    .env_clear()
                    .env("PATH", &bin)
                    // Each line fails on purpose; its message is not the test's output.
                    .stderr(std::process::Stdio::null())
                    .status()
                    .expect("bash runs");
                assert!(
                    line.ends_with('&') || !status.success(),
                    "{name}: ran without SERVICE: {line}"
                );
            }
        }
    }
    assert!(lines > 20, "only {lines} lines read SERVICE");
    // Only listings that feed a filter on the name (`kubectl get jobs |
    // grep "${SERVICE:?}-backup"`) run; they read, and name nothing.
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    let acted: Vec<&str> = ran
        .lines()
        .filter(|l| !l.starts_with("kubectl -n many get ") || l.contains("-backup"))
        .collect();
    assert!(acted.is_empty(), "commands ran with no service:\n{ran}");
}

fn rules_api(tree: &Tree) -> Value {
    let mut groups = Vec::new();
    for file in tree.names_in("prometheus/rules") {
        let rules = tree.yaml(&format!("prometheus/rules/{file}"));
        for group in rules["groups"].as_array().expect("groups") {
            let rules: Vec<Value> = group["rules"]
                .as_array()
                .expect("rules")
                .iter()
                .filter(|r| r["alert"].is_string())
                .map(|r| {
                    serde_json::json!({
                        "type": "alerting",
                        "state": "inactive",
                        "name": r["alert"],
                        "query": r["expr"],
                        "duration": 0,
                        "labels": r["labels"],
                        "annotations": r["annotations"],
                        "alerts": [],
                    })
                })
                .collect();
            groups.push(serde_json::json!({"name": group["name"], "file": file, "rules": rules}));
        }
    }
    serde_json::json!({"status": "success", "data": {"groups": groups}})
}

#[test]
fn confirm_finds_the_rule_of_the_service_the_reader_names() {
    if validator("jq").is_none() {
        return;
    }
    let tree = generate_many(3);
    let api = tree.path().join("rules.json");
    std::fs::write(&api, rules_api(&tree).to_string()).expect("rules.json");
    for (alert, service, file) in [
        ("TargetDown", "svc-0001", "svc-0001.yml"),
        ("RedisDown", "cache-0002", "cache-0002.yml"),
        ("BackupStale", "db-0000", "db-0000.yml"),
    ] {
        let text = std::fs::read_to_string(tree.path().join(format!("runbooks/{alert}.md")))
            .expect("runbook");
        let confirm = shell_blocks(&text)
            .into_iter()
            .next()
            .expect("a first block");
        let query = confirm
            .lines()
            .find(|l| l.starts_with("QUERY=$(curl "))
            .expect("the QUERY line")
            .replace(
                "curl -fsS \"$PROMETHEUS_URL/api/v1/rules?type=alert\"",
                "cat rules.json",
            );
        let printed = run_ok(
            "bash",
            Command::new("bash")
                .args(["-c", &format!("set -eu\n{query}\nprintf '%s' \"$QUERY\"")])
                .current_dir(tree.path())
                .env("SERVICE", service),
        );
        let rules = yaml(&tree.path().join("prometheus/rules").join(file));
        let expr = rules["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules"))
            .find(|r| r["alert"] == alert)
            .and_then(|r| r["expr"].as_str())
            .expect("the alert's rule")
            .to_string();
        assert_eq!(printed, expr, "{alert} for {service}");
    }
}
