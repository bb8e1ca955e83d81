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

/// The shared component cache: one bare repository `<git-dir>/release/cache.git` for all remote
/// components. One object database instead of one repository per component: creating a
/// repository costs ~20 files, which dominated a first collect of 100 components.
pub fn cache_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("release").join("cache.git")
}

/// Ref prefix under which the cache keeps the tags of `repository_full_name`:
/// `refs/components/<owner>/<name>/tags/`. Characters git forbids in ref names become `_`.
pub fn cache_tag_prefix(repository_full_name: &str) -> String {
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
    let safe = safe.replace("..", "_").trim_matches('/').to_string();
    format!("refs/components/{safe}/tags/")
}

/// Create the shared cache if it does not exist yet. Called once, before parallel fetches.
pub fn ensure_cache(cache: &Path) -> Result<()> {
    if cache.join("HEAD").is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    gix::init_bare(cache).with_context(|| format!("creating cache {}", cache.display()))?;
    Ok(())
}

/// What a fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Every remote tag already matched the cache; nothing was transferred.
    UpToDate,
    /// New or moved tags were fetched.
    Updated,
}

/// Bring the cache at `cache` (see [`ensure_cache`]) up to date with the tags of `url`, stored
/// under [`cache_tag_prefix`] (refspec `+refs/tags/*:<prefix>*`; branches are never fetched). When
/// every advertised tag already points where the cache has it, the connection is closed after the
/// ref advertisement and nothing is transferred.
///
/// Errors: the URL cannot be parsed or reached, the remote is not a git repository, the transfer fails.
pub fn fetch_tags(
    cache: &Path,
    repository_full_name: &str,
    url: &str,
    interrupt: &AtomicBool,
) -> Result<FetchOutcome> {
    let repo = gix::open_opts(cache, gix::open::Options::isolated())?;
    let refspec = format!("+refs/tags/*:{}*", cache_tag_prefix(repository_full_name));
    let remote = repo
        .remote_at(url)
        .map_err(|e| UserError::input(format!("`{url}` is not a valid git URL: {e}")))?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs([refspec.as_str()], gix::remote::Direction::Fetch)?;
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
    if up_to_date {
        return Ok(FetchOutcome::UpToDate);
    }
    prepare.receive(gix::progress::Discard, interrupt)?;
    Ok(FetchOutcome::Updated)
}

/// A component repository opened for reading, with where its tags live.
pub struct ComponentRepo {
    /// The repository: the component itself (local) or the shared cache (remote).
    pub repo: gix::Repository,
    /// `refs/tags/` for a local repository, [`cache_tag_prefix`] in the cache.
    tag_refs: String,
}

/// A tag of a component repository.
#[derive(Debug, Clone)]
pub struct TagInfo {
    /// Short name, e.g. `v1.2.3`.
    pub name: String,
    /// SemVer version when the name is a release tag (see [`crate::versions::parse_tag`]).
    pub version: Option<Version>,
}

/// Open a component repository for reading: the local repository itself, or the shared cache.
///
/// Errors: a local path that is not a git repository; a cache that holds nothing of this component
/// yet (`--offline` before any online run).
pub fn open(
    location: &Location,
    cache: &Path,
    repository_full_name: &str,
) -> Result<ComponentRepo> {
    match location {
        Location::Local(p) => {
            let opts = gix::open::Options::isolated().open_path_as_is(false);
            let repo = gix::open_opts(p, opts)
                .map_err(|e| anyhow!("{} is not a git repository: {e}", p.display()))?;
            Ok(ComponentRepo {
                repo,
                tag_refs: "refs/tags/".into(),
            })
        }
        Location::Remote(url) => {
            let no_cache = || -> anyhow::Error {
                UserError::input(format!("no cached copy of {url} yet"))
                    .hint("run once without --offline to fill the cache")
                    .into()
            };
            if !cache.join("HEAD").is_file() {
                return Err(no_cache());
            }
            let repo = gix::open_opts(cache, gix::open::Options::isolated())?;
            let tag_refs = cache_tag_prefix(repository_full_name);
            if repo
                .references()?
                .prefixed(tag_refs.as_str())?
                .next()
                .is_none()
            {
                return Err(no_cache());
            }
            Ok(ComponentRepo { repo, tag_refs })
        }
    }
}

impl ComponentRepo {
    /// All tags, with their release versions under the entry's `tagPrefix`.
    pub fn tags(&self, prefix: Option<&str>) -> Result<Vec<TagInfo>> {
        let mut out = Vec::new();
        for r in self.repo.references()?.prefixed(self.tag_refs.as_str())? {
            let r = r.map_err(|e| anyhow!("reading tags: {e}"))?;
            let full = r.name().as_bstr().to_string();
            let name = full
                .strip_prefix(&self.tag_refs)
                .unwrap_or(&full)
                .to_string();
            let version = crate::versions::parse_tag(&name, prefix);
            out.push(TagInfo { name, version });
        }
        Ok(out)
    }

    /// The commit and tree a tag points to (annotated tags are peeled).
    pub fn peel_tag(&self, tag: &str) -> Result<(gix::ObjectId, gix::ObjectId)> {
        let mut r = self
            .repo
            .find_reference(format!("{}{tag}", self.tag_refs).as_str())
            .with_context(|| format!("tag `{tag}` not found"))?;
        let commit = r
            .peel_to_commit()
            .with_context(|| format!("tag `{tag}` does not point to a commit"))?;
        let tree = commit.tree_id()?.detach();
        Ok((commit.id, tree))
    }
}
