//! The one file harden writes outside the output directory, and where every path of a set
//! or manifest is on disk.
//!
//! GitHub runs workflows only from the repository root's `.github/workflows/`, so when the
//! spec and its output live in a subdirectory (`[ci] directory = "deploy"`) the workflow is
//! written at the root: the output directory's path with `directory` taken off its end. In
//! the set and the manifest its path is relative to the output directory
//! (`../.github/workflows/harden.yml`); no other path may leave the output directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{OutputError, OutputSet, io_err};

/// The one path harden writes relative to the repository root instead of the output
/// directory: the CI workflow, where GitHub runs it.
pub const AT_REPOSITORY_ROOT: &str = ".github/workflows/harden.yml";

/// The set's and the manifest's path of [`AT_REPOSITORY_ROOT`] for an output directory
/// `up` directories below the repository root.
pub(super) fn root_key(up: usize) -> String {
    format!("{}{AT_REPOSITORY_ROOT}", "../".repeat(up))
}

/// How many directories up a path of the set or manifest climbs: `Some(n)` for
/// [`root_key`]`(n)` (n ≥ 1), `None` for any other path.
pub(super) fn root_up(key: &str) -> Option<usize> {
    let mut rest = key;
    let mut up = 0;
    while let Some(r) = rest.strip_prefix("../") {
        rest = r;
        up += 1;
    }
    (up > 0 && rest == AT_REPOSITORY_ROOT).then_some(up)
}

/// A path of the set or manifest on disk: `base.join(rel)`, `rel` a clean relative path.
pub(super) struct Place<'k> {
    pub base: PathBuf,
    pub rel: &'k str,
    /// What `rel` is prefixed with to name the file relative to the output directory.
    pub prefix: &'k str,
}

impl Place<'_> {
    /// A path under `base` named relative to the output directory (for messages).
    pub fn shown(&self, at: &str) -> String {
        format!("{}{at}", self.prefix)
    }
}

/// Resolves the paths of a set (or manifest) written into `out`.
pub(super) struct Places {
    out: PathBuf,
    /// `out` made absolute with every symlink resolved, once a path needs it.
    resolved: Option<PathBuf>,
}

impl Places {
    /// Places in `out`; with a set's `directory` (it has a file at the repository root),
    /// refuses an output directory whose path does not end with it.
    pub fn new(out: &Path, directory: Option<&str>) -> Result<Places, OutputError> {
        let mut places = Places {
            out: out.to_path_buf(),
            resolved: None,
        };
        if let Some(directory) = directory {
            let resolved = resolve(out).map_err(io_err("resolve", out))?;
            if !resolved.ends_with(directory) {
                return Err(OutputError::NotUnderDirectory {
                    out: resolved,
                    directory: directory.to_string(),
                });
            }
            places.resolved = Some(resolved);
        }
        Ok(places)
    }

    /// Where `key` is: under the output directory, or for [`AT_REPOSITORY_ROOT`] under the
    /// directory its `../` prefix climbs to (never above the file system's root).
    pub fn locate<'k>(&mut self, key: &'k str) -> Result<Place<'k>, OutputError> {
        let Some(up) = root_up(key) else {
            return Ok(Place {
                base: self.out.clone(),
                rel: key,
                prefix: "",
            });
        };
        let resolved = match &self.resolved {
            Some(r) => r.clone(),
            None => {
                let r = resolve(&self.out).map_err(io_err("resolve", &self.out))?;
                self.resolved = Some(r.clone());
                r
            }
        };
        let base = resolved
            .ancestors()
            .nth(up)
            .ok_or_else(|| OutputError::InvalidPath {
                path: key.to_string(),
                reason: format!("{} has fewer than {up} parents", resolved.display()),
            })?
            .to_path_buf();
        Ok(Place {
            base,
            rel: AT_REPOSITORY_ROOT,
            prefix: &key[..key.len() - AT_REPOSITORY_ROOT.len()],
        })
    }
}

/// Whether `set` can be written into (or compared with) `out`: with a file at the
/// repository root, `out`'s path must end with the set's `directory`.
pub fn check_placement(set: &OutputSet, out: &Path) -> Result<(), OutputError> {
    Places::new(out, set.directory()).map(|_| ())
}

/// `dir` absolute with every symlink resolved; the part that does not exist yet (an output
/// directory `generate` will create) is appended as written.
fn resolve(dir: &Path) -> io::Result<PathBuf> {
    let absolute = std::path::absolute(dir)?;
    let mut missing = Vec::new();
    let mut at = absolute.as_path();
    loop {
        match fs::canonicalize(at) {
            Ok(mut found) => {
                for part in missing.iter().rev() {
                    found.push(part);
                }
                return Ok(found);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (Some(name), Some(parent)) = (at.file_name(), at.parent()) else {
                    return Err(e);
                };
                missing.push(name.to_os_string());
                at = parent;
            }
            Err(e) => return Err(e),
        }
    }
}
