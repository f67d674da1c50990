//! With `prometheus_operator = true`: the operator's Prometheus scrapes, so
//! instead of `k8s/prometheus/prometheus.yml` each scraped workload gets a
//! `PodMonitor` (`k8s/operator/<name>-podmonitor.yaml`): every HTTP
//! service, each Redis exporter sidecar and the Pushgateway.
//!
//! A PodMonitor, not a ServiceMonitor: it selects the pods themselves, so
//! each replica is its own target without relying on a Service exposing
//! the metrics port, as the in-cluster configuration does (role `pod`).
//! The operator turns it into a scrape job (prometheus-operator's
//! `generatePodMonitorConfig`): it keeps running pods with the selector's
//! labels and the named port, sets `namespace`, `container`, `pod`, `job`
//! (`<namespace>/<PodMonitor>`) and `endpoint`, then applies the
//! relabelings here. These are the in-cluster job's own
//! ([`super::kubernetes::pod_relabels`]), then `job` set to the name the
//! rules query and `container` and `endpoint` dropped, so each target
//! carries exactly the labels it has in `k8s/prometheus/prometheus.yml`.

use serde::Serialize;

use super::Relabel;
use super::kubernetes::{EXPORTER_PATH, NAME_LABEL, PART_OF_LABEL, PUSHGATEWAY, pod_relabels};
use crate::engine::{EmitError, Emitter};
use crate::model::{Kubernetes, Model, Operator, REDIS_EXPORTER_PORT, backup_metrics};
use crate::output::FileMode;
use crate::targets::kubernetes::{EXPORTER_PORT_NAME, HTTP_PORT_NAME, pod_monitor_path};

const TEMPLATE: &str = "kubernetes/podmonitor.yaml.j2";

/// The labels the operator adds that the in-cluster configuration does not.
const OPERATOR_ONLY_LABELS: &str = "container|endpoint";

#[derive(Serialize)]
struct PodMonitor<'a> {
    name: &'a str,
    namespace: &'a str,
    /// The operator's `podMonitorSelector` labels.
    labels: Vec<Pair<'a>>,
    /// The pod labels every generated Deployment sets.
    selector: Vec<Pair<'a>>,
    port_name: &'static str,
    path: &'a str,
    honor_labels: bool,
    relabel: Vec<Relabel>,
}

#[derive(Serialize)]
struct Pair<'a> {
    name: &'a str,
    value: &'a str,
}

pub fn emit(
    model: &Model,
    k8s: &Kubernetes,
    operator: &Operator,
    out: &mut Emitter<'_>,
) -> Result<(), EmitError> {
    let mut render = |app: &str, job: &str, port: u16, port_name, path: &str, honor_labels| {
        let mut relabel = pod_relabels(model, app, port);
        relabel.push(Relabel::set("job", job));
        relabel.push(Relabel {
            regex: Some(OPERATOR_ONLY_LABELS.into()),
            action: Some("labeldrop"),
            ..Relabel::default()
        });
        let monitor = PodMonitor {
            name: app,
            namespace: &k8s.namespace,
            labels: operator
                .selector_labels
                .iter()
                .map(|(name, value)| Pair { name, value })
                .collect(),
            selector: vec![
                Pair {
                    name: NAME_LABEL,
                    value: app,
                },
                Pair {
                    name: PART_OF_LABEL,
                    value: &model.project.name,
                },
            ],
            port_name,
            path,
            honor_labels,
            relabel,
        };
        out.render(
            &pod_monitor_path(app),
            TEMPLATE,
            &monitor,
            FileMode::Regular,
        )
    };
    for service in &model.services {
        let Some(http) = service.http() else { continue };
        render(
            &service.name,
            &service.name,
            http.port,
            HTTP_PORT_NAME,
            &http.endpoints.metrics,
            false,
        )?;
    }
    for service in model.services.iter().filter(|s| s.redis().is_some()) {
        render(
            &service.name,
            &service.name,
            REDIS_EXPORTER_PORT,
            EXPORTER_PORT_NAME,
            EXPORTER_PATH,
            false,
        )?;
    }
    if model.services.iter().any(|s| s.backup().is_some()) {
        // Keep the pushed `job` and `database` labels.
        render(
            PUSHGATEWAY,
            backup_metrics::SCRAPE_JOB,
            backup_metrics::PUSHGATEWAY_PORT,
            HTTP_PORT_NAME,
            EXPORTER_PATH,
            true,
        )?;
    }
    Ok(())
}
