//! Building packages from the object database: chart archives, checksums and the outer
//! reproducible `.tar.gz` with one top folder. Shared by `hotfix` and `package`.
//!
//! Source: seed 002 ("打包流程": `helm package` every chart, `chown -R 10000:10000`, `tar`) and
//! DOMAIN.md steps 7 and 8. Content never comes from the work tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rayon::prelude::*;

use crate::archive::{self, Entry, Stamp};
use crate::files::Files;

/// One chart to package: where it is and its files at the packaged commit.
#[derive(Debug, Clone)]
pub struct ChartSource {
    /// Repo-relative folder, e.g. `addons/cyclone`.
    pub path: String,
    /// Chart.yaml `name` (the folder name when absent).
    pub name: String,
    /// Chart.yaml `version`.
    pub version: String,
    /// The chart's files, paths relative to its folder (a single-file addon's one file is
    /// keyed `""`).
    pub files: Files,
}

impl ChartSource {
    /// A single-file addon ([`crate::chart::meta::addon_file`]): shipped as its YAML file, not
    /// as a Helm archive.
    pub fn single_file(&self) -> bool {
        crate::files::single(&self.files).is_some()
    }

    /// Where it lies in a package: `charts/<name>-<version>.tgz` for a chart (Helm's archive
    /// name), the repository path for a single-file addon (`addons/app/app-admin.yaml`).
    pub fn package_path(&self) -> String {
        if self.single_file() {
            self.path.clone()
        } else {
            format!("charts/{}-{}.tgz", self.name, self.version)
        }
    }
}

/// A built chart archive (or the file of a single-file addon).
#[derive(Debug, Clone)]
pub struct BuiltChart {
    /// Where it lies in a package ([`ChartSource::package_path`]).
    pub at: String,
    /// Archive bytes.
    pub bytes: Vec<u8>,
}

/// Refuse an output folder `-o` that exists but is not a folder, before anything is built.
///
/// Errors (exit 2): `dir` is a file (or a link to one).
pub fn check_output_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(
            crate::error::UserError::input(format!("-o {}: not a folder", dir.display()))
                .hint("name a folder for the packages (it is created when missing)")
                .into(),
        );
    }
    Ok(())
}

/// Read the chart at `path` (a chart root) from `tree` into a [`ChartSource`], through `index`
/// (one per command run: the trees on the way, the addons folder of thousands of entries among
/// them, are decoded once, not once per chart).
///
/// Errors (exit 2): no Chart.yaml `version`, or one that is not SemVer 2 (a chart archive is
/// named after it), naming the file and line. Exit 3: a declared dependency that `charts/` does
/// not hold ([`crate::chart::deps::unmet`]), as Helm refuses such a chart at install.
pub fn read_chart(
    repo: &gix::Repository,
    index: &crate::git::TreeIndex,
    tree: gix::ObjectId,
    path: &str,
) -> Result<ChartSource> {
    let files = index
        .read_path(repo, tree, path)?
        .ok_or_else(|| anyhow!("{path}: no such folder"))?;
    let name = crate::chart::meta::of(&files).name_or_folder(path);
    let version = crate::chart::meta::checked_version(&files)
        .map_err(|e| {
            let sep = if e.starts_with(char::is_numeric) { ":" } else { "/" };
            crate::error::UserError::input(format!("{path}{sep}{e}"))
                .hint("chart versions must be SemVer 2 (MAJOR.MINOR.PATCH, e.g. 1.2.0): the archive is named after it")
        })?
        .ok_or_else(|| {
            crate::error::UserError::input(format!("{path}/Chart.yaml has no `version`"))
                .hint("every chart needs a SemVer `version` in Chart.yaml")
        })?;
    let unmet = crate::chart::deps::unmet(&files, crate::render::semver::matches);
    if !unmet.is_empty() {
        let list: Vec<String> = unmet.iter().map(ToString::to_string).collect();
        return Err(crate::error::UserError::refused(format!(
            "{path}: chart {name} declares dependencies its charts/ folder does not hold: {}; Helm would refuse to install the package",
            list.join(", ")
        ))
        .hint(format!(
            "run `helm dependency build {path}` and commit charts/ (`git release check` reports it as chart-dependency-missing)"
        ))
        .into());
    }
    Ok(ChartSource {
        path: path.to_string(),
        name,
        version,
        files,
    })
}

/// Build the Helm archives of `charts` in parallel (compression is the expensive part).
pub fn build_charts(charts: &[ChartSource], stamp: Stamp) -> Result<Vec<BuiltChart>> {
    charts
        .par_iter()
        .map(|c| {
            let bytes = match crate::files::single(&c.files) {
                Some(file) => file.data.clone(),
                None => archive::helm_chart_archive(&c.name, &c.files, stamp)
                    .with_context(|| format!("packaging {}", c.path))?,
            };
            Ok(BuiltChart {
                at: c.package_path(),
                bytes,
            })
        })
        .collect()
}

/// Files of the outer package, keyed by their path inside the top folder.
#[derive(Debug, Default)]
pub struct Contents {
    files: BTreeMap<String, (Vec<u8>, bool)>,
    /// Large files produced while the package is written: path inside the package -> producer.
    streamed: BTreeMap<String, archive::Stream>,
    /// Whether the package is fsynced before it gets its name ([`durability`]).
    durability: crate::durable::Durability,
    /// Signs the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it).
    signer: Option<crate::signing::Signer>,
}

/// How packages are written: `release.fsync` true -> [`crate::durable::Durability::Fsync`], unset or
/// false -> [`crate::durable::Durability::Written`] (as `git archive -o`, `tar`, `docker save` and
/// `skopeo copy` write; a package is rebuilt to the same bytes by running the command again).
///
/// Errors (exit 2): `release.fsync` is not a boolean.
pub fn durability(repo: &gix::Repository) -> Result<crate::durable::Durability> {
    Ok(if crate::settings::release_bool(repo, "fsync", false)? {
        crate::durable::Durability::Fsync
    } else {
        crate::durable::Durability::Written
    })
}

impl Contents {
    /// Empty contents, written as `durability` says.
    pub fn new(durability: crate::durable::Durability) -> Self {
        Contents {
            durability,
            ..Default::default()
        }
    }

    /// Sign what is written ([`signer`]): the manifest into `<manifest>.sig` inside the
    /// package, the package file into `<package>.sig` beside it.
    pub fn sign_with(&mut self, signer: Option<crate::signing::Signer>) {
        self.signer = signer;
    }

    /// Add a file; `executable` sets mode 0755.
    ///
    /// Errors: the same path twice (two charts with the same name and version).
    pub fn add(&mut self, path: String, bytes: Vec<u8>, executable: bool) -> Result<()> {
        if self.files.contains_key(&path) {
            return Err(crate::error::UserError::input(format!(
                "two files would be packaged as `{path}`"
            ))
            .hint("two charts share a name and version; rename one")
            .into());
        }
        self.files.insert(path, (bytes, executable));
        Ok(())
    }

    /// `<imagesPath>/images.list`: `images`, one a line, as every package carries it.
    ///
    /// Errors: the path twice.
    pub fn add_image_list<'a>(
        &mut self,
        settings: &crate::settings::Settings,
        images: impl IntoIterator<Item = &'a String>,
    ) -> Result<()> {
        let text: String = images.into_iter().map(|i| format!("{i}\n")).collect();
        self.add(
            crate::files::join(&settings.images_path, "images.list"),
            text.into_bytes(),
            false,
        )
    }

    /// `<imagesPath>/images.tar`, streamed from `tar` while the package is written.
    ///
    /// Errors: the path twice.
    pub fn add_images_tar(
        &mut self,
        settings: &crate::settings::Settings,
        tar: &crate::oci::ImagesTar,
    ) -> Result<()> {
        self.add_stream(
            crate::files::join(&settings.images_path, "images.tar"),
            tar.stream(),
        )
    }

    /// Pull `images` (as the lists hold them, located at `tree`) for `flags`' platform
    /// ([`crate::oci::pack`]) and add them as [`Contents::add_images_tar`]; returns the archive
    /// (its digests, `release.registry` and warnings for the manifest and the report).
    ///
    /// Errors: as [`crate::oci::pack`].
    pub fn add_images(
        &mut self,
        repo: &gix::Repository,
        settings: &crate::settings::Settings,
        (tree, images): (gix::ObjectId, &std::collections::BTreeSet<String>),
        flags: &PackFlags,
        stamp: Stamp,
    ) -> Result<crate::oci::ImagesTar> {
        let tar = crate::oci::pack(
            repo,
            settings,
            tree,
            images,
            &flags.platform,
            flags.allow_other_platform,
            stamp,
        )?;
        self.add_images_tar(settings, &tar)?;
        Ok(tar)
    }

    /// Add a large file produced by `stream` while the package is written (never held in memory
    /// or staged on disk; hashed on the way).
    ///
    /// Errors: the same path twice.
    pub fn add_stream(&mut self, path: String, stream: archive::Stream) -> Result<()> {
        if self.files.contains_key(&path) || self.streamed.contains_key(&path) {
            return Err(crate::error::UserError::input(format!(
                "two files would be packaged as `{path}`"
            ))
            .into());
        }
        self.streamed.insert(path, stream);
        Ok(())
    }

    /// Write `<dir>/<top>.tar.gz` atomically with every file under the folder `<top>/`, and the
    /// manifest `summary` (e.g. `release.yaml`) made by `make` from `path -> sha256` (lowercase
    /// hex, paths inside the top folder) of every other file. Streamed files come first and
    /// the package is written in one pass ([`archive::write_tar_gz_with`]).
    ///
    /// Returns the package's path and sha256.
    ///
    /// Errors: a bad output folder, a path clash, an error of `make` or of a stream, I/O (a full
    /// disk named as such); no package is left then.
    pub fn write(
        self,
        dir: &Path,
        top: &str,
        stamp: Stamp,
        summary: &str,
        make: impl FnOnce(&BTreeMap<String, String>) -> Result<Vec<u8>>,
    ) -> Result<(PathBuf, String)> {
        if self.files.contains_key(summary) || self.streamed.contains_key(summary) {
            return Err(crate::error::UserError::input(format!(
                "two files would be packaged as `{summary}`"
            ))
            .into());
        }
        let streamed = !self.streamed.is_empty();
        let entries: Vec<Entry> = self
            .files
            .into_iter()
            .map(|(p, (data, executable))| Entry {
                path: format!("{top}/{p}"),
                data,
                executable,
                stream: None,
            })
            .chain(self.streamed.into_iter().map(|(p, st)| Entry {
                path: format!("{top}/{p}"),
                data: Vec::new(),
                executable: false,
                stream: Some(st),
            }))
            .collect();
        check_output_dir(dir)?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let prefix = format!("{top}/");
        let signer = self.signer;
        let sign: Option<archive::SummarySigner> = signer.clone().map(|s| {
            Box::new(move |data: &[u8]| s.sign_package_bytes(data)) as archive::SummarySigner
        });
        let summary = archive::Summary {
            sign,
            path: format!("{top}/{summary}"),
            make: Box::new(|sums: &BTreeMap<String, String>| {
                let inner = sums
                    .iter()
                    .map(|(p, h)| (p.strip_prefix(&prefix).unwrap_or(p).to_string(), h.clone()))
                    .collect();
                make(&inner).map(seal)
            }),
        };
        // Streamed contents (images) are stored, not deflated: image layers are compressed
        // already (see archive::write_tar_gz_with).
        let level = if streamed { 0 } else { archive::GZIP_LEVEL };
        let name = format!("{top}.tar.gz");
        let written = crate::durable::write_atomically_with(dir, &name, self.durability, |w| {
            archive::write_tar_gz_with(w, &entries, Some(summary), stamp, true, level)?;
            Ok(())
        })
        .map_err(|e| crate::oci::disk_error(e, dir))?;
        if let Some(s) = signer {
            let sig = s.sign_file(&written.0)?;
            crate::durable::write_atomically(dir, &format!("{name}.sig"), &sig)?;
        }
        Ok(written)
    }
}

/// The last line of every package manifest: the sha256 of every line above it, so that a
/// changed byte of the manifest itself is caught by `verify` (the manifest covers every other
/// file; a signature, when there is one, covers it against tampering).
pub const SEAL: &str = "# sha256 of the lines above: ";

/// `manifest` with its [`SEAL`] line appended (a newline first when it lacks one).
pub fn seal(mut manifest: Vec<u8>) -> Vec<u8> {
    if !manifest.is_empty() && !manifest.ends_with(b"\n") {
        manifest.push(b'\n');
    }
    let sum = crate::hash::sha256_hex(&manifest);
    manifest.extend_from_slice(format!("{SEAL}{sum}\n").as_bytes());
    manifest
}

/// Whether `manifest` ends with a [`SEAL`] line that matches the lines above it:
/// `Err` says what is wrong.
pub fn check_seal(manifest: &[u8]) -> std::result::Result<(), String> {
    let body_end = manifest
        .strip_suffix(b"\n")
        .and_then(|m| m.iter().rposition(|b| *b == b'\n'))
        .map_or(0, |i| i + 1);
    let last = String::from_utf8_lossy(&manifest[body_end..]);
    let Some(recorded) = last.trim_end().strip_prefix(SEAL) else {
        return Err(
            "its last line is not its own checksum (`# sha256 of the lines above: …`)".into(),
        );
    };
    let found = crate::hash::sha256_hex(&manifest[..body_end]);
    if found == recorded {
        Ok(())
    } else {
        Err(format!(
            "its lines hash to {found}, not the {recorded} its last line records"
        ))
    }
}

/// The signer of `--sign` (or `release.signPackages`): git's own signing set-up
/// ([`crate::signing::Signer::from_config`]), or `None` when neither asks for a signature.
///
/// Errors: `release.signPackages` not a boolean; a signing set-up git would refuse (exit 2).
pub fn signer(repo: &gix::Repository, flag: bool) -> Result<Option<crate::signing::Signer>> {
    if flag || crate::settings::release_bool(repo, "signPackages", false)? {
        Ok(Some(crate::signing::Signer::from_config(repo)?))
    } else {
        Ok(None)
    }
}

/// The product version name of `commit`: its highest release tag, else `git describe`-style
/// `<nearest release tag>-<distance>-g<abbrev>` (with a warning), else `g<abbrev>`.
pub fn version_name(
    repo: &gix::Repository,
    commit: gix::ObjectId,
    warnings: &mut Vec<String>,
) -> Result<String> {
    let tags = crate::git::release_tags_by_commit(repo)?;
    if let Some(t) = tags.get(&commit) {
        return Ok(t[0].0.clone());
    }
    let short = &commit.to_string()[..7];
    let walk = repo
        .rev_walk([commit])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()?;
    for (distance, info) in walk.enumerate() {
        let info = info?;
        if let Some(t) = tags.get(&info.id) {
            let name = format!("{}-{distance}-g{short}", t[0].0);
            warnings.push(format!(
                "{short} has no release tag; packaging it as {name}"
            ));
            return Ok(name);
        }
    }
    warnings.push(format!(
        "no release tag reaches {short}; packaging it as g{short}"
    ));
    Ok(format!("g{short}"))
}

/// A resource file (the `resourcePaths` shape) changed in the range.
pub struct ChangedResource {
    /// Work-tree path (its target).
    pub path: String,
    /// `A`, `M` or `D`.
    pub change: &'static str,
    /// Bytes at base and at new.
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

/// The resource files (the `resourcePaths` shape) added, modified (beyond whitespace) or deleted
/// between the two trees.
///
/// Errors: unreadable repos files or objects.
pub fn changed_resources(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    base_tree: gix::ObjectId,
    new_tree: gix::ObjectId,
) -> Result<Vec<ChangedResource>> {
    let mut resources: Vec<ChangedResource> = Vec::new();
    let mut targets = crate::components::resource_targets_at(repo, new_tree, settings)?;
    targets.extend(crate::components::resource_targets_at(
        repo, base_tree, settings,
    )?);
    targets.sort();
    targets.dedup();
    for path in targets {
        let old = crate::git::blob_at(repo, base_tree, &path)?;
        let new = crate::git::blob_at(repo, new_tree, &path)?;
        // A single-file addon is an addon (its version, its package), not a resource file.
        let addon = |d: &Option<Vec<u8>>| {
            d.as_deref()
                .is_some_and(|d| crate::chart::meta::addon_file(d).is_some())
        };
        if addon(&old) || addon(&new) {
            continue;
        }
        let change = match (&old, &new) {
            (None, Some(_)) => "A",
            (Some(_), None) => "D",
            (Some(o), Some(n)) if o != n && !crate::chart::discover::whitespace_only(o, n) => "M",
            _ => continue,
        };
        resources.push(ChangedResource {
            path,
            change,
            old,
            new,
        });
    }
    Ok(resources)
}

/// The images of each changed chart of a package at both ends of its range
/// ([`crate::image::chart::chart_ends`]), in the order of `sources` (the charts at the new end);
/// `olds` holds each at the old end (`None` when it is new). Render contexts (namespaces from
/// version.yml) come from each end's tree. Shared by `hotfix` and `upgrade`.
///
/// Errors: a version.yml that cannot be read at either end.
pub fn changed_chart_images(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    (old_tree, new_tree): (gix::ObjectId, gix::ObjectId),
    sources: &[ChartSource],
    olds: &BTreeMap<String, Option<ChartSource>>,
) -> Result<Vec<crate::image::chart::ChartEnds>> {
    let old_ctx = crate::image::chart::RenderContext::at(repo, old_tree, settings)?;
    let new_ctx = crate::image::chart::RenderContext::at(repo, new_tree, settings)?;
    let ends: Vec<_> = sources
        .iter()
        .map(|c| {
            let old = olds.get(&c.path).and_then(|o| o.as_ref());
            (c.path.as_str(), old.map(|o| &o.files), Some(&c.files))
        })
        .collect();
    Ok(crate::image::chart::chart_ends(&ends, &old_ctx, &new_ctx))
}

/// Commit time of `commit` in seconds since the epoch (the packages' entry mtime).
pub fn commit_time(repo: &gix::Repository, commit: gix::ObjectId) -> Result<u64> {
    let c = repo.find_commit(commit)?;
    Ok(c.time()?.seconds.max(0) as u64)
}

/// `YYYYMMDD` of a Unix time in UTC (proleptic Gregorian; Hinnant's civil-from-days).
pub fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "19700101");
        assert_eq!(utc_date(1_600_000_000), "20200913");
        assert_eq!(utc_date(1_795_305_600), "20261122");
        assert_eq!(utc_date(951_782_400), "20000229");
    }
}

/// The flags `package` and `hotfix` share: who owns the archive entries, which platform the
/// images are packed for.
#[derive(clap::Args, Debug, Clone)]
pub struct PackFlags {
    /// Owner and group id of every archive entry (tar holds up to 2097151).
    #[arg(long, value_name = "ID", default_value_t = crate::archive::DEFAULT_OWNER, value_parser = clap::value_parser!(u64).range(0..=2_097_151))]
    pub owner: u64,
    /// Platform of the packed images (a multi-arch index is resolved to it).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", default_value = "linux/amd64")]
    pub platform: String,
    /// Pack an image that has no --platform image as it is (an index's first), with a warning
    /// per image; without it such images refuse the package (exit 3).
    #[arg(long)]
    pub allow_other_platform: bool,
    /// Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it)
    /// with git's signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does;
    /// `release.signPackages=true` signs every package.
    #[arg(long)]
    pub sign: bool,
    /// Leave out the images only `helm test` hooks run (`images_test.list`): the site will not
    /// run `helm test`.
    #[arg(long)]
    pub no_test_images: bool,
}

impl Default for PackFlags {
    fn default() -> Self {
        PackFlags {
            owner: crate::archive::DEFAULT_OWNER,
            platform: "linux/amd64".into(),
            allow_other_platform: false,
            sign: false,
            no_test_images: false,
        }
    }
}
