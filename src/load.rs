//! The front half of the pipeline: a spec file → a valid [`Model`], or every
//! problem in it at once.
//!
//! Stages: TOML syntax (all recoverable errors) → JSON Schema (all
//! structural errors) → lowering (all semantic errors). A later stage runs
//! only on what the earlier one accepted, except that unknown keys alone do
//! not stop the semantic checks: they are reported and skipped.

use std::io::Read as _;
use std::path::Path;

use crate::codes::Code;
use crate::diagnostics::{Located, Problem, locate};
use crate::model::{self, Model};
use crate::schema;
use crate::source::{self, SourceFile, SpanIndex};
use crate::spec::Spec;

/// The most bytes harden reads from a spec file (16 MiB): reading stops there, so a device
/// such as `/dev/zero` or an endless pipe is refused instead of read without limit.
pub const MAX_SPEC_BYTES: u64 = 16 << 20;

/// Why a spec could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Read { path: String, detail: String },
    /// The spec has problems; each is located in the file.
    Invalid(Vec<Located>),
}

/// A valid spec's model and its warnings, located in the file.
#[derive(Debug)]
pub struct Loaded {
    pub model: Model,
    pub warnings: Vec<Located>,
}

/// Reads and checks a spec file.
pub fn load(path: &Path) -> Result<Model, LoadError> {
    load_all(path).map(|l| l.model)
}

/// [`load`], keeping the warnings.
pub fn load_all(path: &Path) -> Result<Loaded, LoadError> {
    schema::prepare();
    let name = path.display().to_string();
    let read_error = |e: std::io::Error| LoadError::Read {
        path: name.clone(),
        detail: e.to_string(),
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        let problem = Problem::new(
            Code::SpecTooLarge,
            format!(
                "{name} is larger than {} MiB, the most harden reads as a spec",
                MAX_SPEC_BYTES >> 20
            ),
        )
        .with_help("pass the hardening.toml file itself; even a spec with thousands of services is far smaller");
        let file = SourceFile {
            name,
            text: String::new(),
        };
        return Err(LoadError::Invalid(locate(
            vec![problem],
            &file,
            &SpanIndex::default(),
        )));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile { name, text };
            let problem = Problem::new(Code::NotUtf8, "the spec is not valid UTF-8")
                .with_label(crate::diagnostics::Label::span(valid..valid, "this byte"))
                .with_help("save hardening.toml as UTF-8");
            return Err(LoadError::Invalid(locate(
                vec![problem],
                &file,
                &SpanIndex::default(),
            )));
        }
    };
    let file = SourceFile { name, text };
    check_all(&file).map_err(LoadError::Invalid)
}

/// Checks spec text; the heart of `harden validate`.
pub fn check(file: &SourceFile) -> Result<Model, Vec<Located>> {
    check_all(file).map(|l| l.model)
}

/// [`check`], keeping the warnings. On failure the diagnostics hold the
/// errors and the warnings, each with its severity.
pub fn check_all(file: &SourceFile) -> Result<Loaded, Vec<Located>> {
    let (document, index) = match source::parse(&file.text) {
        Ok(parsed) => parsed,
        Err(problems) => return Err(locate(problems, file, &SpanIndex::default())),
    };
    let mut problems = schema::check(&document, &index);
    // Unknown keys do not change what the rest of the spec means: drop them
    // and still run the semantic checks, so one typo does not hide the rest.
    let only_unknown_keys = problems.iter().all(|p| p.code == Code::UnknownKey);
    let spec = if only_unknown_keys {
        let mut pruned = document;
        for p in &problems {
            if let Some(crate::diagnostics::Label {
                at: crate::diagnostics::At::Key(pointer),
                ..
            }) = p.labels.first()
            {
                remove_pointer(&mut pruned, pointer);
            }
        }
        match serde_json::from_value::<Spec>(pruned) {
            Ok(spec) => Some(spec),
            Err(e) => {
                problems.push(Problem::new(
                    Code::Internal,
                    format!(
                        "the spec passed the schema but could not be read: {e}; please report this"
                    ),
                ));
                None
            }
        }
    } else {
        None
    };
    let model = spec.map(|spec| model::lower(&spec));
    match model {
        Some(Ok((model, warnings))) if problems.is_empty() => Ok(Loaded {
            model,
            warnings: locate(warnings, file, &index),
        }),
        Some(Ok((_, warnings))) => {
            problems.extend(warnings);
            Err(locate(problems, file, &index))
        }
        Some(Err(more)) => {
            problems.extend(more);
            Err(locate(problems, file, &index))
        }
        None => Err(locate(problems, file, &index)),
    }
}

/// Removes the value at a JSON pointer, if it is there.
fn remove_pointer(document: &mut serde_json::Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(serde_json::Value::Object(map)) = document.pointer_mut(parent) {
        map.remove(&key);
    }
}
