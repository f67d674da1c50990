//! `harden import sloth|openslo FILE…`: another tool's SLO specs as the
//! `[[service]]`/`[[service.slo]]` tables of a hardening.toml. Each format's
//! reader (`sloth.rs`, `openslo.rs`) fills one [`Import`]; `toml_out.rs`
//! prints it. Whatever a file says that harden cannot express is a
//! [`Note`] (printed on standard error, never dropped), and so is every key
//! a reader does not know (`doc.rs`).

mod doc;
pub mod openslo;
pub mod sloth;
mod toml_out;

use std::collections::BTreeMap;

use crate::model::WINDOW_PLACEHOLDER;
use crate::units::Decimal;

pub use doc::Doc;
pub use toml_out::print;

/// Everything read from the files, in their order.
#[derive(Debug, Default)]
pub struct Import {
    pub services: Vec<Service>,
    pub notes: Vec<Note>,
}

impl Import {
    /// The service named `name`, added after the others when new: SLOs of
    /// one service in several files or documents stay under one `[[service]]`.
    pub fn service(&mut self, name: &str) -> &mut Service {
        let i = match self.services.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.services.push(Service {
                    name: name.to_string(),
                    slos: Vec::new(),
                });
                self.services.len() - 1
            }
        };
        &mut self.services[i]
    }

    /// Whether anything was left out or changed in meaning (exit 1).
    pub fn incomplete(&self) -> bool {
        self.notes.iter().any(|n| n.kind == NoteKind::NotImported)
    }

    /// `written` as a name harden accepts ([`dns_label`]), noting the change.
    pub fn name(&mut self, written: &str, at: String) -> String {
        let name = dns_label(written);
        if name != written {
            self.note(
                NoteKind::Changed,
                at,
                format!("`{written}` is `{name}` in harden (a lowercase DNS label)"),
            );
        }
        name
    }

    pub fn note(&mut self, kind: NoteKind, at: String, message: impl Into<String>) {
        self.notes.push(Note {
            kind,
            at,
            message: message.into(),
        });
    }
}

/// One `[[service]]`: its name and its SLOs.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub slos: Vec<Slo>,
}

/// One `[[service.slo]]`, as harden's spec writes it.
#[derive(Debug, Default)]
pub struct Slo {
    /// Comment lines above the table: where it came from, its description.
    pub comments: Vec<String>,
    pub name: String,
    /// `99.9%`.
    pub objective: String,
    /// `28d`; `None` is harden's default (30d).
    pub window: Option<String>,
    pub ratio: Ratio,
    /// The burn-rate tiers when they differ from harden's default ones.
    pub tiers: Option<Vec<Tier>>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A ratio SLI: bad (or good) events and all events, `$window` in their ranges.
#[derive(Debug, Default)]
pub struct Ratio {
    /// `true`: `events` counts good events.
    pub good: bool,
    pub events: String,
    pub total: String,
}

/// One burn-rate tier, as `tiers` writes it.
#[derive(Debug, Clone)]
pub struct Tier {
    /// `page` or `ticket`.
    pub alert: &'static str,
    pub long: String,
    pub short: String,
    /// `budget_consumed = "2%"` or `factor = 14.4`, written as is.
    pub share: Share,
    pub severity: Option<String>,
    pub for_: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub enum Share {
    Consumed(&'static str),
    Factor(String),
}

/// harden's default tiers (the SRE workbook's), for a file that changes
/// one of them (a severity, a disabled alert).
pub fn default_tiers() -> Vec<Tier> {
    [
        ("page", "1h", "5m", "2%"),
        ("page", "6h", "30m", "5%"),
        ("ticket", "1d", "2h", "10%"),
        ("ticket", "3d", "6h", "10%"),
    ]
    .into_iter()
    .map(|(alert, long, short, consumed)| Tier {
        alert,
        long: long.to_string(),
        short: short.to_string(),
        share: Share::Consumed(consumed),
        severity: None,
        for_: None,
        enabled: true,
    })
    .collect()
}

/// Something a file says that the printed tables do not, or say otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: NoteKind,
    /// `file.yml: slos[0].sli.plugin`.
    pub at: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Expressed, differently: a name harden fixes, a default it keeps.
    Changed,
    /// Left out: the tables do not say it (exit 1).
    NotImported,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            NoteKind::Changed => "note",
            NoteKind::NotImported => "not imported",
        };
        write!(f, "{what}: {}: {}", self.at, self.message)
    }
}

/// Why a file could not be read at all (exit 2, nothing printed).
#[derive(Debug)]
pub struct ReadError(pub String);

/// Sloth's window variable (`{{.window}}`, spaces allowed inside the
/// braces) as harden's `$window`.
pub fn window_placeholder(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) if after[..end].trim() == ".window" => {
                out.push_str(&rest[..start]);
                out.push_str(WINDOW_PLACEHOLDER);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// PromQL on one line: runs of whitespace outside quoted strings become one
/// space. An expression with a `#` comment is kept as written (the comment
/// would swallow what follows it).
pub fn one_line(query: &str) -> String {
    let trimmed = query.trim();
    let mut out = String::with_capacity(trimmed.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut space = false;
    for c in trimmed.chars() {
        if let Some(q) = quote {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c == '#' {
            return trimmed.to_string();
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            // No space just inside brackets: `( x )` reads `(x)`.
            if !out.ends_with(['(', '[', '{']) && !matches!(c, ')' | ']' | '}') {
                out.push(' ');
            }
            space = false;
        }
        if matches!(c, '"' | '\'' | '`') {
            quote = Some(c);
        }
        out.push(c);
    }
    out
}

/// A name harden accepts (a lowercase DNS label), and whether it differs
/// from the one given: `Requests_OK` becomes `requests-ok`.
pub fn dns_label(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_string();
    out.truncate(63);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "imported".to_string()
    } else {
        out
    }
}

/// Whether `key = value` can be an extra alert label or annotation: a
/// Prometheus label name, and one line of at most 200 characters (the
/// spec's `Text`).
pub fn plain_pair(key: &str, value: &str) -> bool {
    let mut chars = key.chars();
    let name = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    name && !value.is_empty()
        && value.chars().count() <= 200
        && !value.chars().any(|c| c.is_control())
}

/// A percentage from a number as YAML wrote it, times `scale` (100 for an
/// OpenSLO ratio, 1 for Sloth's percent): `0.999` → `99.9%`. `None` when
/// it is not a plain decimal.
pub fn percent_text(number: &serde_json::Value, scale: u64) -> Option<String> {
    let text = match number {
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let d = Decimal::parse(&text).ok()?;
    let p = d.checked_mul(Decimal::from_int(scale))?;
    Some(format!("{p}%"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sloth_window_variables_become_dollar_window() {
        assert_eq!(
            window_placeholder("sum(rate(x[{{.window}}])) / sum(rate(y[{{ .window }}]))"),
            "sum(rate(x[$window])) / sum(rate(y[$window]))"
        );
        assert_eq!(window_placeholder("{{.other}} {{"), "{{.other}} {{");
    }

    #[test]
    fn queries_fold_onto_one_line_outside_strings() {
        assert_eq!(
            one_line("(\n  sum(rate(x{a=\"b  c\"}[5m]))\n  -\n  1\n)\n"),
            "(sum(rate(x{a=\"b  c\"}[5m])) - 1)"
        );
        assert_eq!(one_line("x # note\n+ 1"), "x # note\n+ 1");
    }

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("Requests_OK"), "requests-ok");
        assert_eq!(dns_label("__"), "imported");
        assert_eq!(dns_label("k8s-apiserver"), "k8s-apiserver");
    }

    #[test]
    fn percentages_are_exact() {
        let n = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(percent_text(&n("0.999"), 100).as_deref(), Some("99.9%"));
        assert_eq!(percent_text(&n("99.95"), 1).as_deref(), Some("99.95%"));
        assert_eq!(percent_text(&n("\"x\""), 1), None);
    }
}
