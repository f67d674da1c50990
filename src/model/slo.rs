//! Service level objectives: each SLI as the PromQL of its bad and total
//! events, and the burn-rate tiers derived from its objective and window.

use super::Severity;
use crate::units::{Decimal, Duration, Percent};
use crate::vocab::human_duration;

/// One `[[service.slo]]`, resolved.
#[derive(Debug)]
pub struct Slo {
    /// Its `slo` label, unique in the service.
    pub name: String,
    /// The share of events that must be good (99.9%).
    pub objective: Percent,
    pub window: Duration,
    pub sli: Sli,
    /// The enabled multiwindow multi-burn-rate tiers, page first.
    pub burn_rates: Vec<BurnRate>,
    /// A page tier fires only when its long window holds at least this many
    /// events; 0 is no guard.
    pub min_requests: u64,
    /// Extra labels and annotations of this SLO's alerts.
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// The share of the window's error budget below which deploys stop
    /// (`harden check --live --budget` fails); 0% unless the spec says.
    pub freeze_below: Percent,
}

impl Slo {
    /// The error budget as a fraction (0.001 for 99.9%).
    pub fn error_budget(&self) -> Decimal {
        Decimal::ONE
            .checked_sub(self.objective.fraction())
            .unwrap_or(Decimal::ZERO)
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

    /// The tiers that raise the alert of `tier`.
    pub fn tiers(&self, tier: Tier) -> impl Iterator<Item = &BurnRate> {
        self.burn_rates.iter().filter(move |b| b.tier == tier)
    }

    /// What the SLI counts, for people: "requests not answered with a 5xx".
    pub fn good_events(&self) -> String {
        match &self.sli {
            Sli::Availability { .. } => "requests not answered with a 5xx".to_string(),
            Sli::Latency { threshold, .. } => {
                format!("requests answered within {}", human_duration(*threshold))
            }
            Sli::Events { good: true, .. } => "good events".to_string(),
            Sli::Events { good: false, .. } | Sli::Ratio { good: false, .. } => {
                "events that are not bad".to_string()
            }
            Sli::Ratio { good: true, .. } => "good events".to_string(),
        }
    }
}

/// What an SLO counts. Selectors are for the service's scrape job, with
/// the SLI's own matchers.
#[derive(Debug)]
pub enum Sli {
    /// Requests not answered with a 5xx, of those matching `matchers`.
    Availability { matchers: Vec<(String, String)> },
    /// Requests in the duration histogram's bucket at `threshold`, of those
    /// matching `matchers`; `le` is the bucket's label value (`0.5`).
    Latency {
        threshold: Duration,
        le: String,
        matchers: Vec<(String, String)>,
    },
    /// Counter selectors as written (`good` says whether `events` counts
    /// good events rather than bad ones).
    Events {
        events: Selector,
        good: bool,
        total: Selector,
    },
    /// PromQL expressions as written, `$window` standing for each window
    /// (`good` as for `Events`).
    Ratio {
        events: WindowedExpr,
        good: bool,
        total: WindowedExpr,
    },
}

impl Sli {
    pub fn kind(&self) -> &'static str {
        match self {
            Sli::Availability { .. } => "availability",
            Sli::Latency { .. } => "latency",
            Sli::Events { .. } => "events",
            Sli::Ratio { .. } => "ratio",
        }
    }
}

/// Labels harden's alerts carry already: a spec's extra labels may not
/// change them (routing and inhibition read them).
pub const RESERVED_LABELS: [&str; 8] = [
    "alertname",
    "severity",
    "service",
    "slo",
    "tier",
    "team",
    "job",
    "instance",
];
/// Annotations harden writes on every alert.
pub const RESERVED_ANNOTATIONS: [&str; 4] = ["summary", "description", "runbook_url", "dashboard"];

/// What a ratio SLI's expressions write where each window's range goes.
pub const WINDOW_PLACEHOLDER: &str = "$window";

/// A ratio SLI's PromQL expression, checked when lowered: every range in
/// it is [`WINDOW_PLACEHOLDER`] (or it reads no range at all).
#[derive(Debug, Clone)]
pub struct WindowedExpr {
    /// As written.
    pub text: String,
    /// It is a `sum(…)` without grouping already: one series, not wrapped again.
    pub summed: bool,
    /// Every function over `$window` is `rate`: the value is events per second.
    pub per_second: bool,
    /// The one counter it reads, when it is `sum(rate(counter[$window]))`
    /// (or `increase`, with or without the sum): what promtool cases feed.
    pub counter: Option<Selector>,
}

impl WindowedExpr {
    /// The expression over `window`, summed into one series:
    /// `sum(rate(x[5m]))` for `rate(x[$window])`.
    pub fn over(&self, window: Duration) -> String {
        let text = self.text.replace(WINDOW_PLACEHOLDER, &window.to_string());
        if self.summed {
            text
        } else {
            format!("sum({})", text.trim())
        }
    }
}

/// A counter selector: a metric name and its matchers, each kept as
/// written (`route="/api"`, `status=~"5.."`).
#[derive(Debug, Clone)]
pub struct Selector {
    pub metric: String,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone)]
pub struct Matcher {
    pub label: String,
    /// `=`, `!=`, `=~` or `!~`.
    pub op: &'static str,
    pub value: String,
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

    /// The alert name a tier raises.
    pub fn alert_name(self) -> &'static str {
        match self {
            Tier::Page => "SLOErrorBudgetBurnPage",
            Tier::Ticket => "SLOErrorBudgetBurnTicket",
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Tier::Page => Severity::Critical,
            Tier::Ticket => Severity::Warning,
        }
    }

    /// The default `for`: 2m for a page, so one bad evaluation cannot page
    /// (harden fires that much later than Sloth's golden rules, on the same
    /// condition); 15m for a ticket, which has hours.
    pub fn default_for(self) -> Duration {
        Duration::secs(match self {
            Tier::Page => 120,
            Tier::Ticket => 900,
        })
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
    pub severity: Severity,
    pub for_: Duration,
}

impl BurnRate {
    /// When the alert fires once every event fails, after a full long
    /// window of good events: the long window's ratio grows by one per
    /// window length, so it passes the threshold after threshold × long
    /// (the short window sooner), rounded up to a second; then `for` must
    /// pass. Add up to a scrape and an evaluation interval. A Prometheus
    /// with less history than the long window fires sooner: the ratio
    /// counts only the events it has.
    pub fn fires_after_total_outage(&self) -> Duration {
        let scale = 10u128.pow(self.threshold.scale());
        let ms = (u128::from(self.long.as_millis()) * self.threshold.digits()).div_ceil(scale);
        let crossing = u64::try_from(ms.div_ceil(1000) * 1000)
            .map(Duration::from_millis)
            .unwrap_or_default();
        crossing.checked_add(self.for_).unwrap_or(crossing)
    }
}

/// Decimal places a non-terminating burn factor is rounded to.
pub const BURN_FACTOR_PLACES: u32 = 4;
/// One objective with an error budget, as Prometheus labels its series
/// (`service`, `slo`): what `harden report`, `harden backtest` and the
/// budget gate of `harden check --live --budget` read.
#[derive(Debug, Clone)]
pub struct BudgetSlo<'a> {
    pub service: &'a str,
    /// The `slo` label of its recording rules: the SLO's name.
    pub slo: &'a str,
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
            .filter_map(|s| Some((&s.name, s.http()?)))
            .flat_map(|(service, http)| {
                http.slos.iter().map(move |slo| BudgetSlo {
                    service,
                    slo: &slo.name,
                    window: slo.window,
                    objective: slo.objective,
                    freeze_below: slo.freeze_below,
                })
            })
            .collect()
    }
}
