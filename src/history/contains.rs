//! Which release tags, hotfix tags and release branches contain a change: the commit itself, a
//! cherry-pick of it that names it (`(cherry picked from commit …)`, as `git cherry-pick -x`
//! writes), or a pick with the same patch id; in one walk of the history, however many refs.

use std::collections::{HashMap, VecDeque};

use anyhow::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::refs::ReleaseRef;
use crate::chart::discover::{diff_trees, FileChange};

/// How a commit carries the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// It is the commit asked about.
    SameCommit,
    /// Its message names the change, or a pick of it, in a `(cherry picked from commit …)` line
    /// (or the commit asked about names it: it is the original).
    CherryPickTrailer,
    /// A single-parent commit whose diff equals the change's: the same files, the same added
    /// and removed lines, whitespace and line numbers ignored (the rule of `git patch-id`).
    PatchId,
}

/// A commit that carries the change.
#[derive(Debug, Clone, Serialize)]
pub struct Equivalent {
    /// Full commit id.
    pub commit: String,
    /// How it was recognised.
    pub how: How,
    /// First line of its message.
    pub subject: String,
}

/// One ref and whether it contains the change.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The ref.
    pub r#ref: ReleaseRef,
    /// The nearest commit in its history that carries the change; `None` when it has none.
    pub via: Option<usize>,
}

/// The answer for one commit.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Every commit found to carry the change, the one asked about first.
    pub equivalents: Vec<Equivalent>,
    /// Every ref, in the order given; `via` indexes `equivalents`.
    pub verdicts: Vec<Verdict>,
    /// Commits read in the walk.
    pub walked: usize,
}

/// A diff reduced to what a cherry-pick keeps: the changed paths, and a SHA-256 over each
/// path's removed and added lines with whitespace dropped, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PatchKey {
    paths: Vec<String>,
    digest: [u8; 32],
}

/// The [`PatchKey`] of the change `parent_tree` -> `tree`; `None` when nothing changed, or when
/// `only` is given and the changed paths are others (no blob is read then).
fn patch_key(
    repo: &gix::Repository,
    parent_tree: gix::ObjectId,
    tree: gix::ObjectId,
    only: Option<&[String]>,
) -> Result<Option<PatchKey>> {
    let mut changes: Vec<FileChange> = diff_trees(repo, parent_tree, tree, "")?;
    if changes.is_empty() {
        return Ok(None);
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    if only.is_some_and(|paths| !changes.iter().map(|c| &c.path).eq(paths.iter())) {
        return Ok(None);
    }
    let mut h = Sha256::new();
    let blob = |x: Option<(gix::ObjectId, gix::objs::tree::EntryKind)>| -> Result<Vec<u8>> {
        Ok(match x {
            Some((id, _)) => repo.find_blob(id)?.data.clone(),
            None => Vec::new(),
        })
    };
    for ch in &changes {
        h.update(ch.path.as_bytes());
        h.update([0]);
        let (old, new) = (blob(ch.old)?, blob(ch.new)?);
        match (std::str::from_utf8(&old), std::str::from_utf8(&new)) {
            (Ok(o), Ok(n)) if !old.contains(&0) && !new.contains(&0) => {
                let diff = similar::TextDiff::from_lines(o, n);
                for change in diff.iter_all_changes() {
                    let sign = match change.tag() {
                        similar::ChangeTag::Equal => continue,
                        similar::ChangeTag::Delete => b'-',
                        similar::ChangeTag::Insert => b'+',
                    };
                    h.update([sign]);
                    let line: Vec<u8> = change
                        .value()
                        .bytes()
                        .filter(|b| !b.is_ascii_whitespace())
                        .collect();
                    h.update(&line);
                    h.update([b'\n']);
                }
            }
            // Binary: the two blobs stand for themselves.
            _ => {
                for side in [ch.old, ch.new] {
                    h.update(side.map_or([0; 20].to_vec(), |(id, _)| id.as_bytes().to_vec()));
                }
            }
        }
    }
    Ok(Some(PatchKey {
        paths: changes.into_iter().map(|c| c.path).collect(),
        digest: h.finalize().into(),
    }))
}

/// The commit ids named by `(cherry picked from commit <id>)` lines of `message`.
pub fn picked_from(message: &[u8]) -> Vec<gix::ObjectId> {
    const MARK: &[u8] = b"(cherry picked from commit ";
    let mut out = Vec::new();
    for line in message.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if let Some(rest) = line.strip_prefix(MARK) {
            let hex = rest.strip_suffix(b")").unwrap_or(rest);
            if let Ok(id) = gix::ObjectId::from_hex(hex) {
                out.push(id);
            }
        }
    }
    out
}

/// The tree of `commit`'s first parent, or the empty tree for a root commit.
fn parent_tree(repo: &gix::Repository, commit: &gix::Commit<'_>) -> Result<gix::ObjectId> {
    Ok(match commit.parent_ids().next() {
        Some(p) => repo.find_commit(p)?.tree_id()?.detach(),
        None => gix::ObjectId::empty_tree(repo.object_hash()),
    })
}

/// Which of `refs` contain `commit`'s change ([`How`]).
///
/// One walk over the history of every ref: each commit is read once, its message searched for
/// `(cherry picked from commit …)` lines; single-parent commits that change exactly the paths
/// of `commit` (checked by looking those paths up, not by diffing) have their patch id
/// compared. Trailers are followed both ways and transitively (a pick of a pick; the original
/// of a pick asked about). Then one breadth-first pass from the carrying commits to their
/// descendants finds, for every ref, the nearest carrying commit.
///
/// Errors: objects missing from the database.
pub fn contains(
    repo: &gix::Repository,
    commit: gix::ObjectId,
    refs: Vec<ReleaseRef>,
) -> Result<Answer> {
    let target = repo.find_commit(commit)?;
    let is_merge = target.parent_ids().count() > 1;
    let key = if is_merge {
        None
    } else {
        patch_key(
            repo,
            parent_tree(repo, &target)?,
            target.tree_id()?.detach(),
            None,
        )?
    };

    let mut tips: Vec<gix::ObjectId> = refs.iter().map(|r| r.commit).collect();
    tips.sort();
    tips.dedup();

    // The walk: index every commit, keep parents, trailers and patch-id matches.
    let mut index: HashMap<gix::ObjectId, u32> = HashMap::new();
    let mut ids: Vec<gix::ObjectId> = Vec::new();
    let mut parents: Vec<Vec<gix::ObjectId>> = Vec::new();
    let mut trailers: Vec<(u32, Vec<gix::ObjectId>)> = Vec::new();
    let mut hits: HashMap<gix::ObjectId, How> = HashMap::new();
    // Single-parent commits (index, tree) whose patch id may match, and every commit's tree.
    let mut candidates: Vec<(u32, gix::ObjectId)> = Vec::new();
    let mut trees: HashMap<gix::ObjectId, gix::ObjectId> = HashMap::new();
    hits.insert(commit, How::SameCommit);
    for p in picked_from(target.message_raw_sloppy()) {
        hits.entry(p).or_insert(How::CherryPickTrailer);
    }
    for info in repo.rev_walk(tips.iter().copied()).all()? {
        let info = info?;
        let i = ids.len() as u32;
        index.insert(info.id, i);
        ids.push(info.id);
        let ps: Vec<gix::ObjectId> = info.parent_ids().map(|p| p.detach()).collect();
        let c = repo.find_commit(info.id)?;
        let named = picked_from(c.message_raw_sloppy());
        if !named.is_empty() {
            trailers.push((i, named));
        }
        if key.is_some() && ps.len() == 1 && info.id != commit {
            candidates.push((i, c.tree_id()?.detach()));
        }
        trees.insert(info.id, c.tree_id()?.detach());
        parents.push(ps);
    }

    // Patch ids, only where every path of the change differs between the commit and its parent
    // (compared level by level, stopping at the first equal folder; folders memoised by id:
    // each tree is a commit's and its child's parent's).
    if let Some(key) = &key {
        let mut probe = PathProbe {
            repo,
            memo: HashMap::new(),
        };
        for (i, tree) in candidates {
            let parent = parents[i as usize][0];
            let Some(&ptree) = trees.get(&parent) else {
                continue;
            };
            let mut all_differ = true;
            for p in &key.paths {
                if probe.same_at(tree, ptree, p)? {
                    all_differ = false;
                    break;
                }
            }
            if all_differ && patch_key(repo, ptree, tree, Some(&key.paths))?.as_ref() == Some(key) {
                hits.entry(ids[i as usize]).or_insert(How::PatchId);
            }
        }
    }

    // Trailers both ways, until nothing changes: a pick of a carrier carries; the commit a
    // carrier was picked from carries.
    loop {
        let mut grew = false;
        for (i, named) in &trailers {
            let id = ids[*i as usize];
            let mine = hits.get(&id).copied();
            // A trailer is the explicit record: it wins over a matching patch id.
            if matches!(mine, None | Some(How::PatchId))
                && named.iter().any(|n| hits.contains_key(n))
            {
                hits.insert(id, How::CherryPickTrailer);
                grew = true;
            }
            if mine.is_some() {
                for n in named {
                    if !hits.contains_key(n) {
                        hits.insert(*n, How::CherryPickTrailer);
                        grew = true;
                    }
                }
            }
        }
        if !grew {
            break;
        }
    }

    // Equivalents: the commit first, then the others in walk order (newest tips first).
    let mut equivalents = vec![Equivalent {
        commit: commit.to_string(),
        how: How::SameCommit,
        subject: subject(&target),
    }];
    let mut eq_of: HashMap<u32, usize> = HashMap::new();
    let mut queue = VecDeque::new();
    let mut label: Vec<Option<usize>> = vec![None; ids.len()];
    for (i, id) in ids.iter().enumerate() {
        let Some(how) = hits.get(id) else { continue };
        let e = if *id == commit {
            0
        } else {
            equivalents.push(Equivalent {
                commit: id.to_string(),
                how: *how,
                subject: subject(&repo.find_commit(*id)?),
            });
            equivalents.len() - 1
        };
        eq_of.insert(i as u32, e);
        label[i] = Some(e);
        queue.push_back(i as u32);
    }
    // Descendants: children lists from the parents, then breadth first from every carrier.
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); ids.len()];
    for (i, ps) in parents.iter().enumerate() {
        for p in ps {
            if let Some(&pi) = index.get(p) {
                children[pi as usize].push(i as u32);
            }
        }
    }
    while let Some(i) = queue.pop_front() {
        let l = label[i as usize];
        for &c in &children[i as usize] {
            if label[c as usize].is_none() {
                label[c as usize] = l;
                queue.push_back(c);
            }
        }
    }
    let verdicts = refs
        .into_iter()
        .map(|r| {
            let via = index.get(&r.commit).and_then(|&i| label[i as usize]);
            Verdict { r#ref: r, via }
        })
        .collect();
    Ok(Answer {
        equivalents,
        verdicts,
        walked: ids.len(),
    })
}

/// Entries of folders by (folder id, name), read once each.
struct PathProbe<'r> {
    repo: &'r gix::Repository,
    memo: HashMap<(gix::ObjectId, String), Option<gix::ObjectId>>,
}

impl PathProbe<'_> {
    /// The id of entry `name` of folder `tree` (`None` when absent or `tree` is not a folder).
    fn child(&mut self, tree: gix::ObjectId, name: &str) -> Result<Option<gix::ObjectId>> {
        if let Some(v) = self.memo.get(&(tree, name.to_string())) {
            return Ok(*v);
        }
        let obj = self.repo.find_object(tree)?;
        let v = match obj.try_into_tree() {
            Ok(t) => t.find_entry(name).map(|e| e.object_id()),
            Err(_) => None,
        };
        self.memo.insert((tree, name.to_string()), v);
        Ok(v)
    }

    /// Whether `path` names the same object (or nothing) in the trees `a` and `b`: compared
    /// from the root down, stopping at the first folder both share.
    fn same_at(&mut self, a: gix::ObjectId, b: gix::ObjectId, path: &str) -> Result<bool> {
        let (mut x, mut y) = (Some(a), Some(b));
        for name in path.split('/') {
            if x == y {
                return Ok(true);
            }
            x = match x {
                Some(t) => self.child(t, name)?,
                None => None,
            };
            y = match y {
                Some(t) => self.child(t, name)?,
                None => None,
            };
        }
        Ok(x == y)
    }
}

fn subject(c: &gix::Commit<'_>) -> String {
    String::from_utf8_lossy(c.message_raw_sloppy())
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers() {
        let a = "0123456789012345678901234567890123456789";
        let b = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
        let msg = format!("fix\n\n(cherry picked from commit {a})\n  (cherry picked from commit {b})\n(cherry picked from commit nothex)\n");
        let got: Vec<String> = picked_from(msg.as_bytes())
            .iter()
            .map(|i| i.to_string())
            .collect();
        assert_eq!(got, vec![a.to_string(), b.to_string()]);
        assert!(picked_from(b"cherry picked from commit 0123").is_empty());
    }
}
