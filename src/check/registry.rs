//! `image-missing`: every image of REV's lists exists in the registry it lives in (seed 002
//! checks this on each merge request). Runs when `release.registry` is set, not with `--offline`.

use anyhow::Result;
use rayon::prelude::*;

use super::Finding;
use crate::image::chart::ImageLists;
use crate::registry::{self, client::Presence};
use crate::settings::Settings;

/// `image-not-locked`: when `<imagesPath>/images.lock` exists at `commit`, every image of
/// `lists` must be in it (a new image that nobody locked would be pulled by its tag).
///
/// Errors: a lock that cannot be read (exit 2).
pub fn unlocked(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
    lists: &ImageLists,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let Some(lock) = crate::image::lock::ImagesLock::at(repo, tree, settings)? else {
        return Ok(());
    };
    let rel = crate::files::join(&settings.images_path, crate::image::lock::FILE);
    for image in lists
        .kinds
        .values()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
    {
        if !lock.images.contains_key(image) {
            let at = lists
                .sources
                .get(image)
                .and_then(|s| s.first())
                .map(|s| s.chart.clone())
                .unwrap_or_default();
            findings.push(
                Finding::new(
                    "image-not-locked",
                    format!(
                        "`{image}` is not in {rel}; run `git release images --lock` and commit it"
                    ),
                )
                .at(&at, None),
            );
        }
    }
    Ok(())
}

/// One image's lookup.
enum Answer<'a> {
    /// In its registry, its tag naming this digest.
    Present(String, &'a registry::Located),
    Missing(&'a registry::Located),
    /// Its registry could not be reached: host, the error, the image.
    Unreachable(String, String, &'a registry::Located),
}

/// Look every image of `lists` up in its registry (a manifest HEAD each, in parallel) and add a
/// finding per missing image, naming the charts that need it. Images naming another install-time
/// placeholder than `[[ registry_release ]]` are skipped.
///
/// A registry that cannot be reached is a `registry-unreachable` finding naming it, the images
/// not looked up and the cause: an error for the internal registry (`release.registry`), a
/// warning for others; the other images are still looked up and every other rule still runs.
///
/// Errors (exit 1): a registry refusing the credentials, naming registry, image and credential
/// source. Bad origin file (exit 2).
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
    // Each image: present, missing, or its registry unreachable (by host, with the cause).
    let answers: Vec<Result<Answer>> = located
        .par_iter()
        .filter(|l| l.reference.is_some())
        .map(|l| {
            let r = l.reference.as_deref().unwrap_or_default();
            match client.exists(r) {
                Ok(Presence::Present(d)) => Ok(Answer::Present(d, l)),
                Ok(Presence::Missing) => Ok(Answer::Missing(l)),
                Err(e) => match registry::client::unreachable_host(&e) {
                    Some(host) => Ok(Answer::Unreachable(host, format!("{e}"), l)),
                    None => Err(e),
                },
            }
        })
        .collect();
    // The internal registry's host (`registry.local:5000` of `registry.local:5000/release`).
    let internal_host = config
        .registry
        .as_deref()
        .and_then(|r| r.split('/').next())
        .map(str::to_string);
    let mut unreachable: std::collections::BTreeMap<String, (String, Vec<String>)> =
        Default::default();
    let mut missing = Vec::new();
    let lock = crate::image::lock::ImagesLock::at(repo, tree, settings)?.unwrap_or_default();
    for a in answers {
        match a? {
            Answer::Present(now, l) => {
                if let Some(locked) = lock.images.get(&l.image) {
                    if locked.digest != now {
                        let reference = l.reference.as_deref().unwrap_or_default();
                        findings.push(
                            Finding::new(
                                "image-digest-moved",
                                format!(
                                    "`{reference}` names {now} now, not the {} {} locked: the tag moved in its registry",
                                    locked.digest,
                                    crate::files::join(&settings.images_path, crate::image::lock::FILE)
                                ),
                            )
                            .at(&lists.sources[&l.image][0].chart, None),
                        );
                    }
                }
            }
            Answer::Missing(l) => missing.push(l),
            Answer::Unreachable(host, cause, l) => {
                let e = unreachable.entry(host).or_insert((cause, Vec::new()));
                e.1.push(l.reference.clone().unwrap_or_default());
            }
        }
    }
    for (host, (cause, images)) in unreachable {
        let internal = internal_host.as_deref() == Some(host.as_str());
        let setting = if internal {
            "release.registry names it"
        } else {
            "images/images_origin.yaml or the charts name it"
        };
        let shown: Vec<&str> = images.iter().take(5).map(String::as_str).collect();
        let more = match images.len() {
            n if n > 5 => format!(" and {} more", n - 5),
            _ => String::new(),
        };
        let mut f = Finding::new(
            "registry-unreachable",
            format!(
                "registry {host} could not be reached, so {} image(s) were not looked up: {}{more} ({}); {setting}; check the address and the network, release.registryTimeout, or run `check --offline` to skip registries",
                images.len(),
                shown.join(", "),
                cause
                    .split_once(" is unreachable (")
                    .and_then(|(_, c)| c.rsplit_once(") while looking up"))
                    .map_or(cause.as_str(), |(c, _)| c)
            ),
        );
        // A warning for registries other than the internal one.
        if !internal {
            f = f.at_most(super::Severity::Warning);
        }
        findings.push(f);
    }
    for l in missing {
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
