//! The files derived from the charts: `version.yml`'s addon versions and the image lists
//! `images/images_<kind>.list` (seed 002: both are written by the release job, never by hand).
//! collect, bump and cherry-pick write them from here; `check` (version-yml-mismatch,
//! image-list-stale) compares the tree with what this module computes; `images` and `package`
//! read the lists from here.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::chart::discover::TopCharts;
use crate::components::ImageInputs;
use crate::error::UserError;
use crate::image::chart::{ImageLists, RenderContext};
use crate::image::scan::ImageError;
use crate::settings::Settings;

/// Work-tree-relative path of the image list of `kind`: `<imagesPath>/images_<kind>.list`.
pub fn list_path(settings: &Settings, kind: &str) -> String {
    crate::files::join(&settings.images_path, &format!("images_{kind}.list"))
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

/// `version.yml` text with every addon of `versions` (chart name -> version) set in place
/// ([`crate::version_yml::set_versions`]): the new text and the names it does not list.
///
/// Errors: a version.yml that cannot be read (exit 2, file and line).
pub fn version_yml(
    rel: &str,
    text: &str,
    versions: &BTreeMap<String, String>,
) -> Result<(String, Vec<String>)> {
    crate::version_yml::set_versions(rel, text, versions)
}
