//! `harden templates list` and `harden templates export`: the built-in
//! templates, to start an override from.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, Problems, load_model, say, spec_dir, spec_path, write_new};
use crate::engine::Templates;

/// The directory name the README and the hint suggest for `[generate] templates`.
pub const SUGGESTED_DIR: &str = "harden-templates";

/// Where `export` writes without `--to`: the `[generate] templates` of the
/// spec every command would read (named or found upward), relative to the
/// spec; an error saying how to record one when the spec has none.
fn spec_templates() -> Result<(PathBuf, PathBuf), Failure> {
    let spec = spec_path(None).map_err(|failure| match failure {
        Failure::Error(m) => {
            Failure::Error(format!("{m}; or pass --to DIR to export without a spec"))
        }
        other => other,
    })?;
    let (model, _) = load_model(&spec, false, Problems::Terminal)?;
    match model.templates {
        Some(dir) => Ok((spec_dir(&spec).join(dir), spec)),
        None => Err(Failure::Error(format!(
            "{} has no [generate] templates, the directory of template overrides that generate, diff and check read: add\n\n[generate]\ntemplates = \"{SUGGESTED_DIR}\"\n\nto it and re-run, or pass --to DIR",
            spec.display()
        ))),
    }
}

/// Every template name, one a line.
pub fn list() -> Result<ExitCode, Failure> {
    let mut stdout = std::io::stdout().lock();
    for name in Templates::names() {
        writeln!(stdout, "{name}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes each named built-in template under `to` (by default the spec's
/// `[generate] templates`), by its name, never over an existing file;
/// checks every name before writing any.
pub fn export(names: &[String], to: Option<PathBuf>, quiet: bool) -> Result<ExitCode, Failure> {
    let mut files = Vec::new();
    for name in names {
        Templates::builtin_source(name).map_err(Failure::Error)?;
    }
    let (to, spec) = match to {
        Some(to) => (to, None),
        None => {
            let (to, spec) = spec_templates()?;
            (to, Some(spec))
        }
    };
    for name in names {
        let text = Templates::builtin_source(name).map_err(Failure::Error)?;
        let path = to.join(name);
        if path.exists() || path.is_symlink() {
            return Err(Failure::Error(format!(
                "{} already exists; harden templates export never overwrites a file (edit it, or move it away to start again)",
                path.display()
            )));
        }
        files.push((path, text));
    }
    for (path, text) in &files {
        write_new(path, text)?;
        if !quiet {
            say(&format!("wrote {}\n", path.display()))?;
        }
    }
    if !quiet {
        match spec {
            Some(spec) => say(&format!(
                "edit them: generate, diff and check use them ([generate] templates in {})\n",
                spec.display()
            ))?,
            None => say(&format!(
                "edit them, then set `[generate] templates = \"{}\"` in the spec (relative to it) so that generate, diff and check all use them\n",
                to.display()
            ))?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
