//! The report `harden check` prints: checks, a summary, three formats.

use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
    /// Passed, with a warning (such as a spec warning): not a failure.
    Warn,
}

/// Where a check looked: the tree on disk or the running system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Static,
    Live,
}

/// One check: its name, outcome, what was found and how to fix it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub kind: Kind,
    pub status: Status,
    pub detail: String,
    /// What to do when the check fails (or why it was skipped).
    pub hint: String,
}

impl Check {
    pub fn pass(kind: Kind, name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            kind,
            status: Status::Pass,
            detail: detail.into(),
            hint: String::new(),
        }
    }

    pub fn fail(
        kind: Kind,
        name: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            kind,
            status: Status::Fail,
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    pub fn warn(
        kind: Kind,
        name: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            kind,
            status: Status::Warn,
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    pub fn skip(
        kind: Kind,
        name: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            kind,
            status: Status::Skip,
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    /// A pass when `problems` is empty, else a failure listing them.
    pub fn from_problems(
        kind: Kind,
        name: impl Into<String>,
        ok: impl Into<String>,
        problems: Vec<String>,
        hint: impl Into<String>,
    ) -> Check {
        if problems.is_empty() {
            Check::pass(kind, name, ok)
        } else {
            Check::fail(kind, name, problems.join("; "), hint)
        }
    }
}

/// Counts over a report's checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Checks that passed with a warning (counted in `passed` too).
    pub warnings: usize,
    /// Passed checks as a percentage of the checks that ran (skipped ones
    /// left out), rounded down to one decimal place: `"97.5"`. `"100.0"`
    /// when nothing ran.
    pub success_rate: String,
}

/// Every check of one `harden check` run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub project: String,
    pub spec: String,
    pub out: String,
    pub live: bool,
    pub summary: Summary,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(project: &str, spec: &str, out: &str, live: bool, checks: Vec<Check>) -> Report {
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        let warnings = count(Status::Warn);
        let (passed, failed, skipped) = (
            count(Status::Pass) + warnings,
            count(Status::Fail),
            count(Status::Skip),
        );
        let ran = passed + failed;
        let permille = (passed * 1000).checked_div(ran).unwrap_or(1000);
        Report {
            project: project.to_string(),
            spec: spec.to_string(),
            out: out.to_string(),
            live,
            summary: Summary {
                total: checks.len(),
                passed,
                failed,
                skipped,
                warnings,
                success_rate: format!("{}.{}", permille / 10, permille % 10),
            },
            checks,
        }
    }

    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn to_markdown(&self) -> String {
        let s = &self.summary;
        let mut out = String::new();
        out.push_str(&format!(
            "# {} Production Hardening Report\n\n",
            md(&self.project)
        ));
        out.push_str(&format!("**Spec:** `{}`  \n", self.spec));
        out.push_str(&format!("**Files:** `{}`  \n", self.out));
        out.push_str(&format!(
            "**Checks:** {}  \n",
            if self.live {
                "static and live"
            } else {
                "static (run with `--live` to check the running system)"
            }
        ));
        out.push_str(&format!("**Total:** {}  \n", s.total));
        out.push_str(&format!("**Passed:** {}  \n", s.passed));
        out.push_str(&format!("**Failed:** {}  \n", s.failed));
        out.push_str(&format!("**Skipped:** {}  \n", s.skipped));
        if s.warnings > 0 {
            out.push_str(&format!("**Warnings:** {}  \n", s.warnings));
        }
        out.push_str(&format!("**Success rate:** {}%\n", s.success_rate));
        let failed: Vec<&Check> = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .collect();
        if !failed.is_empty() {
            out.push_str("\n## Failed checks\n\n");
            for c in &failed {
                out.push_str(&format!("- **{}**: {}\n", md(&c.name), md(&c.detail)));
            }
        }
        for (kind, title) in [(Kind::Static, "Static checks"), (Kind::Live, "Live checks")] {
            let checks: Vec<&Check> = self.checks.iter().filter(|c| c.kind == kind).collect();
            if checks.is_empty() {
                continue;
            }
            out.push_str(&format!("\n## {title}\n"));
            for c in checks {
                let (icon, label) = match c.status {
                    Status::Pass => ("✅", "PASS"),
                    Status::Fail => ("❌", "FAIL"),
                    Status::Skip => ("⏭️", "SKIP"),
                    Status::Warn => ("⚠️", "WARN"),
                };
                out.push_str(&format!("\n### {icon} {}\n\n", md(&c.name)));
                out.push_str(&format!("**Status:** {label}  \n"));
                out.push_str(&format!("**Details:** {}", md(&c.detail)));
                if c.status != Status::Pass && !c.hint.is_empty() {
                    out.push_str(&format!("  \n**Fix:** {}", md(&c.hint)));
                }
                out.push('\n');
            }
        }
        out
    }

    pub fn to_junit(&self) -> String {
        let s = &self.summary;
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuites name=\"harden check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            s.total, s.failed, s.skipped
        ));
        for kind in [Kind::Static, Kind::Live] {
            let checks: Vec<&Check> = self.checks.iter().filter(|c| c.kind == kind).collect();
            if checks.is_empty() {
                continue;
            }
            let suite = match kind {
                Kind::Static => "static",
                Kind::Live => "live",
            };
            let count = |st: Status| checks.iter().filter(|c| c.status == st).count();
            out.push_str(&format!(
                "  <testsuite name=\"{}.{suite}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
                xml(&self.project),
                checks.len(),
                count(Status::Fail),
                count(Status::Skip)
            ));
            for c in checks {
                let open = format!(
                    "    <testcase classname=\"{}.{suite}\" name=\"{}\"",
                    xml(&self.project),
                    xml(&c.name)
                );
                match c.status {
                    Status::Pass => out.push_str(&format!(
                        "{open}>\n      <system-out>{}</system-out>\n    </testcase>\n",
                        xml(&c.detail)
                    )),
                    // JUnit has no warnings: a pass that says so.
                    Status::Warn => out.push_str(&format!(
                        "{open}>\n      <system-out>warning: {} (fix: {})</system-out>\n    </testcase>\n",
                        xml(&c.detail),
                        xml(&c.hint)
                    )),
                    Status::Fail => out.push_str(&format!(
                        "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        xml(&c.detail),
                        xml(&c.hint)
                    )),
                    Status::Skip => out.push_str(&format!(
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        xml(&c.detail)
                    )),
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

/// Markdown text on one line: newlines folded, so a detail cannot start a
/// heading or break the layout.
fn md(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if (c as u32) < 0x20 && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rate_leaves_skipped_out_and_rounds_down() {
        let checks = vec![
            Check::pass(Kind::Static, "a", ""),
            Check::pass(Kind::Static, "b", ""),
            Check::fail(Kind::Static, "c", "", ""),
            Check::skip(Kind::Live, "d", "", ""),
        ];
        let r = Report::new("p", "s", "o", false, checks);
        assert_eq!(r.summary.success_rate, "66.6");
        assert_eq!((r.summary.total, r.summary.skipped), (4, 1));
        assert!(r.has_failures());
    }

    #[test]
    fn junit_escapes_names_and_details() {
        let r = Report::new(
            "p",
            "s",
            "o",
            false,
            vec![Check::fail(Kind::Static, "a<b>", "x \"y\" & z", "fix")],
        );
        let xml = r.to_junit();
        assert!(xml.contains("name=\"a&lt;b&gt;\""), "{xml}");
        assert!(xml.contains("message=\"x &quot;y&quot; &amp; z\""), "{xml}");
    }
}
