//! Chart versions across history (`chart-version-reused`, `chart-version-not-bumped`,
//! `chart-version-lowered`): tree ids of chart folders compared between REV and release tags.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{ChartAt, Charts, Finding};
use crate::settings::Settings;

/// A released revision: a release tag or a hotfix tag.
struct Released {
    label: String,
    commit: gix::ObjectId,
    time: i64,
    /// The product version of a release tag; `None` for a hotfix tag.
    version: Option<semver::Version>,
}

/// Every release tag (SemVer, `v` optional, not hotfix-shaped) and hotfix tag
/// (`release.hotfixTagPrefix`), newest commit first.
fn released(repo: &gix::Repository, settings: &Settings) -> Result<Vec<Released>> {
    let mut out = Vec::new();
    for r in repo.references()?.tags()? {
        let Some(mut r) = crate::git::listed(r) else {
            continue;
        };
        let label = r.name().shorten().to_string();
        let is_hotfix = label.starts_with(&settings.hotfix_tag_prefix);
        let version = crate::versions::release_version(&label).filter(|_| !is_hotfix);
        if !is_hotfix && version.is_none() {
            continue;
        }
        let Some(c) = crate::git::ref_commit(&mut r) else {
            continue;
        };
        let time = c.time().map_or(0, |t| t.seconds);
        out.push(Released {
            label,
            commit: c.id,
            time,
            version,
        });
    }
    out.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| b.label.cmp(&a.label)));
    Ok(out)
}

/// One content of a chart version: folder tree id, the first revision seen with it, its path there.
type Content = (gix::ObjectId, String, String);

/// Files that differ between two chart folders, relative to the folder; at most 5 named. For
/// two blobs (a single-file addon), the lines that differ, at most 3 named.
fn differing(repo: &gix::Repository, a: gix::ObjectId, b: gix::ObjectId) -> Result<String> {
    if repo.find_object(a)?.kind == gix::object::Kind::Blob {
        let (old, new) = (
            repo.find_blob(a)?.take_data(),
            repo.find_blob(b)?.take_data(),
        );
        let (old, new) = (String::from_utf8_lossy(&old), String::from_utf8_lossy(&new));
        let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
        let mut lines: Vec<String> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Insert)
            .filter_map(|c| c.new_index().map(|i| format!("line {}", i + 1)))
            .take(4)
            .collect();
        if lines.len() > 3 {
            lines.truncate(3);
            lines.push("…".into());
        }
        if lines.is_empty() {
            lines.push("lines removed".into());
        }
        return Ok(lines.join(", "));
    }
    let changes = crate::chart::discover::diff_trees(repo, a, b, "")?;
    let mut names: Vec<&str> = changes.iter().map(|c| c.path.as_str()).take(5).collect();
    if changes.len() > 5 {
        names.push("…");
    }
    Ok(names.join(", "))
}

fn parse_version(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).ok()
}

/// The line of `version:` in the Chart.yaml of chart folder `tree` (of
/// `_config._metadata.version` when `tree` is a single-file addon's blob).
fn version_line(repo: &gix::Repository, tree: gix::ObjectId) -> Option<usize> {
    let blob = match repo.find_object(tree).ok()?.kind {
        gix::object::Kind::Blob => tree,
        _ => crate::git::lookup_path(repo, tree, "Chart.yaml").ok()??.0,
    };
    crate::chart::meta::version_line(&repo.find_blob(blob).ok()?.data)
}

/// Run the history rules for `commit` (named `rev`), whose charts are `at_rev`.
#[allow(clippy::too_many_arguments)]
pub fn check(
    repo: &gix::Repository,
    settings: &Settings,
    charts: &mut Charts,
    commit: gix::ObjectId,
    rev: &str,
    at_rev: &[ChartAt],
    history: bool,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let released = released(repo, settings)?;
    // (name, version) -> every distinct content: (tree, first revision label, path).
    let mut seen: BTreeMap<(String, String), Vec<Content>> = BTreeMap::new();
    let mut add = |c: &ChartAt, label: &str| {
        let Some(v) = &c.version else { return };
        let slot = seen.entry((c.name.clone(), v.clone())).or_default();
        if !slot.iter().any(|(t, _, _)| *t == c.tree) {
            slot.push((c.tree, label.to_string(), c.path.clone()));
        }
    };
    // REV first, so its content is the one compared against when it reuses a version.
    // Each chart folder content once, at its first revision: tags share most of them.
    let mut trees_seen = std::collections::HashSet::new();
    for c in at_rev {
        trees_seen.insert(c.tree);
        add(c, rev);
    }
    let commits: Vec<gix::ObjectId> = released.iter().map(|r| r.commit).collect();
    for (i, c) in charts.unseen_at_many(repo, &commits, &settings.addons_path, &mut trees_seen)? {
        add(&c, &released[i].label);
    }
    for ((name, version), contents) in &seen {
        if contents.len() < 2 {
            continue;
        }
        let at_rev_chart = at_rev
            .iter()
            .find(|c| &c.name == name && c.version.as_deref() == Some(version));
        if !history && at_rev_chart.is_none_or(|c| c.tree != contents[0].0) {
            continue; // without --history only REV's own charts are judged
        }
        let (first, second) = (&contents[0], &contents[1]);
        let files = differing(repo, second.0, first.0)?;
        let others: Vec<&str> = contents[1..].iter().map(|(_, l, _)| l.as_str()).collect();
        let line = version_line(repo, first.0);
        findings.push(
            Finding::new(
                "chart-version-reused",
                format!(
                    "{name} {version} in {} differs from {name} {version} in {} ({files}); a released version is never rebuilt: bump the chart version",
                    first.1,
                    others.join(", ")
                ),
            )
            .chart(name, Some(version))
            .at(&crate::chart::meta::file_of(&first.2), line)
            .revisions(contents.iter().map(|(_, l, _)| l.clone()).collect()),
        );
    }

    // The newest release tag reachable from REV, REV's own commit excluded (the highest version
    // when a commit has several), from the tags read above.
    let mut by_commit: std::collections::HashMap<gix::ObjectId, (&str, &semver::Version)> =
        std::collections::HashMap::new();
    for r in &released {
        let Some(v) = &r.version else { continue };
        let slot = by_commit.entry(r.commit).or_insert((&r.label, v));
        if crate::versions::cmp_tags((v, &r.label), (slot.1, slot.0)).is_gt() {
            *slot = (&r.label, v);
        }
    }
    let walk = repo
        .rev_walk([commit])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()?;
    let mut base = None;
    for info in walk {
        let info = info?;
        if info.id == commit {
            continue;
        }
        if let Some((tag, _)) = by_commit.get(&info.id) {
            base = Some((tag.to_string(), info.id));
            break;
        }
    }
    let Some((base_tag, base_commit)) = base else {
        return Ok(());
    };
    let old: BTreeMap<String, ChartAt> = charts
        .at(repo, base_commit, &settings.addons_path)?
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect();
    for c in at_rev {
        let Some(o) = old.get(&c.name) else { continue };
        if o.tree == c.tree {
            continue;
        }
        let (Some(nv), Some(ov)) = (
            c.version.as_deref().and_then(parse_version),
            o.version.as_deref().and_then(parse_version),
        ) else {
            continue;
        };
        let (rule, what) = match nv.cmp_precedence(&ov) {
            std::cmp::Ordering::Less => ("chart-version-lowered", "went down from"),
            std::cmp::Ordering::Equal => ("chart-version-not-bumped", "changed but kept"),
            std::cmp::Ordering::Greater => continue,
        };
        let files = differing(repo, o.tree, c.tree)?;
        let shown = c.version.as_deref().unwrap_or_default();
        findings.push(
            Finding::new(
                rule,
                format!(
                    "{} {shown} {what} {} in {base_tag} ({files}); give it a version above {}",
                    c.name,
                    o.version.as_deref().unwrap_or_default(),
                    o.version.as_deref().unwrap_or_default()
                ),
            )
            .chart(&c.name, c.version.as_deref())
            .at(
                &crate::chart::meta::file_of(&c.path),
                version_line(repo, c.tree),
            )
            .revisions(vec![rev.to_string(), base_tag.clone()]),
        );
    }
    Ok(())
}
