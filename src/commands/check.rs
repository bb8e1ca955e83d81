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
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// Run `git release check`: the findings of every rule on REV, as a table or JSON.
///
/// Errors: exit 3 when any finding is an error (the findings are printed first); exit 2 for bad
/// input (a revision that is not a commit, a bad `release.check.*` setting).
pub fn run(args: CheckArgs) -> Result<()> {
    let (mut repo, settings) = crate::open::with_settings(&crate::settings::Overrides {
        no_render_cache: args.no_cache,
        ..Default::default()
    })?;
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    let mut config = Config::load(&repo)?;
    config.offline = args.offline;
    // No REV and a work tree that differs from HEAD where a release lives: check the work tree
    // (as a commit on top of HEAD kept in memory; nothing is written to the repository).
    let dirty = match &args.rev {
        None => worktree_changes(&repo)?,
        Some(_) => Vec::new(),
    };
    let (rev, worktree) = if dirty.is_empty() {
        (args.rev.clone().unwrap_or_else(|| "HEAD".into()), false)
    } else {
        repo = repo.with_object_memory();
        (worktree_commit(&repo, &dirty)?.to_string(), true)
    };
    let mut result = check::check(&repo, &settings, &config, &rev, args.history)?;
    let errors = result.error_count;
    if worktree {
        result.rev = "the work tree".into();
    }
    let mut report = Report::new(
        "check",
        CheckReport {
            worktree: worktree.then(|| dirty.clone()),
            result,
        },
    );
    report.rev = Some(report.data.result.commit.clone());
    if worktree {
        report.rev = None;
    }
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        if let Some(paths) = &r.data.worktree {
            writeln!(
                out,
                "checking the work tree: it differs from HEAD in {} (`git release check HEAD` checks the last commit)",
                few(paths)
            )?;
        }
        Ok(check::print(&r.data.result, out)?)
    })?;
    if errors > 0 {
        let what = if worktree {
            "the work tree"
        } else {
            rev.as_str()
        };
        return Err(UserError::refused(format!(
            "{what} is not a consistent release: {errors} error(s)"
        ))
        .hint("fix what the findings name; `release.check.<rule> = warning` or `off` changes a rule's weight")
        .in_json_output()
        .into());
    }
    if worktree {
        let head = check::check(&repo, &settings, &config, "HEAD", false)?;
        if head.error_count > 0 && !args.json {
            eprintln!(
                "note: the work tree is consistent, HEAD is not ({} error(s)): commit the changes",
                head.error_count
            );
        }
    }
    Ok(())
}

/// Up to five paths, then how many more.
fn few(paths: &[String]) -> String {
    let shown = paths.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    match paths.len() {
        n if n > 5 => format!("{shown} and {} more", n - 5),
        _ => shown,
    }
}

/// What `check` reports: the findings, and the work-tree paths that differ from HEAD when it
/// checked the work tree (absent when it checked a commit).
#[derive(Debug, serde::Serialize)]
pub(crate) struct CheckReport {
    /// Paths where the work tree differs from HEAD, when the work tree was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<Vec<String>>,
    #[serde(flatten)]
    pub result: check::Report,
}

/// The paths where the work tree differs from HEAD (untracked files too, ignored ones too);
/// empty in a bare repository.
fn worktree_changes(repo: &gix::Repository) -> Result<Vec<String>> {
    if repo.workdir().is_none() || repo.head_id().is_err() {
        return Ok(Vec::new());
    }
    // The whole work tree (resource files may land outside the addons path, `targetPath`), by
    // its top-level entries and those of HEAD (a deleted one counts too).
    let workdir = crate::git::workdir(repo)?;
    let mut top: std::collections::BTreeSet<String> = std::fs::read_dir(&workdir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != ".git")
        .collect();
    let head_tree = repo.head_tree_id()?.object()?.into_tree();
    for e in head_tree.iter() {
        top.insert(e?.filename().to_string());
    }
    let prefixes: Vec<&str> = top.iter().map(String::as_str).collect();
    let dirty = crate::git::uncommitted_changes(repo, &prefixes)?;
    // Ignored files that HEAD does not track are no part of a release: left out, as git does.
    let index = repo.index_or_empty()?;
    let mut excludes = repo.excludes(&index, None, Default::default())?;
    let head = repo.head_tree_id()?.detach();
    let mut out = Vec::new();
    for p in dirty {
        let tracked = crate::git::lookup_path(repo, head, &p)?.is_some();
        if !tracked && excludes.at_path(&p, None)?.is_excluded() {
            continue;
        }
        out.push(p);
    }
    Ok(out)
}

/// A commit on top of HEAD with `paths` as the work tree has them (written to `repo`'s in-memory
/// object store only).
///
/// Errors: unreadable files or objects.
fn worktree_commit(repo: &gix::Repository, paths: &[String]) -> Result<gix::ObjectId> {
    let workdir = crate::git::workdir(repo)?;
    let head = repo.head_id()?.detach();
    let mut ed = repo.edit_tree(repo.head_tree_id()?.detach())?;
    for p in paths {
        match crate::git::read_worktree(&workdir.join(p))?.remove("") {
            Some(e) => {
                let id = repo.write_blob(&e.data)?.detach();
                ed.upsert(p.as_str(), e.kind.entry_kind(), id)?;
            }
            None => {
                ed.remove(p.as_str())?;
            }
        }
    }
    let tree = ed.write()?.detach();
    let who = gix::actor::Signature {
        name: "git-release check".into(),
        email: "work-tree@localhost".into(),
        time: Default::default(),
    };
    let commit = gix::objs::Commit {
        tree,
        parents: vec![head].into(),
        author: who.clone(),
        committer: who,
        encoding: None,
        message: "the work tree".into(),
        extra_headers: Vec::new(),
    };
    Ok(repo.write_object(&commit)?.detach())
}
