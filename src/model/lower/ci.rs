//! `[ci]`: the opt-in GitHub Actions workflow.

use super::*;

impl Lower {
    pub(super) fn ci(&mut self, c: &spec::Ci, load_test: Option<&LoadTest>) -> Ci {
        let directory = c
            .directory
            .as_ref()
            .map_or(".", |d| d.as_str())
            .trim_end_matches('/')
            .to_string();
        if directory.split('/').any(|part| part == "..") {
            self.invalid(
                "/ci/directory",
                format!("`{directory}` leaves the repository"),
                "give the spec's directory relative to the repository root, without `..`",
            );
        }
        let environments = || {
            load_test
                .map(|l| {
                    l.environments
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let smoke_environment = match (&c.smoke_environment, load_test) {
            (Some(e), Some(_)) => {
                if !e
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                {
                    self.invalid(
                        "/ci/smoke_environment",
                        format!("`{e}` cannot name a CI job: the workflow would read it as shell or a GitHub expression"),
                        "name the environment with letters, digits, `_`, `.` and `-` only (in [load_test] environments too)",
                    );
                }
                self.reference(
                    "/ci/smoke_environment",
                    e,
                    "load-test environment",
                    environments(),
                );
                Some(e.clone())
            }
            (Some(_), None) => {
                self.invalid(
                    "/ci/smoke_environment",
                    "a smoke test needs a [load_test], and the spec has none",
                    "add a [load_test] with this environment, or remove smoke_environment",
                );
                None
            }
            // `staging` is a safe word, whatever the other names are.
            (None, Some(_)) => environments()
                .into_iter()
                .find(|e| *e == "staging")
                .map(str::to_string),
            (None, None) => None,
        };
        let install = c.install.unwrap_or_default();
        if install == CiInstall::Release && c.harden_rev.is_some() {
            self.not_applicable_because(
                "/ci",
                "harden_rev",
                "install = \"source\"",
                format!(
                    "the release install takes the version of the harden that generates the workflow ({}): remove harden_rev, or set install = \"source\" to build that revision",
                    HARDEN_VERSION
                ),
            );
        }
        Ci {
            provider: c.provider,
            harden_git: c.harden_git.as_str().to_string(),
            install,
            harden_rev: c.harden_rev.as_ref().map_or_else(
                || format!("v{}", HARDEN_VERSION),
                |r| r.as_str().to_string(),
            ),
            directory: if directory.is_empty() {
                ".".into()
            } else {
                directory
            },
            smoke_environment,
        }
    }
}
