//! `prometheus/global/regions.yml` and its promtool test: the alerts that
//! compare regions, for where every region's series meet.
//!
//! With several regions and `[monitoring.remote_write]`, each region's
//! Prometheus scrapes only its own region's pods and ships its series
//! (labelled `region` and `replica`) to one store. No region's Prometheus
//! can see another region go: that is for the store's ruler (Mimir or
//! Cortex ruler, Thanos Rule, vmalert), which loads this file. The
//! per-region Prometheus does not: it loads `prometheus/rules/` only
//! (`rule_files`, the Kubernetes copies and the operator's PrometheusRules
//! leave this directory out).
//!
//! `RegionDown`, per service with discovered replicas: a region of the
//! spec in which no target of the service is up (its targets report 0, or
//! its series stopped: the region's Prometheus went with it, and the last
//! samples age out of the 5m lookback), while another region serves. The
//! regions come from the spec, so a region lost for good keeps firing. Both
//! replicas' copies of a series count once (`max by (region)`).

use std::collections::BTreeMap;

use super::super::catalog::{About, RuleFile, RuleGroup, Topic};
use super::{AlertRule, Case, Firing, Series, alert_annotations, alert_labels};
use crate::model::{AlertKind, Model, REPLICA_LABEL, Service};
use crate::vocab::{dashboard_url, matcher, promql_str};

/// Where the global rules are: outside `prometheus/rules/`, which every
/// region's Prometheus loads.
pub const GLOBAL_DIR: &str = "prometheus/global/";
const NAME: &str = "regions";

/// The global rule file, when the spec has regions that only meet in a
/// remote-write store and a service whose replicas each region discovers.
pub fn global_rule_files(model: &Model) -> Vec<RuleFile> {
    let regions = &model.project.regions;
    if regions.len() < 2 || model.monitoring.remote_write.is_none() {
        return Vec::new();
    }
    let mut tests = Vec::new();
    let rules: Vec<_> = model
        .services
        .iter()
        .filter(|s| s.http().is_some_and(|h| h.discovered))
        .filter_map(|s| region_down(model, s, regions, &mut tests))
        .collect();
    if rules.is_empty() {
        return Vec::new();
    }
    vec![RuleFile {
        path: format!("{GLOBAL_DIR}{NAME}.yml"),
        test_path: crate::targets::alerting::tests_path(&format!("global-{NAME}")),
        notes: vec![
            "For the store's ruler (Mimir or Cortex ruler, Thanos Rule, vmalert), over every region's remote-written series; no region's Prometheus loads this file.".to_string(),
            "The ruler sends these alerts to the Alertmanager (every member) like a Prometheus does.".to_string(),
        ],
        groups: vec![RuleGroup {
            name: "global-regions".to_string(),
            interval: None,
            rules,
        }],
        tests,
    }]
}

/// `RegionDown` of `service`, unless the spec switches it off.
fn region_down(
    model: &Model,
    service: &Service,
    regions: &[String],
    tests: &mut Vec<crate::targets::alerting::rules::TestGroup>,
) -> Option<super::super::catalog::Rule> {
    let http = service.http()?;
    let kind = AlertKind::RegionDown;
    let o = http.alerts.get(&kind);
    if o.is_some_and(|o| !o.enabled) {
        return None;
    }
    let severity = o
        .and_then(|o| o.severity)
        .unwrap_or(kind.default_severity());
    let for_ = o.and_then(|o| o.for_).unwrap_or(kind.default_for());
    let name = service.name.as_str();
    let up = format!("up{{{}}}", matcher("job", name));
    let expected = regions
        .iter()
        .map(|r| {
            format!(
                "label_replace(vector(1), \"region\", \"{}\", \"\", \"\")",
                promql_str(r)
            )
        })
        .collect::<Vec<_>>()
        .join(" or ");
    let expr = format!(
        "(({expected}) unless on (region) max by (region) ({up} == 1)) and on () max({up} == 1)"
    );
    let dashboard = dashboard_url(&model.monitoring.grafana_url, &service.dashboard_uid());
    let labels = alert_labels(severity, service);
    let annotations = alert_annotations(
        model,
        "RegionDown",
        &format!("{name}: no target in {{{{ $labels.region }}}} is up"),
        &format!(
            "No replica of {name} in {{{{ $labels.region }}}} is up (down, or its series stopped reaching the store with the region's Prometheus) while another region serves. Move traffic away from the region, and check that the others have the capacity."
        ),
        Some(&dashboard),
    );
    let first = &regions[0];
    let series = |region: &str, values: &str| -> Vec<Series> {
        (0..2)
            .map(|i| Series {
                series: format!(
                    "up{{job=\"{name}\",instance=\"{region}-pod:{port}\",region=\"{region}\",{REPLICA_LABEL}=\"prometheus-{i}\"}}",
                    port = http.port
                ),
                values: values.to_string(),
            })
            .collect()
    };
    let all = |first_values: &str, other_values: &str| -> Vec<Series> {
        regions
            .iter()
            .flat_map(|r| {
                series(
                    r,
                    if r == first {
                        first_values
                    } else {
                        other_values
                    },
                )
            })
            .collect()
    };
    let fires = || {
        vec![Firing {
            labels: BTreeMap::from([("region".to_string(), first.clone())]),
            value: String::new(),
        }]
    };
    // A region's last samples stay visible for the 5m lookback: series that
    // stop after step 5 are gone from step 10.
    let cases = vec![
        Case {
            name: format!("fires when no target in {first} is up"),
            series: all("0x{n}", "1x{n}"),
            onset: 0,
            fires: fires(),
        },
        Case {
            name: format!("fires when {first}'s series stop reaching the store"),
            series: all("1x5", "1x{n}"),
            onset: 10,
            fires: fires(),
        },
        Case {
            name: "stays quiet while every region serves".into(),
            series: all("1x{n}", "1x{n}"),
            onset: 0,
            fires: Vec::new(),
        },
        Case {
            name: "stays quiet when no region serves (TargetDown covers it)".into(),
            series: all("0x{n}", "0x{n}"),
            onset: 0,
            fires: Vec::new(),
        },
    ];
    Some(
        AlertRule {
            name: "RegionDown",
            for_,
            expr,
            labels,
            annotations,
            about: About {
                topic: Topic::Http(kind),
                slo: None,
                service: name.to_string(),
                team: service.team.clone(),
                severity,
                threshold: "no target of one region up, another region up".to_string(),
                dashboard_url: dashboard,
            },
        }
        .build(&cases, tests),
    )
}
