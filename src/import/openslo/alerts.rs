//! OpenSLO alert policies as harden tiers: each `burnrate` condition
//! (inline or an `AlertCondition` by `conditionRef`, in an inline
//! `AlertPolicy` or one by `alertPolicyRef`) one tier; notification targets
//! and the other switches are noted.

use serde_json::Value;

use super::Catalog;
use crate::import::{Doc, Import, NoteKind, Share, Tier};
use crate::units::Duration;

/// The tiers of the SLO's burn-rate alert conditions, or `None` for
/// harden's defaults. OpenSLO gives one lookback window; harden adds a
/// short window of a twelfth of it (5m for 1h), as the SRE workbook does.
pub(super) fn alert_policies(
    catalog: &Catalog,
    spec: &Doc<'_>,
    import: &mut Import,
) -> Option<Vec<Tier>> {
    let list = spec.get("alertPolicies").and_then(Value::as_array)?;
    let mut tiers = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let path = spec.join(&format!("alertPolicies[{i}]"));
        let reference = item
            .as_str()
            .or_else(|| item.get("alertPolicyRef").and_then(Value::as_str));
        let policy = match reference {
            Some(name) => match catalog
                .by_kind
                .get(&("AlertPolicy".to_string(), name.to_string()))
            {
                Some(o) => Doc::new(&o.value, &o.file, &o.path),
                None => {
                    import.note(
                        NoteKind::NotImported,
                        format!("{}: {path}", spec.file()),
                        format!("no AlertPolicy named {name} in the files given"),
                    );
                    continue;
                }
            },
            None => Doc::new(item, spec.file(), &path),
        };
        let Some(policy) = policy else { continue };
        if reference.is_none() || item.get("alertPolicyRef").is_some() {
            policy.unknown(
                &["apiVersion", "kind", "metadata", "spec", "alertPolicyRef"],
                import,
            );
        }
        let pspec_path = policy.join("spec");
        let Some(pspec) = policy
            .get("spec")
            .and_then(|v| Doc::new(v, policy.file(), &pspec_path))
        else {
            continue;
        };
        pspec.unknown(
            &[
                "description",
                "alertWhenNoData",
                "alertWhenResolved",
                "alertWhenBreaching",
                "conditions",
                "notificationTargets",
            ],
            import,
        );
        for key in ["alertWhenNoData", "alertWhenResolved"] {
            if pspec.get(key).and_then(Value::as_bool) == Some(true) {
                import.note(
                    NoteKind::NotImported,
                    pspec.at_key(key),
                    "harden's burn-rate alerts fire on budget burn only (Alertmanager sends resolutions per receiver)",
                );
            }
        }
        if pspec.get("notificationTargets").is_some() {
            import.note(
                NoteKind::NotImported,
                pspec.at_key("notificationTargets"),
                "harden routes alerts by severity with [[alerting.route]] and [[alerting.receiver]]",
            );
        }
        for (j, c) in pspec
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let cpath = pspec.join(&format!("conditions[{j}]"));
            let condition = match c.get("conditionRef").and_then(Value::as_str) {
                Some(name) => catalog
                    .by_kind
                    .get(&("AlertCondition".to_string(), name.to_string()))
                    .and_then(|o| Doc::new(&o.value, &o.file, &o.path)),
                None => Doc::new(c, pspec.file(), &cpath),
            };
            let Some(condition) = condition else {
                import.note(
                    NoteKind::NotImported,
                    format!("{}: {cpath}", pspec.file()),
                    "an alert condition harden cannot find",
                );
                continue;
            };
            if let Some(t) = tier(&condition, import) {
                tiers.push(t);
            }
        }
    }
    (!tiers.is_empty()).then_some(tiers)
}

/// A `burnrate` condition as a tier: its severity (`page` or `critical`
/// pages), lookback window, threshold (the burn factor) and `alertAfter`.
fn tier(condition: &Doc<'_>, import: &mut Import) -> Option<Tier> {
    let path = condition.join("spec");
    let spec = condition
        .get("spec")
        .and_then(|v| Doc::new(v, condition.file(), &path))?;
    spec.unknown(&["description", "severity", "condition"], import);
    let cpath = spec.join("condition");
    let c = spec
        .get("condition")
        .and_then(|v| Doc::new(v, condition.file(), &cpath))?;
    c.unknown(
        &["kind", "op", "threshold", "lookbackWindow", "alertAfter"],
        import,
    );
    if c.str("kind") != Some("burnrate") {
        import.note(
            NoteKind::NotImported,
            c.at_key("kind"),
            "harden's SLO alerts are burn-rate alerts: only `kind: burnrate` conditions are imported",
        );
        return None;
    }
    let long = c
        .str("lookbackWindow")
        .and_then(|t| Duration::parse(t).ok());
    let factor = match c.get("threshold") {
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (Some(long), Some(factor)) = (long, factor) else {
        import.note(
            NoteKind::NotImported,
            c.at(),
            "a burnrate condition needs a `threshold` (the burn rate) and a `lookbackWindow`",
        );
        return None;
    };
    let severity = spec.str("severity").unwrap_or("ticket");
    let alert = if matches!(severity, "page" | "critical") {
        "page"
    } else {
        "ticket"
    };
    // A twelfth of the long window, whole minutes, at least one.
    let short_ms = (long.as_millis() / 12).max(60_000);
    let short = Duration::from_millis(short_ms - short_ms % 60_000);
    import.note(
        NoteKind::Changed,
        c.at_key("lookbackWindow"),
        format!("harden's tier also needs a short window, shorter than {long}: {short}, a twelfth, as the SRE workbook's tiers"),
    );
    Some(Tier {
        alert,
        long: long.to_string(),
        short: short.to_string(),
        share: Share::Factor(factor),
        severity: ["critical", "warning", "info"]
            .contains(&severity)
            .then(|| severity.to_string()),
        for_: c
            .str("alertAfter")
            .and_then(|t| Duration::parse(t).ok())
            .map(|d| d.to_string()),
        enabled: true,
    })
}
