//! `prometheus/rules/<cache>.yml` and `prometheus/tests/<cache>.test.yml`
//! for each Redis cache: saturation alerts on redis_exporter's series,
//! each with a promtool test that makes it fire with exactly the expected
//! labels and annotations, and one that keeps it quiet just under its
//! threshold.
//!
//! Which alerts a cache gets is decided in the model
//! ([`crate::model::Redis::alert_rules`]); the dashboards draw the same
//! thresholds. A full `allkeys-*` cache is working as designed (it evicts),
//! so it has no memory alert: the notes at the top of its file say so.

use std::collections::BTreeMap;

use super::super::catalog::{About, Pair, RuleFile, RuleGroup, Topic};
use super::{
    AlertRule, Case, Firing, Series, alert_annotations, alert_labels, humanize_percentage,
};
use crate::model::{CacheAlert, CacheAlertKind, Model, Redis, Service, redis_series as series};
use crate::units::Decimal;
use crate::vocab::{dashboard_url, percent};

/// The rule files of the Redis caches, one per cache.
pub fn cache_rule_files(model: &Model) -> Vec<RuleFile> {
    model
        .services
        .iter()
        .filter_map(|service| {
            let redis = service.redis()?;
            Some(
                CacheRules {
                    model,
                    service,
                    redis,
                    job: format!("job=\"{}\"", service.name),
                }
                .build(),
            )
        })
        .collect()
}

struct CacheRules<'a> {
    model: &'a Model,
    service: &'a Service,
    redis: &'a Redis,
    /// `job="cache"`: the exporter's scrape job.
    job: String,
}

/// An alert's expression, texts and test cases.
struct Def {
    expr: String,
    summary: String,
    description: String,
    cases: Vec<Case>,
}

impl CacheRules<'_> {
    fn name(&self) -> &str {
        &self.service.name
    }

    fn build(&self) -> RuleFile {
        let mut rules = Vec::new();
        let mut tests = Vec::new();
        for alert in &self.redis.alert_rules {
            let def = self.def(alert);
            let labels = alert_labels(alert.severity, self.service);
            let annotations = self.annotations(alert, &def);
            let about = About {
                topic: Topic::Cache(alert.kind),
                slo: None,
                service: self.name().to_string(),
                team: self.service.team.clone(),
                severity: alert.severity,
                threshold: self.threshold(alert),
                dashboard_url: self.dashboard_url(),
            };
            rules.push(
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
        let mut notes = vec![format!(
            "Redis cache {}: maxmemory {}, eviction policy {}; series from redis_exporter (job {}).",
            self.name(),
            self.redis.maxmemory,
            self.redis.eviction_policy.as_str(),
            self.name()
        )];
        if self.redis.eviction_policy.evicts_any_key() {
            notes.push(format!(
                "No memory alert: with {} a full cache evicts and stays writable; its dashboard shows evictions and the hit ratio.",
                self.redis.eviction_policy.as_str()
            ));
        }
        RuleFile {
            path: crate::targets::alerting::rules_path(self.name()),
            test_path: crate::targets::alerting::tests_path(self.name()),
            notes,
            groups: vec![RuleGroup {
                name: format!("{}-alerts", self.name()),
                interval: None,
                rules,
            }],
            tests,
        }
    }

    /// The alert's threshold in words, for its runbook.
    fn threshold(&self, alert: &CacheAlert) -> String {
        let ratio = || percent(alert.threshold.unwrap_or(Decimal::ONE));
        match alert.kind {
            CacheAlertKind::Down => "Redis or its exporter not answering".to_string(),
            CacheAlertKind::MemoryHigh => {
                format!("{} of maxmemory ({})", ratio(), self.redis.maxmemory)
            }
            CacheAlertKind::TooManyClients => {
                format!("{} of maxclients ({})", ratio(), self.redis.maxclients)
            }
            CacheAlertKind::RejectedConnections => {
                "any connection refused within 5 minutes".to_string()
            }
        }
    }

    fn dashboard_url(&self) -> String {
        dashboard_url(
            &self.model.monitoring.grafana_url,
            &self.service.dashboard_uid(),
        )
    }

    fn sel(&self) -> String {
        format!("{{{}}}", self.job)
    }

    fn annotations(&self, alert: &CacheAlert, def: &Def) -> Vec<Pair> {
        alert_annotations(
            self.model,
            &alert.name,
            &def.summary,
            &def.description,
            Some(&self.dashboard_url()),
        )
    }

    /// The exporter target's labels, as prometheus.yml gives them.
    fn target_labels(&self) -> BTreeMap<String, String> {
        let t = &self.redis.target;
        let mut labels = BTreeMap::from([
            ("job".to_string(), self.name().to_string()),
            ("service".to_string(), self.name().to_string()),
            ("instance".to_string(), t.address.clone()),
        ]);
        if let Some(region) = &t.region {
            labels.insert("region".to_string(), region.clone());
        }
        labels
    }

    fn series(&self, name: &str, values: String) -> Series {
        let inner: Vec<String> = self
            .target_labels()
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        Series {
            series: format!("{name}{{{}}}", inner.join(",")),
            values,
        }
    }

    /// A ratio alert's case: `part` of `whole` held steady.
    fn ratio_case(
        &self,
        (part_series, whole_series): (&str, &str),
        part: u64,
        whole: u64,
        fires: bool,
    ) -> Case {
        let ratio = Decimal::from_int(part)
            .checked_div_exact(Decimal::from_int(whole))
            .unwrap_or(Decimal::ZERO);
        Case {
            name: format!(
                "{} at {}",
                if fires { "fires" } else { "stays quiet" },
                humanize_percentage(ratio)
            ),
            series: vec![
                self.series(part_series, format!("{part}x{{n}}")),
                self.series(whole_series, format!("{whole}x{{n}}")),
            ],
            onset: 0,
            fires: if fires {
                vec![Firing {
                    labels: self.target_labels(),
                    value: humanize_percentage(ratio),
                }]
            } else {
                Vec::new()
            },
        }
    }

    fn def(&self, alert: &CacheAlert) -> Def {
        let name = self.name();
        let sel = self.sel();
        let threshold = alert.threshold.unwrap_or(Decimal::ONE);
        // Five points either side of the threshold, in hundredths.
        let hundredths = |delta: i64| -> u64 {
            let t = threshold
                .checked_mul(Decimal::HUNDRED)
                .and_then(Decimal::to_u64)
                .unwrap_or(90);
            t.saturating_add_signed(delta)
        };
        match alert.kind {
            CacheAlertKind::Down => {
                let fired = || {
                    vec![Firing {
                        labels: self.target_labels(),
                        value: String::new(),
                    }]
                };
                Def {
                    expr: format!("{}{sel} == 0 or up{sel} == 0", series::UP),
                    summary: format!("{name}: Redis at {{{{ $labels.instance }}}} is down"),
                    description: format!(
                        "redis_exporter at {{{{ $labels.instance }}}} cannot reach Redis, or Prometheus cannot scrape the exporter: clients of {name} fail or miss the cache."
                    ),
                    cases: vec![
                        Case {
                            name: "fires when Redis does not answer the exporter".into(),
                            series: vec![
                                self.series("up", "1x{n}".into()),
                                self.series(series::UP, "0x{n}".into()),
                            ],
                            onset: 0,
                            fires: fired(),
                        },
                        Case {
                            name: "fires when the exporter is down".into(),
                            series: vec![self.series("up", "0x{n}".into())],
                            onset: 0,
                            fires: fired(),
                        },
                        Case {
                            name: "stays quiet while Redis answers".into(),
                            series: vec![
                                self.series("up", "1x{n}".into()),
                                self.series(series::UP, "1x{n}".into()),
                            ],
                            onset: 0,
                            fires: Vec::new(),
                        },
                    ],
                }
            }
            CacheAlertKind::MemoryHigh => {
                let max = self.redis.maxmemory_bytes;
                let at = |h: u64| max / 100 * h;
                let full = if self.redis.eviction_policy.as_str() == "noeviction" {
                    "writes fail with OOM errors once it is full".to_string()
                } else {
                    format!(
                        "with {} it can evict only keys that have a TTL, and writes fail once none is left",
                        self.redis.eviction_policy.as_str()
                    )
                };
                Def {
                    expr: format!(
                        "{}{sel} / ({}{sel} > 0) > {threshold}",
                        series::MEMORY_USED,
                        series::MEMORY_MAX
                    ),
                    summary: format!(
                        "{name}: Redis memory above {} of maxmemory",
                        percent(threshold)
                    ),
                    description: format!(
                        "Redis at {{{{ $labels.instance }}}} uses {{{{ $value | humanizePercentage }}}} of its maxmemory ({}): {full}.",
                        self.redis.maxmemory
                    ),
                    cases: vec![
                        self.ratio_case(
                            (series::MEMORY_USED, series::MEMORY_MAX),
                            at(hundredths(5)),
                            max / 100 * 100,
                            true,
                        ),
                        self.ratio_case(
                            (series::MEMORY_USED, series::MEMORY_MAX),
                            at(hundredths(-5)),
                            max / 100 * 100,
                            false,
                        ),
                    ],
                }
            }
            CacheAlertKind::TooManyClients => {
                let max = u64::from(self.redis.maxclients);
                let at = |h: u64| max / 100 * h;
                Def {
                    expr: format!(
                        "{}{sel} / ({}{sel} > 0) > {threshold}",
                        series::CLIENTS,
                        series::MAX_CLIENTS
                    ),
                    summary: format!(
                        "{name}: Redis clients above {} of maxclients",
                        percent(threshold)
                    ),
                    description: "Redis at {{ $labels.instance }} has {{ $value | humanizePercentage }} of its maxclients connected: at the limit it refuses new connections. Look for a connection leak or an undersized pool.".to_string(),
                    cases: vec![
                        self.ratio_case(
                            (series::CLIENTS, series::MAX_CLIENTS),
                            at(hundredths(5)),
                            max / 100 * 100,
                            true,
                        ),
                        self.ratio_case(
                            (series::CLIENTS, series::MAX_CLIENTS),
                            at(hundredths(-5)),
                            max / 100 * 100,
                            false,
                        ),
                    ],
                }
            }
            CacheAlertKind::RejectedConnections => Def {
                expr: format!("increase({}{sel}[5m]) > 0", series::REJECTED),
                summary: format!("{name}: Redis is refusing connections"),
                description: format!(
                    "Redis at {{{{ $labels.instance }}}} refused client connections in the last 5m: it is at maxclients, so clients of {name} get errors."
                ),
                cases: vec![
                    Case {
                        name: "fires when a connection is refused".into(),
                        series: vec![self.series(series::REJECTED, "0+1x{n}".into())],
                        onset: 1,
                        fires: vec![Firing {
                            labels: self.target_labels(),
                            value: String::new(),
                        }],
                    },
                    Case {
                        name: "stays quiet while none is".into(),
                        series: vec![self.series(series::REJECTED, "0x{n}".into())],
                        onset: 1,
                        fires: Vec::new(),
                    },
                ],
            },
        }
    }
}
