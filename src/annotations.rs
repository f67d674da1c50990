//! `--format github`: GitHub Actions workflow commands (`::error …::…`) that
//! annotate a pull request at the place a problem is: a spec problem at its
//! line and column, a drifted file, a failed or warned check.
//!
//! One command per line: the message is escaped as GitHub's toolkit escapes
//! data (`%`, CR, LF) and each property as it escapes properties (also `:`
//! and `,`), so no value can end the command early or start another. Paths
//! are relative to `GITHUB_WORKSPACE` when harden runs inside it (GitHub
//! places annotations by paths from the repository root), else as given.

use std::path::{Path, PathBuf};

use crate::check::{Report, Status};
use crate::diagnostics::Located;
use crate::output::Drift;

/// How bad an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// One workflow command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    pub file: Option<String>,
    /// 1-based line and column.
    pub at: Option<(usize, usize)>,
    pub title: String,
    pub message: String,
}

impl Annotation {
    /// The command line, with its newline.
    pub fn render(&self) -> String {
        let command = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(file) = &self.file {
            properties.push(format!("file={}", escape_property(file)));
        }
        if let Some((line, col)) = self.at {
            properties.push(format!("line={line}"));
            properties.push(format!("col={col}"));
        }
        properties.push(format!("title={}", escape_property(&self.title)));
        format!(
            "::{command} {}::{}\n",
            properties.join(","),
            escape_data(&self.message)
        )
    }
}

/// A message as GitHub's toolkit escapes command data.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value as GitHub's toolkit escapes command properties.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Where annotations' paths start from: the workspace GitHub gives the job.
pub fn workspace() -> Option<PathBuf> {
    std::env::var_os("GITHUB_WORKSPACE")
        .filter(|w| !w.is_empty())
        .map(PathBuf::from)
}

/// `path` relative to `workspace` when it is inside it, else as given, with `/`.
pub fn shown_path(path: &Path, workspace: Option<&Path>) -> String {
    let relative = workspace.and_then(|w| {
        let base = w.canonicalize().ok()?;
        let full = absolute(path)?;
        full.strip_prefix(&base).ok().map(Path::to_path_buf)
    });
    let shown = relative.unwrap_or_else(|| path.to_path_buf());
    let text = shown.display().to_string().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// `path` made absolute without resolving its last component (which may not exist).
fn absolute(path: &Path) -> Option<PathBuf> {
    let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.canonicalize().ok()?,
        None => std::env::current_dir().ok()?.canonicalize().ok()?,
    };
    Some(parent.join(path.file_name()?))
}

/// One annotation per spec problem (errors and warnings), at its line and column.
pub fn for_diagnostics(diagnostics: &[Located], workspace: Option<&Path>) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let problem = d.problem();
            let mut message = problem.message.clone();
            if let Some(help) = &problem.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            Annotation {
                level: if problem.is_warning() {
                    Level::Warning
                } else {
                    Level::Error
                },
                file: Some(shown_path(Path::new(d.file()), workspace)),
                at: d.position(),
                title: format!("harden::{}", problem.code.as_str()),
                message,
            }
            .render()
        })
        .collect()
}

/// One error per drifted file of the tree in `out`, with the command that brings it in line.
pub fn for_drifts(
    drifts: &[Drift],
    out: &Path,
    regenerate: &str,
    workspace: Option<&Path>,
) -> String {
    drifts
        .iter()
        .map(|drift| {
            let what = match drift {
                Drift::Changed { .. } => "differs from what the spec generates",
                Drift::ModeChanged { expected, .. } => match expected {
                    crate::output::FileMode::Executable => "should be executable",
                    crate::output::FileMode::Regular => "should not be executable",
                },
                Drift::Missing { .. } => "is generated but missing",
                Drift::Stale { .. } => "is no longer generated",
            };
            Annotation {
                level: Level::Error,
                file: Some(shown_path(&out.join(drift.path()), workspace)),
                at: None,
                title: "harden diff".into(),
                message: format!(
                    "{} {what}: run `{regenerate}` and commit the result, or change the spec if the edit was meant",
                    drift.path()
                ),
            }
            .render()
        })
        .collect()
}

/// One annotation per failed (error) or warned (warning) check, on the spec.
pub fn for_checks(report: &Report, spec: &Path, workspace: Option<&Path>) -> String {
    let file = shown_path(spec, workspace);
    report
        .checks
        .iter()
        .filter_map(|c| {
            let level = match c.status {
                Status::Fail => Level::Error,
                Status::Warn => Level::Warning,
                Status::Pass | Status::Skip => return None,
            };
            let mut message = c.detail.clone();
            if !c.hint.is_empty() {
                message.push_str(&format!("\nfix: {}", c.hint));
            }
            Some(
                Annotation {
                    level,
                    file: Some(file.clone()),
                    at: None,
                    title: format!("harden check: {}", c.name),
                    message,
                }
                .render(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_githubs_toolkit_does() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("100% a\r\nb: c, d"),
            "100%25 a%0D%0Ab%3A c%2C d"
        );
        let a = Annotation {
            level: Level::Warning,
            file: Some("deploy/hardening.toml".into()),
            at: Some((3, 7)),
            title: "harden::x, y".into(),
            message: "one\n::error::two".into(),
        };
        assert_eq!(
            a.render(),
            "::warning file=deploy/hardening.toml,line=3,col=7,title=harden%3A%3Ax%2C y::one%0A::error::two\n"
        );
    }
}
