//! An HTTP service: endpoints, metrics names, scrape targets, probes and
//! business metrics.

use super::*;
use crate::engine::promql::{self, MAX_EXPR_BYTES, MAX_EXPR_DEPTH};

impl Lower {
    pub(super) fn http_service(
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
        let scaling = self.scaling(pointer, s, s.resources.as_ref());
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
            buckets: self.buckets(
                &format!("{pointer}/metrics/buckets"),
                m.and_then(|m| m.buckets.as_deref()),
            ),
        };
        let targets = self.targets(pointer, s, port, project);
        let probes = self.probes(
            &format!("{pointer}/probes"),
            s.probes.as_ref(),
            port,
            &endpoints.health,
        );
        let slos = self.slos(&format!("{pointer}/slo"), &s.slos, &metrics);
        let alerts_at = format!("{pointer}/alerts");
        let alerts = s
            .alerts
            .as_ref()
            .map(|a| self.alert_overrides(&alerts_at, a))
            .unwrap_or_default();
        let error_rate_5xx = self.error_rate(
            &alerts_at,
            "error_rate_5xx",
            s.alerts.as_ref().and_then(|a| a.error_rate_5xx.as_ref()),
        );
        let error_rate_4xx = self.error_rate(
            &alerts_at,
            "error_rate_4xx",
            s.alerts.as_ref().and_then(|a| a.error_rate_4xx.as_ref()),
        );
        let (alert_labels, alert_annotations) = match &s.alerts {
            Some(a) => (
                self.extra_pairs(
                    &format!("{alerts_at}/labels"),
                    &a.labels,
                    &slo::RESERVED_LABELS,
                ),
                self.extra_pairs(
                    &format!("{alerts_at}/annotations"),
                    &a.annotations,
                    &slo::RESERVED_ANNOTATIONS,
                ),
            ),
            None => Default::default(),
        };
        let business_metrics = self.business_metrics(pointer, &s.business_metrics);
        let alert_rules = self.alert_rules(
            &alerts,
            &slos,
            (error_rate_5xx.is_some(), error_rate_4xx.is_some()),
            scaling.as_ref(),
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
            discovered: s.targets.is_none(),
            targets,
            probes,
            slos,
            error_rate_5xx,
            error_rate_4xx,
            alert_labels,
            alert_annotations,
            alerts,
            alert_rules,
            business_metrics,
            disruption,
            secrets,
        })
    }

    pub(super) fn targets(
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

    pub(super) fn probes(
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

    /// `metrics.buckets`: histogram bounds in seconds, positive and ascending.
    fn buckets(&mut self, pointer: &str, buckets: Option<&[f64]>) -> Vec<Decimal> {
        let mut out: Vec<Decimal> = Vec::new();
        for (i, b) in buckets.unwrap_or_default().iter().enumerate() {
            let at = format!("{pointer}/{i}");
            let parsed = Decimal::parse(&b.to_string())
                .ok()
                .filter(|d| *d > Decimal::ZERO);
            match parsed {
                Some(d) if out.last().is_none_or(|last| *last < d) => out.push(d),
                Some(_) => self.invalid(
                    &at,
                    format!("bucket {b} is not above the one before it"),
                    "list the bucket boundaries in ascending order, each once, as the histogram declares them",
                ),
                None => self.invalid(
                    &at,
                    format!("{b} is not a bucket boundary in seconds"),
                    "use a positive number of seconds, such as 0.5 (+Inf is implied)",
                ),
            }
        }
        out
    }

    pub(super) fn business_metrics(
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
            if let Err(bound) = promql::bounded(m.expr.as_str(), MAX_EXPR_BYTES, MAX_EXPR_DEPTH) {
                let problem = match bound {
                    promql::Bound::TooLong(n) => Problem::new(
                        Code::TooLarge,
                        format!("the PromQL expression is {n} bytes long, more than {MAX_EXPR_BYTES}"),
                    )
                    .with_label(Label::value(at, "too long")),
                    promql::Bound::TooDeep(_) => Problem::new(
                        Code::TooDeep,
                        format!("the PromQL expression nests more than {MAX_EXPR_DEPTH} levels of brackets"),
                    )
                    .with_label(Label::value(at, "nested too deeply")),
                };
                self.report(problem.with_help(
                    "a business metric is one query a dashboard graphs; record a long or deep expression as a Prometheus recording rule and graph its name",
                ));
                continue;
            }
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
}

/// Whole seconds, rounded up.
fn ceil_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}
