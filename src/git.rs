//! Opening repositories and reading trees from the object database into memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use gix::objs::tree::EntryKind;

use crate::error::UserError;
use crate::files::{join, FileEntry, FileKind, Files};

/// Open the repository the current directory belongs to, honouring `GIT_DIR` and friends
/// (`git --git-dir=X release` exports them). Commands open it through [`crate::open`], which
/// also finishes or undoes a work-tree swap an earlier run left behind.
///
/// Objects are read as they are stored, without `refs/replace/` (as `GIT_NO_REPLACE_OBJECTS`
/// does): a package's bytes and every check depend only on the commit ids they name.
///
/// Errors: not inside a git repository (exit 2, with a hint).
pub fn discover() -> Result<gix::Repository> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let mut repo = gix::discover_with_environment_overrides(&cwd).map_err(|e| {
        UserError::input(format!("not a git repository (or any parent up to /): {} ({e})", cwd.display()))
            .hint("run inside your platform-release repository, or create one with `git init && git release init`")
    })?;
    without_replacements(&mut repo);
    with_command_line_config(&mut repo);
    Ok(repo)
}

/// Apply `git -c key=value` (passed down in `GIT_CONFIG_PARAMETERS`, which gix does not read)
/// to `repo`'s configuration, as git does for its subcommands: `git -c user.name=… release
/// collect --commit` commits as that user, `-c commit.gpgSign=true` signs.
pub fn with_command_line_config(repo: &mut gix::Repository) {
    let params = command_line_config();
    if params.is_empty() {
        return;
    }
    let mut snap = repo.config_snapshot_mut();
    let values: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = snap.append_config(values.iter().map(String::as_str), gix::config::Source::Cli);
}

/// Make `repo` read real objects only: `refs/replace/*` no longer substitutes one object for
/// another (git's `GIT_NO_REPLACE_OBJECTS`).
pub fn without_replacements(repo: &mut gix::Repository) {
    repo.objects.ignore_replacements = true;
}

/// The bounds of `repo`'s work tree ([`crate::paths::Bounds`]): its root, with `$GIT_DIR` and the
/// common git dir out of bounds.
///
/// Errors: a bare repository; a path that cannot be resolved.
pub fn bounds(repo: &gix::Repository) -> Result<crate::paths::Bounds> {
    crate::paths::Bounds::new(&workdir(repo)?, &[repo.git_dir(), repo.common_dir()])
}

/// The work tree root. Errors on bare repositories (collect and init write files).
pub fn workdir(repo: &gix::Repository) -> Result<PathBuf> {
    repo.workdir().map(Path::to_path_buf).ok_or_else(|| {
        UserError::input(format!(
            "{} is a bare repository; this command needs a work tree",
            repo.git_dir().display()
        ))
        .into()
    })
}

/// Read every file below tree `tree_id` into memory, recursively; a blob id (a single-file
/// addon, [`crate::chart::discover::TopChart::file`]) gives its one file keyed `""`.
///
/// Errors: a submodule entry (`160000`) inside the tree — charts are copied from one repository —,
/// or an object missing from the database.
pub fn read_tree_files(repo: &gix::Repository, tree_id: gix::ObjectId) -> Result<Files> {
    let mut out = Files::new();
    // One look-up for both kinds (this runs for every chart a check or an image list reads).
    let object = repo.find_object(tree_id)?;
    if object.kind == gix::object::Kind::Blob {
        // A single-file addon: its one file, keyed `""` as `read_path` reads a file.
        out.insert(
            String::new(),
            FileEntry {
                kind: crate::files::FileKind::Regular,
                data: object.detach().data,
            },
        );
        return Ok(out);
    }
    read_tree_into(repo, object.try_into_tree()?, &mut out)?;
    Ok(out)
}

/// Visit every file (blob or symlink, not submodules) below tree `tree_id`, depth first in tree
/// order, with its `/`-separated path relative to the tree and its blob id.
///
/// Errors: objects missing from the database.
pub fn walk_files(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    visit: &mut dyn FnMut(String, gix::ObjectId),
) -> Result<()> {
    walk_tree(repo, tree_id, "", &mut |path, id, kind| {
        if kind != EntryKind::Commit {
            visit(path, id);
        }
        Ok(())
    })
}

/// Visit every non-tree entry below `tree_id` (depth first, in tree order) with its
/// `/`-separated path relative to the tree.
fn walk_tree(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    prefix: &str,
    visit: &mut dyn FnMut(String, gix::ObjectId, EntryKind) -> Result<()>,
) -> Result<()> {
    walk_tree_object(repo, &repo.find_tree(tree_id)?, prefix, visit)
}

/// [`walk_tree`] from a tree already read.
fn walk_tree_object(
    repo: &gix::Repository,
    tree: &gix::Tree<'_>,
    prefix: &str,
    visit: &mut dyn FnMut(String, gix::ObjectId, EntryKind) -> Result<()>,
) -> Result<()> {
    for entry in tree.iter() {
        let entry = entry?;
        let name = entry.filename().to_string();
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        match entry.mode().kind() {
            EntryKind::Tree => walk_tree(repo, entry.oid().to_owned(), &path, visit)?,
            kind => visit(path, entry.oid().to_owned(), kind)?,
        }
    }
    Ok(())
}

fn read_tree_into(repo: &gix::Repository, tree: gix::Tree<'_>, out: &mut Files) -> Result<()> {
    walk_tree_object(repo, &tree, "", &mut |path, id, kind| {
        if kind == EntryKind::Commit {
            return Err(anyhow!(
                "`{path}` is a submodule; charts must be plain folders"
            ));
        }
        let data = repo.find_blob(id)?.take_data();
        out.insert(
            path,
            FileEntry {
                kind: kind_of(kind),
                data,
            },
        );
        Ok(())
    })
}

/// The object at `path` inside tree `tree_id`: `Some((id, kind))` or `None` when absent.
pub fn lookup_path(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    path: &str,
) -> Result<Option<(gix::ObjectId, EntryKind)>> {
    let tree = repo.find_tree(tree_id)?;
    if path.is_empty() {
        return Ok(Some((tree_id, EntryKind::Tree)));
    }
    Ok(tree
        .lookup_entry_by_path(path)?
        .map(|e| (e.object_id(), e.mode().kind())))
}

/// Path look-ups over many trees that share folders (the addons folder of every release, the
/// chart folders unchanged between them): each tree is decoded once into a map by entry name,
/// so a look-up costs one hash probe per path component instead of a scan of every entry of
/// every folder on the way. Clones share the decoded trees (one command run, one thread). At
/// most [`TreeIndex::MAX_ENTRIES`] entries are kept: past that the index starts again empty, so
/// memory stays bounded however many trees a run reads.
#[derive(Clone, Default)]
pub struct TreeIndex {
    trees: std::rc::Rc<std::cell::RefCell<TreeMaps>>,
    entries: std::rc::Rc<std::cell::Cell<usize>>,
}

/// One tree's entries: name -> (object, kind).
type TreeMap = std::collections::HashMap<Vec<u8>, (gix::ObjectId, EntryKind)>;
type TreeMaps = std::collections::HashMap<gix::ObjectId, std::rc::Rc<TreeMap>>;

impl TreeIndex {
    /// Tree entries kept before the index is emptied (about 100 bytes each).
    pub const MAX_ENTRIES: usize = 400_000;

    /// [`lookup_path`] through the index: the object and kind at `path` (`/`-separated,
    /// repo-relative; `""` is the tree itself) in `tree_id`, `None` when absent.
    ///
    /// Errors: objects missing from the database, or a tree that does not decode.
    pub fn lookup(
        &self,
        repo: &gix::Repository,
        tree_id: gix::ObjectId,
        path: &str,
    ) -> Result<Option<(gix::ObjectId, EntryKind)>> {
        let mut at = (tree_id, EntryKind::Tree);
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if at.1 != EntryKind::Tree {
                return Ok(None);
            }
            match self.entries(repo, at.0)?.get(part.as_bytes()) {
                Some(&e) => at = e,
                None => return Ok(None),
            }
        }
        Ok(Some(at))
    }

    /// The blob at `path` in `tree_id` ([`blob_at`] through the index).
    ///
    /// Errors: as [`TreeIndex::lookup`].
    pub fn blob(
        &self,
        repo: &gix::Repository,
        tree_id: gix::ObjectId,
        path: &str,
    ) -> Result<Option<Vec<u8>>> {
        match self.lookup(repo, tree_id, path)? {
            Some((id, kind)) if kind != EntryKind::Tree && kind != EntryKind::Commit => {
                Ok(Some(repo.find_blob(id)?.take_data()))
            }
            _ => Ok(None),
        }
    }

    /// The files at `path` in `tree_id` ([`read_path`] through the index).
    ///
    /// Errors: as [`read_path`].
    pub fn read_path(
        &self,
        repo: &gix::Repository,
        tree_id: gix::ObjectId,
        path: &str,
    ) -> Result<Option<Files>> {
        files_of(repo, self.lookup(repo, tree_id, path)?, path)
    }

    fn entries(&self, repo: &gix::Repository, id: gix::ObjectId) -> Result<std::rc::Rc<TreeMap>> {
        if let Some(m) = self.trees.borrow().get(&id) {
            return Ok(m.clone());
        }
        let tree = repo.find_tree(id)?;
        let mut map = std::collections::HashMap::new();
        for e in tree.iter() {
            let e = e?;
            map.insert(e.filename().to_vec(), (e.object_id(), e.mode().kind()));
        }
        let map = std::rc::Rc::new(map);
        let mut trees = self.trees.borrow_mut();
        if self.entries.get() + map.len() > Self::MAX_ENTRIES {
            trees.clear();
            self.entries.set(0);
        }
        self.entries.set(self.entries.get() + map.len());
        trees.insert(id, map.clone());
        Ok(map)
    }
}

/// Files at `path` in `tree_id`: a folder gives its files, a single file gives one entry keyed `""`.
/// `None` when the path does not exist.
pub fn read_path(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    path: &str,
) -> Result<Option<Files>> {
    files_of(repo, lookup_path(repo, tree_id, path)?, path)
}

/// The files of the entry `found` at `path` (see [`read_path`]).
fn files_of(
    repo: &gix::Repository,
    found: Option<(gix::ObjectId, EntryKind)>,
    path: &str,
) -> Result<Option<Files>> {
    match found {
        None => Ok(None),
        Some((id, EntryKind::Tree)) => Ok(Some(read_tree_files(repo, id)?)),
        Some((_, EntryKind::Commit)) => Err(anyhow!("`{path}` is a submodule")),
        Some((id, kind)) => {
            let data = repo.find_blob(id)?.take_data();
            let kind = kind_of(kind);
            Ok(Some(Files::from([(
                String::new(),
                FileEntry { kind, data },
            )])))
        }
    }
}

/// The bytes of the file (blob or symlink target) at `path` in `tree_id`; `None` when absent or a
/// folder.
///
/// Errors: an object missing from the database.
pub fn blob_at(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    path: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(match lookup_path(repo, tree_id, path)? {
        Some((id, kind)) if kind != EntryKind::Tree && kind != EntryKind::Commit => {
            Some(repo.find_blob(id)?.take_data())
        }
        _ => None,
    })
}

/// Read a folder of the work tree the way git would store it (`.git` folders skipped).
/// A missing folder gives an empty map. A single file gives one entry keyed `""`.
pub fn read_worktree(path: &Path) -> Result<Files> {
    let mut out = Files::new();
    walk_worktree(path, &mut |rel, file, meta| {
        out.insert(rel, read_worktree_file(file, meta)?);
        Ok(())
    })?;
    Ok(out)
}

/// Every file under `path` (a folder, or one file keyed `""`), with its path relative to `path`
/// and its metadata, `.git` folders skipped; nothing for a missing path. Contents are not read.
fn walk_worktree(
    path: &Path,
    f: &mut dyn FnMut(String, &Path, &std::fs::Metadata) -> Result<()>,
) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if meta.is_dir() {
        walk_worktree_dir(path, "", f)
    } else {
        f(String::new(), path, &meta)
    }
}

fn walk_worktree_dir(
    dir: &Path,
    prefix: &str,
    f: &mut dyn FnMut(String, &Path, &std::fs::Metadata) -> Result<()>,
) -> Result<()> {
    let rd = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in rd {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let meta = std::fs::symlink_metadata(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        if meta.is_dir() {
            walk_worktree_dir(&entry.path(), &path, f)?;
        } else {
            f(path, &entry.path(), &meta)?;
        }
    }
    Ok(())
}

/// The kind git records for a work-tree file with `meta`.
fn kind_of_meta(meta: &std::fs::Metadata) -> FileKind {
    use std::os::unix::fs::PermissionsExt;
    if meta.file_type().is_symlink() {
        FileKind::Symlink
    } else if meta.permissions().mode() & 0o111 != 0 {
        FileKind::Executable
    } else {
        FileKind::Regular
    }
}

/// Whether a work-tree file's size and mtime are those the index entry recorded, the way git
/// decides that a file has not changed without reading it (a zeroed stat, as
/// [`index_from_head`] writes it, never matches).
fn same_stat(meta: &std::fs::Metadata, stat: &gix::index::entry::Stat) -> bool {
    use std::os::unix::fs::MetadataExt;
    stat.mtime.secs != 0
        && meta.size() as u32 == stat.size
        && meta.mtime() as u32 == stat.mtime.secs
        && meta.mtime_nsec() as u32 == stat.mtime.nsecs
}

fn read_worktree_file(path: &Path, meta: &std::fs::Metadata) -> Result<FileEntry> {
    let kind = kind_of_meta(meta);
    let data = if kind == FileKind::Symlink {
        std::fs::read_link(path)
            .with_context(|| format!("reading {}", path.display()))?
            .as_os_str()
            .as_encoded_bytes()
            .to_vec()
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
    };
    Ok(FileEntry { kind, data })
}

/// Whether repo-relative `path` is one of `prefixes` or lies below one (`/`-separated).
/// An empty `prefixes` matches everything.
fn under_any(prefixes: &std::collections::HashSet<&[u8]>, path: &[u8]) -> bool {
    prefixes.is_empty()
        || prefixes.contains(path)
        || path
            .iter()
            .enumerate()
            .any(|(i, b)| *b == b'/' && prefixes.contains(&path[..i]))
}

/// Paths under any of `prefixes` whose index entry differs from HEAD, or whose work tree file
/// differs from HEAD (content, mode, added, deleted, untracked). Empty when they are all clean.
/// One pass over the index for all prefixes.
///
/// This is what "uncommitted changes" means for the paths a command is about to write. Content is
/// compared as git hashes it (no clean filters: platform-release repos hold YAML, not LFS objects).
pub fn uncommitted_changes(repo: &gix::Repository, prefixes: &[&str]) -> Result<Vec<String>> {
    let workdir = workdir(repo)?;
    let head_tree = repo.head_tree_id_or_empty()?.detach();
    let index = repo.index_or_empty()?;
    let wanted: std::collections::HashSet<&[u8]> = prefixes.iter().map(|p| p.as_bytes()).collect();
    // The index entries under the prefixes: their ids (index vs HEAD) and stat data (a work-tree
    // file whose stat matches is not read, as git does not).
    let mut staged: BTreeMap<String, (gix::ObjectId, FileKind)> = BTreeMap::new();
    let mut stats: std::collections::HashMap<String, gix::index::entry::Stat> = Default::default();
    for entry in index.entries() {
        let path = entry.path(&index);
        if !under_any(&wanted, path) {
            continue;
        }
        let kind = match entry.mode {
            gix::index::entry::Mode::FILE_EXECUTABLE => FileKind::Executable,
            gix::index::entry::Mode::SYMLINK => FileKind::Symlink,
            _ => FileKind::Regular,
        };
        staged.insert(path.to_string(), (entry.id, kind));
        stats.insert(path.to_string(), entry.stat);
    }
    let mut head: BTreeMap<String, (gix::ObjectId, FileKind)> = BTreeMap::new();
    let mut wt: BTreeMap<String, (gix::ObjectId, FileKind)> = BTreeMap::new();
    for prefix in prefixes {
        for (rel, v) in read_path_ids(repo, head_tree, prefix)? {
            head.insert(join(prefix, &rel).trim_end_matches('/').to_string(), v);
        }
        walk_worktree(
            &crate::paths::abs(&workdir, prefix),
            &mut |rel, file, meta| {
                let path = join(prefix, &rel).trim_end_matches('/').to_string();
                let kind = kind_of_meta(meta);
                let unchanged = stats
                    .get(&path)
                    .filter(|stat| same_stat(meta, stat))
                    .and_then(|_| staged.get(&path))
                    .filter(|(_, k)| *k == kind);
                let id = match unchanged {
                    Some((id, _)) => *id,
                    None => {
                        let f = read_worktree_file(file, meta)?;
                        gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, &f.data)?
                    }
                };
                wt.insert(path, (id, kind));
                Ok(())
            },
        )?;
    }
    // Index vs HEAD, then work tree vs HEAD, both ways.
    let mut dirty = std::collections::BTreeSet::new();
    for side in [&staged, &wt] {
        dirty.extend(
            side.iter()
                .filter(|(p, v)| head.get(*p) != Some(*v))
                .map(|(p, _)| p.clone()),
        );
        dirty.extend(head.keys().filter(|p| !side.contains_key(*p)).cloned());
    }
    Ok(dirty.into_iter().collect())
}

/// Like [`read_path`] but object ids instead of contents (a single file is keyed `""`).
pub fn read_path_ids(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    path: &str,
) -> Result<BTreeMap<String, (gix::ObjectId, FileKind)>> {
    let mut out = BTreeMap::new();
    match lookup_path(repo, tree_id, path)? {
        None => {}
        Some((id, EntryKind::Tree)) => ids_into(repo, id, "", &mut out)?,
        Some((id, kind)) => {
            out.insert(String::new(), (id, kind_of(kind)));
        }
    }
    Ok(out)
}

/// The file kind of a (non-tree) tree entry kind.
pub fn kind_of(kind: EntryKind) -> FileKind {
    match kind {
        EntryKind::BlobExecutable => FileKind::Executable,
        EntryKind::Link => FileKind::Symlink,
        _ => FileKind::Regular,
    }
}

fn ids_into(
    repo: &gix::Repository,
    tree_id: gix::ObjectId,
    prefix: &str,
    out: &mut BTreeMap<String, (gix::ObjectId, FileKind)>,
) -> Result<()> {
    walk_tree(repo, tree_id, prefix, &mut |path, id, kind| {
        if kind != EntryKind::Commit {
            out.insert(path, (id, kind_of(kind)));
        }
        Ok(())
    })
}

/// Whether any tracked file under one of `prefixes` (all files when empty) differs in the work tree from the index (modified or
/// deleted), the way git decides: size and mtime first, content hashed only when they differ.
/// Untracked files do not count (a package is built from commits, they cannot leak into it).
/// A bare repository has no work tree: `false`.
pub fn worktree_modified(repo: &gix::Repository, prefixes: &[&str]) -> Result<bool> {
    let Some(workdir) = repo.workdir() else {
        return Ok(false);
    };
    let index = repo.index_or_empty()?;
    let wanted: std::collections::HashSet<&[u8]> = prefixes.iter().map(|p| p.as_bytes()).collect();
    for entry in index.entries() {
        let path = entry.path(&index);
        if !under_any(&wanted, path) {
            continue;
        }
        let path = workdir.join(path.to_string());
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return Ok(true);
        };
        if same_stat(&meta, &entry.stat) {
            continue;
        }
        let data = read_worktree_file(&path, &meta)?.data;
        let id = gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, &data)?;
        if id != entry.id {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Another worktree of this repository that has `full_ref` (`refs/heads/…`) checked out, if any
/// (as `git worktree list` knows them: the main one and `<common-dir>/worktrees/*`). Moving such a
/// branch would leave that worktree's index and files behind its HEAD; git refuses it too.
pub fn checked_out_elsewhere(repo: &gix::Repository, full_ref: &str) -> Option<std::path::PathBuf> {
    let common = repo.common_dir().to_path_buf();
    let own_head = repo.git_dir().join("HEAD");
    let mut heads = vec![(common.join("HEAD"), common.clone())];
    if let Ok(rd) = std::fs::read_dir(common.join("worktrees")) {
        for e in rd.flatten() {
            heads.push((e.path().join("HEAD"), e.path()));
        }
    }
    let want = format!("ref: {full_ref}");
    heads.into_iter().find_map(|(head, dir)| {
        if head == own_head {
            return None;
        }
        let text = std::fs::read_to_string(&head).ok()?;
        if text.trim() != want {
            return None;
        }
        // Where that worktree lives: `gitdir` points at its `.git` file; the main one is the parent.
        let place = std::fs::read_to_string(dir.join("gitdir"))
            .ok()
            .map(|g| {
                std::path::PathBuf::from(g.trim())
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
            })
            .unwrap_or_else(|| dir.parent().map(Path::to_path_buf).unwrap_or(dir.clone()));
        Some(place)
    })
}

/// Resolve a revspec to a commit id. A full object id is looked up directly (objects held only
/// in memory, such as a push's quarantine in a hook, are found too).
pub fn resolve_commit(repo: &gix::Repository, spec: &str) -> Result<gix::ObjectId> {
    if spec.len() == repo.object_hash().len_in_hex() {
        if let Ok(id) = gix::ObjectId::from_hex(spec.as_bytes()) {
            if let Ok(obj) = repo.find_object(id) {
                let commit = obj
                    .peel_to_commit()
                    .map_err(|_| UserError::input(format!("`{spec}` does not name a commit")))?;
                return Ok(commit.id);
            }
        }
    }
    let id = repo.rev_parse_single(spec).map_err(|e| {
        let unborn = spec == "HEAD" && repo.head().is_ok_and(|h| h.is_unborn());
        if unborn {
            UserError::input("HEAD has no commit yet: this repository is empty")
                .hint("commit something first, or name a revision")
        } else {
            UserError::input(format!(
                "`{spec}` is not a revision: no branch, tag or commit has that name"
            ))
            .hint(if e.to_string().contains("ambiguous") {
                "it matches more than one object; give more of the id".to_string()
            } else {
                "list the names with `git tag --list` and `git branch --all`".to_string()
            })
        }
    })?;
    let commit = id
        .object()?
        .peel_to_commit()
        .map_err(|_| UserError::input(format!("`{spec}` does not name a commit")))?;
    Ok(commit.id)
}

/// Release tags of `repo` by the commit they point to (annotated tags peeled).
pub fn release_tags_by_commit(
    repo: &gix::Repository,
) -> Result<BTreeMap<gix::ObjectId, Vec<(String, semver::Version)>>> {
    let mut out: BTreeMap<gix::ObjectId, Vec<(String, semver::Version)>> = BTreeMap::new();
    for r in repo.references()?.tags()? {
        let Some(mut r) = crate::git::listed(r) else {
            continue;
        };
        let name = r.name().shorten().to_string();
        let Some(v) = crate::versions::release_version(&name) else {
            continue;
        };
        let Some(commit) = crate::git::ref_commit(&mut r) else {
            continue;
        };
        out.entry(commit.id).or_default().push((name, v));
    }
    for tags in out.values_mut() {
        tags.sort_by(|a, b| crate::versions::cmp_tags((&b.1, &b.0), (&a.1, &a.0)));
    }
    Ok(out)
}

/// The newest release tag of the nearest tagged commit reachable from `commit` (itself first),
/// newest commit first as `git describe --tags` walks; `tags` is [`release_tags_by_commit`].
///
/// Errors: unreadable commits.
pub fn nearest_release<'t>(
    repo: &gix::Repository,
    commit: gix::ObjectId,
    tags: &'t BTreeMap<gix::ObjectId, Vec<(String, semver::Version)>>,
) -> Result<Option<&'t (String, semver::Version)>> {
    let walk = repo
        .rev_walk([commit])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()?;
    for info in walk {
        if let Some(t) = tags.get(&info?.id).and_then(|list| list.first()) {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Set the index entries at and below each of `paths` (work-tree-relative, `/`-separated) to what
/// HEAD's tree holds there, leaving every other entry as it is. Stat data is zeroed; git refreshes
/// it on its next run.
///
/// Errors: reading the tree or writing the index.
pub fn index_from_head(repo: &gix::Repository, paths: &[&str]) -> Result<()> {
    let tree = repo.head_tree_id_or_empty()?.detach();
    let snapshot = repo.index_or_empty()?;
    let mut index: gix::index::File = (**snapshot).clone();
    index.remove_entries(|_, path, _| {
        paths.iter().any(|x| {
            path == x.as_bytes()
                || (path.starts_with(x.as_bytes()) && path.get(x.len()) == Some(&b'/'))
        })
    });
    for p in paths {
        for (rel, (id, kind)) in read_path_ids(repo, tree, p)? {
            let mode = match kind {
                FileKind::Regular => gix::index::entry::Mode::FILE,
                FileKind::Executable => gix::index::entry::Mode::FILE_EXECUTABLE,
                FileKind::Symlink => gix::index::entry::Mode::SYMLINK,
            };
            let full = if rel.is_empty() {
                p.to_string()
            } else {
                join(p, &rel)
            };
            index.dangerously_push_entry(
                gix::index::entry::Stat::default(),
                id,
                gix::index::entry::Flags::empty(),
                mode,
                full.as_str().into(),
            );
        }
    }
    index.sort_entries();
    index.remove_tree();
    index
        .write(Default::default())
        .context("writing the index")?;
    Ok(())
}

/// One item of a ref listing, or `None` when it cannot be read (a loose ref file that does not
/// parse): skipped with git's `warning: ignoring broken ref NAME` instead of failing the
/// command, once per process.
pub fn listed<'r, E: std::fmt::Display>(
    item: std::result::Result<gix::Reference<'r>, E>,
) -> Option<gix::Reference<'r>> {
    match item {
        Ok(r) => Some(r),
        Err(e) => {
            ignoring_broken_ref(&e.to_string());
            None
        }
    }
}

/// The commit ref `r` names (annotated tags peeled), or `None`. A ref that names another kind
/// of object is skipped quietly (git keeps tags of trees); one that cannot be peeled at all, a
/// loop of symbolic refs, a tag that points at itself or at a missing object, is skipped with
/// git's `warning: ignoring broken ref NAME`, once per process.
pub fn ref_commit<'r>(r: &mut gix::Reference<'r>) -> Option<gix::Commit<'r>> {
    let name = r.name().as_bstr().to_string();
    match r.peel_to_id() {
        Err(_) => {
            ignoring_broken_ref(&name);
            None
        }
        Ok(id) => id.object().ok()?.try_into_commit().ok(),
    }
}

fn ignoring_broken_ref(what: &str) {
    static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let fresh = SEEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(what.to_string());
    if fresh {
        eprintln!("warning: ignoring broken ref {what}");
    }
}

/// `git -c key=value` settings, which git passes to subcommands in `GIT_CONFIG_PARAMETERS` as
/// shell-quoted words (`'release.addonsPath'='charts'`, or `'release.addonsPath=charts'` from
/// older git). Later entries win. gix does not read this variable.
pub fn command_line_config() -> Vec<(String, String)> {
    std::env::var("GIT_CONFIG_PARAMETERS")
        .map(|p| parse_config_parameters(&p))
        .unwrap_or_default()
}

pub(crate) fn parse_config_parameters(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        // One word: quoted segments, `\'` escapes and bare characters up to unquoted whitespace.
        let mut word = String::new();
        let mut eq_at = None;
        while let Some(&c) = chars.peek() {
            match c {
                '\'' => {
                    chars.next();
                    for q in chars.by_ref() {
                        if q == '\'' {
                            break;
                        }
                        word.push(q);
                    }
                }
                '\\' => {
                    chars.next();
                    if let Some(n) = chars.next() {
                        word.push(n);
                    }
                }
                c if c.is_whitespace() => break,
                '=' => {
                    chars.next();
                    eq_at.get_or_insert(word.len());
                    word.push('=');
                }
                c => {
                    chars.next();
                    word.push(c);
                }
            }
        }
        let split = eq_at.or_else(|| word.find('='));
        match split {
            Some(i) => out.push((word[..i].to_string(), word[i + 1..].to_string())),
            None => out.push((word, "true".into())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of `(name, entry)` written to `repo`; entries sorted as git sorts them.
    fn tree(
        repo: &gix::Repository,
        entries: Vec<(&str, EntryKind, gix::ObjectId)>,
    ) -> gix::ObjectId {
        let mut entries: Vec<gix::objs::tree::Entry> = entries
            .into_iter()
            .map(|(name, kind, oid)| gix::objs::tree::Entry {
                mode: kind.into(),
                filename: name.into(),
                oid,
            })
            .collect();
        entries.sort();
        repo.write_object(&gix::objs::Tree { entries })
            .unwrap()
            .detach()
    }

    /// The index answers as `lookup_path` does, for present, absent and through-a-file paths,
    /// and shares decoded trees between clones.
    #[test]
    fn tree_index_agrees_with_lookup_path() {
        let dir = tempfile::tempdir().unwrap();
        let repo = gix::init(dir.path()).unwrap();
        let chart = repo
            .write_blob(b"name: a\nversion: 1.0.0\n")
            .unwrap()
            .detach();
        let values = repo.write_blob(b"image: x\n").unwrap().detach();
        let a = tree(
            &repo,
            vec![
                ("Chart.yaml", EntryKind::Blob, chart),
                ("values.yaml", EntryKind::BlobExecutable, values),
            ],
        );
        let addons = tree(
            &repo,
            vec![
                ("a", EntryKind::Tree, a),
                ("a.txt", EntryKind::Blob, values),
            ],
        );
        let root = tree(&repo, vec![("addons", EntryKind::Tree, addons)]);
        let index = TreeIndex::default();
        let shared = index.clone();
        for path in [
            "",
            "addons",
            "addons/a",
            "addons/a/Chart.yaml",
            "addons/a/values.yaml",
            "addons/a.txt",
            "addons/a.txt/x",
            "addons/b",
            "addons/a/Chart.yaml/more",
            "nothing",
        ] {
            assert_eq!(
                index.lookup(&repo, root, path).unwrap(),
                lookup_path(&repo, root, path).unwrap(),
                "{path:?}"
            );
            assert_eq!(
                shared.blob(&repo, root, path).unwrap(),
                blob_at(&repo, root, path).unwrap(),
                "{path:?}"
            );
            assert_eq!(
                index.read_path(&repo, root, path).unwrap(),
                read_path(&repo, root, path).unwrap(),
                "{path:?}"
            );
        }
        assert_eq!(
            index.trees.borrow().len(),
            3,
            "root, addons and a, each decoded once"
        );
    }
}
