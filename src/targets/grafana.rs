//! Grafana: a dashboard per HTTP service (`grafana/dashboards/<service>.json`),
//! one per Redis cache (`cache.rs`), a project overview, and the provisioning that loads both with a fixed
//! Prometheus datasource.
//!
//! Dashboards are deeply nested and repetitive, so they are built as typed
//! values here ([`dashboard`]) and serialized by serde (pretty, keys in a
//! fixed order) into a one-line template; a value is never spliced into JSON
//! by hand. Every panel query is parsed with promql-parser before the file
//! is accepted, and queries only what harden's own rules record (the
//! `service:…` and `slo:…` series) or raw series that exporters expose.

mod cache;
mod dashboard;
mod overview;
mod service;

use serde::Serialize;

use crate::engine::{EmitError, Emitter};
use crate::model::Model;
use crate::output::FileMode;
use crate::targets::kubernetes;
use crate::units::{Decimal, Duration};

pub const DATASOURCE_PATH: &str = "grafana/provisioning/datasources/prometheus.yml";
pub const PROVIDER_PATH: &str = "grafana/provisioning/dashboards/harden.yml";
/// Where the compose stack mounts `./grafana/dashboards` (and Kubernetes
/// their ConfigMap).
pub const DASHBOARDS_MOUNT: &str = "/var/lib/grafana/dashboards";
/// The provisioned datasource's uid, which every panel names.
pub const DATASOURCE_UID: &str = "harden-prometheus";
/// The dashboard JSON schema version harden writes: what Grafana 11.0 to
/// 11.2 save (the compose default is 11.1); later versions migrate a
/// dashboard forward from its schema version when they load it.
pub const SCHEMA_VERSION: u32 = 39;

const DASHBOARD_TEMPLATE: &str = "grafana/dashboard.json.j2";

/// Where the dashboards are written.
pub const DASHBOARDS_DIR: &str = "grafana/dashboards/";

pub fn dashboard_path(name: &str) -> String {
    format!("{DASHBOARDS_DIR}{name}.json")
}

#[derive(Serialize)]
struct DatasourceContext {
    /// A Grafana that has its own default Prometheus datasource (the
    /// operator's) refuses a second one named the same or also default.
    name: &'static str,
    default: bool,
    uid: &'static str,
    url: String,
    scrape_interval: String,
}

#[derive(Serialize)]
struct ProviderContext {
    folder: String,
    path: &'static str,
}

#[derive(Serialize)]
struct DashboardContext {
    dashboard: String,
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let services: Vec<_> = model
        .services
        .iter()
        .filter_map(|s| s.http().map(|h| (s, h)))
        .collect();
    if services.is_empty() {
        return Ok(());
    }
    out.render(
        DATASOURCE_PATH,
        "grafana/provisioning/datasources/prometheus.yml.j2",
        &DatasourceContext {
            name: "Prometheus",
            default: true,
            uid: DATASOURCE_UID,
            url: format!("http://prometheus:{}", model.monitoring.prometheus_port),
            scrape_interval: model.monitoring.scrape_interval.to_string(),
        },
        FileMode::Regular,
    )?;
    if let Some(operator) = model
        .platforms
        .kubernetes
        .as_ref()
        .and_then(|k| k.operator.as_ref())
    {
        // kube-prometheus-stack's Grafana provisions its own default
        // datasource; the dashboards name this uid, for the operator's
        // Prometheus, which its sidecar loads from a ConfigMap.
        out.render(
            kubernetes::MONITORING_DATASOURCE_PATH,
            "grafana/provisioning/datasources/prometheus.yml.j2",
            &DatasourceContext {
                name: "harden",
                default: false,
                uid: DATASOURCE_UID,
                url: kubernetes::operator_prometheus_url(&operator.namespace),
                scrape_interval: model.monitoring.scrape_interval.to_string(),
            },
            FileMode::Regular,
        )?;
    }
    out.render(
        PROVIDER_PATH,
        "grafana/provisioning/dashboards/harden.yml.j2",
        &ProviderContext {
            folder: model.project.name.clone(),
            path: DASHBOARDS_MOUNT,
        },
        FileMode::Regular,
    )?;
    for (svc, http) in &services {
        let path = dashboard_path(&svc.name);
        let board = service::dashboard(model, svc, http).map_err(|e| e.at(&path))?;
        render_dashboard(out, &path, &board)?;
    }
    for svc in &model.services {
        let Some(redis) = svc.redis() else { continue };
        let path = dashboard_path(&svc.name);
        let board = cache::dashboard(model, svc, redis).map_err(|e| e.at(&path))?;
        render_dashboard(out, &path, &board)?;
    }
    let path = dashboard_path(crate::vocab::OVERVIEW_DASHBOARD);
    let board = overview::dashboard(model, &services).map_err(|e| e.at(&path))?;
    render_dashboard(out, &path, &board)
}

fn render_dashboard(
    out: &mut Emitter<'_>,
    path: &str,
    board: &dashboard::Dashboard,
) -> Result<(), EmitError> {
    let invalid = |detail: String| EmitError::Invalid {
        path: path.to_string(),
        template: DASHBOARD_TEMPLATE.to_string(),
        format: "JSON",
        detail,
    };
    let queries = board.queries();
    let mut dashboard = serde_json::to_string_pretty(board).map_err(|e| invalid(e.to_string()))?;
    if out.is_builtin(DASHBOARD_TEMPLATE) {
        // The compiled-in template is `{{ dashboard|safe }}` and a newline:
        // the same text without two more copies of a file that is 10 MB for
        // 1,000 services (a test checks the two agree).
        dashboard.push('\n');
        out.add_with(
            path,
            DASHBOARD_TEMPLATE,
            dashboard,
            FileMode::Regular,
            queries,
        );
        return Ok(());
    }
    out.render_with(
        path,
        DASHBOARD_TEMPLATE,
        &DashboardContext { dashboard },
        FileMode::Regular,
        queries,
    )
}

/// A problem building a dashboard (a number JSON cannot hold), before it
/// knows its file. Its queries are checked later, on the checker thread.
#[derive(Debug)]
pub(crate) struct BuildError {
    detail: String,
}

impl BuildError {
    fn number(detail: String) -> Self {
        BuildError { detail }
    }

    fn at(self, path: &str) -> EmitError {
        EmitError::Invalid {
            path: path.to_string(),
            template: DASHBOARD_TEMPLATE.to_string(),
            format: "JSON",
            detail: self.detail,
        }
    }
}

/// The recorded latency series for a percentile: `p50`, `p95`, and `p99_9`
/// for 99.9 (a `.` is not allowed in a metric name, so it becomes `_`).
/// The rules emitter records exactly these names.
pub fn percentile_series(percentile: Decimal) -> String {
    crate::model::record::latency(percentile)
}

/// The SLI error ratio recorded over `window`: `slo:sli_error:ratio_rate1h`.
pub fn sli_error_series(window: Duration) -> String {
    crate::model::record::sli_error(window)
}

/// A duration in seconds, exactly: `0.5` for 500ms.
fn seconds(d: Duration) -> Option<Decimal> {
    Decimal::from_parts(u128::from(d.as_millis()), 3)
}

use crate::vocab::human_duration as human;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect("decimal")
    }

    #[test]
    fn the_builtin_dashboard_template_adds_only_a_newline() {
        // render_dashboard skips the compiled-in template on this promise.
        let templates = crate::engine::Templates::builtin().expect("templates");
        let json = "{\n  \"title\": \"a \\\"b\\\" <c> & {{ d }}\"\n}".to_string();
        let rendered = templates
            .render(
                DASHBOARD_TEMPLATE,
                &DashboardContext {
                    dashboard: json.clone(),
                },
            )
            .expect("renders");
        assert_eq!(rendered, json + "\n");
    }

    #[test]
    fn percentile_series_names() {
        assert_eq!(
            percentile_series(d("95")),
            "service:http_request_duration_seconds:p95"
        );
        assert_eq!(
            percentile_series(d("99.9")),
            "service:http_request_duration_seconds:p99_9"
        );
        assert_eq!(
            sli_error_series(Duration::parse("30d").expect("duration")),
            "slo:sli_error:ratio_rate30d"
        );
    }

    #[test]
    fn latencies_read_as_seconds() {
        let h = |s: &str| human(Duration::parse(s).expect("duration"));
        assert_eq!(
            [h("500ms"), h("1500ms"), h("2s"), h("90s")],
            ["500ms", "1.5s", "2s", "90s"]
        );
    }
}
