//! `git release check [REV]`: the release gate, read-only, from the object database
//! (rules in [`crate::check`]).

use anyhow::Result;

use crate::check::{self, Config};
use crate::cli::CheckArgs;
use crate::error::UserError;
use crate::report::Report;

/// Run `git release check`: the findings of every rule on REV, as a table or JSON.
///
/// Errors: exit 3 when any finding is an error (the findings are printed first); exit 2 for bad
/// input (a revision that is not a commit, a bad `release.check.*` setting).
pub fn run(args: CheckArgs) -> Result<()> {
    let (mut repo, settings) = crate::open::with_settings(&Default::default())?;
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    let mut config = Config::load(&repo)?;
    config.offline = args.offline;
    let rev = args.rev.as_deref().unwrap_or("HEAD");
    let result = check::check(&repo, &settings, &config, rev, args.history)?;
    let errors = result.error_count;
    let mut report = Report::new("check", result);
    report.rev = Some(report.data.commit.clone());
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        Ok(check::print(&r.data, out)?)
    })?;
    if errors > 0 {
        return Err(UserError::refused(format!(
            "{rev} is not a consistent release: {errors} error(s)"
        ))
        .hint("fix what the findings name; `release.check.<rule> = warning` or `off` changes a rule's weight")
        .in_json_output()
        .into());
    }
    Ok(())
}
