//! Release lines (`2.10`), customer (OEM) targets (`2.10/acme`) and the branch names templates
//! give them.
//!
//! Source: seed 002 (`release-2.10`, `release-2.10/muzi502`) and DOMAIN.md step 4: git cannot hold
//! `release-2.10` and `release-2.10/acme` at once (a ref cannot be a file and a folder), so the
//! default OEM template is `release-{line}-{customer}` and templates that can collide are refused.

use crate::error::UserError;

/// Default `release.branchTemplate`.
pub const DEFAULT_LINE_TEMPLATE: &str = "release-{line}";
/// Default `release.oemBranchTemplate`.
pub const DEFAULT_OEM_TEMPLATE: &str = "release-{line}-{customer}";

/// A parsed `LINE[/CUSTOMER]` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
    /// Customer name for an OEM branch.
    pub customer: Option<String>,
}

impl Target {
    /// `MAJOR.MINOR`.
    pub fn line(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// Parse `2.10`, `v2.10`, `2.10/acme`.
    ///
    /// Errors (exit 2): not `MAJOR.MINOR`, or a customer name git cannot use in a ref.
    pub fn parse(s: &str) -> Result<Self, UserError> {
        let (line, customer) = match s.split_once('/') {
            Some((l, c)) => (l, Some(c)),
            None => (s, None),
        };
        let bad = || {
            UserError::input(format!("`{s}` is not a release line")).hint(
                "write MAJOR.MINOR, or MAJOR.MINOR/CUSTOMER for a OEM branch (2.10, 2.10/acme)",
            )
        };
        let line = line.strip_prefix('v').unwrap_or(line);
        let (ma, mi) = line.split_once('.').ok_or_else(bad)?;
        let num = |x: &str| -> Option<u64> {
            (!x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
                .then(|| x.parse().ok())
                .flatten()
        };
        let (major, minor) = (num(ma).ok_or_else(bad)?, num(mi).ok_or_else(bad)?);
        if let Some(c) = customer {
            let ok = !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && !c.starts_with('.')
                && !c.starts_with('-')
                && !c.contains("..");
            if !ok {
                return Err(UserError::input(format!(
                    "customer `{c}` cannot be part of a branch name"
                ))
                .hint("use letters, digits, `-`, `_` and `.`"));
            }
        }
        Ok(Target {
            major,
            minor,
            customer: customer.map(str::to_string),
        })
    }

    /// Whether release version `v` belongs to this line.
    pub fn contains(&self, v: &semver::Version) -> bool {
        v.major == self.major && v.minor == self.minor
    }
}

/// Branch name templates, validated together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    /// Line branch template with `{line}` (`release-{line}`).
    pub line: String,
    /// OEM branch template with `{line}` and `{customer}` (`release-{line}-{customer}`).
    pub oem: String,
}

impl Templates {
    /// Validate: the line template uses `{line}`, the OEM template `{line}` and `{customer}`, both
    /// give valid branch names, and no OEM branch can sit *inside* a line branch (`release-2.10/acme`
    /// next to `release-2.10`), which git cannot store.
    pub fn new(line: &str, oem: &str) -> Result<Self, UserError> {
        if !line.contains("{line}") {
            return Err(UserError::input(format!(
                "branch template `{line}` has no {{line}}"
            )));
        }
        if !oem.contains("{line}") || !oem.contains("{customer}") {
            return Err(UserError::input(format!(
                "OEM branch template `{oem}` needs {{line}} and {{customer}}"
            )));
        }
        let t = Templates {
            line: line.to_string(),
            oem: oem.to_string(),
        };
        let sample = Target {
            major: 2,
            minor: 10,
            customer: Some("acme".into()),
        };
        let (lb, ob) = (t.line_branch(&sample), t.oem_branch(&sample));
        for name in [&lb, &ob] {
            if gix::validate::reference::name_partial(name.as_str().into()).is_err()
                || name.ends_with('/')
            {
                return Err(UserError::input(format!(
                    "templates give `{name}`, which is not a valid branch name"
                )));
            }
        }
        if ob.starts_with(&format!("{lb}/")) || lb.starts_with(&format!("{ob}/")) {
            return Err(UserError::input(format!(
                "templates `{line}` and `{oem}` give `{lb}` and `{ob}`: git cannot hold both, a ref cannot be a file and a folder"
            ))
            .hint(format!("use an OEM template that does not put the customer below the line branch, e.g. `{DEFAULT_OEM_TEMPLATE}`")));
        }
        Ok(t)
    }

    /// The line branch of `t`: `release-2.10`.
    pub fn line_branch(&self, t: &Target) -> String {
        self.line.replace("{line}", &t.line())
    }

    /// The OEM branch of `t` (which must have a customer): `release-2.10-acme`.
    pub fn oem_branch(&self, t: &Target) -> String {
        self.oem
            .replace("{line}", &t.line())
            .replace("{customer}", t.customer.as_deref().unwrap_or(""))
    }

    /// Which release line (and customer) branch `name` belongs to under these templates
    /// (`release-2.10-acme` -> `2.10/acme`); `None` for other branches.
    pub fn classify(&self, name: &str) -> Option<Target> {
        let line_of = |s: &str| Target::parse(s).ok().filter(|t| t.customer.is_none());
        // OEM first: it is the more specific template.
        if let Some((pre, rest)) = self.oem.split_once("{line}") {
            if let Some((mid, suf)) = rest.split_once("{customer}") {
                if let Some(body) = name.strip_prefix(pre).and_then(|b| b.strip_suffix(suf)) {
                    // Lines are MAJOR.MINOR: try every split point of `mid`.
                    for (i, _) in body.match_indices(mid) {
                        let (l, c) = (&body[..i], &body[i + mid.len()..]);
                        if let (Some(mut t), false) = (line_of(l), c.is_empty()) {
                            t.customer = Some(c.to_string());
                            return Some(t);
                        }
                    }
                }
            }
        }
        let (pre, suf) = self.line.split_once("{line}")?;
        name.strip_prefix(pre)
            .and_then(|b| b.strip_suffix(suf))
            .and_then(line_of)
    }

    /// The branch `t` names: OEM branch with a customer, else the line branch.
    pub fn branch(&self, t: &Target) -> String {
        if t.customer.is_some() {
            self.oem_branch(t)
        } else {
            self.line_branch(t)
        }
    }
}

/// Templates from settings (`release.branchTemplate`, `release.oemBranchTemplate`), with a
/// per-run override of the template that applies to `target`.
pub fn templates(
    repo: &gix::Repository,
    target: Option<&Target>,
    override_template: Option<&str>,
) -> Result<Templates, UserError> {
    let cfg = crate::settings::raw(repo);
    let mut line = cfg("branchTemplate").unwrap_or_else(|| DEFAULT_LINE_TEMPLATE.into());
    let mut oem = cfg("oemBranchTemplate").unwrap_or_else(|| DEFAULT_OEM_TEMPLATE.into());
    if let Some(o) = override_template {
        if target.is_some_and(|t| t.customer.is_some()) {
            oem = o.to_string();
        } else {
            line = o.to_string();
        }
    }
    Templates::new(&line, &oem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("2.10/acme").unwrap();
        assert_eq!(
            (t.major, t.minor, t.customer.as_deref()),
            (2, 10, Some("acme"))
        );
        assert_eq!(Target::parse("v2.1").unwrap().line(), "2.1");
        assert!(Target::parse("2").is_err());
        assert!(Target::parse("2.x").is_err());
        assert!(Target::parse("2.10/").is_err());
        assert!(Target::parse("2.10/a b").is_err());
        assert!(Target::parse("2.10/a/b").is_err());
    }

    #[test]
    fn default_templates_and_collisions() {
        let t = Templates::new(DEFAULT_LINE_TEMPLATE, DEFAULT_OEM_TEMPLATE).unwrap();
        let acme = Target::parse("2.10/acme").unwrap();
        assert_eq!(t.branch(&acme), "release-2.10-acme");
        assert_eq!(t.line_branch(&acme), "release-2.10");
        let err = Templates::new("release-{line}", "release-{line}/{customer}").unwrap_err();
        assert!(
            err.message.contains("a ref cannot be a file and a folder"),
            "{}",
            err.message
        );
        assert!(Templates::new("release/{line}", "release/{line}/{customer}").is_err());
        assert!(Templates::new("release/{line}", "oem/{line}/{customer}").is_ok());
        assert!(
            Templates::new("release-{line}", "oem-{customer}").is_err(),
            "needs {{line}}"
        );
        assert!(
            Templates::new("rel..{line}", DEFAULT_OEM_TEMPLATE).is_err(),
            "invalid ref"
        );
    }
}
