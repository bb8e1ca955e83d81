//! `git release collect`: copy component charts at their newest release tags into the platform
//! repo, update `currentTag`, `version.yml` and the image lists, in one atomic, reviewable change.
//!
//! Source: seed 002 ("更新组件 repo 版本", "更新组件 Chart 文件", "更新组件版本配置文件",
//! "更新平台镜像列表") and DOMAIN.md step 1.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::CollectArgs;
use crate::components::fetch::{self, FetchOutcome, Location};
use crate::components::{self, Component};
use crate::error::UserError;
use crate::files::{FileEntry, FileKind, Files};
use crate::git;
use crate::history::changelog::{self, Changelog, HeldBack, HeldReason};
use crate::paths::Bounds;
use crate::placeholders;
use crate::settings::{self, Overrides, Settings};
use crate::versions::{self, BaseVersion};
use crate::worktree::{self, Change};
use crate::yaml_edit::{self, Seg};

/// Result of a collect, as printed by `--json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// One row per selected component.
    pub components: Vec<ComponentReport>,
    /// Repo-relative paths that changed (or would change with `--dry-run`).
    pub changed_paths: Vec<String>,
    /// Non-fatal findings (unknown fields, addons missing from version.yml…).
    pub warnings: Vec<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The commit made by `--commit`.
    pub commit: Option<String>,
}

/// One component's outcome: a version change in the shared vocabulary's shape
/// (`{"name", "path", "from", "to"}`, [`crate::report`]) with what came with it.
#[derive(Debug, Serialize)]
pub struct ComponentReport {
    /// `owner/name`.
    pub repository: String,
    /// `name`.
    pub name: String,
    /// Where the entry is: `repos/app.yaml:3`; JSON `path`.
    #[serde(rename = "path")]
    pub entry: String,
    /// currentTag before; JSON `from`.
    #[serde(rename = "from")]
    pub old_tag: Option<String>,
    /// Tag collected; JSON `to`.
    #[serde(rename = "to")]
    pub new_tag: String,
    /// Commit the tag points to.
    pub commit: String,
    /// `up-to-date` or `updated` for fetched components, `local` for components read in place.
    pub fetch: &'static str,
    /// Collected charts.
    pub charts: Vec<ChartReport>,
    /// Collected single files (`resourcePaths`).
    pub resources: Vec<String>,
    /// For a fetched component, when its cache was last fetched from the remote
    /// (`2026-12-01 10:00:00 UTC`): with `--offline`, the age of the tags collect chose from.
    pub fetched_at: Option<String>,
    /// The tag is the one collected before, but a chart's content at it differs: the tag moved
    /// upstream (same name, new commit), or the collected folder was edited here.
    pub tag_moved: bool,
    /// The commits between the old and the new tag (`git log --first-parent OLD..NEW`); `None`
    /// when the tag did not change.
    pub changelog: Option<Changelog>,
    /// Newer tags not collected, and why (outside baseVersion, pre-release, pinned, below
    /// currentTag): the newest of each kind.
    pub held_back: Vec<HeldBack>,
}

impl ComponentReport {
    /// Whether anything of the component changes: its tag, a chart, or the content at its tag.
    pub fn moved(&self) -> bool {
        self.old_tag.as_deref() != Some(self.new_tag.as_str())
            || self.tag_moved
            || self.charts.iter().any(|ch| ch.changed)
    }
}

/// One chart's outcome: `{"name", "path", "from", "to"}` ([`crate::report`]) and its images.
#[derive(Debug, Serialize)]
pub struct ChartReport {
    /// Chart name from Chart.yaml (the folder name when absent).
    pub name: String,
    /// Target folder, repo-relative.
    pub path: String,
    /// Chart.yaml version before (None for a new chart); JSON `from`.
    #[serde(rename = "from")]
    pub old_version: Option<String>,
    /// Chart.yaml version after; JSON `to`.
    #[serde(rename = "to")]
    pub new_version: Option<String>,
    /// Images the chart deploys now and did not before.
    pub images_added: Vec<String>,
    /// Images the chart deployed before and no longer does.
    pub images_removed: Vec<String>,
    /// Whether any file of the folder changes.
    pub changed: bool,
}

/// What phase 1 (fetch + read, in parallel) found for one component.
struct Fetched {
    tag: String,
    commit: gix::ObjectId,
    fetch: &'static str,
    fetched_at: Option<u64>,
    /// (source path in component repo, target folder, files)
    charts: Vec<(String, String, Files)>,
    /// (source path, target file, entry)
    resources: Vec<(String, String, FileEntry)>,
    changelog: Option<Changelog>,
    held_back: Vec<HeldBack>,
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

/// Run `git release collect`.
pub fn run(args: CollectArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Overrides {
        product: None,
        component_url: args.component_url.clone(),
    })?;
    let _lock = crate::journal::lock(&repo, "collect")?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    collect(&repo, &settings, &args, &mut out)
}

/// The whole collect, writing the human table (or JSON, or the diff) to `out`.
pub fn collect(
    repo: &gix::Repository,
    settings: &Settings,
    args: &CollectArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let workdir = git::workdir(repo)?;
    let repos_dir = crate::paths::abs(&workdir, &settings.repos_path);
    let mut lists = components::read_dir(&repos_dir, &settings.repos_path)?;
    let mut warnings = std::mem::take(&mut lists.warnings);
    let render_ctx = crate::charts::RenderContext::new(
        settings,
        std::fs::read(crate::paths::abs(&workdir, &settings.version_file))
            .ok()
            .as_deref(),
    );
    let extra_images: Vec<(String, String)> = lists
        .components
        .iter()
        .flat_map(components::Component::extra_images)
        .collect();

    let selected = select(&lists.components, &args.components)?;
    let pins = parse_pins(&args.pins, &lists.components)?;
    let bounds = git::bounds(repo)?;
    for c in &selected {
        validate_paths(c, settings, &bounds)?;
    }

    // Phase 1: fetch and read, in parallel. Nothing is written to the work tree here.
    let mut jobs = args.jobs.unwrap_or_else(default_jobs).max(1);
    if jobs > MAX_JOBS {
        eprintln!("note: --jobs {jobs} is more than collect runs at once; using {MAX_JOBS}");
        jobs = MAX_JOBS;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("starting worker threads")?;
    let bar = crate::progress::bar(selected.len() as u64, "collect", !args.quiet && !args.json);
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
                    args,
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
    fail_all(errors, "components")?;
    check_targets(&selected, &fetched)?;

    // Tags after this run, for TagOfRepo(NAME): collected ones, else the entry's currentTag.
    let mut tag_by_name: BTreeMap<String, String> = BTreeMap::new();
    for c in &lists.components {
        if let Some(t) = &c.current_tag {
            tag_by_name.insert(c.name().to_string(), t.clone());
            tag_by_name.insert(c.repository_full_name.clone(), t.clone());
        }
    }
    // Tags before this run: what the collected folders were substituted with.
    let before_by_name = tag_by_name.clone();
    let before_of = |name: &str| before_by_name.get(name).cloned();
    for (c, f) in selected.iter().zip(&fetched) {
        tag_by_name.insert(c.name().to_string(), f.tag.clone());
        tag_by_name.insert(c.repository_full_name.clone(), f.tag.clone());
    }
    let tag_of = |name: &str| tag_by_name.get(name).cloned();

    // Phase 2: substitute placeholders, compute every change.
    let mut changes: Vec<Change> = Vec::new();
    let mut reports = Vec::new();
    // Every chart is checked before the first error is reported, so one run lists them all.
    let mut chart_errors: Vec<anyhow::Error> = Vec::new();
    let mut new_charts: BTreeMap<String, Files> = BTreeMap::new();
    let mut new_resources: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut old_charts: BTreeMap<String, Files> = BTreeMap::new();
    for (c, f) in selected.iter().zip(fetched.iter_mut()) {
        let mut chart_reports = Vec::new();
        let mut tag_moved = false;
        let same_tag = c.current_tag.as_deref() == Some(f.tag.as_str());
        for (src, target, files) in f.charts.iter_mut() {
            // The folder as the tag holds it, for telling a moved tag from moved placeholders.
            let raw = same_tag.then(|| files.clone());
            for (rel, entry) in files.iter_mut() {
                if entry.kind != FileKind::Symlink && placeholders::is_text(&entry.data) {
                    entry.data = placeholders::substitute(&entry.data, &f.tag, tag_of).map_err(|u| {
                        UserError::input(format!(
                            "component `{}` ({}): {src}/{rel}:{} at {}: `[[ TagOfRepo({}) ]]` names a repository not listed under {}",
                            c.repository_full_name,
                            c.location(),
                            u.line,
                            f.tag,
                            u.name,
                            settings.repos_path
                        ))
                        .hint("add that repository to a repos file (an entry with just repositoryFullName is enough)")
                    })?;
                }
            }
            let old = git::read_worktree(&crate::paths::abs(&workdir, target))?;
            let changed = old != *files;
            if changed {
                changes.push(Change::ReplaceDir {
                    path: target.clone(),
                    files: files.clone(),
                });
            }
            let chart_error = |e: &dyn std::fmt::Display, fix: &str| -> anyhow::Error {
                UserError::input(format!(
                    "component `{}` at {}: {src}/{e}",
                    c.repository_full_name, f.tag
                ))
                .hint(format!("{fix}; fix it in the component repository and tag a new release, or pin another tag with --tag"))
                .into()
            };
            let new_version = match crate::chart::meta::checked_version(files) {
                Ok(v) => v,
                Err(e) => {
                    chart_errors.push(chart_error(
                        &e,
                        "chart versions must be SemVer 2 (MAJOR.MINOR.PATCH, e.g. 1.2.0)",
                    ));
                    continue;
                }
            };
            // A chart version never goes down without being asked: on a release branch, a
            // cherry-pick may have bumped the chart above the component's tag.
            let parse = |v: &str| semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).ok();
            if let (Some(o), Some(n)) = (
                crate::chart::meta::of(&old)
                    .version
                    .as_deref()
                    .and_then(parse),
                new_version.as_deref().and_then(parse),
            ) {
                if n.cmp_precedence(&o).is_lt() && !args.allow_downgrade {
                    chart_errors.push(
                        UserError::input(format!(
                            "component `{}` at {}: chart {target} would go down from {o} to {n}",
                            c.repository_full_name, f.tag
                        ))
                        .hint("a fix on this branch probably bumped it (cherry-pick); tag a component release above it, or pass --allow-downgrade if the lower version is meant")
                        .into(),
                    );
                    continue;
                }
            }
            // Same tag, same placeholder values, other content: the tag's commit changed.
            let moved = match (&raw, changed && !old.is_empty()) {
                (Some(raw), true) => {
                    let mut then = raw.clone();
                    for entry in then.values_mut() {
                        if entry.kind != FileKind::Symlink && placeholders::is_text(&entry.data) {
                            if let Ok(d) = placeholders::substitute(&entry.data, &f.tag, before_of)
                            {
                                entry.data = d;
                            }
                        }
                    }
                    then != old
                }
                _ => false,
            };
            if moved {
                tag_moved = true;
                warnings.push(format!(
                    "{target}: tag {} is the one collected before, but its content differs: the tag moved upstream (or {target} was edited here); review the diff",
                    f.tag
                ));
            }
            // An unchanged chart adds and removes no image: it is not rendered here (the image
            // lists below render every chart once).
            let (new_images, old_images) = if changed {
                // Its warnings are reported once, by the image lists below.
                let new_images = match crate::charts::chart_image_set(
                    target,
                    files,
                    &render_ctx,
                    &mut Vec::new(),
                ) {
                    Ok(i) => i,
                    Err(e) => {
                        chart_errors.push(chart_error(&e, "the chart's YAML must be readable"));
                        continue;
                    }
                };
                let old_images =
                    crate::charts::chart_image_set(target, &old, &render_ctx, &mut Vec::new())
                        .unwrap_or_default();
                (new_images, old_images)
            } else {
                Default::default()
            };
            chart_reports.push(ChartReport {
                name: crate::chart::meta::of(files)
                    .name
                    .unwrap_or_else(|| target.rsplit('/').next().unwrap_or(target).to_string()),
                path: target.clone(),
                old_version: crate::chart::meta::of(&old).version,
                new_version: crate::chart::meta::of(files).version,
                images_added: new_images.difference(&old_images).cloned().collect(),
                images_removed: old_images.difference(&new_images).cloned().collect(),
                changed,
            });
            new_charts.insert(target.clone(), files.clone());
            old_charts.insert(target.clone(), old);
        }
        let mut resources = Vec::new();
        for (_src, target, entry) in f.resources.iter_mut() {
            if placeholders::is_text(&entry.data) {
                entry.data = placeholders::substitute(&entry.data, &f.tag, tag_of).map_err(|u| {
                    UserError::input(format!(
                        "component `{}`: {}:{}: `[[ TagOfRepo({}) ]]` names a repository not listed",
                        c.repository_full_name, _src, u.line, u.name
                    ))
                })?;
            }
            let old = git::read_worktree(&crate::paths::abs(&workdir, target))?;
            if old.get("") != Some(entry) {
                changes.push(Change::WriteFile {
                    path: target.clone(),
                    entry: entry.clone(),
                });
            }
            new_resources.insert(target.clone(), entry.data.clone());
            resources.push(target.clone());
        }
        reports.push(ComponentReport {
            repository: c.repository_full_name.clone(),
            name: c.name().to_string(),
            entry: c.location(),
            old_tag: c.current_tag.clone(),
            new_tag: f.tag.clone(),
            commit: f.commit.to_string(),
            fetch: f.fetch,
            charts: chart_reports,
            resources,
            fetched_at: f.fetched_at.map(fetch::utc_time),
            tag_moved,
            changelog: f.changelog.take(),
            held_back: std::mem::take(&mut f.held_back),
        });
    }

    fail_all(chart_errors, "charts")?;

    // currentTag in the repos files.
    let mut repo_texts = lists.texts.clone();
    for (c, f) in selected.iter().zip(&fetched) {
        if c.current_tag.as_deref() == Some(f.tag.as_str()) {
            continue;
        }
        let text = repo_texts
            .get_mut(&c.file)
            .expect("component file was read");
        let mut path = c.path.clone();
        path.push(Seg::Key("currentTag".into()));
        *text = yaml_edit::set_scalar(text, &path, &f.tag, Some("repositoryFullName")).map_err(
            |e| {
                UserError::input(format!("{}: {e}", c.file))
                    .hint("edit currentTag by hand or rewrite the entry in block style")
            },
        )?;
    }
    for (file, text) in &repo_texts {
        if lists.texts.get(file) != Some(text) {
            changes.push(text_change(&workdir, file, text)?);
        }
    }

    // version.yml
    let version_changes = update_version_file(&workdir, settings, &new_charts, &mut warnings)?;
    changes.extend(version_changes);

    // Image lists, from every chart and resource file in the final state.
    let mut resource_files = BTreeMap::new();
    for c in &lists.components {
        for t in c.resource_targets(&settings.addons_path) {
            let data = match new_resources.get(&t) {
                Some(d) => d.clone(),
                None => match std::fs::read(workdir.join(&t)) {
                    Ok(d) => d,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e).with_context(|| format!("reading {t}")),
                },
            };
            resource_files.insert(t, data);
        }
    }
    changes.extend(update_image_lists(
        &workdir,
        settings,
        &new_charts,
        &resource_files,
        &extra_images,
        &render_ctx,
        &mut warnings,
    )?);

    let changed_paths: Vec<String> = changes.iter().map(|c| c.path().to_string()).collect();

    // Refuse to overwrite uncommitted work (a dry run prints its plan first, then refuses too).
    let paths: Vec<&str> = changed_paths.iter().map(String::as_str).collect();
    let refusal = worktree::uncommitted_refusal(repo, &paths, "collect")?;
    if let (Some(r), false) = (&refusal, args.dry_run) {
        return Err(r.clone().into());
    }

    if args.offline {
        if let Some((c, at)) = selected
            .iter()
            .zip(&fetched)
            .filter_map(|(c, f)| f.fetched_at.map(|t| (c, t)))
            .min_by_key(|(_, t)| *t)
        {
            let age = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                .saturating_sub(at);
            warnings.push(format!(
                "--offline: tags are as last fetched; the oldest cache ({}) was fetched {} ({} ago); run without --offline to refresh",
                c.repository_full_name,
                fetch::utc_time(at),
                human_age(age)
            ));
        }
    }

    let mut report = Report {
        components: reports,
        changed_paths,
        warnings,
        dry_run: args.dry_run,
        commit: None,
    };

    if let Some(path) = &args.changelog {
        write_changelog(path, &report)?;
    }
    if args.dry_run {
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        } else {
            print_table(&report, args.all, args.log, out)?;
            for ch in &changes {
                worktree::write_diff(&workdir, ch, out)?;
            }
            print_warnings(&report.warnings);
        }
        return match refusal {
            Some(r) => Err(r
                .hint("the dry run above shows what collect would write once they are committed or stashed (`git stash --all`)")
                .into()),
            None => Ok(()),
        };
    }

    if !changes.is_empty() {
        let message = args.commit.then(|| commit_message(&report));
        let id = crate::commit::apply_and_commit(
            repo,
            "collect",
            &changes,
            message.as_deref(),
            !args.no_verify,
        )?;
        report.commit = id.map(|id| id.to_string());
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        if report.components.is_empty() {
            writeln!(
                out,
                "nothing to collect: {}/ lists no component",
                settings.repos_path
            )?;
        } else {
            print_table(&report, args.all, args.log, out)?;
            if changes.is_empty() {
                writeln!(
                    out,
                    "nothing to change: every component is at its newest release tag"
                )?;
            } else {
                writeln!(out, "{} path(s) changed", changes.len())?;
            }
        }
        if let Some(c) = &report.commit {
            writeln!(out, "committed {}", &c[..c.len().min(12)])?;
        }
        print_warnings(&report.warnings);
    }
    Ok(())
}

/// Nothing when `errors` is empty; the error itself when there is one; otherwise every error
/// (with its hint) on stderr, then `N <what> failed; nothing was written` with the first one's
/// exit kind.
fn fail_all(mut errors: Vec<anyhow::Error>, what: &str) -> Result<()> {
    if errors.len() <= 1 {
        return errors.pop().map_or(Ok(()), Err);
    }
    for e in &errors {
        eprintln!("error: {e:#}");
        if let Some(h) = e
            .chain()
            .find_map(|c| c.downcast_ref::<UserError>())
            .and_then(|u| u.hint.as_ref())
        {
            eprintln!("hint: {h}");
        }
    }
    let kind = errors[0]
        .chain()
        .find_map(|c| c.downcast_ref::<UserError>())
        .map_or(crate::error::ExitKind::Failure, |u| u.kind);
    Err(UserError {
        message: format!("{} {what} failed; nothing was written", errors.len()),
        hint: None,
        kind,
        in_json_output: false,
    }
    .into())
}

fn print_warnings(w: &[String]) {
    for m in w {
        eprintln!("warning: {m}");
    }
}

/// The components named on the command line (all when none), in file order.
fn select<'a>(all: &'a [Component], names: &[String]) -> Result<Vec<&'a Component>> {
    if names.is_empty() {
        return Ok(all.iter().collect());
    }
    let mut out = Vec::new();
    for n in names {
        let found: Vec<&Component> = all
            .iter()
            .filter(|c| c.repository_full_name == *n || c.name() == n)
            .collect();
        match found.len() {
            0 => {
                let mut e =
                    UserError::input(format!("no component named `{n}` in the repos files"));
                if let Some(s) = crate::cli::suggest(n, all.iter().map(|c| c.name())) {
                    e = e.hint(format!("did you mean `{s}`?"));
                }
                return Err(e.into());
            }
            1 => {
                if !out.iter().any(|c: &&Component| std::ptr::eq(*c, found[0])) {
                    out.push(found[0]);
                }
            }
            _ => {
                return Err(UserError::input(format!(
                    "`{n}` names several components: {}",
                    found
                        .iter()
                        .map(|c| c.repository_full_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .hint("use the full name owner/name")
                .into())
            }
        }
    }
    Ok(out)
}

/// Two entries must not write the same folder or file, nor one inside the other: the last would
/// silently win (seen with two entries collecting `charts/metrics-server`).
fn check_targets(selected: &[&Component], fetched: &[Fetched]) -> Result<()> {
    let mut owners: BTreeMap<&str, &Component> = BTreeMap::new();
    for (c, f) in selected.iter().zip(fetched) {
        let targets = f
            .charts
            .iter()
            .map(|(_, t, _)| t.as_str())
            .chain(f.resources.iter().map(|(_, t, _)| t.as_str()));
        for t in targets {
            let clash = owners.iter().find(|(o, _)| {
                **o == t || t.starts_with(&format!("{o}/")) || o.starts_with(&format!("{t}/"))
            });
            if let Some((o, other)) = clash {
                return Err(UserError::input(format!(
                    "{} ({}) and {} ({}) both write `{}`",
                    c.repository_full_name,
                    c.location(),
                    other.repository_full_name,
                    other.location(),
                    if **o == *t { t } else { o }
                ))
                .hint(
                    "give one of them another targetChartPath, or remove the duplicate chart path",
                )
                .into());
            }
            owners.insert(t, c);
        }
    }
    Ok(())
}

fn parse_pins<'a>(pins: &'a [String], all: &[Component]) -> Result<BTreeMap<String, &'a str>> {
    let mut out = BTreeMap::new();
    for p in pins {
        let Some((name, tag)) = p.split_once('=') else {
            return Err(UserError::input(format!("--tag `{p}`: expected COMPONENT=TAG")).into());
        };
        let comp = select(all, &[name.to_string()])?;
        out.insert(comp[0].repository_full_name.clone(), tag);
    }
    Ok(out)
}

/// Reject chart and resource paths that leave the component repo, and targets that leave ours or
/// land in a git directory (`targetPath: .git/hooks` would make collect write a hook that the next
/// `git commit` runs). Every error names the repos file and line. Runs before anything is fetched.
fn validate_paths(c: &Component, settings: &Settings, bounds: &Bounds) -> Result<()> {
    let check = |key: &str, what: &str, p: &str| -> Result<()> {
        if p.starts_with('/') || p.split('/').any(|s| s == "..") {
            return Err(UserError::input(format!(
                "{}: {what} `{p}` of `{}` escapes the repository",
                c.field_location(key),
                c.repository_full_name
            ))
            .hint("paths are relative to the repository root and may not contain `..`")
            .into());
        }
        Ok(())
    };
    let target_problem = |key: &str, what: &str, target: &str| -> Result<()> {
        if let Some(problem) = bounds.problem(target) {
            return Err(UserError::input(format!(
                "{}: {what} of `{}` would be written to `{target}`, which {problem}",
                c.field_location(key),
                c.repository_full_name
            ))
            .hint(
                "collect writes only inside the work tree and never into .git; fix the repos file",
            )
            .into());
        }
        Ok(())
    };
    for p in [&c.target_chart_path, &c.target_path].into_iter().flatten() {
        let key = if c.target_chart_path.as_ref() == Some(p) {
            "targetChartPath"
        } else {
            "targetPath"
        };
        check(key, "target path", p)?;
    }
    for p in &c.chart_paths {
        check("chartPaths", "chart path", p)?;
        let src = settings::normalize_rel_path(p)?;
        if src.is_empty() {
            return Err(UserError::input(format!(
                "{}: chart path `{p}` is the repository root; name the chart folder",
                c.field_location("chartPaths")
            ))
            .into());
        }
        let key = if c.target_chart_path.is_some() {
            "targetChartPath"
        } else {
            "chartPaths"
        };
        target_problem(
            key,
            &format!("chart `{src}`"),
            &c.chart_target(&settings.addons_path, &src)?,
        )?;
    }
    for p in &c.resource_paths {
        check("resourcePaths", "resource path", p)?;
        let src = settings::normalize_rel_path(p)?;
        let key = if c.target_path.is_some() {
            "targetPath"
        } else {
            "resourcePaths"
        };
        target_problem(
            key,
            &format!("resource `{src}`"),
            &c.resource_target(&settings.addons_path, &src)?,
        )?;
    }
    Ok(())
}

/// `3 h`, `2 d`: a rough age for messages.
fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

fn fetch_component(
    c: &Component,
    settings: &Settings,
    workdir: &Path,
    git_dir: &Path,
    args: &CollectArgs,
    pin: Option<&&str>,
    interrupt: &AtomicBool,
) -> Result<Fetched> {
    let url = component_url(c, settings);
    let location = fetch::locate(&url, workdir);
    let cache = fetch::cache_dir(git_dir, &c.repository_full_name, &url);
    let fetch = match &location {
        Location::Local(_) => "local",
        Location::Remote(_) if args.offline => "offline",
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
    let newest = versions::pick(releases.iter().copied(), base.as_ref(), args.pre);
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
        if let (Some(cur), Some(v)) = (&current, &t.version) {
            if v.cmp_precedence(cur).is_lt() && !args.allow_downgrade {
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
        match (newest, &current) {
            (None, _) => {
                let within = c
                    .base_version
                    .as_deref()
                    .map(|b| format!(" within baseVersion {b}"))
                    .unwrap_or_default();
                return Err(UserError::input(format!(
                    "no release tag{within} in {url} ({} tags, none SemVer{})",
                    tags.len(),
                    if args.pre { "" } else { " without pre-release" }
                ))
                .hint("tag a release (vX.Y.Z), pass --pre for pre-releases, or set tagPrefix for prefixed tags")
                .into());
            }
            (Some((name, v)), Some(cur))
                if v.cmp_precedence(cur).is_lt() && !args.allow_downgrade =>
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
    let (commit, tree) = crepo.peel_tag(&tag)?;
    let held_back = match releases.iter().find(|(n, _)| *n == tag) {
        Some(&(n, v)) => {
            changelog::held_back(&releases, (n, v), base.as_ref(), args.pre, candidate)
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
            Ok((old_commit, _)) => {
                changelog::between(&crepo.repo, old_commit, commit, CHANGELOG_LIMIT)?
            }
            Err(_) => Changelog {
                note: Some(format!(
                    "currentTag {old} is not a tag of the component repository (deleted upstream?)"
                )),
                ..Default::default()
            },
        }),
    };
    let crepo = &crepo.repo;
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
        let target = c.chart_target(&settings.addons_path, &src)?;
        charts.push((src, target, files));
    }
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
        let target = c.resource_target(&settings.addons_path, &src)?;
        resources.push((src, target, entry));
    }
    Ok(Fetched {
        tag,
        commit,
        fetch,
        fetched_at,
        charts,
        resources,
        changelog,
        held_back,
    })
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
    let mut tags: Vec<(Option<semver::Version>, String)> = crepo
        .tags(c.tag_prefix.as_deref())?
        .into_iter()
        .map(|t| (t.version, t.name))
        .collect();
    // Newest release first, names without a version last.
    tags.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(tags.into_iter().map(|t| t.1).collect())
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

/// A changed text file the user owns (a repos file, version.yml, an image list), written with
/// the mode it has. A symlink is refused: replacing it would turn the link into a file (or, worse,
/// a link to its own text), and writing through it could reach outside the work tree.
fn text_change(workdir: &Path, rel: &str, text: &str) -> Result<Change> {
    let kind = match git::read_worktree(&workdir.join(rel))?.remove("") {
        Some(e) if e.kind == FileKind::Symlink => {
            return Err(UserError::input(format!(
                "{rel} is a symlink (to `{}`); collect edits this file in place and will not replace a link",
                String::from_utf8_lossy(&e.data)
            ))
            .hint("replace the link by the file itself, or point the setting (release.versionFile, release.reposPath, release.imagesPath) at the real file")
            .into())
        }
        Some(e) => e.kind,
        None => FileKind::Regular,
    };
    Ok(Change::WriteFile {
        path: rel.to_string(),
        entry: FileEntry {
            kind,
            data: text.as_bytes().to_vec(),
        },
    })
}

/// Set `spec.modules[].addons[].version` of every collected chart in place. Addons absent from the
/// file are reported, never invented.
fn update_version_file(
    workdir: &Path,
    settings: &Settings,
    charts: &BTreeMap<String, Files>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Change>> {
    let rel = &settings.version_file;
    let path = workdir.join(rel);
    if charts.is_empty() {
        return Ok(Vec::new());
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warnings.push(format!(
                "{rel} does not exist; addon versions were not recorded"
            ));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
    };
    let mut versions = BTreeMap::new();
    for (target, files) in charts {
        let Some(version) = crate::chart::meta::of(files).version else {
            warnings.push(format!(
                "{target}: no Chart.yaml version; {rel} not updated for it"
            ));
            continue;
        };
        let name = crate::chart::meta::of(files).name_or_folder(target);
        versions.insert(name, version);
    }
    let (new_text, missing) = crate::derived::version_yml(rel, &text, &versions)?;
    for name in missing {
        let target = charts
            .iter()
            .find(|(t, f)| crate::chart::meta::of(f).name_or_folder(t) == name)
            .map_or("", |(t, _)| t.as_str());
        warnings.push(format!(
            "addon `{name}` ({target}, version {}) is not listed in {rel}; add it under spec.modules[].addons[]",
            versions[&name]
        ));
    }
    if new_text == text {
        return Ok(Vec::new());
    }
    Ok(vec![text_change(workdir, rel, &new_text)?])
}

/// Regenerate `images_platform.list` from every chart (collected ones as they will be, others as
/// they are) and merge the charts' own `images_<kind>.list` files into `images/images_<kind>.list`.
fn update_image_lists(
    workdir: &Path,
    settings: &Settings,
    new_charts: &BTreeMap<String, Files>,
    resources: &BTreeMap<String, Vec<u8>>,
    extra: &[(String, String)],
    ctx: &crate::charts::RenderContext,
    warnings: &mut Vec<String>,
) -> Result<Vec<Change>> {
    let mut roots = Vec::new();
    crate::charts::worktree_chart_roots(workdir, &settings.addons_path, &mut roots)?;
    let mut all: BTreeMap<String, std::borrow::Cow<'_, Files>> = BTreeMap::new();
    for r in roots {
        let replaced = new_charts
            .keys()
            .any(|t| r == *t || r.starts_with(&format!("{t}/")));
        if !replaced {
            let files = git::read_worktree(&workdir.join(&r))?;
            all.insert(r, std::borrow::Cow::Owned(files));
        }
    }
    for (t, f) in new_charts {
        all.insert(t.clone(), std::borrow::Cow::Borrowed(f));
    }
    let lists = crate::charts::image_lists(
        all.iter().map(|(r, f)| (r.as_str(), f.as_ref())),
        resources.iter().map(|(p, d)| (p.as_str(), d.as_slice())),
        extra,
        ctx,
    )
    .map_err(|(root, e)| UserError::input(format!("{root}/{e}")))?;
    warnings.extend(
        lists
            .warnings
            .into_iter()
            .map(|(root, m)| format!("{root}: {m}")),
    );
    let mut changes = Vec::new();
    for (kind, set) in lists.kinds {
        let rel = crate::derived::list_path(settings, &kind);
        let text = crate::image::list::text(&set);
        let old = std::fs::read(workdir.join(&rel)).ok();
        if old.as_deref() != Some(text.as_bytes()) {
            changes.push(text_change(workdir, &rel, &text)?);
        }
    }
    Ok(changes)
}

/// The table (changed components; every one with `all`), the count of unchanged ones, the tags
/// held back, and with `log` the commits of each component that moved.
fn print_table(r: &Report, all: bool, log: bool, out: &mut dyn Write) -> Result<()> {
    let shown: Vec<&ComponentReport> = r.components.iter().filter(|c| all || c.moved()).collect();
    if !shown.is_empty() {
        write_rows(&shown, out)?;
    }
    let unchanged = r.components.iter().filter(|c| !c.moved()).count();
    if unchanged > 0 && !all {
        writeln!(out, "{unchanged} component(s) unchanged (--all lists them)")?;
    }
    for c in &r.components {
        for h in &c.held_back {
            writeln!(
                out,
                "held back: {} {} ({})",
                c.name,
                h.tag,
                held_reason(h.reason)
            )?;
        }
    }
    if log {
        for c in shown {
            let Some(cl) = &c.changelog else { continue };
            writeln!(out)?;
            writeln!(
                out,
                "{} {} -> {}: {}",
                c.repository,
                c.old_tag.as_deref().unwrap_or("(none)"),
                c.new_tag,
                changelog_summary(cl)
            )?;
            for line in changelog_lines(cl) {
                writeln!(out, "  {line}")?;
            }
        }
    }
    Ok(())
}

/// Why a tag was held back, in words (with what to do).
fn held_reason(r: HeldReason) -> &'static str {
    match r {
        HeldReason::OutsideBaseVersion => "outside baseVersion; change baseVersion to move lines",
        HeldReason::PreRelease => "pre-release; --pre takes it",
        HeldReason::Pinned => "newest candidate; --tag pinned another",
        HeldReason::BelowCurrentTag => "below currentTag, kept; --allow-downgrade takes it",
    }
}

/// `3 commits`, `no commits`, or the note.
fn changelog_summary(cl: &Changelog) -> String {
    if let Some(n) = &cl.note {
        return n.clone();
    }
    match cl.commits.len() + cl.more {
        0 => "no commits (the tags point to the same history)".into(),
        1 => "1 commit".into(),
        n => format!("{n} commits"),
    }
}

/// One line per commit: `1a2b3c4d5e6f subject (author)`, merges with what they bring.
fn changelog_lines(cl: &Changelog) -> Vec<String> {
    let mut out: Vec<String> = cl
        .commits
        .iter()
        .map(|x| {
            let merged = x
                .merged
                .map(|n| format!(" [merge: {n} commit(s)]"))
                .unwrap_or_default();
            format!("{} {}{merged} ({})", &x.id[..12], x.subject, x.author)
        })
        .collect();
    if cl.more > 0 {
        out.push(format!("… and {} more", cl.more));
    }
    out
}

/// The review as Markdown (`--changelog FILE`): a table of what moved, each component's commits,
/// and the tags held back.
fn markdown(r: &Report) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut md = String::from("## Collected components\n\n");
    let moved: Vec<&ComponentReport> = r.components.iter().filter(|c| c.moved()).collect();
    if moved.is_empty() {
        md.push_str("Every component is at its newest release tag.\n");
    } else {
        md.push_str("| component | tag | charts |\n|---|---|---|\n");
        for c in &moved {
            let charts = chart_moves(c, "→");
            md.push_str(&format!(
                "| {} | {} → {} | {} |\n",
                cell(&c.repository),
                c.old_tag.as_deref().unwrap_or("(none)"),
                c.new_tag,
                cell(&charts.join(", "))
            ));
        }
        for c in &moved {
            let Some(cl) = &c.changelog else { continue };
            md.push_str(&format!(
                "\n### {} {} → {}\n\n",
                c.repository,
                c.old_tag.as_deref().unwrap_or("(none)"),
                c.new_tag
            ));
            if cl.note.is_some() || cl.commits.is_empty() {
                md.push_str(&format!("{}\n", changelog_summary(cl)));
            }
            for x in &cl.commits {
                let merged = x
                    .merged
                    .map(|n| format!(" (merge, {n} commits)"))
                    .unwrap_or_default();
                md.push_str(&format!(
                    "- `{}` {}{merged} — {}\n",
                    &x.id[..12],
                    x.subject,
                    x.author
                ));
            }
            if cl.more > 0 {
                md.push_str(&format!("- … and {} more\n", cl.more));
            }
        }
    }
    let held: Vec<String> = r
        .components
        .iter()
        .flat_map(|c| {
            c.held_back.iter().map(move |h| {
                format!(
                    "- {}: `{}` ({})\n",
                    c.repository,
                    h.tag,
                    held_reason(h.reason)
                )
            })
        })
        .collect();
    if !held.is_empty() {
        md.push_str("\n### Held back\n\n");
        md.push_str(&held.concat());
    }
    let unchanged = r.components.len() - moved.len();
    if unchanged > 0 {
        md.push_str(&format!("\n{unchanged} component(s) unchanged.\n"));
    }
    md
}

/// Write `--changelog FILE` whole or not at all (a temporary file beside it, then a rename).
fn write_changelog(path: &Path, r: &Report) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("--changelog: cannot write in {}", dir.display()))?;
    tmp.write_all(markdown(r).as_bytes())?;
    tmp.persist(path)
        .with_context(|| format!("--changelog: writing {}", path.display()))?;
    Ok(())
}

fn write_rows(components: &[&ComponentReport], out: &mut dyn Write) -> Result<()> {
    let mut rows = vec![[
        "COMPONENT".to_string(),
        "TAG".to_string(),
        "CHART".to_string(),
        "VERSION".to_string(),
        "IMAGES".to_string(),
    ]];
    let arrow = |a: Option<&str>, b: Option<&str>| -> String {
        match (a, b) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (a, b) => format!("{} -> {}", a.unwrap_or("(none)"), b.unwrap_or("(none)")),
        }
    };
    for c in components {
        let mut tag = arrow(c.old_tag.as_deref(), Some(&c.new_tag));
        if c.tag_moved {
            tag.push_str(" (moved upstream)");
        }
        if c.charts.is_empty() {
            rows.push([
                c.name.clone(),
                tag.clone(),
                c.resources.join(" "),
                String::new(),
                String::new(),
            ]);
        }
        for ch in &c.charts {
            let images = if ch.images_added.is_empty() && ch.images_removed.is_empty() {
                String::new()
            } else {
                format!("+{} -{}", ch.images_added.len(), ch.images_removed.len())
            };
            rows.push([
                c.name.clone(),
                tag.clone(),
                ch.path.clone(),
                arrow(ch.old_version.as_deref(), ch.new_version.as_deref()),
                images,
            ]);
        }
    }
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    crate::table::write_table(out, &rows)?;
    Ok(())
}

/// `name old ARROW new` of each chart of `c` whose version changes (`(new)` for a new chart).
fn chart_moves(c: &ComponentReport, arrow: &str) -> Vec<String> {
    c.charts
        .iter()
        .filter(|ch| ch.old_version != ch.new_version)
        .map(|ch| {
            format!(
                "{} {} {arrow} {}",
                ch.name,
                ch.old_version.as_deref().unwrap_or("(new)"),
                ch.new_version.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

/// Most changelog lines per component in a `--commit` message.
const COMMIT_LOG_LINES: usize = 20;

fn commit_message(r: &Report) -> String {
    let bumps: Vec<&ComponentReport> = r.components.iter().filter(|c| c.moved()).collect();
    let mut msg = format!("collect: {} component(s)\n\n", bumps.len());
    for c in bumps {
        msg.push_str(&format!(
            "- {} {} -> {}",
            c.repository,
            c.old_tag.as_deref().unwrap_or("(none)"),
            c.new_tag
        ));
        let charts = chart_moves(c, "->");
        if !charts.is_empty() {
            msg.push_str(&format!(" (chart {})", charts.join(", ")));
        }
        msg.push('\n');
        // The commits, at most COMMIT_LOG_LINES per component: a commit message is read in a
        // terminal; `--changelog` has them all.
        if let Some(cl) = &c.changelog {
            let lines = changelog_lines(cl);
            let n = lines.len();
            for l in lines.into_iter().take(COMMIT_LOG_LINES) {
                msg.push_str(&format!("    {l}\n"));
            }
            if n > COMMIT_LOG_LINES {
                msg.push_str(&format!("    … {} more line(s)\n", n - COMMIT_LOG_LINES));
            }
        }
    }
    let held: Vec<String> = r
        .components
        .iter()
        .flat_map(|c| {
            c.held_back
                .iter()
                .map(move |h| format!("- {} {} ({})\n", c.repository, h.tag, held_reason(h.reason)))
        })
        .collect();
    if !held.is_empty() {
        msg.push_str("\nHeld back:\n");
        msg.push_str(&held.concat());
    }
    msg
}
