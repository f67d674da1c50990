//! The project overview: a row per HTTP service with availability, error
//! budget left, the headline latency percentile, the 5xx ratio and target
//! health, each panel linking to the service's own dashboard.

use serde_json::json;

use super::dashboard::{Dashboard, Layout, Link, PanelSpec, Target, Thresholds};
use super::service::stat;
use super::{
    BuildError, OVERVIEW_UID, human, percentile_series, promql_str, seconds, sli_error_series,
};
use crate::model::{HttpService, Model, Service};
use crate::units::Decimal;

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
        let slo = http.slo.as_ref();

        let availability = slo.and_then(|s| s.availability.map(|a| (s.window, a)));
        match availability {
            Some((window, objective)) => {
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

        // The headline percentile: p95 when the spec has it, else its
        // highest objective percentile (objectives are sorted), else the
        // median the rules always record.
        let objectives = slo.map(|s| s.latency.as_slice()).unwrap_or_default();
        let ninety_five = Decimal::from_int(95);
        let headline = objectives
            .iter()
            .find(|o| o.percentile == ninety_five)
            .or_else(|| objectives.last());
        let (percentile, steps) = match headline {
            Some(o) => {
                let secs = seconds(o.threshold)
                    .ok_or_else(|| BuildError::number(format!("{} in seconds", o.threshold)))?;
                (o.percentile, vec![(secs, "red")])
            }
            None => (Decimal::from_int(50), Vec::new()),
        };
        let description = match headline {
            Some(o) => format!(
                "Slowest instance's p{} latency; objective {}.",
                o.percentile,
                human(o.threshold)
            ),
            None => "Slowest instance's median latency.".to_string(),
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

        let threshold = slo.and_then(|s| s.error_rate_5xx);
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
    board.panels = layout.finish();
    Ok(board)
}

fn add(layout: &mut Layout, w: u32, mut panel: PanelSpec, links: Vec<Link>) {
    panel.links = links;
    layout.add(w, 5, panel);
}
