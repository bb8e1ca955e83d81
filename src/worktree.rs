//! Writing a computed result into the work tree all at once: stage next to each target, swap with
//! renames, roll back every swap if one fails. Nothing is written until everything is computed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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
