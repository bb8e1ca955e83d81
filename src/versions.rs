//! SemVer release tags: which tags count, how `baseVersion` narrows them, which one a collect picks.
//!
//! Rules come from DOMAIN.md ("collect"): highest SemVer, not newest by date; an optional `v`;
//! pre-releases only when asked; tags that are not SemVer are ignored unless the entry names a
//! `tagPrefix` (then `<prefix>[v]X.Y.Z`).

use std::cmp::Ordering;

use semver::Version;

/// The Kubernetes version `.Capabilities` reports unless `release.kubeVersion` says otherwise
/// (Helm's default is the client-go version it was built with).
pub const DEFAULT_KUBE_VERSION: &str = "v1.36.0";

/// `(major, minor, patch, prerelease)` of a loosely written version (`v1.2`, `1.31.0-gke.1`).
pub fn parse_loose(v: &str) -> Option<(u64, u64, u64, String)> {
    let v = v.trim().trim_start_matches(['v', 'V', '=']);
    let (core, pre) = match v.split_once(['-', '+']) {
        Some((c, rest)) if v.as_bytes()[c.len()] == b'-' => {
            (c, rest.split('+').next().unwrap_or("").to_string())
        }
        Some((c, _)) => (c, String::new()),
        None => (v, String::new()),
    };
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch, pre))
}

/// The version a tag name denotes, or `None` when the tag is not a release tag.
///
/// `prefix`: the entry's `tagPrefix` (e.g. `chart-` or `api/`); the tag must start with it.
/// Accepts `1.2.3`, `v1.2.3`, `v1.2.3-rc.1`, `v1.2.3+build` (SemVer 2.0.0). Rejects `v1.2`,
/// `latest`, `merge-123`, `api/v1.0.0` (without prefix).
pub fn parse_tag(tag: &str, prefix: Option<&str>) -> Option<Version> {
    let rest = match prefix {
        Some(p) => tag.strip_prefix(p)?,
        None => tag,
    };
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    Version::parse(rest).ok()
}

/// A `baseVersion` (release line): `v1.2` means 1.2.x; `v1` means 1.x.y; `v1.2.3` means exactly
/// 1.2.3 (and its pre-releases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseVersion {
    /// Major number.
    pub major: u64,
    /// Minor number, when given.
    pub minor: Option<u64>,
    /// Patch number, when given.
    pub patch: Option<u64>,
}

impl BaseVersion {
    /// Parse `v1.2`, `1.2`, `v1`, `v1.2.3`. `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let mut nums = s.split('.').map(|p| {
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse::<u64>().ok()
            } else {
                None
            }
        });
        let major = nums.next()??;
        let minor = match nums.next() {
            Some(v) => Some(v?),
            None => None,
        };
        let patch = match nums.next() {
            Some(v) => Some(v?),
            None => None,
        };
        if nums.next().is_some() {
            return None;
        }
        Some(BaseVersion {
            major,
            minor,
            patch,
        })
    }

    /// Whether `v` belongs to this line.
    pub fn contains(&self, v: &Version) -> bool {
        v.major == self.major
            && self.minor.is_none_or(|m| v.minor == m)
            && self.patch.is_none_or(|p| v.patch == p)
    }
}

/// Release-tag precedence (SemVer §11; build metadata does not count), ties broken by tag name so
/// the choice is deterministic (`v1.0.0` and `1.0.0` both present: the name without `v` sorts first,
/// the one with `v` wins).
pub fn cmp_tags(a: (&Version, &str), b: (&Version, &str)) -> Ordering {
    a.0.cmp_precedence(b.0).then_with(|| a.1.cmp(b.1))
}

/// Pick the highest release tag among `tags` (name, version) within `base` (when set), skipping
/// pre-releases unless `pre`. Returns the tag name and its version.
pub fn pick<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a Version)>,
    base: Option<&BaseVersion>,
    pre: bool,
) -> Option<(&'a str, &'a Version)> {
    tags.into_iter()
        .filter(|(_, v)| pre || v.pre.is_empty())
        .filter(|(_, v)| base.is_none_or(|b| b.contains(v)))
        .max_by(|a, b| cmp_tags((a.1, a.0), (b.1, b.0)))
}

/// Whether `v` is a hotfix version `<product version>-<YYYYMMDD>-p<N>` (hotfix issue): SemVer reads
/// `v2.10.2-20261122-p1` as a pre-release of v2.10.2, so such names must never count as releases.
pub fn is_hotfix_version(v: &Version) -> bool {
    hotfix_parts(v.pre.as_str()).is_some()
}

/// `20261122-p3` -> `("20261122", 3)`.
fn hotfix_parts(pre: &str) -> Option<(&str, u32)> {
    let (date, n) = pre.split_once("-p")?;
    if date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
        || n.is_empty()
        || !n.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((date, n.parse().ok()?))
}

/// Where a product version or hotfix version sorts among the releases of the product: its base
/// release (`v2.10.2-20261122-p1` -> 2.10.2), then the release itself before its hotfixes, then the
/// hotfixes by date and sequence number. SemVer alone would sort a hotfix *below* its base (as a
/// pre-release) and `p10` below `p2` (identifiers compare as text).
pub fn release_order(v: &Version) -> (Version, Option<(String, u32)>) {
    match hotfix_parts(v.pre.as_str()) {
        Some((date, n)) => (
            Version::new(v.major, v.minor, v.patch),
            Some((date.to_string(), n)),
        ),
        None => (v.clone(), None),
    }
}

/// The product release a tag names: a SemVer tag (optional `v`) that is not a hotfix version.
/// Tags in other namespaces (`hotfix/…`, `api/v1.0.0`) never parse.
pub fn release_version(tag: &str) -> Option<Version> {
    parse_tag(tag, None).filter(|v| !is_hotfix_version(v))
}

/// The hotfix name `<product>-<YYYYMMDD>-p<n>`, e.g. `v2.10.2-20261122-p1`.
pub fn hotfix_version(product: &str, date: &str, n: u32) -> String {
    format!("{product}-{date}-p{n}")
}

/// The sequence number of a hotfix version of `product` (`v2.10.2-20261122-p3` -> 3), any date.
pub fn hotfix_number(product: &str, hotfix: &str) -> Option<u32> {
    let rest = hotfix.strip_prefix(product)?.strip_prefix('-')?;
    hotfix_parts(rest).map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_forms() {
        assert_eq!(parse_tag("v1.2.3", None), Some(Version::new(1, 2, 3)));
        assert_eq!(parse_tag("1.2.3", None), Some(Version::new(1, 2, 3)));
        assert!(parse_tag("v1.2", None).is_none());
        assert!(parse_tag("chart-v1.2.0", None).is_none());
        assert!(parse_tag("merge-123", None).is_none());
        assert!(parse_tag("api/v1.0.0", None).is_none());
        assert_eq!(
            parse_tag("api/v1.0.0", Some("api/")),
            Some(Version::new(1, 0, 0))
        );
        assert_eq!(
            parse_tag("chart-1.0.0", Some("chart-")),
            Some(Version::new(1, 0, 0))
        );
        assert!(parse_tag("v1.0.0", Some("chart-")).is_none());
    }

    #[test]
    fn highest_semver_not_lexical() {
        let vs: Vec<(String, Version)> = ["v0.9.0", "v0.10.0", "v0.10.1-rc.1", "v0.2.0"]
            .iter()
            .map(|t| (t.to_string(), parse_tag(t, None).unwrap()))
            .collect();
        let it = || vs.iter().map(|(t, v)| (t.as_str(), v));
        assert_eq!(pick(it(), None, false).unwrap().0, "v0.10.0");
        assert_eq!(pick(it(), None, true).unwrap().0, "v0.10.1-rc.1");
        let base = BaseVersion::parse("v0.9").unwrap();
        assert_eq!(pick(it(), Some(&base), false).unwrap().0, "v0.9.0");
        let base = BaseVersion::parse("v3").unwrap();
        assert!(pick(it(), Some(&base), false).is_none());
    }

    #[test]
    fn hotfix_versions_are_not_releases() {
        assert!(release_version("v2.10.2").is_some());
        assert!(release_version("v2.10.2-rc.1").is_some());
        assert!(release_version("v2.10.2-20261122-p1").is_none());
        assert!(release_version("hotfix/v2.10.2-20261122-p1").is_none());
        assert_eq!(
            hotfix_version("v2.10.2", "20261122", 1),
            "v2.10.2-20261122-p1"
        );
        assert_eq!(hotfix_number("v2.10.2", "v2.10.2-20261122-p12"), Some(12));
        assert_eq!(hotfix_number("v2.10.2", "v2.10.20-20261122-p1"), None);
        assert_eq!(hotfix_number("v2.10.2", "v2.10.2-2026112-p1"), None);
    }

    #[test]
    fn base_versions() {
        assert_eq!(
            BaseVersion::parse("v1.2"),
            Some(BaseVersion {
                major: 1,
                minor: Some(2),
                patch: None
            })
        );
        assert!(BaseVersion::parse("v1.x").is_none());
        assert!(BaseVersion::parse("").is_none());
        assert!(BaseVersion::parse("1.2.3.4").is_none());
    }
}
