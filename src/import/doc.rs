//! A YAML mapping being read, with where it is (`file.yml: slos[0].sli`)
//! for notes, and the check that reports every key a reader does not know.

use serde_json::{Map, Value};

use super::{Import, NoteKind};

/// One mapping of a document and its place.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    pub map: &'a Map<String, Value>,
    /// The file, then the path inside the document.
    file: &'a str,
    path: &'a str,
}

impl<'a> Doc<'a> {
    /// The mapping `value`, or `None` when it is not one.
    pub fn new(value: &'a Value, file: &'a str, path: &'a str) -> Option<Doc<'a>> {
        Some(Doc {
            map: value.as_object()?,
            file,
            path,
        })
    }

    /// `file.yml: slos[0].sli`, or `file.yml` at the top.
    pub fn at(&self) -> String {
        if self.path.is_empty() {
            self.file.to_string()
        } else {
            format!("{}: {}", self.file, self.path)
        }
    }

    /// The place of `key` under this mapping.
    pub fn at_key(&self, key: &str) -> String {
        format!("{}: {}", self.file, self.join(key))
    }

    /// The path of `key` under this one: `slos[0].sli` + `events`.
    pub fn join(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else if key.starts_with('[') {
            format!("{}{key}", self.path)
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn file(&self) -> &'a str {
        self.file
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key)?.as_str()
    }

    /// A mapping of strings (labels, annotations), in key order; a value
    /// that is not a string is noted and left out.
    pub fn strings(&self, key: &str, import: &mut Import) -> Vec<(String, String)> {
        let Some(v) = self.get(key) else {
            return Vec::new();
        };
        let Some(map) = v.as_object() else {
            import.note(
                NoteKind::NotImported,
                self.at_key(key),
                "not a mapping of strings",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in map {
            match v {
                Value::String(s) => out.push((k.clone(), s.clone())),
                Value::Number(n) => out.push((k.clone(), n.to_string())),
                Value::Bool(b) => out.push((k.clone(), b.to_string())),
                _ => import.note(
                    NoteKind::NotImported,
                    self.at_key(&format!("{key}.{k}")),
                    "not a string",
                ),
            }
        }
        out.sort();
        out
    }

    /// Every key not in `known` is reported: read by no one, so not imported.
    pub fn unknown(&self, known: &[&str], import: &mut Import) {
        for key in self.map.keys() {
            if !known.contains(&key.as_str()) {
                import.note(
                    NoteKind::NotImported,
                    self.at_key(key),
                    format!("unknown key `{key}`"),
                );
            }
        }
    }
}
