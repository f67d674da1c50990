//! [`write()`]: the output set onto disk, atomically, never over what harden did not write.

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

use super::disk::{OnDisk, inspect, mode_matches};
use super::manifest::{Manifest, read_manifest, write_manifest};
use super::{
    FileMode, OutputError, OutputSet, TMP_SUFFIX, WriteOptions, WriteReport, check_dir, io_err,
};

/// Writes `dir/rel` through a temp file in the same directory and a rename.
pub(super) fn write_atomic(
    dir: &Path,
    rel: &str,
    contents: &[u8],
    mode: FileMode,
) -> Result<(), OutputError> {
    let target = dir.join(rel);
    let tmp = dir.join(match rel.rsplit_once('/') {
        Some((parent, name)) => format!("{parent}/.{name}{TMP_SUFFIX}"),
        None => format!(".{rel}{TMP_SUFFIX}"),
    });
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err("remove", &tmp)(e)),
        _ => {}
    }
    let result = (|| {
        let mut options = OpenOptions::new();
        // create_new refuses to follow a symlink planted at the temp path.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode.bits());
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode.bits()))?;
        drop(file);
        fs::rename(&tmp, &target)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err("write", &target)(e)
    })
}

/// Removes `dir/rel`'s parent directories while they are empty, stopping below `dir`.
fn prune_empty_parents(dir: &Path, rel: &str) {
    let mut rel = rel;
    while let Some((parent, _)) = rel.rsplit_once('/') {
        if fs::remove_dir(dir.join(parent)).is_err() {
            break;
        }
        rel = parent;
    }
}

/// Writes `set` into `dir`, leaving identical files untouched and removing files that an
/// earlier run wrote but `set` no longer has.
///
/// Everything is checked before anything is written: a file harden did not write (not in
/// the manifest, other contents) is refused unless `opts.force`; a symlink at or above a
/// target, or a directory at a target, is always refused. The manifest is first widened to
/// old ∪ new, then files are written atomically, stale files removed, and the manifest
/// narrowed to `set`, so an interrupted run leaves every file old or new and owned, and the
/// next run repairs the tree.
pub fn write(set: &OutputSet, dir: &Path, opts: &WriteOptions) -> Result<WriteReport, OutputError> {
    check_dir(dir)?;
    let old = match read_manifest(dir) {
        Err(OutputError::CorruptManifest { .. }) if opts.force => Manifest::new(),
        other => other?,
    };

    let mut report = WriteReport::default();
    let mut to_write = Vec::new();
    for (path, file) in set.iter() {
        match inspect(dir, path)? {
            OnDisk::Absent => to_write.push((path, file)),
            OnDisk::File { contents, mode } => {
                if contents == file.contents && mode_matches(mode, file.mode) {
                    report.unchanged.push(path.to_string());
                } else if contents != file.contents && !old.contains_key(path) && !opts.force {
                    return Err(OutputError::NotOwned { path: path.into() });
                } else {
                    to_write.push((path, file));
                }
            }
            OnDisk::Blocked { at, found } => {
                return Err(OutputError::Obstructed {
                    path: path.into(),
                    at,
                    found,
                });
            }
        }
    }

    fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
    let new: Manifest = set.iter().map(|(p, f)| (p.to_string(), f.mode)).collect();
    let mut union = old.clone();
    union.extend(new.clone());
    write_manifest(dir, &union)?;

    // Each parent directory is created once, not once per file in it.
    let mut created = BTreeSet::new();
    for (path, file) in to_write {
        if let Some((parent, _)) = path.rsplit_once('/')
            && created.insert(parent)
        {
            let parent = dir.join(parent);
            fs::create_dir_all(&parent).map_err(io_err("create directory", &parent))?;
        }
        write_atomic(dir, path, &file.contents, file.mode)?;
        report.written.push(path.to_string());
    }

    for path in old.keys().filter(|p| !new.contains_key(*p)) {
        // Only regular files reached without crossing a symlink are harden's to delete.
        if let OnDisk::File { .. } = inspect(dir, path)? {
            let full = dir.join(path);
            fs::remove_file(&full).map_err(io_err("remove", &full))?;
            prune_empty_parents(dir, path);
            report.removed.push(path.clone());
        }
    }

    write_manifest(dir, &new)?;
    Ok(report)
}
