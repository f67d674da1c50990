//! Which spec a command reads when none is named: like cargo's manifest,
//! `hardening.toml` in the working directory or the nearest directory above
//! it, looking no higher than the repository's root (the first directory
//! with a `.git`) or the filesystem's root.

use std::path::{Path, PathBuf};

/// The spec's file name.
pub const DEFAULT_SPEC: &str = "hardening.toml";

/// The spec the user named, or the one found upward from `cwd`, as a path
/// relative to `cwd` (`hardening.toml`, `../../hardening.toml`) so that
/// messages stay short and the spec's directory is the default output.
/// When there is none, the error lists every place looked at.
pub fn resolve(named: Option<PathBuf>, cwd: &Path) -> Result<PathBuf, String> {
    if let Some(path) = named {
        return Ok(path);
    }
    let mut looked = Vec::new();
    let mut relative = PathBuf::new();
    for dir in cwd.ancestors() {
        let candidate = dir.join(DEFAULT_SPEC);
        if candidate.is_file() {
            return Ok(relative.join(DEFAULT_SPEC));
        }
        looked.push(candidate.display().to_string());
        if dir.join(".git").exists() {
            return Err(not_found(&looked, Some(dir)));
        }
        relative.push("..");
    }
    Err(not_found(&looked, None))
}

fn not_found(looked: &[String], repository: Option<&Path>) -> String {
    let stop = match repository {
        Some(root) => format!(
            " (and no higher: {} is the repository's root)",
            root.display()
        ),
        None => String::new(),
    };
    format!(
        "no {DEFAULT_SPEC} found; looked for {}{stop}. Pass the spec's path, run harden from its directory, or run `harden init` to write one here",
        looked.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_spec_above_and_stops_at_the_repository_root() {
        let root = tempfile::tempdir().expect("tempdir");
        let repo = root.path().join("repo");
        let deep = repo.join("deploy/k8s");
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::create_dir(repo.join(".git")).expect("mkdir .git");
        // A spec above the repository is never picked up.
        std::fs::write(root.path().join(DEFAULT_SPEC), "").expect("write");
        let err = resolve(None, &deep).expect_err("stops at .git");
        assert!(
            err.contains(&deep.join(DEFAULT_SPEC).display().to_string()),
            "{err}"
        );
        assert!(
            err.contains(&repo.join(DEFAULT_SPEC).display().to_string()),
            "{err}"
        );
        assert!(err.contains("repository's root"), "{err}");
        assert!(
            !err.contains(&root.path().join(DEFAULT_SPEC).display().to_string()),
            "{err}"
        );

        std::fs::write(repo.join("deploy").join(DEFAULT_SPEC), "").expect("write");
        assert_eq!(
            resolve(None, &deep).expect("found"),
            Path::new("..").join(DEFAULT_SPEC)
        );
        assert_eq!(
            resolve(None, &repo.join("deploy")).expect("found"),
            Path::new(DEFAULT_SPEC)
        );
        assert_eq!(
            resolve(Some("x.toml".into()), &deep).expect("named"),
            Path::new("x.toml")
        );
    }
}
