//! The release gate: the rules that define a consistent release, their severities and findings
//! (run by `git release check`, `tag`, and the server hook of `protect`).
//!
//! Source: DOMAIN.md step 2 and seed 004 (Aether): images only on SemVer tags, a chart version
//! never created twice with different content, a changed chart gets a new version, version.yml
//! and the image lists agree with the charts. Everything is read from the object database.

pub mod deps;
pub mod files;
pub mod history;
pub mod image_tags;
pub mod lines;
pub mod plugins;
pub mod registry;

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use crate::chart::discover::TopCharts;
use crate::error::UserError;
use crate::settings::Settings;

/// How much a finding weighs: errors fail `check` (exit 3) and stop `tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported; does not fail.
    Warning,
    /// Fails the check.
    Error,
}

/// A rule: stable id (`release.check.<id>` sets its severity), default severity, what it checks.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable id, e.g. `chart-version-reused`.
    pub id: &'static str,
    /// Severity when not configured.
    pub default: Severity,
    /// One line for `--help` and the man page.
    pub what: &'static str,
}

/// Every rule, in report order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "chart-version-reused",
        default: Severity::Error,
        what: "a chart name and version has one content across every release and hotfix tag",
    },
    Rule {
        id: "chart-version-not-bumped",
        default: Severity::Error,
        what:
            "a chart that changed since the newest release reachable from REV has a higher version",
    },
    Rule {
        id: "chart-version-lowered",
        default: Severity::Error,
        what: "a chart version never goes down from the newest release reachable from REV",
    },
    Rule {
        id: "image-tag-mutable",
        default: Severity::Error,
        what: "no image without a tag or on latest, master, main, stable, nightly, dev",
    },
    Rule {
        id: "image-tag-not-semver",
        default: Severity::Warning,
        what: "image tags are SemVer (an optional v); digest-pinned images pass",
    },
    Rule {
        id: "image-missing",
        default: Severity::Error,
        what: "every image is in its registry (when release.registry is set; not with --offline)",
    },
    Rule {
        id: "image-digest-moved",
        default: Severity::Error,
        what: "every image's tag still names the digest images/images.lock records (looked up with image-missing)",
    },
    Rule {
        id: "image-not-locked",
        default: Severity::Error,
        what: "once images/images.lock exists, it records every image of the lists (`git release images --lock` writes it)",
    },
    Rule {
        id: "registry-unreachable",
        default: Severity::Error,
        what: "every registry image-missing asks answers (a warning for registries other than release.registry; the other rules still run)",
    },
    Rule {
        id: "version-yml-mismatch",
        default: Severity::Error,
        what: "version.yml lists every chart under the addons path, each at its Chart.yaml version, and nothing else",
    },
    Rule {
        id: "image-list-stale",
        default: Severity::Error,
        what: "images/*.list hold exactly what collect writes from the charts",
    },
    Rule {
        id: "chart-version-below-older-line",
        default: Severity::Error,
        what: "no chart is below its version in a tagged release of an older line (upgrading from it would downgrade the chart)",
    },
    Rule {
        id: "plugin-version-not-bumped",
        default: Severity::Error,
        what: "a plugin file that changed since the release before REV has a higher spec.version",
    },
    Rule {
        id: "plugin-version-reused",
        default: Severity::Error,
        what: "with --history: a plugin version has one file content across every release tag",
    },
    Rule {
        id: "plugin-version-lowered",
        default: Severity::Error,
        what: "a plugin's spec.version never goes down from the release before REV",
    },
    Rule {
        id: "plugin-image-format",
        default: Severity::Error,
        what: "a plugin's spec.service.image is release.pluginImage filled in (default {registry}/release/{product}-plugins-{name}:{version})",
    },
    Rule {
        id: "plugin-requirement-unmet",
        default: Severity::Error,
        what: "at `tag`: the version being tagged is within every plugin's requirement (spec.compassRequirement, release.pluginRequirementKey)",
    },
    Rule {
        id: "plugin-port-conflict",
        default: Severity::Error,
        what: "no two plugins share a spec.service.port",
    },
    Rule {
        id: "plugin-slot-conflict",
        default: Severity::Error,
        what: "no slot is claimed by modules of two plugins, but those release.sharedSlots lists",
    },
    Rule {
        id: "chart-dependency-missing",
        default: Severity::Error,
        what: "every dependency a chart declares is under its charts/ at a version its constraint allows (Helm refuses to install it otherwise)",
    },
    Rule {
        id: "product-description-mismatch",
        default: Severity::Error,
        what: "the product description files (release.productFiles: compass.yaml, mini-compass.yaml, oem.yaml) list only addons an addon file defines, deps name listed addons without a cycle, no module is empty; an addon none lists is a warning",
    },
    Rule {
        id: "addon-file-unknown",
        default: Severity::Error,
        what: "in the caicloud layout, every file under the addons path is a single-file addon (_config._metadata) or part of a chart",
    },
];

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id.
    pub rule: &'static str,
    /// Severity after configuration: the configured one, at most what the rule gave this
    /// finding ([`Finding::at_most`]).
    pub severity: Severity,
    /// Chart name, when the finding is about a chart.
    pub chart: Option<String>,
    /// Chart version concerned.
    pub version: Option<String>,
    /// Repo-relative path of the file or folder.
    pub path: Option<String>,
    /// 1-based line in `path`, when known.
    pub line: Option<usize>,
    /// Revisions involved (tags, or REV), newest first.
    pub revisions: Vec<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Finding {
    /// A finding of `rule` with `message`; the other fields are filled by the builder methods.
    pub fn new(rule: &'static str, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: Severity::Error,
            chart: None,
            version: None,
            path: None,
            line: None,
            revisions: Vec::new(),
            message: message.into(),
        }
    }
    /// Set chart name and version.
    pub fn chart(mut self, name: &str, version: Option<&str>) -> Self {
        self.chart = Some(name.to_string());
        self.version = version.map(str::to_string);
        self
    }
    /// Set the path (and line).
    pub fn at(mut self, path: &str, line: Option<usize>) -> Self {
        self.path = Some(path.to_string());
        self.line = line;
        self
    }
    /// Cap the finding's severity: a rule whose findings differ in weight (a registry other
    /// than the internal one, an addon no description lists) marks the lesser ones; the
    /// configured severity never raises them.
    pub fn at_most(mut self, severity: Severity) -> Self {
        self.severity = self.severity.min(severity);
        self
    }
    /// Set the revisions involved.
    pub fn revisions(mut self, revs: Vec<String>) -> Self {
        self.revisions = revs;
        self
    }
}

/// Rule severities and the image allow-list, from `release.check.<id>` (`error`, `warning` or
/// `off`) and `release.check.allowImage` (globs separated by white space; `*` matches any run of
/// characters, `/` included) in `.gitrelease` or git config.
#[derive(Debug, Clone)]
pub struct Config {
    severity: BTreeMap<&'static str, Option<Severity>>,
    /// Globs of image references exempt from the image-tag rules.
    pub allow_images: Vec<String>,
    /// Skip the rules that need the network (image-missing): `check --offline`.
    pub offline: bool,
}

impl Config {
    /// Read the configuration of `repo`.
    ///
    /// Errors (exit 2): a severity other than `error`, `warning` or `off`.
    pub fn load(repo: &gix::Repository) -> Result<Self> {
        let get = crate::settings::raw(repo);
        let mut severity = BTreeMap::new();
        for r in RULES {
            let s = match get(&format!("check.{}", r.id)).as_deref().map(str::trim) {
                None => Some(r.default),
                Some("error") => Some(Severity::Error),
                Some("warning") => Some(Severity::Warning),
                Some("off") => None,
                Some(other) => {
                    return Err(UserError::input(format!(
                        "release.check.{} = `{other}`: expected error, warning or off",
                        r.id
                    ))
                    .into())
                }
            };
            severity.insert(r.id, s);
        }
        let allow_images = get("check.allowImage")
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        Ok(Config {
            severity,
            allow_images,
            offline: false,
        })
    }

    /// The severity of rule `id`, `None` when it is off.
    pub fn severity(&self, id: &str) -> Option<Severity> {
        self.severity.get(id).copied().flatten()
    }

    /// Whether `image` matches an allow-list glob.
    pub fn allowed(&self, image: &str) -> bool {
        self.allow_images.iter().any(|g| {
            gix::glob::wildmatch(
                g.as_str().into(),
                image.into(),
                gix::glob::wildmatch::Mode::empty(),
            )
        })
    }
}

/// A chart at one revision, as the rules see it.
#[derive(Debug, Clone)]
pub struct ChartAt {
    /// Repo-relative folder.
    pub path: String,
    /// Chart.yaml `name` (the folder name when absent).
    pub name: String,
    /// Chart.yaml `version`.
    pub version: Option<String>,
    /// Tree id of the folder, subcharts included: equal ids mean byte-identical charts (the
    /// blob id of a single-file addon).
    pub tree: gix::ObjectId,
}

/// Reads charts at many revisions, each chart folder and Chart.yaml once.
#[derive(Default)]
pub struct Charts {
    tops: TopCharts,
    /// Chart.yaml blob id -> (name, version).
    meta: std::collections::HashMap<gix::ObjectId, (Option<String>, Option<String>)>,
}

impl Charts {
    /// The charts below `addons` in the tree of `commit`.
    ///
    /// Errors: objects missing from the database.
    pub fn at(
        &mut self,
        repo: &gix::Repository,
        commit: gix::ObjectId,
        addons: &str,
    ) -> Result<Vec<ChartAt>> {
        let tree = repo.find_commit(commit)?.tree_id()?.detach();
        let mut out = Vec::new();
        for c in self.tops.at(repo, tree, addons)? {
            let (name, version) = self.meta_of(repo, c.chart_yaml)?;
            let name = name.unwrap_or_else(|| match c.file {
                true => crate::chart::meta::addon_stem(&c.path),
                false => c.path.rsplit('/').next().unwrap_or(&c.path).to_string(),
            });
            out.push(ChartAt {
                path: c.path,
                name,
                version,
                tree: c.tree,
            });
        }
        Ok(out)
    }
}

impl Charts {
    /// The charts below `addons` at each of `commits`, in order, whose folder tree id is not in
    /// `seen` (then added; subtrees seen before are skipped whole): each chart folder is reported once, with the index of the first revision holding it.
    /// Tree and Chart.yaml reads run on every CPU (they are most of a history audit); which
    /// revision a folder is credited to is decided in order, as the sequential walk would.
    ///
    /// Errors: objects missing from the database.
    pub fn unseen_at_many(
        &mut self,
        repo: &gix::Repository,
        commits: &[gix::ObjectId],
        addons: &str,
        seen: &mut std::collections::HashSet<gix::ObjectId>,
    ) -> Result<Vec<(usize, ChartAt)>> {
        use rayon::prelude::*;
        // The addons folder of every revision, new ones only.
        let mut roots = Vec::new();
        for (i, commit) in commits.iter().enumerate() {
            let tree = repo.find_commit(*commit)?.tree_id()?.detach();
            if let Some((root, gix::objs::tree::EntryKind::Tree)) =
                crate::git::lookup_path(repo, tree, addons)?
            {
                if seen.insert(root) {
                    roots.push((i, root));
                }
            }
        }
        let sync = repo.clone().into_sync();
        let local = || {
            let mut r = sync.to_thread_local();
            crate::git::without_replacements(&mut r);
            r
        };
        let listed: Vec<Folder> = roots
            .par_iter()
            .map_init(local, |r, (_, id)| Folder::read(r, *id, false))
            .collect::<Result<_>>()?;
        // Folders below them, credited in revision order.
        let mut candidates = Vec::new();
        let mut out = Vec::new();
        for ((i, root), folder) in roots.iter().zip(listed) {
            if folder.chart_yaml.is_some() && !addons.is_empty() {
                candidates.push((*i, addons.to_string(), *root));
                continue;
            }
            for c in folder.addon_charts(addons, seen) {
                out.push((*i, c));
            }
            for (name, sub) in folder.subdirs {
                if seen.insert(sub) {
                    candidates.push((*i, crate::files::join(addons, &name), sub));
                }
            }
        }
        let read: Vec<Folder> = candidates
            .par_iter()
            .map_init(local, |r, (_, _, id)| Folder::read(r, *id, true))
            .collect::<Result<_>>()?;
        for ((i, path, id), folder) in candidates.into_iter().zip(read) {
            match folder.meta {
                Some((name, version)) => {
                    let name = name
                        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(&path).to_string());
                    out.push((
                        i,
                        ChartAt {
                            path,
                            name,
                            version,
                            tree: id,
                        },
                    ));
                }
                // A folder of folders (charts grouped deeper) or of single-file addons (the
                // caicloud layout's groups).
                None => {
                    for c in folder.addon_charts(&path, seen) {
                        out.push((i, c));
                    }
                    for (name, sub) in folder.subdirs {
                        if seen.insert(sub) {
                            let sub_path = crate::files::join(&path, &name);
                            for c in self.walk_unseen(repo, sub, sub_path, seen)? {
                                out.push((i, c));
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The charts inside folder `id` (at `path`), subtrees in `seen` skipped.
    fn walk_unseen(
        &mut self,
        repo: &gix::Repository,
        id: gix::ObjectId,
        path: String,
        seen: &mut std::collections::HashSet<gix::ObjectId>,
    ) -> Result<Vec<ChartAt>> {
        let folder = Folder::read(repo, id, false)?;
        if let Some(blob) = folder.chart_yaml {
            let (name, version) = self.meta_of(repo, blob)?;
            let name = name.unwrap_or_else(|| path.rsplit('/').next().unwrap_or(&path).to_string());
            return Ok(vec![ChartAt {
                path,
                name,
                version,
                tree: id,
            }]);
        }
        let mut out = folder.addon_charts(&path, seen);
        for (name, sub) in folder.subdirs {
            if seen.insert(sub) {
                out.extend(self.walk_unseen(repo, sub, crate::files::join(&path, &name), seen)?);
            }
        }
        Ok(out)
    }

    fn meta_of(
        &mut self,
        repo: &gix::Repository,
        blob: gix::ObjectId,
    ) -> Result<(Option<String>, Option<String>)> {
        if let Some(m) = self.meta.get(&blob) {
            return Ok(m.clone());
        }
        let meta = crate::chart::meta::parse(&repo.find_blob(blob)?.data);
        let meta = (meta.name, meta.version);
        self.meta.insert(blob, meta.clone());
        Ok(meta)
    }
}

/// `product-description-mismatch` at `tree` ([`crate::product::findings`]): the descriptions
/// against the addons `at_rev` defines.
///
/// Errors: a description that cannot be read (exit 2).
fn product_findings(
    repo: &gix::Repository,
    settings: &Settings,
    tree: gix::ObjectId,
    at_rev: &[ChartAt],
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let descriptions = crate::product::at(repo, tree, settings)?;
    let defined: BTreeMap<String, String> = at_rev
        .iter()
        .map(|c| (c.name.clone(), c.path.clone()))
        .collect();
    let m = crate::product::findings(&descriptions, &defined);
    for (severity, list) in [(Severity::Error, m.errors), (Severity::Warning, m.warnings)] {
        for (file, line, message) in list {
            findings.push(
                Finding::new("product-description-mismatch", message)
                    .at(&file, Some(line))
                    .at_most(severity),
            );
        }
    }
    Ok(())
}

/// `addon-file-unknown`: files under the addons path at `tree` that belong to no chart and are
/// no single-file addon (`at_rev`), each named.
///
/// Errors: unreadable objects.
fn unknown_addon_files(
    repo: &gix::Repository,
    settings: &Settings,
    tree: gix::ObjectId,
    at_rev: &[ChartAt],
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let addons = &settings.addons_path;
    let Some((id, gix::objs::tree::EntryKind::Tree)) = crate::git::lookup_path(repo, tree, addons)?
    else {
        return Ok(());
    };
    // A file is owned when it is an addon or some folder above it is a chart.
    let owners: std::collections::HashSet<&str> = at_rev.iter().map(|c| c.path.as_str()).collect();
    let mut unknown = Vec::new();
    crate::git::walk_files(repo, id, &mut |rel, _| {
        let path = crate::files::join(addons, &rel);
        let owned = std::iter::successors(Some(path.as_str()), |p| p.rsplit_once('/').map(|x| x.0))
            .any(|p| owners.contains(p));
        let hidden = path.rsplit('/').next().is_some_and(|n| n.starts_with('.'));
        if !owned && !hidden {
            unknown.push(path);
        }
    })?;
    for path in unknown {
        findings.push(
            Finding::new(
                "addon-file-unknown",
                format!("{path} is neither a chart nor a single-file addon (no `_config._metadata`); nothing installs it: make it an addon, move it out of {addons}, or delete it"),
            )
            .at(&path, None),
        );
    }
    Ok(())
}

/// One folder as the chart walk needs it.
struct Folder {
    /// Subfolders (names not starting with `.`).
    subdirs: Vec<(String, gix::ObjectId)>,
    /// Its Chart.yaml blob, when it holds one.
    chart_yaml: Option<gix::ObjectId>,
    /// Chart.yaml `name` and `version`, when asked for and the folder is a chart.
    meta: Option<(Option<String>, Option<String>)>,
    /// The single-file addons of a folder that is not a chart: file name, blob, what they say.
    addons: Vec<(String, gix::ObjectId, crate::chart::meta::ChartMeta)>,
}

impl Folder {
    /// Its single-file addons (at folder `path`) whose blobs are not in `seen` (then added).
    fn addon_charts(
        &self,
        path: &str,
        seen: &mut std::collections::HashSet<gix::ObjectId>,
    ) -> Vec<ChartAt> {
        self.addons
            .iter()
            .filter(|(_, blob, _)| seen.insert(*blob))
            .map(|(file, blob, meta)| {
                let path = crate::files::join(path, file);
                ChartAt {
                    name: meta.name_or_folder(&path),
                    path,
                    version: meta.version.clone(),
                    tree: *blob,
                }
            })
            .collect()
    }

    fn read(repo: &gix::Repository, id: gix::ObjectId, with_meta: bool) -> Result<Self> {
        let crate::chart::discover::FolderEntries {
            subdirs,
            chart_yaml,
            yaml_files,
        } = crate::chart::discover::read_folder(repo, id)?;
        let meta = match (with_meta, chart_yaml) {
            (true, Some(blob)) => {
                let m = crate::chart::meta::parse(&repo.find_blob(blob)?.data);
                Some((m.name, m.version))
            }
            _ => None,
        };
        let addons = match chart_yaml {
            None => crate::chart::discover::addon_files(repo, yaml_files)?,
            Some(_) => Vec::new(),
        };
        Ok(Folder {
            subdirs,
            chart_yaml,
            meta,
            addons,
        })
    }
}

/// The result of a check, as `--json` prints it inside the [`crate::report::Report`] envelope
/// (whose `rev` is the commit checked).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The revision as given.
    #[serde(skip)]
    pub rev: String,
    /// Its commit.
    #[serde(skip)]
    pub commit: String,
    /// Every finding, grouped by rule in [`RULES`] order.
    pub findings: Vec<Finding>,
    /// How many findings are errors.
    pub error_count: usize,
    /// How many are warnings.
    pub warning_count: usize,
}

/// Run every rule that is not off on `rev` (`history`: audit every release tag against each
/// other too), with severities from `config`.
///
/// Errors: `rev` is not a commit (exit 2); unreadable objects.
pub fn check(
    repo: &gix::Repository,
    settings: &Settings,
    config: &Config,
    rev: &str,
    history: bool,
) -> Result<Report> {
    let commit = crate::git::resolve_commit(repo, rev)?;
    let mut charts = Charts::default();
    let at_rev = charts.at(repo, commit, &settings.addons_path)?;
    let mut findings = Vec::new();
    if RULES[..3].iter().any(|r| config.severity(r.id).is_some()) {
        history::check(
            repo,
            settings,
            &mut charts,
            commit,
            rev,
            &at_rev,
            history,
            &mut findings,
        )?;
    }
    // Rules that are off are not computed: reading and scanning every chart's files is most of
    // a check's time.
    let on = |ids: &[&str]| ids.iter().any(|id| config.severity(id).is_some());
    // registry-unreachable comes from image-missing's lookups.
    let registry_check = on(&["image-missing"])
        && !config.offline
        && crate::registry::RegistryConfig::load(repo)?
            .registry
            .is_some();
    let needs_files = registry_check
        || on(&[
            "image-tag-mutable",
            "image-tag-not-semver",
            "image-list-stale",
            "image-not-locked",
        ]);
    let files: Vec<crate::files::Files> = if needs_files {
        at_rev
            .iter()
            .map(|c| crate::git::read_tree_files(repo, c.tree))
            .collect::<Result<_>>()?
    } else {
        vec![Default::default(); at_rev.len()]
    };
    // Every chart is rendered once, for all image rules.
    let lists = if needs_files {
        let tree = repo.find_commit(commit)?.tree_id()?.detach();
        let ctx = crate::image::chart::RenderContext::at(repo, tree, settings)?;
        let inputs = crate::components::image_inputs_at(repo, tree, settings)?;
        Some(crate::derived::lists_of(
            at_rev.iter().zip(&files).map(|(c, f)| (c.path.as_str(), f)),
            &inputs,
            &ctx,
        ))
    } else {
        None
    };
    if on(&["image-tag-mutable", "image-tag-not-semver"]) {
        if let Some(Ok(l)) = &lists {
            image_tags::check(config, &at_rev, &l.by_chart(), &mut findings);
        }
    }
    if registry_check {
        if let Some(Ok(l)) = &lists {
            // Plugin images are looked up too (image-missing, image-digest-moved), though no
            // image list holds them: they ship in plugin packages.
            let tree = repo.find_commit(commit)?.tree_id()?.detach();
            let with_plugins = plugins::with_plugin_images(l, repo, tree, settings);
            registry::check(repo, settings, commit, &with_plugins, &mut findings)?;
        }
    }
    if on(&["image-not-locked"]) {
        if let Some(Ok(l)) = &lists {
            registry::unlocked(repo, settings, commit, l, &mut findings)?;
        }
    }
    files::check(
        repo,
        settings,
        commit,
        &at_rev,
        lists.as_ref().filter(|_| on(&["image-list-stale"])),
        &mut findings,
    )?;
    if on(&[
        "plugin-version-not-bumped",
        "plugin-version-lowered",
        "plugin-image-format",
        "plugin-port-conflict",
        "plugin-slot-conflict",
    ]) {
        plugins::check(repo, settings, commit, &mut findings)?;
    }
    if history && on(&["plugin-version-reused"]) {
        plugins::reused(repo, settings, &mut findings)?;
    }
    if on(&["chart-dependency-missing"]) {
        deps::check(repo, &at_rev, &files, &mut findings)?;
    }
    if on(&["product-description-mismatch"]) && !settings.product_files.is_empty() {
        let tree = repo.find_commit(commit)?.tree_id()?.detach();
        product_findings(repo, settings, tree, &at_rev, &mut findings)?;
    }
    if on(&["addon-file-unknown"]) && settings.layout == crate::settings::Layout::Caicloud {
        let tree = repo.find_commit(commit)?.tree_id()?.detach();
        unknown_addon_files(repo, settings, tree, &at_rev, &mut findings)?;
    }
    if on(&["chart-version-below-older-line"]) {
        lines::check(
            repo,
            &settings.addons_path,
            &mut charts,
            commit,
            &at_rev,
            &mut findings,
        )?;
    }
    let mut kept: Vec<Finding> = findings
        .into_iter()
        .filter_map(|mut f| {
            f.severity = config.severity(f.rule)?.min(f.severity);
            Some(f)
        })
        .collect();
    let order = |id: &str| RULES.iter().position(|r| r.id == id).unwrap_or(usize::MAX);
    // By rule, a rule's errors before its warnings (product-description-mismatch has both).
    kept.sort_by(|a, b| {
        (
            order(a.rule),
            std::cmp::Reverse(a.severity),
            &a.path,
            &a.chart,
            &a.message,
        )
            .cmp(&(
                order(b.rule),
                std::cmp::Reverse(b.severity),
                &b.path,
                &b.chart,
                &b.message,
            ))
    });
    kept.dedup();
    let errors = kept
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    Ok(Report {
        rev: rev.to_string(),
        commit: commit.to_string(),
        warning_count: kept.len() - errors,
        error_count: errors,
        findings: kept,
    })
}

/// Print `report` as a table grouped by rule and severity, then a count line.
///
/// Errors: writing to `out`.
pub fn print(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut last = ("", None);
    for f in &report.findings {
        if (f.rule, Some(f.severity)) != last {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            writeln!(out, "{} ({sev})", f.rule)?;
            last = (f.rule, Some(f.severity));
        }
        let place = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}: "),
            (Some(p), None) => format!("{p}: "),
            _ => String::new(),
        };
        writeln!(out, "  {place}{}", f.message)?;
    }
    writeln!(
        out,
        "{}: {} error(s), {} warning(s) at {}",
        report.rev,
        report.error_count,
        report.warning_count,
        &report.commit[..12]
    )
}
