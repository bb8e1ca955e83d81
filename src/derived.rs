//! The files derived from the charts: `version.yml`'s addon versions and the image lists
//! `images/images_<kind>.list` (seed 002: both are written by the release job, never by hand).
//! collect, bump and cherry-pick write them from here; `check` (version-yml-mismatch,
//! image-list-stale) compares the tree with what this module computes; `images` and `package`
//! read the lists from here.

use std::collections::BTreeMap;

use std::path::Path;

use anyhow::{Context, Result};

use crate::chart::discover::TopCharts;
use crate::components::ImageInputs;
use crate::error::UserError;
use crate::files::Files;
use crate::image::chart::{ImageLists, RenderContext};
use crate::image::scan::ImageError;
use crate::settings::Settings;
use crate::worktree::Change;

/// Work-tree-relative path of the image list of `kind`: `<imagesPath>/images_<kind>.list`.
pub fn list_path(settings: &Settings, kind: &str) -> String {
    crate::files::join(&settings.images_path, &format!("images_{kind}.list"))
}

/// The references `images_<kind>.list` holds at `tree` (empty when the list is absent).
///
/// Errors: unreadable objects.
pub fn list_at(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &Settings,
    kind: &str,
) -> Result<std::collections::BTreeSet<String>> {
    Ok(crate::git::blob_at(repo, tree, &list_path(settings, kind))?
        .map(|d| crate::image::list::parse(&String::from_utf8_lossy(&d)))
        .unwrap_or_default()
        .into_iter()
        .collect())
}

/// The image lists of `charts` (`(chart folder, files)`), with the resource files and repos
/// entries' `images:` of `inputs` ([`crate::image::chart::image_lists`]).
///
/// Errors: a chart whose values.yaml or Chart.yaml cannot be read, with its folder.
pub fn lists_of<'a>(
    charts: impl IntoIterator<Item = (&'a str, &'a crate::files::Files)>,
    inputs: &'a ImageInputs,
    ctx: &RenderContext,
) -> std::result::Result<ImageLists, (String, ImageError)> {
    crate::image::chart::image_lists(
        charts,
        inputs
            .resources
            .iter()
            .map(|(p, d)| (p.as_str(), d.as_slice())),
        &inputs.extra,
        ctx,
    )
}

/// The image lists of the commit `rev` names: every chart under the addons path rendered with its
/// default values, resource files, repos entries' `images:` ([`crate::image::chart::image_lists`]).
///
/// Errors: a revision that is not a commit (exit 2); a chart whose values.yaml cannot be read
/// even statically (exit 2, naming it); unreadable objects.
pub fn lists_at(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
) -> Result<ImageLists> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let charts = TopCharts::default().at(repo, tree, &settings.addons_path)?;
    let files = charts
        .iter()
        .map(|c| crate::git::read_tree_files(repo, c.tree))
        .collect::<Result<Vec<_>>>()?;
    let inputs = crate::components::image_inputs_at(repo, tree, settings)?;
    let ctx = RenderContext::at(repo, tree, settings)?;
    lists_of(
        charts.iter().zip(&files).map(|(c, f)| (c.path.as_str(), f)),
        &inputs,
        &ctx,
    )
    .map_err(|(root, e)| -> anyhow::Error {
        UserError::input(format!("{root}/{e}"))
            .hint("fix the chart's YAML; its images cannot be read")
            .into()
    })
}

/// The image lists collect would write from the charts and resource files at `before` and at
/// `after` ([`crate::image::chart::image_lists`], read from the object database). Charts that are the
/// same folder at both (same path, same tree id) are read and scanned once: the lists are unions,
/// so `lists(same ∪ changed) = lists(same) ∪ lists(changed)`.
///
/// Errors: a chart whose values cannot be read (exit 2, naming it); unreadable objects.
pub fn lists_before_after(
    repo: &gix::Repository,
    settings: &Settings,
    before: gix::ObjectId,
    after: gix::ObjectId,
) -> Result<(
    crate::image::chart::ImageLists,
    crate::image::chart::ImageLists,
)> {
    // Namespaces come from the version.yml after the change (the same on both sides for shared charts).
    let ctx = crate::image::chart::RenderContext::at(repo, after, settings)?;
    let mut tops = crate::chart::discover::TopCharts::default();
    let old = tops.at(repo, before, &settings.addons_path)?;
    let new = tops.at(repo, after, &settings.addons_path)?;
    let lists = |charts: &[&crate::chart::discover::TopChart], tree: Option<gix::ObjectId>| {
        let files = charts
            .iter()
            .map(|c| Ok((c.path.clone(), crate::git::read_tree_files(repo, c.tree)?)))
            .collect::<Result<Vec<_>>>()?;
        let inputs = match tree {
            Some(t) => crate::components::image_inputs_at(repo, t, settings)?,
            None => Default::default(),
        };
        lists_of(files.iter().map(|(p, f)| (p.as_str(), f)), &inputs, &ctx).map_err(
            |(root, e)| -> anyhow::Error { UserError::input(format!("{root}/{e}")).into() },
        )
    };
    let key = |c: &crate::chart::discover::TopChart| (c.path.clone(), c.tree);
    let old_keys: std::collections::HashSet<_> = old.iter().map(key).collect();
    let new_keys: std::collections::HashSet<_> = new.iter().map(key).collect();
    let same: Vec<&crate::chart::discover::TopChart> =
        new.iter().filter(|c| old_keys.contains(&key(c))).collect();
    let only_old: Vec<&crate::chart::discover::TopChart> =
        old.iter().filter(|c| !new_keys.contains(&key(c))).collect();
    let only_new: Vec<&crate::chart::discover::TopChart> =
        new.iter().filter(|c| !old_keys.contains(&key(c))).collect();
    let shared = lists(&same, None)?;
    let mut b = lists(&only_old, Some(before))?;
    let mut a = lists(&only_new, Some(after))?;
    for side in [&mut b, &mut a] {
        for (kind, set) in &shared.kinds {
            side.kinds
                .entry(kind.clone())
                .or_default()
                .extend(set.iter().cloned());
        }
    }
    Ok((b, a))
}

/// The change that makes version.yml follow the charts, in place: `spec.modules[].addons[].version`
/// of every chart under the addons path (those of `charts`, target folder -> files, as they will
/// be; the others, of `roots`, as the work tree has them) is set to its Chart.yaml version, and a chart
/// `modules` places (target folder -> module, from its component's repos file) that version.yml
/// does not list yet is added to that module ([`crate::version_yml::add_addons`]), with a warning
/// saying so. A chart version.yml does not list and no component places is reported, never
/// invented.
///
/// Errors: version.yml unreadable or not editable in place (exit 2, naming it).
pub fn version_yml_change(
    workdir: &Path,
    settings: &Settings,
    roots: &[String],
    charts: &BTreeMap<String, Files>,
    modules: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Change>> {
    let rel = &settings.version_file;
    if rel.is_empty() {
        return Ok(Vec::new()); // no version.yml in this layout (release.versionFile is empty)
    }
    let path = workdir.join(rel);
    let mut metas: BTreeMap<String, crate::chart::meta::ChartMeta> = BTreeMap::new();
    for r in roots {
        if charts.contains_key(r) {
            continue;
        }
        let Ok(data) = std::fs::read(workdir.join(r).join("Chart.yaml")) else {
            continue;
        };
        metas.insert(r.clone(), crate::chart::meta::parse(&data));
    }
    for (target, files) in charts {
        metas.insert(target.clone(), crate::chart::meta::of(files));
    }
    if metas.is_empty() {
        return Ok(Vec::new());
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warnings.push(format!(
                "{rel} does not exist; addon versions were not recorded"
            ));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
    };
    let mut versions = BTreeMap::new();
    let mut targets: BTreeMap<String, &str> = BTreeMap::new();
    for (target, meta) in &metas {
        let Some(version) = meta.version.clone() else {
            warnings.push(format!(
                "{target}: no Chart.yaml version; {rel} not updated for it"
            ));
            continue;
        };
        let name = meta.name_or_folder(target);
        targets.entry(name.clone()).or_insert(target);
        versions.insert(name, version);
    }
    let (mut new_text, missing) = crate::version_yml::set_versions(rel, &text, &versions)?;
    let mut unplaced = Vec::new();
    let mut add = Vec::new();
    for name in missing {
        let target = targets.get(&name).copied().unwrap_or_default();
        match modules.get(target) {
            Some(module) => add.push(crate::version_yml::NewAddon {
                module: module.clone(),
                name: name.clone(),
                version: versions[&name].clone(),
            }),
            None => unplaced.push(name),
        }
    }
    if !add.is_empty() {
        match crate::version_yml::add_addons(rel, &new_text, &add) {
            Some(t) => {
                new_text = t;
                for a in &add {
                    warnings.push(format!(
                        "{rel}: added addon `{}` ({}, version {}) to module `{}` with `enable: true`; review its namespace and description",
                        a.name, targets[&a.name], a.version, a.module
                    ));
                }
            }
            None => unplaced.extend(add.iter().map(|a| a.name.clone())),
        }
    }
    for name in unplaced {
        let target = targets.get(&name).copied().unwrap_or_default();
        warnings.push(format!(
            "addon `{name}` ({target}, version {}) is not listed in {rel}; add it under spec.modules[].addons[]",
            versions[&name]
        ));
    }
    if new_text == text {
        return Ok(Vec::new());
    }
    Ok(vec![crate::worktree::text_change(workdir, rel, &new_text)?])
}

/// The change that lists newly collected single-file addons (`charts`: target -> files, those
/// with one file keyed `""`) in the first product description file of the work tree
/// (`release.productFiles`, `compass.yaml`; [`crate::product::add_addon`]) when no description
/// lists them yet: each under the module named after its group folder (`addons/app/x.yaml` ->
/// `app`), with a warning asking for review. A file that cannot be edited in place gets a
/// warning instead.
///
/// Errors: a description that cannot be read (exit 2, naming it).
pub fn product_change(
    workdir: &Path,
    settings: &Settings,
    charts: &BTreeMap<String, Files>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Change>> {
    let mut descriptions = Vec::new();
    for rel in &settings.product_files {
        match std::fs::read(workdir.join(rel)) {
            Ok(data) => descriptions.push((rel, crate::product::read(rel, &data)?, data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
        }
    }
    let Some((first, _, data)) = descriptions.first() else {
        return Ok(Vec::new());
    };
    let listed: std::collections::BTreeSet<&str> = descriptions
        .iter()
        .flat_map(|(_, d, _)| d.addons.iter().map(|a| a.name.as_str()))
        .collect();
    let original = String::from_utf8_lossy(data).into_owned();
    let mut text = original.clone();
    for (target, files) in charts {
        let Some(entry) = crate::files::single(files) else {
            continue;
        };
        let Some(meta) = crate::chart::meta::addon_file(&entry.data) else {
            continue;
        };
        let name = meta.name_or_folder(target);
        if listed.contains(name.as_str()) {
            continue;
        }
        let module = target
            .rsplit_once('/')
            .map(|(dir, _)| dir.rsplit('/').next().unwrap_or(dir))
            .unwrap_or("addons");
        match crate::product::add_addon(first, &text, module, &name) {
            Some(t) => {
                text = t;
                warnings.push(format!(
                    "{first}: added addon `{name}` ({target}) to module `{module}`; review its description and deps"
                ));
            }
            None => warnings.push(format!(
                "addon `{name}` ({target}) is listed in no product description; add it to {first} under spec.modules[].addons[]"
            )),
        }
    }
    if text == original {
        return Ok(Vec::new());
    }
    Ok(vec![crate::worktree::text_change(workdir, first, &text)?])
}

/// The changes that regenerate `images_platform.list` from every chart of the work tree (`roots`,
/// [`crate::chart::discover::worktree_chart_roots`]; those of `new_charts` as they will be, others
/// as they are) and merge the charts' own `images_<kind>.list` files into `images/images_<kind>.list`.
pub fn image_list_changes(
    workdir: &Path,
    settings: &Settings,
    roots: &[String],
    new_charts: &BTreeMap<String, Files>,
    inputs: &ImageInputs,
    ctx: &crate::image::chart::RenderContext,
    warnings: &mut Vec<String>,
) -> Result<Vec<Change>> {
    let mut all: BTreeMap<String, std::borrow::Cow<'_, Files>> = BTreeMap::new();
    for r in roots {
        let replaced = new_charts
            .keys()
            .any(|t| r == t || r.starts_with(&format!("{t}/")));
        if !replaced {
            let files = crate::git::read_worktree(&workdir.join(r))?;
            all.insert(r.clone(), std::borrow::Cow::Owned(files));
        }
    }
    for (t, f) in new_charts {
        all.insert(t.clone(), std::borrow::Cow::Borrowed(f));
    }
    let lists = lists_of(
        all.iter().map(|(r, f)| (r.as_str(), f.as_ref())),
        inputs,
        ctx,
    )
    .map_err(|(root, e)| UserError::input(format!("{root}/{e}")))?;
    warnings.extend(
        lists
            .warnings
            .into_iter()
            .map(|(root, m)| format!("{root}: {m}")),
    );
    let mut changes = Vec::new();
    for (kind, set) in lists.kinds {
        let rel = crate::derived::list_path(settings, &kind);
        let text = crate::image::list::text(&set);
        let old = std::fs::read(workdir.join(&rel)).ok();
        if old.as_deref() != Some(text.as_bytes()) {
            changes.push(crate::worktree::text_change(workdir, &rel, &text)?);
        }
    }
    Ok(changes)
}
