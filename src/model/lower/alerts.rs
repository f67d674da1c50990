//! An HTTP service's alerts: which kinds apply, and the spec's overrides.

use super::*;

impl Lower {
    /// The alerts of one HTTP service: every kind that applies, with the
    /// spec's overrides applied and disabled ones left out.
    pub(super) fn alert_rules(
        &mut self,
        pointer: &str,
        overrides: &BTreeMap<AlertKind, AlertOverride>,
        slo: Option<&Slo>,
        scaling: Option<&Scaling>,
        targets: &[Target],
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let mut add = |kind: AlertKind,
                       name: String,
                       slo: Option<SloKind>,
                       tier: Option<Tier>,
                       percentile: Option<Decimal>| {
            let o = overrides.get(&kind);
            if o.is_some_and(|o| !o.enabled) {
                return;
            }
            out.push(Alert {
                kind,
                name,
                severity: o
                    .and_then(|o| o.severity)
                    .unwrap_or(kind.default_severity()),
                for_: o.and_then(|o| o.for_).unwrap_or(kind.default_for()),
                slo,
                tier,
                percentile,
            });
        };
        if let Some(slo) = slo {
            for (kind, tier, name) in [
                (AlertKind::SloBurnPage, Tier::Page, "SLOErrorBudgetBurnPage"),
                (
                    AlertKind::SloBurnTicket,
                    Tier::Ticket,
                    "SLOErrorBudgetBurnTicket",
                ),
            ] {
                if slo.burn_rates.iter().any(|b| b.tier == tier) {
                    add(
                        kind,
                        name.to_string(),
                        Some(SloKind::Availability),
                        Some(tier),
                        None,
                    );
                }
            }
            if slo.error_rate_5xx.is_some() {
                add(
                    AlertKind::ErrorRate5xx,
                    "HighErrorRate5xx".into(),
                    Some(SloKind::Errors),
                    None,
                    None,
                );
            }
            if slo.error_rate_4xx.is_some() {
                add(
                    AlertKind::ErrorRate4xx,
                    "HighErrorRate4xx".into(),
                    Some(SloKind::Errors),
                    None,
                    None,
                );
            }
            for l in &slo.latency {
                let name = record::percentile_name(l.percentile).replacen('p', "P", 1);
                add(
                    AlertKind::Latency,
                    format!("HighLatency{name}"),
                    Some(SloKind::Latency),
                    None,
                    Some(l.percentile),
                );
            }
        }
        add(AlertKind::TargetDown, "TargetDown".into(), None, None, None);
        add(
            AlertKind::MetricsAbsent,
            "MetricsAbsent".into(),
            None,
            None,
            None,
        );
        // A utilization alert watches what its autoscaler targets (a model
        // has requests beside every target: `scaling` reports one without).
        // Its series (cAdvisor, kube-state-metrics) are collected only on
        // Kubernetes: elsewhere it could never fire.
        let kubernetes = self.kubernetes;
        if let Some(Scaling::Auto(a)) = scaling.filter(|_| kubernetes) {
            if a.cpu_percent.is_some() {
                add(AlertKind::CpuHigh, "HighCPUUsage".into(), None, None, None);
            }
            if a.memory_percent.is_some() {
                add(
                    AlertKind::MemoryHigh,
                    "HighMemoryUsage".into(),
                    None,
                    None,
                    None,
                );
            }
            // With no room between minimum and maximum, the autoscaler always
            // runs its maximum: the alert would never resolve.
            if a.min_replicas < a.max_replicas {
                add(
                    AlertKind::ReplicasAtMax,
                    "ReplicasAtMaximum".into(),
                    None,
                    None,
                    None,
                );
            }
        }
        let mut regions: Vec<&str> = targets.iter().filter_map(|t| t.region.as_deref()).collect();
        regions.dedup();
        if regions.len() >= 2 {
            add(AlertKind::RegionDown, "RegionDown".into(), None, None, None);
        }
        // A burn tier whose threshold is 100% errors or more can never fire.
        if let Some(slo) = slo {
            for b in &slo.burn_rates {
                let enabled = out.iter().any(|a| a.tier == Some(b.tier));
                if enabled && b.threshold >= Decimal::ONE {
                    let key = AlertKind::of_tier(b.tier).spec_key();
                    self.invalid(
                        &format!("{pointer}/slo/availability"),
                        format!(
                            "this objective leaves so much error budget that the {} tier's {}/{} threshold ({}× the budget) is {} of requests failing: the alert could never fire",
                            b.tier.as_str(),
                            b.long,
                            b.short,
                            b.factor,
                            crate::vocab::percent(b.threshold),
                        ),
                        format!("raise the objective, or set `alerts.{key}.enabled = false`"),
                    );
                    break;
                }
            }
        }
        out
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
            (AlertKind::SloBurnPage, &a.slo_burn_page),
            (AlertKind::SloBurnTicket, &a.slo_burn_ticket),
            (AlertKind::ErrorRate5xx, &a.error_rate_5xx),
            (AlertKind::ErrorRate4xx, &a.error_rate_4xx),
            (AlertKind::Latency, &a.latency),
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
