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

/// Parses `expr` as PromQL (promql-parser), or recognises its shape as one
/// that already parsed; the error is promql-parser's message for `expr`.
pub fn check(expr: &str) -> Result<(), String> {
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
