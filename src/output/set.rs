//! [`OutputSet`]: the generated files, by validated relative path.

use std::collections::BTreeMap;

use super::root::{AT_REPOSITORY_ROOT, root_key};
use super::{FileMode, MANIFEST, OutputError, OutputFile, TMP_SUFFIX};

/// The result of generation: validated relative paths mapped to files, ordered by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputSet {
    files: BTreeMap<String, OutputFile>,
    /// With a file at the repository root: the output directory's path relative to the
    /// root (`[ci] directory`), which the output directory's path must end with.
    directory: Option<String>,
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

    /// Adds the one file harden writes at the repository root rather than in the output
    /// directory, [`AT_REPOSITORY_ROOT`], for an output directory at `directory` relative to
    /// that root (`.` when it is the root). Its path in the set is relative to the output
    /// directory (`../.github/workflows/harden.yml` for `deploy`); `write` and `diff` refuse
    /// an output directory whose path does not end with `directory`.
    pub fn insert_at_repository_root(
        &mut self,
        directory: &str,
        contents: impl Into<Vec<u8>>,
        mode: FileMode,
    ) -> Result<(), OutputError> {
        if directory == "." {
            return self.insert(AT_REPOSITORY_ROOT, contents, mode);
        }
        validate_path(directory).map_err(|reason| OutputError::InvalidPath {
            path: directory.to_string(),
            reason: format!("as the output directory's path in the repository, {reason}"),
        })?;
        let key = root_key(directory.split('/').count());
        if self.files.contains_key(&key) {
            return Err(OutputError::Duplicate { path: key });
        }
        self.directory = Some(directory.to_string());
        self.files.insert(
            key,
            OutputFile {
                contents: contents.into(),
                mode,
            },
        );
        Ok(())
    }

    /// The output directory's path relative to the repository root, when the set has a
    /// file there.
    pub fn directory(&self) -> Option<&str> {
        self.directory.as_deref()
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

/// Checks a relative output path (also used for manifest entries).
pub(super) fn validate_path(path: &str) -> Result<(), &'static str> {
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
