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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use similar::TextDiff;

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

/// The result of generation: validated relative paths mapped to files, ordered by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputSet {
    files: BTreeMap<String, OutputFile>,
}

impl OutputSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file at `path` (relative, '/'-separated).
    ///
    /// Rejects with [`OutputError::InvalidPath`] paths that are empty, absolute, contain
    /// `.`/`..`/empty components, backslashes or NUL, start with the manifest name, end in
    /// the reserved temp suffix, or would need an existing file to be a directory (or vice
    /// versa); rejects a path already in the set with [`OutputError::Duplicate`].
    pub fn insert(
        &mut self,
        path: impl Into<String>,
        contents: impl Into<Vec<u8>>,
        mode: FileMode,
    ) -> Result<(), OutputError> {
        let path = path.into();
        let invalid = |reason: String| OutputError::InvalidPath {
            path: path.clone(),
            reason,
        };
        validate_path(&path).map_err(|r| invalid(r.to_string()))?;
        if self.files.contains_key(&path) {
            return Err(OutputError::Duplicate { path });
        }
        let mut ancestor = path.as_str();
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if self.files.contains_key(parent) {
                return Err(invalid(format!(
                    "it needs `{parent}`, a file, to be a directory"
                )));
            }
            ancestor = parent;
        }
        let as_dir = format!("{path}/");
        if let Some((child, _)) = self.files.range(as_dir.clone()..).next()
            && child.starts_with(&as_dir)
        {
            return Err(invalid(format!("`{child}` needs it to be a directory")));
        }
        let contents = contents.into();
        self.files.insert(path, OutputFile { contents, mode });
        Ok(())
    }

    /// The file at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&OutputFile> {
        self.files.get(path)
    }

    /// All files, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OutputFile)> {
        self.files.iter().map(|(p, f)| (p.as_str(), f))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the set has no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
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
fn check_dir(dir: &Path) -> Result<(), OutputError> {
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

/// Checks a relative output path (also used for manifest entries).
fn validate_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("the path is empty");
    }
    if path.starts_with('/') {
        return Err("absolute paths are not allowed");
    }
    if path.contains('\\') {
        return Err("backslashes are not allowed, use '/'");
    }
    if path.contains('\0') {
        return Err("NUL bytes are not allowed");
    }
    if path.starts_with(MANIFEST) {
        return Err("the name is reserved for harden's manifest");
    }
    for component in path.split('/') {
        match component {
            "" => return Err("empty components ('//' or a trailing '/') are not allowed"),
            "." | ".." => return Err("'.' and '..' components are not allowed"),
            c if c.ends_with(TMP_SUFFIX) => return Err("the suffix .harden-tmp is reserved"),
            _ => {}
        }
    }
    Ok(())
}

/// What is at a (validated) relative path under `dir`, without following any symlink.
enum OnDisk {
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

fn inspect(dir: &Path, rel: &str) -> Result<OnDisk, OutputError> {
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
fn mode_matches(on_disk: FileMode, want: FileMode) -> bool {
    !cfg!(unix) || on_disk == want
}

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

type Manifest = BTreeMap<String, FileMode>;

/// Reads the manifest in `dir`; a missing one owns nothing, an invalid one is an error.
fn read_manifest(dir: &Path) -> Result<Manifest, OutputError> {
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

fn render_manifest(files: &Manifest) -> Result<Vec<u8>, OutputError> {
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
fn write_manifest(dir: &Path, files: &Manifest) -> Result<(), OutputError> {
    let bytes = render_manifest(files)?;
    let path = dir.join(MANIFEST);
    let same = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
        && fs::read(&path).is_ok_and(|existing| existing == bytes);
    if same {
        return Ok(());
    }
    write_atomic(dir, MANIFEST, &bytes, FileMode::Regular)
}

/// Writes `dir/rel` through a temp file in the same directory and a rename.
fn write_atomic(dir: &Path, rel: &str, contents: &[u8], mode: FileMode) -> Result<(), OutputError> {
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

/// Compares `set` with the files in `dir` and reports every drift, sorted by path.
///
/// Reads only `dir`; a missing directory or manifest is fine (files are then `Missing`,
/// nothing is `Stale`). A file whose contents and executable bit both differ yields a
/// `Changed` and a `ModeChanged`.
pub fn diff(set: &OutputSet, dir: &Path) -> Result<DiffReport, OutputError> {
    check_dir(dir)?;
    let owned = read_manifest(dir)?;
    let mut drifts = Vec::new();
    for (path, file) in set.iter() {
        match inspect(dir, path)? {
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
                unified: format!("{path}: {at} is {found}, expected a regular file\n"),
            }),
        }
    }
    for path in owned.keys().filter(|p| set.get(p).is_none()) {
        if !matches!(inspect(dir, path)?, OnDisk::Absent) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    const NO_FORCE: WriteOptions = WriteOptions { force: false };
    const FORCE: WriteOptions = WriteOptions { force: true };

    fn set_of(files: &[(&str, &str)]) -> OutputSet {
        let mut set = OutputSet::new();
        for (path, contents) in files {
            set.insert(*path, *contents, FileMode::Regular).unwrap();
        }
        set
    }

    /// Every regular file under `dir` (manifest included), relative path → contents.
    fn tree(dir: &Path) -> BTreeMap<String, String> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let rel = path
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    out.insert(rel, fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(dir, dir, &mut out);
        out
    }

    /// The tree `write(set)` must leave: the set's files plus its manifest.
    fn expected_tree(set: &OutputSet) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = set
            .iter()
            .map(|(p, f)| {
                (
                    p.to_string(),
                    String::from_utf8(f.contents.clone()).unwrap(),
                )
            })
            .collect();
        let manifest: Manifest = set.iter().map(|(p, f)| (p.to_string(), f.mode)).collect();
        out.insert(
            MANIFEST.into(),
            String::from_utf8(render_manifest(&manifest).unwrap()).unwrap(),
        );
        out
    }

    #[test]
    fn write_to_empty_dir_then_diff_is_clean() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("out/nested");
        let set = set_of(&[("prometheus/rules.yml", "groups: []\n"), ("a.yml", "a\n")]);
        let report = write(&set, &dir, &NO_FORCE).unwrap();
        assert_eq!(report.written, ["a.yml", "prometheus/rules.yml"]);
        assert!(report.unchanged.is_empty() && report.removed.is_empty());
        assert_eq!(tree(&dir), expected_tree(&set));
        assert!(diff(&set, &dir).unwrap().is_clean());
    }

    #[test]
    fn manifest_is_sorted_pretty_json_with_trailing_newline() {
        let tmp = TempDir::new().unwrap();
        let mut set = set_of(&[("z.yml", "z\n")]);
        set.insert("bin/run.sh", "#!/bin/sh\n", FileMode::Executable)
            .unwrap();
        write(&set, tmp.path(), &NO_FORCE).unwrap();
        let manifest = fs::read_to_string(tmp.path().join(MANIFEST)).unwrap();
        let expected = r#"{
  "generated_by": "harden",
  "files": [
    {
      "path": "bin/run.sh",
      "mode": "0755"
    },
    {
      "path": "z.yml",
      "mode": "0644"
    }
  ]
}
"#;
        assert_eq!(manifest, expected);
    }

    #[test]
    fn second_write_leaves_everything_untouched() {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        let tmp = TempDir::new().unwrap();
        let set = set_of(&[("a.yml", "a\n"), ("k8s/hpa.yaml", "hpa\n")]);
        write(&set, tmp.path(), &NO_FORCE).unwrap();
        let paths = ["a.yml", "k8s/hpa.yaml", MANIFEST];
        let stamp = |p: &str| {
            let meta = fs::metadata(tmp.path().join(p)).unwrap();
            #[cfg(unix)]
            return (meta.modified().unwrap(), meta.ino());
            #[cfg(not(unix))]
            return (meta.modified().unwrap(), 0);
        };
        let before: Vec<_> = paths.iter().map(|p| stamp(p)).collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let report = write(&set, tmp.path(), &NO_FORCE).unwrap();
        assert_eq!(
            report,
            WriteReport {
                unchanged: vec!["a.yml".into(), "k8s/hpa.yaml".into()],
                ..Default::default()
            }
        );
        let after: Vec<_> = paths.iter().map(|p| stamp(p)).collect();
        assert_eq!(before, after);
    }

    #[test]
    fn edited_file_is_changed_with_a_unified_diff() {
        let tmp = TempDir::new().unwrap();
        let mut set = set_of(&[("alerts.yml", "one\ntwo\nthree\n")]);
        set.insert("logo.bin", vec![0xff, 0x00], FileMode::Regular)
            .unwrap();
        write(&set, tmp.path(), &NO_FORCE).unwrap();
        fs::write(tmp.path().join("alerts.yml"), "one\nTWO\nthree\n").unwrap();
        fs::write(tmp.path().join("logo.bin"), [0xfe]).unwrap();

        let report = diff(&set, tmp.path()).unwrap();
        let [
            Drift::Changed { path, unified },
            Drift::Changed {
                path: bin,
                unified: note,
            },
        ] = &report.drifts[..]
        else {
            panic!("expected two Changed drifts, got {:?}", report.drifts);
        };
        assert_eq!(path, "alerts.yml");
        assert!(
            unified.starts_with("--- a/alerts.yml\n+++ b/alerts.yml\n@@"),
            "{unified}"
        );
        assert!(unified.contains("\n-TWO\n+two\n"), "{unified}");
        assert_eq!(bin, "logo.bin");
        assert_eq!(note, "binary files a/logo.bin and b/logo.bin differ\n");
    }

    #[test]
    fn every_drift_is_reported_sorted_by_path() {
        let tmp = TempDir::new().unwrap();
        let set = set_of(&[("a.yml", "a\n"), ("b.yml", "b\n"), ("c/d.yml", "d\n")]);
        write(&set, tmp.path(), &NO_FORCE).unwrap();
        fs::remove_file(tmp.path().join("c/d.yml")).unwrap();
        fs::remove_file(tmp.path().join("a.yml")).unwrap();
        fs::write(tmp.path().join("b.yml"), "changed\n").unwrap();
        let drifts = diff(&set, tmp.path()).unwrap().drifts;
        let summary: Vec<_> = drifts
            .iter()
            .map(|d| match d {
                Drift::Missing { path } => format!("missing {path}"),
                Drift::Changed { path, .. } => format!("changed {path}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            ["missing a.yml", "changed b.yml", "missing c/d.yml"]
        );
    }

    #[test]
    fn diff_of_a_missing_dir_reports_everything_missing() {
        let tmp = TempDir::new().unwrap();
        let set = set_of(&[("a.yml", "a\n")]);
        let drifts = diff(&set, &tmp.path().join("nope")).unwrap().drifts;
        assert_eq!(
            drifts,
            [Drift::Missing {
                path: "a.yml".into()
            }]
        );
    }

    #[test]
    fn dropped_file_is_stale_then_removed_with_its_empty_parents() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path();
        let old = set_of(&[
            ("keep.yml", "k\n"),
            ("old/deep/x.yml", "x\n"),
            ("old/y.yml", "y\n"),
        ]);
        write(&old, dir, &NO_FORCE).unwrap();
        fs::write(dir.join("old/notes.txt"), "user's\n").unwrap();
        let new = set_of(&[("keep.yml", "k\n")]);

        let drifts = diff(&new, dir).unwrap().drifts;
        assert_eq!(
            drifts,
            [
                Drift::Stale {
                    path: "old/deep/x.yml".into()
                },
                Drift::Stale {
                    path: "old/y.yml".into()
                },
            ]
        );

        let report = write(&new, dir, &NO_FORCE).unwrap();
        assert_eq!(report.removed, ["old/deep/x.yml", "old/y.yml"]);
        assert_eq!(report.unchanged, ["keep.yml"]);
        assert!(!dir.join("old/deep").exists(), "empty parent must go");
        let mut expected = expected_tree(&new);
        expected.insert("old/notes.txt".into(), "user's\n".into());
        assert_eq!(tree(dir), expected, "non-empty parent and user file stay");
        assert!(diff(&new, dir).unwrap().is_clean());
    }

    #[test]
    fn foreign_file_is_refused_before_writing_anything_then_forced() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path();
        fs::write(dir.join("b.yml"), "mine\n").unwrap();
        let set = set_of(&[
            ("a.yml", "a\n"),
            ("b.yml", "generated\n"),
            ("c/d.yml", "d\n"),
        ]);

        let err = write(&set, dir, &NO_FORCE).unwrap_err();
        assert!(
            matches!(&err, OutputError::NotOwned { path } if path == "b.yml"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("move it away or re-run with --force")
        );
        assert_eq!(
            tree(dir),
            BTreeMap::from([("b.yml".into(), "mine\n".into())])
        );

        let report = write(&set, dir, &FORCE).unwrap();
        assert_eq!(report.written, ["a.yml", "b.yml", "c/d.yml"]);
        assert_eq!(tree(dir), expected_tree(&set));
    }

    #[test]
    fn identical_foreign_file_is_adopted() {
        let tmp = TempDir::new().unwrap();
        fs::write(tmp.path().join("a.yml"), "a\n").unwrap();
        let set = set_of(&[("a.yml", "a\n")]);
        let report = write(&set, tmp.path(), &NO_FORCE).unwrap();
        assert_eq!(report.unchanged, ["a.yml"]);
        assert_eq!(tree(tmp.path()), expected_tree(&set));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_directories_in_the_way_are_refused() {
        use std::os::unix::fs::symlink;
        let tmp = TempDir::new().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("hpa.yaml"), "precious\n").unwrap();
        let set = set_of(&[("a.yml", "a\n"), ("k8s/hpa.yaml", "hpa\n")]);
        let obstructed_at = |dir: &Path, opts: &WriteOptions| match write(&set, dir, opts) {
            Err(OutputError::Obstructed { at, found, .. }) => {
                assert_eq!(
                    tree(&outside),
                    BTreeMap::from([("hpa.yaml".into(), "precious\n".into())])
                );
                assert!(!dir.join("a.yml").exists() && !dir.join(MANIFEST).exists());
                (at, found)
            }
            other => panic!("expected Obstructed, got {other:?}"),
        };

        let parent_link = tmp.path().join("parent-link");
        fs::create_dir(&parent_link).unwrap();
        symlink(&outside, parent_link.join("k8s")).unwrap();
        assert_eq!(
            obstructed_at(&parent_link, &NO_FORCE),
            ("k8s".into(), "a symbolic link")
        );
        assert_eq!(
            obstructed_at(&parent_link, &FORCE),
            ("k8s".into(), "a symbolic link")
        );

        let target_link = tmp.path().join("target-link");
        fs::create_dir_all(target_link.join("k8s")).unwrap();
        symlink(outside.join("hpa.yaml"), target_link.join("k8s/hpa.yaml")).unwrap();
        let found = obstructed_at(&target_link, &FORCE);
        assert_eq!(found, ("k8s/hpa.yaml".into(), "a symbolic link"));

        let target_dir = tmp.path().join("target-dir");
        fs::create_dir_all(target_dir.join("k8s/hpa.yaml")).unwrap();
        assert_eq!(
            obstructed_at(&target_dir, &FORCE),
            ("k8s/hpa.yaml".into(), "a directory")
        );

        // A stale file reached through a symlink is not harden's to delete.
        let stale_link = tmp.path().join("stale-link");
        write(&set, &stale_link, &NO_FORCE).unwrap();
        fs::remove_dir_all(stale_link.join("k8s")).unwrap();
        symlink(&outside, stale_link.join("k8s")).unwrap();
        let only_a = set_of(&[("a.yml", "a\n")]);
        assert!(
            write(&only_a, &stale_link, &NO_FORCE)
                .unwrap()
                .removed
                .is_empty()
        );
        assert!(outside.join("hpa.yaml").exists());

        // The output directory itself may be a symlink.
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        symlink(&real, tmp.path().join("dir-link")).unwrap();
        write(&set, &tmp.path().join("dir-link"), &NO_FORCE).unwrap();
        assert_eq!(tree(&real), expected_tree(&set));
    }

    #[test]
    fn invalid_and_conflicting_paths_are_rejected_by_insert() {
        let mut set = OutputSet::new();
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "./a",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
            MANIFEST,
            ".harden-manifest.json.bak",
            "x/.a.yml.harden-tmp",
        ] {
            let err = set.insert(bad, "", FileMode::Regular).unwrap_err();
            assert!(
                matches!(err, OutputError::InvalidPath { .. }),
                "{bad:?}: {err:?}"
            );
        }
        set.insert(".github/workflows/ci.yml", "", FileMode::Regular)
            .unwrap();
        set.insert("a/b", "", FileMode::Regular).unwrap();
        let dup = set.insert("a/b", "", FileMode::Executable).unwrap_err();
        assert!(matches!(dup, OutputError::Duplicate { path } if path == "a/b"));
        for conflict in ["a", "a/b/c"] {
            let err = set.insert(conflict, "", FileMode::Regular).unwrap_err();
            assert!(
                matches!(err, OutputError::InvalidPath { .. }),
                "{conflict}: {err:?}"
            );
        }
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            [".github/workflows/ci.yml", "a/b"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn executable_mode_is_written_and_mode_drift_detected() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path();
        let mut set = set_of(&[("a.yml", "a\n")]);
        set.insert("run.sh", "#!/bin/sh\n", FileMode::Executable)
            .unwrap();
        write(&set, dir, &NO_FORCE).unwrap();
        let mode = |p: &str| fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        let chmod = |p: &str, m: u32| {
            fs::set_permissions(dir.join(p), fs::Permissions::from_mode(m)).unwrap()
        };
        assert_eq!((mode("run.sh"), mode("a.yml")), (0o755, 0o644));
        assert!(diff(&set, dir).unwrap().is_clean());

        chmod("run.sh", 0o644);
        chmod("a.yml", 0o664); // another umask is not drift: only the executable bit counts
        let drifts = diff(&set, dir).unwrap().drifts;
        assert_eq!(
            drifts,
            [Drift::ModeChanged {
                path: "run.sh".into(),
                expected: FileMode::Executable
            }]
        );

        let report = write(&set, dir, &NO_FORCE).unwrap();
        assert_eq!(
            (report.written, report.unchanged),
            (vec!["run.sh".into()], vec!["a.yml".into()])
        );
        assert_eq!(mode("run.sh"), 0o755);
        assert!(diff(&set, dir).unwrap().is_clean());
    }

    #[test]
    fn corrupt_manifest_is_an_error_unless_forced() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path();
        let set = set_of(&[("a.yml", "a\n")]);
        write(&set, dir, &NO_FORCE).unwrap();
        fs::write(dir.join(MANIFEST), "{ not json").unwrap();

        let err = write(&set, dir, &NO_FORCE).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, OutputError::CorruptManifest { .. }));
        assert!(
            message.contains(MANIFEST) && message.contains("delete it and re-run"),
            "{message}"
        );
        assert!(matches!(
            diff(&set, dir),
            Err(OutputError::CorruptManifest { .. })
        ));

        let report = write(&set, dir, &FORCE).unwrap();
        assert_eq!(report.unchanged, ["a.yml"]);
        assert_eq!(tree(dir), expected_tree(&set));
    }

    #[test]
    fn manifest_entries_outside_dir_are_refused() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).unwrap();
        let outside = tmp.path().join("outside.txt");
        fs::write(&outside, "precious\n").unwrap();
        let set = set_of(&[("a.yml", "a\n")]);
        let absolute = outside.to_string_lossy().into_owned();
        for bad in ["../outside.txt", absolute.as_str()] {
            let manifest = serde_json::json!({
                "generated_by": "harden",
                "files": [{"path": bad, "mode": "0644"}],
            });
            fs::write(dir.join(MANIFEST), manifest.to_string()).unwrap();
            let err = write(&set, &dir, &NO_FORCE).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
            assert!(matches!(
                diff(&set, &dir),
                Err(OutputError::CorruptManifest { .. })
            ));
            assert!(!dir.join("a.yml").exists());
        }
        write(&set, &dir, &FORCE).unwrap();
        assert_eq!(fs::read_to_string(&outside).unwrap(), "precious\n");
        assert_eq!(tree(&dir), expected_tree(&set));
    }

    #[test]
    fn interrupted_write_is_repaired_by_the_next_run() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path();
        let old = set_of(&[
            ("a.yml", "old\n"),
            ("gone/x.yml", "x\n"),
            ("keep.yml", "k\n"),
        ]);
        write(&old, dir, &NO_FORCE).unwrap();
        let new = set_of(&[
            ("a.yml", "new\n"),
            ("b/c.yml", "new\n"),
            ("keep.yml", "k\n"),
        ]);

        // Replay a run killed after the union manifest and the first new file.
        let mut union = read_manifest(dir).unwrap();
        union.extend(new.iter().map(|(p, f)| (p.to_string(), f.mode)));
        write_manifest(dir, &union).unwrap();
        fs::create_dir(dir.join("b")).unwrap();
        write_atomic(dir, "b/c.yml", b"new\n", FileMode::Regular).unwrap();

        let drifts: Vec<_> = diff(&new, dir)
            .unwrap()
            .drifts
            .iter()
            .map(|d| d.path().to_string())
            .collect();
        assert_eq!(drifts, ["a.yml", "gone/x.yml"]);

        let report = write(&new, dir, &NO_FORCE).unwrap();
        assert_eq!(report.written, ["a.yml"]);
        assert_eq!(report.unchanged, ["b/c.yml", "keep.yml"]);
        assert_eq!(report.removed, ["gone/x.yml"]);
        assert_eq!(tree(dir), expected_tree(&new));
        assert!(!dir.join("gone").exists());
        assert!(diff(&new, dir).unwrap().is_clean());
    }

    #[test]
    fn write_failing_midway_leaves_owned_files_and_next_run_repairs() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path();
        let old = set_of(&[
            (
                "a.yml", "old
",
            ),
            (
                "gone.yml", "g
",
            ),
        ]);
        write(&old, dir, &NO_FORCE).unwrap();
        let new = set_of(&[
            (
                "a.yml", "new
",
            ),
            (
                "b/c.yml", "c
",
            ),
        ]);
        // A directory where b/c.yml's temp file goes makes that write fail.
        fs::create_dir_all(dir.join("b/.c.yml.harden-tmp/x")).unwrap();

        let err = write(&new, dir, &NO_FORCE).unwrap_err();
        assert!(
            matches!(&err, OutputError::Io { path, .. } if path.ends_with("b/.c.yml.harden-tmp")),
            "{err:?}"
        );
        let owned: Vec<String> = read_manifest(dir).unwrap().into_keys().collect();
        assert_eq!(
            owned,
            ["a.yml", "b/c.yml", "gone.yml"],
            "manifest is the union"
        );
        assert_eq!(fs::read_to_string(dir.join("a.yml")).unwrap(), "new\n");
        assert!(dir.join("gone.yml").exists());

        fs::remove_dir_all(dir.join("b/.c.yml.harden-tmp")).unwrap();
        let report = write(&new, dir, &NO_FORCE).unwrap();
        assert_eq!(
            (report.written, report.removed),
            (vec!["b/c.yml".into()], vec!["gone.yml".into()])
        );
        assert_eq!(tree(dir), expected_tree(&new));
    }
}
