//! Multi-region: every scrape target carries its region, each region's
//! cluster builds from its overlay and passes kubernetes-validate, RegionDown
//! is generated, tested and routed, and the Route 53 failover template
//! passes cfn-lint and says what the spec says.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use crate::common::*;
use crate::platforms::yaml;

const SPEC: &str = "examples/app-oint/hardening.toml";

fn app_oint() -> tempfile::TempDir {
    generate_example(&root().join(SPEC))
}

#[track_caller]
fn run_ok(what: &str, cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{what} runs: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{what} failed:\n{text}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_scrape_target_carries_a_project_region() {
    let out = app_oint();
    let config = yaml(&out.path().join("prometheus/prometheus.yml"));
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for job in config["scrape_configs"].as_array().expect("jobs") {
        let name = job["job_name"].as_str().expect("job name");
        for group in job["static_configs"].as_array().expect("groups") {
            let region = group["labels"]["region"]
                .as_str()
                .unwrap_or_else(|| panic!("job {name} has a target without a region: {group}"));
            assert!(["fra1", "nyc1"].contains(&region), "{name}: {region}");
            seen.entry(name.to_string())
                .or_default()
                .push(region.to_string());
        }
    }
    // The monitoring stack in the primary region; the api in both.
    assert_eq!(seen["prometheus"], ["fra1"]);
    assert_eq!(seen["alertmanager"], ["fra1"]);
    assert_eq!(seen["api"], ["fra1", "nyc1"]);
}

#[test]
fn region_down_is_generated_tested_and_routed_to_oncall() {
    let out = app_oint();
    let rules = yaml(&out.path().join("prometheus/rules/api.yml"));
    let alert = rules["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .find(|r| r["alert"] == "RegionDown")
        .expect("a RegionDown alert");
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
    if let Some(promtool) = validator("promtool") {
        run_ok(
            "promtool test rules",
            Command::new(promtool)
                .args(["test", "rules", "prometheus/tests/api.test.yml"])
                .current_dir(out.path()),
        );
    }
    if let Some(amtool) = validator("amtool") {
        let routed = run_ok(
            "amtool config routes test",
            Command::new(amtool)
                .args([
                    "config",
                    "routes",
                    "test",
                    "--config.file",
                    "alertmanager/alertmanager.yml",
                    "alertname=RegionDown",
                    "severity=critical",
                    "service=api",
                    "team=backend",
                    "region=fra1",
                ])
                .current_dir(out.path()),
        );
        assert_eq!(routed.trim(), "oncall,team-slack");
    }
}

/// `kubectl kustomize` of a region's overlay: the base with the region on
/// every object and pod template, selectors untouched.
#[test]
fn each_region_overlay_builds_and_passes_kubernetes_validate() {
    let (Some(kubectl), Some(validate)) = (validator("kubectl"), validator("kubernetes-validate"))
    else {
        return;
    };
    let out = app_oint();
    for region in ["fra1", "nyc1"] {
        let overlay = format!("k8s-regions/{region}");
        let built = run_ok(
            "kubectl kustomize",
            Command::new(&kubectl)
                .args(["kustomize", &overlay])
                .current_dir(out.path()),
        );
        let file = out.path().join(format!("{region}-built.yaml"));
        std::fs::write(&file, &built).expect("write");
        let text = run_ok(
            "kubernetes-validate",
            Command::new(&validate)
                .arg("--strict")
                .arg(&file)
                .current_dir(out.path()),
        );
        assert!(!text.contains("WARN"), "{region}: {text}");
        let docs: Vec<Value> = built
            .split("\n---\n")
            .map(|d| serde_saphyr::from_str(d).expect("a YAML object"))
            .collect();
        let base = read_tree(out.path())
            .into_iter()
            .filter(|(p, _)| p.starts_with("k8s/") && !p.ends_with("kustomization.yaml"))
            .count();
        assert_eq!(docs.len(), base, "{region}: every base object, once");
        for doc in &docs {
            let what = format!("{region}: {} {}", doc["kind"], doc["metadata"]["name"]);
            assert_eq!(doc["metadata"]["labels"]["region"], region, "{what}");
            if doc["kind"] == "Deployment" {
                let template = &doc["spec"]["template"]["metadata"]["labels"];
                assert_eq!(template["region"], region, "{what}");
                assert!(
                    doc["spec"]["selector"]["matchLabels"]
                        .get("region")
                        .is_none(),
                    "{what}: the selector changed"
                );
            }
        }
    }
}

// The CloudFormation shapes harden writes, from the template reference for
// AWS::Route53::HealthCheck and AWS::Route53::RecordSet. Unknown fields are
// refused, so a renamed or stray property fails here as well as in cfn-lint.

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    version: String,
    description: String,
    resources: BTreeMap<String, Resource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "Type", content = "Properties")]
enum Resource {
    #[serde(rename = "AWS::Route53::HealthCheck")]
    HealthCheck(HealthCheck),
    #[serde(rename = "AWS::Route53::RecordSet")]
    RecordSet(RecordSet),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct HealthCheck {
    health_check_config: HealthCheckConfig,
    health_check_tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct HealthCheckConfig {
    #[serde(rename = "Type")]
    type_: CheckType,
    fully_qualified_domain_name: String,
    port: u16,
    resource_path: String,
    request_interval: u32,
    failure_threshold: u32,
    #[serde(rename = "EnableSNI")]
    enable_sni: bool,
}

#[derive(Deserialize, Debug, PartialEq)]
#[allow(clippy::upper_case_acronyms)]
enum CheckType {
    HTTP,
    HTTPS,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct RecordSet {
    hosted_zone_name: String,
    name: String,
    #[serde(rename = "Type")]
    type_: String,
    #[serde(rename = "TTL")]
    ttl: String,
    set_identifier: String,
    failover: Failover,
    health_check_id: Ref,
    resource_records: Vec<String>,
}

#[derive(Deserialize, Debug, PartialEq, Clone, Copy)]
enum Failover {
    #[serde(rename = "PRIMARY")]
    Primary,
    #[serde(rename = "SECONDARY")]
    Secondary,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ref {
    #[serde(rename = "Ref")]
    id: String,
}

fn route53(out: &Path) -> Template {
    let text = std::fs::read_to_string(out.join("dns/route53.json")).expect("dns/route53.json");
    serde_json::from_str(&text).expect("the template's shape")
}

#[test]
fn route53_template_fails_api_over_from_fra1_to_nyc1_with_ttl_60() {
    let out = app_oint();
    let t = route53(out.path());
    assert_eq!(t.version, "2010-09-09");
    // CloudFormation's limit on a template description.
    assert!(t.description.len() <= 1024, "{}", t.description);
    assert!(
        t.description
            .contains("aws cloudformation deploy --stack-name app-oint-dns")
    );
    let mut records: Vec<(&RecordSet, &HealthCheckConfig)> = Vec::new();
    for r in t.resources.values() {
        let Resource::RecordSet(r) = r else { continue };
        let Some(Resource::HealthCheck(c)) = t.resources.get(&r.health_check_id.id) else {
            panic!("{} refers to no health check", r.set_identifier);
        };
        assert_eq!(c.health_check_tags[0].key, "Name");
        assert_eq!(
            c.health_check_tags[0].value,
            format!(
                "api.app-oint.com {} ({})",
                &r.set_identifier[4..],
                if r.failover == Failover::Primary {
                    "primary"
                } else {
                    "secondary"
                }
            )
        );
        records.push((r, &c.health_check_config));
    }
    records.sort_by_key(|(r, _)| r.failover as u8);
    let expected = [
        (
            Failover::Primary,
            "app-oint-fra1-7kq2x.ondigitalocean.app",
            "api-fra1",
        ),
        (
            Failover::Secondary,
            "app-oint-nyc1-m4t9p.ondigitalocean.app",
            "api-nyc1",
        ),
    ];
    assert_eq!(records.len(), expected.len());
    for ((r, c), (failover, host, id)) in records.iter().zip(expected) {
        assert_eq!(r.failover, failover);
        assert_eq!(r.hosted_zone_name, "app-oint.com.");
        assert_eq!(r.name, "api.app-oint.com.");
        assert_eq!(r.type_, "CNAME");
        assert_eq!(r.ttl, "60");
        assert_eq!(r.set_identifier, id);
        assert_eq!(r.resource_records, [host]);
        assert_eq!(c.type_, CheckType::HTTPS);
        assert_eq!(c.fully_qualified_domain_name, host);
        assert_eq!((c.port, c.resource_path.as_str()), (443, "/health"));
        assert!(c.enable_sni);
        assert_eq!((c.request_interval, c.failure_threshold), (30, 3));
    }
}

/// Each region's app answers for the failover name, or a failover would
/// land on an app that does not serve it.
#[test]
fn both_regions_apps_serve_the_failover_name() {
    let out = app_oint();
    for region in ["fra1", "nyc1"] {
        let app = yaml(&out.path().join(format!(".do/app-{region}.yaml")));
        assert_eq!(
            app["domains"],
            serde_json::json!([{ "domain": "api.app-oint.com", "type": "ALIAS" }]),
            "{region}"
        );
    }
}

#[test]
fn route53_template_passes_cfn_lint_and_a_misspelt_property_does_not() {
    let Some(lint) = validator("cfn-lint") else {
        return;
    };
    let out = app_oint();
    run_ok(
        "cfn-lint",
        Command::new(&lint)
            .arg("dns/route53.json")
            .current_dir(out.path()),
    );
    let text = std::fs::read_to_string(out.path().join("dns/route53.json")).expect("read");
    std::fs::write(
        out.path().join("bad.json"),
        text.replace("\"EnableSNI\"", "\"EnableSni\""),
    )
    .expect("write");
    let bad = Command::new(&lint)
        .arg("bad.json")
        .current_dir(out.path())
        .output()
        .expect("cfn-lint runs");
    assert!(!bad.status.success(), "cfn-lint passed a misspelt property");
    assert!(String::from_utf8_lossy(&bad.stdout).contains("EnableSni"));
}

/// One region: no overlays, no RegionDown, and `[dns]` is refused.
#[test]
fn a_single_region_project_gets_no_overlays() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("hardening.toml"),
        "[project]\nname = \"shop\"\nregions = [\"ams3\"]\n\n[[service]]\nname = \"api\"\nimage = \"shop/api:1\"\nport = 8080\n\n[platform.kubernetes]\n",
    )
    .expect("spec");
    harden_in(dir.path(), &["generate"]).success();
    assert!(!dir.path().join("k8s-regions").exists());
    assert!(!dir.path().join("dns").exists());
    let prom = yaml(&dir.path().join("prometheus/prometheus.yml"));
    for job in prom["scrape_configs"].as_array().expect("jobs") {
        assert_eq!(job["static_configs"][0]["labels"]["region"], "ams3");
    }
}
