//! git's own settings honoured (issue 11): `--commit` runs the commit hooks as `git commit` does
//! and signs with `commit.gpgSign`; `tag -s` and `tag.gpgSign` sign tags (openpgp and ssh), checked
//! with `git verify-commit` / `git verify-tag` on keys the tests create; `tag` warns when this
//! clone has no tag protection.

use std::path::Path;

use crate::util::{Repo, Run, Sandbox};

fn hook(p: &Repo, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = p.path.join(".git/hooks").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_failing_pre_commit_hook_stops_collect_commit_with_nothing_changed() {
    let sb = Sandbox::new();
    let p = sb.example();
    let head = p.git(&["rev-parse", "HEAD"]);
    hook(
        &p,
        "pre-commit",
        "echo 'lint: addons/cyclone is not allowed' >&2\nexit 1",
    );
    let run = p.release(&["collect", "--commit"]).fails(3);
    run.err_has("the pre-commit hook refused the commit (exit 1); nothing was changed")
        .err_has("lint: addons/cyclone is not allowed");
    assert_eq!(p.git(&["rev-parse", "HEAD"]), head, "no commit");
    assert_eq!(p.status(), "", "work tree and index as they were");
    // --no-verify skips it, as for `git commit`.
    p.release(&["collect", "--commit", "--no-verify"]).ok();
    assert_ne!(p.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(p.status(), "");
}

#[test]
fn commit_hooks_see_the_commit_and_may_edit_its_message() {
    let sb = Sandbox::new();
    let p = sb.example();
    // pre-commit sees the commit's content through the index git gives it; prepare-commit-msg
    // is told the message came from the command line; commit-msg adds a trailer (as Gerrit's
    // Change-Id hook does); post-commit runs after.
    hook(
        &p,
        "pre-commit",
        "git diff --cached --name-only > .git/staged.txt",
    );
    hook(&p, "prepare-commit-msg", "echo \"$2\" > .git/source.txt");
    hook(&p, "commit-msg", "printf '\\nChange-Id: I123\\n' >> \"$1\"");
    hook(&p, "post-commit", "git rev-parse HEAD > .git/post.txt");
    p.release(&["collect", "--commit"]).ok();
    let staged = std::fs::read_to_string(p.path.join(".git/staged.txt")).unwrap();
    assert!(staged.contains("version.yml"), "{staged}");
    assert!(staged.lines().any(|l| l.starts_with("addons/")), "{staged}");
    assert_eq!(
        std::fs::read_to_string(p.path.join(".git/source.txt")).unwrap(),
        "message\n"
    );
    let msg = p.git(&["log", "-1", "--format=%B"]);
    assert!(msg.trim_end().ends_with("Change-Id: I123"), "{msg}");
    assert_eq!(
        std::fs::read_to_string(p.path.join(".git/post.txt")).unwrap(),
        p.git(&["rev-parse", "HEAD"])
    );
    assert_eq!(p.status(), "", "index and work tree match the commit");
    // The reflog reads as git's.
    let reflog = p.git(&["reflog", "-1", "--format=%gs"]);
    assert!(reflog.starts_with("commit: "), "{reflog}");
}

/// An ed25519 key in `dir` and an allowed-signers file naming the test identity.
pub(crate) fn ssh_key(sb: &Sandbox, dir: &Path) -> (String, String) {
    let key = dir.join("id_ed25519");
    let out = sb
        .cmd("ssh-keygen", dir)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bot", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (Debian package openssh-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(dir.join("id_ed25519.pub")).unwrap();
    let allowed = dir.join("allowed_signers");
    std::fs::write(&allowed, format!("bot@example.com {public}")).unwrap();
    (key.display().to_string(), allowed.display().to_string())
}

/// `git -c` settings that sign with the ssh `key` (`sign`: `commit.gpgSign=true` or
/// `tag.gpgSign=true`) and verify against `allowed`.
fn ssh_config(sign: &str, key: &str, allowed: &str) -> Vec<String> {
    vec![
        sign.to_string(),
        "gpg.format=ssh".into(),
        format!("user.signingKey={key}"),
        format!("gpg.ssh.allowedSignersFile={allowed}"),
    ]
}

/// git's verdict on an ssh signature by the test key names its principal.
fn good_ssh_signature(verified: &Run) {
    assert!(
        verified
            .stderr
            .contains("Good \"git\" signature for bot@example.com"),
        "{}",
        verified.stderr
    );
}

/// `git -c … release ARGS` / `git -c … ARGS` with extra environment.
fn with(sb: &Sandbox, cwd: &Path, config: &[String], env: &[(&str, &Path)], args: &[&str]) -> Run {
    let mut c = sb.cmd("git", cwd);
    for kv in config {
        c.args(["-c", kv]);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    Run::from(c.args(args).output().unwrap())
}

#[test]
fn commit_gpgsign_signs_collect_commits_with_ssh() {
    let sb = Sandbox::new();
    let p = sb.example();
    let keys = sb.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (key, allowed) = ssh_key(&sb, &keys);
    let config = ssh_config("commit.gpgSign=true", &key, &allowed);
    with(
        &sb,
        &p.path,
        &config,
        &[],
        &["release", "collect", "--commit"],
    )
    .ok();
    good_ssh_signature(&with(&sb, &p.path, &config, &[], &["verify-commit", "-v", "HEAD"]).ok());
    // A commit that is not signed fails the same check (the check can fail).
    p.git(&["commit", "--allow-empty", "-qm", "unsigned"]);
    with(&sb, &p.path, &config, &[], &["verify-commit", "HEAD"]).fails(1);
}

#[test]
fn tags_are_signed_with_openpgp_and_ssh() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    // OpenPGP: a key without passphrase in a GNUPGHOME of the sandbox.
    let gnupg = sb.path("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let made = sb
        .cmd("gpg", sb.dir.path())
        .env("GNUPGHOME", &gnupg)
        .args([
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Release Bot <bot@example.com>",
            "ed25519",
            "sign",
            "never",
        ])
        .output()
        .expect("gpg (Debian package gnupg)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let env = [("GNUPGHOME", gnupg.as_path())];
    let run = with(&sb, &p.path, &[], &env, &["release", "tag", "1.1.0", "-s"]).ok();
    run.err_has("warning: tag protection is not installed in this clone");
    let verified = with(&sb, &p.path, &[], &env, &["verify-tag", "-v", "v1.1.0"]).ok();
    assert!(
        verified
            .stderr
            .contains("Good signature from \"Release Bot <bot@example.com>\""),
        "{}",
        verified.stderr
    );
    let body = p.git(&["cat-file", "-p", "v1.1.0"]);
    assert!(body.contains("-----BEGIN PGP SIGNATURE-----"), "{body}");
    // ssh, through tag.gpgSign (no flag); with protection installed, no warning.
    p.release(&["protect"]).ok();
    let keys = sb.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (key, allowed) = ssh_key(&sb, &keys);
    let config = ssh_config("tag.gpgSign=true", &key, &allowed);
    p.git(&["commit", "--allow-empty", "-qm", "next"]);
    let run = with(
        &sb,
        &p.path,
        &config,
        &[],
        &["release", "tag", "1.1.1", "--offline"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("tag protection is not installed"),
        "{}",
        run.stderr
    );
    good_ssh_signature(&with(&sb, &p.path, &config, &[], &["verify-tag", "-v", "v1.1.1"]).ok());
    // An unsigned tag fails the check.
    p.git(&["tag", "-a", "-m", "plain", "plain"]);
    with(&sb, &p.path, &config, &[], &["verify-tag", "plain"]).fails(1);
}

/// `git -c user.name=… -c user.email=… release collect --commit`: the identity given on git's
/// command line is the commit's, as for every git subcommand (gix does not read
/// `GIT_CONFIG_PARAMETERS`; git-release applies it when it opens the repository).
#[test]
fn an_identity_given_with_git_dash_c_makes_the_commit() {
    let sb = Sandbox::new();
    let p = sb.example();
    let run = |config: &[&str]| -> Run {
        let mut c = sb.cmd("git", &p.path);
        for var in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
        ] {
            c.env_remove(var);
        }
        for kv in config {
            c.args(["-c", kv]);
        }
        Run::from(c.args(["release", "collect", "--commit"]).output().unwrap())
    };
    run(&[])
        .fails(2)
        .err_has("--commit needs an identity: user.name and user.email are not set");
    run(&["user.name=Dash C", "user.email=dash-c@example.com"]).ok();
    assert_eq!(
        p.git(&["log", "-1", "--format=%an <%ae> / %cn <%ce>"])
            .trim(),
        "Dash C <dash-c@example.com> / Dash C <dash-c@example.com>"
    );
}
