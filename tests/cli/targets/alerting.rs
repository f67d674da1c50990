//! The rules target: the rule files, their promtool unit tests, the
//! runbooks and OPERATIONS.md. promtool accepts every rule file and passes
//! every generated test; every alert has a firing and a quiet test and
//! links a generated runbook; every command the runbooks and OPERATIONS.md
//! print passes shellcheck and amtool; App-Oint's match their snapshot.
//! What the runbooks' commands do when pasted is in `rules/runbooks.rs`.

mod runbooks;
mod slo;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn promtool_checks_and_runs_every_examples_rules_and_tests() {
    let Some(promtool) = validator("promtool") else {
        return;
    };
    for tree in examples_and_fixtures() {
        promtool_rules(&promtool, tree.path());
    }
}

#[test]
fn promtool_checks_and_runs_the_rules_of_other_specs() {
    let Some(promtool) = validator("promtool") else {
        return;
    };
    for tree in other_trees() {
        promtool_rules(&promtool, tree.path());
    }
}

#[test]
fn shellcheck_accepts_every_command_in_the_runbooks_and_operations() {
    let Some(shellcheck) = validator("shellcheck") else {
        return;
    };
    for tree in [
        generate(&Spec::app_oint()),
        generate(&Spec::Fixture(HOSTILE)),
    ] {
        let mut docs: Vec<_> = tree
            .names_in("runbooks")
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
fn amtool_parses_every_silence_and_test_fire_command() {
    let Some(amtool) = validator("amtool") else {
        return;
    };
    let out = generate(&Spec::app_oint());
    let mut docs: Vec<_> = out
        .names_in("runbooks")
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

#[test]
fn the_routes_operations_tests_reach_the_receivers_the_runbooks_name() {
    let Some(amtool) = validator("amtool") else {
        return;
    };
    let out = generate(&Spec::app_oint());
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

// --- (b) The numbers in the files equal the model and the spec ----------------

/// Alert names in a rules file, and per alert name whether some test group
/// sees it fire and some test group sees it stay quiet throughout.
fn coverage(tree: &Path) -> Vec<(String, bool, bool)> {
    let mut out = Vec::new();
    let files = files_in(&tree.join("prometheus/rules"))
        .into_iter()
        .map(|f| (f, "rules", ""))
        .chain(
            files_in(&tree.join("prometheus/global"))
                .into_iter()
                .map(|f| (f, "global", "global-")),
        );
    for (rules, dir, prefix) in files {
        let name = rules
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let tests = yaml(&tree.join(format!("prometheus/tests/{prefix}{name}.test.yml")));
        assert_eq!(tests["rule_files"][0], format!("../{dir}/{name}.yml"));
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
fn every_generated_alert_has_a_firing_and_a_quiet_test() {
    for tree in examples_and_fixtures().iter().chain(&other_trees()) {
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
    let out = generate(&Spec::app_oint());
    let alerts: Vec<String> = coverage(out.path())
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert_eq!(
        alerts,
        [
            // The seed report's p95/p99 latency alerts are latency SLOs now:
            // each of api's three SLOs (availability, latency, latency-tail)
            // burns and exhausts its own budget.
            "SLOErrorBudgetBurnPage",
            "SLOErrorBudgetBurnTicket",
            "ErrorBudgetExhausted",
            "SLOErrorBudgetBurnPage",
            "SLOErrorBudgetBurnTicket",
            "ErrorBudgetExhausted",
            "SLOErrorBudgetBurnPage",
            "SLOErrorBudgetBurnTicket",
            "ErrorBudgetExhausted",
            "HighErrorRate5xx",
            "HighErrorRate4xx",
            "TargetDown",
            "MetricsAbsent",
            "HighCPUUsage",
            "HighMemoryUsage",
            "ReplicasAtMaximum",
            // No RegionDown: each region's Prometheus discovers only its
            // own replicas (region_down_is_generated_tested_and_routed_to_oncall
            // lists targets in both regions).
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
    // Over the autoscaler's target only at its maximum replica count.
    let at_max = " >= kube_horizontalpodautoscaler_spec_max_replicas{horizontalpodautoscaler=\"api\",namespace=\"app-oint\"})";
    for (name, threshold) in [("HighCPUUsage", "0.8"), ("HighMemoryUsage", "0.75")] {
        let expr = alert(name)["expr"].as_str().expect("expr").to_string();
        assert!(
            expr.contains(&format!(">= {threshold}) and on () (")),
            "{expr}"
        );
        assert!(expr.ends_with(at_max), "{expr}");
    }
    // The SLO window's ratio comes from increases, not an average of ratios.
    let text = std::fs::read_to_string(out.path().join("prometheus/rules/api.yml")).expect("rules");
    assert!(text.contains("sum(increase(http_requests_total{job=\"api\",status=~\"5..\"}[30d]))"));
}

#[test]
fn a_variant_spec_gets_its_own_windows_names_and_overrides() {
    // promtool runs on this spec's tree in promtool_checks_and_runs_the_rules_of_other_specs.
    let dir = generate(&Spec::toml(VARIANT));
    let text =
        std::fs::read_to_string(dir.path().join("prometheus/rules/checkout.yml")).expect("rules");
    // 28d: 13.44 / 5.6 / 2.8 / 0.9333 (rounded) times a 0.05% budget.
    for threshold in ["> 0.00672", "> 0.0028", "> 0.0014", "> 0.00046665"] {
        assert!(text.contains(threshold), "{threshold} missing:\n{text}");
    }
    assert!(text.contains("slo:sli_error:ratio_rate28d"));
    assert!(text.contains("service:http_request_duration_seconds:p99"));
    assert!(text.contains("checkout_requests_total{job=\"checkout\",code=~\"5..\"}"));
    // The latency SLO counts the bucket at its 2s threshold.
    assert!(text.contains(
        "(sum(rate(checkout_request_seconds_count{job=\"checkout\"}[1h])) - sum(rate(checkout_request_seconds_bucket{job=\"checkout\",le=~\"2|2\\\\.0\"}[1h]))) / sum(rate(checkout_request_seconds_count{job=\"checkout\"}[1h]))"
    ));
    assert!(text.contains("- alert: RegionDown"));
    assert!(!text.contains("HighLatency"));
    assert!(!text.contains("HighErrorRate4xx"));
    assert!(!text.contains("HighCPUUsage"));
    // No base URL: the runbook's path in the generated tree.
    assert!(text.contains("runbook_url: runbooks/RegionDown.md"));
    assert!(!text.contains("team:"));
    assert!(text.contains("# No CPU, memory or replica alerts"));
    assert!(text.contains("# `error_rate_4xx` alerts are switched off in the spec"));
    let rules = yaml(&dir.path().join("prometheus/rules/checkout.yml"));
    let ticket = |slo: &str| {
        rules["groups"][2]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["alert"] == "SLOErrorBudgetBurnTicket" && r["labels"]["slo"] == slo)
            .expect("ticket alert")
            .clone()
    };
    // The latency SLO's own tiers set its ticket; the availability SLO
    // keeps the defaults.
    assert_eq!(ticket("latency")["for"], "30m");
    assert_eq!(ticket("latency")["labels"]["severity"], "info");
    assert_eq!(ticket("availability")["for"], "15m");
    assert_eq!(ticket("availability")["labels"]["severity"], "warning");
}

#[test]
fn region_down_is_generated_tested_and_routed_to_oncall() {
    // App-Oint with one Prometheus scraping both regions' replicas, each
    // address one process.
    let text = std::fs::read_to_string(root().join("examples/app-oint/hardening.toml"))
        .expect("read App-Oint");
    let targets = "port = 5001\ntargets = { fra1 = [\"10.0.0.11:5001\", \"10.0.0.12:5001\"], nyc1 = [\"10.1.0.11:5001\", \"10.1.0.12:5001\"] }\n";
    assert!(text.contains("port = 5001\n"));
    let out = generate(&Spec::toml(text.replacen("port = 5001\n", targets, 1)));
    let alert = out.alert_rule("prometheus/rules/api.yml", "RegionDown");
    assert_eq!(alert["labels"]["severity"], "critical");
    let description = alert["annotations"]["description"].as_str().expect("text");
    for part in [
        "fra1 (primary) down: Route 53 answers api.app-oint.com with nyc1",
        "health check of /health",
        "within 150s: 3 checks 30s apart, then the 60s TTL; see dns/route53.json",
        "`dig +short api.app-oint.com` returns app-oint-nyc1-m4t9p.ondigitalocean.app",
        "nyc1 (secondary) down: api.app-oint.com stays on fra1, without a standby",
    ] {
        assert!(description.contains(part), "{part:?} not in {description}");
    }
    let tests =
        std::fs::read_to_string(out.path().join("prometheus/tests/api.test.yml")).expect("tests");
    assert!(tests.contains("RegionDown fires when all of fra1 is down"));
    if let Some(tool) = validator("promtool") {
        promtool(
            &tool,
            &["test", "rules"],
            &out.join("prometheus/tests/api.test.yml"),
        );
    }
    if let Some(amtool) = validator("amtool") {
        let labels = [
            "alertname=RegionDown",
            "severity=critical",
            "service=api",
            "team=backend",
            "region=fra1",
        ]
        .map(String::from);
        amtool_routes(&amtool, out.path(), "oncall,team-slack", &labels);
    }
}

/// `(alert, runbook_url)` of every alert in every rule file of `tree`, the
/// global rules (for the store's ruler) too.
fn alerts(tree: &Tree) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let files = ["prometheus/rules", "prometheus/global"]
        .into_iter()
        .flat_map(|dir| {
            tree.names_in(dir)
                .into_iter()
                .map(move |f| format!("{dir}/{f}"))
        });
    for file in files {
        let rules = tree.yaml(&file);
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
    for tree in examples_and_fixtures().iter().chain(&other_trees()) {
        let alerts = alerts(tree);
        assert!(!alerts.is_empty(), "{}", tree.name());
        let runbooks = tree.names_in("runbooks");
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
    let out = generate(&Spec::app_oint());
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
        text.contains("| api | critical | 2m | above 1.44% over 1h and 5m (14.4x the budget rate), or above 0.6% over 6h and 30m (6x the budget rate) | backend | [Grafana](<http://localhost:3001/d/harden-api>) | prometheus/rules/api.yml | availability: 99.9% of requests not answered with a 5xx |\n"),
        "{text}"
    );
    // A row per SLO: the latency SLO's threshold is its own budget's 14.4x.
    assert!(
        text.contains("| api | critical | 2m | above 72% over 1h and 5m (14.4x the budget rate), or above 30% over 6h and 30m (6x the budget rate) | backend | [Grafana](<http://localhost:3001/d/harden-api>) | prometheus/rules/api.yml | latency: 95% of requests answered within 500ms |\n"),
        "{text}"
    );
    // The only service is preset; the commands read it.
    assert!(text.contains("```sh\nSERVICE=api\n"), "{text}");
    // Routing from the model: critical pages oncall and tells Slack.
    assert!(
        text.contains("- api, owned by team backend: severity critical goes to oncall (PagerDuty), team-slack (Slack \\#app-oint-alerts)"),
        "{text}"
    );
    assert!(text.contains("kubectl -n app-oint rollout undo deployment/\"$SERVICE\"\n"));
    assert!(text.contains("docker compose logs --since 30m \"$SERVICE\" | tail -n 200\n"));
    assert!(text.contains("awk -v n=app-oint-fra1"));
    assert!(text.contains("scripts/auto-rollback.sh kubernetes"));
    // The SLOs' budgets differ, so no one budget is stated above the table.
    assert!(
        text.contains("The SLOs have different objectives"),
        "{text}"
    );
    assert!(!text.contains("an error budget of"), "{text}");
    let warning = std::fs::read_to_string(out.path().join("runbooks/ErrorBudgetExhausted.md"))
        .expect("runbook");
    assert!(
        warning.contains(
            "team-slack (Slack \\#app-oint-alerts), team-email (email to ops@app-oint.com)"
        )
    );
}

#[test]
fn operations_lists_only_what_the_spec_has() {
    let out = generate(&Spec::app_oint());
    let ops = std::fs::read_to_string(out.path().join("OPERATIONS.md")).expect("operations");
    for expected in [
        "## Weekly",
        "## Monthly",
        "## Quarterly",
        // every SLO's budget, with its service and slo label
        "query=sort(slo:error_budget:remaining)'",
        "\\(.metric.service)\\t\\(.metric.slo)\\t",
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
    let dir = generate(&Spec::toml(MINIMAL));
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

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_rules_tests_runbooks_and_operations_match_their_snapshot() {
    assert_example_snapshots("alerting");
}
