//! Where a command may write: repo-relative paths checked against the git directory and the
//! bounds of the work tree, symlinks in the work tree resolved.
//!
//! A repos file is edited by component owners through merge requests, so every path it names
//! (`targetPath`, `targetChartPath`, chart folder names, resource file names) is untrusted: one
//! that lands in `.git/hooks` would run code on the release engineer's next `git commit`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Whether one path segment names a git directory the way git's own `verify_path` sees it with
/// `core.protectNTFS` and `core.protectHFS`: `.git` in any case, with trailing dots or spaces
/// (NTFS drops them), the NTFS short name `git~1`, or with the zero-width characters HFS+ ignores.
pub fn names_git_dir(segment: &str) -> bool {
    const HFS_IGNORED: &[char] = &[
        '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}',
        '\u{202d}', '\u{202e}', '\u{206a}', '\u{206b}', '\u{206c}', '\u{206d}', '\u{206e}',
        '\u{206f}', '\u{feff}',
    ];
    let s: String = segment
        .chars()
        .filter(|c| !HFS_IGNORED.contains(c))
        .collect();
    let s = s.trim_end_matches(['.', ' ']).to_ascii_lowercase();
    s == ".git" || s == "git~1"
}

/// Why a `/`-separated relative path may not be written, looking at its text only: `None` when
/// it is fine. Refused: absolute paths, `..`, and any segment that [`names_git_dir`].
pub fn lexical_problem(rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return Some("is absolute".into());
    }
    for seg in rel.split('/') {
        if seg == ".." {
            return Some("leaves the work tree (`..`)".into());
        }
        if names_git_dir(seg) {
            return Some(format!("is inside a git directory (`{seg}`)"));
        }
    }
    None
}

/// `rel` (work-tree-relative, `/`-separated; empty for the root) joined onto `workdir`.
pub fn abs(workdir: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        workdir.to_path_buf()
    } else {
        workdir.join(rel)
    }
}

/// The bounds of one work tree: its root and the git directories that must never be written,
/// all resolved to their canonical paths.
#[derive(Debug, Clone)]
pub struct Bounds {
    workdir: PathBuf,
    git_dirs: Vec<PathBuf>,
}

impl Bounds {
    /// Bounds of the work tree at `workdir`, whose git directories `git_dirs` (`$GIT_DIR`,
    /// wherever it is, linked worktrees' private git dirs included, and the common git dir) are
    /// out of bounds. See [`crate::git::bounds`] for a repository's.
    ///
    /// Errors: a path that cannot be resolved (naming it).
    pub fn new(workdir: &Path, git_dirs: &[&Path]) -> Result<Self> {
        let canon = |p: &Path| {
            std::fs::canonicalize(p).with_context(|| format!("resolving {}", p.display()))
        };
        Ok(Bounds {
            workdir: canon(workdir)?,
            git_dirs: git_dirs.iter().map(|d| canon(d)).collect::<Result<_>>()?,
        })
    }

    /// Why writing the work-tree-relative path `rel` would leave the work tree or touch a git
    /// directory: `None` when it may be written. Symlinked folders on the way are followed (a
    /// link at the last segment is not: renames replace the link itself).
    pub fn problem(&self, rel: &str) -> Option<String> {
        if let Some(p) = lexical_problem(rel) {
            return Some(p);
        }
        let segs: Vec<&str> = rel
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        let mut cur = self.workdir.clone();
        for (i, seg) in segs.iter().enumerate() {
            let next = cur.join(seg);
            let last = i + 1 == segs.len();
            match std::fs::symlink_metadata(&next) {
                Ok(m) if m.file_type().is_symlink() && !last => {
                    match std::fs::canonicalize(&next) {
                        Ok(real) => cur = real,
                        Err(_) => {
                            return Some(format!(
                                "goes through `{}`, a broken symlink",
                                segs[..=i].join("/")
                            ))
                        }
                    }
                }
                Ok(_) => cur = next,
                Err(_) => {
                    cur = next;
                    for rest in &segs[i + 1..] {
                        cur.push(rest);
                    }
                    break;
                }
            }
        }
        if self.git_dirs.iter().any(|g| cur.starts_with(g)) {
            return Some(format!(
                "resolves into the git directory ({})",
                cur.display()
            ));
        }
        if !cur.starts_with(&self.workdir) {
            return Some(format!(
                "resolves outside the work tree ({})",
                cur.display()
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_dir_names_as_git_sees_them() {
        for s in [
            ".git",
            ".GIT",
            ".Git.",
            ".git ",
            "git~1",
            "GIT~1",
            ".g\u{200c}it",
        ] {
            assert!(names_git_dir(s), "{s:?}");
        }
        for s in [".gitignore", "git", ".github", "hooks", ".git-foo"] {
            assert!(!names_git_dir(s), "{s:?}");
        }
    }

    #[test]
    fn lexical_problems() {
        assert!(lexical_problem(".git/hooks").is_some());
        assert!(lexical_problem("addons/.GIT/x").is_some());
        assert!(lexical_problem("a/../../x").is_some());
        assert!(lexical_problem("/etc").is_some());
        assert!(lexical_problem("addons/cyclone/.gitignore").is_none());
    }

    #[test]
    fn bounds_follow_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let wt = dir.path().join("wt");
        std::fs::create_dir_all(wt.join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("meta")).unwrap();
        std::os::unix::fs::symlink("..", wt.join("up")).unwrap();
        std::os::unix::fs::symlink(".git", wt.join("g")).unwrap();
        let b = Bounds {
            workdir: std::fs::canonicalize(&wt).unwrap(),
            git_dirs: vec![std::fs::canonicalize(wt.join(".git")).unwrap()],
        };
        assert!(b.problem("addons/x").is_none());
        assert!(b.problem("up/x").unwrap().contains("outside"));
        assert!(b.problem("g/hooks").unwrap().contains("git directory"));
        // A link at the last segment is replaced, not written through.
        assert!(b.problem("g").is_none());
    }
}
