//! Version arithmetic for release branches and master (DOMAIN.md step 6): patch + 1 on a release branch,
//! next minor (`-dev` for VERSION files, plain for charts) on master after a release.
//!
//! Rules, for every function here:
//! - build metadata (`+build.5`) never survives a bump: it describes one build, not the next;
//! - a pre-release (`1.3.0-dev`, `1.3.0-rc.1`) is the development of its release (`1.3.0`): its next
//!   patch release *is* that release, and its next minor is counted from that release;
//! - results always parse back with [`parse_loose`] and, for release inputs, are greater by SemVer
//!   precedence than the input;
//! - numbers saturate at `u64::MAX` instead of overflowing; [`edit_version_file`] and
//!   [`edit_chart_yaml`] refuse such versions ([`FieldError::TooLarge`]) so a bump never stands still.
//!
//! Besides the arithmetic, [`edit_version_file`] and [`edit_chart_yaml`] change the version written
//! in a plain-text `VERSION` file or a `Chart.yaml` in place (only the bytes of the version change),
//! for `git release bump` and `git release cherry-pick`.

use semver::{BuildMetadata, Prerelease, Version};

use crate::yaml_edit::{self, Seg, YamlEditError};

/// The pre-release tag of a development version on master (`1.3.0-dev`).
pub const DEV: &str = "dev";

/// The plain-text version file at a component repository's root (Aether convention, seed 004).
pub const VERSION_FILE: &str = "VERSION";

/// The next patch release after `v`.
///
/// A release `1.2.3` gives `1.2.4`. A pre-release (`1.2.3-dev`, `1.2.3-rc.1`) gives its release
/// `1.2.3`: the next patch release of a version still in development is the version itself, and
/// `1.2.3` is greater than every `1.2.3-*` by SemVer precedence. Build metadata is dropped.
pub fn next_patch(v: &Version) -> Version {
    if v.pre.is_empty() {
        Version::new(v.major, v.minor, v.patch.saturating_add(1))
    } else {
        strip_dev(v)
    }
}

/// The development version of the next minor release, for a `VERSION` file on master after a
/// release: `1.2.n` becomes `1.3.0-dev`.
///
/// Idempotent: `X.Y.0-dev` is already a next minor's development version and is returned as is, so
/// running the bump twice does not skip a minor. Any other pre-release counts from its release
/// (`1.3.0-rc.1` -> `1.4.0-dev`, `1.2.4-dev` -> `1.3.0-dev`). Build metadata is dropped.
pub fn next_minor_dev(v: &Version) -> Version {
    if v.patch == 0 && v.pre.as_str() == DEV {
        return Version::new(v.major, v.minor, 0).with_pre(DEV);
    }
    next_minor(v).with_pre(DEV)
}

/// The next minor release, for a chart on master after a release: `1.2.n` becomes `1.3.0`, and a
/// pre-release `1.2.n-x` becomes `1.3.0` too. Never a `-dev` suffix: chart versions must stay
/// plain, unique SemVer (a chart is packaged under its version). Not idempotent: every call moves
/// the minor.
pub fn next_minor(v: &Version) -> Version {
    Version::new(v.major, v.minor.saturating_add(1), 0)
}

/// The release a version leads up to: `1.3.0-dev` -> `1.3.0` (any pre-release and build metadata
/// dropped; a release is returned unchanged).
pub fn strip_dev(v: &Version) -> Version {
    Version::new(v.major, v.minor, v.patch)
}

/// Parse a version as people write it: surrounding whitespace (a trailing newline) ignored, an
/// optional `v` prefix. Returns the version and whether it had the `v`. `None` unless the rest is
/// SemVer 2.0.0 (`1.2`, `latest`, `v 1.2.3` are refused).
pub fn parse_loose(s: &str) -> Option<(Version, bool)> {
    let s = s.trim();
    let (rest, v_prefix) = match s.strip_prefix('v') {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    Version::parse(rest).ok().map(|v| (v, v_prefix))
}

/// Write `v` back, with a `v` prefix when the original had one.
pub fn render(v: &Version, v_prefix: bool) -> String {
    if v_prefix {
        format!("v{v}")
    } else {
        v.to_string()
    }
}

trait WithPre {
    fn with_pre(self, pre: &str) -> Self;
}

impl WithPre for Version {
    fn with_pre(mut self, pre: &str) -> Self {
        self.pre = Prerelease::new(pre).expect("a valid pre-release identifier");
        self.build = BuildMetadata::EMPTY;
        self
    }
}

/// One version field changed in the text of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The version as it was written (with its `v`, without quotes).
    pub old: String,
    /// The version written now (same `v` prefix as before).
    pub new: String,
    /// 1-based line of the version.
    pub line: usize,
    /// The whole new file text (equal to the old one when `old == new`).
    pub text: String,
}

/// Why a version field could not be bumped.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    /// The YAML does not parse, or `version` cannot be edited in place (block scalar, alias…).
    #[error(transparent)]
    Yaml(YamlEditError),
    /// The file has no version: `Chart.yaml` without a `version` key, or an empty `VERSION` file.
    #[error("no version in the file")]
    Missing,
    /// The value is not SemVer.
    #[error("line {line}: version `{value}` is not SemVer (MAJOR.MINOR.PATCH, e.g. 1.2.3)")]
    NotSemver {
        /// 1-based line of the value.
        line: usize,
        /// The value as written (unquoted).
        value: String,
    },
    /// A number of the version is `u64::MAX`: the bump would not move it.
    #[error("line {line}: version `{value}` is too large to bump")]
    TooLarge {
        /// 1-based line of the value.
        line: usize,
        /// The value as written.
        value: String,
    },
}

fn checked(
    value: &str,
    line: usize,
    bump: impl FnOnce(&Version) -> Version,
) -> Result<(Version, bool, Version), FieldError> {
    let Some((old, v_prefix)) = parse_loose(value) else {
        return Err(FieldError::NotSemver {
            line,
            value: value.to_string(),
        });
    };
    if old.minor == u64::MAX || old.patch == u64::MAX {
        return Err(FieldError::TooLarge {
            line,
            value: value.to_string(),
        });
    }
    let new = bump(&old);
    Ok((old, v_prefix, new))
}

/// Bump the version held by a plain-text `VERSION` file (`1.2.3\n`, `v1.2.3`, `1.2.3\r\n`).
///
/// Only the version token changes: the `v` prefix, the whitespace around it and the line ending
/// stay byte for byte, and so does a leading UTF-8 BOM. The file must hold exactly one version
/// (blank lines around it allowed).
///
/// Errors: [`FieldError::Missing`] for a blank file; [`FieldError::NotSemver`] when the content is
/// not one SemVer version (the line is the first non-blank line).
pub fn edit_version_file(
    text: &str,
    bump: impl FnOnce(&Version) -> Version,
) -> Result<Edit, FieldError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let start = text.len() - body.trim_start().len();
    let end = text.trim_end().len();
    if start >= end {
        return Err(FieldError::Missing);
    }
    let token = &text[start..end];
    let line = text[..start].matches('\n').count() + 1;
    let (_, v_prefix, new) = checked(token, line, bump)?;
    let new = render(&new, v_prefix);
    Ok(Edit {
        old: token.to_string(),
        text: format!("{}{new}{}", &text[..start], &text[end..]),
        new,
        line,
    })
}

/// Bump the `version` of a `Chart.yaml` (of a single-file addon: `_config._metadata.version`) in place with [`yaml_edit::set_scalar`]: comments,
/// quoting, key order and blank lines stay byte for byte. A leading UTF-8 BOM is kept.
///
/// Errors: [`FieldError::Yaml`] when the file is not YAML or the field cannot be edited in place;
/// [`FieldError::Missing`] without a `version` key; [`FieldError::NotSemver`] with the line of the
/// value.
pub fn edit_chart_yaml(
    text: &str,
    bump: impl FnOnce(&Version) -> Version,
) -> Result<Edit, FieldError> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    // A single-file addon's version is `_config._metadata.version` (seed 000).
    let path = crate::chart::meta::version_path(body.as_bytes());
    let span = match yaml_edit::find_scalar(body, &path) {
        Ok(span) => span,
        Err(YamlEditError::NotFound { .. }) => return Err(FieldError::Missing),
        Err(e) => return Err(FieldError::Yaml(e)),
    };
    // The value as YAML reads it (quotes and escapes resolved), not the raw bytes.
    let doc = crate::yaml::parse(body.as_bytes()).map_err(|e| {
        FieldError::Yaml(YamlEditError::Syntax {
            line: e.line,
            col: 0,
            msg: e.msg,
        })
    })?;
    let value = match path.iter().try_fold(&doc, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::Index(i) => v.get(*i),
    }) {
        Some(serde_yaml::Value::String(s)) => s.clone(),
        Some(serde_yaml::Value::Null) | None => return Err(FieldError::Missing),
        Some(_) => body[span.start..span.end].to_string(),
    };
    let (_, v_prefix, new) = checked(&value, span.line, bump)?;
    let new = render(&new, v_prefix);
    let edited = if new == value {
        body.to_string()
    } else {
        yaml_edit::set_scalar(body, &path, &new, None).map_err(FieldError::Yaml)?
    };
    Ok(Edit {
        old: value,
        new,
        line: span.line,
        text: format!("{bom}{edited}"),
    })
}

#[cfg(test)]
impl FieldError {
    /// 1-based line the error points at, when there is one.
    fn line(&self) -> Option<usize> {
        match self {
            FieldError::Yaml(YamlEditError::Syntax { line, .. })
            | FieldError::Yaml(YamlEditError::NotEditable { line, .. }) => Some(*line),
            FieldError::NotSemver { line, .. } | FieldError::TooLarge { line, .. } => Some(*line),
            FieldError::Yaml(YamlEditError::NotFound { .. }) | FieldError::Missing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn examples() {
        assert_eq!(next_patch(&v("1.2.3")), v("1.2.4"));
        assert_eq!(next_patch(&v("1.2.3-dev")), v("1.2.3"));
        assert_eq!(next_patch(&v("1.2.3-rc.1+b5")), v("1.2.3"));
        assert_eq!(next_patch(&v("1.2.3+b5")), v("1.2.4"));
        assert_eq!(next_minor_dev(&v("1.2.7")), v("1.3.0-dev"));
        assert_eq!(next_minor_dev(&v("1.3.0-dev")), v("1.3.0-dev"));
        assert_eq!(next_minor_dev(&v("1.3.0-dev+b1")), v("1.3.0-dev"));
        assert_eq!(next_minor_dev(&v("1.2.4-dev")), v("1.3.0-dev"));
        assert_eq!(next_minor_dev(&v("1.3.0-rc.1")), v("1.4.0-dev"));
        assert_eq!(next_minor(&v("0.4.1")), v("0.5.0"));
        assert_eq!(next_minor(&v("0.5.0")), v("0.6.0"));
        assert_eq!(next_minor(&v("1.3.0-dev")), v("1.4.0"));
        assert_eq!(strip_dev(&v("1.3.0-dev")), v("1.3.0"));
        assert_eq!(strip_dev(&v("1.3.0")), v("1.3.0"));
    }

    #[test]
    fn loose_parsing_and_rendering() {
        assert_eq!(parse_loose(" v1.2.3\n"), Some((v("1.2.3"), true)));
        assert_eq!(parse_loose("1.2.3-dev"), Some((v("1.2.3-dev"), false)));
        assert_eq!(parse_loose("1.2"), None);
        assert_eq!(parse_loose("v 1.2.3"), None);
        assert_eq!(parse_loose("latest"), None);
        assert_eq!(parse_loose(""), None);
        assert_eq!(render(&v("1.3.0-dev"), true), "v1.3.0-dev");
        assert_eq!(render(&v("1.3.0"), false), "1.3.0");
    }

    #[test]
    fn version_file_keeps_prefix_and_line_ending() {
        let e = edit_version_file("v1.2.3\r\n", next_minor_dev).unwrap();
        assert_eq!(e.text, "v1.3.0-dev\r\n");
        assert_eq!(
            (e.old.as_str(), e.new.as_str(), e.line),
            ("v1.2.3", "v1.3.0-dev", 1)
        );
        let e = edit_version_file("\u{feff}1.2.3\n", next_patch).unwrap();
        assert_eq!(e.text, "\u{feff}1.2.4\n");
        let e = edit_version_file("\n1.2.3", next_patch).unwrap();
        assert_eq!((e.text.as_str(), e.line), ("\n1.2.4", 2));
        assert!(matches!(
            edit_version_file(" \n", next_patch),
            Err(FieldError::Missing)
        ));
        assert!(matches!(
            edit_version_file("1.2.3\n# comment\n", next_patch),
            Err(FieldError::NotSemver { line: 1, .. })
        ));
        assert!(matches!(
            edit_version_file("1.2.18446744073709551615\n", next_patch),
            Err(FieldError::TooLarge { .. })
        ));
    }

    #[test]
    fn chart_yaml_edited_in_place() {
        let text = "\u{feff}# chart\napiVersion: v2\nname: a\n\nversion: \"0.4.1\"  # keep\nappVersion: 1.0\n";
        let e = edit_chart_yaml(text, next_minor).unwrap();
        assert_eq!(e.text, text.replace("\"0.4.1\"", "\"0.5.0\""));
        assert_eq!(
            (e.old.as_str(), e.new.as_str(), e.line),
            ("0.4.1", "0.5.0", 5)
        );
        let e = edit_chart_yaml("version: 'v1.0.0'\n", next_patch).unwrap();
        assert_eq!(e.text, "version: 'v1.0.1'\n");
        let e = edit_chart_yaml("name: a\nversion: 1.2.3\n", next_patch).unwrap();
        assert_eq!(e.text, "name: a\nversion: 1.2.4\n");
    }

    #[test]
    fn chart_yaml_errors_carry_the_line() {
        let err = edit_chart_yaml("name: a\nversion: 1.2\n", next_patch).unwrap_err();
        assert!(matches!(&err, FieldError::NotSemver { line: 2, value } if value == "1.2"));
        assert_eq!(err.line(), Some(2));
        assert!(matches!(
            edit_chart_yaml("name: a\n", next_patch),
            Err(FieldError::Missing)
        ));
        assert!(matches!(
            edit_chart_yaml("name: [a\n", next_patch),
            Err(FieldError::Yaml(_))
        ));
    }

    fn release() -> impl Strategy<Value = Version> {
        (0..1000u64, 0..1000u64, 0..1000u64).prop_map(|(a, b, c)| Version::new(a, b, c))
    }

    fn any_version() -> impl Strategy<Value = Version> {
        let pre = prop_oneof![
            Just(String::new()),
            Just("dev".to_string()),
            "(alpha|beta|rc)\\.(0|[1-9][0-9]{0,2})",
            "[a-z][a-z0-9-]{0,8}",
        ];
        let build = prop_oneof![Just(String::new()), "[a-z0-9]{1,6}"];
        (release(), pre, build).prop_map(|(mut v, pre, build)| {
            v.pre = Prerelease::new(&pre).unwrap();
            v.build = BuildMetadata::new(&build).unwrap();
            v
        })
    }

    fn roundtrips(v: &Version) -> bool {
        parse_loose(&render(v, false)) == Some((v.clone(), false))
            && parse_loose(&render(v, true)) == Some((v.clone(), true))
    }

    proptest! {
        #[test]
        fn next_patch_of_release_is_greater(v in release()) {
            let n = next_patch(&v);
            prop_assert!(n > v);
            prop_assert_eq!((n.major, n.minor, n.patch), (v.major, v.minor, v.patch + 1));
            prop_assert!(n.pre.is_empty() && n.build.is_empty());
        }

        #[test]
        fn next_patch_of_pre_release_is_its_release(v in any_version()) {
            prop_assume!(!v.pre.is_empty());
            let n = next_patch(&v);
            prop_assert_eq!(&n, &strip_dev(&v));
            prop_assert!(n.cmp_precedence(&v).is_gt());
        }

        #[test]
        fn next_minor_is_plain(v in any_version()) {
            let n = next_minor(&v);
            prop_assert_eq!((n.major, n.minor, n.patch), (v.major, v.minor + 1, 0));
            prop_assert!(n.pre.is_empty() && n.build.is_empty());
            prop_assert!(n.cmp_precedence(&v).is_gt());
        }

        #[test]
        fn next_minor_dev_is_idempotent(v in any_version()) {
            let once = next_minor_dev(&v);
            prop_assert_eq!(next_minor_dev(&once), once.clone());
            prop_assert_eq!(once.pre.as_str(), DEV);
            prop_assert_eq!(once.patch, 0);
            prop_assert!(once.build.is_empty());
            prop_assert!(once.cmp_precedence(&v).is_ge());
        }

        #[test]
        fn next_minor_dev_of_release_is_greater(v in release()) {
            let n = next_minor_dev(&v);
            prop_assert!(n > v);
            prop_assert_eq!(strip_dev(&n), next_minor(&v));
        }

        #[test]
        fn strip_dev_leaves_a_release(v in any_version()) {
            let s = strip_dev(&v);
            prop_assert!(s.pre.is_empty() && s.build.is_empty());
            prop_assert!(s.cmp_precedence(&v).is_ge());
            prop_assert_eq!(strip_dev(&s), s.clone());
        }

        #[test]
        fn results_parse_back(v in any_version()) {
            prop_assert!(roundtrips(&v));
            prop_assert!(roundtrips(&next_patch(&v)));
            prop_assert!(roundtrips(&next_minor(&v)));
            prop_assert!(roundtrips(&next_minor_dev(&v)));
            prop_assert!(roundtrips(&strip_dev(&v)));
        }

        #[test]
        fn version_file_edit_changes_only_the_token(
            v in any_version(),
            prefix in any::<bool>(),
            lead in "[ \n]{0,2}",
            tail in prop_oneof![Just(""), Just("\n"), Just("\r\n"), Just(" \n\n")],
        ) {
            let old = render(&v, prefix);
            let text = format!("{lead}{old}{tail}");
            let e = edit_version_file(&text, next_patch).unwrap();
            prop_assert_eq!(&e.old, &old);
            prop_assert_eq!(&e.new, &render(&next_patch(&v), prefix));
            prop_assert_eq!(e.text, format!("{lead}{}{tail}", e.new));
        }
    }
}
