//! Integration tests: the `harden` binary run as a user runs it.
//!
//! One test binary (fast to link) with a module per area. Snapshots live in
//! the top-level `snapshots/` folder; review every change to them.

mod common;

mod alerting;
mod backup;
mod cache;
mod check;
mod concurrency;
mod diagnostics;
mod drift;
mod e2e;
mod examples;
mod filesystem;
mod grafana;
mod hostile;
mod init_and_schema;
mod injection;
mod loadtest;
mod ownership;
mod platforms;
mod regions;
mod rules;
mod runbooks;
mod scripts;
mod validators;
