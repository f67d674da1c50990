//! `[generate]`: the template overrides every command uses.

use super::*;

impl Lower {
    /// The override directory, relative to the spec; none without one.
    pub(super) fn templates(&mut self, g: &spec::Generate) -> Option<String> {
        let dir = g.templates.as_ref()?.as_str().trim_end_matches('/');
        if dir.split('/').any(|part| part == "..") {
            self.invalid(
                "/generate/templates",
                format!("`{dir}` leaves the spec's directory"),
                "keep the template overrides beside the spec (such as `harden-templates`), without `..`",
            );
        }
        Some(dir.to_string())
    }
}
