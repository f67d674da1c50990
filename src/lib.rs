//! `harden` compiles one `hardening.toml` into a service's production-hardening
//! files and checks that committed files have not drifted from it.
//!
//! The pipeline, in module order: [`source`] (TOML → JSON + spans) →
//! [`schema`] (structural checks) → [`spec`] (the file as written) →
//! [`model`] (resolved, with every derived number) → [`targets`] (one module
//! per output, rendered by the [`engine`] into an [`output::OutputSet`]) →
//! [`output`] (write or diff); [`check`] reports whether a tree and a
//! running system are what the spec says. [`load`] runs the front half;
//! [`cli`] is the command line; [`explain`] prints what the alerts mean in
//! numbers; [`annotations`] prints problems as GitHub Actions annotations; [`codes`] lists every diagnostic; [`history`] replays the generated rules over Prometheus's stored history (`backtest`, `report`, the budget gate); [`secrets`] says what a credential looks like; [`vocab`] holds the words
//! several outputs share. See ARCHITECTURE.md.

pub mod annotations;
pub mod check;
pub mod cli;
pub mod codes;
pub mod diagnostics;
pub mod engine;
pub mod explain;
pub mod history;
pub mod import;
pub mod load;
pub mod model;
pub mod output;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod spec;
pub mod targets;
pub mod units;
pub mod vocab;
