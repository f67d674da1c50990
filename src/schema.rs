//! The spec's JSON Schema: generated from [`crate::spec`], committed as
//! `schema/hardening.schema.json`, and used to check a parsed spec so that
//! every structural error comes out at once, each mapped back to its TOML key.

use std::path::Path;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::codes::Code;
use crate::diagnostics::{At, Label, Problem, did_you_mean};
use crate::secrets;
use crate::source::{SpanIndex, push_pointer};
use crate::spec;

mod slo_table;

/// Where the schema is committed, relative to the repository root.
pub const COMMITTED_PATH: &str = "schema/hardening.schema.json";

/// The spec's JSON Schema, draft-07 so editors (Taplo, VS Code) understand it.
pub fn json_schema() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft07();
    settings
        .transforms
        .push(Box::new(schemars::transform::RecursiveTransform(drop_null)));
    let generator = settings.into_generator();
    let mut schema = generator.into_root_schema_for::<spec::Spec>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".into(), Value::String(id()));
    }
    schema
}

/// The file name `harden init` gives the schema, beside the spec.
pub const BESIDE_SPEC: &str = "hardening.schema.json";

/// What every `$id` harden writes starts with; the version follows.
const ID_PREFIX: &str = "urn:harden:hardening.schema.json:";

/// The schema's `$id`: versioned, so a copy says which harden wrote it.
pub fn id() -> String {
    format!("{ID_PREFIX}{}", env!("CARGO_PKG_VERSION"))
}

/// A warning when the schema beside `spec` was written by `harden init`
/// (its `$id` is harden's, or, before `$id`, its title is) and is not this
/// harden's schema: editors would check the spec against old rules.
pub fn stale_beside(spec: &Path) -> Option<Problem> {
    let path = spec.with_file_name(BESIDE_SPEC);
    let text = std::fs::read_to_string(&path).ok()?;
    let written: Value = serde_json::from_str(&text).ok()?;
    let written_id = written.get("$id").and_then(Value::as_str);
    let ours = match written_id {
        Some(id) => id.starts_with(ID_PREFIX),
        None => written.get("title").and_then(Value::as_str) == Some("hardening.toml"),
    };
    if !ours || written == json_schema() {
        return None;
    }
    let from = written_id.map_or_else(
        || "an older harden (it has no $id)".to_string(),
        |id| format!("`{id}`"),
    );
    Some(
        Problem::warning(
            Code::StaleSchema,
            format!(
                "{} is stale: it is the schema of {from}, not of this harden (`{}`); editors check the spec against it",
                path.display(),
                id()
            ),
        )
        .with_help(format!(
            "replace it with this harden's schema: `harden schema > {}`",
            path.display()
        )),
    )
}

/// TOML has no null: an optional key is one that may be left out, so the
/// schema says `T`, not "`T` or null" (which would also turn every error
/// about such a key into an unhelpful `anyOf` failure).
fn drop_null(schema: &mut schemars::Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let single = types.remove(0);
            object.insert("type".into(), single);
        }
    }
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    if let Some(Value::Array(any)) = object.get("anyOf")
        && any.len() == 2
        && any.iter().any(is_null)
        && let Some(Value::Object(inner)) = any.iter().find(|v| !is_null(v)).cloned()
    {
        object.remove("anyOf");
        for (k, v) in inner {
            object.entry(k).or_insert(v);
        }
    }
    if let Some(Value::Object(default)) = object.get_mut("default") {
        default.retain(|_, v| !v.is_null());
    }
    if let Some(Value::Array(options)) = object.get_mut("enum") {
        options.retain(|o| !o.is_null());
    }
}

/// The schema as committed: pretty JSON with a trailing newline.
pub fn to_pretty_string(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Checks a parsed spec against the schema; every violation becomes a problem.
pub fn check(document: &Value, index: &SpanIndex) -> Vec<Problem> {
    let (schema, validator) = match compiled() {
        Ok(compiled) => compiled,
        Err(e) => {
            return vec![Problem::new(
                Code::Internal,
                format!("harden's own schema does not compile: {e}"),
            )];
        }
    };
    let old_tables = slo_table::problems(document);
    let mut found: Vec<Problem> = errors(validator, document)
        .iter()
        .filter(|e| {
            let at = e.instance_path().to_string();
            !old_tables
                .iter()
                .any(|(p, _)| at == *p || at.starts_with(&format!("{p}/")))
        })
        .flat_map(|e| problems(e, schema, index))
        .collect();
    found.extend(old_tables.into_iter().map(|(_, p)| p));
    let refused: Vec<String> = found
        .iter()
        .filter(|p| p.code == Code::PlaintextSecret)
        .flat_map(|p| &p.labels)
        .filter_map(|l| match &l.at {
            At::Value(pointer) => Some(pointer.clone()),
            _ => None,
        })
        .collect();
    found.extend(credentials(document, &refused));
    found
}

/// A [`Code::Credential`] for every text value shaped like a credential
/// ([`secrets::find`]), in any field: a user name, a URL, a label, an
/// expression. Values already refused as plain-text secrets are skipped.
/// The walk keeps its own stack: no recursion, however deep the document.
pub fn credentials(document: &Value, skip: &[String]) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, &Value)> = vec![(String::new(), document)];
    while let Some((pointer, value)) = stack.pop() {
        match value {
            Value::String(text) => {
                if let Some(found) = secrets::find(text)
                    && !skip.contains(&pointer)
                {
                    out.push(credential(&pointer, found.what));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((push_pointer(&pointer, &i.to_string()), item));
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter().rev() {
                    stack.push((push_pointer(&pointer, key), item));
                }
            }
            _ => {}
        }
    }
    out
}

fn credential(pointer: &str, what: &str) -> Problem {
    let path = toml_path(pointer);
    let help = if what.starts_with("a URL") {
        "write the URL without the credential and give it to the software by environment variable or file; remove it from the spec and rotate it: it may already be in git history"
    } else {
        "remove it from the spec and rotate it: it may already be in git history; a secret is named by environment variable or file (`{ env = \"NAME\" }`, `{ file = \"/run/secrets/name\" }`) where the key takes one"
    };
    Problem::new(
        Code::Credential,
        format!("`{path}` holds what looks like {what}"),
    )
    .with_label(Label::value(
        pointer,
        "a credential must never be written in the spec (masked here)",
    ))
    .with_help(help)
}

/// The schema and its validator, built once per process.
static COMPILED: OnceLock<Result<(Value, Validator), String>> = OnceLock::new();

/// Starts building the validator on another thread, so that it overlaps
/// reading and parsing the spec (it is the largest fixed cost of a run:
/// about 5 ms); [`check`] waits for it.
pub fn prepare() {
    if COMPILED.get().is_none() {
        std::thread::spawn(|| {
            let _ = compiled();
        });
    }
}

fn compiled() -> Result<&'static (Value, Validator), &'static str> {
    COMPILED
        .get_or_init(|| {
            let schema = json_schema();
            jsonschema::draft7::new(&schema)
                .map(|validator| (schema, validator))
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(String::as_str)
}

fn errors<'a>(validator: &'a Validator, document: &'a Value) -> Vec<ValidationError<'a>> {
    validator.iter_errors(document).collect()
}

/// `/service/0/slo` → `service[0].slo`, the way a TOML author names a key.
pub fn toml_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    if out.is_empty() {
        "the top level".to_string()
    } else {
        out
    }
}

/// The last key of a pointer, for messages.
fn last_key(pointer: &str) -> String {
    toml_path(pointer)
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The schema node at a JSON pointer inside the schema.
fn schema_at<'s>(schema: &'s Value, pointer: &str) -> Option<&'s Value> {
    schema.pointer(pointer)
}

/// The definition name a schema location is inside, such as `Secret` for
/// `/definitions/Secret/type`.
/// Only for a keyword of the definition itself (`/definitions/Name/pattern`),
/// not for one of its properties.
fn definition_of(schema_path: &str) -> Option<&str> {
    let rest = schema_path.strip_prefix("/definitions/")?;
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        [name, _keyword] => Some(name),
        _ => None,
    }
}

/// A schema description on one line, without its final full stop.
fn one_line(description: &str) -> String {
    description
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_string()
}

fn problems(error: &ValidationError<'_>, schema: &Value, index: &SpanIndex) -> Vec<Problem> {
    let pointer = error.instance_path().to_string();
    let schema_path = error.schema_path().to_string();
    let path = toml_path(&pointer);
    let key = last_key(&pointer);
    let definition = definition_of(&schema_path);
    let found = index.toml_type(&pointer).unwrap_or("value");
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let parent = schema_path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            let allowed: Vec<&str> = schema_at(schema, parent)
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            unexpected
                .iter()
                .map(|name| {
                    let at = push_pointer(&pointer, name);
                    let help = match did_you_mean(name, allowed.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the keys allowed here are: {}", allowed.join(", ")),
                    };
                    Problem::new(
                        Code::UnknownKey,
                        format!("unknown key `{name}` in {}", toml_path(&pointer)),
                    )
                    .with_label(Label::key(at, "not a key harden knows here"))
                    .with_help(help)
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let what = schema_at(schema, schema_path.trim_end_matches("/required"))
                .and_then(|s| s.pointer(&format!("/properties/{name}/description")))
                .and_then(Value::as_str)
                .map(|d| format!(" ({})", one_line(d)))
                .unwrap_or_default();
            vec![
                Problem::new(Code::MissingKey, format!("{path} needs the key `{name}`"))
                    .with_label(Label::key(
                        pointer.clone(),
                        format!("`{name}` is missing here"),
                    ))
                    .with_help(format!("add `{name} = …`{what}")),
            ]
        }
        ValidationErrorKind::Type { kind } if definition == Some("Secret") => {
            let _ = kind;
            vec![secret_literal(&pointer, &key, found)]
        }
        // `nan` and `inf` reach the schema as their text.
        ValidationErrorKind::Type { .. } if found == "float" && error.instance().is_string() => {
            let written = error.instance().as_str().unwrap_or_default();
            vec![
                Problem::new(
                    Code::OutOfRange,
                    format!("`{path}` is `{written}`, not a number harden can use"),
                )
                .with_label(Label::value(pointer.clone(), "not a finite number"))
                .with_help(
                    "write a finite number; see schema/hardening.schema.json for this key's range",
                ),
            ]
        }
        // An integer beyond 64 bits reaches the schema as its digits.
        ValidationErrorKind::Type { .. } if found == "integer" => {
            vec![
                Problem::new(
                    Code::OutOfRange,
                    format!("`{path}` is too large for a 64-bit integer"),
                )
                .with_label(Label::value(pointer.clone(), "out of range"))
                .with_help("use a value within this key's range; see schema/hardening.schema.json"),
            ]
        }
        // Enums whose variants carry descriptions become `oneOf` consts.
        ValidationErrorKind::OneOfNotValid { .. } if !consts(schema, &schema_path).is_empty() => {
            let options = consts(schema, &schema_path);
            vec![not_one_of(
                &pointer,
                &path,
                error.instance().as_str(),
                &options,
            )]
        }
        ValidationErrorKind::Type { kind } => {
            let expected = type_name(kind);
            // The value's own description: its definition's, or the property's.
            let node = match definition {
                Some(d) => format!("/definitions/{d}"),
                None => schema_path.trim_end_matches("/type").to_string(),
            };
            let rule = match schema
                .pointer(&format!("{node}/description"))
                .and_then(Value::as_str)
            {
                Some(d) if definition.is_some() => format!("expected {}", one_line(d)),
                Some(d) => format!("expected {expected}: {}", one_line(d)),
                None => format!("expected {expected}"),
            };
            vec![
                Problem::new(
                    Code::WrongType,
                    format!("`{path}` should be {expected}, not {}", article(found)),
                )
                .with_label(Label::value(
                    pointer.clone(),
                    format!("this is {}", article(found)),
                ))
                .with_help(rule),
            ]
        }
        ValidationErrorKind::Pattern { .. } => {
            let rule = definition
                .and_then(spec::string_rule)
                .unwrap_or("a value of the documented form");
            let shown = match error.instance().as_str() {
                Some(v) if secrets::find(v).is_some() => "it looks like a credential".to_string(),
                Some(v) => quote(v),
                None => String::new(),
            };
            vec![
                Problem::new(
                    Code::InvalidValue,
                    format!("`{path}` is not valid: {shown}"),
                )
                .with_label(Label::value(pointer.clone(), "not of the expected form"))
                .with_help(format!("expected {rule}")),
            ]
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<&str> = options
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            vec![not_one_of(
                &pointer,
                &path,
                error.instance().as_str(),
                &options,
            )]
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            vec![out_of_range(&pointer, &path, format!("at least {limit}"))]
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            vec![out_of_range(&pointer, &path, format!("at most {limit}"))]
        }
        ValidationErrorKind::MinItems { limit } => vec![
            Problem::new(
                Code::InvalidValue,
                format!("`{path}` needs at least {limit} item{}", plural(*limit)),
            )
            .with_label(Label::value(pointer.clone(), "too few items"))
            .with_help("add the missing items, or remove the key to use the default"),
        ],
        ValidationErrorKind::MinLength { limit } | ValidationErrorKind::MaxLength { limit } => {
            let rule = definition
                .and_then(spec::string_rule)
                .unwrap_or("a shorter or longer value");
            let (message, label) = if matches!(error.kind(), ValidationErrorKind::MaxLength { .. })
            {
                (
                    format!("`{path}` is longer than {limit} characters"),
                    "too long",
                )
            } else {
                (
                    format!(
                        "`{path}` is shorter than {limit} character{}",
                        plural(*limit)
                    ),
                    "too short",
                )
            };
            vec![
                Problem::new(Code::InvalidValue, message)
                    .with_label(Label::value(pointer.clone(), label))
                    .with_help(format!("expected {rule}")),
            ]
        }
        _ => vec![
            Problem::new(Code::InvalidValue, format!("`{path}`: {error}"))
                .with_label(Label::value(pointer.clone(), "here"))
                .with_help("see schema/hardening.schema.json for what this key takes"),
        ],
    }
}

/// The `const` values of the `oneOf` at a schema location, if that is all it lists.
fn consts<'s>(schema: &'s Value, schema_path: &str) -> Vec<&'s str> {
    let Some(Value::Array(variants)) = schema.pointer(schema_path) else {
        return Vec::new();
    };
    let options: Vec<&str> = variants
        .iter()
        .filter_map(|v| v.get("const").and_then(Value::as_str))
        .collect();
    if options.len() == variants.len() {
        options
    } else {
        Vec::new()
    }
}

fn not_one_of(pointer: &str, path: &str, given: Option<&str>, options: &[&str]) -> Problem {
    let help = match given.and_then(|g| did_you_mean(g, options.iter().copied())) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("use one of: {}", options.join(", ")),
    };
    Problem::new(
        Code::InvalidValue,
        format!("`{path}` must be one of {}", options.join(", ")),
    )
    .with_label(Label::value(pointer, "not one of the choices"))
    .with_help(help)
}

/// A secret given as a literal string instead of a reference.
fn secret_literal(pointer: &str, key: &str, found: &str) -> Problem {
    let (env, file) = suggested_env(pointer, key);
    let (message, label) = if found == "string" {
        (
            format!("`{key}` holds a secret in plain text"),
            "a secret value must never be written in the spec",
        )
    } else {
        (
            format!(
                "`{key}` should name where the secret is, not be {}",
                article(found)
            ),
            "not a secret reference",
        )
    };
    Problem::new(Code::PlaintextSecret, message)
        .with_label(Label::value(pointer, label))
        .with_help(format!(
            "name it by environment variable, `{key} = {{ env = \"{env}\" }}`, or by file, `{key} = {{ file = \"/run/secrets/{file}\" }}`"
        ))
}

/// The conventional environment variable and secret file name for the
/// secret at `pointer`, for hints: a Redis password is `REDIS_PASSWORD`, an
/// email receiver's `SMTP_PASSWORD`.
fn suggested_env(pointer: &str, key: &str) -> (String, String) {
    let env = match (pointer.starts_with("/service/"), key) {
        (true, "password") => "REDIS_PASSWORD".to_string(),
        (_, "webhook_url") => "SLACK_WEBHOOK_URL".to_string(),
        (_, "routing_key") => "PAGERDUTY_ROUTING_KEY".to_string(),
        (_, "password") => "SMTP_PASSWORD".to_string(),
        (_, "token") => "WEBHOOK_TOKEN".to_string(),
        (_, other) => other.to_ascii_uppercase(),
    };
    let file = env.to_ascii_lowercase().replace('_', "-");
    (env, file)
}

fn out_of_range(pointer: &str, path: &str, bound: String) -> Problem {
    Problem::new(Code::OutOfRange, format!("`{path}` must be {bound}"))
        .with_label(Label::value(pointer, "out of range"))
        .with_help(format!("use a value {bound}"))
}

fn type_name(kind: &TypeKind) -> String {
    let name = match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    };
    match name.as_str() {
        "object" => "a table".to_string(),
        "integer" => "an integer".to_string(),
        "array" => "an array".to_string(),
        other => article(other),
    }
}

/// "a string", "an integer", with TOML's names for JSON's types.
fn article(kind: &str) -> String {
    let kind = match kind {
        "object" => "table",
        "number" => "number",
        other => other,
    };
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {kind}")
    } else {
        format!("a {kind}")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A user's string, quoted and shortened for a message.
fn quote(s: &str) -> String {
    let short: String = s.chars().take(60).collect();
    let ellipsis = if short.len() < s.len() { "…" } else { "" };
    format!("{:?}{ellipsis}", short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_toml_paths() {
        assert_eq!(toml_path("/service/0/slo"), "service[0].slo");
        assert_eq!(toml_path(""), "the top level");
    }

    #[test]
    fn schema_is_draft_07() {
        let schema = json_schema();
        assert_eq!(
            schema["$schema"], "http://json-schema.org/draft-07/schema#",
            "editors need draft-07"
        );
    }
}
