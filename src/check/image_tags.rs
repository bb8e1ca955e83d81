//! Image tags (`image-tag-mutable`, `image-tag-not-semver`): every image a chart deploys is
//! pinned to a release, as seed 004 (Aether) requires: SemVer tags, never `latest` or `master`.

use super::{ChartAt, Config, Finding};
use std::collections::{BTreeMap, BTreeSet};

/// Tags that name a moving target.
pub const MUTABLE_TAGS: &[&str] = &["latest", "master", "main", "stable", "nightly", "dev"];

/// What pins an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin<'a> {
    /// `@sha256:…`: immutable.
    Digest,
    /// `:tag`.
    Tag(&'a str),
    /// No tag: `latest` implicitly.
    None,
    /// The tag is a placeholder filled at install time (`[[ … ]]`): not checkable here.
    Placeholder,
}

/// How `reference` is pinned. The tag is what follows the last `:` of the last path segment, so
/// a registry port (`host:5000/app`) is not a tag.
pub fn pin(reference: &str) -> Pin<'_> {
    if reference.contains('@') {
        return Pin::Digest;
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.rsplit_once(':') {
        Some((_, t)) if t.contains("[[") || t.contains("]]") => Pin::Placeholder,
        Some((_, t)) if !t.is_empty() => Pin::Tag(t),
        _ if last.contains("[[") => Pin::Placeholder,
        _ => Pin::None,
    }
}

/// Run the image-tag rules over the charts at REV; `by_chart` is
/// [`crate::image::chart::ImageLists::by_chart`] (chart folder -> kind -> images).
pub fn check(
    config: &Config,
    charts: &[ChartAt],
    by_chart: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    findings: &mut Vec<Finding>,
) {
    for c in charts {
        let Some(kinds) = by_chart.get(&c.path) else {
            continue;
        };
        let images: BTreeSet<&String> = kinds.values().flatten().collect();
        for image in images {
            if config.allowed(image) {
                continue;
            }
            let finding = |rule, msg: String| {
                Finding::new(rule, msg)
                    .chart(&c.name, c.version.as_deref())
                    .at(&c.path, None)
            };
            match pin(image) {
                Pin::Digest | Pin::Placeholder => {}
                Pin::None => findings.push(finding(
                    "image-tag-mutable",
                    format!("{}: `{image}` has no tag (it means latest); pin a release tag or a digest", c.name),
                )),
                Pin::Tag(t) if MUTABLE_TAGS.contains(&t.to_ascii_lowercase().as_str()) => {
                    findings.push(finding(
                        "image-tag-mutable",
                        format!("{}: `{image}` is on the moving tag `{t}`; pin a release tag or a digest", c.name),
                    ))
                }
                Pin::Tag(t) if crate::versions::parse_tag(t, None).is_none() => {
                    findings.push(finding(
                        "image-tag-not-semver",
                        format!("{}: `{image}` has the tag `{t}`, not SemVer; use a SemVer tag, or list the image in release.check.allowImage", c.name),
                    ))
                }
                Pin::Tag(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins() {
        assert_eq!(pin("nginx"), Pin::None);
        assert_eq!(pin("registry:5000/app"), Pin::None);
        assert_eq!(pin("registry:5000/app:1.2.3"), Pin::Tag("1.2.3"));
        assert_eq!(pin("quay.io/x/y:latest"), Pin::Tag("latest"));
        assert_eq!(pin("x/y@sha256:abc"), Pin::Digest);
        assert_eq!(pin("x/y:1.0@sha256:abc"), Pin::Digest);
        assert_eq!(
            pin("[[ registry_release ]]/release/app:[[ imageTagFromGitTag ]]"),
            Pin::Placeholder
        );
        assert_eq!(
            pin("[[ registry_release ]]/release/app:v1.0.0"),
            Pin::Tag("v1.0.0")
        );
    }
}
