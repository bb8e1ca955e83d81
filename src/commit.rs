//! Making commits as `git commit` does: on top of HEAD, the commit hooks run, `commit.gpgSign`
//! honoured, HEAD's branch moved with a reflog entry. Work-tree changes are swapped in first
//! (the one writer, `plan::apply`) and the commit is made before the swap is final.

use anyhow::{anyhow, Context, Result};

use crate::files::join;
use crate::worktree::Change;

/// Commit exactly `changes` on top of HEAD (like `git commit -- <paths>`): other staged changes stay
/// staged and out of the commit. The index entries of the written paths are replaced.
pub fn commit_changes(
    repo: &gix::Repository,
    changes: &[Change],
    message: &str,
    verify: bool,
) -> Result<gix::ObjectId> {
    let head = repo.head_id().ok().map(|id| id.detach());
    let base_tree = match head {
        Some(_) => repo.head_tree_id()?.detach(),
        None => gix::ObjectId::empty_tree(repo.object_hash()),
    };
    let mut ed = repo.edit_tree(base_tree)?;
    for ch in changes {
        match ch {
            Change::ReplaceDir { path, files } => {
                ed.remove(path.as_str())?;
                for (rel, e) in files {
                    let id = repo.write_blob(&e.data)?.detach();
                    ed.upsert(join(path, rel).as_str(), e.kind.entry_kind(), id)?;
                }
            }
            Change::WriteFile { path, entry } => {
                let id = repo.write_blob(&entry.data)?.detach();
                ed.upsert(path.as_str(), entry.kind.entry_kind(), id)?;
            }
            Change::Remove { path } => {
                ed.remove(path.as_str())?;
            }
        }
    }
    let tree = ed.write()?.detach();
    let commit = commit_on_head(repo, tree, head, message, verify)?;
    let paths: Vec<&str> = changes.iter().map(Change::path).collect();
    crate::git::index_from_head(repo, &paths)?;
    crate::hooks::after_commit(repo);
    Ok(commit)
}

/// Commit `tree` on top of `head` (HEAD's commit, `None` in an empty repository) and move HEAD's
/// branch to it, as `git commit` does: the commit hooks run first and may edit the message
/// ([`crate::hooks::before_commit`]); with `commit.gpgSign` the commit is signed
/// ([`crate::signing`]); the reflog says `commit: <subject>`.
///
/// `verify` false skips `pre-commit` and `commit-msg` (and `prepare-commit-msg`, which git runs
/// even then but which only prepares a message given on the command line here).
///
/// Errors: a hook refusing (exit 3), no identity (exit 2), signing, a HEAD that moved meanwhile.
pub fn commit_on_head(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    head: Option<gix::ObjectId>,
    message: &str,
    verify: bool,
) -> Result<gix::ObjectId> {
    let message = if verify {
        crate::hooks::before_commit(repo, tree, message)?
    } else {
        message.to_string()
    };
    let signer = if crate::signing::wanted(repo, "commit.gpgSign") {
        Some(crate::signing::Signer::from_config(repo)?)
    } else {
        None
    };
    let identity =
        |who: Option<Result<gix::actor::SignatureRef<'_>, _>>| -> Result<gix::actor::Signature> {
            match who {
            Some(Ok(s)) => Ok(s.to_owned()?),
            Some(Err(e)) => Err(anyhow!("reading the identity: {e}")),
            None => Err(crate::error::UserError::input(
                "creating the commit: no identity (user.name and user.email are not set); nothing was committed",
            )
            .hint("set `git config user.name` and `git config user.email`, then run this again")
            .into()),
        }
        };
    let author = identity(repo.author())?;
    let committer = identity(repo.committer())?;
    let obj = gix::objs::Commit {
        tree,
        parents: head.into_iter().collect(),
        author,
        committer: committer.clone(),
        encoding: None,
        message: message.as_str().into(),
        extra_headers: Vec::new(),
    };
    let id = crate::signing::write_commit(repo, &obj, signer.as_ref())?;
    let expected = match head {
        Some(h) => {
            gix::refs::transaction::PreviousValue::MustExistAndMatch(gix::refs::Target::Object(h))
        }
        None => gix::refs::transaction::PreviousValue::MustNotExist,
    };
    let subject = message.lines().next().unwrap_or_default();
    let reflog = if head.is_some() {
        format!("commit: {subject}")
    } else {
        format!("commit (initial): {subject}")
    };
    repo.edit_reference(gix::refs::transaction::RefEdit {
        change: gix::refs::transaction::Change::Update {
            log: gix::refs::transaction::LogChange {
                mode: gix::refs::transaction::RefLog::AndReference,
                force_create_reflog: false,
                message: reflog.into(),
            },
            expected,
            new: gix::refs::Target::Object(id),
        },
        name: "HEAD".try_into()?,
        deref: true,
    })
    .context("moving HEAD to the new commit")?;
    Ok(id)
}
