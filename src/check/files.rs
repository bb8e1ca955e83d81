//! Files generated from the charts (`version-yml-mismatch`, `image-list-stale`): version.yml and
//! `images/*.list` at REV say what the charts at REV say (seed 002: both are written by the
//! release job, never by hand).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use super::{ChartAt, Finding};
use crate::charts::ImageLists;
use crate::settings::Settings;

/// The image lists collect would write from the charts and resource files at `before` and at
/// `after` ([`crate::charts::image_lists`], read from the object database). Charts that are the
/// same folder at both (same path, same tree id) are read and scanned once: the lists are unions,
/// so `lists(same ∪ changed) = lists(same) ∪ lists(changed)`.
///
/// Errors: a chart whose values cannot be read (exit 2, naming it); unreadable objects.
pub fn image_lists_before_after(
    repo: &gix::Repository,
    settings: &Settings,
    before: gix::ObjectId,
    after: gix::ObjectId,
) -> Result<(crate::charts::ImageLists, crate::charts::ImageLists)> {
    // Namespaces come from the version.yml after the change (the same on both sides for shared charts).
    let ctx = crate::charts::RenderContext::at(repo, after, settings)?;
    let mut tops = crate::charts::TopCharts::default();
    let old = tops.at(repo, before, &settings.addons_path)?;
    let new = tops.at(repo, after, &settings.addons_path)?;
    let lists = |charts: &[&crate::charts::TopChart], tree: Option<gix::ObjectId>| {
        let files = charts
            .iter()
            .map(|c| Ok((c.path.clone(), crate::git::read_tree_files(repo, c.tree)?)))
            .collect::<Result<Vec<_>>>()?;
        let inputs = match tree {
            Some(t) => crate::components::image_inputs_at(repo, t, settings)?,
            None => Default::default(),
        };
        crate::charts::image_lists(
            files.iter().map(|(p, f)| (p.as_str(), f)),
            inputs
                .resources
                .iter()
                .map(|(p, d)| (p.as_str(), d.as_slice())),
            &inputs.extra,
            &ctx,
        )
        .map_err(|(root, e)| -> anyhow::Error {
            crate::error::UserError::input(format!("{root}/{e}")).into()
        })
    };
    let key = |c: &crate::charts::TopChart| (c.path.clone(), c.tree);
    let old_keys: std::collections::HashSet<_> = old.iter().map(key).collect();
    let new_keys: std::collections::HashSet<_> = new.iter().map(key).collect();
    let same: Vec<&crate::charts::TopChart> =
        new.iter().filter(|c| old_keys.contains(&key(c))).collect();
    let only_old: Vec<&crate::charts::TopChart> =
        old.iter().filter(|c| !new_keys.contains(&key(c))).collect();
    let only_new: Vec<&crate::charts::TopChart> =
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

/// Run both rules for `commit`, whose charts are `charts`; image-list-stale only when `lists`
/// (the image lists computed from the charts at `commit`, or the chart that stopped them) is given.
///
/// Errors: a version.yml that cannot be read (exit 2, file and line); unreadable objects.
pub fn check(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
    charts: &[ChartAt],
    lists: Option<&std::result::Result<ImageLists, (String, crate::images::ImageError)>>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let rel = &settings.version_file;
    if let Some(data) = crate::git::blob_at(repo, tree, rel)? {
        let text = String::from_utf8_lossy(crate::placeholders::strip_bom(&data)).into_owned();
        let by_name: BTreeMap<&str, &ChartAt> =
            charts.iter().map(|c| (c.name.as_str(), c)).collect();
        for a in crate::version_yml::read(rel, &data)? {
            let line = |key: &str| {
                crate::yaml_edit::find_scalar(&text, &a.field_path(key))
                    .ok()
                    .map(|s| s.line)
            };
            match by_name.get(a.name.as_str()) {
                Some(c) if c.version == a.version => {}
                Some(c) => findings.push(
                    Finding::new(
                        "version-yml-mismatch",
                        format!(
                            "addon {} is at {} in {rel}, but {}/Chart.yaml says {}; run `git release collect` or set it to {}",
                            a.name,
                            a.version.as_deref().unwrap_or("no version"),
                            c.path,
                            c.version.as_deref().unwrap_or("nothing"),
                            c.version.as_deref().unwrap_or("the chart's version")
                        ),
                    )
                    .chart(&a.name, c.version.as_deref())
                    .at(rel, line("version").or_else(|| line("name"))),
                ),
                None => findings.push(
                    Finding::new(
                        "version-yml-mismatch",
                        format!(
                            "addon {} is listed in {rel} but no chart under {} has that name",
                            a.name,
                            if settings.addons_path.is_empty() { "." } else { &settings.addons_path }
                        ),
                    )
                    .chart(&a.name, a.version.as_deref())
                    .at(rel, line("name")),
                ),
            }
        }
    }

    // Only where the repository keeps image lists (a platform repository; a charts repository
    // such as Aether's has none, and nothing to keep in step).
    let Some(lists) = lists else {
        return Ok(());
    };
    if crate::git::lookup_path(repo, tree, &settings.images_path)?.is_none() {
        return Ok(());
    }
    let lists = match lists {
        Ok(l) => l,
        Err((root, e)) => {
            findings.push(
                Finding::new(
                    "image-list-stale",
                    format!("{root}/{e}: the image lists cannot be computed"),
                )
                .at(&format!("{root}/{}", e.file), Some(e.line)),
            );
            return Ok(());
        }
    };
    for (kind, want) in &lists.kinds {
        let rel = crate::files::join(&settings.images_path, &format!("images_{kind}.list"));
        let have: BTreeSet<String> = crate::git::blob_at(repo, tree, &rel)?
            .map(|d| crate::images::parse_image_list(&String::from_utf8_lossy(&d)))
            .unwrap_or_default()
            .into_iter()
            .collect();
        if kind == "platform" && want.is_empty() && have.is_empty() {
            continue;
        }
        let missing: Vec<&String> = want.difference(&have).collect();
        let extra: Vec<&String> = have.difference(want).collect();
        if missing.is_empty() && extra.is_empty() {
            continue;
        }
        let show = |v: &[&String]| {
            let mut s: Vec<&str> = v.iter().take(3).map(|x| x.as_str()).collect();
            if v.len() > 3 {
                s.push("…");
            }
            s.join(", ")
        };
        let mut msg = format!("{rel} is stale:");
        if !missing.is_empty() {
            msg.push_str(&format!(" {} missing ({})", missing.len(), show(&missing)));
        }
        if !extra.is_empty() {
            msg.push_str(&format!(
                " {} not deployed by any chart ({})",
                extra.len(),
                show(&extra)
            ));
        }
        msg.push_str("; run `git release collect` to rewrite it");
        findings.push(Finding::new("image-list-stale", msg).at(&rel, None));
    }
    Ok(())
}
