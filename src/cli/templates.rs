//! `harden templates list` and `harden templates export`: the built-in
//! templates, to start an override from.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, say, write_new};
use crate::engine::Templates;

/// Where `export` writes without `--to`: the name the README suggests for
/// `[generate] templates`.
pub const DEFAULT_DIR: &str = "harden-templates";

/// Every template name, one a line.
pub fn list() -> Result<ExitCode, Failure> {
    let mut stdout = std::io::stdout().lock();
    for name in Templates::names() {
        writeln!(stdout, "{name}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes each named built-in template under `to` (by its name), never over
/// an existing file; checks every name before writing any.
pub fn export(names: &[String], to: Option<PathBuf>, quiet: bool) -> Result<ExitCode, Failure> {
    let to = to.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let mut files = Vec::new();
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
        say(&format!(
            "edit them, then set `[generate] templates = \"{}\"` in the spec (relative to it) so that generate, diff and check all use them\n",
            to.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
