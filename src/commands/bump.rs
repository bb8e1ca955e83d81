//! `git release bump`: move the `VERSION` file and the charts' `Chart.yaml` versions, in place, as
//! one reviewable change: patch + 1 on a release branch, the next minor on master after a release.
//!
//! Source: DOMAIN.md step 6 ("cherry-pick with version bump"); the arithmetic is in [`crate::version_bump`].
//!
//! `--next-minor` is idempotent for `VERSION` (`1.3.0-dev` stays) but always moves the charts one
//! minor: a chart version says nothing about which release it followed, so a second run bumps them
//! again (a warning says so when `VERSION` shows the bump was already made).

use clap::Args;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::error::UserError;
use crate::files::{FileEntry, FileKind};
use crate::git;
use crate::plan::Plan;
use crate::report::{Report, VersionChange, Warning};
use crate::settings::{self, Settings};
use crate::version_bump::{self, Edit, FieldError};
use crate::worktree::{self, Change};

use crate::files::join;
/// The version file used when `--version-file` is not given (only when it exists).
use crate::version_bump::VERSION_FILE as DEFAULT_VERSION_FILE;

/// `git release bump`
#[derive(Args, Debug, Default)]
pub struct BumpArgs {
    /// `patch` (release branch) — or use --next-minor (master after a release).
    #[arg(value_name = "LEVEL", required_unless_present = "next_minor")]
    pub level: Option<String>,
    /// Charts to bump (folders or names) [default: all charts].
    #[arg(value_name = "CHART")]
    pub charts: Vec<String>,
    /// After a release, on master: VERSION 1.2.n -> 1.3.0-dev, charts to their next minor (no -dev).
    #[arg(long)]
    pub next_minor: bool,
    /// The plain-text version file [default: VERSION, when present].
    #[arg(long, value_name = "PATH")]
    pub version_file: Option<String>,
    /// `--commit`, `--no-verify`.
    #[command(flatten)]
    pub commit: crate::plan::CommitFlags,
    /// Print the diff; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// What a bump changes, as `--json` prints it inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct BumpReport {
    /// Every file whose version changes, `VERSION` first, then charts by folder, then
    /// version.yml's addons: `name` is `VERSION`, the chart's or the addon's name.
    pub files: Vec<VersionChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Release branch: patch + 1.
    Patch,
    /// Master after a release: VERSION to the next minor's `-dev`, charts to the next minor.
    NextMinor,
}

/// A chart of the work tree.
struct Chart {
    /// Repo-relative folder.
    folder: String,
    /// `name` from Chart.yaml, or the folder's last part when unreadable.
    name: String,
}

/// Run `git release bump`: [`plan`], then (unless `--dry-run`) write and commit, then report.
/// A dry run prints the diff, then refuses as the real run would (uncommitted changes).
pub fn run(args: BumpArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Default::default())?;
    let _lock = crate::journal::lock(&repo, "bump")?;
    let workdir = git::workdir(&repo)?;
    let (mut report, writes, refusal) = plan(&repo, &settings, &args)?;
    report.dry_run = args.dry_run;
    if !args.dry_run {
        if let Some(r) = refusal {
            return Err(r.into());
        }
        if !writes.is_empty() {
            report.commit = crate::plan::apply(&repo, &writes)?
                .commit
                .map(|id| id.to_string());
        }
    }
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        if r.dry_run {
            print_table(r, out)?;
            for ch in &writes.files {
                worktree::write_diff(&workdir, ch, out)?;
            }
        } else if r.data.files.is_empty() {
            writeln!(out, "nothing to change")?;
        } else {
            print_table(r, out)?;
            writeln!(out, "{} file(s) changed", r.data.files.len())?;
            if let Some(c) = &r.commit {
                writeln!(out, "committed {}", &c[..c.len().min(12)])?;
            }
        }
        Ok(())
    })?;
    match refusal {
        Some(r) => Err(r
            .hint("the dry run above shows what bump would write once they are committed or stashed (`git stash --all`)")
            .into()),
        None => Ok(()),
    }
}

/// The bump `args` asks for: the report, the writes (with the commit of `--commit`), and the
/// refusal a real run gives when the files it writes have uncommitted changes. Writes nothing.
///
/// Errors: nothing to bump, an ambiguous chart, a version that is not SemVer (exit 2, file and
/// line).
pub(crate) fn plan(
    repo: &gix::Repository,
    settings: &Settings,
    args: &BumpArgs,
) -> Result<(Report<BumpReport>, Plan, Option<UserError>)> {
    let workdir = git::workdir(repo)?;
    // Charts live under the addons path; a repository without one (a charts repository that
    // keeps them at its root, Aether's layout) has them wherever a Chart.yaml is.
    let addons = if workdir.join(&settings.addons_path).is_dir() {
        settings.addons_path.as_str()
    } else {
        ""
    };
    let charts = worktree_charts(&workdir, addons)?;
    let (mode, names) = mode(args, &charts)?;
    let selected = select(&charts, &names, addons)?;
    let version_file = version_file(&workdir, args.version_file.as_deref())?;
    if selected.is_empty() && version_file.is_none() {
        return Err(UserError::input(format!(
            "nothing to bump: no chart under {} and no {DEFAULT_VERSION_FILE} file",
            where_(&settings.addons_path)
        ))
        .hint("charts are folders holding Chart.yaml under release.addonsPath; name another version file with --version-file")
        .into());
    }

    let mut files = Vec::new();
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    if let Some(rel) = &version_file {
        let (entry, text) = read_text(&workdir, rel)?;
        let bump_fn = match mode {
            Mode::Patch => version_bump::next_patch,
            Mode::NextMinor => version_bump::next_minor_dev,
        };
        let edit =
            version_bump::edit_version_file(&text, bump_fn).map_err(|e| field_error(rel, e))?;
        if edit.old == edit.new {
            if !selected.is_empty() {
                warnings.push(format!(
                    "{rel} is already at {}, the next minor's development version: if --next-minor \
                     already ran after this release, the charts just moved one more minor",
                    edit.new
                ));
            }
        } else {
            push(
                &mut files,
                &mut changes,
                rel,
                DEFAULT_VERSION_FILE,
                entry,
                edit,
            );
        }
    }
    let mut bumped = std::collections::BTreeMap::new();
    // A patch is the next one no ref uses (history::allocate): a version released on another
    // line with other content is skipped.
    let chart_yamls: Vec<String> = selected
        .iter()
        .map(|c| crate::chart::meta::file_of(&c.folder))
        .collect();
    let used = match mode {
        Mode::Patch => crate::history::allocate::UsedVersions::scan(repo, &chart_yamls)?,
        Mode::NextMinor => Default::default(),
    };
    for chart in &selected {
        let rel = crate::chart::meta::file_of(&chart.folder);
        let (entry, text) = read_text(&workdir, &rel)?;
        let edit = match mode {
            Mode::Patch => version_bump::edit_chart_yaml(&text, |v| {
                crate::history::allocate::next_free(v, |c| used.taken(&rel, &c.to_string(), None))
            }),
            Mode::NextMinor => version_bump::edit_chart_yaml(&text, version_bump::next_minor),
        }
        .map_err(|e| field_error(&rel, e))?;
        if edit.old != edit.new {
            bumped.insert(chart.name.clone(), edit.new.clone());
        }
        push(&mut files, &mut changes, &rel, &chart.name, entry, edit);
    }
    // version.yml follows the charts in the same change, so the result passes `git release check`.
    let vrel = &settings.version_file;
    if !bumped.is_empty() && workdir.join(vrel).is_file() {
        let (entry, text) = read_text(&workdir, vrel)?;
        let old = crate::version_yml::read(vrel, text.as_bytes())?;
        let (new_text, _) = crate::version_yml::set_versions(vrel, &text, &bumped)?;
        if new_text != text {
            for a in old.iter().filter(|a| bumped.contains_key(&a.name)) {
                files.push(VersionChange {
                    name: a.name.clone(),
                    path: vrel.clone(),
                    from: a.version.clone(),
                    to: Some(bumped[&a.name].clone()),
                });
            }
            changes.push(Change::WriteFile {
                path: vrel.clone(),
                entry: FileEntry {
                    kind: entry.kind,
                    data: new_text.into_bytes(),
                },
            });
        }
    }

    // Refuse to overwrite uncommitted work.
    let paths: Vec<&str> = changes.iter().map(|c| c.path()).collect();
    let refusal = worktree::uncommitted_refusal(repo, &paths, "bump")?;
    let mut report = Report::new("bump", BumpReport { files });
    report.warnings = warnings.into_iter().map(Warning::from).collect();
    let mut writes = Plan::new("bump");
    writes.commit = args
        .commit
        .intent(|| commit_message(mode, &report.data, &settings.version_file));
    writes.files = changes;
    Ok((report, writes, refusal))
}

/// The mode and the CHART arguments. Only `patch` is a LEVEL; with `--next-minor` a LEVEL given
/// anyway is read as the first CHART.
fn mode(args: &BumpArgs, charts: &[Chart]) -> Result<(Mode, Vec<String>)> {
    let mut names = Vec::new();
    let mode = match (&args.level, args.next_minor) {
        (level, true) => {
            names.extend(level.iter().cloned());
            Mode::NextMinor
        }
        (Some(level), false) if level == "patch" => Mode::Patch,
        (Some(level), false) => {
            let is_chart = charts
                .iter()
                .any(|c| c.name == *level || c.folder.ends_with(&format!("/{level}")));
            let hint = if is_chart {
                format!("`{level}` is a chart: `git release bump patch {level}`")
            } else {
                "use `patch` on a release branch, `--next-minor` on master after a release; \
                 other bumps of a chart are made by hand"
                    .to_string()
            };
            return Err(UserError::input(format!(
                "unknown level `{level}`: only `patch` is supported"
            ))
            .hint(hint)
            .into());
        }
        (None, false) => {
            crate::bail_input!("give a LEVEL (`patch`) or --next-minor");
        }
    };
    names.extend(args.charts.iter().cloned());
    Ok((mode, names))
}

/// Charts under the addons path of the work tree, sorted by folder.
fn worktree_charts(workdir: &Path, addons: &str) -> Result<Vec<Chart>> {
    let mut folders = {
        let mut v = Vec::new();
        crate::chart::discover::worktree_chart_roots(workdir, addons, &mut v)?;
        v
    };
    folders.sort();
    Ok(folders
        .into_iter()
        .map(|folder| {
            let name = std::fs::read(workdir.join(crate::chart::meta::file_of(&folder)))
                .map(|data| crate::chart::meta::parse(&data))
                .unwrap_or_default()
                .name_or_folder(&folder);
            Chart { folder, name }
        })
        .collect())
}

/// The charts named by `names` (repo-relative folder, folder relative to the addons path, or
/// Chart.yaml `name`); every chart when `names` is empty.
fn select<'c>(charts: &'c [Chart], names: &[String], addons: &str) -> Result<Vec<&'c Chart>> {
    if names.is_empty() {
        return Ok(charts.iter().collect());
    }
    let mut picked = BTreeSet::new();
    for arg in names {
        let norm = arg.trim_start_matches("./").trim_end_matches('/');
        let norm = norm.strip_suffix("/Chart.yaml").unwrap_or(norm);
        let by_folder: Vec<usize> = (0..charts.len())
            .filter(|&i| charts[i].folder == norm || charts[i].folder == join(addons, norm))
            .collect();
        let found = if by_folder.is_empty() {
            (0..charts.len())
                .filter(|&i| charts[i].name == norm)
                .collect()
        } else {
            by_folder
        };
        match found.as_slice() {
            [] => {
                let candidates = charts
                    .iter()
                    .flat_map(|c| [c.name.as_str(), c.folder.as_str()]);
                let hint = match crate::error::suggest(norm, candidates) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if charts.is_empty() => {
                        format!("there is no chart under {}", where_(addons))
                    }
                    None => format!(
                        "charts: {}",
                        charts
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(UserError::input(format!(
                    "unknown chart `{arg}`: no chart folder or Chart.yaml name matches under {}",
                    where_(addons)
                ))
                .hint(hint)
                .into());
            }
            [i] => {
                picked.insert(*i);
            }
            many => {
                let folders: Vec<&str> = many.iter().map(|&i| charts[i].folder.as_str()).collect();
                return Err(UserError::input(format!(
                    "chart name `{arg}` is ambiguous: {}",
                    folders.join(", ")
                ))
                .hint("name the chart by its folder")
                .into());
            }
        }
    }
    Ok(picked.into_iter().map(|i| &charts[i]).collect())
}

/// The version file to bump: `--version-file` (must exist) or `VERSION` when present.
fn version_file(workdir: &Path, flag: Option<&str>) -> Result<Option<String>> {
    match flag {
        Some(p) => {
            let rel = settings::normalize_rel_path(p)?;
            if !workdir.join(&rel).is_file() {
                crate::bail_input!(
                    "--version-file {p}: no such file (paths are relative to the repository root)"
                );
            }
            Ok(Some(rel))
        }
        None => Ok(workdir
            .join(DEFAULT_VERSION_FILE)
            .is_file()
            .then(|| DEFAULT_VERSION_FILE.to_string())),
    }
}

/// A file of the work tree as text, with its entry (for the mode).
fn read_text(workdir: &Path, rel: &str) -> Result<(FileEntry, String)> {
    let Some(entry) = git::read_worktree(&workdir.join(rel))?.remove("") else {
        crate::bail_input!("{rel}: no such file");
    };
    if entry.kind == FileKind::Symlink {
        return Err(UserError::input(format!("{rel} is a symlink"))
            .hint("bump edits files in place; point it at the file the link names")
            .into());
    }
    let Ok(text) = String::from_utf8(entry.data.clone()) else {
        crate::bail_input!("{rel}: not UTF-8 text");
    };
    Ok((entry, text))
}

fn push(
    files: &mut Vec<VersionChange>,
    changes: &mut Vec<Change>,
    rel: &str,
    label: &str,
    entry: FileEntry,
    edit: Edit,
) {
    if edit.old == edit.new {
        return;
    }
    files.push(VersionChange {
        name: label.to_string(),
        path: rel.to_string(),
        from: Some(edit.old),
        to: Some(edit.new),
    });
    changes.push(Change::WriteFile {
        path: rel.to_string(),
        entry: FileEntry {
            kind: entry.kind,
            data: edit.text.into_bytes(),
        },
    });
}

/// `file:line: message` for a version that cannot be bumped.
fn field_error(rel: &str, e: FieldError) -> anyhow::Error {
    let hint = match &e {
        FieldError::NotSemver { .. } => {
            "write the version as SemVer MAJOR.MINOR.PATCH (1.2.3, optionally v1.2.3 or 1.2.3-dev)"
        }
        FieldError::Missing if rel.ends_with("Chart.yaml") => {
            "a chart needs `version: X.Y.Z` in its Chart.yaml"
        }
        FieldError::Missing => "the file must hold one version, e.g. `1.2.3`",
        FieldError::TooLarge { .. } => "set the version by hand",
        FieldError::Yaml(_) => "fix the YAML, or set the version by hand",
    };
    let message = match &e {
        FieldError::NotSemver { line, value } => {
            format!("{rel}:{line}: version `{value}` is not SemVer")
        }
        FieldError::TooLarge { line, value } => {
            format!("{rel}:{line}: version `{value}` is too large to bump")
        }
        FieldError::Missing if rel.ends_with("Chart.yaml") => format!("{rel}: no `version` field"),
        FieldError::Missing => format!("{rel}: empty, no version in it"),
        FieldError::Yaml(y) => format!("{rel}: {y}"),
    };
    UserError::input(message).hint(hint).into()
}

/// `from -> to` of a version change, for messages.
fn arrow(f: &VersionChange) -> String {
    format!(
        "{} -> {}",
        f.from.as_deref().unwrap_or(""),
        f.to.as_deref().unwrap_or("")
    )
}

/// The commit message of a bump; `version_file` (version.yml) entries are not charts.
fn commit_message(mode: Mode, r: &BumpReport, version_file: &str) -> String {
    let what = match mode {
        Mode::Patch => "patch",
        Mode::NextMinor => "next minor",
    };
    let mut parts = Vec::new();
    let charts: Vec<&VersionChange> = r
        .files
        .iter()
        .filter(|f| f.name != DEFAULT_VERSION_FILE && f.path != version_file)
        .collect();
    if let Some(v) = r.files.iter().find(|f| f.name == DEFAULT_VERSION_FILE) {
        parts.push(format!("{} {}", v.path, arrow(v)));
    }
    match charts.as_slice() {
        [] => {}
        [c] => parts.push(format!("chart {} {}", c.name, arrow(c))),
        many => parts.push(format!("{} charts", many.len())),
    }
    let mut msg = format!("bump: {what} ({})\n\n", parts.join(", "));
    for f in &r.files {
        msg.push_str(&format!("- {} {}\n", f.path, arrow(f)));
    }
    msg
}

fn print_table(r: &Report<BumpReport>, out: &mut dyn Write) -> Result<()> {
    // version.yml holds one entry per addon: name it (`version.yml (cyclone)`).
    let label = |f: &VersionChange| -> String {
        if f.path.ends_with("Chart.yaml") || f.name == f.path || f.name == DEFAULT_VERSION_FILE {
            f.path.clone()
        } else {
            format!("{} ({})", f.path, f.name)
        }
    };
    let width = r
        .data
        .files
        .iter()
        .map(|f| label(f).chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    writeln!(out, "{:<width$}  VERSION", "FILE")?;
    for f in &r.data.files {
        writeln!(out, "{:<width$}  {}", label(f), arrow(f))?;
    }
    Ok(())
}

/// `addons/` or `the repository root` for messages.
fn where_(addons: &str) -> String {
    if addons.is_empty() {
        "the repository root".to_string()
    } else {
        format!("{addons}/")
    }
}

#[cfg(test)]
mod plan_tests {
    //! `plan` in process, on repositories the test kit builds: what it reports, what it would
    //! write, and that it writes nothing until `plan::apply`.

    use super::*;
    use crate::testkit::TestRepo;

    const VERSION_YML: &str = "spec:\n  modules:\n  - name: core\n    addons:\n    - name: web\n      namespace: core\n      version: 0.4.1\n";

    fn released() -> TestRepo {
        let mut t = TestRepo::new();
        t.write("VERSION", "1.2.3\n")
            .write("addons/web/Chart.yaml", "name: web\nversion: 0.4.1\n")
            .write("version.yml", VERSION_YML);
        t.commit("release 1.2.3");
        t
    }

    fn plan_of(t: &TestRepo, args: &BumpArgs) -> (Report<BumpReport>, Plan, Option<UserError>) {
        let repo = t.repo();
        let settings = Settings::load(&repo, &Default::default()).unwrap();
        plan(&repo, &settings, args).unwrap()
    }

    fn changes(r: &Report<BumpReport>) -> Vec<(&str, &str, &str, &str)> {
        r.data
            .files
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    f.path.as_str(),
                    f.from.as_deref().unwrap_or(""),
                    f.to.as_deref().unwrap_or(""),
                )
            })
            .collect()
    }

    #[test]
    fn patch_plans_version_chart_and_version_yml_then_apply_writes_exactly_that() {
        let t = released();
        let args = BumpArgs {
            level: Some("patch".into()),
            ..Default::default()
        };
        let (report, writes, refusal) = plan_of(&t, &args);
        assert!(refusal.is_none());
        assert_eq!(
            changes(&report),
            [
                ("VERSION", "VERSION", "1.2.3", "1.2.4"),
                ("web", "addons/web/Chart.yaml", "0.4.1", "0.4.2"),
                ("web", "version.yml", "0.4.1", "0.4.2"),
            ]
        );
        assert_eq!(
            writes.paths(),
            ["VERSION", "addons/web/Chart.yaml", "version.yml"]
        );
        assert!(writes.commit.is_none() && writes.refs.is_empty());
        assert_eq!(
            serde_json::to_value(&writes).unwrap()["files"],
            serde_json::json!([
                {"path": "VERSION", "action": "write"},
                {"path": "addons/web/Chart.yaml", "action": "write"},
                {"path": "version.yml", "action": "write"},
            ])
        );
        assert_eq!(t.read("VERSION"), "1.2.3\n", "plan writes nothing");
        let applied = crate::plan::apply(&t.repo(), &writes).unwrap();
        assert!(applied.commit.is_none());
        assert_eq!(t.read("VERSION"), "1.2.4\n");
        assert_eq!(
            t.read("addons/web/Chart.yaml"),
            "name: web\nversion: 0.4.2\n"
        );
        assert!(t.read("version.yml").contains("version: 0.4.2"));
    }

    #[test]
    fn next_minor_with_commit_plans_the_commit_message() {
        let t = released();
        let args = BumpArgs {
            next_minor: true,
            commit: crate::plan::CommitFlags {
                commit: true,
                no_verify: false,
            },
            ..Default::default()
        };
        let (report, writes, _) = plan_of(&t, &args);
        assert_eq!(
            changes(&report)[..2],
            [
                ("VERSION", "VERSION", "1.2.3", "1.3.0-dev"),
                ("web", "addons/web/Chart.yaml", "0.4.1", "0.5.0"),
            ]
        );
        let c = writes.commit.as_ref().expect("--commit plans a commit");
        assert!(
            c.message.starts_with(
                "bump: next minor (VERSION 1.2.3 -> 1.3.0-dev, chart web 0.4.1 -> 0.5.0)"
            ),
            "{}",
            c.message
        );
        assert!(c.verify);
        let head = t.repo().head_id().unwrap().detach();
        let made = crate::plan::apply(&t.repo(), &writes)
            .unwrap()
            .commit
            .unwrap();
        let repo = t.repo();
        assert_eq!(repo.head_id().unwrap().detach(), made);
        assert_eq!(
            repo.find_commit(made)
                .unwrap()
                .parent_ids()
                .next()
                .unwrap()
                .detach(),
            head
        );
    }

    #[test]
    fn uncommitted_changes_in_the_paths_it_writes_are_a_refusal_not_an_error() {
        let t = released();
        t.write(
            "addons/web/Chart.yaml",
            "name: web\nversion: 0.4.1\ndescription: edited\n",
        );
        let args = BumpArgs {
            level: Some("patch".into()),
            ..Default::default()
        };
        let (_, writes, refusal) = plan_of(&t, &args);
        let refusal = refusal.expect("a refusal");
        assert!(refusal.message.contains("uncommitted changes"), "{refusal}");
        assert!(writes.paths().contains(&"addons/web/Chart.yaml"));
    }
}
