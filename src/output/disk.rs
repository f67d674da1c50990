//! What is on disk at an output path, read without following any symlink.

use std::fs;
use std::io;
use std::path::Path;

use super::{FileMode, OutputError, io_err};

/// What is at a (validated) relative path under `dir`, without following any symlink.
pub(super) enum OnDisk {
    Absent,
    File {
        contents: Vec<u8>,
        mode: FileMode,
    },
    /// Something harden must not write over or through; `at` is the offending prefix.
    Blocked {
        at: String,
        found: &'static str,
    },
}

pub(super) fn inspect(dir: &Path, rel: &str) -> Result<OnDisk, OutputError> {
    let components: Vec<&str> = rel.split('/').collect();
    let mut full = dir.to_path_buf();
    for (i, component) in components.iter().enumerate() {
        full.push(component);
        let meta = match fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(OnDisk::Absent),
            Err(e) => return Err(io_err("inspect", &full)(e)),
        };
        let at = components[..=i].join("/");
        let kind = meta.file_type();
        let found = if kind.is_symlink() {
            "a symbolic link"
        } else if i + 1 < components.len() {
            if kind.is_dir() {
                continue;
            }
            "not a directory"
        } else if kind.is_dir() {
            "a directory"
        } else if !kind.is_file() {
            "not a regular file"
        } else {
            let contents = fs::read(&full).map_err(io_err("read", &full))?;
            return Ok(OnDisk::File {
                contents,
                mode: mode_of(&meta),
            });
        };
        return Ok(OnDisk::Blocked { at, found });
    }
    Ok(OnDisk::Absent)
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> FileMode {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o100 != 0 {
        FileMode::Executable
    } else {
        FileMode::Regular
    }
}

#[cfg(not(unix))]
fn mode_of(_meta: &fs::Metadata) -> FileMode {
    FileMode::Regular
}

/// Whether the mode on disk counts as `want` (always true where modes do not exist).
pub(super) fn mode_matches(on_disk: FileMode, want: FileMode) -> bool {
    !cfg!(unix) || on_disk == want
}
