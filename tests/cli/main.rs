//! Integration tests: the `harden` binary run as a user runs it.
//!
//! One test binary (fast to link). `support/` holds what every test needs:
//! running harden, `generate(spec)` into a temporary tree, the real
//! validators, and which target owns which generated file. `targets/` has
//! a file per output target, each in the same sections (its validator, its
//! numbers, its snapshot); the files at this level test what crosses
//! targets. Snapshots live in the top-level `snapshots/` folder; review
//! every change to them.

mod support;
mod targets;

mod adoption;
mod backtest;
mod backup;
mod bench;
mod bounds;
mod cache;
mod check;
mod concurrency;
mod diagnostics;
mod discovery;
mod docs;
mod drift;
mod e2e;
mod examples;
mod explain;
mod filesystem;
mod github_format;
mod ha;
mod hostile;
mod import;
mod init_and_schema;
mod injection;
mod live_tls;
mod manners;
mod operator;
mod operator_discovery;
mod otlp;
mod ownership;
mod parity;
mod remote_write;
mod saturation;
mod secrets;
mod templates;
