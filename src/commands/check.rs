//! `git release check [REV]`: the release gate, read-only, from the object database
//! (rules in [`crate::check`]).

use clap::Args;

use anyhow::Result;

use crate::check::{self, Config};
use crate::error::UserError;
use crate::report::Report;

/// The rules of `git release check`, for its help and man page: made from [`check::RULES`],
/// so the list cannot drift from the rules that run.
pub fn rules_help() -> String {
    let width = check::RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut text =
        String::from("Rules (set each with release.check.<rule> = error | warning | off):\n");
    for r in check::RULES {
        let default = match r.default {
            check::Severity::Error => "",
            check::Severity::Warning => " (a warning by default)",
        };
        text.push_str(&format!("  {:<width$}  {}{default}\n", r.id, r.what));
    }
    text.push_str("Images matching a glob of release.check.allowImage skip the image rules.\n");
    text.push_str("Exit status: 0 no error, 3 errors found, 2 bad input.");
    text
}

/// `git release check`
///
/// Rules (set each one's severity with `release.check.<rule> = error|warning|off`):
/// chart-version-reused, chart-version-not-bumped, chart-version-lowered, image-tag-mutable,
/// image-tag-not-semver (warning), version-yml-mismatch, image-list-stale. Images matching a glob
/// of `release.check.allowImage` skip the image rules. Exit 0 without errors, 3 with errors,
/// 2 for bad input.
#[derive(Args, Debug, Default)]
pub struct CheckArgs {
    /// Revision to check [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Also audit every release and hotfix tag against each other (chart-version-reused).
    #[arg(long)]
    pub history: bool,
    /// Skip the rules that need the network (image-missing).
    #[arg(long)]
    pub offline: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

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
