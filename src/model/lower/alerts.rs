//! An HTTP service's alerts: which kinds apply, and the spec's overrides.

use super::*;

impl Lower {
    /// The alerts of one HTTP service: every kind that applies, with the
    /// spec's overrides applied and disabled ones left out. `error_rates`:
    /// whether the 5xx and 4xx threshold alerts have a threshold.
    pub(super) fn alert_rules(
        &mut self,
        overrides: &BTreeMap<AlertKind, AlertOverride>,
        slos: &[Slo],
        error_rates: (bool, bool),
        scaling: Option<&Scaling>,
        targets: &[Target],
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let mut add = |kind: AlertKind, name: &str, slo: Option<&str>| {
            let o = overrides.get(&kind);
            if o.is_some_and(|o| !o.enabled) {
                return;
            }
            out.push(Alert {
                kind,
                name: name.to_string(),
                severity: o
                    .and_then(|o| o.severity)
                    .unwrap_or(kind.default_severity()),
                for_: o.and_then(|o| o.for_).unwrap_or(kind.default_for()),
                slo: slo.map(str::to_string),
                tier: None,
            });
        };
        if error_rates.0 {
            add(AlertKind::ErrorRate5xx, "HighErrorRate5xx", None);
        }
        if error_rates.1 {
            add(AlertKind::ErrorRate4xx, "HighErrorRate4xx", None);
        }
        add(AlertKind::TargetDown, "TargetDown", None);
        add(AlertKind::MetricsAbsent, "MetricsAbsent", None);
        // A utilization alert watches what its autoscaler targets (a model
        // has requests beside every target: `scaling` reports one without).
        // Its series (cAdvisor, kube-state-metrics) are collected only on
        // Kubernetes: elsewhere it could never fire.
        let kubernetes = self.kubernetes;
        if let Some(Scaling::Auto(a)) = scaling.filter(|_| kubernetes) {
            if a.cpu_percent.is_some() {
                add(AlertKind::CpuHigh, "HighCPUUsage", None);
            }
            if a.memory_percent.is_some() {
                add(AlertKind::MemoryHigh, "HighMemoryUsage", None);
            }
            // With no room between minimum and maximum, the autoscaler always
            // runs its maximum: the alert would never resolve.
            if a.min_replicas < a.max_replicas {
                add(AlertKind::ReplicasAtMax, "ReplicasAtMaximum", None);
            }
        }
        let mut regions: Vec<&str> = targets.iter().filter_map(|t| t.region.as_deref()).collect();
        regions.dedup();
        if regions.len() >= 2 {
            add(AlertKind::RegionDown, "RegionDown", None);
        }
        // Each SLO's alerts: its burn-rate tiers (their severity and `for`
        // are the tiers'), then its exhausted budget.
        let mut slo_alerts = Vec::new();
        let exhausted = overrides.get(&AlertKind::BudgetExhausted);
        for slo in slos {
            for tier in [Tier::Page, Tier::Ticket] {
                if let Some(b) = slo.tiers(tier).next() {
                    slo_alerts.push(Alert {
                        kind: AlertKind::of_tier(tier),
                        name: tier.alert_name().to_string(),
                        severity: b.severity,
                        for_: b.for_,
                        slo: Some(slo.name.clone()),
                        tier: Some(tier),
                    });
                }
            }
            if exhausted.is_none_or(|o| o.enabled) {
                let kind = AlertKind::BudgetExhausted;
                slo_alerts.push(Alert {
                    kind,
                    name: "ErrorBudgetExhausted".to_string(),
                    severity: exhausted
                        .and_then(|o| o.severity)
                        .unwrap_or(kind.default_severity()),
                    for_: exhausted.and_then(|o| o.for_).unwrap_or(kind.default_for()),
                    slo: Some(slo.name.clone()),
                    tier: None,
                });
            }
        }
        slo_alerts.extend(out);
        slo_alerts
    }

    /// A threshold alert's ratio (`[service.alerts] error_rate_5xx`): on
    /// only with a `threshold`.
    pub(super) fn error_rate(
        &mut self,
        pointer: &str,
        key: &str,
        o: Option<&spec::AlertOverride>,
    ) -> Option<Percent> {
        let at = format!("{pointer}/{key}/threshold");
        let p = self.percent(&at, o?.threshold.as_ref()?)?;
        if p.value() == Decimal::ZERO || p.value() >= Decimal::HUNDRED {
            self.invalid(
                &at,
                format!("an error-rate threshold of {p} can never alert usefully"),
                "use a threshold above 0% and below 100%, such as \"1%\"",
            );
            return None;
        }
        self.alert_precision(&at, p)
    }

    /// Alert thresholds become request counts in the generated promtool
    /// tests, which must stay exact as floats: at most four decimal places.
    pub(super) fn alert_precision(&mut self, pointer: &str, p: Percent) -> Option<Percent> {
        if p.value().scale() > 4 {
            self.invalid(
                pointer,
                format!("{p} has more decimal places than alerting can use"),
                "use at most four decimal places, such as \"99.9999%\"",
            );
            return None;
        }
        Some(p)
    }

    pub(super) fn alert_overrides(
        &mut self,
        pointer: &str,
        a: &spec::AlertOverrides,
    ) -> BTreeMap<AlertKind, AlertOverride> {
        let entries = [
            (AlertKind::BudgetExhausted, &a.error_budget_exhausted),
            (AlertKind::ErrorRate5xx, &a.error_rate_5xx),
            (AlertKind::ErrorRate4xx, &a.error_rate_4xx),
            (AlertKind::TargetDown, &a.target_down),
            (AlertKind::MetricsAbsent, &a.metrics_absent),
            (AlertKind::CpuHigh, &a.cpu_high),
            (AlertKind::MemoryHigh, &a.memory_high),
            (AlertKind::ReplicasAtMax, &a.replicas_at_max),
            (AlertKind::RegionDown, &a.region_down),
        ];
        let mut out = BTreeMap::new();
        for (kind, o) in entries {
            let Some(o) = o else { continue };
            if o.threshold.is_some()
                && !matches!(kind, AlertKind::ErrorRate5xx | AlertKind::ErrorRate4xx)
            {
                self.not_applicable(
                    &format!("{pointer}/{}", kind.spec_key()),
                    "threshold",
                    "error_rate_5xx and error_rate_4xx",
                );
            }
            let at = format!("{pointer}/{}/for", kind.spec_key());
            let for_ = o.for_.as_ref().and_then(|f| self.duration(&at, f));
            out.insert(
                kind,
                AlertOverride {
                    enabled: o.enabled.unwrap_or(true),
                    for_,
                    severity: o.severity,
                },
            );
        }
        out
    }
}
