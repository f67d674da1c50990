//! `dns/route53.json`: a CloudFormation template for health-checked DNS
//! failover in Route 53. Per `[[dns.record]]`, an HTTPS health check on each
//! origin's health endpoint and two CNAME records of one name, `PRIMARY`
//! (the primary region) and `SECONDARY`, both with the spec's TTL. Route 53
//! answers with the primary while its health check passes.
//!
//! CloudFormation, not a bare `change-resource-record-sets` batch: a record
//! must name its health check's id, which exists only once the check is
//! created; a template references it (`Ref`) and deploys in one step
//! (`aws cloudformation deploy`). Built as typed values and serialized by
//! serde, so every value is JSON-escaped.

pub(crate) mod check;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::engine::{EmitError, Emitter, HEADER};
use crate::model::{Dns, DnsOrigin, DnsProvider, DnsRecord, Model};
use crate::output::FileMode;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    version: &'static str,
    description: String,
    resources: Resources,
}

/// Logical id → resource, in the order written.
struct Resources(Vec<(String, Resource)>);

impl Serialize for Resources {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (id, r) in &self.0 {
            map.serialize_entry(id, r)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    #[serde(rename = "Type")]
    type_: &'static str,
    properties: Properties,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Properties {
    HealthCheck(HealthCheck),
    RecordSet(RecordSet),
}

/// `AWS::Route53::HealthCheck`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HealthCheck {
    health_check_config: HealthCheckConfig,
    health_check_tags: Vec<Tag>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HealthCheckConfig {
    #[serde(rename = "Type")]
    type_: &'static str,
    fully_qualified_domain_name: String,
    port: u16,
    resource_path: String,
    request_interval: u32,
    failure_threshold: u32,
    #[serde(rename = "EnableSNI")]
    enable_sni: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: &'static str,
    value: String,
}

/// `AWS::Route53::RecordSet` with a failover routing policy.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RecordSet {
    hosted_zone_name: String,
    name: String,
    #[serde(rename = "Type")]
    type_: &'static str,
    /// CloudFormation takes the TTL as a string.
    #[serde(rename = "TTL")]
    ttl: String,
    set_identifier: String,
    failover: &'static str,
    health_check_id: Ref,
    resource_records: Vec<String>,
}

#[derive(Serialize)]
struct Ref {
    #[serde(rename = "Ref")]
    id: String,
}

#[derive(Serialize)]
struct Context {
    template: String,
}

/// The file harden writes for the provider.
pub fn path(dns: &Dns) -> &'static str {
    match dns.provider {
        DnsProvider::Route53 => "dns/route53.json",
    }
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(dns) = &model.dns else {
        return Ok(());
    };
    match dns.provider {
        DnsProvider::Route53 => route53(model, dns, out),
    }
}

fn route53(model: &Model, dns: &Dns, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let mut resources = Vec::new();
    for record in &dns.records {
        for (origin, failover) in [
            (&record.primary, "PRIMARY"),
            (&record.secondary, "SECONDARY"),
        ] {
            resources.extend(origin_resources(dns, record, origin, failover));
        }
    }
    let template = Template {
        version: "2010-09-09",
        description: format!(
            "{HEADER} DNS failover in {zone}: each name answers with its primary region while \
             that origin's health check passes, else with the secondary; clients follow within \
             {secs}s ({n} checks {interval}s apart, then the {ttl}s TTL). Deploy: aws \
             cloudformation deploy --stack-name {project}-dns --template-file {path}",
            zone = dns.zone,
            secs = dns.failover_secs(),
            n = dns.failure_threshold,
            interval = dns.health_check_interval,
            ttl = dns.ttl,
            project = model.project.name,
            path = path(dns),
        ),
        resources: Resources(resources),
    };
    let text = serde_json::to_string_pretty(&template).map_err(|e| EmitError::Render {
        name: "dns/route53.json.j2".into(),
        detail: e.to_string(),
    })?;
    out.render(
        path(dns),
        "dns/route53.json.j2",
        &Context { template: text },
        FileMode::Regular,
    )
}

/// The health check of one origin and the record that answers with it.
fn origin_resources(
    dns: &Dns,
    record: &DnsRecord,
    origin: &DnsOrigin,
    failover: &'static str,
) -> [(String, Resource); 2] {
    let check_id = format!("{}HealthCheck", origin.id);
    [
        (
            check_id.clone(),
            Resource {
                type_: "AWS::Route53::HealthCheck",
                properties: Properties::HealthCheck(HealthCheck {
                    health_check_config: HealthCheckConfig {
                        type_: "HTTPS",
                        fully_qualified_domain_name: origin.host.clone(),
                        port: 443,
                        resource_path: record.health_path.clone(),
                        request_interval: dns.health_check_interval,
                        failure_threshold: dns.failure_threshold,
                        enable_sni: true,
                    },
                    health_check_tags: vec![Tag {
                        key: "Name",
                        value: format!(
                            "{} {} ({})",
                            record.fqdn,
                            origin.region,
                            failover.to_ascii_lowercase()
                        ),
                    }],
                }),
            },
        ),
        (
            format!("{}Record", origin.id),
            Resource {
                type_: "AWS::Route53::RecordSet",
                properties: Properties::RecordSet(RecordSet {
                    hosted_zone_name: format!("{}.", dns.zone),
                    name: format!("{}.", record.fqdn),
                    type_: "CNAME",
                    ttl: dns.ttl.to_string(),
                    set_identifier: format!("{}-{}", record.name, origin.region),
                    failover,
                    health_check_id: Ref { id: check_id },
                    resource_records: vec![origin.host.clone()],
                }),
            },
        ),
    ]
}
