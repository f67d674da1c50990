//! The `harden` binary; everything lives in the library (see ARCHITECTURE.md).

use clap::Parser;

fn main() -> std::process::ExitCode {
    harden::cli::run(harden::cli::Cli::parse())
}
