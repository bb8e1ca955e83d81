//! Component repositories: where their objects come from (a local repository read in place, or a
//! remote fetched into a bare cache inside the platform repo's git dir) and which release tags they hold.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::{anyhow, Context, Result};
use semver::Version;

use crate::error::UserError;

/// Where a component's objects are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A plain path to a repository on this machine: read in place, no copy (as `git clone` treats
    /// plain paths: `--local`). Relative paths are relative to the work tree root.
    Local(PathBuf),
    /// A URL (`https://`, `ssh://`, `git@host:path`, `file://`): fetched into the cache.
    Remote(String),
}

/// Classify an expanded component URL. `file://` goes through the transport like any URL (as git's
/// `--no-local`), so a cache is kept for it.
pub fn locate(url: &str, workdir: &Path) -> Location {
    let is_url = url.contains("://") || {
        // scp-like `host:path`: a colon before the first slash.
        match (url.find(':'), url.find('/')) {
            (Some(c), Some(s)) => c < s,
            (Some(_), None) => true,
            _ => false,
        }
    };
    if is_url {
        Location::Remote(url.to_string())
    } else {
        Location::Local(workdir.join(url))
    }
}

/// Cache of a remote component: a bare repository
/// `<git-dir>/release/components/<owner>/<name>-<url-hash>.git` holding only its tags. It is keyed
/// by the fetch URL, not the name alone: when an entry's `url:` changes, the tags of the old
/// repository are never read again. (A single shared cache was tried: parallel fetches into one
/// object database fail in gix with "too few index slots" and negotiation sees other components'
/// refs.)
pub fn cache_dir(git_dir: &Path, repository_full_name: &str, url: &str) -> PathBuf {
    let safe: String = repository_full_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_./".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.replace("..", "_");
    let safe = safe.trim_matches('/');
    let hash = crate::hash::sha256_hex(url.as_bytes());
    git_dir
        .join("release")
        .join("components")
        .join(format!("{safe}-{}.git", &hash[..16]))
}

/// The file in a cache that records its last successful fetch: `<unix seconds> <url>`.
const FETCHED_STAMP: &str = "git-release-fetched";

/// When the cache at `cache` was last fetched (Unix seconds), if ever.
pub fn last_fetched(cache: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(cache.join(FETCHED_STAMP)).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// `2026-12-01 10:00:00 UTC` for Unix seconds.
pub fn utc_time(secs: u64) -> String {
    gix::date::Time::new(secs as i64, 0)
        .format_or_unix(gix::date::time::CustomFormat::new("%Y-%m-%d %H:%M:%S UTC"))
}

/// Create the bare cache repository at `cache` if it does not exist: only what git and gix need
/// (`HEAD`, `config`, `objects/pack`, `refs/tags`). `gix::init_bare` would also write sample hooks
/// and probe the file system, ~20 files per component, which dominated a first collect of 100
/// components (bench/collect.sh).
pub fn ensure_cache(cache: &Path) -> Result<()> {
    if cache.join("HEAD").is_file() {
        return Ok(());
    }
    let tmp = cache.with_extension(format!("git.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let create = || -> std::io::Result<()> {
        std::fs::create_dir_all(tmp.join("objects/pack"))?;
        std::fs::create_dir_all(tmp.join("refs/tags"))?;
        std::fs::create_dir_all(tmp.join("refs/heads"))?;
        std::fs::write(
            tmp.join("config"),
            "[core]\n\trepositoryformatversion = 0\n\tbare = true\n\tlogallrefupdates = false\n",
        )?;
        std::fs::write(tmp.join("HEAD"), "ref: refs/heads/main\n")?;
        std::fs::rename(&tmp, cache)
    };
    create().with_context(|| format!("creating cache {}", cache.display()))
}

/// What a fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Every remote tag already matched the cache; nothing was transferred.
    UpToDate,
    /// New or moved tags were fetched.
    Updated,
}

/// Bring the cache at `cache` up to date with the tags of `url`, creating it first: new and moved
/// tags are fetched (refspec `+refs/tags/*:refs/tags/*`; branches never are), and tags the remote
/// no longer has are deleted from the cache (as `git fetch --prune --prune-tags`), so a tag deleted
/// upstream is never collected. When every advertised tag already points where the cache has it,
/// the connection is closed after the ref advertisement and nothing is transferred. A successful
/// fetch is recorded in the cache ([`last_fetched`]).
///
/// Errors: the URL cannot be parsed or reached, the remote is not a git repository, the transfer
/// fails, a pruned tag cannot be deleted.
pub fn fetch_tags(cache: &Path, url: &str, interrupt: &AtomicBool) -> Result<FetchOutcome> {
    use gix::refs::transaction::{Change, PreviousValue, RefEdit, RefLog};
    ensure_cache(cache)?;
    let mut repo = gix::open_opts(cache, gix::open::Options::isolated())?;
    crate::git::without_replacements(&mut repo);
    let refspec = "+refs/tags/*:refs/tags/*";
    let remote = repo
        .remote_at(url)
        .map_err(|e| UserError::input(format!("`{url}` is not a valid git URL: {e}")))?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs([refspec], gix::remote::Direction::Fetch)?;
    let conn = remote.connect(gix::remote::Direction::Fetch)?;
    let prepare = conn.prepare_fetch(gix::progress::Discard, Default::default())?;
    let mut up_to_date = true;
    for m in &prepare.ref_map().mappings {
        let (Some(remote_id), Some(local)) = (m.remote.as_id(), m.local.as_ref()) else {
            continue;
        };
        let local_name = local.to_string();
        let have = repo
            .try_find_reference(local_name.as_str())?
            .and_then(|r| r.target().try_id().map(|id| id.to_owned()));
        if have.as_deref() != Some(remote_id) {
            up_to_date = false;
            break;
        }
    }
    let advertised: std::collections::HashSet<Vec<u8>> = prepare
        .ref_map()
        .remote_refs
        .iter()
        .map(|r| r.unpack().0.to_vec())
        .collect();
    let mut stale = Vec::new();
    for r in repo.references()?.tags()? {
        let Some(r) = crate::git::listed(r) else {
            continue;
        };
        if !advertised.contains(r.name().as_bstr().as_ref() as &[u8]) {
            stale.push(r.name().to_owned());
        }
    }
    if !up_to_date {
        prepare.receive(gix::progress::Discard, interrupt)?;
    }
    let pruned = !stale.is_empty();
    if pruned {
        repo.edit_references(stale.into_iter().map(|name| RefEdit {
            change: Change::Delete {
                expected: PreviousValue::Any,
                log: RefLog::AndReference,
            },
            name,
            deref: false,
        }))
        .context("deleting tags the remote no longer has")?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    std::fs::write(cache.join(FETCHED_STAMP), format!("{now} {url}\n"))
        .with_context(|| format!("writing {}", cache.join(FETCHED_STAMP).display()))?;
    Ok(if up_to_date && !pruned {
        FetchOutcome::UpToDate
    } else {
        FetchOutcome::Updated
    })
}

/// A component repository opened for reading, with where its tags live.
pub struct ComponentRepo {
    /// The repository: the component itself (local) or its cache (remote).
    pub repo: gix::Repository,
}

/// A tag of a component repository.
#[derive(Debug, Clone)]
pub struct TagInfo {
    /// Short name, e.g. `v1.2.3`.
    pub name: String,
    /// SemVer version when the name is a release tag (see [`crate::versions::parse_tag`]).
    pub version: Option<Version>,
}

/// Open a component repository for reading: the local repository itself, or its cache.
///
/// Errors: a local path that is not a git repository; a cache that holds nothing of this component
/// yet (`--offline` before any online run).
pub fn open(location: &Location, cache: &Path) -> Result<ComponentRepo> {
    match location {
        Location::Local(p) => {
            let opts = gix::open::Options::isolated().open_path_as_is(false);
            let mut repo = gix::open_opts(p, opts)
                .map_err(|e| anyhow!("{} is not a git repository: {e}", p.display()))?;
            crate::git::without_replacements(&mut repo);
            Ok(ComponentRepo { repo })
        }
        Location::Remote(url) => {
            if !cache.join("HEAD").is_file() {
                return Err(UserError::input(format!("no cached copy of {url} yet"))
                    .hint("run once without --offline to fill the cache")
                    .into());
            }
            let mut repo = gix::open_opts(cache, gix::open::Options::isolated())?;
            crate::git::without_replacements(&mut repo);
            Ok(ComponentRepo { repo })
        }
    }
}

impl ComponentRepo {
    /// All tags, with their release versions under the entry's `tagPrefix`.
    pub fn tags(&self, prefix: Option<&str>) -> Result<Vec<TagInfo>> {
        let mut out = Vec::new();
        for r in self.repo.references()?.tags()? {
            let Some(r) = crate::git::listed(r) else {
                continue;
            };
            let name = r.name().shorten().to_string();
            let version = crate::versions::parse_tag(&name, prefix);
            out.push(TagInfo { name, version });
        }
        Ok(out)
    }

    /// The commit and tree a tag points to (annotated tags are peeled).
    pub fn peel_tag(&self, tag: &str) -> Result<(gix::ObjectId, gix::ObjectId)> {
        let mut r = self
            .repo
            .find_reference(format!("refs/tags/{tag}").as_str())
            .with_context(|| format!("tag `{tag}` not found"))?;
        let commit = r
            .peel_to_commit()
            .with_context(|| format!("tag `{tag}` does not point to a commit"))?;
        let tree = commit.tree_id()?.detach();
        Ok((commit.id, tree))
    }
}

/// Whether `remote` (a configured remote name, or a URL) advertises `refs/tags/<tag>`. Only that
/// ref is asked for (protocol v2 ref prefix); nothing is fetched or written.
///
/// Errors: the remote cannot be resolved or reached.
pub fn remote_has_tag(repo: &gix::Repository, remote: &str, tag: &str) -> Result<bool> {
    let r = match repo.try_find_remote(remote) {
        Some(r) => r.with_context(|| format!("reading remote `{remote}`"))?,
        None => repo
            .remote_at(remote)
            .map_err(|_| UserError::input(format!("no remote named `{remote}`")))?,
    };
    let full = format!("refs/tags/{tag}");
    let spec = format!("{full}:{full}");
    let r = r
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs([spec.as_str()], gix::remote::Direction::Fetch)?;
    let conn = r.connect(gix::remote::Direction::Fetch)?;
    let prepare = conn.prepare_fetch(gix::progress::Discard, Default::default())?;
    let found = prepare.ref_map().remote_refs.iter().any(|r| {
        let (name, _, _) = r.unpack();
        name == full.as_bytes()
    });
    Ok(found)
}
