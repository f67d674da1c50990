//! Service level objectives and the burn-rate tiers derived from them.

use crate::units::{Decimal, Duration, Percent};

#[derive(Debug)]
pub struct Slo {
    pub window: Duration,
    pub availability: Option<Percent>,
    pub latency: Vec<LatencyObjective>,
    pub error_rate_5xx: Option<Percent>,
    pub error_rate_4xx: Option<Percent>,
    /// The multiwindow multi-burn-rate tiers of the availability objective
    /// (page first); empty without one.
    pub burn_rates: Vec<BurnRate>,
    /// The share of the window's error budget below which deploys stop
    /// (`harden check --live --budget` fails); 0% unless the spec says.
    pub freeze_below: Percent,
}

impl Slo {
    /// The error budget as a fraction (0.001 for 99.9%), if there is an
    /// availability objective.
    pub fn error_budget(&self) -> Option<Decimal> {
        self.availability
            .and_then(|a| Decimal::ONE.checked_sub(a.fraction()))
    }

    /// Every window an SLI error ratio is recorded over for the burn-rate
    /// alerts, shortest first (5m, 30m, 1h, 2h, 6h, 1d, 3d).
    pub fn burn_windows(&self) -> Vec<Duration> {
        let mut windows: Vec<Duration> = self
            .burn_rates
            .iter()
            .flat_map(|b| [b.long, b.short])
            .collect();
        windows.sort();
        windows.dedup();
        windows
    }
}

/// Alert tiers of the burn-rate alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Page,
    Ticket,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Page => "page",
            Tier::Ticket => "ticket",
        }
    }
}

/// One window pair of a burn-rate alert (Google SRE workbook, "Alerting on
/// SLOs"): fire when the error ratio over both `long` and `short` is above
/// `threshold`.
#[derive(Debug, Clone)]
pub struct BurnRate {
    pub tier: Tier,
    pub long: Duration,
    pub short: Duration,
    /// Share of the whole window's budget spent when the long window burns
    /// at exactly `factor` (0.02 for the 1h page tier).
    pub budget_consumed: Decimal,
    /// `budget_consumed × SLO window ÷ long`: 14.4 / 6 / 3 / 1 for 30d.
    /// A quotient with more than [`BURN_FACTOR_PLACES`] decimal places
    /// (28d's 3d tier: 0.9333…) is rounded half up to that many.
    pub factor: Decimal,
    /// `factor × error budget`: the error ratio both windows must exceed.
    pub threshold: Decimal,
}

/// Decimal places a non-terminating burn factor is rounded to.
pub const BURN_FACTOR_PLACES: u32 = 4;

/// What an SLO alert protects (its `slo` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SloKind {
    Availability,
    Latency,
    Errors,
}

impl SloKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SloKind::Availability => "availability",
            SloKind::Latency => "latency",
            SloKind::Errors => "errors",
        }
    }
}

#[derive(Debug)]
pub struct LatencyObjective {
    /// 95 for p95.
    pub percentile: Decimal,
    /// 0.95 for p95, as `histogram_quantile` takes it.
    pub quantile: Decimal,
    pub threshold: Duration,
}

/// One objective with an error budget, as Prometheus labels its series
/// (`service`, `slo`): what `harden report`, `harden backtest` and the
/// budget gate of `harden check --live --budget` read.
#[derive(Debug, Clone)]
pub struct BudgetSlo<'a> {
    pub service: &'a str,
    /// The `slo` label of its recording rules.
    pub slo: &'static str,
    pub window: Duration,
    pub objective: Percent,
    pub freeze_below: Percent,
}

impl BudgetSlo<'_> {
    /// `[("service", "api"), ("slo", "availability")]`: the labels its
    /// recording rules set, in the rules' order.
    pub fn labels(&self) -> Vec<(String, String)> {
        vec![
            ("service".to_string(), self.service.to_string()),
            ("slo".to_string(), self.slo.to_string()),
        ]
    }

    /// `service="api",slo="availability"`: the matchers of its series.
    pub fn matchers(&self) -> String {
        self.labels()
            .iter()
            .map(|(l, v)| crate::vocab::matcher(l, v))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `api/availability`, as reports name it.
    pub fn title(&self) -> String {
        format!("{}/{}", self.service, self.slo)
    }

    /// The error budget as a fraction (0.001 for 99.9%).
    pub fn budget(&self) -> Decimal {
        Decimal::ONE
            .checked_sub(self.objective.fraction())
            .unwrap_or(Decimal::ZERO)
    }
}

impl super::Model {
    /// Every objective with an error budget, in service order.
    pub fn budget_slos(&self) -> Vec<BudgetSlo<'_>> {
        self.services
            .iter()
            .filter_map(|s| {
                let slo = s.http()?.slo.as_ref()?;
                Some(BudgetSlo {
                    service: &s.name,
                    slo: SloKind::Availability.as_str(),
                    window: slo.window,
                    objective: slo.availability?,
                    freeze_below: slo.freeze_below,
                })
            })
            .collect()
    }
}
