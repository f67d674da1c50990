//! The project overview: one table with a row per service (HTTP services
//! and caches), each row linking to the service's own dashboard; then a
//! row of panels per backed-up database (hours since the last backup
//! against the freshness threshold, the dump's size, the last restore
//! drill).
//!
//! The table's queries aggregate `by (service)` over every service at
//! once, so its size does not grow with the number of services (a panel
//! per service made 6,000 panels and 10 MB at 1,000 services). A cell is
//! coloured only where one threshold holds for every row: the error budget
//! left (a share of each service's own budget) and the share of targets
//! up. Each service's own thresholds (its objective, its alert
//! thresholds) are on its dashboard.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::dashboard::{
    Dashboard, FieldConfig, Layout, Link, PanelSpec, Target, Thresholds, number, ref_id,
};
use super::service::{stat, timeseries};
use super::{BuildError, human, percentile_series, sli_error_series};
use crate::model::{Backup, HttpService, Model, Service, backup_metrics, record};
use crate::units::{Decimal, Duration};
use crate::vocab::{OVERVIEW_UID, promql_str};

pub fn dashboard(
    model: &Model,
    services: &[(&Service, &HttpService)],
) -> Result<Dashboard, BuildError> {
    let project = &model.project.name;
    let mut board = Dashboard::new(
        OVERVIEW_UID.to_string(),
        format!("{project} / overview"),
        vec!["harden".into(), project.clone()],
    );
    board.links = vec![Link::tagged("Dashboards", "harden")];
    let mut layout = Layout::new();
    layout.row("Services");
    let rows = model
        .services
        .iter()
        .filter(|s| s.http().is_some() || s.redis().is_some())
        .count();
    // A line per service up to 20, then the table scrolls.
    let height = u32::try_from(rows.min(20)).unwrap_or(20) + 4;
    layout.add(24, height, services_table(model, services)?);
    for svc in &model.services {
        if let Some(b) = svc.backup() {
            backups(&mut layout, &svc.name, b)?;
        }
    }
    board.panels = layout.finish();
    Ok(board)
}

/// One column of the services table: its header, its query (one value
/// per `service`), and how its cells read.
struct Column {
    header: String,
    expr: String,
    unit: &'static str,
    decimals: Option<u32>,
    /// Cell colours, the same for every row.
    thresholds: Option<Thresholds>,
    min_max: Option<(Decimal, Decimal)>,
}

impl Column {
    fn new(header: String, expr: String, unit: &'static str) -> Column {
        Column {
            header,
            expr,
            unit,
            decimals: None,
            thresholds: None,
            min_max: None,
        }
    }
}

/// The table's columns: only those some service has data for.
fn columns(services: &[(&Service, &HttpService)]) -> Result<Vec<Column>, BuildError> {
    // Each service's availability SLO (over all its requests).
    let slos: Vec<_> = services
        .iter()
        .filter_map(|(_, h)| h.availability_slo())
        .collect();
    let mut out = vec![Column::new(
        "Requests/s".into(),
        format!("sum by (service) ({})", record::REQUEST_RATE),
        "reqps",
    )];
    let availability: Vec<_> = slos.iter().map(|s| (s.window, s.objective)).collect();
    let mut names: Vec<&str> = slos.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let of_availability = format!("slo=~\"{}\"", promql_str(&names.join("|")));
    if !availability.is_empty() {
        let windows: BTreeSet<Duration> = availability.iter().map(|(w, _)| *w).collect();
        let decimals = availability
            .iter()
            .map(|(_, a)| a.value().scale() + 1)
            .max();
        let header = match windows.iter().collect::<Vec<_>>().as_slice() {
            [one] => format!("Availability ({one})"),
            _ => "Availability (SLO window)".to_string(),
        };
        let ratios = windows
            .iter()
            .map(|w| format!("{}{{{of_availability}}}", sli_error_series(*w)))
            .collect::<Vec<_>>()
            .join(" or ");
        out.push(Column {
            decimals,
            ..Column::new(
                header,
                format!("1 - max by (service) ({ratios})"),
                "percentunit",
            )
        });
        out.push(Column {
            decimals,
            ..Column::new(
                "Objective".into(),
                format!(
                    "max by (service) ({}{{{of_availability}}})",
                    record::OBJECTIVE
                ),
                "percentunit",
            )
        });
        out.push(Column {
            thresholds: Some(budget_thresholds()?),
            min_max: Some((Decimal::ZERO, Decimal::ONE)),
            ..Column::new(
                "Error budget left".into(),
                format!("min by (service) ({})", record::BUDGET_REMAINING),
                "percentunit",
            )
        });
    }
    // The percentiles every service records for reading.
    for p in record::READ_PERCENTILES.map(Decimal::from_int) {
        out.push(Column::new(
            format!("p{p} latency"),
            format!("max by (service) ({})", percentile_series(p)),
            "s",
        ));
    }
    out.push(Column {
        decimals: Some(2),
        ..Column::new(
            "5xx ratio (5m)".into(),
            format!("max by (service) ({})", record::RATIO_5XX),
            "percentunit",
        )
    });
    out.push(Column {
        thresholds: Some(Thresholds::new(
            "red",
            &[
                (Decimal::from_parts(5, 1).unwrap_or(Decimal::ZERO), "orange"),
                (Decimal::ONE, "green"),
            ],
        )?),
        min_max: Some((Decimal::ZERO, Decimal::ONE)),
        // The Pushgateway's target carries a `service` label on Kubernetes
        // but is no service of the spec.
        ..Column::new(
            "Targets up".into(),
            format!(
                "avg by (service) (up{{service!=\"\",job!=\"{}\"}})",
                backup_metrics::SCRAPE_JOB
            ),
            "percentunit",
        )
    });
    Ok(out)
}

/// The error budget left: red below 25%, orange below 50% (as the budget
/// gauge of each service's dashboard).
fn budget_thresholds() -> Result<Thresholds, BuildError> {
    Thresholds::new(
        "red",
        &[
            (
                Decimal::from_parts(25, 2).unwrap_or(Decimal::ZERO),
                "orange",
            ),
            (Decimal::from_parts(5, 1).unwrap_or(Decimal::ZERO), "green"),
        ],
    )
}

/// The link from a service's row to its dashboard: `harden-<name>`, the
/// uid of every service whose name is short enough; when some name is not
/// (its uid is shortened and hashed), Grafana's search for the name among
/// harden's dashboards instead, right for every row.
fn dashboard_link(model: &Model) -> Value {
    let plain = model
        .services
        .iter()
        .filter(|s| s.http().is_some() || s.redis().is_some())
        .all(|s| s.dashboard_uid() == format!("harden-{}", s.name));
    let url = if plain {
        "/d/harden-${__value.raw}?${__url_time_range}"
    } else {
        "/dashboards?tag=harden&query=${__value.raw}"
    };
    json!([{ "title": "${__value.raw} dashboard", "url": url }])
}

/// Every service in one table, a row each, worst error budget first.
fn services_table(
    model: &Model,
    services: &[(&Service, &HttpService)],
) -> Result<PanelSpec, BuildError> {
    let columns = columns(services)?;
    let mut rename = serde_json::Map::new();
    let mut order = serde_json::Map::new();
    rename.insert("service".into(), json!("Service"));
    order.insert("service".into(), json!(0));
    let mut overrides = vec![json!({
        "matcher": { "id": "byName", "options": "Service" },
        "properties": [{ "id": "links", "value": dashboard_link(model) }],
    })];
    for (i, c) in columns.iter().enumerate() {
        let field = format!("Value #{}", ref_id(i));
        rename.insert(field.clone(), json!(c.header));
        order.insert(field, json!(i + 1));
        let mut properties = vec![json!({ "id": "unit", "value": c.unit })];
        if let Some(d) = c.decimals {
            properties.push(json!({ "id": "decimals", "value": d }));
        }
        if let Some((min, max)) = c.min_max {
            properties.push(json!({ "id": "min", "value": number(min)? }));
            properties.push(json!({ "id": "max", "value": number(max)? }));
        }
        if let Some(t) = &c.thresholds {
            properties.push(json!({ "id": "thresholds", "value": t }));
            properties.push(json!({
                "id": "custom.cellOptions",
                "value": { "type": "color-background", "mode": "basic" },
            }));
        }
        overrides.push(json!({
            "matcher": { "id": "byName", "options": c.header },
            "properties": properties,
        }));
    }
    let sort = if columns.iter().any(|c| c.header == "Error budget left") {
        json!([{ "displayName": "Error budget left", "desc": false }])
    } else {
        json!([{ "displayName": "Service", "desc": false }])
    };
    Ok(PanelSpec {
        type_: "table",
        title: "Services".into(),
        description: Some(
            "Every service, a row each, worst error budget first; click a name for its dashboard. \
             Availability and the error budget cover the SLO window; the budget left is the lowest \
             of the service's objectives (red below 25%, orange below 50%). Latencies and the \
             5xx ratio are over the last 5 minutes, for the service as a whole; each service's \
             objectives and alert thresholds are on its dashboard."
                .into(),
        ),
        targets: columns
            .iter()
            .map(|c| Target::new(c.expr.clone(), "").table())
            .collect(),
        field: FieldConfig {
            unit: "none".into(),
            color: json!({ "mode": "thresholds" }),
            thresholds: Thresholds::new("text", &[])?,
            custom: Some(json!({
                "align": "auto",
                "cellOptions": { "type": "auto" },
                "inspect": false,
            })),
            ..FieldConfig::default()
        },
        overrides,
        options: json!({
            "cellHeight": "sm",
            "frameIndex": 0,
            "showHeader": true,
            "sortBy": sort,
        }),
        // One frame per query, joined on `service`; then the query columns
        // named and ordered, the evaluation time left out.
        transformations: vec![
            json!({ "id": "merge", "options": {} }),
            json!({
                "id": "organize",
                "options": {
                    "excludeByName": { "Time": true },
                    "indexByName": order,
                    "renameByName": rename,
                },
            }),
        ],
        links: Vec::new(),
    })
}

/// A database's backups: hours since the last success against the
/// freshness alert's threshold, the last dump's size, the last restore drill.
fn backups(layout: &mut Layout, name: &str, b: &Backup) -> Result<(), BuildError> {
    use crate::model::backup_metrics as m;
    let group = format!("job=\"{}\",database=\"{}\"", m::JOB, promql_str(name));
    let drill = format!("job=\"{}\",database=\"{}\"", m::DRILL_JOB, promql_str(name));
    // Hundredths of an hour: exact for every schedule (1.25h, 30h, 210h).
    let stale_hours = Decimal::from_parts(u128::from(b.stale_after.as_millis() / 36_000), 2)
        .unwrap_or(Decimal::ZERO);
    layout.row(&format!("{name} backups"));
    layout.add(
        12,
        6,
        timeseries(
            "Hours since last backup",
            &format!(
                "Time since the last successful {} backup; BackupStale fires above {} (the dashed line).",
                b.schedule.as_str(),
                human(b.stale_after)
            ),
            vec![Target::new(
                format!("(time() - max({}{{{group}}})) / 3600", m::LAST_SUCCESS),
                "hours",
            )],
            "h",
            Thresholds::new("green", &[(stale_hours, "red")])?,
        ),
    );
    layout.add(
        6,
        6,
        stat(
            "Last backup size",
            "Size of the last successful dump (pg_dump custom format, compressed).",
            vec![Target::new(format!("max({}{{{group}}})", m::LAST_SIZE), "bytes").instant()],
            "bytes",
            Thresholds::new("green", &[])?,
        ),
    );
    layout.add(
        6,
        6,
        stat(
            "Last restore drill",
            &format!(
                "1 when {} last restored the latest dump and its sanity query passed.",
                crate::targets::scripts::RESTORE_DRILL
            ),
            vec![Target::new(format!("max({}{{{drill}}})", m::DRILL_SUCCESS), "drill").instant()],
            "none",
            Thresholds::new("red", &[(Decimal::ONE, "green")])?,
        ),
    );
    Ok(())
}
