//! What a backtest or report replays, read from the rules harden generates
//! (the alert catalog, the same values the rule files are written from),
//! not from the spec's shape: every recording rule, every alert with its
//! `for` and its group's evaluation interval.

use super::inline::{Inliner, Recording};
use crate::model::Model;
use crate::targets::alerting::catalog;
use crate::units::Duration;

/// One alerting rule as Prometheus evaluates it.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub name: String,
    /// Its rule file, such as `prometheus/rules/api.yml`.
    pub file: String,
    /// The labels the rule sets (`severity`, `service`, `slo`, `tier`, …).
    pub labels: Vec<(String, String)>,
    /// How long the expression must hold before the alert fires.
    pub for_: Duration,
    /// Its group's evaluation interval.
    pub interval: Duration,
    /// The expression as written in the rule file.
    pub expr: String,
}

/// A recorded series' rule: its group's interval beside it.
struct Recorded {
    recording: Recording,
    interval: Duration,
}

/// Every rule of the generated rule files.
pub struct Replay {
    recordings: Vec<Recording>,
    recorded: Vec<Recorded>,
    pub alerts: Vec<AlertRule>,
}

impl Replay {
    pub fn of(model: &Model) -> Result<Replay, String> {
        let default = model.monitoring.evaluation_interval;
        let duration = |what: &str, s: &str| {
            Duration::parse(s).map_err(|e| format!("{what} {s:?} is not a duration: {e}"))
        };
        let (mut recorded, mut alerts) = (Vec::new(), Vec::new());
        for file in catalog::rule_files(model) {
            for group in &file.groups {
                let interval = match &group.interval {
                    Some(i) => duration(&format!("the interval of {}", group.name), i)?,
                    None => default,
                };
                for rule in &group.rules {
                    let labels: Vec<(String, String)> = rule
                        .labels
                        .iter()
                        .map(|p| (p.name.clone(), p.value.clone()))
                        .collect();
                    if let Some(name) = &rule.record {
                        recorded.push(Recorded {
                            recording: Recording {
                                name: name.clone(),
                                labels,
                                expr: rule.expr.clone(),
                            },
                            interval,
                        });
                    } else if let Some(name) = &rule.alert {
                        let for_ = match &rule.for_ {
                            Some(f) => duration(&format!("the `for` of {name}"), f)?,
                            None => Duration::secs(0),
                        };
                        alerts.push(AlertRule {
                            name: name.clone(),
                            file: file.path.clone(),
                            labels,
                            for_,
                            interval,
                            expr: rule.expr.clone(),
                        });
                    }
                }
            }
        }
        Ok(Replay {
            recordings: recorded.iter().map(|r| r.recording.clone()).collect(),
            recorded,
            alerts,
        })
    }

    pub fn inliner(&self) -> Inliner<'_> {
        Inliner::new(&self.recordings)
    }

    /// The interval of the group recording `name` with `labels`.
    pub fn interval_of(&self, name: &str, labels: &[(String, String)]) -> Option<Duration> {
        self.recorded
            .iter()
            .find(|r| r.recording.name == name && r.recording.labels == labels)
            .map(|r| r.interval)
    }
}
