//! The shell commands the runbooks and OPERATIONS.md share: where
//! Prometheus and Alertmanager are, a PromQL query through the HTTP API,
//! an App Platform app's id, and the words of a command drafted once for
//! every service (`$SERVICE`, `$PORT`).

use serde::Serialize;

use crate::engine::escape::shell_word;
use crate::model::Model;

/// One step: what to do and why, and the commands that do it.
#[derive(Serialize)]
pub struct Step {
    pub title: String,
    pub text: String,
    pub command: Option<String>,
}

/// The Prometheus and Alertmanager the commands talk to: the environment
/// variables they read, with the Compose stack's published ports as defaults.
pub fn prometheus_default(model: &Model) -> String {
    format!("http://localhost:{}", model.monitoring.prometheus_port)
}

/// An existing Alertmanager's first member, when the spec names one.
pub fn alertmanager_default(model: &Model) -> String {
    match model.monitoring.external_alertmanagers.first() {
        Some(member) => format!("http://{member}"),
        None => format!("http://localhost:{}", model.monitoring.alertmanager_port),
    }
}

/// The shell variables a command drafted once for every service reads.
/// A drafted string carries each as its marker (a control character,
/// which no value harden puts in a command can hold); [`word`] turns the
/// marker into the variable, and the block that holds the command sets it.
const VARIABLES: [(char, &str); 2] = [('\u{1}', "SERVICE"), ('\u{2}', "PORT")];

/// Stands for the service (`$SERVICE`) in a drafted command.
pub(super) const SVC: &str = "\u{1}";

/// Stands for the service's port (`$PORT`) in a drafted command.
pub(super) const PORT: &str = "\u{2}";

/// The variable `c` marks, if it is a marker.
fn variable(c: char) -> Option<&'static str> {
    VARIABLES.iter().find(|(m, _)| *m == c).map(|(_, v)| *v)
}

/// `s` as one shell word, like [`shell_word`], except that [`SVC`] and
/// [`PORT`] expand to `$SERVICE` and `$PORT`: such a word is double-quoted
/// with every other `$`, `` ` ``, `"` and `\` escaped (and `!` kept out of
/// the quotes, where interactive bash would expand history).
pub(super) fn word(s: &str) -> String {
    if !s.chars().any(|c| variable(c).is_some()) {
        return shell_word(s);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::from("\"");
    for (i, c) in chars.iter().enumerate() {
        match variable(*c) {
            Some(var) => {
                let glued = chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_');
                if glued {
                    out.push_str(&format!("${{{var}}}"));
                } else {
                    out.push('$');
                    out.push_str(var);
                }
            }
            None if *c == '!' => out.push_str("\"'!'\""),
            None => {
                if matches!(c, '$' | '`' | '"' | '\\') {
                    out.push('\\');
                }
                out.push(*c);
            }
        }
    }
    out.push('"');
    out
}

/// Runs a PromQL query against Prometheus's HTTP API. [`SVC`] in `expr`
/// stands for `$SERVICE`.
pub fn query_command(expr: &str) -> String {
    format!(
        "curl -fsSG \"$PROMETHEUS_URL/api/v1/query\" --data-urlencode {} | jq '.data.result'",
        word(&format!("query={expr}"))
    )
}

pub(super) fn prometheus_env(model: &Model) -> String {
    format!(
        "PROMETHEUS_URL=${{PROMETHEUS_URL:-{}}}",
        prometheus_default(model)
    )
}

/// Sets `APP_ID` to the id of the App Platform app named `name`.
pub fn app_id(name: &str) -> String {
    format!(
        "APP_ID=$(doctl apps list --format ID,Spec.Name --no-header | awk -v n={} '$2 == n {{print $1}}')",
        shell_word(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_markers_are_the_variables_markers() {
        assert_eq!(
            variable(SVC.chars().next().expect("marker")),
            Some("SERVICE")
        );
        assert_eq!(variable(PORT.chars().next().expect("marker")), Some("PORT"));
    }

    /// What bash makes of `word`, with SERVICE and PORT set.
    fn in_bash(word: &str) -> String {
        let out = std::process::Command::new("bash")
            .args(["-c", &format!("printf '%s' {word}")])
            .env("SERVICE", "svc-1")
            .env("PORT", "8080")
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{word}");
        String::from_utf8(out.stdout).expect("utf-8")
    }

    #[test]
    fn words_expand_the_service_and_port_and_nothing_else() {
        for s in [
            format!("job=\"{SVC}\""),
            format!("{SVC}-backup"),
            format!("{SVC}_x{PORT}:{PORT}"),
            format!("a $HOME `id` \\ \" ' ! {SVC} $(touch x) ${{PATH}}"),
            "no variable $HOME 'here'".to_string(),
        ] {
            let expected = s.replace(SVC, "svc-1").replace(PORT, "8080");
            assert_eq!(in_bash(&word(&s)), expected, "{}", word(&s));
        }
    }
}
