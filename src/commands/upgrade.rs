//! `git release upgrade FROM TO`: the package that takes a running platform from release FROM to
//! release TO, computed from the two trees (ancestry is not required: the newest patch of an old
//! line to a new minor is the normal case).
//!
//! Source: seed 003 (upgrade packages `<product>-upgrade-<from>-<to>`: the changed charts, the
//! images the upgrade needs, the components to remove, and `run.sh backup|upgrade|check|remove`).
//! Charts change as in a hotfix (any file of the chart, whitespace-only changes ignored); images
//! are carried at layer level: a layer an image of FROM already brought to the site is left out
//! of `images.tar` and listed in `upgrade.yaml` as expected there.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::archive::Stamp;
use crate::error::UserError;
use crate::git;
use crate::history::compare::{self, ChangedCharts};
use crate::packaging::{self, ChartSource, Contents};
use crate::report::{ImageChange, PackageFile, Report, Warning};
use crate::settings::Settings;

/// `git release upgrade`
#[derive(Args, Debug, Default)]
pub struct UpgradeArgs {
    /// The release the site runs (any revision; normally a release tag, e.g. v2.10.3).
    #[arg(value_name = "FROM")]
    pub from: String,
    /// The release to upgrade to (any revision; normally a release tag, e.g. v2.11.0).
    #[arg(value_name = "TO")]
    pub to: String,
    /// Folder to write the package to.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: std::path::PathBuf,
    /// Also pack the images TO needs that FROM did not have into `images/images.tar` (an OCI
    /// image layout), without the layers FROM's images already brought to the site.
    #[arg(long)]
    pub images: bool,
    /// Allow a chart, or the product version, to go down from FROM to TO.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// How entries are owned, which platform images are packed for.
    #[command(flatten)]
    pub pack: packaging::PackFlags,
    /// Print the plan (charts, removals, order, images, name); write nothing, ask no registry.
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

/// One end of the upgrade.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct End {
    /// As given on the command line.
    pub rev: String,
    /// Product version: its release tag, else `git describe`-style.
    pub version: String,
    /// Full commit id.
    pub commit: String,
}

/// A chart the upgrade touches.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct UpgradeChart {
    /// Chart name (Chart.yaml).
    pub name: String,
    /// Folder in the platform repo (at TO; at FROM for a removed chart).
    pub path: String,
    /// Helm release name: the chart folder's name (as the charts are rendered).
    pub release: String,
    /// From version.yml at TO (at FROM for a removed chart), else `default`.
    pub namespace: String,
    /// Version at FROM (`None` when added).
    pub from: Option<String>,
    /// Version at TO (`None` when removed).
    pub to: Option<String>,
    /// `added`, `changed`, `removed` (the chart is gone at TO) or `disabled` (version.yml at TO
    /// sets `enable: false`).
    pub why: &'static str,
    /// `charts/<name>-<version>.tgz` in the package, for added and changed charts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// Changed files, `A`/`M`/`D` and the path relative to the chart.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// A Helm release in a namespace.
#[derive(Debug, Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Release {
    /// Namespace.
    pub namespace: String,
    /// Release name.
    pub release: String,
}

/// `helm upgrade --install` of one chart.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct Install {
    /// Namespace.
    pub namespace: String,
    /// Release name.
    pub release: String,
    /// The chart archive, relative to the package's top folder.
    pub archive: String,
}

/// The images `run.sh check` compares in one namespace.
#[derive(Debug, Serialize, Clone, Default)]
pub(crate) struct NamespaceImages {
    /// Namespace.
    pub namespace: String,
    /// Images the upgraded charts deploy at TO: each must be running.
    pub expected: Vec<String>,
    /// Images the upgraded charts deployed at FROM and no longer do: none may be running.
    pub stale: Vec<String>,
}

/// What `run.sh` does, in order; the script is written from this and nothing else.
#[derive(Debug, Serialize, Clone, Default)]
pub(crate) struct Steps {
    /// `backup`: `helm get values` and `helm get manifest` of each release the upgrade changes
    /// or removes, into `release_backup/<namespace>/<release>/`.
    pub backup: Vec<Release>,
    /// `upgrade`: `helm upgrade --install`, in version.yml order (charts it does not list last,
    /// by path).
    pub upgrade: Vec<Install>,
    /// `check`: the images running in each touched namespace against these.
    pub check: Vec<NamespaceImages>,
    /// `remove`: `helm uninstall` of the components TO no longer has or has disabled.
    pub remove: Vec<Release>,
}

/// A layer of `images.tar`, or one left out because the site has it.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct Layer {
    /// `sha256:…`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// For a layer left out: the FROM image that brought it to the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_image: Option<String>,
}

/// Sizes of the images of the upgrade, in bytes of `images.tar`.
#[derive(Debug, Serialize, Clone, Default)]
pub(crate) struct Sizes {
    /// This package's `images.tar`.
    pub images_tar: u64,
    /// The same images with every layer (a whole-image differential, as Zarf's
    /// `--differential` makes).
    pub whole_image_differential: u64,
    /// Every image of TO (the full package's `images.tar`).
    pub full_package: u64,
}

/// Images of the upgrade.
#[derive(Debug, Serialize, Clone, Default)]
pub(crate) struct Images {
    /// New references whose repository is new too.
    pub added: Vec<String>,
    /// Same repository, another tag or digest.
    pub changed: Vec<ImageChange>,
    /// References whose repository is gone at TO.
    pub removed: Vec<String>,
    /// With `--images`: every image in `images.tar`, full reference -> manifest digest.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, String>,
    /// With `--images`: layers in `images.tar`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers_included: Vec<Layer>,
    /// With `--images`: layers left out, expected at the site.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers_expected: Vec<Layer>,
    /// With `--images`: `release.registry` the images were packed from (`push` maps it to the
    /// site's registry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// With `--images`: sizes against the alternatives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Sizes>,
}

/// `upgrade.yaml` in the package, and the plan `--dry-run --json` prints.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct UpgradeManifest {
    /// `release.product`.
    pub product: String,
    /// The release the site runs.
    pub from: End,
    /// The release it is upgraded to.
    pub to: End,
    /// Charts added, changed, removed or disabled, by path.
    pub charts: Vec<UpgradeChart>,
    /// Resource files (the `resourcePaths` shape) changed, `A`/`M`/`D` and the path: added and
    /// modified ones are packaged under their path (`run.sh` does not apply them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Images from FROM to TO.
    pub images: Images,
    /// What `run.sh` does.
    pub steps: Steps,
    /// Set when `--allow-downgrade` let a chart or the product version go down.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub downgrades_allowed: Vec<String>,
    /// sha256 of every other file of the package, by path inside the top folder.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sha256: BTreeMap<String, String>,
}

/// What `upgrade --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct UpgradeReport {
    /// The package (sha256 and size null in a dry run).
    pub package: PackageFile,
    /// The plan, as `upgrade.yaml` holds it.
    pub manifest: UpgradeManifest,
}

/// Everything the upgrade writes, computed before anything is written.
pub(crate) struct UpgradePlan {
    /// `upgrade.yaml` (checksums and image data filled in by [`write`]).
    pub manifest: UpgradeManifest,
    /// `<product>-upgrade-<from>-<to>`: the top folder and the file name without `.tar.gz`.
    pub top: String,
    /// Non-fatal findings.
    pub warnings: Vec<String>,
    built: Vec<packaging::BuiltChart>,
    /// The charts packaged, as read (for the SBOM).
    sources: Vec<ChartSource>,
    resource_files: Vec<(String, Vec<u8>)>,
    /// The two ends: commits and trees.
    from: gix::ObjectId,
    to: gix::ObjectId,
    from_tree: gix::ObjectId,
    to_tree: gix::ObjectId,
    /// Image sets at both ends (the lists, and each changed chart rendered).
    from_images: BTreeSet<String>,
    to_images: BTreeSet<String>,
    stamp: Stamp,
}

/// Run `git release upgrade`: [`plan`], then (unless `--dry-run`) [`write`], then report.
pub fn run(args: UpgradeArgs) -> Result<()> {
    let (mut repo, settings) = crate::open::with_settings(&crate::settings::Overrides {
        no_render_cache: args.no_cache,
        ..Default::default()
    })?;
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    packaging::check_output_dir(&args.output)?;
    let mut plan = plan(&repo, &settings, &args)?;
    let name = args.output.join(format!("{}.tar.gz", plan.top));
    let mut package = PackageFile::planned(name.display().to_string());
    if !args.dry_run {
        let (path, sum) = write(&repo, &settings, &args, &mut plan)?;
        package = PackageFile::written(path.display().to_string(), sum);
    }
    let mut report = Report::new(
        "upgrade",
        UpgradeReport {
            package,
            manifest: plan.manifest.clone(),
        },
    );
    report.dry_run = args.dry_run;
    report.rev = Some(plan.manifest.to.commit.clone());
    report.warnings = plan.warnings.iter().cloned().map(Warning::from).collect();
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        print(&r.data, r.dry_run, out)
    })
}

/// Compute the upgrade from `args.from` to `args.to`: the charts added, changed, removed or
/// disabled, their Helm archives (built in memory, so a dry run fails where the real run would),
/// the images at both ends, the steps of `run.sh`, the name. Asks no registry; writes nothing.
///
/// Errors: FROM and TO the same commit, or trees without a chart change (exit 2); a chart, or
/// the product version, going down without `--allow-downgrade` (exit 3, each named); charts
/// that cannot be packaged.
pub(crate) fn plan(
    repo: &gix::Repository,
    settings: &Settings,
    args: &UpgradeArgs,
) -> Result<UpgradePlan> {
    let from = git::resolve_commit(repo, &args.from)?;
    let to = git::resolve_commit(repo, &args.to)?;
    if from == to {
        return Err(UserError::input(format!(
            "`{}` and `{}` are the same commit: there is nothing to upgrade",
            args.from, args.to
        ))
        .hint("give the release the site runs, then the release to upgrade to")
        .into());
    }
    let from_tree = repo.find_commit(from)?.tree_id()?.detach();
    let to_tree = repo.find_commit(to)?.tree_id()?.detach();
    let mut warnings = Vec::new();
    let from_version = crate::packaging::version_name(repo, from, &mut warnings)?;
    let to_version = crate::packaging::version_name(repo, to, &mut warnings)?;
    let mut downgrades = Vec::new();
    // The product version: the nearest release tag of each end.
    let tags = git::release_tags_by_commit(repo)?;
    if let (Some(f), Some(t)) = (
        git::nearest_release(repo, from, &tags)?,
        git::nearest_release(repo, to, &tags)?,
    ) {
        if t.1 < f.1 {
            downgrades.push(format!("product {} -> {}", f.0, t.0));
        }
    }

    let addons = settings.addons_path.as_str();
    let index = git::TreeIndex::default();
    let ChangedCharts {
        changed, removed, ..
    } = compare::changed_charts(repo, &index, from_tree, to_tree, addons, true)?;
    let mut old_roots =
        crate::chart::discover::RootProbe::with_index(repo, from_tree, index.clone());
    let from_addons = addons_of(repo, from_tree, &settings.version_file)?;
    let to_addons = addons_of(repo, to_tree, &settings.version_file)?;
    // The release is the chart folder's name; a single-file addon's, its file name without
    // extension.
    let release_of = crate::chart::meta::addon_stem;
    let namespace_in = |addons: &BTreeMap<String, AddonAt>, name: &str| {
        addons
            .get(name)
            .and_then(|a| a.namespace.clone())
            .unwrap_or_else(|| "default".into())
    };

    let mut charts: Vec<UpgradeChart> = Vec::new();
    let mut sources: Vec<ChartSource> = Vec::new();
    let mut olds: BTreeMap<String, Option<ChartSource>> = BTreeMap::new();
    for (path, files) in &changed {
        let c = packaging::read_chart(repo, &index, to_tree, path)?;
        let old = if old_roots.is_root(path) {
            packaging::read_chart(repo, &index, from_tree, path).ok()
        } else {
            None
        };
        let disabled = to_addons.get(&c.name).is_some_and(|a| !a.enabled);
        if let (Some(o), Some(n)) = (
            old.as_ref()
                .and_then(|o| semver::Version::parse(&o.version).ok()),
            semver::Version::parse(&c.version).ok(),
        ) {
            if n < o {
                downgrades.push(format!("{} ({path}) {o} -> {n}", c.name));
            }
        }
        if old.as_ref().is_some_and(|o| o.version == c.version) {
            warnings.push(format!(
                "{path}: content changed under the same version {} (git release check reports it)",
                c.version
            ));
        }
        charts.push(UpgradeChart {
            name: c.name.clone(),
            path: path.clone(),
            release: release_of(path),
            // A single-file addon names its namespace itself (`_metadata.namespace`).
            namespace: crate::chart::meta::of(&c.files)
                .namespace
                .filter(|_| !to_addons.contains_key(&c.name))
                .unwrap_or_else(|| namespace_in(&to_addons, &c.name)),
            from: old.as_ref().map(|o| o.version.clone()),
            to: Some(c.version.clone()),
            why: match (&old, disabled) {
                (_, true) => "disabled",
                (None, false) => "added",
                (Some(_), false) => "changed",
            },
            archive: (!disabled).then(|| c.package_path()),
            files: files.clone(),
        });
        olds.insert(path.clone(), old);
        if !disabled {
            sources.push(c);
        }
    }
    for path in &removed {
        let old = packaging::read_chart(repo, &index, from_tree, path).ok();
        let name = old
            .as_ref()
            .map_or_else(|| release_of(path), |c| c.name.clone());
        charts.push(UpgradeChart {
            namespace: namespace_in(&from_addons, &name),
            name,
            path: path.clone(),
            release: release_of(path),
            from: old.map(|c| c.version),
            to: None,
            why: "removed",
            archive: None,
            files: Vec::new(),
        });
    }
    // Charts the trees did not change but version.yml at TO turns off (on at FROM): looked for
    // only when some addon is newly off, by each chart's Chart.yaml alone.
    let newly_off = |name: &str| {
        to_addons.get(name).is_some_and(|a| !a.enabled)
            && from_addons.get(name).is_none_or(|a| a.enabled)
    };
    if to_addons.keys().any(|n| newly_off(n)) {
        let roots = crate::chart::discover::chart_roots(repo, to_tree, addons)?;
        for root in roots.keys() {
            if changed.contains_key(root)
                || crate::chart::discover::owner(&roots, &format!("{root}/Chart.yaml"))
                    != Some(root.as_str())
            {
                continue;
            }
            let Some(data) = git::blob_at(repo, to_tree, &crate::files::join(root, "Chart.yaml"))?
            else {
                continue;
            };
            let meta = crate::chart::meta::parse(&data);
            let name = meta.name_or_folder(root);
            if newly_off(&name) {
                charts.push(UpgradeChart {
                    namespace: namespace_in(&to_addons, &name),
                    name,
                    path: root.clone(),
                    release: release_of(root),
                    from: meta.version.clone(),
                    to: meta.version,
                    why: "disabled",
                    archive: None,
                    files: Vec::new(),
                });
            }
        }
    }
    charts.sort_by(|a, b| a.path.cmp(&b.path));
    let resources = crate::packaging::changed_resources(repo, settings, from_tree, to_tree)?;
    if charts.is_empty() && resources.is_empty() {
        return Err(UserError::input(format!(
            "{}..{} changes no chart under {}",
            args.from,
            args.to,
            if addons.is_empty() { "." } else { addons }
        ))
        .hint("nothing to upgrade; check the two releases")
        .into());
    }
    if !downgrades.is_empty() && !args.allow_downgrade {
        return Err(UserError::refused(format!(
            "the upgrade from {} to {} goes down: {}",
            args.from,
            args.to,
            downgrades.join(", ")
        ))
        .hint("a site cannot be upgraded to lower chart versions; check the order of FROM and TO, or pass --allow-downgrade if it is meant")
        .into());
    }
    // Two charts packaged under one archive name would overwrite each other.
    let mut by_archive: BTreeMap<String, &str> = BTreeMap::new();
    for c in &sources {
        let key = format!("{}-{}", c.name, c.version);
        if let Some(other) = by_archive.insert(key.clone(), &c.path) {
            return Err(UserError::input(format!(
                "`{other}` and `{}` would both be packaged as `{key}`",
                c.path
            ))
            .hint("charts in one package need distinct Chart.yaml name-version pairs")
            .into());
        }
    }

    // Images: each changed chart rendered at both ends, and the image lists.
    let rendered =
        packaging::changed_chart_images(repo, settings, (from_tree, to_tree), &sources, &olds)?;
    let mut from_images = compare::listed_images(repo, from_tree, &settings.images_path)?;
    let mut to_images = compare::listed_images(repo, to_tree, &settings.images_path)?;
    let mut check: BTreeMap<String, NamespaceImages> = BTreeMap::new();
    for (c, ends) in sources.iter().zip(rendered) {
        warnings.extend(ends.warnings);
        let ns = namespace_in(&to_addons, &c.name);
        let e = check.entry(ns.clone()).or_insert_with(|| NamespaceImages {
            namespace: ns,
            ..Default::default()
        });
        e.stale
            .extend(ends.old.deployed.difference(&ends.new.deployed).cloned());
        let tests = !args.pack.no_test_images;
        from_images.extend(ends.old.shipped(tests));
        to_images.extend(ends.new.shipped(tests));
        e.expected.extend(ends.new.deployed);
    }
    if args.pack.no_test_images {
        // The test list's lines are not shipped either.
        for i in crate::derived::list_at(repo, to_tree, settings, crate::image::chart::TEST_KIND)? {
            to_images.remove(&i);
        }
    }
    // Resource files (the `resourcePaths` shape): added and modified ones are packaged under
    // their path, with their images; deleted ones are listed.
    for r in &resources {
        for (data, set) in [(&r.old, &mut from_images), (&r.new, &mut to_images)] {
            if let Some(data) = data {
                set.extend(crate::image::scan::manifest_images(
                    &r.path,
                    data,
                    &mut warnings,
                ));
            }
        }
        if r.change == "D" {
            warnings.push(format!(
                "{}: deleted at {}; run.sh does not remove what it installed (remove it by hand)",
                r.path, args.to
            ));
        }
    }
    for n in check.values_mut() {
        n.expected.sort();
        n.expected.dedup();
        // An image another upgraded chart of the namespace deploys is not stale.
        let expected: BTreeSet<&String> = n.expected.iter().collect();
        n.stale.retain(|s| !expected.contains(s));
        n.stale.sort();
        n.stale.dedup();
    }
    let diff = compare::image_diff(&from_images, &to_images);

    // The order: version.yml at TO, then charts it does not list, by path.
    let mut upgrade: Vec<(usize, Install)> = charts
        .iter()
        .filter_map(|c| {
            let archive = c.archive.clone()?;
            let pos = to_addons.get(&c.name).map_or(usize::MAX, |a| a.position);
            Some((
                pos,
                Install {
                    namespace: c.namespace.clone(),
                    release: c.release.clone(),
                    archive,
                },
            ))
        })
        .collect();
    upgrade.sort_by_key(|a| a.0);
    let steps = Steps {
        backup: charts
            .iter()
            .filter(|c| c.from.is_some())
            .map(|c| Release {
                namespace: c.namespace.clone(),
                release: c.release.clone(),
            })
            .collect(),
        upgrade: upgrade.into_iter().map(|(_, i)| i).collect(),
        check: check.into_values().collect(),
        remove: charts
            .iter()
            .filter(|c| c.why == "removed" || c.why == "disabled")
            .map(|c| Release {
                namespace: c.namespace.clone(),
                release: c.release.clone(),
            })
            .collect(),
    };
    let bare = |v: &str| {
        v.strip_prefix('v')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or(v)
            .to_string()
    };
    let top = format!(
        "{}-upgrade-{}-{}",
        settings.product,
        bare(&from_version),
        bare(&to_version)
    );
    let stamp = Stamp {
        mtime: packaging::commit_time(repo, to)?,
        uid: args.pack.owner,
        gid: args.pack.owner,
    };
    let built = packaging::build_charts(&sources, stamp)?;
    let resource_files: Vec<(String, Vec<u8>)> = resources
        .iter()
        .filter_map(|r| r.new.clone().map(|d| (r.path.clone(), d)))
        .collect();
    let manifest = UpgradeManifest {
        product: settings.product.clone(),
        from: End {
            rev: args.from.clone(),
            version: from_version,
            commit: from.to_string(),
        },
        to: End {
            rev: args.to.clone(),
            version: to_version,
            commit: to.to_string(),
        },
        charts,
        resources: resources
            .iter()
            .map(|r| format!("{} {}", r.change, r.path))
            .collect(),
        images: Images {
            added: diff.added,
            changed: diff.changed,
            removed: diff.removed,
            ..Default::default()
        },
        steps,
        downgrades_allowed: if args.allow_downgrade {
            downgrades
        } else {
            Vec::new()
        },
        sha256: BTreeMap::new(),
    };
    Ok(UpgradePlan {
        manifest,
        top,
        warnings,
        built,
        sources,
        resource_files,
        from,
        to,
        from_tree,
        to_tree,
        from_images,
        to_images,
        stamp,
    })
}

/// An addon of version.yml, as the upgrade needs it.
struct AddonAt {
    /// Position in file order (the install order).
    position: usize,
    namespace: Option<String>,
    enabled: bool,
}

/// version.yml's addons at `tree`, by name.
///
/// Errors: a version.yml that cannot be read (exit 2, naming file and line).
fn addons_of(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    rel: &str,
) -> Result<BTreeMap<String, AddonAt>> {
    let Some(data) = git::blob_at(repo, tree, rel)? else {
        return Ok(BTreeMap::new());
    };
    Ok(crate::version_yml::read(rel, &data)?
        .into_iter()
        .enumerate()
        .map(|(position, a)| {
            (
                a.name,
                AddonAt {
                    position,
                    namespace: a.namespace,
                    enabled: a.enabled,
                },
            )
        })
        .collect())
}

/// Write the package of `plan` atomically into `-o DIR`: the chart archives, `images/images.list`
/// (the images TO needs that FROM did not have), with `--images` `images/images.tar`
/// ([`crate::oci::pack_upgrade`]), `run.sh` and `upgrade.yaml` with the checksums of every other
/// file. Returns its path and sha256.
///
/// Errors: registry faults, I/O (a full disk named); nothing is half written.
pub(crate) fn write(
    repo: &gix::Repository,
    settings: &Settings,
    args: &UpgradeArgs,
    plan: &mut UpgradePlan,
) -> Result<(std::path::PathBuf, String)> {
    let mut contents = Contents::new(packaging::durability(repo)?);
    contents.sign_with(packaging::signer(repo, args.pack.sign)?);
    for b in std::mem::take(&mut plan.built) {
        contents.add(b.at, b.bytes, false)?;
    }
    for (path, data) in std::mem::take(&mut plan.resource_files) {
        contents.add(path, data, false)?;
    }
    // With --images, every image each end deploys (every chart rendered, through the render
    // cache, as `package --images` lists them): what the site runs is all of FROM, not only the
    // charts that changed.
    if args.images {
        // `--no-test-images`: the `helm test` images stay out here too (the plan left them out
        // of the changed charts' sets; this is every chart).
        let all = |commit| -> Result<BTreeSet<String>> {
            let lists = crate::derived::lists_at(repo, settings, commit)?;
            let lists = if args.pack.no_test_images {
                lists.without_tests()
            } else {
                lists
            };
            Ok(lists.kinds.into_values().flatten().collect())
        };
        plan.from_images.extend(all(plan.from)?);
        plan.to_images.extend(all(plan.to)?);
    }
    let needed: BTreeSet<String> = plan
        .to_images
        .difference(&plan.from_images)
        .cloned()
        .collect();
    contents.add_image_list(settings, &needed)?;
    let m = &mut plan.manifest;
    if args.images && !needed.is_empty() {
        let up = crate::oci::pack_upgrade(
            repo,
            settings,
            (plan.from_tree, &plan.from_images),
            (plan.to_tree, &plan.to_images),
            (&m.from.version, &m.to.version),
            &args.pack.platform,
            args.pack.allow_other_platform,
            plan.stamp,
        )?;
        plan.warnings.extend(up.tar.warnings.iter().cloned());
        m.images.digests = up.tar.digests.clone();
        m.images.registry = up.tar.registry.clone();
        m.images.layers_included = up
            .included
            .iter()
            .map(|(d, s)| Layer {
                digest: d.clone(),
                size: *s,
                from_image: None,
            })
            .collect();
        m.images.layers_expected = up
            .expected
            .iter()
            .map(|(d, s, f)| Layer {
                digest: d.clone(),
                size: *s,
                from_image: Some(f.clone()),
            })
            .collect();
        m.images.sizes = Some(Sizes {
            images_tar: up.tar.size,
            whole_image_differential: up.whole_image_bytes,
            full_package: up.full_bytes,
        });
        contents.add_images_tar(settings, &up.tar)?;
    }
    contents.add("run.sh".into(), run_sh(m).into_bytes(), true)?;
    let sbom_charts: Vec<&ChartSource> = plan.sources.iter().collect();
    contents.add(
        crate::sbom::FILE.into(),
        crate::sbom::for_package(
            repo,
            settings,
            (plan.to, &m.to.version),
            &sbom_charts,
            Some(&needed),
            &m.images.digests,
        )?,
        false,
    )?;
    contents.write(&args.output, &plan.top, plan.stamp, "upgrade.yaml", |sums| {
        m.sha256 = sums.clone();
        Ok(format!(
            "# Upgrade manifest written by git-release. sha256 covers every other file of this package.\n{}",
            serde_yaml::to_string(&*m)?
        )
        .into_bytes())
    })
}

/// `s` as one bash word (single-quoted unless it is plain).
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@=+,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `run.sh`: plain bash calling only `helm` and `kubectl`, written from `m.steps`.
/// `./run.sh backup|upgrade|check|remove [--dry-run]`; `--dry-run` prints each command instead
/// of running it.
pub(crate) fn run_sh(m: &UpgradeManifest) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "#!/usr/bin/env bash\n\
# Upgrade {product} from {from} to {to}: written by git-release from upgrade.yaml (its `steps`).\n\
#\n\
# usage: ./run.sh backup|upgrade|check|remove [--dry-run]\n\
#   backup   helm get values/manifest of each release the upgrade changes or removes,\n\
#            into release_backup/<namespace>/<release>/\n\
#   upgrade  helm upgrade --install of each changed chart, in version.yml order\n\
#   check    the images running in each touched namespace against the expected ones;\n\
#            exits 1 on any mismatch\n\
#   remove   helm uninstall of the components {to} no longer has\n\
#   --dry-run  print the commands instead of running them\n\
set -euo pipefail\n\
cd \"$(dirname \"$0\")\"\n\
\n\
cmd=\"\"\n\
dry=0\n\
for a in \"$@\"; do\n\
  case $a in\n\
  --dry-run) dry=1 ;;\n\
  backup | upgrade | check | remove) cmd=$a ;;\n\
  *) echo \"run.sh: unknown argument: $a (backup|upgrade|check|remove [--dry-run])\" >&2; exit 2 ;;\n\
  esac\n\
done\n\
\n\
# run CMD...: run it, or print it with --dry-run.\n\
run() {{\n\
  if ((dry)); then\n\
    printf '%s\\n' \"$*\"\n\
  else\n\
    \"$@\"\n\
  fi\n\
}}\n\
\n\
# save NAMESPACE RELEASE: the release's values and manifest.\n\
save() {{\n\
  local d=\"release_backup/$1/$2\"\n\
  if ((dry)); then\n\
    printf '%s\\n' \"helm get values $2 --namespace $1 --output yaml > $d/values.yaml\" \"helm get manifest $2 --namespace $1 > $d/manifest.yaml\"\n\
    return\n\
  fi\n\
  mkdir -p \"$d\"\n\
  helm get values \"$2\" --namespace \"$1\" --output yaml >\"$d/values.yaml\"\n\
  helm get manifest \"$2\" --namespace \"$1\" >\"$d/manifest.yaml\"\n\
}}\n\
\n\
JSONPATH='{{range .items[*]}}{{range .spec.initContainers[*]}}{{.image}}{{\"\\n\"}}{{end}}{{range .spec.containers[*]}}{{.image}}{{\"\\n\"}}{{end}}{{end}}'\n\
\n\
# An expected image matches a running one that equals it or ends with /IMAGE once the\n\
# install-time registry placeholder (`[[ registry_release ]]/`) is taken off: the site's\n\
# registry name is not known here.\n\
bare() {{\n\
  local i=$1\n\
  while [[ $i == '[['*']]/'* ]]; do i=${{i#*]]/}}; done\n\
  printf '%s' \"$i\"\n\
}}\n\
\n\
# running_has IMAGE: whether $running holds IMAGE.\n\
running_has() {{\n\
  local want r\n\
  want=$(bare \"$1\")\n\
  while IFS= read -r r; do\n\
    [[ -z $r ]] && continue\n\
    case $r in \"$want\" | */\"$want\") return 0 ;; esac\n\
  done <<<\"$running\"\n\
  return 1\n\
}}\n\
\n\
bad=0\n\
# images NAMESPACE: what runs there.\n\
images() {{\n\
  if ((dry)); then\n\
    printf '%s\\n' \"kubectl get pods --namespace $1 --output jsonpath=$JSONPATH\"\n\
    running=\"\"\n\
    return\n\
  fi\n\
  running=$(kubectl get pods --namespace \"$1\" --output \"jsonpath=$JSONPATH\")\n\
}}\n\
expect() {{\n\
  ((dry)) && return 0\n\
  if ! running_has \"$2\"; then\n\
    echo \"check: $1: $2 is not running\" >&2\n\
    bad=$((bad + 1))\n\
  fi\n\
}}\n\
stale() {{\n\
  ((dry)) && return 0\n\
  if running_has \"$2\"; then\n\
    echo \"check: $1: $2 still runs (the upgrade replaces it)\" >&2\n\
    bad=$((bad + 1))\n\
  fi\n\
}}\n\
\n",
        product = m.product,
        from = m.from.version,
        to = m.to.version,
    ));
    s.push_str("backup() {\n");
    for r in &m.steps.backup {
        s.push_str(&format!("  save {} {}\n", sh(&r.namespace), sh(&r.release)));
    }
    s.push_str("  :\n}\n\nupgrade() {\n");
    for i in &m.steps.upgrade {
        // A single-file addon (the caicloud layout) is no Helm chart: the platform's addon
        // installer applies it (seed 001: "参考部署手册"), so the step names it.
        if i.archive.ends_with(".yaml") || i.archive.ends_with(".yml") {
            s.push_str(&format!(
                "  run echo {}\n",
                sh(&format!(
                    "upgrade: apply {} ({} in namespace {}) with the platform's addon installer",
                    i.archive, i.release, i.namespace
                ))
            ));
            continue;
        }
        s.push_str(&format!(
            "  run helm upgrade --install {} {} --namespace {} --create-namespace --reset-then-reuse-values\n",
            sh(&i.release),
            sh(&i.archive),
            sh(&i.namespace)
        ));
    }
    s.push_str("  :\n}\n\ncheck() {\n");
    for n in &m.steps.check {
        let ns = sh(&n.namespace);
        s.push_str(&format!("  images {ns}\n"));
        for e in &n.expected {
            s.push_str(&format!("  expect {ns} {}\n", sh(e)));
        }
        for e in &n.stale {
            s.push_str(&format!("  stale {ns} {}\n", sh(e)));
        }
    }
    s.push_str(
        "  if ((bad)); then\n    echo \"check: $bad mismatch(es)\" >&2\n    exit 1\n  fi\n  ((dry)) || echo \"check: every expected image runs\"\n}\n\nremove() {\n",
    );
    for r in &m.steps.remove {
        s.push_str(&format!(
            "  run helm uninstall {} --namespace {}\n",
            sh(&r.release),
            sh(&r.namespace)
        ));
    }
    s.push_str(
        "  :\n}\n\ncase $cmd in\nbackup | upgrade | check | remove) \"$cmd\" ;;\n*) echo \"usage: ./run.sh backup|upgrade|check|remove [--dry-run]\" >&2; exit 2 ;;\nesac\n",
    );
    s
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn print(r: &UpgradeReport, dry_run: bool, out: &mut dyn Write) -> Result<()> {
    let m = &r.manifest;
    writeln!(
        out,
        "upgrade {} {} -> {} ({} chart(s))",
        m.product,
        m.from.version,
        m.to.version,
        m.charts.len()
    )?;
    let width = m
        .charts
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(16);
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".into());
    for c in &m.charts {
        writeln!(
            out,
            "  {:<width$} {} -> {}  {} ({}/{})",
            c.name,
            v(&c.from),
            v(&c.to),
            c.why,
            c.namespace,
            c.release
        )?;
    }
    for r in &m.resources {
        writeln!(out, "  resource {r}")?;
    }
    let i = &m.images;
    if !(i.added.is_empty() && i.changed.is_empty() && i.removed.is_empty()) {
        writeln!(
            out,
            "images: {} added, {} changed, {} removed",
            i.added.len(),
            i.changed.len(),
            i.removed.len()
        )?;
    }
    if let Some(s) = &i.sizes {
        let ratio = |b: u64| {
            if s.images_tar > 0 {
                format!("{:.1}x", b as f64 / s.images_tar as f64)
            } else {
                "-".into()
            }
        };
        writeln!(
            out,
            "images.tar: {} ({} layer(s); {} left out, expected at the site); a whole-image differential: {} ({}); the full package's images: {} ({})",
            human(s.images_tar),
            i.layers_included.len(),
            i.layers_expected.len(),
            human(s.whole_image_differential),
            ratio(s.whole_image_differential),
            human(s.full_package),
            ratio(s.full_package)
        )?;
    }
    writeln!(
        out,
        "run.sh: backup {}, upgrade {}, check {} namespace(s), remove {}",
        m.steps.backup.len(),
        m.steps.upgrade.len(),
        m.steps.check.len(),
        m.steps.remove.len()
    )?;
    if dry_run {
        writeln!(out, "would write {}", r.package.path)?;
        writeln!(out, "dry run: nothing written")?;
    } else {
        writeln!(
            out,
            "wrote {} (sha256 {}, {})",
            r.package.path,
            r.package.sha256.as_deref().unwrap_or(""),
            human(r.package.size.unwrap_or(0))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(sh("addons/web"), "addons/web");
        assert_eq!(
            sh("[[ registry_release ]]/a:1"),
            "'[[ registry_release ]]/a:1'"
        );
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(sh(""), "''");
    }
}
