//! Files held in memory: a folder's files by `/`-separated relative path, each with its git kind
//! (regular, executable, symlink) and bytes. What trees are read into and work-tree changes are
//! made of.

use std::collections::BTreeMap;

use gix::objs::tree::EntryKind;

/// Kind of a file as git stores it (tree entry mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `100644`
    Regular,
    /// `100755`
    Executable,
    /// `120000`: the data is the link target.
    Symlink,
}

impl FileKind {
    /// The git tree entry kind for this file kind.
    pub fn entry_kind(self) -> EntryKind {
        match self {
            FileKind::Regular => EntryKind::Blob,
            FileKind::Executable => EntryKind::BlobExecutable,
            FileKind::Symlink => EntryKind::Link,
        }
    }
}

/// One file: kind and bytes (for a symlink, the target path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Regular, executable or symlink.
    pub kind: FileKind,
    /// Content bytes.
    pub data: Vec<u8>,
}

/// Files of a folder: `/`-separated path relative to the folder -> entry. Sorted by path.
pub type Files = BTreeMap<String, FileEntry>;

/// The one file of a single file read as a folder (keyed `""`, as [`crate::git::read_path`]
/// reads a file and [`crate::git::read_tree_files`] a blob id): a single-file addon's files.
/// `None` for a folder's files.
pub fn single(files: &Files) -> Option<&FileEntry> {
    files.get("").filter(|_| files.len() == 1)
}

/// `dir/name`, or `name` when `dir` is the repository root (`""`). Paths are `/`-separated.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Test input: regular files from `(path, content)` pairs.
#[cfg(test)]
pub(crate) fn regular_files<D: AsRef<[u8]>>(entries: &[(&str, D)]) -> Files {
    entries
        .iter()
        .map(|(p, d)| {
            (
                p.to_string(),
                FileEntry {
                    kind: FileKind::Regular,
                    data: d.as_ref().to_vec(),
                },
            )
        })
        .collect()
}
