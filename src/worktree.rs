//! Writing a computed result into the work tree all at once: stage next to each target, swap with
//! renames, roll back every swap if one fails. Nothing is written until everything is computed.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use crate::repo::join;
use crate::repo::{FileEntry, FileKind, Files};

/// One change to the work tree. Paths are repo-relative with `/`.
#[derive(Debug, Clone)]
pub enum Change {
    /// Replace the folder at `path` exactly by `files` (files absent from `files` disappear).
    ReplaceDir {
        /// Folder path.
        path: String,
        /// New content, paths relative to the folder.
        files: Files,
    },
    /// Write one file.
    WriteFile {
        /// File path.
        path: String,
        /// New content and mode.
        entry: FileEntry,
    },
}

impl Change {
    /// The path this change writes.
    pub fn path(&self) -> &str {
        match self {
            Change::ReplaceDir { path, .. } | Change::WriteFile { path, .. } => path,
        }
    }
}

/// Write `entry` at `path` with its mode (a symlink is created as a symlink).
pub fn write_entry(path: &Path, entry: &FileEntry) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    match entry.kind {
        FileKind::Symlink => {
            let target = std::ffi::OsStr::from_bytes_compat(&entry.data);
            std::os::unix::fs::symlink(target, path)
                .with_context(|| format!("creating symlink {}", path.display()))?;
        }
        kind => {
            std::fs::write(path, &entry.data)
                .with_context(|| format!("writing {}", path.display()))?;
            let mode = if kind == FileKind::Executable {
                0o755
            } else {
                0o644
            };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(())
}

trait FromBytesCompat {
    fn from_bytes_compat(b: &[u8]) -> &std::ffi::OsStr;
}

impl FromBytesCompat for std::ffi::OsStr {
    fn from_bytes_compat(b: &[u8]) -> &std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b)
    }
}

struct Staged {
    target: PathBuf,
    staged: PathBuf,
    backup: PathBuf,
    had_old: bool,
    swapped: bool,
}

/// Apply `changes` under `workdir`: every new file and folder is first written beside its target
/// (`.<name>.git-release-new`), then each target is swapped in by rename. If any step fails, the
/// swaps already made are undone and the staged copies removed, so the work tree is as it was.
///
/// Errors: any I/O error, with the path.
pub fn apply(workdir: &Path, changes: &[Change]) -> Result<()> {
    let pid = std::process::id();
    let mut staged: Vec<Staged> = Vec::new();
    let result = (|| -> Result<()> {
        for ch in changes {
            let target = workdir.join(ch.path());
            let parent = target.parent().unwrap_or(workdir).to_path_buf();
            std::fs::create_dir_all(&parent)
                .with_context(|| format!("creating {}", parent.display()))?;
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let s = Staged {
                staged: parent.join(format!(".{name}.git-release-new-{pid}")),
                backup: parent.join(format!(".{name}.git-release-old-{pid}")),
                target,
                had_old: false,
                swapped: false,
            };
            remove_any(&s.staged)?;
            staged.push(s);
            let s = staged.last().expect("just pushed");
            match ch {
                Change::ReplaceDir { files, .. } => {
                    std::fs::create_dir_all(&s.staged)?;
                    for (rel, entry) in files {
                        write_entry(&s.staged.join(rel), entry)?;
                    }
                }
                Change::WriteFile { entry, .. } => write_entry(&s.staged, entry)?,
            }
        }
        for s in staged.iter_mut() {
            s.had_old = std::fs::symlink_metadata(&s.target).is_ok();
            if s.had_old {
                std::fs::rename(&s.target, &s.backup)
                    .with_context(|| format!("moving {} aside", s.target.display()))?;
            }
            std::fs::rename(&s.staged, &s.target)
                .with_context(|| format!("moving new {} in place", s.target.display()))?;
            s.swapped = true;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for s in staged.iter().rev() {
            if s.swapped {
                let _ = remove_any(&s.target);
            }
            if s.had_old && std::fs::symlink_metadata(&s.backup).is_ok() {
                let _ = std::fs::rename(&s.backup, &s.target);
            }
            let _ = remove_any(&s.staged);
        }
        return Err(e.context("nothing was changed in the work tree"));
    }
    for s in &staged {
        if s.had_old {
            remove_any(&s.backup)?;
        }
    }
    Ok(())
}

fn remove_any(p: &Path) -> Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))
        }
        Ok(_) => std::fs::remove_file(p).with_context(|| format!("removing {}", p.display())),
        Err(_) => Ok(()),
    }
}

/// A unified diff of one path between two states (`None` = absent), `a/` and `b/` prefixed like git.
/// Binary files (NUL in the first 8000 bytes) and mode changes get one line each.
pub fn unified_diff(path: &str, old: Option<&FileEntry>, new: Option<&FileEntry>) -> String {
    let text = |e: Option<&FileEntry>| -> Option<String> {
        match e {
            None => Some(String::new()),
            Some(e) if crate::placeholders::is_text(&e.data) => {
                String::from_utf8(e.data.clone()).ok()
            }
            Some(_) => None,
        }
    };
    let mut out = String::new();
    out.push_str(&format!("diff --git a/{path} b/{path}\n"));
    match (old, new) {
        (None, Some(n)) => out.push_str(&format!("new file mode {}\n", mode_str(n.kind))),
        (Some(o), None) => out.push_str(&format!("deleted file mode {}\n", mode_str(o.kind))),
        (Some(o), Some(n)) if o.kind != n.kind => out.push_str(&format!(
            "old mode {}\nnew mode {}\n",
            mode_str(o.kind),
            mode_str(n.kind)
        )),
        _ => {}
    }
    let (Some(a), Some(b)) = (text(old), text(new)) else {
        out.push_str(&format!("Binary files a/{path} and b/{path} differ\n"));
        return out;
    };
    if a == b {
        return out;
    }
    let diff = similar::TextDiff::from_lines(&a, &b);
    let old_name = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".into()
    };
    let new_name = if new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".into()
    };
    out.push_str(
        &diff
            .unified_diff()
            .context_radius(3)
            .header(&old_name, &new_name)
            .to_string(),
    );
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn mode_str(k: FileKind) -> &'static str {
    match k {
        FileKind::Regular => "100644",
        FileKind::Executable => "100755",
        FileKind::Symlink => "120000",
    }
}

/// Write `changes` with [`apply`], then, when `message` is given, commit exactly those paths with
/// [`commit_changes`]. The identity is checked before anything is written, so a missing
/// `user.name` leaves the work tree as it was.
///
/// Errors: no identity with a message (exit 2); any write or commit error.
pub fn apply_and_commit(
    repo: &gix::Repository,
    workdir: &Path,
    changes: &[Change],
    message: Option<&str>,
) -> Result<Option<gix::ObjectId>> {
    if message.is_some()
        && !matches!(
            (repo.author(), repo.committer()),
            (Some(Ok(_)), Some(Ok(_)))
        )
    {
        return Err(crate::error::UserError::input(
            "--commit needs an identity: user.name and user.email are not set",
        )
        .hint("set `git config user.name` and `git config user.email`; nothing was written")
        .into());
    }
    apply(workdir, changes)?;
    match message {
        Some(m) => Ok(Some(commit_changes(repo, changes, m)?)),
        None => Ok(None),
    }
}

/// Commit exactly `changes` on top of HEAD (like `git commit -- <paths>`): other staged changes stay
/// staged and out of the commit. The index entries of the written paths are replaced.
pub fn commit_changes(
    repo: &gix::Repository,
    changes: &[Change],
    message: &str,
) -> Result<gix::ObjectId> {
    let head = repo.head_id().ok().map(|id| id.detach());
    let base_tree = match head {
        Some(_) => repo.head_tree_id()?.detach(),
        None => gix::ObjectId::empty_tree(repo.object_hash()),
    };
    let mut ed = repo.edit_tree(base_tree)?;
    let mut new_entries: Vec<(String, gix::ObjectId, FileKind)> = Vec::new();
    for ch in changes {
        match ch {
            Change::ReplaceDir { path, files } => {
                ed.remove(path.as_str())?;
                for (rel, e) in files {
                    let id = repo.write_blob(&e.data)?.detach();
                    let p = join(path, rel);
                    ed.upsert(p.as_str(), e.kind.entry_kind(), id)?;
                    new_entries.push((p, id, e.kind));
                }
            }
            Change::WriteFile { path, entry } => {
                let id = repo.write_blob(&entry.data)?.detach();
                ed.upsert(path.as_str(), entry.kind.entry_kind(), id)?;
                new_entries.push((path.clone(), id, entry.kind));
            }
        }
    }
    let tree = ed.write()?.detach();
    let commit = repo
        .commit("HEAD", message, tree, head)
        .map_err(|e| {
            let msg = format!("creating the commit: {e}");
            if msg.contains("identity") {
                crate::error::UserError::input(format!("{msg}; the work tree was updated, nothing was committed"))
                    .hint("set `git config user.name` and `git config user.email`, then commit, or rerun with --commit after `git checkout -- .`")
                    .into()
            } else {
                anyhow!(msg)
            }
        })?
        .detach();
    let snapshot = repo.index_or_empty()?;
    let mut index: gix::index::File = (**snapshot).clone();
    let prefixes: Vec<String> = changes.iter().map(|c| c.path().to_string()).collect();
    index.remove_entries(|_, path, _| {
        let p = path.to_string();
        prefixes
            .iter()
            .any(|x| p == *x || p.starts_with(&format!("{x}/")))
    });
    for (p, id, kind) in new_entries {
        let mode = match kind {
            FileKind::Regular => gix::index::entry::Mode::FILE,
            FileKind::Executable => gix::index::entry::Mode::FILE_EXECUTABLE,
            FileKind::Symlink => gix::index::entry::Mode::SYMLINK,
        };
        index.dangerously_push_entry(
            gix::index::entry::Stat::default(),
            id,
            gix::index::entry::Flags::empty(),
            mode,
            p.as_str().into(),
        );
    }
    index.sort_entries();
    index.remove_tree();
    index
        .write(Default::default())
        .context("writing the index")?;
    Ok(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> FileEntry {
        FileEntry {
            kind: FileKind::Regular,
            data: s.as_bytes().to_vec(),
        }
    }

    #[test]
    fn diff_of_changed_and_new_files() {
        let d = unified_diff("a.yaml", Some(&e("x: 1\ny: 2\n")), Some(&e("x: 1\ny: 3\n")));
        assert!(d.contains("--- a/a.yaml\n+++ b/a.yaml\n"), "{d}");
        assert!(d.contains("-y: 2\n+y: 3\n"), "{d}");
        let d = unified_diff("n.yaml", None, Some(&e("k: v\n")));
        assert!(
            d.contains("new file mode 100644\n--- /dev/null\n+++ b/n.yaml\n"),
            "{d}"
        );
        assert!(d.contains("+k: v\n"), "{d}");
    }
}
