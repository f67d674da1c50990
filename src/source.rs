//! Reading `hardening.toml`: TOML text → JSON value plus a span index.
//!
//! Everything after parsing speaks JSON pointers (`/service/0/slo/availability`):
//! the schema check reports them, the lowering reports them. The [`SpanIndex`]
//! turns a pointer back into the byte range of the key or the value in the
//! TOML text, so every diagnostic can underline the place it is about.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::{Map, Number, Value};
use toml::de::{DeTable, DeValue};

use crate::codes::Code;
use crate::diagnostics::{Label, Problem};

/// The spec file as read: its display name and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// Where one JSON pointer's key and value stand in the TOML text.
#[derive(Debug, Clone)]
struct Place {
    key: Option<Range<usize>>,
    value: Range<usize>,
    toml_type: &'static str,
}

/// JSON pointer → place in the TOML text.
#[derive(Debug, Default)]
pub struct SpanIndex {
    places: HashMap<String, Place>,
}

impl SpanIndex {
    /// The span of the key at `pointer`, else its value, else the nearest ancestor's.
    pub fn key_span(&self, pointer: &str) -> Range<usize> {
        self.nearest(pointer, |p| {
            p.key.clone().unwrap_or_else(|| p.value.clone())
        })
    }

    /// The span of the value at `pointer`, else the nearest ancestor's.
    pub fn value_span(&self, pointer: &str) -> Range<usize> {
        self.nearest(pointer, |p| p.value.clone())
    }

    /// The TOML type of the value at `pointer` (`string`, `integer`, `table`, …).
    pub fn toml_type(&self, pointer: &str) -> Option<&'static str> {
        self.places.get(pointer).map(|p| p.toml_type)
    }

    /// Whether the spec sets a value at `pointer`.
    pub fn contains(&self, pointer: &str) -> bool {
        self.places.contains_key(pointer)
    }

    fn nearest(&self, pointer: &str, pick: impl Fn(&Place) -> Range<usize>) -> Range<usize> {
        let mut p = pointer;
        loop {
            if let Some(place) = self.places.get(p) {
                return pick(place);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return 0..0,
            }
        }
    }
}

/// Appends one reference token to a JSON pointer (RFC 6901 escaping).
pub fn push_pointer(base: &str, token: &str) -> String {
    format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// Parses TOML text into a JSON value and the index of where each value stands.
/// Syntax errors come back all at once, each with its span.
pub fn parse(text: &str) -> Result<(Value, SpanIndex), Vec<Problem>> {
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| {
                if e.message().contains("recursion") {
                    return too_deep(text, e.span());
                }
                let span = e.span().unwrap_or(0..0);
                Problem::new(
                    Code::Syntax,
                    format!("invalid TOML: {}", first_line(e.message())),
                )
                .with_label(Label::span(span, "here"))
                .with_help("fix the TOML syntax; see https://toml.io for the format")
            })
            .collect());
    }
    let mut index = SpanIndex::default();
    let span = root.span();
    let value = table_to_json(root.get_ref(), "", &mut index, text);
    index.places.insert(
        String::new(),
        Place {
            key: None,
            value: span,
            toml_type: "table",
        },
    );
    Ok((value, index))
}

/// The TOML parser's recursion limit, reached by a key of too many dotted
/// parts (`a.b.c…`, a header or a key) or by nested arrays and inline tables.
/// The parser gives the place for the second, none for the first: then it
/// is the line whose key has the most parts, or that nests brackets deepest.
fn too_deep(text: &str, span: Option<Range<usize>>) -> Problem {
    let mut deepest = (0usize, 0..0);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let depth = nesting(line);
        if depth > deepest.0 {
            let trimmed = line.trim_end();
            let start = offset + (line.len() - line.trim_start().len());
            deepest = (depth, start..offset + trimmed.len());
        }
        offset += line.len();
    }
    Problem::new(
        Code::TooDeep,
        format!("this line nests {} levels deep: more than harden reads", deepest.0),
    )
    .with_label(Label::span(
        span.filter(|s| s.start > 0).unwrap_or(deepest.1),
        "nested too deeply",
    ))
    .with_help("a spec's tables nest a few levels at most; write this key with fewer dotted parts, or fewer nested arrays and tables")
}

/// How deep one line nests: the dots of its key, or its open brackets,
/// outside quoted strings.
fn nesting(line: &str) -> usize {
    let (mut dots, mut open, mut deepest) = (0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut in_value = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => break,
            (None, '=') => in_value = true,
            (None, '.') if !in_value || open > 0 => dots += 1,
            (None, '[' | '{') => {
                open += 1;
                deepest = deepest.max(open);
            }
            (None, ']' | '}') => open = open.saturating_sub(1),
            _ => {}
        }
    }
    // `a.b.c` is three levels.
    (dots + usize::from(dots > 0)).max(deepest)
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim_end()
}

fn table_to_json(table: &DeTable<'_>, pointer: &str, index: &mut SpanIndex, text: &str) -> Value {
    let mut map = Map::new();
    for (key, value) in table.iter() {
        let child = push_pointer(pointer, key.get_ref());
        let json = value_to_json(value.get_ref(), value.span(), &child, index, text);
        index.places.insert(
            child,
            Place {
                key: Some(key.span()),
                value: value.span(),
                toml_type: value.get_ref().type_str(),
            },
        );
        map.insert(key.get_ref().to_string(), json);
    }
    Value::Object(map)
}

fn value_to_json(
    value: &DeValue<'_>,
    span: Range<usize>,
    pointer: &str,
    index: &mut SpanIndex,
    text: &str,
) -> Value {
    match value {
        // A multi-line string's line breaks are what the file's are; a
        // CRLF file means the same as its LF copy (TOML lets a parser
        // normalise them).
        DeValue::String(s)
            if text
                .get(span)
                .is_some_and(|raw| raw.starts_with("\"\"\"") || raw.starts_with("'''")) =>
        {
            Value::String(s.replace("\r\n", "\n"))
        }
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(Value::from)
            // Out of i64 range: TOML forbids it; keep the digits so the
            // schema reports a wrong type at the right place.
            .unwrap_or_else(|_| Value::String(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.as_str().to_string())),
        DeValue::Boolean(b) => Value::Bool(*b),
        // A datetime is never valid in a spec: an object makes every
        // schema position that expects a scalar reject it.
        DeValue::Datetime(d) => {
            let mut m = Map::new();
            m.insert("$datetime".into(), Value::String(d.to_string()));
            Value::Object(m)
        }
        DeValue::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let child = push_pointer(pointer, &i.to_string());
                    let json = value_to_json(item.get_ref(), item.span(), &child, index, text);
                    index.places.insert(
                        child,
                        Place {
                            key: None,
                            value: item.span(),
                            toml_type: item.get_ref().type_str(),
                        },
                    );
                    json
                })
                .collect(),
        ),
        DeValue::Table(t) => table_to_json(t, pointer, index, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_map_back_to_keys_and_values() {
        let text = "[project]\nname = \"x\"\n\n[[service]]\nname = \"api\"\nport = 5001\n";
        let (json, index) = parse(text).expect("valid TOML");
        assert_eq!(json["service"][0]["port"], 5001);
        let key = index.key_span("/service/0/port");
        assert_eq!(&text[key], "port");
        let value = index.value_span("/service/0/port");
        assert_eq!(&text[value], "5001");
        // A missing key falls back to its table's header.
        let fallback = index.key_span("/service/0/missing");
        assert_eq!(&text[fallback], "[[service]]");
    }

    #[test]
    fn syntax_errors_are_all_reported_with_spans() {
        let errors = parse("a = \nb = = 2\n").expect_err("invalid TOML");
        assert!(!errors.is_empty());
    }

    #[test]
    fn a_key_too_deep_is_reported_at_its_line() {
        let text = format!(
            "[project]\nname = \"x\"\n\n{} = 1\n",
            vec!["a"; 5000].join(".")
        );
        let errors = parse(&text).expect_err("too deep");
        assert_eq!(errors[0].code, Code::TooDeep);
        let Some(Label {
            at: crate::diagnostics::At::Span(span),
            ..
        }) = errors[0].labels.first()
        else {
            panic!("no span");
        };
        assert_eq!(span.start, text.find("a.a").expect("key"));
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(push_pointer("/a", "b/c~d"), "/a/b~1c~0d");
    }
}
