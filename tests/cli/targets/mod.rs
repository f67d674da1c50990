//! One file per output target, each in the same three sections, in this
//! order:
//!
//! - (a) its real validator accepts every example and fixture that
//!   generates the target;
//! - (b) the numbers in its files equal the model and the spec;
//! - (c) its snapshot: the App-Oint example's files of the target
//!   (`support::OWNERS` says which files are whose).
//!
//! What a target's files do when they run (scripts against fakes, a k6
//! smoke run, runbook commands pasted into a shell) is in a submodule
//! beside the target's file.

mod alerting;
mod alertmanager;
mod ci;
mod compose;
mod digitalocean;
mod dns;
mod grafana;
mod kubernetes;
mod loadtest;
mod prometheus;
mod scripts;
