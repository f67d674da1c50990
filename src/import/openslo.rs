//! OpenSLO v1 (`apiVersion: openslo/v1`) as harden SLOs: each `SLO`
//! objective on a `ratioMetric` (inline or an `SLI` by `indicatorRef`,
//! Prometheus queries inline or through a `DataSource`) becomes a ratio SLI;
//! a rolling `timeWindow` the SLO window; `burnrate` alert conditions
//! (inline or referenced `AlertPolicy`/`AlertCondition`) tiers. Everything
//! else (threshold metrics, calendar windows, time slices, notification
//! targets) is noted. Documents may reference each other across files.

mod alerts;

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    Doc, Import, NoteKind, Ratio, ReadError, Slo, dns_label, one_line, percent_text,
    window_placeholder,
};
use crate::model::WINDOW_PLACEHOLDER;
use crate::units::Duration;

/// One document, where it is.
struct Object {
    file: String,
    path: String,
    value: Value,
}

/// The documents of every file, by kind and name.
#[derive(Default)]
struct Catalog {
    slos: Vec<Object>,
    by_kind: BTreeMap<(String, String), Object>,
}

/// Every document of every file (`(name, text)`), into `import`.
pub fn read(files: &[(String, String)], import: &mut Import) -> Result<(), ReadError> {
    let mut catalog = Catalog::default();
    for (file, text) in files {
        let docs: Vec<Value> = serde_saphyr::from_multiple(text)
            .map_err(|e| ReadError(format!("{file}: not YAML: {e}")))?;
        let many = docs.len() > 1;
        for (i, value) in docs.into_iter().enumerate() {
            if value.is_null() {
                continue;
            }
            let label = if many {
                format!("{file} (document {})", i + 1)
            } else {
                file.clone()
            };
            let api = value.get("apiVersion").and_then(Value::as_str);
            let kind = value
                .get("kind")
                .and_then(Value::as_str)
                .map(str::to_string);
            let name = value
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string);
            let (Some("openslo/v1"), Some(kind)) = (api, kind) else {
                return Err(ReadError(format!(
                    "{file}{}: not an OpenSLO v1 document: expected `apiVersion: openslo/v1` and a `kind`",
                    if many {
                        format!(" (document {})", i + 1)
                    } else {
                        String::new()
                    }
                )));
            };
            let object = Object {
                file: label,
                path: String::new(),
                value,
            };
            if kind == "SLO" {
                catalog.slos.push(object);
            } else if let Some(name) = name {
                catalog.by_kind.insert((kind, name), object);
            } else {
                import.note(
                    NoteKind::NotImported,
                    at(&object.file, &object.path),
                    format!("this {kind} has no `metadata.name`: nothing can refer to it"),
                );
            }
        }
    }
    for ((kind, name), o) in &catalog.by_kind {
        let Some(doc) = Doc::new(&o.value, &o.file, &o.path) else {
            continue;
        };
        doc.unknown(&["apiVersion", "kind", "metadata", "spec"], import);
        if ![
            "SLI",
            "DataSource",
            "AlertPolicy",
            "AlertCondition",
            "Service",
            "AlertNotificationTarget",
        ]
        .contains(&kind.as_str())
        {
            import.note(
                NoteKind::NotImported,
                doc.at(),
                format!("a {kind} ({name}) is no OpenSLO v1 kind harden reads"),
            );
        }
    }
    for o in &catalog.slos {
        slo(&catalog, o, import);
    }
    Ok(())
}

fn at(file: &str, path: &str) -> String {
    if path.is_empty() {
        file.to_string()
    } else {
        format!("{file}: {path}")
    }
}

fn slo(catalog: &Catalog, o: &Object, import: &mut Import) {
    let Some(doc) = Doc::new(&o.value, &o.file, &o.path) else {
        return;
    };
    doc.unknown(&["apiVersion", "kind", "metadata", "spec"], import);
    let name_written = o
        .value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("slo");
    metadata(&doc, import);
    let spec_path = doc.join("spec");
    let Some(spec) = doc
        .get("spec")
        .and_then(|v| Doc::new(v, doc.file(), &spec_path))
    else {
        import.note(
            NoteKind::NotImported,
            doc.at(),
            "an SLO without a `spec`: left out",
        );
        return;
    };
    spec.unknown(
        &[
            "description",
            "service",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        ],
        import,
    );
    let Some(service) = spec.str("service") else {
        import.note(
            NoteKind::NotImported,
            spec.at(),
            "an SLO without a `service`: left out",
        );
        return;
    };
    let service_name = import.name(service, spec.at_key("service"));
    if let Some(m) = spec.str("budgetingMethod")
        && m != "Occurrences"
    {
        import.note(
            NoteKind::NotImported,
            spec.at_key("budgetingMethod"),
            format!("harden budgets occurrences (bad events over all events), not {m}: imported as Occurrences"),
        );
    }
    let window = window(&spec, import);
    let Some(ratio) = indicator(catalog, &spec, import) else {
        return;
    };
    let tiers = alerts::alert_policies(catalog, &spec, import);
    let objectives = spec.get("objectives").and_then(Value::as_array);
    let Some(objectives) = objectives.filter(|o| !o.is_empty()) else {
        import.note(
            NoteKind::NotImported,
            spec.at(),
            "an SLO without `objectives`: left out",
        );
        return;
    };
    let base = import.name(name_written, doc.at_key("metadata.name"));
    let mut out = Vec::new();
    for (i, v) in objectives.iter().enumerate() {
        let path = spec.join(&format!("objectives[{i}]"));
        let Some(obj) = Doc::new(v, doc.file(), &path) else {
            continue;
        };
        obj.unknown(
            &[
                "displayName",
                "op",
                "value",
                "target",
                "targetPercent",
                "timeSliceTarget",
                "timeSliceWindow",
            ],
            import,
        );
        for key in ["op", "value"] {
            if obj.get(key).is_some() {
                import.note(
                    NoteKind::NotImported,
                    obj.at_key(key),
                    "a threshold (`op`/`value`) belongs to a threshold metric; a ratio SLI has none",
                );
            }
        }
        for key in ["timeSliceTarget", "timeSliceWindow"] {
            if obj.get(key).is_some() {
                import.note(
                    NoteKind::NotImported,
                    obj.at_key(key),
                    "harden budgets occurrences, not time slices",
                );
            }
        }
        let objective = match (obj.get("target"), obj.get("targetPercent")) {
            (Some(t), None) => percent_text(t, 100),
            (None, Some(p)) => percent_text(p, 1),
            _ => None,
        };
        let Some(objective) = objective else {
            import.note(
                NoteKind::NotImported,
                obj.at(),
                "an objective needs one numeric `target` (0.999) or `targetPercent` (99.9): left out",
            );
            continue;
        };
        let name = if objectives.len() == 1 {
            base.clone()
        } else {
            match obj.str("displayName") {
                Some(d) => format!("{base}-{}", dns_label(d)),
                None => format!("{base}-{i}"),
            }
        };
        let mut comments = vec![format!("OpenSLO SLO {name_written}, objective {}", i + 1)];
        if let Some(d) = spec.str("description") {
            comments.push(d.to_string());
        }
        out.push(Slo {
            comments,
            name,
            objective,
            window: window.clone(),
            ratio: Ratio {
                good: ratio.good,
                events: ratio.events.clone(),
                total: ratio.total.clone(),
            },
            tiers: tiers.clone(),
            ..Slo::default()
        });
    }
    import.service(&service_name).slos.extend(out);
}

/// Labels and annotations of an OpenSLO object describe it; harden has no
/// place for them.
fn metadata(doc: &Doc<'_>, import: &mut Import) {
    let path = doc.join("metadata");
    if let Some(m) = doc
        .get("metadata")
        .and_then(|v| Doc::new(v, doc.file(), &path))
    {
        m.unknown(&["name", "displayName", "labels", "annotations"], import);
        for key in ["labels", "annotations"] {
            if m.get(key).is_some() {
                import.note(
                    NoteKind::NotImported,
                    m.at_key(key),
                    "OpenSLO metadata describes the object; harden's alert labels and annotations are set per SLO in the spec",
                );
            }
        }
    }
}

/// The rolling window, such as `28d`; `None` leaves harden's 30d.
fn window(spec: &Doc<'_>, import: &mut Import) -> Option<String> {
    let windows = spec.get("timeWindow").and_then(Value::as_array)?;
    if windows.len() > 1 {
        import.note(
            NoteKind::NotImported,
            spec.at_key("timeWindow"),
            "harden has one window per SLO: only the first is imported",
        );
    }
    let path = spec.join("timeWindow[0]");
    let w = Doc::new(windows.first()?, spec.file(), &path)?;
    w.unknown(&["duration", "isRolling", "calendar"], import);
    if w.get("isRolling").and_then(Value::as_bool) == Some(false) || w.get("calendar").is_some() {
        import.note(
            NoteKind::NotImported,
            w.at(),
            "harden's budgets roll; a calendar window is not expressible (`harden report --month` measures a calendar month): imported as a rolling window of the same duration",
        );
    }
    let text = w.str("duration")?;
    match Duration::parse(text) {
        Ok(d) if d >= Duration::secs(86_400) => Some(d.to_string()),
        _ => {
            import.note(
                NoteKind::NotImported,
                w.at_key("duration"),
                format!("`{text}` is not a window harden accepts (a duration of at least 1d, such as 28d): harden's default, 30d, is used"),
            );
            None
        }
    }
}

/// The SLO's ratio: its inline `indicator` or the `SLI` its `indicatorRef` names.
fn indicator(catalog: &Catalog, spec: &Doc<'_>, import: &mut Import) -> Option<Ratio> {
    let inline_path = spec.join("indicator");
    if let Some(sli) = spec
        .get("indicator")
        .and_then(|v| Doc::new(v, spec.file(), &inline_path))
    {
        sli.unknown(&["metadata", "spec"], import);
        metadata(&sli, import);
        return sli_spec(catalog, &sli, import);
    }
    let Some(name) = spec.str("indicatorRef") else {
        import.note(
            NoteKind::NotImported,
            spec.at(),
            "an SLO without `indicator` or `indicatorRef`: left out",
        );
        return None;
    };
    let Some(o) = catalog.by_kind.get(&("SLI".to_string(), name.to_string())) else {
        import.note(
            NoteKind::NotImported,
            spec.at_key("indicatorRef"),
            format!("no SLI named {name} in the files given: the SLO is left out"),
        );
        return None;
    };
    let sli = Doc::new(&o.value, &o.file, &o.path)?;
    metadata(&sli, import);
    sli_spec(catalog, &sli, import)
}

fn sli_spec(catalog: &Catalog, sli: &Doc<'_>, import: &mut Import) -> Option<Ratio> {
    let path = sli.join("spec");
    let spec = sli
        .get("spec")
        .and_then(|v| Doc::new(v, sli.file(), &path))?;
    spec.unknown(&["description", "ratioMetric", "thresholdMetric"], import);
    if spec.get("thresholdMetric").is_some() {
        import.note(
            NoteKind::NotImported,
            spec.at_key("thresholdMetric"),
            "a threshold metric compares one value over time slices; harden's SLIs count events: for request latency, write `latency = { threshold = \"…\" }` on the service's histogram. The SLO is left out",
        );
        return None;
    }
    let ratio_path = spec.join("ratioMetric");
    let Some(r) = spec
        .get("ratioMetric")
        .and_then(|v| Doc::new(v, sli.file(), &ratio_path))
    else {
        import.note(
            NoteKind::NotImported,
            spec.at(),
            "no `ratioMetric`: the SLO is left out",
        );
        return None;
    };
    r.unknown(
        &["counter", "good", "bad", "total", "rawType", "raw"],
        import,
    );
    let counter = r.get("counter").and_then(Value::as_bool).unwrap_or(false);
    if let Some(raw) = r.get("raw") {
        let good = match r.str("rawType") {
            Some("success") => true,
            Some("failure") => false,
            _ => {
                import.note(
                    NoteKind::NotImported,
                    r.at_key("rawType"),
                    "a raw ratio needs `rawType: success` or `failure`: the SLO is left out",
                );
                return None;
            }
        };
        let events = query(catalog, &r, "raw", raw, false, import)?;
        return Some(Ratio {
            good,
            events,
            total: "vector(1)".to_string(),
        });
    }
    let (good, key) = match (r.get("good"), r.get("bad")) {
        (Some(_), None) => (true, "good"),
        (None, Some(_)) => (false, "bad"),
        _ => {
            import.note(
                NoteKind::NotImported,
                r.at(),
                "a ratio metric needs one of `good` or `bad`: the SLO is left out",
            );
            return None;
        }
    };
    let events = query(catalog, &r, key, r.get(key)?, counter, import);
    let total = match r.get("total") {
        Some(t) => query(catalog, &r, "total", t, counter, import),
        None => {
            import.note(
                NoteKind::NotImported,
                r.at(),
                "a ratio metric needs `total`: the SLO is left out",
            );
            None
        }
    };
    Some(Ratio {
        good,
        events: events?,
        total: total?,
    })
}

/// One `metricSource`'s Prometheus query with `$window` for its range: as
/// written when it has one (or Sloth's `{{.window}}`), the per-second rate
/// of a counter selector over `$window`, else noted.
fn query(
    catalog: &Catalog,
    ratio: &Doc<'_>,
    key: &str,
    value: &Value,
    counter: bool,
    import: &mut Import,
) -> Option<String> {
    let path = ratio.join(key);
    let holder = Doc::new(value, ratio.file(), &path)?;
    holder.unknown(&["metricSource"], import);
    let source_path = holder.join("metricSource");
    let source = holder
        .get("metricSource")
        .and_then(|v| Doc::new(v, ratio.file(), &source_path))?;
    source.unknown(&["metricSourceRef", "type", "spec"], import);
    let kind = match source.str("metricSourceRef") {
        Some(name) => {
            let o = catalog
                .by_kind
                .get(&("DataSource".to_string(), name.to_string()));
            let t = o
                .and_then(|o| o.value.pointer("/spec/type"))
                .and_then(Value::as_str);
            if o.is_none() {
                import.note(
                    NoteKind::NotImported,
                    source.at_key("metricSourceRef"),
                    format!("no DataSource named {name} in the files given: the SLO is left out"),
                );
                return None;
            }
            t.or(source.str("type")).unwrap_or("")
        }
        None => source.str("type").unwrap_or(""),
    };
    if !kind.eq_ignore_ascii_case("prometheus") {
        import.note(
            NoteKind::NotImported,
            source.at(),
            format!("harden reads Prometheus metric sources, not `{kind}`: the SLO is left out"),
        );
        return None;
    }
    let spec_path = source.join("spec");
    let q = source
        .get("spec")
        .and_then(|v| Doc::new(v, ratio.file(), &spec_path));
    let Some(text) = q.and_then(|q| {
        q.unknown(&["query"], import);
        q.str("query")
    }) else {
        import.note(
            NoteKind::NotImported,
            source.at_key("spec"),
            "a Prometheus metric source needs `spec.query`: the SLO is left out",
        );
        return None;
    };
    let text = one_line(&window_placeholder(text));
    if text.contains(WINDOW_PLACEHOLDER) {
        return Some(text);
    }
    let selector = matches!(
        promql_parser::parser::parse(&text),
        Ok(promql_parser::parser::Expr::VectorSelector(_))
    );
    if selector && counter {
        import.note(
            NoteKind::Changed,
            source.at_key("spec.query"),
            format!("the counter `{text}` is read as its per-second rate over each window: sum(rate({text}[$window]))"),
        );
        return Some(format!("sum(rate({text}[{WINDOW_PLACEHOLDER}]))"));
    }
    let why = if selector {
        "a selector of a metric that is not a counter (`counter: false`) has no events per window harden can count"
    } else {
        "the query has no `$window` (or `{{.window}}`) for harden to put each window in"
    };
    import.note(
        NoteKind::NotImported,
        source.at_key("spec.query"),
        format!("{why}: write it with `$window` as its range, such as sum(rate(x[$window])). The SLO is left out"),
    );
    None
}
