//! An HTTP service's SLOs in its rule file: each SLI's error ratio over
//! every burn window and over the SLO window, the budget left, the
//! burn-rate and exhausted-budget alerts, and the promtool cases, each fed
//! the series its own SLI reads (requests by status, the duration
//! histogram's bucket at the threshold, or the events' counters).

use std::collections::BTreeMap;

use super::super::super::catalog::{Rule, RuleGroup};
use super::super::{
    AlertDef, Case, ExprCheck, Firing, Sample, Series, TestGroup, humanize_percentage, minutes,
    per, steps_of,
};
use super::Builder;
use crate::model::{Alert, BurnRate, MetricNames, Selector, Sli, Slo, Tier, record};
use crate::units::{Decimal, Duration};
use crate::vocab::{matcher, percent, promql_str};

/// The first target's labels with some more.
type WithLabels<'a> = dyn Fn(&[(String, String)]) -> BTreeMap<String, String> + 'a;
/// Adds a series (metric, labels) fed these increases.
type PushSeries<'a> = dyn FnMut(&str, &BTreeMap<String, String>, &Incs) + 'a;

/// A counter's increase per promtool step.
#[derive(Debug, Clone)]
pub(super) enum Incs {
    /// No such series at all.
    Absent,
    /// The same increase every step, for the whole case.
    Steady(u128),
    /// A first value, then runs of `(steps, increase per step)`.
    Runs(u128, Vec<(u64, u128)>),
}

impl Incs {
    fn values(&self) -> Option<String> {
        match self {
            Incs::Absent => None,
            Incs::Steady(d) => Some(format!("0+{d}x{{n}}")),
            Incs::Runs(start, runs) => {
                let mut out = start.to_string();
                let mut at = *start;
                for &(steps, d) in runs.iter().filter(|r| r.0 > 0) {
                    out.push_str(&format!(" {}+{d}x{}", at + d, steps - 1));
                    at += u128::from(steps) * d;
                }
                Some(out)
            }
        }
    }

    fn per_step(&self, len: u64) -> Vec<u128> {
        match self {
            Incs::Absent => vec![0; len as usize],
            Incs::Steady(d) => vec![*d; len as usize],
            Incs::Runs(_, runs) => runs
                .iter()
                .flat_map(|&(steps, d)| std::iter::repeat_n(d, steps as usize))
                .collect(),
        }
    }

    /// The sum of two counters: what a total counts.
    fn plus(&self, other: &Incs) -> Incs {
        match (self, other) {
            (Incs::Absent, x) | (x, Incs::Absent) => x.clone(),
            (Incs::Steady(a), Incs::Steady(b)) => Incs::Steady(a + b),
            (a, b) => {
                let (mut len, mut start) = (0, 0);
                for i in [a, b] {
                    if let Incs::Runs(s, r) = i {
                        len = len.max(r.iter().map(|x| x.0).sum::<u64>());
                        start += s;
                    }
                }
                let (x, y) = (a.per_step(len), b.per_step(len));
                let mut runs: Vec<(u64, u128)> = Vec::new();
                for d in x.iter().zip(&y).map(|(p, q)| p + q) {
                    match runs.last_mut() {
                        Some(last) if last.1 == d => last.0 += 1,
                        _ => runs.push((1, d)),
                    }
                }
                Incs::Runs(start, runs)
            }
        }
    }
}

impl Builder<'_> {
    /// `{job="api",route="/x",<extra>}`.
    fn sel_with(&self, matchers: &[(String, String)], extra: &str) -> String {
        let mut parts = vec![self.job.clone()];
        parts.extend(matchers.iter().map(|(k, v)| matcher(k, v)));
        if !extra.is_empty() {
            parts.push(extra.to_string());
        }
        format!("{{{}}}", parts.join(","))
    }

    /// A counter selector of the spec, for this service's job.
    fn counter(&self, s: &Selector) -> String {
        let mut parts = vec![self.job.clone()];
        parts.extend(
            s.matchers
                .iter()
                .map(|m| format!("{}{}\"{}\"", m.label, m.op, promql_str(&m.value))),
        );
        format!("{}{{{}}}", s.metric, parts.join(","))
    }

    /// All the SLO's events over `window`, with `func` (`rate`, `increase`).
    pub(super) fn slo_total(&self, slo: &Slo, window: Duration, func: &str) -> String {
        match &slo.sli {
            Sli::Availability { matchers } => format!(
                "sum({func}({}{}[{window}]))",
                self.http.metrics.requests,
                self.sel_with(matchers, "")
            ),
            Sli::Latency { matchers, .. } => format!(
                "sum({func}({}_count{}[{window}]))",
                self.http.metrics.duration,
                self.sel_with(matchers, "")
            ),
            Sli::Events { total, .. } => format!("sum({func}({}[{window}]))", self.counter(total)),
            Sli::Ratio { total, .. } => total.over(window),
        }
    }

    /// How many events the SLO counted over `window`: a ratio SLI's total
    /// is a rate (lowering refuses a guard otherwise), times the seconds.
    fn slo_events(&self, slo: &Slo, window: Duration) -> String {
        match &slo.sli {
            Sli::Ratio { total, .. } => {
                format!("{} * {}", total.over(window), window.as_millis() / 1000)
            }
            _ => self.slo_total(slo, window, "increase"),
        }
    }

    /// The SLO's error ratio over `window`. Bad events that have no series
    /// yet count as `0 * ` all of them (zero, with their labels), so a
    /// service without errors has a ratio of 0, not none.
    pub(super) fn slo_ratio(&self, slo: &Slo, window: Duration, func: &str) -> String {
        let all = self.slo_total(slo, window, func);
        match &slo.sli {
            Sli::Availability { matchers } => format!(
                "(sum({func}({}{}[{window}])) or 0 * {all}) / {all}",
                self.http.metrics.requests,
                self.sel_with(matchers, &self.status('5')),
            ),
            Sli::Latency {
                threshold,
                matchers,
                ..
            } => format!(
                "({all} - sum({func}({}_bucket{}[{window}]))) / {all}",
                self.http.metrics.duration,
                self.sel_with(matchers, &MetricNames::le_matcher(*threshold)),
            ),
            Sli::Events {
                events,
                good: false,
                ..
            } => format!(
                "(sum({func}({}[{window}])) or 0 * {all}) / {all}",
                self.counter(events)
            ),
            Sli::Events {
                events, good: true, ..
            } => format!(
                "({all} - (sum({func}({}[{window}])) or 0 * {all})) / {all}",
                self.counter(events)
            ),
            Sli::Ratio {
                events,
                good: false,
                ..
            } => format!("({} or 0 * {all}) / {all}", events.over(window)),
            Sli::Ratio {
                events, good: true, ..
            } => format!("({all} - ({} or 0 * {all})) / {all}", events.over(window)),
        }
    }

    fn slo_record(&self, slo: &Slo, name: String, expr: String) -> Rule {
        let mut rule = self.record(name, expr);
        rule.labels
            .push(super::super::super::catalog::pair("slo", &slo.name));
        rule
    }

    /// Every SLO's error ratio over each of its burn windows.
    pub(super) fn slo_recording_rules(&self) -> Vec<Rule> {
        let mut rules = Vec::new();
        for slo in &self.http.slos {
            for window in slo.burn_windows() {
                rules.push(self.slo_record(
                    slo,
                    record::sli_error(window),
                    self.slo_ratio(slo, window, "rate"),
                ));
            }
        }
        rules
    }

    /// Each SLO window's own ratio, from increases over the whole window
    /// (not an average of short ratios), the objective and the budget left.
    /// Evaluated every 5m: a window-long range is expensive and changes slowly.
    pub(super) fn slo_window_rules(&self) -> Option<RuleGroup> {
        let mut rules = Vec::new();
        for slo in &self.http.slos {
            let window_ratio = record::sli_error(slo.window);
            rules.push(self.slo_record(
                slo,
                window_ratio.clone(),
                self.slo_ratio(slo, slo.window, "increase"),
            ));
            rules.push(self.slo_record(
                slo,
                record::OBJECTIVE.to_string(),
                format!("vector({})", slo.objective.fraction()),
            ));
            rules.push(self.slo_record(
                slo,
                record::BUDGET_REMAINING.to_string(),
                format!(
                    "1 - {window_ratio}{} / {}",
                    self.slo_sel(slo),
                    slo.error_budget()
                ),
            ));
        }
        (!rules.is_empty()).then(|| RuleGroup {
            name: format!("{}-slo-window", self.name()),
            interval: Some("5m".to_string()),
            rules,
        })
    }

    /// `{service="api",slo="availability"}`: one SLO's recorded series.
    fn slo_sel(&self, slo: &Slo) -> String {
        format!(
            "{{{},{}}}",
            matcher("service", self.name()),
            matcher("slo", &slo.name)
        )
    }

    pub(super) fn slo_of(&self, alert: &Alert) -> Option<&Slo> {
        let name = alert.slo.as_deref()?;
        self.http.slos.iter().find(|s| s.name == name)
    }

    /// The burn-rate alert of one tier of an SLO: any of its window pairs
    /// over the threshold, a page only with `min_requests` in the long window.
    pub(super) fn burn_def(&self, alert: &Alert) -> Option<AlertDef> {
        let slo = self.slo_of(alert)?;
        let tier = alert.tier?;
        let name = self.name();
        let tiers: Vec<&BurnRate> = slo.tiers(tier).collect();
        let sel = self.slo_sel(slo);
        let guard = tier == Tier::Page && slo.min_requests > 0;
        let expr = tiers
            .iter()
            .map(|b| {
                let traffic = if guard {
                    format!(
                        " and on () {} >= {}",
                        self.slo_events(slo, b.long),
                        slo.min_requests
                    )
                } else {
                    String::new()
                };
                format!(
                    "({}{sel} > {t} and {}{sel} > {t}{traffic})",
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
        let guarded = if guard {
            format!(
                " It pages only when the long window holds at least {} events: fewer cannot spend the budget fast.",
                slo.min_requests
            )
        } else {
            String::new()
        };
        let cases = self.burn_cases(slo, &tiers, alert).unwrap_or_default();
        Some(AlertDef {
            threshold: when.clone(),
            expr,
            summary: format!(
                "{name} is spending the {} error budget of SLO {} too fast ({})",
                slo.window,
                slo.name,
                tier.as_str()
            ),
            description: format!(
                "{{{{ $value | humanizePercentage }}}} of events of SLO {} of {name} were bad over the long window (good: {}). The objective {} over {} allows {}; this alert fires when bad events are {when}.{guarded}",
                slo.name,
                slo.good_events(),
                slo.objective,
                slo.window,
                percent(slo.error_budget()),
            ),
            cases,
        })
    }

    /// The budget of the whole window is spent.
    pub(super) fn exhausted_def(&self, alert: &Alert) -> Option<AlertDef> {
        let slo = self.slo_of(alert)?;
        let name = self.name();
        let budget = slo.error_budget();
        // Errors at twice the budget spend it twice over; at half, half.
        let total = 10u128.pow(budget.scale() + 1);
        let case = |fires: bool| -> Option<Case> {
            let bad = if fires {
                per(budget, total) * 2
            } else {
                per(budget, total) / 2
            };
            Some(Case {
                name: format!(
                    "{} with {} of events bad since the window began",
                    if fires { "fires" } else { "stays quiet" },
                    percent(
                        Decimal::from_int(u64::try_from(bad).ok()?)
                            .checked_div_exact(Decimal::from_int(u64::try_from(total).ok()?))?
                    )
                ),
                series: self.feed(slo, Incs::Steady(bad), Incs::Steady(total - bad))?,
                // The window's ratio is recorded every 5m.
                onset: 10,
                fires: if fires {
                    vec![Firing {
                        labels: BTreeMap::new(),
                        value: String::new(),
                    }]
                } else {
                    Vec::new()
                },
            })
        };
        let cases = [case(true), case(false)].into_iter().flatten().collect();
        Some(AlertDef {
            threshold: format!("no budget left of {} over {}", slo.objective, slo.window),
            expr: format!("{}{} <= 0", record::BUDGET_REMAINING, self.slo_sel(slo)),
            summary: format!(
                "{name} has spent the whole {} error budget of SLO {}",
                slo.window, slo.name
            ),
            description: format!(
                "SLO {} of {name} ({} of events good over {}) has no error budget left: more than {} of its events were bad over the window. Until the window rolls past the bad days, any further bad event breaks the objective: freeze risky changes and spend effort on reliability.",
                slo.name,
                slo.objective,
                slo.window,
                percent(budget)
            ),
            cases,
        })
    }

    /// The series an SLO's SLI reads, `bad` and `good` events per step,
    /// labelled as the service's first target. `None` when they cannot be
    /// written (an events selector with other than `=` matchers), or when
    /// another SLO of the service reads one of them ([`Self::shared_with`]).
    pub(super) fn feed(&self, slo: &Slo, bad: Incs, good: Incs) -> Option<Vec<Series>> {
        if self.shared_with(slo).is_some() {
            return None;
        }
        self.feed_own(slo, bad, good)
    }

    /// Another SLO of the service whose SLI reads only series this one's
    /// cases feed (two objectives on one SLI, as OpenSLO writes them): a
    /// case for one would fire the other's alerts as well. (Two latency
    /// SLOs share `_count` but not their bucket: the other's ratio stays
    /// empty.)
    pub(super) fn shared_with(&self, slo: &Slo) -> Option<&Slo> {
        let names = |s: &Slo| -> Vec<String> {
            self.feed_own(s, Incs::Steady(1), Incs::Steady(1))
                .unwrap_or_default()
                .into_iter()
                .map(|x| x.series)
                .collect()
        };
        let mine = names(slo);
        self.http
            .slos
            .iter()
            .filter(|o| o.name != slo.name)
            .find(|o| {
                let theirs = names(o);
                !theirs.is_empty() && theirs.iter().all(|n| mine.contains(n))
            })
    }

    fn feed_own(&self, slo: &Slo, bad: Incs, good: Incs) -> Option<Vec<Series>> {
        let base = self.target_labels(0);
        let with = |extra: &[(String, String)]| {
            let mut l = base.clone();
            l.extend(extra.iter().cloned());
            l
        };
        let mut out = Vec::new();
        let mut push = |name: &str, labels: &BTreeMap<String, String>, incs: &Incs| {
            if let Some(values) = incs.values() {
                out.push(Series {
                    series: Self::series_of(name, labels),
                    values,
                });
            }
        };
        match &slo.sli {
            Sli::Availability { matchers } => {
                let status = &self.http.metrics.status_label;
                let mut l = with(matchers);
                l.insert(status.clone(), "500".into());
                push(&self.http.metrics.requests, &l, &bad);
                l.insert(status.clone(), "200".into());
                push(&self.http.metrics.requests, &l, &good);
            }
            Sli::Latency { le, matchers, .. } => {
                let d = &self.http.metrics.duration;
                let mut l = with(matchers);
                push(&format!("{d}_count"), &l, &bad.plus(&good));
                l.insert("le".into(), le.clone());
                push(&format!("{d}_bucket"), &l, &good);
            }
            Sli::Events {
                events,
                good: counts_good,
                total,
            } => Self::feed_counters(events, *counts_good, total, &with, &bad, &good, &mut push)?,
            Sli::Ratio {
                events,
                good: counts_good,
                total,
            } => Self::feed_counters(
                events.counter.as_ref()?,
                *counts_good,
                total.counter.as_ref()?,
                &with,
                &bad,
                &good,
                &mut push,
            )?,
        }
        Some(out)
    }

    /// The counters of an events SLI (or a ratio SLI reading one counter
    /// each): the events' own series and the total's. `None` when they
    /// cannot be written: other than `=` matchers, or one metric for both
    /// with nothing to tell the events apart.
    fn feed_counters(
        events: &Selector,
        counts_good: bool,
        total: &Selector,
        with: &WithLabels<'_>,
        bad: &Incs,
        good: &Incs,
        push: &mut PushSeries<'_>,
    ) -> Option<()> {
        let eq = |s: &Selector| -> Option<Vec<(String, String)>> {
            s.matchers
                .iter()
                .map(|m| (m.op == "=").then(|| (m.label.clone(), m.value.clone())))
                .collect()
        };
        let (ev, tot) = (eq(events)?, eq(total)?);
        let (ev_incs, other) = if counts_good {
            (good, bad)
        } else {
            (bad, good)
        };
        let mut ev_labels = with(&tot);
        ev_labels.extend(ev.iter().cloned());
        if events.metric == total.metric {
            // The other events: the total's labels, and a value apart for
            // each label only the events selector sets.
            let mut l = with(&tot);
            let mut apart = false;
            for (k, v) in &ev {
                if !tot.iter().any(|(tk, _)| tk == k) {
                    l.insert(k.clone(), format!("not-{v}"));
                    apart = true;
                }
            }
            if !apart {
                return None;
            }
            push(&events.metric, &ev_labels, ev_incs);
            push(&total.metric, &l, other);
        } else {
            push(&events.metric, &ev_labels, ev_incs);
            push(&total.metric, &with(&tot), &ev_incs.plus(other));
        }
        Some(())
    }

    /// The cases of one tier's alert: each window pair alone, just under
    /// the lowest threshold, the traffic guard, and a total outage after a
    /// full long window of good events firing within what `harden explain`
    /// states. Empty when the SLI's series cannot be written.
    fn burn_cases(&self, slo: &Slo, tiers: &[&BurnRate], alert: &Alert) -> Option<Vec<Case>> {
        let scale = tiers.iter().map(|b| b.threshold.scale()).max().unwrap_or(0);
        let guard = alert.tier == Some(Tier::Page) && slo.min_requests > 0;
        let mut total = 10u128.pow(scale + 1);
        while guard && total < u128::from(slo.min_requests) {
            total *= 10;
        }
        let mut cases = Vec::new();
        let hold = steps_of(alert.for_);
        for b in tiers {
            let others: Vec<&BurnRate> =
                tiers.iter().filter(|o| o.long != b.long).copied().collect();
            if let Some(case) = self.burst_case(slo, b, &others, hold) {
                cases.push(case);
                continue;
            }
            let errors = per(b.threshold, total) + 1;
            let also: Vec<String> = others
                .iter()
                .filter(|o| o.threshold < b.threshold)
                .map(|o| format!(" (the {}/{} tier fires too)", o.long, o.short))
                .collect();
            cases.push(self.steady_case(
                slo,
                format!(
                    "fires at {}x burn over {}/{}{}",
                    b.factor,
                    b.long,
                    b.short,
                    also.concat()
                ),
                errors,
                total,
                true,
            )?);
        }
        let lowest = tiers.iter().map(|b| b.threshold).min()?;
        cases.push(self.steady_case(
            slo,
            format!("stays quiet just under {}", percent(lowest)),
            per(lowest, total).saturating_sub(1),
            total,
            false,
        )?);
        if guard {
            // Every event bad, but fewer in the longest page window than
            // the guard asks for: no page.
            let longest = tiers.iter().map(|b| steps_of(b.long)).max()?;
            let per_step = u128::from(slo.min_requests.saturating_sub(1)) / u128::from(longest);
            if per_step > 0 {
                cases.push(self.steady_case(
                    slo,
                    format!(
                        "stays quiet with every event bad but fewer than {} in the long window",
                        slo.min_requests
                    ),
                    per_step,
                    per_step,
                    false,
                )?);
            }
        }
        Some(cases)
    }

    /// A steady share of bad events, `errors` of `total` per step.
    fn steady_case(
        &self,
        slo: &Slo,
        name: String,
        errors: u128,
        total: u128,
        fires: bool,
    ) -> Option<Case> {
        let series = self.feed(slo, Incs::Steady(errors), Incs::Steady(total - errors))?;
        Some(super::cases::steady(name, series, errors, total, fires))
    }

    /// Tier `b` alone: after a quiet history as long as the longest other
    /// window, errors burst just above `b`'s threshold for `b`'s long window
    /// and the `for`, while every other tier's long window stays under its
    /// threshold. `None` when no such input exists: a 1d/2h tier at 3× is
    /// always joined by the 3d/6h tier at 1×, for any SLO window, so that
    /// tier is tested with a steady ratio instead.
    fn burst_case(&self, slo: &Slo, b: &BurnRate, others: &[&BurnRate], hold: u64) -> Option<Case> {
        let long = steps_of(b.long);
        let quiet = others.iter().map(|o| steps_of(o.long)).max()?;
        // Enough events per step that one window of them resolves the
        // threshold (the window is under it one step before it is full),
        // and the traffic guard is met.
        let mut total = 10u128.pow(b.threshold.scale() + 1);
        while per(b.threshold, total) < u128::from(long) || total < u128::from(slo.min_requests) {
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
        // A window of `long` holds `long - 1` increases (its start is open):
        // they are all of the burst one step before `long` has passed.
        let onset = quiet + long - 1;
        let last = onset + hold + 1;
        // The bad counter starts high, as any long-running one does: from
        // zero, Prometheus would extrapolate its first window less than
        // the others'.
        let bad = Incs::Runs(
            errors * u128::from(long),
            vec![(quiet, 0), (last - quiet, errors)],
        );
        // The same events per step before and during the burst, so each
        // window's ratio is its bad events over a full window of them.
        let good = Incs::Runs(0, vec![(quiet, total), (last - quiet, total - errors)]);
        Some(Case {
            name: format!(
                "fires at {}x burn over {}/{} after a quiet {}",
                b.factor,
                b.long,
                b.short,
                minutes(quiet)
            ),
            series: self.feed(slo, bad, good)?,
            onset,
            fires: vec![Firing {
                labels: BTreeMap::new(),
                value: humanize_percentage(ratio),
            }],
        })
    }

    /// Per page tier of each SLO: a full long window of good events, then
    /// every event bad; the page fires within the time `harden explain`
    /// states (one scrape later at most). A Prometheus with less history
    /// fires sooner.
    pub(super) fn detection_cases(&self) -> Vec<TestGroup> {
        let mut out = Vec::new();
        for alert in &self.http.alert_rules {
            let (Some(slo), Some(Tier::Page)) = (self.slo_of(alert), alert.tier) else {
                continue;
            };
            for b in slo.tiers(Tier::Page) {
                let quiet = steps_of(b.long);
                let fires = steps_of(b.fires_after_total_outage()) + 1;
                let per_step = u128::from(slo.min_requests.max(10));
                let end = quiet + fires + 1;
                let bad = Incs::Runs(0, vec![(quiet, 0), (end - quiet, per_step)]);
                let good = Incs::Runs(0, vec![(quiet, per_step), (end - quiet, 0)]);
                let Some(series) = self.feed(slo, bad, good) else {
                    continue;
                };
                out.push(TestGroup {
                    name: format!(
                        "{} of SLO {} fires within {} of a total outage after a good {} ({}/{} tier)",
                        alert.name,
                        slo.name,
                        b.fires_after_total_outage(),
                        b.long,
                        b.long,
                        b.short
                    ),
                    input_series: series
                        .into_iter()
                        .map(|s| Series {
                            values: s.values.replace("{n}", &end.to_string()),
                            series: s.series,
                        })
                        .collect(),
                    checks: Vec::new(),
                    exprs: vec![ExprCheck {
                        eval_time: minutes(quiet + fires),
                        expr: format!(
                            "count(ALERTS{{alertname=\"{}\",alertstate=\"firing\",service=\"{}\",slo=\"{}\"}})",
                            alert.name,
                            promql_str(self.name()),
                            promql_str(&slo.name)
                        ),
                        samples: vec![Sample {
                            labels: "{}".to_string(),
                            value: 1,
                        }],
                    }],
                });
            }
        }
        out
    }

    /// A service that has served only good events has its whole error
    /// budget: every SLO error ratio is 0 (not missing) and the budget left
    /// is 1.
    pub(super) fn full_budget_cases(&self) -> Vec<TestGroup> {
        let steps = 10u64;
        let mut out = Vec::new();
        for slo in &self.http.slos {
            let Some(series) = self.feed(slo, Incs::Absent, Incs::Steady(10)) else {
                continue;
            };
            let mut windows = slo.burn_windows();
            windows.push(slo.window);
            let sel = self.slo_sel(slo);
            let labels = format!(
                "{{service=\"{}\", slo=\"{}\"}}",
                promql_str(self.name()),
                promql_str(&slo.name)
            );
            let sample = |name: &str, value: u8| ExprCheck {
                eval_time: minutes(steps),
                expr: format!("{name}{sel}"),
                samples: vec![Sample {
                    labels: format!("{name}{labels}"),
                    value,
                }],
            };
            let mut exprs: Vec<ExprCheck> = windows
                .iter()
                .map(|w| sample(&record::sli_error(*w), 0))
                .collect();
            exprs.push(sample(record::BUDGET_REMAINING, 1));
            out.push(TestGroup {
                name: format!(
                    "SLO {} of {} without a bad event: every error ratio 0, the whole budget left",
                    slo.name,
                    self.name()
                ),
                input_series: series
                    .into_iter()
                    .map(|s| Series {
                        values: s.values.replace("{n}", &steps.to_string()),
                        series: s.series,
                    })
                    .collect(),
                checks: Vec::new(),
                exprs,
            });
        }
        out
    }
}
