//! `git release bump` (in progress).

use anyhow::Result;

/// Run `git release bump`.
pub fn run(_args: crate::cli::BumpArgs) -> Result<()> {
    Err(crate::error::UserError::failure("not implemented yet").into())
}
