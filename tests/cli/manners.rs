//! The command line's manners: `--quiet`, `validate --format json` and
//! `explain --format json` (exact, documented shapes), the spec found from
//! a subdirectory, and a stale `hardening.schema.json` flagged.

use std::fs;

use crate::support::*;

const SPEC: &str = "examples/app-oint/hardening.toml";

#[test]
fn quiet_prints_no_summary_but_still_the_errors() {
    // The starter spec: valid, no warnings.
    let dir = tempfile::tempdir().expect("tempdir");
    let quiet = |args: &[&str]| {
        let run = harden_in(dir.path(), args).success();
        assert_eq!(run.stderr, "", "{args:?}");
        run.stdout
    };
    assert_eq!(quiet(&["init", "--quiet"]), "");
    assert_eq!(quiet(&["generate", "-q"]), "");
    assert_eq!(quiet(&["validate", "-q"]), "");
    assert_eq!(quiet(&["-q", "diff"]), "");
    // The report asked for still comes out; its summary line does not.
    assert!(quiet(&["check", "-q"]).contains("Production Hardening Report"));
    // Without --quiet, the summaries.
    let run = harden_in(dir.path(), &["diff"]).success();
    assert!(
        run.stderr.contains("match hardening.toml"),
        "{}",
        run.stderr
    );
    // Errors and warnings are never quiet.
    let run = harden(&["validate", "tests/fixtures/invalid/bad-promql.toml", "-q"]).code(2);
    assert!(run.stderr.contains("does not parse"), "{}", run.stderr);
    let run = harden(&["validate", SPEC, "-q"]).success();
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("platform-backup-retention"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_json_has_the_documented_shape() {
    let run = harden(&["validate", SPEC, "--format", "json"]).success();
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        value,
        serde_json::json!({
            "spec": SPEC,
            "valid": true,
            "project": "app-oint",
            "services": 4,
            "http_services": 1,
            "receivers": 3,
            "problems": [{
                "level": "warning",
                "code": "platform-backup-retention",
                "message": "DigitalOcean keeps a managed PostgreSQL database's daily backups for 7 days; the spec asks for 14",
                "help": "harden adds an App Platform worker that runs pg_dump to `destination` and keeps 14 days; lower `retention_days` to 7 to rely on DigitalOcean's own backups alone",
                "line": example_line("retention_days = 14"),
                "column": 18,
            }],
        })
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("hardening.toml");
    fs::write(
        &spec,
        "[project]\nname = \"shop\"\n\n[[service]]\nname = \"api\"\nkind = \"http\"\nport = 99999\n",
    )
    .expect("write");
    let run = harden_in(dir.path(), &["validate", "--format", "json"]).code(2);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(value["spec"], "hardening.toml");
    assert_eq!(value["valid"], false);
    let problems = value["problems"].as_array().expect("problems");
    let port = problems
        .iter()
        .find(|p| p["line"] == 7)
        .unwrap_or_else(|| panic!("no problem on line 7: {problems:?}"));
    assert_eq!(port["level"], "error");
    assert_eq!(port["column"], 8);
    assert!(
        port["code"].is_string() && port["message"].is_string(),
        "{port}"
    );
    for p in problems {
        let mut keys: Vec<&str> = p
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["code", "column", "help", "level", "line", "message"]);
    }
}

#[test]
fn explain_json_is_the_text_in_numbers() {
    let run = harden(&["explain", SPEC, "--format", "json"]).success();
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("explain-app-oint-json", run.stdout);
    });
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let api = &value["services"][0];
    assert_eq!(api["service"], "api");
    let text = harden(&["explain", SPEC]).success().stdout;
    // Every tier of the text is in the JSON with the same numbers.
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let slos = api["slos"].as_array().expect("slos");
    let names: Vec<&str> = slos.iter().filter_map(|s| s["slo"].as_str()).collect();
    assert_eq!(names, ["availability", "latency", "latency-tail"]);
    let tiers = slos
        .iter()
        .flat_map(|s| s["tiers"].as_array().expect("tiers"));
    for tier in tiers {
        let alert = &tier["alert"];
        let expected = [
            tier["tier"].as_str().expect("tier").to_string(),
            tier["long"]["text"].as_str().expect("long").to_string(),
            tier["short"]["text"].as_str().expect("short").to_string(),
            format!("{}x", tier["burn"]),
            format!("{}%", tier["threshold_percent"]),
            format!("{}%", tier["budget_spent_percent"]),
            alert["for"]["text"].as_str().expect("for").to_string(),
            alert["fires_at_full_errors"]["text"]
                .as_str()
                .expect("fires")
                .to_string(),
            format!("{}%", alert["budget_spent_by_then_percent"]),
        ];
        assert!(
            rows.iter().any(|r| *r == expected),
            "{expected:?} not in\n{text}"
        );
    }
}

#[test]
fn every_command_finds_the_spec_from_a_subdirectory_and_says_where_it_looked() {
    let repo = tempfile::tempdir().expect("tempdir");
    fs::create_dir(repo.path().join(".git")).expect("mkdir .git");
    let deploy = repo.path().join("deploy");
    fs::create_dir(&deploy).expect("mkdir");
    let run = harden_in(&deploy, &["validate"]).code(2);
    for looked in [
        deploy.join("hardening.toml"),
        repo.path().join("hardening.toml"),
    ] {
        assert!(
            run.stderr.contains(&looked.display().to_string()),
            "{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("repository's root"), "{}", run.stderr);

    fs::copy(root().join(SPEC), deploy.join("hardening.toml")).expect("copy");
    harden_in(&deploy, &["generate", "-q"]).success();
    let sub = deploy.join("k8s/api");
    let run = harden_in(&sub, &["validate"]).success();
    assert!(
        run.stdout.starts_with("../../hardening.toml is valid"),
        "{}",
        run.stdout
    );
    harden_in(&sub, &["diff"]).success();
    harden_in(&sub, &["check", "-q"]).success();
    harden_in(&sub, &["explain"]).success();
    // generate writes beside the spec, not into the working directory.
    harden_in(&sub, &["generate", "-q"]).success();
    assert!(!sub.join("prometheus").exists());
    // init still writes into the working directory.
    harden_in(&sub, &["init", "-q"]).success();
    assert!(sub.join("hardening.toml").is_file());
}

#[test]
fn a_stale_schema_written_by_init_is_flagged_by_diff_and_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    harden_in(dir.path(), &["init", "-q"]).success();
    harden_in(dir.path(), &["generate", "-q"]).success();
    let schema_path = dir.path().join("hardening.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&schema_path).expect("schema")).expect("json");
    let id = schema["$id"].as_str().expect("$id").to_string();
    assert_eq!(
        id,
        format!(
            "urn:harden:hardening.schema.json:{}",
            env!("CARGO_PKG_VERSION")
        )
    );
    let run = harden_in(dir.path(), &["diff"]).success();
    assert!(!run.stderr.contains("stale"), "{}", run.stderr);

    // An older harden's schema: another version, and a key it did not know.
    let mut old = schema.clone();
    old["$id"] = "urn:harden:hardening.schema.json:0.0.1".into();
    old["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("generate");
    fs::write(
        &schema_path,
        serde_json::to_string_pretty(&old).expect("json"),
    )
    .expect("write");
    let run = harden_in(dir.path(), &["diff"]).success();
    assert!(
        run.stderr.contains("hardening.schema.json is stale"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("0.0.1"), "{}", run.stderr);
    assert!(run.stderr.contains("harden schema > "), "{}", run.stderr);
    let run = harden_in(dir.path(), &["check", "--format", "json"]).success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let warned = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .any(|c| c["status"] == "warn" && c["name"] == "spec warning harden::stale-schema");
    assert!(warned, "{report}");

    // A schema the user wrote (not harden's $id) is theirs: never flagged.
    old["$id"] = "https://example.com/my-schema.json".into();
    fs::write(
        &schema_path,
        serde_json::to_string_pretty(&old).expect("json"),
    )
    .expect("write");
    let run = harden_in(dir.path(), &["diff"]).success();
    assert!(!run.stderr.contains("stale"), "{}", run.stderr);
}
