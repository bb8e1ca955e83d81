//! `git release images [REV]`: every image a revision deploys, with the charts, files and lines
//! it comes from (read-only, from the object database).

use clap::{Args, Subcommand};

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::error::UserError;
use crate::git;
use crate::image::chart::ImageSource;
use crate::report::{Report, Warning};
use crate::settings::Settings;

/// `git release images`
///
/// Every chart under the addons path is rendered as `helm template` would with its default
/// values (release name: the chart folder's name; namespace: the addon's in version.yml;
/// Kubernetes version: release.kubeVersion), and images are read from the rendered objects:
/// containers, initContainers, ephemeralContainers, and any other string under an `image` key.
/// Chart.yaml's `helm.sh/images` annotation, the charts' `images_<kind>.list` files, resource
/// files and repos entries' `images:` are counted too. A chart that cannot be rendered (a
/// `required` value, a template error) is read without rendering, with a warning.
#[derive(Args, Debug, Default)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImagesArgs {
    /// `sync`: copy mirrored images into the internal registry.
    #[command(subcommand)]
    pub action: Option<ImagesAction>,
    /// Revision whose images are listed [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Only this image (an exact reference, or text the references contain): where it comes from.
    #[arg(long, value_name = "IMAGE")]
    pub why: Option<String>,
    /// Write `images/images.lock`: the digest each image of REV's lists names now in its
    /// registry; package, hotfix and upgrade then pull by it (commit the file).
    #[arg(long, conflicts_with = "why")]
    pub lock: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// `git release images` subcommands.
#[derive(Subcommand, Debug)]
pub enum ImagesAction {
    /// Copy every image that has an images_origin.yaml entry from its upstream source into the
    /// internal registry (release.registry) when it is missing there, every platform included.
    Sync(ImagesSyncArgs),
}

/// `git release images sync`
#[derive(Args, Debug, Default)]
pub struct ImagesSyncArgs {
    /// Revision whose image lists are synced [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Only say which images are missing; copy nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// One image of the report.
#[derive(Debug, Serialize)]
pub(crate) struct ImageEntry {
    /// The reference as the lists hold it (`[[ … ]]` placeholders kept).
    pub image: String,
    /// The lists it is in (`platform`, `extra`, …); empty for `helm test` images.
    pub lists: Vec<String>,
    /// Where it comes from.
    pub sources: Vec<ImageSource>,
    /// Full reference in its registry (`[[ registry_release ]]` filled from `release.registry`);
    /// absent when the registry is not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Upstream source from `images/images_origin.yaml`, for images mirrored into the internal
    /// registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// `internal`, `mirrored` or `external` ([`crate::registry::Located::kind`]).
    pub lives: &'static str,
}

/// What `git release images --json` prints inside the [`Report`] envelope (`rev`: the commit).
#[derive(Debug, Serialize)]
pub(crate) struct ImagesReport {
    /// Images of the lists, sorted.
    pub images: Vec<ImageEntry>,
    /// Images of `helm test` hooks, with their test-hook sources (in no list unless a chart
    /// also deploys them).
    pub test_images: Vec<ImageEntry>,
    /// Charts read without rendering, `{chart, error}`, and single templates read without
    /// rendering while the rest of their chart rendered, `{chart, template, error}`.
    pub fallbacks: Vec<crate::image::chart::Fallback>,
    /// Charts that differ from their component at its `currentTag` (local changes collect
    /// keeps): `{chart, files}`; empty when none does or the components cannot be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patched: Vec<Patched>,
}

/// A chart with local changes: its folder and the files that differ from its component's tag.
#[derive(Debug, Serialize)]
pub(crate) struct Patched {
    /// Repo-relative chart folder.
    pub chart: String,
    /// Files of the chart that differ, relative to it.
    pub files: Vec<String>,
}

/// The charts of the components at `tree` that differ from their component's `currentTag`.
///
/// Errors: a repos file that cannot be parsed (exit 2); unreadable objects.
fn patched_charts(
    repo: &gix::Repository,
    settings: &Settings,
    tree: gix::ObjectId,
) -> Result<Vec<Patched>> {
    let all = crate::components::components_at(repo, tree, settings)?;
    let mut out = Vec::new();
    for c in &all {
        let patched = crate::components::read::patched_charts(repo, settings, tree, &all, c)?;
        out.extend(
            patched
                .into_iter()
                .map(|(chart, files)| Patched { chart, files }),
        );
    }
    Ok(out)
}

/// Build the report of `rev`: its images, with the warnings of reading the charts.
///
/// Errors: as [`crate::derived::lists_at`].
pub(crate) fn report(
    repo: &gix::Repository,
    settings: &Settings,
    rev: &str,
) -> Result<Report<ImagesReport>> {
    let commit = git::resolve_commit(repo, rev).map_err(|e| {
        // `images snyc`: a mistyped subcommand reads as a revision.
        match crate::error::suggest(rev, ["sync"].into_iter()) {
            Some(s) if !rev.contains(['/', '.', '~', '^', ':']) => UserError::input(format!(
                "`{rev}` is neither a revision nor a subcommand of images"
            ))
            .hint(format!("did you mean `git release images {s}`?"))
            .into(),
            _ => e,
        }
    })?;
    let lists = crate::derived::lists_at(repo, settings, commit)?;
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let all: Vec<&String> = lists.sources.keys().chain(lists.tests.keys()).collect();
    let located: BTreeMap<String, crate::registry::Located> =
        crate::registry::locate_at(repo, settings, tree, all)?
            .1
            .into_iter()
            .map(|l| (l.image.clone(), l))
            .collect();
    let entry = |image: &String, lists_in: Vec<String>, sources: &Vec<ImageSource>| {
        let l = &located[image];
        ImageEntry {
            image: image.clone(),
            lists: lists_in,
            sources: sources.clone(),
            reference: l.reference.clone().filter(|r| r != image),
            origin: l.source.clone(),
            lives: l.kind,
        }
    };
    let mut kinds_of: BTreeMap<&String, BTreeSet<String>> = BTreeMap::new();
    for (kind, set) in &lists.kinds {
        for i in set {
            kinds_of.entry(i).or_default().insert(kind.clone());
        }
    }
    // Images only `helm test` runs are shown apart (`test_images`), though listed.
    let test_only = |image: &String| {
        kinds_of
            .get(image)
            .is_some_and(|k| k.len() == 1 && k.contains(crate::image::chart::TEST_KIND))
    };
    let images = lists
        .sources
        .iter()
        .filter(|(image, _)| !test_only(image))
        .map(|(image, sources)| {
            entry(
                image,
                kinds_of
                    .get(image)
                    .map(|k| k.iter().cloned().collect())
                    .unwrap_or_default(),
                sources,
            )
        })
        .collect();
    let test_images = lists
        .tests
        .iter()
        .map(|(image, sources)| {
            let lists_in = if test_only(image) {
                vec![crate::image::chart::TEST_KIND.to_string()]
            } else {
                Vec::new()
            };
            entry(image, lists_in, sources)
        })
        .collect();
    let mut report = Report::new(
        "images",
        ImagesReport {
            images,
            test_images,
            fallbacks: lists.fallbacks.clone(),
            patched: patched_charts(repo, settings, tree)?,
        },
    );
    report.rev = Some(commit.to_string());
    report.warnings = lists
        .warnings
        .iter()
        .map(|(c, m)| Warning {
            message: format!("{c}: {m}"),
            path: Some(c.clone()),
            line: None,
        })
        .collect();
    Ok(report)
}

/// Run `git release images`.
pub fn run(args: ImagesArgs) -> Result<()> {
    let no_cache = match &args.action {
        Some(ImagesAction::Sync(s)) => s.no_cache,
        None => args.no_cache,
    };
    let (mut repo, settings) = crate::open::with_settings(&crate::settings::Overrides {
        no_render_cache: no_cache,
        ..Default::default()
    })?;
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    let stdout = std::io::stdout();
    if let Some(ImagesAction::Sync(s)) = &args.action {
        return run_sync(&repo, &settings, s, &mut stdout.lock());
    }
    if args.lock {
        let rev = args.rev.as_deref().unwrap_or("HEAD");
        let commit = git::resolve_commit(&repo, rev)?;
        return write_lock(&repo, &settings, commit, args.json, &mut stdout.lock());
    }
    run_images(&repo, &settings, &args, &mut stdout.lock())
}

/// What `images --lock` (and `images sync`) wrote.
#[derive(Debug, Serialize)]
pub(crate) struct LockReport {
    /// The lock file, repo-relative.
    pub path: String,
    /// Images locked.
    pub locked: usize,
    /// Images left out, each with why (not in its registry, …).
    pub not_locked: Vec<String>,
}

/// Lock every image of `commit`'s lists ([`crate::oci::lock::lock`]) into
/// `<imagesPath>/images.lock` in the work tree (written whole, atomically; not committed).
///
/// Errors: `release.registry` unset (exit 2); registry faults; as [`crate::derived::lists_at`].
pub(crate) fn write_lock(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let report = lock_to_worktree(repo, settings, commit)?;
    let mut envelope = Report::new("images --lock", report);
    envelope.rev = Some(commit.to_string());
    envelope.emit(json, out, |r, out| {
        let d = &r.data;
        writeln!(out, "locked {} image(s) in {}", d.locked, d.path)?;
        for n in &d.not_locked {
            writeln!(out, "  not locked: {n}")?;
        }
        writeln!(
            out,
            "commit {} so that package, hotfix and upgrade pull by it",
            d.path
        )?;
        Ok(())
    })
}

/// [`write_lock`] without the report: lock and write the file.
fn lock_to_worktree(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
) -> Result<LockReport> {
    let config = crate::registry::RegistryConfig::load(repo)?;
    if config.registry.is_none() {
        return Err(UserError::input("release.registry is not set: there is no internal registry to lock images in")
            .hint("set release.registry (in .gitrelease or `git config`), e.g. `registry.local:5000/release`")
            .into());
    }
    let lists = crate::derived::lists_at(repo, settings, commit)?;
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let all: BTreeSet<String> = lists.kinds.into_values().flatten().collect();
    let (lock, not_locked) = crate::oci::lock::lock(repo, settings, tree, &all)?;
    let path = crate::files::join(&settings.images_path, crate::image::lock::FILE);
    let mut plan = crate::plan::Plan::new("images --lock");
    plan.files.push(crate::worktree::Change::WriteFile {
        path: path.clone(),
        entry: crate::files::FileEntry {
            kind: crate::files::FileKind::Regular,
            data: lock.render()?.into_bytes(),
        },
    });
    crate::plan::apply(repo, &plan)?;
    Ok(LockReport {
        path,
        locked: lock.images.len(),
        not_locked,
    })
}

/// `git release images sync`: copy the mirrored images of REV's lists that the internal
/// registry lacks ([`crate::oci::sync::plan`], [`crate::oci::sync::copy`]), with a progress line on a terminal.
///
/// Errors: release.registry unset (exit 2); registry faults (exit 1); as [`crate::derived::lists_at`].
pub(crate) fn run_sync(
    repo: &gix::Repository,
    settings: &Settings,
    args: &ImagesSyncArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let rev = args.rev.as_deref().unwrap_or("HEAD");
    let commit = git::resolve_commit(repo, rev)?;
    let config = crate::registry::RegistryConfig::load(repo)?;
    if config.registry.is_none() {
        return Err(UserError::input("release.registry is not set: there is no internal registry to sync into")
            .hint("set release.registry (in .gitrelease or `git config`), e.g. `registry.local:5000/release`")
            .into());
    }
    let lists = crate::derived::lists_at(repo, settings, commit)?;
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let all: BTreeSet<String> = lists.kinds.into_values().flatten().collect();
    let located: Vec<_> = crate::registry::locate_at(repo, settings, tree, &all)?
        .1
        .into_iter()
        .filter(|l| l.source.is_some())
        .collect();
    let client = config.client_for(&located)?;
    let cache = crate::oci::cache::BlobCache::of(repo);
    let bar = crate::progress::bar(0, "sync", !args.json);
    let mut done = crate::oci::sync::plan(&client, &located, &bar)?;
    if !args.dry_run {
        let bar = crate::progress::bar(0, "sync", !args.json);
        crate::oci::sync::copy(&client, &cache, &mut done, &bar)?;
    }
    // The images as they now are in the internal registry, locked (work tree only at HEAD).
    let lock = if args.dry_run || args.rev.as_deref().is_some_and(|r| r != "HEAD") {
        None
    } else {
        Some(lock_to_worktree(repo, settings, commit)?)
    };
    let mut report = Report::new("images sync", SyncReport { images: done, lock });
    report.dry_run = args.dry_run;
    report.rev = Some(commit.to_string());
    report.emit(args.json, out, |r, out| print_sync(r, rev, out))
}

/// What `images sync` copied (or, in a dry run, would copy), inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct SyncReport {
    /// Every mirrored image: `present`, `missing` (a dry run: would be copied) or `copied`.
    pub images: Vec<crate::oci::sync::Synced>,
    /// The lock written after the sync (`images/images.lock`); `null` in a dry run or for
    /// another revision than HEAD.
    pub lock: Option<LockReport>,
}

fn print_sync(r: &Report<SyncReport>, _rev: &str, out: &mut dyn Write) -> Result<()> {
    let done = &r.data.images;
    for s in done {
        match s.state {
            "copied" => writeln!(
                out,
                "copied {} -> {} ({} object(s) pushed, {} blob(s) already there, {} mounted)",
                s.source, s.target, s.pushed, s.skipped, s.mounted
            )?,
            "missing" => writeln!(out, "would copy {} -> {}", s.source, s.target)?,
            _ => writeln!(out, "present {}", s.target)?,
        }
    }
    let copied = done.iter().filter(|s| s.state == "copied").count();
    let missing = done.iter().filter(|s| s.state == "missing").count();
    writeln!(
        out,
        "{} mirrored image(s): {copied} copied, {} present{}",
        done.len(),
        done.len() - copied - missing,
        r.verb(
            "",
            &format!(", {missing} missing (dry run: nothing copied)")
        )
    )?;
    Ok(())
}

/// Print the images of `args.rev` (or the answer for `--why`) to `out`, warnings to stderr.
///
/// Errors: exit 2 when `--why IMAGE` matches no image of the revision (the closest are named),
/// and as [`report`].
pub(crate) fn run_images(
    repo: &gix::Repository,
    settings: &Settings,
    args: &ImagesArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let rev = args.rev.as_deref().unwrap_or("HEAD");
    let mut report = report(repo, settings, rev)?;
    let r = &mut report.data;
    if let Some(want) = &args.why {
        // Exact reference first; else every image containing the text (`--why mongo`).
        let exact = r
            .images
            .iter()
            .chain(&r.test_images)
            .any(|e| &e.image == want);
        let keep = |e: &ImageEntry| {
            if exact {
                &e.image == want
            } else {
                e.image.contains(want.as_str())
            }
        };
        let every: Vec<String> = r.images.iter().map(|e| e.image.clone()).collect();
        r.images.retain(keep);
        r.test_images.retain(keep);
        if r.images.is_empty() && r.test_images.is_empty() {
            let mut near: Vec<(f64, &str)> = every
                .iter()
                .map(|i| (strsim::jaro_winkler(want, i), i.as_str()))
                .collect();
            near.sort_by(|a, b| b.0.total_cmp(&a.0));
            let names: Vec<&str> = near.iter().take(3).map(|(_, n)| *n).collect();
            let mut err = UserError::input(format!("no image of {rev} matches `{want}`"));
            if !names.is_empty() {
                err = err.hint(format!("closest: {}", names.join(", ")));
            }
            return Err(err.into());
        }
    }
    let why = args.why.is_some();
    report.emit(args.json, out, |r, out| {
        print_images(&r.data, rev, why, out)
    })
}

fn print_images(r: &ImagesReport, rev: &str, why: bool, out: &mut dyn Write) -> Result<()> {
    let show = |e: &ImageEntry, out: &mut dyn Write| -> Result<()> {
        let lists = if e.lists.is_empty() {
            "test".to_string()
        } else {
            e.lists.join(",")
        };
        writeln!(out, "{}  [{lists}]", e.image)?;
        if let Some(r) = &e.reference {
            writeln!(out, "    = {r}")?;
        }
        if let Some(o) = &e.origin {
            writeln!(out, "    <- {o} (images_origin.yaml)")?;
        }
        for s in &e.sources {
            let mut at = s.chart.clone();
            if let Some(f) = &s.file {
                at.push('/');
                at.push_str(f);
            }
            if let Some(l) = s.line {
                at.push_str(&format!(":{l}"));
            }
            let object = s
                .object
                .as_deref()
                .map(|o| format!(" {o}"))
                .unwrap_or_default();
            writeln!(out, "    {}{object}  ({})", at, s.from)?;
        }
        Ok(())
    };
    for e in &r.images {
        show(e, out)?;
    }
    if !r.test_images.is_empty() {
        writeln!(
            out,
            "\nhelm test images (images_test.list, or the list of the workload that also runs them):"
        )?;
        for e in &r.test_images {
            show(e, out)?;
        }
    }
    if !r.patched.is_empty() && !why {
        writeln!(out, "\npatched here (differ from their component's tag):")?;
        for p in &r.patched {
            writeln!(out, "    {} ({})", p.chart, p.files.join(", "))?;
        }
    }
    if !why {
        writeln!(
            out,
            "\n{}: {} image(s) from {} source(s){}",
            rev,
            r.images.len(),
            r.images.iter().map(|e| e.sources.len()).sum::<usize>(),
            if r.fallbacks.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} chart(s) or template(s) read without rendering: {}",
                    r.fallbacks.len(),
                    r.fallbacks
                        .iter()
                        .map(|f| match &f.template {
                            Some(t) => format!("{}/{t}", f.chart),
                            None => f.chart.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )?;
    }
    Ok(())
}
