//! `git release branch` (in progress).

use anyhow::Result;

/// Run `git release branch`.
pub fn run(_args: crate::cli::BranchArgs) -> Result<()> {
    Err(crate::error::UserError::failure("not implemented yet").into())
}
