//! `git release collect`: copy component charts at their newest release tags into the platform
//! repo, update `currentTag`, `version.yml` and the image lists, in one atomic, reviewable change.
//!
//! Source: seed 002 ("更新组件 repo 版本", "更新组件 Chart 文件", "更新组件版本配置文件",
//! "更新平台镜像列表") and DOMAIN.md step 1.

use clap::Args;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::components::fetch::{self};
use crate::components::merge;
use crate::components::read::{self, Fetched};
use crate::components::{self, Component};
use crate::error::UserError;
use crate::files::Files;
use crate::git;
use crate::history::changelog::{Changelog, HeldBack, HeldReason};
use crate::paths::Bounds;
use crate::placeholders;
use crate::plan::Plan;
use crate::report::{Report, Warning};
use crate::settings::{self, Overrides, Settings};
use crate::worktree::{self, Change};
use crate::yaml_edit::{self, Seg};

/// `git release collect`
#[derive(Args, Debug, Default)]
pub struct CollectArgs {
    /// Components to collect, by repository name (`cyclone`) or full name (`muzi502/cyclone`) [default: all].
    #[arg(value_name = "COMPONENT")]
    pub components: Vec<String>,
    /// Fetch this many component repositories at once [default: twice the CPUs, 4 to 16; at most 64].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Use only the component cache in the git dir; never connect to a remote (a warning says when the cache was last fetched).
    #[arg(long)]
    pub offline: bool,
    /// Consider pre-release tags (v1.2.0-rc.1) too.
    #[arg(long)]
    pub pre: bool,
    /// Allow picking a tag lower than the entry's currentTag.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Where a collected file was changed both here and upstream, take upstream's version and
    /// drop the local change (the plan lists each file). Files only the work tree has are kept.
    #[arg(long)]
    pub theirs: bool,
    /// Collect COMPONENT at TAG instead of its newest release tag (repeatable).
    #[arg(long = "tag", value_name = "COMPONENT=TAG")]
    pub pins: Vec<String>,
    /// Write nothing; print the unified diff of every file that would change.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// `--commit` (the message lists each bump), `--no-verify`.
    #[command(flatten)]
    pub commit: crate::plan::CommitFlags,
    /// Override release.componentUrl for this run: a template with {repo}, {owner}, {name}.
    #[arg(long, value_name = "TEMPLATE")]
    pub component_url: Option<String>,
    /// No progress display.
    #[arg(short, long)]
    pub quiet: bool,
    /// Under the table, the commits each component moved by (first-parent, merges summarised).
    #[arg(long)]
    pub log: bool,
    /// Write the changes, commits and held-back tags as Markdown to FILE (a merge request
    /// description); written in dry runs too.
    #[arg(long, value_name = "FILE")]
    pub changelog: Option<std::path::PathBuf>,
    /// List every component in the table, unchanged ones too.
    #[arg(long)]
    pub all: bool,
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// One component's outcome: a version change in the shared vocabulary's shape
/// (`{"name", "path", "from", "to"}`, [`crate::report`]) with what came with it.
#[derive(Debug, Serialize)]
pub(crate) struct ComponentReport {
    /// `owner/name`.
    pub repository: String,
    /// `name`.
    pub name: String,
    /// Where the entry is: `repos/app.yaml:3`.
    pub path: String,
    /// currentTag before.
    pub from: Option<String>,
    /// Tag collected.
    pub to: String,
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
        self.from.as_deref() != Some(self.to.as_str()) || self.charts.iter().any(|ch| ch.changed)
    }
}

/// One chart's outcome: `{"name", "path", "from", "to"}` ([`crate::report`]) and its images.
#[derive(Debug, Serialize)]
pub(crate) struct ChartReport {
    /// Chart name from Chart.yaml (the folder name when absent).
    pub name: String,
    /// Target folder, repo-relative.
    pub path: String,
    /// Chart.yaml version before (None for a new chart).
    pub from: Option<String>,
    /// Chart.yaml version after.
    pub to: Option<String>,
    /// Images the chart deploys now and did not before.
    pub images_added: Vec<String>,
    /// Images the chart deployed before and no longer does.
    pub images_removed: Vec<String>,
    /// Whether any file of the folder changes.
    pub changed: bool,
    /// Files of the folder that differ from the component at its tag: local changes collect
    /// kept (a fix, a bump, dependencies vendored under `charts/`), sorted. With `--theirs`, the
    /// local changes it drops are in `dropped`.
    pub patched: Vec<String>,
    /// `--theirs`: files whose local change is replaced by upstream's.
    pub dropped: Vec<String>,
}

/// Run `git release collect`: [`plan`] (fetching into the component caches first), then
/// (unless `--dry-run`) write and commit, then report. A dry run prints the diff, then refuses
/// as the real run would (uncommitted changes).
pub fn run(args: CollectArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Overrides {
        product: None,
        component_url: args.component_url.clone(),
        no_render_cache: args.no_cache,
    })?;
    let _lock = crate::journal::lock(&repo, "collect")?;
    let workdir = git::workdir(&repo)?;
    let (mut report, writes, refusal) = plan(&repo, &settings, &args)?;
    report.dry_run = args.dry_run;
    if let (false, Some(r)) = (args.dry_run, &refusal) {
        return Err(r.clone().into());
    }
    if let Some(path) = &args.changelog {
        write_changelog(path, &report.data)?;
    }
    if !args.dry_run && !writes.is_empty() {
        report.commit = crate::plan::apply(&repo, &writes)?
            .commit
            .map(|id| id.to_string());
    }
    let (all, log) = (args.all, args.log);
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        if r.dry_run {
            print_table(&r.data, all, log, out)?;
            for ch in &writes.files {
                worktree::write_diff(&workdir, ch, out)?;
            }
            return Ok(());
        }
        if r.data.components.is_empty() {
            writeln!(
                out,
                "nothing to collect: {} lists no component",
                settings::repos_paths(&settings.repos_path)
                    .iter()
                    .map(|p| if workdir.join(p).is_dir() {
                        format!("{p}/")
                    } else {
                        p.to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        } else {
            print_table(&r.data, all, log, out)?;
            if writes.files.is_empty() {
                writeln!(
                    out,
                    "nothing to change: every component is at its newest release tag"
                )?;
            } else {
                writeln!(out, "{} path(s) changed", writes.files.len())?;
            }
        }
        if let Some(c) = &r.commit {
            writeln!(out, "committed {}", &c[..c.len().min(12)])?;
        }
        Ok(())
    })?;
    match refusal {
        Some(r) if args.dry_run => Err(r
            .hint("the dry run above shows what collect would write once they are committed or stashed (`git stash --all`)")
            .into()),
        _ => Ok(()),
    }
}

/// What collect changes, as `--json` prints it inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct CollectReport {
    /// One row per selected component.
    pub components: Vec<ComponentReport>,
    /// Repo-relative paths that change.
    pub changed_paths: Vec<String>,
}

/// The collect `args` asks for: fetch the components into their caches (phase 1, in parallel),
/// then compute every change (phase 2): the charts and resources at their new tags with
/// placeholders substituted, `currentTag` in the repos files, version.yml and the image lists.
/// Returns the report, the writes (with the commit of `--commit`) and the refusal a real run
/// gives when the paths it writes have uncommitted changes. Writes nothing to the work tree.
///
/// Errors: bad repos files or flags (exit 2); every component or chart that failed, listed.
pub(crate) fn plan(
    repo: &gix::Repository,
    settings: &Settings,
    args: &CollectArgs,
) -> Result<(Report<CollectReport>, Plan, Option<UserError>)> {
    let workdir = git::workdir(repo)?;
    let mut lists = components::read_paths(&workdir, settings)?;
    let selected = select(&lists.components, &args.components)?;
    let pins = parse_pins(&args.pins, &lists.components)?;
    let bounds = git::bounds(repo)?;
    for c in &selected {
        validate_paths(c, settings, &bounds)?;
    }
    let opts = read::Options {
        jobs: args.jobs,
        offline: args.offline,
        pre: args.pre,
        allow_downgrade: args.allow_downgrade,
        progress: !args.quiet && !args.json,
    };
    let mut fetched = read::read_all(repo, settings, &selected, &pins, &opts)?;
    check_targets(&selected, &fetched)?;

    let ctx = Ctx::new(
        repo,
        settings,
        &workdir,
        &lists.components,
        &selected,
        &fetched,
        args,
    );
    let mut c = Collected {
        warnings: std::mem::take(&mut lists.warnings),
        ..Default::default()
    };
    let mut reports = Vec::new();
    for (comp, f) in selected.iter().zip(fetched.iter_mut()) {
        reports.push(c.component(&ctx, comp, f)?);
    }
    c.chart_images(&ctx, &mut reports);
    crate::error::fail_all(std::mem::take(&mut c.chart_errors), "charts")?;
    if !c.conflicts.is_empty() {
        return Err(conflict_error(&c.conflicts).into());
    }
    // Chart folders, resource files and image lists are written whole: an uncommitted change
    // there (an ignored file too) would be lost, so collect refuses. Repos files and version.yml
    // are edited in place from the work tree: uncommitted edits there are kept (init's files
    // need no commit before the first collect).
    // The chart folders of the work tree, once for the image lists and version.yml.
    let mut roots = Vec::new();
    crate::chart::discover::worktree_chart_roots(&workdir, &settings.addons_path, &mut roots)?;
    let lists_changes = c.image_list_changes(&ctx, &roots, &lists.components)?;
    // An empty image list (as `init` writes it) holds nothing to lose.
    let holds_something =
        |rel: &str| std::fs::metadata(workdir.join(rel)).is_ok_and(|m| m.len() > 0);
    let whole: Vec<String> = c
        .changes
        .iter()
        .map(|c| c.path().to_string())
        .chain(
            lists_changes
                .iter()
                .map(|c| c.path().to_string())
                .filter(|p| holds_something(p)),
        )
        .collect();
    let whole: Vec<&str> = whole.iter().map(String::as_str).collect();
    let refusal = worktree::uncommitted_refusal(repo, &whole, "collect")?;
    let repos = repos_changes(&workdir, &lists, &selected, &fetched)?;
    c.changes.extend(repos);
    let version_changes = crate::derived::version_yml_change(
        &workdir,
        settings,
        &roots,
        &c.new_charts,
        &chart_modules(&lists.components, settings),
        &mut c.warnings,
    )?;
    c.changes.extend(version_changes);
    let product_changes =
        crate::derived::product_change(&workdir, settings, &c.new_charts, &mut c.warnings)?;
    c.changes.extend(product_changes);
    // A lock the repository keeps follows the lists: new images locked, gone ones dropped.
    if !args.offline {
        if let Some(change) =
            lock_change(repo, settings, &workdir, &lists_changes, &mut c.warnings)?
        {
            c.changes.push(change);
        }
    }
    c.changes.extend(lists_changes);

    let changed_paths: Vec<String> = c.changes.iter().map(|c| c.path().to_string()).collect();
    let mut c_warnings = std::mem::take(&mut c.warnings);
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
            c_warnings.push(format!(
                "--offline: tags are as last fetched; the oldest cache ({}) was fetched {} ({} ago); run without --offline to refresh",
                c.repository_full_name,
                fetch::utc_time(at),
                read::human_age(age)
            ));
        }
    }

    let mut report = Report::new(
        "collect",
        CollectReport {
            components: reports,
            changed_paths,
        },
    );
    report.warnings = c_warnings.into_iter().map(Warning::from).collect();
    let mut writes = Plan::new("collect");
    writes.commit = args.commit.intent(|| commit_message(&report.data));
    writes.files = c.changes;
    Ok((report, writes, refusal))
}

/// What phase 2 reads from: the repository, the settings, the work tree, the tags before and after this run
/// (for `[[ TagOfRepo(NAME) ]]`) and the render context of the image lists.
struct Ctx<'a> {
    repo: &'a gix::Repository,
    settings: &'a Settings,
    workdir: std::path::PathBuf,
    /// Tags after this run: collected ones, else the entry's currentTag (by name and full name).
    after: BTreeMap<String, String>,
    /// Tags before this run: what the collected folders were substituted with.
    before: BTreeMap<String, String>,
    render: crate::image::chart::RenderContext,
    extra_images: Vec<(String, String)>,
    allow_downgrade: bool,
    /// `--theirs`.
    theirs: bool,
}

impl<'a> Ctx<'a> {
    fn new(
        repo: &'a gix::Repository,
        settings: &'a Settings,
        workdir: &Path,
        all: &[Component],
        selected: &[&Component],
        fetched: &[Fetched],
        args: &CollectArgs,
    ) -> Self {
        let before = components::tags_by_name(all);
        let mut after = before.clone();
        for (c, f) in selected.iter().zip(fetched) {
            after.insert(c.name().to_string(), f.tag.clone());
            after.insert(c.repository_full_name.clone(), f.tag.clone());
        }
        let render = crate::image::chart::RenderContext::new(
            settings,
            std::fs::read(crate::paths::abs(workdir, &settings.version_file))
                .ok()
                .as_deref(),
        )
        .with_cache(repo, settings);
        Ctx {
            repo,
            settings,
            workdir: workdir.to_path_buf(),
            after,
            before,
            render,
            extra_images: all.iter().flat_map(Component::extra_images).collect(),
            allow_downgrade: args.allow_downgrade,
            theirs: args.theirs,
        }
    }

    fn tag_after(&self, name: &str) -> Option<String> {
        self.after.get(name).cloned()
    }

    fn tag_before(&self, name: &str) -> Option<String> {
        self.before.get(name).cloned()
    }

    /// `files` of component `c` as read at its recorded `currentTag`, placeholders substituted
    /// with the tags of that time: the folder as the last collect wrote it (the three-way base).
    /// A placeholder that cannot be substituted is left as it is.
    fn as_collected(&self, c: &Component, files: &Files) -> Files {
        let tag = c.current_tag.as_deref().unwrap_or_default();
        let mut out = files.clone();
        let _ = placeholders::substitute_files(&mut out, tag, |n| self.tag_before(n));
        out
    }
}

/// What phase 2 accumulates over the components.
#[derive(Default)]
struct Collected {
    /// Work-tree changes.
    changes: Vec<Change>,
    /// Every chart is checked before the first error is reported, so one run lists them all.
    chart_errors: Vec<anyhow::Error>,
    /// Files changed both here and upstream that do not merge (paths from the work tree root).
    conflicts: Vec<merge::Conflict>,
    /// Collected charts as they will be, by target folder.
    new_charts: BTreeMap<String, Files>,
    /// Collected resource files as they will be, by target path.
    new_resources: BTreeMap<String, Vec<u8>>,
    /// Changed charts whose images are compared: (target folder, files before, what names
    /// the chart in an error: `component `x` at TAG: SRC`).
    images_todo: Vec<(String, Files, String)>,
    warnings: Vec<String>,
}

impl Collected {
    /// Phase 2 for component `c` as `f` read it: placeholders substituted, each chart and
    /// resource merged three ways with the work tree ([`merge::folder`]), its changes and new files
    /// recorded.
    ///
    /// Errors: a `TagOfRepo` naming an unlisted repository (exit 2). A chart that cannot be
    /// collected is recorded in `chart_errors`, a file that does not merge in `conflicts`, so that
    /// one run lists them all.
    fn component(&mut self, ctx: &Ctx, c: &Component, f: &mut Fetched) -> Result<ComponentReport> {
        let mut chart_reports = Vec::new();
        for (src, target, files) in f.charts.iter_mut() {
            let base = f.base.get(target.as_str());
            if let Some(report) = self.chart(ctx, c, &f.tag, src, target, files, base)? {
                chart_reports.push(report);
            }
        }
        let mut resources = Vec::new();
        for (src, target, entry) in f.resources.iter_mut() {
            if placeholders::is_text(&entry.data) {
                entry.data = placeholders::substitute(&entry.data, &f.tag, |n| ctx.tag_after(n)).map_err(|u| {
                    UserError::input(format!(
                        "component `{}`: {}:{}: `[[ TagOfRepo({}) ]]` names a repository not listed",
                        c.repository_full_name, src, u.line, u.name
                    ))
                })?;
            }
            let theirs = Files::from([(String::new(), entry.clone())]);
            let base = f.base.get(target.as_str()).map(|b| ctx.as_collected(c, b));
            let old = git::read_worktree(&crate::paths::abs(&ctx.workdir, target))?;
            let merged = merge::folder(base.as_ref(), &old, &theirs, ctx.theirs);
            self.note_conflicts(target, merged.conflicts);
            let Some(result) = merged.files.get("").cloned() else {
                continue;
            };
            let changed = old.get("") != Some(&result);
            if changed {
                self.changes.push(Change::WriteFile {
                    path: target.clone(),
                    entry: result.clone(),
                });
            }
            // A single-file addon (the caicloud layout) is reported like a chart: its
            // `_metadata.version` before and after, its images.
            if let Some(meta) = crate::chart::meta::addon_file(&result.data) {
                let new_files = Files::from([(String::new(), result.clone())]);
                if changed {
                    let at = format!("component `{}` at {}: {src}", c.repository_full_name, f.tag);
                    self.images_todo.push((target.clone(), old.clone(), at));
                }
                chart_reports.push(ChartReport {
                    name: meta.name_or_folder(target),
                    path: target.clone(),
                    from: crate::chart::meta::of(&old).version,
                    to: meta.version.clone(),
                    images_added: Vec::new(),
                    images_removed: Vec::new(),
                    changed,
                    patched: if result != *entry {
                        vec![target.rsplit('/').next().unwrap_or(target).to_string()]
                    } else {
                        Vec::new()
                    },
                    dropped: merged.dropped.clone(),
                });
                self.new_charts.insert(target.clone(), new_files);
            }
            self.new_resources.insert(target.clone(), result.data);
            resources.push(target.clone());
        }
        Ok(ComponentReport {
            repository: c.repository_full_name.clone(),
            name: c.name().to_string(),
            path: c.location(),
            from: c.current_tag.clone(),
            to: f.tag.clone(),
            commit: f.commit.to_string(),
            fetch: f.fetch,
            charts: chart_reports,
            resources,
            fetched_at: f.fetched_at.map(fetch::utc_time),
            changelog: f.changelog.take(),
            held_back: std::mem::take(&mut f.held_back),
        })
    }

    /// `result` with its Chart.yaml at the next chart version no ref of this repository uses
    /// ([`crate::history::allocate`]); `None` when Chart.yaml cannot be edited in place.
    fn allocate(&mut self, ctx: &Ctx, target: &str, result: &Files) -> Result<Option<Files>> {
        let Some(entry) = result.get("Chart.yaml") else {
            return Ok(None);
        };
        let rel = crate::files::join(target, "Chart.yaml");
        let used = crate::history::allocate::UsedVersions::scan(ctx.repo, [&rel])?;
        let text = String::from_utf8_lossy(&entry.data);
        let Ok(edit) = crate::version_bump::edit_chart_yaml(&text, |v| {
            crate::history::allocate::next_free(v, |c| used.taken(&rel, &c.to_string(), None))
        }) else {
            return Ok(None);
        };
        self.warnings.push(format!(
            "{target}: merged with local changes, so it is no longer upstream's {}: version {} (the next free patch)",
            edit.old, edit.new
        ));
        let mut out = result.clone();
        out.insert(
            "Chart.yaml".into(),
            crate::files::FileEntry {
                kind: entry.kind,
                data: edit.text.into_bytes(),
            },
        );
        Ok(Some(out))
    }

    /// Record the files of `target` that do not merge, with paths from the work tree root.
    fn note_conflicts(&mut self, target: &str, conflicts: Vec<merge::Conflict>) {
        for mut c in conflicts {
            c.path = if c.path.is_empty() {
                target.to_string()
            } else {
                crate::files::join(target, &c.path)
            };
            self.conflicts.push(c);
        }
    }

    /// One chart of component `c` at `tag`, merged three ways with the work tree folder (base:
    /// the component at its recorded `currentTag`): `Ok(None)` when it cannot be collected (the
    /// reason is in `chart_errors` or `conflicts`), else its report.
    #[allow(clippy::too_many_arguments)]
    fn chart(
        &mut self,
        ctx: &Ctx,
        c: &Component,
        tag: &str,
        src: &str,
        target: &String,
        files: &mut Files,
        base: Option<&Files>,
    ) -> Result<Option<ChartReport>> {
        placeholders::substitute_files(files, tag, |n| ctx.tag_after(n)).map_err(|(rel, u)| {
            UserError::input(format!(
                "component `{}` ({}): {src}/{rel}:{} at {}: `[[ TagOfRepo({}) ]]` names a repository not listed under {}",
                c.repository_full_name,
                c.location(),
                u.line,
                tag,
                u.name,
                ctx.settings.repos_path
            ))
            .hint("add that repository to a repos file (an entry with just repositoryFullName is enough)")
        })?;
        let chart_error = |e: &dyn std::fmt::Display, fix: &str| -> anyhow::Error {
            UserError::input(format!(
                "component `{}` at {}: {src}/{e}",
                c.repository_full_name, tag
            ))
            .hint(format!("{fix}; fix it in the component repository and tag a new release, or pin another tag with --tag"))
            .into()
        };
        if let Err(e) = crate::chart::meta::checked_version(files) {
            self.chart_errors.push(chart_error(
                &e,
                "chart versions must be SemVer 2 (MAJOR.MINOR.PATCH, e.g. 1.2.0)",
            ));
            return Ok(None);
        }
        if let Err(e) = crate::chart::meta::checked_identity(files) {
            self.chart_errors.push(chart_error(
                &e,
                "every chart needs a SemVer `version` and a plain `name`, as Helm and package require",
            ));
            return Ok(None);
        }
        let old = git::read_worktree(&crate::paths::abs(&ctx.workdir, target))?;
        let base = base.map(|b| ctx.as_collected(c, b));
        let merged = merge::folder(base.as_ref(), &old, files, ctx.theirs);
        if !merged.conflicts.is_empty() {
            self.note_conflicts(target, merged.conflicts);
            return Ok(None);
        }
        let mut result = merged.files;
        let mut patched = merged.patched;
        // Merged (upstream moved and local changes kept) but at upstream's version: that name and
        // version would mean two contents. The allocator gives the next free patch.
        let upstream_moved = base.as_ref().is_some_and(|b| b != &*files);
        let merged_here = upstream_moved
            && base.as_ref().is_some_and(|b| b != &old)
            && result != *files
            && crate::chart::meta::of(&result).version == crate::chart::meta::of(files).version;
        if merged_here {
            if let Some(bumped) = self.allocate(ctx, target, &result)? {
                result = bumped;
                if !patched.iter().any(|p| p == "Chart.yaml") {
                    patched.push("Chart.yaml".into());
                    patched.sort();
                }
            }
        }
        let old_meta = crate::chart::meta::of(&old);
        let new_version = crate::chart::meta::of(&result).version;
        let changed = old != result;
        // A chart version never goes down without being asked (a lower tag pinned).
        let parse = |v: &str| semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).ok();
        if let (Some(o), Some(n)) = (
            old_meta.version.as_deref().and_then(parse),
            new_version.as_deref().and_then(parse),
        ) {
            if n.cmp_precedence(&o).is_lt() && !ctx.allow_downgrade {
                self.chart_errors.push(
                    UserError::input(format!(
                        "component `{}` at {}: chart {target} would go down from {o} to {n}",
                        c.repository_full_name, tag
                    ))
                    .hint("tag a component release above it, or pass --allow-downgrade if the lower version is meant")
                    .into(),
                );
                return Ok(None);
            }
        }
        if changed {
            self.changes.push(Change::ReplaceDir {
                path: target.clone(),
                files: result.clone(),
            });
        }
        // The images it adds and removes are found after every component, all charts rendered
        // in parallel (Collected::chart_images). An unchanged chart adds and removes none.
        if changed {
            let at = format!("component `{}` at {tag}: {src}", c.repository_full_name);
            self.images_todo.push((target.clone(), old, at));
        }
        let report = ChartReport {
            name: crate::chart::meta::of(&result).name_or_folder(target),
            path: target.clone(),
            from: old_meta.version,
            to: new_version,
            images_added: Vec::new(),
            images_removed: Vec::new(),
            changed,
            patched,
            dropped: merged.dropped,
        };
        self.new_charts.insert(target.clone(), result);
        Ok(Some(report))
    }

    /// Fill `images_added` and `images_removed` of the changed charts of `reports`: each
    /// changed chart rendered before and after, all in parallel (through the render cache, so the
    /// image lists below read them back). A chart whose new files cannot be read at all goes to
    /// `chart_errors`; its warnings are reported once, by the image lists.
    fn chart_images(&mut self, ctx: &Ctx, reports: &mut [ComponentReport]) {
        use rayon::prelude::*;
        let todo = std::mem::take(&mut self.images_todo);
        let (render, new_charts) = (&ctx.render, &self.new_charts);
        let found: Vec<_> = todo
            .par_iter()
            .map(|(target, old, at)| {
                let new = crate::image::chart::chart_image_set(
                    target,
                    &new_charts[target],
                    render,
                    &mut Vec::new(),
                );
                let old =
                    crate::image::chart::chart_image_set(target, old, render, &mut Vec::new())
                        .unwrap_or_default();
                (target, new, old, at)
            })
            .collect();
        let mut by_target = BTreeMap::new();
        for (target, new, old, at) in found {
            match new {
                Ok(new) => {
                    by_target.insert(target.clone(), (new, old));
                }
                Err(e) => self.chart_errors.push(
                    UserError::input(format!("{at}/{e}"))
                        .hint("the chart's YAML must be readable; fix it in the component repository and tag a new release, or pin another tag with --tag")
                        .into(),
                ),
            }
        }
        for ch in reports.iter_mut().flat_map(|r| r.charts.iter_mut()) {
            if let Some((new, old)) = by_target.get(&ch.path) {
                ch.images_added = new.difference(old).cloned().collect();
                ch.images_removed = old.difference(new).cloned().collect();
            }
        }
    }

    /// The image lists, from every chart and resource file in the final state.
    fn image_list_changes(
        &mut self,
        ctx: &Ctx,
        roots: &[String],
        all: &[Component],
    ) -> Result<Vec<Change>> {
        let mut inputs = components::ImageInputs {
            resources: Vec::new(),
            extra: ctx.extra_images.clone(),
        };
        for c in all {
            for t in c.resource_targets(ctx.settings.targets()) {
                let data = match self.new_resources.get(&t) {
                    Some(d) => d.clone(),
                    None => match std::fs::read(ctx.workdir.join(&t)) {
                        Ok(d) => d,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e).with_context(|| format!("reading {t}")),
                    },
                };
                inputs.resources.push((t, data));
            }
        }
        inputs.resources.sort();
        crate::derived::image_list_changes(
            &ctx.workdir,
            ctx.settings,
            roots,
            &self.new_charts,
            &inputs,
            &ctx.render,
            &mut self.warnings,
        )
    }
}

/// `<imagesPath>/images.lock` brought in line with the image lists as `changes` leave them,
/// when the work tree has a lock and `release.registry` is set: entries of images still listed
/// are kept as they are (that is what locking means), images new to the lists are looked up and
/// locked, images gone from them are dropped. `None` when nothing changes. An image that cannot
/// be locked (not pushed yet, its registry unreachable) is a warning; `check` reports it as
/// `image-not-locked`.
///
/// Errors: a lock that cannot be read (exit 2); registry credential errors.
fn lock_change(
    repo: &gix::Repository,
    settings: &Settings,
    workdir: &Path,
    changes: &[Change],
    warnings: &mut Vec<String>,
) -> Result<Option<Change>> {
    let rel = crate::files::join(&settings.images_path, crate::image::lock::FILE);
    let Ok(bytes) = std::fs::read(workdir.join(&rel)) else {
        return Ok(None);
    };
    if crate::registry::RegistryConfig::load(repo)?
        .registry
        .is_none()
    {
        return Ok(None);
    }
    let old = crate::image::lock::ImagesLock::parse(&rel, &bytes)?;
    // Every list as it will be: the changed ones from `changes`, the rest from the work tree.
    let mut listed = std::collections::BTreeSet::new();
    let dir = crate::paths::abs(workdir, &settings.images_path);
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if crate::image::list::kind(&name).is_some() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                texts.insert(crate::files::join(&settings.images_path, &name), text);
            }
        }
    }
    for ch in changes {
        match ch {
            Change::WriteFile { path, entry } => {
                texts.insert(
                    path.clone(),
                    String::from_utf8_lossy(&entry.data).into_owned(),
                );
            }
            Change::Remove { path } => {
                texts.remove(path);
            }
            Change::ReplaceDir { .. } => {}
        }
    }
    for t in texts.values() {
        listed.extend(crate::image::list::parse(t));
    }
    let mut lock = old.clone();
    lock.images.retain(|i, _| listed.contains(i));
    let new: std::collections::BTreeSet<String> = listed
        .iter()
        .filter(|i| !lock.images.contains_key(*i))
        .cloned()
        .collect();
    if !new.is_empty() {
        // Origins (images/images_origin.yaml) as committed; an unborn branch has none yet.
        let Ok(tree) = repo.head_tree_id().map(gix::Id::detach) else {
            return Ok(None);
        };
        let (found, not_locked) = crate::oci::lock::lock(repo, settings, tree, &new)?;
        lock.images.extend(found.images);
        for n in not_locked {
            warnings.push(format!("{rel}: not locked: {n}"));
        }
    }
    if lock == old {
        return Ok(None);
    }
    Ok(Some(Change::WriteFile {
        path: rel,
        entry: crate::files::FileEntry {
            kind: crate::files::FileKind::Regular,
            data: lock.render()?.into_bytes(),
        },
    }))
}

/// The version.yml module of each chart folder a component places (target -> module).
fn chart_modules(all: &[Component], settings: &Settings) -> BTreeMap<String, String> {
    all.iter()
        .flat_map(|c| {
            c.chart_paths.iter().filter_map(move |p| {
                let src = settings::normalize_rel_path(p).ok()?;
                let target = c.chart_target(settings.targets(), &src).ok()?;
                Some((target, c.module.clone()))
            })
        })
        .collect()
}

/// The refusal of a collect with files that do not merge: each file, why, and each hunk with
/// both sides (exit 3; nothing is written).
fn conflict_error(conflicts: &[merge::Conflict]) -> UserError {
    let mut msg = format!(
        "{} file(s) changed both here and upstream do not merge:",
        conflicts.len()
    );
    for c in conflicts {
        if c.hunks.is_empty() {
            msg.push_str(&format!("\n  {}: {}", c.path, c.reason));
        }
        for h in &c.hunks {
            msg.push_str(&format!("\n  {}:{}: {}", c.path, h.line, c.reason));
            for (side, text) in [("here    ", &h.ours), ("upstream", &h.theirs)] {
                for line in text.lines() {
                    msg.push_str(&format!("\n    {side} | {line}"));
                }
                if text.is_empty() {
                    msg.push_str(&format!("\n    {side} | (nothing)"));
                }
            }
        }
    }
    UserError::refused(msg).hint(
        "make the local change again on top of upstream's (edit the file so that it no longer conflicts, or commit the upstream version and reapply), or pass --theirs to take upstream's side and drop the local changes listed; nothing was written",
    )
}

/// `currentTag` of each collected component that moved, edited in place in its repos file.
///
/// Errors: an entry whose `currentTag` cannot be edited in place (exit 2).
fn repos_changes(
    workdir: &Path,
    lists: &components::ReposFiles,
    selected: &[&Component],
    fetched: &[Fetched],
) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut repo_texts = lists.texts.clone();
    // The edits of each file, made with one parse (yaml_edit::set_scalars); an error is found
    // again one edit at a time, to name its entry.
    type Edit<'c> = (&'c Component, Vec<Seg>, String);
    let mut edits: BTreeMap<&str, Vec<Edit>> = BTreeMap::new();
    let mut appends: Vec<(&Component, String)> = Vec::new();
    for (c, f) in selected.iter().zip(fetched) {
        if c.current_tag.as_deref() == Some(f.tag.as_str()) {
            continue;
        }
        let (file, path) = match &c.tag_at {
            // The collected tag is kept in the tags file (`release.tagsFile`).
            Some((file, Some(path))) => (file.as_str(), path.clone()),
            Some((_, None)) => {
                appends.push((c, f.tag.clone()));
                continue;
            }
            None => {
                let mut path = c.path.clone();
                path.push(Seg::Key(c.tag_key("currentTag").into()));
                (c.file.as_str(), path)
            }
        };
        edits
            .entry(file)
            .or_default()
            .push((c, path, f.tag.clone()));
    }
    for (file, file_edits) in edits {
        let text = repo_texts.get_mut(file).expect("component file was read");
        let batch: Vec<(Vec<Seg>, String)> = file_edits
            .iter()
            .map(|(_, p, v)| (p.clone(), v.clone()))
            .collect();
        if let Ok(t) = yaml_edit::set_scalars(text, &batch, Some("repositoryFullName")) {
            *text = t;
            continue;
        }
        for (c, path, tag) in &file_edits {
            *text = yaml_edit::set_scalar(text, path, tag, Some("repositoryFullName")).map_err(
                |e| {
                    UserError::input(format!("{}: {e}", c.file))
                        .hint("edit currentTag by hand or rewrite the entry in block style")
                },
            )?;
        }
    }
    for (c, tag) in appends {
        let Some((file, _)) = &c.tag_at else { continue };
        let text = repo_texts.entry(file.clone()).or_default();
        *text = components::append_tag_entry(file, text, c, &tag)?;
    }
    for (file, text) in &repo_texts {
        if lists.texts.get(file) != Some(text) {
            changes.push(crate::worktree::text_change(workdir, file, text)?);
        }
    }
    Ok(changes)
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
                if let Some(s) = crate::error::suggest(n, all.iter().map(|c| c.name())) {
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
            &c.chart_target(settings.targets(), &src)?,
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
            &c.resource_target(settings.targets(), &src)?,
        )?;
    }
    Ok(())
}

/// The table (changed components; every one with `all`), the count of unchanged ones, the tags
/// held back, and with `log` the commits of each component that moved.
fn print_table(r: &CollectReport, all: bool, log: bool, out: &mut dyn Write) -> Result<()> {
    let shown: Vec<&ComponentReport> = r.components.iter().filter(|c| all || c.moved()).collect();
    if !shown.is_empty() {
        write_rows(&shown, out)?;
    }
    let unchanged = r.components.iter().filter(|c| !c.moved()).count();
    if unchanged > 0 && !all {
        writeln!(out, "{unchanged} component(s) unchanged (--all lists them)")?;
        for c in r.components.iter().filter(|c| !c.moved()) {
            for ch in c.charts.iter().filter(|ch| !ch.patched.is_empty()) {
                writeln!(
                    out,
                    "kept local changes: {} ({}), which differs from {} {}",
                    ch.path,
                    file_list(&ch.patched),
                    c.name,
                    c.to
                )?;
            }
        }
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
                c.from.as_deref().unwrap_or("(none)"),
                c.to,
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
    let counted = match cl.commits.len() + cl.more {
        0 if cl.untouched == 0 => "no commits (the tags point to the same history)".to_string(),
        0 => "no commit changes the collected paths".to_string(),
        1 => "1 commit".to_string(),
        n => format!("{n} commits"),
    };
    match cl.untouched {
        0 => counted,
        n => format!("{counted} ({n} more change nothing collected)"),
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
fn markdown(r: &CollectReport) -> String {
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
                c.from.as_deref().unwrap_or("(none)"),
                c.to,
                cell(&charts.join(", "))
            ));
        }
        for c in &moved {
            let Some(cl) = &c.changelog else { continue };
            md.push_str(&format!(
                "\n### {} {} → {}\n\n",
                c.repository,
                c.from.as_deref().unwrap_or("(none)"),
                c.to
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
fn write_changelog(path: &Path, r: &CollectReport) -> Result<()> {
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
        let tag = arrow(c.from.as_deref(), Some(&c.to));
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
            let mut chart = ch.path.clone();
            for (what, files) in [("patched", &ch.patched), ("--theirs drops", &ch.dropped)] {
                if !files.is_empty() {
                    chart.push_str(&format!(" ({what}: {})", file_list(files)));
                }
            }
            rows.push([
                c.name.clone(),
                tag.clone(),
                chart,
                arrow(ch.from.as_deref(), ch.to.as_deref()),
                images,
            ]);
        }
    }
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    crate::table::write_table(out, &rows)?;
    Ok(())
}

/// Up to three file names, then how many more: `Chart.yaml, values.yaml +2`.
fn file_list(files: &[String]) -> String {
    let shown: Vec<&str> = files.iter().take(3).map(String::as_str).collect();
    match files.len() {
        n if n > 3 => format!("{} +{}", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}

/// `name old ARROW new` of each chart of `c` whose version changes (`(new)` for a new chart).
fn chart_moves(c: &ComponentReport, arrow: &str) -> Vec<String> {
    c.charts
        .iter()
        .filter(|ch| ch.from != ch.to)
        .map(|ch| {
            format!(
                "{} {} {arrow} {}",
                ch.name,
                ch.from.as_deref().unwrap_or("(new)"),
                ch.to.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

/// Most changelog lines per component in a `--commit` message.
const COMMIT_LOG_LINES: usize = 20;

fn commit_message(r: &CollectReport) -> String {
    let bumps: Vec<&ComponentReport> = r.components.iter().filter(|c| c.moved()).collect();
    // The subject names what moved: `collect: cyclone v0.10.0, mongo 1.1.0` (three at most).
    let mut named: Vec<String> = bumps
        .iter()
        .take(3)
        .map(|c| format!("{} {}", c.name, c.to))
        .collect();
    if bumps.len() > 3 {
        named.push(format!("{} more", bumps.len() - 3));
    }
    let subject = if named.is_empty() {
        "collect: refresh version.yml and the image lists".to_string()
    } else {
        format!("collect: {}", named.join(", "))
    };
    let mut msg = format!("{subject}\n\n");
    for c in bumps {
        msg.push_str(&format!(
            "- {} {} -> {}",
            c.repository,
            c.from.as_deref().unwrap_or("(none)"),
            c.to
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

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::testkit::TestRepo;

    /// A component with a chart at `deploy/web`, tagged v1.0.0 and v1.1.0 (whose image moves),
    /// and a platform that collected v1.0.0 into `addons/web`.
    fn platform_one_release_behind() -> (TestRepo, TestRepo) {
        let mut comp = TestRepo::new();
        let chart = |c: &TestRepo, v: &str| {
            c.write(
                "deploy/web/Chart.yaml",
                &format!("apiVersion: v2\nname: web\nversion: {v}\n"),
            )
            .write(
                "deploy/web/templates/pod.yaml",
                &format!("kind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - image: reg.local/web:{v}\n"),
            );
        };
        chart(&comp, "1.0.0");
        comp.commit("1.0.0");
        comp.tag("v1.0.0");
        chart(&comp, "1.1.0");
        comp.commit("1.1.0");
        comp.tag("v1.1.0");
        let mut platform = TestRepo::new();
        platform
            .write(
                ".gitrelease",
                &format!(
                    "[release]\n\tproduct = demo\n\tcomponentUrl = {}\n",
                    comp.path().display()
                ),
            )
            .write(
                "repos/core.yaml",
                "- repositoryFullName: demo/web\n  currentTag: v1.0.0\n  chartPaths: [deploy/web]\n  targetChartPath: addons\n",
            )
            .write(
                "version.yml",
                "spec:\n  modules:\n  - name: core\n    addons:\n    - name: web\n      version: 1.0.0\n",
            )
            .write("images/images_platform.list", "reg.local/web:1.0.0\n")
            .write("addons/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
            .write(
                "addons/web/templates/pod.yaml",
                "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - image: reg.local/web:1.0.0\n",
            );
        platform.commit("collected v1.0.0");
        (platform, comp)
    }

    #[test]
    fn a_newer_tag_plans_the_chart_currenttag_version_yml_and_image_list() {
        let (platform, _component) = platform_one_release_behind();
        let repo = platform.repo();
        let settings = Settings::load(&repo, &Default::default()).unwrap();
        let args = CollectArgs {
            quiet: true,
            commit: crate::plan::CommitFlags {
                commit: true,
                no_verify: false,
            },
            ..Default::default()
        };
        let (report, writes, refusal) = plan(&repo, &settings, &args).unwrap();
        assert!(refusal.is_none());
        let c = &report.data.components[0];
        assert_eq!(
            (
                c.name.as_str(),
                c.path.as_str(),
                c.from.as_deref(),
                c.to.as_str()
            ),
            ("web", "repos/core.yaml:1", Some("v1.0.0"), "v1.1.0")
        );
        let chart = &c.charts[0];
        assert_eq!(
            (chart.from.as_deref(), chart.to.as_deref(), chart.changed),
            (Some("1.0.0"), Some("1.1.0"), true)
        );
        assert_eq!(chart.images_added, ["reg.local/web:1.1.0"]);
        assert_eq!(chart.images_removed, ["reg.local/web:1.0.0"]);
        assert_eq!(
            serde_json::to_value(&writes).unwrap()["files"],
            serde_json::json!([
                {"path": "addons/web", "action": "replace-dir"},
                {"path": "repos/core.yaml", "action": "write"},
                {"path": "version.yml", "action": "write"},
                {"path": "images/images_platform.list", "action": "write"},
            ])
        );
        assert_eq!(report.data.changed_paths, writes.paths());
        assert!(writes
            .commit
            .as_ref()
            .unwrap()
            .message
            .contains("v1.0.0 -> v1.1.0"));
        assert!(
            platform
                .read("repos/core.yaml")
                .contains("currentTag: v1.0.0"),
            "plan writes nothing"
        );
        let made = crate::plan::apply(&repo, &writes).unwrap().commit;
        assert!(made.is_some());
        assert!(platform
            .read("repos/core.yaml")
            .contains("currentTag: v1.1.0"));
        assert!(platform.read("version.yml").contains("version: 1.1.0"));
        assert_eq!(
            platform.read("images/images_platform.list"),
            "reg.local/web:1.1.0\n"
        );
        // Collected again: nothing left to do.
        let repo = platform.repo();
        let (_, writes, _) = plan(&repo, &settings, &args).unwrap();
        assert!(writes.files.is_empty(), "{:?}", writes.paths());
    }
}
