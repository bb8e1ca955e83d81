//! `git release hotfix <base>..<new>`: package exactly the charts changed between two revisions,
//! with a manifest a customer can check against the installed release.
//!
//! Source: seed 002 ("补丁包管理": `git diff --name-only --diff-filter=AM --ignore-space-at-eol
//! --ignore-space-change $BASE $NEW addons`, hotfix names like `v2.7.0-20180605-p1` from seed 001)
//! and DOMAIN.md step 7. Differences from the seed pipeline: a chart counts when any of its files
//! changed (not only Chart.yaml), the name and bytes are reproducible, and a manifest is included.

use clap::Args;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::archive::Stamp;
use crate::error::UserError;
use crate::git;
use crate::history::compare::{self, ChangedCharts};
use crate::packaging::{self, ChartSource, Contents};
use crate::report::{PackageFile, Report, Warning};
use crate::settings::Settings;
use crate::versions;

/// `git release hotfix`
#[derive(Args, Debug, Default)]
pub struct HotfixArgs {
    /// BASE..NEW (any revspecs), or BASE alone for BASE..HEAD. BASE is normally the release tag (v2.10.2).
    #[arg(value_name = "RANGE")]
    pub range: String,
    /// Folder to write the package to.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: std::path::PathBuf,
    /// Date in the hotfix version, YYYYMMDD or YYYY-MM-DD [default: NEW's commit date, UTC].
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Ship a chart whose content changed under its old Chart.yaml version (recorded in the manifest).
    #[arg(long)]
    pub allow_same_version: bool,
    /// Product version the hotfix applies to [default: BASE when it is a release tag, else the nearest release tag reachable from BASE].
    #[arg(long, value_name = "VERSION")]
    pub base_version: Option<String>,
    /// Record the hotfix as an annotated tag <release.hotfixTagPrefix><version> on NEW (never moved).
    #[arg(long)]
    pub tag: bool,
    /// One package per changed chart instead of one for all. In the caicloud layout (seed 001)
    /// each is `<product>-hotfixes-<addon>-<HOTFIXVERSION>.tar.gz` and holds a single-file
    /// addon's YAML under `<namespace>/<group>/<addon>/`.
    #[arg(long)]
    pub per_addon: bool,
    /// Also record each package's contents (images archives left out) in the work tree under
    /// `release-hotfixes/<base>/<YYYYMMDD>/<package>/`, as seed 001's hotfix pull requests do;
    /// with --commit, as a commit.
    #[arg(long)]
    pub record: bool,
    /// With --record: commit the recorded files.
    #[command(flatten)]
    pub commit: crate::plan::CommitFlags,
    /// How entries are owned, which platform images are packed for.
    #[command(flatten)]
    pub pack: crate::packaging::PackFlags,
    /// Print the plan (charts, versions, images, name); write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Also pack the images added or changed in the range into `images.tar` (an OCI image
    /// layout; see `package --images`); with --per-addon, each package gets its addon's own.
    #[arg(long)]
    pub images: bool,
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// The hotfix manifest, `hotfix.yaml` in the package (and the `--json` output).
#[derive(Debug, Serialize, Clone)]
pub(crate) struct Manifest {
    /// `release.product`.
    pub product: String,
    /// Product release the hotfix applies to, e.g. `v2.10.2`.
    pub base_version: String,
    /// The commit of `<base>`.
    pub base_commit: String,
    /// The commit of `<new>`.
    pub new_commit: String,
    /// `<base_version>-<YYYYMMDD>-p<N>`.
    pub hotfix_version: String,
    /// Set when `--allow-same-version` let a chart ship new content under its old version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub same_version_allowed: Vec<String>,
    /// Changed charts, by path.
    pub charts: Vec<ChartEntry>,
    /// Charts deleted in the range: listed, not packaged.
    pub removed: Vec<RemovedChart>,
    /// Single-file resources of the repos files (`resourcePaths`) changed in the range: `A`/`M`
    /// ones are packaged under their path, `D` ones listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Image references the hotfix brings.
    pub images: ImageDelta,
    /// sha256 of every other file of the package, by path inside the top folder.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sha256: BTreeMap<String, String>,
    /// With `--images`: every image in `images.tar`, full reference -> manifest digest.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub image_digests: BTreeMap<String, String>,
    /// With `--images`: `release.registry` the images were packed from (`push` maps it to the
    /// site's registry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

/// One changed chart.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct ChartEntry {
    /// Chart name (Chart.yaml).
    pub name: String,
    /// Folder in the platform repo.
    pub path: String,
    /// Namespace from version.yml, when listed there.
    pub namespace: Option<String>,
    /// Module from version.yml, when listed there.
    pub module: Option<String>,
    /// Version at base (None for a chart added in the range).
    pub from: Option<String>,
    /// Version at new.
    pub to: String,
    /// `<name>-<version>.tgz` in `charts/`.
    pub archive: String,
    /// Changed files, `A`/`M`/`D` and the path relative to the chart.
    pub files: Vec<String>,
}

/// A chart deleted in the range.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct RemovedChart {
    /// Chart name at base.
    pub name: String,
    /// Folder at base.
    pub path: String,
    /// Version at base.
    pub version: Option<String>,
}

/// Images added or changed between base and new.
#[derive(Debug, Serialize, Clone, Default)]
pub(crate) struct ImageDelta {
    /// References present at new and absent at base, whose repository is new too.
    pub added: Vec<String>,
    /// Same repository, another tag or digest: `{"from", "to"}` ([`crate::report::ImageChange`]);
    /// one per reference that went away when several did.
    pub changed: Vec<crate::report::ImageChange>,
}

/// Run `git release hotfix`: [`plan`] the packages, then (unless `--dry-run`) [`apply`] it,
/// then report in text or JSON.
pub fn run(args: HotfixArgs) -> Result<()> {
    let (mut repo, settings) = crate::open::with_settings(&crate::settings::Overrides {
        no_render_cache: args.no_cache,
        ..Default::default()
    })?;
    // Blobs are read more than once (whitespace check, chart files, images at both ends).
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    packaging::check_output_dir(&args.output)?;
    let mut plan = plan(&repo, &settings, &args)?;
    let mut report = Report::new(
        "hotfix",
        HotfixReport {
            packages: plan
                .package_names
                .iter()
                .map(|n| PackageFile::planned(args.output.join(n).display().to_string()))
                .collect(),
            manifest: plan.manifest.clone(),
            tag: None,
            recorded: Vec::new(),
        },
    );
    report.dry_run = args.dry_run;
    report.rev = Some(plan.new.to_string());
    if !args.dry_run {
        let written = apply(&repo, &settings, &args, &mut plan)?;
        report.data.packages = written
            .iter()
            .map(|(p, s)| PackageFile::written(p.display().to_string(), s.clone()))
            .collect();
        report.data.manifest = plan.manifest.clone();
        report.data.recorded = plan.recorded.clone();
        if args.tag {
            report.data.tag = Some(plan.tag_name.clone());
        }
    }
    report.warnings = plan.warnings.iter().cloned().map(Warning::from).collect();
    let existing = plan.existing.is_some();
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        print_plan(&r.data.manifest, &plan.package_names, out)?;
        if r.dry_run {
            writeln!(out, "dry run: nothing written")?;
            return Ok(());
        }
        for p in &r.data.packages {
            writeln!(
                out,
                "wrote {} (sha256 {})",
                p.path,
                p.sha256.as_deref().unwrap_or("")
            )?;
        }
        if existing {
            writeln!(
                out,
                "{} already tags {}: same range, same hotfix (no new tag)",
                plan.tag_name,
                &plan.new.to_string()[..12]
            )?;
        } else if let Some(t) = &r.data.tag {
            writeln!(out, "tagged {t} on {}", &plan.new.to_string()[..12])?;
        }
        if let Some(first) = r.data.recorded.first() {
            // release-hotfixes/<base>/<date>
            let folder: Vec<&str> = first.splitn(4, '/').take(3).collect();
            writeln!(
                out,
                "recorded {} file(s) under {}",
                r.data.recorded.len(),
                folder.join("/")
            )?;
        }
        Ok(())
    })
}

/// What `hotfix` wrote (or would write), as `--json` prints it inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct HotfixReport {
    /// The packages (sha256 and size null in a dry run).
    pub packages: Vec<PackageFile>,
    /// `hotfix.yaml` of the whole range.
    pub manifest: Manifest,
    /// The hotfix tag (`--tag`) on the new end of the range; `null` without `--tag`.
    pub tag: Option<String>,
    /// `--record`: the work-tree files written under `release-hotfixes/` (empty without it).
    pub recorded: Vec<String>,
}

/// Split `A..B`, `A..` and `A` (= `A..HEAD`).
fn split_range(range: &str) -> Result<(&str, &str)> {
    if range.contains("...") {
        return Err(UserError::input(format!(
            "`{range}`: use BASE..NEW (two dots), not a symmetric difference"
        ))
        .into());
    }
    Ok(match range.split_once("..") {
        Some((a, b)) => (
            if a.is_empty() { "HEAD" } else { a },
            if b.is_empty() { "HEAD" } else { b },
        ),
        None => (range, "HEAD"),
    })
}

/// The product version of `base`: `spec` itself when it names a release tag, else the highest
/// release tag on the nearest tagged commit reachable from `base` (newest commit first, as
/// `git describe --tags` walks).
fn product_version(repo: &gix::Repository, spec: &str, base: gix::ObjectId) -> Result<String> {
    if versions::release_version(spec).is_some()
        && repo
            .try_find_reference(format!("refs/tags/{spec}").as_str())?
            .is_some()
    {
        return Ok(spec.to_string());
    }
    let tags = git::release_tags_by_commit(repo)?;
    if let Some((name, _)) = git::nearest_release(repo, base, &tags)? {
        return Ok(name.clone());
    }
    Err(
        UserError::input(format!("no release tag is reachable from `{spec}`"))
            .hint("give the release tag as BASE, tag the release (`git tag -a v2.10.2`), or name it with --base-version v2.10.2")
            .into(),
    )
}

/// `--date` as `YYYYMMDD`, from `YYYYMMDD` or `YYYY-MM-DD`.
fn parse_date(d: &str) -> Result<String> {
    let digits: String = d.chars().filter(|c| *c != '-').collect();
    let ok = digits.len() == 8
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (d.len() == 8 || (d.len() == 10 && &d[4..5] == "-" && &d[7..8] == "-"));
    let month: u32 = digits.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = digits.get(6..8).and_then(|m| m.parse().ok()).unwrap_or(0);
    if !ok || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(
            UserError::input(format!("--date `{d}`: expected YYYYMMDD or YYYY-MM-DD")).into(),
        );
    }
    Ok(digits)
}

/// Hotfix tags of `product_version` under `prefix`: the highest sequence number (0 when none),
/// and the version of one that already tags `new` (the same range gives the same name, so a
/// second `hotfix --tag` of a range reuses it instead of tagging the commit twice).
fn hotfix_tags(
    repo: &gix::Repository,
    prefix: &str,
    product_version: &str,
    new: gix::ObjectId,
) -> Result<(u32, Option<String>)> {
    let mut max = 0;
    let mut at_new = None;
    for r in repo
        .references()?
        .prefixed(format!("refs/tags/{prefix}").as_str())?
    {
        let Some(mut r) = crate::git::listed(r) else {
            continue;
        };
        let name = r.name().as_bstr().to_string();
        let short = name
            .trim_start_matches("refs/tags/")
            .trim_start_matches(prefix)
            .to_string();
        if let Some(n) = versions::hotfix_number(product_version, &short) {
            max = max.max(n);
            if r.peel_to_commit().is_ok_and(|c| c.id == new) {
                at_new = Some(short);
            }
        }
    }
    Ok((max, at_new))
}

/// `(module, namespace)` of an addon in version.yml.
type AddonPlace = (Option<String>, Option<String>);

/// `name -> (module, namespace)` from version.yml at `tree`.
fn addon_places(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    rel: &str,
) -> Result<BTreeMap<String, AddonPlace>> {
    let mut out = BTreeMap::new();
    // blob_at, not read_path: an empty `rel` (no version.yml) is the root, not a file.
    let Some(data) = git::blob_at(repo, tree, rel)? else {
        return Ok(out);
    };
    for a in crate::version_yml::read(rel, &data)? {
        out.insert(a.name, (a.module, a.namespace));
    }
    Ok(out)
}

/// Images added or changed from `old` to `new` ([`compare::image_diff`] without the removals:
/// a hotfix ships what is new).
fn image_delta(old: &BTreeSet<String>, new: &BTreeSet<String>) -> ImageDelta {
    let d = compare::image_diff(old, new);
    ImageDelta {
        added: d.added,
        changed: d.changed,
    }
}

/// Everything a hotfix writes, computed from the object database before anything is written:
/// what `--dry-run` prints and `--json` emits; [`apply`] writes it.
pub(crate) struct HotfixPlan {
    /// `hotfix.yaml` of the whole range (each `--per-addon` package gets its chart's part).
    pub manifest: Manifest,
    /// File names of the packages, in `-o DIR`.
    pub package_names: Vec<String>,
    /// Non-fatal findings.
    pub warnings: Vec<String>,
    /// The hotfix tag already on the new commit (same range, same hotfix), if any.
    pub existing: Option<String>,
    /// `hotfix/<version>`.
    pub tag_name: String,
    /// The new end of the range.
    pub new: gix::ObjectId,
    new_tree: gix::ObjectId,
    top: String,
    sources: Vec<ChartSource>,
    built: Vec<packaging::BuiltChart>,
    resource_files: Vec<(String, Vec<u8>)>,
    per_chart_images: BTreeMap<String, ImageDelta>,
    stamp: Stamp,
    /// `--record`: the work-tree files written.
    recorded: Vec<String>,
}

/// Compute the hotfix of `args.range`: the changed charts (built as Helm archives in memory, so
/// a dry run fails where the real run would), resources, images, version and manifest. Writes
/// nothing.
///
/// Errors: a bad range or date (exit 2), charts that cannot be packaged, two charts packaged
/// under one name.
pub(crate) fn plan(
    repo: &gix::Repository,
    settings: &Settings,
    args: &HotfixArgs,
) -> Result<HotfixPlan> {
    if args.commit.commit && !args.record {
        return Err(UserError::input("--commit commits what --record writes")
            .hint("add --record (packages are files outside the repository; only the record is committed)")
            .into());
    }
    let (base_spec, new_spec, base, new) = resolve_range(repo, &args.range)?;
    let base_tree = repo.find_commit(base)?.tree_id()?.detach();
    let new_tree = repo.find_commit(new)?.tree_id()?.detach();
    let addons = settings.addons_path.as_str();
    if !addons.is_empty() && git::lookup_path(repo, new_tree, addons)?.is_none() {
        return Err(UserError::input(format!("the addons path `{addons}` does not exist at `{new_spec}`"))
            .hint("set release.addonsPath (in .gitrelease or `git config`) to the folder that holds the charts")
            .into());
    }
    // Which charts changed.
    let index = git::TreeIndex::default();
    let ChangedCharts {
        changed,
        removed: removed_roots,
        whitespace_only,
    } = compare::changed_charts(repo, &index, base_tree, new_tree, addons, true)?;
    let mut old_roots =
        crate::chart::discover::RootProbe::with_index(repo, base_tree, index.clone());
    let mut removed = Vec::new();
    for root in &removed_roots {
        let old = packaging::read_chart(repo, &index, base_tree, root).ok();
        removed.push(RemovedChart {
            name: old.as_ref().map_or_else(
                || root.rsplit('/').next().unwrap_or(root).to_string(),
                |c| c.name.clone(),
            ),
            path: root.clone(),
            version: old.map(|c| c.version),
        });
    }
    // Resource files (the charts_list shape) are part of the release like charts.
    let resources = packaging::changed_resources(repo, settings, base_tree, new_tree)?;
    if !resources.is_empty() && args.per_addon {
        return Err(UserError::input(format!(
            "resource files changed in the range ({}): --per-addon packages one chart each",
            resources
                .iter()
                .map(|r| r.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("run without --per-addon to package them with the charts")
        .into());
    }
    if changed.is_empty() && removed.is_empty() && resources.is_empty() {
        let ws = if whitespace_only > 0 {
            format!(" ({whitespace_only} file(s) changed only in whitespace)")
        } else {
            String::new()
        };
        return Err(UserError::input(format!(
            "{base_spec}..{new_spec} changes no chart under {}{ws}",
            if addons.is_empty() { "." } else { addons }
        ))
        .hint("nothing to ship; check the range")
        .into());
    }

    let (sources, olds, same) = versions_of(
        repo,
        args,
        &changed,
        &mut old_roots,
        &index,
        base_tree,
        new_tree,
    )?;
    let (product_version, hotfix_version, existing, new_time) =
        hotfix_name(repo, settings, args, base_spec, base, new)?;
    let (entries, images, per_chart_images, warnings) = charts_and_images(
        repo,
        settings,
        (&sources, &olds),
        &changed,
        &resources,
        (base_tree, new_tree),
        args.pack.no_test_images,
    )?;
    let manifest = Manifest {
        product: settings.product.clone(),
        base_version: product_version.clone(),
        base_commit: base.to_string(),
        new_commit: new.to_string(),
        hotfix_version: hotfix_version.clone(),
        same_version_allowed: if args.allow_same_version {
            same
        } else {
            Vec::new()
        },
        charts: entries,
        removed,
        resources: resources
            .iter()
            .map(|r| format!("{} {}", r.change, r.path))
            .collect(),
        images,
        sha256: BTreeMap::new(),
        image_digests: BTreeMap::new(),
        registry: None,
    };
    let resource_files: Vec<(String, Vec<u8>)> = resources
        .into_iter()
        .filter_map(|r| r.new.map(|d| (r.path, d)))
        .collect();

    let top = format!("{}-hotfix-{hotfix_version}", settings.product);
    let package_names: Vec<String> = if args.per_addon {
        sources
            .iter()
            .map(|c| {
                format!(
                    "{}.tar.gz",
                    per_addon_top(settings, &c.name, &hotfix_version)
                )
            })
            .collect()
    } else {
        vec![format!("{top}.tar.gz")]
    };
    // Built in dry runs too: a dry run fails exactly where the real run would (links, .helmignore).
    let stamp = Stamp {
        mtime: new_time,
        uid: args.pack.owner,
        gid: args.pack.owner,
    };
    let built = packaging::build_charts(&sources, stamp)?;
    Ok(HotfixPlan {
        manifest,
        package_names,
        warnings,
        existing,
        tag_name: format!("{}{hotfix_version}", settings.hotfix_tag_prefix),
        new,
        new_tree,
        top,
        sources,
        built,
        resource_files,
        per_chart_images,
        stamp,
        recorded: Vec::new(),
    })
}

/// `args.range` resolved: `(base spec, new spec, base, new)`.
///
/// Errors (exit 2): a bad range, an empty one, a base that is not an ancestor of new.
fn resolve_range<'r>(
    repo: &gix::Repository,
    range: &'r str,
) -> Result<(&'r str, &'r str, gix::ObjectId, gix::ObjectId)> {
    let (base_spec, new_spec) = split_range(range)?;
    let base = git::resolve_commit(repo, base_spec)?;
    let new = git::resolve_commit(repo, new_spec)?;
    if base == new {
        return Err(UserError::input(format!(
            "`{base_spec}` and `{new_spec}` are the same commit: the range is empty"
        ))
        .into());
    }
    if repo.merge_base(base, new)?.map(|id| id.detach()) != Some(base) {
        return Err(UserError::input(format!("`{base_spec}` ({}) is not an ancestor of `{new_spec}` ({})", &base.to_string()[..12], &new.to_string()[..12]))
            .hint(format!("a hotfix is built on the release line of its base: commit the fix on the release branch and run `git release hotfix {base_spec}..<release branch>`"))
            .into());
    }
    Ok((base_spec, new_spec, base, new))
}

/// Each changed chart read at new (and at base when it was a chart there), with the charts whose
/// content changed under the same version.
///
/// Errors (exit 2): a changed chart without a new version (unless `--allow-same-version`); two
/// charts packaged under one archive name.
#[allow(clippy::type_complexity)]
fn versions_of(
    repo: &gix::Repository,
    args: &HotfixArgs,
    changed: &BTreeMap<String, Vec<String>>,
    old_roots: &mut crate::chart::discover::RootProbe<'_>,
    index: &git::TreeIndex,
    base_tree: gix::ObjectId,
    new_tree: gix::ObjectId,
) -> Result<(
    Vec<ChartSource>,
    BTreeMap<String, Option<ChartSource>>,
    Vec<String>,
)> {
    let mut sources: Vec<ChartSource> = Vec::new();
    let mut olds: BTreeMap<String, Option<ChartSource>> = BTreeMap::new();
    let mut same = Vec::new();
    for path in changed.keys() {
        let c = packaging::read_chart(repo, index, new_tree, path)?;
        let old = if old_roots.is_root(path) {
            packaging::read_chart(repo, index, base_tree, path).ok()
        } else {
            None
        };
        if old.as_ref().is_some_and(|o| o.version == c.version) {
            same.push(format!("{} ({} {})", c.name, path, c.version));
        }
        olds.insert(path.clone(), old);
        sources.push(c);
    }
    if !same.is_empty() && !args.allow_same_version {
        return Err(UserError::input(format!(
            "chart content changed without a new version: {}",
            same.join(", ")
        ))
        .hint("bump `version` in each Chart.yaml (a customer must be able to tell the charts apart), or pass --allow-same-version")
        .into());
    }

    // Two charts packaged under one archive name would overwrite each other.
    let mut by_archive: BTreeMap<String, &str> = BTreeMap::new();
    for c in &sources {
        let key = if args.per_addon {
            c.name.clone()
        } else {
            format!("{}-{}", c.name, c.version)
        };
        if let Some(other) = by_archive.insert(key.clone(), &c.path) {
            return Err(UserError::input(format!(
                "`{other}` and `{}` would both be packaged as `{key}`",
                c.path
            ))
            .hint("charts in one hotfix need distinct Chart.yaml names (and, without --per-addon, distinct name-version pairs)")
            .into());
        }
    }

    Ok((sources, olds, same))
}

/// The hotfix's name: `(product version, hotfix version, the hotfix tag already on new, new's
/// commit time)`.
///
/// Errors (exit 2): a `--base-version` that is not a release version, a bad `--date`; no release
/// tag reachable from base.
fn hotfix_name(
    repo: &gix::Repository,
    settings: &Settings,
    args: &HotfixArgs,
    base_spec: &str,
    base: gix::ObjectId,
    new: gix::ObjectId,
) -> Result<(String, String, Option<String>, u64)> {
    let product_version = match &args.base_version {
        Some(v) if versions::release_version(v).is_some() => v.clone(),
        Some(v) => {
            return Err(
                UserError::input(format!("--base-version `{v}` is not a release version"))
                    .hint("give the product release, e.g. v2.10.2")
                    .into(),
            )
        }
        None => product_version(repo, base_spec, base)?,
    };
    let new_time = packaging::commit_time(repo, new)?;
    let date = match &args.date {
        Some(d) => parse_date(d)?,
        None => packaging::utc_date(new_time),
    };
    let prefix = settings.hotfix_tag_prefix.as_str();
    let (max, existing) = hotfix_tags(repo, prefix, &product_version, new)?;
    let hotfix_version = existing
        .clone()
        .unwrap_or_else(|| versions::hotfix_version(&product_version, &date, max + 1));

    Ok((product_version, hotfix_version, existing, new_time))
}

/// The manifest's chart entries and image delta: each changed chart rendered at both ends (in
/// parallel: rendering is most of a hotfix's work), resource files and image lists changed in
/// the range. Returns the entries, the images of the whole range, those of each chart, and
/// warnings.
///
/// Errors: a version.yml or render context that cannot be read; unreadable objects.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn charts_and_images(
    repo: &gix::Repository,
    settings: &Settings,
    (sources, olds): (&[ChartSource], &BTreeMap<String, Option<ChartSource>>),
    changed: &BTreeMap<String, Vec<String>>,
    resources: &[packaging::ChangedResource],
    (base_tree, new_tree): (gix::ObjectId, gix::ObjectId),
    no_test_images: bool,
) -> Result<(
    Vec<ChartEntry>,
    ImageDelta,
    BTreeMap<String, ImageDelta>,
    Vec<String>,
)> {
    let places = addon_places(repo, new_tree, &settings.version_file)?;
    let mut warnings = Vec::new();
    let mut old_images = BTreeSet::new();
    let mut new_images = BTreeSet::new();
    let mut entries = Vec::new();
    let mut per_chart_images: BTreeMap<String, ImageDelta> = BTreeMap::new();
    // Each changed chart rendered at both ends, charts in parallel (rendering is most of a
    // hotfix's work).
    let rendered =
        packaging::changed_chart_images(repo, settings, (base_tree, new_tree), sources, olds)?;
    for (c, ends) in sources.iter().zip(rendered) {
        let old = olds.get(&c.path).and_then(|o| o.as_ref());
        let tests = !no_test_images;
        let (old_set, new_set) = (ends.old.shipped(tests), ends.new.shipped(tests));
        warnings.extend(ends.warnings);
        per_chart_images.insert(c.path.clone(), image_delta(&old_set, &new_set));
        old_images.extend(old_set);
        new_images.extend(new_set);
        let (module, namespace) = places.get(&c.name).cloned().unwrap_or((None, None));
        entries.push(ChartEntry {
            name: c.name.clone(),
            path: c.path.clone(),
            namespace,
            module,
            from: old.map(|o| o.version.clone()),
            to: c.version.clone(),
            archive: c.package_path().trim_start_matches("charts/").to_string(),
            files: changed.get(&c.path).cloned().unwrap_or_default(),
        });
    }
    // Image lists changed in the range bring their new lines too.
    let (old_lists, new_lists) = (
        compare::listed_images(repo, base_tree, &settings.images_path)?,
        compare::listed_images(repo, new_tree, &settings.images_path)?,
    );
    for r in resources {
        for (data, set) in [(&r.old, &mut old_images), (&r.new, &mut new_images)] {
            if let Some(data) = data {
                set.extend(crate::image::scan::manifest_images(
                    &r.path,
                    data,
                    &mut warnings,
                ));
            }
        }
    }
    // `--no-test-images`: the test list's lines are not shipped either.
    let test_list = if no_test_images {
        crate::derived::list_at(repo, new_tree, settings, crate::image::chart::TEST_KIND)?
    } else {
        BTreeSet::new()
    };
    old_images.extend(old_lists.iter().cloned());
    new_images.extend(
        new_lists
            .difference(&old_lists)
            .filter(|i| !test_list.contains(*i))
            .cloned(),
    );
    let images = image_delta(&old_images, &new_images);
    Ok((entries, images, per_chart_images, warnings))
}

/// Write the packages of `plan` atomically into `-o DIR` (pulling images with `--images`) and,
/// with `--tag`, create the hotfix tag. Returns each package's path and sha256; `plan.manifest`
/// gains the checksums and image digests.
///
/// Errors: registry faults, I/O (a full disk named), an identity missing for `--tag`; a package
/// already written stays (each is complete), nothing is half written.
pub(crate) fn apply(
    repo: &gix::Repository,
    settings: &Settings,
    args: &HotfixArgs,
    plan: &mut HotfixPlan,
) -> Result<Vec<(std::path::PathBuf, String)>> {
    let addons = settings.addons_path.as_str();
    // `--record` refuses before any package is written when its folders hold uncommitted work.
    if args.record {
        let root = record_root(&plan.manifest);
        let folders: Vec<String> = plan
            .package_names
            .iter()
            .map(|n| format!("{root}/{}", n.trim_end_matches(".tar.gz")))
            .collect();
        let refs: Vec<&str> = folders.iter().map(String::as_str).collect();
        if let Some(refusal) = crate::worktree::uncommitted_refusal(repo, &refs, "hotfix --record")?
        {
            return Err(refusal.into());
        }
    }
    // Whether the packaged charts have uncommitted changes (a warning) is a stat of each of
    // their files: done on a thread of its own while the packages are written.
    let packaged: Vec<String> = plan.sources.iter().map(|c| c.path.clone()).collect();
    let shared = repo.clone().into_sync();
    let warn_at = plan.warnings.len();
    let (written, modified) = std::thread::scope(|s| {
        let check = s.spawn(move || {
            let repo = shared.to_thread_local();
            let paths: Vec<&str> = packaged.iter().map(String::as_str).collect();
            git::worktree_modified(&repo, &paths)
        });
        let written = write_all(repo, settings, args, plan);
        let modified = check
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (written, modified)
    });
    match modified {
        Ok(false) => {}
        Ok(true) => plan.warnings.insert(
            warn_at,
            format!(
                "uncommitted changes under {addons} are not in the package (it is built from commits)"
            ),
        ),
        Err(e) => plan.warnings.insert(
            warn_at,
            format!("the work tree under {addons} could not be checked for uncommitted changes: {e:#}"),
        ),
    }
    let written = written?;
    if args.tag && plan.existing.is_none() {
        create_hotfix_tag(repo, &plan.tag_name, plan.new, &plan.manifest)?;
    }
    if args.record {
        plan.recorded = record(repo, args, &plan.manifest, &written)?;
    }
    Ok(written)
}

/// The name of a per-addon package (its top folder): `<product>-hotfix-<addon>-<version>`, or
/// seed 001's `<product>-hotfixes-<addon>-<version>` in the caicloud layout.
fn per_addon_top(settings: &Settings, addon: &str, hotfix_version: &str) -> String {
    let word = match settings.layout {
        crate::settings::Layout::Caicloud => "hotfixes",
        crate::settings::Layout::Helm => "hotfix",
    };
    format!("{}-{word}-{addon}-{hotfix_version}", settings.product)
}

/// Where a per-addon package holds its addon: a single-file addon in the caicloud layout as
/// `<namespace>/<group>/<addon>/values.yaml` (seed 001: `default/app/app-admin/values.yaml`,
/// namespace from `_metadata.namespace`, else `default`; group the folder it sits in), a chart
/// where the full package has it.
fn placed_per_addon(
    settings: &Settings,
    c: &ChartSource,
    b: &packaging::BuiltChart,
) -> packaging::BuiltChart {
    if settings.layout != crate::settings::Layout::Caicloud || !c.single_file() {
        return b.clone();
    }
    let meta = crate::chart::meta::of(&c.files);
    let namespace = meta.namespace.unwrap_or_else(|| "default".into());
    let dir = c.path.rsplit_once('/').map_or("", |(d, _)| d);
    let group = dir
        .rsplit('/')
        .next()
        .filter(|g| !g.is_empty())
        .unwrap_or("addons");
    packaging::BuiltChart {
        at: format!("{namespace}/{group}/{}/values.yaml", c.name),
        bytes: b.bytes.clone(),
    }
}

/// Where `--record` writes: `release-hotfixes/<base>/<YYYYMMDD>` (`<base>` the product version
/// without `v`, the date from the hotfix version `<base>-<YYYYMMDD>-p<N>`; seed 001).
fn record_root(manifest: &Manifest) -> String {
    let base = manifest.base_version.trim_start_matches('v');
    let date = manifest
        .hotfix_version
        .rsplit('-')
        .nth(1)
        .unwrap_or("undated");
    format!("release-hotfixes/{base}/{date}")
}

/// `--record`: the files of the written packages (`packages`), images archives left out, under
/// `<record_root>/<package>/` of the work tree ([`record_root`]), written through the plan (and
/// committed with `--commit`), so the hotfix is reviewed as a change of the repository (seed
/// 001). Each package is read back, so the record is what was written. [`apply`] refused
/// uncommitted changes in those folders before any package was written.
///
/// Errors: a package that cannot be read back; the plan's errors.
fn record(
    repo: &gix::Repository,
    args: &HotfixArgs,
    manifest: &Manifest,
    packages: &[(std::path::PathBuf, String)],
) -> Result<Vec<String>> {
    let root = record_root(manifest);
    let mut plan = crate::plan::Plan::new("hotfix");
    for (path, _) in packages {
        let pkg = crate::unpack::open(path)?;
        let folder = format!("{root}/{}", pkg.top);
        let mut add = |rel: &str, data: Vec<u8>| {
            plan.files.push(crate::worktree::Change::WriteFile {
                path: format!("{folder}/{rel}"),
                entry: crate::files::FileEntry {
                    kind: crate::files::FileKind::Regular,
                    data,
                },
            })
        };
        add(&pkg.manifest_name, pkg.manifest_bytes.clone());
        for (rel, f) in pkg.files {
            // Image archives are for the site, not for git.
            if rel.ends_with(".tar") {
                continue;
            }
            let data = f
                .data
                .with_context(|| format!("{rel} is too large to record"))?;
            add(&rel, data);
        }
    }
    let paths: Vec<String> = plan.paths().iter().map(|p| p.to_string()).collect();
    plan.commit = args.commit.intent(|| {
        format!(
            "hotfix {}: record {} package(s) for {} {}\n",
            manifest.hotfix_version,
            packages.len(),
            manifest.product,
            manifest.base_version
        )
    });
    crate::plan::apply(repo, &plan)?;
    Ok(paths)
}

/// The writing part of [`apply`]: each package, atomically.
fn write_all(
    repo: &gix::Repository,
    settings: &Settings,
    args: &HotfixArgs,
    plan: &mut HotfixPlan,
) -> Result<Vec<(std::path::PathBuf, String)>> {
    let hotfix_version = plan.manifest.hotfix_version.clone();
    let durability = packaging::durability(repo)?;
    let mut written = Vec::new();
    if args.per_addon {
        for (c, b) in plan.sources.iter().zip(&plan.built) {
            let mut m = plan.manifest.clone();
            m.charts.retain(|e| e.path == c.path);
            m.images = plan
                .per_chart_images
                .get(&c.path)
                .cloned()
                .unwrap_or_default();
            let top = per_addon_top(settings, &c.name, &hotfix_version);
            let b = &placed_per_addon(settings, c, b);
            let (path, sum, digests) = write_package(
                repo,
                settings,
                plan.new_tree,
                &top,
                m,
                std::slice::from_ref(b),
                &plan.sources,
                &[],
                plan.stamp,
                durability,
                args,
                &mut plan.warnings,
            )?;
            plan.manifest.image_digests.extend(digests);
            written.push((path, sum));
        }
    } else {
        let (path, sum, digests) = write_package(
            repo,
            settings,
            plan.new_tree,
            &plan.top,
            plan.manifest.clone(),
            &plan.built,
            &plan.sources,
            &plan.resource_files,
            plan.stamp,
            durability,
            args,
            &mut plan.warnings,
        )?;
        plan.manifest
            .sha256
            .insert(format!("{}.tar.gz", plan.top), sum.clone());
        plan.manifest.image_digests = digests;
        written.push((path, sum));
    }
    Ok(written)
}

#[allow(clippy::too_many_arguments)]
fn write_package(
    repo: &gix::Repository,
    settings: &Settings,
    tree: gix::ObjectId,
    top: &str,
    mut manifest: Manifest,
    built: &[packaging::BuiltChart],
    sources: &[ChartSource],
    resources: &[(String, Vec<u8>)],
    stamp: Stamp,
    durability: crate::durable::Durability,
    args: &HotfixArgs,
    warnings: &mut Vec<String>,
) -> Result<(std::path::PathBuf, String, BTreeMap<String, String>)> {
    let mut contents = Contents::new(durability);
    contents.sign_with(packaging::signer(repo, args.pack.sign)?);
    for b in built {
        contents.add(b.at.clone(), b.bytes.clone(), false)?;
    }
    for (path, data) in resources {
        contents.add(path.clone(), data.clone(), false)?;
    }
    let mut list: Vec<String> = manifest
        .images
        .added
        .iter()
        .cloned()
        .chain(manifest.images.changed.iter().map(|c| c.to.clone()))
        .collect();
    list.sort();
    list.dedup();
    // Under the images folder, as the full package has them (`images/images.tar`).
    contents.add_image_list(settings, &list)?;
    // Only the images added or changed in the range.
    if args.images && !list.is_empty() {
        let set = list.iter().cloned().collect();
        let tar = contents.add_images(repo, settings, (tree, &set), &args.pack, stamp)?;
        warnings.extend(tar.warnings.iter().cloned());
        manifest.image_digests = tar.digests;
        manifest.registry = tar.registry;
    }
    let sbom_charts: Vec<&ChartSource> = sources
        .iter()
        .filter(|s| manifest.charts.iter().any(|c| c.path == s.path))
        .collect();
    let list_set: BTreeSet<String> = list.iter().cloned().collect();
    contents.add(
        crate::sbom::FILE.into(),
        crate::sbom::for_package(
            repo,
            settings,
            (
                gix::ObjectId::from_hex(manifest.new_commit.as_bytes())?,
                &manifest.hotfix_version,
            ),
            &sbom_charts,
            Some(&list_set),
            &manifest.image_digests,
        )?,
        false,
    )?;
    let (path, sum) = contents.write(&args.output, top, stamp, "hotfix.yaml", |sums| {
        manifest.sha256 = sums.clone();
        Ok(format!(
            "# Hotfix manifest written by git-release. sha256 covers every other file of this package.\n{}",
            serde_yaml::to_string(&manifest)?
        )
        .into_bytes())
    })?;
    Ok((path, sum, manifest.image_digests))
}

/// `--tag`: an annotated tag on `new`. An existing tag is an error, whatever it points at: hotfix
/// tags are protected like release tags (never moved).
fn create_hotfix_tag(
    repo: &gix::Repository,
    name: &str,
    new: gix::ObjectId,
    m: &Manifest,
) -> Result<()> {
    let full = format!("refs/tags/{name}");
    if repo.try_find_reference(full.as_str())?.is_some() {
        return Err(UserError::refused(format!(
            "tag `{name}` already exists; tags are never moved"
        ))
        .hint(
            "the package was written; a new hotfix of the same base gets the next sequence number",
        )
        .into());
    }
    // The identity is checked before anything else, with --tag's own words.
    repo.committer()
        .ok_or_else(|| UserError::input("--tag needs an identity: set user.name and user.email"))?
        .context("reading the committer identity")?;
    let mut msg = format!(
        "hotfix {} for {} {}\n\n",
        m.hotfix_version, m.product, m.base_version
    );
    for c in &m.charts {
        msg.push_str(&format!(
            "- {} {} -> {}\n",
            c.name,
            c.from.as_deref().unwrap_or("(new)"),
            c.to
        ));
    }
    let mut plan = crate::plan::Plan::new("hotfix");
    plan.tags.push(crate::plan::TagIntent {
        name: name.to_string(),
        target: new,
        message: msg,
        sign: false,
    });
    crate::plan::apply(repo, &plan)?;
    Ok(())
}

fn print_plan(m: &Manifest, names: &[String], out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "hotfix {} for {} {} ({} chart(s))",
        m.hotfix_version,
        m.product,
        m.base_version,
        m.charts.len()
    )?;
    let width = m
        .charts
        .iter()
        .map(|c| c.name.len())
        .chain(m.removed.iter().map(|r| r.name.len()))
        .max()
        .unwrap_or(0)
        .max(20);
    for c in &m.charts {
        writeln!(
            out,
            "  {:<width$} {} -> {}  ({} file(s))",
            c.name,
            c.from.as_deref().unwrap_or("(new)"),
            c.to,
            c.files.len()
        )?;
    }
    for r in &m.removed {
        writeln!(out, "  {:<width$} removed (not packaged)", r.name)?;
    }
    for r in &m.resources {
        writeln!(out, "  resource {r}")?;
    }
    if !m.images.added.is_empty() || !m.images.changed.is_empty() {
        writeln!(
            out,
            "images: {} added, {} changed",
            m.images.added.len(),
            m.images.changed.len()
        )?;
    }
    for name in names {
        writeln!(out, "package: {name}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(split_range("v1..v2").unwrap(), ("v1", "v2"));
        assert_eq!(split_range("v1..").unwrap(), ("v1", "HEAD"));
        assert_eq!(split_range("v1").unwrap(), ("v1", "HEAD"));
        assert!(split_range("a...b").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-11-22").unwrap(), "20261122");
        assert_eq!(parse_date("20261122").unwrap(), "20261122");
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("22.11.2026").is_err());
    }

    #[test]
    fn image_changes_pair_by_repository() {
        let old: BTreeSet<String> = ["r/a:1", "r/b:1", "reg:5000/c:2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let new: BTreeSet<String> = ["r/a:2", "r/b:1", "r/d:1", "reg:5000/c:3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let d = image_delta(&old, &new);
        assert_eq!(d.added, ["r/d:1"]);
        let pairs: Vec<String> = d
            .changed
            .iter()
            .map(|c| format!("{} -> {}", c.from, c.to))
            .collect();
        assert_eq!(pairs, ["r/a:1 -> r/a:2", "reg:5000/c:2 -> reg:5000/c:3"]);
        // A repository kept at its old tag beside a new one: only the one that went away pairs.
        let old: BTreeSet<String> = ["q/w:0.92.0", "q/w:v0.92.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let new: BTreeSet<String> = ["q/w:0.92.0", "q/w:v0.93.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let d = image_delta(&old, &new);
        assert_eq!(
            d.changed,
            [crate::report::ImageChange {
                from: "q/w:v0.92.0".into(),
                to: "q/w:v0.93.1".into()
            }]
        );
        assert!(d.added.is_empty());
    }
}
