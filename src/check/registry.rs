//! `image-missing`: every image of REV's lists exists in the registry it lives in (seed 002
//! checks this on each merge request). Runs when `release.registry` is set, not with `--offline`.

use anyhow::Result;
use rayon::prelude::*;

use super::Finding;
use crate::image::chart::ImageLists;
use crate::registry::{self, client::Presence};
use crate::settings::Settings;

/// Look every image of `lists` up in its registry (a manifest HEAD each, in parallel) and add a
/// finding per missing image, naming the charts that need it. Images naming another install-time
/// placeholder than `[[ registry_release ]]` are skipped.
///
/// Errors (exit 1): a registry unreachable or refusing the credentials, naming registry, image
/// and credential source; the first such error stops the rule. Bad origin file (exit 2).
pub fn check(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
    lists: &ImageLists,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let (config, located) = registry::locate_at(repo, settings, tree, lists.sources.keys())?;
    let client = config.client_for(&located)?;
    let answers: Vec<Result<Option<&registry::Located>>> = located
        .par_iter()
        .filter(|l| l.reference.is_some())
        .map(|l| {
            let r = l.reference.as_deref().unwrap_or_default();
            Ok(match client.exists(r)? {
                Presence::Present(_) => None,
                Presence::Missing => Some(l),
            })
        })
        .collect();
    for a in answers {
        let Some(l) = a? else { continue };
        let reference = l.reference.as_deref().unwrap_or_default();
        let needed: Vec<String> = lists.sources[&l.image]
            .iter()
            .map(|s| {
                let mut at = s.chart.clone();
                if let Some(f) = &s.file {
                    at = format!("{at}/{f}");
                }
                if let Some(n) = s.line {
                    at = format!("{at}:{n}");
                }
                at
            })
            .collect();
        let what = match &l.source {
            Some(src) => format!("; `git release images sync` copies it from {src}"),
            None if l.kind == "internal" => "; push it (a product image CI builds)".to_string(),
            None => String::new(),
        };
        let host = crate::image::reference::split(reference).0;
        findings.push(
            Finding::new(
                "image-missing",
                format!(
                    "`{reference}` is not in registry {host}, needed by {}{what}",
                    needed.join(", ")
                ),
            )
            .at(&lists.sources[&l.image][0].chart, None),
        );
    }
    Ok(())
}
