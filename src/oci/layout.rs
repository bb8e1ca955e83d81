//! `images.tar`: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) that also
//! carries Docker's `manifest.json`, so `ctr -n k8s.io images import`, `nerdctl load`,
//! `docker load`, `podman load` and `skopeo copy oci-archive:` read it as it is.
//!
//! Reproducible: entries sorted, fixed mtime/owner/mode (the package's [`Stamp`]), every blob
//! once however many images share it, JSON written with sorted keys. Blobs are streamed from
//! the cache and hashed on the way; a blob that does not match its digest stops the archive.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::cache::{hex_of, BlobCache};
use super::pull::Pulled;
use crate::archive::Stamp;

fn header(size: u64, stamp: Stamp, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_uid(stamp.uid);
    h.set_gid(stamp.gid);
    h.set_mtime(stamp.mtime);
    h.set_size(size);
    h
}

/// Write the archive of `images` (each a pulled image named by its full reference) to `out`.
///
/// Errors: a cached blob missing or corrupt (removed; run again), I/O.
pub fn write(out: impl Write, images: &[Pulled], cache: &BlobCache, stamp: Stamp) -> Result<()> {
    let mut blobs: BTreeMap<&str, ()> = BTreeMap::new();
    for p in images {
        blobs.insert(&p.manifest.digest, ());
        blobs.insert(&p.config.digest, ());
        for l in &p.layers {
            blobs.insert(&l.digest, ());
        }
    }
    let mut sorted: Vec<&Pulled> = images.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": sorted.iter().map(|p| json!({
            "mediaType": p.manifest.media_type,
            "digest": p.manifest.digest,
            "size": p.manifest.size,
            "annotations": {
                "io.containerd.image.name": p.name,
                "org.opencontainers.image.ref.name": p.name,
            },
        })).collect::<Vec<_>>(),
    });
    let docker = serde_json::Value::Array(
        sorted
            .iter()
            .map(|p| {
                let tagged = !p.name.contains('@');
                json!({
                    "Config": format!("blobs/sha256/{}", hex_of(&p.config.digest).unwrap_or_default()),
                    "RepoTags": if tagged { vec![p.name.clone()] } else { Vec::new() },
                    "Layers": p.layers.iter().map(|l| format!("blobs/sha256/{}", hex_of(&l.digest).unwrap_or_default())).collect::<Vec<_>>(),
                })
            })
            .collect(),
    );
    let mut tar = tar::Builder::new(out);
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut h = header(0, stamp, tar::EntryType::Directory);
        tar.append_data(&mut h, dir, std::io::empty())?;
    }
    for digest in blobs.keys() {
        let (mut r, size) = cache.open(digest)?;
        let mut h = header(size, stamp, tar::EntryType::Regular);
        tar.append_data(&mut h, format!("blobs/sha256/{}", hex_of(digest)?), &mut r)?;
        r.finish()?;
    }
    for (name, v) in [
        ("index.json", &index),
        ("manifest.json", &docker),
        ("oci-layout", &json!({"imageLayoutVersion": "1.0.0"})),
    ] {
        let bytes = serde_json::to_vec(v)?;
        let mut h = header(bytes.len() as u64, stamp, tar::EntryType::Regular);
        tar.append_data(&mut h, name, bytes.as_slice())?;
    }
    tar.into_inner()?.flush()?;
    Ok(())
}
