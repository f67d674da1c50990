//! Spec → model: apply defaults, parse units, resolve references, and report
//! every semantic problem at once (the schema has already checked the shape).

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::codes::Code;
use crate::diagnostics::{Label, Problem, did_you_mean};
use crate::source::push_pointer;
use crate::spec::{self, ServiceKind};
use crate::units::{CpuQuantity, MemoryQuantity};

/// Builds the model, or returns every problem found.
/// Lowers a spec; on success, the model and the warnings (problems that do
/// not make the spec invalid). On failure, every problem, warnings included.
pub fn lower(spec: &spec::Spec) -> Result<(Model, Vec<Problem>), Vec<Problem>> {
    let mut cx = Lower {
        digitalocean: spec.platform.digitalocean.is_some(),
        ..Lower::default()
    };
    let project = cx.project(&spec.project);
    let services: Vec<Service> = spec
        .services
        .iter()
        .enumerate()
        .filter_map(|(i, s)| cx.service(&format!("/service/{i}"), s, &project))
        .collect();
    cx.unique_names(
        "/service",
        spec.services.iter().map(|s| s.name.as_str()),
        "service",
    );
    let monitoring = cx.monitoring(&spec.monitoring, &services);
    cx.port_conflicts(&monitoring, &spec.services);
    let alerting = cx.alerting(&spec.alerting, spec);
    let load_test = spec
        .load_test
        .as_ref()
        .and_then(|l| cx.load_test(l, &services));
    let rollback = spec
        .rollback
        .as_ref()
        .and_then(|r| cx.rollback(r, &alerting));
    let platforms = cx.platforms(&spec.platform, &project, &spec.services, &services);
    let dns = spec
        .dns
        .as_ref()
        .and_then(|d| cx.dns(d, &project, &services));
    let ci = spec.ci.as_ref().map(|c| cx.ci(c, load_test.as_ref()));
    if cx.problems.iter().any(|p| !p.is_warning()) {
        return Err(cx.problems);
    }
    let mut by_name: Vec<usize> = (0..services.len()).collect();
    by_name.sort_by(|&a, &b| services[a].name.cmp(&services[b].name));
    let model = Model {
        by_name,
        project,
        monitoring,
        services,
        alerting,
        load_test,
        rollback,
        platforms,
        dns,
        ci,
    };
    Ok((model, cx.problems))
}

/// Who a cache-only key applies to.
const REDIS_ONLY: &str = "Redis caches (kind = \"database\", engine = \"redis\")";
/// `maxmemory` without one in the spec or a memory limit to size it from.
const DEFAULT_MAXMEMORY: u64 = 256 << 20;
const DEFAULT_REDIS_CPU: &str = "100m";
/// Redis's own default `maxclients`.
const REDIS_MAXCLIENTS: u32 = 10_000;
/// The Redis image tag without a `version`: pinned, not `latest`.
const DEFAULT_REDIS_VERSION: &str = "7.4";
/// Pinned: the exporter's metric names are what the alerts query.
const REDIS_EXPORTER_IMAGE: &str = "oliver006/redis_exporter:v1.67.0";

#[derive(Default)]
struct Lower {
    problems: Vec<Problem>,
    /// Receiver secrets from variables by their platform name
    /// (`SecretRef::secret_name`), with where each was first named: two
    /// variables may not share one.
    secret_names: BTreeMap<String, (SecretRef, String)>,
    /// App Platform is on: databases are DigitalOcean managed ones.
    digitalocean: bool,
}

impl Lower {
    fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// A problem with the value at `pointer`.
    /// A URL that outputs extend with a path: a query or fragment would
    /// swallow that path.
    fn base_url(&mut self, pointer: &str, url: &str, suffix: &str) {
        if url.contains(['?', '#']) {
            self.invalid(
                pointer,
                format!("`{url}` has a query or fragment, but links append {suffix} to it"),
                "give the base URL only, without `?` or `#`",
            );
        }
    }

    fn invalid(&mut self, pointer: &str, message: impl Into<String>, help: impl Into<String>) {
        self.report(
            Problem::new(Code::InvalidValue, message)
                .with_label(Label::value(pointer, "here"))
                .with_help(help),
        );
    }

    fn duration(&mut self, pointer: &str, value: &spec::DurationStr) -> Option<Duration> {
        match Duration::parse(value.as_str()) {
            Ok(d) if d.is_zero() => {
                self.invalid(
                    pointer,
                    "a duration here must be longer than zero",
                    "use a duration such as 30s or 5m",
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.invalid(
                    pointer,
                    format!("invalid duration {:?}", value.as_str()),
                    e.to_string(),
                );
                None
            }
        }
    }

    /// An optional duration with a default.
    fn duration_or(
        &mut self,
        pointer: &str,
        value: Option<&spec::DurationStr>,
        default_secs: u32,
    ) -> Duration {
        value
            .and_then(|v| self.duration(pointer, v))
            .unwrap_or(Duration::secs(default_secs))
    }

    fn percent(&mut self, pointer: &str, value: &spec::PercentStr) -> Option<Percent> {
        match Percent::parse(value.as_str()) {
            Ok(p) => Some(p),
            Err(e) => {
                self.invalid(
                    pointer,
                    format!("invalid percentage {:?}", value.as_str()),
                    e.to_string(),
                );
                None
            }
        }
    }

    /// A key set where it does not apply.
    fn not_applicable(&mut self, pointer: &str, key: &str, applies_to: &str) {
        self.report(
            Problem::new(
                Code::KeyNotApplicable,
                format!("`{key}` does not apply here"),
            )
            .with_label(Label::key(
                push_pointer(pointer, key),
                format!("only for {applies_to}"),
            ))
            .with_help(format!("remove `{key}`, or change the kind of this table")),
        );
    }

    /// A key required in this context.
    fn missing(&mut self, pointer: &str, key: &str, why: &str, example: &str) {
        self.report(
            Problem::new(Code::MissingKey, format!("{why} needs `{key}`"))
                .with_label(Label::key(pointer, format!("`{key}` is missing here")))
                .with_help(format!("add `{key} = {example}`")),
        );
    }

    /// A name that must refer to something defined elsewhere.
    fn reference<'a>(
        &mut self,
        pointer: &str,
        name: &str,
        what: &str,
        defined: impl IntoIterator<Item = &'a str> + Clone,
    ) -> bool {
        if defined.clone().into_iter().any(|d| d == name) {
            return true;
        }
        let known: Vec<&str> = defined.into_iter().collect();
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if known.is_empty() => format!("define a {what} first"),
            None => format!("the {what}s defined are: {}", known.join(", ")),
        };
        self.report(
            Problem::new(
                Code::UndefinedReference,
                format!("no {what} is named `{name}`"),
            )
            .with_label(Label::value(pointer, format!("not a defined {what}")))
            .with_help(help),
        );
        false
    }

    /// Reports every name that appears twice under `pointer/<i>/name`.
    fn unique_names<'a>(
        &mut self,
        pointer: &str,
        names: impl Iterator<Item = &'a str>,
        what: &str,
    ) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            match first.get(name) {
                Some(&j) => self.report(
                    Problem::new(
                        Code::DuplicateName,
                        format!("two {what}s are named `{name}`"),
                    )
                    .with_label(Label::value(
                        format!("{pointer}/{i}/name"),
                        "defined again here",
                    ))
                    .with_label(Label::value(
                        format!("{pointer}/{j}/name"),
                        "first defined here",
                    ))
                    .with_help(format!("give each {what} its own name")),
                ),
                None => {
                    first.insert(name, i);
                }
            }
        }
    }

    fn project(&mut self, p: &spec::Project) -> Project {
        let regions: Vec<String> = p
            .regions
            .iter()
            .flatten()
            .map(|r| r.as_str().to_string())
            .collect();
        let mut seen = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            if let Some(j) = seen.insert(r.as_str(), i) {
                self.report(
                    Problem::new(Code::DuplicateName, format!("region `{r}` is listed twice"))
                        .with_label(Label::value(
                            format!("/project/regions/{i}"),
                            "listed again here",
                        ))
                        .with_label(Label::value(
                            format!("/project/regions/{j}"),
                            "first listed here",
                        ))
                        .with_help("list each region once, primary first"),
                );
            }
        }
        if let Some(url) = &p.runbook_url {
            self.base_url("/project/runbook_url", url.as_str(), "`/<alert name>.md`");
        }
        Project {
            name: p.name.as_str().to_string(),
            environment: p
                .environment
                .as_ref()
                .map_or("production", |e| e.as_str())
                .to_string(),
            regions,
            runbook_url: p
                .runbook_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_string()),
        }
    }

    fn monitoring(&mut self, m: &spec::Monitoring, services: &[Service]) -> Monitoring {
        let scrape_interval = self.duration_or(
            "/monitoring/scrape_interval",
            m.scrape_interval.as_ref(),
            15,
        );
        let scrape_timeout = self.duration_or(
            "/monitoring/scrape_timeout",
            m.scrape_timeout.as_ref(),
            10.min(
                u32::try_from(scrape_interval.as_secs())
                    .unwrap_or(u32::MAX)
                    .max(1),
            ),
        );
        if scrape_timeout > scrape_interval {
            self.invalid(
                "/monitoring/scrape_timeout",
                format!("scrape_timeout {scrape_timeout} is longer than scrape_interval {scrape_interval}"),
                "Prometheus needs the timeout to be at most the interval",
            );
        }
        let evaluation_interval = self.duration_or(
            "/monitoring/evaluation_interval",
            m.evaluation_interval.as_ref(),
            15,
        );
        let longest_window = services
            .iter()
            .filter_map(|s| s.http()?.slo.as_ref().map(|slo| slo.window))
            .max();
        let retention = match m.retention.as_ref() {
            Some(r) => {
                let retention = self.duration("/monitoring/retention", r);
                if let (Some(r), Some(w)) = (retention, longest_window)
                    && r < w
                {
                    self.invalid(
                        "/monitoring/retention",
                        format!("retention {r} is shorter than the longest SLO window, {w}"),
                        format!("keep at least {w} of data, or the SLO window's ratios cannot be computed"),
                    );
                }
                retention.unwrap_or(Duration::secs(15 * 86_400))
            }
            None => longest_window
                .unwrap_or(Duration::secs(0))
                .max(Duration::secs(15 * 86_400)),
        };
        let grafana_port = m.grafana_port.map_or(3000, |p| p.0);
        if let Some(url) = &m.grafana_url {
            self.base_url("/monitoring/grafana_url", url.as_str(), "`/d/<dashboard>`");
        }
        Monitoring {
            prometheus_port: m.prometheus_port.map_or(9090, |p| p.0),
            grafana_port,
            alertmanager_port: m.alertmanager_port.map_or(9093, |p| p.0),
            scrape_interval,
            scrape_timeout,
            evaluation_interval,
            retention,
            grafana_url: m
                .grafana_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://localhost:{grafana_port}")),
        }
    }

    /// Two things on one port would collide in Compose, where all share a host.
    fn port_conflicts(&mut self, m: &Monitoring, services: &[spec::Service]) {
        let mut taken: BTreeMap<u16, (String, Option<String>)> = BTreeMap::new();
        let fixed = [
            (
                "prometheus",
                "/monitoring/prometheus_port",
                m.prometheus_port,
            ),
            ("grafana", "/monitoring/grafana_port", m.grafana_port),
            (
                "alertmanager",
                "/monitoring/alertmanager_port",
                m.alertmanager_port,
            ),
        ];
        for (name, pointer, port) in fixed {
            if let Some((other, _)) =
                taken.insert(port, (name.to_string(), Some(pointer.to_string())))
            {
                self.port_clash(pointer, port, name, &other);
            }
        }
        for (i, s) in services.iter().enumerate() {
            let Some(port) = s.port else { continue };
            let pointer = format!("/service/{i}/port");
            if let Some((other, _)) = taken.get(&port.0) {
                let other = other.clone();
                self.port_clash(&pointer, port.0, s.name.as_str(), &other);
            } else {
                taken.insert(port.0, (s.name.as_str().to_string(), Some(pointer)));
            }
        }
    }

    fn port_clash(&mut self, pointer: &str, port: u16, name: &str, other: &str) {
        self.report(
            Problem::new(
                Code::PortConflict,
                format!("port {port} is used by both {other} and {name}"),
            )
            .with_label(Label::value(pointer, "already taken"))
            .with_help("give each service and each monitoring component its own port"),
        );
    }

    fn service(&mut self, pointer: &str, s: &spec::Service, project: &Project) -> Option<Service> {
        let applies = |kinds: &[ServiceKind]| kinds.contains(&s.kind);
        use ServiceKind::*;
        let kind_name = match s.kind {
            Http => "http services",
            Static => "static sites",
            Database => "databases",
        };
        let _ = kind_name;
        // Keys that only some kinds take.
        let keyed: [(&str, bool, &[ServiceKind], &str); 20] = [
            ("image", s.image.is_some(), &[Http], "http services"),
            (
                "port",
                s.port.is_some(),
                &[Http, Database],
                "http services and databases",
            ),
            ("endpoints", s.endpoints.is_some(), &[Http], "http services"),
            ("replicas", s.replicas.is_some(), &[Http], "http services"),
            (
                "resources",
                s.resources.is_some(),
                &[Http, Database],
                "http services and Redis caches",
            ),
            ("metrics", s.metrics.is_some(), &[Http], "http services"),
            ("targets", s.targets.is_some(), &[Http], "http services"),
            ("probes", s.probes.is_some(), &[Http], "http services"),
            ("slo", s.slo.is_some(), &[Http], "http services"),
            (
                "autoscaling",
                s.autoscaling.is_some(),
                &[Http],
                "http services",
            ),
            ("alerts", s.alerts.is_some(), &[Http], "http services"),
            (
                "min_available",
                s.min_available.is_some(),
                &[Http],
                "http services",
            ),
            ("secrets", s.secrets.is_some(), &[Http], "http services"),
            (
                "business_metric",
                !s.business_metrics.is_empty(),
                &[Http],
                "http services",
            ),
            (
                "build",
                s.build.is_some(),
                &[Static],
                "static sites (kind = \"static\")",
            ),
            (
                "backup",
                s.backup.is_some(),
                &[Database],
                "databases (kind = \"database\")",
            ),
            ("maxmemory", s.maxmemory.is_some(), &[Database], REDIS_ONLY),
            (
                "eviction_policy",
                s.eviction_policy.is_some(),
                &[Database],
                REDIS_ONLY,
            ),
            ("password", s.password.is_some(), &[Database], REDIS_ONLY),
            (
                "persistence",
                s.persistence.is_some(),
                &[Database],
                REDIS_ONLY,
            ),
        ];
        let mut ok = true;
        for (key, set, kinds, what) in keyed {
            if set && !applies(kinds) {
                self.not_applicable(pointer, key, what);
                ok = false;
            }
        }
        for (key, set) in [
            ("engine", s.engine.is_some()),
            ("version", s.version.is_some()),
        ] {
            if set && !applies(&[Database]) {
                self.not_applicable(pointer, key, "databases (kind = \"database\")");
                ok = false;
            }
        }
        let workload = match s.kind {
            Http => self
                .http_service(pointer, s, project)
                .map(|h| Workload::Http(Box::new(h))),
            Static => match &s.build {
                Some(b) => Some(Workload::Static(StaticSite {
                    build_command: b.command.as_ref().map(|c| c.as_str().to_string()),
                    output_dir: b.output_dir.as_str().trim_end_matches('/').to_string(),
                })),
                None => {
                    self.missing(
                        pointer,
                        "build",
                        "a static site",
                        "{ output_dir = \"build/web\" }",
                    );
                    None
                }
            },
            Database => self.database(pointer, s, project).map(Workload::Database),
        };
        if !ok {
            return None;
        }
        Some(Service {
            name: s.name.as_str().to_string(),
            team: s.team.as_ref().map(|t| t.as_str().to_string()),
            workload: workload?,
        })
    }

    fn http_service(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        project: &Project,
    ) -> Option<HttpService> {
        let image = s.image.as_ref().map(|i| i.as_str().to_string());
        if image.is_none() {
            self.missing(
                pointer,
                "image",
                "an http service",
                "\"registry.example.com/app/api:1.0.0\"",
            );
        }
        let port = s.port.map(|p| p.0);
        if port.is_none() {
            self.missing(pointer, "port", "an http service", "8080");
        }
        let e = s.endpoints.as_ref();
        let path = |p: Option<&spec::UrlPath>, default: &str| {
            p.map_or(default, |p| p.as_str()).to_string()
        };
        let endpoints = Endpoints {
            health: path(e.and_then(|e| e.health.as_ref()), "/health"),
            liveness: path(e.and_then(|e| e.liveness.as_ref()), "/liveness"),
            readiness: path(e.and_then(|e| e.readiness.as_ref()), "/readiness"),
            metrics: path(e.and_then(|e| e.metrics.as_ref()), "/metrics"),
        };
        // Prometheus takes `metrics_path` as a decoded path and escapes it:
        // a `?` (query parameters go in `params`) or a `%` escape would
        // scrape a path that does not exist.
        if endpoints.metrics.contains(['?', '%']) {
            self.invalid(
                &format!("{pointer}/endpoints/metrics"),
                format!(
                    "the metrics path `{}` has a query or a %-escape, which Prometheus would escape again as part of the path",
                    endpoints.metrics
                ),
                "expose the metrics on a plain path without `?` or `%`, such as /metrics",
            );
        }
        if endpoints.liveness == endpoints.readiness {
            self.report(
                Problem::new(Code::ProbeOverlap, "liveness and readiness use the same endpoint")
                    .with_label(Label::value(format!("{pointer}/endpoints/liveness"), "liveness"))
                    .with_label(Label::value(format!("{pointer}/endpoints/readiness"), "readiness"))
                    .with_help("liveness must only say the process is alive; a shared endpoint that checks dependencies restarts healthy pods when a dependency fails"),
            );
        }
        let resources = s
            .resources
            .as_ref()
            .and_then(|r| self.resources(&format!("{pointer}/resources"), r));
        let scaling = self.scaling(pointer, s, resources.is_some(), s.resources.as_ref());
        let m = s.metrics.as_ref();
        let metrics = MetricNames {
            requests: m
                .and_then(|m| m.requests.as_ref())
                .map_or("http_requests_total", |n| n.as_str())
                .to_string(),
            duration: m
                .and_then(|m| m.duration.as_ref())
                .map_or("http_request_duration_seconds", |n| n.as_str())
                .to_string(),
            status_label: m
                .and_then(|m| m.status_label.as_ref())
                .map_or("status", |n| n.as_str())
                .to_string(),
        };
        let targets = self.targets(pointer, s, port, project);
        let probes = self.probes(
            &format!("{pointer}/probes"),
            s.probes.as_ref(),
            port,
            &endpoints.health,
        );
        let slo = s
            .slo
            .as_ref()
            .and_then(|slo| self.slo(&format!("{pointer}/slo"), slo));
        let alerts = s
            .alerts
            .as_ref()
            .map(|a| self.alert_overrides(&format!("{pointer}/alerts"), a))
            .unwrap_or_default();
        let business_metrics = self.business_metrics(pointer, &s.business_metrics);
        let alert_rules = self.alert_rules(
            pointer,
            &alerts,
            slo.as_ref(),
            scaling.as_ref(),
            resources.is_some(),
            &targets,
        );
        let disruption = match (s.min_available, &scaling) {
            (None, _) => Disruption::MaxUnavailable(1),
            (Some(n), Some(scaling)) if n >= scaling.min_replicas() => {
                let min = scaling.min_replicas();
                let (label, help) = match scaling {
                    Scaling::Auto(_) => (
                        format!("{pointer}/autoscaling/min_replicas"),
                        "the autoscaler may run this few replicas",
                    ),
                    Scaling::Fixed { .. } => (
                        format!("{pointer}/replicas"),
                        "the service runs this many replicas",
                    ),
                };
                let mut problem = Problem::new(
                    Code::PdbBlocksDrains,
                    format!("min_available ({n}) is not below the minimum replica count ({min}): no node running this service could ever be drained"),
                )
                .with_label(Label::value(format!("{pointer}/min_available"), "pods that must stay up"));
                if s.replicas.is_some() || s.autoscaling.is_some() {
                    problem = problem.with_label(Label::value(label, help));
                }
                self.report(problem.with_help(format!(
                    "set min_available to at most {}, raise the minimum replicas, or remove min_available (at most one pod down at a time)",
                    min.saturating_sub(1)
                )));
                Disruption::MinAvailable(n)
            }
            (Some(n), _) => Disruption::MinAvailable(n),
        };
        let secrets: Vec<String> = s
            .secrets
            .iter()
            .flatten()
            .map(|v| v.as_str().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        Some(HttpService {
            image: image?,
            port: port?,
            endpoints,
            scaling: scaling?,
            resources,
            metrics,
            targets,
            probes,
            slo,
            alerts,
            alert_rules,
            business_metrics,
            disruption,
            secrets,
        })
    }

    /// The alerts of one HTTP service: every kind that applies, with the
    /// spec's overrides applied and disabled ones left out.
    fn alert_rules(
        &mut self,
        pointer: &str,
        overrides: &BTreeMap<AlertKind, AlertOverride>,
        slo: Option<&Slo>,
        scaling: Option<&Scaling>,
        has_resources: bool,
        targets: &[Target],
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let mut add = |kind: AlertKind,
                       name: String,
                       slo: Option<SloKind>,
                       tier: Option<Tier>,
                       percentile: Option<Decimal>| {
            let o = overrides.get(&kind);
            if o.is_some_and(|o| !o.enabled) {
                return;
            }
            out.push(Alert {
                kind,
                name,
                severity: o
                    .and_then(|o| o.severity)
                    .unwrap_or(kind.default_severity()),
                for_: o.and_then(|o| o.for_).unwrap_or(kind.default_for()),
                slo,
                tier,
                percentile,
            });
        };
        if let Some(slo) = slo {
            for (kind, tier, name) in [
                (AlertKind::SloBurnPage, Tier::Page, "SLOErrorBudgetBurnPage"),
                (
                    AlertKind::SloBurnTicket,
                    Tier::Ticket,
                    "SLOErrorBudgetBurnTicket",
                ),
            ] {
                if slo.burn_rates.iter().any(|b| b.tier == tier) {
                    add(
                        kind,
                        name.to_string(),
                        Some(SloKind::Availability),
                        Some(tier),
                        None,
                    );
                }
            }
            if slo.error_rate_5xx.is_some() {
                add(
                    AlertKind::ErrorRate5xx,
                    "HighErrorRate5xx".into(),
                    Some(SloKind::Errors),
                    None,
                    None,
                );
            }
            if slo.error_rate_4xx.is_some() {
                add(
                    AlertKind::ErrorRate4xx,
                    "HighErrorRate4xx".into(),
                    Some(SloKind::Errors),
                    None,
                    None,
                );
            }
            for l in &slo.latency {
                let name = record::percentile_name(l.percentile).replacen('p', "P", 1);
                add(
                    AlertKind::Latency,
                    format!("HighLatency{name}"),
                    Some(SloKind::Latency),
                    None,
                    Some(l.percentile),
                );
            }
        }
        add(AlertKind::TargetDown, "TargetDown".into(), None, None, None);
        add(
            AlertKind::MetricsAbsent,
            "MetricsAbsent".into(),
            None,
            None,
            None,
        );
        if let Some(Scaling::Auto(a)) = scaling {
            if has_resources && a.cpu_percent.is_some() {
                add(AlertKind::CpuHigh, "HighCPUUsage".into(), None, None, None);
            }
            if has_resources && a.memory_percent.is_some() {
                add(
                    AlertKind::MemoryHigh,
                    "HighMemoryUsage".into(),
                    None,
                    None,
                    None,
                );
            }
            add(
                AlertKind::ReplicasAtMax,
                "ReplicasAtMaximum".into(),
                None,
                None,
                None,
            );
        }
        let mut regions: Vec<&str> = targets.iter().filter_map(|t| t.region.as_deref()).collect();
        regions.dedup();
        if regions.len() >= 2 {
            add(AlertKind::RegionDown, "RegionDown".into(), None, None, None);
        }
        // A burn tier whose threshold is 100% errors or more can never fire.
        if let Some(slo) = slo {
            for b in &slo.burn_rates {
                let enabled = out.iter().any(|a| a.tier == Some(b.tier));
                if enabled && b.threshold >= Decimal::ONE {
                    let key = match b.tier {
                        Tier::Page => "slo_burn_page",
                        Tier::Ticket => "slo_burn_ticket",
                    };
                    self.invalid(
                        &format!("{pointer}/slo/availability"),
                        format!(
                            "this objective leaves so much error budget that the {} tier's {}/{} threshold ({}× the budget) is {} of requests failing: the alert could never fire",
                            b.tier.as_str(),
                            b.long,
                            b.short,
                            b.factor,
                            percent_of(b.threshold),
                        ),
                        format!("raise the objective, or set `alerts.{key}.enabled = false`"),
                    );
                    break;
                }
            }
        }
        out
    }

    fn resources(&mut self, pointer: &str, r: &spec::Resources) -> Option<Resources> {
        let cpu = self.quantity(
            &format!("{pointer}/cpu"),
            CpuQuantity::parse(r.cpu.as_str()),
        );
        let memory = self.quantity(
            &format!("{pointer}/memory"),
            MemoryQuantity::parse(r.memory.as_str()),
        );
        let cpu_limit = r.cpu_limit.as_ref().and_then(|c| {
            self.quantity(
                &format!("{pointer}/cpu_limit"),
                CpuQuantity::parse(c.as_str()),
            )
        });
        let memory_limit = r.memory_limit.as_ref().and_then(|m| {
            self.quantity(
                &format!("{pointer}/memory_limit"),
                MemoryQuantity::parse(m.as_str()),
            )
        });
        let (cpu, memory) = (cpu?, memory?);
        if let Some(limit) = &cpu_limit
            && limit.millicores() < cpu.millicores()
        {
            self.invalid(
                &format!("{pointer}/cpu_limit"),
                "the CPU limit is below the CPU request",
                "set cpu_limit at least as high as cpu",
            );
        }
        if let Some(limit) = &memory_limit
            && limit.bytes() < memory.bytes()
        {
            self.invalid(
                &format!("{pointer}/memory_limit"),
                "the memory limit is below the memory request",
                "set memory_limit at least as high as memory",
            );
        }
        Some(Resources {
            cpu_millis: cpu.millicores(),
            cpu: cpu.to_string(),
            memory_bytes: memory.bytes(),
            memory: memory.to_string(),
            cpu_limit_millis: cpu_limit.as_ref().map(|c| c.millicores()),
            cpu_limit: cpu_limit.map(|c| c.to_string()),
            memory_limit_bytes: memory_limit.as_ref().unwrap_or(&memory).bytes(),
            memory_limit: memory_limit.unwrap_or(memory).to_string(),
        })
    }

    fn quantity<T, E: std::fmt::Display>(
        &mut self,
        pointer: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed
            .map_err(|e| self.invalid(pointer, "invalid resource quantity", e.to_string()))
            .ok()
    }

    fn scaling(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        has_resources: bool,
        resources: Option<&spec::Resources>,
    ) -> Option<Scaling> {
        let Some(a) = &s.autoscaling else {
            return Some(Scaling::Fixed {
                replicas: s.replicas.unwrap_or(1),
            });
        };
        let at = format!("{pointer}/autoscaling");
        if s.replicas.is_some() {
            self.report(
                Problem::new(Code::ConflictingKeys, "`replicas` and `autoscaling` cannot both be set")
                    .with_label(Label::key(format!("{pointer}/replicas"), "a fixed count"))
                    .with_label(Label::key(at.clone(), "an autoscaler"))
                    .with_help("remove `replicas`: the autoscaler owns the replica count between min_replicas and max_replicas"),
            );
        }
        if a.min_replicas > a.max_replicas {
            self.report(
                Problem::new(
                    Code::OutOfRange,
                    format!(
                        "min_replicas ({}) is above max_replicas ({})",
                        a.min_replicas, a.max_replicas
                    ),
                )
                .with_label(Label::value(format!("{at}/min_replicas"), "minimum"))
                .with_label(Label::value(format!("{at}/max_replicas"), "maximum"))
                .with_help("make min_replicas at most max_replicas"),
            );
        }
        if a.cpu_percent.is_none() && a.memory_percent.is_none() {
            self.missing(&at, "cpu_percent", "autoscaling", "80");
        }
        // Utilization targets are percentages of the requests: without
        // requests an autoscaler silently never scales.
        if (a.cpu_percent.is_some() || a.memory_percent.is_some()) && resources.is_none() {
            self.report(
                Problem::new(
                    Code::MissingKey,
                    "autoscaling on utilization needs resource requests",
                )
                .with_label(Label::key(
                    at.clone(),
                    "scales on a percentage of the requests",
                ))
                .with_help(
                    "add `resources = { cpu = \"500m\", memory = \"512Mi\" }` to the service",
                ),
            );
        }
        let _ = has_resources;
        let scale_down_window = self.duration_or(
            &format!("{at}/scale_down_window"),
            a.scale_down_window.as_ref(),
            300,
        );
        Some(Scaling::Auto(Autoscaling {
            min_replicas: a.min_replicas,
            max_replicas: a.max_replicas,
            cpu_percent: a.cpu_percent,
            memory_percent: a.memory_percent,
            scale_down_window,
        }))
    }

    fn targets(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        port: Option<u16>,
        project: &Project,
    ) -> Vec<Target> {
        let Some(targets) = &s.targets else {
            return vec![Target {
                region: project.primary_region().map(str::to_string),
                address: format!("{}:{}", s.name.as_str(), port.unwrap_or(0)),
            }];
        };
        let at = format!("{pointer}/targets");
        for region in targets.keys() {
            self.reference(
                &push_pointer(&at, region),
                region,
                "region",
                project.regions.iter().map(String::as_str),
            );
        }
        // Primary region first, then the others in the project's order.
        let mut out = Vec::new();
        for region in &project.regions {
            for address in targets.get(region).into_iter().flatten() {
                out.push(Target {
                    region: Some(region.clone()),
                    address: address.as_str().to_string(),
                });
            }
        }
        if out.is_empty() {
            self.invalid(
                &at,
                "no scrape targets are listed",
                "list at least one `host:port` for a region",
            );
        }
        out
    }

    fn probes(
        &mut self,
        pointer: &str,
        p: Option<&spec::Probes>,
        port: Option<u16>,
        health: &str,
    ) -> Probes {
        let interval = self.duration_or(
            &format!("{pointer}/interval"),
            p.and_then(|p| p.interval.as_ref()),
            10,
        );
        let timeout = self.duration_or(
            &format!("{pointer}/timeout"),
            p.and_then(|p| p.timeout.as_ref()),
            3,
        );
        if timeout > interval {
            self.invalid(
                &format!("{pointer}/timeout"),
                format!("probe timeout {timeout} is longer than the interval {interval}"),
                "make the timeout shorter than the interval",
            );
        }
        let startup_grace = self.duration_or(
            &format!("{pointer}/startup_grace"),
            p.and_then(|p| p.startup_grace.as_ref()),
            30,
        );
        let command = match p.and_then(|p| p.command.as_ref()) {
            Some(c) if c.is_empty() => {
                self.invalid(&format!("{pointer}/command"), "the health-check command is empty", "give the command and its arguments, such as [\"wget\", \"-qO-\", \"http://localhost:8080/health\"]");
                Vec::new()
            }
            Some(c) => c.iter().map(|a| a.as_str().to_string()).collect(),
            None => vec![
                "wget".into(),
                "-q".into(),
                "-O".into(),
                "/dev/null".into(),
                format!("http://localhost:{}{health}", port.unwrap_or(0)),
            ],
        };
        let failure_threshold = p.and_then(|p| p.failure_threshold).unwrap_or(3);
        let interval_secs = ceil_secs(interval).max(1);
        let startup_grace_secs = ceil_secs(startup_grace);
        Probes {
            interval,
            timeout,
            failure_threshold,
            startup_grace,
            command,
            interval_secs,
            timeout_secs: ceil_secs(timeout).max(1),
            startup_grace_secs,
            startup_failure_threshold: startup_grace_secs
                .div_ceil(interval_secs)
                .max(u64::from(failure_threshold)),
        }
    }

    fn slo(&mut self, pointer: &str, s: &spec::Slo) -> Option<Slo> {
        let window = self.duration_or(&format!("{pointer}/window"), s.window.as_ref(), 30 * 86_400);
        if window < Duration::secs(86_400) {
            self.invalid(
                &format!("{pointer}/window"),
                "an SLO window must be at least 1d",
                "use the period the objective is promised over, such as 28d or 30d",
            );
        }
        let availability = s.availability.as_ref().and_then(|a| {
            let at = format!("{pointer}/availability");
            let p = self.percent(&at, a)?;
            if p.value() >= Decimal::HUNDRED || p.value() == Decimal::ZERO {
                self.invalid(
                    &at,
                    format!("an availability objective of {p} leaves no error budget to alert on"),
                    "use an objective above 0% and below 100%, such as \"99.9%\"",
                );
                return None;
            }
            self.alert_precision(&at, p)
        });
        let rate = |cx: &mut Self, key: &str, v: &Option<spec::PercentStr>| {
            let at = format!("{pointer}/{key}");
            let p = cx.percent(&at, v.as_ref()?)?;
            if p.value() == Decimal::ZERO || p.value() >= Decimal::HUNDRED {
                cx.invalid(
                    &at,
                    format!("an error-rate threshold of {p} can never alert usefully"),
                    "use a threshold above 0% and below 100%, such as \"1%\"",
                );
                return None;
            }
            cx.alert_precision(&at, p)
        };
        let error_rate_5xx = rate(self, "error_rate_5xx", &s.error_rate_5xx);
        let error_rate_4xx = rate(self, "error_rate_4xx", &s.error_rate_4xx);
        let mut latency = Vec::new();
        for (i, l) in s.latency.iter().enumerate() {
            let at = format!("{pointer}/latency/{i}");
            let percentile = Decimal::parse(&l.percentile.to_string()).ok();
            let Some(percentile) = percentile.filter(|p| *p < Decimal::HUNDRED) else {
                self.invalid(
                    &format!("{at}/percentile"),
                    "a latency percentile must be above 0 and below 100",
                    "use a percentile such as 95 or 99.9",
                );
                continue;
            };
            let Some(quantile) = percentile.checked_div_exact(Decimal::HUNDRED) else {
                continue;
            };
            if latency
                .iter()
                .any(|o: &LatencyObjective| o.percentile == percentile)
            {
                self.invalid(
                    &format!("{at}/percentile"),
                    format!("p{percentile} has two objectives"),
                    "keep one threshold per percentile",
                );
                continue;
            }
            if let Some(threshold) = self.duration(&format!("{at}/threshold"), &l.threshold) {
                latency.push(LatencyObjective {
                    percentile,
                    quantile,
                    threshold,
                });
            }
        }
        latency.sort_by_key(|o| o.percentile);
        let burn_rates = availability
            .and_then(|a| burn_rates(window, Decimal::ONE.checked_sub(a.fraction())?))
            .unwrap_or_default();
        Some(Slo {
            window,
            availability,
            latency,
            error_rate_5xx,
            error_rate_4xx,
            burn_rates,
        })
    }

    /// Alert thresholds become request counts in the generated promtool
    /// tests, which must stay exact as floats: at most four decimal places.
    fn alert_precision(&mut self, pointer: &str, p: Percent) -> Option<Percent> {
        if p.value().scale() > 4 {
            self.invalid(
                pointer,
                format!("{p} has more decimal places than alerting can use"),
                "use at most four decimal places, such as \"99.9999%\"",
            );
            return None;
        }
        Some(p)
    }

    fn alert_overrides(
        &mut self,
        pointer: &str,
        a: &spec::AlertOverrides,
    ) -> BTreeMap<AlertKind, AlertOverride> {
        let entries = [
            (AlertKind::SloBurnPage, "slo_burn_page", &a.slo_burn_page),
            (
                AlertKind::SloBurnTicket,
                "slo_burn_ticket",
                &a.slo_burn_ticket,
            ),
            (AlertKind::ErrorRate5xx, "error_rate_5xx", &a.error_rate_5xx),
            (AlertKind::ErrorRate4xx, "error_rate_4xx", &a.error_rate_4xx),
            (AlertKind::Latency, "latency", &a.latency),
            (AlertKind::TargetDown, "target_down", &a.target_down),
            (
                AlertKind::MetricsAbsent,
                "metrics_absent",
                &a.metrics_absent,
            ),
            (AlertKind::CpuHigh, "cpu_high", &a.cpu_high),
            (AlertKind::MemoryHigh, "memory_high", &a.memory_high),
            (
                AlertKind::ReplicasAtMax,
                "replicas_at_max",
                &a.replicas_at_max,
            ),
            (AlertKind::RegionDown, "region_down", &a.region_down),
        ];
        let mut out = BTreeMap::new();
        for (kind, key, o) in entries {
            let Some(o) = o else { continue };
            let at = format!("{pointer}/{key}/for");
            let for_ = o.for_.as_ref().and_then(|f| self.duration(&at, f));
            out.insert(
                kind,
                AlertOverride {
                    enabled: o.enabled.unwrap_or(true),
                    for_,
                    severity: o.severity,
                },
            );
        }
        out
    }

    fn business_metrics(
        &mut self,
        pointer: &str,
        metrics: &[spec::BusinessMetric],
    ) -> Vec<BusinessMetric> {
        self.unique_names(
            &format!("{pointer}/business_metric"),
            metrics.iter().map(|m| m.name.as_str()),
            "business metric",
        );
        let mut out = Vec::new();
        for (i, m) in metrics.iter().enumerate() {
            let at = format!("{pointer}/business_metric/{i}/expr");
            if let Err(e) = promql_parser::parser::parse(m.expr.as_str()) {
                self.report(
                    Problem::new(Code::InvalidPromql, "the PromQL expression does not parse")
                        .with_label(Label::value(at, first_line(&e)))
                        .with_help("fix the expression; try it in Prometheus's expression browser"),
                );
                continue;
            }
            out.push(BusinessMetric {
                name: m.name.as_str().to_string(),
                title: m
                    .title
                    .as_ref()
                    .map_or(m.name.as_str(), |t| t.as_str())
                    .to_string(),
                expr: m.expr.as_str().to_string(),
                unit: m.unit.as_ref().map_or("short", |u| u.as_str()).to_string(),
            });
        }
        out
    }

    fn database(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        project: &Project,
    ) -> Option<Database> {
        let Some(engine) = s.engine else {
            self.missing(pointer, "engine", "a database", "\"postgres\"");
            return None;
        };
        let mut redis = None;
        if engine == DatabaseEngine::Redis {
            redis = Some(Box::new(self.redis(pointer, s, project)?));
        } else {
            let mut ok = true;
            for (key, set) in [
                ("resources", s.resources.is_some()),
                ("maxmemory", s.maxmemory.is_some()),
                ("eviction_policy", s.eviction_policy.is_some()),
                ("password", s.password.is_some()),
                ("persistence", s.persistence.is_some()),
            ] {
                if set {
                    self.report(
                        Problem::new(
                            Code::KeyNotApplicable,
                            format!("`{key}` does not apply here"),
                        )
                        .with_label(Label::key(
                            push_pointer(pointer, key),
                            format!("only for {REDIS_ONLY}"),
                        ))
                        .with_help(format!(
                            "remove `{key}`: this database's engine is not Redis"
                        )),
                    );
                    ok = false;
                }
            }
            if !ok {
                return None;
            }
        }
        let default_port = match engine {
            DatabaseEngine::Postgres => 5432,
            DatabaseEngine::Mysql => 3306,
            DatabaseEngine::Redis => 6379,
        };
        let backup = s
            .backup
            .as_ref()
            .and_then(|b| self.backup(&format!("{pointer}/backup"), s, engine, b))
            .map(Box::new);
        Some(Database {
            engine,
            version: s.version.as_ref().map(|v| v.as_str().to_string()),
            port: s.port.map_or(default_port, |p| p.0),
            backup,
            redis,
        })
    }

    /// A Redis cache: `maxmemory` and the container's memory sized
    /// together, so Redis evicts before the kernel kills it.
    fn redis(&mut self, pointer: &str, s: &spec::Service, project: &Project) -> Option<Redis> {
        let persistence = s.persistence.unwrap_or(false);
        // Share of the memory limit `maxmemory` may take. Without
        // persistence the rest covers fragmentation and client buffers;
        // with it, a background rewrite forks and may copy every page.
        let (max_share, default_share) = if persistence { (50, 50) } else { (90, 75) };
        let maxmemory_at = format!("{pointer}/maxmemory");
        let maxmemory = match &s.maxmemory {
            Some(m) => Some(self.quantity(&maxmemory_at, MemoryQuantity::parse(m.as_str()))?),
            None => None,
        };
        let resources = match &s.resources {
            Some(r) => self.resources(&format!("{pointer}/resources"), r)?,
            None => {
                // The limit that gives `maxmemory` at most its default
                // share, rounded up to 64Mi; requested in full (Redis's memory is
                // not burstable), with a small CPU request and no CPU limit.
                let max = maxmemory.map_or(DEFAULT_MAXMEMORY, |m| m.bytes());
                let limit_mi = (u128::from(max) * 100)
                    .div_ceil(default_share * (64 << 20))
                    .max(1)
                    * 64;
                let memory = MemoryQuantity::parse(&format!("{limit_mi}Mi")).ok()?;
                let cpu = CpuQuantity::parse(DEFAULT_REDIS_CPU).ok()?;
                Resources {
                    cpu_millis: cpu.millicores(),
                    cpu: cpu.to_string(),
                    memory: memory.to_string(),
                    memory_bytes: memory.bytes(),
                    cpu_limit: None,
                    cpu_limit_millis: None,
                    memory_limit: memory.to_string(),
                    memory_limit_bytes: memory.bytes(),
                }
            }
        };
        let limit = u128::from(resources.memory_limit_bytes);
        let maxmemory_bytes = match maxmemory {
            Some(m) => {
                if u128::from(m.bytes()) * 100 > limit * max_share {
                    let why = if persistence {
                        "with persistence, a background rewrite forks and can copy every page"
                    } else {
                        "the rest holds fragmentation, client buffers and Redis itself"
                    };
                    self.invalid(
                        &maxmemory_at,
                        format!(
                            "maxmemory {m} is more than {max_share}% of the memory limit {}: the kernel would kill Redis before it evicts",
                            resources.memory_limit
                        ),
                        format!(
                            "lower maxmemory to at most {max_share}% of the limit, or raise resources.memory_limit ({why})"
                        ),
                    );
                    return None;
                }
                m.bytes()
            }
            None if s.resources.is_some() => {
                u64::try_from(limit * default_share / 100).unwrap_or(u64::MAX)
            }
            None => DEFAULT_MAXMEMORY,
        };
        let password = match &s.password {
            Some(p) => match self.secret(&format!("{pointer}/password"), p)? {
                SecretRef::File(_) => {
                    self.invalid(
                        &format!("{pointer}/password/file"),
                        "a Redis password is read from an environment variable, not a file",
                        "write `password = { env = \"REDIS_PASSWORD\" }`: Compose and Kubernetes pass it to Redis and its exporter as a secret",
                    );
                    return None;
                }
                env => Some(env),
            },
            None => None,
        };
        let policy = s.eviction_policy.unwrap_or(EvictionPolicy::AllkeysLru);
        let name = s.name.as_str();
        let alert = |kind, name: &str, severity, for_secs, threshold: Option<Decimal>| CacheAlert {
            kind,
            name: name.to_string(),
            severity,
            for_: Duration::secs(for_secs),
            threshold,
        };
        let ninety = Decimal::from_parts(9, 1);
        let mut alert_rules = vec![alert(
            CacheAlertKind::Down,
            "RedisDown",
            Severity::Critical,
            120,
            None,
        )];
        if !policy.evicts_any_key() {
            alert_rules.push(alert(
                CacheAlertKind::MemoryHigh,
                "RedisMemoryHigh",
                Severity::Warning,
                600,
                ninety,
            ));
        }
        alert_rules.push(alert(
            CacheAlertKind::TooManyClients,
            "RedisTooManyClients",
            Severity::Warning,
            300,
            ninety,
        ));
        alert_rules.push(alert(
            CacheAlertKind::RejectedConnections,
            "RedisRejectedConnections",
            Severity::Warning,
            0,
            None,
        ));
        Some(Redis {
            image: format!(
                "redis:{}",
                s.version
                    .as_ref()
                    .map_or(DEFAULT_REDIS_VERSION, |v| v.as_str())
            ),
            exporter_image: REDIS_EXPORTER_IMAGE.to_string(),
            maxmemory: MemoryQuantity::parse(&maxmemory_bytes.to_string())
                .map_or_else(|_| maxmemory_bytes.to_string(), |m| m.to_string()),
            maxmemory_bytes,
            eviction_policy: policy,
            maxclients: REDIS_MAXCLIENTS,
            password,
            persistence,
            storage: persistence.then(|| {
                MemoryQuantity::parse(&(resources.memory_limit_bytes.saturating_mul(2)).to_string())
                    .map_or_else(|_| resources.memory_limit.clone(), |m| m.to_string())
            }),
            resources,
            target: Target {
                region: project.primary_region().map(str::to_string),
                address: format!("{name}:{REDIS_EXPORTER_PORT}"),
            },
            alert_rules,
        })
    }

    fn backup(
        &mut self,
        pointer: &str,
        s: &spec::Service,
        engine: DatabaseEngine,
        b: &spec::Backup,
    ) -> Option<Backup> {
        if engine != DatabaseEngine::Postgres {
            self.report(
                Problem::new(
                    Code::NotSupported,
                    "backups are generated for PostgreSQL databases only",
                )
                .with_label(Label::key(pointer, "pg_dump backs up PostgreSQL only"))
                .with_help("remove `backup`, or back this database up with its own tools"),
            );
            return None;
        }
        let (schedule, cron, interval, offset) = match b.schedule.as_str() {
            "hourly" => (BackupSchedule::Hourly, "0 * * * *", 3_600, 0),
            "daily" => (BackupSchedule::Daily, "0 3 * * *", 86_400, 3 * 3_600),
            // The epoch was a Thursday: Sunday 03:00 is 3 days and 3 hours into its week.
            _ => (
                BackupSchedule::Weekly,
                "0 3 * * 0",
                7 * 86_400,
                3 * 86_400 + 3 * 3_600,
            ),
        };
        let interval_ms = interval * 1000;
        let destination = match b.destination.as_ref().map(|d| d.as_str()) {
            Some(d) if d.starts_with("s3://") => BackupDestination::S3(d.to_string()),
            Some(d) => BackupDestination::Dir(d.trim_end_matches('/').to_string()),
            None => BackupDestination::Dir("/backups".to_string()),
        };
        let version = s
            .version
            .as_ref()
            .map_or(DEFAULT_POSTGRES_VERSION, |v| v.as_str());
        let image = b
            .image
            .as_ref()
            .map_or_else(|| format!("postgres:{version}"), |i| i.as_str().to_string());
        if b.image.is_none() && matches!(destination, BackupDestination::S3(_)) {
            self.report(
                Problem::warning(
                    Code::BackupImageWithoutAws,
                    format!("the default backup image {image} has no `aws` CLI to upload to S3"),
                )
                .with_label(Label::value(
                    format!("{pointer}/destination"),
                    "an S3 destination needs the aws CLI",
                ))
                .with_help(
                    "build backup/Dockerfile (generated), push it, and name it in `image` in `backup`",
                ),
            );
        }
        let mut digitalocean_job = false;
        let mut do_image_ = None;
        if self.digitalocean && b.retention_days > DIGITALOCEAN_BACKUP_RETENTION_DAYS {
            digitalocean_job = true;
            self.report(
                    Problem::warning(
                        Code::PlatformBackupRetention,
                        format!(
                            "DigitalOcean keeps a managed PostgreSQL database's daily backups for {} days; the spec asks for {}",
                            DIGITALOCEAN_BACKUP_RETENTION_DAYS, b.retention_days
                        ),
                    )
                    .with_label(Label::value(
                        format!("{pointer}/retention_days"),
                        format!(
                            "{} days here, {} on DigitalOcean",
                            b.retention_days, DIGITALOCEAN_BACKUP_RETENTION_DAYS
                        ),
                    ))
                    .with_help(format!(
                        "harden adds an App Platform worker that runs pg_dump to `destination` and keeps {} days; lower `retention_days` to {} to rely on DigitalOcean's own backups alone",
                        b.retention_days, DIGITALOCEAN_BACKUP_RETENTION_DAYS
                    )),
                );
            if let BackupDestination::Dir(_) = destination {
                self.report(
                        Problem::new(
                            Code::BackupDestinationEphemeral,
                            "an App Platform worker has no persistent disk for a backup directory",
                        )
                        .with_label(Label::key(
                            pointer,
                            "the DigitalOcean backup job needs an s3:// destination",
                        ))
                        .with_help(
                            "add `destination = \"s3://<space>/<prefix>\"` (a DigitalOcean Space; AWS_ENDPOINT_URL names its endpoint)",
                        ),
                    );
            }
            if b.image.is_none() {
                self.report(
                        Problem::new(
                            Code::BackupImageNeeded,
                            "App Platform's backup worker needs an image that holds scripts/backup.sh",
                        )
                        .with_label(Label::key(pointer, "`image` is missing here"))
                        .with_help("build backup/Dockerfile (generated), push it to your registry, and add `image = \"registry.digitalocean.com/<registry>/postgres-backup:<version>\"`"),
                    );
            }
            do_image_ = do_image(&image);
            if b.image.is_some() && do_image_.is_none() {
                self.report(
                    Problem::new(
                        Code::ImageRegistry,
                        format!("App Platform cannot pull the backup image {image}"),
                    )
                    .with_label(Label::value(
                        format!("{pointer}/image"),
                        "not on DOCR, Docker Hub or GHCR",
                    ))
                    .with_help(
                        "push the image to registry.digitalocean.com, Docker Hub or ghcr.io",
                    ),
                );
            }
        }
        Some(Backup {
            schedule,
            cron: cron.to_string(),
            interval: Duration::from_millis(interval_ms),
            offset: Duration::from_millis(offset * 1000),
            stale_after: Duration::from_millis(interval_ms + interval_ms / 4),
            retention_days: b.retention_days,
            destination,
            restore_check: b.restore_check.as_ref().map_or_else(
                || DEFAULT_RESTORE_CHECK.to_string(),
                |c| c.as_str().to_string(),
            ),
            image,
            do_image: do_image_,
            digitalocean_job,
        })
    }

    fn alerting(&mut self, a: &spec::Alerting, spec: &spec::Spec) -> Alerting {
        self.unique_names(
            "/alerting/receiver",
            a.receivers.iter().map(|r| r.name.as_str()),
            "receiver",
        );
        let receivers: Vec<Receiver> = a
            .receivers
            .iter()
            .enumerate()
            .filter_map(|(i, r)| self.receiver(&format!("/alerting/receiver/{i}"), r))
            .collect();
        let names: Vec<&str> = a.receivers.iter().map(|r| r.name.as_str()).collect();
        let services: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
        let mut routes = Vec::new();
        for (i, r) in a.routes.iter().enumerate() {
            let at = format!("/alerting/route/{i}");
            for (j, name) in r.receivers.iter().enumerate() {
                self.reference(
                    &format!("{at}/receivers/{j}"),
                    name.as_str(),
                    "receiver",
                    names.iter().copied(),
                );
            }
            if let Some(service) = &r.service {
                self.reference(
                    &format!("{at}/service"),
                    service.as_str(),
                    "service",
                    services.iter().copied(),
                );
            }
            if r.severity.is_none() && r.service.is_none() && r.team.is_none() {
                self.report(
                    Problem::new(Code::MissingKey, "this route matches every alert")
                        .with_label(Label::key(at.clone(), "no severity, service or team"))
                        .with_help("add `severity`, `service` or `team`; for alerts no route matches, set `alerting.default_receiver`"),
                );
            }
            routes.push(Route {
                severity: r.severity,
                service: r.service.as_ref().map(|s| s.as_str().to_string()),
                team: r.team.as_ref().map(|t| t.as_str().to_string()),
                receivers: r.receivers.iter().map(|n| n.as_str().to_string()).collect(),
                continue_: r.continue_.unwrap_or(false),
            });
        }
        let default_receiver = match &a.default_receiver {
            Some(d) => {
                self.reference(
                    "/alerting/default_receiver",
                    d.as_str(),
                    "receiver",
                    names.iter().copied(),
                );
                Some(d.as_str().to_string())
            }
            None => names.first().map(|n| n.to_string()),
        };
        if !routes.is_empty() && receivers.is_empty() && a.receivers.is_empty() {
            self.missing(
                "/alerting",
                "receiver",
                "routing alerts",
                "[{ name = \"team-slack\", type = \"slack\", … }]",
            );
        }
        let group_by = a
            .group_by
            .as_ref()
            .map(|g| g.iter().map(|l| l.as_str().to_string()).collect())
            .unwrap_or_else(|| vec!["alertname".to_string(), "service".to_string()]);
        Alerting {
            group_by,
            group_wait: self.duration_or("/alerting/group_wait", a.group_wait.as_ref(), 30),
            group_interval: self.duration_or(
                "/alerting/group_interval",
                a.group_interval.as_ref(),
                300,
            ),
            repeat_interval: self.duration_or(
                "/alerting/repeat_interval",
                a.repeat_interval.as_ref(),
                4 * 3600,
            ),
            default_receiver,
            receivers,
            routes,
        }
    }

    fn receiver(&mut self, pointer: &str, r: &spec::Receiver) -> Option<Receiver> {
        use ReceiverType::*;
        let fields: [(&str, bool, ReceiverType); 11] = [
            ("channel", r.channel.is_some(), Slack),
            ("webhook_url", r.webhook_url.is_some(), Slack),
            ("to", r.to.is_some(), Email),
            ("from", r.from.is_some(), Email),
            ("smarthost", r.smarthost.is_some(), Email),
            ("username", r.username.is_some(), Email),
            ("password", r.password.is_some(), Email),
            ("require_tls", r.require_tls.is_some(), Email),
            ("routing_key", r.routing_key.is_some(), Pagerduty),
            ("url", r.url.is_some(), Webhook),
            ("token", r.token.is_some(), Webhook),
        ];
        let type_name = |t: ReceiverType| match t {
            Slack => "slack receivers",
            Email => "email receivers",
            Pagerduty => "pagerduty receivers",
            Webhook => "webhook receivers",
        };
        let mut ok = true;
        for (key, set, only) in fields {
            if set && r.type_ != only {
                self.not_applicable(pointer, key, type_name(only));
                ok = false;
            }
        }
        let mut need = |cx: &mut Self, key: &str, set: bool, example: &str| {
            if !set {
                cx.missing(
                    pointer,
                    key,
                    type_name(r.type_).trim_end_matches('s'),
                    example,
                );
                ok = false;
            }
        };
        let channel = match r.type_ {
            Slack => {
                need(self, "channel", r.channel.is_some(), "\"#alerts\"");
                need(
                    self,
                    "webhook_url",
                    r.webhook_url.is_some(),
                    "{ env = \"SLACK_WEBHOOK_URL\" }",
                );
                let webhook = r
                    .webhook_url
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/webhook_url"), s));
                match (&r.channel, webhook) {
                    (Some(c), Some(w)) => Some(ReceiverChannel::Slack {
                        channel: c.as_str().to_string(),
                        webhook_url: w,
                    }),
                    _ => None,
                }
            }
            Email => {
                need(self, "to", r.to.is_some(), "\"ops@example.com\"");
                need(self, "from", r.from.is_some(), "\"alerts@example.com\"");
                need(
                    self,
                    "smarthost",
                    r.smarthost.is_some(),
                    "\"smtp.example.com:587\"",
                );
                let password = r
                    .password
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/password"), s));
                let username = match &r.username {
                    Some(spec::Credential::Plain(t)) => Some(t.as_str().to_string()),
                    Some(spec::Credential::Secret(_)) => {
                        // Alertmanager has `auth_password_file` but no
                        // `auth_username_file`, and expands no variables.
                        self.report(
                            Problem::new(
                                Code::UnreadableSecret,
                                "Alertmanager cannot read the SMTP user name from the environment or a file",
                            )
                            .with_label(Label::value(format!("{pointer}/username"), "named, not written"))
                            .with_help("write the user name itself, `username = \"alerts@example.com\"`; it is not a secret (the password stays one)"),
                        );
                        None
                    }
                    None => None,
                };
                match (&r.to, &r.from, &r.smarthost) {
                    (Some(to), Some(from), Some(host)) => Some(ReceiverChannel::Email {
                        to: to.as_str().to_string(),
                        from: from.as_str().to_string(),
                        smarthost: host.as_str().to_string(),
                        username,
                        password,
                        require_tls: r.require_tls.unwrap_or(true),
                    }),
                    _ => None,
                }
            }
            Pagerduty => {
                need(
                    self,
                    "routing_key",
                    r.routing_key.is_some(),
                    "{ env = \"PAGERDUTY_ROUTING_KEY\" }",
                );
                r.routing_key
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/routing_key"), s))
                    .map(|routing_key| ReceiverChannel::Pagerduty { routing_key })
            }
            Webhook => {
                need(
                    self,
                    "url",
                    r.url.is_some(),
                    "\"https://hooks.example.com/alerts\"",
                );
                let token = r
                    .token
                    .as_ref()
                    .and_then(|s| self.secret(&format!("{pointer}/token"), s));
                r.url.as_ref().map(|url| ReceiverChannel::Webhook {
                    url: url.as_str().to_string(),
                    token,
                })
            }
        };
        if !ok {
            return None;
        }
        Some(Receiver {
            name: r.name.as_str().to_string(),
            send_resolved: r.send_resolved.unwrap_or(r.type_ != Email),
            channel: channel?,
        })
    }

    fn secret(&mut self, pointer: &str, s: &spec::Secret) -> Option<SecretRef> {
        let (found, at) = match (&s.env, &s.file) {
            (Some(env), None) => (
                SecretRef::Env(env.as_str().to_string()),
                format!("{pointer}/env"),
            ),
            (None, Some(file)) => (
                SecretRef::File(file.as_str().to_string()),
                format!("{pointer}/file"),
            ),
            (Some(_), Some(_)) => {
                self.report(
                    Problem::new(
                        Code::ConflictingKeys,
                        "a secret is named by both `env` and `file`",
                    )
                    .with_label(Label::value(pointer, "two sources"))
                    .with_help("keep one: `{ env = \"NAME\" }` or `{ file = \"/path\" }`"),
                );
                return None;
            }
            (None, None) => {
                self.report(
                    Problem::new(Code::MissingKey, "a secret needs `env` or `file`")
                        .with_label(Label::value(pointer, "names no source"))
                        .with_help("write `{ env = \"NAME\" }` or `{ file = \"/path\" }`"),
                );
                return None;
            }
        };
        // Platforms deliver a variable's secret under a name made of its
        // letters and digits: it must have some, and no other variable may
        // make the same. (Files are mounted at their own paths.)
        if matches!(found, SecretRef::File(_)) {
            return Some(found);
        }
        let name = found.secret_name();
        if name.is_empty() {
            self.invalid(
                &at,
                "this variable has no letter or digit to name its secret by on the platforms",
                "use a name with letters or digits, such as SLACK_WEBHOOK_URL",
            );
            return None;
        }
        match self.secret_names.get(&name) {
            Some((other, first)) if *other != found => {
                let first = first.clone();
                self.report(
                    Problem::new(
                        Code::DuplicateName,
                        format!("two different variables would both be delivered as secret `{name}`"),
                    )
                    .with_label(Label::value(at.clone(), "this one"))
                    .with_label(Label::value(first, "and this one"))
                    .with_help("rename one: /run/secrets/<name> and Kubernetes Secret keys are the variable's name in lower case, `_` as `-`"),
                );
                return None;
            }
            Some(_) => {}
            None => {
                self.secret_names.insert(name, (found.clone(), at));
            }
        }
        Some(found)
    }

    fn load_test(&mut self, l: &spec::LoadTest, services: &[Service]) -> Option<LoadTest> {
        let http: Vec<&str> = services
            .iter()
            .filter(|s| s.http().is_some())
            .map(|s| s.name.as_str())
            .collect();
        let service = match &l.service {
            Some(s) => {
                if !self.reference(
                    "/load_test/service",
                    s.as_str(),
                    "http service",
                    http.iter().copied(),
                ) {
                    return None;
                }
                s.as_str().to_string()
            }
            None => match http.first() {
                Some(s) => s.to_string(),
                None => {
                    self.missing(
                        "/load_test",
                        "service",
                        "a load test without an http service",
                        "\"api\"",
                    );
                    return None;
                }
            },
        };
        for name in l.environments.keys() {
            if spec::string_rule("Name").is_some() && !is_name(name) {
                self.report(
                    Problem::new(
                        Code::InvalidValue,
                        format!("environment name {name:?} is not a lowercase DNS label"),
                    )
                    .with_label(Label::key(
                        push_pointer("/load_test/environments", name),
                        "used as a command-line argument",
                    ))
                    .with_help("use letters a-z, digits and '-', such as staging"),
                );
            }
        }
        if l.environments.is_empty() {
            self.missing(
                "/load_test",
                "environments",
                "a load test",
                "{ staging = \"https://staging.example.com\" }",
            );
        }
        self.unique_names(
            "/load_test/scenario",
            l.scenarios.iter().map(|s| s.name.as_str()),
            "scenario",
        );
        if l.scenarios.is_empty() {
            self.missing(
                "/load_test",
                "scenario",
                "a load test",
                "[{ name = \"browse\", weight = 1, steps = [...] }]",
            );
        }
        let ramp_up = self.duration("/load_test/ramp_up", &l.ramp_up);
        let hold = self.duration("/load_test/hold", &l.hold);
        let ramp_down = self.duration("/load_test/ramp_down", &l.ramp_down);
        let think_time = self.duration_or("/load_test/think_time", l.think_time.as_ref(), 1);
        if (l.concurrent_users as usize) < l.scenarios.len() {
            self.invalid(
                "/load_test/concurrent_users",
                format!(
                    "{} concurrent user{} cannot run {} scenarios",
                    l.concurrent_users,
                    if l.concurrent_users == 1 { "" } else { "s" },
                    l.scenarios.len()
                ),
                "give every scenario at least one user",
            );
            return None;
        }
        for (i, scenario) in l.scenarios.iter().enumerate() {
            for (j, step) in scenario.steps.iter().enumerate() {
                if let Some(body) = &step.body {
                    self.placeholders(&format!("/load_test/scenario/{i}/steps/{j}/body"), body);
                }
            }
        }
        let weights: Vec<u32> = l.scenarios.iter().map(|s| s.weight).collect();
        let shares = split_users(l.concurrent_users, &weights);
        let scenarios = l
            .scenarios
            .iter()
            .zip(shares)
            .enumerate()
            .map(|(i, (s, users))| Scenario {
                name: s.name.as_str().to_string(),
                weight: s.weight,
                users,
                think_time: s
                    .think_time
                    .as_ref()
                    .and_then(|t| self.duration(&format!("/load_test/scenario/{i}/think_time"), t))
                    .unwrap_or(think_time),
                steps: s
                    .steps
                    .iter()
                    .map(|st| Step {
                        name: st
                            .name
                            .as_ref()
                            .map(|n| n.as_str().to_string())
                            .unwrap_or_else(|| {
                                format!("{} {}", method_name(st.method), st.path.as_str())
                            }),
                        method: st.method,
                        path: st.path.as_str().to_string(),
                        body: st.body.clone(),
                        expect: st.expect,
                    })
                    .collect(),
            })
            .collect();
        Some(LoadTest {
            service,
            environments: l
                .environments
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().trim_end_matches('/').to_string()))
                .collect(),
            concurrent_users: l.concurrent_users,
            ramp_up: ramp_up?,
            hold: hold?,
            ramp_down: ramp_down?,
            scenarios,
        })
    }

    /// Every `${...}` in a request body must be one the k6 script fills in.
    fn placeholders(&mut self, pointer: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if let Some(bad) = unknown_placeholder(text) {
                    self.invalid(
                        pointer,
                        format!("`{bad}` is not a placeholder the load test knows"),
                        "use ${vu}, ${iter}, ${run} or ${env:NAME} (an environment variable read when the test runs)",
                    );
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.placeholders(&push_pointer(pointer, &i.to_string()), item);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    self.placeholders(&push_pointer(pointer, key), item);
                }
            }
            _ => {}
        }
    }

    fn ci(&mut self, c: &spec::Ci, load_test: Option<&LoadTest>) -> Ci {
        let directory = c
            .directory
            .as_ref()
            .map_or(".", |d| d.as_str())
            .trim_end_matches('/')
            .to_string();
        if directory.split('/').any(|part| part == "..") {
            self.invalid(
                "/ci/directory",
                format!("`{directory}` leaves the repository"),
                "give the spec's directory relative to the repository root, without `..`",
            );
        }
        let environments = || {
            load_test
                .map(|l| {
                    l.environments
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let smoke_environment = match (&c.smoke_environment, load_test) {
            (Some(e), Some(_)) => {
                if !e
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                {
                    self.invalid(
                        "/ci/smoke_environment",
                        format!("`{e}` cannot name a CI job: the workflow would read it as shell or a GitHub expression"),
                        "name the environment with letters, digits, `_`, `.` and `-` only (in [load_test] environments too)",
                    );
                }
                self.reference(
                    "/ci/smoke_environment",
                    e,
                    "load-test environment",
                    environments(),
                );
                Some(e.clone())
            }
            (Some(_), None) => {
                self.invalid(
                    "/ci/smoke_environment",
                    "a smoke test needs a [load_test], and the spec has none",
                    "add a [load_test] with this environment, or remove smoke_environment",
                );
                None
            }
            // `staging` is a safe word, whatever the other names are.
            (None, Some(_)) => environments()
                .into_iter()
                .find(|e| *e == "staging")
                .map(str::to_string),
            (None, None) => None,
        };
        Ci {
            provider: c.provider,
            harden_git: c.harden_git.as_str().to_string(),
            harden_rev: c.harden_rev.as_ref().map(|r| r.as_str().to_string()),
            directory: if directory.is_empty() {
                ".".into()
            } else {
                directory
            },
            smoke_environment,
        }
    }

    fn rollback(&mut self, r: &spec::Rollback, alerting: &Alerting) -> Option<Rollback> {
        let health_timeout = self.duration("/rollback/health_timeout", &r.health_timeout);
        let check_interval =
            self.duration_or("/rollback/check_interval", r.check_interval.as_ref(), 10);
        if let Some(notify) = &r.notify {
            let slack: Vec<&str> = alerting
                .receivers
                .iter()
                .filter(|r| matches!(r.channel, ReceiverChannel::Slack { .. }))
                .map(|r| r.name.as_str())
                .collect();
            self.reference(
                "/rollback/notify",
                notify.as_str(),
                "slack receiver",
                slack.iter().copied(),
            );
        }
        Some(Rollback {
            health_timeout: health_timeout?,
            check_interval,
            notify: r.notify.as_ref().map(|n| n.as_str().to_string()),
        })
    }

    /// `[dns]`: failover from the primary region to the next, per record.
    fn dns(&mut self, d: &spec::Dns, project: &Project, services: &[Service]) -> Option<Dns> {
        let ttl = d.ttl.unwrap_or(DNS_TTL);
        let health_check_interval = d.health_check_interval.unwrap_or(30);
        if !matches!(health_check_interval, 10 | 30) {
            self.invalid(
                "/dns/health_check_interval",
                format!(
                    "Route 53 health checks run every 10 or 30 seconds, not every {health_check_interval}"
                ),
                "set `health_check_interval = 30`, or `10` for faster failover (billed higher)",
            );
        }
        let failure_threshold = d.failure_threshold.unwrap_or(3);
        if project.regions.len() < 2 {
            self.report(
                Problem::new(
                    Code::InvalidValue,
                    "DNS failover needs a second region to fail over to",
                )
                .with_label(Label::key("/dns", "failover is asked for here"))
                .with_help(
                    "list two regions in [project], primary first, such as `regions = [\"fra1\", \"nyc1\"]`",
                ),
            );
            return None;
        }
        self.unique_names(
            "/dns/record",
            d.records.iter().map(|r| r.name.as_str()),
            "DNS record",
        );
        let http: Vec<(&str, &HttpService)> = services
            .iter()
            .filter_map(|s| s.http().map(|h| (s.name.as_str(), h)))
            .collect();
        let mut ids: Vec<String> = Vec::new();
        let mut records = Vec::new();
        for (i, r) in d.records.iter().enumerate() {
            let at = format!("/dns/record/{i}");
            let fqdn = format!("{}.{}", r.name.as_str(), d.zone.as_str());
            if fqdn.len() > 253 {
                self.invalid(
                    &format!("{at}/name"),
                    format!("`{fqdn}` is longer than DNS's 253 characters"),
                    "use a shorter record name or zone",
                );
            }
            let service = r.service.as_str();
            let health_path = if self.reference(
                &format!("{at}/service"),
                service,
                "http service",
                http.iter().map(|(n, _)| *n),
            ) {
                http.iter()
                    .find(|(n, _)| *n == service)
                    .map(|(_, h)| h.endpoints.health.clone())
            } else {
                None
            };
            let origins_at = format!("{at}/origins");
            let mut known = true;
            for (region, host) in &r.origins {
                let here = push_pointer(&origins_at, region);
                known &= self.reference(
                    &here,
                    region,
                    "region",
                    project.regions.iter().map(String::as_str),
                );
                if host.as_str() == fqdn {
                    self.invalid(
                        &here,
                        format!("`{fqdn}` cannot point at itself"),
                        "give the host name that serves the service in this region, such as the App Platform app's `<app>.ondigitalocean.app`",
                    );
                }
            }
            // Failover follows the project's order: primary first.
            let ordered: Vec<(&String, &spec::Hostname)> = project
                .regions
                .iter()
                .filter_map(|region| r.origins.get(region).map(|h| (region, h)))
                .collect();
            let primary = &project.regions[0];
            if known && !r.origins.contains_key(primary) {
                self.report(
                    Problem::new(
                        Code::MissingKey,
                        format!("`origins` has no host for the primary region `{primary}`"),
                    )
                    .with_label(Label::value(&origins_at, "the primary region is missing here"))
                    .with_help(format!(
                        "add `{primary} = \"<host serving {service} in {primary}>\"`: the record answers with it while it is healthy"
                    )),
                );
            } else if known && ordered.len() != 2 {
                self.report(
                    Problem::new(
                        Code::InvalidValue,
                        format!(
                            "{} fails over between two origins, a primary and a secondary; `origins` lists {}",
                            "Route 53",
                            ordered.len()
                        ),
                    )
                    .with_label(Label::value(&origins_at, "here"))
                    .with_help(format!(
                        "list `{primary}` and the one region to fail over to"
                    )),
                );
            }
            let (Some(health_path), [(p_region, p_host), (s_region, s_host)]) =
                (health_path, ordered.as_slice())
            else {
                continue;
            };
            let mut origin = |region: &str, host: &str| {
                let mut id = format!("{}{}", camel(r.name.as_str()), camel(region));
                if ids.contains(&id) {
                    id = format!("{id}R{i}");
                }
                ids.push(id.clone());
                DnsOrigin {
                    region: region.to_string(),
                    host: host.to_string(),
                    id,
                }
            };
            let primary = origin(p_region, p_host.as_str());
            let secondary = origin(s_region, s_host.as_str());
            records.push(DnsRecord {
                name: r.name.as_str().to_string(),
                fqdn,
                service: service.to_string(),
                health_path,
                primary,
                secondary,
            });
        }
        Some(Dns {
            provider: d.provider,
            zone: d.zone.as_str().to_string(),
            ttl,
            health_check_interval,
            failure_threshold,
            records,
        })
    }

    fn platforms(
        &mut self,
        p: &spec::Platforms,
        project: &Project,
        specs: &[spec::Service],
        services: &[Service],
    ) -> Platforms {
        let compose = p.compose.as_ref().map(|c| Compose {
            prometheus_image: image_or(&c.prometheus_image, DEFAULT_PROMETHEUS_IMAGE),
            alertmanager_image: image_or(&c.alertmanager_image, DEFAULT_ALERTMANAGER_IMAGE),
            grafana_image: image_or(&c.grafana_image, DEFAULT_GRAFANA_IMAGE),
            pushgateway_image: DEFAULT_PUSHGATEWAY_IMAGE.to_string(),
        });
        if let Some(true) = p.kubernetes.as_ref().and_then(|k| k.prometheus_operator) {
            self.report(
                Problem::new(
                    Code::NotSupported,
                    "prometheus-operator objects are not generated yet",
                )
                .with_label(Label::value(
                    "/platform/kubernetes/prometheus_operator",
                    "would generate nothing",
                ))
                .with_help("remove `prometheus_operator`; the rule files in prometheus/rules/ can be wrapped in a PrometheusRule by hand meanwhile"),
            );
        }
        let kubernetes = p.kubernetes.as_ref().map(|k| Kubernetes {
            namespace: k
                .namespace
                .as_ref()
                .map_or(project.name.as_str(), |n| n.as_str())
                .to_string(),
            alertmanager_image: compose.as_ref().map_or_else(
                || DEFAULT_ALERTMANAGER_IMAGE.to_string(),
                |c| c.alertmanager_image.clone(),
            ),
            pushgateway_image: compose.as_ref().map_or_else(
                || DEFAULT_PUSHGATEWAY_IMAGE.to_string(),
                |c| c.pushgateway_image.clone(),
            ),
        });
        if kubernetes.is_some() {
            // A Service's name is an RFC 1035 label: the API server refuses
            // one that starts with a digit (a schema check does not).
            for (i, spec_service) in specs.iter().enumerate() {
                let name = spec_service.name.as_str();
                let http = services
                    .iter()
                    .any(|s| s.name == name && s.http().is_some());
                if http && name.starts_with(|c: char| c.is_ascii_digit()) {
                    self.invalid(
                        &format!("/service/{i}/name"),
                        format!("Kubernetes cannot name a Service `{name}`"),
                        "Kubernetes Service names start with a letter",
                    );
                }
            }
        }
        // What harden runs beside the services, by name, on every platform
        // that has services: a backed-up database's backup job, a cache's
        // exporter, and the Pushgateway the backups report to.
        let mut beside: Vec<(String, String)> = Vec::new();
        for s in services {
            if s.backup().is_some() {
                beside.push((
                    format!("{}-backup", s.name),
                    format!("{}'s backup job", s.name),
                ));
                beside.push((
                    "pushgateway".to_string(),
                    "the backups' Pushgateway".to_string(),
                ));
            }
            if s.redis().is_some() {
                beside.push((
                    format!("{}-exporter", s.name),
                    format!("{}'s Redis exporter", s.name),
                ));
            }
        }
        for (i, spec_service) in specs.iter().enumerate() {
            let name = spec_service.name.as_str();
            if let Some((_, what)) = beside.iter().find(|(n, _)| n == name) {
                self.report(
                    Problem::new(
                        Code::ReservedName,
                        format!("the service name `{name}` is taken by {what}"),
                    )
                    .with_label(Label::value(format!("/service/{i}/name"), format!("taken by {what}")))
                    .with_help("harden runs it under this name beside the services (a Compose service, a Kubernetes object, an App Platform component); rename the service"),
                );
            }
        }
        if compose.is_some() || kubernetes.is_some() {
            for (i, spec_service) in specs.iter().enumerate() {
                let name = spec_service.name.as_str();
                if MONITORING_NAMES.contains(&name) {
                    self.report(
                        Problem::new(
                            Code::ReservedName,
                            format!("the service name `{name}` is taken by the monitoring stack"),
                        )
                        .with_label(Label::value(format!("/service/{i}/name"), "taken by the monitoring stack"))
                        .with_help("Compose and Kubernetes run Prometheus, Alertmanager and Grafana beside the services under these names; rename the service"),
                    );
                }
            }
        }
        if kubernetes.is_some() {
            let lowered: std::collections::HashMap<&str, &Service> =
                services.iter().map(|s| (s.name.as_str(), s)).collect();
            for (i, spec_service) in specs.iter().enumerate() {
                let Some(Scaling::Auto(a)) = lowered
                    .get(spec_service.name.as_str())
                    .copied()
                    .and_then(Service::http)
                    .map(|h| &h.scaling)
                else {
                    continue;
                };
                if a.scale_down_window > Duration::secs(3600) {
                    self.invalid(
                        &format!("/service/{i}/autoscaling/scale_down_window"),
                        "Kubernetes allows a scale-down stabilization window of at most 1h",
                        "use a window of 1h or less",
                    );
                }
            }
        }
        let digitalocean = p
            .digitalocean
            .as_ref()
            .map(|d| self.digitalocean(d, project, specs, services));
        Platforms {
            compose,
            kubernetes,
            digitalocean,
        }
    }

    /// The App Platform apps, and the checks App Platform would otherwise
    /// fail at deploy time.
    fn digitalocean(
        &mut self,
        d: &spec::DigitalOcean,
        project: &Project,
        specs: &[spec::Service],
        services: &[Service],
    ) -> DigitalOcean {
        let app = d
            .app
            .as_ref()
            .map_or(project.name.as_str(), |a| a.as_str())
            .to_string();
        let app_pointer = if d.app.is_some() {
            "/platform/digitalocean/app"
        } else {
            "/project/name"
        };
        let instance_size = d
            .instance_size
            .as_ref()
            .map_or(DEFAULT_DO_INSTANCE_SIZE, |s| s.as_str())
            .to_string();
        if let Some(size) = &d.instance_size
            && !DO_INSTANCE_SIZES.contains(&size.as_str())
        {
            let help = match did_you_mean(size.as_str(), DO_INSTANCE_SIZES.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("use one of: {}", DO_INSTANCE_SIZES.join(", ")),
            };
            self.report(
                Problem::new(
                    Code::UnknownInstanceSize,
                    format!(
                        "App Platform has no instance size `{size}`",
                        size = size.as_str()
                    ),
                )
                .with_label(Label::value(
                    "/platform/digitalocean/instance_size",
                    "not an App Platform size",
                ))
                .with_help(help),
            );
        }
        let several = project.regions.len() > 1;
        let mut apps = Vec::new();
        for (i, region) in project.regions.iter().enumerate() {
            let slug = region.trim_end_matches(|c: char| c.is_ascii_digit());
            if !DO_REGIONS.contains(&slug) {
                self.report(
                    Problem::new(
                        Code::UnknownRegion,
                        format!("App Platform has no region for `{region}`"),
                    )
                    .with_label(Label::value(
                        format!("/project/regions/{i}"),
                        "not an App Platform region",
                    ))
                    .with_help(format!(
                        "App Platform runs in {}; name a datacenter in one of them, such as fra1",
                        DO_REGIONS.join(", ")
                    )),
                );
            }
            let (path, name) = if several {
                (format!(".do/app-{region}.yaml"), format!("{app}-{region}"))
            } else {
                (".do/app.yaml".to_string(), app.clone())
            };
            apps.push(DoApp {
                path,
                name,
                region: Some(slug.to_string()),
                project_region: Some(region.clone()),
            });
        }
        if apps.is_empty() {
            apps.push(DoApp {
                path: ".do/app.yaml".to_string(),
                name: app.clone(),
                region: None,
                project_region: None,
            });
        }
        if !app.starts_with(|c: char| c.is_ascii_lowercase()) {
            self.invalid(
                app_pointer,
                format!("App Platform cannot name an app `{app}`"),
                "App Platform app names start with a letter; set `app` in [platform.digitalocean]",
            );
        }
        if let Some(long) = apps.iter().find(|a| a.name.len() > 32) {
            self.report(
                Problem::new(
                    Code::NameTooLong,
                    format!("the App Platform app name `{}` is longer than 32 characters", long.name),
                )
                .with_label(Label::value(app_pointer, "the app name"))
                .with_help("set a shorter `app` in [platform.digitalocean]; with several regions harden appends `-<region>`"),
            );
        }
        let dedicated = instance_size.starts_with("apps-d-");
        let mut images = BTreeMap::new();
        let lowered: std::collections::HashMap<&str, &Service> =
            services.iter().map(|s| (s.name.as_str(), s)).collect();
        for (i, spec_service) in specs.iter().enumerate() {
            let at = format!("/service/{i}");
            let name = spec_service.name.as_str();
            if name.len() > 32 || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                self.invalid(
                    &format!("{at}/name"),
                    format!("App Platform cannot name a component `{name}`"),
                    "App Platform component names start with a letter and have at most 32 characters",
                );
            }
            let Some(http) = lowered
                .get(spec_service.name.as_str())
                .copied()
                .and_then(Service::http)
            else {
                continue;
            };
            match do_image(&http.image) {
                Some(image) => {
                    images.insert(spec_service.name.as_str().to_string(), image);
                }
                None => self.report(
                    Problem::new(Code::UnsupportedRegistry, "App Platform cannot pull this image")
                        .with_label(Label::value(format!("{at}/image"), "not in DOCR, Docker Hub or GHCR"))
                        .with_help("App Platform pulls from registry.digitalocean.com, Docker Hub or ghcr.io; push the image there"),
                ),
            }
            if let Scaling::Auto(a) = &http.scaling {
                if !dedicated {
                    let mut problem = Problem::new(
                        Code::SharedInstanceAutoscaling,
                        format!("App Platform autoscales only dedicated-CPU instances, and `{instance_size}` is shared"),
                    )
                    .with_label(Label::key(format!("{at}/autoscaling"), "autoscaling asked for here"));
                    problem = if d.instance_size.is_some() {
                        problem.with_label(Label::value(
                            "/platform/digitalocean/instance_size",
                            "a shared-CPU size",
                        ))
                    } else {
                        problem.with_label(Label::key(
                            "/platform/digitalocean",
                            "no instance_size: the default is shared",
                        ))
                    };
                    self.report(problem.with_help("set `instance_size` to a dedicated size such as \"apps-d-1vcpu-1gb\", or use fixed `replicas`"));
                }
                if a.cpu_percent.is_none() {
                    self.report(
                        Problem::new(
                            Code::MissingKey,
                            "App Platform autoscales on CPU, and this autoscaler has no CPU target",
                        )
                        .with_label(Label::key(format!("{at}/autoscaling"), "memory only"))
                        .with_help(
                            "add `cpu_percent = 80` (memory stays covered by the memory alert)",
                        ),
                    );
                }
                if a.max_replicas > 250 {
                    self.invalid(
                        &format!("{at}/autoscaling/max_replicas"),
                        "App Platform runs at most 250 instances of a component",
                        "lower max_replicas to 250 or less, or use a larger instance size",
                    );
                }
            }
            let probes = &http.probes;
            let limits = [
                ("interval", probes.interval_secs, 300, "5m"),
                ("timeout", probes.timeout_secs, 120, "2m"),
                ("startup_grace", probes.startup_grace_secs, 3600, "1h"),
                (
                    "failure_threshold",
                    u64::from(probes.failure_threshold),
                    50,
                    "50",
                ),
            ];
            for (key, value, max, shown) in limits {
                if value > max {
                    self.invalid(
                        &format!("{at}/probes/{key}"),
                        format!("App Platform health checks allow at most {shown} for `{key}`"),
                        format!("lower `{key}` to {shown} or less"),
                    );
                }
            }
        }
        DigitalOcean {
            region: apps.first().and_then(|a| a.region.clone()),
            app,
            instance_size,
            apps,
            images,
        }
    }
}

/// Services Compose and Kubernetes run beside the project's own.
const MONITORING_NAMES: &[&str] = &["prometheus", "alertmanager", "grafana"];

const DEFAULT_PROMETHEUS_IMAGE: &str = "prom/prometheus:v2.53.0";
const DEFAULT_ALERTMANAGER_IMAGE: &str = "prom/alertmanager:v0.27.0";
const DEFAULT_GRAFANA_IMAGE: &str = "grafana/grafana:11.1.0";
const DEFAULT_PUSHGATEWAY_IMAGE: &str = "prom/pushgateway:v1.9.0";
const DEFAULT_DO_INSTANCE_SIZE: &str = "apps-s-1vcpu-1gb";

/// App Platform's regions (`app_spec.yml`, `region`).
const DO_REGIONS: &[&str] = &[
    "atl", "nyc", "sfo", "tor", "ams", "fra", "lon", "blr", "sgp", "syd",
];

/// App Platform's current instance sizes (`app_component_instance_base.yml`).
const DO_INSTANCE_SIZES: &[&str] = &[
    "apps-s-1vcpu-0.5gb",
    "apps-s-1vcpu-1gb-fixed",
    "apps-s-1vcpu-1gb",
    "apps-s-1vcpu-2gb",
    "apps-s-2vcpu-4gb",
    "apps-d-1vcpu-0.5gb",
    "apps-d-1vcpu-1gb",
    "apps-d-1vcpu-2gb",
    "apps-d-1vcpu-4gb",
    "apps-d-2vcpu-4gb",
    "apps-d-2vcpu-8gb",
    "apps-d-4vcpu-8gb",
    "apps-d-4vcpu-16gb",
    "apps-d-8vcpu-32gb",
];

/// Splits an image reference for App Platform's `image` source: DOCR
/// (`registry.digitalocean.com/<registry>/<repo>`), GHCR
/// (`ghcr.io/<owner>/<repo>`) or Docker Hub (no host, or `docker.io`).
fn do_image(image: &str) -> Option<DoImage> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d.to_string())),
        None => (image, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (
            &name[..last_slash + i],
            Some(name[last_slash + i + 1..].to_string()),
        ),
        None => (name, None),
    };
    let (host, path) = match name.split_once('/') {
        Some((h, rest)) if h.contains('.') || h.contains(':') || h == "localhost" => {
            (Some(h), rest)
        }
        _ => (None, name),
    };
    let split_namespace = |path: &str| -> Option<(String, String)> {
        let (ns, repo) = path.split_once('/')?;
        Some((ns.to_string(), repo.to_string()))
    };
    let (registry_type, registry, repository) = match host {
        Some("registry.digitalocean.com") => {
            let (_, repo) = split_namespace(path)?;
            ("DOCR", None, repo)
        }
        Some("ghcr.io") => {
            let (owner, repo) = split_namespace(path)?;
            ("GHCR", Some(owner), repo)
        }
        None | Some("docker.io" | "index.docker.io" | "registry.hub.docker.com") => {
            let (ns, repo) =
                split_namespace(path).unwrap_or(("library".to_string(), path.to_string()));
            ("DOCKER_HUB", Some(ns), repo)
        }
        Some(_) => return None,
    };
    // The model's tag and digest are exclusive: a digest pins the image.
    let tag = if digest.is_some() { None } else { tag };
    Some(DoImage {
        registry_type,
        registry,
        repository,
        tag,
        digest,
    })
}

/// The restore drill's default sanity query: tables outside the system
/// schemas (a dump of an empty database restores "successfully" too).
const DEFAULT_RESTORE_CHECK: &str = "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";

/// The DNS TTL unless the spec sets one: short, so a failover reaches
/// clients within a minute of the health check's verdict.
const DNS_TTL: u32 = 60;

/// `api-v2` → `ApiV2`: a DNS label as letters and digits only.
fn camel(label: &str) -> String {
    label
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Whole seconds, rounded up.
fn ceil_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000)
}

/// The SRE workbook's tiers: (tier, long window, short window, share of
/// the budget spent when the long window burns at the tier's rate).
const BURN_TIERS: [(Tier, u32, u32, u128); 4] = [
    (Tier::Page, 3600, 300, 2),
    (Tier::Page, 6 * 3600, 1800, 5),
    (Tier::Ticket, 86_400, 2 * 3600, 10),
    (Tier::Ticket, 3 * 86_400, 6 * 3600, 10),
];

/// The burn-rate tiers of an SLO window and error budget, factors derived
/// exactly from the window (30d: 14.4, 6, 3, 1; 28d: 13.44, 5.6, 2.8,
/// 0.9333). `None` only on arithmetic overflow.
fn burn_rates(window: Duration, budget: Decimal) -> Option<Vec<BurnRate>> {
    BURN_TIERS
        .iter()
        .map(|&(tier, long, short, percent)| {
            let long = Duration::secs(long);
            let consumed = Decimal::from_parts(percent, 2)?;
            let factor = div_rounded(
                consumed.checked_mul(Decimal::from_int(window.as_millis()))?,
                long.as_millis(),
                BURN_FACTOR_PLACES,
            )?;
            Some(BurnRate {
                tier,
                long,
                short: Duration::secs(short),
                budget_consumed: consumed,
                factor,
                threshold: factor.checked_mul(budget)?,
            })
        })
        .collect()
}

/// A fraction as a percentage for messages: 1.44 → `144%`.
fn percent_of(fraction: Decimal) -> String {
    fraction
        .checked_mul(Decimal::HUNDRED)
        .map_or_else(|| fraction.to_string(), |p| format!("{p}%"))
}

/// `num ÷ den` rounded half up to `places` decimal places.
fn div_rounded(num: Decimal, den: u64, places: u32) -> Option<Decimal> {
    let n = num.digits().checked_mul(10u128.checked_pow(places)?)?;
    let d = 10u128
        .checked_pow(num.scale())?
        .checked_mul(u128::from(den))?;
    if d == 0 {
        return None;
    }
    let q = n.checked_mul(2)?.checked_add(d)? / d.checked_mul(2)?;
    Decimal::from_parts(q, places)
}

fn image_or(image: &Option<spec::Image>, default: &str) -> String {
    image.as_ref().map_or(default, |i| i.as_str()).to_string()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

fn is_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    }
}

/// The first `${...}` in `text` that is not `${vu}`, `${iter}`, `${run}` or
/// `${env:NAME}`, as written.
fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Some(rest[start..].to_string());
        };
        let name = &after[..end];
        let known = matches!(name, "vu" | "iter" | "run")
            || name.strip_prefix("env:").is_some_and(|var| {
                var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !known {
            return Some(format!("${{{name}}}"));
        }
        rest = &after[end + 1..];
    }
    None
}

/// Splits `total` users by weight so the shares add up to exactly `total`
/// (largest remainder, ties to the earlier scenario), then gives any
/// scenario left with none one user from the largest share.
/// Needs `total >= weights.len()`.
fn split_users(total: u32, weights: &[u32]) -> Vec<u32> {
    let total = u64::from(total);
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum::<u64>().max(1);
    let mut shares: Vec<u64> = weights
        .iter()
        .map(|&w| total * u64::from(w) / sum)
        .collect();
    let mut by_remainder: Vec<(u64, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| (total * u64::from(w) % sum, i))
        .collect();
    by_remainder.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let missing = total.saturating_sub(shares.iter().sum()) as usize;
    for &(_, i) in by_remainder.iter().take(missing) {
        shares[i] += 1;
    }
    while let Some(empty) = shares.iter().position(|&s| s == 0) {
        let Some(largest) = (0..shares.len()).max_by_key(|&i| (shares[i], std::cmp::Reverse(i)))
        else {
            break;
        };
        if shares[largest] <= 1 {
            break;
        }
        shares[largest] -= 1;
        shares[empty] = 1;
    }
    shares
        .into_iter()
        .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup_of(schedule: &str, extra: &str) -> (Backup, Vec<Problem>) {
        let text = format!(
            "[project]\nname = \"shop\"\n[[service]]\nname = \"db\"\nkind = \"database\"\nengine = \"postgres\"\n\
             backup = {{ schedule = \"{schedule}\", retention_days = 14{extra} }}\n[platform.digitalocean]\napp = \"shop\"\n"
        );
        let spec: spec::Spec = toml::from_str(&text).expect("spec");
        let (mut model, warnings) = lower(&spec).expect("valid");
        let Workload::Database(db) = model.services.remove(0).workload else {
            panic!("a database");
        };
        (*db.backup.expect("backup"), warnings)
    }

    #[test]
    fn services_are_found_by_name_whatever_their_order() {
        let text = "[project]\nname = \"shop\"\n\
            [[service]]\nname = \"web\"\nkind = \"database\"\nengine = \"postgres\"\n\
            [[service]]\nname = \"api\"\nkind = \"database\"\nengine = \"postgres\"\n\
            [[service]]\nname = \"cache\"\nkind = \"database\"\nengine = \"redis\"\n";
        let spec: spec::Spec = toml::from_str(text).expect("spec");
        let (model, _) = lower(&spec).expect("valid");
        for name in ["web", "api", "cache"] {
            assert_eq!(model.service(name).map(|s| s.name.as_str()), Some(name));
        }
        assert!(model.service("ap").is_none());
        assert!(model.service("").is_none());
    }

    #[test]
    fn backup_schedules_match_their_cron_and_alert_a_quarter_late() {
        let image = ", destination = \"s3://bkt/db\", image = \"acme/pg-backup:16\"";
        for (schedule, cron, interval, offset, stale) in [
            ("hourly", "0 * * * *", "1h", 0, "1h15m"),
            ("daily", "0 3 * * *", "1d", 3 * 3600, "1d6h"),
            // The epoch was a Thursday; Sunday 03:00 is 3 days 3 hours on.
            (
                "weekly",
                "0 3 * * 0",
                "1w",
                3 * 86_400 + 3 * 3600,
                "1w1d18h",
            ),
        ] {
            let (b, warnings) = backup_of(schedule, image);
            assert_eq!(b.cron, cron);
            assert_eq!(b.interval, Duration::parse(interval).expect("duration"));
            assert_eq!(b.offset.as_millis(), offset * 1000);
            assert_eq!(b.stale_after, Duration::parse(stale).expect("duration"));
            assert!(b.digitalocean_job);
            assert_eq!(
                b.do_image.as_ref().map(|i| i.registry_type),
                Some("DOCKER_HUB")
            );
            // 14 days asked, 7 kept by DigitalOcean: one warning, with both numbers.
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert_eq!(warnings[0].code, Code::PlatformBackupRetention);
            assert!(warnings[0].is_warning());
            assert!(
                warnings[0]
                    .message
                    .contains("for 7 days; the spec asks for 14")
            );
        }
    }

    fn factors(window: &str, objective: &str) -> Vec<(String, String)> {
        let budget = Decimal::ONE
            .checked_sub(Percent::parse(objective).unwrap().fraction())
            .unwrap();
        burn_rates(Duration::parse(window).unwrap(), budget)
            .unwrap()
            .iter()
            .map(|b| (b.factor.to_string(), b.threshold.to_string()))
            .collect()
    }

    #[test]
    fn burn_factors_come_exactly_from_the_window() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            factors("30d", "99.9%"),
            pairs(&[
                ("14.4", "0.0144"),
                ("6", "0.006"),
                ("3", "0.003"),
                ("1", "0.001")
            ])
        );
        assert_eq!(
            factors("28d", "99.9%"),
            pairs(&[
                ("13.44", "0.01344"),
                ("5.6", "0.0056"),
                ("2.8", "0.0028"),
                ("0.9333", "0.0009333")
            ])
        );
        assert_eq!(
            factors("30d", "99.5%")[0],
            ("14.4".to_string(), "0.072".to_string())
        );
    }

    #[test]
    fn rounding_is_half_up() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(div_rounded(d("2"), 3, 4), Some(d("0.6667")));
        assert_eq!(div_rounded(d("0.00005"), 1, 4), Some(d("0.0001")));
        assert_eq!(div_rounded(d("1"), 0, 4), None);
    }

    #[test]
    fn only_known_placeholders_pass() {
        use super::unknown_placeholder;
        assert_eq!(unknown_placeholder("load-${run}-${vu}-${iter}@x"), None);
        assert_eq!(unknown_placeholder("${env:LOAD_TEST_PASSWORD}"), None);
        assert_eq!(unknown_placeholder("$vu {vu} $"), None);
        assert_eq!(unknown_placeholder("${user}"), Some("${user}".into()));
        assert_eq!(unknown_placeholder("${env:1X}"), Some("${env:1X}".into()));
        assert_eq!(unknown_placeholder("a ${vu"), Some("${vu".into()));
    }

    #[test]
    fn images_split_for_app_platform() {
        let i = do_image("registry.digitalocean.com/app-oint/api:1.8.0").expect("DOCR");
        assert_eq!(
            (
                i.registry_type,
                i.registry,
                i.repository.as_str(),
                i.tag.as_deref()
            ),
            ("DOCR", None, "api", Some("1.8.0"))
        );
        let i = do_image("nginx").expect("Docker Hub");
        assert_eq!(
            (
                i.registry_type,
                i.registry.as_deref(),
                i.repository.as_str(),
                i.tag
            ),
            ("DOCKER_HUB", Some("library"), "nginx", None)
        );
        let i = do_image("docker.io/acme/web:2@sha256:abc").expect("Docker Hub");
        assert_eq!(
            (
                i.registry.as_deref(),
                i.repository.as_str(),
                i.tag,
                i.digest.as_deref()
            ),
            (Some("acme"), "web", None, Some("sha256:abc"))
        );
        let i = do_image("ghcr.io/owner/tools/api:1").expect("GHCR");
        assert_eq!(
            (
                i.registry_type,
                i.registry.as_deref(),
                i.repository.as_str()
            ),
            ("GHCR", Some("owner"), "tools/api")
        );
        assert!(do_image("localhost:5000/api:1").is_none());
        assert!(do_image("quay.io/acme/api").is_none());
        assert!(do_image("registry.digitalocean.com/api").is_none());
    }

    #[test]
    fn users_are_split_by_weight_and_add_up() {
        assert_eq!(split_users(10_000, &[10, 30, 60]), vec![1000, 3000, 6000]);
        let shares = split_users(10, &[1, 1, 1]);
        assert_eq!(shares.iter().sum::<u32>(), 10);
        assert_eq!(shares, vec![4, 3, 3]);
        assert_eq!(split_users(3, &[1, 1000, 1]), vec![1, 1, 1]);
    }
}
