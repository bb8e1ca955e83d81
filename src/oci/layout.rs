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

/// The archive of some images, planned: its entries in order, so that its size is known before
/// a byte is written (the package's tar header comes first) and [`Layout::write`] writes exactly
/// that.
pub struct Layout {
    /// Distinct blobs, by digest: `(digest, size in bytes)`.
    blobs: Vec<(String, u64)>,
    /// `index.json`, `manifest.json`, `oci-layout`, in that order.
    files: [(&'static str, Vec<u8>); 3],
}

/// Bytes of a tar entry holding `size` bytes: a 512-byte header and the content padded to 512.
fn entry_size(size: u64) -> u64 {
    512 + size.div_ceil(512) * 512
}

impl Layout {
    /// Plan the archive of `images` (each a pulled image named by its full reference).
    ///
    /// Errors: JSON serialisation (none in practice).
    pub fn new(images: &[Pulled]) -> Result<Self> {
        Self::partial(images, &std::collections::BTreeSet::new(), None)
    }

    /// [`Layout::new`] without the layer blobs `omit` names (layers the reader already has: an
    /// upgrade package leaves out what the site holds from the release it runs), manifests and
    /// configs always included. `annotations`, when given, become the annotations of
    /// `index.json` (how a reader learns that the layout is partial).
    ///
    /// Errors: JSON serialisation (none in practice).
    pub fn partial(
        images: &[Pulled],
        omit: &std::collections::BTreeSet<String>,
        annotations: Option<&BTreeMap<String, String>>,
    ) -> Result<Self> {
        let mut blobs: BTreeMap<&str, u64> = BTreeMap::new();
        for p in images {
            for d in std::iter::once(&p.manifest).chain(std::iter::once(&p.config)) {
                blobs.insert(&d.digest, d.size);
            }
            for d in p.layers.iter().filter(|l| !omit.contains(&l.digest)) {
                blobs.insert(&d.digest, d.size);
            }
        }
        let mut sorted: Vec<&Pulled> = images.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut index = json!({
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
        if let Some(a) = annotations {
            index["annotations"] = json!(a);
        }
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
        Ok(Layout {
            blobs: blobs.into_iter().map(|(d, s)| (d.to_string(), s)).collect(),
            files: [
                ("index.json", serde_json::to_vec(&index)?),
                ("manifest.json", serde_json::to_vec(&docker)?),
                (
                    "oci-layout",
                    serde_json::to_vec(&json!({"imageLayoutVersion": "1.0.0"}))?,
                ),
            ],
        })
    }

    /// A digest of everything the archive's bytes are made from besides the blobs' content (the
    /// format, `stamp`, each blob's digest and size, the three JSON files): two layouts with the
    /// same key whose blobs verify against their digests are the same bytes. Lowercase hex.
    pub fn key(&self, stamp: Stamp) -> String {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(format!(
            "images.tar v1 {} {} {}\n",
            stamp.mtime, stamp.uid, stamp.gid
        ));
        for (digest, size) in &self.blobs {
            h.update(format!("{digest} {size}\n"));
        }
        for (name, bytes) in &self.files {
            h.update(format!("{name} {}\n", bytes.len()));
            h.update(bytes);
        }
        crate::hash::hex(&h.finalize())
    }

    /// Layer blobs of the layout: `(digest, size)`, sorted by digest.
    pub fn blobs(&self) -> &[(String, u64)] {
        &self.blobs
    }

    /// Bytes [`Layout::write`] writes: two folder entries, each blob, the three JSON files and
    /// the two zero blocks that end a tar (every path is under 100 bytes: no long-name entries).
    pub fn size(&self) -> u64 {
        2 * entry_size(0)
            + self.blobs.iter().map(|(_, s)| entry_size(*s)).sum::<u64>()
            + self
                .files
                .iter()
                .map(|(_, b)| entry_size(b.len() as u64))
                .sum::<u64>()
            + 1024
    }

    /// Write the archive to `out`, blobs read from `cache` in 1 MiB reads, each hashed as it is
    /// read and checked against its digest ([`BlobCache::open`]).
    ///
    /// Errors: a cached blob missing, of another size or corrupt (removed; run again); I/O.
    pub fn write(&self, out: impl Write, cache: &BlobCache, stamp: Stamp) -> Result<()> {
        let mut tar = tar::Builder::new(out);
        for dir in ["blobs/", "blobs/sha256/"] {
            let mut h = header(0, stamp, tar::EntryType::Directory);
            tar.append_data(&mut h, dir, std::io::empty())?;
        }
        for (digest, size) in &self.blobs {
            let (r, found) = cache.open(digest)?;
            if found != *size {
                let _ = std::fs::remove_file(cache.path(digest)?);
                return Err(crate::error::UserError::failure(format!(
                    "cached blob {digest} is corrupt (it has {found} bytes, not {size}); it was removed and nothing was packaged"
                ))
                .hint("run the command again to download it anew")
                .into());
            }
            // Header through the tar crate, content and padding straight into the stream.
            let mut h = header(*size, stamp, tar::EntryType::Regular);
            let name = format!("blobs/sha256/{}", hex_of(digest)?);
            tar.append_data(&mut h, name, std::io::empty())?;
            let mut r = r;
            let copied = r.copy_to(tar.get_mut())?;
            r.finish()?;
            if copied != *size {
                anyhow::bail!("cached blob {digest} changed size while it was packed");
            }
            tar.get_mut()
                .write_all(&vec![0; ((512 - size % 512) % 512) as usize])?;
        }
        for (name, bytes) in &self.files {
            let mut h = header(bytes.len() as u64, stamp, tar::EntryType::Regular);
            tar.append_data(&mut h, name, bytes.as_slice())?;
        }
        tar.into_inner()?.flush()?;
        Ok(())
    }
}
