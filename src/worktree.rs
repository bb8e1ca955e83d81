//! Writing a computed result into the work tree all at once: stage next to each target, swap with
//! renames, roll back every swap if one fails. Nothing is written until everything is computed.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use crate::files::join;
use crate::files::{FileEntry, FileKind, Files};
use crate::journal::{self, Journal, OnInterrupt, Phase};

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
    /// Remove one file (or folder).
    Remove {
        /// Its path.
        path: String,
    },
}

/// `{"path", "action"}`: `replace-dir`, `write` or `remove` (contents left out).
impl serde::Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let action = match self {
            Change::ReplaceDir { .. } => "replace-dir",
            Change::WriteFile { .. } => "write",
            Change::Remove { .. } => "remove",
        };
        let mut st = s.serialize_struct("Change", 2)?;
        st.serialize_field("path", self.path())?;
        st.serialize_field("action", action)?;
        st.end()
    }
}

impl Change {
    /// The path this change writes.
    pub fn path(&self) -> &str {
        match self {
            Change::ReplaceDir { path, .. }
            | Change::WriteFile { path, .. }
            | Change::Remove { path } => path,
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
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .with_context(|| format!("setting the mode of {}", path.display()))?;
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

/// How [`apply`] records its swap for crash recovery ([`crate::journal`]).
#[derive(Debug, Clone)]
pub struct Swap<'a> {
    /// The command, named in the lock and in recovery messages (`collect`).
    pub command: &'a str,
    /// What a later run does when this one is killed mid-swap.
    pub on_interrupt: OnInterrupt,
    /// HEAD before the run when the run commits its result (see [`Journal::commit_from`]).
    pub commit_from: Option<String>,
}

struct Staged {
    target: PathBuf,
    staged: Option<PathBuf>,
    backup: PathBuf,
}

/// Apply `changes` to `repo`'s work tree so that, whatever happens, it ends up entirely old or
/// entirely new:
///
/// 1. every path is checked against the work tree's [`crate::paths::Bounds`] (never into a git directory, never
///    out of the work tree, symlinks followed);
/// 2. a journal in phase `staging` lists every staged copy, then every new file and folder is
///    written beside its target (`.<name>.git-release-new-<pid>`);
/// 3. the journal moves to `swapping`, then each target is moved aside
///    (`.<name>.git-release-old-<pid>`) and replaced by rename;
/// 4. the journal moves to `cleanup`, the moved-aside copies are removed, the journal goes.
///
/// An error settles the journal the way recovery would ([`journal::settle`]): the swaps made so
/// far are undone (the work tree is as it was) unless `after_swap` had already moved HEAD; a
/// killed run is finished or undone by the next git-release command ([`crate::journal`]). The caller holds
/// [`crate::journal::lock`]. `after_swap` runs once every target is in place, before cleanup
/// (a commit of the result: if it fails, the swap is undone too).
///
/// Errors: a path out of bounds (exit 2, naming it); any I/O error, naming the path.
pub fn apply(
    repo: &gix::Repository,
    changes: &[Change],
    swap: &Swap<'_>,
    after_swap: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    let workdir = crate::git::workdir(repo)?;
    let bounds = crate::git::bounds(repo)?;
    for ch in changes {
        let inner = match ch {
            Change::ReplaceDir { files, .. } => files.keys().find_map(|rel| {
                crate::paths::lexical_problem(rel).map(|p| format!("{}/{rel} {p}", ch.path()))
            }),
            _ => None,
        };
        if let Some(p) = bounds
            .problem(ch.path())
            .map(|p| format!("{} {p}", ch.path()))
            .or(inner)
        {
            return Err(
                crate::error::UserError::input(format!("refusing to write {p}"))
                    .hint("nothing was written")
                    .into(),
            );
        }
    }
    let pid = std::process::id();
    let mut staged: Vec<Staged> = Vec::new();
    for ch in changes {
        let target = workdir.join(ch.path());
        let parent = target.parent().unwrap_or(&workdir).to_path_buf();
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        staged.push(Staged {
            staged: match ch {
                Change::Remove { .. } => None,
                _ => Some(parent.join(format!(".{name}.git-release-new-{pid}"))),
            },
            backup: parent.join(format!(".{name}.git-release-old-{pid}")),
            target,
        });
    }
    let rel = |p: &Path| -> String {
        p.strip_prefix(&workdir)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let mut journal = Journal {
        command: swap.command.to_string(),
        pid,
        phase: Phase::Staging,
        on_interrupt: swap.on_interrupt,
        commit_from: swap.commit_from.clone(),
        entries: staged
            .iter()
            .map(|s| journal::Entry {
                target: rel(&s.target),
                staged: s.staged.as_deref().map(rel),
                backup: rel(&s.backup),
            })
            .collect(),
    };
    journal::write(repo, &journal)?;
    let result = (|| -> Result<()> {
        for (ch, s) in changes.iter().zip(&staged) {
            let Some(dest) = &s.staged else { continue };
            let parent = s.target.parent().unwrap_or(&workdir);
            std::fs::create_dir_all(parent).map_err(|e| {
                io_hint(
                    anyhow!(e).context(format!("creating {}", parent.display())),
                    parent,
                )
            })?;
            crate::durable::remove_any(dest)?;
            let written = match ch {
                Change::ReplaceDir { files, .. } => std::fs::create_dir_all(dest)
                    .with_context(|| format!("creating {}", dest.display()))
                    .and_then(|()| {
                        files
                            .iter()
                            .try_for_each(|(rel, entry)| write_entry(&dest.join(rel), entry))
                    }),
                Change::WriteFile { entry, .. } => write_entry(dest, entry),
                Change::Remove { .. } => Ok(()),
            };
            written.map_err(|e| io_hint(e, dest))?;
        }
        journal.phase = Phase::Swapping;
        journal::write(repo, &journal)?;
        for s in &staged {
            if std::fs::symlink_metadata(&s.target).is_ok() {
                rename(&s.target, &s.backup)?;
            }
            if let Some(new) = &s.staged {
                rename(new, &s.target)?;
            }
        }
        for s in &staged {
            if let Some(p) = s.target.parent() {
                crate::durable::sync_dir(p);
            }
        }
        after_swap()
    })();
    if let Err(e) = result {
        // The same decision recovery takes after a crash: undo, unless HEAD already moved.
        return Err(match journal::settle(repo) {
            Ok(journal::Settled::Finished) => {
                e.context("the work tree has the new content (HEAD had already moved)")
            }
            Ok(_) => e.context("nothing was changed in the work tree"),
            Err(undo) => e.context(format!(
                "undoing the swap failed too ({undo:#}); the next git-release command retries it"
            )),
        });
    }
    journal.phase = Phase::Cleanup;
    journal::write(repo, &journal)?;
    for s in &staged {
        crate::durable::remove_any(&s.backup)?;
    }
    journal::remove(repo)
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| {
        let err = anyhow!(e).context(format!("renaming {} to {}", from.display(), to.display()));
        io_hint(err, from)
    })
}

/// Turn a permission or read-only error into a failure (exit 1) whose message names the path and
/// whose hint names the folder to fix; other errors pass through.
fn io_hint(err: anyhow::Error, path: &Path) -> anyhow::Error {
    let kind = err
        .chain()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map(|e| e.kind());
    match kind {
        Some(std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem) => {
            let dir = path.parent().unwrap_or(path);
            anyhow::Error::new(
                crate::error::UserError::failure(format!("{err:#}")).hint(format!(
                    "make {} writable, then run this again",
                    dir.display()
                )),
            )
        }
        _ => err,
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

/// Write the unified diff of `ch` against the work tree under `workdir` to `out` (what a
/// `--dry-run` prints; `git apply` takes it).
///
/// Errors: reading the work tree or writing `out`.
pub fn write_diff(workdir: &Path, ch: &Change, out: &mut dyn std::io::Write) -> Result<()> {
    let old = crate::git::read_worktree(&workdir.join(ch.path()))?;
    let new: Files = match ch {
        Change::ReplaceDir { files, .. } => files.clone(),
        Change::WriteFile { entry, .. } => Files::from([(String::new(), entry.clone())]),
        Change::Remove { .. } => Files::new(),
    };
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for k in keys {
        let (o, n) = (old.get(k), new.get(k));
        if o != n {
            let path = if k.is_empty() {
                ch.path().to_string()
            } else {
                join(ch.path(), k)
            };
            out.write_all(unified_diff(&path, o, n).as_bytes())?;
        }
    }
    Ok(())
}

fn mode_str(k: FileKind) -> &'static str {
    match k {
        FileKind::Regular => "100644",
        FileKind::Executable => "100755",
        FileKind::Symlink => "120000",
    }
}

/// The refusal (exit 3) a command that writes `paths` gives when any of them has uncommitted
/// changes ([`crate::git::uncommitted_changes`]: staged, modified, untracked or ignored files),
/// or `None` when they are clean. A dry run prints its plan, then returns the same refusal, so it
/// fails exactly where the real run would.
///
/// Errors: reading the index, HEAD or the work tree.
pub fn uncommitted_refusal(
    repo: &gix::Repository,
    paths: &[&str],
    command: &str,
) -> Result<Option<crate::error::UserError>> {
    if paths.is_empty() {
        return Ok(None); // (an empty prefix list means "everything" to uncommitted_changes)
    }
    let dirty = crate::git::uncommitted_changes(repo, paths)?;
    if dirty.is_empty() {
        return Ok(None);
    }
    let list = dirty
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = if dirty.len() > 10 {
        format!(" and {} more", dirty.len() - 10)
    } else {
        String::new()
    };
    Ok(Some(
        crate::error::UserError::refused(format!(
            "uncommitted changes in paths {command} writes: {list}{more}"
        ))
        .hint("commit them, or stash them with `git stash --all` (ignored files count too: `git stash -u` leaves them); nothing was written"),
    ))
}

/// A changed text file the user owns (a repos file, version.yml, an image list), written with
/// the mode it has. A symlink is refused: replacing it would turn the link into a file (or, worse,
/// a link to its own text), and writing through it could reach outside the work tree.
///
/// Errors (exit 2): `rel` is a symlink; reading the work tree.
pub fn text_change(workdir: &Path, rel: &str, text: &str) -> Result<Change> {
    let kind = match crate::git::read_worktree(&workdir.join(rel))?.remove("") {
        Some(e) if e.kind == FileKind::Symlink => {
            return Err(crate::error::UserError::input(format!(
                "{rel} is a symlink (to `{}`); collect edits this file in place and will not replace a link",
                String::from_utf8_lossy(&e.data)
            ))
            .hint("replace the link by the file itself, or point the setting (release.versionFile, release.reposPath, release.imagesPath) at the real file")
            .into())
        }
        Some(e) => e.kind,
        None => FileKind::Regular,
    };
    Ok(Change::WriteFile {
        path: rel.to_string(),
        entry: FileEntry {
            kind,
            data: text.as_bytes().to_vec(),
        },
    })
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
