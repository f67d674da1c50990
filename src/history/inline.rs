//! Recording rules inlined into the expressions that read them.
//!
//! A recording rule's series exist only from when a Prometheus started
//! recording it: an alert that reads `slo:sli_error:ratio_rate1h` has no
//! history to replay before that. So each selector of a recorded series is
//! replaced by the rule's own expression, with the labels the rule sets
//! added as Prometheus adds them (`label_replace` with an empty source,
//! which sets the label on every series), recursively: the expression then
//! reads only scraped series, which the TSDB holds for the whole history.
//!
//! What Prometheus does and the inlined query does not: a recorded series
//! holds the value of the rule group's last evaluation, so an alert reads
//! it up to one interval late; the inlined expression is evaluated at the
//! alert's own instant. The two differ by less than one evaluation.
//!
//! Refused (an error naming the rule): a range or offset over a recorded
//! series (`rate(rec[5m])`, `rec offset 1h`), which needs the recorded
//! history itself, and a matcher on a label the rule does not set.

use std::collections::BTreeMap;

use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, VectorSelector};

use crate::vocab::promql_str;

/// A recording rule: the series it records and how.
#[derive(Debug, Clone)]
pub struct Recording {
    pub name: String,
    /// The labels the rule sets on every series it records.
    pub labels: Vec<(String, String)>,
    pub expr: String,
}

/// Recording rules by the name they record, several rules for one name
/// (one per service) told apart by their labels.
pub struct Inliner<'a> {
    by_name: BTreeMap<&'a str, Vec<&'a Recording>>,
}

/// Recording rules that read recording rules, this deep at most (a cycle
/// would never end).
const MAX_DEPTH: usize = 8;

impl<'a> Inliner<'a> {
    pub fn new(rules: &'a [Recording]) -> Inliner<'a> {
        let mut by_name: BTreeMap<&str, Vec<&Recording>> = BTreeMap::new();
        for r in rules {
            by_name.entry(r.name.as_str()).or_default().push(r);
        }
        Inliner { by_name }
    }

    /// `expr` reading only what Prometheus scraped.
    pub fn inline(&self, expr: &str) -> Result<String, String> {
        self.inline_at(expr, 0)
    }

    /// The series `name{labels}` as the expression that records it.
    pub fn recorded(&self, name: &str, labels: &[(String, String)]) -> Result<String, String> {
        let rule = self
            .by_name
            .get(name)
            .and_then(|rules| rules.iter().find(|r| r.labels == labels))
            .ok_or_else(|| format!("no recording rule records {name} with labels {labels:?}"))?;
        self.rule(rule, 0)
    }

    fn rule(&self, rule: &Recording, depth: usize) -> Result<String, String> {
        let mut text = format!("({})", self.inline_at(&rule.expr, depth + 1)?);
        for (label, value) in &rule.labels {
            text = format!(
                "label_replace({text}, \"{}\", \"{}\", \"\", \"\")",
                promql_str(label),
                promql_str(value)
            );
        }
        Ok(text)
    }

    fn inline_at(&self, expr: &str, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "recording rules read each other more than {MAX_DEPTH} deep (a cycle?) in {expr}"
            ));
        }
        let ast =
            promql_parser::parser::parse(expr).map_err(|e| format!("{expr} is not PromQL: {e}"))?;
        let mut expected = 0;
        self.count(&ast, &mut expected)?;
        let (bytes, mut out) = (expr.as_bytes(), String::new());
        let (mut i, mut copied, mut found) = (0, 0, 0);
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'#' {
                i = skip_to(bytes, i, b'\n');
            } else if matches!(b, b'"' | b'\'' | b'`') {
                i = skip_string(bytes, i);
            } else if b == b'{' {
                i = skip_braces(bytes, i);
            } else if b.is_ascii_digit() {
                i = word_end(bytes, i);
            } else if b.is_ascii_alphabetic() || b == b'_' || b == b':' {
                let end = word_end(bytes, i);
                let word = &expr[i..end];
                let Some(rules) = self.by_name.get(word) else {
                    i = end;
                    continue;
                };
                let mut close = end;
                while close < bytes.len() && bytes[close].is_ascii_whitespace() {
                    close += 1;
                }
                let close = if bytes.get(close) == Some(&b'{') {
                    skip_braces(bytes, close)
                } else {
                    end
                };
                let selector = &expr[i..close];
                out.push_str(&expr[copied..i]);
                out.push_str(&self.replace(selector, rules, depth)?);
                copied = close;
                found += 1;
                i = close;
            } else {
                i += 1;
            }
        }
        out.push_str(&expr[copied..]);
        if found != expected {
            return Err(format!(
                "cannot inline the recording rules read by {expr}: found {found} of its {expected} recorded selectors"
            ));
        }
        Ok(out)
    }

    /// The series `selector` picks, as their rules' expressions.
    fn replace(
        &self,
        selector: &str,
        rules: &[&Recording],
        depth: usize,
    ) -> Result<String, String> {
        let Ok(Expr::VectorSelector(vs)) = promql_parser::parser::parse(selector) else {
            return Err(format!("{selector} is not a series selector"));
        };
        if !vs.matchers.or_matchers.is_empty() {
            return Err(format!(
                "{selector}: `or` in a selector of a recorded series cannot be inlined"
            ));
        }
        let mut parts = Vec::new();
        'rules: for rule in rules {
            for m in &vs.matchers.matchers {
                if m.name == "__name__" {
                    continue;
                }
                let Some((_, value)) = rule.labels.iter().find(|(l, _)| *l == m.name) else {
                    return Err(format!(
                        "{selector}: a matcher on `{}`, a label the recording rule does not set, cannot be inlined",
                        m.name
                    ));
                };
                if !m.is_match(value) {
                    continue 'rules;
                }
            }
            parts.push(self.rule(rule, depth)?);
        }
        Ok(match parts.len() {
            // Selects nothing, as the selector of a series nobody records.
            0 => "(vector(0) < 0)".to_string(),
            1 => parts.remove(0),
            _ => format!("({})", parts.join(" or ")),
        })
    }

    /// The recorded series `vs` selects, by name or by `__name__`.
    fn selects<'v>(&self, vs: &'v VectorSelector) -> Option<&'v str> {
        vs.name
            .as_deref()
            .filter(|n| self.by_name.contains_key(n))
            .or_else(|| {
                vs.matchers.matchers.iter().find_map(|m| {
                    (m.name == "__name__"
                        && matches!(m.op, MatchOp::Equal)
                        && self.by_name.contains_key(m.value.as_str()))
                    .then_some(m.value.as_str())
                })
            })
    }

    /// Counts the selectors of recorded series in `e`; refuses what
    /// inlining cannot keep.
    fn count(&self, e: &Expr, n: &mut usize) -> Result<(), String> {
        match e {
            Expr::VectorSelector(vs) => {
                if let Some(name) = self.selects(vs) {
                    if vs.name.is_none() {
                        return Err(format!(
                            "{e}: select {name} by its name, not `__name__`, to replay it"
                        ));
                    }
                    if vs.offset.is_some() || vs.at.is_some() {
                        return Err(format!(
                            "{e}: an offset or @ on the recorded series {name} needs its recorded history"
                        ));
                    }
                    *n += 1;
                }
            }
            Expr::MatrixSelector(ms) => {
                if let Some(name) = self.selects(&ms.vs) {
                    return Err(format!(
                        "{e}: a range of the recorded series {name} needs its recorded history"
                    ));
                }
            }
            Expr::Aggregate(a) => {
                self.count(&a.expr, n)?;
                if let Some(p) = &a.param {
                    self.count(p, n)?;
                }
            }
            Expr::Unary(u) => self.count(&u.expr, n)?,
            Expr::Binary(b) => {
                self.count(&b.lhs, n)?;
                self.count(&b.rhs, n)?;
            }
            Expr::Paren(p) => self.count(&p.expr, n)?,
            Expr::Subquery(s) => self.count(&s.expr, n)?,
            Expr::Call(c) => {
                for a in &c.args.args {
                    self.count(a, n)?;
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
        Ok(())
    }
}

/// The index after the next `stop` (or the end).
fn skip_to(bytes: &[u8], from: usize, stop: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == stop)
        .map_or(bytes.len(), |p| from + p + 1)
}

/// The index after the string literal opening at `from`.
fn skip_string(bytes: &[u8], from: usize) -> usize {
    let quote = bytes[from];
    let mut i = from + 1;
    while i < bytes.len() && bytes[i] != quote {
        i += if bytes[i] == b'\\' && quote != b'`' {
            2
        } else {
            1
        };
    }
    (i + 1).min(bytes.len())
}

/// The index after the `}` closing the `{` at `from`, strings skipped.
fn skip_braces(bytes: &[u8], from: usize) -> usize {
    let mut i = from + 1;
    while i < bytes.len() && bytes[i] != b'}' {
        i = if matches!(bytes[i], b'"' | b'\'' | b'`') {
            skip_string(bytes, i)
        } else {
            i + 1
        };
    }
    (i + 1).min(bytes.len())
}

/// The end of a name or number starting at `from`.
fn word_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b':' | b'.'))
    {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, labels: &[(&str, &str)], expr: &str) -> Recording {
        Recording {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            expr: expr.into(),
        }
    }

    #[test]
    fn a_selector_becomes_the_rule_with_its_labels_recursively() {
        let rules = [
            rec(
                "r:a",
                &[("service", "api")],
                "sum(rate(x{job=\"api\"}[5m]))",
            ),
            rec(
                "r:a",
                &[("service", "web")],
                "sum(rate(x{job=\"web\"}[5m]))",
            ),
            rec(
                "r:b",
                &[("service", "api")],
                "1 - r:a{service=\"api\"} / 0.1",
            ),
        ];
        let i = Inliner::new(&rules);
        assert_eq!(
            i.inline("r:a{service=\"web\"} > 2").unwrap(),
            "label_replace((sum(rate(x{job=\"web\"}[5m]))), \"service\", \"web\", \"\", \"\") > 2"
        );
        let b = i
            .inline("r:b{service=~\"a.*\"} < 0 and up{job=\"r:a\"}")
            .unwrap();
        assert_eq!(
            b,
            "label_replace((1 - label_replace((sum(rate(x{job=\"api\"}[5m]))), \"service\", \"api\", \"\", \"\") / 0.1), \"service\", \"api\", \"\", \"\") < 0 and up{job=\"r:a\"}"
        );
        assert!(promql_parser::parser::parse(&b).is_ok());
        // Both services' rules, or none.
        assert!(i.inline("r:a").unwrap().contains(") or label_replace("));
        assert_eq!(i.inline("r:a{service=\"db\"}").unwrap(), "(vector(0) < 0)");
    }

    #[test]
    fn what_needs_recorded_history_is_refused() {
        let rules = [rec("r:a", &[("service", "api")], "sum(x)")];
        let i = Inliner::new(&rules);
        for e in [
            "rate(r:a[5m])",
            "r:a offset 1h",
            "r:a{instance=\"x\"}",
            "{__name__=\"r:a\"}",
        ] {
            assert!(i.inline(e).is_err(), "{e}");
        }
        let cycle = [rec("r:a", &[], "r:a + 1")];
        assert!(
            Inliner::new(&cycle)
                .inline("r:a")
                .unwrap_err()
                .contains("deep")
        );
    }
}
