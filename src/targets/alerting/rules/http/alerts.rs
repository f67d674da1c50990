//! Each alert of an HTTP service: its expression, threshold, summary and
//! description, and the cases that prove it fires and stays quiet.

use std::collections::BTreeMap;

use super::super::{AlertDef, Case, Firing, STEP_SECS, Series, humanize, humanize_percentage, per};
use super::Builder;
use crate::model::{Alert, AlertKind, Scaling, record, saturation};
use crate::units::Decimal;

/// How long no target may have exported the request counter before
/// MetricsAbsent counts a service whose targets are all up as blind.
const ABSENT_FOR: &str = "1d";

impl Builder<'_> {
    pub(super) fn alert_def(&self, alert: &Alert) -> Option<AlertDef> {
        let name = self.name();
        let svc = format!("service=\"{name}\"");
        let namespace = self
            .model
            .platforms
            .kubernetes
            .as_ref()
            .map(|k| k.namespace.as_str());
        let container = saturation::container(name, namespace);
        Some(match alert.kind {
            AlertKind::SloBurnPage | AlertKind::SloBurnTicket => return self.burn_def(alert),
            AlertKind::BudgetExhausted => return self.exhausted_def(alert),
            AlertKind::ErrorRate5xx | AlertKind::ErrorRate4xx => {
                let (class, threshold, record) = if alert.kind == AlertKind::ErrorRate5xx {
                    ('5', self.http.error_rate_5xx?, record::RATIO_5XX)
                } else {
                    ('4', self.http.error_rate_4xx?, record::RATIO_4XX)
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
                // Only what an outage cannot cause: no target at all, or a
                // target that is up (scraped) yet exports no request
                // counter. A down target has `up` 0 and stale request
                // series: TargetDown's, not this alert's. Many client
                // libraries create a labelled counter at its first request,
                // so a replica that has served none exports no series yet:
                // one replica without the counter counts only while the
                // service serves traffic (the load balancer would have sent
                // it some), and a service none of whose targets exports it
                // only when no target has for a day.
                let base = self.target_labels(0);
                let replica = |instance: &str| {
                    let mut labels = base.clone();
                    labels.insert("instance".to_string(), instance.to_string());
                    labels
                };
                let (new, serving) = (replica("new-replica:80"), replica("serving-replica:80"));
                let up = |labels: &BTreeMap<String, String>| Series {
                    series: Self::series_of("up", labels),
                    values: "1x{n}".to_string(),
                };
                let req = &self.http.metrics.requests;
                let requests = |labels: &BTreeMap<String, String>, values: &str| {
                    let mut labels = labels.clone();
                    labels.insert(self.http.metrics.status_label.clone(), "200".to_string());
                    Series {
                        series: Self::series_of(req, &labels),
                        values: values.to_string(),
                    }
                };
                let sel = self.sel("");
                let firing = |labels: BTreeMap<String, String>| {
                    vec![Firing {
                        labels,
                        value: String::new(),
                    }]
                };
                AlertDef {
                    threshold: "no target; or a target up without request metrics while the service serves traffic; or every target up and none with request metrics for a day".to_string(),
                    expr: format!(
                        "absent(up{sel}) \
                         or ((up{sel} == 1 unless on (instance) {req}{sel}) and on () (sum(rate({req}{sel}[5m])) > 0)) \
                         or (count(up{sel} == 1) unless on () count(last_over_time({req}{sel}[{ABSENT_FOR}])))"
                    ),
                    summary: format!("{name}: no request metrics"),
                    description: format!(
                        "Prometheus scrapes no target of job {name}; or a target that is up exports no `{req}` while other targets serve traffic; or no target has exported it for a day: the scrape job is missing, or the service does not export the request metrics every other alert of it reads."
                    ),
                    cases: vec![
                        Case {
                            name: "fires when the job has no target".into(),
                            series: vec![Series {
                                series: "up{job=\"prometheus\"}".into(),
                                values: "1x{n}".into(),
                            }],
                            onset: 0,
                            fires: vec![Firing {
                                labels: BTreeMap::from([("job".to_string(), name.to_string())]),
                                value: String::new(),
                            }],
                        },
                        Case {
                            name: format!(
                                "fires when a replica is up without {req} while another serves traffic"
                            ),
                            series: vec![up(&new), up(&serving), requests(&serving, "0+60x{n}")],
                            // A rate needs two samples: the first at 1m.
                            onset: 1,
                            fires: firing(new.clone()),
                        },
                        Case {
                            name: format!(
                                "stays quiet for a new replica without {req} while the service has no traffic"
                            ),
                            series: vec![up(&new), up(&serving), requests(&serving, "60x{n}")],
                            onset: 0,
                            fires: Vec::new(),
                        },
                        Case {
                            name: format!("fires when every target is up and none exports {req}"),
                            series: vec![up(&new), up(&serving)],
                            onset: 0,
                            fires: firing(BTreeMap::new()),
                        },
                        Case {
                            name: "stays quiet while metrics arrive".into(),
                            series: vec![up(&serving), requests(&serving, "0+60x{n}")],
                            onset: 0,
                            fires: Vec::new(),
                        },
                        Case {
                            name: "stays quiet while the target is down (TargetDown fires)".into(),
                            series: vec![Series {
                                series: Self::series_of("up", &serving),
                                values: "0x{n}".to_string(),
                            }],
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
                let (target, at) = if cpu {
                    (a.cpu_percent?, a.cpu_alert_percent?)
                } else {
                    (a.memory_percent?, a.memory_alert_percent?)
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
                let threshold = Decimal::from_parts(u128::from(at), 2)?;
                let mut hpa_labels =
                    BTreeMap::from([("horizontalpodautoscaler".to_string(), name.to_string())]);
                if let Some(k) = &self.model.platforms.kubernetes {
                    hpa_labels.insert("namespace".into(), k.namespace.clone());
                }
                let max = a.max_replicas;
                let case = |pct: u32, replicas: u32| -> Option<Case> {
                    let fires = pct >= at && replicas >= max;
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
                    let hpa = |metric: &str, value: u32| Series {
                        series: Self::series_of(metric, &hpa_labels),
                        values: format!("{value}x{{n}}"),
                    };
                    Some(Case {
                        name: format!(
                            "{} at {pct}% of the request and {replicas} of {max} replicas",
                            if fires { "fires" } else { "stays quiet" }
                        ),
                        series: vec![
                            usage,
                            requests,
                            hpa(saturation::REPLICAS, replicas),
                            hpa(saturation::MAX_REPLICAS, max),
                        ],
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
                let request_text = if cpu { &r.cpu } else { &r.memory };
                let why = if at == target {
                    format!("the autoscaling target of {target}%")
                } else {
                    format!("the alert threshold of {at}% (the autoscaling target is {target}%)")
                };
                let mut cases = vec![case(at + 1, max)?, case(at.saturating_sub(1), max)?];
                // The autoscaler doing its job: over the threshold with
                // room to add pods. Only an autoscaler that can scale has it.
                if a.min_replicas < max {
                    cases.insert(1, case(at + 1, max - 1)?);
                }
                AlertDef {
                    threshold: format!(
                        "{at}% of the {what} request at {max} replicas (the maximum)"
                    ),
                    expr: format!(
                        "({} >= {threshold}) and on () ({})",
                        saturation::utilization(resource, &container),
                        saturation::at_max_replicas(&saturation::hpa(name, namespace)),
                    ),
                    summary: format!(
                        "{name}: {what} at {{{{ $value | humanizePercentage }}}} of its request with no replicas left to add"
                    ),
                    description: format!(
                        "{what} use of {name} is {{{{ $value | humanizePercentage }}}} of its request ({request_text}), at or above {why}, while its autoscaler already runs its maximum of {max} replicas: it cannot add pods, so the load stays on pods already past their target. Below the maximum, use over the target only makes the autoscaler add pods and does not alert."
                    ),
                    cases,
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
                    expr: saturation::at_max_replicas(&hpa),
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
}
