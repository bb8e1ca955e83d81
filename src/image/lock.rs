//! `images/images.lock`: the digest every image of the lists pointed at when it was locked, so
//! that a package rebuilt later pulls the same bytes even when a tag moved in the registry
//! (imgpkg's `ImagesLock`, `helm dt`'s `Images.lock`, Helm's HIP-0019 proposal). A generated
//! file, committed like the image lists; nobody edits it by hand.
//!
//! ```yaml
//! # Image digests, written by git-release (images --lock, images sync). Do not edit.
//! images:
//!   '[[ registry_release ]]/release/app:1.0.0':
//!     digest: sha256:…            # what the tag named: an index or a manifest
//!     platforms:                  # an index's manifests, by platform
//!       linux/amd64: sha256:…
//! ```

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::error::UserError;

/// The lock file's name under the images folder.
pub const FILE: &str = "images.lock";

/// One locked image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locked {
    /// `sha256:…` the tag named when locked (an image index or a manifest).
    pub digest: String,
    /// For an index: `os/arch[/variant]` -> manifest digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub platforms: BTreeMap<String, String>,
}

/// The lock: image (as the lists hold it) -> what it was locked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagesLock {
    /// By image reference as the lists hold it.
    #[serde(default)]
    pub images: BTreeMap<String, Locked>,
}

impl ImagesLock {
    /// Parse the bytes of `rel`.
    ///
    /// Errors (exit 2): not the lock's YAML shape, naming `rel` and the line.
    pub fn parse(rel: &str, bytes: &[u8]) -> Result<Self> {
        let lock: ImagesLock = serde_yaml::from_slice(bytes).map_err(|e| {
            UserError::input(format!(
                "{rel}:{}: not an images lock ({e})",
                e.location().map_or(1, |l| l.line())
            ))
            .hint("it is written by `git release images --lock`; write it again with that command")
        })?;
        for (image, l) in &lock.images {
            for d in std::iter::once(&l.digest).chain(l.platforms.values()) {
                let hex = d.strip_prefix("sha256:").unwrap_or_default();
                if hex.len() != 64
                    || !hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(UserError::input(format!(
                        "{rel}: `{image}` is locked at `{d}`, which is not a sha256 digest"
                    ))
                    .hint("write the lock again with `git release images --lock`")
                    .into());
                }
            }
        }
        Ok(lock)
    }

    /// The lock at `tree` (`<imagesPath>/images.lock`), or `None` when there is none.
    ///
    /// Errors: as [`ImagesLock::parse`]; unreadable objects.
    pub fn at(
        repo: &gix::Repository,
        tree: gix::ObjectId,
        settings: &crate::settings::Settings,
    ) -> Result<Option<Self>> {
        let rel = crate::files::join(&settings.images_path, FILE);
        crate::git::blob_at(repo, tree, &rel)?
            .map(|b| Self::parse(&rel, &b))
            .transpose()
    }

    /// The file's text: a comment line, then the YAML (keys sorted: the same lock gives the
    /// same bytes).
    pub fn render(&self) -> Result<String> {
        Ok(format!(
            "# Image digests, written by git-release (images --lock, images sync). Do not edit.\n{}",
            serde_yaml::to_string(self)?
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_digests_refused() {
        let mut lock = ImagesLock::default();
        lock.images.insert(
            "[[ registry_release ]]/release/app:1.0".into(),
            Locked {
                digest: format!("sha256:{}", "a".repeat(64)),
                platforms: BTreeMap::from([(
                    "linux/amd64".into(),
                    format!("sha256:{}", "b".repeat(64)),
                )]),
            },
        );
        let text = lock.render().unwrap();
        assert_eq!(
            ImagesLock::parse("images/images.lock", text.as_bytes()).unwrap(),
            lock
        );
        let bad = text.replace(&"a".repeat(64), "zz");
        let e = ImagesLock::parse("images/images.lock", bad.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("not a sha256 digest"), "{e}");
        assert!(ImagesLock::parse("images/images.lock", b"images: [1, 2]\n").is_err());
    }
}
