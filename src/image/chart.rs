//! The images of a chart: rendered as `helm template` would (the template engine, [`crate::render`]),
//! plus Chart.yaml's `helm.sh/images` annotation and the chart's own `images_<kind>.list` files;
//! a chart that cannot be rendered is read by the static fallback ([`crate::image::scan`]), with a
//! warning. And the image lists of a whole tree of charts.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

/// What image rendering needs beyond a chart's files: `.Capabilities.KubeVersion`
/// (`release.kubeVersion`) and each addon's namespace from version.yml, for
/// `.Release.Namespace`. `.Release.Name` is the chart folder's name.
#[derive(Debug, Clone)]
pub struct RenderContext {
    /// `vMAJOR.MINOR.PATCH`.
    pub kube_version: String,
    /// Addon name -> namespace (version.yml `spec.modules[].addons[]`).
    pub namespaces: BTreeMap<String, String>,
    /// Where rendered findings are kept between runs ([`crate::image::cache`]); `None` renders
    /// every chart.
    pub cache: Option<std::sync::Arc<crate::image::cache::RenderCache>>,
    /// `release.placeholderProjects`: placeholders that stand for a registry project; images
    /// are listed by project ([`crate::image::reference::by_project`]).
    pub projects: Vec<(String, String)>,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext {
            kube_version: crate::versions::DEFAULT_KUBE_VERSION.into(),
            namespaces: BTreeMap::new(),
            cache: None,
            projects: Vec::new(),
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
            cache: None,
            projects: settings.placeholder_projects.clone(),
        }
    }

    /// This context with `repo`'s render cache, unless `settings.render_cache` is off.
    pub fn with_cache(
        mut self,
        repo: &gix::Repository,
        settings: &crate::settings::Settings,
    ) -> Self {
        self.cache = crate::image::cache::RenderCache::for_repo(repo, settings);
        self
    }

    /// [`RenderContext::new`] with version.yml read from `tree`, and `repo`'s render cache
    /// ([`RenderContext::with_cache`]).
    ///
    /// Errors: unreadable objects.
    pub fn at(
        repo: &gix::Repository,
        tree: gix::ObjectId,
        settings: &crate::settings::Settings,
    ) -> Result<Self> {
        let data = crate::git::blob_at(repo, tree, &settings.version_file)?;
        Ok(Self::new(settings, data.as_deref()).with_cache(repo, settings))
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
    /// `images:`), `resource` (a resource file's manifest), `addon` (a single-file addon).
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
    /// Images of `helm test` hooks (not deployed; the `test` list, [`TEST_KIND`]).
    pub tests: Vec<(String, ImageSource)>,
    /// Why rendering failed, when the static reading was used instead.
    pub fallback: Option<crate::render::RenderError>,
    /// Templates that failed while the rest of the chart rendered: `(template, why)`; each
    /// one's images were read statically ([`crate::image::scan::template_images_static`]).
    pub template_fallbacks: Vec<(String, crate::render::RenderError)>,
    /// Non-fatal notes.
    pub warnings: Vec<String>,
}

/// Images of the single-file addon at `path` ([`crate::image::scan::addon_images`]): sources
/// `from: addon` with the file's line; placeholders that name a project
/// (`release.placeholderProjects`) and `registry_release` count as registry prefixes.
fn addon_file_images(path: &str, data: &[u8], ctx: &RenderContext) -> ChartImages {
    let mut names: Vec<&str> = ctx.projects.iter().map(|(p, _)| p.as_str()).collect();
    names.push("registry_release");
    let mut out = ChartImages::default();
    for (image, line) in crate::image::scan::addon_images(path, data, &names, &mut out.warnings) {
        out.images.push((
            image,
            ImageSource {
                chart: path.to_string(),
                file: None,
                line: Some(line),
                from: "addon",
                object: None,
                kind: "platform".into(),
            },
        ));
    }
    out
}

/// Images of the chart in `folder` (repo-relative, for sources and `.Release.Name`) with files
/// `files`: rendered as `helm template` would with the chart's default values
/// ([`crate::render`]), plus Chart.yaml's `helm.sh/images` annotation (the list Zarf and Hauler
/// read: YAML `- name: x` / `image: ref` items). When rendering fails, a warning names chart,
/// file, line and error, and the static reading ([`crate::image::scan::chart_images`]) is used for
/// this chart only, its sources marked `static`. Symlinks are not followed.
///
/// # Errors
///
/// Only when the static fallback fails too: a values.yaml or Chart.yaml that is not YAML.
pub fn chart_images_detailed(
    folder: &str,
    files: &crate::files::Files,
    ctx: &RenderContext,
) -> Result<ChartImages, crate::image::scan::ImageError> {
    if let Some(addon) = crate::files::single(files) {
        return Ok(addon_file_images(folder, &addon.data, ctx));
    }
    let input: crate::image::scan::ChartFiles = files
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
    match crate::image::rendered::chart_images(&input, &ctx.options(folder)) {
        Ok((found, warnings, failed)) => {
            out.warnings.extend(warnings);
            for f in found {
                let s = source(Some(f.template), f.line, "rendered", Some(f.object));
                if f.test {
                    out.tests.push((f.image, s));
                } else {
                    out.images.push((f.image, s));
                }
            }
            // Templates that failed while the rest rendered: each one's share, read statically
            // (one reading of the chart's values for all of them).
            if !failed.is_empty() {
                let names: Vec<&str> = failed.iter().map(|(t, _)| t.as_str()).collect();
                let mut w = Vec::new();
                let mut shares =
                    crate::image::scan::template_images_static(&input, &names, &mut w)?;
                for (template, e) in failed {
                    out.warnings.push(format!(
                        "{template} cannot be rendered with its default values ({e}); its images are read from it and the values it names instead"
                    ));
                    for i in shares.remove(&template).unwrap_or_default() {
                        out.images
                            .push((i, source(Some(template.clone()), None, "static", None)));
                    }
                    out.template_fallbacks.push((template, e));
                }
                out.warnings.extend(w);
            }
        }
        Err(e) => {
            out.warnings.push(format!(
                "cannot be rendered with its default values ({e}); its images are read from values.yaml and templates instead"
            ));
            let mut w = Vec::new();
            let images = crate::image::scan::chart_images(&input, &mut w)?;
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

/// [`chart_images_detailed`] through the render cache of `ctx` when it has one
/// ([`crate::image::cache`]): a hit is returned as stored; a miss renders and stores the
/// result. Errors (a chart whose values cannot be read even statically) are never stored.
///
/// # Errors
///
/// As [`chart_images_detailed`].
pub fn cached_chart_images(
    folder: &str,
    files: &crate::files::Files,
    ctx: &RenderContext,
) -> Result<ChartImages, crate::image::scan::ImageError> {
    use crate::image::cache::{Finding, Findings, RenderCache};
    let Some(cache) = ctx.cache.as_deref() else {
        return chart_images_detailed(folder, files, ctx);
    };
    let key = RenderCache::key(folder, files, &ctx.options(folder));
    if let Some(hit) = cache.get(&key).and_then(|f| from_findings(folder, f)) {
        return Ok(hit);
    }
    let found = chart_images_detailed(folder, files, ctx)?;
    let to = |v: &[(String, ImageSource)]| -> Vec<Finding> {
        v.iter()
            .map(|(i, s)| Finding {
                image: i.clone(),
                file: s.file.clone(),
                line: s.line,
                from: s.from.to_string(),
                object: s.object.clone(),
                kind: s.kind.clone(),
            })
            .collect()
    };
    cache.put(
        &key,
        &Findings {
            images: to(&found.images),
            tests: to(&found.tests),
            fallback: found
                .fallback
                .as_ref()
                .map(|e| (e.file.clone(), e.line, e.msg.clone())),
            template_fallbacks: found
                .template_fallbacks
                .iter()
                .map(|(t, e)| (t.clone(), e.file.clone(), e.line, e.msg.clone()))
                .collect(),
            warnings: found.warnings.clone(),
        },
    );
    Ok(found)
}

/// A cache entry back as [`ChartImages`] of `folder`; `None` when it names a source kind this
/// build does not write (then it is a miss).
fn from_findings(folder: &str, f: crate::image::cache::Findings) -> Option<ChartImages> {
    let kind = |s: &str| -> Option<&'static str> {
        [
            "rendered",
            "static",
            "annotation",
            "list",
            "repos",
            "resource",
        ]
        .into_iter()
        .find(|k| *k == s)
    };
    let back = |v: Vec<crate::image::cache::Finding>| -> Option<Vec<(String, ImageSource)>> {
        v.into_iter()
            .map(|f| {
                Some((
                    f.image,
                    ImageSource {
                        chart: folder.to_string(),
                        file: f.file,
                        line: f.line,
                        from: kind(&f.from)?,
                        object: f.object,
                        kind: f.kind,
                    },
                ))
            })
            .collect()
    };
    Some(ChartImages {
        images: back(f.images)?,
        tests: back(f.tests)?,
        fallback: f
            .fallback
            .map(|(file, line, msg)| crate::render::RenderError { file, line, msg }),
        template_fallbacks: f
            .template_fallbacks
            .into_iter()
            .map(|(t, file, line, msg)| (t, crate::render::RenderError { file, line, msg }))
            .collect(),
        warnings: f.warnings,
    })
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

/// A chart, or one template of it, whose images were read statically because it could not be
/// rendered with its default values (`images --json`'s `fallbacks`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fallback {
    /// Repo-relative chart folder.
    pub chart: String,
    /// The template (chart-relative) when only it failed and the rest of the chart rendered;
    /// absent when the whole chart was read statically.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Why (`templates/x.yaml:LINE: …`).
    pub error: String,
}

/// The list kind of the images only `helm test` hooks run: `images_test.list`.
pub const TEST_KIND: &str = "test";

/// The image lists collect writes, from the files of every chart (`(chart folder, files)`),
/// every resource file (`(path, bytes)`, the `resourcePaths` shape) and the repos entries'
/// `images:` (`(repos/x.yaml:LINE, image)`): `platform` holds the images the charts deploy
/// ([`chart_images_detailed`], charts rendered in parallel), those of resource files
/// ([`crate::image::scan::manifest_images`]) and of repos entries; each other `<kind>` the merged
/// `images_<kind>.list` files the charts carry; `test` ([`TEST_KIND`]) the images only `helm
/// test` hook pods run (so that `helm test` can run at an air-gapped site; an image also deployed
/// stays in `platform` only). Every image keeps its sources.
///
/// Errors: a chart whose values.yaml or Chart.yaml cannot be read, with its folder.
pub fn image_lists<'a>(
    charts: impl IntoIterator<Item = (&'a str, &'a crate::files::Files)>,
    resources: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    extra: &[(String, String)],
    ctx: &RenderContext,
) -> Result<ImageLists, (String, crate::image::scan::ImageError)> {
    use rayon::prelude::*;
    let mut lists = ImageLists {
        projects: ctx.projects.clone(),
        ..Default::default()
    };
    lists.kinds.insert("platform".into(), BTreeSet::new());
    let mut charts: Vec<(&str, std::borrow::Cow<'_, crate::files::Files>)> = charts
        .into_iter()
        .map(|(p, f)| (p, std::borrow::Cow::Borrowed(f)))
        .collect();
    for (path, data) in resources {
        // A resource file that is a single-file addon is read as one (its bytes here are the
        // newest: collect passes what it is about to write).
        if crate::chart::meta::addon_file(data).is_some() {
            let mut files = crate::files::Files::new();
            files.insert(
                String::new(),
                crate::files::FileEntry {
                    kind: crate::files::FileKind::Regular,
                    data: data.to_vec(),
                },
            );
            charts.retain(|(c, _)| *c != path);
            charts.push((path, std::borrow::Cow::Owned(files)));
            continue;
        }
        let mut w = Vec::new();
        let imgs = crate::image::scan::manifest_images(path, data, &mut w);
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
    let results: Vec<_> = charts
        .par_iter()
        .map(|(root, files)| {
            let found = cached_chart_images(root, files, ctx);
            (*root, files.as_ref(), found)
        })
        .collect();
    for (root, files, r) in results {
        let ci = r.map_err(|e| (root.to_string(), e))?;
        lists
            .warnings
            .extend(ci.warnings.into_iter().map(|m| (root.to_string(), m)));
        if let Some(e) = ci.fallback {
            lists.fallbacks.push(Fallback {
                chart: root.to_string(),
                template: None,
                error: e.to_string(),
            });
        }
        for (template, e) in ci.template_fallbacks {
            lists.fallbacks.push(Fallback {
                chart: root.to_string(),
                template: Some(template),
                error: e.to_string(),
            });
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
    let listed: BTreeSet<String> = lists.kinds.values().flatten().cloned().collect();
    let only_tests: Vec<(String, Vec<ImageSource>)> = lists
        .tests
        .iter()
        .filter(|(i, _)| !listed.contains(*i))
        .map(|(i, s)| (i.clone(), s.clone()))
        .collect();
    for (image, sources) in only_tests {
        for mut s in sources {
            s.kind = TEST_KIND.into();
            lists.add(image.clone(), s);
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
    /// `helm test` images -> sources (those not deployed are in the `test` kind too).
    pub tests: BTreeMap<String, Vec<ImageSource>>,
    /// Charts, or single templates of charts that otherwise rendered, read without rendering.
    pub fallbacks: Vec<Fallback>,
    /// `release.placeholderProjects`: every image is added by project
    /// ([`crate::image::reference::by_project`]).
    pub projects: Vec<(String, String)>,
}

impl ImageLists {
    /// Leave out the images only `helm test` hooks run (`--no-test-images`): the `test` kind
    /// and the sources of the images it alone held.
    pub fn without_tests(mut self) -> Self {
        if let Some(test) = self.kinds.remove(TEST_KIND) {
            for i in test {
                if let Some(v) = self.sources.get_mut(&i) {
                    v.retain(|s| s.kind != TEST_KIND);
                    if v.is_empty() {
                        self.sources.remove(&i);
                    }
                }
            }
        }
        self
    }

    fn add(&mut self, image: String, source: ImageSource) {
        let image = crate::image::reference::by_project(&image, &self.projects);
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
) -> Result<BTreeSet<String>, crate::image::scan::ImageError> {
    let lists = image_lists([(folder, files)], [], &[], ctx).map_err(|(_, e)| e)?;
    warnings.extend(lists.warnings.into_iter().map(|(_, m)| m));
    Ok(lists.kinds.into_values().flatten().collect())
}

/// The images of one chart at one end of a change ([`chart_ends`]).
#[derive(Debug, Default)]
pub struct ChartSets {
    /// Every image it names ([`chart_image_set`]: deployed, and its `images_<kind>.list` files).
    pub all: BTreeSet<String>,
    /// The images its workloads run (the `platform` list: no `images_<kind>.list` extras, no
    /// `helm test` images).
    pub deployed: BTreeSet<String>,
    /// The images only its `helm test` hooks run (in `all` too).
    pub test: BTreeSet<String>,
}

impl ChartSets {
    /// `all`, without the `helm test` images when `tests` is false (`--no-test-images`).
    pub fn shipped(&self, tests: bool) -> BTreeSet<String> {
        if tests {
            self.all.clone()
        } else {
            self.all.difference(&self.test).cloned().collect()
        }
    }
}

/// The images of one chart at both ends of a change ([`chart_ends`]).
#[derive(Debug, Default)]
pub struct ChartEnds {
    /// At the old end (empty when the chart is new).
    pub old: ChartSets,
    /// At the new end.
    pub new: ChartSets,
    /// `<folder>/<error>` for a side that cannot be read (the warnings of a static fallback are
    /// not repeated here).
    pub warnings: Vec<String>,
}

/// The images each chart names at both ends of a change, charts rendered in parallel, each
/// once (through the render cache): per chart `(folder, old files, new files)`, in input order. A
/// side without files, or that cannot be read, names nothing. Used by `hotfix`, `upgrade` and
/// `diff`.
pub fn chart_ends(
    charts: &[(
        &str,
        Option<&crate::files::Files>,
        Option<&crate::files::Files>,
    )],
    old_ctx: &RenderContext,
    new_ctx: &RenderContext,
) -> Vec<ChartEnds> {
    use rayon::prelude::*;
    let sets = |folder: &str, files: Option<&crate::files::Files>, ctx, w: &mut Vec<String>| {
        let Some(f) = files else {
            return ChartSets::default();
        };
        match image_lists([(folder, f)], [], &[], ctx) {
            Ok(lists) => ChartSets {
                all: lists.kinds.values().flatten().cloned().collect(),
                deployed: lists.kinds.get("platform").cloned().unwrap_or_default(),
                test: lists.kinds.get(TEST_KIND).cloned().unwrap_or_default(),
            },
            Err((_, e)) => {
                w.push(format!("{folder}/{e}"));
                ChartSets::default()
            }
        }
    };
    charts
        .par_iter()
        .map(|&(folder, old, new)| {
            let mut warnings = Vec::new();
            let old = sets(folder, old, old_ctx, &mut warnings);
            let new = sets(folder, new, new_ctx, &mut warnings);
            ChartEnds { old, new, warnings }
        })
        .collect()
}
