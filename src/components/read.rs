//! A component at the tag collect picks: fetched into its cache (or read in place), the tag
//! chosen by SemVer within its entry's `baseVersion` (DOMAIN.md "collect"), and its charts and
//! resource files read at that tag. Nothing here writes to the work tree.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use rayon::prelude::*;

use super::fetch::{self, FetchOutcome, Location};
use super::Component;
use crate::error::UserError;
use crate::files::{FileEntry, FileKind, Files};
use crate::git;
use crate::history::changelog::{self, Changelog, HeldBack, HeldReason};
use crate::settings::{self, Settings};
use crate::versions::{self, BaseVersion};

/// What phase 1 (fetch + read, in parallel) found for one component.
pub struct Fetched {
    /// The tag picked.
    pub tag: String,
    /// The commit it names.
    pub commit: gix::ObjectId,
    /// `local`, `offline`, `up-to-date` or `updated`.
    pub fetch: &'static str,
    /// When the cache was last fetched (seconds since the epoch); `None` for a local component.
    pub fetched_at: Option<u64>,
    /// (source path in component repo, target folder, files)
    pub charts: Vec<(String, String, Files)>,
    /// (source path, target file, entry)
    pub resources: Vec<(String, String, FileEntry)>,
    /// The three-way base: chart folders and resource files (by target) as the recorded
    /// `currentTag` holds them, placeholders not substituted. Empty when there is no `currentTag`
    /// or it is no longer a tag of the component ([`crate::components::merge`]).
    pub base: BTreeMap<String, Files>,
    /// The commits between the old tag and the new one.
    pub changelog: Option<Changelog>,
    /// Newer tags not picked, and why.
    pub held_back: Vec<HeldBack>,
}

/// Most commits listed per component in a changelog; the rest are counted.
const CHANGELOG_LIMIT: usize = 100;

/// Default `--jobs`: twice the CPUs, 4 to 16. Fetching waits on `upload-pack` processes and the
/// network more than on the CPU (measured with bench/collect.sh: 4 jobs beat 2 on 2 cores).
fn default_jobs() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cpus * 2).clamp(4, 16)
}

/// The most `--jobs` collect runs at once: each job is a thread with its own connection and
/// `upload-pack` process; far more than this only exhausts processes and file descriptors.
pub const MAX_JOBS: usize = 64;

/// Options of [`read_all`], from collect's flags.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--jobs`: components fetched at once [default: twice the CPUs, 4 to 16].
    pub jobs: Option<usize>,
    /// `--offline`: only the cache; never connect.
    pub offline: bool,
    /// `--pre`: pre-release tags count.
    pub pre: bool,
    /// `--allow-downgrade`: a tag below currentTag may be picked.
    pub allow_downgrade: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Fetch and read every component of `selected`, in parallel (a thread and a connection per
/// job), writing only to the component caches under the git dir. Results are in `selected`'s
/// order.
///
/// Errors: every component that failed, each named with its entry, then `N components failed`
/// ([`crate::error::fail_all`]).
pub fn read_all(
    repo: &gix::Repository,
    settings: &Settings,
    selected: &[&Component],
    pins: &BTreeMap<String, &str>,
    opts: &Options,
) -> Result<Vec<Fetched>> {
    let workdir = crate::git::workdir(repo)?;
    let mut jobs = opts.jobs.unwrap_or_else(default_jobs).max(1);
    if jobs > MAX_JOBS {
        eprintln!("note: --jobs {jobs} is more than collect runs at once; using {MAX_JOBS}");
        jobs = MAX_JOBS;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("starting worker threads")?;
    let bar = crate::progress::bar(selected.len() as u64, "collect", opts.progress);
    let interrupt = AtomicBool::new(false);
    let git_dir = repo.common_dir().to_path_buf();
    let results: Vec<Result<Fetched>> = pool.install(|| {
        selected
            .par_iter()
            .map(|c| {
                bar.set_message(c.repository_full_name.clone());
                let r = fetch_component(
                    c,
                    settings,
                    &workdir,
                    &git_dir,
                    opts,
                    pins.get(c.repository_full_name.as_str()),
                    &interrupt,
                )
                .map_err(|e| {
                    let user = e.chain().find_map(|x| x.downcast_ref::<UserError>());
                    anyhow::Error::new(UserError {
                        message: format!(
                            "component `{}` ({}): {e:#}",
                            c.repository_full_name,
                            c.location()
                        ),
                        hint: user.and_then(|u| u.hint.clone()),
                        kind: user.map_or(crate::error::ExitKind::Failure, |u| u.kind),
                        in_json_output: false,
                    })
                });
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut fetched = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(f) => fetched.push(f),
            Err(e) => errors.push(e),
        }
    }
    crate::error::fail_all(errors, "components")?;
    Ok(fetched)
}

/// `3 h`, `2 d`: a rough age for messages.
pub fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// Fetch (or open in place) component `c`, pick its tag (`pin`, else the newest release tag its
/// entry allows) and read its charts and resources at that tag.
///
/// Errors: fetch failures (exit 1), a tag that cannot be picked or read (exit 2).
fn fetch_component(
    c: &Component,
    settings: &Settings,
    workdir: &Path,
    git_dir: &Path,
    opts: &Options,
    pin: Option<&&str>,
    interrupt: &AtomicBool,
) -> Result<Fetched> {
    let url = component_url(c, settings);
    let location = fetch::locate(&url, workdir);
    let cache = fetch::cache_dir(git_dir, &c.repository_full_name, &url);
    let fetch = match &location {
        Location::Local(_) => "local",
        Location::Remote(_) if opts.offline => "offline",
        Location::Remote(u) => {
            match fetch::fetch_tags(&cache, u, interrupt).map_err(|e| fetch_error(u, &e))? {
                FetchOutcome::UpToDate => "up-to-date",
                FetchOutcome::Updated => "updated",
            }
        }
    };
    let fetched_at = match &location {
        Location::Local(_) => None,
        Location::Remote(_) => fetch::last_fetched(&cache),
    };
    let crepo = fetch::open(&location, &cache)?;
    let tags = crepo.tags(c.tag_prefix.as_deref())?;
    let current = c
        .current_tag
        .as_deref()
        .and_then(|t| versions::parse_tag(t, c.tag_prefix.as_deref()));
    let base = c.base_version.as_deref().and_then(BaseVersion::parse);
    let releases: Vec<(&str, &semver::Version)> = tags
        .iter()
        .filter_map(|t| t.version.as_ref().map(|v| (t.name.as_str(), v)))
        .collect();
    let newest = versions::pick(releases.iter().copied(), base.as_ref(), opts.pre);
    let (tag, candidate) = pick_tag(c, &tags, current.as_ref(), newest, pin, opts, &url)?;
    let (commit, tree) = crepo.peel_tag(&tag)?;
    let held_back = match releases.iter().find(|(n, _)| *n == tag) {
        Some(&(n, v)) => {
            changelog::held_back(&releases, (n, v), base.as_ref(), opts.pre, candidate)
        }
        None => Vec::new(),
    };
    let changelog = match c.current_tag.as_deref() {
        Some(old) if old == tag => None,
        None => Some(Changelog {
            note: Some("first collect: no earlier tag to compare with".into()),
            ..Default::default()
        }),
        Some(old) => Some(match crepo.peel_tag(old) {
            Ok((old_commit, _)) => changelog::between(
                &crepo.repo,
                old_commit,
                commit,
                CHANGELOG_LIMIT,
                &collected_paths(c),
            )?,
            Err(_) => Changelog {
                note: Some(format!(
                    "currentTag {old} is not a tag of the component repository (deleted upstream?)"
                )),
                ..Default::default()
            },
        }),
    };
    let base_tree = match c.current_tag.as_deref() {
        Some(old) if old != tag => crepo.peel_tag(old).ok().map(|(_, t)| t),
        _ => None,
    };
    let crepo = &crepo.repo;
    let charts = read_charts(c, settings, crepo, tree, &tag)?;
    let resources = read_resources(c, settings, crepo, tree, &tag)?;
    let base = match (c.current_tag.as_deref(), base_tree) {
        // Same tag: the base is what was just read.
        (Some(old), _) if old == tag => charts
            .iter()
            .map(|(_, t, f)| (t.clone(), f.clone()))
            .chain(
                resources
                    .iter()
                    .map(|(_, t, e)| (t.clone(), Files::from([(String::new(), e.clone())]))),
            )
            .collect(),
        (_, Some(old_tree)) => read_base(c, settings, crepo, old_tree)?,
        _ => BTreeMap::new(),
    };
    Ok(Fetched {
        tag,
        commit,
        fetch,
        fetched_at,
        charts,
        resources,
        base,
        changelog,
        held_back,
    })
}

/// The chart folders and resource files of `c` as the tree of its recorded `currentTag` holds
/// them, by target (a resource file as a one-entry [`Files`] keyed `""`). A path missing there
/// (added since) has no base.
///
/// Errors: unreadable objects.
fn read_base(
    c: &Component,
    settings: &Settings,
    crepo: &gix::Repository,
    tree: gix::ObjectId,
) -> Result<BTreeMap<String, Files>> {
    let mut base = BTreeMap::new();
    for p in &c.chart_paths {
        let Ok(src) = settings::normalize_rel_path(p) else {
            continue;
        };
        if let (Some(files), Ok(target)) = (
            git::read_path(crepo, tree, &src)?,
            c.chart_target(settings.targets(), &src),
        ) {
            if !files.contains_key("") {
                base.insert(target, files);
            }
        }
    }
    for p in &c.resource_paths {
        let Ok(src) = settings::normalize_rel_path(p) else {
            continue;
        };
        if let (Some(files), Ok(target)) = (
            git::read_path(crepo, tree, &src)?,
            c.resource_target(settings.targets(), &src),
        ) {
            if files.contains_key("") {
                base.insert(target, files);
            }
        }
    }
    Ok(base)
}

/// The component's paths collect copies (chart folders and resource files), normalised.
fn collected_paths(c: &Component) -> Vec<String> {
    c.chart_paths
        .iter()
        .chain(&c.resource_paths)
        .filter_map(|p| settings::normalize_rel_path(p).ok())
        .collect()
}

/// The tag to collect: `pin` (checked against the entry's `baseVersion` and `currentTag`), else
/// `newest`, else `currentTag` when the newest is lower; with the tag collect would have taken
/// when it took another (for `held_back`).
///
/// Errors (exit 2): a pin that is no release tag of the entry, outside `baseVersion` or below
/// `currentTag` (without `--allow-downgrade`); no release tag at all.
#[allow(clippy::type_complexity)]
fn pick_tag<'t>(
    c: &Component,
    tags: &'t [fetch::TagInfo],
    current: Option<&semver::Version>,
    newest: Option<(&'t str, &'t semver::Version)>,
    pin: Option<&&str>,
    opts: &Options,
    url: &str,
) -> Result<(String, Option<(&'t str, &'t semver::Version, HeldReason)>)> {
    // The tag collect would have taken, when it took another (pinned, or kept currentTag).
    let mut candidate: Option<(&str, &semver::Version, HeldReason)> = None;
    let tag = if let Some(pin) = pin {
        let Some(t) = tags.iter().find(|t| t.name == **pin) else {
            return Err(UserError::input(format!("--tag: `{pin}` is not a tag of {url}")).into());
        };
        let Some(v) = &t.version else {
            let prefix = c
                .tag_prefix
                .as_deref()
                .map(|p| format!(" with tagPrefix `{p}`"))
                .unwrap_or_default();
            return Err(UserError::input(format!(
                "--tag: `{pin}` is not a release tag of this entry{prefix}"
            ))
            .hint("pin a tag of the form [tagPrefix][v]X.Y.Z")
            .into());
        };
        if let Some(b) = c.base_version.as_deref() {
            if BaseVersion::parse(b).is_some_and(|base| !base.contains(v)) {
                return Err(UserError::input(format!(
                    "--tag: `{pin}` is outside the entry's baseVersion {b}"
                ))
                .hint("change baseVersion in the repos file to move the component to another release line")
                .into());
            }
        }
        if let (Some(cur), Some(v)) = (current, &t.version) {
            if v.cmp_precedence(cur).is_lt() && !opts.allow_downgrade {
                return Err(UserError::input(format!(
                    "--tag {pin} is lower than currentTag {}",
                    c.current_tag.as_deref().unwrap_or_default()
                ))
                .hint("add --allow-downgrade if that is intended")
                .into());
            }
        }
        candidate = newest.map(|(n, v)| (n, v, HeldReason::Pinned));
        t.name.clone()
    } else {
        match (newest, current) {
            (None, _) => {
                let within = c
                    .base_version
                    .as_deref()
                    .map(|b| format!(" within baseVersion {b}"))
                    .unwrap_or_default();
                return Err(UserError::input(format!(
                    "no release tag{within} in {url} ({} tags, none SemVer{})",
                    tags.len(),
                    if opts.pre { "" } else { " without pre-release" }
                ))
                .hint("tag a release (vX.Y.Z), pass --pre for pre-releases, or set tagPrefix for prefixed tags")
                .into());
            }
            (Some((name, v)), Some(cur))
                if v.cmp_precedence(cur).is_lt() && !opts.allow_downgrade =>
            {
                // Never go below currentTag: keep it when it still exists.
                let cur_name = c.current_tag.clone().unwrap_or_default();
                if tags.iter().any(|t| t.name == cur_name) {
                    candidate = Some((name, v, HeldReason::BelowCurrentTag));
                    cur_name
                } else {
                    return Err(UserError::input(format!(
                        "currentTag {cur_name} is not a tag of {url}, and the newest candidate {name} is lower"
                    ))
                    .hint("pass --allow-downgrade to take it, or --tag to pin one")
                    .into());
                }
            }
            (Some((name, _)), _) => name.to_string(),
        }
    };
    Ok((tag, candidate))
}

/// The chart folders of `c` at `tag`, each with its target folder under the addons path.
///
/// Errors (exit 2): a chart path missing at the tag, a file or symlink instead of a folder, no
/// Chart.yaml, a file a chart may not carry, a symlink leaving the chart.
fn read_charts(
    c: &Component,
    settings: &Settings,
    crepo: &gix::Repository,
    tree: gix::ObjectId,
    tag: &str,
) -> Result<Vec<(String, String, Files)>> {
    let mut charts = Vec::new();
    for p in &c.chart_paths {
        let src = settings::normalize_rel_path(p)?;
        let Some(files) = git::read_path(crepo, tree, &src)
            .with_context(|| format!("reading `{src}` at tag {tag}"))?
        else {
            return Err(UserError::input(format!(
                "chart path `{src}` does not exist at tag {tag}"
            ))
            .hint("fix chartPaths in the repos file, or pin another tag with --tag")
            .into());
        };
        if let Some(entry) = files.get("") {
            if entry.kind == FileKind::Symlink {
                return Err(UserError::input(format!(
                    "chart path `{src}` at tag {tag} is a symlink (to `{}`), not a folder",
                    String::from_utf8_lossy(&entry.data)
                ))
                .hint("name the folder the link points to in chartPaths")
                .into());
            }
            return Err(UserError::input(format!(
                "chart path `{src}` at tag {tag} is a file, not a folder"
            ))
            .into());
        }
        if !files.contains_key("Chart.yaml") {
            return Err(UserError::input(format!(
                "chart path `{src}` at tag {tag} has no Chart.yaml: it is not a chart (moved elsewhere?)"
            ))
            .hint("fix chartPaths in the repos file, or pin another tag with --tag")
            .into());
        }
        if let Some((rel, problem)) = files
            .keys()
            .find_map(|rel| crate::paths::lexical_problem(rel).map(|p| (rel, p)))
        {
            return Err(UserError::input(format!(
                "chart path `{src}` at tag {tag}: file `{rel}` {problem}"
            ))
            .hint("a chart may not carry a .git folder; remove it from the component repository")
            .into());
        }
        let folder = src.rsplit('/').next().unwrap_or(&src).to_string();
        crate::archive::check_chart_links(&folder, &files)
            .with_context(|| format!("chart path `{src}` at tag {tag}"))?;
        let target = c.chart_target(settings.targets(), &src)?;
        charts.push((src, target, files));
    }
    Ok(charts)
}

/// The single resource files of `c` at `tag` (the `resourcePaths` shape), each with its target.
///
/// Errors (exit 2): a path missing at the tag, a folder, a symlink.
fn read_resources(
    c: &Component,
    settings: &Settings,
    crepo: &gix::Repository,
    tree: gix::ObjectId,
    tag: &str,
) -> Result<Vec<(String, String, FileEntry)>> {
    let mut resources = Vec::new();
    for p in &c.resource_paths {
        let src = settings::normalize_rel_path(p)?;
        let Some(mut files) = git::read_path(crepo, tree, &src)
            .with_context(|| format!("reading `{src}` at tag {tag}"))?
        else {
            return Err(UserError::input(format!(
                "resource path `{src}` does not exist at tag {tag}"
            ))
            .into());
        };
        let Some(entry) = files.remove("") else {
            return Err(UserError::input(format!(
                "resource path `{src}` at tag {tag} is a folder; use chartPaths for folders"
            ))
            .into());
        };
        if entry.kind == FileKind::Symlink {
            return Err(UserError::input(format!(
                "resource path `{src}` at tag {tag} is a symlink"
            ))
            .into());
        }
        let target = c.resource_target(settings.targets(), &src)?;
        resources.push((src, target, entry));
    }
    Ok(resources)
}

/// Tags of the component named `name` (`cyclone` or `demo/cyclone`), read from its local
/// repository or its cache (never fetched): shell completion of `--tag=COMPONENT=`.
///
/// Errors: no such component, a repository that cannot be read.
pub fn component_tags(repo: &gix::Repository, name: &str) -> Result<Vec<String>> {
    let settings = Settings::load(repo, &Default::default())?;
    let workdir = crate::git::workdir(repo)?;
    let lists = crate::components::read_worktree(repo, &settings)?;
    let c = lists
        .components
        .iter()
        .find(|c| c.name() == name || c.repository_full_name == name)
        .ok_or_else(|| UserError::input(format!("no component `{name}`")))?;
    let url = component_url(c, &settings);
    let location = fetch::locate(&url, &workdir);
    let cache = fetch::cache_dir(repo.common_dir(), &c.repository_full_name, &url);
    let crepo = fetch::open(&location, &cache)?;
    // Only the tags `--tag` accepts: release tags of the entry (its tagPrefix), within its
    // baseVersion.
    let base = c.base_version.as_deref().and_then(BaseVersion::parse);
    let mut tags: Vec<(semver::Version, String)> = crepo
        .tags(c.tag_prefix.as_deref())?
        .into_iter()
        .filter_map(|t| Some((t.version?, t.name)))
        .filter(|(v, _)| base.as_ref().is_none_or(|b| b.contains(v)))
        .collect();
    // Newest release first.
    tags.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(tags.into_iter().map(|t| t.1).collect())
}

/// For each chart folder component `c` places, the files that differ at `tree` from what `c`
/// holds at its `currentTag` (placeholders substituted with the tags `all`, the components at
/// `tree`, record): the local changes collect keeps (a fix, a bump, vendored dependencies).
/// Folders without a difference are left out. Read from the component's repository or cache,
/// opened once, never fetched; empty when that cannot be read (no cache, the tag gone).
///
/// Errors: unreadable objects of this repository.
pub fn patched_charts(
    repo: &gix::Repository,
    settings: &Settings,
    tree: gix::ObjectId,
    all: &[Component],
    c: &Component,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    let Some(tag) = c.current_tag.as_deref() else {
        return Ok(out);
    };
    let workdir = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.common_dir().to_path_buf());
    let url = component_url(c, settings);
    let cache = fetch::cache_dir(repo.common_dir(), &c.repository_full_name, &url);
    let Ok(crepo) = fetch::open(&fetch::locate(&url, &workdir), &cache) else {
        return Ok(out);
    };
    let Ok((_, upstream_tree)) = crepo.peel_tag(tag) else {
        return Ok(out);
    };
    let tags = crate::components::tags_by_name(all);
    for p in &c.chart_paths {
        let Ok(src) = settings::normalize_rel_path(p) else {
            continue;
        };
        let Ok(target) = c.chart_target(settings.targets(), &src) else {
            continue;
        };
        let Ok(Some(mut theirs)) = git::read_path(&crepo.repo, upstream_tree, &src) else {
            continue;
        };
        // Best effort: a placeholder that cannot be substituted shows as a difference.
        let _ = crate::placeholders::substitute_files(&mut theirs, tag, |n| tags.get(n).cloned());
        let ours = git::read_path(repo, tree, &target)?.unwrap_or_default();
        let mut paths: Vec<&String> = ours.keys().chain(theirs.keys()).collect();
        paths.sort();
        paths.dedup();
        let differ: Vec<String> = paths
            .into_iter()
            .filter(|p| ours.get(*p) != theirs.get(*p))
            .cloned()
            .collect();
        if !differ.is_empty() {
            out.insert(target, differ);
        }
    }
    Ok(out)
}

/// Fill `patched` of each chart of `charts` that exists at `tree` (`to` set) with the files that
/// differ there from its component at `currentTag` ([`patched_charts`]; the components are those
/// `tree` records, each compared once). A chart no component places stays unmarked. Used by
/// `diff` and `log` so that a locally patched chart (a fix kept by collect) is visible.
///
/// Errors: as [`patched_charts`]; an unreadable repos file at `tree` (exit 2).
pub fn mark_patched(
    repo: &gix::Repository,
    settings: &Settings,
    tree: gix::ObjectId,
    charts: &mut [crate::history::compare::ChartDiff],
) -> Result<()> {
    if charts.iter().all(|c| c.to.is_none()) {
        return Ok(());
    }
    let all = super::components_at(repo, tree, settings)?;
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in all.iter().enumerate() {
        for p in &c.chart_paths {
            if let Ok(target) = settings::normalize_rel_path(p)
                .and_then(|src| c.chart_target(settings.targets(), &src))
            {
                owner.entry(target).or_insert(i);
            }
        }
    }
    let mut found: BTreeMap<usize, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for c in charts.iter_mut().filter(|c| c.to.is_some()) {
        let Some(&i) = owner.get(&c.path) else {
            continue;
        };
        if let std::collections::btree_map::Entry::Vacant(e) = found.entry(i) {
            e.insert(patched_charts(repo, settings, tree, &all, &all[i])?);
        }
        c.patched = found[&i].get(&c.path).cloned().unwrap_or_default();
    }
    Ok(())
}

/// A failed fetch in one sentence: the URL once, then the innermost cause (transport errors
/// nest the same URL several times).
fn fetch_error(url: &str, e: &anyhow::Error) -> anyhow::Error {
    if e.chain().any(|c| c.downcast_ref::<UserError>().is_some()) {
        return anyhow::anyhow!("fetching {url}: {e:#}");
    }
    let root = e.chain().last().map(|c| c.to_string()).unwrap_or_default();
    let root = root
        .replace(url, "")
        .trim()
        .trim_start_matches(':')
        .trim()
        .to_string();
    UserError::failure(format!("could not fetch the tags of {url}: {root}"))
        .hint("check the URL (the entry's `url:` or release.componentUrl) and the network; --offline uses the cached tags")
        .into()
}

/// The fetch URL of a component: its own `url:`, else `release.componentUrl` expanded.
fn component_url(c: &Component, settings: &Settings) -> String {
    c.url.clone().unwrap_or_else(|| {
        settings::component_url(&settings.component_url, &c.repository_full_name)
    })
}
