//! `git release log [LINE]`: the releases and hotfixes of a line (or of all lines), newest first,
//! each with its date, commit and what changed since the one before it: charts and images old ->
//! new, read from the object database.

use clap::Args;

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::error::UserError;
use crate::git;
use crate::history::compare::{self, ChartDiff, ImageDiff};
use crate::history::refs::{self, RefKind, ReleaseRef};
use crate::lines::Target;
use crate::settings::Settings;

/// `git release log`
#[derive(Args, Debug, Default)]
pub struct LogArgs {
    /// Release line (2.10) [default: every line].
    #[arg(value_name = "LINE")]
    pub line: Option<String>,
    /// Show at most N releases and hotfixes.
    #[arg(long, value_name = "N")]
    pub max_count: Option<usize>,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// One release or hotfix.
#[derive(Debug, Serialize)]
pub(crate) struct Entry {
    /// The tag: `v2.10.3`, `hotfix/v2.10.2-20261122-p1`.
    pub tag: String,
    /// `release` or `hotfix`.
    pub kind: RefKind,
    /// Release line `MAJOR.MINOR`.
    pub line: String,
    /// `YYYY-MM-DD HH:MM:SS UTC`: the tagger's time for an annotated tag, else the commit's.
    pub date: String,
    /// The commit (full id).
    pub commit: String,
    /// The release or hotfix it is compared with: for a release, the release below it; for a
    /// hotfix, the hotfix before it on the same release, else that release. `None` for the first.
    pub previous: Option<String>,
    /// Charts added, changed or removed since `previous` (`{"name", "path", "from", "to"}`).
    pub charts: Vec<ChartDiff>,
    /// Images of the image lists since `previous`.
    pub images: ImageDiff,
    /// Plugins added, removed or changed since `previous`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<crate::plugins::PluginChange>,
}

/// What `log --json` prints.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The line asked for.
    pub line: Option<String>,
    /// Newest first.
    pub entries: Vec<Entry>,
}

/// Run `git release log`.
pub fn run(args: LogArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Default::default())?;
    let stdout = std::io::stdout();
    log(&repo, &settings, &args, &mut stdout.lock())
}

/// The index in `all` (sorted by [`ReleaseRef::order`]) of the entry `all[i]` is compared with.
fn previous(all: &[ReleaseRef], i: usize) -> Option<usize> {
    let me = &all[i];
    let base = |r: &ReleaseRef| {
        r.version
            .as_ref()
            .map(|v| crate::versions::release_order(v).0)
    };
    (0..i).rev().find(|&j| {
        let other = &all[j];
        match me.kind {
            RefKind::Hotfix => base(other) == base(me),
            _ => other.kind == RefKind::Release && base(other) < base(me),
        }
    })
}

/// Build the log of `args.line` (all lines when `None`) and write it to `out`.
///
/// Errors: a LINE that is not `MAJOR.MINOR` (exit 2); unreadable refs or objects.
pub(crate) fn log(
    repo: &gix::Repository,
    settings: &Settings,
    args: &LogArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let line = match &args.line {
        Some(l) => {
            let t = Target::parse(l)?;
            if t.customer.is_some() {
                return Err(UserError::input(format!(
                    "`{l}` names a OEM branch; log lists the releases of a line"
                ))
                .hint("give the line alone, e.g. 2.10")
                .into());
            }
            Some(t.line())
        }
        None => None,
    };
    let all = refs::tags(repo, &settings.hotfix_tag_prefix)?;
    let mut trees: HashMap<gix::ObjectId, gix::ObjectId> = HashMap::new();
    let mut tree_of = |c: gix::ObjectId| -> Result<gix::ObjectId> {
        if let Some(t) = trees.get(&c) {
            return Ok(*t);
        }
        let t = repo.find_commit(c)?.tree_id()?.detach();
        trees.insert(c, t);
        Ok(t)
    };
    // Each release's trees decoded once, whichever comparisons they take part in.
    let index = git::TreeIndex::default();
    let mut lists = HashMap::new();
    let mut entries = Vec::new();
    for i in (0..all.len()).rev() {
        let r = &all[i];
        if line.as_ref().is_some_and(|l| *l != r.line) {
            continue;
        }
        if args.max_count.is_some_and(|n| entries.len() >= n) {
            break;
        }
        let prev = previous(&all, i).map(|j| &all[j]);
        let tree = tree_of(r.commit)?;
        let plugins = match prev {
            Some(p) => {
                let ptree = tree_of(p.commit)?;
                crate::plugins::changes(
                    &crate::plugins::at(repo, ptree, settings).unwrap_or_default(),
                    &crate::plugins::at(repo, tree, settings).unwrap_or_default(),
                )
            }
            None => Vec::new(),
        };
        let (charts, images) = match prev {
            Some(p) => {
                let ptree = tree_of(p.commit)?;
                let mut charts =
                    compare::charts(repo, &index, ptree, tree, &settings.addons_path, false)?;
                // A chart that differs in this release from its component's tag is marked.
                crate::components::read::mark_patched(repo, settings, tree, &mut charts)?;
                for t in [ptree, tree] {
                    if let std::collections::hash_map::Entry::Vacant(e) = lists.entry(t) {
                        e.insert(compare::listed_images(repo, t, &settings.images_path)?);
                    }
                }
                (charts, compare::image_diff(&lists[&ptree], &lists[&tree]))
            }
            None => (Vec::new(), ImageDiff::default()),
        };
        entries.push(Entry {
            tag: r.name.clone(),
            kind: r.kind,
            line: r.line.clone(),
            date: crate::components::fetch::utc_time(r.time.max(0) as u64),
            commit: r.commit.to_string(),
            previous: prev.map(|p| p.name.clone()),
            charts,
            images,
            plugins,
        });
    }
    let report = crate::report::Report::new("log", Report { line, entries });
    report.emit(args.json, out, |r, out| print(&r.data, out))
}

fn print(report: &Report, out: &mut dyn Write) -> Result<()> {
    if report.entries.is_empty() {
        match &report.line {
            Some(l) => writeln!(out, "no release or hotfix tag of line {l}")?,
            None => writeln!(out, "no release or hotfix tag yet")?,
        }
        return Ok(());
    }
    for e in &report.entries {
        let since = match &e.previous {
            Some(p) => format!("since {p}"),
            None => "first release".to_string(),
        };
        writeln!(
            out,
            "{}  {} UTC  {}  {}",
            e.tag,
            &e.date[..16],
            &e.commit[..12],
            since
        )?;
        crate::history::compare::write_changes(&e.charts, &e.images, "    ", out)?;
        for p in &e.plugins {
            writeln!(out, "    {}", crate::plugins::change_line(p))?;
        }
        if e.previous.is_some()
            && e.charts.is_empty()
            && e.images.is_empty()
            && e.plugins.is_empty()
        {
            writeln!(out, "    no chart or image changed")?;
        }
    }
    Ok(())
}
