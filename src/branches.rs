//! Release-line and OEM branches: where one starts (the line's newest release, `--from`, lazy
//! branching at the commit that reached a version), and whether it exists. Used by `branch` and
//! by `cherry-pick`, which creates a missing branch on the way. Nothing here writes: the refs are
//! created by [`crate::plan::apply`].
//!
//! Sources: seed 002 ("发布 release 分支"), seed 004 (Aether's lazy branching), DOMAIN.md steps 4
//! and 5.

use anyhow::Result;
use serde::Serialize;

use crate::error::UserError;
use crate::git::{self, release_tags_by_commit, resolve_commit};
use crate::lines::{self, Target, Templates};
use crate::versions;

/// Where a branch starts, from `branch`'s flags (all `None`: the line's newest release).
#[derive(Debug, Clone, Default)]
pub struct Start {
    /// `--from REV`.
    pub from: Option<String>,
    /// `--at-version VERSION`: lazy branching.
    pub at_version: Option<String>,
    /// `--version-file PATH` (with `at_version`).
    pub version_file: Option<String>,
    /// `--chart PATH` (with `at_version`).
    pub chart: Option<String>,
}

/// One branch created, found or listed.
#[derive(Debug, Serialize, Clone)]
pub struct BranchInfo {
    /// Branch name, e.g. `release-2.10-acme`.
    pub branch: String,
    /// Release line `MAJOR.MINOR`.
    pub line: String,
    /// Customer, for an OEM branch.
    pub customer: Option<String>,
    /// Commit the branch points to.
    pub commit: String,
    /// `created`, `exists` (already at that commit) or `listed`.
    pub status: &'static str,
    /// Why it starts where it does (`--from`, a release tag, a version file…).
    pub start: String,
    /// With --list: the newest release tag of the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_release: Option<String>,
    /// With --list: the newest hotfix tag of the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_hotfix: Option<String>,
}

/// The newest release tag of `target`'s line: (name, commit).
pub fn newest_release(
    repo: &gix::Repository,
    target: &Target,
) -> Result<Option<(String, gix::ObjectId)>> {
    let mut best: Option<(String, semver::Version, gix::ObjectId)> = None;
    for (commit, tags) in release_tags_by_commit(repo)? {
        for (name, v) in tags {
            if !target.contains(&v) || !v.pre.is_empty() {
                continue;
            }
            if best
                .as_ref()
                .is_none_or(|b| versions::cmp_tags((&v, &name), (&b.1, &b.0)).is_gt())
            {
                best = Some((name, v, commit));
            }
        }
    }
    Ok(best.map(|(n, _, c)| (n, c)))
}

/// Plan the branch `target` names (and the line branch first for a OEM branch whose line has
/// none): where it starts and whether it must be created. Returns its tip. Appends each branch
/// to `done` (`status` `created` for those to create). Writes nothing.
pub fn ensure(
    repo: &gix::Repository,
    target: &Target,
    templates: &Templates,
    args: &Start,
    done: &mut Vec<BranchInfo>,
) -> Result<gix::ObjectId> {
    let (start, why) = if target.customer.is_some() {
        match &args.from {
            Some(f) => (resolve_commit(repo, f)?, format!("--from {f}")),
            None if repo
                .try_find_reference(
                    format!("refs/heads/{}", templates.line_branch(target)).as_str(),
                )?
                .is_some() =>
            {
                // The line branch exists (and may have grown): the OEM branch starts at its tip.
                let line = templates.line_branch(target);
                let tip = resolve_commit(repo, &format!("refs/heads/{line}"))?;
                (tip, format!("on {line}"))
            }
            None => {
                let line_target = Target {
                    customer: None,
                    ..target.clone()
                };
                let line_args = Start {
                    from: None,
                    ..args.clone()
                };
                let tip = ensure(repo, &line_target, templates, &line_args, done)?;
                (tip, format!("on {}", templates.line_branch(target)))
            }
        }
    } else if let Some(v) = &args.at_version {
        // --from, when given, is where the search starts.
        lazy_start(repo, v, args)?
    } else if let Some(f) = &args.from {
        (resolve_commit(repo, f)?, format!("--from {f}"))
    } else if let Some(remote) = remote_branch(repo, &templates.branch(target))? {
        // Someone already made this branch: follow it instead of recreating it from the tag.
        (remote.1, format!("as {}", remote.0))
    } else {
        match newest_release(repo, target)? {
            Some((tag, commit)) => (commit, format!("newest {} release {tag}", target.line())),
            None => {
                return Err(UserError::input(format!("no release tag of line {} yet", target.line()))
                    .hint("tag the release first (`git release tag`), or give a start with --from or --at-version")
                    .into())
            }
        }
    };
    let name = templates.branch(target);
    status(repo, &name, start).map(|status| {
        done.push(BranchInfo {
            branch: name.clone(),
            line: target.line(),
            customer: target.customer.clone(),
            commit: start.to_string(),
            status,
            start: why,
            newest_release: None,
            newest_hotfix: None,
        });
        start
    })
}

/// `refs/remotes/<remote>/<name>` for the first remote that has it: (short name, commit).
fn remote_branch(repo: &gix::Repository, name: &str) -> Result<Option<(String, gix::ObjectId)>> {
    let suffix = format!("/{name}");
    for r in repo.references()?.remote_branches()? {
        let Ok(mut r) = r else { continue };
        let short = r.name().shorten().to_string();
        if short.ends_with(&suffix) && short.matches('/').count() == name.matches('/').count() + 1 {
            return Ok(Some((short, r.peel_to_id()?.detach())));
        }
    }
    Ok(None)
}

/// Whether `refs/heads/<name>` can start at `start`: `created` when it does not exist (the
/// caller creates it, [`crate::plan::RefIntent`]), `exists` at that commit, `ahead` when it grew
/// from it. Writes nothing.
///
/// Errors (exit 3): the branch at another commit; a name that cannot be a ref next to others.
pub fn status(repo: &gix::Repository, name: &str, start: gix::ObjectId) -> Result<&'static str> {
    let full = format!("refs/heads/{name}");
    if let Some(mut r) = repo.try_find_reference(full.as_str())? {
        let at = r.peel_to_id()?.detach();
        if at == start {
            return Ok("exists");
        }
        // Grown since it was created (fixes picked onto it): still the same branch.
        if repo.merge_base(start, at)?.map(|id| id.detach()) == Some(start) {
            return Ok("ahead");
        }
        return Err(UserError::refused(format!(
            "branch {name} already exists at {}, not at {}",
            &at.to_string()[..12],
            &start.to_string()[..12]
        ))
        .hint("it was created earlier from another start; use it as it is, or delete it yourself if that is wrong")
        .into());
    }
    // A ref cannot be a file and a folder: report it plainly instead of a lock error.
    let mut prefix = String::new();
    for part in name.split('/') {
        if !prefix.is_empty() {
            if repo
                .try_find_reference(format!("refs/heads/{prefix}").as_str())?
                .is_some()
            {
                return Err(UserError::refused(format!("branch {name} cannot exist next to branch {prefix}: a ref cannot be a file and a folder"))
                    .hint("choose branch templates that do not nest, e.g. release-{line}-{customer}")
                    .into());
            }
            prefix.push('/');
        }
        prefix.push_str(part);
    }
    if repo
        .references()?
        .prefixed(format!("{full}/").as_str())?
        .next()
        .is_some()
    {
        return Err(UserError::refused(format!("branch {name} cannot exist: branches below {name}/ exist (a ref cannot be a file and a folder)")).into());
    }
    Ok("created")
}

/// Lazy branching (Aether, seed 004): the start of a component's release branch for version `v`.
/// A tag `v<v>` or `<v>` wins; otherwise the first commit of the first-parent history of `--from`
/// (default HEAD) whose version file (`--version-file`, default `VERSION`) or chart
/// (`--chart PATH`'s Chart.yaml `version`) reached `v`, in the newest stretch where it has it.
pub fn lazy_start(
    repo: &gix::Repository,
    v: &str,
    args: &Start,
) -> Result<(gix::ObjectId, String)> {
    let want = v.trim().trim_start_matches('v').to_string();
    if semver::Version::parse(&want).is_err() {
        return Err(UserError::input(format!("--at-version `{v}` is not a SemVer version")).into());
    }
    // A repository tag names the repository's version, not a chart's: it wins only for VERSION.
    let tags = if args.chart.is_some() {
        vec![]
    } else {
        vec![format!("v{want}"), want.clone()]
    };
    for t in tags {
        if let Some(mut r) = repo.try_find_reference(format!("refs/tags/{t}").as_str())? {
            let c = r.peel_to_commit()?.id;
            return Ok((c, format!("tag {t}")));
        }
    }
    let (path, is_chart) = match (&args.chart, &args.version_file) {
        (Some(c), _) => (format!("{}/Chart.yaml", c.trim_end_matches('/')), true),
        (None, Some(f)) => (f.clone(), false),
        (None, None) => ("VERSION".to_string(), false),
    };
    let tip = resolve_commit(repo, args.from.as_deref().unwrap_or("HEAD"))?;
    let mut found: Option<gix::ObjectId> = None;
    let mut last_blob: Option<(gix::ObjectId, Option<String>)> = None;
    let mut commit_id = tip;
    loop {
        let commit = repo.find_commit(commit_id)?;
        let tree = commit.tree_id()?.detach();
        let blob = git::lookup_path(repo, tree, &path)?.map(|(id, _)| id);
        let version = match (&blob, &last_blob) {
            (Some(b), Some((lb, lv))) if b == lb => lv.clone(),
            (Some(b), _) => {
                let data = repo.find_blob(*b)?.take_data();
                let v = read_version(&data, is_chart);
                last_blob = Some((*b, v.clone()));
                v
            }
            (None, _) => None,
        };
        if version.as_deref() == Some(want.as_str()) {
            found = Some(commit_id);
        } else if found.is_some() {
            break;
        }
        let parent = commit.parent_ids().next().map(|p| p.detach());
        match parent {
            Some(p) => commit_id = p,
            None => break,
        }
    }
    match found {
        Some(c) => Ok((c, format!("first commit where {path} is {want}"))),
        None => Err(UserError::input(format!(
            "{path} never reads {want} on the first-parent history of {}",
            args.from.as_deref().unwrap_or("HEAD")
        ))
        .hint("check --version-file/--chart, or give the start with --from")
        .into()),
    }
}

/// The version in a VERSION file (first line, optional `v`) or a Chart.yaml (`version:`).
fn read_version(data: &[u8], is_chart: bool) -> Option<String> {
    let data = crate::placeholders::strip_bom(data);
    if is_chart {
        crate::chart::meta::parse(data)
            .version
            .map(|v| v.trim_start_matches('v').to_string())
    } else {
        let text = String::from_utf8_lossy(data);
        text.lines()
            .next()
            .map(|l| l.trim().trim_start_matches('v').to_string())
    }
}

/// Release lines (`2.10`, from release tags and line branches) and OEM branches
/// (`2.10/acme`, only with `oem_branches`), sorted, each once: shell completion of `branch` and
/// `cherry-pick --onto` (oem_branches too) and of `log` (lines alone).
///
/// Errors: reading refs or the branch templates.
pub fn completion_targets(repo: &gix::Repository, oem_branches: bool) -> Result<Vec<String>> {
    let templates = lines::templates(repo, None, None)?;
    let mut out = std::collections::BTreeSet::new();
    for (_, v) in release_tags_by_commit(repo)?.values().flatten() {
        out.insert(format!("{}.{}", v.major, v.minor));
    }
    for r in repo.references()?.local_branches()? {
        let Some(r) = crate::git::listed(r) else {
            continue;
        };
        if let Some(t) = templates.classify(&r.name().shorten().to_string()) {
            match &t.customer {
                Some(c) if oem_branches => out.insert(format!("{}/{c}", t.line())),
                Some(_) => false,
                None => out.insert(t.line()),
            };
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_names() {
        let t = Templates::new(lines::DEFAULT_LINE_TEMPLATE, lines::DEFAULT_OEM_TEMPLATE).unwrap();
        assert_eq!(
            t.classify("release-2.10"),
            Some(Target::parse("2.10").unwrap())
        );
        assert_eq!(
            t.classify("release-2.10-acme"),
            Some(Target::parse("2.10/acme").unwrap())
        );
        assert_eq!(
            t.classify("release-2.10-big-co"),
            Some(Target::parse("2.10/big-co").unwrap())
        );
        assert_eq!(t.classify("main"), None);
        assert_eq!(t.classify("release-x"), None);
        let aether = Templates::new("aether-{line}", "aether-{line}-{customer}").unwrap();
        assert_eq!(
            aether.classify("aether-2.1"),
            Some(Target::parse("2.1").unwrap())
        );
    }

    #[test]
    fn versions_from_files() {
        assert_eq!(
            read_version(b"1.2.3-dev\n", false).as_deref(),
            Some("1.2.3-dev")
        );
        assert_eq!(read_version(b"v1.2.3\n", false).as_deref(), Some("1.2.3"));
        assert_eq!(
            read_version(b"name: x\nversion: 0.4.1\n", true).as_deref(),
            Some("0.4.1")
        );
    }
}
