//! Writing `images/images.lock` ([`crate::image::lock`]): every image of a revision's lists
//! looked up in its registry, the digest its tag names now recorded (for an image index, each
//! platform's manifest digest too).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use rayon::prelude::*;

use crate::image::lock::{ImagesLock, Locked};

/// The lock of `images` (as the lists hold them) located at `tree`: each looked up in its
/// registry (one manifest request each), eight at a time. Returns the lock and the images that
/// could not be locked (not in their registry, their registry unreachable or refusing, or naming
/// an install-time placeholder with `release.registry` unset), each with why; those are left out
/// of the lock.
///
/// Errors: the origins or registry settings cannot be read.
pub fn lock(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    tree: gix::ObjectId,
    images: &BTreeSet<String>,
) -> Result<(ImagesLock, Vec<String>)> {
    let (config, located) = crate::registry::locate_at(repo, settings, tree, images)?;
    let client = config.client_for(&located)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(8).build()?;
    let bar = crate::progress::bar(located.len() as u64, "lock", true);
    // One manifest request an image: its digest, and an index's platforms.
    let found: Vec<(String, Result<Locked, String>)> = pool.install(|| {
        located
            .par_iter()
            .map(|l| {
                let r = match &l.reference {
                    None => Err(
                        "it names an install-time registry and release.registry is not set"
                            .to_string(),
                    ),
                    Some(reference) => client
                        .manifest(reference)
                        .map(|(bytes, digest)| locked(&bytes, digest))
                        .map_err(|e| format!("{e:#}")),
                };
                bar.inc(1);
                (l.image.clone(), r)
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut lock = ImagesLock::default();
    let mut missing = Vec::new();
    for (image, r) in found {
        match r {
            Ok(l) => {
                lock.images.insert(image, l);
            }
            Err(why) => missing.push(format!("{image}: {why}")),
        }
    }
    Ok((lock, missing))
}

/// What a manifest (or index) with `digest` records: the digest, and an index's platforms.
fn locked(bytes: &[u8], digest: String) -> Locked {
    let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let mut platforms = BTreeMap::new();
    for m in doc["manifests"].as_array().into_iter().flatten() {
        let p = &m["platform"];
        let (Some(os), Some(arch), Some(d)) = (
            p["os"].as_str(),
            p["architecture"].as_str(),
            m["digest"].as_str(),
        ) else {
            continue;
        };
        let key = match p["variant"].as_str() {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        };
        platforms.entry(key).or_insert_with(|| d.to_string());
    }
    Locked { digest, platforms }
}
