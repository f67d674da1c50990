//! The generated file tree, and the only code in harden that touches the file system.
//!
//! Generation produces an [`OutputSet`] (relative path → bytes + mode). [`write()`] puts it
//! on disk for `harden generate`; [`diff()`] compares it with what is on disk for
//! `harden diff`. A manifest ([`MANIFEST`]) in the output directory records each file harden
//! wrote with the SHA-256 of what it wrote. A file is harden's to overwrite or delete only
//! while its contents still hash to that record: a file harden never wrote, or one changed
//! since, is the user's and is left alone unless `--force` (the spec never, even then).
//!
//! `write` holds an exclusive advisory lock on the output directory, `diff` (and
//! `harden check`, through [`lock_shared`]) a shared one, so concurrent runs take turns and
//! no reader sees a half-written tree.
//!
//! Every file is inside the output directory but one: the CI workflow, which GitHub runs
//! only from the repository root (`root.rs`, [`AT_REPOSITORY_ROOT`]).
//!
//! Modes are compared by their executable bit only (what git tracks), so a checkout made
//! under another umask (0664 instead of 0644) is not reported as drift.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod diff;
mod disk;
mod lock;
mod manifest;
mod root;
mod set;
mod sha256;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ownership;
#[cfg(test)]
mod tests_root;
mod write;

pub use diff::diff;
pub use lock::{DirLock, LOCK_TIMEOUT_ENV, lock_shared};
pub use root::{AT_REPOSITORY_ROOT, check_placement};
pub use set::OutputSet;
pub use write::{replace_file, write};

/// Name of the manifest that `write` keeps in the output directory.
pub const MANIFEST: &str = ".harden-manifest.json";

/// Suffix of the temporary files used for atomic writes; reserved in output paths. A
/// temporary file is named `.<name>.<pid>-<n>.harden-tmp`, unique per process and write.
const TMP_SUFFIX: &str = ".harden-tmp";

/// Permissions of a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileMode {
    /// `0644` on unix.
    Regular,
    /// `0755` on unix.
    Executable,
}

impl FileMode {
    /// The unix permission bits written for this mode.
    pub fn bits(self) -> u32 {
        match self {
            FileMode::Regular => 0o644,
            FileMode::Executable => 0o755,
        }
    }

    fn from_manifest(s: &str) -> Option<Self> {
        match s {
            "0644" => Some(FileMode::Regular),
            "0755" => Some(FileMode::Executable),
            _ => None,
        }
    }
}

impl fmt::Display for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.bits())
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Exact bytes to write.
    pub contents: Vec<u8>,
    /// Permissions to write.
    pub mode: FileMode,
}

/// Options for [`write()`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions<'a> {
    /// Overwrite or delete files harden did not write (or that were changed since), and
    /// ignore a corrupt manifest. Never the spec, never outside the output directory.
    pub force: bool,
    /// The spec being compiled: never overwritten or deleted, even with `force`.
    pub spec: Option<&'a Path>,
}

/// What [`write()`] did; each list is sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files created or replaced.
    pub written: Vec<String>,
    /// Files already identical on disk, left untouched.
    pub unchanged: Vec<String>,
    /// Files harden wrote before but no longer generates, deleted.
    pub removed: Vec<String>,
    /// Files the manifest listed that harden no longer generates but did not delete
    /// because they are the spec (only with `force`; without it that is an error).
    pub kept: Vec<String>,
}

/// One difference between an [`OutputSet`] and the files on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The file on disk has other contents; `unified` is a diff from disk (`a/`) to the
    /// generated file (`b/`), or a one-line note for binary or non-regular files.
    Changed { path: String, unified: String },
    /// The file has the right contents but the wrong executable bit.
    ModeChanged { path: String, expected: FileMode },
    /// The file is generated but absent on disk.
    Missing { path: String },
    /// The file is in the manifest, no longer generated, and still on disk.
    Stale { path: String },
}

impl Drift {
    /// The relative path this drift is about.
    pub fn path(&self) -> &str {
        match self {
            Drift::Changed { path, .. }
            | Drift::ModeChanged { path, .. }
            | Drift::Missing { path }
            | Drift::Stale { path } => path,
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Changed { unified, .. } => f.write_str(unified),
            Drift::ModeChanged { path, expected } => {
                writeln!(f, "{path}: mode differs, expected {expected}")
            }
            Drift::Missing { path } => writeln!(f, "{path}: missing"),
            Drift::Stale { path } => writeln!(f, "{path}: stale (no longer generated)"),
        }
    }
}

/// Every drift between an [`OutputSet`] and a directory, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffReport {
    /// All drifts found.
    pub drifts: Vec<Drift>,
}

impl DiffReport {
    /// True when the directory matches the set exactly.
    pub fn is_clean(&self) -> bool {
        self.drifts.is_empty()
    }
}

/// Why an output operation failed. Each message names the path and what to do.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// An output path that is not a clean relative path inside the output directory.
    #[error(
        "invalid output path {path:?}: {reason}; output paths must be relative, '/'-separated and stay inside the output directory"
    )]
    InvalidPath { path: String, reason: String },
    /// The same output path inserted twice.
    #[error("output path {path:?} is generated twice; every generated file needs its own path")]
    Duplicate { path: String },
    /// A file harden would overwrite that it did not write.
    #[error("{path} exists and was not written by harden; move it away or re-run with --force")]
    NotOwned { path: String },
    /// A file harden wrote whose contents changed since (they no longer hash to what the
    /// manifest recorded): the user's now. `action` is `overwrite` or `delete`.
    #[error(
        "{path} was changed since harden wrote it (its contents no longer match the SHA-256 in .harden-manifest.json), so it is yours now and harden will not {action} it; {hint}"
    )]
    Edited {
        path: String,
        action: &'static str,
        hint: &'static str,
    },
    /// A file the manifest lists without a hash (an older manifest) whose contents are not
    /// what harden would write: whether the user changed it cannot be told.
    #[error(
        "{path} is listed in .harden-manifest.json without a content hash (a manifest from an older harden, or edited by hand), so harden cannot tell whether you changed it and will not {action} it; {hint}"
    )]
    Unverified {
        path: String,
        action: &'static str,
        hint: &'static str,
    },
    /// The spec itself at a path harden would overwrite or delete.
    #[error(
        "refusing to {action} {path}: it is the spec harden is compiling, which harden never overwrites or deletes, even with --force; {hint}"
    )]
    Protected {
        path: String,
        action: &'static str,
        hint: &'static str,
    },
    /// Another harden run holds the output directory's lock past the wait.
    #[error(
        "{} is locked by {holder}: harden locks the output directory while `generate` writes it and while `diff` and `check` read it; waited {:.1}s. Re-run when that run has finished (the lock ends with its process, so it is never left behind; set HARDEN_LOCK_TIMEOUT=SECONDS to wait longer)",
        dir.display(),
        waited.as_secs_f64()
    )]
    Locked {
        dir: PathBuf,
        holder: String,
        waited: std::time::Duration,
    },
    /// A symlink, directory or special file where harden must write a file.
    #[error(
        "cannot write {path}: {at} is {found}; harden never writes through symlinks or over directories, move it away and re-run"
    )]
    Obstructed {
        path: String,
        at: String,
        found: &'static str,
    },
    /// A manifest that is not valid JSON or lists an invalid path or mode.
    #[error(
        "{} is not a valid harden manifest ({reason}); delete it and re-run, or re-run with --force to ignore it",
        path.display()
    )]
    CorruptManifest { path: PathBuf, reason: String },
    /// A set with a file at the repository root, written into an output directory whose
    /// path does not end with the set's `directory` (so the root cannot be found).
    #[error(
        "the output directory {} does not end with `{directory}`, the spec's [ci] directory: GitHub runs workflows only from the repository root's .github/workflows/, and harden finds that root by taking `{directory}` off the output directory's path. Generate into the spec's directory in its repository (a path ending with {directory}), or set [ci] directory to the output directory's path relative to the repository root (\".\" for the root itself)",
        out.display()
    )]
    NotUnderDirectory { out: PathBuf, directory: String },
    /// The output directory is a file.
    #[error("the output directory {} is not a directory; pass another --out", path.display())]
    NotADirectory { path: PathBuf },
    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}; check that the path is accessible and writable", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The output directory may be missing (it is created) but not anything
/// other than a directory.
pub(crate) fn check_dir(dir: &Path) -> Result<(), OutputError> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(OutputError::NotADirectory {
            path: dir.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OutputError {
    let path = path.to_path_buf();
    move |source| OutputError::Io {
        action,
        path,
        source,
    }
}
