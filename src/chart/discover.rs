//! Helm charts inside a tree (a folder holding `Chart.yaml`, at any depth) and which of them
//! changed between two trees, file by file, without rename detection.
//!
//! Rules from the hotfix issue: a chart counts as changed when any file in its folder was added,
//! modified or renamed into it; whitespace-only changes (as `git diff --ignore-space-change
//! --ignore-space-at-eol` sees them) do not count. A subchart under `<chart>/charts/` belongs to its
//! parent: Helm packages it inside the parent's archive.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use gix::objs::tree::EntryKind;

/// What happened to one file between two trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChangeKind {
    /// Only in the new tree.
    Added,
    /// In both, with other content or mode.
    Modified,
    /// Only in the old tree.
    Deleted,
}

/// One changed file (blob or symlink) under the compared prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Repo-relative path.
    pub path: String,
    /// Added, modified or deleted.
    pub kind: FileChangeKind,
    /// Blob id and mode in the old tree.
    pub old: Option<(gix::ObjectId, EntryKind)>,
    /// Blob id and mode in the new tree.
    pub new: Option<(gix::ObjectId, EntryKind)>,
}

/// The files that differ between the trees `old` and `new` below `prefix` (repo-relative, `""` for
/// the root). Subtrees with equal ids are skipped, so the cost follows the size of the change, not of
/// the repository. Renames are an addition and a deletion: rename detection must not hide a change.
pub fn diff_trees(
    repo: &gix::Repository,
    old: gix::ObjectId,
    new: gix::ObjectId,
    prefix: &str,
) -> Result<Vec<FileChange>> {
    let old_sub =
        crate::git::lookup_path(repo, old, prefix)?.filter(|(_, k)| *k == EntryKind::Tree);
    let new_sub =
        crate::git::lookup_path(repo, new, prefix)?.filter(|(_, k)| *k == EntryKind::Tree);
    let mut out = Vec::new();
    diff_into(
        repo,
        old_sub.map(|x| x.0),
        new_sub.map(|x| x.0),
        prefix,
        &mut out,
    )?;
    Ok(out)
}

type Entries = BTreeMap<Vec<u8>, (gix::ObjectId, EntryKind)>;

fn entries(repo: &gix::Repository, tree: Option<gix::ObjectId>) -> Result<Entries> {
    let mut out = Entries::new();
    if let Some(id) = tree {
        let tree = repo.find_tree(id)?;
        for e in tree.iter() {
            let e = e?;
            out.insert(e.filename().to_vec(), (e.oid().to_owned(), e.mode().kind()));
        }
    }
    Ok(out)
}

fn diff_into(
    repo: &gix::Repository,
    old: Option<gix::ObjectId>,
    new: Option<gix::ObjectId>,
    prefix: &str,
    out: &mut Vec<FileChange>,
) -> Result<()> {
    if old == new {
        return Ok(());
    }
    let (a, b) = (entries(repo, old)?, entries(repo, new)?);
    let names: BTreeSet<&Vec<u8>> = a.keys().chain(b.keys()).collect();
    for name in names {
        let name_str = String::from_utf8_lossy(name);
        let path = if prefix.is_empty() {
            name_str.into_owned()
        } else {
            format!("{prefix}/{name_str}")
        };
        let (o, n) = (a.get(name).copied(), b.get(name).copied());
        if o == n {
            continue;
        }
        let tree_of = |x: Option<(gix::ObjectId, EntryKind)>| {
            x.filter(|(_, k)| *k == EntryKind::Tree).map(|(id, _)| id)
        };
        let file_of = |x: Option<(gix::ObjectId, EntryKind)>| {
            x.filter(|(_, k)| !matches!(k, EntryKind::Tree | EntryKind::Commit))
        };
        // A path can turn from a folder into a file: both halves are reported.
        if tree_of(o).is_some() || tree_of(n).is_some() {
            diff_into(repo, tree_of(o), tree_of(n), &path, out)?;
        }
        let (fo, fn_) = (file_of(o), file_of(n));
        let kind = match (fo, fn_) {
            (None, None) => continue,
            (None, Some(_)) => FileChangeKind::Added,
            (Some(_), None) => FileChangeKind::Deleted,
            (Some(x), Some(y)) if x == y => continue,
            _ => FileChangeKind::Modified,
        };
        out.push(FileChange {
            path,
            kind,
            old: fo,
            new: fn_,
        });
    }
    Ok(())
}

/// Chart roots below `prefix` in `tree`: repo-relative folder path -> tree id of the folder.
/// Every folder holding a `Chart.yaml` blob is a root, nested ones included (subcharts too).
pub fn chart_roots(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    prefix: &str,
) -> Result<BTreeMap<String, gix::ObjectId>> {
    let mut out = BTreeMap::new();
    if let Some((id, EntryKind::Tree)) = crate::git::lookup_path(repo, tree, prefix)? {
        roots_into(repo, id, prefix, &mut out)?;
    }
    Ok(out)
}

fn roots_into(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    path: &str,
    out: &mut BTreeMap<String, gix::ObjectId>,
) -> Result<()> {
    let tree = repo.find_tree(tree_id)?;
    let mut subdirs = Vec::new();
    let mut is_chart = false;
    for e in tree.iter() {
        let e = e?;
        match e.mode().kind() {
            EntryKind::Tree => subdirs.push((e.filename().to_string(), e.oid().to_owned())),
            EntryKind::Blob | EntryKind::BlobExecutable if e.filename() == "Chart.yaml" => {
                is_chart = true
            }
            _ => {}
        }
    }
    if is_chart && !path.is_empty() {
        out.insert(path.to_string(), tree_id);
    }
    for (name, id) in subdirs {
        let p = if path.is_empty() {
            name
        } else {
            format!("{path}/{name}")
        };
        roots_into(repo, id, &p, out)?;
    }
    Ok(())
}

/// Subfolders of a folder: `(name, tree id)`.
pub type Subfolders = Vec<(String, gix::ObjectId)>;

/// What a chart walk needs of one folder ([`read_folder`]).
#[derive(Debug, Default)]
pub struct FolderEntries {
    /// Subfolders whose names do not start with `.`: `(name, tree id)`.
    pub subdirs: Subfolders,
    /// Its Chart.yaml blob, when it holds one.
    pub chart_yaml: Option<gix::ObjectId>,
    /// Its `*.yaml` / `*.yml` blobs (names not starting with `.`): candidates for single-file
    /// addons ([`crate::chart::meta::addon_file`]).
    pub yaml_files: Vec<(String, gix::ObjectId)>,
}

/// What a chart walk needs of one folder (tree `id`): its subfolders (names not starting with
/// `.`), its Chart.yaml blob, when it holds one, and its YAML files.
///
/// Errors: the tree is missing from the database.
pub fn read_folder(repo: &gix::Repository, id: gix::ObjectId) -> Result<FolderEntries> {
    let tree = repo.find_tree(id)?;
    let mut out = FolderEntries::default();
    for e in tree.iter() {
        let e = e?;
        let name = e.filename();
        match e.mode().kind() {
            EntryKind::Tree if !name.starts_with(b".") => {
                out.subdirs.push((name.to_string(), e.oid().to_owned()))
            }
            EntryKind::Blob | EntryKind::BlobExecutable if name == "Chart.yaml" => {
                out.chart_yaml = Some(e.oid().to_owned())
            }
            EntryKind::Blob | EntryKind::BlobExecutable
                if !name.starts_with(b".")
                    && (name.ends_with(b".yaml") || name.ends_with(b".yml")) =>
            {
                out.yaml_files.push((name.to_string(), e.oid().to_owned()))
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The single-file addons among `files` (`(name, blob id)` of one folder): those whose content is
/// the platform's application format, with what [`crate::chart::meta::addon_file`] reads of
/// them (name, version).
///
/// Errors: a blob missing from the database.
pub fn addon_files(
    repo: &gix::Repository,
    files: Vec<(String, gix::ObjectId)>,
) -> Result<Vec<(String, gix::ObjectId, crate::chart::meta::ChartMeta)>> {
    let mut out = Vec::new();
    for (name, id) in files {
        if let Some(meta) = crate::chart::meta::addon_file(&repo.find_blob(id)?.data) {
            out.push((name, id, meta));
        }
    }
    Ok(out)
}

/// The charts of a revision as collect sees the work tree ([`worktree_chart_roots`]): below a
/// prefix, the first folder holding a `Chart.yaml` on each path is a chart (its subfolders,
/// subcharts included, belong to it); folders whose name starts with `.` are skipped. A YAML
/// file outside every chart that is a single-file addon ([`crate::chart::meta::addon_file`]) is
/// one too, with [`TopChart::file`] set.
///
/// Memoised by tree id, so walking the same charts at hundreds of release tags reads each folder
/// once: unchanged subtrees share their ids.
#[derive(Default)]
pub struct TopCharts {
    memo: std::collections::HashMap<gix::ObjectId, std::rc::Rc<Vec<TopChart>>>,
}

/// One chart found by [`TopCharts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopChart {
    /// Folder path (repo-relative from [`TopCharts::at`]).
    pub path: String,
    /// Tree id of the folder.
    pub tree: gix::ObjectId,
    /// Blob id of its Chart.yaml (of the file itself for a single-file addon).
    pub chart_yaml: gix::ObjectId,
    /// A single-file addon: `path` is the file, `tree` and `chart_yaml` its blob.
    pub file: bool,
}

impl TopCharts {
    /// Charts below `prefix` in `tree`, sorted by folder.
    ///
    /// Errors: an object missing from the database.
    pub fn at(
        &mut self,
        repo: &gix::Repository,
        tree: gix::ObjectId,
        prefix: &str,
    ) -> Result<Vec<TopChart>> {
        let Some((id, EntryKind::Tree)) = crate::git::lookup_path(repo, tree, prefix)? else {
            return Ok(Vec::new());
        };
        let rel = self.below(repo, id, prefix.is_empty())?;
        Ok(rel
            .iter()
            .map(|c| TopChart {
                path: if c.path.is_empty() {
                    prefix.to_string()
                } else {
                    crate::files::join(prefix, &c.path)
                },
                ..c.clone()
            })
            .collect())
    }

    /// Charts inside folder `id`, paths relative to it (`""` when the folder is a chart).
    fn below(
        &mut self,
        repo: &gix::Repository,
        id: gix::ObjectId,
        is_root: bool,
    ) -> Result<std::rc::Rc<Vec<TopChart>>> {
        if !is_root {
            if let Some(v) = self.memo.get(&id) {
                return Ok(v.clone());
            }
        }
        let folder = read_folder(repo, id)?;
        let mut out = Vec::new();
        match folder.chart_yaml {
            Some(chart_yaml) if !is_root => out.push(TopChart {
                path: String::new(),
                tree: id,
                chart_yaml,
                file: false,
            }),
            _ => {
                for (name, blob, _) in addon_files(repo, folder.yaml_files)? {
                    out.push(TopChart {
                        path: name,
                        tree: blob,
                        chart_yaml: blob,
                        file: true,
                    });
                }
                for (name, sub) in folder.subdirs {
                    for c in self.below(repo, sub, false)?.iter() {
                        let path = if c.path.is_empty() {
                            name.clone()
                        } else {
                            format!("{name}/{}", c.path)
                        };
                        out.push(TopChart { path, ..c.clone() });
                    }
                }
            }
        }
        let out = std::rc::Rc::new(out);
        if !is_root {
            self.memo.insert(id, out.clone());
        }
        Ok(out)
    }
}

/// The chart that owns `path` among `roots`: the deepest root containing it, lifted to the parent
/// chart while it is a subchart (`<parent>/charts/<sub>`). `None` outside every chart.
pub fn owner<'a>(roots: &'a BTreeMap<String, gix::ObjectId>, path: &str) -> Option<&'a str> {
    let found = owner_by(path, |d| roots.contains_key(d))?;
    roots.get_key_value(found.as_str()).map(|(k, _)| k.as_str())
}

/// Like [`owner`], asking `is_root(folder)` instead of a precomputed map, so that only the folders
/// above changed paths are ever looked at.
pub fn owner_by(path: &str, mut is_root: impl FnMut(&str) -> bool) -> Option<String> {
    let mut owner = None;
    let mut dir = path;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        if is_root(parent) {
            owner = Some(parent.to_string());
            break;
        }
        dir = parent;
    }
    let mut owner = owner?;
    // Lift subcharts to their parent: `a/charts/b` belongs to `a` when `a` is a chart.
    while let Some(idx) = owner.rfind("/charts/") {
        let parent = owner[..idx].to_string();
        if is_root(&parent) {
            owner = parent;
        } else {
            break;
        }
    }
    Some(owner)
}

/// Answers "is this folder a chart root?" for one tree, looking each folder up once (through a
/// [`crate::git::TreeIndex`], which probes of other trees may share).
pub struct RootProbe<'r> {
    repo: &'r gix::Repository,
    tree: gix::ObjectId,
    seen: std::collections::HashMap<String, bool>,
    index: crate::git::TreeIndex,
}

impl<'r> RootProbe<'r> {
    /// A probe of `tree`.
    pub fn new(repo: &'r gix::Repository, tree: gix::ObjectId) -> Self {
        Self::with_index(repo, tree, Default::default())
    }

    /// A probe of `tree` reading trees through `index` (shared with other probes and look-ups).
    pub fn with_index(
        repo: &'r gix::Repository,
        tree: gix::ObjectId,
        index: crate::git::TreeIndex,
    ) -> Self {
        RootProbe {
            repo,
            tree,
            seen: Default::default(),
            index,
        }
    }

    /// Whether `dir` holds a `Chart.yaml` blob in the tree, or is itself a single-file addon
    /// ([`crate::chart::meta::addon_file`]). Lookup errors count as "no".
    pub fn is_root(&mut self, dir: &str) -> bool {
        if let Some(v) = self.seen.get(dir) {
            return *v;
        }
        let v = matches!(
            self.index
                .lookup(self.repo, self.tree, &format!("{dir}/Chart.yaml")),
            Ok(Some((_, EntryKind::Blob | EntryKind::BlobExecutable)))
        ) || self.is_addon_file(dir);
        self.seen.insert(dir.to_string(), v);
        v
    }

    /// Whether `path` is a single-file addon in the tree: a `*.yaml`/`*.yml` blob in the
    /// platform's application format.
    fn is_addon_file(&mut self, path: &str) -> bool {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            return false;
        }
        match self.index.lookup(self.repo, self.tree, path) {
            Ok(Some((id, EntryKind::Blob | EntryKind::BlobExecutable))) => self
                .repo
                .find_blob(id)
                .is_ok_and(|b| crate::chart::meta::addon_file(&b.data).is_some()),
            _ => false,
        }
    }

    /// The chart owning `path` (see [`owner_by`]), or `path` itself when it is a single-file
    /// addon outside every chart.
    pub fn owner(&mut self, path: &str) -> Option<String> {
        owner_by(path, |d| self.is_root(d)).or_else(|| {
            let addon = self.is_addon_file(path);
            self.seen.insert(path.to_string(), addon);
            addon.then(|| path.to_string())
        })
    }
}

/// Chart roots (folders holding Chart.yaml) below `dir` in the work tree, repo-relative, not
/// descending into a chart (subcharts belong to their parent), and the single-file addons
/// ([`crate::chart::meta::addon_file`]) among the YAML files of the folders that are not charts.
pub fn worktree_chart_roots(
    workdir: &std::path::Path,
    rel: &str,
    out: &mut Vec<String>,
) -> Result<()> {
    let dir = crate::paths::abs(workdir, rel);
    if dir.join("Chart.yaml").is_file() && !rel.is_empty() {
        out.push(rel.to_string());
        return Ok(());
    }
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => dirs.push(name),
            Ok(t) if t.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) => {
                files.push(name)
            }
            _ => {}
        }
    }
    let join = |n: &str| {
        if rel.is_empty() {
            n.to_string()
        } else {
            format!("{rel}/{n}")
        }
    };
    files.sort();
    for n in files {
        let is_addon = std::fs::read(dir.join(&n))
            .ok()
            .is_some_and(|d| crate::chart::meta::addon_file(&d).is_some());
        if is_addon {
            out.push(join(&n));
        }
    }
    dirs.sort();
    for n in dirs {
        worktree_chart_roots(workdir, &join(&n), out)?;
    }
    Ok(())
}

/// Whether two blobs differ only in whitespace, as `git diff --ignore-space-change
/// --ignore-space-at-eol` compares lines: runs of spaces/tabs count as one, whitespace at the end of
/// a line (including `\r`) is ignored. Lines added or removed (blank ones too) are a real change.
/// Binary content (NUL in the first 8000 bytes) is compared exactly.
pub fn whitespace_only(old: &[u8], new: &[u8]) -> bool {
    if !crate::placeholders::is_text(old) || !crate::placeholders::is_text(new) {
        return old == new;
    }
    let norm = |data: &[u8]| -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = data
            .split(|&b| b == b'\n')
            .map(|line| {
                let mut out = Vec::with_capacity(line.len());
                let mut in_ws = false;
                for &b in line {
                    if b == b' ' || b == b'\t' || b == b'\r' || b == 0x0b || b == 0x0c {
                        in_ws = true;
                    } else {
                        if in_ws {
                            out.push(b' ');
                            in_ws = false;
                        }
                        out.push(b);
                    }
                }
                // whitespace at the end of the line is dropped (in_ws left pending)
                out
            })
            .collect();
        // A final newline yields an empty last element; git treats "no newline at end" as a change
        // only in content lines, so drop one trailing empty line.
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    };
    norm(old) == norm(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_rules() {
        assert!(whitespace_only(b"a: 1\nb:  2\n", b"a: 1\nb: 2\n"));
        assert!(whitespace_only(b"a: 1  \n", b"a: 1\n"));
        assert!(whitespace_only(b"a: 1\r\n", b"a: 1\n"));
        assert!(whitespace_only(b"a:\t1\n", b"a: 1\n"));
        assert!(
            !whitespace_only(b"a: 1\n", b"a:1\n"),
            "-b does not ignore added whitespace where there was none"
        );
        assert!(
            !whitespace_only(b"a: 1\n", b"a: 1\n\n"),
            "a new blank line is a change"
        );
        assert!(!whitespace_only(b"a: 1\n", b"a: 2\n"));
        assert!(!whitespace_only(b"\0a", b"\0 a"));
    }

    #[test]
    fn owners_lift_subcharts() {
        let id = gix::ObjectId::null(gix::hash::Kind::Sha1);
        let roots: BTreeMap<String, gix::ObjectId> = [
            "addons/a",
            "addons/a/charts/sub",
            "addons/omec/omec-user-plane",
        ]
        .iter()
        .map(|r| (r.to_string(), id))
        .collect();
        assert_eq!(owner(&roots, "addons/a/values.yaml"), Some("addons/a"));
        assert_eq!(
            owner(&roots, "addons/a/charts/sub/values.yaml"),
            Some("addons/a")
        );
        assert_eq!(
            owner(&roots, "addons/omec/omec-user-plane/templates/x.yaml"),
            Some("addons/omec/omec-user-plane")
        );
        assert_eq!(owner(&roots, "addons/omec/README.md"), None);
        assert_eq!(owner(&roots, "version.yml"), None);
    }
}
