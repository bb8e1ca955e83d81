//! `chart-version-below-older-line`: a release may not carry a chart below the version the same
//! chart has in a release of an older line that is already tagged, since upgrading from that
//! release to this one would downgrade the chart (issue seen in a real release week: the same fix
//! became 2.15.1 on master and 2.15.2 on release-1.0, so v1.1.0 shipped less than v1.0.1).
//!
//! REV's line: its own release tag's; else, the newest release tag reachable from REV gives it,
//! moved one minor up when REV is on the default branch (`master` or `main`: its next release
//! starts a new line). The newest release of each older line that REV does not contain is read.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{ChartAt, Charts, Finding};

/// `(major, minor)` of a release line.
type Line = (u64, u64);

/// Add a finding for each chart of `at_rev` below the same chart in the newest release of an
/// older line that `commit` does not contain.
///
/// Errors: unreadable objects or refs.
pub fn check(
    repo: &gix::Repository,
    addons: &str,
    charts: &mut Charts,
    commit: gix::ObjectId,
    at_rev: &[ChartAt],
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let tags = crate::git::release_tags_by_commit(repo)?;
    if tags.is_empty() {
        return Ok(());
    }
    let Some(line) = line_of(repo, commit, &tags)? else {
        return Ok(());
    };
    // The newest release of each older line: (line) -> (version, tag, commit).
    let mut newest: BTreeMap<Line, (semver::Version, String, gix::ObjectId)> = BTreeMap::new();
    for (c, list) in &tags {
        for (name, v) in list {
            let l = (v.major, v.minor);
            if l >= line {
                continue;
            }
            let better = newest
                .get(&l)
                .is_none_or(|(nv, _, _)| v.cmp_precedence(nv).is_gt());
            if better {
                newest.insert(l, (v.clone(), name.clone(), *c));
            }
        }
    }
    let mine: BTreeMap<&str, (&ChartAt, semver::Version)> = at_rev
        .iter()
        .filter_map(|c| Some((c.name.as_str(), (c, parse(c.version.as_deref()?)?))))
        .collect();
    // Per chart, the highest version of an older line above REV's.
    let mut worst: BTreeMap<String, (semver::Version, String)> = BTreeMap::new();
    for (_, tag, c) in newest.values() {
        if is_ancestor(repo, *c, commit)? {
            continue;
        }
        for theirs in charts.at(repo, *c, addons)? {
            let Some((_, my_v)) = mine.get(theirs.name.as_str()) else {
                continue;
            };
            let Some(their_v) = theirs.version.as_deref().and_then(parse) else {
                continue;
            };
            if their_v.cmp_precedence(my_v).is_gt()
                && worst
                    .get(&theirs.name)
                    .is_none_or(|(w, _)| their_v.cmp_precedence(w).is_gt())
            {
                worst.insert(theirs.name.clone(), (their_v, tag.clone()));
            }
        }
    }
    for (name, (their_v, tag)) in worst {
        let (c, my_v) = &mine[name.as_str()];
        findings.push(
            Finding::new(
                "chart-version-below-older-line",
                format!(
                    "{name} {my_v} is below {name} {their_v} in {tag}, a release of an older line: upgrading from {tag} to this release would downgrade it; give it a version above {their_v} (`git release bump patch {name}` picks a free one)"
                ),
            )
            .chart(&name, Some(&my_v.to_string()))
            .at(&crate::chart::meta::file_of(&c.path), None)
            .revisions(vec![tag]),
        );
    }
    Ok(())
}

fn parse(v: &str) -> Option<semver::Version> {
    crate::version_bump::parse_loose(v).map(|(v, _)| v)
}

/// Whether `ancestor` is reachable from `commit` (or is it).
fn is_ancestor(
    repo: &gix::Repository,
    ancestor: gix::ObjectId,
    commit: gix::ObjectId,
) -> Result<bool> {
    if ancestor == commit {
        return Ok(true);
    }
    Ok(repo
        .merge_base(ancestor, commit)
        .is_ok_and(|b| b.is_some_and(|b| b.detach() == ancestor)))
}

/// REV's release line (see the module docs); `None` when no release tag is reachable.
fn line_of(
    repo: &gix::Repository,
    commit: gix::ObjectId,
    tags: &BTreeMap<gix::ObjectId, Vec<(String, semver::Version)>>,
) -> Result<Option<Line>> {
    let Some((_, v)) = crate::git::nearest_release(repo, commit, tags)? else {
        return Ok(None);
    };
    let (major, minor) = (v.major, v.minor);
    if tags.contains_key(&commit) {
        return Ok(Some((major, minor)));
    }
    for default in ["refs/heads/master", "refs/heads/main"] {
        if let Some(mut r) = repo.try_find_reference(default)? {
            let tip = r.peel_to_commit()?.id;
            if is_ancestor(repo, commit, tip)? {
                return Ok(Some((major, minor + 1)));
            }
        }
    }
    Ok(Some((major, minor)))
}
