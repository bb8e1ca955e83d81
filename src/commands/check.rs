//! `git release check [REV]`: the release gate, read-only, from the object database
//! (rules in [`crate::check`]).

use std::io::Write;

use anyhow::Result;

use crate::check::{self, Config};
use crate::cli::CheckArgs;
use crate::error::UserError;
use crate::settings::Settings;

/// Run `git release check`.
pub fn run(args: CheckArgs) -> Result<()> {
    let (mut repo, settings) = crate::open::with_settings(&Default::default())?;
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    let stdout = std::io::stdout();
    run_check(&repo, &settings, &args, &mut stdout.lock())
}

/// Check `args.rev` and print the table (or JSON) to `out`.
///
/// Errors: exit 3 when any finding is an error (the findings are printed first); exit 2 for bad
/// input (a revision that is not a commit, a bad `release.check.*` setting).
pub fn run_check(
    repo: &gix::Repository,
    settings: &Settings,
    args: &CheckArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let mut config = Config::load(repo)?;
    config.offline = args.offline;
    let rev = args.rev.as_deref().unwrap_or("HEAD");
    let report = check::check(repo, settings, &config, rev, args.history)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        check::print(&report, out)?;
    }
    if report.errors > 0 {
        return Err(UserError::refused(format!(
            "{rev} is not a consistent release: {} error(s)",
            report.errors
        ))
        .hint("fix what the findings name; `release.check.<rule> = warning` or `off` changes a rule's weight")
        .in_json_output()
        .into());
    }
    Ok(())
}
