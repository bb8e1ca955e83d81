//! `git release protect`, end to end: the installed hooks run under real `git`.

use std::path::Path;

use crate::util::{Repo, Run, Sandbox};

/// A working repository with two commits (`HEAD~1` and `HEAD`).
fn working(sb: &Sandbox) -> Repo<'_> {
    let mut r = sb.repo("platform");
    r.write("README.md", "one\n");
    r.commit("one");
    r.write("README.md", "two\n");
    r.commit("two");
    r
}

/// Run `git <args>` in `cwd` without asserting success.
fn git_run(sb: &Sandbox, cwd: &Path, args: &[&str]) -> Run {
    Run::from(sb.cmd("git", cwd).args(args).output().expect("run git"))
}

/// `git <args>` must fail, and say the tag is protected.
#[track_caller]
fn refused(sb: &Sandbox, cwd: &Path, args: &[&str], tag: &str) -> Run {
    let run = git_run(sb, cwd, args);
    assert_ne!(run.code, 0, "git {args:?} should fail\n{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "tag {tag} is protected: release tags are never moved or deleted"
        )),
        "git {args:?}: {}",
        run.stderr
    );
    run
}

fn rev(r: &Repo, spec: &str) -> String {
    r.git(&["rev-parse", spec]).trim().to_string()
}

/// A hook script that appends its arguments and stdin to `log`.
fn logging_hook(log: &Path) -> String {
    format!(
        "#!/bin/sh\necho \"args: $*\" >> '{0}'\ncat >> '{0}'\n",
        log.display()
    )
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn protected_tags_can_be_created_but_never_moved_or_deleted() {
    let sb = Sandbox::new();
    let r = working(&sb);
    let cwd = r.path.as_path();

    let run = r.release(&["protect", "--check"]).fails(3);
    assert!(
        run.stderr.contains("tags are not protected"),
        "{}",
        run.stderr
    );

    let run = r.release(&["protect"]).ok();
    let hook = r.path.join(".git/hooks/reference-transaction");
    assert!(
        run.stdout.contains(&format!(
            "installed reference-transaction hook: {}",
            hook.display()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("protected tags: v[0-9]* hotfix/*"),
        "{}",
        run.stdout
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let run = r.release(&["protect", "--check"]).ok();
    assert!(
        run.stdout
            .contains("protection installed: reference-transaction hook"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("chained hook: none"), "{}", run.stdout);

    // Creation is allowed; moving and deleting are not.
    r.git(&["tag", "v1.0.0"]);
    let head = rev(&r, "HEAD");
    let run = refused(&sb, cwd, &["tag", "-f", "v1.0.0", "HEAD~1"], "v1.0.0");
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    assert!(run.stderr.contains("new patch release"), "{}", run.stderr);
    assert_eq!(rev(&r, "v1.0.0"), head);
    refused(&sb, cwd, &["tag", "-d", "v1.0.0"], "v1.0.0");
    refused(
        &sb,
        cwd,
        &["update-ref", "refs/tags/v1.0.0", "HEAD~1"],
        "v1.0.0",
    );
    refused(
        &sb,
        cwd,
        &["update-ref", "-d", "refs/tags/v1.0.0"],
        "v1.0.0",
    );
    // Re-tagging the same commit changes nothing and is fine.
    r.git(&["tag", "-f", "v1.0.0", "HEAD"]);
    assert_eq!(rev(&r, "v1.0.0"), head);

    // Unprotected tags and branches move freely.
    r.git(&["tag", "wip"]);
    r.git(&["tag", "-f", "wip", "HEAD~1"]);
    r.git(&["update-ref", "refs/tags/wip", "HEAD"]);
    r.git(&["tag", "-d", "wip"]);
    r.git(&["branch", "topic"]);
    r.git(&["branch", "-f", "topic", "HEAD~1"]);
    r.git(&["branch", "-D", "topic"]);

    // Hotfix tags are protected too (annotated: a new tag object is a move).
    r.git(&["tag", "-a", "-m", "hotfix", "hotfix/v1.0.0-20260101-p1"]);
    refused(
        &sb,
        cwd,
        &[
            "tag",
            "-f",
            "-a",
            "-m",
            "again",
            "hotfix/v1.0.0-20260101-p1",
        ],
        "hotfix/v1.0.0-20260101-p1",
    );

    // Housekeeping rewrites refs without changing them.
    r.git(&["pack-refs", "--all"]);
    r.git(&["gc", "-q"]);
    assert!(!r.exists(".git/refs/tags/v1.0.0"), "v1.0.0 was not packed");
    // A packed tag is just as protected.
    refused(&sb, cwd, &["tag", "-d", "v1.0.0"], "v1.0.0");
    refused(&sb, cwd, &["tag", "-f", "v1.0.0", "HEAD~1"], "v1.0.0");
    // A loose copy of a packed tag (same value) is packed again.
    r.git(&["tag", "v1.1.0"]);
    r.git(&["pack-refs", "--all"]);
    refused(
        &sb,
        cwd,
        &["update-ref", "-d", "refs/tags/v1.1.0"],
        "v1.1.0",
    );
    assert_eq!(rev(&r, "v1.0.0"), head);
    assert_eq!(rev(&r, "v1.1.0"), head);

    // Uninstalled: tags are ordinary refs again.
    let run = r.release(&["protect", "--uninstall"]).ok();
    assert!(
        run.stdout.contains("removed reference-transaction hook"),
        "{}",
        run.stdout
    );
    assert!(!hook.exists());
    r.release(&["protect", "--check"]).fails(3);
    r.git(&["tag", "-d", "v1.0.0"]);
    let run = r.release(&["protect", "--uninstall"]).ok();
    assert!(run.stdout.contains("nothing to remove"), "{}", run.stdout);
}

#[test]
fn existing_reference_transaction_hook_is_chained_once_and_restored() {
    let sb = Sandbox::new();
    let r = working(&sb);
    let log = sb.path("hook.log");
    let hook = r.path.join(".git/hooks/reference-transaction");
    let original = logging_hook(&log);
    std::fs::write(&hook, &original).unwrap();
    make_executable(&hook);

    let run = r.release(&["protect"]).ok();
    assert!(
        run.stdout.contains("chained hook: ") && run.stdout.contains(".pre-git-release"),
        "{}",
        run.stdout
    );
    let chained = r
        .path
        .join(".git/hooks/reference-transaction.pre-git-release");
    assert_eq!(std::fs::read_to_string(&chained).unwrap(), original);

    r.git(&["tag", "v1.0.0"]);
    let head = rev(&r, "HEAD");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        logged,
        format!(
            "args: prepared\n{z} {head} refs/tags/v1.0.0\nargs: committed\n{z} {head} refs/tags/v1.0.0\n",
            z = "0".repeat(40)
        )
    );

    // A re-run updates our hook and chains nothing twice.
    let run = r.release(&["protect"]).ok();
    assert!(
        run.stdout.contains("updated reference-transaction hook"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_to_string(&chained).unwrap(), original);
    std::fs::remove_file(&log).unwrap();
    r.git(&["tag", "v1.0.1"]);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.matches("args: prepared").count(), 1, "{logged}");
    assert_eq!(logged.matches("args: committed").count(), 1, "{logged}");
    // A transaction without tags skips git-release but still reaches the chained hook.
    std::fs::remove_file(&log).unwrap();
    r.git(&["branch", "topic"]);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.starts_with("args: prepared\n") && logged.contains("refs/heads/topic"),
        "{logged}"
    );
    // A refused update never reaches "committed".
    std::fs::remove_file(&log).unwrap();
    refused(&sb, &r.path, &["tag", "-d", "v1.0.0"], "v1.0.0");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!logged.contains("args: committed"), "{logged}");

    let run = r.release(&["protect", "--check"]).ok();
    assert!(
        run.stdout
            .contains(&format!("chained hook: {}", chained.display())),
        "{}",
        run.stdout
    );

    let run = r.release(&["protect", "--uninstall"]).ok();
    assert!(run.stdout.contains("restored"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), original);
    assert!(!chained.exists());
    r.release(&["protect", "--check"]).fails(3);
    r.git(&["tag", "-d", "v1.0.0"]);
}

#[test]
fn refuses_to_chain_when_both_hooks_exist() {
    let sb = Sandbox::new();
    let r = working(&sb);
    r.write(".git/hooks/reference-transaction", "#!/bin/sh\nexit 0\n");
    r.write(
        ".git/hooks/reference-transaction.pre-git-release",
        "#!/bin/sh\nexit 0\n",
    );
    let run = r.release(&["protect"]).fails(3);
    assert!(run.stderr.contains("without losing one"), "{}", run.stderr);
    assert_eq!(
        r.read(".git/hooks/reference-transaction"),
        "#!/bin/sh\nexit 0\n"
    );
    let run = r.release(&["protect", "--check"]).fails(3);
    assert!(
        run.stderr.contains("is not git-release's hook"),
        "{}",
        run.stderr
    );
}

#[test]
fn bare_repository_refuses_force_push_and_delete_of_protected_tags() {
    let sb = Sandbox::new();
    let server = sb.path("server.git");
    sb.git(
        sb.dir.path(),
        &["init", "-q", "--bare", "-b", "main", "server.git"],
    );
    let log = sb.path("pre-receive.log");
    let old_hook = server.join("hooks/pre-receive");
    std::fs::create_dir_all(old_hook.parent().unwrap()).unwrap();
    std::fs::write(&old_hook, logging_hook(&log)).unwrap();
    make_executable(&old_hook);

    let run = sb.release(&server, &["protect"]).ok();
    assert!(
        run.stdout.contains(&format!(
            "installed pre-receive hook: {}",
            server.join("hooks/pre-receive").display()
        )),
        "{}",
        run.stdout
    );
    let run = sb.release(&server, &["protect", "--check"]).ok();
    assert!(
        run.stdout
            .contains("protection installed: pre-receive hook"),
        "{}",
        run.stdout
    );

    let url = format!("file://{}", server.display());
    sb.git(sb.dir.path(), &["clone", "-q", &url, "clone"]);
    let mut c = Repo::open(&sb, "clone");
    c.write("README.md", "one\n");
    c.commit("one");
    c.write("README.md", "two\n");
    c.commit("two");
    c.git(&["tag", "v1.0.0"]);
    c.git(&["tag", "wip"]);
    c.git(&["push", "-q", "origin", "main", "v1.0.0", "wip"]);
    let pushed = rev(&c, "v1.0.0");
    // The chained hook saw the push.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(&format!("{pushed} refs/tags/v1.0.0")),
        "{logged}"
    );

    let server_tag = |name: &str| sb.git(&server, &["rev-parse", name]).trim().to_string();
    c.git(&["tag", "-f", "v1.0.0", "HEAD~1"]);
    let run = git_run(&sb, &c.path, &["push", "--force", "origin", "v1.0.0"]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("remote: error: tag v1.0.0 is protected"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("pre-receive hook declined"),
        "{}",
        run.stderr
    );
    assert_eq!(server_tag("v1.0.0"), pushed);

    let run = git_run(&sb, &c.path, &["push", "--delete", "origin", "v1.0.0"]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("v1.0.0"), "{}", run.stderr);
    assert_eq!(server_tag("v1.0.0"), pushed);

    // Everything else still goes through, and the chained hook still runs.
    std::fs::remove_file(&log).unwrap();
    c.git(&["push", "-q", "origin", "HEAD~1:refs/heads/feature"]);
    c.git(&["tag", "-f", "wip", "HEAD~1"]);
    c.git(&["push", "-q", "--force", "origin", "wip"]);
    c.git(&["push", "-q", "--delete", "origin", "wip"]);
    c.git(&["tag", "v1.0.1", "HEAD~1"]);
    c.git(&["push", "-q", "origin", "v1.0.1"]);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("refs/heads/feature"), "{logged}");
    assert!(logged.contains("refs/tags/v1.0.1"), "{logged}");
    assert_eq!(server_tag("v1.0.1"), rev(&c, "HEAD~1"));

    // Uninstall puts the old hook back.
    sb.release(&server, &["protect", "--uninstall"]).ok();
    assert_eq!(
        std::fs::read_to_string(&old_hook).unwrap(),
        logging_hook(&log)
    );
}

#[test]
fn protected_tags_setting_changes_the_patterns() {
    let sb = Sandbox::new();
    let mut r = working(&sb);
    r.write(
        ".gitrelease",
        "[release]\n\tprotectedTags = ship/* rel-[0-9]*\n",
    );
    r.commit("settings");
    let run = r.release(&["protect"]).ok();
    assert!(
        run.stdout.contains("protected tags: ship/* rel-[0-9]*"),
        "{}",
        run.stdout
    );
    for t in ["v1.0.0", "ship/1", "rel-2", "rel-x"] {
        r.git(&["tag", t, "HEAD~1"]);
    }
    r.git(&["tag", "-f", "v1.0.0"]);
    r.git(&["tag", "-d", "v1.0.0"]);
    r.git(&["tag", "-d", "rel-x"]);
    refused(&sb, &r.path, &["tag", "-d", "ship/1"], "ship/1");
    refused(&sb, &r.path, &["tag", "-f", "rel-2"], "rel-2");

    // git config wins over the committed file, and is read when the hook runs.
    r.git(&["config", "release.protectedTags", "v*"]);
    r.git(&["tag", "-d", "ship/1"]);
    r.git(&["tag", "v2.0.0"]);
    refused(&sb, &r.path, &["tag", "-d", "v2.0.0"], "v2.0.0");
    let run = r.release(&["protect", "--check"]).ok();
    assert!(run.stdout.contains("protected tags: v*"), "{}", run.stdout);
}

#[test]
fn hooks_path_and_linked_worktrees() {
    let sb = Sandbox::new();
    let r = working(&sb);
    r.git(&["config", "core.hooksPath", ".githooks"]);
    let run = r.release(&["protect"]).ok();
    assert!(
        run.stdout.contains(&format!(
            "hook: {}",
            r.path.join(".githooks/reference-transaction").display()
        )),
        "{}",
        run.stdout
    );
    assert!(!r.exists(".git/hooks/reference-transaction"));
    r.git(&["tag", "v1.0.0"]);
    refused(&sb, &r.path, &["tag", "-d", "v1.0.0"], "v1.0.0");

    // A linked worktree shares the tags and the protection.
    r.git(&["config", "--unset", "core.hooksPath"]);
    r.release(&["protect"]).ok();
    r.git(&["worktree", "add", "-q", "../wt", "-b", "wt"]);
    let wt = sb.path("wt");
    refused(&sb, &wt, &["tag", "-f", "v1.0.0", "HEAD~1"], "v1.0.0");
    let run = sb.release(&wt, &["protect", "--check"]).ok();
    assert!(
        run.stdout.contains(&format!(
            "{}",
            r.path.join(".git/hooks/reference-transaction").display()
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn hook_finds_git_release_without_path() {
    let sb = Sandbox::new();
    let r = working(&sb);
    r.release(&["protect"]).ok();
    r.git(&["tag", "v1.0.0"]);
    // PATH without any git-release: the hook falls back to the executable recorded at install.
    let path: Vec<_> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|d| !d.join("git-release").exists())
        .collect();
    let path = std::env::join_paths(path).unwrap();
    let run = Run::from(
        sb.cmd("git", &r.path)
            .env("PATH", &path)
            .args(["tag", "-d", "v1.0.0"])
            .output()
            .unwrap(),
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("tag v1.0.0 is protected"),
        "{}",
        run.stderr
    );
}

#[test]
fn outside_a_repository_is_an_input_error() {
    let sb = Sandbox::new();
    let dir = sb.path("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let run = Run::from(
        sb.cmd("git", &dir)
            .env("GIT_CEILING_DIRECTORIES", sb.dir.path())
            .args(["release", "protect"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );
}

/// Regression (voltha-helm-charts): release tags without `v` (`2.8.27`) follow `release.tagTemplate`.
#[test]
fn tag_template_without_v_is_protected_by_default() {
    let sb = Sandbox::new();
    let r = working(&sb);
    r.git(&["config", "release.tagTemplate", "{version}"]);
    r.release(&["protect"]).ok();
    r.git(&["tag", "2.8.27"]);
    refused(&sb, &r.path, &["tag", "-d", "2.8.27"], "2.8.27");
    assert!(r.git(&["tag", "-l", "2.8.27"]).contains("2.8.27"));
}

/// A snapshot of every file under `dir`: path -> bytes.
fn files_under(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.insert(
                    e.path().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn dry_run_says_what_would_be_installed_chained_and_removed_and_changes_nothing() {
    let sb = Sandbox::new();
    let r = working(&sb);
    let hooks = r.path.join(".git/hooks");
    let hook = hooks.join("reference-transaction");
    std::fs::write(&hook, logging_hook(&sb.path("hook.log"))).unwrap();
    make_executable(&hook);
    let before = files_under(&hooks);

    r.release(&["protect", "--dry-run"])
        .ok()
        .out_has(&format!(
            "would be installed reference-transaction hook: {}",
            hook.display()
        ))
        .out_has(&format!(
            "chained hook: {}.pre-git-release (the present reference-transaction hook, moved there)",
            hook.display()
        ));
    let json = r.release(&["protect", "-n", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["action"], "installed");
    assert_eq!(v["hook"], "reference-transaction");
    assert!(v["chained"].as_str().unwrap().ends_with(".pre-git-release"));
    assert_eq!(files_under(&hooks), before, "a dry run changed the hooks");
    r.release(&["protect", "--check"]).fails(3);

    // Installed for real, then an uninstall dry run: it names what it would remove and restore.
    r.release(&["protect"]).ok();
    let installed = files_under(&hooks);
    r.release(&["protect", "--uninstall", "--dry-run"])
        .ok()
        .out_has(&format!(
            "would be removed reference-transaction hook: {}",
            hook.display()
        ))
        .out_has("would be restored");
    assert_eq!(
        files_under(&hooks),
        installed,
        "an uninstall dry run changed the hooks"
    );
    r.release(&["protect", "--check"]).ok();
    r.git(&["tag", "v1.0.0"]);
    refused(&sb, &r.path, &["tag", "-d", "v1.0.0"], "v1.0.0");
    // --check and --dry-run do not mix.
    r.release(&["protect", "--check", "--dry-run"]).fails(2);
}

/// Issue 20, Why 10: a protected tag made by mistake (`git tag hotfix/test`) cannot be deleted,
/// and the refusal says how to remove it: protection off, delete, protection on.
#[test]
fn why_10_a_mistyped_protected_tag_names_the_way_out() {
    let sb = Sandbox::new();
    let r = working(&sb);
    let cwd = r.path.as_path();
    r.release(&["protect"]).ok();
    r.git(&["tag", "hotfix/test"]);
    let run = refused(&sb, cwd, &["tag", "-d", "hotfix/test"], "hotfix/test");
    assert!(
        run.stderr.contains("git release protect --uninstall"),
        "{}",
        run.stderr
    );
    r.release(&["protect", "--uninstall"]).ok();
    r.git(&["tag", "-d", "hotfix/test"]);
    r.release(&["protect"]).ok();
    assert_eq!(r.git(&["tag", "-l", "hotfix/*"]), "");
}
