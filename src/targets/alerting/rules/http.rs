//! An HTTP service's rule file: recording rules (request rate, error
//! ratios, latency percentiles, each SLO's error ratios and budget) and its
//! alerts, each with the promtool cases that make it fire and keep it quiet.
//! The alerts are in `http/alerts.rs`, the SLOs' rules, alerts and cases in
//! `http/slo.rs`, the other test cases in `http/cases.rs`.

mod alerts;
mod cases;
mod slo;

use super::super::catalog::{About, Pair, Rule, RuleFile, RuleGroup, Topic, pair};
use super::{AlertDef, AlertRule, alert_annotations, alert_labels};
use crate::model::{Alert, AlertKind, HttpService, Model, Scaling, Service, record};
use crate::units::{Decimal, Duration};
use crate::vocab::dashboard_url;

/// The rule files of the HTTP services, one per service.
pub fn http_rule_files(model: &Model) -> Vec<RuleFile> {
    model
        .services
        .iter()
        .filter_map(|service| {
            let http = service.http()?;
            Some(Builder::new(model, service, http).build())
        })
        .collect()
}

/// One service's rules and tests.
struct Builder<'a> {
    model: &'a Model,
    service: &'a Service,
    http: &'a HttpService,
    /// `job="api"`: the scrape job's selector, as prometheus.yml names it.
    job: String,
}

impl<'a> Builder<'a> {
    fn new(model: &'a Model, service: &'a Service, http: &'a HttpService) -> Self {
        Builder {
            model,
            service,
            http,
            job: format!("job=\"{}\"", service.name),
        }
    }

    fn name(&self) -> &str {
        &self.service.name
    }

    fn build(&self) -> RuleFile {
        let mut groups = vec![RuleGroup {
            name: format!("{}-recording", self.name()),
            interval: None,
            rules: self.recording_rules(),
        }];
        if let Some(window) = self.slo_window_rules() {
            groups.push(window);
        }
        let mut alerts = Vec::new();
        let mut tests = Vec::new();
        for alert in &self.http.alert_rules {
            let Some(def) = self.alert_def(alert) else {
                continue;
            };
            let labels = self.rule_labels(alert);
            let annotations = self.annotations(alert, &def);
            let about = About {
                topic: Topic::Http(alert.kind),
                slo: alert.slo.clone(),
                service: self.name().to_string(),
                team: self.service.team.clone(),
                severity: alert.severity,
                threshold: def.threshold.clone(),
                dashboard_url: self.dashboard_url(),
            };
            alerts.push(
                AlertRule {
                    name: &alert.name,
                    for_: alert.for_,
                    expr: def.expr,
                    labels,
                    annotations,
                    about,
                }
                .build(&def.cases, &mut tests),
            );
        }
        tests.extend(self.full_budget_cases());
        tests.extend(self.detection_cases());
        if !alerts.is_empty() {
            groups.push(RuleGroup {
                name: format!("{}-alerts", self.name()),
                interval: None,
                rules: alerts,
            });
        }
        RuleFile {
            path: crate::targets::alerting::rules_path(self.name()),
            test_path: crate::targets::alerting::tests_path(self.name()),
            notes: self.notes(),
            groups,
            tests,
        }
    }

    fn dashboard_url(&self) -> String {
        dashboard_url(
            &self.model.monitoring.grafana_url,
            &self.service.dashboard_uid(),
        )
    }

    /// Comments at the top of the rules file: which alerts are left out, and why.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.http.slos.is_empty() {
            notes.push(
                "No burn-rate alerts or SLO-window ratios: the service has no [[service.slo]]."
                    .to_string(),
            );
        }
        for slo in &self.http.slos {
            if self
                .feed(slo, slo::Incs::Steady(1), slo::Incs::Steady(1))
                .is_none()
            {
                let why = match (self.shared_with(slo), &slo.sli) {
                    (Some(other), _) => format!(
                        "SLO {} reads the same series, so a case for one would fire the other's alerts too",
                        other.name
                    ),
                    (None, crate::model::Sli::Ratio { .. }) => {
                        "its expressions are not each one counter's sum(rate(counter[$window])) with `=` matchers, so no input series can be written for them".to_string()
                    }
                    (None, _) => "its selectors match by other than `=`, so no input series can be written for them".to_string(),
                };
                notes.push(format!(
                    "No generated test cases for SLO {}: {why}.",
                    slo.name
                ));
            }
        }
        match &self.http.scaling {
            Scaling::Fixed { .. } => notes.push(
                "No CPU, memory or replica alerts: the service has no autoscaling, whose targets they measure against."
                    .to_string(),
            ),
            Scaling::Auto(a) => {
                if a.cpu_percent.is_none() {
                    notes.push("No CPU alert: autoscaling has no cpu_percent.".to_string());
                }
                if a.memory_percent.is_none() {
                    notes.push("No memory alert: autoscaling has no memory_percent.".to_string());
                }
            }
        }
        if !self
            .http
            .alert_rules
            .iter()
            .any(|a| a.kind == AlertKind::RegionDown)
            && self
                .http
                .alerts
                .get(&AlertKind::RegionDown)
                .is_none_or(|o| o.enabled)
        {
            let global =
                self.http.discovered && crate::targets::alerting::global_region_down(self.model);
            notes.push(if global {
                format!(
                    "RegionDown for this service is in {}, for the remote-write store's ruler: each region's Prometheus sees only its own replicas.",
                    crate::targets::alerting::rules::global_rules_path()
                )
            } else {
                "No RegionDown alert: the service's targets are not in two or more regions."
                    .to_string()
            });
        }
        if self
            .http
            .alert_rules
            .iter()
            .any(|a| a.kind == AlertKind::RegionDown)
            && let Some(primary) = self.model.project.primary_region()
        {
            let failover = match self
                .model
                .dns
                .as_ref()
                .and_then(|d| d.record_for(self.name()))
            {
                Some(r) => format!(
                    "the DNS health checks of {}, not this alert, are what fail traffic over",
                    r.fqdn
                ),
                None => "only a check from outside the region (such as a DNS health check) notices"
                    .to_string(),
            };
            notes.push(format!(
                "RegionDown runs in this Prometheus, in {primary}: when all of {primary} is lost, Prometheus goes with it and {failover}."
            ));
        }
        for (kind, o) in &self.http.alerts {
            if !o.enabled {
                notes.push(format!(
                    "`{}` alerts are switched off in the spec ([service.alerts]).",
                    kind.spec_key()
                ));
            }
        }
        notes
    }

    fn sel(&self, extra: &str) -> String {
        if extra.is_empty() {
            format!("{{{}}}", self.job)
        } else {
            format!("{{{},{extra}}}", self.job)
        }
    }

    fn status(&self, class: char) -> String {
        format!("{}=~\"{class}..\"", self.http.metrics.status_label)
    }

    /// The share of requests of status `class`xx over `window`. A service
    /// that never answered one has no such series: the errors are then
    /// `0 * ` the requests (zero, with their labels), so the ratio is 0
    /// wherever there is traffic, not missing, and so is every SLO series
    /// built on it (a full budget, no burn).
    fn ratio(&self, class: char, window: Duration, func: &str) -> String {
        let req = &self.http.metrics.requests;
        let all = format!("sum({func}({req}{}[{window}]))", self.sel(""));
        format!(
            "(sum({func}({req}{}[{window}])) or 0 * {all}) / {all}",
            self.sel(&self.status(class)),
        )
    }

    fn record(&self, name: impl Into<String>, expr: String) -> Rule {
        Rule {
            record: Some(name.into()),
            alert: None,
            expr,
            for_: None,
            labels: vec![pair("service", self.name())],
            annotations: Vec::new(),
            about: None,
        }
    }

    fn recording_rules(&self) -> Vec<Rule> {
        let m = &self.http.metrics;
        let five = Duration::secs(300);
        let mut rules = vec![
            self.record(
                record::REQUEST_RATE,
                format!("sum(rate({}{}[5m]))", m.requests, self.sel("")),
            ),
            self.record(record::RATIO_5XX, self.ratio('5', five, "rate")),
            self.record(record::RATIO_4XX, self.ratio('4', five, "rate")),
        ];
        for percentile in record::READ_PERCENTILES {
            let Some(quantile) = Decimal::from_int(percentile).checked_div_exact(Decimal::HUNDRED)
            else {
                continue;
            };
            rules.push(self.record(
                record::latency(Decimal::from_int(percentile)),
                format!(
                    "histogram_quantile({quantile}, sum by (le) (rate({}_bucket{}[5m])))",
                    m.duration,
                    self.sel("")
                ),
            ));
        }
        rules.extend(self.slo_recording_rules());
        rules
    }

    fn rule_labels(&self, alert: &Alert) -> Vec<Pair> {
        let mut labels = alert_labels(alert.severity, self.service);
        if let Some(slo) = &alert.slo {
            labels.push(pair("slo", slo));
        }
        if let Some(tier) = alert.tier {
            labels.push(pair("tier", tier.as_str()));
        }
        let slo_extra = self.slo_of(alert).map(|s| s.labels.as_slice());
        for (k, v) in self
            .http
            .alert_labels
            .iter()
            .chain(slo_extra.unwrap_or_default())
        {
            labels.retain(|p| &p.name != k);
            labels.push(pair(k, v));
        }
        labels
    }

    fn annotations(&self, alert: &Alert, def: &AlertDef) -> Vec<Pair> {
        let mut annotations = alert_annotations(
            self.model,
            &alert.name,
            &def.summary,
            &def.description,
            Some(&self.dashboard_url()),
        );
        let slo_extra = self.slo_of(alert).map(|s| s.annotations.as_slice());
        for (k, v) in self
            .http
            .alert_annotations
            .iter()
            .chain(slo_extra.unwrap_or_default())
        {
            annotations.retain(|p| &p.name != k);
            annotations.push(pair(k, v));
        }
        annotations
    }

    /// What RegionDown says, and what to do: where the spec has a DNS
    /// failover record for the service, which name moves where and how
    /// long that takes.
    fn region_down_description(&self) -> String {
        let name = self.name();
        let down = format!(
            "All targets of {name} in region {{{{ $labels.region }}}} are down while other regions still serve."
        );
        let Some((dns, r)) = self
            .model
            .dns
            .as_ref()
            .and_then(|d| d.record_for(name).map(|r| (d, r)))
        else {
            return format!(
                "{down} Traffic must fail over: {name} has no DNS failover record in the spec."
            );
        };
        format!(
            "{down} {primary} (primary) down: {provider} answers {fqdn} with {secondary} once its health check of {path} on {host} fails (within {secs}s: {n} checks {interval}s apart, then the {ttl}s TTL; see {file}); check that `dig +short {fqdn}` returns {secondary_host}. {secondary} (secondary) down: {fqdn} stays on {primary}, without a standby until {secondary} is back.",
            primary = r.primary.region,
            secondary = r.secondary.region,
            provider = dns.provider_name(),
            fqdn = r.fqdn,
            path = r.health_path,
            host = r.primary.host,
            secondary_host = r.secondary.host,
            secs = dns.failover_secs(),
            n = dns.failure_threshold,
            interval = dns.health_check_interval,
            ttl = dns.ttl,
            file = crate::targets::dns::path(dns),
        )
    }
}
