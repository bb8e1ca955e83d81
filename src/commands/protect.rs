//! `git release protect` (in progress).

use anyhow::Result;

/// Run `git release protect`.
pub fn run(_args: crate::cli::ProtectArgs) -> Result<()> {
    Err(crate::error::UserError::failure("not implemented yet").into())
}
