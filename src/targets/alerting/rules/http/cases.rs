//! The series a promtool case feeds an HTTP service's rules: requests by
//! status class, per target and region, and the burst, ratio and latency
//! cases built from them.

use std::collections::BTreeMap;

use super::super::{
    Case, ExprCheck, Firing, Sample, Series, TestGroup, humanize, humanize_percentage, minutes,
    per, steps_of,
};
use super::Builder;
use crate::model::{BurnRate, record};
use crate::units::Decimal;

impl Builder<'_> {
    /// The first scrape target's labels, as prometheus.yml gives them.
    pub(super) fn target_labels(&self, target: usize) -> BTreeMap<String, String> {
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

    pub(super) fn series_of(name: &str, labels: &BTreeMap<String, String>) -> String {
        let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("{name}{{{}}}", inner.join(","))
    }

    /// Request counters: `errors` of `total` requests per step have a
    /// status of `class`xx, the rest 200.
    pub(super) fn requests(&self, class: char, errors: u128, total: u128) -> Vec<Series> {
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
    pub(super) fn ratio_case(
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

    /// Tier `b` alone: after a quiet history as long as the longest other
    /// window, errors burst just above `b`'s threshold for `b`'s long window
    /// and the `for`, while every other tier's long window stays under its
    /// threshold. `None` when no such input exists: a 1d/2h tier at 3× is
    /// always joined by the 3d/6h tier at 1×, for any SLO window, so that
    /// tier is tested with a steady ratio instead.
    pub(super) fn burst_case(&self, b: &BurnRate, others: &[&BurnRate], hold: u64) -> Option<Case> {
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
    pub(super) fn latency_case(&self, quantile: Option<Decimal>, t: Decimal, fires: bool) -> Case {
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

    /// A service that has served only successes has its whole error
    /// budget: every SLO error ratio is 0 (not missing) and the budget left
    /// is 1. `None` without an availability objective.
    pub(super) fn full_budget_case(&self) -> Option<TestGroup> {
        let slo = self.http.slo.as_ref()?;
        slo.availability?;
        let steps = 10;
        let mut labels = self.target_labels(0);
        labels.insert(self.http.metrics.status_label.clone(), "200".into());
        let mut windows = if slo.burn_rates.is_empty() {
            Vec::new()
        } else {
            slo.burn_windows()
        };
        windows.push(slo.window);
        let service = format!("service=\"{}\"", self.name());
        let sample = |name: &str, slo: bool, value: u8| ExprCheck {
            eval_time: minutes(steps),
            expr: format!("{name}{{{service}}}"),
            samples: vec![Sample {
                labels: if slo {
                    format!("{name}{{{service}, slo=\"availability\"}}")
                } else {
                    format!("{name}{{{service}}}")
                },
                value,
            }],
        };
        let mut exprs = vec![sample(record::RATIO_5XX, false, 0)];
        exprs.extend(
            windows
                .iter()
                .map(|w| sample(&record::sli_error(*w), true, 0)),
        );
        exprs.push(sample(record::BUDGET_REMAINING, true, 1));
        Some(TestGroup {
            name: format!(
                "SLO of {} that never answered a 5xx: every error ratio 0, the whole budget left",
                self.name()
            ),
            input_series: vec![Series {
                series: Self::series_of(&self.http.metrics.requests, &labels),
                values: format!("0+10x{steps}"),
            }],
            checks: Vec::new(),
            exprs,
        })
    }
}
