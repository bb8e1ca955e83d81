//! `git release diff A [B]`: two releases compared component by component: the component tags
//! of the repos files, chart versions, the files changed in each chart, the images each chart
//! deploys, and the image lists; all from the object database.

use clap::Args;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::report::Warning;

use crate::components;
use crate::git;
use crate::history::compare::{self, ChartDiff, ImageDiff};
use crate::image::chart::RenderContext;
use crate::settings::{self, Settings};

/// `git release diff`
#[derive(Args, Debug, Default)]
pub struct DiffArgs {
    /// The older release (any revspec, normally a release tag: v2.10.2).
    #[arg(value_name = "A")]
    pub from: String,
    /// The newer release [default: HEAD].
    #[arg(value_name = "B")]
    pub to: Option<String>,
    /// Also list the components and charts that did not change.
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// One side of the comparison.
#[derive(Debug, Serialize)]
pub(crate) struct Rev {
    /// As given: `v2.10.2`, `HEAD`.
    pub rev: String,
    /// The commit (full id).
    pub commit: String,
}

/// One component of the repos files: its tag old -> new (`{"name", "path", "from", "to"}`,
/// [`crate::report`]) and its charts.
#[derive(Debug, Serialize)]
pub(crate) struct ComponentDiff {
    /// `repositoryFullName`.
    pub name: String,
    /// Where the entry is in B (else in A): `repos/app.yaml:3`.
    pub path: String,
    /// `currentTag` in A; `None` when A does not list the component.
    pub from: Option<String>,
    /// `currentTag` in B; `None` when B does not list it.
    pub to: Option<String>,
    /// Its charts that changed.
    pub charts: Vec<ChartDiff>,
    /// Its single-file resources (`resourcePaths`) that changed: `A`/`M`/`D` and the path.
    pub resources: Vec<String>,
}

/// What `diff --json` prints.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The older side.
    pub from: Rev,
    /// The newer side.
    pub to: Rev,
    /// Components whose tag or charts changed (every component with `--all`), in repos-file order.
    pub components: Vec<ComponentDiff>,
    /// Changed charts no component collects (hand-maintained ones).
    pub charts: Vec<ChartDiff>,
    /// The image lists, old -> new.
    pub images: ImageDiff,
    /// Plugins added, removed or changed (`release-plugins/`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<crate::plugins::PluginChange>,
    /// Components listed in B (or A) that did not change.
    pub unchanged: usize,
}

/// Run `git release diff`.
pub fn run(args: DiffArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&crate::settings::Overrides {
        no_render_cache: args.no_cache,
        ..Default::default()
    })?;
    let stdout = std::io::stdout();
    diff(&repo, &settings, &args, &mut stdout.lock())
}

/// Compare `args.from` with `args.to` and write the report to `out`.
///
/// Errors: a revspec that names no commit, a repos file that cannot be parsed at either side
/// (exit 2); unreadable objects.
pub(crate) fn diff(
    repo: &gix::Repository,
    settings: &Settings,
    args: &DiffArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let to_spec = args.to.clone().unwrap_or_else(|| "HEAD".into());
    let (a, b) = (
        git::resolve_commit(repo, &args.from)?,
        git::resolve_commit(repo, &to_spec)?,
    );
    let (ta, tb) = (
        repo.find_commit(a)?.tree_id()?.detach(),
        repo.find_commit(b)?.tree_id()?.detach(),
    );
    let index = git::TreeIndex::default();
    let mut charts = compare::charts(repo, &index, ta, tb, &settings.addons_path, true)?;
    let mut warnings = Vec::new();
    let (ctx_a, ctx_b) = (
        RenderContext::at(repo, ta, settings)?,
        RenderContext::at(repo, tb, settings)?,
    );
    // Charts rendered in parallel, 64 at a time so memory does not follow the size of the
    // change; warnings in chart order.
    for chunk in charts.chunks_mut(64) {
        let files = chunk
            .iter()
            .map(|c| {
                Ok((
                    index.read_path(repo, ta, &c.path)?,
                    index.read_path(repo, tb, &c.path)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let ends: Vec<_> = chunk
            .iter()
            .zip(&files)
            .map(|(c, (fa, fb))| (c.path.as_str(), fa.as_ref(), fb.as_ref()))
            .collect();
        let rendered = crate::image::chart::chart_ends(&ends, &ctx_a, &ctx_b);
        for (c, e) in chunk.iter_mut().zip(rendered) {
            c.images = Some(compare::image_diff(&e.old.all, &e.new.all));
            warnings.extend(e.warnings);
        }
    }

    // Components of both sides, B's order first; each chart target belongs to its component.
    let (ca, cb) = (
        components::components_at(repo, ta, settings)?,
        components::components_at(repo, tb, settings)?,
    );
    let mut order: Vec<String> = Vec::new();
    let mut info: BTreeMap<String, (String, Option<String>, Option<String>)> = BTreeMap::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut resources: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (side, list) in [(1, &cb), (0, &ca)] {
        for c in list.iter() {
            let name = c.repository_full_name.clone();
            let e = info.entry(name.clone()).or_insert_with(|| {
                order.push(name.clone());
                (c.location(), None, None)
            });
            if side == 0 {
                e.1 = c.current_tag.clone();
            } else {
                e.2 = c.current_tag.clone();
            }
            resources
                .entry(name.clone())
                .or_default()
                .extend(c.resource_targets(settings.targets()));
            for p in &c.chart_paths {
                if let Ok(target) = settings::normalize_rel_path(p)
                    .and_then(|src| c.chart_target(settings.targets(), &src))
                {
                    owner.entry(target).or_insert_with(|| name.clone());
                }
            }
        }
    }
    let mut by_component: BTreeMap<String, Vec<ChartDiff>> = BTreeMap::new();
    let mut loose = Vec::new();
    // A chart that differs in B from its component's tag is marked as patched.
    crate::components::read::mark_patched(repo, settings, tb, &mut charts)?;
    // A resource target that is a single-file addon is one of the component's charts.
    for (name, targets) in &mut resources {
        targets.retain(|t| {
            let addon = charts.iter().any(|c| &c.path == t);
            if addon {
                owner.entry(t.clone()).or_insert_with(|| name.clone());
            }
            !addon
        });
    }
    for c in charts {
        match owner.get(&c.path) {
            Some(n) => by_component.entry(n.clone()).or_default().push(c),
            None => loose.push(c),
        }
    }
    let mut components = Vec::new();
    let mut unchanged = 0;
    for name in order {
        let (path, from, to) = info.remove(&name).expect("listed");
        let charts = by_component.remove(&name).unwrap_or_default();
        let mut changed_resources = Vec::new();
        for path in resources.remove(&name).unwrap_or_default() {
            let letter = match (
                git::blob_at(repo, ta, &path)?,
                git::blob_at(repo, tb, &path)?,
            ) {
                (None, Some(_)) => "A",
                (Some(_), None) => "D",
                (Some(x), Some(y)) if x != y => "M",
                _ => continue,
            };
            changed_resources.push(format!("{letter} {path}"));
        }
        if from == to && charts.is_empty() && changed_resources.is_empty() {
            unchanged += 1;
            if !args.all {
                continue;
            }
        }
        components.push(ComponentDiff {
            name,
            path,
            from,
            to,
            charts,
            resources: changed_resources,
        });
    }
    let images = compare::image_diff(
        &compare::listed_images(repo, ta, &settings.images_path)?,
        &compare::listed_images(repo, tb, &settings.images_path)?,
    );
    let report = Report {
        from: Rev {
            rev: args.from.clone(),
            commit: a.to_string(),
        },
        to: Rev {
            rev: to_spec,
            commit: b.to_string(),
        },
        components,
        charts: loose,
        images,
        plugins: crate::plugins::changes(
            &crate::plugins::at(repo, ta, settings).unwrap_or_default(),
            &crate::plugins::at(repo, tb, settings).unwrap_or_default(),
        ),
        unchanged,
    };
    // Charts whose images could not be read (rendering problems), by chart.
    let mut envelope = crate::report::Report::new("diff", report);
    envelope.warnings = warnings.into_iter().map(Warning::from).collect();
    envelope.emit(args.json, out, |r, out| print_report(&r.data, out))
}

fn print_report(r: &Report, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{} ({}) -> {} ({})",
        r.from.rev,
        &r.from.commit[..12],
        r.to.rev,
        &r.to.commit[..12]
    )?;
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".into());
    let write_chart = |c: &ChartDiff, out: &mut dyn Write| -> Result<()> {
        let versions = if c.from == c.to {
            format!("{} (same version)", v(&c.to))
        } else {
            format!("{} -> {}", v(&c.from), v(&c.to))
        };
        writeln!(out, "  chart {}  {versions}", c.path)?;
        if !c.patched.is_empty() {
            writeln!(
                out,
                "      patched here (differs from the component's tag): {}",
                c.patched.join(", ")
            )?;
        }
        for f in &c.files {
            writeln!(out, "      {f}")?;
        }
        if let Some(images) = &c.images {
            crate::history::compare::write_changes(&[], images, "    ", out)?;
        }
        Ok(())
    };
    for c in &r.components {
        writeln!(out)?;
        let tag = if c.from == c.to {
            v(&c.to)
        } else {
            format!("{} -> {}", v(&c.from), v(&c.to))
        };
        writeln!(out, "{}  {tag}  ({})", c.name, c.path)?;
        for ch in &c.charts {
            write_chart(ch, out)?;
        }
        for f in &c.resources {
            writeln!(out, "  file {f}")?;
        }
    }
    if !r.charts.is_empty() {
        writeln!(out)?;
        writeln!(out, "charts no component collects:")?;
        for ch in &r.charts {
            write_chart(ch, out)?;
        }
    }
    if !r.images.is_empty() {
        writeln!(out)?;
        writeln!(out, "image lists:")?;
        crate::history::compare::write_changes(&[], &r.images, "  ", out)?;
    }
    if !r.plugins.is_empty() {
        writeln!(out)?;
        for p in &r.plugins {
            writeln!(out, "{}", crate::plugins::change_line(p))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{} component(s) unchanged", r.unchanged)?;
    Ok(())
}
