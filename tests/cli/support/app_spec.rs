//! The App Platform check: DigitalOcean's app spec (`.do/app.yaml`) as typed
//! models, written for this project from DigitalOcean's published App
//! Platform reference (the OpenAPI models of the public repository
//! digitalocean/openapi, `specification/resources/apps/models`, at commit
//! 7c1300c; `app_spec.yml` and what it refers to). No offline validator for
//! app specs exists in any package registry, so this is harden's own.
//!
//! It models the parts of the app spec harden writes, as strictly as the
//! reference allows: every object refuses an unknown field, every documented
//! value set is an enum, every required field is required, and the
//! documented limits (name patterns, ports, health-check and autoscaling
//! bounds) are checked. Top-level `alerts` and `envs` and the components'
//! `alerts` are in DigitalOcean's API (godo's `AppSpec`, `AppServiceSpec`,
//! `AppWorkerSpec`, `AppJobSpec`) but not in the OpenAPI models; they are
//! modelled from the alert and variable models. Parts harden never writes
//! (functions, git sources, CORS, log destinations, VPC, maintenance) are not
//! modelled and so are refused: model them here when harden starts writing
//! them. Deprecated instance sizes (`basic-*`, `professional-*`) are refused.

use std::path::Path;

use serde::Deserialize;

use super::read_tree;

// --- values with documented limits --------------------------------------------

/// An integer within the reference's `minimum`..=`maximum`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "i64")]
pub struct Int<const MIN: i64, const MAX: i64>(pub i64);

impl<const MIN: i64, const MAX: i64> TryFrom<i64> for Int<MIN, MAX> {
    type Error = String;
    fn try_from(value: i64) -> Result<Self, String> {
        if (MIN..=MAX).contains(&value) {
            Ok(Int(value))
        } else {
            Err(format!("{value} is outside {MIN}..={MAX}"))
        }
    }
}

/// A port, 1..=65535.
type Port = Int<1, 65535>;

/// A component, app or database name: `^[a-z][a-z0-9-]{0,30}[a-z0-9]$`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct Name(pub String);

impl TryFrom<String> for Name {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        let bytes = name.as_bytes();
        let ok = (2..=32).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes[bytes.len() - 1] != b'-';
        if ok {
            Ok(Name(name))
        } else {
            Err(format!(
                "name {name:?} does not match ^[a-z][a-z0-9-]{{0,30}}[a-z0-9]$"
            ))
        }
    }
}

/// An environment variable name: `^[_A-Za-z][_A-Za-z0-9]*$`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct EnvKey(pub String);

impl TryFrom<String> for EnvKey {
    type Error = String;
    fn try_from(key: String) -> Result<Self, String> {
        let ok = key
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && key.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
        if ok {
            Ok(EnvKey(key))
        } else {
            Err(format!(
                "env key {key:?} does not match ^[_A-Za-z][_A-Za-z0-9]*$"
            ))
        }
    }
}

/// A domain name: 4 to 253 characters, dot-separated labels of letters,
/// digits and inner hyphens, a top-level label of two or more letters.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct DomainName(pub String);

impl TryFrom<String> for DomainName {
    type Error = String;
    fn try_from(domain: String) -> Result<Self, String> {
        let name = domain.strip_suffix('.').unwrap_or(&domain);
        let labels: Vec<&str> = name.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let ok = (4..=253).contains(&domain.len())
            && labels.len() >= 2
            && labels.iter().all(label_ok)
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if ok {
            Ok(DomainName(domain))
        } else {
            Err(format!("{domain:?} is not a domain name"))
        }
    }
}

// --- the app --------------------------------------------------------------------

/// `app_spec.yml`, with the API's top-level `alerts` and `envs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub name: Name,
    pub region: Option<Region>,
    pub disable_edge_cache: Option<bool>,
    pub disable_email_obfuscation: Option<bool>,
    pub enhanced_threat_control_enabled: Option<bool>,
    #[serde(default)]
    pub domains: Vec<Domain>,
    #[serde(default)]
    pub alerts: Vec<Alert>,
    #[serde(default)]
    pub envs: Vec<Env>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub static_sites: Vec<StaticSite>,
    #[serde(default)]
    pub workers: Vec<Worker>,
    #[serde(default)]
    pub jobs: Vec<Job>,
    #[serde(default)]
    pub databases: Vec<Database>,
    pub ingress: Option<Ingress>,
    pub egress: Option<Egress>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Atl,
    Nyc,
    Sfo,
    Tor,
    Ams,
    Fra,
    Lon,
    Blr,
    Sgp,
    Syd,
}

/// `app_domain_spec.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub domain: DomainName,
    #[serde(rename = "type")]
    pub kind: Option<DomainType>,
    pub wildcard: Option<bool>,
    pub zone: Option<String>,
    pub minimum_tls_version: Option<TlsVersion>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DomainType {
    Unspecified,
    Default,
    Primary,
    Alias,
}

#[derive(Debug, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

// --- alerts and variables --------------------------------------------------------

/// `app_alert_spec.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    pub rule: AlertRule,
    pub disabled: Option<bool>,
    pub operator: Option<AlertOperator>,
    pub value: Option<f64>,
    pub window: Option<AlertWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertRule {
    UnspecifiedRule,
    CpuUtilization,
    MemUtilization,
    RestartCount,
    DeploymentFailed,
    DeploymentLive,
    DomainFailed,
    DomainLive,
    AutoscaleFailed,
    AutoscaleSucceeded,
    FunctionsActivationCount,
    FunctionsAverageDurationMs,
    FunctionsErrorRatePerMinute,
    FunctionsAverageWaitTimeMs,
    FunctionsErrorCount,
    FunctionsGbRatePerSecond,
    RequestsPerSecond,
    #[serde(rename = "REQUEST_DURATION_P95_MS")]
    RequestDurationP95Ms,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertOperator {
    UnspecifiedOperator,
    GreaterThan,
    LessThan,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertWindow {
    UnspecifiedWindow,
    FiveMinutes,
    TenMinutes,
    ThirtyMinutes,
    OneHour,
}

/// `app_variable_definition.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Env {
    pub key: EnvKey,
    pub scope: Option<EnvScope>,
    #[serde(rename = "type")]
    pub kind: Option<EnvType>,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnvScope {
    Unset,
    RunTime,
    BuildTime,
    RunAndBuildTime,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnvType {
    General,
    Secret,
}

// --- components ------------------------------------------------------------------

/// `apps_image_source_spec.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub registry: Option<String>,
    pub registry_type: Option<RegistryType>,
    pub registry_credentials: Option<String>,
    pub repository: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub deploy_on_push: Option<DeployOnPush>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistryType {
    DockerHub,
    Docr,
    Ghcr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployOnPush {
    pub enabled: Option<bool>,
}

/// The current sizes of `app_component_instance_base.yml`.
#[derive(Debug, Deserialize)]
pub enum InstanceSize {
    #[serde(rename = "apps-s-1vcpu-0.5gb")]
    S1Vcpu05Gb,
    #[serde(rename = "apps-s-1vcpu-1gb-fixed")]
    S1Vcpu1GbFixed,
    #[serde(rename = "apps-s-1vcpu-1gb")]
    S1Vcpu1Gb,
    #[serde(rename = "apps-s-1vcpu-2gb")]
    S1Vcpu2Gb,
    #[serde(rename = "apps-s-2vcpu-4gb")]
    S2Vcpu4Gb,
    #[serde(rename = "apps-d-1vcpu-0.5gb")]
    D1Vcpu05Gb,
    #[serde(rename = "apps-d-1vcpu-1gb")]
    D1Vcpu1Gb,
    #[serde(rename = "apps-d-1vcpu-2gb")]
    D1Vcpu2Gb,
    #[serde(rename = "apps-d-1vcpu-4gb")]
    D1Vcpu4Gb,
    #[serde(rename = "apps-d-2vcpu-4gb")]
    D2Vcpu4Gb,
    #[serde(rename = "apps-d-2vcpu-8gb")]
    D2Vcpu8Gb,
    #[serde(rename = "apps-d-4vcpu-8gb")]
    D4Vcpu8Gb,
    #[serde(rename = "apps-d-4vcpu-16gb")]
    D4Vcpu16Gb,
    #[serde(rename = "apps-d-8vcpu-32gb")]
    D8Vcpu32Gb,
}

/// A component: the fields of `app_component_base.yml` that harden's
/// components may carry (an image source, commands, variables), then the
/// component's own; unknown fields refused.
macro_rules! component {
    ($(#[$doc:meta])* $name:ident { $($(#[$attr:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub name: Name,
            pub image: Option<Image>,
            pub dockerfile_path: Option<String>,
            pub build_command: Option<String>,
            pub run_command: Option<String>,
            pub source_dir: Option<String>,
            #[serde(default)]
            pub envs: Vec<Env>,
            pub environment_slug: Option<String>,
            $($(#[$attr])* pub $field: $ty,)*
        }
    };
}

/// `instance_count` of `app_component_instance_base.yml`: 1 or more.
type InstanceCount = Option<Int<1, { i64::MAX }>>;

component! {
    /// `app_service_spec.yml` (with `app_component_base.yml` and
    /// `app_component_instance_base.yml`).
    Service {
        instance_count: InstanceCount,
        instance_size_slug: Option<InstanceSize>,
        autoscaling: Option<ServiceAutoscaling>,
        health_check: Option<ReadinessCheck>,
        liveness_health_check: Option<HealthCheck>,
        protocol: Option<Protocol>,
        http_port: Option<Port>,
        #[serde(default)]
        internal_ports: Vec<Port>,
        #[serde(default)]
        routes: Vec<Route>,
        termination: Option<ServiceTermination>,
        #[serde(default)]
        alerts: Vec<Alert>,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Http,
    Http2,
}

/// `app_route_spec.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub path: Option<String>,
    pub preserve_path_prefix: Option<bool>,
}

/// `app_service_spec_termination.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTermination {
    pub drain_seconds: Option<Int<1, 110>>,
    pub grace_period_seconds: Option<Int<1, 600>>,
}

/// `app_worker_spec_termination.yml`, `app_job_spec_termination.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Termination {
    pub grace_period_seconds: Option<Int<1, 600>>,
}

/// `app_service_spec_health_check.yml`: the readiness check, no documented bounds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessCheck {
    pub failure_threshold: Option<i32>,
    pub port: Option<Port>,
    pub http_path: Option<String>,
    pub initial_delay_seconds: Option<i32>,
    pub period_seconds: Option<i32>,
    pub success_threshold: Option<i32>,
    pub timeout_seconds: Option<i32>,
}

/// `app_health_check_spec.yml`: the liveness check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    pub failure_threshold: Option<Int<1, 50>>,
    pub port: Option<Port>,
    pub http_path: Option<String>,
    pub initial_delay_seconds: Option<Int<0, 3600>>,
    pub period_seconds: Option<Int<1, 300>>,
    pub success_threshold: Option<Int<1, 1>>,
    pub timeout_seconds: Option<Int<1, 120>>,
}

/// `app_autoscaling_spec_service.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAutoscaling {
    pub min_instance_count: Option<Int<1, { u32::MAX as i64 }>>,
    pub max_instance_count: Option<Int<1, 250>>,
    pub metrics: Option<ServiceMetrics>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceMetrics {
    pub cpu: Option<CpuMetric>,
    pub requests_per_second: Option<RequestsPerSecond>,
    pub request_duration: Option<RequestDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuMetric {
    pub percent: Option<Int<1, 100>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsPerSecond {
    pub per_instance: Option<Int<1, { u32::MAX as i64 }>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDuration {
    pub p95_milliseconds: Option<Int<1, { u32::MAX as i64 }>>,
}

/// `app_autoscaling_spec.yml`: a worker's, CPU only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    pub min_instance_count: Option<Int<1, { u32::MAX as i64 }>>,
    pub max_instance_count: Option<Int<1, 250>>,
    pub metrics: Option<CpuMetrics>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuMetrics {
    pub cpu: Option<CpuMetric>,
}

component! {
    /// `app_static_site_spec.yml`.
    StaticSite {
        index_document: Option<String>,
        error_document: Option<String>,
        catchall_document: Option<String>,
        output_dir: Option<String>,
        #[serde(default)]
        routes: Vec<Route>,
    }
}

component! {
    /// `app_worker_spec.yml`.
    Worker {
        instance_count: InstanceCount,
        instance_size_slug: Option<InstanceSize>,
        autoscaling: Option<Autoscaling>,
        termination: Option<Termination>,
        liveness_health_check: Option<HealthCheck>,
        #[serde(default)]
        alerts: Vec<Alert>,
    }
}

component! {
    /// `app_job_spec.yml`.
    Job {
        instance_count: InstanceCount,
        instance_size_slug: Option<InstanceSize>,
        kind: Option<JobKind>,
        termination: Option<Termination>,
        #[serde(default)]
        alerts: Vec<Alert>,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobKind {
    Unspecified,
    PreDeploy,
    PostDeploy,
    FailedDeploy,
}

/// `app_database_spec.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub name: Name,
    pub cluster_name: Option<String>,
    pub db_name: Option<String>,
    pub db_user: Option<String>,
    pub engine: Option<Engine>,
    pub production: Option<bool>,
    pub version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Engine {
    Unset,
    Mysql,
    Pg,
    Redis,
    Mongodb,
    Kafka,
    Opensearch,
    Valkey,
}

// --- ingress and egress -----------------------------------------------------------

/// `app_ingress_spec.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ingress {
    #[serde(default)]
    pub rules: Vec<IngressRule>,
    pub custom_error_page_url: Option<String>,
}

/// `app_ingress_spec_rule.yml`, CORS aside.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressRule {
    #[serde(rename = "match")]
    pub matches: Option<IngressMatch>,
    pub component: Option<IngressComponent>,
    pub redirect: Option<IngressRedirect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressMatch {
    pub path: Option<PrefixMatch>,
    pub authority: Option<ExactMatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixMatch {
    pub prefix: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExactMatch {
    pub exact: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressComponent {
    pub name: String,
    pub preserve_path_prefix: Option<String>,
    pub rewrite: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressRedirect {
    pub uri: Option<String>,
    pub authority: Option<String>,
    pub port: Option<i64>,
    pub scheme: Option<String>,
    pub redirect_code: Option<i64>,
}

/// `app_egress_spec.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    #[serde(rename = "type")]
    pub kind: Option<EgressType>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EgressType {
    Autoassign,
    DedicatedIp,
}

// --- the check ----------------------------------------------------------------------

/// Reads one app spec against the models: the parsed spec, or where and why
/// it does not conform.
pub fn app_spec(text: &str) -> Result<AppSpec, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

/// Every app spec of a tree (`.do/*.yaml`) conforms to the models.
#[track_caller]
pub fn app_specs_conform(name: &str, out: &Path) {
    let specs: Vec<(String, Vec<u8>)> = read_tree(out)
        .into_iter()
        .filter(|(p, _)| p.starts_with(".do/"))
        .collect();
    assert!(!specs.is_empty(), "{name}: no app spec");
    for (path, bytes) in specs {
        let text = String::from_utf8(bytes).expect("UTF-8");
        if let Err(e) = app_spec(&text) {
            panic!("{name}: {path} is not a valid App Platform app spec: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed example's app spec, changed by replacing `from` (which
    /// it must contain) with `to`.
    fn example_with(from: &str, to: &str) -> String {
        let path = super::super::root().join("examples/app-oint/.do/app-fra1.yaml");
        let text = std::fs::read_to_string(path).expect("the example's app spec");
        assert!(text.contains(from), "the example no longer has {from:?}");
        text.replacen(from, to, 1)
    }

    #[track_caller]
    fn refused(text: &str, expected: &str) {
        let error = app_spec(text).expect_err("refused");
        assert!(error.contains(expected), "{expected:?} not in: {error}");
    }

    #[test]
    fn the_example_app_spec_conforms() {
        let spec = app_spec(&example_with("", "")).expect("conforms");
        assert_eq!(spec.services.len(), 1);
        assert_eq!(spec.databases.len(), 2);
        assert!(matches!(spec.region, Some(Region::Fra)));
    }

    #[test]
    fn a_misspelt_field_is_refused() {
        refused(
            &example_with("    http_port: 5001", "    http_prot: 5001"),
            "unknown field `http_prot`",
        );
        refused(
            &example_with(
                "  - name: postgres\n",
                "  - name: postgres\n    engin: PG\n",
            ),
            "unknown field `engin`",
        );
    }

    #[test]
    fn a_wrong_enum_value_is_refused() {
        refused(
            &example_with("window: FIVE_MINUTES", "window: FIVE_MINUTE"),
            "unknown variant `FIVE_MINUTE`",
        );
        refused(
            &example_with(
                "instance_size_slug: apps-d-1vcpu-1gb",
                "instance_size_slug: basic-xxs",
            ),
            "unknown variant `basic-xxs`",
        );
        refused(
            &example_with("region: fra", "region: fra1"),
            "unknown variant `fra1`",
        );
    }

    #[test]
    fn a_missing_required_field_is_refused() {
        refused(
            &example_with("name: app-oint-fra1\n", ""),
            "missing field `name`",
        );
        refused(
            &example_with("  - domain: api.app-oint.com\n    type", "  - type"),
            "missing field `domain`",
        );
        refused(
            &example_with("      - key: JWT_SECRET\n        scope", "      - scope"),
            "missing field `key`",
        );
    }

    #[test]
    fn a_value_out_of_the_documented_limits_is_refused() {
        refused(
            &example_with("max_instance_count: 20", "max_instance_count: 251"),
            "251 is outside 1..=250",
        );
        refused(
            &example_with("percent: 80", "percent: 0"),
            "0 is outside 1..=100",
        );
        refused(
            &example_with("name: api\n", "name: Api\n"),
            "does not match",
        );
    }
}
