//! `git release package [<rev>]`: the full offline package of a product version, built from the
//! object database: every chart as a Helm archive, the image lists, version.yml, configs/,
//! scripts/, install.sh and a `release.yaml` manifest with checksums.
//!
//! Source: seed 002 ("打包流程") and DOMAIN.md step 8.

use clap::Args;

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use crate::archive::Stamp;
use crate::files::FileKind;
use crate::git;
use crate::git::resolve_commit;
use crate::packaging::{self, Contents};
use crate::report::{PackageFile, Report, Warning};
use crate::settings::Settings;

/// `git release package`
#[derive(Args, Debug, Default)]
pub struct PackageArgs {
    /// The revision to package [default: HEAD]; its release tag names the package.
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Folder to write the package to.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: std::path::PathBuf,
    /// How entries are owned, which platform images are packed for.
    #[command(flatten)]
    pub pack: crate::packaging::PackFlags,
    /// Print what would be packaged; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Also pack every image of the lists into `images/images.tar` (an OCI image layout that
    /// docker, podman, nerdctl and ctr load as it is), pulled from its registry once and then
    /// served from the blob cache under the git dir.
    #[arg(long)]
    pub images: bool,
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// `release.yaml` in the package (and the `--json` output).
#[derive(Debug, Serialize)]
pub(crate) struct ReleaseManifest {
    /// `release.product`.
    pub product: String,
    /// The release tag of the packaged commit (or a describe-style name when it has none).
    pub version: String,
    /// The packaged commit.
    pub commit: String,
    /// Every chart.
    pub charts: Vec<PackagedChart>,
    /// sha256 of every other file of the package, by path inside the top folder.
    pub sha256: BTreeMap<String, String>,
    /// With `--images`: `release.registry` the images were packed from (`push` maps it to the
    /// site's registry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Images in `images/images.tar` (with `--images`): full reference -> manifest digest.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, String>,
}

/// One chart of the package.
#[derive(Debug, Serialize)]
pub(crate) struct PackagedChart {
    /// Chart name.
    pub name: String,
    /// Chart version.
    pub version: String,
    /// Folder in the platform repo.
    pub path: String,
    /// `charts/<name>-<version>.tgz`.
    pub archive: String,
}

/// Run `git release package`: [`plan`] it (charts built in memory, so a dry run fails where
/// the real run would), then (unless `--dry-run`) [`write`] it, then report.
pub fn run(args: PackageArgs) -> Result<()> {
    let (mut repo, settings) = crate::open::with_settings(&crate::settings::Overrides {
        no_render_cache: args.no_cache,
        ..Default::default()
    })?;
    // Blobs are read more than once (whitespace check, chart files, images at both ends).
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    packaging::check_output_dir(&args.output)?;
    let mut plan = plan(&repo, &settings, &args)?;
    let path = args.output.join(format!("{}.tar.gz", plan.top));
    let mut report = Report::new(
        "package",
        PackageReport {
            packages: vec![PackageFile::planned(path.display().to_string())],
            manifest: None,
            images: plan.images.clone(),
        },
    );
    report.dry_run = args.dry_run;
    report.rev = Some(plan.commit.to_string());
    if !args.dry_run {
        if git::worktree_modified(&repo, &[])? {
            plan.warnings.push("the work tree has uncommitted changes; they are not in the package (it is built from commits)".into());
        }
        let (path, sum) = write(&repo, &settings, &args, &mut plan)?;
        report.data.packages = vec![PackageFile::written(path.display().to_string(), sum)];
    }
    report.warnings = plan.warnings.iter().cloned().map(Warning::from).collect();
    report.data.manifest = Some(plan.manifest);
    let images = args.images;
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        let Some(m) = &r.data.manifest else {
            return Ok(());
        };
        let file = r.data.packages[0]
            .path
            .rsplit('/')
            .next()
            .unwrap_or_default();
        writeln!(
            out,
            "package {}: {} chart(s) from {}",
            r.verb(file.trim_end_matches(".tar.gz"), file),
            m.charts.len(),
            &m.commit[..12]
        )?;
        if r.dry_run {
            for c in &m.charts {
                writeln!(out, "  {} {}", c.name, c.version)?;
            }
            if images {
                writeln!(out, "images/images.tar: {} image(s)", r.data.images.len())?;
                for i in &r.data.images {
                    writeln!(out, "  {i}")?;
                }
            }
            writeln!(out, "dry run: nothing written")?;
        } else {
            let p = &r.data.packages[0];
            writeln!(
                out,
                "wrote {} (sha256 {})",
                p.path,
                p.sha256.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    })
}

/// What `package` wrote (or would write), as `--json` prints it inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct PackageReport {
    /// The package (sha256 and size null in a dry run).
    pub packages: Vec<PackageFile>,
    /// `release.yaml` (its `sha256` filled in by a real run).
    pub manifest: Option<ReleaseManifest>,
    /// With `--images`: the references packed (or that would be pulled); empty without.
    pub images: Vec<String>,
}

/// Everything `package` writes, computed before anything is written.
pub(crate) struct PackagePlan {
    /// The packaged commit.
    pub commit: gix::ObjectId,
    tree: gix::ObjectId,
    /// `<product>-<version>`: the top folder and the file name without `.tar.gz`.
    pub top: String,
    /// `release.yaml` without its checksums.
    pub manifest: ReleaseManifest,
    built: Vec<packaging::BuiltChart>,
    /// The charts, as read (for the SBOM).
    sources: Vec<packaging::ChartSource>,
    stamp: Stamp,
    /// With `--images`: the references to pack, as located in their registries.
    pub images: Vec<String>,
    /// With `--images`: every image of the lists at the commit, as the lists hold them (what
    /// `oci::pack` locates and pulls); computed once, by [`plan`].
    image_set: std::collections::BTreeSet<String>,
    /// Non-fatal findings.
    pub warnings: Vec<String>,
}

/// Compute the package of `args.rev`: the version name, every top-level chart built as a Helm
/// archive in memory, the manifest, and with `--images` the references to pack (nothing is asked
/// of a registry). Writes nothing.
///
/// Errors: a bad revision or addons path (exit 2), charts that cannot be packaged.
pub(crate) fn plan(
    repo: &gix::Repository,
    settings: &Settings,
    args: &PackageArgs,
) -> Result<PackagePlan> {
    let spec = args.rev.as_deref().unwrap_or("HEAD");
    let commit = resolve_commit(repo, spec)?;
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let mut warnings = Vec::new();
    let version = packaging::version_name(repo, commit, &mut warnings)?;

    if !settings.addons_path.is_empty()
        && git::lookup_path(repo, tree, &settings.addons_path)?.is_none()
    {
        return Err(crate::error::UserError::input(format!(
            "the addons path `{}` does not exist at `{spec}`",
            settings.addons_path
        ))
        .hint("set release.addonsPath (in .gitrelease or `git config`) to the folder that holds the charts")
        .into());
    }
    let mut sources = Vec::new();
    let index = crate::git::TreeIndex::default();
    // Top-level charts (subcharts travel inside their parent's archive) and single-file addons.
    for top in crate::chart::discover::TopCharts::default().at(repo, tree, &settings.addons_path)? {
        sources.push(packaging::read_chart(repo, &index, tree, &top.path)?);
    }
    let manifest_charts: Vec<PackagedChart> = sources
        .iter()
        .map(|c| PackagedChart {
            name: c.name.clone(),
            version: c.version.clone(),
            path: c.path.clone(),
            archive: c.package_path(),
        })
        .collect();
    let top = format!("{}-{version}", settings.product);
    let manifest = ReleaseManifest {
        product: settings.product.clone(),
        version: version.clone(),
        commit: commit.to_string(),
        charts: manifest_charts,
        sha256: BTreeMap::new(),
        registry: None,
        images: BTreeMap::new(),
    };
    // Built in dry runs too: a dry run fails exactly where the real run would (links, .helmignore).
    let stamp = Stamp {
        mtime: packaging::commit_time(repo, commit)?,
        uid: args.pack.owner,
        gid: args.pack.owner,
    };
    let built = packaging::build_charts(&sources, stamp)?;
    let mut image_set = std::collections::BTreeSet::new();
    let mut images = Vec::new();
    if args.images {
        let mut lists = crate::derived::lists_at(repo, settings, commit)?;
        if args.pack.no_test_images {
            lists = lists.without_tests();
        }
        image_set = lists.kinds.into_values().flatten().collect();
        images = crate::registry::locate_at(repo, settings, tree, &image_set)?
            .1
            .into_iter()
            .map(|l| l.reference.unwrap_or(l.image))
            .collect();
    }
    Ok(PackagePlan {
        sources,
        commit,
        tree,
        top,
        manifest,
        built,
        stamp,
        images,
        image_set,
        warnings,
    })
}

/// Write the package `plan` describes into `args.output` (atomically: a temporary file renamed
/// into place), pulling its images with `--images`; fills in the manifest's checksums and image
/// digests. Returns its path and sha256.
///
/// Errors: I/O (naming the path), registry faults.
pub(crate) fn write(
    repo: &gix::Repository,
    settings: &Settings,
    args: &PackageArgs,
    plan: &mut PackagePlan,
) -> Result<(std::path::PathBuf, String)> {
    let (tree, stamp) = (plan.tree, plan.stamp);
    let mut contents = Contents::new(packaging::durability(repo)?);
    contents.sign_with(packaging::signer(repo, args.pack.sign)?);
    for b in std::mem::take(&mut plan.built) {
        contents.add(b.at, b.bytes, false)?;
    }
    // Everything else the installer needs, as committed: image lists, version.yml, the
    // single-file resources of the repos files (`resourcePaths`), configs, scripts.
    let test_list = crate::derived::list_path(settings, crate::image::chart::TEST_KIND);
    // A resource file that is a single-file addon is already in, as an addon.
    let mut resources = crate::components::resource_targets_at(repo, tree, settings)?;
    resources.retain(|r| !plan.sources.iter().any(|s| s.single_file() && s.path == *r));
    // The product description files (compass.yaml, …) where the layout has them.
    resources.extend(settings.product_files.iter().cloned());
    let fixed = [
        settings.images_path.as_str(),
        settings.version_file.as_str(),
        "configs",
        "scripts",
        "install.sh",
        "env.yml",
    ];
    for rel in fixed
        .into_iter()
        .filter(|r| !r.is_empty())
        .chain(resources.iter().map(String::as_str))
    {
        let Some(files) = git::read_path(repo, tree, rel)? else {
            continue;
        };
        for (k, e) in files {
            let path = if k.is_empty() {
                rel.to_string()
            } else {
                format!("{rel}/{k}")
            };
            if e.kind == FileKind::Symlink {
                plan.warnings
                    .push(format!("{path} is a symlink; not packaged"));
                continue;
            }
            // `.gitkeep` only keeps an empty folder in git (init writes them): not shipped.
            if path.rsplit('/').next() == Some(".gitkeep") {
                continue;
            }
            // `--no-test-images`: the `helm test` images are not in the package, nor their list.
            if args.pack.no_test_images && path == test_list {
                continue;
            }
            contents.add(path, e.data, e.kind == FileKind::Executable)?;
        }
    }
    let manifest = &mut plan.manifest;
    if args.images {
        let tar =
            contents.add_images(repo, settings, (tree, &plan.image_set), &args.pack, stamp)?;
        plan.warnings.extend(tar.warnings.iter().cloned());
        manifest.images = tar.digests;
        manifest.registry = tar.registry;
    }
    contents.add(
        crate::sbom::FILE.into(),
        crate::sbom::for_package(
            repo,
            settings,
            (plan.commit, &manifest.version),
            &plan.sources.iter().collect::<Vec<_>>(),
            None,
            &manifest.images,
        )?,
        false,
    )?;
    contents.write(&args.output, &plan.top, stamp, "release.yaml", |sums| {
        manifest.sha256 = sums.clone();
        Ok(format!(
            "# Release manifest written by git-release. sha256 covers every other file of this package.\n{}",
            serde_yaml::to_string(&*manifest)?
        )
        .into_bytes())
    })
}
