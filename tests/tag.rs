//! `git release tag`, end to end.

use crate::util::{Repo, Sandbox};

fn platform(sb: &Sandbox) -> Repo<'_> {
    let mut p = sb.repo("platform");
    p.write(".gitrelease", "[release]\n\tproduct = demo\n");
    p.write("addons/alpha/Chart.yaml", "name: alpha\nversion: 1.0.0\n");
    p.write("addons/beta/Chart.yaml", "name: beta\nversion: 2.1.0\n");
    p.write(
        "version.yml",
        "spec:\n  modules:\n  - name: core\n    addons:\n    - name: alpha\n      version: 1.0.0\n    - name: beta\n      version: 2.1.0\n",
    );
    p.commit("release content");
    p
}

#[test]
fn tags_with_addon_versions() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p
        .release(&["tag", "2.10.0", "-m", "First 2.10 release."])
        .ok();
    assert!(run.stdout.contains("tagged v2.10.0 on"), "{}", run.stdout);
    assert!(run.stderr.contains("no remote `origin`"), "{}", run.stderr);
    assert_eq!(p.git(&["cat-file", "-t", "v2.10.0"]).trim(), "tag");
    let msg = p.git(&["tag", "-l", "--format=%(contents)", "v2.10.0"]);
    assert_eq!(
        msg,
        "Release demo v2.10.0\n\nalpha 1.0.0\nbeta 2.1.0\n\nFirst 2.10 release.\n\n"
    );
    // There is no --force.
    let run = p.release(&["tag", "2.10.1", "--force"]).fails(2);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
}

#[test]
fn refusals() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    let run = p.release(&["tag", "2.10"]).fails(2);
    assert!(
        run.stderr.contains("`2.10` is not a SemVer version"),
        "{}",
        run.stderr
    );
    let run = p.release(&["tag", "v2.10.2-20261122-p1"]).fails(2);
    assert!(run.stderr.contains("is a hotfix version"), "{}", run.stderr);
    p.release(&["tag", "v2.10.2"]).ok();
    p.write("README.md", "x\n");
    p.commit("more");
    // Exists locally, whatever it points at: refused, tag unchanged.
    let before = p.git(&["rev-parse", "v2.10.2"]);
    let run = p.release(&["tag", "2.10.2"]).fails(3);
    assert!(
        run.stderr.contains("tag v2.10.2 already exists") && run.stderr.contains("never moved"),
        "{}",
        run.stderr
    );
    assert_eq!(before, p.git(&["rev-parse", "v2.10.2"]));
    // Not greater than the newest release of the line: refused by the repository's state (3).
    let run = p.release(&["tag", "2.10.1"]).fails(3);
    assert!(
        run.stderr
            .contains("not greater than the newest 2.10 release, v2.10.2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the next patch release is v2.10.3"),
        "{}",
        run.stderr
    );
    // Another line is independent, but never below a release this commit contains.
    p.release(&["tag", "2.11.0", "--dry-run"]).ok();
    p.release(&["tag", "2.9.7", "--dry-run"])
        .fails(3)
        .err_has("v2.9.7 is below v2.10.2, a release that HEAD already contains");
    // One commit is one release (promoting a pre-release stays allowed).
    p.release(&["tag", "2.12.0", "v2.10.2", "--dry-run"])
        .fails(3)
        .err_has("v2.10.2 is already released as v2.10.2; one commit is one release");
    p.release(&["tag", "2.13.0-rc.1"]).ok();
    p.release(&["tag", "2.13.0", "--dry-run"]).ok();
    // version.yml disagreeing with the charts: the release gate (`git release check`) refuses.
    p.write("addons/alpha/Chart.yaml", "name: alpha\nversion: 1.0.1\n");
    p.commit("chart bumped, version.yml not");
    let run = p.release(&["tag", "2.13.1"]).fails(3);
    run.err_has("version-yml-mismatch (error)");
    run.err_has(
        "version.yml:6: addon alpha is at 1.0.0 in version.yml, but addons/alpha/Chart.yaml says 1.0.1",
    );
    assert!(p.git(&["tag", "-l", "v2.13.1"]).is_empty());
}

#[test]
fn refuses_a_tag_that_exists_on_the_remote() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let remote = sb.path("remote.git");
    sb.git(
        sb.dir.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    p.git(&[
        "remote",
        "add",
        "origin",
        &format!("file://{}", remote.display()),
    ]);
    p.git(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    // Someone else tagged v2.10.0 on the remote; we do not have it locally.
    p.git(&["push", "-q", "origin", "HEAD:refs/tags/v2.10.0"]);
    assert!(p.git(&["tag", "-l"]).is_empty());
    let run = p.release(&["tag", "2.10.0"]).fails(3);
    assert!(
        run.stderr
            .contains("tag v2.10.0 already exists on remote `origin`"),
        "{}",
        run.stderr
    );
    assert!(p.git(&["tag", "-l"]).is_empty(), "nothing created");
    // --offline skips the remote; --remote names another one.
    p.release(&["tag", "2.10.1", "--dry-run", "--offline"]).ok();
    let run = p.release(&["tag", "2.10.1", "--remote", "nope"]).fails(1);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
    p.release(&["tag", "2.10.1"]).ok();
}

/// Regression (voltha-go): a component repo's VERSION must say the version being tagged.
#[test]
fn version_file_must_match() {
    let sb = Sandbox::new();
    let mut p = sb.repo("component");
    p.write("VERSION", "2.5.4\n");
    p.commit("2.5.4");
    let run = p.release(&["tag", "2.5.5", "--offline"]).fails(3);
    assert!(
        run.stderr
            .contains("VERSION at HEAD says `2.5.4`, not 2.5.5"),
        "{}",
        run.stderr
    );
    p.release(&["tag", "2.5.4", "--offline"]).ok();
    // The existing tag is reported by its commit, not the tag object.
    let run = p.release(&["tag", "2.5.4", "--offline"]).fails(3);
    let commit = p.git(&["rev-parse", "HEAD"]);
    assert!(
        run.stderr.contains(&format!("(at {})", &commit[..12])),
        "{}",
        run.stderr
    );
}

#[test]
fn json_for_scripts() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p.release(&["tag", "2.10.0", "--json", "--dry-run"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["tag"], "v2.10.0");
    assert_eq!(v["addons"]["beta"], "2.1.0");
    assert_eq!(v["dry_run"], true);
    assert!(p.git(&["tag", "-l"]).is_empty());
}
