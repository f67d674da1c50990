//! Rules and their tests: promtool accepts every rule file and passes every
//! generated unit test, every alert has a firing and a quiet test, and
//! `harden explain` prints the burn-rate table.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;

/// A spec unlike App-Oint: a 28d window (a burn factor that does not
/// terminate), two regions with targets (RegionDown), no autoscaling, no
/// team or runbook, other metric names, and overridden alerts.
const VARIANT: &str = r#"
[project]
name = "shop"
regions = ["ams3", "sfo3"]

[monitoring]
grafana_url = "https://grafana.shop.example"

[[service]]
name = "checkout"
image = "registry.example.com/checkout:2.0"
port = 8080
replicas = 3
metrics = { requests = "checkout_requests_total", duration = "checkout_request_seconds", status_label = "code" }
targets = { ams3 = ["checkout-a:8080", "checkout-b:8080"], sfo3 = ["checkout-c:8080"] }

[service.slo]
window = "28d"
availability = "99.95%"
latency = [{ percentile = 99.9, threshold = "2s" }, { percentile = 50, threshold = "120ms" }]
error_rate_5xx = "0.5%"

[service.alerts]
error_rate_4xx = { enabled = false }
slo_burn_ticket = { for = "30m", severity = "info" }
latency = { severity = "critical", for = "90s" }
"#;

/// The least a spec can say: one HTTP service, no objective, no autoscaling.
const MINIMAL: &str = r#"
[project]
name = "tiny"

[[service]]
name = "api"
image = "registry.example.com/api:1.0"
port = 8080
"#;

/// Generated trees beyond the examples: the variant, the minimal spec and
/// the starter spec `harden init` writes.
pub(crate) fn other_trees() -> Vec<tempfile::TempDir> {
    let mut trees = Vec::new();
    for spec in [VARIANT, MINIMAL] {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("hardening.toml"), spec).expect("write spec");
        harden_in(dir.path(), &["generate"]).success();
        trees.push(dir);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    harden_in(dir.path(), &["init"]).success();
    harden_in(dir.path(), &["generate"]).success();
    trees.push(dir);
    trees
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn promtool(promtool: &Path, args: &[&str], file: &Path) {
    let result = Command::new(promtool)
        .args(args)
        .arg(file)
        .output()
        .expect("promtool runs");
    assert!(
        result.status.success(),
        "promtool {} {} failed:\n{}{}",
        args.join(" "),
        file.display(),
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// `promtool check config`, `check rules --lint-fatal` and `test rules` on
/// one generated tree.
pub(crate) fn promtool_accepts(tree: &Path) {
    let Some(tool) = validator("promtool") else {
        return;
    };
    let prometheus = tree.join("prometheus");
    promtool(
        &tool,
        &["check", "config"],
        &prometheus.join("prometheus.yml"),
    );
    let rules = files_in(&prometheus.join("rules"));
    let tests = files_in(&prometheus.join("tests"));
    assert!(
        !rules.is_empty() && rules.len() == tests.len(),
        "{rules:?} {tests:?}"
    );
    for file in &rules {
        promtool(&tool, &["check", "rules", "--lint-fatal"], file);
    }
    for file in &tests {
        promtool(&tool, &["test", "rules"], file);
    }
}

/// Alert names in a rules file, and per alert name whether some test group
/// sees it fire and some test group sees it stay quiet throughout.
fn coverage(tree: &Path) -> Vec<(String, bool, bool)> {
    let mut out = Vec::new();
    for rules in files_in(&tree.join("prometheus/rules")) {
        let name = rules
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let tests = yaml(&tree.join(format!("prometheus/tests/{name}.test.yml")));
        assert_eq!(tests["rule_files"][0], format!("../rules/{name}.yml"));
        let groups = tests["tests"].as_array().expect("tests");
        for group in yaml(&rules)["groups"].as_array().expect("groups") {
            for rule in group["rules"].as_array().expect("rules") {
                let Some(alert) = rule["alert"].as_str() else {
                    continue;
                };
                let checks = |g: &Value| -> Vec<bool> {
                    g["alert_rule_test"]
                        .as_array()
                        .expect("alert_rule_test")
                        .iter()
                        .filter(|c| c["alertname"] == alert)
                        .map(|c| !c["exp_alerts"].as_array().expect("exp_alerts").is_empty())
                        .collect()
                };
                let fires = groups.iter().any(|g| checks(g).contains(&true));
                let quiet = groups.iter().any(|g| {
                    let c = checks(g);
                    !c.is_empty() && !c.contains(&true)
                });
                out.push((alert.to_string(), fires, quiet));
            }
        }
    }
    out
}

#[test]
fn promtool_checks_and_runs_every_examples_rules_and_tests() {
    for spec in example_specs() {
        let out = generate_example(&spec);
        promtool_accepts(out.path());
    }
}

#[test]
fn promtool_checks_and_runs_the_rules_of_other_specs() {
    for tree in other_trees() {
        promtool_accepts(tree.path());
    }
}

#[test]
fn every_generated_alert_has_a_firing_and_a_quiet_test() {
    let examples: Vec<_> = example_specs()
        .iter()
        .map(|s| generate_example(s))
        .collect();
    let others = other_trees();
    for tree in examples.iter().chain(&others) {
        let coverage = coverage(tree.path());
        assert!(coverage.len() >= 2, "{}", tree.path().display());
        for (alert, fires, quiet) in coverage {
            assert!(
                fires && quiet,
                "{alert} in {}: fires {fires}, quiet {quiet}",
                tree.path().display()
            );
        }
    }
}

#[test]
fn app_oint_has_every_alert_the_seed_report_asks_for() {
    let out = generate_example(&root().join("examples/app-oint/hardening.toml"));
    let alerts: Vec<String> = coverage(out.path())
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert_eq!(
        alerts,
        [
            "SLOErrorBudgetBurnPage",
            "SLOErrorBudgetBurnTicket",
            "HighErrorRate5xx",
            "HighErrorRate4xx",
            "HighLatencyP95",
            "HighLatencyP99",
            "TargetDown",
            "MetricsAbsent",
            "HighCPUUsage",
            "HighMemoryUsage",
            "ReplicasAtMaximum",
            "RegionDown",
            // The Redis cache (allkeys-lru: no memory alert, it evicts).
            "RedisDown",
            "RedisTooManyClients",
            "RedisRejectedConnections",
            // postgres's daily backups (rules/postgres.yml).
            "BackupStale",
            "BackupMissing",
        ]
    );
    let rules = yaml(&out.path().join("prometheus/rules/api.yml"));
    let alert = |name: &str| -> Value {
        rules["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules").iter())
            .find(|r| r["alert"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}"))
    };
    let page = alert("SLOErrorBudgetBurnPage");
    let expr = page["expr"].as_str().expect("expr");
    assert!(
        expr.contains("slo:sli_error:ratio_rate1h{service=\"api\",slo=\"availability\"} > 0.0144"),
        "{expr}"
    );
    assert!(
        expr.contains("slo:sli_error:ratio_rate30m{service=\"api\",slo=\"availability\"} > 0.006"),
        "{expr}"
    );
    assert_eq!(page["labels"]["severity"], "critical");
    assert_eq!(page["labels"]["team"], "backend");
    assert_eq!(page["labels"]["tier"], "page");
    assert_eq!(
        page["annotations"]["runbook_url"],
        "https://runbooks.app-oint.com/SLOErrorBudgetBurnPage.md"
    );
    assert_eq!(
        page["annotations"]["dashboard"],
        "http://localhost:3001/d/harden-api"
    );
    let errors = alert("HighErrorRate5xx");
    assert_eq!(
        errors["expr"],
        "service:http_requests_5xx:ratio_rate5m{service=\"api\"} > 0.01"
    );
    let cpu = alert("HighCPUUsage");
    assert!(cpu["expr"].as_str().expect("expr").ends_with(">= 0.8"));
    assert!(
        alert("HighMemoryUsage")["expr"]
            .as_str()
            .expect("expr")
            .ends_with(">= 0.75")
    );
    // The SLO window's ratio comes from increases, not an average of ratios.
    let text = std::fs::read_to_string(out.path().join("prometheus/rules/api.yml")).expect("rules");
    assert!(text.contains("sum(increase(http_requests_total{job=\"api\",status=~\"5..\"}[30d]))"));
}

#[test]
fn a_variant_spec_gets_its_own_windows_names_and_overrides() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hardening.toml"), VARIANT).expect("write spec");
    // promtool runs on this spec's tree in promtool_checks_and_runs_the_rules_of_other_specs.
    harden_in(dir.path(), &["generate"]).success();
    let text =
        std::fs::read_to_string(dir.path().join("prometheus/rules/checkout.yml")).expect("rules");
    // 28d: 13.44 / 5.6 / 2.8 / 0.9333 (rounded) times a 0.05% budget.
    for threshold in ["> 0.00672", "> 0.0028", "> 0.0014", "> 0.00046665"] {
        assert!(text.contains(threshold), "{threshold} missing:\n{text}");
    }
    assert!(text.contains("slo:sli_error:ratio_rate28d"));
    assert!(text.contains("service:http_request_duration_seconds:p99_9"));
    assert!(text.contains("checkout_requests_total{job=\"checkout\",code=~\"5..\"}"));
    assert!(text.contains("- alert: RegionDown"));
    assert!(text.contains("- alert: HighLatencyP99_9"));
    assert!(!text.contains("HighErrorRate4xx"));
    assert!(!text.contains("HighCPUUsage"));
    // No base URL: the runbook's path in the generated tree.
    assert!(text.contains("runbook_url: runbooks/RegionDown.md"));
    assert!(!text.contains("team:"));
    assert!(text.contains("# No CPU, memory or replica alerts"));
    assert!(text.contains("# `error_rate_4xx` alerts are switched off in the spec"));
    let rules = yaml(&dir.path().join("prometheus/rules/checkout.yml"));
    let ticket = rules["groups"][2]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["alert"] == "SLOErrorBudgetBurnTicket")
        .expect("ticket alert")
        .clone();
    assert_eq!(ticket["for"], "30m");
    assert_eq!(ticket["labels"]["severity"], "info");
}

#[test]
fn explain_prints_the_burn_rate_table() {
    let run = harden(&["explain", "examples/app-oint/hardening.toml"]).success();
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("explain-app-oint", run.stdout);
    });
}

#[test]
fn explain_reports_an_invalid_spec() {
    let run = harden(&["explain", "tests/fixtures/invalid/bad-promql.toml"]).code(2);
    assert!(run.stderr.contains("does not parse"), "{}", run.stderr);
}
