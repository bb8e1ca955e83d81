//! `git release branch <line>[/<customer>]`: maintenance branches per release line, customer (OEM)
//! branches on top of them, lazy branching of component repos, and `--list`.
//!
//! Sources: seed 002 ("发布 release 分支": `release-2.10` after a release, OEM branches on it),
//! seed 004 (Aether: a component's release branch is created only when a fix must go there, at the
//! commit where the released version was made), DOMAIN.md steps 4 and 5.

use clap::Args;

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::branches::{self, BranchInfo, Start};
use crate::git::release_tags_by_commit;
use crate::lines::{self, Target};
use crate::plan::{Plan, RefIntent};
use crate::report::{RefUpdate, Report, Warning};
use crate::versions;

/// `git release branch`
#[derive(Args, Debug, Default, Clone)]
pub struct BranchArgs {
    /// Release line, optionally with a customer: 2.10 or 2.10/acme.
    #[arg(value_name = "LINE[/CUSTOMER]", required_unless_present = "list")]
    pub target: Option<String>,
    /// Start point [default: the newest release tag of the line; for a customer, the line's branch].
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// Lazy branching: start at the first commit (first-parent history) where the version file reached VERSION; a tag for that version wins.
    #[arg(long, value_name = "VERSION")]
    pub at_version: Option<String>,
    /// With --at-version: the plain-text version file [default: VERSION].
    #[arg(long, value_name = "PATH", conflicts_with = "chart")]
    pub version_file: Option<String>,
    /// With --at-version: read the version from this chart's Chart.yaml instead.
    #[arg(long, value_name = "PATH")]
    pub chart: Option<String>,
    /// Branch name template for this run ({line}, {customer}).
    #[arg(long, value_name = "TEMPLATE")]
    pub template: Option<String>,
    /// List release lines, OEM branches and their newest release and hotfix tags.
    #[arg(long, conflicts_with_all = ["target", "from", "at_version"])]
    pub list: bool,
    /// Print what would be created; create nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// Run `git release branch`: `--list`, or [`plan`] the branches, then (unless `--dry-run`)
/// create them in one ref transaction, then report.
pub fn run(args: BranchArgs) -> Result<()> {
    let repo = crate::open::repository()?;
    let mut out = std::io::stdout().lock();
    if args.list {
        return list(&repo, &args, &mut out);
    }
    let (mut report, writes) = plan(&repo, &args)?;
    report.dry_run = args.dry_run;
    if !args.dry_run {
        let _lock = crate::journal::lock(&repo, "branch")?;
        crate::plan::apply(&repo, &writes)?;
    }
    report.emit(args.json, &mut out, print)
}

/// What `branch` creates (or finds), as `--json` prints it inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct BranchReport {
    /// Every branch the target needs (the line's first, for an OEM branch whose line has none).
    pub branches: Vec<BranchInfo>,
    /// The refs created: `{"ref", "from": null, "to"}`.
    pub refs: Vec<RefUpdate>,
}

/// The branches `args.target` needs, and the refs to create for them. Writes nothing.
///
/// Errors: a bad target or template (exit 2), no start (exit 2), a branch at another commit
/// (exit 3).
pub(crate) fn plan(
    repo: &gix::Repository,
    args: &BranchArgs,
) -> Result<(Report<BranchReport>, Plan)> {
    let target = Target::parse(args.target.as_deref().unwrap_or_default())?;
    let templates = lines::templates(repo, Some(&target), args.template.as_deref())?;
    let start = Start {
        from: args.from.clone(),
        at_version: args.at_version.clone(),
        version_file: args.version_file.clone(),
        chart: args.chart.clone(),
    };
    let mut done = Vec::new();
    branches::ensure(repo, &target, &templates, &start, &mut done)?;
    let mut writes = Plan::new("branch");
    for b in done.iter().filter(|b| b.status == "created") {
        writes.refs.push(RefIntent {
            name: format!("refs/heads/{}", b.branch),
            expected: None,
            to: gix::ObjectId::from_hex(b.commit.as_bytes())?,
            log: format!("git release branch: created at {}", b.commit),
        });
    }
    let refs = writes
        .refs
        .iter()
        .map(|r| RefUpdate {
            r#ref: r.name.clone(),
            from: None,
            to: Some(r.to.to_string()),
        })
        .collect();
    let line_created = target.customer.is_none() && done.iter().any(|b| b.status == "created");
    let mut report = Report::new(
        "branch",
        BranchReport {
            branches: done,
            refs,
        },
    );
    if line_created {
        // Issue 20: master's next chart versions must stay above every patch of this line.
        report.warnings.push(Warning::from(format!(
            "master's charts should now move to the next minor, above every patch {}.{} will get: run `git release bump --next-minor --commit` on master",
            target.major, target.minor
        )));
    }
    Ok((report, writes))
}

fn print(r: &Report<BranchReport>, out: &mut dyn Write) -> Result<()> {
    for b in &r.data.branches {
        let what = match b.status {
            "created" => r.verb("created", "would create"),
            _ => "exists",
        };
        let at = if b.status == "ahead" { "from" } else { "at" };
        writeln!(
            out,
            "{what} {} {at} {} ({})",
            b.branch,
            &b.commit[..12],
            b.start
        )?;
        match b.status {
            "exists" => writeln!(out, "  (already at that commit; nothing to do)")?,
            "ahead" => writeln!(
                out,
                "  (already there, with commits on top of that start; nothing to do)"
            )?,
            _ => {}
        }
    }
    Ok(())
}

fn list(repo: &gix::Repository, args: &BranchArgs, out: &mut dyn Write) -> Result<()> {
    let templates = lines::templates(repo, None, None)?;
    // Per line, every release and hotfix tag with its commit, newest first: a branch shows the
    // newest of its line that it contains (an OEM branch's own, not the line's).
    let releases = release_tags_by_commit(repo)?;
    type Tagged = Vec<(semver::Version, String, gix::ObjectId)>;
    let mut by_line: BTreeMap<(u64, u64), Tagged> = BTreeMap::new();
    for (commit, list) in &releases {
        for (name, v) in list {
            by_line
                .entry((v.major, v.minor))
                .or_default()
                .push((v.clone(), name.clone(), *commit));
        }
    }
    let prefix = crate::settings::raw(repo)("hotfixTagPrefix").unwrap_or_else(|| "hotfix/".into());
    let mut hotfixes: BTreeMap<(u64, u64), Tagged> = BTreeMap::new();
    for r in repo
        .references()?
        .prefixed(format!("refs/tags/{prefix}").as_str())?
    {
        let Some(mut r) = crate::git::listed(r) else {
            continue;
        };
        let name = r.name().shorten().to_string();
        let short = name.trim_start_matches(prefix.as_str()).to_string();
        if let Some(v) = versions::parse_tag(&short, None).filter(versions::is_hotfix_version) {
            let Some(c) = crate::git::ref_commit(&mut r) else {
                continue;
            };
            hotfixes
                .entry((v.major, v.minor))
                .or_default()
                .push((v, name, c.id));
        }
    }
    for list in by_line.values_mut().chain(hotfixes.values_mut()) {
        list.sort_by(|a, b| versions::cmp_tags((&b.0, &b.1), (&a.0, &a.1)));
    }
    let contained = |list: Option<&Tagged>, tip: gix::ObjectId| -> Option<String> {
        list?.iter().find_map(|(_, name, c)| {
            let base = repo.merge_base(*c, tip).ok().flatten()?.detach();
            (*c == tip || base == *c).then(|| name.clone())
        })
    };
    let mut rows = Vec::new();
    for r in repo.references()?.local_branches()? {
        let Some(mut r) = crate::git::listed(r) else {
            continue;
        };
        let name = r.name().shorten().to_string();
        let Some(t) = templates.classify(&name) else {
            continue;
        };
        let Some(commit) = crate::git::ref_commit(&mut r).map(|c| c.id) else {
            continue;
        };
        let key = (t.major, t.minor);
        rows.push(BranchInfo {
            branch: name,
            line: t.line(),
            customer: t.customer.clone(),
            commit: commit.to_string(),
            status: "listed",
            start: String::new(),
            newest_release: contained(by_line.get(&key), commit),
            newest_hotfix: contained(hotfixes.get(&key), commit),
        });
    }
    rows.sort_by(|a, b| {
        let k = |x: &BranchInfo| {
            (
                Target::parse(&x.line)
                    .map(|t| (t.major, t.minor))
                    .unwrap_or((0, 0)),
                x.customer.clone(),
            )
        };
        k(a).cmp(&k(b))
    });
    let report = Report::new("branch", BranchList { branches: rows });
    report.emit(args.json, out, |r, out| print_list(&r.data.branches, out))
}

/// What `branch --list --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct BranchList {
    /// Every release-line and OEM branch, by line, then customer.
    pub branches: Vec<BranchInfo>,
}

fn print_list(rows: &[BranchInfo], out: &mut dyn Write) -> Result<()> {
    let mut table = vec![[
        "BRANCH",
        "LINE",
        "CUSTOMER",
        "COMMIT",
        "NEWEST RELEASE",
        "NEWEST HOTFIX",
    ]
    .map(String::from)];
    for r in rows {
        table.push([
            r.branch.clone(),
            r.line.clone(),
            r.customer.clone().unwrap_or_else(|| "-".into()),
            r.commit[..12].to_string(),
            r.newest_release.clone().unwrap_or_else(|| "-".into()),
            r.newest_hotfix.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let table: Vec<Vec<String>> = table.into_iter().map(Vec::from).collect();
    crate::table::write_table(out, &table)?;
    Ok(())
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::testkit::TestRepo;

    #[test]
    fn a_line_and_its_oem_branch_are_planned_as_refs_that_must_not_exist() {
        let mut t = TestRepo::new();
        t.write("VERSION", "2.10.0\n");
        let release = t.commit("release");
        t.tag("v2.10.0");
        t.write("VERSION", "2.11.0-dev\n");
        t.commit("next");
        let args = BranchArgs {
            target: Some("2.10/acme".into()),
            ..Default::default()
        };
        let (report, writes) = plan(&t.repo(), &args).unwrap();
        let names: Vec<(&str, &str)> = report
            .data
            .branches
            .iter()
            .map(|b| (b.branch.as_str(), b.status))
            .collect();
        assert_eq!(
            names,
            [
                ("release-2.10", "created"),
                ("release-2.10-acme", "created")
            ]
        );
        let refs: Vec<(&str, Option<gix::ObjectId>, gix::ObjectId)> = writes
            .refs
            .iter()
            .map(|r| (r.name.as_str(), r.expected, r.to))
            .collect();
        assert_eq!(
            refs,
            [
                ("refs/heads/release-2.10", None, release),
                ("refs/heads/release-2.10-acme", None, release),
            ]
        );
        assert!(t
            .repo()
            .try_find_reference("refs/heads/release-2.10")
            .unwrap()
            .is_none());
        crate::plan::apply(&t.repo(), &writes).unwrap();
        let (again, writes) = plan(&t.repo(), &args).unwrap();
        assert!(again.data.branches.iter().all(|b| b.status == "exists"));
        assert!(writes.is_empty());
    }

    #[test]
    fn a_ref_that_appeared_meanwhile_stops_the_whole_transaction() {
        let mut t = TestRepo::new();
        t.write("VERSION", "2.10.0\n");
        t.commit("release");
        t.tag("v2.10.0");
        let args = BranchArgs {
            target: Some("2.10/acme".into()),
            ..Default::default()
        };
        let (_, writes) = plan(&t.repo(), &args).unwrap();
        // Someone creates the OEM branch between the plan and the writer.
        let repo = t.repo();
        let head = repo.head_id().unwrap().detach();
        repo.reference(
            "refs/heads/release-2.10-acme",
            head,
            gix::refs::transaction::PreviousValue::MustNotExist,
            "elsewhere",
        )
        .unwrap();
        let err = crate::plan::apply(&t.repo(), &writes).unwrap_err();
        assert!(format!("{err:#}").contains("appeared meanwhile"), "{err:#}");
        assert!(
            t.repo()
                .try_find_reference("refs/heads/release-2.10")
                .unwrap()
                .is_none(),
            "no ref of the plan was written"
        );
    }
}
