//! `git release cherry-pick <commit>... --onto <line>[/<customer>]`: apply fixes from master to a
//! release branch without checking it out, resolving version fields instead of leaving them as
//! conflicts: every chart the series touches gets the branch's own version with patch + 1 (once per
//! run), and so does a `VERSION` file; `-dev` suffixes from master never reach the branch.
//!
//! Source: DOMAIN.md step 6 and seed 004 (Aether: fixes cherry-picked onto component release
//! branches, VERSION bumped by patch). How: before each 3-way merge, the version fields of the base
//! and of the picked commit are set to the branch's values, so they can never conflict; other
//! conflicts abort the whole run before any ref moves.

use clap::Args;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{anyhow, Context, Result};
use serde::Serialize;

use crate::branches::{self, BranchInfo};
use crate::chart::discover::RootProbe;
use crate::error::UserError;
use crate::git;
use crate::git::resolve_commit;
use crate::history::allocate::{next_free, UsedVersions};
use crate::lines::{self, Target};
use crate::plan::{Plan, RefIntent};
use crate::report::Report;
use crate::settings::Settings;

use crate::report::{RefUpdate, VersionChange};
use crate::version_bump::VERSION_FILE;

/// `git release cherry-pick`
#[derive(Args, Debug, Default)]
pub struct CherryPickArgs {
    /// Commits to apply, oldest first (any revspecs; A..B ranges are expanded).
    #[arg(value_name = "COMMIT", required = true)]
    pub commits: Vec<String>,
    /// Release line (2.10) or OEM branch (2.10/acme) to apply them to.
    #[arg(long, value_name = "LINE[/CUSTOMER]")]
    pub onto: String,
    /// Print the resulting diff; change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Render every chart this run instead of reading the images found earlier from the render
    /// cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good).
    #[arg(long)]
    pub no_cache: bool,
}

/// What `cherry-pick` did, as `--json` prints it (the shared vocabulary, [`crate::report`]).
#[derive(Debug, Serialize)]
pub(crate) struct PickReport {
    /// Target branch.
    pub branch: String,
    /// Whether the branch was created for this run (lazy branching).
    pub created_branch: bool,
    /// The branch's move: `{"ref", "from", "to"}` (the new commits are between the two).
    pub r#ref: RefUpdate,
    /// Each picked commit and the commit made from it: `{"from", "to"}`.
    pub commits: Vec<Picked>,
    /// Version changes: `{"name", "path", "from", "to"}`.
    pub bumps: Vec<VersionChange>,
    /// Image lists that follow the picked changes.
    pub image_lists: Vec<ListChange>,
}

/// A picked commit (`from`) and the commit made from it on the branch (`to`).
#[derive(Debug, Serialize)]
pub(crate) struct Picked {
    /// The original commit.
    pub from: String,
    /// Its copy on the branch.
    pub to: String,
}

/// An image list rewritten by a cherry-pick.
#[derive(Debug, Serialize)]
pub(crate) struct ListChange {
    /// `images/images_platform.list`.
    pub path: String,
    /// References added.
    pub added: Vec<String>,
    /// References removed.
    pub removed: Vec<String>,
}

/// Expand the COMMIT arguments: `A..B` is every commit reachable from B and not from A, oldest
/// first; anything else is one commit.
fn expand(repo: &gix::Repository, specs: &[String]) -> Result<Vec<gix::ObjectId>> {
    let mut out = Vec::new();
    for s in specs {
        if let Some((a, b)) = s.split_once("..") {
            let (a, b) = (
                resolve_commit(repo, a)?,
                resolve_commit(repo, if b.is_empty() { "HEAD" } else { b })?,
            );
            let mut ids: Vec<gix::ObjectId> = repo
                .rev_walk([b])
                .with_hidden([a])
                .sorting(gix::revision::walk::Sorting::BreadthFirst)
                .all()?
                .map(|i| i.map(|i| i.id))
                .collect::<Result<_, _>>()?;
            ids.reverse();
            out.extend(ids);
        } else {
            out.push(resolve_commit(repo, s)?);
        }
    }
    Ok(out)
}

/// `tree` with `path` replaced by `bytes` (same mode as before). `path` must exist.
fn with_file(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    path: &str,
    bytes: &[u8],
) -> Result<gix::ObjectId> {
    let Some((_, kind)) = git::lookup_path(repo, tree, path)? else {
        return Ok(tree);
    };
    let id = repo.write_blob(bytes)?.detach();
    let mut ed = repo.edit_tree(tree)?;
    ed.upsert(path, kind, id)?;
    Ok(ed.write()?.detach())
}

/// Make `tree`'s version fields equal the branch's: VERSION content and each listed Chart.yaml
/// `version` (`charts`: Chart.yaml path -> branch version).
fn neutralize(
    repo: &gix::Repository,
    mut tree: gix::ObjectId,
    version_file: Option<&[u8]>,
    charts: &BTreeMap<String, String>,
) -> Result<gix::ObjectId> {
    if let Some(ours) = version_file {
        if git::blob_at(repo, tree, VERSION_FILE)?.is_some_and(|b| b != ours) {
            tree = with_file(repo, tree, VERSION_FILE, ours)?;
        }
    }
    for (path, v) in charts {
        if let Some(data) = git::blob_at(repo, tree, path)? {
            if crate::chart::meta::parse(&data).version.as_deref() != Some(v.as_str()) {
                if let Some(edited) = crate::chart::meta::set_version(&data, v) {
                    tree = with_file(repo, tree, path, &edited)?;
                }
            }
        }
    }
    Ok(tree)
}

/// Run `git release cherry-pick`: [`plan`] the commits (a dry run keeps every object it makes in
/// memory), then (unless `--dry-run`) move the branch and the refs of branches created on the
/// way in one transaction, checking out the result when the branch is checked out, then report.
pub fn run(args: CherryPickArgs) -> Result<()> {
    let (mut repo, settings) = crate::open::with_settings(&crate::settings::Overrides {
        no_render_cache: args.no_cache,
        ..Default::default()
    })?;
    repo.object_cache_size_if_unset(16 * 1024 * 1024);
    let _lock = crate::journal::lock(&repo, "cherry-pick")?;
    if args.dry_run {
        // The same trees and commits are computed, kept in memory: nothing reaches the object
        // database.
        repo = repo.with_object_memory();
    } else {
        refuse_dirty_checkout(&repo, &args.onto)?;
    }
    let sign = !args.dry_run && crate::signing::wanted(&repo, "commit.gpgSign");
    let (mut report, writes, pick) = plan(&repo, &settings, &args, sign)?;
    report.dry_run = args.dry_run;
    if !args.dry_run {
        crate::plan::apply(&repo, &writes)?;
    }
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        print(r, &pick, out)?;
        if args.dry_run {
            print_diff(&repo, &pick, out)?;
        }
        Ok(())
    })
}

/// The branch `onto` names: its short and full name.
fn target_branch(
    repo: &gix::Repository,
    onto: &str,
) -> Result<(Target, lines::Templates, String, String)> {
    let target = Target::parse(onto)?;
    let templates = lines::templates(repo, Some(&target), None)?;
    let name = templates.branch(&target);
    let full = format!("refs/heads/{name}");
    Ok((target, templates, name, full))
}

/// Refuse (exit 3) when the branch `onto` names is checked out here with uncommitted changes: the
/// checkout that follows the picks would overwrite them.
fn refuse_dirty_checkout(repo: &gix::Repository, onto: &str) -> Result<()> {
    let (_, _, name, full) = target_branch(repo, onto)?;
    let checked_out = repo
        .head_name()?
        .is_some_and(|h| h.as_bstr() == full.as_bytes());
    if checked_out && (git::worktree_modified(repo, &[])? || index_differs_from_head(repo)?) {
        return Err(
            UserError::refused(format!("{name} is checked out with uncommitted changes"))
                .hint("commit or stash them first; nothing was changed")
                .into(),
        );
    }
    Ok(())
}

/// What the text output shows besides the report.
pub(crate) struct Pick {
    name: String,
    applied: usize,
    old_tip: gix::ObjectId,
    new_tip: gix::ObjectId,
    skipped: Vec<String>,
    lazy: Vec<BranchInfo>,
    new_charts: BTreeSet<String>,
    base_tip_tree: gix::ObjectId,
    final_tree: gix::ObjectId,
}

/// The series `args` asks for on its branch: every check and merge, the version fields, the
/// image lists and the commits (written to the object database, or to memory in a dry run),
/// then the refs to move and, when the branch is checked out, the files to check out. Moves
/// nothing.
///
/// Errors: a merge commit or nothing to apply (exit 2); a conflict, a branch that cannot be
/// created or is checked out elsewhere (exit 3).
pub(crate) fn plan(
    repo: &gix::Repository,
    settings: &Settings,
    args: &CherryPickArgs,
    sign: bool,
) -> Result<(Report<PickReport>, Plan, Pick)> {
    let (target, templates, name, full) = target_branch(repo, &args.onto)?;
    let picks = expand(repo, &args.commits)?;
    for c in &picks {
        if repo.find_commit(*c)?.parent_ids().count() != 1 {
            return Err(UserError::input(format!(
                "{} is a merge commit (or a root); pick the commits it merged instead",
                &c.to_string()[..12]
            ))
            .into());
        }
    }
    // The branch, created lazily from the line's newest release when it does not exist yet.
    let mut lazy: Vec<BranchInfo> = Vec::new();
    let (old_tip, created_branch) = match repo.try_find_reference(full.as_str())? {
        Some(mut r) => (r.peel_to_id()?.detach(), false),
        None => {
            let tip = branches::ensure(repo, &target, &templates, &Default::default(), &mut lazy)
                .map_err(|e| match e.downcast::<UserError>() {
                    Ok(u) => UserError {
                        message: format!("{name} does not exist and cannot be created: {}", u.message),
                        hint: Some("create it first with `git release branch` (--from or --at-version choose its start)".into()),
                        kind: u.kind,
                        in_json_output: false,
                    }
                    .into(),
                    Err(e) => e,
                })?;
            lazy.retain(|b| b.status == "created");
            (tip, true)
        }
    };
    if let Some(place) = git::checked_out_elsewhere(repo, &full) {
        return Err(UserError::refused(format!(
            "{name} is checked out in the worktree at {}",
            place.display()
        ))
        .hint(
            "run the command in that worktree, or switch it to another branch; nothing was changed",
        )
        .into());
    }
    let checked_out = repo
        .head_name()?
        .is_some_and(|h| h.as_bstr() == full.as_bytes());
    let base_tip_tree = repo.find_commit(old_tip)?.tree_id()?.detach();
    let branch_version_file = git::blob_at(repo, base_tip_tree, VERSION_FILE)?;
    let merged = merge_series(
        repo,
        &name,
        base_tip_tree,
        branch_version_file.as_deref(),
        &picks,
    )?;
    let Bumped {
        mut final_tree,
        bumps,
        new_charts,
    } = bump_versions(
        repo,
        settings,
        &name,
        base_tip_tree,
        branch_version_file.as_deref(),
        &merged,
    )?;
    let image_lists = follow_image_lists(repo, settings, base_tip_tree, &mut final_tree)?;
    let mut trees = merged.trees.clone();
    if let Some(last) = trees.last_mut() {
        *last = final_tree;
    }
    let (made, new_tip) = make_commits(repo, old_tip, &merged.applied, &trees, sign)?;

    let mut writes = Plan::new("cherry-pick");
    for b in lazy.iter().filter(|b| b.branch != name) {
        writes.refs.push(RefIntent {
            name: format!("refs/heads/{}", b.branch),
            expected: None,
            to: gix::ObjectId::from_hex(b.commit.as_bytes())?,
            log: format!("git release cherry-pick: created at {}", b.commit),
        });
    }
    writes.refs.push(RefIntent {
        name: full.clone(),
        expected: (!created_branch).then_some(old_tip),
        to: new_tip,
        log: format!(
            "git release cherry-pick: {} commit(s)",
            merged.applied.len()
        ),
    });
    if checked_out {
        writes.files = checkout_changes(repo, base_tip_tree, final_tree)?;
        writes.index_from_tree = Some(final_tree);
    }
    let report = Report::new(
        "cherry-pick",
        PickReport {
            branch: name.clone(),
            created_branch,
            r#ref: RefUpdate {
                r#ref: full,
                from: (!created_branch).then(|| old_tip.to_string()),
                to: Some(new_tip.to_string()),
            },
            commits: made,
            bumps,
            image_lists,
        },
    );
    let pick = Pick {
        name,
        applied: merged.applied.len(),
        old_tip,
        new_tip,
        skipped: merged.skipped,
        lazy,
        new_charts,
        base_tip_tree,
        final_tree,
    };
    Ok((report, writes, pick))
}

/// The picked commits merged one by one onto the branch tree `base_tip_tree` (3-way, version
/// fields neutralized to the branch's so they never conflict).
struct Merged {
    /// The tree after each applied pick.
    trees: Vec<gix::ObjectId>,
    /// The picks that changed something, in order.
    applied: Vec<gix::ObjectId>,
    /// The picks already on the branch.
    skipped: Vec<String>,
    /// Chart.yaml path -> the branch's version, for every chart the series touches.
    touched_charts: BTreeMap<String, String>,
}

/// Merge `picks` onto `base_tip_tree` (the tip of branch `name`).
///
/// Errors (exit 3): a pick that conflicts, naming the files; (exit 2) nothing to apply.
fn merge_series(
    repo: &gix::Repository,
    name: &str,
    base_tip_tree: gix::ObjectId,
    branch_version_file: Option<&[u8]>,
    picks: &[gix::ObjectId],
) -> Result<Merged> {
    let mut probe = RootProbe::new(repo, base_tip_tree);
    let mut ours = base_tip_tree;
    let mut trees = Vec::new();
    let mut applied: Vec<gix::ObjectId> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut touched_charts: BTreeMap<String, String> = BTreeMap::new(); // Chart.yaml path -> branch version
    let labels = gix::merge::blob::builtin_driver::text::Labels {
        ancestor: Some("base".into()),
        current: Some(name.into()),
        other: Some("picked".into()),
    };
    for c in picks {
        let commit = repo.find_commit(*c)?;
        let parent = commit
            .parent_ids()
            .next()
            .map(|p| p.detach())
            .ok_or_else(|| anyhow!("no parent"))?;
        let base = repo.find_commit(parent)?.tree_id()?.detach();
        let theirs = commit.tree_id()?.detach();
        // Charts this commit touches, with the branch's own version.
        // Charts wherever the series touches a folder holding a Chart.yaml (not only under
        // addonsPath: charts repositories keep them at the root, Aether's layout).
        for ch in crate::chart::discover::diff_trees(repo, base, theirs, "")? {
            if let Some(root) = probe.owner(&ch.path) {
                let cy = crate::chart::meta::file_of(&root);
                if let std::collections::btree_map::Entry::Vacant(slot) = touched_charts.entry(cy) {
                    if let Some(v) = git::blob_at(repo, base_tip_tree, slot.key())?
                        .and_then(|d| crate::chart::meta::parse(&d).version)
                    {
                        slot.insert(v);
                    }
                }
            }
        }
        let base_n = neutralize(repo, base, branch_version_file, &touched_charts)?;
        let theirs_n = neutralize(repo, theirs, branch_version_file, &touched_charts)?;
        let mut outcome = repo
            .merge_trees(base_n, ours, theirs_n, labels, repo.tree_merge_options()?)
            .with_context(|| format!("merging {}", &c.to_string()[..12]))?;
        let how = gix::merge::tree::TreatAsUnresolved::default();
        if outcome.has_unresolved_conflicts(how) {
            let files: BTreeSet<String> = outcome
                .conflicts
                .iter()
                .filter(|x| x.is_unresolved(how))
                .map(|x| x.ours.location().to_string())
                .collect();
            return Err(UserError::refused(format!(
                "{} does not apply to {name}: conflicts in {}",
                &c.to_string()[..12],
                files.into_iter().collect::<Vec<_>>().join(", ")
            ))
            .hint("nothing was changed; resolve it with a plain `git cherry-pick` on the branch, or pick the commits it depends on first")
            .into());
        }
        let merged = outcome.tree.write()?.detach();
        if merged == ours {
            skipped.push(c.to_string());
            continue;
        }
        ours = merged;
        applied.push(*c);
        trees.push(ours);
    }

    if applied.is_empty() {
        return Err(UserError::input(format!(
            "nothing to apply: {} already on {name} (or empty)",
            if picks.is_empty() {
                "the range is empty".to_string()
            } else {
                format!("{} commit(s) are", picks.len())
            }
        ))
        .hint("nothing was changed")
        .into());
    }
    Ok(Merged {
        trees,
        applied,
        skipped,
        touched_charts,
    })
}

/// The version fields the series moves, once per run: VERSION and each touched chart to the
/// branch's version with patch + 1 (skipping versions used anywhere), `-dev` versions of charts
/// the series adds made release versions, and version.yml following the charts.
struct Bumped {
    /// The branch tree with every version field set.
    final_tree: gix::ObjectId,
    /// The version changes.
    bumps: Vec<VersionChange>,
    /// Chart.yaml paths of charts new on the branch.
    new_charts: BTreeSet<String>,
}

/// Set the version fields of the merged tree of branch `name` (see [`Bumped`]).
///
/// Errors: a version that cannot be bumped (exit 2, naming the file); a version.yml that cannot
/// be read.
fn bump_versions(
    repo: &gix::Repository,
    settings: &Settings,
    name: &str,
    base_tip_tree: gix::ObjectId,
    branch_version_file: Option<&[u8]>,
    merged: &Merged,
) -> Result<Bumped> {
    // Once per run: touched charts and VERSION to the branch's version, patch + 1.
    let mut bumps: Vec<VersionChange> = Vec::new();
    let mut new_charts: BTreeSet<String> = BTreeSet::new();
    let change = |name: &str, path: &str, from: Option<&str>, to: &str| VersionChange {
        name: name.to_string(),
        path: path.to_string(),
        from: from.map(str::to_string),
        to: Some(to.to_string()),
    };
    let mut final_tree = merged.trees.last().copied().unwrap_or(base_tip_tree);
    let field_err = |path: &str, e: crate::version_bump::FieldError| -> anyhow::Error {
        UserError::input(format!("{path} on {name}: cannot bump the version: {e}")).into()
    };
    if let Some(vf) = branch_version_file {
        let text = String::from_utf8_lossy(vf);
        // Skip versions that already have a release tag (the line may have moved on elsewhere).
        let tags: BTreeSet<String> = repo
            .references()?
            .tags()?
            .filter_map(|r| r.ok().map(|r| r.name().shorten().to_string()))
            .collect();
        let edit = crate::version_bump::edit_version_file(&text, |v| {
            next_free(v, |c| {
                tags.contains(&format!("v{c}")) || tags.contains(&c.to_string())
            })
        })
        .map_err(|e| field_err(VERSION_FILE, e))?;
        final_tree = with_file(repo, final_tree, VERSION_FILE, edit.text.as_bytes())?;
        bumps.push(change(
            VERSION_FILE,
            VERSION_FILE,
            Some(&edit.old),
            &edit.new,
        ));
    }
    // Chart versions must stay unique across the whole history (every branch and tag).
    // One allocator (history::allocate): a version another content uses is skipped; the same
    // content as elsewhere (the fix picked onto the same base) keeps that version.
    let used = UsedVersions::scan(repo, merged.touched_charts.keys())?;
    let mut chart_versions = BTreeMap::new();
    for cy in merged.touched_charts.keys() {
        // The branch's own Chart.yaml (versions were kept at the branch's during the merges).
        if let Some(data) = git::blob_at(repo, final_tree, cy)? {
            let text = String::from_utf8_lossy(&data);
            let folder = crate::history::allocate::content_root(cy);
            let content_with = |c: &semver::Version| -> Option<gix::ObjectId> {
                let edited = crate::version_bump::edit_chart_yaml(&text, |_| c.clone()).ok()?;
                let tree = with_file(repo, final_tree, cy, edited.text.as_bytes()).ok()?;
                match folder {
                    "" => Some(tree),
                    f => git::lookup_path(repo, tree, f).ok()?.map(|(id, _)| id),
                }
            };
            let edit = crate::version_bump::edit_chart_yaml(&text, |v| {
                next_free(v, |c| used.taken(cy, &c.to_string(), content_with(c)))
            })
            .map_err(|e| field_err(cy, e))?;
            final_tree = with_file(repo, final_tree, cy, edit.text.as_bytes())?;
            let chart = crate::chart::meta::parse(edit.text.as_bytes()).name;
            bumps.push(change(
                chart.as_deref().unwrap_or(cy),
                cy,
                Some(&edit.old),
                &edit.new,
            ));
            if let Some(n) = chart {
                chart_versions.insert(n, edit.new.clone());
            }
        }
    }
    // Charts the series adds arrive with master's version: never a `-dev` on the branch.
    for ch in crate::chart::discover::diff_trees(repo, base_tip_tree, final_tree, "")? {
        if ch.kind != crate::chart::discover::FileChangeKind::Added
            || !ch.path.ends_with("/Chart.yaml")
        {
            continue;
        }
        let Some(data) = git::blob_at(repo, final_tree, &ch.path)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&data);
        if crate::chart::meta::parse(&data)
            .version
            .and_then(|v| semver::Version::parse(&v).ok())
            .is_some_and(|v| !v.pre.is_empty())
        {
            let edit = crate::version_bump::edit_chart_yaml(&text, crate::version_bump::strip_dev)
                .map_err(|e| field_err(&ch.path, e))?;
            final_tree = with_file(repo, final_tree, &ch.path, edit.text.as_bytes())?;
            let chart = crate::chart::meta::parse(edit.text.as_bytes()).name;
            // A chart new on the branch: its `-dev` version made a release version.
            new_charts.insert(ch.path.clone());
            bumps.push(change(
                chart.as_deref().unwrap_or(&ch.path),
                &ch.path,
                Some(&edit.old),
                &edit.new,
            ));
            if let Some(n) = chart {
                chart_versions.insert(n, edit.new.clone());
            }
        }
    }
    // version.yml follows the charts in the same commit, so the branch passes `git release check`.
    let vf = &settings.version_file;
    if !chart_versions.is_empty() {
        if let Some(data) = git::blob_at(repo, final_tree, vf)? {
            let text = String::from_utf8_lossy(&data).into_owned();
            let listed = crate::version_yml::read(vf, &data)?;
            let (new_text, _) = crate::version_yml::set_versions(vf, &text, &chart_versions)?;
            if new_text != text {
                final_tree = with_file(repo, final_tree, vf, new_text.as_bytes())?;
                for a in listed
                    .iter()
                    .filter(|a| chart_versions.contains_key(&a.name))
                {
                    bumps.push(change(
                        &a.name,
                        vf,
                        a.version.as_deref(),
                        &chart_versions[&a.name],
                    ));
                }
            }
        }
    }
    Ok(Bumped {
        final_tree,
        bumps,
        new_charts,
    })
}

/// The image lists of the branch follow the picked changes: the difference the picks make to what
/// the charts deploy (between `base_tip_tree` and `*final_tree`) is applied to the branch's own
/// lists, whose other lines stay. Only where the branch keeps image lists.
///
/// Errors: a chart whose images cannot be read (exit 2); unreadable objects.
fn follow_image_lists(
    repo: &gix::Repository,
    settings: &Settings,
    base_tip_tree: gix::ObjectId,
    final_tree: &mut gix::ObjectId,
) -> Result<Vec<ListChange>> {
    let mut image_lists = Vec::new();
    // The image lists follow when the picked changes change what the charts deploy: the
    // difference the picks make is applied to the branch's lists (lines the branch has of its own
    // stay).
    // Only where the branch keeps image lists (a platform repository, not a component's).
    let has_lists = git::lookup_path(repo, base_tip_tree, &settings.images_path)?.is_some();
    let (before, after) = if has_lists {
        crate::derived::lists_before_after(repo, settings, base_tip_tree, *final_tree)?
    } else {
        Default::default()
    };
    let empty = BTreeSet::new();
    for (kind, want) in &after.kinds {
        let had = before.kinds.get(kind).unwrap_or(&empty);
        if had == want {
            continue;
        }
        let rel = crate::derived::list_path(settings, kind);
        let mut list: BTreeSet<String> = git::blob_at(repo, *final_tree, &rel)?
            .map(|d| crate::image::list::parse(&String::from_utf8_lossy(&d)))
            .unwrap_or_default()
            .into_iter()
            .collect();
        let (gone, new): (Vec<_>, Vec<_>) = (
            had.difference(want).cloned().collect(),
            want.difference(had).cloned().collect(),
        );
        for g in &gone {
            list.remove(g);
        }
        list.extend(new.iter().cloned());
        *final_tree = with_file(
            repo,
            *final_tree,
            &rel,
            crate::image::list::text(&list).as_bytes(),
        )?;
        image_lists.push(ListChange {
            path: rel,
            added: new,
            removed: gone,
        });
    }
    Ok(image_lists)
}

/// The commits of the series on top of `old_tip`, one per applied pick with its tree: author and
/// message kept, a `(cherry picked from commit …)` trailer, the committer is the user; signed
/// when `sign`. Returns them and the new tip.
///
/// Errors: no identity (exit 2), signing, writing objects.
fn make_commits(
    repo: &gix::Repository,
    old_tip: gix::ObjectId,
    applied: &[gix::ObjectId],
    trees: &[gix::ObjectId],
    sign: bool,
) -> Result<(Vec<Picked>, gix::ObjectId)> {
    // Commits: authors kept, `(cherry picked from commit …)` trailer, committer = us.
    let committer = repo
        .committer()
        .ok_or_else(|| UserError::input("commits need an identity: set user.name and user.email"))?
        .context("reading the committer identity")?
        .to_owned()?;
    // commit.gpgSign signs the picked commits, as `git cherry-pick` does.
    let signer = if sign {
        Some(crate::signing::Signer::from_config(repo)?)
    } else {
        None
    };
    let mut parent = old_tip;
    let mut made = Vec::new();
    for (c, tree) in applied.iter().zip(trees) {
        let orig = repo.find_commit(*c)?;
        let decoded = orig.decode()?;
        let mut message = decoded.message.to_string();
        while message.ends_with('\n') {
            message.pop();
        }
        message.push_str(&cherry_trailer(&message, c));
        let obj = gix::objs::Commit {
            tree: *tree,
            parents: vec![parent].into(),
            author: decoded.author()?.to_owned()?,
            committer: committer.clone(),
            encoding: None,
            message: message.into(),
            extra_headers: Vec::new(),
        };
        let id = crate::signing::write_commit(repo, &obj, signer.as_ref())?;
        made.push(Picked {
            from: c.to_string(),
            to: id.to_string(),
        });
        parent = id;
    }
    Ok((made, parent))
}

fn print(r: &Report<PickReport>, p: &Pick, out: &mut dyn Write) -> Result<()> {
    let (verb, create) = (
        r.verb("applied", "would apply"),
        r.verb("created", "would create"),
    );
    let name = &p.name;
    writeln!(
        out,
        "{verb} {} commit(s) to {name}: {} -> {}",
        p.applied,
        &p.old_tip.to_string()[..12],
        &p.new_tip.to_string()[..12]
    )?;
    for b in &r.data.bumps {
        let what = if b.path.ends_with(&b.name) || b.path.ends_with("/Chart.yaml") {
            b.path.clone()
        } else {
            format!("{} ({})", b.path, b.name)
        };
        writeln!(
            out,
            "  bump {what}: {} -> {}{}",
            b.from.as_deref().unwrap_or("(none)"),
            b.to.as_deref().unwrap_or("(none)"),
            if p.new_charts.contains(&b.path) {
                " (new chart)"
            } else {
                ""
            }
        )?;
    }
    for l in &r.data.image_lists {
        writeln!(
            out,
            "  images {}: +{} -{}",
            l.path,
            l.added.len(),
            l.removed.len()
        )?;
    }
    for s in &p.skipped {
        writeln!(out, "  skipped {} (already on {name})", &s[..12])?;
    }
    for b in &p.lazy {
        writeln!(
            out,
            "  {create} {} at {} ({})",
            b.branch,
            &b.commit[..12],
            b.start
        )?;
    }
    Ok(())
}

/// The unified diff the picks make to the branch.
fn print_diff(repo: &gix::Repository, p: &Pick, out: &mut dyn Write) -> Result<()> {
    for ch in crate::chart::discover::diff_trees(repo, p.base_tip_tree, p.final_tree, "")? {
        let old = ch.old.map(|(id, k)| entry(repo, id, k)).transpose()?;
        let new = ch.new.map(|(id, k)| entry(repo, id, k)).transpose()?;
        out.write_all(
            crate::worktree::unified_diff(&ch.path, old.as_ref(), new.as_ref()).as_bytes(),
        )?;
    }
    Ok(())
}

/// The `(cherry picked from commit …)` line to append, as `git cherry-pick -x` does: directly
/// under a trailer block (`Change-Id:`, `Signed-off-by:`), so Gerrit and `git interpret-trailers`
/// still see the trailers; after a blank line otherwise.
fn cherry_trailer(message: &str, commit: &gix::ObjectId) -> String {
    let last = message.rsplit("\n\n").next().unwrap_or("");
    let is_trailer = |l: &str| {
        l.split_once(": ").is_some_and(|(k, _)| {
            !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }) || l.starts_with("(cherry picked from commit ")
    };
    let trailers =
        message.contains("\n\n") && !last.trim().is_empty() && last.lines().all(is_trailer);
    let sep = if trailers { "\n" } else { "\n\n" };
    format!("{sep}(cherry picked from commit {commit})\n")
}

fn entry(
    repo: &gix::Repository,
    id: gix::ObjectId,
    kind: gix::objs::tree::EntryKind,
) -> Result<crate::files::FileEntry> {
    Ok(crate::files::FileEntry {
        kind: git::kind_of(kind),
        data: repo.find_blob(id)?.take_data(),
    })
}

/// Whether the index has staged changes against HEAD's tree.
fn index_differs_from_head(repo: &gix::Repository) -> Result<bool> {
    let index = repo.index_or_empty()?;
    let head_tree = repo.head_tree_id_or_empty()?.detach();
    let fresh = repo.index_from_tree(&head_tree)?;
    let a: Vec<_> = index
        .entries()
        .iter()
        .map(|e| (e.path(&index).to_owned(), e.id, e.mode))
        .collect();
    let b: Vec<_> = fresh
        .entries()
        .iter()
        .map(|e| (e.path(&fresh).to_owned(), e.id, e.mode))
        .collect();
    Ok(a != b)
}

/// The work-tree changes that take a checkout of tree `old` to tree `new`.
fn checkout_changes(
    repo: &gix::Repository,
    old: gix::ObjectId,
    new: gix::ObjectId,
) -> Result<Vec<crate::worktree::Change>> {
    use crate::worktree::Change;
    let mut changes = Vec::new();
    for ch in crate::chart::discover::diff_trees(repo, old, new, "")? {
        changes.push(match ch.new {
            Some((id, kind)) => Change::WriteFile {
                path: ch.path,
                entry: entry(repo, id, kind)?,
            },
            None => Change::Remove { path: ch.path },
        });
    }
    Ok(changes)
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::testkit::TestRepo;

    /// A release 2.10.0 with its branch, and a fix of chart `web` on main after it.
    fn with_fix() -> (TestRepo, gix::ObjectId, gix::ObjectId) {
        let mut t = TestRepo::new();
        t.write("addons/web/Chart.yaml", "name: web\nversion: 0.4.0\n")
            .write("addons/web/values.yaml", "replicas: 1\n");
        let release = t.commit("release");
        t.tag("v2.10.0");
        let repo = t.repo();
        repo.reference(
            "refs/heads/release-2.10",
            release,
            gix::refs::transaction::PreviousValue::MustNotExist,
            "branch",
        )
        .unwrap();
        t.write("addons/web/Chart.yaml", "name: web\nversion: 0.5.0-dev\n");
        t.commit("next minor");
        t.write("addons/web/values.yaml", "replicas: 2\n");
        let fix = t.commit("web: two replicas");
        (t, release, fix)
    }

    #[test]
    fn a_pick_moves_the_branch_from_its_tip_and_bumps_the_chart_by_one_patch() {
        let (t, release, fix) = with_fix();
        let repo = t.repo();
        let settings = Settings::load(&repo, &Default::default()).unwrap();
        let args = CherryPickArgs {
            commits: vec![fix.to_string()],
            onto: "2.10".into(),
            ..Default::default()
        };
        let (report, writes, pick) = plan(&repo, &settings, &args, false).unwrap();
        assert_eq!(report.data.branch, "release-2.10");
        assert_eq!(writes.refs.len(), 1);
        let r = &writes.refs[0];
        assert_eq!(
            (r.name.as_str(), r.expected, r.to),
            ("refs/heads/release-2.10", Some(release), pick.new_tip)
        );
        assert!(writes.files.is_empty(), "the branch is not checked out");
        let bumps: Vec<(&str, Option<&str>, Option<&str>)> = report
            .data
            .bumps
            .iter()
            .map(|b| (b.path.as_str(), b.from.as_deref(), b.to.as_deref()))
            .collect();
        assert_eq!(
            bumps,
            [("addons/web/Chart.yaml", Some("0.4.0"), Some("0.4.1"))]
        );
        assert_eq!(report.data.commits[0].from, fix.to_string());
        // The picked commit's tree: the fix, and the branch's own version + 1 (not master's -dev).
        let tree = repo
            .find_commit(pick.new_tip)
            .unwrap()
            .tree_id()
            .unwrap()
            .detach();
        let chart = crate::git::blob_at(&repo, tree, "addons/web/Chart.yaml")
            .unwrap()
            .unwrap();
        assert_eq!(chart, b"name: web\nversion: 0.4.1\n");
        let values = crate::git::blob_at(&repo, tree, "addons/web/values.yaml")
            .unwrap()
            .unwrap();
        assert_eq!(values, b"replicas: 2\n");
        assert_eq!(
            repo.find_reference("refs/heads/release-2.10")
                .unwrap()
                .id()
                .detach(),
            release,
            "plan moves no ref"
        );
    }

    #[test]
    fn a_dry_run_keeps_every_object_in_memory() {
        let (t, _, fix) = with_fix();
        let repo = t.repo().with_object_memory();
        let settings = Settings::load(&repo, &Default::default()).unwrap();
        let args = CherryPickArgs {
            commits: vec![fix.to_string()],
            onto: "2.10".into(),
            ..Default::default()
        };
        let (_, _, pick) = plan(&repo, &settings, &args, false).unwrap();
        assert!(repo.find_commit(pick.new_tip).is_ok(), "in memory");
        assert!(
            t.repo().find_commit(pick.new_tip).is_err(),
            "nothing reached the object database"
        );
    }
}
