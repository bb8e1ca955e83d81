//! The render cache: the images found in one chart ([`crate::image::chart::chart_images_detailed`])
//! kept under `<git common dir>/release/cache/render/`, one file per chart and render context,
//! so that a chart is rendered once however many commands, revisions and lines look at it.
//!
//! An entry's key is the SHA-256 of everything a render reads: every file of the chart folder
//! (path, mode and bytes, subcharts included: the same information as the folder's tree id, so
//! a work-tree folder and a committed one share entries), the folder (the release name and the
//! sources named in findings), the namespace and kube version of the render, the render budget's
//! limits (`release.renderMax*`, [`crate::limits`]: they decide whether a chart renders or falls
//! back), and the renderer
//! itself (the git-release version and a fingerprint of the `src/render` and `src/image` sources
//! it was built from, which also covers the built-in API versions). Values other than the
//! chart's own defaults are never given to a render here.
//!
//! Entries hold findings (images, `helm test` images, the fallback reason, warnings), never
//! manifests. They are written to a temporary file and renamed (a killed run leaves a whole entry
//! or none); an entry that cannot be read, does not parse or holds another key is ignored and
//! rewritten. The folder is bounded ([`DEFAULT_MAX_BYTES`]): after a run that wrote entries, the
//! oldest are removed until the folder is under nine tenths of the bound. `--no-cache` and
//! `release.renderCache=false` turn it off.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{FileKind, Files};

/// Bound on the cache folder, in bytes (64 MiB: about 60 000 entries of a typical chart).
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// Bumped when the entry format changes (older entries then miss).
const FORMAT: &str = "git-release render cache 2";

/// The render cache of one repository ([module docs](self)). Shared by the threads that render.
#[derive(Debug)]
pub struct RenderCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Bytes written by this process (pruning runs only when something was written).
    written: AtomicU64,
}

/// One cached finding: an image and where it came from (the fields of
/// [`crate::image::chart::ImageSource`] but the chart folder, which is part of the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The image reference.
    pub image: String,
    /// File inside the chart.
    pub file: Option<String>,
    /// 1-based line in it.
    pub line: Option<usize>,
    /// How it was found (`rendered`, `static`, …).
    pub from: String,
    /// `Kind/name` of the rendered object.
    pub object: Option<String>,
    /// The list it goes to.
    pub kind: String,
}

/// What one chart yields, as kept: [`crate::image::chart::ChartImages`] in plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// Deployed images.
    pub images: Vec<Finding>,
    /// `helm test` images.
    pub tests: Vec<Finding>,
    /// `(file, line, message)` of the render error when the static reading was used.
    pub fallback: Option<(String, usize, String)>,
    /// `(template, file, line, message)` of each template that failed while the rest rendered.
    #[serde(default)]
    pub template_fallbacks: Vec<(String, String, usize, String)>,
    /// Non-fatal notes.
    pub warnings: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    /// The entry's own key, checked on read (a file renamed or copied by hand is a miss).
    key: String,
    #[serde(flatten)]
    findings: Findings,
}

impl RenderCache {
    /// The cache of `repo` (`<common dir>/release/cache/render/`), or `None` when
    /// `settings.render_cache` is off. The folder is made on the first write.
    pub fn for_repo(
        repo: &gix::Repository,
        settings: &crate::settings::Settings,
    ) -> Option<std::sync::Arc<Self>> {
        settings.render_cache.then(|| {
            std::sync::Arc::new(Self::at(
                repo.common_dir().join("release/cache/render"),
                DEFAULT_MAX_BYTES,
            ))
        })
    }

    /// A cache in `dir`, bounded to `max_bytes`.
    pub fn at(dir: PathBuf, max_bytes: u64) -> Self {
        RenderCache {
            dir,
            max_bytes,
            written: AtomicU64::new(0),
        }
    }

    /// The key of the chart in `folder` with `files`, rendered with `opts`: 64 lowercase hex
    /// characters ([module docs](self) list what goes in).
    pub fn key(folder: &str, files: &Files, opts: &crate::render::Options) -> String {
        let mut h = Sha256::new();
        for part in [
            FORMAT,
            env!("CARGO_PKG_VERSION"),
            env!("GIT_RELEASE_RENDER_FINGERPRINT"),
            folder,
            &opts.release_name,
            &opts.namespace,
            &opts.kube_version,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        // The render budget decides whether a chart renders or falls back to the static reading.
        let l = crate::limits::get();
        for n in [
            l.render_steps,
            l.render_output_bytes,
            l.render_value_bytes,
            l.render_memory_bytes,
        ] {
            h.update(n.to_le_bytes());
        }
        h.update((files.len() as u64).to_le_bytes());
        for (path, e) in files {
            h.update((path.len() as u64).to_le_bytes());
            h.update(path.as_bytes());
            h.update([match e.kind {
                FileKind::Regular => b'r',
                FileKind::Executable => b'x',
                FileKind::Symlink => b'l',
            }]);
            h.update((e.data.len() as u64).to_le_bytes());
            h.update(&e.data);
        }
        crate::hash::hex(&h.finalize())
    }

    /// The findings stored under `key`, or `None` (missing, unreadable, another format or
    /// another key: all a miss).
    pub fn get(&self, key: &str) -> Option<Findings> {
        let data = std::fs::read(self.dir.join(key)).ok()?;
        let e: Entry = serde_json::from_slice(&data).ok()?;
        (e.key == key).then_some(e.findings)
    }

    /// Store `findings` under `key`, atomically. Failures are ignored: the cache only saves
    /// time.
    pub fn put(&self, key: &str, findings: &Findings) {
        let entry = Entry {
            key: key.to_string(),
            findings: findings.clone(),
        };
        let Ok(bytes) = serde_json::to_vec(&entry) else {
            return;
        };
        if self.write(key, &bytes).is_ok() {
            self.written
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
    }

    fn write(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.persist(self.dir.join(key)).map_err(|e| e.error)?;
        Ok(())
    }

    /// When this process wrote entries and the folder holds more than the bound: remove the
    /// oldest entries (by modification time) until it holds at most nine tenths of it, and
    /// temporary files a killed run left. Returns the number of files removed.
    pub fn prune(&self) -> usize {
        if self.written.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut entries = Vec::new();
        let mut total = 0u64;
        let mut removed = 0;
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            let modified = m.modified().unwrap_or(std::time::UNIX_EPOCH);
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                // A writer of this run may still be renaming its own; an hour-old one is litter.
                if modified < hour_ago && std::fs::remove_file(e.path()).is_ok() {
                    removed += 1;
                }
                continue;
            }
            total += m.len();
            entries.push((modified, e.file_name(), m.len()));
        }
        if total <= self.max_bytes {
            return removed;
        }
        entries.sort();
        let target = self.max_bytes / 10 * 9;
        for (_, name, len) in entries {
            if total <= target {
                break;
            }
            if std::fs::remove_file(self.dir.join(name)).is_ok() {
                total -= len;
                removed += 1;
            }
        }
        removed
    }
}

impl Drop for RenderCache {
    fn drop(&mut self) {
        self.prune();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::FileEntry;

    fn files(image: &str) -> Files {
        let f = |s: &str| FileEntry {
            kind: FileKind::Regular,
            data: s.as_bytes().to_vec(),
        };
        Files::from([
            (
                "Chart.yaml".into(),
                f("apiVersion: v2\nname: web\nversion: 1.0.0\n"),
            ),
            ("values.yaml".into(), f(&format!("image: {image}\n"))),
        ])
    }

    fn opts(folder: &str) -> crate::render::Options {
        crate::render::Options {
            release_name: folder.rsplit('/').next().unwrap_or(folder).to_string(),
            namespace: "default".into(),
            kube_version: "v1.36.0".into(),
        }
    }

    fn found(image: &str) -> Findings {
        Findings {
            images: vec![Finding {
                image: image.into(),
                file: Some("templates/dep.yaml".into()),
                line: Some(9),
                from: "rendered".into(),
                object: Some("Deployment/web".into()),
                kind: "platform".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn each_input_changes_the_key() {
        let files = files("nginx:1.0");
        let base = RenderCache::key("addons/web", &files, &opts("addons/web"));
        let mut keys = std::collections::BTreeSet::from([base.clone()]);
        // Another file content, another mode, another file name, an added file.
        let mut other = files.clone();
        other.get_mut("values.yaml").unwrap().data = b"image: nginx:1.1\n".to_vec();
        keys.insert(RenderCache::key("addons/web", &other, &opts("addons/web")));
        let mut other = files.clone();
        other.get_mut("values.yaml").unwrap().kind = FileKind::Executable;
        keys.insert(RenderCache::key("addons/web", &other, &opts("addons/web")));
        let mut other = files.clone();
        let e = other.remove("values.yaml").unwrap();
        other.insert("values.yml".into(), e);
        keys.insert(RenderCache::key("addons/web", &other, &opts("addons/web")));
        let mut other = files.clone();
        other.insert("charts/sub/Chart.yaml".into(), files["Chart.yaml"].clone());
        keys.insert(RenderCache::key("addons/web", &other, &opts("addons/web")));
        // Another folder (release name), namespace, kube version.
        keys.insert(RenderCache::key(
            "addons/web2",
            &files,
            &opts("addons/web2"),
        ));
        let mut o = opts("addons/web");
        o.namespace = "kube-system".into();
        keys.insert(RenderCache::key("addons/web", &files, &o));
        let mut o = opts("addons/web");
        o.kube_version = "v1.20.0".into();
        keys.insert(RenderCache::key("addons/web", &files, &o));
        assert_eq!(keys.len(), 8, "every input gives its own key");
        assert_eq!(
            base,
            RenderCache::key("addons/web", &files.clone(), &opts("addons/web")),
            "the same inputs give the same key"
        );
    }

    #[test]
    fn a_stored_entry_is_returned_and_a_corrupt_one_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RenderCache::at(dir.path().join("render"), DEFAULT_MAX_BYTES);
        let key = RenderCache::key("addons/web", &files("nginx:1.0"), &opts("addons/web"));
        assert!(cache.get(&key).is_none());
        cache.put(&key, &found("nginx:1.0"));
        assert_eq!(cache.get(&key), Some(found("nginx:1.0")));
        let path = dir.path().join("render").join(&key);
        for bad in [
            &b"{\"key\":"[..],
            b"\x00\xff garbage",
            b"{\"key\":\"0\",\"images\":[],\"tests\":[],\"fallback\":null,\"warnings\":[]}",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(cache.get(&key).is_none());
        }
    }

    #[test]
    fn the_folder_stays_under_its_bound_oldest_dropped_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RenderCache::at(dir.path().to_path_buf(), 2000);
        let mut keys = Vec::new();
        for n in 0..12 {
            let key = RenderCache::key(
                "addons/web",
                &files(&format!("nginx:1.{n}")),
                &opts("addons/web"),
            );
            cache.put(&key, &found(&format!("nginx:1.{n}")));
            // Distinct modification times, oldest first.
            let t =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000 + n);
            std::fs::File::options()
                .write(true)
                .open(dir.path().join(&key))
                .unwrap()
                .set_modified(t)
                .unwrap();
            keys.push(key);
        }
        let total = |d: &std::path::Path| -> u64 {
            std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .map(|e| e.metadata().unwrap().len())
                .sum()
        };
        assert!(total(dir.path()) > 2000, "the test fills past the bound");
        let removed = cache.prune();
        assert!(removed > 0);
        assert!(total(dir.path()) <= 1800);
        let kept: Vec<bool> = keys.iter().map(|k| dir.path().join(k).exists()).collect();
        let first_kept = kept.iter().position(|k| *k).unwrap();
        assert!(
            kept[first_kept..].iter().all(|k| *k),
            "the newest are kept: {kept:?}"
        );
        assert!(!kept[0], "the oldest is dropped");
    }
}
