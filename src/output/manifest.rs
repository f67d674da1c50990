//! The manifest (`.harden-manifest.json`): what harden wrote in the output directory.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::root::root_up;
use super::set::validate_path;
use super::sha256;
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
    /// The SHA-256 of the contents harden wrote; absent in manifests written before
    /// harden recorded hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    /// Only while a run is under way: the contents harden wrote before it, which the
    /// file still holds if the run stops before replacing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_sha256: Option<String>,
}

/// What the manifest says harden wrote at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Owned {
    pub mode: FileMode,
    /// SHA-256 (hex) of the contents harden wrote; `None` for an entry from an older
    /// manifest, which recorded no hashes.
    pub sha256: Option<String>,
    /// While a run is under way, the hash of the contents it is replacing.
    pub previous_sha256: Option<String>,
}

impl Owned {
    /// An entry for contents harden is writing now.
    pub fn new(mode: FileMode, contents: &[u8]) -> Self {
        Owned {
            mode,
            sha256: Some(sha256::hex(contents)),
            previous_sha256: None,
        }
    }

    /// Whether contents with this SHA-256 are what harden wrote here: `Some(true)` or
    /// `Some(false)`, or `None` when the entry has no hash to tell.
    pub fn wrote(&self, hash: &str) -> Option<bool> {
        let recorded = self.sha256.as_deref()?;
        Some(hash == recorded || self.previous_sha256.as_deref() == Some(hash))
    }
}

/// Relative path → what harden wrote there.
pub(super) type Manifest = BTreeMap<String, Owned>;

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
        // The one path outside the output directory: the workflow at the repository root.
        if root_up(&entry.path).is_none() {
            validate_path(&entry.path)
                .map_err(|reason| corrupt(format!("entry {:?}: {reason}", entry.path)))?;
        }
        let mode = FileMode::from_manifest(&entry.mode).ok_or_else(|| {
            corrupt(format!(
                "entry {:?}: mode {:?} is not 0644 or 0755",
                entry.path, entry.mode
            ))
        })?;
        for hash in [&entry.sha256, &entry.previous_sha256]
            .into_iter()
            .flatten()
        {
            if !sha256::is_hex_digest(hash) {
                return Err(corrupt(format!(
                    "entry {:?}: {hash:?} is not a SHA-256 in lowercase hex",
                    entry.path
                )));
            }
        }
        files.insert(
            entry.path,
            Owned {
                mode,
                sha256: entry.sha256,
                previous_sha256: entry.previous_sha256,
            },
        );
    }
    Ok(files)
}

pub(super) fn render_manifest(files: &Manifest) -> Result<Vec<u8>, OutputError> {
    let json = ManifestJson {
        generated_by: "harden".into(),
        files: files
            .iter()
            .map(|(path, owned)| ManifestEntry {
                path: path.clone(),
                mode: owned.mode.to_string(),
                sha256: owned.sha256.clone(),
                previous_sha256: owned.previous_sha256.clone(),
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
