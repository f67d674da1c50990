//! The generated file tree, and the only code in harden that touches the file system.
//!
//! Generation produces an [`OutputSet`] (relative path → bytes + mode). [`write()`] puts it
//! on disk for `harden generate`; [`diff()`] compares it with what is on disk for
//! `harden diff`. A manifest ([`MANIFEST`]) in the output directory records which files
//! harden owns, so that files it no longer generates can be removed and files it never
//! wrote are never overwritten without `--force`.
//!
//! Modes are compared by their executable bit only (what git tracks), so a checkout made
//! under another umask (0664 instead of 0644) is not reported as drift.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod diff;
mod disk;
mod manifest;
mod set;
#[cfg(test)]
mod tests;
mod write;

pub use diff::diff;
pub use set::OutputSet;
pub use write::write;

/// Name of the manifest that `write` keeps in the output directory.
pub const MANIFEST: &str = ".harden-manifest.json";

/// Suffix of the temporary files used for atomic writes; reserved in output paths.
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
pub struct WriteOptions {
    /// Overwrite files harden did not write, and ignore a corrupt manifest.
    pub force: bool,
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
