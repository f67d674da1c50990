//! One HTTP service's dashboard: a row per SLO, traffic and errors,
//! latency, saturation against the autoscaler, health, and the spec's
//! business metrics. Thresholds come from the model: each objective, the
//! error-rate thresholds, the latency SLOs' thresholds, the burn-rate
//! tiers, the autoscaling targets.

use serde_json::json;

use super::dashboard::{
    Dashboard, FieldConfig, Layout, Link, PanelSpec, Target, Thresholds, Variable, number,
};
use super::{BuildError, human, seconds, sli_error_series};
use crate::model::{HttpService, Model, Scaling, Service, Sli, Slo, Tier, record, saturation};
use crate::units::{Decimal, Duration};
use crate::vocab::{OVERVIEW_UID, promql_str};

pub fn dashboard(
    model: &Model,
    svc: &Service,
    http: &HttpService,
) -> Result<Dashboard, BuildError> {
    let name = &svc.name;
    let mut board = Dashboard::new(
        svc.dashboard_uid(),
        format!("{} / {name}", model.project.name),
        vec!["harden".into(), model.project.name.clone(), name.clone()],
    );
    board.links = vec![
        Link::to_dashboard(format!("{} overview", model.project.name), OVERVIEW_UID),
        Link::tagged("Dashboards", "harden"),
    ];
    let has_regions = http.targets.iter().any(|t| t.region.is_some());
    let job = format!("job=\"{}\"", promql_str(name));
    let mut filter = String::new();
    if has_regions {
        board.templating.list.push(Variable::label_values(
            "region",
            "Region",
            format!("up{{{job}}}"),
        ));
        filter.push_str(", region=~\"$region\"");
    }
    let instance_selector = format!("up{{{job}{filter}}}");
    board.templating.list.push(Variable::label_values(
        "instance",
        "Instance",
        instance_selector,
    ));
    filter.push_str(", instance=~\"$instance\"");
    let service = format!("service=\"{}\"", promql_str(name));
    // The request series of this service's targets, narrowed by the
    // variables. Raw series, not the recording rules: those sum the region
    // and instance away (the alerts and the SLO are per service), so a
    // variable would blank every panel that filtered them.
    let traffic = Traffic {
        requests: &http.metrics.requests,
        duration: &http.metrics.duration,
        status: &http.metrics.status_label,
        selector: format!("{job}{filter}"),
        by: if has_regions {
            "region, instance"
        } else {
            "instance"
        },
    };
    let legend = if has_regions {
        "{{region}} {{instance}}"
    } else {
        "{{instance}}"
    };

    let mut layout = Layout::new();
    for slo in &http.slos {
        objectives(&mut layout, slo, &service)?;
    }

    layout.row("Traffic and errors");
    layout.add(
        8,
        8,
        timeseries(
            "Request rate",
            "Requests per second, per target.",
            vec![Target::new(traffic.rate(""), legend)],
            "reqps",
            Thresholds::new("green", &[])?,
        ),
    );
    for (class, threshold) in [("5xx", http.error_rate_5xx), ("4xx", http.error_rate_4xx)] {
        let (title, description, steps) = match threshold {
            Some(t) => (
                format!("{class} ratio (alert above {t})"),
                format!(
                    "Share of requests answered {class}; the dashed line is the {t} alert threshold."
                ),
                vec![(t.fraction(), "red")],
            ),
            None => (
                format!("{class} ratio"),
                format!("Share of requests answered {class}."),
                Vec::new(),
            ),
        };
        let mut panel = timeseries(
            &title,
            &description,
            vec![Target::new(traffic.ratio(&class[..1]), legend)],
            "percentunit",
            Thresholds::new("green", &steps)?,
        );
        panel.field.min = Some(number(Decimal::ZERO)?);
        layout.add(8, 8, panel);
    }

    layout.row("Latency");
    layout.add(24, 9, latency(&http.slos, &traffic, legend)?);

    saturation(&mut layout, model, name, http)?;

    layout.row("Health");
    let up = format!("up{{{job}{filter}}}");
    let mut targets_up = stat(
        "Targets up",
        "Whether Prometheus scrapes each target (up).",
        vec![Target::new(up, legend).instant()],
        "none",
        Thresholds::new("red", &[(Decimal::ONE, "green")])?,
    );
    targets_up.field.mappings = vec![json!({
        "type": "value",
        "options": {
            "0": { "text": "DOWN", "color": "red", "index": 0 },
            "1": { "text": "UP", "color": "green", "index": 1 },
        },
    })];
    targets_up.options["colorMode"] = json!("background");
    layout.add(12, 6, targets_up);
    let firing = format!("ALERTS{{{service}, alertstate=\"firing\"}}");
    layout.add(
        4,
        6,
        stat(
            "Firing alerts",
            "Alerts firing for this service now.",
            vec![Target::new(format!("count({firing}) or vector(0)"), "firing").instant()],
            "none",
            Thresholds::new("green", &[(Decimal::ONE, "red")])?,
        ),
    );
    layout.add(8, 6, firing_by_name("service", &firing)?);

    if !http.business_metrics.is_empty() {
        layout.row("Business");
        for m in &http.business_metrics {
            layout.add(
                12,
                8,
                timeseries(
                    &m.title,
                    &format!("Business metric `{}` as the spec defines it.", m.name),
                    vec![Target::new(m.expr.clone(), &m.title)],
                    &m.unit,
                    Thresholds::new("green", &[])?,
                ),
            );
        }
    }
    board.panels = layout.finish();
    Ok(board)
}

/// Per-target queries of a service's request metrics, with the dashboard's
/// variables in the selector.
struct Traffic<'a> {
    requests: &'a str,
    duration: &'a str,
    status: &'a str,
    /// `job="api", region=~"$region", instance=~"$instance"`.
    selector: String,
    /// The labels each panel draws a line per: `region, instance`.
    by: &'static str,
}

impl Traffic<'_> {
    fn rate(&self, extra: &str) -> String {
        format!(
            "sum by ({}) (rate({}{{{}{extra}}}[5m]))",
            self.by, self.requests, self.selector
        )
    }

    /// The share of `class`xx answers; 0, not "No data", for a target that
    /// never answered one.
    fn ratio(&self, class: &str) -> String {
        let all = self.rate("");
        let errors = self.rate(&format!(", {}=~\"{class}..\"", self.status));
        format!("({errors} or 0 * {all}) / {all}")
    }

    fn quantile(&self, q: Decimal) -> String {
        format!(
            "histogram_quantile({q}, sum by ({}, le) (rate({}_bucket{{{}}}[5m])))",
            self.by, self.duration, self.selector
        )
    }
}

/// One SLO's row: the share of good events against the objective, error
/// budget left, and the burn rate per window against the alerting tiers.
fn objectives(layout: &mut Layout, slo: &Slo, service: &str) -> Result<(), BuildError> {
    let objective = slo.objective;
    let window = slo.window;
    let sel = format!("{service}, slo=\"{}\"", promql_str(&slo.name));
    layout.row(&format!(
        "SLO {}: {objective} {} ({window} window)",
        slo.name,
        slo.sli.kind()
    ));
    let fraction = objective.fraction();
    let mut good = stat(
        &format!("Good events ({window}, objective {objective})"),
        &format!(
            "Share of {} over the last {window} (1 - {}); green at or above the {objective} objective.",
            slo.good_events(),
            sli_error_series(window)
        ),
        vec![
            Target::new(
                format!("1 - {}{{{sel}}}", sli_error_series(window)),
                &slo.name,
            )
            .instant(),
        ],
        "percentunit",
        Thresholds::new("red", &[(fraction, "green")])?,
    );
    good.field.decimals = Some(objective.value().scale() + 1);
    layout.add(6, 8, good);

    let budget = budget_gauge(
        &format!("Error budget remaining ({window})"),
        "The share of the window's error budget not yet spent (slo:error_budget:remaining): orange below 50%, red below 25%.",
        &sel,
    )?;
    layout.add(6, 8, budget);

    // Burn rate = error ratio ÷ error budget (1 − objective).
    let allowed = slo.error_budget();
    let tiers = &slo.burn_rates;
    let mut windows: Vec<Duration> = slo.burn_windows();
    if !windows.contains(&window) {
        windows.push(window);
    }
    let targets = windows
        .iter()
        .map(|w| {
            Target::new(
                format!("{}{{{sel}}} / {allowed}", sli_error_series(*w)),
                &w.to_string(),
            )
        })
        .collect();
    let mut steps: Vec<(Decimal, &str)> = Vec::new();
    for tier in tiers {
        let color = if tier.tier == Tier::Page {
            "red"
        } else {
            "orange"
        };
        if !steps.iter().any(|(v, _)| *v == tier.factor) {
            steps.push((tier.factor, color));
        }
    }
    steps.sort_by_key(|(v, _)| *v);
    let described: Vec<String> = tiers
        .iter()
        .map(|t| {
            format!(
                "{} when {} and {} burn above {}×",
                t.tier.as_str(),
                t.long,
                t.short,
                t.factor
            )
        })
        .collect();
    layout.add(
        12,
        8,
        timeseries(
            "Burn rate",
            &format!(
                "How fast each window spends the error budget (1 = exactly the budget over {window}). Dashed lines are the alerting tiers: {}.",
                described.join("; ")
            ),
            targets,
            "suffix:×",
            Thresholds::new("green", &steps)?,
        ),
    );
    Ok(())
}

/// p50, p95 and p99 for reading, with each latency SLO's threshold drawn.
/// (The SLOs themselves count the histogram's bucket at the threshold:
/// their rows above are exact, these estimates are not.)
fn latency(slos: &[Slo], traffic: &Traffic, legend: &str) -> Result<PanelSpec, BuildError> {
    let targets = record::READ_PERCENTILES
        .iter()
        .filter_map(|p| {
            let q = Decimal::from_int(*p).checked_div_exact(Decimal::HUNDRED)?;
            Some(Target::new(traffic.quantile(q), &format!("p{p} {legend}")))
        })
        .collect();
    let mut steps: Vec<(Decimal, &str)> = Vec::new();
    let mut said = Vec::new();
    for slo in slos {
        let Sli::Latency { threshold, .. } = &slo.sli else {
            continue;
        };
        let secs = seconds(*threshold)
            .ok_or_else(|| BuildError::number(format!("{threshold} in seconds")))?;
        if !steps.iter().any(|(v, _)| *v == secs) {
            steps.push((secs, "red"));
        }
        said.push(format!("{} within {}", slo.objective, human(*threshold)));
    }
    steps.sort_by_key(|(v, _)| *v);
    let (title, description) = if said.is_empty() {
        (
            "Latency".to_string(),
            "Request latency percentiles, estimated from the histogram.".to_string(),
        )
    } else {
        (
            format!("Latency (SLOs {})", said.join(", ")),
            format!(
                "Request latency percentiles, estimated from the histogram; dashed lines are the latency SLOs' thresholds: {}.",
                said.join(", ")
            ),
        )
    };
    let mut panel = timeseries(
        &title,
        &description,
        targets,
        "s",
        Thresholds::new("green", &steps)?,
    );
    panel.field.min = Some(number(Decimal::ZERO)?);
    Ok(panel)
}

/// CPU and memory as a share of the requests (what the autoscaler's
/// utilization targets mean), and replicas against the maximum. Their
/// series (cAdvisor, kube-state-metrics) are collected on Kubernetes only:
/// elsewhere the row would stay empty, so there is none.
fn saturation(
    layout: &mut Layout,
    model: &Model,
    name: &str,
    http: &HttpService,
) -> Result<(), BuildError> {
    let autoscaling = match &http.scaling {
        Scaling::Auto(a) => Some(a),
        Scaling::Fixed { .. } => None,
    };
    if model.platforms.kubernetes.is_none() || (http.resources.is_none() && autoscaling.is_none()) {
        return Ok(());
    }
    layout.row("Saturation");
    let mut container = String::new();
    if let Some(k8s) = &model.platforms.kubernetes {
        container.push_str(&format!("namespace=\"{}\", ", promql_str(&k8s.namespace)));
    }
    container.push_str(&format!("container=\"{}\"", promql_str(name)));
    if http.resources.is_some() {
        let cpu = format!(
            "sum by (pod) (rate({}{{{container}}}[5m])) / sum by (pod) ({}{{{container}, resource=\"cpu\"}})",
            saturation::CPU_USAGE,
            saturation::REQUESTS
        );
        let memory = format!(
            "sum by (pod) ({}{{{container}}}) / sum by (pod) ({}{{{container}, resource=\"memory\"}})",
            saturation::MEMORY_USAGE,
            saturation::REQUESTS
        );
        for (what, expr, target) in [
            ("CPU", cpu, autoscaling.and_then(|a| a.cpu_percent)),
            ("Memory", memory, autoscaling.and_then(|a| a.memory_percent)),
        ] {
            let (title, description, steps) = match target {
                Some(p) => (
                    format!("{what} of request (autoscaling target {p}%)"),
                    format!(
                        "{what} use per pod as a share of its request; the dashed line is the autoscaler's {p}% target."
                    ),
                    vec![(percent_fraction(p), "orange")],
                ),
                None => (
                    format!("{what} of request"),
                    format!("{what} use per pod as a share of its request."),
                    Vec::new(),
                ),
            };
            let mut panel = timeseries(
                &title,
                &description,
                vec![Target::new(expr, "{{pod}}")],
                "percentunit",
                Thresholds::new("green", &steps)?,
            );
            panel.field.min = Some(number(Decimal::ZERO)?);
            layout.add(8, 8, panel);
        }
    }
    if let Some(a) = autoscaling {
        let namespace = model
            .platforms
            .kubernetes
            .as_ref()
            .map(|k| k.namespace.as_str());
        let hpa = saturation::hpa(name, namespace);
        let mut panel = timeseries(
            &format!("Replicas (max {})", a.max_replicas),
            &format!(
                "Current replicas against the autoscaler's maximum of {} (minimum {}).",
                a.max_replicas, a.min_replicas
            ),
            vec![
                Target::new(format!("{}{{{hpa}}}", saturation::REPLICAS), "current"),
                Target::new(format!("{}{{{hpa}}}", saturation::MAX_REPLICAS), "maximum"),
            ],
            "none",
            Thresholds::new(
                "green",
                &[(Decimal::from_int(u64::from(a.max_replicas)), "red")],
            )?,
        );
        panel.field.min = Some(number(Decimal::ZERO)?);
        panel.field.decimals = Some(0);
        layout.add(8, 8, panel);
    }
    Ok(())
}

/// `80` → `0.8`.
fn percent_fraction(p: u32) -> Decimal {
    Decimal::from_parts(u128::from(p), 2).unwrap_or(Decimal::ZERO)
}

pub fn timeseries(
    title: &str,
    description: &str,
    targets: Vec<Target>,
    unit: &str,
    thresholds: Thresholds,
) -> PanelSpec {
    let lines = if thresholds.steps.len() > 1 {
        "dashed"
    } else {
        "off"
    };
    PanelSpec {
        type_: "timeseries",
        title: title.to_string(),
        description: Some(description.to_string()),
        targets,
        field: FieldConfig {
            unit: unit.to_string(),
            color: json!({ "mode": "palette-classic" }),
            thresholds,
            custom: Some(json!({
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
                "thresholdsStyle": { "mode": lines },
            })),
            ..FieldConfig::default()
        },
        options: json!({
            "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": [] },
            "tooltip": { "mode": "multi", "sort": "desc" },
        }),
        overrides: Vec::new(),
        transformations: Vec::new(),
        links: Vec::new(),
    }
}

/// "Firing now": each firing alert of `firing` (an `ALERTS{…}` selector)
/// by name and severity, "None" when quiet; `of` names what fires.
pub fn firing_by_name(of: &str, firing: &str) -> Result<PanelSpec, BuildError> {
    let mut panel = stat(
        "Firing now",
        &format!("Each firing alert of this {of}, by name and severity."),
        vec![
            Target::new(
                format!("sum by (alertname, severity) ({firing})"),
                "{{alertname}} ({{severity}})",
            )
            .instant(),
        ],
        "none",
        Thresholds::new("red", &[])?,
    );
    panel.field.no_value = Some("None".into());
    panel.options["textMode"] = json!("name");
    Ok(panel)
}

pub fn stat(
    title: &str,
    description: &str,
    targets: Vec<Target>,
    unit: &str,
    thresholds: Thresholds,
) -> PanelSpec {
    PanelSpec {
        type_: "stat",
        title: title.to_string(),
        description: Some(description.to_string()),
        targets,
        field: FieldConfig {
            unit: unit.to_string(),
            color: json!({ "mode": "thresholds" }),
            thresholds,
            ..FieldConfig::default()
        },
        options: json!({
            "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
        }),
        overrides: Vec::new(),
        transformations: Vec::new(),
        links: Vec::new(),
    }
}

pub fn gauge(
    title: &str,
    description: &str,
    targets: Vec<Target>,
    unit: &str,
    thresholds: Thresholds,
) -> PanelSpec {
    PanelSpec {
        type_: "gauge",
        title: title.to_string(),
        description: Some(description.to_string()),
        targets,
        field: FieldConfig {
            unit: unit.to_string(),
            color: json!({ "mode": "thresholds" }),
            thresholds,
            ..FieldConfig::default()
        },
        options: json!({
            "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
            "orientation": "auto",
            "showThresholdLabels": false,
            "showThresholdMarkers": true,
        }),
        overrides: Vec::new(),
        transformations: Vec::new(),
        links: Vec::new(),
    }
}

/// The error budget left as a 0–100% gauge: red below 25%, orange below
/// 50%. `service` is the selector's label matcher.
pub(super) fn budget_gauge(
    title: &str,
    description: &str,
    service: &str,
) -> Result<PanelSpec, BuildError> {
    let mut budget = gauge(
        title,
        description,
        vec![
            Target::new(
                format!("{}{{{service}}}", crate::model::record::BUDGET_REMAINING),
                "remaining",
            )
            .instant(),
        ],
        "percentunit",
        Thresholds::new(
            "red",
            &[
                (
                    Decimal::from_parts(25, 2).unwrap_or(Decimal::ZERO),
                    "orange",
                ),
                (Decimal::from_parts(5, 1).unwrap_or(Decimal::ZERO), "green"),
            ],
        )?,
    );
    budget.field.min = Some(number(Decimal::ZERO)?);
    budget.field.max = Some(number(Decimal::ONE)?);
    Ok(budget)
}
