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

/// What a chart walk needs of one folder (tree `id`): its subfolders (names not starting with
/// `.`) and its Chart.yaml blob, when it holds one.
///
/// Errors: the tree is missing from the database.
pub fn read_folder(
    repo: &gix::Repository,
    id: gix::ObjectId,
) -> Result<(Subfolders, Option<gix::ObjectId>)> {
    let tree = repo.find_tree(id)?;
    let mut subdirs = Vec::new();
    let mut chart_yaml = None;
    for e in tree.iter() {
        let e = e?;
        match e.mode().kind() {
            EntryKind::Tree if !e.filename().starts_with(b".") => {
                subdirs.push((e.filename().to_string(), e.oid().to_owned()))
            }
            EntryKind::Blob | EntryKind::BlobExecutable if e.filename() == "Chart.yaml" => {
                chart_yaml = Some(e.oid().to_owned())
            }
            _ => {}
        }
    }
    Ok((subdirs, chart_yaml))
}

/// The charts of a revision as collect sees the work tree ([`worktree_chart_roots`]): below a
/// prefix, the first folder holding a `Chart.yaml` on each path is a chart (its subfolders,
/// subcharts included, belong to it); folders whose name starts with `.` are skipped.
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
    /// Blob id of its Chart.yaml.
    pub chart_yaml: gix::ObjectId,
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
        let (subdirs, chart_yaml) = read_folder(repo, id)?;
        let mut out = Vec::new();
        match chart_yaml {
            Some(chart_yaml) if !is_root => out.push(TopChart {
                path: String::new(),
                tree: id,
                chart_yaml,
            }),
            _ => {
                for (name, sub) in subdirs {
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

/// What image rendering needs beyond a chart's files: `.Capabilities.KubeVersion`
/// (`release.kubeVersion`) and each addon's namespace from version.yml, for
/// `.Release.Namespace`. `.Release.Name` is the chart folder's name.
#[derive(Debug, Clone)]
pub struct RenderContext {
    /// `vMAJOR.MINOR.PATCH`.
    pub kube_version: String,
    /// Addon name -> namespace (version.yml `spec.modules[].addons[]`).
    pub namespaces: BTreeMap<String, String>,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext {
            kube_version: crate::versions::DEFAULT_KUBE_VERSION.into(),
            namespaces: BTreeMap::new(),
        }
    }
}

impl RenderContext {
    /// From the settings and the bytes of version.yml (an unreadable version.yml gives no
    /// namespaces: the check rules report it, rendering falls back to `default`).
    pub fn new(settings: &crate::settings::Settings, version_yml: Option<&[u8]>) -> Self {
        let namespaces = version_yml
            .and_then(|b| crate::version_yml::read(&settings.version_file, b).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| Some((a.name, a.namespace?)))
            .collect();
        RenderContext {
            kube_version: settings.kube_version.clone(),
            namespaces,
        }
    }

    /// [`RenderContext::new`] with version.yml read from `tree`.
    ///
    /// Errors: unreadable objects.
    pub fn at(
        repo: &gix::Repository,
        tree: gix::ObjectId,
        settings: &crate::settings::Settings,
    ) -> Result<Self> {
        let data = crate::git::blob_at(repo, tree, &settings.version_file)?;
        Ok(Self::new(settings, data.as_deref()))
    }

    /// Render options for the chart in `folder` (`addons/cyclone` -> release `cyclone`).
    pub fn options(&self, folder: &str) -> crate::render::Options {
        let name = folder
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("release");
        crate::render::Options {
            release_name: name.to_string(),
            namespace: self
                .namespaces
                .get(name)
                .cloned()
                .unwrap_or_else(|| "default".into()),
            kube_version: self.kube_version.clone(),
        }
    }
}

/// Where one image of the lists comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageSource {
    /// Repo-relative chart folder (`addons/cyclone`), resource file, or repos entry
    /// (`repos/devops.yaml:12`).
    pub chart: String,
    /// File inside the chart (`templates/deployment.yaml`, `values.yaml`, `Chart.yaml`,
    /// `images_extra.list`), when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in that file (for rendered images: the template action or text that wrote it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// How it was found: `rendered` (the chart rendered with its default values), `static`
    /// (values and literal `image:` lines, when rendering failed), `annotation` (Chart.yaml
    /// `helm.sh/images`), `list` (an `images_<kind>.list` of the chart), `repos` (an entry's
    /// `images:`), `resource` (a resource file's manifest).
    pub from: &'static str,
    /// `Kind/name` of the rendered object naming it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The list it goes to (`platform`, `extra`, …).
    pub kind: String,
}

/// The images of one chart, with their sources.
#[derive(Debug, Default)]
pub struct ChartImages {
    /// Deployed images (`images_platform.list`), each with where it comes from.
    pub images: Vec<(String, ImageSource)>,
    /// Images of `helm test` hooks (not deployed; not in the lists).
    pub tests: Vec<(String, ImageSource)>,
    /// Why rendering failed, when the static reading was used instead.
    pub fallback: Option<crate::render::RenderError>,
    /// Non-fatal notes.
    pub warnings: Vec<String>,
}

/// Images of the chart in `folder` (repo-relative, for sources and `.Release.Name`) with files
/// `files`: rendered as `helm template` would with the chart's default values
/// ([`crate::render`]), plus Chart.yaml's `helm.sh/images` annotation (the list Zarf and Hauler
/// read: YAML `- name: x` / `image: ref` items). When rendering fails, a warning names chart,
/// file, line and error, and the static reading ([`crate::images::chart_images`]) is used for
/// this chart only, its sources marked `static`. Symlinks are not followed.
///
/// # Errors
///
/// Only when the static fallback fails too: a values.yaml or Chart.yaml that is not YAML.
pub fn chart_images_detailed(
    folder: &str,
    files: &crate::files::Files,
    ctx: &RenderContext,
) -> Result<ChartImages, crate::images::ImageError> {
    let input: crate::images::ChartFiles = files
        .iter()
        .filter(|(_, e)| e.kind != crate::files::FileKind::Symlink)
        .map(|(k, e)| (k.clone(), e.data.clone()))
        .collect();
    let mut out = ChartImages::default();
    let source = |file: Option<String>, line, from, object| ImageSource {
        chart: folder.to_string(),
        file,
        line,
        from,
        object,
        kind: "platform".into(),
    };
    match crate::render::chart_images(&input, &ctx.options(folder)) {
        Ok((found, warnings)) => {
            out.warnings.extend(warnings);
            for f in found {
                let s = source(Some(f.template), f.line, "rendered", Some(f.object));
                if f.test {
                    out.tests.push((f.image, s));
                } else {
                    out.images.push((f.image, s));
                }
            }
        }
        Err(e) => {
            out.warnings.push(format!(
                "cannot be rendered with its default values ({e}); its images are read from values.yaml and templates instead"
            ));
            let mut w = Vec::new();
            let images = crate::images::chart_images(&input, &mut w)?;
            out.warnings.extend(w);
            for i in images {
                out.images.push((i, source(None, None, "static", None)));
            }
            out.fallback = Some(e);
        }
    }
    if let Some(e) = files.get("Chart.yaml") {
        for (image, line) in annotation_images(&e.data, &mut out.warnings) {
            out.images.push((
                image,
                source(Some("Chart.yaml".into()), line, "annotation", None),
            ));
        }
    }
    Ok(out)
}

/// The `helm.sh/images` annotation of a Chart.yaml: `(image, line)` pairs.
fn annotation_images(
    chart_yaml: &[u8],
    warnings: &mut Vec<String>,
) -> Vec<(String, Option<usize>)> {
    let Ok(meta) =
        serde_yaml::from_slice::<serde_yaml::Value>(crate::placeholders::strip_bom(chart_yaml))
    else {
        return Vec::new();
    };
    let Some(text) = meta
        .get("annotations")
        .and_then(|a| a.get("helm.sh/images"))
        .and_then(|v| v.as_str())
    else {
        return Vec::new();
    };
    let line = String::from_utf8_lossy(chart_yaml)
        .lines()
        .position(|l| l.contains("helm.sh/images"))
        .map(|i| i + 1);
    match serde_yaml::from_str::<Vec<serde_yaml::Value>>(text) {
        Ok(items) => items
            .iter()
            .filter_map(|i| i.get("image").and_then(|v| v.as_str()).map(str::trim))
            .filter(|i| crate::image::reference::is_plausible(i))
            .map(|i| (i.to_string(), line))
            .collect(),
        Err(e) => {
            warnings.push(format!(
                "Chart.yaml: the `helm.sh/images` annotation is not a YAML list of `- image: …` items ({e}); ignored"
            ));
            Vec::new()
        }
    }
}

/// The image lists collect writes, from the files of every chart (`(chart folder, files)`),
/// every resource file (`(path, bytes)`, the `resourcePaths` shape) and the repos entries'
/// `images:` (`(repos/x.yaml:LINE, image)`): `platform` holds the images the charts deploy
/// ([`chart_images_detailed`], charts rendered in parallel), those of resource files
/// ([`crate::images::manifest_images`]) and of repos entries; each other `<kind>` the merged
/// `images_<kind>.list` files the charts carry. Every image keeps its sources.
///
/// Errors: a chart whose values.yaml or Chart.yaml cannot be read, with its folder.
pub fn image_lists<'a>(
    charts: impl IntoIterator<Item = (&'a str, &'a crate::files::Files)>,
    resources: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    extra: &[(String, String)],
    ctx: &RenderContext,
) -> Result<ImageLists, (String, crate::images::ImageError)> {
    use rayon::prelude::*;
    let mut lists = ImageLists::default();
    lists.kinds.insert("platform".into(), BTreeSet::new());
    for (path, data) in resources {
        let mut w = Vec::new();
        let imgs = crate::images::manifest_images(path, data, &mut w);
        lists
            .warnings
            .extend(w.into_iter().map(|m| (path.to_string(), m)));
        for i in imgs {
            lists.add(
                i,
                ImageSource {
                    chart: path.to_string(),
                    file: None,
                    line: None,
                    from: "resource",
                    object: None,
                    kind: "platform".into(),
                },
            );
        }
    }
    for (at, image) in extra {
        lists.add(
            image.clone(),
            ImageSource {
                chart: at.clone(),
                file: None,
                line: None,
                from: "repos",
                object: None,
                kind: "platform".into(),
            },
        );
    }
    let charts: Vec<(&str, &crate::files::Files)> = charts.into_iter().collect();
    let results: Vec<_> = charts
        .par_iter()
        .map(|(root, files)| (*root, *files, chart_images_detailed(root, files, ctx)))
        .collect();
    for (root, files, r) in results {
        let ci = r.map_err(|e| (root.to_string(), e))?;
        lists
            .warnings
            .extend(ci.warnings.into_iter().map(|m| (root.to_string(), m)));
        if let Some(e) = ci.fallback {
            lists.fallbacks.push((root.to_string(), e.to_string()));
        }
        for (i, s) in ci.images {
            lists.add(i, s);
        }
        for (i, s) in ci.tests {
            lists.tests.entry(i).or_default().push(s);
        }
        for (rel, e) in files.iter() {
            let fname = rel.rsplit('/').next().unwrap_or(rel);
            if let Some(kind) = crate::image::list::kind(fname) {
                if kind != "platform" {
                    let text = String::from_utf8_lossy(&e.data);
                    for (n, line) in text.lines().enumerate() {
                        let t = line.trim();
                        if t.is_empty() || t.starts_with('#') {
                            continue;
                        }
                        lists.add(
                            t.to_string(),
                            ImageSource {
                                chart: root.to_string(),
                                file: Some(rel.clone()),
                                line: Some(n + 1),
                                from: "list",
                                object: None,
                                kind: kind.to_string(),
                            },
                        );
                    }
                }
            }
        }
    }
    Ok(lists)
}

/// What [`image_lists`] computes.
#[derive(Debug, Default)]
pub struct ImageLists {
    /// `platform`, `extra`, … -> references.
    pub kinds: BTreeMap<String, BTreeSet<String>>,
    /// `(chart folder, warning)`.
    pub warnings: Vec<(String, String)>,
    /// Image -> its sources (every kind).
    pub sources: BTreeMap<String, Vec<ImageSource>>,
    /// `helm test` images -> sources (in no list).
    pub tests: BTreeMap<String, Vec<ImageSource>>,
    /// Charts read without rendering: `(folder, render error)`.
    pub fallbacks: Vec<(String, String)>,
}

impl ImageLists {
    fn add(&mut self, image: String, source: ImageSource) {
        self.kinds
            .entry(source.kind.clone())
            .or_default()
            .insert(image.clone());
        let v = self.sources.entry(image).or_default();
        if !v.contains(&source) {
            v.push(source);
        }
    }

    /// Per chart folder (or resource file / repos entry): `kind -> images` it contributes.
    pub fn by_chart(&self) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
        let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (image, sources) in &self.sources {
            for s in sources {
                out.entry(s.chart.clone())
                    .or_default()
                    .entry(s.kind.clone())
                    .or_default()
                    .insert(image.clone());
            }
        }
        out
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

    /// Whether `dir` holds a `Chart.yaml` blob in the tree. Lookup errors count as "no".
    pub fn is_root(&mut self, dir: &str) -> bool {
        if let Some(v) = self.seen.get(dir) {
            return *v;
        }
        let v = matches!(
            self.index
                .lookup(self.repo, self.tree, &format!("{dir}/Chart.yaml")),
            Ok(Some((_, EntryKind::Blob | EntryKind::BlobExecutable)))
        );
        self.seen.insert(dir.to_string(), v);
        v
    }

    /// The chart owning `path` (see [`owner_by`]).
    pub fn owner(&mut self, path: &str) -> Option<String> {
        owner_by(path, |d| self.is_root(d))
    }
}

/// Chart roots (folders holding Chart.yaml) below `dir` in the work tree, repo-relative, not
/// descending into a chart (subcharts belong to their parent).
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
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for n in names {
        worktree_chart_roots(
            workdir,
            &if rel.is_empty() {
                n.clone()
            } else {
                format!("{rel}/{n}")
            },
            out,
        )?;
    }
    Ok(())
}

/// Every image the chart in `folder` names: those it deploys ([`chart_images_detailed`]) and
/// those its `images_<kind>.list` files list. Its warnings (a render failure among them) are
/// pushed to `warnings`.
///
/// # Errors
///
/// As [`chart_images_detailed`].
pub fn chart_image_set(
    folder: &str,
    files: &crate::files::Files,
    ctx: &RenderContext,
    warnings: &mut Vec<String>,
) -> Result<BTreeSet<String>, crate::images::ImageError> {
    let lists = image_lists([(folder, files)], [], &[], ctx).map_err(|(_, e)| e)?;
    warnings.extend(lists.warnings.into_iter().map(|(_, m)| m));
    Ok(lists.kinds.into_values().flatten().collect())
}

/// The images each chart deploys at both ends of a change ([`chart_image_set`]), charts
/// rendered in parallel: per chart `(folder, old files, new files)`, in input order, `(old
/// images, new images, warnings)`. A side without files deploys nothing; a chart that cannot be
/// read deploys nothing at that side and gives the warning `<folder>/<error>` (the warnings of a
/// static fallback are not repeated here). Used by `hotfix` and `diff`.
pub fn image_sets_both_ends(
    charts: &[(
        &str,
        Option<&crate::files::Files>,
        Option<&crate::files::Files>,
    )],
    old_ctx: &RenderContext,
    new_ctx: &RenderContext,
) -> Vec<(BTreeSet<String>, BTreeSet<String>, Vec<String>)> {
    use rayon::prelude::*;
    let set = |folder: &str, files: Option<&crate::files::Files>, ctx, w: &mut Vec<String>| {
        files.map_or_else(BTreeSet::new, |f| {
            chart_image_set(folder, f, ctx, &mut Vec::new()).unwrap_or_else(|e| {
                w.push(format!("{folder}/{e}"));
                BTreeSet::new()
            })
        })
    };
    charts
        .par_iter()
        .map(|&(folder, old, new)| {
            let mut w = Vec::new();
            let o = set(folder, old, old_ctx, &mut w);
            let n = set(folder, new, new_ctx, &mut w);
            (o, n, w)
        })
        .collect()
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
