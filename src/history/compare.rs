//! What changed between two revisions of the platform repo, from the object database: charts
//! (versions, files), images (the image lists) and component tags (the repos files).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde::Serialize;

use crate::chart::discover::{FileChangeKind, RootProbe};
use crate::git;
use crate::report::ImageChange;

/// The charts below the addons path whose files differ between two trees.
#[derive(Debug, Default)]
pub struct ChangedCharts {
    /// Chart folder in the new tree -> its changed files, `A`/`M`/`D` and the path relative to
    /// the chart (`M templates/deploy.yaml`), in path order.
    pub changed: BTreeMap<String, Vec<String>>,
    /// Chart folders of the old tree that are no chart in the new one.
    pub removed: BTreeSet<String>,
    /// Files skipped because only their whitespace changed (with `ignore_whitespace`).
    pub whitespace_only: usize,
}

/// The charts changed between `old_tree` and `new_tree` below `addons` (DOMAIN.md step 7: `git
/// diff --name-only --diff-filter=AM` of the addons folder, by chart). A file belongs to the
/// first folder above it holding a Chart.yaml ([`RootProbe`]); only folders above changed paths
/// are probed, so the cost follows the change, not the repository. With `ignore_whitespace`,
/// modifications that only change whitespace ([`crate::chart::discover::whitespace_only`]) do not count.
///
/// Errors: objects missing from the database.
pub fn changed_charts(
    repo: &gix::Repository,
    index: &git::TreeIndex,
    old_tree: gix::ObjectId,
    new_tree: gix::ObjectId,
    addons: &str,
    ignore_whitespace: bool,
) -> Result<ChangedCharts> {
    let changes = crate::chart::discover::diff_trees(repo, old_tree, new_tree, addons)?;
    let mut new_roots = RootProbe::with_index(repo, new_tree, index.clone());
    let mut old_roots = RootProbe::with_index(repo, old_tree, index.clone());
    let mut out = ChangedCharts::default();
    for ch in &changes {
        if ignore_whitespace && ch.kind == FileChangeKind::Modified {
            if let (Some((o, om)), Some((n, nm))) = (ch.old, ch.new) {
                if om == nm
                    && crate::chart::discover::whitespace_only(
                        &repo.find_blob(o)?.data,
                        &repo.find_blob(n)?.data,
                    )
                {
                    out.whitespace_only += 1;
                    continue;
                }
            }
        }
        let Some(owner) = new_roots.owner(&ch.path) else {
            // A file of a chart that no longer exists: the chart was removed.
            if let Some(old_owner) = old_roots.owner(&ch.path) {
                if !new_roots.is_root(&old_owner) {
                    out.removed.insert(old_owner);
                }
            }
            continue;
        };
        let letter = match ch.kind {
            FileChangeKind::Added => "A",
            FileChangeKind::Modified => "M",
            FileChangeKind::Deleted => "D",
        };
        let rel = match ch.path.strip_prefix(owner.as_str()) {
            // A single-file addon: its own file name.
            Some("") => ch.path.rsplit('/').next().unwrap_or(&ch.path),
            Some(r) => r.trim_start_matches('/'),
            None => &ch.path,
        };
        out.changed
            .entry(owner.clone())
            .or_default()
            .push(format!("{letter} {rel}"));
    }
    Ok(out)
}

/// One chart that differs between two revisions: a version change in the shared vocabulary
/// (`{"name", "path", "from", "to"}`, [`crate::report`]) with the files that changed.
#[derive(Debug, Clone, Serialize)]
pub struct ChartDiff {
    /// Chart.yaml `name` (the folder name when absent).
    pub name: String,
    /// Chart folder, repo-relative.
    pub path: String,
    /// Chart.yaml `version` in the old revision; `None` for an added chart.
    pub from: Option<String>,
    /// Chart.yaml `version` in the new revision; `None` for a removed chart.
    pub to: Option<String>,
    /// Changed files, `A`/`M`/`D` and the path relative to the chart (empty when not asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Images the chart deploys, old -> new (rendered; only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<ImageDiff>,
    /// In the newer revision, files of the chart that differ from its component at its
    /// `currentTag`: local changes (empty when it is the component's own, or unknown).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patched: Vec<String>,
}

/// `(name, version)` of the chart folder `path` in `tree`, from its Chart.yaml.
fn chart_meta_at(
    repo: &gix::Repository,
    index: &git::TreeIndex,
    tree: gix::ObjectId,
    path: &str,
) -> Result<(String, Option<String>)> {
    let data = index.blob(repo, tree, &crate::chart::meta::file_of(path))?;
    let meta = data
        .as_deref()
        .map(crate::chart::meta::parse)
        .unwrap_or_default();
    Ok((meta.name_or_folder(path), meta.version))
}

/// Every chart below `addons` that was added, changed or removed between `old_tree` and
/// `new_tree`, by folder, with versions from both sides and (with `files`) the changed files.
/// Whitespace-only changes count: this is a review, not a package. Trees are read through
/// `index` (share one across many comparisons of related trees, as `log` does).
///
/// Errors: objects missing from the database.
pub fn charts(
    repo: &gix::Repository,
    index: &git::TreeIndex,
    old_tree: gix::ObjectId,
    new_tree: gix::ObjectId,
    addons: &str,
    files: bool,
) -> Result<Vec<ChartDiff>> {
    let changed = changed_charts(repo, index, old_tree, new_tree, addons, false)?;
    let mut old_roots = RootProbe::with_index(repo, old_tree, index.clone());
    let mut out = Vec::new();
    for (path, list) in changed.changed {
        let (name, to) = chart_meta_at(repo, index, new_tree, &path)?;
        let from = if old_roots.is_root(&path) {
            chart_meta_at(repo, index, old_tree, &path)?.1
        } else {
            None
        };
        out.push(ChartDiff {
            name,
            path,
            from,
            to,
            files: if files { list } else { Vec::new() },
            images: None,
            patched: Vec::new(),
        });
    }
    for path in changed.removed {
        let (name, from) = chart_meta_at(repo, index, old_tree, &path)?;
        out.push(ChartDiff {
            name,
            path,
            from,
            to: None,
            files: Vec::new(),
            images: None,
            patched: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Image references old -> new.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImageDiff {
    /// New references whose repository is new too.
    pub added: Vec<String>,
    /// Same repository, another tag or digest: `{"from", "to"}` ([`crate::report::ImageChange`]);
    /// one per old reference when several went away.
    pub changed: Vec<ImageChange>,
    /// Old references whose repository is gone.
    pub removed: Vec<String>,
}

impl ImageDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// `old` -> `new` by repository: a reference whose repository appears on both sides with another
/// tag is a change, one only in `new` an addition, one only in `old` a removal.
pub fn image_diff(old: &BTreeSet<String>, new: &BTreeSet<String>) -> ImageDiff {
    let (gone, came) = (by_repo(old, new), by_repo(new, old));
    let mut d = ImageDiff::default();
    for (repo, refs) in &came {
        match gone.get(repo) {
            Some(olds) => {
                for o in olds {
                    d.changed.push(ImageChange {
                        from: o.clone(),
                        to: refs[0].clone(),
                    });
                }
                // A repository that went from one reference to several: the others are added.
                d.added.extend(refs.iter().skip(olds.len()).cloned());
            }
            None => d.added.extend(refs.iter().cloned()),
        }
    }
    for (repo, refs) in &gone {
        if !came.contains_key(repo) {
            d.removed.extend(refs.iter().cloned());
        }
    }
    d.added.sort();
    d
}

/// The references of `set` not in `other`, by repository.
fn by_repo<'a>(
    set: &'a BTreeSet<String>,
    other: &'a BTreeSet<String>,
) -> BTreeMap<&'a str, Vec<String>> {
    let mut m = BTreeMap::<&str, Vec<String>>::new();
    for r in set.difference(other) {
        m.entry(crate::image::reference::repository(r))
            .or_default()
            .push(r.clone());
    }
    m
}

/// Image references listed in every `images_*.list` file of the images folder of `tree`
/// ([`crate::image::list::kind`]).
///
/// Errors: objects missing from the database.
pub fn listed_images(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    images_path: &str,
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if let Some(files) = git::read_path(repo, tree, images_path)? {
        for (k, e) in files {
            if crate::image::list::kind(&k).is_some() {
                out.extend(crate::image::list::parse(&String::from_utf8_lossy(&e.data)));
            }
        }
    }
    Ok(out)
}

/// Chart and image changes, one per line, each prefixed with `indent`.
pub fn write_changes(
    charts: &[ChartDiff],
    images: &ImageDiff,
    indent: &str,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".into());
    for c in charts {
        let what = match (&c.from, &c.to) {
            (None, _) => "added",
            (_, None) => "removed",
            (a, b) if a == b => "changed, same version",
            _ => "",
        };
        let versions = if c.from == c.to {
            v(&c.to)
        } else {
            format!("{} -> {}", v(&c.from), v(&c.to))
        };
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(" ({what})")
        };
        writeln!(out, "{indent}chart  {}  {versions}{what}", c.path)?;
        if !c.patched.is_empty() {
            writeln!(
                out,
                "{indent}       patched here (differs from the component's tag): {}",
                c.patched.join(", ")
            )?;
        }
    }
    for c in &images.changed {
        writeln!(out, "{indent}image  {} -> {}", c.from, c.to)?;
    }
    for a in &images.added {
        writeln!(out, "{indent}image  + {a}")?;
    }
    for a in &images.removed {
        writeln!(out, "{indent}image  - {a}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn images_by_repository() {
        let d = image_diff(
            &set(&["r:5000/a:v1", "r:5000/gone:v1", "b@sha256:00"]),
            &set(&["r:5000/a:v2", "r:5000/new:v1", "b@sha256:11"]),
        );
        assert_eq!(d.added, vec!["r:5000/new:v1"]);
        assert_eq!(d.removed, vec!["r:5000/gone:v1"]);
        let changed: Vec<(&str, &str)> = d
            .changed
            .iter()
            .map(|c| (c.from.as_str(), c.to.as_str()))
            .collect();
        assert_eq!(
            changed,
            vec![
                ("b@sha256:00", "b@sha256:11"),
                ("r:5000/a:v1", "r:5000/a:v2")
            ]
        );
        assert!(image_diff(&set(&["x:1"]), &set(&["x:1"])).is_empty());
    }
}
