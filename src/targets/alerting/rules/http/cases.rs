//! The series a promtool case feeds an HTTP service's threshold alerts:
//! requests by status class, per target and region, and the ratio cases
//! built from them (the SLOs' own series are in `slo.rs`).

use std::collections::BTreeMap;

use super::super::{Case, Firing, Series, humanize_percentage};
use super::Builder;
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
        let inner: Vec<String> = labels
            .iter()
            .map(|(k, v)| crate::vocab::matcher(k, v))
            .collect();
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
        steady(
            name,
            self.requests(class, errors, total),
            errors,
            total,
            fires,
        )
    }
}

/// A case fed a steady share of bad events, `errors` of `total` per step:
/// its alert, when `fires`, reports that share.
pub(super) fn steady(
    name: String,
    series: Vec<Series>,
    errors: u128,
    total: u128,
    fires: bool,
) -> Case {
    let share = |n: u128| Decimal::from_int(u64::try_from(n).unwrap_or(u64::MAX));
    let value = share(errors)
        .checked_div_exact(share(total))
        .unwrap_or(Decimal::ZERO);
    Case {
        name,
        series,
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
