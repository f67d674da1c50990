//! `prometheus/rules/<service>.yml` (recording and alert rules) and
//! `prometheus/tests/<service>.test.yml` (a promtool unit test for every
//! alert: series that cross its threshold make it fire with exactly the
//! expected labels and annotations; series just under it keep it quiet).
//!
//! Databases with backups get their freshness alerts from [`backup`].
//!
//! The recording rules' names are documented in [`crate::model::record`].
//! Every expression is parsed with promql-parser before it is written.

mod backup;
mod cache;

pub use backup::backup_rule_files;
pub use cache::cache_rule_files;

use std::collections::BTreeMap;

use serde::Serialize;

use super::catalog::{self, About, Pair, Rule, RuleFile, RuleGroup, Topic, pair};
use crate::engine::{EmitError, Emitter, Query};
use crate::model::{
    Alert, AlertKind, BurnRate, HttpService, Model, Scaling, Service, Severity, record, saturation,
};
use crate::output::FileMode;
use crate::units::{Decimal, Duration};
use crate::vocab::{dashboard_url, percent};

/// The promtool test's evaluation interval and series step.
const STEP_SECS: u64 = 60;

#[derive(Serialize)]
struct RulesContext<'a> {
    notes: &'a [String],
    groups: &'a [RuleGroup],
}

#[derive(Serialize)]
struct TestContext<'a> {
    rule_file: String,
    group_eval_order: Vec<String>,
    tests: &'a [TestGroup],
}

/// One promtool test group.
#[derive(Serialize)]
pub struct TestGroup {
    name: String,
    input_series: Vec<Series>,
    checks: Vec<Check>,
}

#[derive(Serialize)]
struct Series {
    series: String,
    values: String,
}

#[derive(Serialize)]
struct Check {
    eval_time: String,
    alertname: String,
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Serialize)]
struct ExpAlert {
    labels: Vec<Pair>,
    annotations: Vec<Pair>,
}

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

/// Writes every rule file of the catalog and its promtool test.
pub fn emit(files: &[RuleFile], out: &mut Emitter<'_>) -> Result<(), EmitError> {
    for file in files {
        let group_eval_order = file.groups.iter().map(|g| g.name.clone()).collect();
        out.render_with(
            &file.path,
            "prometheus/rules.yml.j2",
            &RulesContext {
                notes: &file.notes,
                groups: &file.groups,
            },
            FileMode::Regular,
            file.groups
                .iter()
                .flat_map(|g| &g.rules)
                .map(query)
                .collect(),
        )?;
        let rule_name = file.path.rsplit('/').next().unwrap_or(&file.path);
        out.render(
            &file.test_path,
            "prometheus/rules.test.yml.j2",
            &TestContext {
                rule_file: format!("../rules/{rule_name}"),
                group_eval_order,
                tests: &file.tests,
            },
            FileMode::Regular,
        )?;
    }
    Ok(())
}

/// A rule's expression, for the checker (`Emitter::render_with`).
fn query(rule: &Rule) -> Query {
    let name = rule.alert.as_deref().or(rule.record.as_deref());
    Query {
        what: format!("rule `{}`", name.unwrap_or_default()),
        expr: rule.expr.clone(),
    }
}

/// One service's rules and tests.
struct Builder<'a> {
    model: &'a Model,
    service: &'a Service,
    http: &'a HttpService,
    /// `job="api"`: the scrape job's selector, as prometheus.yml names it.
    job: String,
}

/// What one alert needs besides its resolved settings.
struct AlertDef {
    expr: String,
    /// The threshold in words, for the runbook.
    threshold: String,
    summary: String,
    description: String,
    cases: Vec<Case>,
}

/// One test group: its input, and whether (and with what) the alert fires.
struct Case {
    name: String,
    series: Vec<Series>,
    /// When the condition first holds, in steps from the start.
    onset: u64,
    /// The firing alerts' extra labels (from the series) and the values of
    /// the annotations' placeholders; empty when the alert must not fire.
    fires: Vec<Firing>,
}

struct Firing {
    labels: BTreeMap<String, String>,
    value: String,
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
                    override_key(*kind)
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

    fn ratio(&self, class: char, window: Duration, func: &str) -> String {
        let req = &self.http.metrics.requests;
        format!(
            "sum({func}({req}{}[{window}])) / sum({func}({req}{}[{window}]))",
            self.sel(&self.status(class)),
            self.sel("")
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
            file = dns.path(),
        )
    }

    /// The first scrape target's labels, as prometheus.yml gives them.
    fn target_labels(&self, target: usize) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::new();
        labels.insert("job".to_string(), self.name().to_string());
        labels.insert("service".to_string(), self.name().to_string());
        if let Some(t) = self.http.targets.get(target) {
            labels.insert("instance".to_string(), t.address.clone());
            if let Some(region) = &t.region {
                labels.insert("region".to_string(), region.clone());
            }
        }
        labels
    }

    fn series_of(name: &str, labels: &BTreeMap<String, String>) -> String {
        let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("{name}{{{}}}", inner.join(","))
    }

    /// Request counters: `errors` of `total` requests per step have a
    /// status of `class`xx, the rest 200.
    fn requests(&self, class: char, errors: u128, total: u128) -> Vec<Series> {
        let mut base = self.target_labels(0);
        let label = self.http.metrics.status_label.clone();
        let mut out = Vec::new();
        for (status, per_step) in [
            (format!("{class}00"), errors),
            ("200".to_string(), total - errors),
        ] {
            base.insert(label.clone(), status);
            out.push(Series {
                series: Self::series_of(&self.http.metrics.requests, &base),
                values: format!("0+{per_step}x{{n}}"),
            });
        }
        out
    }

    /// A ratio test: `errors/total` of requests are `class`xx errors.
    fn ratio_case(
        &self,
        name: String,
        class: char,
        errors: u128,
        total: u128,
        fires: bool,
    ) -> Case {
        let value = Decimal::from_int(errors as u64)
            .checked_div_exact(Decimal::from_int(total as u64))
            .unwrap_or(Decimal::ZERO);
        Case {
            name,
            series: self.requests(class, errors, total),
            onset: 1,
            fires: if fires {
                vec![Firing {
                    labels: BTreeMap::new(),
                    value: humanize_percentage(value),
                }]
            } else {
                Vec::new()
            },
        }
    }

    fn alert_def(&self, alert: &Alert) -> Option<AlertDef> {
        let name = self.name();
        let svc = format!("service=\"{name}\"");
        let slo = self.http.slo.as_ref();
        let namespace = self
            .model
            .platforms
            .kubernetes
            .as_ref()
            .map(|k| k.namespace.as_str());
        let container = saturation::container(name, namespace);
        Some(match alert.kind {
            AlertKind::SloBurnPage | AlertKind::SloBurnTicket => {
                let slo = slo?;
                let tiers: Vec<_> = slo
                    .burn_rates
                    .iter()
                    .filter(|b| Some(b.tier) == alert.tier)
                    .collect();
                let sel = format!("{{{svc},slo=\"availability\"}}");
                let expr = tiers
                    .iter()
                    .map(|b| {
                        format!(
                            "({}{sel} > {t} and {}{sel} > {t})",
                            record::sli_error(b.long),
                            record::sli_error(b.short),
                            t = b.threshold
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" or ");
                let when = tiers
                    .iter()
                    .map(|b| {
                        format!(
                            "above {} over {} and {} ({}x the budget rate)",
                            percent(b.threshold),
                            b.long,
                            b.short,
                            b.factor
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", or ");
                let scale = tiers.iter().map(|b| b.threshold.scale()).max().unwrap_or(0);
                let total = 10u128.pow(scale + 1);
                let mut cases = Vec::new();
                let hold = steps_of(alert.for_);
                for b in &tiers {
                    let others: Vec<_> =
                        tiers.iter().filter(|o| o.long != b.long).copied().collect();
                    if let Some(case) = self.burst_case(b, &others, hold) {
                        cases.push(case);
                        continue;
                    }
                    let errors = per(b.threshold, total) + 1;
                    let also: Vec<String> = others
                        .iter()
                        .filter(|o| o.threshold < b.threshold)
                        .map(|o| format!(" (the {}/{} tier fires too)", o.long, o.short))
                        .collect();
                    cases.push(self.ratio_case(
                        format!(
                            "fires at {}x burn over {}/{}{}",
                            b.factor,
                            b.long,
                            b.short,
                            also.concat()
                        ),
                        '5',
                        errors,
                        total,
                        true,
                    ));
                }
                let lowest = tiers.iter().map(|b| b.threshold).min()?;
                cases.push(self.ratio_case(
                    format!("stays quiet just under {}", percent(lowest)),
                    '5',
                    per(lowest, total).saturating_sub(1),
                    total,
                    false,
                ));
                AlertDef {
                    threshold: when.clone(),
                    expr,
                    summary: format!(
                        "{name} is spending its {} error budget too fast ({})",
                        slo.window,
                        alert.tier.map_or("", |t| t.as_str())
                    ),
                    description: format!(
                        "{{{{ $value | humanizePercentage }}}} of requests to {name} failed (5xx) over the long window. The objective {} over {} allows {}; this alert fires when errors are {when}.",
                        slo.availability.map(|a| a.to_string()).unwrap_or_default(),
                        slo.window,
                        percent(slo.error_budget()?),
                    ),
                    cases,
                }
            }
            AlertKind::ErrorRate5xx | AlertKind::ErrorRate4xx => {
                let (class, threshold, record) = if alert.kind == AlertKind::ErrorRate5xx {
                    ('5', slo?.error_rate_5xx?, record::RATIO_5XX)
                } else {
                    ('4', slo?.error_rate_4xx?, record::RATIO_4XX)
                };
                let t = threshold.fraction();
                let total = 10u128.pow(t.scale() + 1);
                let at = per(t, total);
                AlertDef {
                    threshold: threshold.to_string(),
                    expr: format!("{record}{{{svc}}} > {t}"),
                    summary: format!("{name}: {class}xx error rate above {threshold}"),
                    description: format!(
                        "{{{{ $value | humanizePercentage }}}} of requests to {name} returned {class}xx over the last 5m (threshold {threshold})."
                    ),
                    cases: vec![
                        self.ratio_case(
                            format!("fires just above {threshold}"),
                            class,
                            at + 1,
                            total,
                            true,
                        ),
                        self.ratio_case(
                            format!("stays quiet just under {threshold}"),
                            class,
                            at.saturating_sub(1),
                            total,
                            false,
                        ),
                    ],
                }
            }
            AlertKind::Latency => {
                let objective = slo?
                    .latency
                    .iter()
                    .find(|l| Some(l.percentile) == alert.percentile)?;
                let p = record::percentile_name(objective.percentile);
                let t = Decimal::from_parts(u128::from(objective.threshold.as_millis()), 3)?;
                AlertDef {
                    threshold: human(objective.threshold),
                    expr: format!("{}{{{svc}}} > {t}", record::latency(objective.percentile)),
                    summary: format!("{name}: {p} latency above {}", human(objective.threshold)),
                    description: format!(
                        "{p} latency of {name} is {{{{ $value | humanize }}}}s over the last 5m (threshold {}).",
                        human(objective.threshold)
                    ),
                    cases: vec![
                        self.latency_case(Some(objective.quantile), t, true),
                        self.latency_case(Some(objective.quantile), t, false),
                    ],
                }
            }
            AlertKind::TargetDown => {
                let labels = self.target_labels(0);
                let up = |v: u8| Series {
                    series: Self::series_of("up", &labels),
                    values: format!("{v}x{{n}}"),
                };
                AlertDef {
                    threshold: "every scrape fails".to_string(),
                    expr: format!("up{} == 0", self.sel("")),
                    summary: format!("{name} target {{{{ $labels.instance }}}} is down"),
                    description: format!(
                        "Prometheus cannot scrape {{{{ $labels.instance }}}} of {name}: the process is down or unreachable from Prometheus."
                    ),
                    cases: vec![
                        Case {
                            name: "fires when a target is down".into(),
                            series: vec![up(0)],
                            onset: 0,
                            fires: vec![Firing {
                                labels: labels.clone(),
                                value: String::new(),
                            }],
                        },
                        Case {
                            name: "stays quiet while every target is up".into(),
                            series: vec![up(1)],
                            onset: 0,
                            fires: Vec::new(),
                        },
                    ],
                }
            }
            AlertKind::MetricsAbsent => {
                let labels = self.target_labels(0);
                let up = Series {
                    series: Self::series_of("up", &labels),
                    values: "1x{n}".into(),
                };
                let req = &self.http.metrics.requests;
                let mut present = vec![Series {
                    series: Self::series_of("up", &labels),
                    values: "1x{n}".into(),
                }];
                present.extend(self.requests('5', 0, 10));
                AlertDef {
                    threshold: "no series at all".to_string(),
                    expr: format!("absent(up{sel}) or absent({req}{sel})", sel = self.sel("")),
                    summary: format!("{name}: no metrics"),
                    description: format!(
                        "Prometheus has no `up` or `{req}` series for job {name}: its scrape job is missing or the service does not export request metrics."
                    ),
                    cases: vec![
                        Case {
                            name: format!("fires when {req} is missing"),
                            series: vec![up],
                            onset: 0,
                            fires: vec![Firing {
                                labels: BTreeMap::from([("job".to_string(), name.to_string())]),
                                value: String::new(),
                            }],
                        },
                        Case {
                            name: "stays quiet while metrics arrive".into(),
                            series: present,
                            onset: 0,
                            fires: Vec::new(),
                        },
                    ],
                }
            }
            AlertKind::CpuHigh | AlertKind::MemoryHigh => {
                let Scaling::Auto(a) = &self.http.scaling else {
                    return None;
                };
                let r = self.http.resources.as_ref()?;
                let cpu = alert.kind == AlertKind::CpuHigh;
                let target = if cpu {
                    a.cpu_percent?
                } else {
                    a.memory_percent?
                };
                let (resource, request, what) = if cpu {
                    (
                        "cpu",
                        Decimal::from_parts(u128::from(r.cpu_millis), 3)?,
                        "CPU",
                    )
                } else {
                    ("memory", Decimal::from_int(r.memory_bytes), "memory")
                };
                let threshold = Decimal::from_parts(u128::from(target), 2)?;
                let case = |pct: u32, fires: bool| -> Option<Case> {
                    let ratio = Decimal::from_parts(u128::from(pct), 2)?;
                    let mut labels: BTreeMap<String, String> = BTreeMap::from([
                        ("container".to_string(), name.to_string()),
                        ("pod".to_string(), format!("{name}-0")),
                    ]);
                    if let Some(k) = &self.model.platforms.kubernetes {
                        labels.insert("namespace".into(), k.namespace.clone());
                    }
                    let used = ratio.checked_mul(request)?;
                    let usage = if cpu {
                        Series {
                            series: Self::series_of(saturation::CPU_USAGE, &labels),
                            values: format!(
                                "0+{}x{{n}}",
                                used.checked_mul(Decimal::from_int(STEP_SECS))?
                            ),
                        }
                    } else {
                        Series {
                            series: Self::series_of(saturation::MEMORY_USAGE, &labels),
                            values: format!("{used}x{{n}}"),
                        }
                    };
                    labels.insert("resource".into(), resource.into());
                    let requests = Series {
                        series: Self::series_of(saturation::REQUESTS, &labels),
                        values: format!("{request}x{{n}}"),
                    };
                    Some(Case {
                        name: format!(
                            "{} at {pct}% of the request",
                            if fires { "fires" } else { "stays quiet" }
                        ),
                        series: vec![usage, requests],
                        // A rate reaches its steady value once its 5m
                        // window is full of samples.
                        onset: if cpu { 5 } else { 0 },
                        fires: if fires {
                            vec![Firing {
                                labels: BTreeMap::new(),
                                value: humanize_percentage(ratio),
                            }]
                        } else {
                            Vec::new()
                        },
                    })
                };
                AlertDef {
                    threshold: format!("{target}% of the {what} request"),
                    expr: format!(
                        "{} >= {threshold}",
                        saturation::utilization(resource, &container)
                    ),
                    summary: format!(
                        "{name}: {what} at {{{{ $value | humanizePercentage }}}} of its request"
                    ),
                    description: format!(
                        "{what} use of {name} is {{{{ $value | humanizePercentage }}}} of its request ({}), at or above the autoscaling target of {target}%: the autoscaler is not keeping up.",
                        if cpu { &r.cpu } else { &r.memory }
                    ),
                    cases: vec![
                        case(target + 1, true)?,
                        case(target.saturating_sub(1), false)?,
                    ],
                }
            }
            AlertKind::ReplicasAtMax => {
                let Scaling::Auto(a) = &self.http.scaling else {
                    return None;
                };
                let mut labels =
                    BTreeMap::from([("horizontalpodautoscaler".to_string(), name.to_string())]);
                if let Some(k) = &self.model.platforms.kubernetes {
                    labels.insert("namespace".into(), k.namespace.clone());
                }
                let hpa = saturation::hpa(name, namespace);
                let case = |current: u32| -> Case {
                    let fires = current >= a.max_replicas;
                    Case {
                        name: format!(
                            "{} at {current} of {} replicas",
                            if fires { "fires" } else { "stays quiet" },
                            a.max_replicas
                        ),
                        series: vec![
                            Series {
                                series: Self::series_of(saturation::REPLICAS, &labels),
                                values: format!("{current}x{{n}}"),
                            },
                            Series {
                                series: Self::series_of(saturation::MAX_REPLICAS, &labels),
                                values: format!("{}x{{n}}", a.max_replicas),
                            },
                        ],
                        onset: 0,
                        fires: if fires {
                            vec![Firing {
                                labels: labels.clone(),
                                // As `humanize` prints it: 1000 is `1k`.
                                value: humanize(Decimal::from_int(u64::from(current))),
                            }]
                        } else {
                            Vec::new()
                        },
                    }
                };
                AlertDef {
                    threshold: format!("{} replicas", a.max_replicas),
                    expr: format!(
                        "{}{{{hpa}}} >= {}{{{hpa}}}",
                        saturation::REPLICAS,
                        saturation::MAX_REPLICAS
                    ),
                    summary: format!(
                        "{name}: autoscaler at its maximum of {} replicas",
                        a.max_replicas
                    ),
                    description: format!(
                        "The autoscaler of {name} runs {{{{ $value | humanize }}}} replicas, its maximum: it cannot add capacity if load grows."
                    ),
                    cases: vec![case(a.max_replicas), case(a.max_replicas.saturating_sub(1))],
                }
            }
            AlertKind::RegionDown => {
                let first = self.http.targets.first()?.region.clone()?;
                let series = |first_up: u8, others_up: u8| -> Vec<Series> {
                    (0..self.http.targets.len())
                        .map(|i| {
                            let labels = self.target_labels(i);
                            let up = if labels.get("region") == Some(&first) {
                                first_up
                            } else {
                                others_up
                            };
                            Series {
                                series: Self::series_of("up", &labels),
                                values: format!("{up}x{{n}}"),
                            }
                        })
                        .collect()
                };
                AlertDef {
                    threshold: "every target of one region down, another region up".to_string(),
                    expr: format!(
                        "(sum by (region) (up{sel}) == 0) and on () (sum(up{sel}) > 0)",
                        sel = self.sel("")
                    ),
                    summary: format!("{name}: every target in {{{{ $labels.region }}}} is down"),
                    description: self.region_down_description(),
                    cases: vec![
                        Case {
                            name: format!("fires when all of {first} is down"),
                            series: series(0, 1),
                            onset: 0,
                            fires: vec![Firing {
                                labels: BTreeMap::from([("region".to_string(), first.clone())]),
                                value: String::new(),
                            }],
                        },
                        Case {
                            name: "stays quiet when no region serves (TargetDown covers it)".into(),
                            series: series(0, 0),
                            onset: 0,
                            fires: Vec::new(),
                        },
                    ],
                }
            }
        })
    }

    /// Tier `b` alone: after a quiet history as long as the longest other
    /// window, errors burst just above `b`'s threshold for `b`'s long window
    /// and the `for`, while every other tier's long window stays under its
    /// threshold. `None` when no such input exists: a 1d/2h tier at 3× is
    /// always joined by the 3d/6h tier at 1×, for any SLO window, so that
    /// tier is tested with a steady ratio instead.
    fn burst_case(&self, b: &BurnRate, others: &[&BurnRate], hold: u64) -> Option<Case> {
        let long = steps_of(b.long);
        let quiet = others.iter().map(|o| steps_of(o.long)).max()?;
        // Enough requests per step that one window of them resolves the
        // threshold: the window is under it one step before it is full.
        let mut total = 10u128.pow(b.threshold.scale() + 1);
        while per(b.threshold, total) < u128::from(long) {
            total = total.checked_mul(10)?;
        }
        let errors = per(b.threshold, total) + 1;
        let ratio = Decimal::from_int(u64::try_from(errors).ok()?)
            .checked_div_exact(Decimal::from_int(u64::try_from(total).ok()?))?;
        for o in others {
            let seen = ratio.checked_mul(Decimal::from_int(long + hold))?;
            let limit = o
                .threshold
                .checked_mul(Decimal::from_int(steps_of(o.long)))?;
            if o.long <= b.long || seen >= limit {
                return None;
            }
        }
        let onset = quiet + long;
        let last = onset + hold + 1;
        let mut labels = self.target_labels(0);
        let status = self.http.metrics.status_label.clone();
        labels.insert(status.clone(), "500".into());
        let error_series = Series {
            series: Self::series_of(&self.http.metrics.requests, &labels),
            values: format!("0x{quiet} {errors}+{errors}x{}", last - quiet - 1),
        };
        labels.insert(status, "200".into());
        let ok_series = Series {
            series: Self::series_of(&self.http.metrics.requests, &labels),
            values: format!("0+{}x{last}", total - errors),
        };
        Some(Case {
            name: format!(
                "fires at {}x burn over {}/{} after a quiet {}",
                b.factor,
                b.long,
                b.short,
                minutes(quiet)
            ),
            series: vec![error_series, ok_series],
            onset,
            fires: vec![Firing {
                labels: BTreeMap::new(),
                value: humanize_percentage(ratio),
            }],
        })
    }

    /// Histogram buckets at `t/2`, the threshold `t` and `2t`. Every
    /// request lands in (t, 2t], so the quantile is `t × (1 + q)`, just
    /// above `t`'s bucket; or in (t/2, t], so it is `t × (1 + q) / 2`, just
    /// under `t` (97.5% of it for p95). Both are exact, for the annotation.
    fn latency_case(&self, quantile: Option<Decimal>, t: Decimal, fires: bool) -> Case {
        let q = quantile.unwrap_or(Decimal::ZERO);
        let total = 100u32;
        let mut labels = self.target_labels(0);
        let bucket = format!("{}_bucket", self.http.metrics.duration);
        let half = Decimal::from_parts(5, 1).unwrap_or(Decimal::ONE);
        let half_t = t.checked_mul(half).unwrap_or(t);
        let two_t = t.checked_mul(Decimal::from_int(2)).unwrap_or(t);
        let mut series = Vec::new();
        for (le, count) in [
            (half_t.to_string(), 0),
            (t.to_string(), if fires { 0 } else { total }),
            (two_t.to_string(), total),
            ("+Inf".to_string(), total),
        ] {
            labels.insert("le".to_string(), le);
            series.push(Series {
                series: Self::series_of(&bucket, &labels),
                values: format!("0+{count}x{{n}}"),
            });
        }
        let (low, width) = if fires { (t, t) } else { (half_t, half_t) };
        let value = width
            .checked_mul(q)
            .and_then(|v| v.checked_add(low))
            .unwrap_or(Decimal::ZERO);
        Case {
            name: format!(
                "{} at {}s",
                if fires { "fires" } else { "stays quiet" },
                value
            ),
            series,
            onset: 1,
            fires: if fires {
                vec![Firing {
                    labels: BTreeMap::new(),
                    value: humanize(value),
                }]
            } else {
                Vec::new()
            },
        }
    }
}

/// Fills an annotation's Go-template placeholders as Prometheus would for
/// one firing alert.
/// The labels every alert carries: `severity`, `service`, and `team` when
/// the service has one.
fn alert_labels(severity: Severity, service: &Service) -> Vec<Pair> {
    let mut labels = vec![
        pair("severity", severity.as_str()),
        pair("service", &service.name),
    ];
    if let Some(team) = &service.team {
        labels.push(pair("team", team));
    }
    labels
}

/// The annotations every alert carries: `summary`, `description`, the
/// `runbook_url` of its generated runbook, and its `dashboard` when it has one.
fn alert_annotations(
    model: &Model,
    alert: &str,
    summary: &str,
    description: &str,
    dashboard: Option<&str>,
) -> Vec<Pair> {
    let mut a = vec![
        pair("summary", summary),
        pair("description", description),
        pair("runbook_url", &catalog::runbook_url(model, alert)),
    ];
    if let Some(url) = dashboard {
        a.push(pair("dashboard", url));
    }
    a
}

/// An alert's rule as every source of rules writes it.
struct AlertRule<'a> {
    name: &'a str,
    for_: Duration,
    expr: String,
    labels: Vec<Pair>,
    annotations: Vec<Pair>,
    about: About,
}

impl AlertRule<'_> {
    /// The rule, with one promtool test group per case appended to `tests`.
    fn build(self, cases: &[Case], tests: &mut Vec<TestGroup>) -> Rule {
        for case in cases {
            tests.push(test_group(
                self.name,
                self.for_,
                &self.labels,
                &self.annotations,
                case,
            ));
        }
        Rule {
            record: None,
            alert: Some(self.name.to_string()),
            expr: self.expr,
            for_: (!self.for_.is_zero()).then(|| self.for_.to_string()),
            labels: self.labels,
            annotations: self.annotations,
            about: Some(self.about),
        }
    }
}

/// One promtool test group: the case's series, and checks that the alert
/// is still pending one step before its `for` has passed and then fires (or
/// stays quiet) with exactly these labels and annotations.
fn test_group(
    alert: &str,
    for_: Duration,
    labels: &[Pair],
    annotations: &[Pair],
    case: &Case,
) -> TestGroup {
    let hold = steps_of(for_);
    let fire_at = case.onset + hold;
    let mut checks = Vec::new();
    if !case.fires.is_empty() && hold > 0 {
        // Still pending one step before `for` has passed.
        checks.push(Check {
            eval_time: minutes(fire_at - 1),
            alertname: alert.to_string(),
            exp_alerts: Vec::new(),
        });
    }
    checks.push(Check {
        eval_time: minutes(fire_at),
        alertname: alert.to_string(),
        exp_alerts: case
            .fires
            .iter()
            .map(|f| {
                let mut all: BTreeMap<String, String> = f.labels.clone();
                for l in labels {
                    all.insert(l.name.clone(), l.value.clone());
                }
                ExpAlert {
                    labels: all
                        .into_iter()
                        .map(|(k, v)| Pair { name: k, value: v })
                        .collect(),
                    annotations: annotations
                        .iter()
                        .map(|a| Pair {
                            name: a.name.clone(),
                            value: expand(&a.value, f),
                        })
                        .collect(),
                }
            })
            .collect(),
    });
    let steps = fire_at + 1;
    TestGroup {
        name: format!("{alert} {}", case.name),
        input_series: case
            .series
            .iter()
            .map(|s| Series {
                series: s.series.clone(),
                values: s.values.replace("{n}", &steps.to_string()),
            })
            .collect(),
        checks,
    }
}

fn expand(template: &str, firing: &Firing) -> String {
    let mut text = template
        .replace("{{ $value | humanizePercentage }}", &firing.value)
        .replace("{{ $value | humanize }}", &firing.value);
    for (k, v) in &firing.labels {
        text = text.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    text
}

/// The spec key of an alert kind under `[service.alerts]`.
fn override_key(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::SloBurnPage => "slo_burn_page",
        AlertKind::SloBurnTicket => "slo_burn_ticket",
        AlertKind::ErrorRate5xx => "error_rate_5xx",
        AlertKind::ErrorRate4xx => "error_rate_4xx",
        AlertKind::Latency => "latency",
        AlertKind::TargetDown => "target_down",
        AlertKind::MetricsAbsent => "metrics_absent",
        AlertKind::CpuHigh => "cpu_high",
        AlertKind::MemoryHigh => "memory_high",
        AlertKind::ReplicasAtMax => "replicas_at_max",
        AlertKind::RegionDown => "region_down",
    }
}

/// A latency for people: `500ms`, `2s`, `1.5s` (not `1s500ms`).
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 || d.whole_secs().is_some() {
        return d.to_string();
    }
    format!(
        "{}s",
        Decimal::from_parts(u128::from(ms), 3).unwrap_or(Decimal::ZERO)
    )
}

/// A duration in test steps, rounded up.
fn steps_of(d: Duration) -> u64 {
    d.as_millis().div_ceil(STEP_SECS * 1000)
}

fn minutes(steps: u64) -> String {
    Duration::from_millis(steps * STEP_SECS * 1000).to_string()
}

/// `fraction × total`, rounded down: how many of `total` requests make that ratio.
fn per(fraction: Decimal, total: u128) -> u128 {
    let scale = 10u128.pow(fraction.scale());
    fraction.digits() * total / scale
}

/// Prometheus's `humanizePercentage`: `%.4g%%` of the value × 100.
fn humanize_percentage(v: Decimal) -> String {
    format!(
        "{}%",
        go_g4(v.checked_mul(Decimal::HUNDRED).unwrap_or(Decimal::ZERO))
    )
}

/// Prometheus's `humanize`: `%.4g` with an SI prefix (k, M, … or m, u, …).
fn humanize(v: Decimal) -> String {
    let thousand = Decimal::from_int(1000);
    let mut v = v;
    let mut prefix = "";
    if v.is_zero() {
        return "0".to_string();
    }
    if v >= Decimal::ONE {
        for p in ["k", "M", "G", "T", "P", "E"] {
            if v < thousand {
                break;
            }
            match v.checked_div_exact(thousand) {
                Some(d) => v = d,
                None => break,
            }
            prefix = p;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a"] {
            if v >= Decimal::ONE {
                break;
            }
            match v.checked_mul(thousand) {
                Some(d) => v = d,
                None => break,
            }
            prefix = p;
        }
    }
    format!("{}{prefix}", go_g4(v))
}

/// Go's `%.4g` of an exact decimal: four significant digits, trailing
/// zeros dropped, an exponent below 1e-4 or from 1e4. Rounds half up; Go
/// rounds the float it is given, so an exact tie could differ: the test
/// values are chosen so the digit after the fourth is never a lone 5.
fn go_g4(v: Decimal) -> String {
    if v.is_zero() {
        return "0".to_string();
    }
    let digits = v.digits().to_string();
    // v = 0.d1d2d3… × 10^exp10
    let exp10 = digits.len() as i64 - i64::from(v.scale());
    let mut sig: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    let mut exp = exp10 - 1; // exponent of the first significant digit
    if sig.len() > 4 {
        let round_up = sig[4] >= 5;
        sig.truncate(4);
        if round_up {
            let mut i = 3;
            loop {
                if sig[i] == 9 {
                    sig[i] = 0;
                    if i == 0 {
                        sig.insert(0, 1);
                        sig.truncate(4);
                        exp += 1;
                        break;
                    }
                    i -= 1;
                } else {
                    sig[i] += 1;
                    break;
                }
            }
        }
    }
    while sig.len() > 1 && sig.last() == Some(&0) {
        sig.pop();
    }
    let text: String = sig.iter().map(|d| char::from(b'0' + d)).collect();
    if !(-4..4).contains(&exp) {
        let (first, rest) = text.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    if exp < 0 {
        format!("0.{}{text}", "0".repeat((-exp - 1) as usize))
    } else {
        let int_len = (exp + 1) as usize;
        if text.len() <= int_len {
            format!("{text}{}", "0".repeat(int_len - text.len()))
        } else {
            format!("{}.{}", &text[..int_len], &text[int_len..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect("decimal")
    }

    #[test]
    fn a_rule_query_is_named_by_its_alert_or_record() {
        let mut rule = Rule {
            record: None,
            alert: Some("HighErrorRate5xx".into()),
            expr: "sum(rate(x[5m]))".into(),
            for_: None,
            labels: Vec::new(),
            annotations: Vec::new(),
            about: None,
        };
        assert_eq!(query(&rule).what, "rule `HighErrorRate5xx`");
        assert_eq!(query(&rule).expr, "sum(rate(x[5m]))");
        rule.alert = None;
        rule.record = Some("job:x:rate5m".into());
        assert_eq!(query(&rule).what, "rule `job:x:rate5m`");
    }

    #[test]
    fn go_percent_g_formatting() {
        assert_eq!(go_g4(d("1.441")), "1.441");
        assert_eq!(go_g4(d("0.093331")), "0.09333");
        assert_eq!(go_g4(d("81")), "81");
        assert_eq!(go_g4(d("2.9999")), "3");
        assert_eq!(go_g4(d("12346")), "1.235e+04");
        assert_eq!(go_g4(d("0.00001")), "1e-05");
        assert_eq!(humanize_percentage(d("0.01441")), "1.441%");
        assert_eq!(humanize(d("0.975")), "975m");
        assert_eq!(humanize(d("2.985")), "2.985");
        assert_eq!(humanize(d("20")), "20");
        assert_eq!(humanize(d("1500")), "1.5k");
    }
}
