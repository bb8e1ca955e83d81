//! Component lists under `repos/`: the three shapes of DOMAIN.md, read with the line of every entry.
//!
//! Shape 1, a bare list of `{repositoryFullName, currentTag, chartPaths, targetChartPath}`;
//! shape 2, `{metadata, spec: [...]}` whose entries may carry `baseVersion`; shape 3, the older
//! `charts_list.yaml` entries `{repositoryFullName, resourcePaths, targetPath}` that collect single
//! files. Source: seed 002 (platform-release layout) and seed 000 (`charts_list.yaml`).

pub mod fetch;
pub mod merge;
pub mod read;

use std::path::Path;

use gix::objs::tree::EntryKind;

use anyhow::{Context, Result};
use serde_yaml::Value;

use crate::error::UserError;
use crate::yaml_edit::{self, Seg};

/// Fields an entry may have; anything else gets a warning naming it.
pub const KNOWN_FIELDS: &[&str] = &[
    "repositoryFullName",
    "currentTag",
    "baseVersion",
    "chartPaths",
    "targetChartPath",
    "resourcePaths",
    "targetPath",
    "tagPrefix",
    "url",
    "images",
    "tag",
];

pub use crate::settings::Targets;

/// One component entry of a repos file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Repo-relative path of the repos file, e.g. `repos/devops.yaml`.
    pub file: String,
    /// 1-based line of the entry's `repositoryFullName`.
    pub line: usize,
    /// Path of the entry mapping inside the file (`[3]` or `spec[3]`), for in-place edits.
    pub path: Vec<Seg>,
    /// `owner/name`.
    pub repository_full_name: String,
    /// `url:` of the entry, overriding `release.componentUrl`.
    pub url: Option<String>,
    /// `baseVersion:` release line, e.g. `v1.2`.
    pub base_version: Option<String>,
    /// `currentTag:` last collected tag (`tag:` in a tags file, the caicloud layout's
    /// `release_charts.yaml`, which [`overlay_tags`] reads over the repos file's).
    pub current_tag: Option<String>,
    /// Where collect records the collected tag when it is not the entry's own `currentTag`:
    /// the tags file (`release.tagsFile`) and the path of the entry's `tag:` in it, `None`
    /// when the tags file has no entry for the component yet (collect appends one).
    pub tag_at: Option<(String, Option<Vec<Seg>>)>,
    /// `tagPrefix:` for repos whose release tags carry a prefix (`chart-v1.2.0`).
    pub tag_prefix: Option<String>,
    /// `chartPaths:` chart folders inside the component repo.
    pub chart_paths: Vec<String>,
    /// `targetChartPath:` where chart folders land (default: the addons path).
    pub target_chart_path: Option<String>,
    /// `resourcePaths:` single files (shape 3).
    pub resource_paths: Vec<String>,
    /// `targetPath:` where single files land (shape 3).
    pub target_path: Option<String>,
    /// `images:` image references only an operator knows about (one it starts at run time,
    /// e.g. a config reloader), added to the image lists with this entry as their source.
    pub images: Vec<String>,
    /// 1-based line of each field the entry has (`targetChartPath` -> 7), for messages.
    pub field_lines: std::collections::BTreeMap<String, usize>,
    /// The module its charts belong to in version.yml: the repos file's `metadata.name`, else the
    /// file's name without extension (`repos/devops.yaml` -> `devops`), as the seeds name them.
    pub module: String,
}

impl Component {
    /// The repository name without owner: `cyclone` for `muzi502/cyclone` (what `TagOfRepo(NAME)` names).
    pub fn name(&self) -> &str {
        self.repository_full_name
            .rsplit_once('/')
            .map_or(self.repository_full_name.as_str(), |(_, n)| n)
    }

    /// `(repos/x.yaml:LINE, image)` for each of [`Component::images`], LINE being the `images:` key's.
    pub fn extra_images(&self) -> Vec<(String, String)> {
        let line = self.field_lines.get("images").copied().unwrap_or(self.line);
        self.images
            .iter()
            .map(|i| (format!("{}:{line}", self.file), i.clone()))
            .collect()
    }

    /// The key of the entry's collected tag, as [`parse`] reads it: `currentTag`, else `tag` (a
    /// tags file's spelling, `release_charts.yaml`), else `absent` for an entry without either.
    pub fn tag_key(&self, absent: &'static str) -> &'static str {
        ["currentTag", "tag"]
            .into_iter()
            .find(|k| self.field_lines.contains_key(*k))
            .unwrap_or(absent)
    }

    /// `repos/devops.yaml:12`
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// Where chart folder `src` (normalised, in the component repo) lands in the work tree:
    /// `targetChartPath` (relative to `release.targetPathBase`; default the addons path) joined
    /// with the folder's last name.
    ///
    /// Errors: a `targetChartPath` that is absolute or leaves the work tree.
    pub fn chart_target(&self, to: Targets<'_>, src: &str) -> anyhow::Result<String> {
        let folder = src.rsplit('/').next().unwrap_or(src);
        Ok(crate::files::join(
            &to.folder(self.target_chart_path.as_deref())?,
            folder,
        ))
    }

    /// Where resource file `src` (normalised) lands: `targetPath` (relative to
    /// `release.targetPathBase`: the root, or `addons` in the caicloud layout, where
    /// `targetPath: console` is `addons/console`; default the addons path) joined with the
    /// file's name.
    ///
    /// Errors: a `targetPath` that is absolute or leaves the work tree.
    pub fn resource_target(&self, to: Targets<'_>, src: &str) -> anyhow::Result<String> {
        let name = src.rsplit('/').next().unwrap_or(src);
        Ok(crate::files::join(
            &to.folder(self.target_path.as_deref())?,
            name,
        ))
    }

    /// Every resource file target of the entry (paths `..` or absolute are skipped: collect
    /// refuses them).
    pub fn resource_targets(&self, to: Targets<'_>) -> Vec<String> {
        self.resource_paths
            .iter()
            .filter_map(|p| crate::settings::normalize_rel_path(p).ok())
            .filter_map(|src| self.resource_target(to, &src).ok())
            .collect()
    }

    /// `repos/devops.yaml:15`: where field `key` of the entry is (the entry's line when absent).
    pub fn field_location(&self, key: &str) -> String {
        format!(
            "{}:{}",
            self.file,
            self.field_lines.get(key).copied().unwrap_or(self.line)
        )
    }
}

/// Everything read from the repos folder.
#[derive(Debug, Default)]
pub struct ReposFiles {
    /// Entries in file order (files sorted by name).
    pub components: Vec<Component>,
    /// Non-fatal findings, e.g. unknown fields, each naming file and line.
    pub warnings: Vec<String>,
    /// Original text of each file, keyed by repo-relative path.
    pub texts: std::collections::BTreeMap<String, String>,
}

/// The repos files of `repo`'s work tree (`release.reposPath`), as [`read_paths`] reads them.
///
/// Errors: a bare repository; as [`read_paths`].
pub fn read_worktree(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
) -> Result<ReposFiles> {
    let workdir = crate::git::workdir(repo)?;
    read_paths(&workdir, settings)
}

/// Read the repos files `release.reposPath` names ([`crate::settings::repos_paths`]) in the
/// work tree at `workdir`: a folder gives every `*.yaml` / `*.yml` file directly in it, a file
/// is read itself (`charts_list.yaml`); then the collected tags of `release.tagsFile`
/// ([`overlay_tags`]), whose text is kept with the others (empty when it does not exist yet).
///
/// Errors (exit 2): a path that is neither; invalid YAML (file, line, column), a top level that
/// is neither a list nor a mapping with `spec:`, an entry without `repositoryFullName`, a field of
/// the wrong type; the same `repositoryFullName` listed twice (in one file or two).
pub fn read_paths(workdir: &Path, settings: &crate::settings::Settings) -> Result<ReposFiles> {
    let mut out = ReposFiles::default();
    let repos_path = settings.repos_path.as_str();
    for rel in crate::settings::repos_paths(repos_path) {
        let abs = crate::paths::abs(workdir, rel);
        if abs.is_file() {
            let text = std::fs::read_to_string(&abs).with_context(|| format!("reading {rel}"))?;
            out.components.extend(parse(rel, &text, &mut out.warnings)?);
            out.texts.insert(rel.to_string(), text);
        } else {
            read_dir_into(&abs, rel, &mut out)?;
        }
    }
    refuse_duplicates(&out)?;
    if let Some(rel) = tags_file(settings) {
        let text = match std::fs::read_to_string(crate::paths::abs(workdir, rel)) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
        };
        overlay_tags(rel, text.as_deref(), &mut out.components, &mut out.warnings)?;
        out.texts.insert(rel.to_string(), text.unwrap_or_default());
    }
    Ok(out)
}

/// `release.tagsFile` when it is set and is not itself one of the repos files.
fn tags_file(settings: &crate::settings::Settings) -> Option<&str> {
    let rel = settings.tags_file.as_str();
    (!rel.is_empty() && !crate::settings::repos_paths(&settings.repos_path).contains(&rel))
        .then_some(rel)
}

/// Read the collected tags of a tags file (`release.tagsFile`: the caicloud layout's
/// `release_charts.yaml`, the charts_list shape with a `tag:` per entry; seed 000) over
/// `components`: each component the file lists takes its `tag:` as its `currentTag` and
/// records where collect writes the next one ([`Component::tag_at`]); a component it does not
/// list keeps its own `currentTag`, if any, and collect appends an entry for it. `text` is
/// `None` when the file does not exist.
///
/// Errors (exit 2): the file does not parse (file and line).
pub fn overlay_tags(
    rel: &str,
    text: Option<&str>,
    components: &mut [Component],
    warnings: &mut Vec<String>,
) -> Result<()> {
    let tagged = match text {
        Some(t) => parse(rel, t, warnings)?,
        None => Vec::new(),
    };
    for c in components.iter_mut() {
        match tagged
            .iter()
            .find(|t| t.repository_full_name == c.repository_full_name)
        {
            Some(t) => {
                let mut path = t.path.clone();
                path.push(Seg::Key(t.tag_key("tag").into()));
                c.current_tag = t.current_tag.clone();
                c.tag_at = Some((rel.to_string(), Some(path)));
            }
            None => c.tag_at = Some((rel.to_string(), None)),
        }
    }
    Ok(())
}

/// `text` (a tags file, [`overlay_tags`]) with an entry for `c` appended at the end of its
/// list, `tag: TAG` after `repositoryFullName`, then the entry's `resourcePaths`/`chartPaths`
/// and targets as the caicloud layout's `release_charts.yaml` repeats them. An empty file
/// becomes a bare list.
///
/// Errors (exit 2): the list is not the last thing in the file (the entry cannot be appended
/// in place); the result does not read back with the new tag.
pub fn append_tag_entry(rel: &str, text: &str, c: &Component, tag: &str) -> Result<String> {
    let entries = parse(rel, text, &mut Vec::new())?;
    let lines: Vec<&str> = text.lines().collect();
    let col = match entries.first() {
        Some(e) => lines.get(e.line - 1).and_then(|l| l.find('-')).unwrap_or(0),
        None => 0,
    };
    let pad = " ".repeat(col);
    let mut entry = format!(
        "{pad}- repositoryFullName: {}\n{pad}  tag: {}\n",
        c.repository_full_name,
        yaml_edit::quote_if_needed(tag)
    );
    for (key, items) in [
        ("chartPaths", &c.chart_paths),
        ("resourcePaths", &c.resource_paths),
    ] {
        if !items.is_empty() {
            entry.push_str(&format!("{pad}  {key}:\n"));
            for i in items {
                entry.push_str(&format!("{pad}  - {}\n", yaml_edit::quote_if_needed(i)));
            }
        }
    }
    for (key, v) in [
        ("targetChartPath", &c.target_chart_path),
        ("targetPath", &c.target_path),
    ] {
        if let Some(v) = v {
            entry.push_str(&format!(
                "{pad}  {key}: {}\n",
                yaml_edit::quote_if_needed(v)
            ));
        }
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&entry);
    let back = parse(rel, &out, &mut Vec::new()).ok();
    let ok = back.as_ref().is_some_and(|b| {
        b.len() == entries.len() + 1
            && b.iter().any(|e| {
                e.repository_full_name == c.repository_full_name
                    && e.current_tag.as_deref() == Some(tag)
            })
    });
    if !ok {
        return Err(UserError::input(format!(
            "{rel}: cannot append an entry for {} (its list is not the last thing in the file)",
            c.repository_full_name
        ))
        .hint(format!(
            "add `- repositoryFullName: {}` with `tag: {tag}` to {rel} by hand",
            c.repository_full_name
        ))
        .into());
    }
    Ok(out)
}

/// Read every `*.yaml` / `*.yml` file directly in `dir` (repo-relative `rel_dir`) into `out`.
///
/// Errors (exit 2): no such folder; invalid YAML (file, line, column), a top level that is
/// neither a list nor a mapping with `spec:`, an entry without `repositoryFullName`, a field of
/// the wrong type.
fn read_dir_into(dir: &Path, rel_dir: &str, out: &mut ReposFiles) -> Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(
                UserError::input(format!("{}: no such folder or file", rel_or_dot(rel_dir)))
                    .hint("create it with `git release init`, or set `release.reposPath` (folders or files, separated by spaces)")
                    .into(),
            )
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".yaml") || n.ends_with(".yml")) && !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let rel = if rel_dir.is_empty() {
            name.clone()
        } else {
            format!("{rel_dir}/{name}")
        };
        let text =
            std::fs::read_to_string(dir.join(&name)).with_context(|| format!("reading {rel}"))?;
        let comps = parse(&rel, &text, &mut out.warnings)?;
        out.components.extend(comps);
        out.texts.insert(rel, text);
    }
    Ok(())
}

fn refuse_duplicates(out: &ReposFiles) -> Result<()> {
    let mut seen = std::collections::BTreeMap::new();
    for c in &out.components {
        if let Some(prev) = seen.insert(c.repository_full_name.clone(), c.location()) {
            return Err(UserError::input(format!(
                "{}: `{}` is already listed at {prev}",
                c.location(),
                c.repository_full_name
            ))
            .hint("list each component repository once; give it several chartPaths instead")
            .into());
        }
    }
    Ok(())
}

/// The resource files (`resourcePaths` targets) the repos files at `tree` name, work-tree
/// relative: single manifests that are part of the release like charts are.
///
/// Errors: a repos file that cannot be read (exit 2, naming it).
pub fn resource_targets_at(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &crate::settings::Settings,
) -> Result<Vec<String>> {
    Ok(resource_targets_of(
        &components_at(repo, tree, settings)?,
        settings,
    ))
}

/// The resource file targets of `components`, sorted, each once.
fn resource_targets_of(
    components: &[Component],
    settings: &crate::settings::Settings,
) -> Vec<String> {
    let mut out: Vec<String> = components
        .iter()
        .flat_map(|c| c.resource_targets(settings.targets()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The `currentTag` of every component of `all`, by repository name and by full name: what
/// `[[ TagOfRepo(NAME) ]]` is substituted with (DOMAIN.md, placeholders).
pub fn tags_by_name(all: &[Component]) -> std::collections::BTreeMap<String, String> {
    let mut tags = std::collections::BTreeMap::new();
    for c in all {
        if let Some(t) = &c.current_tag {
            tags.insert(c.name().to_string(), t.clone());
            tags.insert(c.repository_full_name.clone(), t.clone());
        }
    }
    tags
}

/// Every component entry of the repos files in `tree` (object database, not the work tree), in
/// file order.
///
/// Errors: a repos file that cannot be parsed (exit 2, file and line); unreadable objects.
pub fn components_at(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &crate::settings::Settings,
) -> Result<Vec<Component>> {
    let mut out = Vec::new();
    for path in crate::settings::repos_paths(&settings.repos_path) {
        match crate::git::lookup_path(repo, tree, path)? {
            // A repos file named itself (`charts_list.yaml`).
            Some((id, kind)) if kind != EntryKind::Tree && kind != EntryKind::Commit => {
                let data = repo.find_blob(id)?.take_data();
                out.extend(parse(
                    path,
                    &String::from_utf8_lossy(&data),
                    &mut Vec::new(),
                )?);
            }
            Some(_) => {
                let Some(files) = crate::git::read_path(repo, tree, path)? else {
                    continue;
                };
                for (name, entry) in &files {
                    if name.contains('/')
                        || !(name.ends_with(".yaml") || name.ends_with(".yml"))
                        || name.starts_with('.')
                    {
                        continue;
                    }
                    let rel = crate::files::join(path, name);
                    let text = String::from_utf8_lossy(&entry.data);
                    out.extend(parse(&rel, &text, &mut Vec::new())?);
                }
            }
            None => {}
        }
    }
    if let Some(rel) = tags_file(settings) {
        let text =
            crate::git::blob_at(repo, tree, rel)?.map(|d| String::from_utf8_lossy(&d).into_owned());
        overlay_tags(rel, text.as_deref(), &mut out, &mut Vec::new())?;
    }
    Ok(out)
}

/// What the repos files at `tree` add to the image lists, read with one parse of them: the
/// resource files ([`Component::resource_targets`]) with their bytes (those that exist), and
/// every entry's `images:` as `(repos/x.yaml:LINE, image)` ([`Component::extra_images`]).
#[derive(Debug, Default)]
pub struct ImageInputs {
    /// `(path, bytes)` of each resource file, sorted by path.
    pub resources: Vec<(String, Vec<u8>)>,
    /// `(repos/x.yaml:LINE, image)`.
    pub extra: Vec<(String, String)>,
}

/// [`ImageInputs`] at `tree`.
///
/// Errors: as [`components_at`]; an object missing from the database.
pub fn image_inputs_at(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &crate::settings::Settings,
) -> Result<ImageInputs> {
    let components = components_at(repo, tree, settings)?;
    let mut resources = Vec::new();
    for t in resource_targets_of(&components, settings) {
        if let Some(data) = crate::git::blob_at(repo, tree, &t)? {
            resources.push((t, data));
        }
    }
    Ok(ImageInputs {
        resources,
        extra: components
            .iter()
            .flat_map(Component::extra_images)
            .collect(),
    })
}

/// 1-based line of the first `key:` at or after line `from` (for keys whose value is not a
/// scalar); `lines` is the file's text split into lines once, so that each look-up starts at
/// `from` instead of the top of the file.
fn key_line(lines: &[&str], from: usize, key: &str) -> usize {
    let pat = format!("{key}:");
    lines
        .iter()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(&pat)
                || t.starts_with(&format!("\"{key}\":"))
                || t.starts_with(&format!("'{key}':"))
        })
        .map_or(from, |(i, _)| i + 1)
}

fn rel_or_dot(p: &str) -> &str {
    if p.is_empty() {
        "."
    } else {
        p
    }
}

fn too_many(rel: &str, n: u64, max: u64) -> anyhow::Error {
    UserError::input(format!(
        "{rel}: {n} components, more than the {max} a repos file may list (release.maxComponents); nothing was read"
    ))
    .hint("split the platform, or raise release.maxComponents if the list is real")
    .into()
}

/// Parse one repos file. `rel` names it in messages.
///
/// Errors (exit 2): not YAML; not a list of components; more entries than
/// `release.maxComponents` ([`crate::limits::Limits::components`]); an entry of the wrong shape.
pub fn parse(rel: &str, text: &str, warnings: &mut Vec<String>) -> Result<Vec<Component>> {
    // Every entry names its repository once: a count of the key refuses a huge file before the
    // YAML parse (which takes seconds for 100 000 entries); the exact count follows it.
    let max = crate::limits::get().components;
    let named = text.matches("repositoryFullName").count() as u64;
    if named > max {
        return Err(too_many(rel, named, max));
    }
    let doc: Value = crate::yaml::parse(text.as_bytes()).map_err(|e| {
        UserError::input(format!("{rel}:{}: not valid YAML: {}", e.line, e.msg))
            .hint("fix the YAML syntax; the file was not changed")
    })?;
    let lines: Vec<&str> = text.lines().collect();
    let (items, base): (&Vec<Value>, Vec<Seg>) = match &doc {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => (items, vec![]),
        Value::Mapping(m) => match m.get("spec") {
            Some(Value::Sequence(items)) => {
                for k in m.keys() {
                    let k = k.as_str().unwrap_or("?");
                    if k != "spec" && k != "metadata" {
                        warnings.push(format!(
                            "{rel}: unknown top-level field `{k}` (known: metadata, spec)"
                        ));
                    }
                }
                (items, vec![Seg::Key("spec".into())])
            }
            Some(Value::Null) => return Ok(Vec::new()),
            _ => {
                return Err(UserError::input(format!(
                    "{rel}: expected a list of components, or a mapping with a `spec:` list"
                ))
                .into())
            }
        },
        _ => return Err(UserError::input(format!("{rel}: expected a list of components")).into()),
    };
    if items.len() as u64 > max {
        return Err(too_many(rel, items.len() as u64, max));
    }
    let module = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let file = rel.rsplit('/').next().unwrap_or(rel);
            file.rsplit_once('.')
                .map_or(file, |(stem, _)| stem)
                .to_string()
        });
    let mut out = Vec::new();
    // One parse for every entry's line (a parse per entry was quadratic in the file's length).
    let name_lines = yaml_edit::scalar_lines(
        text,
        &(0..items.len())
            .map(|i| {
                let mut p = base.clone();
                p.extend([Seg::Index(i), Seg::Key("repositoryFullName".into())]);
                p
            })
            .collect::<Vec<_>>(),
    );
    for (i, item) in items.iter().enumerate() {
        let mut path = base.clone();
        path.push(Seg::Index(i));
        let line_of = |key: &str| -> Option<usize> {
            let mut p = path.clone();
            p.push(Seg::Key(key.into()));
            yaml_edit::find_scalar(text, &p).ok().map(|s| s.line)
        };
        let where_ = |key: &str| match line_of(key) {
            Some(l) => format!("{rel}:{l}"),
            None => format!("{rel}: {}", yaml_edit::display_path(&path)),
        };
        let Value::Mapping(m) = item else {
            return Err(UserError::input(format!(
                "{rel}: {}: expected a mapping with `repositoryFullName`",
                yaml_edit::display_path(&path)
            ))
            .into());
        };
        let string = |key: &str| -> Result<Option<String>> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(UserError::input(format!(
                    "{}: `{key}` must be a string",
                    where_(key)
                ))
                .into()),
            }
        };
        let list = |key: &str| -> Result<Vec<String>> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(vec![s.clone()]),
                Some(Value::Sequence(v)) => v
                    .iter()
                    .map(|x| match x {
                        Value::String(s) => Ok(s.clone()),
                        _ => Err(UserError::input(format!(
                            "{}: `{key}` must be a list of paths",
                            where_(key)
                        ))
                        .into()),
                    })
                    .collect(),
                Some(_) => Err(UserError::input(format!(
                    "{}: `{key}` must be a list of paths",
                    where_(key)
                ))
                .into()),
            }
        };
        let Some(full) = string("repositoryFullName")? else {
            return Err(UserError::input(format!(
                "{rel}: {}: entry has no `repositoryFullName`",
                yaml_edit::display_path(&path)
            ))
            .hint("every entry names its component repository as `owner/name`")
            .into());
        };
        let line = name_lines[i].unwrap_or(1);
        // An unknown field is an error: a typo (`baseVersoin`) would otherwise drop the setting
        // silently and change what ships.
        for k in m.keys() {
            let k = k.as_str().unwrap_or("?");
            if !KNOWN_FIELDS.contains(&k) {
                let hint = match crate::error::suggest(k, KNOWN_FIELDS.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("known fields: {}", KNOWN_FIELDS.join(", ")),
                };
                return Err(UserError::input(format!(
                    "{rel}:{}: unknown field `{k}` in entry `{full}`",
                    key_line(&lines, line, k)
                ))
                .hint(hint)
                .into());
            }
        }
        let c = Component {
            file: rel.to_string(),
            line,
            path: path.clone(),
            repository_full_name: full,
            url: string("url")?,
            base_version: string("baseVersion")?,
            current_tag: match string("currentTag")? {
                Some(t) => Some(t),
                None => string("tag")?,
            },
            tag_at: None,
            tag_prefix: string("tagPrefix")?,
            chart_paths: list("chartPaths")?,
            target_chart_path: string("targetChartPath")?,
            resource_paths: list("resourcePaths")?,
            target_path: string("targetPath")?,
            images: list("images")?,
            field_lines: m
                .keys()
                .filter_map(|k| k.as_str())
                // A line scan from the entry, not a parse per key: 500 entries stay linear.
                .map(|k| (k.to_string(), key_line(&lines, line, k)))
                .collect(),
            module: module.clone(),
        };
        if let Some(b) = &c.base_version {
            if crate::versions::BaseVersion::parse(b).is_none() {
                return Err(UserError::input(format!(
                    "{}: baseVersion `{b}` is not a release line",
                    where_("baseVersion")
                ))
                .hint("write it as vMAJOR.MINOR, e.g. `baseVersion: v1.2`")
                .into());
            }
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tags_file_gives_the_collected_tag_and_where_to_write_the_next() {
        let list = "spec:\n- repositoryFullName: demo/a\n  resourcePaths: [release/a.yaml]\n  targetPath: app\n- repositoryFullName: demo/b\n  resourcePaths: [release/b.yaml]\n";
        let mut comps = parse("charts_list.yaml", list, &mut Vec::new()).unwrap();
        let tags = "# collected\nspec:\n- repositoryFullName: demo/a\n  tag: v1.0.0\n";
        overlay_tags(
            "release_charts.yaml",
            Some(tags),
            &mut comps,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(comps[0].current_tag.as_deref(), Some("v1.0.0"));
        assert_eq!(
            comps[0].tag_at,
            Some((
                "release_charts.yaml".into(),
                Some(vec![
                    Seg::Key("spec".into()),
                    Seg::Index(0),
                    Seg::Key("tag".into())
                ])
            ))
        );
        assert_eq!(comps[1].current_tag, None);
        assert_eq!(comps[1].tag_at, Some(("release_charts.yaml".into(), None)));
        // The missing entry is appended in the file's own indentation, and reads back.
        let out = append_tag_entry("release_charts.yaml", tags, &comps[1], "v2.0.0").unwrap();
        assert_eq!(
            out,
            format!("{tags}- repositoryFullName: demo/b\n  tag: v2.0.0\n  resourcePaths:\n  - release/b.yaml\n")
        );
        let indented = "spec:\n  - repositoryFullName: demo/a\n    tag: v1.0.0\n";
        let out = append_tag_entry("t.yaml", indented, &comps[1], "1.10").unwrap();
        assert!(
            out.ends_with("  - repositoryFullName: demo/b\n    tag: \"1.10\"\n    resourcePaths:\n    - release/b.yaml\n"),
            "{out}"
        );
        // An absent file becomes a bare list.
        let out = append_tag_entry("t.yaml", "", &comps[1], "v2.0.0").unwrap();
        assert_eq!(parse("t.yaml", &out, &mut Vec::new()).unwrap().len(), 1);
        // A list that is not the last thing of the file is not appended to.
        let not_last = "spec:\n- repositoryFullName: demo/a\n  tag: v1.0.0\nmetadata:\n  name: x\n";
        let e = append_tag_entry("t.yaml", not_last, &comps[1], "v2.0.0").unwrap_err();
        assert!(
            e.to_string().contains("cannot append an entry for demo/b"),
            "{e}"
        );
    }
}
