//! One image, for one platform, from its registry into the blob cache: the manifest (an index is
//! resolved to the platform's manifest), its config and its layers; blobs already cached are not
//! downloaded again.

use anyhow::Result;
use serde::Serialize;

use super::cache::BlobCache;
use crate::error::UserError;
use crate::registry::client::Registry;

/// A content descriptor: media type, digest, size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    /// `application/vnd.oci.image.manifest.v1+json`, …
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
}

/// An image in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The full reference it was pulled as (`registry.local:5000/rel/app:1.0.0`).
    pub name: String,
    /// Its platform manifest.
    pub manifest: Descriptor,
    /// Config blob.
    pub config: Descriptor,
    /// Layer blobs, in order.
    pub layers: Vec<Descriptor>,
    /// The platforms the image has, when none is the one asked for and it was packed anyway
    /// (`--allow-other-platform`): `linux/amd64`.
    pub other_platform: Option<String>,
    /// A single-platform image (no index): its config says which platform it is, checked once
    /// the config is in the cache ([`check_platform`]).
    pub single: bool,
}

/// An image that has no manifest for the platform asked for ([`resolve_at`]).
#[derive(Debug, Clone)]
pub struct PlatformMismatch {
    /// The image reference.
    pub name: String,
    /// The platforms it has (`linux/amd64, linux/arm64`).
    pub has: String,
}

impl std::fmt::Display for PlatformMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (has {})", self.name, self.has)
    }
}

impl std::error::Error for PlatformMismatch {}

/// `os/arch[/variant]` of an index entry's `platform` or of an image config.
fn platform_of(p: &serde_json::Value) -> String {
    let mut s = format!(
        "{}/{}",
        p["os"].as_str().unwrap_or("?"),
        p["architecture"].as_str().unwrap_or("?")
    );
    if let Some(v) = p["variant"].as_str() {
        s = format!("{s}/{v}");
    }
    s
}

impl Platform {
    /// Whether `p` (an index entry's `platform`, or an image config) is this platform; a
    /// variant is compared only when this platform names one.
    fn matches(&self, p: &serde_json::Value) -> bool {
        p["os"] == self.os.as_str()
            && p["architecture"] == self.arch.as_str()
            && self.variant.as_deref().is_none_or(|v| p["variant"] == v)
    }
}

/// `os/arch[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`.
    pub arch: String,
    /// `v8`, when given.
    pub variant: Option<String>,
}

impl std::str::FromStr for Platform {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: Some(v.to_string()),
            }),
            _ => Err(
                UserError::input(format!("platform `{s}` is not os/arch[/variant]"))
                    .hint("e.g. linux/amd64 or linux/arm64/v8")
                    .into(),
            ),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A manifest as read: an index (each entry's descriptor and `platform` object) or an image
/// manifest (media type, config and layer descriptors).
#[derive(Debug)]
pub enum ManifestDoc {
    /// `manifests` present: an OCI image index or a Docker manifest list.
    Index(Vec<(Descriptor, serde_json::Value)>),
    /// An image manifest.
    Image {
        /// Its `mediaType` (OCI's when absent).
        media_type: String,
        /// The config descriptor.
        config: Descriptor,
        /// The layer descriptors, in order.
        layers: Vec<Descriptor>,
    },
}

/// Read manifest `bytes` of image `name` (OCI image-spec `manifest.md` and `image-index.md`,
/// Docker's v2 schema 2): pure, no registry.
///
/// Errors (exit 1, naming the image): not JSON, a `manifests` that is not a list, a descriptor
/// without a digest or size ([`descriptor`]).
pub fn read_manifest(bytes: &[u8], name: &str) -> Result<ManifestDoc> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        UserError::failure(format!("{name}: the manifest is not JSON: {e}"))
            .hint("the registry sent something else than a manifest; push the image again")
    })?;
    if let Some(m) = doc.get("manifests") {
        let list = m.as_array().ok_or_else(|| {
            UserError::failure(format!("{name}: the index's `manifests` is not a list"))
        })?;
        return Ok(ManifestDoc::Index(
            list.iter()
                .map(|m| {
                    Ok((
                        descriptor(m, "platform manifest", name)?,
                        m["platform"].clone(),
                    ))
                })
                .collect::<Result<_>>()?,
        ));
    }
    let media_type = doc
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or("application/vnd.oci.image.manifest.v1+json")
        .to_string();
    let config = descriptor(&doc["config"], "config", name)?;
    let layers = match doc.get("layers") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(l)) => l
            .iter()
            .map(|x| descriptor(x, "layer", name))
            .collect::<Result<Vec<_>>>()?,
        Some(_) => {
            return Err(UserError::failure(format!(
                "{name}: the manifest's `layers` is not a list"
            ))
            .into())
        }
    };
    Ok(ManifestDoc::Image {
        media_type,
        config,
        layers,
    })
}

/// The entry of an index for `platform`, if one names it.
pub fn pick_platform<'a>(
    list: &'a [(Descriptor, serde_json::Value)],
    platform: &Platform,
) -> Option<&'a Descriptor> {
    list.iter()
        .find(|(_, p)| platform.matches(p))
        .map(|(d, _)| d)
}

fn descriptor(v: &serde_json::Value, what: &str, name: &str) -> Result<Descriptor> {
    let media_type = v
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    let digest = v
        .get("digest")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    let size = v.get("size").and_then(|m| m.as_u64());
    match size {
        Some(size) if super::cache::hex_of(&digest).is_ok() => Ok(Descriptor {
            media_type,
            digest,
            size,
        }),
        _ => Err(UserError::failure(format!(
            "{name}: the {what} descriptor has no valid digest and size"
        ))
        .into()),
    }
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::hash::sha256_hex(bytes))
}

/// Passes writes through until `left` bytes have gone, then refuses (a registry that sends more
/// than the descriptor says, or never stops).
struct Bounded<'a, W: std::io::Write> {
    inner: &'a mut W,
    left: u64,
    over: bool,
}

impl<W: std::io::Write> std::io::Write for Bounded<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.over = true;
            return Err(std::io::Error::other(
                "more bytes than the descriptor declares",
            ));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Download blob `digest` of the repository of `name` into `cache` unless it is there, reading
/// at most `size` bytes (the descriptor's; `None` when not known) and refusing a descriptor above
/// `release.maxBlobSize` ([`crate::limits::Limits::blob_bytes`], 16 GiB by default: a layer bigger
/// than that is a registry lying or broken) before downloading. Returns the bytes downloaded (0 when cached).
///
/// Errors (exit 1, each naming registry, image and digest; nothing is left in the cache): registry
/// faults; a blob longer or shorter than its descriptor; a digest mismatch.
pub fn fetch_blob(
    registry: &Registry,
    name: &str,
    digest: &str,
    size: Option<u64>,
    cache: &BlobCache,
) -> Result<u64> {
    if cache.has(digest) {
        return Ok(0);
    }
    let host = crate::image::reference::split(name).0;
    let max = crate::limits::get().blob_bytes;
    if let Some(s) = size.filter(|s| *s > max) {
        return Err(UserError::failure(format!(
            "registry {host}: image {name} declares blob {digest} of {s} bytes, more than the {} a layer may have (release.maxBlobSize); nothing was downloaded",
            crate::limits::human(max)
        ))
        .hint("the image's manifest is broken or the registry is not to be trusted: push the image again (or raise release.maxBlobSize if the layer is real)")
        .into());
    }
    let mut w = cache.writer(digest)?;
    let n = match size {
        None => registry.blob(name, digest, &mut w)?,
        Some(s) => {
            let mut b = Bounded {
                inner: &mut w,
                left: s,
                over: false,
            };
            let r = registry.blob(name, digest, &mut b);
            if b.over {
                return Err(UserError::failure(format!(
                    "registry {host}: blob {digest} of image {name} runs past the {s} bytes its descriptor declares; nothing was kept"
                ))
                .hint("the registry sends more than the manifest says: push the image again, or check the registry")
                .into());
            }
            let n = r?;
            if n != s {
                return Err(UserError::failure(format!(
                    "registry {host}: blob {digest} of image {name} has {n} bytes, not the {s} its descriptor declares; nothing was kept"
                ))
                .hint("push the image again, or check the registry")
                .into());
            }
            n
        }
    };
    w.commit()?;
    Ok(n)
}

/// The manifest of `name` for `platform` (an index is resolved), stored in `cache`, with the
/// descriptors of its config and layers; no other blob is downloaded.
///
/// An index without a manifest for `platform` is a [`PlatformMismatch`] error, or with
/// `allow_other` gives its first manifest with [`Pulled::other_platform`] set. A single-platform
/// image's platform is in its config, checked later with [`check_platform`].
///
/// Errors, each naming registry and image: unreachable, auth, missing image, a
/// [`PlatformMismatch`], a manifest whose digest does not match.
/// With `locked` (`sha256:…`, from `images/images.lock`) the manifest is read at that digest
/// instead of what the tag names now; the image keeps its name `name`.
pub fn resolve_at(
    registry: &Registry,
    name: &str,
    locked: Option<&str>,
    platform: &Platform,
    allow_other: bool,
    cache: &BlobCache,
) -> Result<Pulled> {
    let fetch = match locked {
        Some(d) => format!("{}@{d}", crate::image::reference::name_and_suffix(name).0),
        None => name.to_string(),
    };
    // A manifest asked for by digest is content: the cache's copy (checked against the digest)
    // serves as well as the registry's, and no request is made.
    let by_digest = |reference: &str, want: Option<&str>| -> Result<(Vec<u8>, String)> {
        if let Some(d) = want {
            if let Ok(bytes) = cache.path(d).and_then(|p| Ok(std::fs::read(p)?)) {
                if sha(&bytes) == d {
                    return Ok((bytes, d.to_string()));
                }
            }
        }
        let got = registry.manifest(reference)?;
        if want.is_some() && sha(&got.0) == got.1 && !cache.has(&got.1) {
            cache.put(&got.1, &got.0)?;
        }
        Ok(got)
    };
    let (mut bytes, mut digest) = by_digest(&fetch, locked)?;
    if sha(&bytes) != digest {
        return Err(UserError::failure(format!(
            "{name}: the manifest's content hashes to {}, not {digest}",
            sha(&bytes)
        ))
        .into());
    }
    let mut doc = read_manifest(&bytes, name)?;
    let mut other_platform = None;
    let single = matches!(doc, ManifestDoc::Image { .. });
    if let ManifestDoc::Index(list) = &doc {
        let d = match pick_platform(list, platform) {
            Some(d) => d.clone(),
            None => {
                let has = list
                    .iter()
                    .map(|m| platform_of(&m.1))
                    .collect::<Vec<_>>()
                    .join(", ");
                if !allow_other || list.is_empty() {
                    return Err(PlatformMismatch {
                        name: name.to_string(),
                        has,
                    }
                    .into());
                }
                other_platform = Some(has);
                list[0].0.clone()
            }
        };
        let child = format!(
            "{}@{}",
            crate::image::reference::name_and_suffix(name).0,
            d.digest
        );
        (bytes, digest) = by_digest(&child, Some(&d.digest))?;
        if sha(&bytes) != d.digest || digest != d.digest {
            return Err(UserError::failure(format!(
                "{name}: the {platform} manifest's content hashes to {}, not {}",
                sha(&bytes),
                d.digest
            ))
            .into());
        }
        doc = read_manifest(&bytes, name)?;
    }
    let ManifestDoc::Image {
        media_type,
        config,
        layers,
    } = doc
    else {
        return Err(UserError::failure(format!(
            "{name}: the platform manifest {digest} is an index again; nested indexes are not read"
        ))
        .into());
    };
    if !cache.has(&digest) {
        cache.put(&digest, &bytes)?;
    }
    Ok(Pulled {
        name: name.to_string(),
        manifest: Descriptor {
            media_type,
            size: bytes.len() as u64,
            digest,
        },
        config,
        layers,
        other_platform,
        single,
    })
}

/// The platform check of a single-platform image whose config blob is in `cache`: `Ok(None)`
/// when its config names `platform` (or no platform at all), else the platform it names.
///
/// Errors: the config cannot be read from the cache.
pub fn check_platform(
    pulled: &Pulled,
    platform: &Platform,
    cache: &BlobCache,
) -> Result<Option<String>> {
    if !pulled.single {
        return Ok(None);
    }
    let data = std::fs::read(cache.path(&pulled.config.digest)?)?;
    let cfg: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
    if cfg.get("architecture").is_none() || platform.matches(&cfg) {
        return Ok(None);
    }
    Ok(Some(platform_of(&cfg)))
}
