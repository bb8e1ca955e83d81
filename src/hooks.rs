//! The commit hooks git runs for `git commit -- <paths>`, run for `--commit` the same way:
//! `pre-commit`, `prepare-commit-msg <file> message` and `commit-msg <file>` before the commit
//! (any non-zero exit stops it; the message file may be edited), `post-commit` after it. Hooks
//! live in `core.hooksPath` or `<git-dir>/hooks`; they see the commit's content through a
//! temporary index (`GIT_INDEX_FILE`), as `git commit <paths>` gives them, and run in the root
//! of the work tree (githooks(5)).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UserError;

/// `dir/name` when it is an executable file (a hook git would run).
fn hook(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    let runnable =
        std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    Ok(runnable.then_some(path))
}

fn run(repo: &gix::Repository, path: &Path, args: &[&str], index: Option<&Path>) -> Result<()> {
    let mut cmd = std::process::Command::new(path);
    cmd.args(args)
        .current_dir(repo.workdir().unwrap_or_else(|| repo.git_dir()))
        .env("GIT_EDITOR", ":")
        .stdin(std::process::Stdio::null());
    if let Some(i) = index {
        cmd.env("GIT_INDEX_FILE", i);
    }
    // The hook's output goes to the user, as git lets it.
    let status = cmd
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .status()
        .with_context(|| format!("running the hook {}", path.display()))?;
    if !status.success() {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        return Err(UserError::refused(format!(
            "the {name} hook refused the commit (exit {}); nothing was changed",
            status.code().unwrap_or(-1)
        ))
        .hint(format!(
            "fix what it reports, or skip the hooks with --no-verify (as `git commit --no-verify`); the hook is {}",
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// Run `pre-commit`, `prepare-commit-msg` and `commit-msg` for a commit of `tree` with
/// `message`; returns the message the hooks left (trailing blank lines trimmed). Without hooks,
/// `message` as it is and nothing runs.
///
/// Errors (exit 3): a hook exits non-zero (its own output is on stderr); I/O.
pub fn before_commit(repo: &gix::Repository, tree: gix::ObjectId, message: &str) -> Result<String> {
    let dir = hooks_dir(repo)?;
    let pre = hook(&dir, "pre-commit")?;
    let prepare = hook(&dir, "prepare-commit-msg")?;
    let msg_hook = hook(&dir, "commit-msg")?;
    if pre.is_none() && prepare.is_none() && msg_hook.is_none() {
        return Ok(message.to_string());
    }
    // The commit's content as an index of its own, removed when done.
    let index_path = repo
        .git_dir()
        .join(format!("index.git-release-{}", std::process::id()));
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _remove = Remove(index_path.clone());
    let mut index = repo.index_from_tree(&tree)?;
    index.set_path(&index_path);
    index
        .write(gix::index::write::Options::default())
        .context("writing the hooks' index")?;
    if let Some(p) = &pre {
        run(repo, p, &[], Some(&index_path))?;
    }
    let msg_file = repo.git_dir().join("COMMIT_EDITMSG");
    std::fs::write(&msg_file, message)
        .with_context(|| format!("writing {}", msg_file.display()))?;
    let file = msg_file.to_string_lossy().into_owned();
    if let Some(p) = &prepare {
        run(repo, p, &[&file, "message"], Some(&index_path))?;
    }
    if let Some(p) = &msg_hook {
        run(repo, p, &[&file], Some(&index_path))?;
    }
    let edited = std::fs::read_to_string(&msg_file)
        .with_context(|| format!("reading {}", msg_file.display()))?;
    let trimmed = edited.trim_end();
    if trimmed.is_empty() {
        return Err(UserError::refused(
            "the commit hooks left an empty message; nothing was changed",
        )
        .into());
    }
    Ok(format!("{trimmed}\n"))
}

/// Run `post-commit` when there is one; its exit status is ignored, as git does.
pub fn after_commit(repo: &gix::Repository) {
    let dir = hooks_dir(repo);
    if let Ok(Some(p)) = dir.and_then(|d| hook(&d, "post-commit")) {
        let _ = run(repo, &p, &[], None);
    }
}

/// Where git looks for hooks: `core.hooksPath` (relative to where hooks run: the work tree, or
/// the git dir of a bare repository), else `hooks/` in the common git dir (shared by worktrees).
pub fn hooks_dir(repo: &gix::Repository) -> Result<PathBuf> {
    // `git -c core.hooksPath=…` first, as git reads it.
    let configured = match crate::settings::command_line_value("core.hooksPath") {
        Some(v) => Some(PathBuf::from(v)),
        None => repo
            .config_snapshot()
            .trusted_path("core.hooksPath")
            .context("reading core.hooksPath")?,
    };
    let dir = match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or_else(|| repo.git_dir()).join(p),
        None => repo.common_dir().join("hooks"),
    };
    // A linked worktree's common dir reads `<git-dir>/worktrees/<name>/../..`.
    let cwd = std::env::current_dir().context("reading the current directory")?;
    Ok(gix::path::normalize_and_clean(dir.as_path().into(), &cwd)
        .map(|p| p.into_owned())
        .unwrap_or(dir))
}

/// First lines of every hook we write; how a re-run recognises its own hook.
pub(crate) const MARKER: &str = "# installed by git-release protect";
/// The protection hooks: in a working repository, and in a bare one.
pub(crate) const REFERENCE_TRANSACTION: &str = "reference-transaction";
pub(crate) const PRE_RECEIVE: &str = "pre-receive";

/// The protection hook `repo` needs: pushes into a bare repository, local updates otherwise.
pub(crate) fn hook_for(repo: &gix::Repository) -> &'static str {
    if repo.is_bare() {
        PRE_RECEIVE
    } else {
        REFERENCE_TRANSACTION
    }
}

/// Whether the hook at `path` is one git-release wrote (its marker in the first lines).
pub(crate) fn is_ours(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|data| {
        data.split(|b| *b == b'\n')
            .take(5)
            .any(|line| line == MARKER.as_bytes())
    })
}

/// Whether this repository's tag protection hook (`reference-transaction`, or `pre-receive` in
/// a bare repository) is git-release's. Unreadable hooks count as not installed.
pub(crate) fn is_installed(repo: &gix::Repository) -> bool {
    hooks_dir(repo).is_ok_and(|dir| is_ours(&dir.join(hook_for(repo))))
}
