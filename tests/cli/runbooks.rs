//! Runbooks, OPERATIONS.md and the CI workflow: every alert in every rule
//! file links a generated runbook and every runbook belongs to an alert
//! (and `harden check` says so); every command they print passes
//! shellcheck; the routes OPERATIONS.md tests with amtool reach the
//! receivers the runbooks name; the workflow passes GitHub's schema.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;

const HOSTILE: &str = "tests/fixtures/injection/hostile.toml";

/// The hostile spec generated into a temporary directory, its canary there.
fn hostile() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root().join(HOSTILE)).expect("fixture");
    let canary = dir.path().join("canary");
    let text = text.replace("/tmp/harden-canary", &canary.to_string_lossy());
    std::fs::write(dir.path().join("hardening.toml"), text).expect("spec");
    harden_in(dir.path(), &["generate"]).success();
    dir
}

/// Every tree worth checking: the examples, the rules tests' other specs
/// (no runbook_url, the starter spec) and the hostile spec.
fn trees() -> Vec<tempfile::TempDir> {
    let mut trees: Vec<_> = example_specs()
        .iter()
        .map(|s| generate_example(s))
        .collect();
    trees.extend(crate::rules::other_trees());
    trees.push(hostile());
    trees
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `(alert, runbook_url)` of every alert in every rule file of `tree`.
fn alerts(tree: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in names_in(&tree.join("prometheus/rules")) {
        let rules = yaml(&tree.join("prometheus/rules").join(&file));
        for group in rules["groups"].as_array().expect("groups") {
            for rule in group["rules"].as_array().expect("rules") {
                let Some(alert) = rule["alert"].as_str() else {
                    continue;
                };
                let url = rule["annotations"]["runbook_url"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{alert} in {file} has no runbook_url"));
                out.push((alert.to_string(), url.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_alert_links_a_generated_runbook_and_no_runbook_is_stray() {
    for tree in trees() {
        let tree = tree.path();
        let alerts = alerts(tree);
        assert!(!alerts.is_empty(), "{}", tree.display());
        let runbooks = names_in(&tree.join("runbooks"));
        let mut linked = BTreeSet::new();
        for (alert, url) in &alerts {
            let file = url.rsplit('/').next().expect("a last segment");
            assert_eq!(file, format!("{alert}.md"), "{url}");
            assert!(
                runbooks.contains(file),
                "{alert} links {url}: no runbooks/{file}"
            );
            linked.insert(file.to_string());
        }
        assert_eq!(linked, runbooks, "runbooks that belong to no alert");
        // Each runbook names its alert and every service that has it.
        for (alert, _) in &alerts {
            let text = std::fs::read_to_string(tree.join("runbooks").join(format!("{alert}.md")))
                .expect("runbook");
            assert!(
                text.contains(&format!("# {}\n", alert.replace('_', "\\_"))),
                "{alert}"
            );
            for section in [
                "## What it means",
                "## Why it matters",
                "## The alert",
                "## First steps",
                "## Silence it",
                "## Escalation",
            ] {
                assert!(text.contains(section), "{alert}: {section}");
            }
            assert!(
                text.contains(&format!("alertname={alert} ")),
                "{alert}: no amtool matcher"
            );
        }
    }
}

#[test]
fn app_oint_runbooks_carry_the_query_dashboard_routing_and_base_url() {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let rules = yaml(&out.path().join("prometheus/rules/api.yml"));
    let page = rules["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .find(|r| r["alert"] == "SLOErrorBudgetBurnPage")
        .expect("page alert");
    assert_eq!(
        page["annotations"]["runbook_url"],
        "https://runbooks.app-oint.com/SLOErrorBudgetBurnPage.md"
    );
    let text = std::fs::read_to_string(out.path().join("runbooks/SLOErrorBudgetBurnPage.md"))
        .expect("runbook");
    // One table row: what differs per service, the dashboard linked.
    assert!(
        text.contains("| api | critical | 2m | above 1.44% over 1h and 5m (14.4x the budget rate), or above 0.6% over 6h and 30m (6x the budget rate) | backend | [Grafana](<http://localhost:3001/d/harden-api>) | prometheus/rules/api.yml |\n"),
        "{text}"
    );
    // The only service is preset; the commands read it.
    assert!(text.contains("```sh\nSERVICE=api\n"), "{text}");
    // Routing from the model: critical pages oncall and tells Slack.
    assert!(
        text.contains("oncall (PagerDuty), team-slack (Slack \\#app-oint-alerts)"),
        "{text}"
    );
    assert!(text.contains("kubectl -n app-oint rollout undo deployment/\"$SERVICE\"\n"));
    assert!(text.contains("docker compose logs --since 30m \"$SERVICE\" | tail -n 200\n"));
    assert!(text.contains("awk -v n=app-oint-fra1"));
    assert!(text.contains("scripts/auto-rollback.sh kubernetes"));
    assert!(text.contains("error budget of 0.1% of requests"));
    let warning =
        std::fs::read_to_string(out.path().join("runbooks/HighLatencyP95.md")).expect("runbook");
    assert!(
        warning.contains(
            "team-slack (Slack \\#app-oint-alerts), team-email (email to ops@app-oint.com)"
        )
    );
}

#[test]
fn harden_check_finds_a_missing_and_a_stray_runbook() {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
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

/// Every fenced `sh` block of a Markdown file.
fn shell_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let fence: String = line.chars().take_while(|c| *c == '`').collect();
        if fence.len() >= 3 && line[fence.len()..].trim() == "sh" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != fence).collect();
            blocks.push(body.join("\n"));
        }
    }
    blocks
}

#[test]
fn shellcheck_accepts_every_command_in_the_runbooks_and_operations() {
    let Some(shellcheck) = validator("shellcheck") else {
        return;
    };
    for tree in [
        generate_example(&root().join("examples/app-oint/hardening.toml")),
        hostile(),
    ] {
        let mut docs: Vec<_> = names_in(&tree.path().join("runbooks"))
            .into_iter()
            .map(|n| tree.path().join("runbooks").join(n))
            .collect();
        docs.push(tree.path().join("OPERATIONS.md"));
        let mut count = 0;
        for doc in docs {
            let text = std::fs::read_to_string(&doc).expect("doc");
            for block in shell_blocks(&text) {
                count += 1;
                shellcheck_block(&shellcheck, tree.path(), &doc.display().to_string(), &block);
            }
        }
        assert!(count > 20, "only {count} shell blocks");
        assert!(!tree.path().join("canary").exists());
    }
}

#[test]
fn the_routes_operations_tests_reach_the_receivers_the_runbooks_name() {
    let Some(amtool) = validator("amtool") else {
        return;
    };
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let ops = std::fs::read_to_string(out.path().join("OPERATIONS.md")).expect("operations");
    let tests: Vec<&str> = ops
        .lines()
        .filter(|l| l.starts_with("amtool config routes test "))
        .collect();
    assert_eq!(tests.len(), 2, "{ops}");
    for line in tests {
        let args: Vec<&str> = line.split(' ').skip(1).collect();
        let run = Command::new(&amtool)
            .args(&args)
            .current_dir(out.path())
            .output()
            .expect("amtool runs");
        assert!(
            run.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let receivers = String::from_utf8_lossy(&run.stdout).trim().to_string();
        let expected = if line.contains("severity=critical") {
            "oncall,team-slack"
        } else {
            "team-slack,team-email"
        };
        assert_eq!(receivers, expected, "{line}");
    }
}

#[test]
fn operations_lists_only_what_the_spec_has() {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let ops = std::fs::read_to_string(out.path().join("OPERATIONS.md")).expect("operations");
    for expected in [
        "## Weekly",
        "## Monthly",
        "## Quarterly",
        "query=sort(slo:error_budget:remaining{slo=\"availability\"})",
        "harden check hardening.toml --live",
        "scripts/restore-drill.sh",
        "harden diff hardening.toml",
        "### 1. Fail over from fra1",
        "testing/load-tests/run-load-test.sh staging",
        "- api: [HighCPUUsage](<runbooks/HighCPUUsage.md>), ",
        ", [TargetDown](<runbooks/TargetDown.md>)\n",
        "- cache: [RedisDown](<runbooks/RedisDown.md>), ",
        "-n app-oint scale deployment/api --replicas=0\n",
    ] {
        assert!(ops.contains(expected), "{expected} missing:\n{ops}");
    }
    // The minimal spec: one region, no database, no load test, no objective.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("hardening.toml"),
        "[project]\nname = \"tiny\"\n\n[[service]]\nname = \"api\"\nimage = \"registry.example.com/api:1.0\"\nport = 8080\n",
    )
    .expect("spec");
    harden_in(dir.path(), &["generate"]).success();
    let ops = std::fs::read_to_string(dir.path().join("OPERATIONS.md")).expect("operations");
    for absent in [
        "restore-drill",
        "Fail over",
        "run-load-test",
        "error_budget",
        "kubectl",
        "doctl",
    ] {
        assert!(!ops.contains(absent), "{absent} listed:\n{ops}");
    }
    assert!(!dir.path().join(".github").exists(), "CI is opt-in");
}

#[test]
fn the_ci_workflow_passes_the_github_workflow_schema() {
    let Some(check) = validator("check-jsonschema") else {
        return;
    };
    for tree in [
        generate_example(&root().join("examples/app-oint/hardening.toml")),
        hostile(),
    ] {
        let path = tree.path().join(".github/workflows/harden.yml");
        let out = Command::new(&check)
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(&path)
            .output()
            .expect("check-jsonschema runs");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let workflow = yaml(&path);
        assert_eq!(workflow["permissions"]["contents"], "read");
        let jobs = workflow["jobs"].as_object().expect("jobs");
        let steps: Vec<&Value> = jobs
            .values()
            .flat_map(|j| j["steps"].as_array().expect("steps"))
            .collect();
        for step in &steps {
            if let Some(uses) = step["uses"].as_str() {
                let (_, version) = uses.split_once('@').expect("pinned");
                assert!(
                    version.starts_with('v') || version.starts_with(|c: char| c.is_ascii_digit()),
                    "{uses} is not pinned to a version"
                );
            }
        }
        let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
        assert!(runs.contains(&"harden diff hardening.toml"), "{runs:?}");
        assert!(runs.contains(&"harden check hardening.toml"), "{runs:?}");
        assert!(
            runs.iter()
                .any(|r| r.contains("cargo install --locked --git "))
        );
        assert!(runs.contains(&"testing/load-tests/run-load-test.sh --smoke staging"));
        let trivy: Vec<&&Value> = steps
            .iter()
            .filter(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("aquasecurity/trivy-action@"))
            })
            .collect();
        assert!(!trivy.is_empty());
        let mut scanned = Vec::new();
        for step in &trivy {
            assert_eq!(step["with"]["severity"], "HIGH,CRITICAL");
            assert_eq!(step["with"]["exit-code"], "1");
            scanned.push(step["with"]["image-ref"].as_str().expect("image-ref"));
        }
        let distinct: std::collections::BTreeSet<_> = scanned.iter().collect();
        assert_eq!(distinct.len(), scanned.len(), "{scanned:?}");
        assert!(!tree.path().join("canary").exists());
    }
    // App-Oint builds two images: the API's and the backup job's.
    let example = yaml(&root().join("examples/app-oint/.github/workflows/harden.yml"));
    let scanned: Vec<&str> = example["jobs"]
        .as_object()
        .expect("jobs")
        .values()
        .flat_map(|j| j["steps"].as_array().expect("steps"))
        .filter_map(|s| s["with"]["image-ref"].as_str())
        .collect();
    assert_eq!(
        scanned,
        [
            "registry.digitalocean.com/app-oint/api:1.8.0",
            "registry.digitalocean.com/app-oint/postgres-backup:16"
        ]
    );
    let hostile = hostile();
    let workflow = yaml(&hostile.path().join(".github/workflows/harden.yml"));
    // The spec's values, as written, each one shell word.
    let install = workflow["jobs"]["harden"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find_map(|s| s["run"].as_str().filter(|r| r.contains("cargo install")))
        .expect("install step")
        .to_string();
    assert!(
        install.contains("--git \"https://git.example.com/h\\$(touch\\$IFS/"),
        "{install}"
    );
    assert_eq!(
        workflow["defaults"]["run"]["working-directory"],
        "deploy/x-._y"
    );
    assert_eq!(
        workflow["jobs"]["smoke"]["steps"][2]["env"]["LOAD_USER"],
        "${{ secrets.LOAD_USER }}"
    );
    assert_eq!(
        workflow["jobs"]["cve-api"]["permissions"]["packages"],
        "read"
    );
}

#[test]
fn bash_runs_the_hostile_install_command_without_expanding_anything() {
    let tree = hostile();
    let workflow = yaml(&tree.path().join(".github/workflows/harden.yml"));
    let install = workflow["jobs"]["harden"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find_map(|s| s["run"].as_str().filter(|r| r.contains("cargo install")))
        .expect("install step")
        .to_string();
    // Stand-ins for rustup and cargo that print their arguments.
    let bin = tree.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    for tool in ["rustup", "cargo"] {
        let path = bin.join(tool);
        std::fs::write(&path, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n").expect("stub");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-c", &install])
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args = String::from_utf8_lossy(&out.stdout);
    let canary = tree.path().join("canary");
    assert!(
        args.contains(&format!(
            "https://git.example.com/h$(touch$IFS{});a&b=$HOME!*+,@:~\n",
            canary.display()
        )),
        "{args}"
    );
    assert!(!canary.exists());
}

#[test]
fn amtool_parses_every_silence_and_test_fire_command() {
    let Some(amtool) = validator("amtool") else {
        return;
    };
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let mut docs: Vec<_> = names_in(&out.path().join("runbooks"))
        .into_iter()
        .map(|n| out.path().join("runbooks").join(n))
        .collect();
    let runbooks = docs.len();
    docs.push(out.path().join("OPERATIONS.md"));
    let bin = out.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    std::os::unix::fs::symlink(&amtool, bin.join("amtool")).expect("link");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut count = 0;
    for doc in docs {
        let text = std::fs::read_to_string(&doc).expect("doc");
        for line in text
            .lines()
            .filter(|l| l.starts_with("amtool silence add ") || l.starts_with("amtool alert add "))
        {
            count += 1;
            // Nothing listens on port 1: amtool parses its arguments, then
            // fails to POST them, which shows they parsed.
            let run = Command::new("bash")
                .args(["-c", line])
                .env("PATH", &path)
                .env("ALERTMANAGER_URL", "http://127.0.0.1:1")
                .env("USER", "oncall")
                .env("SERVICE", "api")
                .output()
                .expect("bash runs");
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(
                stderr.contains("Post \"http://127.0.0.1:1/api/v2/"),
                "{}: {line}\n{stderr}",
                doc.display()
            );
        }
    }
    // App-Oint's services each have their own alert names: one silence each.
    assert_eq!(
        count,
        runbooks + 2,
        "a silence per runbook and two test fires"
    );
}

/// What a runbook says of an alert's objective and threshold holds for
/// every service it covers: said once when they agree, left to the table
/// when they differ.
#[test]
fn a_runbook_states_an_objective_only_when_its_services_share_it() {
    let runbook = |second: &str| {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = format!(
            r##"
[project]
name = "duo"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
slo = {{ window = "30d", availability = "99.9%" }}

[[service]]
name = "search"
image = "registry.example.com/search:1.0"
port = 8081
slo = {{ window = "30d", availability = "{second}" }}

[[alerting.receiver]]
name = "pager"
type = "pagerduty"
routing_key = {{ env = "PD_KEY" }}

[alerting]
default_receiver = "pager"

[platform.compose]
"##
        );
        std::fs::write(dir.path().join("hardening.toml"), spec).expect("spec");
        let run = harden_in(dir.path(), &["generate", "--out", "out"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        std::fs::read_to_string(dir.path().join("out/runbooks/SLOErrorBudgetBurnPage.md"))
            .expect("runbook")
    };
    let same = runbook("99.9%");
    assert!(
        same.contains("The objective is 99.9% availability over 30d: an error budget of 0.1% of requests. Of the 30d budget, at 14.4x the budget lasts 2d2h"),
        "{same}"
    );
    assert!(
        same.contains("It fires when errors are above 1.44% over 1h and 5m"),
        "{same}"
    );
    let differ = runbook("99.5%");
    assert!(!differ.contains("The objective is"), "{differ}");
    assert!(!differ.contains("It fires when errors are"), "{differ}");
    assert!(
        differ.contains("The services have different objectives, so their budgets last different times at these burn rates: users are seeing errors now"),
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
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("hardening.toml"),
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
    )
    .expect("spec");
    harden_in(dir.path(), &["generate"]).success();
    let text = std::fs::read_to_string(dir.path().join("runbooks/TargetDown.md")).expect("runbook");
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

[service.slo]
availability = "99.9%"
latency = [{{ percentile = 95, threshold = "500ms" }}]
error_rate_5xx = "1%"
error_rate_4xx = "10%"

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
"##,
    );
    spec
}

fn generate_many(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hardening.toml"), many_services(n)).expect("spec");
    harden_in(dir.path(), &["generate"]).success();
    dir
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len()
}

#[test]
fn runbooks_and_operations_grow_by_about_a_table_row_per_service() {
    let (one, many, n) = (generate_many(1), generate_many(50), 50);
    let runbooks = names_in(&one.path().join("runbooks"));
    assert_eq!(runbooks, names_in(&many.path().join("runbooks")));
    assert!(runbooks.len() >= 15, "{runbooks:?}");
    let growth =
        |path: &str| (size(&many.path().join(path)) - size(&one.path().join(path))) / (n - 1);
    for name in &runbooks {
        let per_service = growth(&format!("runbooks/{name}"));
        assert!(
            per_service < 400,
            "{name} grows by {per_service} bytes per service"
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
    for name in names_in(&tree.path().join("runbooks")) {
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
    for name in names_in(&tree.path().join("runbooks")) {
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

fn rules_api(tree: &Path) -> Value {
    let mut groups = Vec::new();
    for file in names_in(&tree.join("prometheus/rules")) {
        let rules = yaml(&tree.join("prometheus/rules").join(&file));
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
    std::fs::write(&api, rules_api(tree.path()).to_string()).expect("rules.json");
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
        let out = Command::new("bash")
            .args(["-c", &format!("set -eu\n{query}\nprintf '%s' \"$QUERY\"")])
            .current_dir(tree.path())
            .env("SERVICE", service)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
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
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expr,
            "{alert} for {service}"
        );
    }
}

/// Runs shellcheck on one command block of a generated document (`doc`
/// names it in the failure), as a bash script written in `dir`.
fn shellcheck_block(shellcheck: &std::path::Path, dir: &std::path::Path, doc: &str, block: &str) {
    let script = dir.join("block.sh");
    std::fs::write(&script, format!("#!/usr/bin/env bash\n{block}\n")).expect("write");
    let out = Command::new(shellcheck)
        .arg(&script)
        .output()
        .expect("shellcheck runs");
    assert!(
        out.status.success(),
        "{doc}:\n{block}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
