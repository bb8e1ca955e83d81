//! The JSON vocabulary every command's `--json` speaks: one envelope for every report and one
//! shape per kind of thing, whichever command reports it.
//!
//! - every report: `{"command", "dry_run", "rev", "commit", "warnings", …}` ([`Report`]): `rev`
//!   the commit examined, `commit` the commit made, `warnings` as [`Warning`]s;
//! - a version change: `{"name", "path", "from", "to"}` ([`VersionChange`]);
//! - an image change: `{"from", "to"}`, two references of one repository ([`ImageChange`]);
//! - a package written: `{"path", "sha256", "size"}` ([`PackageFile`]);
//! - a ref update: `{"ref", "from", "to"}` ([`RefUpdate`]);
//! - a finding: `{"rule", "severity", …, "message"}` (check's findings);
//! - an error: `{"error": {"message", "hint", "exit_code"}}` (every command).
//!
//! `from` is `null` for something new, `to` for something removed.

use std::io::Write;

use serde::Serialize;

/// The envelope of every command's report: what `--json` prints, and what the text output is
/// made from. Warnings are printed once, by [`Report::emit`], on standard error.
#[derive(Debug, Serialize)]
pub struct Report<T: Serialize> {
    /// The command: `collect`, `images sync`.
    pub command: &'static str,
    /// Whether nothing was written (`--dry-run`): the report says what a real run would do.
    pub dry_run: bool,
    /// The commit examined (full id), for commands that read one revision; `null` otherwise.
    pub rev: Option<String>,
    /// The commit made (full id), by `--commit`; `null` when none was.
    pub commit: Option<String>,
    /// What the user should know that did not stop the command.
    pub warnings: Vec<Warning>,
    /// The command's own report.
    #[serde(flatten)]
    pub data: T,
}

impl<T: Serialize> Report<T> {
    /// The report of `command` holding `data`: a real run, no revision, no commit, no warnings.
    pub fn new(command: &'static str, data: T) -> Self {
        Report {
            command,
            dry_run: false,
            rev: None,
            commit: None,
            warnings: Vec::new(),
            data,
        }
    }

    /// `done` for a real run, `would` for a dry run: the verb of the text output (`tagged`,
    /// `would tag`).
    pub fn verb<'a>(&self, done: &'a str, would: &'a str) -> &'a str {
        if self.dry_run {
            would
        } else {
            done
        }
    }

    /// Print the report: JSON on `out` when `json`, else the text `text` writes; then every
    /// warning on standard error (`warning: …`), in both cases.
    ///
    /// Errors: writing to `out` (the executables exit quietly on a closed pipe).
    pub fn emit(
        &self,
        json: bool,
        out: &mut dyn Write,
        text: impl FnOnce(&Self, &mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        if json {
            serde_json::to_writer_pretty(&mut *out, self)?;
            writeln!(out)?;
        } else {
            text(self, out)?;
        }
        out.flush()?;
        for w in &self.warnings {
            eprintln!("warning: {w}");
        }
        Ok(())
    }
}

/// Something the user should know that did not stop the command: `{"message", "path", "line"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// What happened and what to do, in one sentence.
    pub message: String,
    /// The file it is about, repo-relative, when there is one.
    pub path: Option<String>,
    /// Its 1-based line, when known.
    pub line: Option<usize>,
}

impl Warning {
    /// A warning about no particular file.
    pub fn new(message: impl Into<String>) -> Self {
        Warning {
            message: message.into(),
            path: None,
            line: None,
        }
    }
}

impl From<String> for Warning {
    fn from(message: String) -> Self {
        Warning::new(message)
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

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
    pub r#ref: String,
    /// Object id before (`null`: created).
    pub from: Option<String>,
    /// Object id after.
    pub to: Option<String>,
}
