//! `git release plugin`: the plugin files of the repository (seed 001, "插件包"):
//! `release-plugins/<name>.yaml` (`release.pluginsPath`). `plugin list [REV]` shows what the
//! release rules read from each.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::report::Report;

/// `git release plugin`
#[derive(Args, Debug)]
pub struct PluginArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: PluginAction,
}

/// `git release plugin` subcommands.
#[derive(Subcommand, Debug)]
pub enum PluginAction {
    /// List the plugins of a revision: name, version, image, port, slots, requirement.
    List(PluginListArgs),
    /// Package one plugin: its file, with --images its image, an SBOM and checksums.
    Package(PluginPackageArgs),
    /// Raise a plugin's spec.version and its image tag together, in place.
    Bump(PluginBumpArgs),
}

/// `git release plugin list`
#[derive(Args, Debug, Default)]
pub struct PluginListArgs {
    /// Revision whose plugins are listed [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// What `plugin list --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct ListReport {
    /// The plugins, by file name.
    pub plugins: Vec<crate::plugins::Plugin>,
}

/// Run `git release plugin`.
pub fn run(args: PluginArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Default::default())?;
    match args.action {
        PluginAction::Package(a) => package(&repo, &settings, &a),
        PluginAction::Bump(a) => bump(&repo, &settings, &a),
        PluginAction::List(a) => {
            let rev = a.rev.as_deref().unwrap_or("HEAD");
            let commit = crate::git::resolve_commit(&repo, rev)?;
            let tree = repo.find_commit(commit)?.tree_id()?.detach();
            let plugins = crate::plugins::at(&repo, tree, &settings)?;
            let mut report = Report::new("plugin list", ListReport { plugins });
            report.rev = Some(commit.to_string());
            let folder = settings.plugins_path.clone();
            report.emit(a.json, &mut std::io::stdout().lock(), |r, out| {
                print(&r.data, &folder, out)
            })
        }
    }
}

fn print(r: &ListReport, folder: &str, out: &mut dyn Write) -> Result<()> {
    if r.plugins.is_empty() {
        writeln!(out, "no plugin under {folder}/")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = r
        .plugins
        .iter()
        .map(|p| {
            let mut slots: Vec<&str> = p.slots.iter().map(|s| s.slot.as_str()).collect();
            slots.dedup();
            vec![
                p.name.clone(),
                p.version.clone(),
                p.image.clone().unwrap_or_else(|| "-".into()),
                p.port.map_or_else(|| "-".into(), |n| n.to_string()),
                if slots.is_empty() {
                    "-".into()
                } else {
                    slots.join(",")
                },
                p.requirement.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let head = ["PLUGIN", "VERSION", "IMAGE", "PORT", "SLOTS", "REQUIRES"].map(String::from);
    let mut table = vec![head.to_vec()];
    table.extend(rows);
    crate::table::write_table(out, &table)?;
    Ok(())
}

/// `git release plugin package`
#[derive(Args, Debug, Default)]
pub struct PluginPackageArgs {
    /// The plugin (`metadata.name`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Revision to package it from [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Folder to write the package to.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: std::path::PathBuf,
    /// Also pack the plugin's image into `images/images.tar` (an OCI image layout, as every
    /// package has it).
    #[arg(long)]
    pub images: bool,
    /// How entries are owned, which platform images are packed for, signing.
    #[command(flatten)]
    pub pack: crate::packaging::PackFlags,
    /// Print what would be written; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `plugin-package.yaml` in a plugin package (and `plugin package --json`).
#[derive(Debug, Serialize, Clone)]
pub(crate) struct PluginManifest {
    /// `release.product`.
    pub product: String,
    /// The plugin (`metadata.name`).
    pub plugin: String,
    /// Its `spec.version`.
    pub version: String,
    /// The commit it was packaged from.
    pub commit: String,
    /// The plugin file in the package.
    pub file: String,
    /// Its images (`spec.service.image`).
    pub images: Vec<String>,
    /// With `--images`: full reference -> manifest digest.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub image_digests: std::collections::BTreeMap<String, String>,
    /// With `--images`: `release.registry` the images were packed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// sha256 of every other file of the package.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sha256: std::collections::BTreeMap<String, String>,
}

/// What `plugin package --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct PackageReport {
    /// The package (sha256 and size null in a dry run).
    pub package: crate::report::PackageFile,
    /// Its manifest.
    pub manifest: PluginManifest,
}

/// `git release plugin package NAME [REV]`: `<product>-plugins-<name>-<version>.tar.gz` holding
/// `<product>-plugins-<name>.yaml` (the plugin file as committed), with `--images` its image in
/// `images/images.tar`, `sbom.cdx.json`, and `plugin-package.yaml` with the checksums of every
/// other file. Reproducible byte for byte; `verify` and `push` read it like any package.
///
/// Errors: no plugin of that name at REV (exit 2); a plugin that fails its check rules (exit 3,
/// listing the findings); registry faults; I/O.
fn package(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    a: &PluginPackageArgs,
) -> Result<()> {
    use crate::error::UserError;
    let rev = a.rev.as_deref().unwrap_or("HEAD");
    let commit = crate::git::resolve_commit(repo, rev)?;
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let plugins = crate::plugins::at(repo, tree, settings)?;
    let Some(p) = plugins.iter().find(|p| p.name == a.name) else {
        let names: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
        return Err(UserError::input(format!(
            "no plugin `{}` under {} at {rev}",
            a.name, settings.plugins_path
        ))
        .hint(if names.is_empty() {
            "there is no plugin file there".to_string()
        } else {
            format!("the plugins are: {}", names.join(", "))
        })
        .into());
    };
    // A plugin that fails its rules is not packaged.
    let mut findings = Vec::new();
    crate::check::plugins::check(repo, settings, commit, &mut findings)?;
    let own: Vec<String> = findings
        .iter()
        .filter(|f| {
            f.path.as_deref() == Some(p.file.as_str())
                || f.message.contains(&format!("({}:", p.file))
        })
        .map(|f| {
            format!(
                "{}: {}:{}: {}",
                f.rule,
                p.file,
                f.line.unwrap_or(0),
                f.message
            )
        })
        .collect();
    if !own.is_empty() {
        return Err(UserError::refused(format!(
            "plugin {} fails its rules: {}",
            p.name,
            own.join("; ")
        ))
        .hint("fix the plugin file (`git release check` lists the same), commit, and package again")
        .into());
    }
    let top = format!("{}-plugins-{}-{}", settings.product, p.name, p.version);
    let file = format!("{}-plugins-{}.yaml", settings.product, p.name);
    let stamp = crate::archive::Stamp {
        mtime: crate::packaging::commit_time(repo, commit)?,
        uid: a.pack.owner,
        gid: a.pack.owner,
    };
    let images: Vec<String> = p.image.iter().cloned().collect();
    let mut manifest = PluginManifest {
        product: settings.product.clone(),
        plugin: p.name.clone(),
        version: p.version.clone(),
        commit: commit.to_string(),
        file: file.clone(),
        images: images.clone(),
        image_digests: Default::default(),
        registry: None,
        sha256: Default::default(),
    };
    let path = a.output.join(format!("{top}.tar.gz"));
    // Images packed for another platform (--allow-other-platform), one each.
    let mut warnings: Vec<String> = Vec::new();
    let mut package = crate::report::PackageFile::planned(path.display().to_string());
    if !a.dry_run {
        crate::packaging::check_output_dir(&a.output)?;
        let mut contents = crate::packaging::Contents::new(crate::packaging::durability(repo)?);
        contents.sign_with(crate::packaging::signer(repo, a.pack.sign)?);
        contents.add(file.clone(), p.bytes.clone(), false)?;
        contents.add_image_list(settings, &images)?;
        if a.images && !images.is_empty() {
            let set = images.iter().cloned().collect();
            let tar = contents.add_images(repo, settings, (tree, &set), &a.pack, stamp)?;
            warnings.extend(tar.warnings.iter().cloned());
            manifest.image_digests = tar.digests;
            manifest.registry = tar.registry;
        }
        let located = crate::registry::locate_at(repo, settings, tree, &images)?.1;
        let sbom_images: Vec<crate::sbom::Image> = located
            .into_iter()
            .map(|l| crate::sbom::Image {
                packed: l.reference.as_ref().and_then(|r| {
                    manifest
                        .image_digests
                        .get(r)
                        .map(|d| (r.clone(), d.clone()))
                }),
                image: l.image,
                charts: Default::default(),
            })
            .collect();
        contents.add(
            crate::sbom::FILE.into(),
            crate::sbom::write(
                &format!("{}-plugins-{}", settings.product, p.name),
                &p.version,
                &commit.to_string(),
                stamp.mtime,
                &[],
                &sbom_images,
            )?,
            false,
        )?;
        let (written, sum) = contents.write(&a.output, &top, stamp, "plugin-package.yaml", |sums| {
            manifest.sha256 = sums.clone();
            Ok(format!(
                "# Plugin package manifest written by git-release. sha256 covers every other file of this package.\n{}",
                serde_yaml::to_string(&manifest)?
            )
            .into_bytes())
        })?;
        package = crate::report::PackageFile::written(written.display().to_string(), sum);
    }
    let mut report = Report::new("plugin package", PackageReport { package, manifest });
    report.dry_run = a.dry_run;
    report.rev = Some(commit.to_string());
    report.warnings = warnings
        .into_iter()
        .map(crate::report::Warning::from)
        .collect();
    report.emit(a.json, &mut std::io::stdout().lock(), |r, out| {
        let m = &r.data.manifest;
        writeln!(
            out,
            "plugin {} {} ({} image(s))",
            m.plugin,
            m.version,
            m.images.len()
        )?;
        if r.dry_run {
            writeln!(out, "would write {}", r.data.package.path)?;
            writeln!(out, "dry run: nothing written")?;
        } else {
            writeln!(
                out,
                "wrote {} (sha256 {})",
                r.data.package.path,
                r.data.package.sha256.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    })
}

/// `git release plugin bump`
#[derive(Args, Debug, Default)]
pub struct PluginBumpArgs {
    /// The plugin (`metadata.name`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Raise the minor version (v0.1.3 -> v0.2.0) instead of the patch.
    #[arg(long, conflicts_with = "major")]
    pub minor: bool,
    /// Raise the major version (v0.1.3 -> v1.0.0).
    #[arg(long)]
    pub major: bool,
    /// `--commit`, `--no-verify`.
    #[command(flatten)]
    pub commit: crate::plan::CommitFlags,
    /// Print the change; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// What `plugin bump --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct BumpReport {
    /// The plugin file, repo-relative.
    pub file: String,
    /// `spec.version` before and after.
    pub from: String,
    /// The new version.
    pub to: String,
    /// `spec.service.image` after (its tag follows the version), when it has one.
    pub image: Option<String>,
}

/// `plugin bump NAME`: `spec.version` and the tag of `spec.service.image` raised together in the
/// work tree's plugin file, in place (only the bytes of the two values change; layout and
/// comments kept, [`crate::yaml_edit::set_scalars`]), then committed with `--commit`.
///
/// Errors: no such plugin in the work tree (exit 2); an uncommitted edit to the file is kept
/// (the edit is made on it); a value that cannot be edited in place (exit 2).
fn bump(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    a: &PluginBumpArgs,
) -> Result<()> {
    use crate::error::UserError;
    use crate::yaml_edit::Seg;
    let workdir = crate::git::workdir(repo)?;
    let dir = crate::paths::abs(&workdir, &settings.plugins_path);
    let mut found = None;
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let rel = crate::files::join(&settings.plugins_path, &name);
        let bytes = std::fs::read(e.path())?;
        let p = crate::plugins::parse(&rel, &bytes)?;
        if p.name == a.name {
            found = Some((p, bytes));
            break;
        }
    }
    let Some((p, bytes)) = found else {
        return Err(UserError::input(format!(
            "no plugin `{}` under {}",
            a.name, settings.plugins_path
        ))
        .into());
    };
    let v = p.semver().ok_or_else(|| {
        UserError::input(format!(
            "{}:{}: spec.version `{}` is not SemVer",
            p.file, p.version_line, p.version
        ))
    })?;
    let next = if a.major {
        semver::Version::new(v.major + 1, 0, 0)
    } else if a.minor {
        semver::Version::new(v.major, v.minor + 1, 0)
    } else {
        semver::Version::new(v.major, v.minor, v.patch + 1)
    };
    let to = format!("v{next}");
    let text = String::from_utf8(bytes)
        .map_err(|_| UserError::input(format!("{} is not UTF-8", p.file)))?;
    let key = |k: &str| Seg::Key(k.into());
    let mut edits = vec![(vec![key("spec"), key("version")], to.clone())];
    let image = p.image.as_ref().map(|i| {
        let (name, suffix) = crate::image::reference::name_and_suffix(i);
        if suffix.starts_with(':') && suffix.trim_start_matches(':') == p.version {
            format!("{name}:{to}")
        } else {
            i.clone()
        }
    });
    if let (Some(new), Some(old)) = (&image, &p.image) {
        if new != old {
            edits.push((vec![key("spec"), key("service"), key("image")], new.clone()));
        }
    }
    let edited = crate::yaml_edit::set_scalars(&text, &edits, None)
        .map_err(|e| UserError::input(format!("{}: {e}", p.file)))?;
    let report = BumpReport {
        file: p.file.clone(),
        from: p.version.clone(),
        to: to.clone(),
        image,
    };
    if !a.dry_run {
        let mut plan = crate::plan::Plan::new("plugin bump");
        plan.files
            .push(crate::worktree::text_change(&workdir, &p.file, &edited)?);
        plan.commit = a
            .commit
            .intent(|| format!("plugin {}: {} -> {to}", p.name, p.version));
        crate::plan::apply(repo, &plan)?;
    }
    let mut envelope = Report::new("plugin bump", report);
    envelope.dry_run = a.dry_run;
    envelope.emit(a.json, &mut std::io::stdout().lock(), |r, out| {
        let d = &r.data;
        writeln!(out, "{}: {} -> {}", d.file, d.from, d.to)?;
        if let Some(i) = &d.image {
            writeln!(out, "  image {i}")?;
        }
        if r.dry_run {
            writeln!(out, "dry run: nothing written")?;
        }
        Ok(())
    })
}
