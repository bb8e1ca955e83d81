//! Reading a package back, as the site does (`verify`, `push`): one pass over the `.tar.gz`
//! hashes every file, keeps the small ones in memory and copies `images/images.tar` to a
//! temporary file, where each blob is then hashed against its digest and found again by offset.
//! Works on every package git-release writes (full, hotfix, upgrade): one top folder holding a
//! manifest (`release.yaml`, `hotfix.yaml`, `upgrade.yaml`) whose `sha256:` map covers every
//! other file.

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::error::UserError;

/// The manifests a package can hold, in the order they are looked for.
pub const MANIFESTS: &[&str] = &[
    "release.yaml",
    "hotfix.yaml",
    "upgrade.yaml",
    "plugin-package.yaml",
];

/// Files kept in memory while reading (charts, manifests, lists, scripts); larger ones are
/// only hashed (or, for `images.tar`, copied to a temporary file).
const IN_MEMORY: u64 = 64 << 20;

/// One file of the package.
#[derive(Debug)]
pub struct PackageFile {
    /// Lowercase hex sha256 of its bytes.
    pub sha256: String,
    /// Its bytes, when at most 64 MiB (and not `images.tar`).
    pub data: Option<Vec<u8>>,
}

/// `images/images.tar` of a package, copied out.
pub struct ImagesArchive {
    /// The copy (removed when dropped).
    pub file: tempfile::NamedTempFile,
    /// Blob digest (`sha256:…`) -> (offset of its bytes in the copy, size).
    pub blobs: BTreeMap<String, (u64, u64)>,
    /// Blobs whose bytes do not hash to their name: `(digest, what they hash to)`.
    pub corrupt: Vec<(String, String)>,
    /// `index.json` of the layout.
    pub index: serde_json::Value,
    /// Why the copy could not be read to its end as a tar archive, when it could not.
    pub broken: Option<String>,
}

impl ImagesArchive {
    /// The bytes of blob `digest`.
    ///
    /// Errors: a blob the archive does not hold; I/O.
    pub fn read(&self, digest: &str) -> Result<Vec<u8>> {
        let (offset, size) = *self
            .blobs
            .get(digest)
            .with_context(|| format!("blob {digest} is not in images.tar"))?;
        let mut f = self.file.reopen()?;
        f.seek(std::io::SeekFrom::Start(offset))?;
        let mut out = vec![0; usize::try_from(size)?];
        f.read_exact(&mut out)?;
        Ok(out)
    }

    /// The images of the layout: `(full reference, manifest digest, media type)`, from
    /// `index.json` (`org.opencontainers.image.ref.name`).
    pub fn images(&self) -> Vec<(String, String, String)> {
        self.index["manifests"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|e| {
                        Some((
                            e["annotations"]["org.opencontainers.image.ref.name"]
                                .as_str()?
                                .to_string(),
                            e["digest"].as_str()?.to_string(),
                            e["mediaType"].as_str().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A package read back.
pub struct Package {
    /// The top folder (`demo-v1.0.0`).
    pub top: String,
    /// Which manifest it holds (`release.yaml`, …), and its text.
    pub manifest_name: String,
    /// The manifest's bytes.
    pub manifest_bytes: Vec<u8>,
    /// The manifest, parsed.
    pub manifest: serde_yaml::Value,
    /// Every file but the manifest, by path inside the top folder.
    pub files: BTreeMap<String, PackageFile>,
    /// `images/images.tar`, when the package has one.
    pub images: Option<ImagesArchive>,
    /// Entries that are neither regular files nor folders, or outside the top folder.
    pub strange: Vec<String>,
}

/// What `verify` finds wrong with a package: each a sentence naming the file.
pub fn mismatches(p: &Package) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(why) = crate::packaging::check_seal(&p.manifest_bytes) {
        out.push(format!("{}: {why}", p.manifest_name));
    }
    let listed: BTreeMap<String, String> = p.manifest["sha256"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    for (path, want) in &listed {
        match p.files.get(path) {
            None => out.push(format!("{path}: listed in {} but missing", p.manifest_name)),
            Some(f) if &f.sha256 != want => out.push(format!(
                "{path}: sha256 {} but {} records {want}",
                f.sha256, p.manifest_name
            )),
            Some(_) => {}
        }
    }
    for path in p.files.keys() {
        let signature = path == &format!("{}.sig", p.manifest_name);
        if !listed.contains_key(path) && !signature {
            out.push(format!(
                "{path}: not listed in {} (added after the package was made?)",
                p.manifest_name
            ));
        }
    }
    for s in &p.strange {
        out.push(format!("{s}: not a plain file of the package"));
    }
    if let Some(i) = &p.images {
        if let Some(why) = &i.broken {
            out.push(format!(
                "images/images.tar: cannot be read to its end ({why})"
            ));
        }
        for (digest, found) in &i.corrupt {
            out.push(format!(
                "images/images.tar: blob {digest} hashes to sha256:{found}"
            ));
        }
        // Every manifest and config the index names must be there; layers too, unless the
        // manifest lists them as expected at the site (an upgrade package).
        let expected: std::collections::BTreeSet<String> = p.manifest["images"]["layers_expected"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|l| l["digest"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for (name, digest, _) in i.images() {
            let Ok(bytes) = i.read(&digest) else {
                out.push(format!(
                    "images/images.tar: the manifest {digest} of {name} is missing"
                ));
                continue;
            };
            let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let mut need = vec![doc["config"]["digest"].as_str().unwrap_or_default()];
            need.extend(
                doc["layers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l["digest"].as_str())
                    .filter(|d| !expected.contains(*d)),
            );
            for d in need {
                if !i.blobs.contains_key(d) {
                    out.push(format!("images/images.tar: blob {d} of {name} is missing"));
                }
            }
        }
    }
    out
}

/// Read the package at `path` ([module docs](self)).
///
/// Errors (exit 2): not a gzip tar, no single top folder, no manifest, a manifest that is not
/// YAML; I/O naming the file.
pub fn open(path: &Path) -> Result<Package> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let not_a_package = |why: String| -> anyhow::Error {
        UserError::input(format!("{}: {why}", path.display()))
            .hint("give a package git-release wrote (<product>-<version>.tar.gz, a hotfix or an upgrade package)")
            .into()
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(f)));
    let mut top: Option<String> = None;
    let mut files = BTreeMap::new();
    let mut strange = Vec::new();
    let mut images_copy: Option<tempfile::NamedTempFile> = None;
    let entries = archive
        .entries()
        .map_err(|e| not_a_package(format!("not a tar.gz package ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| not_a_package(format!("cannot be read ({e})")))?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let (first, rest) = match name.split_once('/') {
            Some((a, b)) => (a.to_string(), b.trim_end_matches('/').to_string()),
            None => (name.trim_end_matches('/').to_string(), String::new()),
        };
        match &top {
            None => top = Some(first.clone()),
            Some(t) if *t != first => {
                strange.push(name.clone());
                continue;
            }
            _ => {}
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() || rest.is_empty() || rest.split('/').any(|s| s == "..") {
            strange.push(name);
            continue;
        }
        let size = entry.size();
        let mut data = None;
        let sha256 = if rest.ends_with("images.tar")
            && rest.split('/').count() <= 2
            && images_copy.is_none()
        {
            let mut tmp =
                tempfile::NamedTempFile::new().context("a temporary file for images.tar")?;
            let sum = hash_copy(&mut entry, tmp.as_file_mut())?;
            images_copy = Some(tmp);
            sum
        } else if size <= IN_MEMORY {
            let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            let sum = hash_copy(&mut entry, &mut buf)?;
            data = Some(buf);
            sum
        } else {
            hash_copy(&mut entry, std::io::sink())?
        };
        files.insert(rest, PackageFile { sha256, data });
    }
    let top = top.ok_or_else(|| not_a_package("empty".into()))?;
    let Some(manifest_name) = MANIFESTS
        .iter()
        .find(|m| files.get(**m).is_some_and(|f| f.data.is_some()))
        .map(|m| m.to_string())
    else {
        return Err(not_a_package(format!(
            "no manifest ({}) in {top}/",
            MANIFESTS.join(", ")
        )));
    };
    let manifest_file = files.remove(&manifest_name).expect("found above");
    let manifest_bytes = manifest_file.data.unwrap_or_default();
    let manifest: serde_yaml::Value = serde_yaml::from_slice(&manifest_bytes)
        .map_err(|e| not_a_package(format!("{top}/{manifest_name} is not YAML ({e})")))?;
    let images = images_copy.map(read_layout).transpose()?;
    Ok(Package {
        top,
        manifest_name,
        manifest_bytes,
        manifest,
        files,
        images,
        strange,
    })
}

/// Copy `r` into `out`, returning the lowercase hex sha256 of what passed
/// ([`crate::hash::HashingWriter`]).
fn hash_copy(r: &mut impl Read, out: impl Write) -> Result<String> {
    let mut w = crate::hash::HashingWriter::new(out);
    std::io::copy(r, &mut w)?;
    Ok(w.finish()?)
}

/// Index the copied `images.tar`: each `blobs/sha256/<hex>` hashed and located, `index.json`.
fn read_layout(file: tempfile::NamedTempFile) -> Result<ImagesArchive> {
    let mut blobs = BTreeMap::new();
    let mut corrupt = Vec::new();
    let mut index = serde_json::Value::Null;
    let mut broken = None;
    {
        let mut a = tar::Archive::new(std::io::BufReader::new(file.reopen()?));
        let entries = match a.entries() {
            Ok(e) => e,
            Err(e) => {
                return Ok(ImagesArchive {
                    file,
                    blobs,
                    corrupt,
                    index,
                    broken: Some(e.to_string()),
                })
            }
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    broken = Some(e.to_string());
                    break;
                }
            };
            let name = entry.path()?.to_string_lossy().into_owned();
            if let Some(hex) = name.strip_prefix("blobs/sha256/") {
                if hex.is_empty() {
                    continue;
                }
                let (offset, size) = (entry.raw_file_position(), entry.size());
                let found = hash_copy(&mut entry, std::io::sink())?;
                let digest = format!("sha256:{hex}");
                if found != hex {
                    corrupt.push((digest, found));
                } else {
                    blobs.insert(digest, (offset, size));
                }
            } else if name == "index.json" {
                let mut buf = Vec::new();
                entry.read_to_end(&mut buf)?;
                index = serde_json::from_slice(&buf).unwrap_or_default();
            }
        }
    }
    Ok(ImagesArchive {
        file,
        blobs,
        corrupt,
        index,
        broken,
    })
}
