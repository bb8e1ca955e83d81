//! `git release tag` (in progress).

use anyhow::Result;

/// Run `git release tag`.
pub fn run(_args: crate::cli::TagArgs) -> Result<()> {
    Err(crate::error::UserError::failure("not implemented yet").into())
}
