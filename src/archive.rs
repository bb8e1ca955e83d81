//! Reproducible tar.gz archives: the outer package and Helm chart archives (`<name>-<version>.tgz`).
//!
//! Source: DOMAIN.md step 8 ("same input, same bytes: sorted entries, fixed times and owners") and
//! seed 002 (`helm package` every chart, `chown -R 10000:10000`, `tar`). The bytes depend only on
//! the arguments, never on the clock, the machine, the umask or the checkout. They do depend on the
//! deflate implementation: flate2's default Rust backend (miniz_oxide) at level 6. Switching
//! flate2 to a zlib backend in Cargo.toml would change the compressed bytes (not the content).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use anyhow::{bail, Context, Result};
use flate2::{Compression, GzBuilder};

use crate::chart::helmignore::IgnoreRules;
use crate::chart::links::{children, resolve_link, Target};
use crate::error::UserError;
use crate::files::join;
use crate::files::{FileEntry, FileKind, Files};
use crate::hash::{sha256_hex, HashingWriter};

/// Owner and group number of every entry by default: the source documents run
/// `chown -R 10000:10000` before `tar`.
pub const DEFAULT_OWNER: u64 = 10000;

/// Fixed metadata written into every entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Modification time of every entry, in seconds since the Unix epoch (UTC), e.g. the commit
    /// time of the packaged commit.
    pub mtime: u64,
    /// Owner number of every entry (the owner name is left empty).
    pub uid: u64,
    /// Group number of every entry (the group name is left empty).
    pub gid: u64,
}

#[cfg(test)]
impl Stamp {
    /// A stamp with `mtime` (seconds since the Unix epoch) and owner/group
    /// [`DEFAULT_OWNER`]`:`[`DEFAULT_OWNER`] (`chown -R 10000:10000` in seed 002).
    pub fn new(mtime: u64) -> Self {
        Stamp {
            mtime,
            uid: DEFAULT_OWNER,
            gid: DEFAULT_OWNER,
        }
    }
}

/// Writes the content of a [`Stream`] into the archive.
pub type StreamWriter = std::sync::Arc<dyn Fn(&mut dyn Write) -> Result<()> + Send + Sync>;

/// Told the sha256 of a [`Stream`] once it was hashed.
pub type HashedNote = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// Makes the content of a [`Summary`] from `path -> sha256` of every other file.
pub type SummaryMaker<'a> = Box<dyn FnOnce(&BTreeMap<String, String>) -> Result<Vec<u8>> + 'a>;

/// Content written straight into an archive while it is built: exactly `size` bytes, produced by
/// `write` (e.g. `images/images.tar`, hundreds of MiB never held in memory or staged on disk).
#[derive(Clone)]
pub struct Stream {
    /// Bytes `write` produces; the archive header is written before them, so a producer that
    /// writes another count fails the archive.
    pub size: u64,
    /// Writes the content into the archive.
    pub write: StreamWriter,
    /// The content's sha256 (lowercase hex) when the producer knows it already, for content that
    /// is a pure function of inputs it has verified (`images.tar`: [`crate::oci::ImagesTar`]);
    /// the archive then does not hash it again. `None`: hashed while written.
    pub sha256: Option<String>,
    /// Told the sha256 once the content was hashed while written (to remember it).
    pub hashed: Option<HashedNote>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream({} bytes)", self.size)
    }
}

impl PartialEq for Stream {
    fn eq(&self, other: &Self) -> bool {
        self.size == other.size && std::sync::Arc::ptr_eq(&self.write, &other.write)
    }
}

impl Eq for Stream {}

/// One file to archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive: relative, `/`-separated, no leading or trailing `/`, no empty,
    /// `.` or `..` component, e.g. `platform-v2.10.2/charts/cyclone-1.2.3.tgz`.
    pub path: String,
    /// Content bytes (unused when [`Entry::stream`] is set).
    pub data: Vec<u8>,
    /// Mode 0755 when true, 0644 otherwise.
    pub executable: bool,
    /// Content produced while the archive is written, instead of `data`.
    pub stream: Option<Stream>,
}

/// Mode of regular files.
const FILE_MODE: u32 = 0o644;
/// Mode of executables and folders.
const EXEC_MODE: u32 = 0o755;
/// gzip level: fixed, so the compressed bytes never depend on a default.
pub(crate) const GZIP_LEVEL: u32 = 6;
/// gzip OS byte: 255 "unknown" (RFC 1952), so the bytes do not depend on the building machine.
const GZIP_OS_UNKNOWN: u8 = 255;

/// Write `entries` as a reproducible .tar.gz to `out`.
///
/// - Entries are sorted by path (byte order); the order of `entries` does not matter.
/// - When `with_dirs`, a folder entry `<dir>/` (mode 0755) is written once, just before the first
///   file inside each folder, nested ones included (`a/`, then `a/b/`, then `a/b/c.txt`).
/// - Files get mode 0644, or 0755 when [`Entry::executable`]; every entry gets `stamp`'s mtime,
///   uid and gid, and empty owner and group names (GNU tar headers).
/// - Paths over 100 bytes use the GNU long-name extension (`././@LongLink`, written by the tar
///   crate with fixed metadata).
/// - gzip: header mtime 0, no file name, OS byte 255, level 6 (flate2 `GzBuilder`).
///
/// Returns the number of compressed bytes written to `out`.
///
/// Errors: an invalid path (see [`Entry::path`]), the same path twice, a path that is both a file
/// and the folder of another entry, or a write error from `out`.
pub fn write_tar_gz(
    out: impl Write,
    entries: &[Entry],
    stamp: Stamp,
    with_dirs: bool,
) -> Result<u64> {
    Ok(write_tar_gz_with(out, entries, None, stamp, with_dirs, GZIP_LEVEL)?.0)
}

/// A file of an archive whose content is made, when the archive reaches it, from the sha256 of
/// every other file (a package manifest: `release.yaml`, `hotfix.yaml`).
pub struct Summary<'a> {
    /// Path inside the archive, as [`Entry::path`].
    pub path: String,
    /// Makes the content from `path -> lowercase hex sha256` of every other file.
    pub make: SummaryMaker<'a>,
    /// Signs the content made: the signature is archived as `<path>.sig` right after it.
    pub sign: Option<SummarySigner<'a>>,
}

/// Signs a summary's bytes ([`Summary::sign`]): the detached signature.
pub type SummarySigner<'a> = Box<dyn FnOnce(&[u8]) -> Result<Vec<u8>> + 'a>;

/// [`write_tar_gz`] for packages, at gzip `level` (0 stores: packages carrying `images.tar`,
/// whose layers are compressed already, are written at 0 so that gzip does not spend seconds per
/// hundred MiB finding nothing to compress; still a `.tar.gz` every tool reads): entries with a
/// [`Stream`] come first (sorted by path,
/// each hashed while it is written, so the archive is written in one pass however large they
/// are), then every other entry and `summary` sorted by path; the summary's content is made
/// when it is reached, from the sha256 of every other file.
///
/// Returns the compressed bytes written and `path -> sha256` of every file but the summary.
///
/// Errors: as [`write_tar_gz`]; a stream that writes another number of bytes than it announced
/// or fails; an error of `summary`.
pub fn write_tar_gz_with(
    out: impl Write,
    entries: &[Entry],
    summary: Option<Summary<'_>>,
    stamp: Stamp,
    with_dirs: bool,
    level: u32,
) -> Result<(u64, BTreeMap<String, String>)> {
    let placeholder = summary.as_ref().map(|s| Entry {
        path: s.path.clone(),
        data: Vec::new(),
        executable: false,
        stream: None,
    });
    let sig_path = summary
        .as_ref()
        .filter(|s| s.sign.is_some())
        .map(|s| format!("{}.sig", s.path));
    let sig_placeholder = sig_path.as_ref().map(|p| Entry {
        path: p.clone(),
        data: Vec::new(),
        executable: false,
        stream: None,
    });
    let mut sorted: Vec<&Entry> = entries
        .iter()
        .chain(placeholder.as_ref())
        .chain(sig_placeholder.as_ref())
        .collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for e in &sorted {
        check_entry_path(&e.path)?;
    }
    for pair in sorted.windows(2) {
        if pair[0].path == pair[1].path {
            bail!("`{}` would be archived twice", pair[0].path);
        }
    }
    let paths: BTreeSet<&str> = sorted.iter().map(|e| e.path.as_str()).collect();
    for e in &sorted {
        if let Some(dir) = parent_dirs(&e.path).find(|d| paths.contains(d)) {
            bail!(
                "`{dir}` would be archived both as a file and as the folder of `{}`",
                e.path
            );
        }
    }
    // Streams first (stable sort keeps them sorted by path).
    sorted.sort_by_key(|e| e.stream.is_none());
    let mut sums: BTreeMap<String, String> = match &placeholder {
        Some(p) => sorted
            .iter()
            .filter(|e| {
                e.stream.is_none() && e.path != p.path && Some(&e.path) != sig_path.as_ref()
            })
            .map(|e| (e.path.clone(), sha256_hex(&e.data)))
            .collect(),
        None => BTreeMap::new(),
    };
    let mut summary = summary;
    let mut signature: Option<Vec<u8>> = None;

    let mut counter = CountingWriter {
        inner: out,
        count: 0,
    };
    let gz = if level == 0 {
        Gz::Stored(StoredGz::new(&mut counter)?)
    } else {
        Gz::Deflate(
            GzBuilder::new()
                .mtime(0)
                .operating_system(GZIP_OS_UNKNOWN)
                .write(&mut counter, Compression::new(level)),
        )
    };
    let mut tar = tar::Builder::new(gz);
    let mut written_dirs: BTreeSet<&str> = BTreeSet::new();
    for e in sorted {
        if with_dirs {
            for dir in parent_dirs(&e.path) {
                if written_dirs.insert(dir) {
                    let path = format!("{dir}/");
                    append(
                        &mut tar,
                        &path,
                        &[],
                        EXEC_MODE,
                        tar::EntryType::Directory,
                        stamp,
                    )?;
                }
            }
        }
        let mode = if e.executable { EXEC_MODE } else { FILE_MODE };
        if let Some(st) = &e.stream {
            // The header (long names included) through the tar crate, then the content straight
            // into the stream, hashed on the way, and the padding to the next 512-byte block.
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(mode);
            header.set_uid(stamp.uid);
            header.set_gid(stamp.gid);
            header.set_mtime(stamp.mtime);
            header.set_size(st.size);
            tar.append_data(&mut header, &e.path, io::empty())
                .with_context(|| format!("adding `{}` to the archive", e.path))?;
            let (count, sum) = match &st.sha256 {
                Some(known) => {
                    let mut counted = CountingWriter {
                        inner: tar.get_mut(),
                        count: 0,
                    };
                    (st.write)(&mut counted)
                        .with_context(|| format!("adding `{}` to the archive", e.path))?;
                    (counted.count, known.clone())
                }
                None => {
                    let mut counted = CountingWriter {
                        inner: HashingWriter::new(tar.get_mut()),
                        count: 0,
                    };
                    (st.write)(&mut counted)
                        .with_context(|| format!("adding `{}` to the archive", e.path))?;
                    let sum = counted.inner.finish()?;
                    if let Some(tell) = &st.hashed {
                        tell(&sum);
                    }
                    (counted.count, sum)
                }
            };
            if count != st.size {
                bail!(
                    "`{}` came to {} bytes, not the {} announced",
                    e.path,
                    count,
                    st.size
                );
            }
            sums.insert(e.path.clone(), sum);
            let pad = (512 - st.size % 512) % 512;
            tar.get_mut().write_all(&vec![0; pad as usize])?;
            continue;
        }
        if Some(&e.path) == sig_path.as_ref() {
            let sig = signature
                .take()
                .context("the signature comes after its manifest")?;
            append(
                &mut tar,
                &e.path,
                &sig,
                FILE_MODE,
                tar::EntryType::Regular,
                stamp,
            )?;
            continue;
        }
        if let Some(s) = summary.take_if(|s| s.path == e.path) {
            let data = (s.make)(&sums)?;
            if let Some(sign) = s.sign {
                signature = Some(sign(&data)?);
            }
            append(
                &mut tar,
                &e.path,
                &data,
                mode,
                tar::EntryType::Regular,
                stamp,
            )?;
            continue;
        }
        append(
            &mut tar,
            &e.path,
            &e.data,
            mode,
            tar::EntryType::Regular,
            stamp,
        )?;
    }
    let gz = tar.into_inner().context("finishing the tar stream")?;
    gz.finish().context("finishing the gzip stream")?;
    counter.flush().context("flushing the archive")?;
    Ok((counter.count, sums))
}

/// The bytes of a Helm chart archive: a .tgz whose entries are `<chart_name>/<path>` for every
/// file of the chart `files` (paths relative to the chart folder), files only, no folder entries,
/// like `helm package`. Written by [`write_tar_gz`] with `stamp`, so it is reproducible.
///
/// Symlinks are followed, as Helm does when packaging (helm `internal/sympath`): a link to a file
/// gives that file's content and mode (0755 when the target is executable), a link to a folder
/// gives the folder's files under the link's name. Links are resolved inside `files` only, like a
/// file system rooted at the chart folder.
///
/// `.helmignore` (Helm's rules, helm `pkg/ignore/rules.go` and
/// <https://helm.sh/docs/chart_template_guide/helm_ignore_file/>), one pattern a line, matched
/// against paths relative to the chart root:
/// - blank lines and lines starting with `#` are skipped; surrounding whitespace is trimmed;
/// - a pattern without `/` matches the last name of a path at any depth (`*.tmp`);
///   a pattern with a `/` matches the whole relative path (`templates/*.bak`); a leading `/`
///   only anchors (`/README.md`);
/// - a trailing `/` matches folders only (`secret/`); an ignored folder is skipped whole;
/// - `*` (any run of characters except `/`), `?` (one character except `/`), `[abc]`, `[a-z]`,
///   `[^a-z]` and `\` escapes, as Go's `filepath.Match`; `**` is an error, as in Helm;
/// - `!pattern` re-includes what an earlier pattern excluded: the last matching line wins, as in
///   gitignore. This is what Helm documents; Helm's own code evaluates `!` differently (a known
///   bug, helm/helm#3622 and #8688: any `!` line makes Helm drop every file it does not match,
///   Chart.yaml included), so with `!` lines this archive holds what Helm's documentation says.
/// - Helm's built-in rule `templates/.?*` (dot files in `templates/`) applies after the file's.
///
/// `.helmignore` itself is archived unless one of its own patterns matches it, as Helm does.
/// A link that is ignored (as a file and as a folder) is not followed, so it can dangle.
///
/// Errors (exit 2): `chart_name` is not a single path component; `.helmignore` is not UTF-8,
/// uses `**` or has a malformed `[...]`/`\` (naming the line); a link that is absolute, leaves the
/// chart, dangles, goes through a file, or loops (naming the link and its target); no
/// `Chart.yaml` left after `.helmignore` (Helm refuses such a chart).
pub fn helm_chart_archive(chart_name: &str, files: &Files, stamp: Stamp) -> Result<Vec<u8>> {
    if chart_name.is_empty()
        || chart_name == "."
        || chart_name == ".."
        || chart_name.contains(['/', '\\', '\0'])
    {
        return Err(UserError::input(format!(
            "`{chart_name}` cannot name a chart archive's top folder"
        ))
        .hint("set Chart.yaml `name` to a plain name such as `cyclone`")
        .into());
    }
    let rules = IgnoreRules::load(chart_name, files)?;
    let mut walk = ChartWalk {
        chart: chart_name,
        files,
        rules: &rules,
        entries: Vec::new(),
    };
    walk.dir("", "", &mut vec![String::new()])?;
    if !walk
        .entries
        .iter()
        .any(|e| e.path == format!("{chart_name}/Chart.yaml"))
    {
        return Err(UserError::input(format!(
            "chart `{chart_name}` has no Chart.yaml (absent, or excluded by .helmignore)"
        ))
        .hint("Helm refuses a chart without Chart.yaml; check the chart folder and its .helmignore")
        .into());
    }
    let mut bytes = Vec::new();
    write_tar_gz(&mut bytes, &walk.entries, stamp, false)?;
    Ok(bytes)
}

/// Read back a chart archive [`helm_chart_archive`] wrote: `(chart name, files, stamp)`; the
/// top folder is the chart name, the stamp is the first entry's time and owner (every entry of
/// such an archive has the same). Used to rewrite a packaged chart at the site.
///
/// Errors: not a gzip tar; entries outside one top folder; links or other entry kinds
/// (archives hold regular files only, links resolved).
pub fn read_helm_chart_archive(bytes: &[u8]) -> Result<(String, Files, Stamp)> {
    use std::io::Read as _;
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut top: Option<String> = None;
    let mut stamp = None;
    let mut files = Files::new();
    for entry in a.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let h = entry.header();
        stamp.get_or_insert(Stamp {
            mtime: h.mtime()?,
            uid: h.uid()?,
            gid: h.gid()?,
        });
        if h.entry_type().is_dir() {
            continue;
        }
        if !h.entry_type().is_file() {
            anyhow::bail!("{path}: not a regular file");
        }
        let executable = h.mode()? & 0o111 != 0;
        let Some((first, rel)) = path.split_once('/') else {
            anyhow::bail!("{path}: outside the chart's folder");
        };
        check_entry_path(rel)?;
        match &top {
            None => top = Some(first.to_string()),
            Some(t) if t != first => anyhow::bail!("{path}: a second top folder"),
            _ => {}
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        files.insert(
            rel.to_string(),
            FileEntry {
                kind: if executable {
                    FileKind::Executable
                } else {
                    FileKind::Regular
                },
                data,
            },
        );
    }
    let top = top.ok_or_else(|| anyhow::anyhow!("an empty chart archive"))?;
    Ok((top, files, stamp.expect("set with the first entry")))
}

/// Check the symlinks of chart `files` exactly as [`helm_chart_archive`] will follow them (links
/// through links, `..` physical, `.helmignore` honoured), without building the archive: collect
/// refuses what package would refuse.
///
/// Errors (exit 2): as [`helm_chart_archive`] for links and `.helmignore`, naming `chart`.
pub fn check_chart_links(chart: &str, files: &Files) -> Result<()> {
    if !files.values().any(|e| e.kind == FileKind::Symlink) {
        return Ok(());
    }
    let rules = IgnoreRules::load(chart, files)?;
    let mut walk = ChartWalk {
        chart,
        files,
        rules: &rules,
        entries: Vec::new(),
    };
    walk.dir("", "", &mut vec![String::new()])
}

/// Counts what goes through to `inner`: the size of the compressed archive.
struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Errors unless `path` is relative, `/`-separated, with only plain components.
fn check_entry_path(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.contains('\0')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        bail!("`{path}` is not a valid archive path (relative, `/`-separated, no empty, `.` or `..` part)");
    }
    Ok(())
}

/// The folders of `path`, outermost first: `a/b/c` gives `a`, `a/b`.
fn parent_dirs(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Append one entry with a fresh GNU header (zeroed, so owner and group names stay empty).
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    data: &[u8],
    mode: u32,
    kind: tar::EntryType,
    stamp: Stamp,
) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(stamp.uid);
    header.set_gid(stamp.gid);
    header.set_mtime(stamp.mtime);
    header.set_size(data.len() as u64);
    tar.append_data(&mut header, path, data)
        .with_context(|| format!("adding `{path}` to the archive"))
}

/// The walk of one chart folder, following links and skipping ignored paths.
struct ChartWalk<'a> {
    chart: &'a str,
    files: &'a Files,
    rules: &'a IgnoreRules,
    entries: Vec<Entry>,
}

impl ChartWalk<'_> {
    /// Walk folder `real` (a path in `files`) seen as `virt` in the archive. `stack` holds the real
    /// folders from the root down to `real`, to catch a link to one of them (an endless walk).
    fn dir(&mut self, virt: &str, real: &str, stack: &mut Vec<String>) -> Result<()> {
        for name in children(self.files, real) {
            let real_child = join(real, name);
            let virt_child = join(virt, name);
            match self.files.get(&real_child) {
                None => self.subdir(&virt_child, real_child, stack)?,
                Some(entry) if entry.kind != FileKind::Symlink => self.file(&virt_child, entry),
                Some(link) => {
                    if self.rules.ignored(&virt_child, false)
                        && self.rules.ignored(&virt_child, true)
                    {
                        continue;
                    }
                    match resolve_link(self.files, &real_child)
                        .map_err(|reason| self.link_error(&real_child, link, &reason))?
                    {
                        Target::File(entry) => self.file(&virt_child, entry),
                        Target::Dir(target) => {
                            if self.rules.ignored(&virt_child, true) {
                                continue;
                            }
                            let inside = |d: &String| {
                                target.is_empty()
                                    || *d == target
                                    || d.starts_with(&format!("{target}/"))
                            };
                            if stack.iter().any(inside) {
                                let reason = "points to a folder that contains it, an endless loop";
                                return Err(self.link_error(&real_child, link, reason));
                            }
                            self.subdir(&virt_child, target, stack)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn subdir(&mut self, virt: &str, real: String, stack: &mut Vec<String>) -> Result<()> {
        if self.rules.ignored(virt, true) {
            return Ok(());
        }
        stack.push(real.clone());
        let result = self.dir(virt, &real, stack);
        stack.pop();
        result
    }

    fn file(&mut self, virt: &str, entry: &FileEntry) {
        if self.rules.ignored(virt, false) {
            return;
        }
        self.entries.push(Entry {
            path: format!("{}/{virt}", self.chart),
            data: entry.data.clone(),
            executable: entry.kind == FileKind::Executable,
            stream: None,
        });
    }

    fn link_error(&self, link: &str, entry: &FileEntry, reason: &str) -> anyhow::Error {
        let target = String::from_utf8_lossy(&entry.data);
        UserError::input(format!(
            "chart `{}`: symlink `{link}` -> `{target}` {reason}",
            self.chart
        ))
        .hint("Helm follows links when packaging; point the link at a file inside the chart folder, or replace it with a copy")
        .into()
    }
}

/// The gzip layer of an archive: deflated, or stored (level 0, [`StoredGz`]).
enum Gz<W: Write> {
    Deflate(flate2::write::GzEncoder<W>),
    Stored(StoredGz<W>),
}

impl<W: Write> Gz<W> {
    fn finish(self) -> io::Result<W> {
        match self {
            Gz::Deflate(g) => g.finish(),
            Gz::Stored(g) => g.finish(),
        }
    }
}

impl<W: Write> Write for Gz<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Gz::Deflate(g) => g.write(buf),
            Gz::Stored(g) => g.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Gz::Deflate(g) => g.flush(),
            Gz::Stored(g) => g.flush(),
        }
    }
}

/// Largest stored deflate block (RFC 1951 3.2.4: LEN is 16 bits).
const STORED_BLOCK: usize = 65_535;

/// A gzip stream (RFC 1952) of stored deflate blocks (RFC 1951 3.2.4: level 0), written
/// straight from the caller's buffers: every block but the last holds exactly 65 535 bytes, so
/// the output depends only on the bytes written, never on how the writes were cut. The header
/// is the one [`GzBuilder`] writes with mtime 0 and OS 255, so every gzip reader takes it.
struct StoredGz<W: Write> {
    inner: W,
    pending: Vec<u8>,
    crc: flate2::Crc,
}

impl<W: Write> StoredGz<W> {
    fn new(mut inner: W) -> io::Result<Self> {
        // ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=255
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, GZIP_OS_UNKNOWN])?;
        Ok(StoredGz {
            inner,
            pending: Vec::with_capacity(STORED_BLOCK),
            crc: flate2::Crc::new(),
        })
    }

    fn block(inner: &mut W, data: &[u8], last: bool) -> io::Result<()> {
        let len = data.len() as u16;
        let mut head = [u8::from(last), 0, 0, 0, 0];
        head[1..3].copy_from_slice(&len.to_le_bytes());
        head[3..5].copy_from_slice(&(!len).to_le_bytes());
        inner.write_all(&head)?;
        inner.write_all(data)
    }

    fn finish(mut self) -> io::Result<W> {
        Self::block(&mut self.inner, &self.pending, true)?;
        self.inner.write_all(&self.crc.sum().to_le_bytes())?;
        self.inner.write_all(&self.crc.amount().to_le_bytes())?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for StoredGz<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let n = buf.len();
        self.crc.update(buf);
        if !self.pending.is_empty() {
            let take = (STORED_BLOCK - self.pending.len()).min(buf.len());
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.pending.len() < STORED_BLOCK {
                return Ok(n);
            }
            Self::block(&mut self.inner, &self.pending, false)?;
            self.pending.clear();
        }
        while buf.len() >= STORED_BLOCK {
            Self::block(&mut self.inner, &buf[..STORED_BLOCK], false)?;
            buf = &buf[STORED_BLOCK..];
        }
        self.pending.extend_from_slice(buf);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;
    use std::process::Command;

    /// 2023-11-14 22:13:20 UTC.
    const MTIME: u64 = 1_700_000_000;

    fn entry(path: &str, data: &str, executable: bool) -> Entry {
        Entry {
            stream: None,
            path: path.to_string(),
            data: data.as_bytes().to_vec(),
            executable,
        }
    }

    fn long_path() -> String {
        format!("pkg/{}/{}.yaml", "d".repeat(60), "f".repeat(60))
    }

    fn sample() -> Vec<Entry> {
        vec![
            entry("pkg/install.sh", "#!/bin/sh\n", true),
            entry("pkg/a.txt", "a\n", false),
            entry("pkg/charts/x-1.0.0.tgz", "x", false),
            entry(&long_path(), "long\n", false),
            entry("pkg/a-b.txt", "ab\n", false),
        ]
    }

    fn tar_gz(entries: &[Entry], with_dirs: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let n = write_tar_gz(&mut out, entries, Stamp::new(MTIME), with_dirs).unwrap();
        assert_eq!(n, out.len() as u64);
        out
    }

    /// What the tar crate reads back: path, mode, entry type, uid, gid, mtime, names, data.
    #[derive(Debug)]
    struct ReadEntry {
        path: String,
        mode: u32,
        dir: bool,
        uid: u64,
        gid: u64,
        mtime: u64,
        names_empty: bool,
        data: Vec<u8>,
    }

    fn read_back(bytes: &[u8]) -> Vec<ReadEntry> {
        let mut archive = tar::Archive::new(GzDecoder::new(bytes));
        let mut out = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let h = e.header().clone();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.push(ReadEntry {
                path: e.path().unwrap().to_string_lossy().into_owned(),
                mode: h.mode().unwrap(),
                dir: h.entry_type().is_dir(),
                uid: h.uid().unwrap(),
                gid: h.gid().unwrap(),
                mtime: h.mtime().unwrap(),
                names_empty: h.username_bytes().is_none_or(|b| b.is_empty())
                    && h.groupname_bytes().is_none_or(|b| b.is_empty()),
                data,
            });
        }
        out
    }

    #[test]
    fn same_input_same_bytes_whatever_the_order() {
        let a = tar_gz(&sample(), true);
        assert_eq!(a, tar_gz(&sample(), true));
        let mut reversed = sample();
        reversed.reverse();
        assert_eq!(a, tar_gz(&reversed, true));
        assert_ne!(a, tar_gz(&sample(), false));
    }

    #[test]
    fn entries_sorted_with_dirs_and_fixed_metadata() {
        let got = read_back(&tar_gz(&sample(), true));
        let long = long_path();
        let long_dir = format!("pkg/{}/", "d".repeat(60));
        let names: Vec<&str> = got.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            names,
            [
                "pkg/",
                "pkg/a-b.txt",
                "pkg/a.txt",
                "pkg/charts/",
                "pkg/charts/x-1.0.0.tgz",
                long_dir.as_str(),
                long.as_str(),
                "pkg/install.sh",
            ]
        );
        for e in &got {
            assert_eq!((e.uid, e.gid, e.mtime), (10000, 10000, MTIME), "{}", e.path);
            assert!(e.names_empty, "{}", e.path);
            let want = if e.dir || e.path.ends_with(".sh") {
                0o755
            } else {
                0o644
            };
            assert_eq!(e.mode, want, "{}", e.path);
        }
        let long_entry = got.iter().find(|e| e.path == long).unwrap();
        assert_eq!(long_entry.data, b"long\n");
    }

    #[test]
    fn system_tar_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.tar.gz");
        std::fs::write(&file, tar_gz(&sample(), true)).unwrap();
        let out = Command::new("tar")
            .args(["-tzvf"])
            .arg(&file)
            .args(["--full-time", "--numeric-owner"])
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .output()
            .expect("the system `tar` must be installed for this test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<Vec<&str>> = listing
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        // GNU tar: mode owner/group size date time name
        let rows: Vec<(&str, &str, &str, &str, &str)> = lines
            .iter()
            .map(|f| (f[0], f[1], f[3], f[4], f[5]))
            .collect();
        let long = long_path();
        let long_dir = format!("pkg/{}/", "d".repeat(60));
        let dir_row = |name| ("drwxr-xr-x", "10000/10000", "2023-11-14", "22:13:20", name);
        let file_row = |name| ("-rw-r--r--", "10000/10000", "2023-11-14", "22:13:20", name);
        assert_eq!(
            rows,
            [
                dir_row("pkg/"),
                file_row("pkg/a-b.txt"),
                file_row("pkg/a.txt"),
                dir_row("pkg/charts/"),
                file_row("pkg/charts/x-1.0.0.tgz"),
                dir_row(long_dir.as_str()),
                file_row(long.as_str()),
                (
                    "-rwxr-xr-x",
                    "10000/10000",
                    "2023-11-14",
                    "22:13:20",
                    "pkg/install.sh"
                ),
            ]
        );
    }

    #[test]
    fn gzip_header_is_fixed() {
        let bytes = tar_gz(&sample(), true);
        assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(bytes[3] & 0x08, 0, "FNAME must not be set");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "MTIME must be zero");
        assert_eq!(bytes[9], 255, "OS byte");
    }

    #[test]
    fn bad_entry_lists_are_errors() {
        let twice = [entry("a/x", "1", false), entry("a/x", "2", false)];
        let err = write_tar_gz(Vec::new(), &twice, Stamp::new(0), true).unwrap_err();
        assert!(err.to_string().contains("`a/x`"), "{err}");
        let clash = [entry("a", "1", false), entry("a/x", "2", false)];
        assert!(write_tar_gz(Vec::new(), &clash, Stamp::new(0), false).is_err());
        for bad in ["", "/abs", "a/../b", "a//b", "a/", "./a"] {
            let e = [entry(bad, "x", false)];
            assert!(
                write_tar_gz(Vec::new(), &e, Stamp::new(0), false).is_err(),
                "{bad:?}"
            );
        }
    }

    fn file(kind: FileKind, data: &str) -> FileEntry {
        FileEntry {
            kind,
            data: data.as_bytes().to_vec(),
        }
    }

    fn chart(extra: &[(&str, FileKind, &str)]) -> Files {
        let mut files = Files::new();
        files.insert(
            "Chart.yaml".into(),
            file(FileKind::Regular, "name: web\nversion: 1.0.0\n"),
        );
        files.insert("values.yaml".into(), file(FileKind::Regular, "a: 1\n"));
        for (path, kind, data) in extra {
            files.insert(path.to_string(), file(*kind, data));
        }
        files
    }

    #[test]
    fn helm_archive_follows_links_and_helmignore() {
        use FileKind::*;
        let files = chart(&[
            (
                ".helmignore",
                Regular,
                "# comment line\n\n*.tmp\nsecret/\n  !keep.tmp  \n",
            ),
            ("templates/deploy.yaml", Regular, "kind: Deployment\n"),
            ("templates/.hidden.yaml", Regular, "x"),
            ("templates/run.sh", Symlink, "../scripts/run.sh"),
            ("scripts/run.sh", Executable, "#!/bin/sh\n"),
            ("crds", Symlink, "files/crds"),
            ("files/crds/a.yaml", Regular, "crd\n"),
            ("a.tmp", Regular, "tmp"),
            ("sub/b.tmp", Regular, "tmp"),
            ("keep.tmp", Regular, "kept"),
            ("secret/key.pem", Regular, "key"),
            ("docs/secret", Regular, "a file named secret"),
            ("ignored-link.tmp", Symlink, "does-not-exist"),
        ]);
        let bytes = helm_chart_archive("web", &files, Stamp::new(MTIME)).unwrap();
        assert_eq!(
            bytes,
            helm_chart_archive("web", &files, Stamp::new(MTIME)).unwrap()
        );
        let got = read_back(&bytes);
        let names: Vec<&str> = got.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            names,
            [
                "web/.helmignore",
                "web/Chart.yaml",
                "web/crds/a.yaml",
                "web/docs/secret",
                "web/files/crds/a.yaml",
                "web/keep.tmp",
                "web/scripts/run.sh",
                "web/templates/deploy.yaml",
                "web/templates/run.sh",
                "web/values.yaml",
            ]
        );
        assert!(got.iter().all(|e| !e.dir));
        let run = got
            .iter()
            .find(|e| e.path == "web/templates/run.sh")
            .unwrap();
        assert_eq!(
            (run.mode, run.data.as_slice()),
            (0o755, &b"#!/bin/sh\n"[..])
        );
        let crd = got.iter().find(|e| e.path == "web/crds/a.yaml").unwrap();
        assert_eq!((crd.mode, crd.data.as_slice()), (0o644, &b"crd\n"[..]));
    }

    fn link_error(links: &[(&str, &str)]) -> String {
        let extra: Vec<(&str, FileKind, &str)> = links
            .iter()
            .map(|(p, t)| (*p, FileKind::Symlink, *t))
            .collect();
        let err = helm_chart_archive("web", &chart(&extra), Stamp::new(0)).unwrap_err();
        assert!(err.downcast_ref::<UserError>().is_some());
        format!("{err:#}")
    }

    #[test]
    fn bad_links_are_errors_naming_them() {
        let e = link_error(&[("templates/x.yaml", "../../other/x.yaml")]);
        assert!(
            e.contains("`templates/x.yaml`") && e.contains("leaves the chart"),
            "{e}"
        );
        let e = link_error(&[("x.yaml", "/etc/passwd")]);
        assert!(e.contains("`x.yaml`") && e.contains("absolute"), "{e}");
        let e = link_error(&[("y.yaml", "nope.yaml")]);
        assert!(e.contains("`y.yaml`") && e.contains("dangles"), "{e}");
        let e = link_error(&[("a", "b"), ("b", "a")]);
        assert!(e.contains("loop"), "{e}");
        let e = link_error(&[("sub/up", "..")]);
        assert!(e.contains("`sub/up`") && e.contains("loop"), "{e}");
        let e = link_error(&[("z", "values.yaml/x")]);
        assert!(e.contains("not a folder"), "{e}");
    }

    #[test]
    fn helmignore_errors_and_chart_yaml_required() {
        let files = chart(&[(".helmignore", FileKind::Regular, "ok\nsrc/**/x\n")]);
        let err = helm_chart_archive("web", &files, Stamp::new(0)).unwrap_err();
        assert!(err.to_string().contains("web/.helmignore line 2"), "{err}");
        let files = chart(&[(".helmignore", FileKind::Regular, "[abc\n")]);
        assert!(helm_chart_archive("web", &files, Stamp::new(0)).is_err());
        let files = chart(&[(".helmignore", FileKind::Regular, "Chart.yaml\n")]);
        let err = helm_chart_archive("web", &files, Stamp::new(0)).unwrap_err();
        assert!(err.to_string().contains("no Chart.yaml"), "{err}");
        assert!(helm_chart_archive("a/b", &chart(&[]), Stamp::new(0)).is_err());
    }

    #[test]
    fn stored_gzip_reads_back_and_does_not_depend_on_how_writes_were_cut() {
        let data = crate::hash::tests::pseudo_random(3 * STORED_BLOCK + 777);
        let write = |cut: usize| {
            let mut g = StoredGz::new(Vec::new()).unwrap();
            for piece in data.chunks(cut) {
                g.write_all(piece).unwrap();
            }
            g.finish().unwrap()
        };
        let one = write(1 << 20);
        assert_eq!(one, write(512), "same bytes for other write sizes");
        assert_eq!(one, write(STORED_BLOCK + 3));
        let mut back = Vec::new();
        GzDecoder::new(one.as_slice())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        // gzip(1) agrees: header, blocks, CRC and length.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.gz"), &one).unwrap();
        let out = Command::new("gzip")
            .args(["-t", "-v"])
            .arg(dir.path().join("x.gz"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let empty = StoredGz::new(Vec::new()).unwrap().finish().unwrap();
        let mut back = Vec::new();
        GzDecoder::new(empty.as_slice())
            .read_to_end(&mut back)
            .unwrap();
        assert!(back.is_empty());
    }
}
