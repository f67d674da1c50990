//! The project overview: a row per HTTP service with availability, error
//! budget left, the headline latency percentile, the 5xx ratio and target
//! health, each panel linking to the service's own dashboard; then a row per
//! backed-up database (hours since the last backup against the freshness
//! threshold, the dump's size, the last restore drill).

use serde_json::json;

use super::dashboard::{Dashboard, Layout, Link, PanelSpec, Target, Thresholds};
use super::service::{stat, timeseries};
use super::{BuildError, human, percentile_series, seconds, sli_error_series};
use crate::model::{Backup, HttpService, Model, Service};
use crate::units::Decimal;
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
    for (svc, http) in services {
        let name = &svc.name;
        let link = || {
            vec![Link::panel_to_dashboard(
                format!("{name} dashboard"),
                &svc.dashboard_uid(),
            )]
        };
        let service = format!("service=\"{}\"", promql_str(name));
        layout.row(name);
        match http.availability_slo() {
            Some(slo) => {
                let (window, objective) = (slo.window, slo.objective);
                let service = format!("{service}, slo=\"{}\"", promql_str(&slo.name));
                let mut panel = stat(
                    &format!("Availability ({window})"),
                    &format!("Objective {objective} over {window}."),
                    vec![
                        Target::new(
                            format!("1 - {}{{{service}}}", sli_error_series(window)),
                            "availability",
                        )
                        .instant(),
                    ],
                    "percentunit",
                    Thresholds::new("red", &[(objective.fraction(), "green")])?,
                );
                panel.field.decimals = Some(objective.value().scale() + 1);
                add(&mut layout, 5, panel, link());
                let budget = super::service::budget_gauge(
                    "Error budget remaining",
                    &format!(
                        "Share of the {window} error budget not yet spent: orange below 50%, red below 25%."
                    ),
                    &service,
                )?;
                add(&mut layout, 5, budget, link());
            }
            None => {
                let mut panel = stat(
                    "Request rate",
                    "Requests per second (no availability objective in the spec).",
                    vec![
                        Target::new(
                            format!("sum(service:http_requests:rate5m{{{service}}})"),
                            "req/s",
                        )
                        .instant(),
                    ],
                    "reqps",
                    Thresholds::new("blue", &[])?,
                );
                panel.options["graphMode"] = json!("area");
                add(&mut layout, 10, panel, link());
            }
        }

        // The headline percentile: p95, recorded for reading, with the
        // threshold of a latency SLO of 95% of requests when there is one.
        let percentile = Decimal::from_int(95);
        let headline = http
            .latency_objectives()
            .into_iter()
            .find(|(p, _)| *p == percentile)
            .map(|(_, t)| t);
        let steps = match headline {
            Some(t) => {
                let secs =
                    seconds(t).ok_or_else(|| BuildError::number(format!("{t} in seconds")))?;
                vec![(secs, "red")]
            }
            None => Vec::new(),
        };
        let description = match headline {
            Some(t) => format!(
                "p95 latency estimated from the histogram; the SLO is 95% of requests within {}.",
                human(t)
            ),
            None => "p95 latency estimated from the histogram.".to_string(),
        };
        add(
            &mut layout,
            5,
            stat(
                &format!("p{percentile} latency"),
                &description,
                vec![
                    Target::new(
                        format!("max({}{{{service}}})", percentile_series(percentile)),
                        "latency",
                    )
                    .instant(),
                ],
                "s",
                Thresholds::new("green", &steps)?,
            ),
            link(),
        );

        let threshold = http.error_rate_5xx;
        add(
            &mut layout,
            5,
            stat(
                "5xx ratio",
                &match threshold {
                    Some(t) => format!("Highest 5xx ratio across instances; alerts above {t}."),
                    None => "Highest 5xx ratio across instances.".to_string(),
                },
                vec![
                    Target::new(
                        format!("max(service:http_requests_5xx:ratio_rate5m{{{service}}})"),
                        "5xx",
                    )
                    .instant(),
                ],
                "percentunit",
                Thresholds::new(
                    "green",
                    &threshold
                        .map(|t| vec![(t.fraction(), "red")])
                        .unwrap_or_default(),
                )?,
            ),
            link(),
        );

        let job = format!("job=\"{}\"", promql_str(name));
        add(
            &mut layout,
            4,
            stat(
                "Targets up",
                "Share of scrape targets up; green when all are.",
                vec![Target::new(format!("avg(up{{{job}}})"), "up").instant()],
                "percentunit",
                Thresholds::new(
                    "red",
                    &[
                        (Decimal::from_parts(5, 1).unwrap_or(Decimal::ZERO), "orange"),
                        (Decimal::ONE, "green"),
                    ],
                )?,
            ),
            link(),
        );
    }
    for svc in &model.services {
        if let Some(b) = svc.backup() {
            backups(&mut layout, &svc.name, b)?;
        }
    }
    board.panels = layout.finish();
    Ok(board)
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

fn add(layout: &mut Layout, w: u32, mut panel: PanelSpec, links: Vec<Link>) {
    panel.links = links;
    layout.add(w, 5, panel);
}
