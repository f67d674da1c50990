//! `[[service.slo]]` and `[defaults.slo]`: objectives, their SLIs, and the
//! burn-rate tiers derived exactly from each window and budget.

mod ratio;

use super::*;
use crate::engine::promql::{self, MAX_EXPR_BYTES, MAX_EXPR_DEPTH};
use crate::spec::TierName;

/// `[defaults.slo]`, lowered: what an SLO without its own settings gets.
#[derive(Debug, Clone, Default)]
pub(super) struct SloDefaults {
    window: Option<Duration>,
    /// `None`: the workbook's tiers.
    tiers: Option<Vec<TierDef>>,
    min_requests: Option<u64>,
    freeze_below: Option<Percent>,
}

/// A tier as written, before a window and budget make numbers of it.
#[derive(Debug, Clone)]
struct TierDef {
    tier: Tier,
    long: Duration,
    short: Duration,
    share: Share,
    severity: Severity,
    for_: Duration,
    /// Where the tier is written (its list item), for problems.
    at: String,
}

#[derive(Debug, Clone, Copy)]
enum Share {
    /// The share of the window's budget a burn at the tier's rate spends in `long`.
    Consumed(Decimal),
    /// The burn rate itself.
    Factor(Decimal),
}

/// The SRE workbook's tiers: (tier, long window, short window, share of
/// the budget spent when the long window burns at the tier's rate).
const BURN_TIERS: [(Tier, u32, u32, u128); 4] = [
    (Tier::Page, 3600, 300, 2),
    (Tier::Page, 6 * 3600, 1800, 5),
    (Tier::Ticket, 86_400, 2 * 3600, 10),
    (Tier::Ticket, 3 * 86_400, 6 * 3600, 10),
];

pub(super) use crate::model::{RESERVED_ANNOTATIONS, RESERVED_LABELS};

impl Lower {
    /// `[defaults.slo]`, checked once at its own lines.
    pub(super) fn slo_defaults(&mut self, d: Option<&spec::SloSettings>) {
        let Some(d) = d else { return };
        let pointer = "/defaults/slo";
        self.slo_defaults = SloDefaults {
            window: d
                .window
                .as_ref()
                .and_then(|w| self.slo_window(&format!("{pointer}/window"), w)),
            tiers: d
                .tiers
                .as_ref()
                .map(|t| self.tier_defs(&format!("{pointer}/tiers"), t)),
            min_requests: d.min_requests,
            freeze_below: d
                .freeze_below
                .as_ref()
                .map(|v| self.freeze_below(&format!("{pointer}/freeze_below"), v)),
        };
    }

    /// `freeze_below`: a share of the budget below 100% (a gate at 100%
    /// would block every deploy after the first failed request).
    fn freeze_below(&mut self, at: &str, v: &spec::PercentStr) -> Percent {
        let Some(p) = self.percent(at, v) else {
            return Percent::ZERO;
        };
        if p.value() >= Decimal::HUNDRED {
            self.invalid(
                at,
                format!("a freeze below {p} of the error budget blocks every deploy once a single request fails"),
                "use the share of the budget that must be left to deploy, such as \"25%\"",
            );
        }
        p
    }

    fn slo_window(&mut self, at: &str, w: &spec::DurationStr) -> Option<Duration> {
        let window = self.duration(at, w)?;
        if window < Duration::secs(86_400) {
            self.invalid(
                at,
                "an SLO window must be at least 1d",
                "use the period the objective is promised over, such as 28d or 30d",
            );
            return None;
        }
        Some(window)
    }

    /// A tier list: each tier's windows and share checked at its line, and
    /// the tiers of one alert agreeing on its severity and `for`.
    fn tier_defs(&mut self, pointer: &str, tiers: &[spec::BurnTier]) -> Vec<TierDef> {
        let mut out: Vec<TierDef> = Vec::new();
        for (i, t) in tiers.iter().enumerate() {
            let at = format!("{pointer}/{i}");
            if t.enabled == Some(false) {
                continue;
            }
            let tier = match t.alert {
                TierName::Page => Tier::Page,
                TierName::Ticket => Tier::Ticket,
            };
            let long = self.duration(&format!("{at}/long"), &t.long);
            let short = self.duration(&format!("{at}/short"), &t.short);
            let share = match (&t.budget_consumed, t.factor) {
                (Some(c), None) => {
                    let c_at = format!("{at}/budget_consumed");
                    self.percent(&c_at, c).and_then(|p| {
                        if p.value() == Decimal::ZERO || p.value() > Decimal::HUNDRED {
                            self.invalid(
                                &c_at,
                                format!(
                                    "a tier that spends {p} of the budget can never alert usefully"
                                ),
                                "use a share above 0% and at most 100%, such as \"2%\" for a page",
                            );
                            return None;
                        }
                        Some(Share::Consumed(p.fraction()))
                    })
                }
                (None, Some(f)) => {
                    let f_at = format!("{at}/factor");
                    match Decimal::parse(&f.to_string())
                        .ok()
                        .filter(|f| *f > Decimal::ZERO)
                    {
                        Some(f) if f.scale() <= BURN_FACTOR_PLACES => Some(Share::Factor(f)),
                        _ => {
                            self.invalid(
                                &f_at,
                                format!("a burn factor of {f} is not usable"),
                                format!("use a factor above 0 with at most {BURN_FACTOR_PLACES} decimals, such as 14.4"),
                            );
                            None
                        }
                    }
                }
                (Some(_), Some(_)) => {
                    self.invalid(
                        &format!("{at}/factor"),
                        "a tier has both `factor` and `budget_consumed`",
                        "keep one: `budget_consumed` (such as \"2%\") derives the factor from the SLO window",
                    );
                    None
                }
                (None, None) => {
                    self.missing(&at, "budget_consumed", "a burn-rate tier", "\"2%\"");
                    None
                }
            };
            if let (Some(l), Some(s)) = (long, short)
                && s >= l
            {
                self.invalid(
                    &format!("{at}/short"),
                    format!("the short window ({s}) must be shorter than the long window ({l})"),
                    "the short window makes the alert stop soon after the errors do: use about a twelfth of the long one, such as 5m for 1h",
                );
                continue;
            }
            let for_ = t
                .for_
                .as_ref()
                .and_then(|f| self.duration(&format!("{at}/for"), f))
                .unwrap_or(tier.default_for());
            let severity = t.severity.unwrap_or(tier.default_severity());
            let (Some(long), Some(short), Some(share)) = (long, short, share) else {
                continue;
            };
            if let Some(first) = out.iter().find(|d| d.tier == tier)
                && (first.severity != severity || first.for_ != for_)
            {
                self.report(
                    Problem::new(
                        Code::InvalidValue,
                        format!(
                            "the {} tiers disagree on their alert's severity or `for` ({} for {} here, {} for {} before)",
                            tier.as_str(),
                            severity.as_str(),
                            for_,
                            first.severity.as_str(),
                            first.for_
                        ),
                    )
                    .with_label(Label::value(at.clone(), "this tier"))
                    .with_label(Label::value(first.at.clone(), "the first one"))
                    .with_help(format!(
                        "the {} tiers are one alert ({}): give them the same `severity` and `for`",
                        tier.as_str(),
                        tier.alert_name()
                    )),
                );
                continue;
            }
            out.push(TierDef {
                tier,
                long,
                short,
                share,
                severity,
                for_,
                at,
            });
        }
        out.sort_by_key(|d| (d.tier, d.long));
        out
    }

    /// Every `[[service.slo]]` of an HTTP service.
    pub(super) fn slos(
        &mut self,
        pointer: &str,
        slos: &[spec::Slo],
        metrics: &MetricNames,
    ) -> Vec<Slo> {
        self.unique_names(pointer, slos.iter().map(|s| s.name.as_str()), "SLO");
        slos.iter()
            .enumerate()
            .filter_map(|(i, s)| self.slo(&format!("{pointer}/{i}"), s, metrics))
            .collect()
    }

    fn slo(&mut self, pointer: &str, s: &spec::Slo, metrics: &MetricNames) -> Option<Slo> {
        let defaults = self.slo_defaults.clone();
        let window = match &s.window {
            Some(w) => self.slo_window(&format!("{pointer}/window"), w),
            None => Some(defaults.window.unwrap_or(Duration::secs(30 * 86_400))),
        };
        let objective_at = format!("{pointer}/objective");
        let objective = self.percent(&objective_at, &s.objective).and_then(|p| {
            if p.value() >= Decimal::HUNDRED || p.value() == Decimal::ZERO {
                self.invalid(
                    &objective_at,
                    format!("an objective of {p} leaves no error budget to alert on"),
                    "use an objective above 0% and below 100%, such as \"99.9%\"",
                );
                return None;
            }
            self.alert_precision(&objective_at, p)
        });
        let sli = self.sli(pointer, s, metrics);
        let tiers = match &s.tiers {
            Some(t) => Some(self.tier_defs(&format!("{pointer}/tiers"), t)),
            None => defaults.tiers.clone(),
        };
        let labels = self.extra_pairs(&format!("{pointer}/labels"), &s.labels, &RESERVED_LABELS);
        let annotations = self.extra_pairs(
            &format!("{pointer}/annotations"),
            &s.annotations,
            &RESERVED_ANNOTATIONS,
        );
        let (window, objective, sli) = (window?, objective?, sli?);
        let budget = Decimal::ONE.checked_sub(objective.fraction())?;
        let burn_rates = match tiers {
            Some(defs) => defs
                .iter()
                .map(|d| burn_rate(d, window, budget))
                .collect::<Option<Vec<_>>>()?,
            None => workbook_tiers(window, budget)?,
        };
        let freeze_below = match s.freeze_below.as_ref() {
            Some(v) => self.freeze_below(&format!("{pointer}/freeze_below"), v),
            None => defaults.freeze_below.unwrap_or(Percent::ZERO),
        };
        // A burn tier whose threshold is 100% errors or more can never fire.
        if let Some(b) = burn_rates.iter().find(|b| b.threshold >= Decimal::ONE) {
            self.invalid(
                &objective_at,
                format!(
                    "this objective leaves so much error budget that the {} tier's {}/{} threshold ({}× the budget) is {} of events failing: the alert could never fire",
                    b.tier.as_str(),
                    b.long,
                    b.short,
                    b.factor,
                    crate::vocab::percent(b.threshold),
                ),
                "raise the objective, or lower the tier's `budget_consumed` (or set `enabled = false` on it in `tiers`)",
            );
            return None;
        }
        Some(Slo {
            name: s.name.as_str().to_string(),
            objective,
            window,
            sli,
            burn_rates,
            min_requests: s.min_requests.or(defaults.min_requests).unwrap_or(0),
            labels,
            annotations,
            freeze_below,
        })
    }

    /// The one SLI an SLO names.
    fn sli(&mut self, pointer: &str, s: &spec::Slo, metrics: &MetricNames) -> Option<Sli> {
        let named: Vec<&str> = [
            s.availability.as_ref().map(|_| "availability"),
            s.latency.as_ref().map(|_| "latency"),
            s.events.as_ref().map(|_| "events"),
            s.ratio.as_ref().map(|_| "ratio"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if named.len() != 1 {
            let message = if named.is_empty() {
                "an SLO needs one SLI".to_string()
            } else {
                format!("an SLO has one SLI, not {}", named.join(" and "))
            };
            self.report(
                Problem::new(Code::InvalidValue, message)
                    .with_label(Label::value(format!("{pointer}/name"), "this SLO"))
                    .with_help("give it exactly one of `availability = {}`, `latency = { threshold = \"500ms\" }`, `events = { bad = \"…\", total = \"…\" }` or `ratio = { bad = \"…\", total = \"…\" }`; write another [[service.slo]] for another SLI"),
            );
            return None;
        }
        if let Some(a) = &s.availability {
            return Some(Sli::Availability {
                matchers: pairs(&a.matchers),
            });
        }
        if let Some(l) = &s.latency {
            let at = format!("{pointer}/latency/threshold");
            let threshold = self.duration(&at, &l.threshold)?;
            let le = MetricNames::le(threshold);
            let seconds = Decimal::from_parts(u128::from(threshold.as_millis()), 3)?;
            if !metrics.buckets.contains(&seconds) {
                let (message, help) = if metrics.buckets.is_empty() {
                    (
                        format!(
                            "a latency SLO at {threshold} needs the service's histogram buckets"
                        ),
                        format!(
                            "declare the buckets the service's `{}` histogram has, in seconds, with {le} among them: `metrics = {{ buckets = [0.1, 0.25, {le}, 1, 2.5] }}`",
                            metrics.duration
                        ),
                    )
                } else {
                    let declared: Vec<String> =
                        metrics.buckets.iter().map(|b| format!("{b}s")).collect();
                    (
                        format!(
                            "{threshold} is not a bucket boundary of `{}` (buckets: {})",
                            metrics.duration,
                            declared.join(", ")
                        ),
                        format!(
                            "the share of requests within a threshold is exact only at a bucket boundary: use one of the buckets, or add {le} to the service's histogram and to `metrics.buckets`"
                        ),
                    )
                };
                self.invalid(&at, message, help);
                return None;
            }
            return Some(Sli::Latency {
                threshold,
                le,
                matchers: pairs(&l.matchers),
            });
        }
        if let Some(r) = &s.ratio {
            let guarded = s
                .min_requests
                .or(self.slo_defaults.min_requests)
                .unwrap_or(0)
                > 0;
            return self.ratio_sli(&format!("{pointer}/ratio"), r, guarded);
        }
        let e = s.events.as_ref()?;
        let at = format!("{pointer}/events");
        let (which, written, good) = self.bad_or_good(&at, "an events SLI", &e.bad, &e.good)?;
        let events = self.selector(&format!("{at}/{which}"), written);
        let total = self.selector(&format!("{at}/total"), &e.total);
        Some(Sli::Events {
            events: events?,
            good,
            total: total?,
        })
    }

    /// A counter selector, `metric{label="value",…}`, parsed.
    fn selector(&mut self, at: &str, text: &spec::PromQl) -> Option<Selector> {
        let refuse = |cx: &mut Self, why: String| {
            cx.report(
                Problem::new(Code::InvalidPromql, why)
                    .with_label(Label::value(at, "here"))
                    .with_help("write a counter's selector, such as bookings_failed_total{route=\"/api/appointments\"}: harden takes the rates over each window itself"),
            );
            None
        };
        if promql::bounded(text.as_str(), MAX_EXPR_BYTES, MAX_EXPR_DEPTH).is_err() {
            return refuse(
                self,
                "the selector is too long or nested too deeply".to_string(),
            );
        }
        let expr = match promql_parser::parser::parse(text.as_str()) {
            Ok(e) => e,
            Err(e) => {
                return refuse(
                    self,
                    format!(
                        "the selector does not parse: {}",
                        e.lines().next().unwrap_or("")
                    ),
                );
            }
        };
        let promql_parser::parser::Expr::VectorSelector(v) = expr else {
            return refuse(
                self,
                "an events SLI takes a counter selector, not an expression".to_string(),
            );
        };
        if v.name.is_none() {
            return refuse(self, "the selector names no metric".to_string());
        }
        if v.offset.is_some() || v.at.is_some() || !v.matchers.or_matchers.is_empty() {
            return refuse(
                self,
                "the selector has an offset, @ or `or` matchers".to_string(),
            );
        }
        selector_of(&v)
    }

    /// The one of `bad` and `good` an SLI at `at` gives: its key, its
    /// text, and whether it counts good events.
    fn bad_or_good<'a>(
        &mut self,
        at: &str,
        what: &str,
        bad: &'a Option<spec::PromQl>,
        good: &'a Option<spec::PromQl>,
    ) -> Option<(&'static str, &'a spec::PromQl, bool)> {
        match (bad, good) {
            (Some(bad), None) => Some(("bad", bad, false)),
            (None, Some(good)) => Some(("good", good, true)),
            _ => {
                self.invalid(
                    &format!("{at}/total"),
                    format!("{what} counts either its bad or its good events"),
                    "give exactly one of `bad` or `good`, and `total`",
                );
                None
            }
        }
    }

    /// A ratio SLI: its two expressions, and a traffic guard only when
    /// `total` is a rate (the guard counts `total × the window's seconds`).
    fn ratio_sli(&mut self, at: &str, r: &spec::RatioSli, guarded: bool) -> Option<Sli> {
        let (which, written, good) = self.bad_or_good(at, "a ratio SLI", &r.bad, &r.good)?;
        let events = self.windowed(&format!("{at}/{which}"), written);
        let total = self.windowed(&format!("{at}/total"), &r.total)?;
        if guarded && !total.per_second {
            self.invalid(
                &format!("{at}/total"),
                "`min_requests` counts events as this expression × the window's seconds, but it is not a rate over `$window`",
                "write `total` as events per second, such as sum(rate(bookings_total[$window])), or set `min_requests = 0` on this SLO",
            );
            return None;
        }
        Some(Sli::Ratio {
            events: events?,
            good,
            total,
        })
    }

    /// Extra alert labels or annotations, none of them one harden writes.
    pub(super) fn extra_pairs(
        &mut self,
        pointer: &str,
        map: &std::collections::BTreeMap<spec::LabelName, spec::Text>,
        reserved: &[&str],
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in map {
            if reserved.contains(&k.as_str()) || k.as_str().starts_with("__") {
                self.invalid(
                    &push_pointer(pointer, k.as_str()),
                    format!("`{}` is one harden sets on every alert", k.as_str()),
                    format!("use another name; harden sets {}", reserved.join(", ")),
                );
                continue;
            }
            if v.as_str().contains("{{") || v.as_str().contains("}}") {
                self.invalid(
                    &push_pointer(pointer, k.as_str()),
                    "Prometheus reads `{{` and `}}` in alert labels and annotations as a Go template",
                    "write the text without `{{` or `}}`",
                );
                continue;
            }
            out.push((k.as_str().to_string(), v.as_str().to_string()));
        }
        out
    }
}

/// A parsed selector as harden keeps it: its metric and its matchers as written.
fn selector_of(v: &promql_parser::parser::VectorSelector) -> Option<Selector> {
    use promql_parser::label::MatchOp;
    let metric = v.name.clone()?;
    let matchers = v
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name != "__name__")
        .map(|m| Matcher {
            label: m.name.clone(),
            op: match m.op {
                MatchOp::Equal => "=",
                MatchOp::NotEqual => "!=",
                MatchOp::Re(_) => "=~",
                MatchOp::NotRe(_) => "!~",
            },
            value: m.value.clone(),
        })
        .collect();
    Some(Selector { metric, matchers })
}

fn pairs(map: &std::collections::BTreeMap<spec::LabelName, spec::Text>) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
        .collect()
}

/// The workbook's tiers for a window and budget, factors derived exactly
/// from the window (30d: 14.4, 6, 3, 1; 28d: 13.44, 5.6, 2.8, 0.9333).
fn workbook_tiers(window: Duration, budget: Decimal) -> Option<Vec<BurnRate>> {
    BURN_TIERS
        .iter()
        .map(|&(tier, long, short, percent)| {
            let def = TierDef {
                tier,
                long: Duration::secs(long),
                short: Duration::secs(short),
                share: Share::Consumed(Decimal::from_parts(percent, 2)?),
                severity: tier.default_severity(),
                for_: tier.default_for(),
                at: String::new(),
            };
            burn_rate(&def, window, budget)
        })
        .collect()
}

/// A tier's numbers for a window and budget. `None` only on overflow.
fn burn_rate(d: &TierDef, window: Duration, budget: Decimal) -> Option<BurnRate> {
    let window_ms = Decimal::from_int(window.as_millis());
    let (factor, consumed) = match d.share {
        Share::Consumed(c) => (
            div_rounded(
                c.checked_mul(window_ms)?,
                d.long.as_millis(),
                BURN_FACTOR_PLACES,
            )?,
            c,
        ),
        Share::Factor(f) => (
            f,
            div_rounded(
                f.checked_mul(Decimal::from_int(d.long.as_millis()))?,
                window.as_millis(),
                6,
            )?,
        ),
    };
    Some(BurnRate {
        tier: d.tier,
        long: d.long,
        short: d.short,
        budget_consumed: consumed,
        factor,
        threshold: factor.checked_mul(budget)?,
        severity: d.severity,
        for_: d.for_,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(window: &str, objective: &str) -> Vec<(String, String)> {
        let budget = Decimal::ONE
            .checked_sub(Percent::parse(objective).unwrap().fraction())
            .unwrap();
        workbook_tiers(Duration::parse(window).unwrap(), budget)
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
    fn a_factor_gives_the_budget_it_consumes() {
        let d = TierDef {
            tier: Tier::Page,
            long: Duration::secs(3600),
            short: Duration::secs(300),
            share: Share::Factor(Decimal::parse("14.4").unwrap()),
            severity: Severity::Critical,
            for_: Duration::secs(120),
            at: String::new(),
        };
        let b = burn_rate(
            &d,
            Duration::parse("30d").unwrap(),
            Decimal::parse("0.001").unwrap(),
        )
        .unwrap();
        assert_eq!(b.budget_consumed.to_string(), "0.02");
        assert_eq!(b.threshold.to_string(), "0.0144");
    }

    #[test]
    fn rounding_is_half_up() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(div_rounded(d("2"), 3, 4), Some(d("0.6667")));
        assert_eq!(div_rounded(d("0.00005"), 1, 4), Some(d("0.0001")));
        assert_eq!(div_rounded(d("1"), 0, 4), None);
    }
}
