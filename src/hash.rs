//! SHA-256 as packages and the blob cache use it: lowercase hex digests, and hashing on a thread
//! of its own while hundreds of MiB are written.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `data` (64 characters), as `sha256sum` prints it.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lowercase hex of `bytes` (two characters a byte), the form digests are written in.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Bytes handed to the hashing thread at a time.
pub(crate) const HASH_CHUNK: usize = 1 << 20;

/// SHA-256 computed on a thread of its own, so that hashing hundreds of MiB overlaps with
/// reading, packing and writing them (SHA-256 is the slowest step of writing a package of
/// images). The thread starts with the first full chunk of 1 MiB (smaller inputs are hashed on
/// the caller's thread at [`BackgroundSha256::finish`]); at most four chunks are in flight and
/// their buffers are reused.
pub struct BackgroundSha256 {
    chunk: Vec<u8>,
    worker: Option<HashWorker>,
}

struct HashWorker {
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: std::thread::JoinHandle<String>,
}

impl Default for BackgroundSha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl BackgroundSha256 {
    /// An empty hash.
    pub fn new() -> Self {
        BackgroundSha256 {
            chunk: Vec::new(),
            worker: None,
        }
    }

    /// Hash `data` after what came before.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.chunk.capacity() < HASH_CHUNK {
                let mut next = self.spare();
                next.append(&mut self.chunk);
                self.chunk = next;
            }
            let take = (HASH_CHUNK - self.chunk.len()).min(data.len());
            self.chunk.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.chunk.len() == HASH_CHUNK {
                self.send();
            }
        }
    }

    /// An empty buffer of 1 MiB capacity, reused from the hashing thread when one is back.
    pub fn spare(&mut self) -> Vec<u8> {
        self.worker
            .as_ref()
            .and_then(|w| w.spare.try_recv().ok())
            .unwrap_or_else(|| Vec::with_capacity(HASH_CHUNK))
    }

    /// Hash `chunk` after what came before, without copying it.
    pub fn update_owned(&mut self, chunk: Vec<u8>) {
        if chunk.is_empty() {
            return;
        }
        if !self.chunk.is_empty() {
            self.update(&chunk);
            return;
        }
        self.chunk = chunk;
        self.send();
    }

    fn send(&mut self) {
        let w = self.worker.get_or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
            let (back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
            let thread = std::thread::spawn(move || {
                let mut hash = Sha256::new();
                for mut chunk in rx {
                    hash.update(&chunk);
                    chunk.clear();
                    let _ = back.send(chunk);
                }
                hex(&hash.finalize())
            });
            HashWorker { tx, spare, thread }
        });
        let full = std::mem::take(&mut self.chunk);
        // The thread runs until the sender is dropped; a send fails only if it panicked,
        // which `finish` reports.
        let _ = w.tx.send(full);
    }

    /// The lowercase hex sha256 of everything hashed.
    ///
    /// Errors: the hashing thread panicked.
    pub fn finish(mut self) -> io::Result<String> {
        match self.worker.take() {
            None => Ok(sha256_hex(&self.chunk)),
            Some(w) => {
                if !self.chunk.is_empty() {
                    let _ = w.tx.send(std::mem::take(&mut self.chunk));
                }
                drop(w.tx);
                w.thread
                    .join()
                    .map_err(|_| io::Error::other("the hashing thread panicked"))
            }
        }
    }
}

/// A writer that passes what is written to `inner` and hashes it ([`BackgroundSha256`]).
pub struct HashingWriter<W: Write> {
    inner: W,
    hash: BackgroundSha256,
}

impl<W: Write> HashingWriter<W> {
    /// Wrap `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: BackgroundSha256::new(),
        }
    }

    /// Flush and return the lowercase hex sha256 of everything written.
    ///
    /// Errors: the flush of `inner`.
    pub fn finish(mut self) -> io::Result<String> {
        self.inner.flush()?;
        self.hash.finish()
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `n` bytes of a fixed xorshift sequence (the same on every run).
    pub(crate) fn pseudo_random(n: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn background_sha256_matches_the_plain_hash_however_it_is_fed() {
        for n in [
            0,
            1,
            HASH_CHUNK - 1,
            HASH_CHUNK,
            HASH_CHUNK + 1,
            3 * HASH_CHUNK + 12_345,
        ] {
            let data = pseudo_random(n);
            let mut a = BackgroundSha256::new();
            for piece in data.chunks(70_001) {
                a.update(piece);
            }
            assert_eq!(
                a.finish().unwrap(),
                sha256_hex(&data),
                "{n} bytes by slices"
            );
            let mut b = BackgroundSha256::new();
            let (head, tail) = data.split_at(n / 3);
            b.update(head);
            b.update_owned(tail.to_vec());
            assert_eq!(
                b.finish().unwrap(),
                sha256_hex(&data),
                "{n} bytes, owned tail"
            );
        }
    }
}
