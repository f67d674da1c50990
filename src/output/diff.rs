//! [`diff()`]: every difference between an output set and the files on disk.

use similar::TextDiff;
use std::path::Path;

use super::disk::{OnDisk, inspect, mode_matches};
use super::lock::lock_shared;
use super::manifest::read_manifest;
use super::root::Places;
use super::{DiffReport, Drift, OutputError, OutputSet, check_dir};

/// Compares `set` with the files in `dir` and reports every drift, sorted by path.
///
/// Reads only `dir` (and the workflow at the repository root), under `dir`'s shared lock; a missing directory or manifest is fine (files are then `Missing`,
/// nothing is `Stale`). A file whose contents and executable bit both differ yields a
/// `Changed` and a `ModeChanged`.
pub fn diff(set: &OutputSet, dir: &Path) -> Result<DiffReport, OutputError> {
    check_dir(dir)?;
    let mut places = Places::new(dir, set.directory())?;
    let _lock = lock_shared(dir)?;
    let owned = read_manifest(dir)?;
    let mut drifts = Vec::new();
    for (path, file) in set.iter() {
        let place = places.locate(path)?;
        match inspect(&place.base, place.rel)? {
            OnDisk::Absent => drifts.push(Drift::Missing { path: path.into() }),
            OnDisk::File { contents, mode } => {
                if contents != file.contents {
                    drifts.push(Drift::Changed {
                        path: path.into(),
                        unified: unified_diff(path, &contents, &file.contents),
                    });
                }
                if !mode_matches(mode, file.mode) {
                    drifts.push(Drift::ModeChanged {
                        path: path.into(),
                        expected: file.mode,
                    });
                }
            }
            OnDisk::Blocked { at, found } => drifts.push(Drift::Changed {
                path: path.into(),
                unified: format!(
                    "{path}: {} is {found}, expected a regular file\n",
                    place.shown(&at)
                ),
            }),
        }
    }
    for path in owned.keys().filter(|p| set.get(p).is_none()) {
        let place = places.locate(path)?;
        if !matches!(inspect(&place.base, place.rel)?, OnDisk::Absent) {
            drifts.push(Drift::Stale { path: path.clone() });
        }
    }
    drifts.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(DiffReport { drifts })
}

fn unified_diff(path: &str, old: &[u8], new: &[u8]) -> String {
    match (std::str::from_utf8(old), std::str::from_utf8(new)) {
        (Ok(old), Ok(new)) => TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string(),
        _ => format!("binary files a/{path} and b/{path} differ\n"),
    }
}
