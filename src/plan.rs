//! The one writer of the repository. A writing command computes a [`Plan`] (reading only: what
//! its `--dry-run` shows), then [`apply`] writes it, in an order that a killed or failed run can
//! always settle ([`crate::journal`]):
//!
//! 0. hook files in the hooks folder (`protect`), each an atomic rename;
//! 1. work-tree files, swapped in through the journal ([`crate::worktree::apply`]);
//! 2. before the swap is final: the commit of exactly those files ([`crate::commit`]: hooks,
//!    `commit.gpgSign`), the tag objects, then every ref in one locked transaction, each with
//!    the value it expects (gix `edit_references`, as jj's transactions and git-branchless'
//!    `RebasePlan` do), then the index.
//!
//! If any of step 2 fails, the files are swapped back: the repository is as it was. Packages
//! (outside the repository) are written by [`crate::durable`] (a temporary file renamed into
//! place) from each command's `run`, after its plan; registry pushes likewise.

use anyhow::{Context, Result};
use gix::refs::transaction::{Change as RefChange, LogChange, PreviousValue, RefEdit, RefLog};

use crate::error::UserError;
use crate::journal::OnInterrupt;
use crate::worktree::{Change, Swap};

/// Everything a writing command writes to the repository. Serializes (file contents left out)
/// as `{"command", "files": [{"path", "action"}], "commit", "tags", "refs", "hooks", …}`,
/// so tests can pin what a run would write.
#[derive(Debug, serde::Serialize)]
pub struct Plan {
    /// The command, named in the lock, the journal and reflog messages (`collect`).
    pub command: &'static str,
    /// Work-tree changes (repo-relative paths), swapped in all at once.
    pub files: Vec<Change>,
    /// What the next run does when this one is killed mid-swap: undo it (the run can be redone)
    /// or finish it (refs already moved; a checkout that follows them).
    #[serde(skip)]
    pub on_interrupt: OnInterrupt,
    /// The commit of exactly `files` on top of HEAD (`--commit`).
    pub commit: Option<CommitIntent>,
    /// Annotated tags to create (objects written first, refs in the transaction).
    pub tags: Vec<TagIntent>,
    /// Refs to create or move, in one transaction.
    pub refs: Vec<RefIntent>,
    /// Set the index from this tree once the files are in place (a checkout of a moved branch).
    #[serde(serialize_with = "hex_opt")]
    pub index_from_tree: Option<gix::ObjectId>,
    /// Hook files in the hooks folder (outside the work tree: `protect`), written first.
    pub hooks: Vec<HookWrite>,
}

/// A write in the hooks folder, each atomic (a rename).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum HookWrite {
    /// Move a hook aside (to chain to it) or back.
    Rename {
        /// The hook now.
        from: std::path::PathBuf,
        /// Where it goes.
        to: std::path::PathBuf,
    },
    /// Write an executable hook (mode 0755), replacing what is there.
    Executable {
        /// Its path (the folder is created when missing).
        path: std::path::PathBuf,
        /// The script.
        #[serde(skip)]
        content: String,
    },
    /// Remove a hook.
    Remove {
        /// Its path.
        path: std::path::PathBuf,
    },
}

impl Plan {
    /// An empty plan of `command`: nothing to write.
    pub fn new(command: &'static str) -> Self {
        Plan {
            command,
            files: Vec::new(),
            on_interrupt: OnInterrupt::Undo,
            commit: None,
            tags: Vec::new(),
            refs: Vec::new(),
            index_from_tree: None,
            hooks: Vec::new(),
        }
    }

    /// Whether applying it would write nothing.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.tags.is_empty()
            && self.refs.is_empty()
            && self.hooks.is_empty()
    }

    /// The work-tree paths it writes.
    pub fn paths(&self) -> Vec<&str> {
        self.files.iter().map(Change::path).collect()
    }
}

/// A commit of the plan's files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommitIntent {
    /// The message (the `commit-msg` hook may edit it).
    pub message: String,
    /// Run `pre-commit` and `commit-msg` (false: `--no-verify`).
    pub verify: bool,
}

/// `--commit` and `--no-verify`, as every command that writes files offers them (collect, bump,
/// plugin bump): flattened into each command's arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CommitFlags {
    /// Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks
    /// and signing included.
    #[arg(long, conflicts_with = "dry_run")]
    pub commit: bool,
    /// With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`.
    #[arg(long, requires = "commit")]
    pub no_verify: bool,
}

impl CommitFlags {
    /// The commit these flags ask for, with `message`; `None` without `--commit`.
    pub fn intent(&self, message: impl FnOnce() -> String) -> Option<CommitIntent> {
        self.commit.then(|| CommitIntent {
            message: message(),
            verify: !self.no_verify,
        })
    }
}

/// An annotated tag.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TagIntent {
    /// Short name (`v2.10.2`, `hotfix/2.10.2-20260102`).
    pub name: String,
    /// The commit it names.
    #[serde(serialize_with = "hex")]
    pub target: gix::ObjectId,
    /// Its message.
    pub message: String,
    /// Sign it (`-s`); `tag.gpgSign` signs too.
    pub sign: bool,
}

/// A ref to create (`expected` `None`: it must not exist) or move from `expected` to `to`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefIntent {
    /// Full name: `refs/heads/release-2.10`.
    pub name: String,
    /// The value it must have now; `None` when it must not exist.
    #[serde(serialize_with = "hex_opt")]
    pub expected: Option<gix::ObjectId>,
    /// The value it gets.
    #[serde(serialize_with = "hex")]
    pub to: gix::ObjectId,
    /// The reflog message.
    pub log: String,
}

/// An object id as lowercase hex.
fn hex<S: serde::Serializer>(id: &gix::ObjectId, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// [`hex`], or `null`.
fn hex_opt<S: serde::Serializer>(
    id: &Option<gix::ObjectId>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.collect_str(id),
        None => s.serialize_none(),
    }
}

/// What [`apply`] made.
#[derive(Debug, Default, Clone)]
pub struct Applied {
    /// The commit of the plan's files.
    pub commit: Option<gix::ObjectId>,
    /// Each tag made: name and tag object id.
    pub tags: Vec<(String, gix::ObjectId)>,
}

/// Write `plan` (the caller holds [`crate::journal::lock`]). The identity is checked before
/// anything is written when the plan commits, so a missing `user.name` leaves everything as it
/// was.
///
/// Errors: no identity for a commit (exit 2); a ref that is no longer what the plan expects
/// (exit 3, nothing written); a hook refusing (exit 3); any write error (the work tree is then as
/// it was, or the next run finishes the job).
pub fn apply(repo: &gix::Repository, plan: &Plan) -> Result<Applied> {
    if plan.commit.is_some()
        && !matches!(
            (repo.author(), repo.committer()),
            (Some(Ok(_)), Some(Ok(_)))
        )
    {
        return Err(UserError::input(
            "--commit needs an identity: user.name and user.email are not set",
        )
        .hint("set `git config user.name` and `git config user.email`; nothing was written")
        .into());
    }
    let mut applied = Applied::default();
    for h in &plan.hooks {
        write_hook(h)?;
    }
    if plan.files.is_empty() {
        finish(repo, plan, &mut applied)?;
        return Ok(applied);
    }
    let moves_head = plan.commit.is_some() || plan.index_from_tree.is_some();
    let swap = Swap {
        command: plan.command,
        on_interrupt: plan.on_interrupt,
        commit_from: moves_head
            .then(|| repo.head_id().map(|id| id.to_string()).unwrap_or_default()),
    };
    crate::worktree::apply(repo, &plan.files, &swap, &mut || {
        finish(repo, plan, &mut applied)
    })?;
    Ok(applied)
}

/// Step 2 of [`apply`]: commit, tags, refs, index.
fn finish(repo: &gix::Repository, plan: &Plan, applied: &mut Applied) -> Result<()> {
    if let Some(c) = &plan.commit {
        applied.commit = Some(crate::commit::commit_changes(
            repo,
            &plan.files,
            &c.message,
            c.verify,
        )?);
    }
    let mut edits = Vec::new();
    for t in &plan.tags {
        let id = crate::signing::tag_object(repo, &t.name, t.target, &t.message, t.sign)?;
        applied.tags.push((t.name.clone(), id));
        edits.push(edit(&format!("refs/tags/{}", t.name), None, id, "")?);
    }
    for r in &plan.refs {
        edits.push(edit(&r.name, r.expected, r.to, &r.log)?);
    }
    if !edits.is_empty() {
        for e in &edits {
            // gix's MustNotExist also passes a ref that exists at the same value: git-release
            // never re-creates a ref, so an existing one is a refusal.
            if let RefChange::Update {
                expected: PreviousValue::MustNotExist,
                ..
            } = &e.change
            {
                if repo.try_find_reference(e.name.as_ref())?.is_some() {
                    return Err(UserError::refused(format!(
                        "{} appeared meanwhile; nothing was written",
                        e.name.as_bstr()
                    ))
                    .hint("another run or a fetch created it: run the command again")
                    .into());
                }
            }
        }
        repo.edit_references(edits).map_err(|e| -> anyhow::Error {
            UserError::refused(format!("updating the refs failed, none was changed: {e}"))
                .hint(
                    "a ref moved meanwhile (another run, a fetch or a push): run the command again",
                )
                .into()
        })?;
    }
    if let Some(tree) = plan.index_from_tree {
        let mut index = repo.index_from_tree(&tree)?;
        index
            .write(Default::default())
            .context("writing the index")?;
    }
    Ok(())
}

/// A ref edit expecting `expected` (`None`: must not exist), with a reflog entry.
fn edit(
    name: &str,
    expected: Option<gix::ObjectId>,
    to: gix::ObjectId,
    log: &str,
) -> Result<RefEdit> {
    let name: gix::refs::FullName = name
        .try_into()
        .with_context(|| format!("`{name}` is not a valid ref name"))?;
    Ok(RefEdit {
        change: RefChange::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: log.into(),
            },
            expected: match expected {
                Some(id) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(id)),
                None => PreviousValue::MustNotExist,
            },
            new: gix::refs::Target::Object(to),
        },
        name,
        deref: false,
    })
}

/// One [`HookWrite`].
fn write_hook(h: &HookWrite) -> Result<()> {
    match h {
        HookWrite::Rename { from, to } => std::fs::rename(from, to)
            .with_context(|| format!("renaming {} to {}", from.display(), to.display())),
        HookWrite::Remove { path } => {
            std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))
        }
        HookWrite::Executable { path, content } => {
            use std::io::Write as _;
            use std::os::unix::fs::PermissionsExt;
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".git-release-hook")
                .tempfile_in(dir)
                .with_context(|| format!("creating a file in {}", dir.display()))?;
            tmp.write_all(content.as_bytes())?;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o755))?;
            tmp.persist(path)
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(())
        }
    }
}
