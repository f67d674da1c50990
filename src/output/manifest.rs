//! The manifest (`.harden-manifest.json`): what harden wrote in the output directory.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::set::validate_path;
use super::write::write_atomic;
use super::{FileMode, MANIFEST, OutputError, io_err};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestJson {
    generated_by: String,
    files: Vec<ManifestEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    path: String,
    mode: String,
}

pub(super) type Manifest = BTreeMap<String, FileMode>;

/// Reads the manifest in `dir`; a missing one owns nothing, an invalid one is an error.
pub(super) fn read_manifest(dir: &Path) -> Result<Manifest, OutputError> {
    let path = dir.join(MANIFEST);
    let corrupt = |reason: String| OutputError::CorruptManifest {
        path: path.clone(),
        reason,
    };
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Manifest::new()),
        Err(e) => return Err(io_err("inspect", &path)(e)),
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(corrupt("it is not a regular file".into()));
        }
        Ok(_) => {}
    }
    let bytes = fs::read(&path).map_err(io_err("read", &path))?;
    let json: ManifestJson = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if json.generated_by != "harden" {
        return Err(corrupt(format!(
            "generated_by is {:?}, not \"harden\"",
            json.generated_by
        )));
    }
    let mut files = Manifest::new();
    for entry in json.files {
        validate_path(&entry.path)
            .map_err(|reason| corrupt(format!("entry {:?}: {reason}", entry.path)))?;
        let mode = FileMode::from_manifest(&entry.mode).ok_or_else(|| {
            corrupt(format!(
                "entry {:?}: mode {:?} is not 0644 or 0755",
                entry.path, entry.mode
            ))
        })?;
        files.insert(entry.path, mode);
    }
    Ok(files)
}

pub(super) fn render_manifest(files: &Manifest) -> Result<Vec<u8>, OutputError> {
    let json = ManifestJson {
        generated_by: "harden".into(),
        files: files
            .iter()
            .map(|(path, mode)| ManifestEntry {
                path: path.clone(),
                mode: mode.to_string(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&json).map_err(|e| OutputError::Io {
        action: "serialize",
        path: PathBuf::from(MANIFEST),
        source: e.into(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Atomically replaces the manifest unless it already has exactly these contents.
pub(super) fn write_manifest(dir: &Path, files: &Manifest) -> Result<(), OutputError> {
    let bytes = render_manifest(files)?;
    let path = dir.join(MANIFEST);
    let same = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
        && fs::read(&path).is_ok_and(|existing| existing == bytes);
    if same {
        return Ok(());
    }
    write_atomic(dir, MANIFEST, &bytes, FileMode::Regular)
}
