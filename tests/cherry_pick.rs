//! `git release cherry-pick`, end to end.

use crate::util::{Repo, Sandbox};

const DEPLOY: &str = "kind: Deployment\nspec:\n  replicas: 1\n  image: comp:v1\n";

/// master: release v1.2.0 (VERSION 1.2.0, chart 0.3.0), then the next-minor bump (1.3.0-dev,
/// chart 0.4.0), then a fix that also bumps both version fields, as master does.
pub(crate) fn component(sb: &Sandbox) -> (Repo<'_>, String) {
    let mut c = sb.repo("component");
    c.write("VERSION", "1.2.0\n");
    c.write(
        "deploy/comp/Chart.yaml",
        "apiVersion: v2\nname: comp   # the chart\nversion: 0.3.0\n",
    );
    c.write("deploy/comp/templates/deploy.yaml", DEPLOY);
    c.write("src/main.go", "package main\n");
    c.commit("release 1.2.0");
    c.git(&["tag", "-a", "-m", "v1.2.0", "v1.2.0"]);
    c.write("VERSION", "1.3.0-dev\n");
    c.write(
        "deploy/comp/Chart.yaml",
        "apiVersion: v2\nname: comp   # the chart\nversion: 0.4.0\n",
    );
    c.commit("start 1.3");
    c.write("VERSION", "1.3.0-dev1\n");
    c.write(
        "deploy/comp/Chart.yaml",
        "apiVersion: v2\nname: comp   # the chart\nversion: 0.4.1\n",
    );
    c.write(
        "deploy/comp/templates/deploy.yaml",
        &DEPLOY.replace("replicas: 1", "replicas: 2"),
    );
    c.write("src/main.go", "package main\n// fix\n");
    let out =
        c.sb.cmd("git", &c.path)
            .env("GIT_AUTHOR_NAME", "Fix Author")
            .env("GIT_AUTHOR_EMAIL", "fix@example.com")
            .args(["commit", "-qam", "fix: two replicas"])
            .output()
            .unwrap();
    assert!(out.status.success());
    let fix = c.git(&["rev-parse", "HEAD"]).trim().to_string();
    c.git(&["config", "release.addonsPath", "deploy"]);
    (c, fix)
}

#[test]
fn version_conflicts_resolved_to_patch_plus_one() {
    let sb = Sandbox::new();
    let (c, fix) = component(&sb);
    // Plain git conflicts on the version fields (proof that resolution is needed).
    c.git(&["checkout", "-q", "-b", "plain", "v1.2.0"]);
    let out =
        c.sb.cmd("git", &c.path)
            .args(["cherry-pick", &fix])
            .output()
            .unwrap();
    assert!(!out.status.success(), "git cherry-pick should conflict");
    c.git(&["cherry-pick", "--abort"]);
    c.git(&["checkout", "-q", "main"]);

    let run = c.release(&["cherry-pick", &fix, "--onto", "1.2"]).ok();
    assert!(
        run.stdout.contains("applied 1 commit(s) to release-1.2"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("bump VERSION: 1.2.0 -> 1.2.1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("bump deploy/comp/Chart.yaml: 0.3.0 -> 0.3.1"),
        "{}",
        run.stdout
    );
    let show = |p: &str| c.git(&["show", &format!("release-1.2:{p}")]);
    assert_eq!(show("VERSION"), "1.2.1\n", "no -dev from master");
    assert_eq!(
        show("deploy/comp/Chart.yaml"),
        "apiVersion: v2\nname: comp   # the chart\nversion: 0.3.1\n"
    );
    assert!(show("deploy/comp/templates/deploy.yaml").contains("replicas: 2"));
    assert_eq!(show("src/main.go"), "package main\n// fix\n");
    // The branch was created lazily at the line's release; one commit on top, with the trailer.
    assert_eq!(
        c.git(&["rev-parse", "release-1.2~1"]),
        c.git(&["rev-parse", "v1.2.0^{commit}"])
    );
    let msg = c.git(&["log", "-1", "--format=%an <%ae>%n%B", "release-1.2"]);
    assert!(
        msg.starts_with(
            "Fix Author <fix@example.com>\nfix: two replicas\n\n(cherry picked from commit "
        ),
        "{msg}"
    );
    assert!(msg.contains(&fix));
    // Not checked out: the work tree (main) was not touched.
    assert_eq!(c.status(), "");
}

#[test]
fn bumps_once_per_run_and_dry_run() {
    let sb = Sandbox::new();
    let (mut c, fix) = component(&sb);
    c.write(
        "deploy/comp/templates/deploy.yaml",
        &DEPLOY
            .replace("replicas: 1", "replicas: 2")
            .replace("comp:v1", "comp:v2"),
    );
    c.write("VERSION", "1.3.0-dev2\n");
    c.commit("fix 2");
    c.release(&["branch", "1.2"]).ok();
    let before = c.git(&["rev-parse", "release-1.2"]);
    let run = c
        .release(&[
            "cherry-pick",
            &format!("{fix}~1..HEAD"),
            "--onto",
            "1.2",
            "--dry-run",
        ])
        .ok();
    assert!(
        run.stdout.contains("would apply 2 commit(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("-version: 0.3.0\n+version: 0.3.1"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+  image: comp:v2"), "{}", run.stdout);
    assert_eq!(
        before,
        c.git(&["rev-parse", "release-1.2"]),
        "dry run moves nothing"
    );
    c.release(&["cherry-pick", &format!("{fix}~1..HEAD"), "--onto", "1.2"])
        .ok();
    assert_eq!(
        c.git(&["rev-list", "--count", "v1.2.0..release-1.2"])
            .trim(),
        "2"
    );
    assert_eq!(
        c.git(&["show", "release-1.2:VERSION"]),
        "1.2.1\n",
        "bumped once, not per commit"
    );
    assert_eq!(c.git(&["show", "release-1.2~1:VERSION"]), "1.2.0\n");
}

#[test]
fn real_conflict_aborts_with_nothing_changed() {
    let sb = Sandbox::new();
    let (mut c, _fix) = component(&sb);
    c.release(&["branch", "1.2"]).ok();
    // The branch changed the same line differently.
    c.git(&["checkout", "-q", "release-1.2"]);
    c.write(
        "deploy/comp/templates/deploy.yaml",
        &DEPLOY.replace("replicas: 1", "replicas: 5"),
    );
    c.commit("branch-only change");
    let before = c.git(&["rev-parse", "release-1.2"]);
    c.git(&["checkout", "-q", "main"]);
    c.write(
        "deploy/comp/templates/deploy.yaml",
        &DEPLOY.replace("replicas: 1", "replicas: 3"),
    );
    c.commit("conflicting fix");
    let run = c
        .release(&["cherry-pick", "HEAD~1", "HEAD", "--onto", "1.2"])
        .fails(3);
    assert!(
        run.stderr
            .contains("conflicts in deploy/comp/templates/deploy.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(before, c.git(&["rev-parse", "release-1.2"]));
    assert_eq!(c.status(), "");
}

#[test]
fn checked_out_branch_follows_and_dirty_is_refused() {
    let sb = Sandbox::new();
    let (c, fix) = component(&sb);
    c.release(&["branch", "1.2"]).ok();
    c.git(&["checkout", "-q", "release-1.2"]);
    c.write("src/main.go", "package main\n// local edit\n");
    let run = c.release(&["cherry-pick", &fix, "--onto", "1.2"]).fails(3);
    assert!(
        run.stderr.contains("checked out with uncommitted changes"),
        "{}",
        run.stderr
    );
    c.git(&["checkout", "--", "src/main.go"]);
    c.release(&["cherry-pick", &fix, "--onto", "1.2"]).ok();
    assert_eq!(c.status(), "", "work tree and index follow the branch");
    assert_eq!(
        std::fs::read_to_string(c.path.join("VERSION")).unwrap(),
        "1.2.1\n"
    );
    // An OEM branch of a line that has no release yet cannot be created.
    let run = c
        .release(&["cherry-pick", &fix, "--onto", "9.9/acme"])
        .fails(2);
    assert!(
        run.stderr.contains("no release tag of line 9.9"),
        "{}",
        run.stderr
    );
}

/// Regressions found on opencord/voltha-go and voltha-helm-charts.
#[test]
fn voltha_regressions() {
    let sb = Sandbox::new();
    let (mut c, fix) = component(&sb);
    // Master already released chart 0.3.1 and VERSION 1.2.1 elsewhere (a tag, an old branch):
    // the branch must not reuse them.
    c.release(&["branch", "1.2"]).ok();
    c.git(&["branch", "old-line", "v1.2.0"]);
    c.git(&["checkout", "-q", "old-line"]);
    c.write(
        "deploy/comp/Chart.yaml",
        "apiVersion: v2\nname: comp   # the chart\nversion: 0.3.1\n",
    );
    c.commit("someone released chart 0.3.1");
    c.git(&["tag", "v1.2.1"]);
    c.git(&["checkout", "-q", "main"]);
    // A Gerrit-style message: the trailer goes under Change-Id, not after a blank line.
    c.write("src/gerrit.go", "package main\n");
    c.write("deploy/new/Chart.yaml", "name: new\nversion: 0.1.0-dev\n");
    c.git(&["add", "-A"]);
    c.git(&[
        "commit",
        "-q",
        "-m",
        "add new chart\n\nChange-Id: I123\nSigned-off-by: A <a@b>",
    ]);
    let gerrit = c.git(&["rev-parse", "HEAD"]).trim().to_string();
    // An OEM target that does not exist yet is created on its line branch, after success only.
    let run = c
        .release(&["cherry-pick", &fix, &gerrit, "--onto", "1.2/acme"])
        .ok();
    assert!(
        run.stdout.contains("created release-1.2-acme at"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("bump VERSION: 1.2.0 -> 1.2.2"),
        "1.2.1 is tagged: {}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("bump deploy/comp/Chart.yaml: 0.3.0 -> 0.3.2"),
        "0.3.1 is used: {}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("bump deploy/new/Chart.yaml: 0.1.0-dev -> 0.1.0 (new chart)"),
        "{}",
        run.stdout
    );
    let msg = c.git(&["log", "-1", "--format=%B", "release-1.2-acme"]);
    assert!(
        msg.ends_with(&format!(
            "Signed-off-by: A <a@b>\n(cherry picked from commit {gerrit})\n\n"
        )),
        "{msg:?}"
    );
    let trailers =
        c.sb.cmd("bash", &c.path)
            .args([
                "-c",
                "git log -1 --format=%B release-1.2-acme | git interpret-trailers --parse",
            ])
            .output()
            .unwrap();
    assert!(String::from_utf8_lossy(&trailers.stdout).contains("Change-Id: I123"));
    // Picking the same fix again: nothing to apply, nothing changed.
    let before = c.git(&["rev-parse", "release-1.2-acme"]);
    let run = c
        .release(&["cherry-pick", &fix, "--onto", "1.2/acme"])
        .fails(2);
    assert!(run.stderr.contains("nothing to apply"), "{}", run.stderr);
    assert_eq!(before, c.git(&["rev-parse", "release-1.2-acme"]));
    // A branch checked out in another worktree is not moved under it.
    let wt = sb.path("wt");
    c.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "release-1.2"]);
    let run = c.release(&["cherry-pick", &fix, "--onto", "1.2"]).fails(3);
    assert!(
        run.stderr.contains("is checked out in the worktree at"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_for_scripts() {
    let sb = Sandbox::new();
    let (c, fix) = component(&sb);
    let run = c
        .release(&["cherry-pick", &fix, "--onto", "1.2", "--json", "--dry-run"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["branch"], "release-1.2");
    assert_eq!(v["created_branch"], true);
    assert_eq!(
        v["bumps"][0],
        serde_json::json!({"name": "VERSION", "path": "VERSION", "from": "1.2.0", "to": "1.2.1"})
    );
    assert_eq!(v["commits"][0]["from"], fix.as_str());
    assert_eq!(v["ref"]["ref"], "refs/heads/release-1.2");
    assert!(
        v["ref"]["from"].is_null(),
        "a branch created by the pick: {v}"
    );
    assert_eq!(v["ref"]["to"], v["commits"][0]["to"]);
    assert!(
        c.git(&["branch", "--list", "release-1.2"]).is_empty(),
        "dry run creates nothing"
    );
    let run = c
        .release(&["cherry-pick", &fix, "--onto", "1.2", "--dry-run"])
        .ok();
    assert!(
        run.stdout
            .contains("would apply 1 commit(s) to release-1.2"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("would create release-1.2 at"),
        "{}",
        run.stdout
    );
}
