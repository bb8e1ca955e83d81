//! `git release tag <version> [<rev>]`: the annotated release tag of a product version, with the
//! addon versions of that commit in its message. Release tags are protected: never moved, never
//! deleted, no `--force` (seed 002, "补丁包管理": every hotfix depends on them).

use clap::Args;

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::error::UserError;
use crate::git;
use crate::git::{release_tags_by_commit, resolve_commit};
use crate::packaging;
use crate::report::{Report, Warning};
use crate::settings::{self, Settings};
use crate::versions;

/// `git release tag`
#[derive(Args, Debug, Default)]
pub struct TagArgs {
    /// Product version, SemVer with or without `v` (2.10.2).
    #[arg(value_name = "VERSION")]
    pub release_version: String,
    /// Commit to tag [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Text added to the tag message (after the addon versions).
    #[arg(short, long, value_name = "TEXT")]
    pub message: Option<String>,
    /// Sign the tag with the configured key (gpg.format, user.signingKey), as `git tag -s`;
    /// `tag.gpgSign` makes it the default.
    #[arg(short, long)]
    pub sign: bool,
    /// Remote whose tags are checked too.
    #[arg(long, value_name = "NAME", default_value = "origin")]
    pub remote: String,
    /// Skip the remote check (no network); the local checks still run.
    #[arg(long)]
    pub offline: bool,
    /// Print what would be tagged; create nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// Default `release.tagTemplate`.
pub(crate) const DEFAULT_TAG_TEMPLATE: &str = "v{version}";

/// What `tag` did (or would do), as `--json` prints it.
#[derive(Debug, Serialize)]
pub(crate) struct TagReport {
    /// Tag name, e.g. `v2.10.2`.
    pub tag: String,
    /// Addon versions at that commit: chart name -> version.
    pub addons: BTreeMap<String, String>,
    /// The tag message.
    pub message: String,
    /// Whether the remote was checked.
    pub remote_checked: bool,
    /// Whether the tag is signed (`-s`, `tag.gpgSign`).
    pub signed: bool,
    /// The tag ref created: `{"ref", "from": null, "to": <tag object>}` ([`crate::report`]);
    /// `to` is null in a dry run (the object is not made).
    pub r#ref: crate::report::RefUpdate,
}

/// Run `git release tag`: plan, then (unless `--dry-run`) create the tag, then print.
pub fn run(args: TagArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Default::default())?;
    let mut report = plan(&repo, &settings, &args)?;
    report.dry_run = args.dry_run;
    if !args.dry_run {
        let _lock = crate::journal::lock(&repo, "tag")?;
        let applied = crate::plan::apply(&repo, &writes(&report, args.sign)?)?;
        report.data.r#ref.to = applied.tags.first().map(|(_, id)| id.to_string());
    }
    report.emit(args.json, &mut std::io::stdout().lock(), print)
}

/// What creating the tag `report` plans writes: the tag object and its ref.
fn writes(report: &Report<TagReport>, sign: bool) -> Result<crate::plan::Plan> {
    let mut plan = crate::plan::Plan::new("tag");
    plan.tags.push(crate::plan::TagIntent {
        name: report.data.tag.clone(),
        target: gix::ObjectId::from_hex(report.rev.as_deref().unwrap_or_default().as_bytes())?,
        message: report.data.message.clone(),
        sign,
    });
    Ok(plan)
}

fn print(r: &Report<TagReport>, out: &mut dyn Write) -> Result<()> {
    let commit = r.rev.as_deref().unwrap_or_default();
    writeln!(
        out,
        "{} {} on {} ({} addon(s))",
        r.verb("tagged", "would tag"),
        r.data.tag,
        &commit[..12.min(commit.len())],
        r.data.addons.len()
    )?;
    // Without a remote the warning already says so; with --offline, say it here.
    let said = r
        .warnings
        .iter()
        .any(|w| w.message.starts_with("no remote"));
    if !r.data.remote_checked && !said {
        writeln!(out, "remote not checked (--offline)")?;
    }
    Ok(())
}

/// Chart name -> version of every top-level chart (and single-file addon) under the addons
/// path at `tree`.
pub(crate) fn chart_versions(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    addons: &str,
) -> Result<BTreeMap<String, (String, String)>> {
    let mut out = BTreeMap::new();
    let index = crate::git::TreeIndex::default();
    for top in crate::chart::discover::TopCharts::default().at(repo, tree, addons)? {
        let c = packaging::read_chart(repo, &index, tree, &top.path)?;
        out.insert(c.name, (c.version, top.path));
    }
    Ok(out)
}

/// `spec.modules[].addons[]` of version.yml at `tree`: name -> version (None when absent).
fn listed_versions(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    rel: &str,
) -> Result<Option<BTreeMap<String, Option<String>>>> {
    // blob_at, not read_path: an empty `rel` (no version.yml) is the root, not a file.
    let Some(data) = git::blob_at(repo, tree, rel)? else {
        return Ok(None);
    };
    let out = crate::version_yml::read(rel, &data)?
        .into_iter()
        .map(|a| (a.name, a.version))
        .collect();
    Ok(Some(out))
}

/// The version `args` names and the tag name `release.tagTemplate` gives it: `(version,
/// template, name)`.
///
/// Errors (exit 2): not SemVer, a hotfix version, a template giving an invalid ref name.
fn tag_name(repo: &gix::Repository, args: &TagArgs) -> Result<(semver::Version, String, String)> {
    let raw = args.release_version.trim();
    let Some(version) = versions::parse_tag(raw, None) else {
        return Err(UserError::input(format!("`{raw}` is not a SemVer version"))
            .hint("write MAJOR.MINOR.PATCH, e.g. 2.10.2 (a leading v is fine)")
            .into());
    };
    if versions::is_hotfix_version(&version) {
        return Err(UserError::input(format!(
            "`{raw}` is a hotfix version, not a product release"
        ))
        .hint("hotfixes are named by `git release hotfix --tag`")
        .into());
    }
    let template =
        settings::raw(repo)("tagTemplate").unwrap_or_else(|| DEFAULT_TAG_TEMPLATE.into());
    let name = template.replace("{version}", &version.to_string());
    if gix::validate::reference::name_partial(name.as_str().into()).is_err() {
        return Err(UserError::input(format!(
            "release.tagTemplate `{template}` gives `{name}`, not a valid tag name"
        ))
        .into());
    }
    Ok((version, template, name))
}

/// Refuse (exit 3) a tag that exists, is not above the newest release of its line, would be a
/// second release of one commit, or is below a release the commit contains.
fn refuse_by_history(
    repo: &gix::Repository,
    version: &semver::Version,
    template: &str,
    name: &str,
    spec: &str,
    commit: gix::ObjectId,
) -> Result<()> {
    let full = format!("refs/tags/{name}");
    // Exists locally, whatever it points at.
    if let Some(r) = repo.try_find_reference(full.as_str())? {
        let id = r.id().detach();
        let at = repo
            .find_object(id)?
            .peel_to_commit()
            .map_or_else(|_| id.to_string(), |c| c.id.to_string());
        return Err(UserError::refused(format!(
            "tag {name} already exists (at {}); release tags are never moved",
            &at[..12.min(at.len())]
        ))
        .hint("make a new patch release instead")
        .into());
    }
    // A newer or equal release of the same line.
    let by_commit = release_tags_by_commit(repo)?;
    let line_max = by_commit
        .values()
        .flatten()
        .filter(|(_, v)| v.major == version.major && v.minor == version.minor)
        .max_by(|a, b| versions::cmp_tags((&a.1, &a.0), (&b.1, &b.0)));
    if let Some((t, v)) = line_max {
        if v.cmp_precedence(version).is_ge() {
            return Err(UserError::refused(format!(
                "{name} is not greater than the newest {}.{} release, {t}",
                version.major, version.minor
            ))
            .hint(format!(
                "the next patch release is {}",
                template.replace(
                    "{version}",
                    &semver::Version::new(v.major, v.minor, v.patch + 1).to_string()
                )
            ))
            .into());
        }
    }
    // One commit is one release: a second final version on it is refused (a pre-release on it
    // may be promoted).
    if let Some((t, _)) = by_commit
        .get(&commit)
        .and_then(|tags| tags.iter().find(|(_, v)| v.pre.is_empty()))
    {
        return Err(UserError::refused(format!(
            "{spec} is already released as {t}; one commit is one release"
        ))
        .hint("make the fix a new commit, or package it as a hotfix (`git release hotfix`)")
        .into());
    }
    // Never below a release this commit already contains.
    let walk = repo
        .rev_walk([commit])
        .sorting(gix::revision::walk::Sorting::BreadthFirst)
        .all()?;
    let mut contained: Option<(String, semver::Version)> = None;
    for info in walk {
        if let Some(tags) = by_commit.get(&info?.id) {
            for (t, v) in tags {
                if contained
                    .as_ref()
                    .is_none_or(|(_, m)| v.cmp_precedence(m).is_gt())
                {
                    contained = Some((t.clone(), v.clone()));
                }
            }
        }
    }
    if let Some((t, v)) = contained {
        if v.cmp_precedence(version).is_gt() {
            return Err(UserError::refused(format!(
                "{name} is below {t}, a release that {spec} already contains"
            ))
            .hint("release versions only go up along history; pick a version above it")
            .into());
        }
    }
    Ok(())
}

/// The release gate: every error `git release check` finds at `spec` stops the tag (exit 3, the
/// findings listed); its warnings, and addons version.yml does not list, are returned.
fn gate(
    repo: &gix::Repository,
    settings: &Settings,
    charts: &BTreeMap<String, (String, String)>,
    (name, version): (&str, &semver::Version),
    spec: &str,
    tree: gix::ObjectId,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let config = crate::check::Config::load(repo)?;
    let mut gate = crate::check::check(repo, settings, &config, spec, false)?;
    // plugin-requirement-unmet needs the version being tagged: checked here, not by `check`.
    if let Some(severity) = config.severity("plugin-requirement-unmet") {
        let commit = resolve_commit(repo, spec)?;
        for mut f in crate::check::plugins::requirements(repo, settings, commit, version)? {
            f.severity = severity;
            if severity == crate::check::Severity::Error {
                gate.error_count += 1;
            } else {
                gate.warning_count += 1;
            }
            gate.findings.push(f);
        }
    }
    if gate.error_count > 0 {
        let mut table = Vec::new();
        crate::check::print(&gate, &mut table)?;
        return Err(UserError::refused(format!(
            "{spec} is not a consistent release; {name} was not created:\n{}",
            String::from_utf8_lossy(&table).trim_end()
        ))
        .hint("fix what the findings name, commit, then tag (`git release check` shows them again)")
        .into());
    }
    warnings.extend(
        gate.findings
            .iter()
            .map(|f| format!("{}: {}", f.rule, f.message)),
    );
    // The product description files name the product version they describe (seed 000's
    // `metadata.version`): one that says another version is stale.
    for d in crate::product::at(repo, tree, settings)? {
        let Some(said) = &d.version else { continue };
        let same =
            semver::Version::parse(said.trim_start_matches('v')).is_ok_and(|v| v == *version);
        if !same {
            warnings.push(format!(
                "{} says metadata.version {said}, the tag is {name}; update it so the installer shows the right version",
                d.file
            ));
        }
    }
    match listed_versions(repo, tree, &settings.version_file)? {
        None if settings.version_file.is_empty() => {}
        None => warnings.push(format!(
            "{} does not exist at {spec}; addon versions not checked",
            settings.version_file
        )),
        Some(listed) => {
            for n in charts.keys().filter(|n| !listed.contains_key(*n)) {
                warnings.push(format!(
                    "chart {n} is not listed in {}",
                    settings.version_file
                ));
            }
        }
    }
    Ok(warnings)
}

/// Everything `tag` checks and decides, writing nothing: the version, the tag name, the commit,
/// the checks (a consistent release, versions only going up, VERSION agreeing, the remote), the
/// message. Returns the report `--dry-run`/`--json` print (its warnings included).
///
/// Errors: bad input (exit 2), refusals by the repository's state (exit 3), remote failures.
pub(crate) fn plan(
    repo: &gix::Repository,
    settings: &Settings,
    args: &TagArgs,
) -> Result<Report<TagReport>> {
    let (version, template, name) = tag_name(repo, args)?;
    let spec = args.rev.as_deref().unwrap_or("HEAD");
    let commit = resolve_commit(repo, spec)?;
    refuse_by_history(repo, &version, &template, &name, spec, commit)?;
    let tree = repo.find_commit(commit)?.tree_id()?.detach();
    let charts = chart_versions(repo, tree, &settings.addons_path)?;
    let mut warnings = gate(repo, settings, &charts, (&name, &version), spec, tree)?;

    // A VERSION file (component repos, Aether) must say the version being tagged.
    if let Some(files) = git::read_path(repo, tree, crate::version_bump::VERSION_FILE)? {
        if let Some(f) = files.get("") {
            let text = String::from_utf8_lossy(crate::placeholders::strip_bom(&f.data))
                .trim()
                .to_string();
            let says = crate::version_bump::parse_loose(&text).map(|(v, _)| v);
            if says.as_ref() != Some(&version) {
                return Err(UserError::refused(format!("VERSION at {spec} says `{text}`, not {version}"))
                    .hint("tag the commit that set VERSION to this release (or set it with `git release bump`, commit, then tag)")
                    .into());
            }
        }
    }
    // Exists on the remote, whatever it points at.
    let remote_checked = if args.offline {
        false
    } else {
        let configured = repo.try_find_remote(args.remote.as_str()).is_some();
        if !configured && args.remote == "origin" {
            warnings.push("no remote `origin`; only local tags were checked".into());
            false
        } else {
            let found = crate::components::fetch::remote_has_tag(repo, &args.remote, &name)
                .map_err(|e| {
                    UserError::failure(format!("checking tags on remote `{}`: {e:#}", args.remote))
                        .hint("pass --offline to skip the remote check")
                })?;
            if found {
                return Err(UserError::refused(format!("tag {name} already exists on remote `{}`", args.remote))
                    .hint("fetch it (`git fetch --tags`); release tags are never moved, make a new patch release")
                    .into());
            }
            true
        }
    };

    let addons: BTreeMap<String, String> = charts.into_iter().map(|(n, (v, _))| (n, v)).collect();
    let mut message = format!("Release {} {name}\n\n", settings.product);
    for (n, v) in &addons {
        message.push_str(&format!("{n} {v}\n"));
    }
    // The component tags the release is made of (repos files' currentTag), after the addons.
    let components: Vec<String> = crate::components::components_at(repo, tree, settings)?
        .iter()
        .filter_map(|c| {
            c.current_tag
                .as_ref()
                .map(|t| format!("{} {t}", c.repository_full_name))
        })
        .collect();
    if !components.is_empty() {
        message.push_str("\nComponents:\n");
        for c in &components {
            message.push_str(&format!("{c}\n"));
        }
    }
    if let Some(m) = &args.message {
        message.push('\n');
        message.push_str(m.trim_end());
        message.push('\n');
    }
    let signed = args.sign || crate::signing::wanted(repo, "tag.gpgSign");
    let mut report = Report::new(
        "tag",
        TagReport {
            tag: name.clone(),
            addons,
            message: message.clone(),
            remote_checked,
            signed,
            r#ref: crate::report::RefUpdate {
                r#ref: format!("refs/tags/{name}"),
                from: None,
                to: None,
            },
        },
    );
    report.rev = Some(commit.to_string());
    report.warnings = warnings.into_iter().map(Warning::from).collect();
    if !crate::hooks::is_installed(repo) {
        report.warnings.push(Warning::new(
            "tag protection is not installed in this clone: run `git release protect` so release tags cannot be moved or deleted here",
        ));
    }
    Ok(report)
}
