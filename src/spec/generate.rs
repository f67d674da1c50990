//! `[generate]`: how the spec's files are generated.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// How harden generates this spec's files, remembered so that every command
/// (`generate`, `diff`, `check`, the CI workflow) renders them the same way.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// A directory of template overrides, relative to the spec (such as
    /// `harden-templates`): each file replaces the built-in template of the
    /// same name (`harden templates list`; start one with `harden templates
    /// export NAME`). `--templates DIR` overrides it for one run.
    pub templates: Option<RelPath>,
}
