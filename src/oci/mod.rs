//! Container images into packages: a content-addressed blob cache under the git dir, pulling an
//! image for one platform from its registry, and the OCI image-layout archive (`images.tar`)
//! that `ctr images import`, `nerdctl load`, `docker load` and `podman load` read as it is.

pub mod cache;
pub mod layout;
pub mod lock;
pub mod pull;
pub mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Result;

use crate::archive::Stamp;
use cache::BlobCache;

/// Registry requests in flight at once while pulling (manifests, then blobs).
const PULL_JOBS: usize = 8;

/// `images.tar` ready to be streamed into a package: every image resolved for the platform
/// and every blob in the cache; its size known before a byte of the package is written.
pub struct ImagesTar {
    /// Full reference -> manifest digest (`sha256:…`), for the package manifest.
    pub digests: BTreeMap<String, String>,
    /// Bytes of the archive.
    pub size: u64,
    /// One per image packed for another platform (`--allow-other-platform`).
    pub warnings: Vec<String>,
    /// `release.registry` when the images were packed (`host[:port][/prefix]`): the manifests
    /// record it so that `push` can map it to the site's registry.
    pub registry: Option<String>,
    layout: std::sync::Arc<layout::Layout>,
    cache: BlobCache,
    stamp: Stamp,
    /// `<git-common-dir>/release/checksums`: `images.tar` sha256 by [`layout::Layout::key`].
    memo: std::path::PathBuf,
}

impl ImagesTar {
    /// The archive as package content, written from the cache straight into the package, each
    /// blob checked against its digest as it is read (a corrupt blob is removed and fails the
    /// package; nothing is left).
    pub fn stream(&self) -> crate::archive::Stream {
        let (layout, cache, stamp) = (self.layout.clone(), self.cache.clone(), self.stamp);
        // Its sha256 is remembered by what the bytes are made of: every blob is verified
        // against its digest as it is written, so the same key means the same bytes and the
        // archive need not be hashed again (a third of a re-run's work).
        let key = layout.key(stamp);
        let known = std::fs::read_to_string(self.memo.join(&key))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        let memo = self.memo.clone();
        crate::archive::Stream {
            size: self.size,
            write: std::sync::Arc::new(move |w: &mut dyn std::io::Write| {
                layout.write(w, &cache, stamp)
            }),
            sha256: known,
            hashed: Some(std::sync::Arc::new(move |sum: &str| {
                // Best effort: without the note the next run hashes again.
                if std::fs::create_dir_all(&memo).is_ok() {
                    let _ = crate::durable::write_atomically(
                        &memo,
                        &key,
                        format!("{sum}\n").as_bytes(),
                    );
                }
            })),
        }
    }
}

/// Pull `images` (as the lists hold them; `[[ registry_release ]]` filled from
/// `release.registry`, origins from `images/images_origin.yaml` at `tree`) for `platform` into
/// the blob cache, eight requests at a time with a progress bar on a terminal, and plan the
/// `images.tar` they make ([`layout::Layout`]). Nothing is written outside the cache.
///
/// Errors: a bad `platform` or `release.registry` unset while an image names
/// `[[ registry_release ]]` (exit 2); any registry fault, naming registry, image and cause
/// (exit 1; the first in list order is reported); a corrupt blob (removed).
pub fn pack(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    tree: gix::ObjectId,
    images: &BTreeSet<String>,
    platform: &str,
    allow_other_platform: bool,
    stamp: Stamp,
) -> Result<ImagesTar> {
    let platform: pull::Platform = platform.parse()?;
    let puller = Puller::new(repo)?;
    let (client, pulled) = puller.resolve(
        repo,
        settings,
        tree,
        images,
        &platform,
        allow_other_platform,
    )?;
    let pulled = puller.fetch(
        &client,
        pulled,
        &BTreeSet::new(),
        &platform,
        allow_other_platform,
    )?;
    let layout = layout::Layout::new(&pulled)?;
    Ok(ImagesTar::of(
        repo,
        &pulled,
        layout,
        (puller.cache, &platform),
        stamp,
    ))
}

impl ImagesTar {
    fn of(
        repo: &gix::Repository,
        pulled: &[pull::Pulled],
        layout: layout::Layout,
        (cache, platform): (BlobCache, &pull::Platform),
        stamp: Stamp,
    ) -> Self {
        let warnings = pulled
            .iter()
            .filter_map(|p| {
                p.other_platform.as_ref().map(|has| {
                    format!(
                        "{} has no {platform} image; packed as it is ({has})",
                        p.name
                    )
                })
            })
            .collect();
        ImagesTar {
            registry: crate::registry::RegistryConfig::load(repo)
                .ok()
                .and_then(|c| c.registry),
            digests: pulled
                .iter()
                .map(|p| (p.name.clone(), p.manifest.digest.clone()))
                .collect(),
            size: layout.size(),
            warnings,
            layout: std::sync::Arc::new(layout),
            cache,
            stamp,
            memo: repo.common_dir().join("release/checksums"),
        }
    }
}

/// The images of an upgrade package ([`pack_upgrade`]): the archive and what it leaves out.
pub struct UpgradeImages {
    /// `images.tar`: every image TO needs that FROM did not have, without the layers the site
    /// already holds.
    pub tar: ImagesTar,
    /// Layers left out because an image of FROM carries them: `(digest, size, FROM image)`.
    pub expected: Vec<(String, u64, String)>,
    /// Layers in the archive: `(digest, size)`.
    pub included: Vec<(String, u64)>,
    /// Bytes `images.tar` would have with every layer of the same images (a whole-image
    /// differential, as Zarf's `--differential` makes).
    pub whole_image_bytes: u64,
    /// Bytes `images.tar` of a full package of TO would have (every image of TO).
    pub full_bytes: u64,
}

/// The images of an upgrade from FROM to TO at layer level: the images of `to_images` (lists at
/// `to_tree`) that `from_images` (at `from_tree`) does not hold are pulled as [`pack`] pulls them,
/// but a layer that any image of FROM carries is left out of the archive (the site has it) and
/// reported as expected there. Manifests and configs are always included. The index of the
/// layout says it is partial (`dev.git-release.partial`, the number of layers left out, and the
/// two ends). A FROM image the registry no longer has is taken to bring no layer (a warning).
///
/// Errors: as [`pack`], for the images TO needs.
#[allow(clippy::too_many_arguments)]
pub fn pack_upgrade(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    (from_tree, from_images): (gix::ObjectId, &BTreeSet<String>),
    (to_tree, to_images): (gix::ObjectId, &BTreeSet<String>),
    ends: (&str, &str),
    platform: &str,
    allow_other_platform: bool,
    stamp: Stamp,
) -> Result<UpgradeImages> {
    let platform: pull::Platform = platform.parse()?;
    let puller = Puller::new(repo)?;
    let needed: BTreeSet<String> = to_images.difference(from_images).cloned().collect();
    let kept: BTreeSet<String> = to_images.intersection(from_images).cloned().collect();
    // The images TO needs and what the site runs (FROM's images: only their manifests are
    // read), asked of the registry at once.
    let (client, needed_refs) = locate(repo, settings, to_tree, &needed)?;
    let (from_client, from_refs) = locate(repo, settings, from_tree, from_images)?;
    let mut warnings = Vec::new();
    let (pulled, (mut from_pulled, from_warnings)) = rayon::join(
        || puller.resolve_refs(&client, &needed_refs, &platform, allow_other_platform),
        || {
            let mut w = Vec::new();
            let p = puller.resolve_lenient(&from_client, &from_refs, &platform, &mut w);
            (p, w)
        },
    );
    warnings.extend(from_warnings);
    // Each layer at the site by the first FROM image (in name order) that brings it.
    from_pulled.sort_by(|a, b| a.name.cmp(&b.name));
    let mut at_site: BTreeMap<String, String> = BTreeMap::new();
    for p in &from_pulled {
        for l in &p.layers {
            at_site
                .entry(l.digest.clone())
                .or_insert_with(|| p.name.clone());
        }
    }
    let omit: BTreeSet<String> = pulled
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .flat_map(|p| p.layers.iter())
        .filter(|l| at_site.contains_key(&l.digest))
        .map(|l| l.digest.clone())
        .collect();
    let pulled = puller.fetch(&client, pulled, &omit, &platform, allow_other_platform)?;
    // The images TO keeps from FROM (for the full package's size): already resolved as FROM's.
    let kept_refs: BTreeSet<String> = locate(repo, settings, to_tree, &kept)?
        .1
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let kept_pulled: Vec<pull::Pulled> = from_pulled
        .iter()
        .filter(|p| kept_refs.contains(&p.name))
        .cloned()
        .collect();
    let mut expected: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for p in &pulled {
        for l in p.layers.iter().filter(|l| omit.contains(&l.digest)) {
            expected
                .entry(l.digest.clone())
                .or_insert((l.size, at_site[&l.digest].clone()));
        }
    }
    let annotations = BTreeMap::from([
        (
            "dev.git-release.partial".to_string(),
            (!omit.is_empty()).to_string(),
        ),
        (
            "dev.git-release.layers-omitted".to_string(),
            omit.len().to_string(),
        ),
        (
            "dev.git-release.upgrade.from".to_string(),
            ends.0.to_string(),
        ),
        ("dev.git-release.upgrade.to".to_string(), ends.1.to_string()),
    ]);
    let whole_image_bytes = layout::Layout::new(&pulled)?.size();
    let all: Vec<pull::Pulled> = pulled.iter().chain(&kept_pulled).cloned().collect();
    let full_bytes = layout::Layout::new(&all)?.size();
    let layout = layout::Layout::partial(&pulled, &omit, Some(&annotations))?;
    let layer_digests: BTreeSet<&str> = pulled
        .iter()
        .flat_map(|p| p.layers.iter().map(|l| l.digest.as_str()))
        .collect();
    let included = layout
        .blobs()
        .iter()
        .filter(|(d, _)| layer_digests.contains(d.as_str()))
        .cloned()
        .collect();
    let mut tar = ImagesTar::of(repo, &pulled, layout, (puller.cache, &platform), stamp);
    tar.warnings.extend(warnings);
    Ok(UpgradeImages {
        tar,
        expected: expected
            .into_iter()
            .map(|(d, (s, from))| (d, s, from))
            .collect(),
        included,
        whole_image_bytes,
        full_bytes,
    })
}

/// An image to resolve: its full reference, and the digest `images/images.lock` holds for it.
type Target = (String, Option<String>);

/// The registry client and, for each of `images` (as the lists hold them) located at `tree`
/// ([`crate::registry::locate_at`]), its full reference and the digest the lock at `tree` holds
/// for it (pulled by that digest, so a tag moved since changes nothing).
///
/// Errors: `release.registry` unset while an image names `[[ registry_release ]]` (exit 2); a
/// lock that cannot be read.
fn locate(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    tree: gix::ObjectId,
    images: &BTreeSet<String>,
) -> Result<(crate::registry::client::Registry, Vec<Target>)> {
    let lock = crate::image::lock::ImagesLock::at(repo, tree, settings)?.unwrap_or_default();
    let (config, located) = crate::registry::locate_at(repo, settings, tree, images)?;
    if let Some(l) = located.iter().find(|l| l.reference.is_none()) {
        return Err(crate::error::UserError::input(format!(
            "`{}` names an install-time registry, but release.registry is not set",
            l.image
        ))
        .hint("set release.registry (in .gitrelease or `git config`) to the registry that holds the images, e.g. `registry.local:5000/release`")
        .into());
    }
    let client = config.client_for(&located)?;
    Ok((
        client,
        located
            .into_iter()
            .filter_map(|l| {
                let locked = lock.images.get(&l.image).map(|x| x.digest.clone());
                Some((l.reference?, locked))
            })
            .collect(),
    ))
}

/// Resolving and pulling images: the blob cache, the request pool and the progress bar.
struct Puller {
    cache: BlobCache,
    pool: rayon::ThreadPool,
}

type Resolved = Vec<Result<pull::Pulled>>;

impl Puller {
    fn new(repo: &gix::Repository) -> Result<Self> {
        Ok(Puller {
            cache: BlobCache::of(repo),
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(PULL_JOBS)
                .build()?,
        })
    }

    /// The manifests of `images` located at `tree`, resolved for `platform`, in parallel.
    ///
    /// Errors: `release.registry` unset while an image names `[[ registry_release ]]` (exit 2).
    fn resolve(
        &self,
        repo: &gix::Repository,
        settings: &crate::settings::Settings,
        tree: gix::ObjectId,
        images: &BTreeSet<String>,
        platform: &pull::Platform,
        allow_other_platform: bool,
    ) -> Result<(crate::registry::client::Registry, Resolved)> {
        let (client, refs) = locate(repo, settings, tree, images)?;
        let pulled = self.resolve_refs(&client, &refs, platform, allow_other_platform);
        Ok((client, pulled))
    }

    /// The manifests of the full references `refs`, resolved for `platform`, eight at a time,
    /// with a progress bar on a terminal.
    fn resolve_refs(
        &self,
        client: &crate::registry::client::Registry,
        refs: &[Target],
        platform: &pull::Platform,
        allow_other_platform: bool,
    ) -> Resolved {
        use rayon::prelude::*;
        let bar = crate::progress::bar(refs.len() as u64, "images", true);
        bar.set_message("manifests");
        let cache = &self.cache;
        let pulled: Resolved = self.pool.install(|| {
            refs.par_iter()
                .map(|(reference, locked)| {
                    let p = pull::resolve_at(
                        client,
                        reference,
                        locked.as_deref(),
                        platform,
                        allow_other_platform,
                        cache,
                    );
                    bar.inc(1);
                    p
                })
                .collect()
        });
        bar.finish_and_clear();
        pulled
    }

    /// [`Puller::resolve_refs`] for images that are only looked at (what a site already runs):
    /// any platform, and an image that cannot be resolved is left out with a warning.
    fn resolve_lenient(
        &self,
        client: &crate::registry::client::Registry,
        refs: &[Target],
        platform: &pull::Platform,
        warnings: &mut Vec<String>,
    ) -> Vec<pull::Pulled> {
        let mut out = Vec::new();
        for r in self.resolve_refs(client, refs, platform, true) {
            match r {
                Ok(p) => out.push(p),
                Err(e) => warnings.push(format!(
                    "{e:#}; its layers are taken to be absent at the site"
                )),
            }
        }
        out
    }

    /// Fetch the config and the layers (except those `skip` names) of every resolved image into
    /// the cache, each missing blob once, then check the platform of single-platform images.
    ///
    /// Errors: the first resolution error in list order; registry faults; images without the
    /// platform (exit 3, all named) unless `allow_other_platform`.
    fn fetch(
        &self,
        client: &crate::registry::client::Registry,
        resolved: Resolved,
        skip: &BTreeSet<String>,
        platform: &pull::Platform,
        allow_other_platform: bool,
    ) -> Result<Vec<pull::Pulled>> {
        use rayon::prelude::*;
        let cache = &self.cache;
        // Every image without the platform is named at once, those of an index here,
        // single-platform ones once their configs are cached (below).
        let mut other: Vec<String> = resolved
            .iter()
            .filter_map(|p| p.as_ref().err()?.downcast_ref::<pull::PlatformMismatch>())
            .map(ToString::to_string)
            .collect();
        let mut pulled: Vec<pull::Pulled> = resolved
            .into_iter()
            .filter(|p| {
                p.as_ref()
                    .err()
                    .is_none_or(|e| e.downcast_ref::<pull::PlatformMismatch>().is_none())
            })
            .collect::<Result<_>>()?;
        // Each missing blob once, from the first image that needs it.
        let mut missing: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
        for p in &pulled {
            for d in std::iter::once(&p.config).chain(&p.layers) {
                if !skip.contains(&d.digest) && !cache.has(&d.digest) {
                    missing.entry(&d.digest).or_insert((&p.name, d.size));
                }
            }
        }
        if !missing.is_empty() {
            let bar = crate::progress::bar(missing.len() as u64, "images", true);
            bar.set_message("layers");
            let fetched: Vec<Result<u64>> = self.pool.install(|| {
                missing
                    .par_iter()
                    .map(|(digest, (name, size))| {
                        let n = pull::fetch_blob(client, name, digest, Some(*size), cache);
                        bar.inc(1);
                        n
                    })
                    .collect()
            });
            bar.finish_and_clear();
            fetched.into_iter().collect::<Result<Vec<_>>>()?;
        }
        // Single-platform images: their configs (now cached) say which platform they are.
        for p in pulled.iter_mut() {
            if let Some(has) = pull::check_platform(p, platform, cache)? {
                if allow_other_platform {
                    p.other_platform = Some(has);
                } else {
                    other.push(format!("{} (has {has})", p.name));
                }
            }
        }
        if !other.is_empty() {
            other.sort();
            return Err(platform_refusal(platform, &other));
        }
        Ok(pulled)
    }
}

/// The refusal of images without the platform asked for, each with what it has (exit 3).
fn platform_refusal(platform: &pull::Platform, images: &[String]) -> anyhow::Error {
    crate::error::UserError::refused(format!(
        "{} image(s) have no {platform} image: {}",
        images.len(),
        images.join(", ")
    ))
    .hint("pack another platform with --platform, or pass --allow-other-platform to pack these as they are (a warning names each)")
    .into()
}

/// Name the folder and say what to do when writing there failed for lack of room.
pub(crate) fn disk_error(e: anyhow::Error, dir: &Path) -> anyhow::Error {
    let full = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.raw_os_error() == Some(28))
    });
    if full {
        crate::error::UserError::failure(format!(
            "no space left on the device of {} while writing the images; nothing was packaged",
            dir.display()
        ))
        .hint("free some room there or write the package elsewhere with -o DIR")
        .into()
    } else {
        e
    }
}
