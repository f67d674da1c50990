//! `harden completions SHELL` and `harden man`: generated from the clap
//! definition, so they cannot disagree with the commands.

use std::process::ExitCode;

use clap::CommandFactory as _;

use super::{Cli, Failure};

/// The shells `harden completions` writes for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell) -> Result<ExitCode, Failure> {
    use clap_complete::Shell as S;
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "harden", &mut std::io::stdout().lock());
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page (roff) of harden, or of one of its commands
/// (`harden-<command>(1)`, as `man harden-check` finds it once installed).
pub fn man(command: Option<&str>) -> Result<ExitCode, Failure> {
    let root = Cli::command();
    let page = match command {
        None => root,
        Some(name) => {
            let sub = root.find_subcommand(name).cloned().ok_or_else(|| {
                let names: Vec<&str> = root.get_subcommands().map(|s| s.get_name()).collect();
                Failure::Error(format!(
                    "harden has no command `{name}`; the commands are: {}",
                    names.join(", ")
                ))
            })?;
            let full = format!("harden-{name}");
            sub.name(full.clone())
                .bin_name(full)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    std::io::Write::write_all(&mut std::io::stdout().lock(), &out)?;
    Ok(ExitCode::SUCCESS)
}
