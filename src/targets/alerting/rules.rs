//! `prometheus/rules/<service>.yml` (recording and alert rules) and
//! `prometheus/tests/<service>.test.yml` (a promtool unit test for every
//! alert: series that cross its threshold make it fire with exactly the
//! expected labels and annotations; series just under it keep it quiet).
//!
//! Databases with backups get their freshness alerts from [`backup`].
//!
//! The recording rules' names are documented in [`crate::model::record`].
//! Every expression is parsed with promql-parser before it is written.

mod backup;
mod cache;
mod format;
mod global;
mod http;

pub use backup::backup_rule_files;
pub use cache::cache_rule_files;
pub use global::{GLOBAL_DIR, global_rule_files};
pub use http::http_rule_files;

use format::{humanize, humanize_percentage, minutes, per, steps_of};

use std::collections::BTreeMap;

use serde::Serialize;

use super::catalog::{self, About, Pair, Rule, RuleFile, RuleGroup, pair};
use crate::engine::{EmitError, Emitter, Query};
use crate::model::{Model, Service, Severity};
use crate::output::FileMode;
use crate::targets::kubernetes;
use crate::units::Duration;

/// The promtool test's evaluation interval and series step.
const STEP_SECS: u64 = 60;

#[derive(Serialize)]
struct RulesContext<'a> {
    notes: &'a [String],
    groups: &'a [RuleGroup],
}

/// A rule file's groups as a PrometheusRule, rendered from the same
/// partial template as the file, so the two cannot differ.
#[derive(Serialize)]
struct PrometheusRuleContext<'a> {
    rule_file: &'a str,
    name: &'a str,
    namespace: &'a str,
    labels: &'a [(String, String)],
    notes: &'a [String],
    groups: &'a [RuleGroup],
}

#[derive(Serialize)]
struct TestContext<'a> {
    rule_file: String,
    group_eval_order: Vec<String>,
    tests: &'a [TestGroup],
}

/// One promtool test group.
#[derive(Serialize)]
pub struct TestGroup {
    name: String,
    input_series: Vec<Series>,
    checks: Vec<Check>,
    /// `promql_expr_test`: what recorded series hold at a time.
    exprs: Vec<ExprCheck>,
}

#[derive(Serialize)]
struct ExprCheck {
    eval_time: String,
    expr: String,
    samples: Vec<Sample>,
}

#[derive(Serialize)]
struct Sample {
    /// The series as promtool writes it: `name{label="value", …}`.
    labels: String,
    /// An exact integer (0 or 1): a ratio with no errors, a whole budget.
    value: u8,
}

#[derive(Serialize)]
struct Series {
    series: String,
    values: String,
}

#[derive(Serialize)]
struct Check {
    eval_time: String,
    alertname: String,
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Serialize)]
struct ExpAlert {
    labels: Vec<Pair>,
    annotations: Vec<Pair>,
}

/// Writes every rule file of the catalog and its promtool test, and with
/// the Prometheus Operator its PrometheusRule.
pub fn emit(model: &Model, files: &[RuleFile], out: &mut Emitter<'_>) -> Result<(), EmitError> {
    let k8s = model.platforms.kubernetes.as_ref();
    let operator = k8s.and_then(|k| Some((k, k.operator.as_ref()?)));
    for file in files {
        let group_eval_order = file.groups.iter().map(|g| g.name.clone()).collect();
        let queries = || {
            file.groups
                .iter()
                .flat_map(|g| &g.rules)
                .map(query)
                .collect()
        };
        out.render_with(
            &file.path,
            "prometheus/rules.yml.j2",
            &RulesContext {
                notes: &file.notes,
                groups: &file.groups,
            },
            FileMode::Regular,
            queries(),
        )?;
        let rule_name = file.path.rsplit('/').next().unwrap_or(&file.path);
        // The global rules are for the store's ruler, not the cluster's
        // Prometheus.
        let global = file.path.starts_with(GLOBAL_DIR);
        if let Some((k8s, operator)) = operator.filter(|_| !global) {
            let name = rule_name.strip_suffix(".yml").unwrap_or(rule_name);
            out.render_with(
                &kubernetes::prometheus_rule_path(name),
                "kubernetes/prometheus-rule.yaml.j2",
                &PrometheusRuleContext {
                    rule_file: &file.path,
                    name,
                    namespace: &k8s.namespace,
                    labels: &operator.selector_labels,
                    notes: &file.notes,
                    groups: &file.groups,
                },
                FileMode::Regular,
                queries(),
            )?;
        }
        out.render(
            &file.test_path,
            "prometheus/rules.test.yml.j2",
            &TestContext {
                // From prometheus/tests/ to the rule file.
                rule_file: format!(
                    "../{}",
                    file.path.strip_prefix("prometheus/").unwrap_or(&file.path)
                ),
                group_eval_order,
                tests: &file.tests,
            },
            FileMode::Regular,
        )?;
    }
    Ok(())
}

/// A rule's expression, for the checker (`Emitter::render_with`).
fn query(rule: &Rule) -> Query {
    let name = rule.alert.as_deref().or(rule.record.as_deref());
    Query {
        what: format!("rule `{}`", name.unwrap_or_default()),
        expr: rule.expr.clone(),
    }
}

/// What one alert needs besides its resolved settings.
struct AlertDef {
    expr: String,
    /// The threshold in words, for the runbook.
    threshold: String,
    summary: String,
    description: String,
    cases: Vec<Case>,
}

/// One test group: its input, and whether (and with what) the alert fires.
struct Case {
    name: String,
    series: Vec<Series>,
    /// When the condition first holds, in steps from the start.
    onset: u64,
    /// The firing alerts' extra labels (from the series) and the values of
    /// the annotations' placeholders; empty when the alert must not fire.
    fires: Vec<Firing>,
}

struct Firing {
    labels: BTreeMap<String, String>,
    value: String,
}

/// Fills an annotation's Go-template placeholders as Prometheus would for
/// one firing alert.
/// The labels every alert carries: `severity`, `service`, and `team` when
/// the service has one.
fn alert_labels(severity: Severity, service: &Service) -> Vec<Pair> {
    let mut labels = vec![
        pair("severity", severity.as_str()),
        pair("service", &service.name),
    ];
    if let Some(team) = &service.team {
        labels.push(pair("team", team));
    }
    labels
}

/// The annotations every alert carries: `summary`, `description`, the
/// `runbook_url` of its generated runbook, and its `dashboard` when it has one.
fn alert_annotations(
    model: &Model,
    alert: &str,
    summary: &str,
    description: &str,
    dashboard: Option<&str>,
) -> Vec<Pair> {
    let mut a = vec![
        pair("summary", summary),
        pair("description", description),
        pair("runbook_url", &catalog::runbook_url(model, alert)),
    ];
    if let Some(url) = dashboard {
        a.push(pair("dashboard", url));
    }
    a
}

/// An alert's rule as every source of rules writes it.
struct AlertRule<'a> {
    name: &'a str,
    for_: Duration,
    expr: String,
    labels: Vec<Pair>,
    annotations: Vec<Pair>,
    about: About,
}

impl AlertRule<'_> {
    /// The rule, with one promtool test group per case appended to `tests`.
    fn build(self, cases: &[Case], tests: &mut Vec<TestGroup>) -> Rule {
        for case in cases {
            tests.push(test_group(
                self.name,
                self.for_,
                &self.labels,
                &self.annotations,
                case,
            ));
        }
        Rule {
            record: None,
            alert: Some(self.name.to_string()),
            expr: self.expr,
            for_: (!self.for_.is_zero()).then(|| self.for_.to_string()),
            labels: self.labels,
            annotations: self.annotations,
            about: Some(self.about),
        }
    }
}

/// One promtool test group: the case's series, and checks that the alert
/// is still pending one step before its `for` has passed and then fires (or
/// stays quiet) with exactly these labels and annotations.
fn test_group(
    alert: &str,
    for_: Duration,
    labels: &[Pair],
    annotations: &[Pair],
    case: &Case,
) -> TestGroup {
    let hold = steps_of(for_);
    let fire_at = case.onset + hold;
    let mut checks = Vec::new();
    if !case.fires.is_empty() && hold > 0 {
        // Still pending one step before `for` has passed.
        checks.push(Check {
            eval_time: minutes(fire_at - 1),
            alertname: alert.to_string(),
            exp_alerts: Vec::new(),
        });
    }
    checks.push(Check {
        eval_time: minutes(fire_at),
        alertname: alert.to_string(),
        exp_alerts: case
            .fires
            .iter()
            .map(|f| {
                let mut all: BTreeMap<String, String> = f.labels.clone();
                for l in labels {
                    all.insert(l.name.clone(), l.value.clone());
                }
                ExpAlert {
                    labels: all
                        .into_iter()
                        .map(|(k, v)| Pair { name: k, value: v })
                        .collect(),
                    annotations: annotations
                        .iter()
                        .map(|a| Pair {
                            name: a.name.clone(),
                            value: expand(&a.value, f),
                        })
                        .collect(),
                }
            })
            .collect(),
    });
    let steps = fire_at + 1;
    TestGroup {
        name: format!("{alert} {}", case.name),
        input_series: case
            .series
            .iter()
            .map(|s| Series {
                series: s.series.clone(),
                values: s.values.replace("{n}", &steps.to_string()),
            })
            .collect(),
        checks,
        exprs: Vec::new(),
    }
}

fn expand(template: &str, firing: &Firing) -> String {
    let mut text = template
        .replace("{{ $value | humanizePercentage }}", &firing.value)
        .replace("{{ $value | humanize }}", &firing.value);
    for (k, v) in &firing.labels {
        text = text.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_query_is_named_by_its_alert_or_record() {
        let mut rule = Rule {
            record: None,
            alert: Some("HighErrorRate5xx".into()),
            expr: "sum(rate(x[5m]))".into(),
            for_: None,
            labels: Vec::new(),
            annotations: Vec::new(),
            about: None,
        };
        assert_eq!(query(&rule).what, "rule `HighErrorRate5xx`");
        assert_eq!(query(&rule).expr, "sum(rate(x[5m]))");
        rule.alert = None;
        rule.record = Some("job:x:rate5m".into());
        assert_eq!(query(&rule).what, "rule `job:x:rate5m`");
    }
}
