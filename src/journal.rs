//! Crash-safe work-tree swaps: the repository lock, the journal of a swap in progress under the git
//! dir, and the recovery that finishes or undoes an interrupted one.
//!
//! A command that writes the work tree ([`crate::worktree::apply`]) holds the lock
//! (`<git-dir>/release/lock`, an advisory `flock` the kernel drops when the process dies, so a
//! `kill -9` never leaves a stale lock) and records every swap in `<git-dir>/release/journal.json`
//! before its first rename. The journal moves through three phases:
//!
//! - `staging`: new content is being written beside each target (`.<name>.git-release-new-<pid>`);
//!   nothing in the work tree has changed yet. Recovery removes the staged copies.
//! - `swapping`: every staged copy is complete; targets are being moved aside
//!   (`.<name>.git-release-old-<pid>`) and replaced. Recovery undoes every swap (the work tree is
//!   entirely old), unless the run had already committed the result or was told to roll forward
//!   (a cherry-pick's checkout follows a branch that has already moved): then it finishes them.
//! - `cleanup`: every swap is done; only the moved-aside copies remain. Recovery removes them.
//!
//! Every git-release command runs [`recover`] when it opens the repository, so the next run of any
//! command, read-only ones included, leaves the work tree either entirely old or entirely new.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::durable::{remove_any, sync_dir};
use crate::error::UserError;

/// Where a journal stands. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Writing staged copies; the work tree is untouched.
    Staging,
    /// Renaming staged copies into place.
    Swapping,
    /// Every swap done; removing moved-aside copies.
    Cleanup,
}

/// What recovery does with a journal interrupted in [`Phase::Swapping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnInterrupt {
    /// Put every target back as it was (collect, bump: the next run redoes the work).
    Undo,
    /// Finish every swap and set the index entries of the targets from HEAD (a checkout that
    /// follows a ref that already moved).
    Finish,
}

/// One target of a swap. Paths are relative to the work tree root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The file or folder being replaced or removed.
    pub target: String,
    /// The complete new content beside it; `None` when the target is removed.
    pub staged: Option<String>,
    /// Where the old target is moved aside.
    pub backup: String,
}

/// The journal file's content (`<git-dir>/release/journal.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// The command that wrote it, e.g. `collect`.
    pub command: String,
    /// Its process id.
    pub pid: u32,
    /// Where it stands.
    pub phase: Phase,
    /// What to do when interrupted while swapping.
    pub on_interrupt: OnInterrupt,
    /// HEAD before the run, when the run commits its result: if HEAD has moved since, the commit
    /// was made and recovery finishes the swap instead of undoing it.
    pub commit_from: Option<String>,
    /// The swaps, in order.
    pub entries: Vec<Entry>,
}

fn release_dir(repo: &gix::Repository) -> PathBuf {
    repo.git_dir().join("release")
}

fn journal_path(repo: &gix::Repository) -> PathBuf {
    release_dir(repo).join("journal.json")
}

/// The repository lock, held until dropped. Only one git-release command that writes may run in
/// one work tree at a time.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Take the lock of `repo`'s work tree for `command`, then [`recover`] any interrupted swap.
///
/// Errors: another git-release command holds it (exit 3, naming its command and pid); the lock
/// file cannot be created (exit 1, naming its path).
pub fn lock(repo: &gix::Repository, command: &str) -> Result<Lock> {
    let dir = release_dir(repo);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("lock");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another git-release command".to_string()
            } else {
                format!("git release {holder}")
            };
            return Err(UserError::refused(format!(
                "{who} is running in this repository ({} is locked)",
                path.display()
            ))
            .hint("wait for it to finish, then run this again; nothing was written")
            .into());
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
    file.set_len(0)
        .and_then(|()| writeln!(file, "{command} (pid {})", std::process::id()))
        .with_context(|| format!("writing {}", path.display()))?;
    let lock = Lock { _file: file };
    recover_locked(repo, true)?;
    Ok(lock)
}

/// Finish or undo a swap that an earlier run left in the journal, saying which on stderr. Does
/// nothing when there is no journal, or when another command holds the lock (it is mid-run; the
/// journal is its own).
///
/// Errors: the journal cannot be read or a rename of the recovery fails (exit 1, naming paths).
pub fn recover(repo: &gix::Repository) -> Result<()> {
    if repo.workdir().is_none() || !journal_path(repo).exists() {
        return Ok(());
    }
    match lock(repo, "recover") {
        Ok(_lock) => Ok(()),
        Err(e) if e.downcast_ref::<UserError>().is_some() => Ok(()),
        Err(e) => Err(e),
    }
}

/// What [`settle`] did with a journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// There was none.
    Nothing,
    /// The swap had not started; staged copies were removed.
    Discarded,
    /// Every swap was undone: the work tree is as it was.
    Undone,
    /// Every swap was finished: the work tree has the new content.
    Finished,
}

/// Finish or undo the swap recorded in `repo`'s journal (see the module documentation) and
/// remove the journal. The caller holds the lock. Used by recovery, and by
/// [`crate::worktree::apply`] when a step fails, so both end the same way.
///
/// Errors: a rename or removal fails (naming the paths).
pub fn settle(repo: &gix::Repository) -> Result<Settled> {
    recover_locked(repo, false)
}

fn recover_locked(repo: &gix::Repository, say: bool) -> Result<Settled> {
    // A journal write cut short by a crash leaves its temporary file; the journal itself is
    // either the old state or the new one (written by rename).
    if let Ok(rd) = std::fs::read_dir(release_dir(repo)) {
        for e in rd.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with("journal.json.tmp-")
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let path = journal_path(repo);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settled::Nothing),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let Some(workdir) = repo.workdir() else {
        return Ok(Settled::Nothing);
    };
    let journal: Journal = match serde_json::from_slice(&text) {
        Ok(j) => j,
        // A journal cut short by a crash while it was first written: nothing was staged yet.
        Err(_) => {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            return Ok(Settled::Nothing);
        }
    };
    let abs = |rel: &str| workdir.join(rel);
    let what = format!(
        "an interrupted `git release {}` (pid {})",
        journal.command, journal.pid
    );
    if say && journal.commit_from.is_some() && journal.phase != Phase::Staging {
        remove_stale_git_locks(repo, &what);
    }
    let finish = match journal.phase {
        Phase::Staging => {
            for e in &journal.entries {
                if let Some(s) = &e.staged {
                    remove_any(&abs(s))?;
                }
            }
            if say {
                eprintln!(
                    "note: {what} had not changed the work tree yet; removed its staged copies"
                );
            }
            None
        }
        Phase::Swapping => {
            let committed = journal.commit_from.as_deref().is_some_and(|before| {
                repo.head_id().ok().map(|id| id.to_string()).as_deref() != Some(before)
            });
            Some(committed || journal.on_interrupt == OnInterrupt::Finish)
        }
        Phase::Cleanup => Some(true),
    };
    let settled = match finish {
        None => Settled::Discarded,
        Some(true) => {
            for e in &journal.entries {
                if let Some(s) = e.staged.as_deref().map(abs) {
                    if exists(&s) {
                        if exists(&abs(&e.target)) && !exists(&abs(&e.backup)) {
                            rename(&abs(&e.target), &abs(&e.backup))?;
                        }
                        rename(&s, &abs(&e.target))?;
                    }
                } else if exists(&abs(&e.target)) && !exists(&abs(&e.backup)) {
                    rename(&abs(&e.target), &abs(&e.backup))?;
                }
            }
            for e in &journal.entries {
                remove_any(&abs(&e.backup))?;
            }
            if journal.phase == Phase::Swapping {
                let targets: Vec<&str> =
                    journal.entries.iter().map(|e| e.target.as_str()).collect();
                crate::git::index_from_head(repo, &targets)?;
            }
            if say {
                eprintln!("note: finished {what}: the work tree has its new content");
            }
            Settled::Finished
        }
        Some(false) => {
            for e in journal.entries.iter().rev() {
                let (target, backup) = (abs(&e.target), abs(&e.backup));
                let staged = e.staged.as_deref().map(abs);
                let swapped_in = staged.as_ref().is_some_and(|s| !exists(s));
                if swapped_in {
                    remove_any(&target)?;
                }
                if exists(&backup) {
                    remove_any(&target)?;
                    rename(&backup, &target)?;
                }
                if let Some(s) = staged {
                    remove_any(&s)?;
                }
            }
            if say {
                eprintln!("note: undid {what}: the work tree is as it was before that run");
            }
            Settled::Undone
        }
    };
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    sync_dir(&release_dir(repo));
    Ok(settled)
}

/// Remove the lock files a run killed while it moved HEAD's branch or wrote the index leaves
/// behind (`HEAD.lock`, `refs/heads/<branch>.lock`, `index.lock`): git and gix refuse to touch a
/// locked file until someone removes them, as git's own message says. Only called for a journal
/// whose run was committing, whose process is gone, while this process holds the lock.
fn remove_stale_git_locks(repo: &gix::Repository, what: &str) {
    let mut locks = vec![
        repo.git_dir().join("HEAD.lock"),
        repo.git_dir().join("index.lock"),
    ];
    if let Ok(Some(name)) = repo.head_name() {
        locks.push(repo.common_dir().join(format!("{}.lock", name.as_bstr())));
    }
    for l in locks {
        if l.exists() && std::fs::remove_file(&l).is_ok() {
            eprintln!("note: removed {}, left by {what}", l.display());
        }
    }
}

/// Write `journal` for `repo`, replacing any earlier state of it atomically (temporary file,
/// fsync, rename, fsync of the folder), so a crash leaves either the old or the new state.
///
/// Errors: I/O, naming the path.
pub fn write(repo: &gix::Repository, journal: &Journal) -> Result<()> {
    let path = journal_path(repo);
    let dir = release_dir(repo);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!("journal.json.tmp-{}", std::process::id()));
    let bytes = serde_json::to_vec_pretty(journal)?;
    (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })()
    .with_context(|| format!("writing {}", path.display()))?;
    sync_dir(&dir);
    Ok(())
}

/// Remove the journal of `repo` once a swap is complete.
///
/// Errors: I/O, naming the path.
pub fn remove(repo: &gix::Repository) -> Result<()> {
    let path = journal_path(repo);
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    sync_dir(&release_dir(repo));
    Ok(())
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("renaming {} to {}", from.display(), to.display()))
}
