//! Route 53 failover, `dns/route53.json`: cfn-lint accepts the template
//! (and refuses a misspelt property), it fails the api over between the
//! regions with the spec's TTL and health check, and App-Oint's matches its
//! snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::support::*;

// --- (a) The real validator accepts every example and fixture -----------------

#[test]
fn route53_template_passes_cfn_lint_and_a_misspelt_property_does_not() {
    let Some(lint) = validator("cfn-lint") else {
        return;
    };
    for tree in generating("dns") {
        let result = cfn_lint(&lint, tree.path(), "dns/route53.json");
        assert_ok(&format!("cfn-lint ({})", tree.name()), &result);
    }
    let out = generate(&Spec::app_oint());
    let text = out.read("dns/route53.json");
    std::fs::write(
        out.join("bad.json"),
        text.replace("\"EnableSNI\"", "\"EnableSni\""),
    )
    .expect("write");
    let bad = cfn_lint(&lint, out.path(), "bad.json");
    assert!(!bad.status.success(), "cfn-lint passed a misspelt property");
    assert!(String::from_utf8_lossy(&bad.stdout).contains("EnableSni"));
}

// --- (b) The numbers in the files equal the model and the spec ----------------

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
    let out = generate(&Spec::app_oint());
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

// --- (c) The snapshot ---------------------------------------------------------

#[test]
fn app_oint_route53_template_matches_its_snapshot() {
    assert_example_snapshots("dns");
}
