//! The commits a component moved by between two tags (`git log --first-parent OLD..NEW`, merges
//! summarised by the commits they bring), and the tags a collect held back.

use anyhow::Result;
use serde::Serialize;

/// One commit of a changelog.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogCommit {
    /// Full commit id.
    pub id: String,
    /// First line of the message.
    pub subject: String,
    /// Author name.
    pub author: String,
    /// For a merge commit: how many commits it brings that the old tag does not have (its
    /// other parents' side); `None` for an ordinary commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<usize>,
}

/// The commits between two tags of a component, newest first.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Changelog {
    /// First-parent commits of NEW that OLD does not have, newest first, at most the limit.
    pub commits: Vec<LogCommit>,
    /// First-parent commits left out beyond the limit.
    pub more: usize,
    /// First-parent commits left out because they change none of the collected paths (the
    /// repository's other folders: its CI, its docs, other charts).
    #[serde(skip_serializing_if = "is_zero")]
    pub untouched: usize,
    /// Why there is no list, when there is none (`currentTag v1.0.0 is not a tag of the
    /// component repository`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The first-parent commits of `new` that `old` does not have, newest first (`git log
/// --first-parent old..new -- PATHS`), at most `limit` of them; with `paths` (the collected chart
/// folders and files), only commits that change one of them against their first parent count
/// (`untouched` counts the others). Each merge counts the commits it brings (`git rev-list
/// old..merge^2 ^merge^1`). Authors and subjects come from the commits.
///
/// Errors: objects missing from the repository.
pub fn between(
    repo: &gix::Repository,
    old: gix::ObjectId,
    new: gix::ObjectId,
    limit: usize,
    paths: &[String],
) -> Result<Changelog> {
    let mut out = Changelog::default();
    let walk = repo
        .rev_walk([new])
        .first_parent_only()
        .with_hidden([old])
        .all()?;
    for info in walk {
        let info = info?;
        let c = repo.find_commit(info.id)?;
        let parents: Vec<gix::ObjectId> = c.parent_ids().map(|p| p.detach()).collect();
        if !paths.is_empty() && !touches(repo, &c, parents.first().copied(), paths)? {
            out.untouched += 1;
            continue;
        }
        if out.commits.len() >= limit {
            out.more += 1;
            continue;
        }
        let merged = if parents.len() > 1 {
            let mut hidden = vec![old, parents[0]];
            hidden.dedup();
            Some(
                repo.rev_walk(parents[1..].iter().copied())
                    .with_hidden(hidden)
                    .all()?
                    .count(),
            )
        } else {
            None
        };
        let msg = String::from_utf8_lossy(c.message_raw_sloppy()).into_owned();
        out.commits.push(LogCommit {
            id: info.id.to_string(),
            subject: msg.lines().next().unwrap_or("").to_string(),
            author: c.author().map(|a| a.name.to_string()).unwrap_or_default(),
            merged,
        });
    }
    Ok(out)
}

/// Whether commit `c` changes any of `paths` against `parent` (a root commit changes them all).
fn touches(
    repo: &gix::Repository,
    c: &gix::Commit<'_>,
    parent: Option<gix::ObjectId>,
    paths: &[String],
) -> Result<bool> {
    let Some(parent) = parent else {
        return Ok(true);
    };
    let (tree, ptree) = (
        c.tree_id()?.detach(),
        repo.find_commit(parent)?.tree_id()?.detach(),
    );
    for p in paths {
        if p.is_empty() || p == "." {
            if tree != ptree {
                return Ok(true);
            }
            continue;
        }
        let here = crate::git::lookup_path(repo, tree, p)?.map(|(id, _)| id);
        let there = crate::git::lookup_path(repo, ptree, p)?.map(|(id, _)| id);
        if here != there {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Why a newer tag was not collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeldReason {
    /// A release above the collected tag, outside the entry's `baseVersion` (another line).
    OutsideBaseVersion,
    /// A pre-release above the collected tag, within `baseVersion`, skipped without `--pre`.
    PreRelease,
    /// The newest candidate, not taken because `--tag` pinned another.
    Pinned,
    /// The newest candidate is below `currentTag`: currentTag was kept (no `--allow-downgrade`).
    BelowCurrentTag,
}

/// A tag newer than the collected one that collect did not take.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HeldBack {
    /// The tag.
    pub tag: String,
    /// Why it was not taken.
    pub reason: HeldReason,
}

/// The tags held back for one component: for each reason, the newest tag above `collected`.
/// `tags` are `(name, version)` of the component's release tags; `base` its baseVersion;
/// `pre` whether pre-releases were candidates; `candidate` the tag collect would pick unpinned.
pub fn held_back(
    tags: &[(&str, &semver::Version)],
    collected: (&str, &semver::Version),
    base: Option<&crate::versions::BaseVersion>,
    pre: bool,
    candidate: Option<(&str, &semver::Version, HeldReason)>,
) -> Vec<HeldBack> {
    let above = |v: &semver::Version, n: &str| {
        crate::versions::cmp_tags((v, n), (collected.1, collected.0)).is_gt()
    };
    let newest = |f: &dyn Fn(&semver::Version) -> bool| {
        tags.iter()
            .filter(|(n, v)| above(v, n) && f(v))
            .max_by(|a, b| crate::versions::cmp_tags((a.1, a.0), (b.1, b.0)))
            .map(|(n, _)| n.to_string())
    };
    let mut out = Vec::new();
    if let Some(b) = base {
        if let Some(tag) = newest(&|v| !b.contains(v) && (pre || v.pre.is_empty())) {
            out.push(HeldBack {
                tag,
                reason: HeldReason::OutsideBaseVersion,
            });
        }
    }
    if !pre {
        if let Some(tag) = newest(&|v| !v.pre.is_empty() && base.is_none_or(|b| b.contains(v))) {
            out.push(HeldBack {
                tag,
                reason: HeldReason::PreRelease,
            });
        }
    }
    if let Some((name, v, reason)) = candidate {
        if name != collected.0 && (reason != HeldReason::Pinned || above(v, name)) {
            out.push(HeldBack {
                tag: name.to_string(),
                reason,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versions::BaseVersion;

    #[test]
    fn held_back_per_reason() {
        let vs: Vec<(&str, semver::Version)> = [
            ("v1.2.0", "1.2.0"),
            ("v1.2.1", "1.2.1"),
            ("v1.2.2-rc.1", "1.2.2-rc.1"),
            ("v1.3.0", "1.3.0"),
            ("v1.4.0-rc.1", "1.4.0-rc.1"),
        ]
        .into_iter()
        .map(|(n, v)| (n, semver::Version::parse(v).unwrap()))
        .collect();
        let tags: Vec<(&str, &semver::Version)> = vs.iter().map(|(n, v)| (*n, v)).collect();
        let base = BaseVersion::parse("v1.2").unwrap();
        let got = held_back(&tags, ("v1.2.1", &vs[1].1), Some(&base), false, None);
        assert_eq!(
            got,
            vec![
                HeldBack {
                    tag: "v1.3.0".into(),
                    reason: HeldReason::OutsideBaseVersion
                },
                HeldBack {
                    tag: "v1.2.2-rc.1".into(),
                    reason: HeldReason::PreRelease
                },
            ]
        );
        // Pinned below the newest candidate.
        let got = held_back(
            &tags,
            ("v1.2.0", &vs[0].1),
            Some(&base),
            true,
            Some(("v1.2.2-rc.1", &vs[2].1, HeldReason::Pinned)),
        );
        assert_eq!(
            got,
            vec![
                HeldBack {
                    tag: "v1.4.0-rc.1".into(),
                    reason: HeldReason::OutsideBaseVersion
                },
                HeldBack {
                    tag: "v1.2.2-rc.1".into(),
                    reason: HeldReason::Pinned
                },
            ]
        );
        // Nothing newer: nothing held back.
        assert!(held_back(&tags, ("v1.4.0-rc.1", &vs[4].1), None, true, None).is_empty());
    }
}
