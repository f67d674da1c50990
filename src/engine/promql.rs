//! The PromQL check every emitted expression passes, parsed once per shape.
//!
//! Emitters generate the same expressions for every service, differing only
//! in label values (`service="api"` vs `service="web"`). Parsing is the cost
//! (promql-parser compiles the regex of every `=~` matcher, per expression),
//! so [`check`] parses each distinct *shape* once: the expression with the
//! value of every plain equality matcher (`label="v"`, `label!="v"`, inside
//! braces, non-empty, no escapes, no line break) replaced by a fixed one.
//! Such a value cannot change whether the expression parses: the lexer
//! accepts any character but the quote, `\` and line breaks in it, and the
//! parser looks only at whether it is empty (a selector needs one matcher
//! that does not match ""). Regex matchers, quoted label and metric names,
//! function arguments and numbers stay in the shape as written.
//!
//! On a miss the expression itself is parsed (so an error is always
//! promql-parser's message for it) and its shape remembered when it parses.
//! The shape is not parsed as well: for App-Oint, where every shape is new,
//! that doubled the cost. The test below checks the claim on the shapes the
//! emitters produce.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

/// Shapes already parsed successfully in this process.
static VALID_SHAPES: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// The longest PromQL expression a spec may write, in bytes: about a
/// thousand terms, which promql-parser reads in milliseconds (its time
/// grows faster than the length: 4,000 terms take 0.17 s, 80,000 minutes).
pub const MAX_EXPR_BYTES: usize = 4096;
/// The deepest nesting of `(`, `[` and `{` a spec's PromQL may have:
/// promql-parser recurses once per level, and 70,000 levels overflow the
/// stack.
pub const MAX_EXPR_DEPTH: usize = 32;

/// Why an expression is refused before it is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// Longer than the limit; its length in bytes.
    TooLong(usize),
    /// Nested deeper than the limit; the byte offset where it does.
    TooDeep(usize),
}

/// Whether `expr` is within `max_depth`, then `max_bytes`: a linear scan,
/// quoted strings and comments skipped, run before any parser recursion.
pub fn bounded(expr: &str, max_bytes: usize, max_depth: usize) -> Result<(), Bound> {
    let bytes = expr.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' && quote != b'`' {
                        2
                    } else {
                        1
                    };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Err(Bound::TooDeep(i));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    if expr.len() > max_bytes {
        return Err(Bound::TooLong(expr.len()));
    }
    Ok(())
}

/// Parses `expr` as PromQL (promql-parser), or recognises its shape as one
/// that already parsed; the error is promql-parser's message for `expr`.
/// An expression past the bounds (generous ones: emitted expressions wrap
/// a spec's within a few levels) is refused unparsed.
pub fn check(expr: &str) -> Result<(), String> {
    match bounded(expr, 4 * MAX_EXPR_BYTES, 2 * MAX_EXPR_DEPTH) {
        Err(Bound::TooLong(n)) => return Err(format!("the expression is {n} bytes long")),
        Err(Bound::TooDeep(_)) => return Err("the expression nests too deeply".to_string()),
        Ok(()) => {}
    }
    let shape = shape(expr);
    let known = |shape: &str| {
        VALID_SHAPES
            .lock()
            .map(|set| set.contains(shape))
            .unwrap_or(false)
    };
    if known(&shape) {
        return Ok(());
    }
    promql_parser::parser::parse(expr)?;
    if let Ok(mut set) = VALID_SHAPES.lock() {
        set.insert(shape);
    }
    Ok(())
}

/// `expr` with every plain equality-matcher value replaced by `x`.
fn shape(expr: &str) -> String {
    let bytes = expr.as_bytes();
    let mut out = String::with_capacity(expr.len());
    let mut depth = 0usize;
    let mut copied = 0; // bytes of expr already in out
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                // A comment runs to the end of the line.
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            quote @ (b'"' | b'\'' | b'`') => {
                let start = i + 1;
                let mut end = start;
                let mut plain = true;
                while end < bytes.len() && bytes[end] != quote {
                    if bytes[end] == b'\\' && quote != b'`' {
                        plain = false;
                        end += 1; // the escaped character cannot close the string
                    } else if matches!(bytes[end], b'\\' | b'\n' | b'\r') {
                        plain = false;
                    }
                    end += 1;
                }
                if end >= bytes.len() {
                    // Unterminated: leave the rest as it is.
                    break;
                }
                if plain && end > start && depth > 0 && after_equality(&bytes[..i]) {
                    out.push_str(&expr[copied..start]);
                    out.push('x');
                    copied = end;
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out.push_str(&expr[copied..]);
    out
}

/// Whether `before` ends (ignoring whitespace) in a matcher's `=` or `!=`,
/// not `==`, `<=`, `>=` or `=~`.
fn after_equality(before: &[u8]) -> bool {
    let trimmed = before.trim_ascii_end();
    match trimmed.split_last() {
        Some((b'=', rest)) => !matches!(rest.last(), Some(b'=' | b'<' | b'>')),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_length_are_bounded_before_parsing() {
        let deep = format!("{}1{}", "(".repeat(70_000), ")".repeat(70_000));
        assert!(matches!(
            bounded(&deep, usize::MAX, MAX_EXPR_DEPTH),
            Err(Bound::TooDeep(32))
        ));
        assert!(check(&deep).is_err(), "refused, not a stack overflow");
        let long = format!("1{}", " + 1".repeat(80_000));
        assert_eq!(
            bounded(&long, MAX_EXPR_BYTES, MAX_EXPR_DEPTH),
            Err(Bound::TooLong(long.len()))
        );
        // Brackets in strings and comments do not count.
        let quoted = format!("x{{a=\"{}\"}} # {}", "(".repeat(100), "[".repeat(100));
        assert_eq!(bounded(&quoted, MAX_EXPR_BYTES, MAX_EXPR_DEPTH), Ok(()));
    }

    #[test]
    fn shape_replaces_plain_equality_values_only() {
        assert_eq!(
            shape(r#"sum(rate(http_requests_total{job="api", status=~"5..", env != 'prod'}[5m]))"#),
            r#"sum(rate(http_requests_total{job="x", status=~"5..", env != 'x'}[5m]))"#
        );
        // Empty values, escapes, quoted names and strings outside braces stay.
        for expr in [
            r#"up{job=""}"#,
            r#"up{job="a\"b"}"#,
            r#"{"some.metric", "label"="v"}"#,
            r#"label_replace(up, "dst", "$1", "src", "(.*)")"#,
            r#"up == 1"#,
        ] {
            let expected = expr.replace(r#""label"="v""#, r#""label"="x""#);
            assert_eq!(shape(expr), expected, "{expr}");
        }
        // A quote in a comment does not open a string.
        assert_eq!(shape("up{a=\"b\"} # it's\n"), "up{a=\"x\"} # it's\n");
    }

    #[test]
    fn valid_and_invalid_expressions_are_told_apart_with_the_cache_warm() {
        let good = r#"sum(rate(m_total{service="one",code=~"5.."}[5m]))"#;
        assert!(check(good).is_ok());
        // Same shape, other value: valid from the cache.
        assert!(check(&good.replace("one", "two")).is_ok());
        // A broken regex, an empty selector and a syntax error are still errors.
        assert!(check(r#"sum(rate(m_total{service="one",code=~"5.(("}[5m]))"#).is_err());
        assert!(check(r#"{service=""}"#).is_err());
        assert!(check(r#"{service="one"}"#).is_ok());
        assert!(check(r#"{service="two"}"#).is_ok());
        assert!(check(r#"{service="a\q"}"#).is_err());
        assert!(check(r#"sum(rate(m_total{service="one"}[5m])"#).is_err());
    }

    #[test]
    fn the_shape_of_every_emitted_expression_parses() {
        // The emitted rules of the example: each expression and its shape
        // parse alike, so caching by shape never accepts a broken expression.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/app-oint/prometheus/rules/api.yml"
        );
        let text = std::fs::read_to_string(path).expect("example rules");
        let rules: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let mut checked = 0;
        for group in rules["groups"].as_array().expect("groups") {
            for rule in group["rules"].as_array().expect("rules") {
                let expr = rule["expr"].as_str().expect("expr");
                assert!(promql_parser::parser::parse(expr).is_ok(), "{expr}");
                let shape = shape(expr);
                assert!(promql_parser::parser::parse(&shape).is_ok(), "{shape}");
                checked += 1;
            }
        }
        assert!(checked > 10, "only {checked} expressions found");
    }
}
