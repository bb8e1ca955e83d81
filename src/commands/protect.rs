//! `git release protect`: git hooks that let protected tags be created but never moved or deleted.
//!
//! A working repository gets a `reference-transaction` hook (covers `git tag -f/-d`,
//! `git update-ref`, fetches and pushes into it); a bare repository that others push to gets a
//! `pre-receive` hook. The hook is a small shell script that runs `git-release protect --hook
//! <name>` and then the hook it replaced (renamed `<name>.pre-git-release`), so existing hooks keep
//! working. The patterns are read when the hook runs, so changing `release.protectedTags` needs no
//! re-install.

use clap::Args;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::hooks::{hook_for, hooks_dir, is_ours, MARKER, PRE_RECEIVE, REFERENCE_TRANSACTION};
use crate::plan::{HookWrite, Plan};
use crate::report::{Report, Warning};

/// `git release protect`
#[derive(Args, Debug, Default)]
pub struct ProtectArgs {
    /// Only report whether protection is installed (exit 0 when it is, 3 when not).
    #[arg(long)]
    pub check: bool,
    /// Remove git-release's hooks and restore the hooks they chained to.
    #[arg(long, conflicts_with = "check")]
    pub uninstall: bool,
    /// Print what would be installed, chained or removed; change nothing.
    #[arg(short = 'n', long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Run as the hook NAME (used by the installed hooks; reads the ref updates on stdin).
    #[arg(long, value_name = "NAME", hide = true)]
    pub hook: Option<String>,
    /// Arguments git passed to the hook.
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub hook_args: Vec<String>,
}

/// Suffix of the hook we replaced and chain to.
const CHAINED_SUFFIX: &str = ".pre-git-release";
/// Hooks we install: in a working repository, and in a bare one.
const HOOKS: [&str; 2] = [REFERENCE_TRANSACTION, PRE_RECEIVE];

/// Run `git release protect`.
pub fn run(args: ProtectArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(hook) = &args.hook {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("reading the ref updates on stdin")?;
        return run_hook(hook, &args.hook_args, &input);
    }
    if !args.hook_args.is_empty() {
        crate::bail_input!(
            "unexpected argument `{}`: `git release protect` takes no arguments",
            args.hook_args[0]
        );
    }
    let repo = crate::open::repository()?;
    let hooks_dir = hooks_dir(&repo)?;
    let mut writes = Plan::new("protect");
    let mut report = Report::new("protect", ProtectReport::default());
    report.dry_run = args.dry_run;
    if args.check {
        check(&repo, &hooks_dir, &mut report.data)?;
    } else if args.uninstall {
        writes.hooks = uninstall(&hooks_dir, &mut report.data);
    } else {
        let fallback = std::env::current_exe()
            .context("locating the running executable")?
            .with_file_name("git-release");
        writes.hooks = install(&repo, &hooks_dir, &fallback, &mut report.data)?;
        if report.data.hook.as_deref() == Some(REFERENCE_TRANSACTION) {
            if let Some(w) = old_git_warning() {
                report.warnings.push(Warning::new(w));
            }
        }
    }
    if !args.dry_run {
        crate::plan::apply(&repo, &writes)?;
    }
    report.emit(args.json, &mut out, |r, out| {
        for (would, l) in &r.data.lines {
            let prefix = if *would { r.verb("", "would be ") } else { "" };
            writeln!(out, "{prefix}{l}")?;
        }
        Ok(())
    })
}

/// What `protect` does, as `--json` prints it inside the [`Report`] envelope (and, as `lines`,
/// for people).
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct ProtectReport {
    /// `installed`, `updated`, `checked` or `uninstalled`.
    pub action: &'static str,
    /// The hook (`reference-transaction` in a working repository, `pre-receive` in a bare one).
    pub hook: Option<String>,
    /// Its path.
    pub path: Option<String>,
    /// The hook it chains to, when there is one.
    pub chained: Option<String>,
    /// Protected tag patterns (`release.protectedTags`).
    pub protected_tags: Vec<String>,
    /// Hooks removed (`--uninstall`).
    pub removed: Vec<String>,
    /// Hooks put back (`--uninstall`).
    pub restored: Vec<String>,
    /// The text output: each line, and whether a dry run says "would be" before it.
    #[serde(skip)]
    lines: Vec<(bool, String)>,
}

// ---------------------------------------------------------------------------------------------
// Patterns

/// The protected tag patterns of `repo`: `release.protectedTags` (space-separated globs), or
/// `v[0-9]*` and `<release.hotfixTagPrefix>*` (`hotfix/*`), plus the pattern of
/// `release.tagTemplate` when it is not `v{version}` (`{version}` gives `[0-9]*`: voltha-style
/// tags without `v` are releases too).
pub(crate) fn patterns(repo: &gix::Repository) -> Vec<String> {
    let get = crate::settings::raw(repo);
    match get("protectedTags") {
        Some(list) => list.split_whitespace().map(str::to_string).collect(),
        None => {
            let prefix = get("hotfixTagPrefix").unwrap_or_else(|| "hotfix/".into());
            let mut v = vec!["v[0-9]*".to_string(), format!("{}*", glob_escape(&prefix))];
            if let Some(t) = get("tagTemplate").filter(|t| t != "v{version}") {
                if let Some((pre, _)) = t.split_once("{version}") {
                    let p = format!("{}[0-9]*", glob_escape(pre));
                    if !v.contains(&p) {
                        v.push(p);
                    }
                }
            }
            v
        }
    }
}

fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether tag `name` (without `refs/tags/`) matches one of `patterns` (git wildmatch, as
/// `git tag -l` matches: `*` crosses `/`).
pub(crate) fn is_protected(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| {
        gix::glob::wildmatch(
            p.as_str().into(),
            name.into(),
            gix::glob::wildmatch::Mode::empty(),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Hook logic

/// One line of a hook's stdin: `<old> SP <new> SP <refname>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefUpdate<'a> {
    /// The value the caller expects (zeros: none, or "must not exist").
    pub old: &'a str,
    /// The new value (zeros: delete).
    pub new: &'a str,
    /// Full ref name.
    pub refname: &'a str,
}

/// Parse a hook's stdin. Errors on a line without three fields.
pub(crate) fn parse_updates(input: &str) -> Result<Vec<RefUpdate<'_>>> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split(' ');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(old), Some(new), Some(refname), None) if !refname.is_empty() => {
                out.push(RefUpdate { old, new, refname })
            }
            _ => {
                return Err(UserError::failure(format!(
                    "stdin line {}: expected `<old-oid> <new-oid> <refname>`, got `{line}`",
                    i + 1
                ))
                .into())
            }
        }
    }
    Ok(out)
}

/// The null object id of sha1 or sha256 repositories.
pub(crate) fn is_zero_oid(oid: &str) -> bool {
    matches!(oid.len(), 40 | 64) && oid.bytes().all(|b| b == b'0')
}

/// Tags among `updates` that would be moved or deleted although protected.
///
/// `current` gives a tag ref's value in the repository now (hex id, or `ref:<target>` for a
/// symbolic ref), `None` when it does not exist. The caller's expected old value is only used when
/// the repository does not know the ref: git passes zeros when the caller did not say, and a
/// same-value rewrite (`git pack-refs`) must pass. `pruning(refname, value)` says whether a
/// delete only removes a loose copy of a ref that stays packed with the same value.
pub(crate) fn refused_tags<'a>(
    updates: &[RefUpdate<'a>],
    patterns: &[String],
    current: &mut dyn FnMut(&str) -> Result<Option<String>>,
    pruning: &mut dyn FnMut(&str, &str) -> bool,
) -> Result<Vec<&'a str>> {
    let mut refused = Vec::new();
    for u in updates {
        let Some(name) = u.refname.strip_prefix("refs/tags/") else {
            continue;
        };
        if !is_protected(name, patterns) {
            continue;
        }
        let existing = match current(u.refname)? {
            Some(v) => Some(v),
            None if !is_zero_oid(u.old) => Some(u.old.to_string()),
            None => None,
        };
        let Some(existing) = existing else { continue };
        if existing.eq_ignore_ascii_case(u.new)
            || (is_zero_oid(u.new) && pruning(u.refname, &existing))
        {
            continue;
        }
        if !refused.contains(&name) {
            refused.push(name);
        }
    }
    Ok(refused)
}

/// `git-release protect --hook <name> <args>…` with the hook's stdin in `input`.
fn run_hook(hook: &str, hook_args: &[String], input: &str) -> Result<()> {
    match hook {
        REFERENCE_TRANSACTION => {
            // Only `prepared` can still abort the transaction; `committed` and `aborted` are
            // notifications.
            if hook_args.first().map(String::as_str) != Some("prepared") {
                return Ok(());
            }
        }
        PRE_RECEIVE => {}
        other => crate::bail_input!(
            "unknown hook `{other}`: git-release installs {REFERENCE_TRANSACTION} and {PRE_RECEIVE}"
        ),
    }
    let updates = parse_updates(input)?;
    if !updates.iter().any(|u| u.refname.starts_with("refs/tags/")) {
        return Ok(());
    }
    // Hooks run with GIT_DIR set (and in the work tree or the bare repository).
    let repo = gix::discover_with_environment_overrides(".")
        .context("opening the repository the hook runs for")?;
    let patterns = patterns(&repo);
    let mut current = |refname: &str| -> Result<Option<String>> {
        let found = repo
            .try_find_reference(refname)
            .with_context(|| format!("reading {refname}"))?;
        Ok(found.map(|r| match r.target() {
            gix::refs::TargetRef::Object(id) => id.to_string(),
            gix::refs::TargetRef::Symbolic(name) => format!("ref:{}", name.as_bstr()),
        }))
    };
    let common_dir = repo.common_dir().to_path_buf();
    let mut pruning = |refname: &str, value: &str| {
        hook == REFERENCE_TRANSACTION && is_loose_prune(&common_dir, refname, value)
    };
    let refused = refused_tags(&updates, &patterns, &mut current, &mut pruning)?;
    if refused.is_empty() {
        if hook == PRE_RECEIVE {
            return check_on_push(repo, &updates);
        }
        return Ok(());
    }
    let message = match refused.as_slice() {
        [one] => format!("tag {one} is protected: release tags are never moved or deleted"),
        many => format!(
            "tags {} are protected: release tags are never moved or deleted",
            many.join(", ")
        ),
    };
    Err(UserError::failure(message)
        .hint(format!(
            "the tag stays where it is; to ship a fix, make a new patch release (or a new hotfix). \
             Protected tags: {} (release.protectedTags). A tag created by mistake (never pushed, \
             never released) can be removed with the protection off: `git release protect \
             --uninstall`, `git tag -d NAME`, `git release protect`",
            patterns.join(" ")
        ))
        .into())
}

/// With `release.checkOnPush`, the server-side release gate: every new release tag in a push
/// must name a commit that passes `git release check` (errors listed, the push refused). The
/// pushed objects are still in git's quarantine (`$GIT_QUARANTINE_PATH`, which gix does not
/// read by itself): they are loaded into this process's object memory first.
///
/// Errors: a tag whose commit has check errors (exit 3, with the findings); unreadable objects.
fn check_on_push(repo: gix::Repository, updates: &[RefUpdate<'_>]) -> Result<()> {
    let on = crate::settings::release_bool(&repo, "checkOnPush", false)?;
    let tags: Vec<&RefUpdate<'_>> = updates
        .iter()
        .filter(|u| !is_zero_oid(u.new))
        .filter(|u| {
            u.refname
                .strip_prefix("refs/tags/")
                .is_some_and(|t| crate::versions::release_version(t).is_some())
        })
        .collect();
    if !on || tags.is_empty() {
        return Ok(());
    }
    let mut repo = repo.with_object_memory();
    crate::git::without_replacements(&mut repo);
    if let Some(q) = std::env::var_os("GIT_QUARANTINE_PATH") {
        let store = gix::odb::at(&q, repo.object_hash())
            .with_context(|| format!("opening the push quarantine {}", q.to_string_lossy()))?;
        let mut buf = Vec::new();
        for id in store.iter()? {
            let id = id?;
            let obj = gix::prelude::Find::try_find(&store, &id, &mut buf)?
                .with_context(|| format!("reading {id} from the push quarantine"))?;
            repo.write_object(obj.decode()?)?;
        }
    }
    let settings = crate::settings::Settings::load(&repo, &Default::default())?;
    let config = crate::check::Config::load(&repo)?;
    let mut failed = Vec::new();
    for u in tags {
        let name = u.refname.trim_start_matches("refs/tags/");
        let report = crate::check::check(&repo, &settings, &config, u.new, false)?;
        if report.error_count > 0 {
            let mut table = Vec::new();
            crate::check::print(&report, &mut table)?;
            failed.push(format!(
                "{name}:\n{}",
                String::from_utf8_lossy(&table).trim_end()
            ));
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(UserError::refused(format!(
        "release tags must name a consistent release (release.checkOnPush):\n{}",
        failed.join("\n")
    ))
    .hint("fix the findings, commit, tag a new version, then push; `git release check` shows them")
    .into())
}

/// Whether deleting `refname` (now `value`) is `git pack-refs` pruning the loose copy of a ref it
/// has just packed: git runs the hook for that as for a real delete (`<value> <zeros> <refname>`).
/// It is one when the loose file and `packed-refs` both hold `value` and `packed-refs` is not
/// locked; a real delete of a packed ref holds `packed-refs.lock` while the hook runs.
fn is_loose_prune(common_dir: &Path, refname: &str, value: &str) -> bool {
    if exists(&common_dir.join("packed-refs.lock")) {
        return false;
    }
    let loose = std::fs::read_to_string(common_dir.join(refname)).unwrap_or_default();
    if !loose.trim().eq_ignore_ascii_case(value) {
        return false;
    }
    let packed = std::fs::read_to_string(common_dir.join("packed-refs")).unwrap_or_default();
    packed.lines().any(|line| {
        line.split_once(' ')
            .is_some_and(|(id, name)| name == refname && id.eq_ignore_ascii_case(value))
    })
}

// ---------------------------------------------------------------------------------------------
// Installation

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn chained_path(dir: &Path, hook: &str) -> PathBuf {
    dir.join(format!("{hook}{CHAINED_SUFFIX}"))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook script: run `git-release protect --hook <hook>` (from PATH, else `fallback`) when the
/// updates touch a tag, then the chained hook with the same arguments and stdin.
pub(crate) fn hook_script(hook: &str, fallback: &Path) -> String {
    let fallback = shell_quote(&fallback.to_string_lossy());
    format!(
        r#"#!/bin/sh
{MARKER}
# Protected tags (release.protectedTags) can be created but never moved or deleted.
# A hook that was here before was renamed {hook}{CHAINED_SUFFIX}; it runs after this check.
# Remove with `git release protect --uninstall`.
input=$(cat)
feed() {{
	if [ -n "$input" ]; then printf '%s\n' "$input"; fi
}}
case "$input" in
*refs/tags/*)
	exe=$(command -v git-release 2>/dev/null) || exe={fallback}
	if [ ! -x "$exe" ]; then
		echo "error: git-release not found on PATH nor at $exe: protected tags cannot be checked" >&2
		echo "hint: install git-release, or remove this hook: $0" >&2
		exit 1
	fi
	feed | "$exe" protect --hook {hook} "$@" || exit $?
	;;
esac
chained="$(dirname "$0")/{hook}{CHAINED_SUFFIX}"
if [ -x "$chained" ]; then
	feed | "$chained" "$@" || exit $?
fi
exit 0
"#
    )
}

/// The writes that install the hook `repo` needs into `dir`, chaining to a hook already there.
///
/// Errors (exit 3): a hook and a chained hook both there (one would be lost).
fn install(
    repo: &gix::Repository,
    dir: &Path,
    fallback: &Path,
    out: &mut ProtectReport,
) -> Result<Vec<HookWrite>> {
    let hook = hook_for(repo);
    let path = dir.join(hook);
    let chained = chained_path(dir, hook);
    let again = is_ours(&path);
    // A hook of someone else's is there: it moves to `chained` and runs after ours.
    let moves = !again && exists(&path);
    let chains = exists(&chained) || moves;
    if moves && exists(&chained) {
        return Err(UserError::refused(format!(
            "{} exists and so does {}: the hook cannot be chained without losing one",
            path.display(),
            chained.display()
        ))
        .hint(format!(
            "merge {} into {} (or remove one), then run `git release protect` again",
            path.display(),
            chained.display()
        ))
        .into());
    }
    let mut writes = Vec::new();
    if moves {
        writes.push(HookWrite::Rename {
            from: path.clone(),
            to: chained.clone(),
        });
    }
    writes.push(HookWrite::Executable {
        path: path.clone(),
        content: hook_script(hook, fallback),
    });
    let verb = if again { "updated" } else { "installed" };
    out.action = verb;
    out.hook = Some(hook.to_string());
    out.path = Some(path.display().to_string());
    out.protected_tags = patterns(repo);
    out.lines
        .push((true, format!("{verb} {hook} hook: {}", path.display())));
    if chains {
        out.chained = Some(chained.display().to_string());
        let moved = if moves {
            format!(" (the present {hook} hook, moved there)")
        } else {
            String::new()
        };
        out.lines.push((
            false,
            format!("chained hook: {}{moved} (runs after it)", chained.display()),
        ));
    }
    out.lines.push((
        false,
        format!(
            "protected tags: {} (release.protectedTags)",
            describe_patterns(&out.protected_tags)
        ),
    ));
    out.lines.push((
        false,
        if hook == REFERENCE_TRANSACTION {
            "matching tags can be created, but `git tag -f`, `git tag -d` and `git update-ref` of them are refused"
        } else {
            "matching tags can be pushed once, but never force-pushed or deleted by a push"
        }
        .into(),
    ));
    Ok(writes)
}

fn describe_patterns(patterns: &[String]) -> String {
    if patterns.is_empty() {
        "(none: release.protectedTags is empty)".into()
    } else {
        patterns.join(" ")
    }
}

/// git before 2.28 never runs a reference-transaction hook: the warning that says so instead of
/// protecting nothing silently (`None` for a newer git).
fn old_git_warning() -> Option<String> {
    let output = std::process::Command::new("git")
        .arg("version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split_whitespace().nth(2)?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    ((major, minor) < (2, 28)).then(|| format!(
        "git {version} does not run reference-transaction hooks (git 2.28 and later do): tags are not protected until git is upgraded"
    ))
}

/// Report whether protection is installed; refuse (exit 3) when it is not.
fn check(repo: &gix::Repository, dir: &Path, out: &mut ProtectReport) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let hook = hook_for(repo);
    let path = dir.join(hook);
    let patterns = patterns(repo);
    if !is_ours(&path) {
        let why = if exists(&path) {
            format!("{} is not git-release's hook", path.display())
        } else {
            format!("no {hook} hook in {}", dir.display())
        };
        let mut err = UserError::refused(format!("tags are not protected: {why}")).hint(
            "run `git release protect` to install the hook (an existing hook is kept and chained)",
        );
        for other in HOOKS.iter().filter(|h| **h != hook) {
            if is_ours(&dir.join(other)) {
                err = UserError::refused(format!(
                    "tags are not protected: {why}; the {other} hook installed there does not protect a {} repository",
                    if repo.is_bare() { "bare" } else { "working" }
                ))
                .hint("run `git release protect --uninstall`, then `git release protect`");
            }
        }
        return Err(err.into());
    }
    let executable = std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    if !executable {
        return Err(UserError::refused(format!(
            "tags are not protected: {} is not executable, so git ignores it",
            path.display()
        ))
        .hint(format!(
            "run `chmod +x {}` or `git release protect`",
            path.display()
        ))
        .into());
    }
    out.action = "checked";
    out.hook = Some(hook.to_string());
    out.path = Some(path.display().to_string());
    out.lines.push((
        false,
        format!("protection installed: {hook} hook {}", path.display()),
    ));
    out.lines.push((
        false,
        format!(
            "protected tags: {} (release.protectedTags)",
            describe_patterns(&patterns)
        ),
    ));
    out.protected_tags = patterns;
    let chained = chained_path(dir, hook);
    if exists(&chained) {
        out.chained = Some(chained.display().to_string());
        out.lines
            .push((false, format!("chained hook: {}", chained.display())));
    } else {
        out.lines.push((false, "chained hook: none".into()));
    }
    Ok(())
}

/// The writes that remove our hooks from `dir`, putting back the hooks they chained to.
fn uninstall(dir: &Path, out: &mut ProtectReport) -> Vec<HookWrite> {
    let mut writes = Vec::new();
    for hook in HOOKS {
        let path = dir.join(hook);
        if !is_ours(&path) {
            continue;
        }
        let chained = chained_path(dir, hook);
        let restore = exists(&chained);
        writes.push(HookWrite::Remove { path: path.clone() });
        out.removed.push(path.display().to_string());
        out.lines
            .push((true, format!("removed {hook} hook: {}", path.display())));
        if restore {
            writes.push(HookWrite::Rename {
                from: chained.clone(),
                to: path.clone(),
            });
            out.restored.push(path.display().to_string());
            out.lines.push((
                true,
                format!("restored {} (from {})", path.display(), chained.display()),
            ));
        }
    }
    out.action = "uninstalled";
    if writes.is_empty() {
        out.lines.push((
            false,
            format!(
                "nothing to remove: no git-release hook in {}",
                dir.display()
            ),
        ));
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_like_patterns() {
        let p = pats(&["v[0-9]*", "hotfix/*"]);
        assert!(is_protected("v1.0.0", &p));
        assert!(is_protected("v2.10.2", &p));
        assert!(is_protected("hotfix/v2.10.2-20261122-p1", &p));
        assert!(!is_protected("wip", &p));
        assert!(!is_protected("version", &p));
        assert!(!is_protected("hotfix", &p));
        assert!(!is_protected("x/v1.0.0", &p));
        assert_eq!(glob_escape("hot*fix/"), "hot\\*fix/");
        assert!(is_protected("a?b", &pats(&["a\\?b"])));
        assert!(!is_protected("axb", &pats(&["a\\?b"])));
    }

    #[test]
    fn zero_oids() {
        assert!(is_zero_oid(&"0".repeat(40)));
        assert!(is_zero_oid(&"0".repeat(64)));
        assert!(!is_zero_oid(&"0".repeat(39)));
        assert!(!is_zero_oid(&format!("1{}", "0".repeat(39))));
    }

    #[test]
    fn refuses_moves_and_deletes_only() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let input = format!(
            "{z} {b} refs/tags/v1.0.0\n{z} {z} refs/tags/v2.0.0\n{z} {a} refs/tags/v3.0.0\n{z} {b} refs/tags/new\n{a} {b} refs/heads/main\n{z} {b} refs/tags/v9.0.0\n"
        );
        let updates = parse_updates(&input).unwrap();
        assert_eq!(updates.len(), 6);
        let mut current = |r: &str| -> Result<Option<String>> {
            Ok(match r {
                "refs/tags/v1.0.0" | "refs/tags/v2.0.0" | "refs/tags/v3.0.0" | "refs/tags/new" => {
                    Some(a.clone())
                }
                _ => None,
            })
        };
        let refused = refused_tags(&updates, &pats(&["v[0-9]*"]), &mut current, &mut |_, _| {
            false
        })
        .unwrap();
        // v1 moved, v2 deleted; v3 same value (pack-refs), `new` unprotected, v9 created.
        assert_eq!(refused, ["v1.0.0", "v2.0.0"]);
        // pre-receive: old given, ref unknown locally.
        let delete = format!("{a} {z} refs/tags/v1.0.0");
        let updates = parse_updates(&delete).unwrap();
        let refused = refused_tags(
            &updates,
            &pats(&["v[0-9]*"]),
            &mut |_: &str| Ok(None),
            &mut |_, _| false,
        )
        .unwrap();
        assert_eq!(refused, ["v1.0.0"]);
        // pack-refs pruning the loose copy of a packed tag.
        let delete = format!("{a} {z} refs/tags/v1.0.0");
        let updates = parse_updates(&delete).unwrap();
        let refused = refused_tags(
            &updates,
            &pats(&["v[0-9]*"]),
            &mut |_: &str| Ok(Some(a.clone())),
            &mut |r, v| r == "refs/tags/v1.0.0" && v == a,
        )
        .unwrap();
        assert!(refused.is_empty());
        assert!(parse_updates("garbage\n").is_err());
        assert!(parse_updates("\n").unwrap().is_empty());
    }

    #[test]
    fn script_quotes_fallback() {
        let s = hook_script("pre-receive", Path::new("/opt/it's/git-release"));
        assert!(s.contains(r"exe='/opt/it'\''s/git-release'"), "{s}");
        assert!(s.lines().nth(1) == Some(MARKER));
    }
}
