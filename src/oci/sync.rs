//! `git release images sync`: copy every image that has an `images_origin.yaml` entry from its
//! upstream source into the internal registry when it is missing there (seed 002 keeps a
//! long-lived registry in step with the lists this way). Blobs travel through the blob cache;
//! a blob the target repository has already is skipped, one pushed to another repository of the
//! same registry in this run is mounted (no bytes travel), and the rest are pushed from a memory
//! map of the cached file (never copied into memory).

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Result;
use serde::Serialize;

use super::cache::BlobCache;
use crate::registry::client::{Presence, Registry};
use crate::registry::Located;

/// Images copied at once.
const SYNC_JOBS: usize = 4;

/// What happened to one image.
#[derive(Debug, Clone, Serialize)]
pub struct Synced {
    /// Upstream source (`registry.k8s.io/pause:3.9`).
    pub source: String,
    /// Internal reference (`registry.local:5000/library/pause:3.9`).
    pub target: String,
    /// `present` (nothing to do), `copied`, or `missing` (with `--dry-run`: would be copied).
    pub state: &'static str,
    /// Manifests and blobs pushed.
    pub pushed: usize,
    /// Blobs the target repository had already (not pushed).
    pub skipped: usize,
    /// Blobs mounted from another repository of the registry (not pushed).
    pub mounted: usize,
    /// Bytes downloaded from the source (blobs not in the cache).
    pub downloaded: u64,
}

/// Shared by the images of one sync: digest -> the internal repository (`host/path`) that has it
/// from this run, behind a lock of its own. Whoever places a blob first holds its lock until the
/// blob is in; an image sharing that layer waits, then mounts it: each blob travels once per run
/// however the parallel copies interleave.
pub(crate) type Placed = Mutex<HashMap<String, std::sync::Arc<Mutex<Option<String>>>>>;

/// Where a blob came to be in the target repository ([`place_blob`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The repository had it.
    Present,
    /// Mounted from another repository of the registry: no bytes travelled.
    Mounted,
    /// Its bytes were pushed.
    Pushed,
}

/// Put blob `digest` into the repository of `dst_ref`: skipped when there (asked first), mounted
/// when this run placed it in another repository of `placed`, pushed by `push` otherwise (which sends the
/// bytes to `dst_ref`). Shared by `images sync` and `push`.
///
/// Errors: registry faults; those of `push`.
pub(crate) fn place_blob(
    reg: &Registry,
    dst_ref: &str,
    digest: &str,
    placed: &Placed,
    push: impl FnOnce() -> Result<()>,
) -> Result<Placement> {
    let dst_repo = crate::image::reference::name_and_suffix(dst_ref)
        .0
        .to_string();
    let slot = placed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(digest.to_string())
        .or_default()
        .clone();
    let mut known = slot.lock().unwrap_or_else(|e| e.into_inner());
    // Asked first (a HEAD-like request), so a repository that has the blob is never written to.
    if known.as_deref() == Some(dst_repo.as_str()) || reg.has_blob(dst_ref, digest)? {
        known.get_or_insert(dst_repo);
        return Ok(Placement::Present);
    }
    if let Some(from) = known.as_deref().filter(|f| *f != dst_repo) {
        if reg.mount_blob(dst_ref, from, digest)? {
            return Ok(Placement::Mounted);
        }
    }
    push()?;
    *known = Some(dst_repo);
    Ok(Placement::Pushed)
}

/// [`place_blob`] for a sync: the bytes come from the source registry through the cache and
/// are pushed from a memory map of the cached file.
fn sync_blob(
    reg: &Registry,
    cache: &BlobCache,
    src_ref: &str,
    dst_ref: &str,
    digest: &str,
    placed: &Placed,
    out: &mut Synced,
) -> Result<()> {
    let mut downloaded = 0;
    let placement = place_blob(reg, dst_ref, digest, placed, || {
        downloaded = super::pull::fetch_blob(reg, src_ref, digest, None, cache)?;
        let file = std::fs::File::open(cache.path(digest)?)?;
        // SAFETY: cached blobs are written once to a temporary file and renamed into place;
        // nothing writes to a blob file afterwards, so the mapping does not change under us.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        reg.push_blob(dst_ref, digest, &map)
    })?;
    out.downloaded += downloaded;
    match placement {
        Placement::Present => out.skipped += 1,
        Placement::Mounted => out.mounted += 1,
        Placement::Pushed => out.pushed += 1,
    }
    Ok(())
}

/// Copy one manifest (and, for an image, its config and layers; for an index, every child
/// manifest) from `src_ref` to `dst_ref` (the tag or digest to push it as).
fn copy_manifest(
    reg: &Registry,
    cache: &BlobCache,
    src_ref: &str,
    dst_ref: &str,
    placed: &Placed,
    out: &mut Synced,
    depth: usize,
) -> Result<()> {
    let (bytes, _) = reg.manifest(src_ref)?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes)?;
    let src_repo = crate::image::reference::name_and_suffix(src_ref).0;
    let dst_repo = crate::image::reference::name_and_suffix(dst_ref).0;
    if let Some(children) = doc.get("manifests").and_then(|m| m.as_array()) {
        if depth > 2 {
            anyhow::bail!("{src_ref}: image indexes nested too deeply");
        }
        for c in children {
            let d = c["digest"].as_str().unwrap_or_default();
            super::cache::hex_of(d)?;
            copy_manifest(
                reg,
                cache,
                &format!("{src_repo}@{d}"),
                &format!("{dst_repo}@{d}"),
                placed,
                out,
                depth + 1,
            )?;
        }
    } else {
        let mut blobs = vec![doc["config"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string()];
        if let Some(l) = doc["layers"].as_array() {
            blobs.extend(
                l.iter()
                    .map(|x| x["digest"].as_str().unwrap_or_default().to_string()),
            );
        }
        for d in blobs {
            super::cache::hex_of(&d)?;
            sync_blob(reg, cache, src_ref, dst_ref, &d, placed, out)?;
        }
    }
    let media_type = doc
        .get("mediaType")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            if doc.get("manifests").is_some() {
                "application/vnd.oci.image.index.v1+json".into()
            } else {
                "application/vnd.oci.image.manifest.v1+json".into()
            }
        });
    reg.push_manifest(dst_ref, bytes, &media_type)?;
    out.pushed += 1;
    Ok(())
}

/// Which mirrored images of `located` (those with an origin source) the internal registry
/// lacks: one [`Synced`] per mirrored image, in the order of `located`, `present` or `missing`.
/// Four images at a time; `bar` advances once per image. Copies nothing.
///
/// Errors: registry faults naming registry, image and cause.
pub fn plan(
    reg: &Registry,
    located: &[Located],
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Synced>> {
    use rayon::prelude::*;
    let mirrored: Vec<(&String, &String)> = located
        .iter()
        .filter_map(|l| Some((l.source.as_ref()?, l.reference.as_ref()?)))
        .collect();
    bar.set_length(mirrored.len() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(SYNC_JOBS)
        .build()?;
    let results: Vec<Result<Synced>> = pool.install(|| {
        mirrored
            .par_iter()
            .map(|(src, dst)| {
                bar.set_message(dst.to_string());
                let present = reg.exists(dst)? != Presence::Missing;
                bar.inc(1);
                Ok(Synced {
                    source: src.to_string(),
                    target: dst.to_string(),
                    state: if present { "present" } else { "missing" },
                    pushed: 0,
                    skipped: 0,
                    mounted: 0,
                    downloaded: 0,
                })
            })
            .collect()
    });
    bar.finish_and_clear();
    results.into_iter().collect()
}

/// Copy every `missing` image of `images` ([`plan`]) from its source into the internal
/// registry, every platform of an index included; each becomes `copied`. Four images at a
/// time; `bar` advances once per image.
///
/// Errors: registry faults naming registry, image and cause; a blob whose digest does not
/// match (not stored). The first error in list order is reported; images copied before it
/// stay copied (a later run skips them).
pub fn copy(
    reg: &Registry,
    cache: &BlobCache,
    images: &mut [Synced],
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    use rayon::prelude::*;
    let placed: Placed = Mutex::new(HashMap::new());
    bar.set_length(images.iter().filter(|s| s.state == "missing").count() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(SYNC_JOBS)
        .build()?;
    let results: Vec<Result<()>> = pool.install(|| {
        images
            .par_iter_mut()
            .filter(|s| s.state == "missing")
            .map(|s| {
                bar.set_message(s.target.clone());
                let (src, dst) = (s.source.clone(), s.target.clone());
                copy_manifest(reg, cache, &src, &dst, &placed, s, 0)?;
                s.state = "copied";
                bar.inc(1);
                Ok(())
            })
            .collect()
    });
    bar.finish_and_clear();
    results.into_iter().collect()
}
