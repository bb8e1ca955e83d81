//! Writing files so that a killed run leaves the old file or the whole new one: temporary file,
//! optional fsync, rename, folder sync.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::hash::{BackgroundSha256, HASH_CHUNK};

/// Mode of a written package (whatever the umask), as archive entries have.
const PACKAGE_MODE: u32 = 0o644;

/// Flush a folder's entries (renames, creations) to disk. Best effort: some file systems refuse
/// to open folders for syncing, and the data itself was already synced.
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Remove a file, symlink or folder (recursively); nothing when it does not exist.
///
/// Errors: I/O, naming the path.
pub fn remove_any(p: &Path) -> Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))
        }
        Ok(_) => std::fs::remove_file(p).with_context(|| format!("removing {}", p.display())),
        Err(_) => Ok(()),
    }
}

/// Write `bytes` to `dir/file_name` atomically and durably: a temporary file
/// `.<file_name>.git-release-tmp-<pid>` in `dir`, flushed to disk (fsync), given mode 0644 (Unix;
/// whatever the umask), then renamed over `dir/file_name`, so an interrupted run leaves no half
/// file.
/// Temporary files that a killed run left in `dir` (their process is gone) are removed first.
/// An existing file of that name is replaced. `dir` must exist.
///
/// Returns the final path `dir/file_name`.
///
/// Errors: `file_name` is not a plain file name (empty, `.`, `..`, or containing a separator);
/// `dir` missing or not writable; a write, sync or rename error (each naming the path).
pub fn write_atomically(dir: &Path, file_name: &str, bytes: &[u8]) -> Result<PathBuf> {
    Ok(
        write_atomically_with(dir, file_name, Durability::Fsync, |w| {
            Ok(w.write_all(bytes)?)
        })?
        .0,
    )
}

/// Whether [`write_atomically_with`] waits for the disk before the rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// fsync the file before the rename and the folder after it (a power cut leaves the old
    /// file or the whole new one); the disk writeback of a large file is started every 8 MiB
    /// so the fsync waits for the last few.
    Fsync,
    /// Rename as soon as the last byte is written, as `git archive -o`, `tar`, `docker save`
    /// and `skopeo copy` write their outputs: a killed run still leaves the old file or the
    /// whole new one, but after a power cut the new file may be empty or short (a gzip file's
    /// length and CRC then fail).
    #[default]
    Written,
}

/// [`write_atomically`] with the content written by `fill` into the temporary file (buffered),
/// for contents too large to hold in memory, as durable as `durability` says. An error of `fill`
/// removes the temporary file and is returned as it is.
///
/// Returns the final path and the sha256 (lowercase hex) of what was written.
///
/// Errors: as [`write_atomically`]; those of `fill`.
pub fn write_atomically_with(
    dir: &Path,
    file_name: &str,
    durability: Durability,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<(PathBuf, String)> {
    let plain = matches!(
        Path::new(file_name)
            .components()
            .collect::<Vec<_>>()
            .as_slice(),
        [Component::Normal(_)]
    );
    if !plain || file_name.contains(['/', '\\']) {
        bail!("`{file_name}` is not a plain file name");
    }
    remove_stale_temporaries(dir);
    let target = dir.join(file_name);
    let tmp = temp_path(dir, file_name);
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    let filled = {
        let mut w = HashingFile {
            file: EarlyWriteback {
                file: &mut f,
                written: 0,
                started: 0,
                on: durability == Durability::Fsync,
            },
            buf: Vec::with_capacity(HASH_CHUNK),
            hash: BackgroundSha256::new(),
        };
        fill(&mut w).and_then(|()| Ok(w.finish()?))
    };
    let sum = match filled {
        Ok(sum) => sum,
        Err(e) => {
            drop(f);
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let finish = || -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(PACKAGE_MODE))?;
        }
        match durability {
            Durability::Fsync => f.sync_all(),
            Durability::Written => Ok(()),
        }
    };
    if let Err(e) = finish() {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    if let Err(e) = std::fs::rename(&tmp, &target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e)
            .with_context(|| format!("renaming {} to {}", tmp.display(), target.display()));
    }
    if durability == Durability::Fsync {
        crate::durable::sync_dir(dir);
    }
    Ok((target, sum))
}

/// The buffered writer of [`write_atomically_with`]: 1 MiB buffers written to the file and then
/// handed whole to the hashing thread (one copy of each byte, not two).
struct HashingFile<W: Write> {
    file: W,
    buf: Vec<u8>,
    hash: BackgroundSha256,
}

impl<W: Write> HashingFile<W> {
    fn drain(&mut self) -> io::Result<()> {
        self.file.write_all(&self.buf)?;
        let next = self.hash.spare();
        self.hash
            .update_owned(std::mem::replace(&mut self.buf, next));
        Ok(())
    }

    fn finish(mut self) -> io::Result<String> {
        self.drain()?;
        self.file.flush()?;
        self.hash.finish()
    }
}

impl<W: Write> Write for HashingFile<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = HASH_CHUNK - self.buf.len();
        let n = room.min(buf.len());
        self.buf.extend_from_slice(&buf[..n]);
        if self.buf.len() == HASH_CHUNK {
            self.drain()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.file.flush()
    }
}

/// The temporary file this process uses for `dir/file_name`: `.<file_name>.git-release-tmp-<pid>`,
/// the name [`remove_stale_temporaries`] recognises once the process is gone.
pub(crate) fn temp_path(dir: &Path, file_name: &str) -> PathBuf {
    dir.join(format!(".{file_name}{TMP_MARK}{}", std::process::id()))
}

/// Bytes after which [`EarlyWriteback`] asks the kernel to start writing the file to disk.
const WRITEBACK_STEP: u64 = 8 << 20;

/// A file writer that starts the disk writeback of each 8 MiB as soon as it is written (Linux
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not wait, as dpkg does before its
/// fsync), so the final `fsync` of a package of hundreds of MiB waits for the last few MiB
/// instead of all of them. Elsewhere, or when `on` is false (no fsync follows), a plain writer.
struct EarlyWriteback<'f> {
    file: &'f mut std::fs::File,
    written: u64,
    started: u64,
    on: bool,
}

impl Write for EarlyWriteback<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.on && self.written - self.started >= WRITEBACK_STEP {
            #[cfg(target_os = "linux")]
            {
                use std::os::fd::AsRawFd as _;
                // SAFETY: a valid open descriptor and a range inside the file; the call only
                // starts writeback and its failure changes nothing (fsync still follows).
                unsafe {
                    libc::sync_file_range(
                        self.file.as_raw_fd(),
                        self.started as libc::off64_t,
                        (self.written - self.started) as libc::off64_t,
                        libc::SYNC_FILE_RANGE_WRITE,
                    );
                }
            }
            self.started = self.written;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// What marks a temporary file of [`write_atomically`]; the writer's pid follows.
const TMP_MARK: &str = ".git-release-tmp-";

/// Remove `.<name>.git-release-tmp-<pid>` files in `dir` whose process is gone (a run killed
/// before its final rename). Files of live processes are left alone. Best effort.
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return; // no way to tell a live writer from a dead one here
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.rsplit_once(TMP_MARK))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
            && std::fs::remove_file(e.path()).is_ok()
        {
            eprintln!(
                "note: removed {}, left by an interrupted run",
                e.path().display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomically_replaces_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_atomically(dir.path(), "p.tar.gz", b"one").unwrap();
        assert_eq!(path, dir.path().join("p.tar.gz"));
        write_atomically(dir.path(), "p.tar.gz", b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["p.tar.gz"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        for bad in ["", ".", "..", "a/b"] {
            assert!(write_atomically(dir.path(), bad, b"x").is_err(), "{bad:?}");
        }
    }
}
