//! Opening the repository a command runs in: discovered from the current directory (honouring
//! `GIT_DIR`), an interrupted work-tree swap of an earlier run finished or undone, settings
//! loaded. Every command starts here, so none reads a half-swapped work tree.

use anyhow::Result;

use crate::settings::{Overrides, Settings};

/// The repository of the current directory, after crash recovery ([`crate::journal::recover`]).
///
/// Errors: not inside a git repository (exit 2, with a hint); a failed recovery (exit 1).
pub fn repository() -> Result<gix::Repository> {
    let repo = crate::git::discover()?;
    crate::journal::recover(&repo)?;
    Ok(repo)
}

/// [`repository`] with its settings (`.gitrelease`, `git config release.*`, then `overrides`).
///
/// Errors: those of [`repository`]; a setting that cannot be read (exit 2, naming it).
pub fn with_settings(overrides: &Overrides) -> Result<(gix::Repository, Settings)> {
    let repo = repository()?;
    let settings = Settings::load(&repo, overrides)?;
    Ok((repo, settings))
}
