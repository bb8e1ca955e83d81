//! `sbom.cdx.json`, the software bill of materials every package carries: CycloneDX 1.5 JSON
//! written with the CycloneDX project's own Rust library (`cyclonedx-bom`: its models and JSON
//! writer follow the specification's schema; it is maintained by the CycloneDX organisation).
//!
//! The product and version are the root component; each chart of the package is an
//! `application` component (name, version, its folder, and where it was collected from: the
//! component repository, tag and commit); each image a `container` component with its manifest
//! digest (a SHA-256 hash and a `pkg:oci` purl) when the package holds it; the dependencies run
//! product → charts → images. Reproducible: no clock is read (the timestamp is the packaged
//! commit's), and the serial number is derived from the content.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use anyhow::{Context, Result};
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};
use cyclonedx_bom::prelude::{Bom, DateTime, NormalizedString, Purl, SpecVersion, UrnUuid};

/// The file name of the SBOM inside a package.
pub const FILE: &str = "sbom.cdx.json";

/// A chart of the package, for the SBOM.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Chart.yaml `name`.
    pub name: String,
    /// Chart.yaml `version`.
    pub version: String,
    /// Folder in the platform repo (`addons/cyclone`).
    pub path: String,
    /// The component it was collected from: `(repositoryFullName, currentTag, tag's commit)`;
    /// the commit when the component's repository or cache can be read.
    pub collected_from: Option<(String, Option<String>, Option<String>)>,
}

/// An image of the package, for the SBOM.
#[derive(Debug, Clone)]
pub struct Image {
    /// The reference as the lists hold it (`[[ registry_release ]]/release/app:1.0`).
    pub image: String,
    /// Its full reference and manifest digest, when the package holds it (`--images`).
    pub packed: Option<(String, String)>,
    /// The chart folders that deploy it.
    pub charts: BTreeSet<String>,
}

fn prop(name: &str, value: &str) -> Property {
    Property {
        name: name.to_string(),
        value: NormalizedString::new(value),
    }
}

/// The SBOM of a package built from `commit` (product version `version`): `charts` are the
/// charts it holds, each with the component repository and tag it was collected from (the repos
/// files at the commit); the images are
/// those these charts name (rendered through the render cache, as the image lists are), for a
/// full package (`only` is `None`) with the resource files' and repos entries' too, for a
/// hotfix or an upgrade only those of `only` (the package's image list); each with the charts
/// that deploy it, and with its full reference and digest when `digests` (from `images.tar`)
/// has it.
///
/// Errors: a chart whose values cannot be read even statically; unreadable repos files.
pub fn for_package(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    (commit, version): (gix::ObjectId, &str),
    charts: &[&crate::packaging::ChartSource],
    only: Option<&BTreeSet<String>>,
    digests: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let components = crate::components::components_at(repo, tree, settings)?;
    let mut owner: BTreeMap<String, &crate::components::Component> = BTreeMap::new();
    for c in &components {
        for p in &c.chart_paths {
            if let Ok(t) = crate::settings::normalize_rel_path(p)
                .and_then(|src| c.chart_target(settings.targets(), &src))
            {
                owner.entry(t).or_insert(c);
            }
        }
    }
    let sbom_charts: Vec<Chart> = charts
        .iter()
        .map(|c| Chart {
            name: c.name.clone(),
            version: c.version.clone(),
            path: c.path.clone(),
            // The tag's commit is not recorded in the platform repository (only the tag is), and
            // a package is made from its objects alone: it would depend on the component
            // caches at hand, so it is left out.
            collected_from: owner.get(&c.path).map(|comp| {
                (
                    comp.repository_full_name.clone(),
                    comp.current_tag.clone(),
                    None,
                )
            }),
        })
        .collect();
    let inputs = match only {
        None => crate::components::image_inputs_at(repo, tree, settings)?,
        Some(_) => Default::default(),
    };
    let ctx = crate::image::chart::RenderContext::at(repo, tree, settings)?;
    let lists = crate::derived::lists_of(
        charts.iter().map(|c| (c.path.as_str(), &c.files)),
        &inputs,
        &ctx,
    )
    .map_err(|(root, e)| anyhow::anyhow!("{root}/{e}"))?;
    let located: BTreeMap<String, Option<String>> = {
        let all: BTreeSet<String> = lists.sources.keys().cloned().collect();
        crate::registry::locate_at(repo, settings, tree, &all)?
            .1
            .into_iter()
            .map(|l| (l.image, l.reference))
            .collect()
    };
    let images: Vec<Image> = lists
        .sources
        .iter()
        .filter(|(i, _)| only.is_none_or(|o| o.contains(*i)))
        .filter(|(i, _)| lists.kinds.values().any(|k| k.contains(*i)))
        .map(|(i, sources)| Image {
            image: i.clone(),
            packed: located
                .get(i)
                .cloned()
                .flatten()
                .and_then(|full| digests.get(&full).map(|d| (full, d.clone()))),
            charts: sources.iter().map(|s| s.chart.clone()).collect(),
        })
        .collect();
    let time = crate::packaging::commit_time(repo, commit)?;
    write(
        &settings.product,
        version,
        &commit.to_string(),
        time,
        &sbom_charts,
        &images,
    )
}

/// A `pkg:oci` purl of `full` (`host/path/name:tag`) at manifest `digest`, as the purl
/// specification writes it: the last path segment is the name, the rest the repository URL.
fn oci_purl(full: &str, digest: &str) -> Option<Purl> {
    let (name_part, suffix) = crate::image::reference::name_and_suffix(full);
    let name = name_part.rsplit('/').next()?.to_ascii_lowercase();
    let tag = suffix.strip_prefix(':');
    let enc = |s: &str| {
        s.replace('%', "%25")
            .replace(':', "%3A")
            .replace('/', "%2F")
    };
    let mut p = format!(
        "pkg:oci/{name}@{}?repository_url={}",
        enc(digest),
        enc(name_part)
    );
    if let Some(t) = tag {
        p.push_str(&format!("&tag={}", enc(t)));
    }
    Purl::from_str(&p).ok()
}

/// The SBOM of a package of `product` at `version` (commit `commit`, committed at `time`,
/// seconds since the epoch): pretty JSON, CycloneDX 1.5.
///
/// Errors: the library refusing a value (none in practice: names are plain, the timestamp is
/// built here).
pub fn write(
    product: &str,
    version: &str,
    commit: &str,
    time: u64,
    charts: &[Chart],
    images: &[Image],
) -> Result<Vec<u8>> {
    let root_ref = format!("product:{product}@{version}");
    let mut root = Component::new(
        Classification::Application,
        product,
        version,
        Some(root_ref.clone()),
    );
    root.properties = Some(Properties(vec![prop("git-release:commit", commit)]));
    let mut components = Vec::new();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let chart_ref = |c: &Chart| format!("chart:{}@{}", c.path, c.version);
    for c in charts {
        let r = chart_ref(c);
        let mut comp = Component::new(
            Classification::Application,
            &c.name,
            &c.version,
            Some(r.clone()),
        );
        let mut props = vec![
            prop("git-release:kind", "helm-chart"),
            prop("git-release:path", &c.path),
        ];
        if let Some((repo, tag, tagged_commit)) = &c.collected_from {
            props.push(prop("git-release:component", repo));
            if let Some(t) = tag {
                props.push(prop("git-release:component-tag", t));
            }
            if let Some(id) = tagged_commit {
                props.push(prop("git-release:component-commit", id));
            }
        }
        comp.properties = Some(Properties(props));
        components.push(comp);
        deps.entry(root_ref.clone()).or_default().insert(r.clone());
        deps.entry(r).or_default();
    }
    let by_path: BTreeMap<&str, &Chart> = charts.iter().map(|c| (c.path.as_str(), c)).collect();
    for i in images {
        let r = format!("image:{}", i.image);
        let (name, tag) = {
            let (n, s) = crate::image::reference::name_and_suffix(&i.image);
            (n.to_string(), s.trim_start_matches([':', '@']).to_string())
        };
        let mut comp = Component::new(Classification::Container, &name, &tag, Some(r.clone()));
        let mut props = vec![prop("git-release:image", &i.image)];
        if let Some((full, digest)) = &i.packed {
            props.push(prop("git-release:reference", full));
            if let Some(hex) = digest.strip_prefix("sha256:") {
                comp.hashes = Some(Hashes(vec![Hash {
                    alg: HashAlgorithm::SHA_256,
                    content: HashValue(hex.to_string()),
                }]));
            }
            comp.purl = oci_purl(full, digest);
        }
        comp.properties = Some(Properties(props));
        components.push(comp);
        deps.entry(r.clone()).or_default();
        for c in &i.charts {
            if let Some(chart) = by_path.get(c.as_str()) {
                deps.entry(chart_ref(chart)).or_default().insert(r.clone());
            }
        }
    }
    let timestamp = DateTime::try_from(rfc3339(time)).context("the SBOM's timestamp")?;
    let bom = Bom {
        version: 1,
        serial_number: Some(
            UrnUuid::new(serial(product, version, commit, charts, images))
                .map_err(|e| anyhow::anyhow!("the SBOM's serial number: {e:?}"))?,
        ),
        metadata: Some(Metadata {
            timestamp: Some(timestamp),
            tools: Some(Tools::List(vec![Tool {
                vendor: None,
                name: Some(NormalizedString::new("git-release")),
                version: Some(NormalizedString::new(env!("CARGO_PKG_VERSION"))),
                hashes: None,
                external_references: None,
            }])),
            authors: None,
            component: Some(root),
            manufacture: None,
            supplier: None,
            licenses: None,
            properties: None,
            lifecycles: None,
        }),
        components: Some(Components(components)),
        dependencies: Some(Dependencies(
            deps.into_iter()
                .map(|(r, d)| Dependency {
                    dependency_ref: r,
                    dependencies: d.into_iter().collect(),
                })
                .collect(),
        )),
        spec_version: SpecVersion::V1_5,
        ..Bom::default()
    };
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(|e| anyhow::anyhow!("writing the SBOM: {e}"))?;
    out.push(b'\n');
    Ok(out)
}

/// `urn:uuid:…` derived from the SBOM's content (RFC 4122 layout, version 5 and variant bits
/// set), so that the same package gets the same serial number.
fn serial(
    product: &str,
    version: &str,
    commit: &str,
    charts: &[Chart],
    images: &[Image],
) -> String {
    let mut text = format!("{product}\n{version}\n{commit}\n");
    for c in charts {
        text.push_str(&format!("{} {} {}\n", c.path, c.name, c.version));
    }
    for i in images {
        text.push_str(&format!("{} {:?}\n", i.image, i.packed));
    }
    let h = crate::hash::sha256_hex(text.as_bytes());
    let b = h.as_bytes();
    let s = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).unwrap_or("0");
    let variant = ["8", "9", "a", "b"][usize::from(b[16] % 4)];
    format!(
        "urn:uuid:{}-{}-5{}-{}{}-{}",
        s(0..8),
        s(8..12),
        s(13..16),
        variant,
        s(17..20),
        s(20..32)
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
fn rfc3339(secs: u64) -> String {
    let date = crate::packaging::utc_date(secs);
    let rem = secs % 86_400;
    format!(
        "{}-{}-{}T{:02}:{:02}:{:02}Z",
        &date[..4],
        &date[4..6],
        &date[6..8],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_input_gives_the_same_bytes_and_a_valid_uuid() {
        let charts = [Chart {
            name: "web".into(),
            version: "1.0.0".into(),
            path: "addons/web".into(),
            collected_from: Some(("demo/web".into(), Some("v1.0.0".into()), None)),
        }];
        let images = [Image {
            image: "[[ registry_release ]]/release/web:1.0".into(),
            packed: Some((
                "reg.local:5000/rel/release/web:1.0".into(),
                format!("sha256:{}", "ab".repeat(32)),
            )),
            charts: BTreeSet::from(["addons/web".to_string()]),
        }];
        let a = write("demo", "v1.0.0", "c0ffee", 1_767_225_600, &charts, &images).unwrap();
        let b = write("demo", "v1.0.0", "c0ffee", 1_767_225_600, &charts, &images).unwrap();
        assert_eq!(a, b);
        let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(v["specVersion"], "1.5");
        assert_eq!(v["metadata"]["timestamp"], "2026-01-01T00:00:00Z");
        let serial = v["serialNumber"].as_str().unwrap();
        assert!(
            regex::Regex::new(
                "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
            )
            .unwrap()
            .is_match(serial),
            "{serial}"
        );
        let image = &v["components"][1];
        assert_eq!(image["type"], "container");
        assert_eq!(
            image["purl"],
            format!("pkg:oci/web@sha256%3A{}?repository_url=reg.local%3A5000%2Frel%2Frelease%2Fweb&tag=1.0", "ab".repeat(32))
        );
        let deps = v["dependencies"].as_array().unwrap();
        assert!(deps.iter().any(|d| d["ref"] == "chart:addons/web@1.0.0"
            && d["dependsOn"][0] == "image:[[ registry_release ]]/release/web:1.0"));
    }
}
