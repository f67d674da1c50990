//! Sloth's specs (`version: prometheus/v1`, and the Kubernetes
//! `sloth.slok.dev/v1` `PrometheusServiceLevel`, whose keys are camelCase)
//! as harden SLOs: `events` and `raw` SLIs become ratio SLIs, the alerts'
//! labels and annotations the SLO's, a page or ticket severity or a
//! disabled alert harden's tiers. Plugins have no equivalent and are noted.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    Doc, Import, NoteKind, Ratio, ReadError, Slo, default_tiers, one_line, percent_text,
    window_placeholder,
};
use crate::model::{RESERVED_ANNOTATIONS, RESERVED_LABELS};

/// The keys of one of the two shapes.
struct Keys {
    plugins: &'static str,
    raw: &'static str,
    error_ratio: &'static str,
    error: &'static str,
    total: &'static str,
    page: &'static str,
    ticket: &'static str,
}

const PROMETHEUS_V1: Keys = Keys {
    plugins: "slo_plugins",
    raw: "raw",
    error_ratio: "error_ratio_query",
    error: "error_query",
    total: "total_query",
    page: "page_alert",
    ticket: "ticket_alert",
};

const KUBERNETES_V1: Keys = Keys {
    plugins: "sloPlugins",
    raw: "raw",
    error_ratio: "errorRatioQuery",
    error: "errorQuery",
    total: "totalQuery",
    page: "pageAlert",
    ticket: "ticketAlert",
};

/// Every document of one Sloth file, into `import`.
pub fn read(file: &str, text: &str, import: &mut Import) -> Result<(), ReadError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .map_err(|e| ReadError(format!("{file}: not YAML: {e}")))?;
    for (i, value) in docs.iter().enumerate() {
        if value.is_null() {
            continue;
        }
        let label = if docs.len() > 1 {
            format!("{file} (document {})", i + 1)
        } else {
            file.to_string()
        };
        let not_sloth = || {
            ReadError(format!(
                "{file}: not a Sloth spec: expected `version: prometheus/v1`, or `apiVersion: sloth.slok.dev/v1` with `kind: PrometheusServiceLevel`"
            ))
        };
        let doc = Doc::new(value, &label, "").ok_or_else(not_sloth)?;
        if doc.str("version") == Some("prometheus/v1") {
            doc.unknown(
                &["version", "service", "labels", "slo_plugins", "slos"],
                import,
            );
            spec(doc, &PROMETHEUS_V1, import)?;
        } else if doc.str("apiVersion") == Some("sloth.slok.dev/v1")
            && doc.str("kind") == Some("PrometheusServiceLevel")
        {
            doc.unknown(
                &["apiVersion", "kind", "metadata", "spec", "status"],
                import,
            );
            let path = doc.join("spec");
            let spec_doc = doc
                .get("spec")
                .and_then(|v| Doc::new(v, file, &path))
                .ok_or_else(|| ReadError(format!("{}: no `spec` mapping", doc.at())))?;
            spec_doc.unknown(&["service", "labels", "sloPlugins", "slos"], import);
            spec(spec_doc, &KUBERNETES_V1, import)?;
        } else {
            return Err(not_sloth());
        }
    }
    Ok(())
}

/// One service's spec: its labels go on every SLO's alerts.
fn spec(doc: Doc<'_>, keys: &Keys, import: &mut Import) -> Result<(), ReadError> {
    let service = doc
        .str("service")
        .ok_or_else(|| ReadError(format!("{}: no `service`", doc.at())))?;
    let name = import.name(service, doc.at_key("service"));
    plugins(&doc, keys.plugins, import);
    let labels = doc.strings("labels", import);
    if !labels.is_empty() {
        import.note(
            NoteKind::Changed,
            doc.at_key("labels"),
            "Sloth puts these labels on the recording rules too; harden puts them on each SLO's alerts (its series carry `service` and `slo`)",
        );
    }
    let slos = doc.get("slos").and_then(Value::as_array);
    let mut out = Vec::new();
    for (i, v) in slos.into_iter().flatten().enumerate() {
        let path = doc.join(&format!("slos[{i}]"));
        let Some(slo_doc) = Doc::new(v, doc.file(), &path) else {
            import.note(
                NoteKind::NotImported,
                format!("{}: {path}", doc.file()),
                "not a mapping",
            );
            continue;
        };
        if let Some(slo) = slo(slo_doc, keys, &labels, import) {
            out.push(slo);
        }
    }
    import.service(&name).slos.extend(out);
    Ok(())
}

fn plugins(doc: &Doc<'_>, key: &str, import: &mut Import) {
    if doc.get(key).is_some() {
        import.note(
            NoteKind::NotImported,
            doc.at_key(key),
            "Sloth's SLO plugins change its generated rules; harden has no plugins",
        );
    }
}

fn slo(
    doc: Doc<'_>,
    keys: &Keys,
    service_labels: &[(String, String)],
    import: &mut Import,
) -> Option<Slo> {
    doc.unknown(
        &[
            "name",
            "description",
            "objective",
            "plugins",
            "labels",
            "sli",
            "alerting",
        ],
        import,
    );
    let Some(written) = doc.str("name") else {
        import.note(NoteKind::NotImported, doc.at(), "an SLO without a `name`");
        return None;
    };
    let name = import.name(written, doc.at_key("name"));
    let Some(objective) = doc.get("objective").and_then(|v| percent_text(v, 1)) else {
        import.note(
            NoteKind::NotImported,
            doc.at_key("objective"),
            format!("SLO {written} has no numeric objective: it is left out"),
        );
        return None;
    };
    plugins(&doc, "plugins", import);
    let ratio = sli(&doc, keys, import)?;
    let mut comments = vec![format!("Sloth SLO {written}")];
    if let Some(d) = doc.str("description") {
        comments.push(d.to_string());
    }
    let mut slo = Slo {
        comments,
        name,
        objective,
        ratio,
        ..Slo::default()
    };
    let mut labels: BTreeMap<String, String> = service_labels.iter().cloned().collect();
    labels.extend(doc.strings("labels", import));
    alerting(&doc, keys, &mut slo, labels, import);
    Some(slo)
}

/// `events` (bad and total queries) or `raw` (an error ratio, over a total
/// of 1); `plugin` is noted and the SLO left out.
fn sli(doc: &Doc<'_>, keys: &Keys, import: &mut Import) -> Option<Ratio> {
    let path = doc.join("sli");
    let Some(sli) = doc.get("sli").and_then(|v| Doc::new(v, doc.file(), &path)) else {
        import.note(
            NoteKind::NotImported,
            doc.at_key("sli"),
            "an SLO without an `sli` mapping: it is left out",
        );
        return None;
    };
    sli.unknown(&[keys.raw, "events", "plugin"], import);
    let query = |v: &str| one_line(&window_placeholder(v));
    let events_path = sli.join("events");
    if let Some(events) = sli
        .get("events")
        .and_then(|v| Doc::new(v, doc.file(), &events_path))
    {
        events.unknown(&[keys.error, keys.total], import);
        let (Some(bad), Some(total)) = (events.str(keys.error), events.str(keys.total)) else {
            import.note(
                NoteKind::NotImported,
                events.at(),
                format!(
                    "an events SLI needs `{}` and `{}`: the SLO is left out",
                    keys.error, keys.total
                ),
            );
            return None;
        };
        return Some(Ratio {
            good: false,
            events: query(bad),
            total: query(total),
        });
    }
    let raw_path = sli.join(keys.raw);
    if let Some(raw) = sli
        .get(keys.raw)
        .and_then(|v| Doc::new(v, doc.file(), &raw_path))
    {
        raw.unknown(&[keys.error_ratio], import);
        let Some(ratio) = raw.str(keys.error_ratio) else {
            import.note(
                NoteKind::NotImported,
                raw.at(),
                format!(
                    "a raw SLI needs `{}`: the SLO is left out",
                    keys.error_ratio
                ),
            );
            return None;
        };
        return Some(Ratio {
            good: false,
            events: query(ratio),
            total: "vector(1)".to_string(),
        });
    }
    if sli.get("plugin").is_some() {
        import.note(
            NoteKind::NotImported,
            sli.at_key("plugin"),
            "a plugin SLI is Go code Sloth runs; harden cannot express it: the SLO is left out (write its queries as a ratio SLI)",
        );
    } else {
        import.note(
            NoteKind::NotImported,
            sli.at(),
            "no `events` or `raw` SLI: the SLO is left out",
        );
    }
    None
}

/// A page or ticket alert's `disable`, labels and annotations.
type AlertSettings = (bool, BTreeMap<String, String>, BTreeMap<String, String>);

/// The alerts: harden names them itself; labels and annotations shared by
/// both alerts go on the SLO, a severity or a disabled alert into tiers.
fn alerting(
    doc: &Doc<'_>,
    keys: &Keys,
    slo: &mut Slo,
    mut labels: BTreeMap<String, String>,
    import: &mut Import,
) {
    let path = doc.join("alerting");
    let alerting = doc
        .get("alerting")
        .and_then(|v| Doc::new(v, doc.file(), &path));
    if alerting.is_none() && doc.get("alerting").is_some() {
        import.note(
            NoteKind::NotImported,
            doc.at_key("alerting"),
            "not a mapping",
        );
    }
    let mut annotations: BTreeMap<String, String> = BTreeMap::new();
    // Per alert: (disabled, labels, annotations)
    let mut alerts: Vec<AlertSettings> = Vec::new();
    if let Some(a) = alerting {
        a.unknown(
            &["name", "labels", "annotations", keys.page, keys.ticket],
            import,
        );
        if let Some(n) = a.str("name") {
            import.note(
                NoteKind::Changed,
                a.at_key("name"),
                format!(
                    "Sloth's alerts are {n}; harden's are SLOErrorBudgetBurnPage and SLOErrorBudgetBurnTicket with slo=\"{}\" (routes and silences that match alertname={n} need changing)",
                    slo.name
                ),
            );
        }
        labels.extend(a.strings("labels", import));
        annotations.extend(a.strings("annotations", import));
        for key in [keys.page, keys.ticket] {
            let p = a.join(key);
            let one = a.get(key).and_then(|v| Doc::new(v, doc.file(), &p));
            let Some(one) = one else {
                if a.get(key).is_some() {
                    import.note(NoteKind::NotImported, a.at_key(key), "not a mapping");
                }
                alerts.push((false, BTreeMap::new(), BTreeMap::new()));
                continue;
            };
            one.unknown(&["disable", "labels", "annotations"], import);
            let disabled = one.get("disable").and_then(Value::as_bool).unwrap_or(false);
            alerts.push((
                disabled,
                one.strings("labels", import).into_iter().collect(),
                one.strings("annotations", import).into_iter().collect(),
            ));
        }
    } else {
        alerts = vec![(false, BTreeMap::new(), BTreeMap::new()); 2];
    }
    let at = |key: &str| format!("{}: {}", doc.file(), doc.join(&format!("alerting.{key}")));
    // Severities: harden's tiers carry them.
    let mut tiers = default_tiers();
    let mut changed = false;
    for (i, (alert, key)) in [("page", keys.page), ("ticket", keys.ticket)]
        .into_iter()
        .enumerate()
    {
        let (disabled, alert_labels, _) = &mut alerts[i];
        if *disabled {
            for t in tiers.iter_mut().filter(|t| t.alert == alert) {
                t.enabled = false;
            }
            changed = true;
        }
        if let Some(severity) = alert_labels.remove("severity") {
            let default = if alert == "page" {
                "critical"
            } else {
                "warning"
            };
            if ["critical", "warning", "info"].contains(&severity.as_str()) {
                if severity != default {
                    for t in tiers.iter_mut().filter(|t| t.alert == alert) {
                        t.severity = Some(severity.clone());
                    }
                    changed = true;
                }
            } else {
                import.note(
                    NoteKind::NotImported,
                    at(&format!("{key}.labels.severity")),
                    format!("harden's severities are critical, warning and info, not `{severity}`: its {alert} alert keeps the default, {default}"),
                );
            }
        }
    }
    if changed {
        slo.tiers = Some(tiers);
    }
    // Labels and annotations both alerts share go on the SLO; the rest
    // cannot (harden's are per SLO).
    let (page, ticket) = (&alerts[0], &alerts[1]);
    for (what, p, t, into) in [
        ("label", &page.1, &ticket.1, &mut labels),
        ("annotation", &page.2, &ticket.2, &mut annotations),
    ] {
        for (k, v) in p {
            if ticket.0 || t.get(k) == Some(v) {
                into.insert(k.clone(), v.clone());
            } else {
                import.note(
                    NoteKind::NotImported,
                    at(&format!("{}.{what}s.{k}", keys.page)),
                    format!("harden's {what}s are the SLO's, on both alerts: `{k}` differs on the ticket alert"),
                );
            }
        }
        for (k, v) in t {
            if p.get(k) != Some(v) && !page.0 {
                import.note(
                    NoteKind::NotImported,
                    at(&format!("{}.{what}s.{k}", keys.ticket)),
                    format!("harden's {what}s are the SLO's, on both alerts: `{k}` differs on the page alert"),
                );
            } else if page.0 {
                into.insert(k.clone(), v.clone());
            }
        }
    }
    for (what, map, reserved) in [
        ("label", &mut labels, &RESERVED_LABELS[..]),
        ("annotation", &mut annotations, &RESERVED_ANNOTATIONS[..]),
    ] {
        map.retain(|k, v| {
            let why = if reserved.contains(&k.as_str()) {
                Some(format!("harden sets the {what} `{k}` itself"))
            } else if v.contains("{{") {
                Some(format!("the {what} `{k}` is a Go template; harden's {what}s are plain text"))
            } else if !super::plain_pair(k, v) {
                Some(format!("harden's {what}s are Prometheus label names with one line of at most 200 characters; `{k}` is not"))
            } else {
                None
            };
            if let Some(why) = &why {
                import.note(
                    NoteKind::NotImported,
                    format!("{}: {}", doc.file(), doc.join(&format!("{what}s.{k}"))),
                    why.clone(),
                );
            }
            why.is_none()
        });
    }
    slo.labels = labels;
    slo.annotations = annotations;
}
