//! Blobs kept by digest under `<git-common-dir>/release/blobs/sha256/<hex>`: written to a
//! temporary file while hashed, renamed into place only when the digest matches, and hashed
//! again when read into a package, so a corrupt blob is never stored or packed.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::error::UserError;

/// The cache folder of one repository.
#[derive(Debug, Clone)]
pub struct BlobCache {
    dir: PathBuf,
}

/// `sha256:<64 hex>` -> the hex part; anything else is refused (no path can be built from it).
pub fn hex_of(digest: &str) -> Result<&str> {
    match digest.strip_prefix("sha256:") {
        Some(h)
            if h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) =>
        {
            Ok(h)
        }
        _ => Err(UserError::input(format!(
            "unsupported or malformed digest `{digest}` (sha256 only)"
        ))
        .into()),
    }
}

impl BlobCache {
    /// The cache of `repo` (shared by its worktrees). Partial downloads left by runs that were
    /// killed or interrupted (their process is gone) are removed, each with a note on stderr.
    pub fn of(repo: &gix::Repository) -> Self {
        let dir = repo.common_dir().join("release/blobs/sha256");
        crate::durable::remove_stale_temporaries(&dir);
        BlobCache { dir }
    }

    /// Where blob `digest` lives (present or not).
    ///
    /// Errors: a digest that is not `sha256:<hex>`.
    pub fn path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self.dir.join(hex_of(digest)?))
    }

    /// Whether `digest` is stored (its content is verified when read, [`BlobCache::open`]).
    pub fn has(&self, digest: &str) -> bool {
        self.path(digest).is_ok_and(|p| p.is_file())
    }

    /// Store `bytes` (small blobs: manifests, configs) under `digest`.
    ///
    /// Errors: the bytes do not hash to `digest` (exit 1, nothing stored); I/O.
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        let mut w = self.writer(digest)?;
        w.write_all(bytes)?;
        w.commit()
    }

    /// A writer that stores a blob once [`BlobWriter::commit`] finds its digest right.
    ///
    /// Errors: bad digest, I/O.
    pub fn writer(&self, digest: &str) -> Result<BlobWriter> {
        let path = self.path(digest)?;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        // `.<hex>-<random>.git-release-tmp-<pid>`: a run killed mid-download (Ctrl-C, kill -9)
        // leaves one, which the next run removes ([`BlobCache::of`]).
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}-", hex_of(digest)?))
            .suffix(&format!(".git-release-tmp-{}", std::process::id()))
            .tempfile_in(&self.dir)
            .with_context(|| format!("writing into {}", self.dir.display()))?;
        Ok(BlobWriter {
            tmp,
            hash: Sha256::new(),
            size: 0,
            path,
            digest: digest.to_string(),
        })
    }

    /// Open blob `digest` for reading: `(reader, size in bytes)`. The reader hashes what it
    /// reads; [`VerifiedBlob::finish`] then checks the digest.
    ///
    /// Errors (exit 1): the blob is not in the cache.
    pub fn open(&self, digest: &str) -> Result<(VerifiedBlob, u64)> {
        let path = self.path(digest)?;
        let f = std::fs::File::open(&path).map_err(|_| {
            UserError::failure(format!(
                "blob {digest} is not in the cache ({})",
                path.display()
            ))
        })?;
        let size = f.metadata()?.len();
        Ok((
            VerifiedBlob {
                inner: f.take(size),
                hash: crate::hash::BackgroundSha256::new(),
                path,
                digest: digest.to_string(),
            },
            size,
        ))
    }
}

/// A cached blob being read; see [`BlobCache::open`].
pub struct VerifiedBlob {
    inner: std::io::Take<std::fs::File>,
    hash: crate::hash::BackgroundSha256,
    path: PathBuf,
    digest: String,
}

impl Read for VerifiedBlob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

impl VerifiedBlob {
    /// Copy the rest of the blob into `out` in reads of 1 MiB, each buffer written and then
    /// handed whole to the hashing thread (no second copy); [`VerifiedBlob::finish`] checks it.
    ///
    /// Returns the bytes copied. Errors: I/O.
    pub fn copy_to(&mut self, out: &mut dyn Write) -> std::io::Result<u64> {
        let mut n = 0u64;
        loop {
            let mut buf = self.hash.spare();
            buf.clear();
            // read_to_end fills the spare capacity without zeroing it first.
            let want = buf.capacity().max(1 << 20) as u64;
            (&mut self.inner).take(want).read_to_end(&mut buf)?;
            let filled = buf.len();
            if filled == 0 {
                return Ok(n);
            }
            out.write_all(&buf)?;
            n += filled as u64;
            self.hash.update_owned(buf);
        }
    }

    /// Check that what was read hashes to the blob's digest; a corrupt blob is removed from the
    /// cache, so it is never packed and the next run downloads it anew.
    ///
    /// Errors (exit 1): digest mismatch, naming both digests.
    pub fn finish(self) -> Result<()> {
        let got = format!("sha256:{}", self.hash.finish()?);
        if got != self.digest {
            let _ = std::fs::remove_file(&self.path);
            return Err(UserError::failure(format!(
                "cached blob {} is corrupt (its content hashes to {got}); it was removed and nothing was packaged",
                self.digest
            ))
            .hint("run the command again to download it anew")
            .into());
        }
        Ok(())
    }
}

/// A blob being written; see [`BlobCache::writer`].
pub struct BlobWriter {
    tmp: tempfile::NamedTempFile,
    hash: Sha256,
    size: u64,
    path: PathBuf,
    digest: String,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.tmp.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

impl BlobWriter {
    /// Keep the blob if its content hashes to its digest; the temporary file is removed otherwise.
    ///
    /// Errors (exit 1): digest mismatch (a corrupt registry or transfer), naming both digests.
    pub fn commit(self) -> Result<()> {
        let got = format!("sha256:{}", crate::hash::hex(&self.hash.finalize()));
        if got != self.digest {
            return Err(UserError::failure(format!(
                "blob {} arrived with content hashing to {got} ({} bytes); not stored",
                self.digest, self.size
            ))
            .hint("the registry or the transfer corrupted it; nothing was packaged")
            .into());
        }
        self.tmp.as_file().sync_all()?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("storing blob {}", self.digest))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read blob `digest` through [`BlobCache::open`], digest checked.
    fn copy_verified(c: &BlobCache, digest: &str, out: &mut Vec<u8>) -> Result<u64> {
        let (mut r, _) = c.open(digest)?;
        let n = std::io::copy(&mut r, out)?;
        r.finish()?;
        Ok(n)
    }

    #[test]
    fn stores_only_what_matches_its_digest() {
        let d = tempfile::tempdir().unwrap();
        let c = BlobCache {
            dir: d.path().join("b"),
        };
        let good = format!("sha256:{}", crate::hash::sha256_hex(b"hello"));
        c.put(&good, b"hello").unwrap();
        assert!(c.has(&good));
        let bad = format!("sha256:{}", crate::hash::sha256_hex(b"other"));
        assert!(c.put(&bad, b"hello").is_err());
        assert!(!c.has(&bad));
        let mut out = Vec::new();
        copy_verified(&c, &good, &mut out).unwrap();
        assert_eq!(out, b"hello");
        std::fs::write(c.path(&good).unwrap(), b"tampered").unwrap();
        assert!(copy_verified(&c, &good, &mut Vec::new()).is_err());
        assert!(!c.has(&good), "a corrupt blob is removed");
        assert!(hex_of("sha256:../../etc").is_err());
    }
}
