//! Container images into packages: a content-addressed blob cache under the git dir, pulling an
//! image for one platform from its registry, and the OCI image-layout archive (`images.tar`)
//! that `ctr images import`, `nerdctl load`, `docker load` and `podman load` read as it is.

pub mod cache;
pub mod layout;
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
    use rayon::prelude::*;
    let platform: pull::Platform = platform.parse()?;
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
    let cache = BlobCache::of(repo);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(PULL_JOBS)
        .build()?;
    let bar = crate::progress::bar(located.len() as u64, "images", true);
    bar.set_message("manifests");
    let pulled: Vec<Result<pull::Pulled>> = pool.install(|| {
        located
            .par_iter()
            .map(|l| {
                let reference = l.reference.as_deref().unwrap_or_default();
                let p = pull::resolve(&client, reference, &platform, allow_other_platform, &cache);
                bar.inc(1);
                p
            })
            .collect()
    });
    // Every image without the platform is named at once, those of an index here, single-platform
    // ones once their configs are cached (below).
    let mut other: Vec<String> = pulled
        .iter()
        .filter_map(|p| p.as_ref().err()?.downcast_ref::<pull::PlatformMismatch>())
        .map(ToString::to_string)
        .collect();
    let mut pulled: Vec<pull::Pulled> = pulled
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
            if !cache.has(&d.digest) {
                missing.entry(&d.digest).or_insert((&p.name, d.size));
            }
        }
    }
    if !missing.is_empty() {
        bar.set_length(located.len() as u64 + missing.len() as u64);
        bar.set_message("layers");
        let fetched: Vec<Result<u64>> = pool.install(|| {
            missing
                .par_iter()
                .map(|(digest, (name, _))| {
                    let n = pull::fetch_blob(&client, name, digest, &cache);
                    bar.inc(1);
                    n
                })
                .collect()
        });
        fetched.into_iter().collect::<Result<Vec<_>>>()?;
    }
    // Single-platform images: their configs (now cached) say which platform they are.
    for p in pulled.iter_mut() {
        if let Some(has) = pull::check_platform(p, &platform, &cache)? {
            if allow_other_platform {
                p.other_platform = Some(has);
            } else {
                other.push(format!("{} (has {has})", p.name));
            }
        }
    }
    if !other.is_empty() {
        bar.finish_and_clear();
        other.sort();
        return Err(platform_refusal(&platform, &other));
    }
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
    bar.finish_and_clear();
    let layout = layout::Layout::new(&pulled)?;
    Ok(ImagesTar {
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
    })
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
