//! Steps drafted per service, merged: services whose drafts of a step read
//! the same share one block, which sets (or demands) `SERVICE` and the
//! variables that differ.

use super::super::commands::Step;
use crate::engine::escape::shell_word;

/// A step as drafted for one service: its commands use [`SVC`] (and the
/// variables in `vars`) for what differs between services.
pub(super) struct Draft {
    pub(super) title: String,
    pub(super) text: String,
    pub(super) lines: Vec<String>,
    pub(super) vars: Vec<Var>,
}

/// A shell variable a draft's commands read besides `SERVICE`, with this
/// service's value; the table shows it when services differ.
#[derive(Clone, PartialEq)]
pub(super) struct Var {
    pub(super) name: &'static str,
    pub(super) value: String,
    /// What to set it to when the services of a block differ (plain
    /// words: it is written unquoted in `${NAME:?hint}`).
    pub(super) hint: &'static str,
}

pub(super) fn draft(title: &str, text: impl Into<String>, lines: Vec<String>) -> Draft {
    Draft {
        title: title.to_string(),
        text: text.into(),
        lines,
        vars: Vec::new(),
    }
}

/// Services whose drafts of one step read the same.
pub(super) struct Group<'a> {
    text: String,
    lines: Vec<String>,
    names: Vec<&'static str>,
    hints: Vec<&'static str>,
    services: Vec<&'a str>,
    values: Vec<Vec<String>>,
}

/// The line that sets `SERVICE` for a block: the service's name when the
/// block is for one service, else a demand that the reader set it.
pub(super) fn service_line(services: &[&str]) -> String {
    // A service with several SLOs has an entry per SLO: still one service.
    match services {
        [one, rest @ ..] if rest.iter().all(|s| s == one) => {
            format!("SERVICE={}", shell_word(one))
        }
        _ => "SERVICE=${SERVICE:?set SERVICE to the service label of the alert}".to_string(),
    }
}

/// `line` with every use of `$name` written `${name:?}`. A block pasted
/// into a shell runs line by line: when the reader has not set the variable,
/// the line that demands it stops only itself, and without this every later
/// command would run with an empty word (a `kubectl` on no deployment, a
/// silence for `service=""`). [`word`] writes `${name}` where a name
/// character follows, so `$name` is never the start of a longer name.
pub(super) fn demand(line: &str, name: &str) -> String {
    let guarded = format!("${{{name}:?}}");
    line.replace(&format!("${{{name}}}"), &guarded)
        .replace(&format!("${name}"), &guarded)
}

pub(super) fn uses_service(lines: &[String]) -> bool {
    lines
        .iter()
        .any(|l| l.contains("$SERVICE") || l.contains("${SERVICE}"))
}

/// Merges every service's drafts into steps, in the order steps first
/// appear: one step per distinct draft, for the services that share it.
/// A step that does not cover every service names the ones it covers.
pub(super) fn merge<'a>(drafts: Vec<(&'a str, Vec<Draft>)>) -> Vec<Step> {
    let total = drafts.len();
    let mut titles: Vec<(String, Vec<Group<'a>>)> = Vec::new();
    for (service, list) in drafts {
        for d in list {
            let slot = match titles.iter().position(|(t, _)| *t == d.title) {
                Some(i) => i,
                None => {
                    titles.push((d.title.clone(), Vec::new()));
                    titles.len() - 1
                }
            };
            let names: Vec<&'static str> = d.vars.iter().map(|v| v.name).collect();
            let values: Vec<String> = d.vars.iter().map(|v| v.value.clone()).collect();
            let groups = &mut titles[slot].1;
            match groups
                .iter_mut()
                .find(|g| g.text == d.text && g.lines == d.lines && g.names == names)
            {
                Some(g) => {
                    g.services.push(service);
                    g.values.push(values);
                }
                None => groups.push(Group {
                    text: d.text,
                    lines: d.lines,
                    names,
                    hints: d.vars.iter().map(|v| v.hint).collect(),
                    services: vec![service],
                    values: vec![values],
                }),
            }
        }
    }
    let mut steps = Vec::new();
    for (title, groups) in titles {
        let whole = groups.len() == 1 && groups[0].services.len() == total;
        for g in groups {
            let mut lines = Vec::new();
            // Variables the reader must set (several services share the
            // block): every use demands them, see `demand`.
            let mut demanded = Vec::new();
            if uses_service(&g.lines) {
                lines.push(service_line(&g.services));
                if g.services.iter().any(|s| *s != g.services[0]) {
                    demanded.push("SERVICE");
                }
            }
            for (i, name) in g.names.iter().enumerate() {
                let first = &g.values[0][i];
                if g.values.iter().all(|v| v[i] == *first) {
                    lines.push(format!("{name}={}", shell_word(first)));
                } else {
                    lines.push(format!("{name}=${{{name}:?{}}}", g.hints[i]));
                    demanded.push(name);
                }
            }
            lines.extend(
                g.lines
                    .iter()
                    .map(|l| demanded.iter().fold(l.clone(), |l, name| demand(&l, name))),
            );
            steps.push(Step {
                title: if whole {
                    title.clone()
                } else {
                    format!("{title} ({})", g.services.join(", "))
                },
                text: g.text,
                command: (!lines.is_empty()).then(|| lines.join("\n")),
            });
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(title: &str, lines: &[&str]) -> Draft {
        draft(title, "", lines.iter().map(|l| l.to_string()).collect())
    }

    #[test]
    fn services_share_a_step_unless_it_reads_differently() {
        let drafts = vec![
            (
                "a",
                vec![step("Look", &["ps \"$SERVICE\""]), step("Ask", &["ask x"])],
            ),
            (
                "b",
                vec![step("Look", &["ps \"$SERVICE\""]), step("Ask", &["ask y"])],
            ),
            (
                "c",
                vec![step("Look", &["ps \"$SERVICE\""]), step("Ask", &["ask x"])],
            ),
        ];
        let steps = merge(drafts);
        assert_eq!(
            demand("a $SERVICE ${SERVICE}_b \"$SERVICE\" $PORT", "SERVICE"),
            "a ${SERVICE:?} ${SERVICE:?}_b \"${SERVICE:?}\" $PORT"
        );
        let got: Vec<(&str, &str)> = steps
            .iter()
            .map(|s| (s.title.as_str(), s.command.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Look",
                    // Shared: every use demands SERVICE (see `demand`).
                    "SERVICE=${SERVICE:?set SERVICE to the service label of the alert}\nps \"${SERVICE:?}\""
                ),
                ("Ask (a, c)", "ask x"),
                ("Ask (b)", "ask y"),
            ]
        );
        // One service: SERVICE is preset, and a variable takes its value.
        let mut one = step("Look", &["curl \"localhost:$PORT/$SERVICE\""]);
        one.vars.push(Var {
            name: "PORT",
            value: "8080".into(),
            hint: "set PORT",
        });
        let steps = merge(vec![("a", vec![one])]);
        assert_eq!(
            steps[0].command.as_deref(),
            Some("SERVICE=a\nPORT=8080\ncurl \"localhost:$PORT/$SERVICE\"")
        );
    }
}
