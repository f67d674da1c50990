//! [`write()`]: the output set onto disk, atomically, never over what harden did not write.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::disk::{OnDisk, inspect, mode_matches};
use super::lock::lock_exclusive;
use super::manifest::{Manifest, Owned, read_manifest, write_manifest};
use super::root::Places;
use super::sha256;
use super::{
    FileMode, OutputError, OutputSet, TMP_SUFFIX, WriteOptions, WriteReport, check_dir, io_err,
};

/// Distinguishes the temporary files of one process's writes.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file name beside `name`, unique per process and per write.
pub(super) fn tmp_name(name: &str) -> String {
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".{name}.{}-{n}{TMP_SUFFIX}", std::process::id())
}

/// Whether `name` is one of [`tmp_name`]'s (`.<name>.<pid>-<n>.harden-tmp`).
pub(super) fn is_tmp_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(TMP_SUFFIX))
    else {
        return false;
    };
    let Some((_, id)) = stem.rsplit_once('.') else {
        return false;
    };
    let Some((pid, n)) = id.split_once('-') else {
        return false;
    };
    [pid, n]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes what runs killed mid-write left in `dir/parent` (called under the exclusive
/// lock, so no temporary file there is in use): every regular file with a temporary name,
/// and the fixed-name `.<name>.harden-tmp` older harden versions used, for each `names`.
fn remove_leftovers(dir: &Path, parent: Option<&str>, names: &[&str]) -> Result<(), OutputError> {
    let at = parent.map_or_else(|| dir.to_path_buf(), |p| dir.join(p));
    for name in names {
        let legacy = at.join(format!(".{name}{TMP_SUFFIX}"));
        match fs::remove_file(&legacy) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_err("remove", &legacy)(e));
            }
            _ => {}
        }
    }
    let Ok(entries) = fs::read_dir(&at) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && entry.file_name().to_str().is_some_and(is_tmp_name) {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// Writes `dir/rel` through a uniquely named temp file in the same directory and a rename.
pub(super) fn write_atomic(
    dir: &Path,
    rel: &str,
    contents: &[u8],
    mode: FileMode,
) -> Result<(), OutputError> {
    let target = dir.join(rel);
    let tmp = dir.join(match rel.rsplit_once('/') {
        Some((parent, name)) => format!("{parent}/{}", tmp_name(name)),
        None => tmp_name(rel),
    });
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

/// Replaces the file at `path` (outside any output tree: `harden check --output`)
/// atomically, through a uniquely named temporary file beside it and a rename. A symlink
/// or directory at `path` is refused; a device or FIFO (such as `/dev/null`) is written
/// in place, as it cannot be replaced. An existing file keeps its permissions.
pub fn replace_file(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let shown = path.display().to_string();
    let obstructed = |found| OutputError::Obstructed {
        path: shown.clone(),
        at: shown.clone(),
        found,
    };
    let existing = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => return Err(obstructed("a symbolic link")),
        Ok(meta) if meta.is_dir() => return Err(obstructed("a directory")),
        Ok(meta) if !meta.is_file() => {
            let mut file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io_err("write", path))?;
            return file.write_all(contents).map_err(io_err("write", path));
        }
        Ok(meta) => Some(meta.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err("inspect", path)(e)),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(obstructed("not a file name"));
    };
    let tmp = path.with_file_name(tmp_name(name));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(contents)?;
        if let Some(permissions) = existing {
            file.set_permissions(permissions)?;
        }
        drop(file);
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err("write", path)(e)
    })
}

/// A relative path's parent directory (`None` for the top) and file name.
fn split_parent(path: &str) -> (Option<&str>, &str) {
    match path.rsplit_once('/') {
        Some((parent, name)) => (Some(parent), name),
        None => (None, path),
    }
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

/// The spec's identity, to recognise it at any path (hard links and `--out` aliases too).
struct Spec(Option<fs::Metadata>);

impl Spec {
    fn new(path: Option<&Path>) -> Self {
        Spec(path.and_then(|p| fs::metadata(p).ok()))
    }

    /// Whether `dir/rel` (a regular file, reached without a symlink) is the spec.
    fn is_at(&self, dir: &Path, rel: &str) -> bool {
        let Some(spec) = &self.0 else {
            return false;
        };
        let Ok(meta) = fs::symlink_metadata(dir.join(rel)) else {
            return false;
        };
        same_file(spec, &meta)
    }
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    // No inode to compare: the same size and modification time is the best guess, and
    // errs towards protecting a file.
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

const OVERWRITE_HINT: &str = "move it away, or re-run with --force to overwrite it";
const DELETE_HINT: &str = "harden no longer generates it: delete or move it yourself, or re-run with --force to delete it";

/// Writes `set` into `dir`, leaving identical files untouched and removing files that an
/// earlier run wrote but `set` no longer has.
///
/// Runs under the output directory's exclusive lock. Everything is checked before anything
/// is written. A file on disk is harden's to overwrite or delete only when its contents
/// hash to what the manifest recorded harden wrote there: a file not in the manifest, or
/// changed since, is refused unless `opts.force`; an entry without a hash (an older
/// manifest) owns only contents equal to what harden is about to write, and never a file
/// to delete. The spec (`opts.spec`) is never overwritten or deleted, and a symlink at or
/// above a path, or a directory at a target, is always refused. The manifest is first
/// widened to old ∪ new (a file being replaced keeps its old hash beside the new one), then
/// files are written atomically, stale files removed, and the manifest narrowed to `set`,
/// so an interrupted run leaves every file old or new and owned, and the next run repairs
/// the tree.
pub fn write(set: &OutputSet, dir: &Path, opts: &WriteOptions) -> Result<WriteReport, OutputError> {
    check_dir(dir)?;
    let mut places = Places::new(dir, set.directory())?;
    fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
    let _lock = lock_exclusive(dir)?;
    let old = match read_manifest(dir) {
        Err(OutputError::CorruptManifest { .. }) if opts.force => Manifest::new(),
        other => other?,
    };
    let spec = Spec::new(opts.spec);

    let mut report = WriteReport::default();
    let mut new = Manifest::new();
    let mut to_write = Vec::new();
    for (path, file) in set.iter() {
        let mut owned = Owned::new(file.mode, &file.contents);
        let place = places.locate(path)?;
        match inspect(&place.base, place.rel)? {
            OnDisk::Absent => to_write.push((place, path, file)),
            OnDisk::File { .. } if spec.is_at(&place.base, place.rel) => {
                return Err(OutputError::Protected {
                    path: path.into(),
                    action: "overwrite",
                    hint: "pass another --out, or move the spec out of the output tree",
                });
            }
            OnDisk::File { contents, mode } if contents == file.contents => {
                if mode_matches(mode, file.mode) {
                    report.unchanged.push(path.to_string());
                } else {
                    to_write.push((place, path, file));
                }
            }
            OnDisk::File { contents, .. } => {
                let hash = sha256::hex(&contents);
                match old.get(path).map(|o| o.wrote(&hash)) {
                    Some(Some(true)) => owned.previous_sha256 = Some(hash),
                    _ if opts.force => {}
                    None => return Err(OutputError::NotOwned { path: path.into() }),
                    Some(Some(false)) => {
                        return Err(OutputError::Edited {
                            path: path.into(),
                            action: "overwrite",
                            hint: "carry your change into the spec (or move the file away), or re-run with --force to overwrite it",
                        });
                    }
                    Some(None) => {
                        return Err(OutputError::Unverified {
                            path: path.into(),
                            action: "overwrite",
                            hint: OVERWRITE_HINT,
                        });
                    }
                }
                to_write.push((place, path, file));
            }
            OnDisk::Blocked { at, found } => {
                return Err(OutputError::Obstructed {
                    path: path.into(),
                    at: place.shown(&at),
                    found,
                });
            }
        }
        new.insert(path.to_string(), owned);
    }

    let mut to_remove = Vec::new();
    for (path, owned) in old.iter().filter(|(p, _)| !new.contains_key(*p)) {
        let place = places.locate(path)?;
        // Only regular files reached without crossing a symlink are harden's to delete.
        let OnDisk::File { contents, .. } = inspect(&place.base, place.rel)? else {
            continue;
        };
        if spec.is_at(&place.base, place.rel) {
            if !opts.force {
                return Err(OutputError::Protected {
                    path: path.clone(),
                    action: "delete",
                    hint: "remove its entry from .harden-manifest.json, or re-run with --force to keep the spec and drop the entry",
                });
            }
            report.kept.push(path.clone());
            continue;
        }
        if !opts.force {
            match owned.wrote(&sha256::hex(&contents)) {
                Some(true) => {}
                Some(false) => {
                    return Err(OutputError::Edited {
                        path: path.clone(),
                        action: "delete",
                        hint: DELETE_HINT,
                    });
                }
                None => {
                    return Err(OutputError::Unverified {
                        path: path.clone(),
                        action: "delete",
                        hint: DELETE_HINT,
                    });
                }
            }
        }
        to_remove.push((place, path));
    }

    let mut union = old.clone();
    union.extend(new.clone());
    write_manifest(dir, &union)?;
    for owned in new.values_mut() {
        owned.previous_sha256 = None;
    }

    // Each parent directory is created, and cleared of what killed runs left, once, just
    // before the first file in it is written.
    let mut names = BTreeMap::<(&Path, Option<&str>), Vec<&str>>::new();
    for (place, _, _) in &to_write {
        let (parent, name) = split_parent(place.rel);
        names
            .entry((place.base.as_path(), parent))
            .or_default()
            .push(name);
    }
    for (place, path, file) in &to_write {
        let (parent, _) = split_parent(place.rel);
        if let Some(names) = names.remove(&(place.base.as_path(), parent)) {
            if let Some(parent) = parent {
                let at = place.base.join(parent);
                fs::create_dir_all(&at).map_err(io_err("create directory", &at))?;
            }
            remove_leftovers(&place.base, parent, &names)?;
        }
        write_atomic(&place.base, place.rel, &file.contents, file.mode)?;
        report.written.push(path.to_string());
    }

    for (place, path) in to_remove {
        let full = place.base.join(place.rel);
        fs::remove_file(&full).map_err(io_err("remove", &full))?;
        prune_empty_parents(&place.base, place.rel);
        report.removed.push(path.clone());
    }

    write_manifest(dir, &new)?;
    Ok(report)
}
