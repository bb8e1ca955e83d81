//! Files generated from the charts (`version-yml-mismatch`, `image-list-stale`): version.yml and
//! `images/*.list` at REV say what the charts at REV say (seed 002: both are written by the
//! release job, never by hand).

use std::collections::BTreeMap;

use anyhow::Result;

use super::{ChartAt, Finding};
use crate::image::chart::ImageLists;
use crate::settings::Settings;

/// Run both rules for `commit`, whose charts are `charts`; image-list-stale only when `lists`
/// (the image lists computed from the charts at `commit`, or the chart that stopped them) is given.
///
/// Errors: a version.yml that cannot be read (exit 2, file and line); unreadable objects.
pub fn check(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
    charts: &[ChartAt],
    lists: Option<&std::result::Result<ImageLists, (String, crate::image::scan::ImageError)>>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let rel = &settings.version_file;
    if let Some(data) = crate::git::blob_at(repo, tree, rel)? {
        let text = String::from_utf8_lossy(crate::placeholders::strip_bom(&data)).into_owned();
        let by_name: BTreeMap<&str, &ChartAt> =
            charts.iter().map(|c| (c.name.as_str(), c)).collect();
        let listed = crate::version_yml::read(rel, &data)?;
        // A chart version.yml does not list: packaged, but the hotfix manifest and the installer
        // know neither its namespace nor its module.
        for c in charts {
            if !listed.iter().any(|a| a.name == c.name) {
                findings.push(
                    Finding::new(
                        "version-yml-mismatch",
                        format!(
                            "chart {} ({}, version {}) is not listed in {rel}, so no module or namespace installs it; run `git release collect` (it adds collected charts) or add it under spec.modules[].addons[]",
                            c.name,
                            c.path,
                            c.version.as_deref().unwrap_or("none")
                        ),
                    )
                    .chart(&c.name, c.version.as_deref())
                    .at(&crate::chart::meta::file_of(&c.path), None),
                );
            }
        }
        for a in listed {
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
        let rel = crate::derived::list_path(settings, kind);
        let have = crate::derived::list_at(repo, tree, settings, kind)?;
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
