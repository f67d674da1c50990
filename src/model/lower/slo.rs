//! `slo`: the objectives, and the burn-rate tiers derived exactly from the
//! window.

use super::*;

impl Lower {
    pub(super) fn slo(&mut self, pointer: &str, s: &spec::Slo) -> Option<Slo> {
        let window = self.duration_or(&format!("{pointer}/window"), s.window.as_ref(), 30 * 86_400);
        if window < Duration::secs(86_400) {
            self.invalid(
                &format!("{pointer}/window"),
                "an SLO window must be at least 1d",
                "use the period the objective is promised over, such as 28d or 30d",
            );
        }
        let availability = s.availability.as_ref().and_then(|a| {
            let at = format!("{pointer}/availability");
            let p = self.percent(&at, a)?;
            if p.value() >= Decimal::HUNDRED || p.value() == Decimal::ZERO {
                self.invalid(
                    &at,
                    format!("an availability objective of {p} leaves no error budget to alert on"),
                    "use an objective above 0% and below 100%, such as \"99.9%\"",
                );
                return None;
            }
            self.alert_precision(&at, p)
        });
        let rate = |cx: &mut Self, key: &str, v: &Option<spec::PercentStr>| {
            let at = format!("{pointer}/{key}");
            let p = cx.percent(&at, v.as_ref()?)?;
            if p.value() == Decimal::ZERO || p.value() >= Decimal::HUNDRED {
                cx.invalid(
                    &at,
                    format!("an error-rate threshold of {p} can never alert usefully"),
                    "use a threshold above 0% and below 100%, such as \"1%\"",
                );
                return None;
            }
            cx.alert_precision(&at, p)
        };
        let error_rate_5xx = rate(self, "error_rate_5xx", &s.error_rate_5xx);
        let error_rate_4xx = rate(self, "error_rate_4xx", &s.error_rate_4xx);
        let mut latency = Vec::new();
        for (i, l) in s.latency.iter().enumerate() {
            let at = format!("{pointer}/latency/{i}");
            let written = l.percentile.to_string();
            // promtool evaluates the quantile as a float: past three
            // decimals its answer and the test's exact one part.
            if written
                .split_once('.')
                .is_some_and(|(_, decimals)| decimals.len() > MAX_PERCENTILE_DECIMALS)
            {
                self.invalid(
                    &format!("{at}/percentile"),
                    format!("p{written} has more than {MAX_PERCENTILE_DECIMALS} decimals"),
                    "use a percentile such as 99.9 or 99.999",
                );
                continue;
            }
            let percentile = Decimal::parse(&written).ok();
            let Some(percentile) = percentile.filter(|p| *p < Decimal::HUNDRED) else {
                self.invalid(
                    &format!("{at}/percentile"),
                    "a latency percentile must be above 0 and below 100",
                    "use a percentile such as 95 or 99.9",
                );
                continue;
            };
            let Some(quantile) = percentile.checked_div_exact(Decimal::HUNDRED) else {
                continue;
            };
            if latency
                .iter()
                .any(|o: &LatencyObjective| o.percentile == percentile)
            {
                self.invalid(
                    &format!("{at}/percentile"),
                    format!("p{percentile} has two objectives"),
                    "keep one threshold per percentile",
                );
                continue;
            }
            if let Some(threshold) = self.duration(&format!("{at}/threshold"), &l.threshold) {
                latency.push(LatencyObjective {
                    percentile,
                    quantile,
                    threshold,
                });
            }
        }
        latency.sort_by_key(|o| o.percentile);
        let freeze_below = self.freeze_below(pointer, s);
        let burn_rates = availability
            .and_then(|a| burn_rates(window, Decimal::ONE.checked_sub(a.fraction())?))
            .unwrap_or_default();
        Some(Slo {
            window,
            availability,
            latency,
            error_rate_5xx,
            error_rate_4xx,
            burn_rates,
            freeze_below,
        })
    }

    /// `freeze_below`: a share of the budget below 100% (a gate at 100%
    /// would block every deploy after the first failed request).
    fn freeze_below(&mut self, pointer: &str, s: &spec::Slo) -> Percent {
        let Some(v) = s.freeze_below.as_ref() else {
            return Percent::ZERO;
        };
        let at = format!("{pointer}/freeze_below");
        let Some(p) = self.percent(&at, v) else {
            return Percent::ZERO;
        };
        if p.value() >= Decimal::HUNDRED {
            self.invalid(
                &at,
                format!("a freeze below {p} of the error budget blocks every deploy once a single request fails"),
                "use the share of the budget that must be left to deploy, such as \"25%\"",
            );
        }
        if s.availability.is_none() {
            self.invalid(
                &at,
                "freeze_below gates on the error budget, and this SLO has no availability objective",
                "add `availability`, or remove `freeze_below`",
            );
        }
        p
    }
}

/// The SRE workbook's tiers: (tier, long window, short window, share of
/// the budget spent when the long window burns at the tier's rate).
const BURN_TIERS: [(Tier, u32, u32, u128); 4] = [
    (Tier::Page, 3600, 300, 2),
    (Tier::Page, 6 * 3600, 1800, 5),
    (Tier::Ticket, 86_400, 2 * 3600, 10),
    (Tier::Ticket, 3 * 86_400, 6 * 3600, 10),
];

/// The burn-rate tiers of an SLO window and error budget, factors derived
/// exactly from the window (30d: 14.4, 6, 3, 1; 28d: 13.44, 5.6, 2.8,
/// 0.9333). `None` only on arithmetic overflow.
fn burn_rates(window: Duration, budget: Decimal) -> Option<Vec<BurnRate>> {
    BURN_TIERS
        .iter()
        .map(|&(tier, long, short, percent)| {
            let long = Duration::secs(long);
            let consumed = Decimal::from_parts(percent, 2)?;
            let factor = div_rounded(
                consumed.checked_mul(Decimal::from_int(window.as_millis()))?,
                long.as_millis(),
                BURN_FACTOR_PLACES,
            )?;
            Some(BurnRate {
                tier,
                long,
                short: Duration::secs(short),
                budget_consumed: consumed,
                factor,
                threshold: factor.checked_mul(budget)?,
            })
        })
        .collect()
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

/// The most decimals a latency percentile may have (p99.999).
const MAX_PERCENTILE_DECIMALS: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(window: &str, objective: &str) -> Vec<(String, String)> {
        let budget = Decimal::ONE
            .checked_sub(Percent::parse(objective).unwrap().fraction())
            .unwrap();
        burn_rates(Duration::parse(window).unwrap(), budget)
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
    fn rounding_is_half_up() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(div_rounded(d("2"), 3, 4), Some(d("0.6667")));
        assert_eq!(div_rounded(d("0.00005"), 1, 4), Some(d("0.0001")));
        assert_eq!(div_rounded(d("1"), 0, 4), None);
    }
}
