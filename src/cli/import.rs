//! `harden import sloth|openslo FILE…`: the tables on standard output,
//! every note on standard error.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use super::Failure;
use crate::import::{self, Import};

/// The formats `harden import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Sloth's `prometheus/v1` spec or its `PrometheusServiceLevel` (sloth.slok.dev/v1).
    Sloth,
    /// OpenSLO v1: SLO, SLI, AlertPolicy, AlertCondition and DataSource documents.
    Openslo,
}

/// Exit codes of `harden import`, under its `--help`.
pub const EXIT: &str = "Exit codes: 0 every SLO and setting was imported; 1 the tables are printed, but something was not imported or means something else in harden (each named on standard error); 2 a file could not be read or is not in the format (nothing printed).";

/// Reads every file, prints the tables, then the notes.
pub fn run(format: Format, files: &[PathBuf], quiet: bool) -> Result<ExitCode, Failure> {
    let mut texts = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Failure::Error(format!("cannot read {}: {e}", f.display())))?;
        texts.push((f.display().to_string(), text));
    }
    let mut found = Import::default();
    let command = match format {
        Format::Sloth => {
            for (name, text) in &texts {
                import::sloth::read(name, text, &mut found).map_err(|e| Failure::Error(e.0))?;
            }
            "harden import sloth"
        }
        Format::Openslo => {
            import::openslo::read(&texts, &mut found).map_err(|e| Failure::Error(e.0))?;
            "harden import openslo"
        }
    };
    let names: Vec<String> = texts.into_iter().map(|(n, _)| n).collect();
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(import::print(&found, command, &names).as_bytes())?;
    stdout.flush()?;
    let mut stderr = std::io::stderr().lock();
    for note in &found.notes {
        writeln!(stderr, "{note}")?;
    }
    let slos: usize = found.services.iter().map(|s| s.slos.len()).sum();
    if !quiet {
        writeln!(
            stderr,
            "imported {slos} SLO{} of {} service{}{}",
            if slos == 1 { "" } else { "s" },
            found.services.len(),
            if found.services.len() == 1 { "" } else { "s" },
            if found.incomplete() {
                "; parts of the files were not imported (above)"
            } else {
                ""
            }
        )?;
    }
    Ok(if found.incomplete() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
