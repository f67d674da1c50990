//! The templates: compiled into the binary from `templates/`, overridable one
//! by one from a directory (`--templates DIR`), rendered by minijinja with
//! strict undefined and every value escaped for the file's format.

use std::path::Path;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior};
use serde::Serialize;

use super::EmitError;
use super::escape::{
    compose_str, escape_strings, json_literal, json_str, markdown_code, markdown_fence,
    markdown_link, markdown_text, shell_word, yaml_str,
};

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// A loaded template set.
pub struct Templates {
    env: Environment<'static>,
    /// The templates a `--templates` directory replaced.
    overridden: std::collections::BTreeSet<&'static str>,
}

impl Templates {
    /// The compiled-in templates.
    pub fn builtin() -> Result<Self, EmitError> {
        Self::with_overrides(None)
    }

    /// The compiled-in templates, each replaced by the file of the same name
    /// under `dir` when there is one. A file in `dir` that is not a template
    /// harden uses is an error, so a misspelt override cannot go unnoticed.
    pub fn with_overrides(dir: Option<&Path>) -> Result<Self, EmitError> {
        let mut env = environment().map_err(|e| render_error("(syntax)", &e))?;
        if let Some(dir) = dir {
            check_overrides(dir)?;
        }
        let mut overridden = std::collections::BTreeSet::new();
        for (name, builtin) in BUILTIN {
            let source = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(path) => {
                    overridden.insert(*name);
                    std::fs::read_to_string(&path).map_err(|e| EmitError::Overrides {
                        dir: path.clone(),
                        detail: e.to_string(),
                    })?
                }
                None => (*builtin).to_string(),
            };
            env.add_template_owned(*name, source)
                .map_err(|e| render_error(name, &e))?;
        }
        Ok(Templates { env, overridden })
    }

    /// Whether `name` is the compiled-in template (no override replaced it).
    pub fn is_builtin(&self, name: &str) -> bool {
        !self.overridden.contains(name)
    }

    /// Names of the compiled-in templates.
    pub fn names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(name, _)| *name)
    }

    /// The text of the compiled-in template `name`, or an error naming the
    /// close names when there is none (`harden templates export`).
    pub fn builtin_source(name: &str) -> Result<&'static str, String> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| unknown_template(name))
    }

    /// Renders one template.
    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String, EmitError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| render_error(name, &e))?;
        template
            .render(Value::from(minijinja::value::Serde(context)))
            .map_err(|e| render_error(name, &e))
    }
}

/// The engine as every template sees it: strict undefined, block tags that
/// leave no blank lines, the trailing newline kept, values escaped.
fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_auto_escape_callback(auto_escape_for);
    env.set_formatter(format_value);
    env.add_global("header", Value::from_safe_string(super::HEADER.to_string()));
    // Markdown: a value as a code span, a fenced block, or a link's label.
    env.add_filter("code", |v: String| {
        Value::from_safe_string(markdown_code(&v))
    });
    env.add_filter("fence", |v: String, lang: String| {
        Value::from_safe_string(markdown_fence(&v, &lang))
    });
    env.add_filter("link", |label: String, url: String| {
        Value::from_safe_string(markdown_link(&label, &url))
    });
    Ok(env)
}

fn render_error(name: &str, e: &Error) -> EmitError {
    let mut detail = e.to_string();
    if let Some(line) = e.line() {
        detail = format!("{detail} (line {line})");
    }
    EmitError::Render {
        name: name.to_string(),
        detail,
    }
}

/// Why `name` is no template: what it is close to, and where the list is.
fn unknown_template(name: &str) -> String {
    let close = crate::diagnostics::close_matches(name, Templates::names(), 3);
    let hint = if close.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
        format!("did you mean {}? ", quoted.join(" or "))
    };
    format!(
        "`{name}` is not a template harden uses; {hint}`harden templates list` lists every template (an override keeps the built-in template's name)"
    )
}

/// Every file under `dir` must be a known template name.
fn check_overrides(dir: &Path) -> Result<(), EmitError> {
    let mut stack = vec![dir.to_path_buf()];
    let overrides_error = |detail: String| EmitError::Overrides {
        dir: dir.to_path_buf(),
        detail,
    };
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| overrides_error(e.to_string()))?;
        for entry in entries {
            let path = entry.map_err(|e| overrides_error(e.to_string()))?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !BUILTIN.iter().any(|(name, _)| *name == relative) {
                return Err(overrides_error(unknown_template(&relative)));
            }
        }
    }
    Ok(())
}

/// The escaping of a template, from the extension of the file it renders.
/// Compose files are YAML in which Compose also interpolates `$VAR`, so
/// their values have every `$` doubled as well.
fn auto_escape_for(name: &str) -> AutoEscape {
    let target = name.strip_suffix(".j2").unwrap_or(name);
    if target.starts_with("compose/") {
        return AutoEscape::Custom("compose".into());
    }
    match target.rsplit('.').next() {
        Some("yml" | "yaml") => AutoEscape::Custom("yaml".into()),
        Some("json" | "js") => AutoEscape::Custom("json".into()),
        Some("sh") => AutoEscape::Custom("shell".into()),
        Some("md") => AutoEscape::Custom("markdown".into()),
        _ => AutoEscape::None,
    }
}

/// Writes `{{ value }}` escaped for the template's format. Values marked
/// `|safe` go out as they are: templates use that only for text harden
/// built itself.
fn format_value(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "undefined value"));
    }
    let escape: fn(&str) -> String = match state.auto_escape() {
        _ if value.is_safe() => return write!(out, "{value}").map_err(Error::from),
        AutoEscape::Custom(c) if c == "yaml" => yaml_str,
        AutoEscape::Custom(c) if c == "compose" => compose_str,
        AutoEscape::Custom(c) if c == "json" => json_str,
        AutoEscape::Custom(c) if c == "shell" => shell_word,
        AutoEscape::Custom(c) if c == "markdown" => markdown_text,
        _ => return write!(out, "{value}").map_err(Error::from),
    };
    let text = match value.as_str() {
        Some(s) => escape(s),
        None if value.kind() == minijinja::value::ValueKind::Bool => {
            if value.is_true() { "true" } else { "false" }.to_string()
        }
        None if value.is_number() => value.to_string(),
        None if value.is_none() => "null".to_string(),
        // Sequences and maps go out as JSON, which is also valid YAML flow;
        // their strings get the format's own escaping first (Compose's `$$`),
        // then JSON escapes for everything YAML or JavaScript may misread.
        None => {
            let json = serde_json::to_value(value).map_err(|e| {
                Error::new(ErrorKind::BadSerialization, "cannot serialize value").with_source(e)
            })?;
            let json = match state.auto_escape() {
                AutoEscape::Custom(c) if c == "compose" => {
                    escape_strings(json, &|s| s.replace('$', "$$"))
                }
                _ => json,
            };
            json_literal(&json)
        }
    };
    out.write_str(&text).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_template_compiles() {
        let templates = Templates::builtin().expect("builtin templates compile");
        for name in Templates::names() {
            assert!(templates.env.get_template(name).is_ok(), "{name}");
        }
    }

    /// The Rust source of every target, concatenated.
    fn targets_source() -> String {
        let mut text = String::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/targets"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("src/targets is readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    text.push_str(&std::fs::read_to_string(&path).expect("source"));
                }
            }
        }
        text
    }

    #[test]
    fn every_template_is_used_and_every_used_template_exists() {
        let source = targets_source();
        // A partial is used where another template includes it.
        let includes: String = BUILTIN.iter().map(|(_, text)| *text).collect();
        for name in Templates::names() {
            let quoted = format!("\"{name}\"");
            assert!(
                source.contains(&quoted) || includes.contains(&format!("include {quoted}")),
                "templates/{name} is compiled in but no target renders it"
            );
        }
        // Every `"<name>.j2"` literal a target renders is a compiled-in template.
        for literal in source.split('"').filter(|w| w.ends_with(".j2")) {
            assert!(
                Templates::names().any(|n| n == literal),
                "a target renders `{literal}`, which is not in templates/"
            );
        }
    }

    #[test]
    fn yaml_templates_escape_values() {
        let mut env = environment().expect("environment");
        env.add_template("t.yml.j2", "k: {{ v }}\n")
            .expect("template");
        let out = env
            .get_template("t.yml.j2")
            .and_then(|t| t.render(minijinja::context! { v => "a: b\n# c" }))
            .expect("renders");
        assert_eq!(out, "k: \"a: b\\n# c\"\n");
    }

    #[test]
    fn compose_templates_double_every_dollar() {
        let mut env = environment().expect("environment");
        env.add_template("compose/t.yml.j2", "k: {{ v }}\nl: {{ l }}\n")
            .expect("template");
        let out = env
            .get_template("compose/t.yml.j2")
            .and_then(|t| {
                t.render(minijinja::context! { v => "$HOME ${X} $(id)", l => vec!["a$b", "$$"] })
            })
            .expect("renders");
        assert_eq!(out, "k: '$$HOME $${X} $$(id)'\nl: [\"a$$b\",\"$$$$\"]\n");
    }

    #[test]
    fn undefined_values_are_errors() {
        let templates = Templates::builtin().expect("builtin");
        let err = templates
            .render("prometheus/prometheus.yml.j2", &serde_json::json!({}))
            .expect_err("strict undefined");
        assert!(err.to_string().contains("prometheus/prometheus.yml.j2"));
    }
}
