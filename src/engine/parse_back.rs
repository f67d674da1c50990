//! The parse-back check every emitted YAML and JSON file passes before it is
//! accepted: a template bug (or a user's template override) is an error at
//! generation time rather than at deploy time.
//!
//! YAML is read with libyaml's parser (`libyaml-safer`, a safe Rust port of
//! the reference C implementation that Go's yaml packages and PyYAML are
//! also derived from), as events, plus a check that no mapping repeats a key:
//! libyaml accepts a repeated key, and Prometheus, Kubernetes and Compose
//! reject one. Reading events and building nothing is what makes it fast; the
//! check does not need the values.

use std::collections::HashSet;

use libyaml_safer::{EventData, Parser};

/// The format a file is parsed back in, from its extension.
pub fn format_of(path: &str) -> Option<&'static str> {
    if path.ends_with(".yml") || path.ends_with(".yaml") {
        Some("YAML")
    } else if path.ends_with(".json") {
        Some("JSON")
    } else {
        None
    }
}

/// Whether `text` is well-formed in the format of `path`; the error says
/// where and what.
pub fn check(path: &str, text: &str) -> Result<(), String> {
    match format_of(path) {
        Some("YAML") => yaml(text),
        Some(_) => serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map(drop)
            .map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// What the walk over the events is inside of.
enum Frame {
    Sequence,
    /// A mapping, its keys so far, and whether the next node is a key.
    Mapping {
        keys: HashSet<String>,
        at_key: bool,
    },
    /// A mapping or sequence used as a key, spelled out event by event so
    /// it can be compared with the mapping's other keys.
    Key {
        spelled: String,
        depth: usize,
        line: u64,
        column: u64,
    },
}

/// Well-formed YAML with no repeated key in any mapping (every document of
/// the stream).
pub fn yaml(text: &str) -> Result<(), String> {
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let event = parser.parse().map_err(|e| describe(&e))?;
        let line = event.start_mark.line + 1;
        let column = event.start_mark.column + 1;
        // A node inside a key being spelled out only extends the spelling.
        if matches!(stack.last(), Some(Frame::Key { .. })) {
            if let Some(Frame::Key {
                mut spelled,
                mut depth,
                line,
                column,
            }) = stack.pop()
            {
                let (nesting, mark) = match &event.data {
                    EventData::MappingStart { .. } => (1, "{"),
                    EventData::SequenceStart { .. } => (1, "["),
                    EventData::MappingEnd => (-1, "}"),
                    EventData::SequenceEnd => (-1, "]"),
                    _ => (0, ""),
                };
                depth = depth.saturating_add_signed(nesting);
                spelled.push_str(mark);
                match &event.data {
                    EventData::Scalar { value, .. } => spelled.push_str(&format!("{value:?},")),
                    EventData::Alias { anchor } => spelled.push_str(&format!("*{anchor},")),
                    _ => {}
                }
                if depth == 0 {
                    node(&mut stack, Some(spelled), line, column)?;
                } else {
                    stack.push(Frame::Key {
                        spelled,
                        depth,
                        line,
                        column,
                    });
                }
            }
            continue;
        }
        match event.data {
            EventData::StreamEnd => return Ok(()),
            EventData::StreamStart { .. }
            | EventData::DocumentStart { .. }
            | EventData::DocumentEnd { .. } => {}
            EventData::Scalar { value, .. } => node(&mut stack, Some(value), line, column)?,
            EventData::Alias { anchor } => {
                node(&mut stack, Some(format!("*{anchor}")), line, column)?
            }
            EventData::MappingStart { .. } | EventData::SequenceStart { .. } => {
                let opens = if matches!(event.data, EventData::MappingStart { .. }) {
                    Frame::Mapping {
                        keys: HashSet::new(),
                        at_key: true,
                    }
                } else {
                    Frame::Sequence
                };
                if let Some(Frame::Mapping { at_key: true, .. }) = stack.last() {
                    let open = if matches!(opens, Frame::Sequence) {
                        '['
                    } else {
                        '{'
                    };
                    stack.push(Frame::Key {
                        spelled: open.to_string(),
                        depth: 1,
                        line,
                        column,
                    });
                } else {
                    node(&mut stack, None, line, column)?;
                    stack.push(opens);
                }
            }
            EventData::MappingEnd | EventData::SequenceEnd => {
                stack.pop();
            }
        }
    }
}

/// Records one node in the collection it is in: a mapping key (its text in
/// `key`) is refused if the mapping has it already; a value flips the mapping
/// back to expecting a key.
fn node(stack: &mut [Frame], key: Option<String>, line: u64, column: u64) -> Result<(), String> {
    let Some(Frame::Mapping { keys, at_key }) = stack.last_mut() else {
        return Ok(());
    };
    if *at_key && let Some(key) = key {
        if keys.contains(&key) {
            return Err(format!(
                "duplicate mapping key {key:?} at line {line} column {column}"
            ));
        }
        keys.insert(key);
    }
    *at_key = !*at_key;
    Ok(())
}

/// libyaml's problem with its position and context.
fn describe(e: &libyaml_safer::Error) -> String {
    let mut out = e.problem().to_string();
    if let Some(mark) = e.problem_mark() {
        out.push_str(&format!(
            " at line {} column {}",
            mark.line + 1,
            mark.column + 1
        ));
    }
    if let Some(context) = e.context() {
        out.push_str(&format!(", {context}"));
        if let Some(mark) = e.context_mark() {
            out.push_str(&format!(
                " at line {} column {}",
                mark.line + 1,
                mark.column + 1
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_yaml_passes() {
        for text in [
            "a: 1\nb: [1, 2]\nc: {d: e}\n",
            "- a: 1\n  b: 2\n- a: 1\n  b: 2\n",
            "a:\n  a:\n    a: 1\n",
            "---\na: 1\n---\na: 2\n",
            "x: &anchor {a: 1}\ny: *anchor\n",
            "? [a, b]\n: 1\n? [a, c]\n: 2\n",
            "",
        ] {
            assert_eq!(yaml(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        for (text, key) in [
            ("a: 1\na: 2\n", "\"a\""),
            ("top:\n  - x: 1\n    y: 2\n    x: 3\n", "\"x\""),
            ("a: 1\n'a': 2\n", "\"a\""),
            (
                "? [a, b]\n: 1\n? [a, b]\n: 2\n",
                r#""[\"a\",\"b\",]" at line 3 column 3"#,
            ),
            ("{k: 1, k: 2}", "\"k\""),
        ] {
            let err = yaml(text).expect_err(text);
            assert!(
                err.starts_with(&format!("duplicate mapping key {key}")),
                "{err}"
            );
        }
        // The same key in two sibling mappings is not a repeat.
        assert_eq!(yaml("- a: 1\n- a: 1\n"), Ok(()));
    }

    #[test]
    fn malformed_yaml_says_where() {
        let err = yaml("a: 1\n b: 2\n").expect_err("bad indentation");
        assert!(err.contains("line 2"), "{err}");
        let err = yaml("a: \"open\n").expect_err("unterminated quote");
        assert!(err.contains("line"), "{err}");
        assert!(yaml("a: [1, 2\n").is_err());
        assert!(yaml("\t- a\n").is_err());
    }

    #[test]
    fn json_is_checked_by_extension_and_other_files_are_not() {
        assert_eq!(check("x.json", "{\"a\": [1, 2]}"), Ok(()));
        assert!(check("x.json", "{\"a\": }").is_err());
        assert!(check("x.yml", "a: [").is_err());
        assert!(check("x.yaml", "a: [").is_err());
        assert_eq!(check("x.sh", "a: ["), Ok(()));
    }
}
