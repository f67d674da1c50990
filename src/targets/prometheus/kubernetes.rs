//! `k8s/prometheus/prometheus.yml`: the in-cluster Prometheus's scrape
//! configuration (kustomize's `configMapGenerator` reads it from under
//! `k8s/`). Every HTTP service, each Redis exporter sidecar and the
//! Pushgateway are found as pods in the spec's namespace (role `pod`), kept
//! by the labels the generated Deployment puts on its pods and by their
//! metrics port, so each replica is its own target. The kubelet's cAdvisor
//! (role `node`) and kube-state-metrics give the saturation alerts their
//! series. Prometheus runs as the ServiceAccount `prometheus`, allowed to
//! list and watch pods in the namespace and nodes (and `nodes/metrics`).
//!
//! The same file runs in every region's cluster: a target's `region` is its
//! pod's `region` label (the overlay in `k8s-regions/<region>` sets it), and
//! so is the `region` external label (`${PROMETHEUS_REGION}`, which the
//! StatefulSet sets from its pod's label) when there are several regions.
//! Every replica reads this one file: its `replica` external label is
//! `${PROMETHEUS_REPLICA}`, its pod's name. Alerts go to each member of the
//! Alertmanager StatefulSet by its pod's DNS name under the headless
//! Service.

use super::{
    Group, Job, KubeletTls, KubernetesSd, REGION_ENV, Relabel, TEMPLATE, context, external_labels,
    job,
};
use crate::engine::{EmitError, Emitter};
use crate::model::{Model, REDIS_EXPORTER_PORT, Service, backup_metrics, member_names};
use crate::output::FileMode;

/// The in-cluster Prometheus's configuration.
pub const PATH: &str = "k8s/prometheus/prometheus.yml";
/// Where the in-cluster Prometheus finds its rule files (mounted there).
pub const RULES_DIR: &str = "/etc/prometheus/rules/";
/// The ServiceAccount the in-cluster Prometheus runs as.
pub const SERVICE_ACCOUNT: &str = "prometheus";
/// cAdvisor's job; the CPU and memory alerts read its series.
pub const CADVISOR_JOB: &str = "kubernetes-cadvisor";
/// kube-state-metrics' job; the replica alerts read its series.
pub const KUBE_STATE_METRICS_JOB: &str = "kube-state-metrics";
/// The Pushgateway's job and pod name (`app.kubernetes.io/name`).
pub const PUSHGATEWAY: &str = "pushgateway";
/// Where redis_exporter and the Pushgateway serve their metrics.
pub const EXPORTER_PATH: &str = "/metrics";
/// kube-state-metrics' Service name and port in the namespace.
pub const KUBE_STATE_METRICS: &str = "kube-state-metrics";
pub const KUBE_STATE_METRICS_PORT: u16 = 8080;
/// The pod labels every generated Deployment sets, which select a
/// service's pods.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";
/// Where Kubernetes mounts a pod's ServiceAccount token and cluster CA.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount/";

/// The Alertmanager StatefulSet's headless Service: it names each member.
pub const ALERTMANAGER_SERVICE: &str = "alertmanager";

/// An Alertmanager member's stable address, `<pod>.alertmanager.<namespace>.svc:<port>`
/// (its web port for Prometheus, its gossip port for its peers).
pub fn alertmanager_address(member: &str, namespace: &str, port: u16) -> String {
    format!("{member}.{ALERTMANAGER_SERVICE}.{namespace}.svc:{port}")
}

/// `kube-state-metrics.<namespace>.svc:8080`.
pub fn kube_state_metrics_address(namespace: &str) -> String {
    format!("{KUBE_STATE_METRICS}.{namespace}.svc:{KUBE_STATE_METRICS_PORT}")
}

pub fn emit(model: &Model, out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let Some(k8s) = &model.platforms.kubernetes else {
        return Ok(());
    };
    if let Some(operator) = &k8s.operator {
        // The operator's Prometheus scrapes: PodMonitors, not this file.
        return super::operator::emit(model, k8s, operator, out);
    }
    let ns = k8s.namespace.as_str();
    let alertmanagers = super::alertmanagers(
        model,
        member_names(ALERTMANAGER_SERVICE, model.monitoring.alertmanager_replicas),
        |member| alertmanager_address(member, ns, model.monitoring.alertmanager_port),
    );
    let mut jobs = super::stack_jobs(model, &alertmanagers, None);
    for service in &model.services {
        let Some(http) = service.http() else { continue };
        jobs.push(if http.discovered {
            pod_job(model, service, ns, &http.endpoints.metrics, http.port)
        } else {
            Job {
                comment: Some(super::STATIC_COMMENT),
                groups: super::groups_by_region(&service.name, &http.targets),
                ..job(&service.name, &http.endpoints.metrics)
            }
        });
    }
    for service in model.services.iter().filter(|s| s.redis().is_some()) {
        jobs.push(pod_job(
            model,
            service,
            ns,
            EXPORTER_PATH,
            REDIS_EXPORTER_PORT,
        ));
    }
    if model.services.iter().any(|s| s.backup().is_some()) {
        jobs.push(Job {
            honor_labels: true,
            ..pods(
                model,
                backup_metrics::SCRAPE_JOB,
                PUSHGATEWAY,
                ns,
                EXPORTER_PATH,
                backup_metrics::PUSHGATEWAY_PORT,
            )
        });
    }
    jobs.push(cadvisor(ns));
    jobs.push(Job {
        comment: Some("Deployment, pod and autoscaler state (replica alerts)."),
        groups: vec![Group {
            targets: vec![kube_state_metrics_address(ns)],
            labels: Vec::new(),
        }],
        ..job(KUBE_STATE_METRICS_JOB, "/metrics")
    });
    let region = match model.project.regions.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        _ => Some(format!("${{{REGION_ENV}}}")),
    };
    let context = super::Context {
        rule_files: vec![format!("{RULES_DIR}*.yml")],
        external_labels: external_labels(model, region.as_deref()),
        ..context(model, alertmanagers, jobs)
    };
    out.render(PATH, TEMPLATE, &context, FileMode::Regular)
}

fn pod_job(model: &Model, service: &Service, ns: &str, path: &str, port: u16) -> Job {
    pods(model, &service.name, &service.name, ns, path, port)
}

/// Every running pod of `app` in the namespace, at its `port`, as job
/// `job_name` with the labels the rules and dashboards group by.
fn pods(model: &Model, job_name: &str, app: &str, ns: &str, path: &str, port: u16) -> Job {
    Job {
        comment: Some("Every pod of the service, each its own target."),
        kubernetes: Some(KubernetesSd {
            role: "pod",
            namespaces: vec![ns.to_string()],
        }),
        relabel: pod_relabels(model, app, port),
        ..job(job_name, path)
    }
}

/// What keeps and labels each pod of `app` at `port`: its pod labels and
/// port, running, and the `service`, `namespace`, `pod` and `region`
/// labels the rules and dashboards group by. The PodMonitors of the
/// operator's Prometheus use the same list (`super::operator`).
pub(super) fn pod_relabels(model: &Model, app: &str, port: u16) -> Vec<Relabel> {
    let meta = |label: &str| format!("__meta_kubernetes_pod_label_{}", sanitize(label));
    vec![
        Relabel {
            source_labels: vec![meta(NAME_LABEL), meta(PART_OF_LABEL)],
            separator: Some(";"),
            regex: Some(format!(
                "{};{}",
                regex_literal(app),
                regex_literal(&model.project.name)
            )),
            action: Some("keep"),
            ..Relabel::default()
        },
        Relabel {
            source_labels: vec!["__meta_kubernetes_pod_container_port_number".into()],
            regex: Some(port.to_string()),
            action: Some("keep"),
            ..Relabel::default()
        },
        // Not pods that are pending, finished or failed.
        Relabel {
            source_labels: vec!["__meta_kubernetes_pod_phase".into()],
            regex: Some("Running".into()),
            action: Some("keep"),
            ..Relabel::default()
        },
        Relabel::set("service", app),
        Relabel::copy("__meta_kubernetes_namespace", "namespace"),
        Relabel::copy("__meta_kubernetes_pod_name", "pod"),
        Relabel::copy(&meta("region"), "region"),
    ]
}

/// The kubelet's cAdvisor on every node, over https with the ServiceAccount's
/// token; only the namespace's containers are kept.
fn cadvisor(ns: &str) -> Job {
    Job {
        comment: Some("Container CPU and memory from each node's kubelet (CPU and memory alerts)."),
        kubelet_tls: Some(KubeletTls {
            ca_file: format!("{SERVICE_ACCOUNT_DIR}ca.crt"),
            credentials_file: format!("{SERVICE_ACCOUNT_DIR}token"),
        }),
        kubernetes: Some(KubernetesSd {
            role: "node",
            namespaces: Vec::new(),
        }),
        relabel: vec![Relabel::copy("__meta_kubernetes_node_name", "node")],
        metric_relabel: vec![Relabel {
            source_labels: vec!["namespace".into()],
            regex: Some(regex_literal(ns)),
            action: Some("keep"),
            ..Relabel::default()
        }],
        ..job(CADVISOR_JOB, "/metrics/cadvisor")
    }
}

/// A Kubernetes label name as Prometheus's discovery meta label spells it.
fn sanitize(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `s` matched literally by an RE2 regex (names are `[a-z0-9-]`, but a
/// `.` or other metacharacter is escaped all the same).
fn regex_literal(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() && c != '-' && c != '_' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
