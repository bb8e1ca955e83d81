//! The plugin rules (seed 001, "插件包": the rules people check by reading pull requests today):
//! `plugin-image-format`, `plugin-port-conflict`, `plugin-slot-conflict`,
//! `plugin-version-not-bumped` and `plugin-version-lowered`.

use std::collections::BTreeMap;

use anyhow::Result;

use super::Finding;
use crate::plugins::Plugin;
use crate::settings::Settings;

/// The default of `release.pluginImage`: the seed's image name of a plugin.
pub const DEFAULT_IMAGE: &str = "{registry}/release/{product}-plugins-{name}:{version}";

/// Run the plugin rules on the plugins of `commit`, comparing with the release before it (the
/// newest release tag reachable from its first parent; without one, the parent itself).
///
/// Errors: a plugin file that cannot be read (exit 2, naming file and line); unreadable objects.
pub fn check(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let plugins = crate::plugins::at(repo, tree, settings)?;
    if plugins.is_empty() {
        return Ok(());
    }
    let get = crate::settings::raw(repo);
    image_format(
        &plugins,
        settings,
        &get("pluginImage").unwrap_or_else(|| DEFAULT_IMAGE.into()),
        crate::registry::RegistryConfig::load(repo)?
            .registry
            .as_deref(),
        findings,
    );
    port_conflicts(&plugins, findings);
    image_tags(&plugins, findings);
    let shared: Vec<String> = get("sharedSlots")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    slot_conflicts(&plugins, &shared, findings);
    if let Some((name, before)) = previous(repo, commit)? {
        let tree = repo.find_commit(before)?.tree_id()?.detach();
        // A plugin file the release before cannot read is no reason to stop checking this one.
        let old = crate::plugins::at(repo, tree, settings).unwrap_or_default();
        versions(&plugins, &old, &name, findings);
    }
    Ok(())
}

/// `lists` with each plugin's `spec.service.image` added as a source (`from: plugin`, the
/// plugin file and line) but to no list kind: what `image-missing` and `image-digest-moved`
/// look up. Plugin files that cannot be read add nothing (the plugin rules report them).
pub fn with_plugin_images(
    lists: &crate::image::chart::ImageLists,
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &Settings,
) -> crate::image::chart::ImageLists {
    let mut out = crate::image::chart::ImageLists {
        kinds: lists.kinds.clone(),
        warnings: Vec::new(),
        sources: lists.sources.clone(),
        tests: BTreeMap::new(),
        fallbacks: Vec::new(),
        projects: lists.projects.clone(),
    };
    for p in crate::plugins::at(repo, tree, settings).unwrap_or_default() {
        if let Some(image) = &p.image {
            out.sources
                .entry(image.clone())
                .or_default()
                .push(crate::image::chart::ImageSource {
                    chart: p.file.clone(),
                    file: None,
                    line: Some(p.image_line),
                    from: "plugin",
                    object: None,
                    kind: "plugin".into(),
                });
        }
    }
    out
}

/// `image-tag-mutable` for plugin images: a plugin's image without a tag or on a moving tag.
fn image_tags(plugins: &[Plugin], findings: &mut Vec<Finding>) {
    use super::image_tags::{pin, Pin, MUTABLE_TAGS};
    for p in plugins {
        let Some(image) = &p.image else { continue };
        let why = match pin(image) {
            Pin::None => Some("has no tag (so `latest`)".to_string()),
            Pin::Tag(t) if MUTABLE_TAGS.contains(&t) => Some(format!("is on the moving tag `{t}`")),
            _ => None,
        };
        if let Some(why) = why {
            findings.push(
                Finding::new(
                    "image-tag-mutable",
                    format!(
                        "plugin {}: `{image}` {why}; pin it to the plugin's version",
                        p.name
                    ),
                )
                .at(&p.file, Some(p.image_line)),
            );
        }
    }
}

/// `plugin-requirement-unmet`, for `tag`: each plugin of `commit` whose requirement (a
/// Masterminds constraint such as `>=v2.7.1`, read from `spec.<release.pluginRequirementKey>`,
/// default `compassRequirement`) the product `version` being tagged does not meet.
///
/// Errors: a plugin file that cannot be read (exit 2); unreadable objects.
pub fn requirements(
    repo: &gix::Repository,
    settings: &Settings,
    commit: gix::ObjectId,
    version: &semver::Version,
) -> Result<Vec<Finding>> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let key = crate::settings::raw(repo)("pluginRequirementKey")
        .unwrap_or_else(|| "compassRequirement".into());
    let mut out = Vec::new();
    for p in crate::plugins::at(repo, tree, settings)? {
        let Some(req) = crate::plugins::requirement(&p, &key) else {
            continue;
        };
        let ok = crate::render::semver::matches(&req, &version.to_string()).unwrap_or(false);
        if !ok {
            out.push(
                Finding::new(
                    "plugin-requirement-unmet",
                    format!(
                        "plugin {} requires {key} `{req}`, which v{version} is not",
                        p.name
                    ),
                )
                .at(&p.file, None),
            );
        }
    }
    Ok(out)
}

/// `plugin-version-reused` (`check --history`): across every release tag, one plugin name and
/// version with two file contents, naming the tags of each.
///
/// Errors: unreadable objects. A plugin file that cannot be read at some tag is skipped there.
pub fn reused(
    repo: &gix::Repository,
    settings: &Settings,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    // (name, version) -> content hash -> (tags, file)
    type Seen = BTreeMap<(String, String), BTreeMap<String, (Vec<String>, String)>>;
    let mut seen: Seen = BTreeMap::new();
    for (commit, tags) in crate::git::release_tags_by_commit(repo)? {
        let tree = repo.find_commit(commit)?.tree_id()?.detach();
        let Ok(plugins) = crate::plugins::at(repo, tree, settings) else {
            continue;
        };
        for p in plugins {
            let e = seen
                .entry((p.name.clone(), p.version.clone()))
                .or_default()
                .entry(crate::hash::sha256_hex(&p.bytes))
                .or_insert_with(|| (Vec::new(), p.file.clone()));
            e.0.extend(tags.iter().map(|(t, _)| t.clone()));
        }
    }
    for ((name, version), contents) in seen {
        if contents.len() < 2 {
            continue;
        }
        let mut groups: Vec<(Vec<String>, String)> = contents.into_values().collect();
        for g in &mut groups {
            g.0.sort();
        }
        groups.sort();
        let said: Vec<String> = groups.iter().map(|(t, _)| t.join(", ")).collect();
        findings.push(
            Finding::new(
                "plugin-version-reused",
                format!(
                    "plugin {name} {version} has {} contents: in {}; a released version is never rebuilt: give the later one a version of its own",
                    groups.len(),
                    said.join(" and in ")
                ),
            )
            .at(&groups[0].1, None)
            .revisions(groups.iter().flat_map(|(t, _)| t.clone()).collect()),
        );
    }
    Ok(())
}

/// The release `commit` is compared with: `(its name, its commit)`.
fn previous(
    repo: &gix::Repository,
    commit: gix::ObjectId,
) -> Result<Option<(String, gix::ObjectId)>> {
    let Some(parent) = repo
        .find_commit(commit)?
        .parent_ids()
        .next()
        .map(|p| p.detach())
    else {
        return Ok(None);
    };
    let tags = crate::git::release_tags_by_commit(repo)?;
    if let Some((name, _)) = crate::git::nearest_release(repo, parent, &tags)? {
        let at = tags
            .iter()
            .find(|(_, v)| v.iter().any(|(n, _)| n == name))
            .map(|(c, _)| *c);
        if let Some(c) = at {
            return Ok(Some((name.clone(), c)));
        }
    }
    Ok(Some(("its parent".into(), parent)))
}

/// `plugin-image-format`: `spec.service.image` is `template` filled in; the registry part may be
/// `[[ registry_release ]]` or `release.registry` itself.
fn image_format(
    plugins: &[Plugin],
    settings: &Settings,
    template: &str,
    registry: Option<&str>,
    findings: &mut Vec<Finding>,
) {
    for p in plugins {
        let fill = |reg: &str| {
            template
                .replace("{registry}", reg)
                .replace("{product}", &settings.product)
                .replace("{name}", &p.name)
                .replace("{version}", &p.version)
        };
        let mut allowed = vec![fill("[[ registry_release ]]")];
        if let Some(r) = registry {
            allowed.push(fill(r));
        }
        let normal = |s: &str| s.replace("[[registry_release]]", "[[ registry_release ]]");
        let ok = p
            .image
            .as_deref()
            .is_some_and(|i| allowed.iter().any(|a| normal(i) == *a));
        if !ok {
            let what = match &p.image {
                Some(i) => format!("spec.service.image `{i}`"),
                None => "no spec.service.image".to_string(),
            };
            findings.push(
                Finding::new(
                    "plugin-image-format",
                    format!(
                        "plugin {}: {what}, expected `{}` (release.pluginImage `{template}`)",
                        p.name, allowed[0]
                    ),
                )
                .at(&p.file, Some(p.image_line.max(p.version_line))),
            );
        }
    }
}

/// `plugin-port-conflict`: two plugins with one `spec.service.port`.
fn port_conflicts(plugins: &[Plugin], findings: &mut Vec<Finding>) {
    let mut by_port: BTreeMap<u64, Vec<&Plugin>> = BTreeMap::new();
    for p in plugins {
        if let Some(port) = p.port {
            by_port.entry(port).or_default().push(p);
        }
    }
    for (port, ps) in by_port.into_iter().filter(|(_, v)| v.len() > 1) {
        let at: Vec<String> = ps
            .iter()
            .map(|p| format!("{} ({}:{})", p.name, p.file, p.port_line))
            .collect();
        findings.push(
            Finding::new(
                "plugin-port-conflict",
                format!("port {port} is claimed by {}", at.join(" and ")),
            )
            .at(&ps[1].file, Some(ps[1].port_line)),
        );
    }
}

/// `plugin-slot-conflict`: a slot claimed by modules of two plugins, unless `shared` lists it.
fn slot_conflicts(plugins: &[Plugin], shared: &[String], findings: &mut Vec<Finding>) {
    let mut by_slot: BTreeMap<&str, Vec<(&Plugin, &crate::plugins::Slot)>> = BTreeMap::new();
    for p in plugins {
        for s in &p.slots {
            by_slot.entry(&s.slot).or_default().push((p, s));
        }
    }
    for (slot, claims) in by_slot {
        if shared.iter().any(|s| s == slot) {
            continue;
        }
        let mut names: Vec<&str> = claims.iter().map(|(p, _)| p.name.as_str()).collect();
        names.dedup();
        if names.len() < 2 {
            continue;
        }
        let at: Vec<String> = claims
            .iter()
            .map(|(p, s)| format!("{}/{} ({}:{})", p.name, s.module, p.file, s.line))
            .collect();
        let (p, s) = claims[claims.len() - 1];
        findings.push(
            Finding::new(
                "plugin-slot-conflict",
                format!(
                    "slot {slot} is claimed by modules of {} plugins: {}; list it in release.sharedSlots if it is shared by design",
                    names.len(),
                    at.join(", ")
                ),
            )
            .at(&p.file, Some(s.line)),
        );
    }
}

/// `plugin-version-not-bumped` and `plugin-version-lowered`, against `old` (the plugins of
/// release `name`).
fn versions(plugins: &[Plugin], old: &[Plugin], name: &str, findings: &mut Vec<Finding>) {
    for p in plugins {
        let Some(o) = old.iter().find(|o| o.name == p.name) else {
            continue;
        };
        let (Some(now), Some(then)) = (p.semver(), o.semver()) else {
            continue;
        };
        if now < then {
            findings.push(
                Finding::new(
                    "plugin-version-lowered",
                    format!(
                        "plugin {} went down from {} in {name} to {}",
                        p.name, o.version, p.version
                    ),
                )
                .at(&p.file, Some(p.version_line)),
            );
        } else if now == then && p.bytes != o.bytes {
            findings.push(
                Finding::new(
                    "plugin-version-not-bumped",
                    format!(
                        "plugin {} changed since {name} but kept spec.version {}; raise it, and the image tag with it",
                        p.name, p.version
                    ),
                )
                .at(&p.file, Some(p.version_line)),
            );
        }
    }
}
