//! `git release contains COMMIT`: every release tag, hotfix tag and release/OEM branch that has a
//! change, as the commit itself or as a cherry-pick of it (seed 002's hotfix week starts with
//! "which customers already have this fix?"; `git tag --contains` misses every pick).

use clap::Args;

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::git;
use crate::history::contains::{self, Equivalent, How};
use crate::history::refs::{self, RefKind, ReleaseRef};
use crate::settings::Settings;

/// `git release contains`
#[derive(Args, Debug, Default)]
pub struct ContainsArgs {
    /// The change (any revspec): the fix as committed on master, or any cherry-pick of it.
    #[arg(value_name = "COMMIT")]
    pub commit: String,
    /// List every ref that lacks the change [default: branches, and each line's newest release or hotfix when it lacks it].
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// One ref in the report.
#[derive(Debug, Serialize)]
pub(crate) struct RefReport {
    /// Short ref name: `v2.10.3`, `hotfix/v2.10.2-20261122-p1`, `release-2.10`.
    pub r#ref: String,
    /// `release`, `hotfix` or `branch`.
    pub kind: RefKind,
    /// Release line `MAJOR.MINOR`.
    pub line: String,
    /// Customer of an OEM branch.
    pub customer: Option<String>,
    /// The commit the ref points to.
    pub commit: String,
    /// Whether the ref has the change.
    pub contains: bool,
    /// The nearest commit of the ref's history that carries the change, and how it carries it.
    pub via: Option<Equivalent>,
}

/// What `contains --json` prints inside the [`crate::report::Report`] envelope (whose `rev` is
/// the commit asked about).
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The commit asked about (full id).
    #[serde(skip)]
    pub commit: String,
    /// Its subject.
    pub subject: String,
    /// Every commit found to carry the change, the one asked about first.
    pub equivalents: Vec<Equivalent>,
    /// Every release tag, hotfix tag and release branch: releases and hotfixes oldest first,
    /// then branches.
    pub refs: Vec<RefReport>,
    /// Commits read.
    pub walked: usize,
}

/// Run `git release contains`.
pub fn run(args: ContainsArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Default::default())?;
    let stdout = std::io::stdout();
    contains_cmd(&repo, &settings, &args, &mut stdout.lock())
}

/// Answer for `args.commit` in `repo`, written to `out` as a table or JSON.
///
/// Errors: a revspec that names no commit (exit 2); unreadable refs or objects.
pub(crate) fn contains_cmd(
    repo: &gix::Repository,
    settings: &Settings,
    args: &ContainsArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let commit = git::resolve_commit(repo, &args.commit)?;
    let templates = crate::lines::templates(repo, None, None)?;
    let mut all: Vec<ReleaseRef> = refs::tags(repo, &settings.hotfix_tag_prefix)?;
    all.extend(refs::branches(repo, &templates)?);
    let answer = contains::contains(repo, commit, all)?;
    let report = Report {
        commit: commit.to_string(),
        subject: answer.equivalents[0].subject.clone(),
        refs: answer
            .verdicts
            .iter()
            .map(|v| RefReport {
                r#ref: v.r#ref.name.clone(),
                kind: v.r#ref.kind,
                line: v.r#ref.line.clone(),
                customer: v.r#ref.customer.clone(),
                commit: v.r#ref.commit.to_string(),
                contains: v.via.is_some(),
                via: v.via.map(|i| answer.equivalents[i].clone()),
            })
            .collect(),
        equivalents: answer.equivalents,
        walked: answer.walked,
    };
    let mut envelope = crate::report::Report::new("contains", report);
    envelope.rev = Some(commit.to_string());
    envelope.emit(args.json, out, |r, out| {
        print_report(&r.data, args.all, out)
    })
}

fn how(h: How) -> &'static str {
    match h {
        How::SameCommit => "same commit",
        How::CherryPickTrailer => "cherry-pick",
        How::PatchId => "same patch",
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn print_report(r: &Report, all: bool, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{} {}", short(&r.commit), r.subject)?;
    if r.equivalents.len() > 1 {
        writeln!(out, "carried by {} commits:", r.equivalents.len())?;
        for e in &r.equivalents {
            writeln!(
                out,
                "  {}  {:<12}  {}",
                short(&e.commit),
                how(e.how),
                e.subject
            )?;
        }
    }
    let (has, lacks): (Vec<&RefReport>, Vec<&RefReport>) = r.refs.iter().partition(|x| x.contains);
    writeln!(out)?;
    if has.is_empty() {
        writeln!(
            out,
            "no release tag, hotfix tag or release branch contains it"
        )?;
    } else {
        writeln!(out, "contained in {} ref(s):", has.len())?;
        let mut rows = vec![["REF", "KIND", "LINE", "VIA", "HOW"]
            .map(String::from)
            .to_vec()];
        // Newest first: branches, then releases and hotfixes from the newest.
        for x in has
            .iter()
            .filter(|x| x.kind == RefKind::Branch)
            .chain(has.iter().rev().filter(|x| x.kind != RefKind::Branch))
        {
            let via = x.via.as_ref().expect("contains");
            rows.push(vec![
                x.r#ref.clone(),
                kind(x.kind).into(),
                x.line.clone(),
                short(&via.commit).into(),
                how(via.how).into(),
            ]);
        }
        crate::table::write_table(out, &rows)?;
    }
    if lacks.is_empty() {
        return Ok(());
    }
    // Without --all: every branch, and each line's newest release or hotfix when that one lacks
    // the change (a line whose newest tag has it is covered; its older tags are history, and a
    // pre-release tagged before the fix must not make the line look unfixed).
    let mut newest: BTreeMap<&str, &RefReport> = BTreeMap::new();
    for x in r.refs.iter().filter(|x| x.kind != RefKind::Branch) {
        newest.insert(x.line.as_str(), x);
    }
    let shown: Vec<&&RefReport> = lacks
        .iter()
        .filter(|x| {
            all || x.kind == RefKind::Branch
                || newest
                    .get(x.line.as_str())
                    .is_some_and(|n| std::ptr::eq(*n, **x))
        })
        .collect();
    writeln!(out)?;
    writeln!(out, "not in {} ref(s):", lacks.len())?;
    let mut rows = vec![["REF", "KIND", "LINE", "COMMIT"].map(String::from).to_vec()];
    for x in shown
        .iter()
        .filter(|x| x.kind == RefKind::Branch)
        .chain(shown.iter().rev().filter(|x| x.kind != RefKind::Branch))
    {
        rows.push(vec![
            x.r#ref.clone(),
            kind(x.kind).into(),
            x.line.clone(),
            short(&x.commit).into(),
        ]);
    }
    crate::table::write_table(out, &rows)?;
    if shown.len() < lacks.len() {
        writeln!(
            out,
            "… and {} tag(s) older than their line's newest (--all lists them)",
            lacks.len() - shown.len()
        )?;
    }
    Ok(())
}

fn kind(k: RefKind) -> &'static str {
    match k {
        RefKind::Release => "release",
        RefKind::Hotfix => "hotfix",
        RefKind::Branch => "branch",
    }
}
