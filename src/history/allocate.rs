//! One chart version allocator for `bump`, `cherry-pick` (and collect's merges, which take the
//! higher of two versions): a new chart version is the next patch above the branch's that no
//! commit reachable from any ref (branches, remote-tracking branches, tags, hotfix tags) uses with
//! other content. The same content keeps its version on every line: a fix picked onto the same
//! base as on master gets master's version, so a chart name and version always mean one content
//! (what `check`'s chart-version-reused rule demands).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::Result;

use crate::git;

/// The versions each Chart.yaml path had anywhere in the history, with the chart folder tree ids
/// that carried each.
#[derive(Debug, Default)]
pub struct UsedVersions {
    by_path: BTreeMap<String, BTreeMap<String, BTreeSet<gix::ObjectId>>>,
}

impl UsedVersions {
    /// Every version of each Chart.yaml path of `paths` (`addons/x/Chart.yaml`, or a single-file
    /// addon, [`content_root`]) in any commit
    /// reachable from any ref. Each folder content is parsed once.
    ///
    /// Errors: unreadable refs or objects.
    pub fn scan<'a>(
        repo: &gix::Repository,
        paths: impl IntoIterator<Item = &'a String>,
    ) -> Result<Self> {
        let paths: Vec<&String> = paths.into_iter().collect();
        let mut out = UsedVersions::default();
        if paths.is_empty() {
            return Ok(out);
        }
        let mut tips = Vec::new();
        for r in repo.references()?.all()? {
            let Ok(mut r) = r else { continue };
            if let Ok(c) = r.peel_to_commit() {
                tips.push(c.id);
            }
        }
        let folders: Vec<&str> = paths.iter().map(|p| content_root(p)).collect();
        let mut seen: HashSet<(usize, gix::ObjectId)> = HashSet::new();
        for info in repo.rev_walk(tips).all()? {
            let info = info?;
            let tree = repo.find_commit(info.id)?.tree_id()?.detach();
            for (i, p) in paths.iter().enumerate() {
                let folder_id = match folders[i] {
                    "" => Some(tree),
                    f => git::lookup_path(repo, tree, f)?.map(|(id, _)| id),
                };
                let Some(folder_id) = folder_id else { continue };
                if !seen.insert((i, folder_id)) {
                    continue;
                }
                if let Some((id, _)) = git::lookup_path(repo, tree, p)? {
                    if let Some(v) = crate::chart::meta::parse(&repo.find_blob(id)?.data).version {
                        out.by_path
                            .entry((*p).clone())
                            .or_default()
                            .entry(v)
                            .or_default()
                            .insert(folder_id);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether `version` of `path` is used by a content other than `content` (any use counts
    /// when `content` is `None`).
    pub fn taken(&self, path: &str, version: &str, content: Option<gix::ObjectId>) -> bool {
        self.by_path
            .get(path)
            .and_then(|m| m.get(version))
            .is_some_and(|trees| match content {
                Some(c) => trees.iter().any(|t| *t != c),
                None => !trees.is_empty(),
            })
    }
}

/// What one version's content is, for the version file `path`: the chart folder of a
/// `…/Chart.yaml`, the file itself for a single-file addon (`addons/app/app-admin.yaml`).
pub fn content_root(path: &str) -> &str {
    if path == "Chart.yaml" {
        ""
    } else if let Some(folder) = path.strip_suffix("/Chart.yaml") {
        folder
    } else {
        path
    }
}

/// The next patch above `v` for which `taken` is false (`1.2.3` -> `1.2.4`, or higher).
pub fn next_free(v: &semver::Version, taken: impl Fn(&semver::Version) -> bool) -> semver::Version {
    let mut next = crate::version_bump::next_patch(v);
    while taken(&next) {
        next = crate::version_bump::next_patch(&next);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_free_skips_taken_patches() {
        let v = semver::Version::new(2, 15, 0);
        let taken = ["2.15.1", "2.15.2"];
        assert_eq!(
            next_free(&v, |c| taken.contains(&c.to_string().as_str())),
            semver::Version::new(2, 15, 3)
        );
        let same = UsedVersions {
            by_path: BTreeMap::from([(
                "a/Chart.yaml".to_string(),
                BTreeMap::from([(
                    "2.15.1".to_string(),
                    BTreeSet::from([gix::ObjectId::null(gix::hash::Kind::Sha1)]),
                )]),
            )]),
        };
        assert!(!same.taken(
            "a/Chart.yaml",
            "2.15.1",
            Some(gix::ObjectId::null(gix::hash::Kind::Sha1))
        ));
        assert!(same.taken("a/Chart.yaml", "2.15.1", None));
        assert!(!same.taken("a/Chart.yaml", "2.15.2", None));
    }
}
