//! `[platform]`: Compose and Kubernetes, and the names harden runs beside the
//! services.

use super::*;

impl Lower {
    pub(super) fn platforms(
        &mut self,
        p: &spec::Platforms,
        project: &Project,
        specs: &[spec::Service],
        services: &[Service],
    ) -> Platforms {
        let compose = p.compose.as_ref().map(|c| Compose {
            prometheus_image: image_or(&c.prometheus_image, DEFAULT_PROMETHEUS_IMAGE),
            alertmanager_image: image_or(&c.alertmanager_image, DEFAULT_ALERTMANAGER_IMAGE),
            grafana_image: image_or(&c.grafana_image, DEFAULT_GRAFANA_IMAGE),
            pushgateway_image: DEFAULT_PUSHGATEWAY_IMAGE.to_string(),
        });
        // An image both platforms run: the Compose one when both are on.
        let shared = |pick: fn(&Compose) -> &String, default: &str| {
            compose
                .as_ref()
                .map_or_else(|| default.to_string(), |c| pick(c).clone())
        };
        let kubernetes = p.kubernetes.as_ref().map(|k| Kubernetes {
            namespace: k
                .namespace
                .as_ref()
                .map_or(project.name.as_str(), |n| n.as_str())
                .to_string(),
            alertmanager_image: shared(|c| &c.alertmanager_image, DEFAULT_ALERTMANAGER_IMAGE),
            pushgateway_image: shared(|c| &c.pushgateway_image, DEFAULT_PUSHGATEWAY_IMAGE),
            prometheus_image: shared(|c| &c.prometheus_image, DEFAULT_PROMETHEUS_IMAGE),
            grafana_image: shared(|c| &c.grafana_image, DEFAULT_GRAFANA_IMAGE),
            kube_state_metrics_image: image_or(
                &k.kube_state_metrics_image,
                DEFAULT_KUBE_STATE_METRICS_IMAGE,
            ),
            operator: self.operator(k, specs, services),
        });
        if kubernetes.is_some() {
            // A Service's name is an RFC 1035 label: the API server refuses
            // one that starts with a digit (a schema check does not).
            for (i, spec_service, http) in lowered_http(specs, services) {
                let name = spec_service.name.as_str();
                if http.is_some() && name.starts_with(|c: char| c.is_ascii_digit()) {
                    self.invalid(
                        &format!("/service/{i}/name"),
                        format!("Kubernetes cannot name a Service `{name}`"),
                        "Kubernetes Service names start with a letter",
                    );
                }
            }
        }
        // What harden runs beside the services, by name, on every platform
        // that has services: a backed-up database's backup job, a cache's
        // exporter, and the Pushgateway the backups report to.
        // By name: one look-up per service keeps this linear.
        let mut beside: HashMap<String, String> = HashMap::new();
        for s in services {
            if s.backup().is_some() {
                beside.insert(
                    format!("{}-backup", s.name),
                    format!("{}'s backup job", s.name),
                );
                beside.insert(
                    "pushgateway".to_string(),
                    "the backups' Pushgateway".to_string(),
                );
            }
            if s.redis().is_some() {
                beside.insert(
                    format!("{}-exporter", s.name),
                    format!("{}'s Redis exporter", s.name),
                );
            }
        }
        if p.compose.is_some() && p.digitalocean.as_ref().is_some_and(|d| d.metrics.is_some()) {
            beside.insert(
                "otlp-gateway".to_string(),
                "the gateway App Platform instances push their metrics through".to_string(),
            );
        }
        for (i, spec_service) in specs.iter().enumerate() {
            let name = spec_service.name.as_str();
            if let Some(what) = beside.get(name) {
                self.report(
                    Problem::new(
                        Code::ReservedName,
                        format!("the service name `{name}` is taken by {what}"),
                    )
                    .with_label(Label::value(format!("/service/{i}/name"), format!("taken by {what}")))
                    .with_help("harden runs it under this name beside the services (a Compose service, a Kubernetes object, an App Platform component); rename the service"),
                );
            }
        }
        if compose.is_some() || kubernetes.is_some() {
            for (i, spec_service) in specs.iter().enumerate() {
                let name = spec_service.name.as_str();
                if MONITORING_NAMES.contains(&name) {
                    self.report(
                        Problem::new(
                            Code::ReservedName,
                            format!("the service name `{name}` is taken by the monitoring stack"),
                        )
                        .with_label(Label::value(format!("/service/{i}/name"), "taken by the monitoring stack"))
                        .with_help("Compose and Kubernetes run Prometheus, Alertmanager and Grafana beside the services under these names; rename the service"),
                    );
                }
            }
        }
        if kubernetes.is_some() {
            for (i, _, http) in lowered_http(specs, services) {
                if let Some(Scaling::Auto(a)) = http.map(|h| &h.scaling) {
                    self.kubernetes_autoscaler(&format!("/service/{i}/autoscaling"), a);
                }
            }
        }
        let digitalocean = p
            .digitalocean
            .as_ref()
            .map(|d| self.digitalocean(d, project, specs, services));
        Platforms {
            compose,
            kubernetes,
            digitalocean,
        }
    }
}

/// Services Compose and Kubernetes run beside the project's own.
const MONITORING_NAMES: &[&str] = &[
    "prometheus",
    "alertmanager",
    "grafana",
    "kube-state-metrics",
];

/// kube-prometheus-stack selects PodMonitors and PrometheusRules by the
/// label `release: <Helm release>`; its documented install names the
/// release `kube-prometheus-stack`.
const DEFAULT_OPERATOR_LABELS: &[(&str, &str)] = &[("release", "kube-prometheus-stack")];
/// The label kube-prometheus-stack's Grafana sidecar loads dashboards by.
const DEFAULT_DASHBOARD_LABELS: &[(&str, &str)] = &[("grafana_dashboard", "1")];
const DEFAULT_OPERATOR_NAMESPACE: &str = "monitoring";

impl Lower {
    /// `prometheus_operator = true` and its settings; the settings without
    /// it would do nothing, and a service scraped at static `targets` has
    /// no pods for a PodMonitor to select.
    fn operator(
        &mut self,
        k: &spec::Kubernetes,
        specs: &[spec::Service],
        services: &[Service],
    ) -> Option<Operator> {
        let at = "/platform/kubernetes";
        if k.prometheus_operator != Some(true) {
            for (key, set) in [
                ("operator_labels", k.operator_labels.is_some()),
                ("dashboard_labels", k.dashboard_labels.is_some()),
                ("operator_namespace", k.operator_namespace.is_some()),
            ] {
                if set {
                    self.invalid(
                        &format!("{at}/{key}"),
                        format!("`{key}` applies only with `prometheus_operator = true`"),
                        "add `prometheus_operator = true` or remove it",
                    );
                }
            }
            return None;
        }
        for (i, _, http) in lowered_http(specs, services) {
            if http.is_some_and(|h| !h.discovered) {
                self.report(
                    Problem::new(
                        Code::NotSupported,
                        "a service with static `targets` cannot be scraped through the Prometheus Operator",
                    )
                    .with_label(Label::value(format!("/service/{i}/targets"), "no pods to select"))
                    .with_help("harden writes a PodMonitor per service, which finds its pods; remove `targets` so each replica is discovered, or `prometheus_operator`"),
                );
            }
        }
        // An object without labels is selected only by a selector that
        // selects everything (`{}`); kube-prometheus-stack's Prometheus
        // selects by `release` and its Grafana sidecar by
        // `grafana_dashboard`, so such objects would load nowhere, silently.
        for (key, given, selects, example) in [
            (
                "operator_labels",
                &k.operator_labels,
                "the operator's Prometheus selects PodMonitors and PrometheusRules by",
                "{ release = \"kube-prometheus-stack\" }",
            ),
            (
                "dashboard_labels",
                &k.dashboard_labels,
                "Grafana's sidecar loads dashboard ConfigMaps by",
                "{ grafana_dashboard = \"1\" }",
            ),
        ] {
            if given.as_ref().is_some_and(BTreeMap::is_empty) {
                self.invalid(
                    &format!("{at}/{key}"),
                    format!("`{key}` is empty: the objects would carry no label for a selector to match, so only a selector that matches every object (`{{}}`) would load them, and kube-prometheus-stack's default matches none"),
                    format!("write the labels {selects}, such as `{key} = {example}`, or remove `{key}` for that default"),
                );
            }
        }
        let labels = |given: &Option<BTreeMap<spec::K8sLabelKey, spec::K8sLabelValue>>,
                      default: &[(&str, &str)]| match given {
            Some(map) => map
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
                .collect(),
            None => default
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        };
        Some(Operator {
            selector_labels: labels(&k.operator_labels, DEFAULT_OPERATOR_LABELS),
            dashboard_labels: labels(&k.dashboard_labels, DEFAULT_DASHBOARD_LABELS),
            namespace: k
                .operator_namespace
                .as_ref()
                .map_or(DEFAULT_OPERATOR_NAMESPACE, |n| n.as_str())
                .to_string(),
        })
    }
}

/// The release the tests run (`.ci/upstream.sh`): every flag and setting
/// harden writes is checked against it.
const DEFAULT_PROMETHEUS_IMAGE: &str = "prom/prometheus:v3.16.0";

const DEFAULT_ALERTMANAGER_IMAGE: &str = "prom/alertmanager:v0.27.0";

const DEFAULT_GRAFANA_IMAGE: &str = "grafana/grafana:11.1.0";

const DEFAULT_KUBE_STATE_METRICS_IMAGE: &str =
    "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0";

const DEFAULT_PUSHGATEWAY_IMAGE: &str = "prom/pushgateway:v1.9.0";

fn image_or(image: &Option<spec::Image>, default: &str) -> String {
    image.as_ref().map_or(default, |i| i.as_str()).to_string()
}

/// Each service as written, by its index in the spec, with its lowered HTTP
/// service when it is one and lowered (by name, as emitters find it).
pub(super) fn lowered_http<'a>(
    specs: &'a [spec::Service],
    services: &'a [Service],
) -> impl Iterator<Item = (usize, &'a spec::Service, Option<&'a HttpService>)> {
    let lowered: HashMap<&str, &Service> = services.iter().map(|s| (s.name.as_str(), s)).collect();
    specs.iter().enumerate().map(move |(i, s)| {
        let http = lowered
            .get(s.name.as_str())
            .copied()
            .and_then(Service::http);
        (i, s, http)
    })
}
