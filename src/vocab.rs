//! The JSON vocabulary every command's `--json` speaks: one shape per kind of thing, whichever
//! command reports it.
//!
//! - a version change: `{"name", "path", "from", "to"}` ([`VersionChange`]);
//! - an image change: `{"from", "to"}`, two references of one repository ([`ImageChange`]);
//! - a package written: `{"path", "sha256", "size"}` ([`PackageFile`]);
//! - a ref update: `{"ref", "from", "to"}` ([`RefUpdate`]);
//! - a finding: `{"rule", "severity", …, "message"}` (check's findings);
//! - an error: `{"error": {"message", "hint", "exit_code"}}` (every command).
//!
//! `from` is `null` for something new, `to` for something removed.

use serde::Serialize;

/// A version that changed: a chart's (`name` the chart, `path` its folder), a component's tag
/// (`path` its entry, `repos/x.yaml:3`), a file's version field (`path` the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    /// What has the version: chart, component or file name.
    pub name: String,
    /// Where it lives.
    pub path: String,
    /// The old version (`null`: new).
    pub from: Option<String>,
    /// The new version (`null`: removed).
    pub to: Option<String>,
}

/// An image of one repository moved from one reference to another (`r/a:1` to `r/a:2`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ImageChange {
    /// The reference before.
    pub from: String,
    /// The reference after.
    pub to: String,
}

/// A package a command wrote (or, in a dry run, would write: `sha256` and `size` null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageFile {
    /// Where it is.
    pub path: String,
    /// Lowercase hex sha256 of the file.
    pub sha256: Option<String>,
    /// Bytes.
    pub size: Option<u64>,
}

impl PackageFile {
    /// The package written at `path` with `sha256` (its size read from the file).
    pub fn written(path: impl Into<String>, sha256: impl Into<String>) -> Self {
        let path = path.into();
        let size = std::fs::metadata(&path).map(|m| m.len()).ok();
        PackageFile {
            path,
            sha256: Some(sha256.into()),
            size,
        }
    }

    /// The package a dry run would write at `path`.
    pub fn planned(path: impl Into<String>) -> Self {
        PackageFile {
            path: path.into(),
            sha256: None,
            size: None,
        }
    }
}

/// A ref a command moved, created (`from` null) or would move (dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefUpdate {
    /// Full name, `refs/heads/release-2.10`, `refs/tags/v2.10.0`.
    #[serde(rename = "ref")]
    pub name: String,
    /// Object id before (`null`: created).
    pub from: Option<String>,
    /// Object id after.
    pub to: Option<String>,
}
