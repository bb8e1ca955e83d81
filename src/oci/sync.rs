//! `git release images sync`: copy every image that has an `images_origin.yaml` entry from its
//! upstream source into the internal registry when it is missing there (seed 002 keeps a
//! long-lived registry in step with the lists this way). Blobs travel through the blob cache.

use anyhow::Result;
use serde::Serialize;

use super::cache::BlobCache;
use crate::registry::client::{Presence, Registry};
use crate::registry::Located;

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
    /// Bytes downloaded from the source (blobs not in the cache).
    pub downloaded: u64,
}

fn fetch_blob(reg: &Registry, cache: &BlobCache, from: &str, digest: &str) -> Result<u64> {
    if cache.has(digest) {
        return Ok(0);
    }
    let mut w = cache.writer(digest)?;
    let n = reg.blob(from, digest, &mut w)?;
    w.commit()?;
    Ok(n)
}

/// Copy one manifest (and, for an image, its config and layers; for an index, every child
/// manifest) from `src_repo` to `dst` (`dst_ref`: the tag or digest to push it as).
fn copy_manifest(
    reg: &Registry,
    cache: &BlobCache,
    src_ref: &str,
    dst_ref: &str,
    out: &mut Synced,
    depth: usize,
) -> Result<()> {
    let (bytes, digest) = reg.manifest(src_ref)?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes)?;
    let src_repo = crate::registry::name_and_suffix(src_ref).0;
    let dst_repo = crate::registry::name_and_suffix(dst_ref).0;
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
            out.downloaded += fetch_blob(reg, cache, src_ref, &d)?;
            let data = std::fs::read(cache.path(&d)?)?;
            reg.push_blob(dst_ref, &d, &data)?;
            out.pushed += 1;
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
    let _ = digest;
    reg.push_manifest(dst_ref, bytes, &media_type)?;
    out.pushed += 1;
    Ok(())
}

/// Sync every mirrored image of `located` (those with an origin source): present ones are left
/// alone; missing ones are copied, every platform of an index included, unless `dry_run`.
/// `progress` is called before each image.
///
/// Errors: registry faults naming registry, image and cause; a blob whose digest does not
/// match (not stored); the first error stops the sync (images copied before stay).
pub fn sync(
    reg: &Registry,
    cache: &BlobCache,
    located: &[Located],
    dry_run: bool,
    mut progress: impl FnMut(usize, &str),
) -> Result<Vec<Synced>> {
    let mut out = Vec::new();
    for (i, l) in located.iter().enumerate() {
        let (Some(src), Some(dst)) = (&l.source, &l.reference) else {
            continue;
        };
        progress(i, dst);
        let mut s = Synced {
            source: src.clone(),
            target: dst.clone(),
            state: "present",
            pushed: 0,
            downloaded: 0,
        };
        if reg.exists(dst)? == Presence::Missing {
            if dry_run {
                s.state = "missing";
            } else {
                copy_manifest(reg, cache, src, dst, &mut s, 0)?;
                s.state = "copied";
            }
        }
        out.push(s);
    }
    Ok(out)
}
