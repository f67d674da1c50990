//! An HTTP service's rule file: recording rules (request rate, error
//! ratios, latency percentiles, the SLO's error ratios and budget) and its
//! alerts, each with the promtool cases that make it fire and keep it quiet.
//! The alerts are in `http/alerts.rs`, the test cases in `http/cases.rs`.

mod alerts;
mod cases;

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
        tests.extend(self.full_budget_case());
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
        let slo = self.http.slo.as_ref();
        if slo.and_then(|s| s.availability).is_none() {
            notes.push(
                "No burn-rate alerts or SLO-window ratios: the service has no availability objective."
                    .to_string(),
            );
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
            notes.push(
                "No RegionDown alert: the service's targets are not in two or more regions."
                    .to_string(),
            );
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

    fn record(&self, name: impl Into<String>, expr: String, slo: bool) -> Rule {
        let mut labels = vec![pair("service", self.name())];
        if slo {
            labels.push(pair("slo", "availability"));
        }
        Rule {
            record: Some(name.into()),
            alert: None,
            expr,
            for_: None,
            labels,
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
                false,
            ),
            self.record(record::RATIO_5XX, self.ratio('5', five, "rate"), false),
            self.record(record::RATIO_4XX, self.ratio('4', five, "rate"), false),
        ];
        let mut percentiles = vec![(Decimal::from_int(50), Decimal::from_parts(5, 1))];
        if let Some(slo) = &self.http.slo {
            for l in &slo.latency {
                if l.percentile != Decimal::from_int(50) {
                    percentiles.push((l.percentile, Some(l.quantile)));
                }
            }
        }
        for (percentile, quantile) in percentiles {
            let Some(quantile) = quantile else { continue };
            rules.push(self.record(
                record::latency(percentile),
                format!(
                    "histogram_quantile({quantile}, sum by (le) (rate({}_bucket{}[5m])))",
                    m.duration,
                    self.sel("")
                ),
                false,
            ));
        }
        if let Some(slo) = self.http.slo.as_ref().filter(|s| !s.burn_rates.is_empty()) {
            for window in slo.burn_windows() {
                rules.push(self.record(
                    record::sli_error(window),
                    self.ratio('5', window, "rate"),
                    true,
                ));
            }
        }
        rules
    }

    /// The SLO window's own ratio, from increases over the whole window
    /// (not an average of short ratios), the objective and the budget left.
    /// Evaluated every 5m: a window-long range is expensive and changes slowly.
    fn slo_window_rules(&self) -> Option<RuleGroup> {
        let slo = self.http.slo.as_ref()?;
        let objective = slo.availability?.fraction();
        let budget = slo.error_budget()?;
        let window_ratio = record::sli_error(slo.window);
        Some(RuleGroup {
            name: format!("{}-slo-window", self.name()),
            interval: Some("5m".to_string()),
            rules: vec![
                self.record(
                    window_ratio.clone(),
                    self.ratio('5', slo.window, "increase"),
                    true,
                ),
                self.record(record::OBJECTIVE, format!("vector({objective})"), true),
                self.record(
                    record::BUDGET_REMAINING,
                    format!(
                        "1 - {window_ratio}{{service=\"{}\",slo=\"availability\"}} / {budget}",
                        self.name()
                    ),
                    true,
                ),
            ],
        })
    }

    fn rule_labels(&self, alert: &Alert) -> Vec<Pair> {
        let mut labels = alert_labels(alert.severity, self.service);
        if let Some(slo) = alert.slo {
            labels.push(pair("slo", slo.as_str()));
        }
        if let Some(tier) = alert.tier {
            labels.push(pair("tier", tier.as_str()));
        }
        labels
    }

    fn annotations(&self, alert: &Alert, def: &AlertDef) -> Vec<Pair> {
        alert_annotations(
            self.model,
            &alert.name,
            &def.summary,
            &def.description,
            Some(&self.dashboard_url()),
        )
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
