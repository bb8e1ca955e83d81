//! `git release cherry-pick` (in progress).

use anyhow::Result;

/// Run `git release cherry-pick`.
pub fn run(_args: crate::cli::CherryPickArgs) -> Result<()> {
    Err(crate::error::UserError::failure("not implemented yet").into())
}
