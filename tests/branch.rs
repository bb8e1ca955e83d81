//! `git release branch`, end to end.

use crate::util::{Repo, Sandbox};

fn released(sb: &Sandbox) -> Repo<'_> {
    let mut p = sb.repo("platform");
    for v in ["2.9.4", "2.10.0", "2.10.2", "2.10.3-rc.1", "2.11.0"] {
        p.write("VERSION", &format!("{v}\n"));
        p.commit(&format!("release {v}"));
        p.git(&["tag", "-a", "-m", v, &format!("v{v}")]);
    }
    p.write("README.md", "work on master\n");
    p.commit("more work");
    p
}

#[test]
fn line_and_oem_branches() {
    let sb = Sandbox::new();
    let p = released(&sb);
    let at = |rev: &str| p.git(&["rev-parse", &format!("{rev}^{{commit}}")]);
    let run = p.release(&["branch", "2.10"]).ok();
    assert!(
        run.stdout.contains("created release-2.10 at")
            && run.stdout.contains("newest 2.10 release v2.10.2"),
        "{}",
        run.stdout
    );
    assert_eq!(
        at("release-2.10"),
        at("v2.10.2"),
        "pre-release v2.10.3-rc.1 is not a release"
    );
    // Idempotent: same commit is not an error, and says so.
    let run = p.release(&["branch", "2.10"]).ok();
    assert!(
        run.stdout.contains("exists release-2.10") && run.stdout.contains("nothing to do"),
        "{}",
        run.stdout
    );
    // OEM branch on the line branch; the line branch is created first when missing.
    let run = p.release(&["branch", "2.9/acme"]).ok();
    assert!(
        run.stdout.contains("created release-2.9 at")
            && run.stdout.contains("created release-2.9-acme at"),
        "{}",
        run.stdout
    );
    assert_eq!(at("release-2.9-acme"), at("v2.9.4"));
    // Already there with its start as an ancestor (it grew): fine. Elsewhere: refused, unchanged.
    let run = p.release(&["branch", "2.10", "--from", "v2.10.0"]).ok();
    assert!(
        run.stdout.contains("with commits on top of that start"),
        "{}",
        run.stdout
    );
    let run = p.release(&["branch", "2.10", "--from", "v2.11.0"]).fails(3);
    assert!(
        run.stderr.contains("branch release-2.10 already exists at"),
        "{}",
        run.stderr
    );
    assert_eq!(at("release-2.10"), at("v2.10.2"));
    // No release of the line.
    let run = p.release(&["branch", "3.0"]).fails(2);
    assert!(
        run.stderr.contains("no release tag of line 3.0"),
        "{}",
        run.stderr
    );
    // JSON for scripts.
    let run = p
        .release(&["branch", "2.11/globex", "--json", "--dry-run"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["branches"][1]["branch"], "release-2.11-globex");
    assert_eq!(v["branches"][1]["status"], "created");
    assert_eq!(v["dry_run"], true);
    // The refs it would create, in the shared vocabulary: the line's branch, then the customer's.
    assert_eq!(v["refs"][1]["ref"], "refs/heads/release-2.11-globex");
    assert!(v["refs"][1]["from"].is_null());
    assert_eq!(v["refs"][1]["to"], v["branches"][1]["commit"]);
    assert!(
        p.git(&["branch", "--list", "release-2.11*"]).is_empty(),
        "dry run creates nothing"
    );
}

/// Regression (voltha-go): a branch someone already pushed is followed, not recreated from the tag.
#[test]
fn follows_a_remote_tracking_branch() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    p.git(&["checkout", "-q", "-b", "release-2.10", "v2.10.2"]);
    p.write("VERSION", "2.10.3-dev\n");
    p.commit("start 2.10.3");
    p.git(&["checkout", "-q", "main"]);
    let remote_tip = p.git(&["rev-parse", "release-2.10"]);
    p.git(&[
        "update-ref",
        "refs/remotes/origin/release-2.10",
        remote_tip.trim(),
    ]);
    p.git(&["branch", "-D", "release-2.10"]);
    let run = p.release(&["branch", "2.10"]).ok();
    assert!(
        run.stdout.contains("(as origin/release-2.10)"),
        "{}",
        run.stdout
    );
    assert_eq!(p.git(&["rev-parse", "release-2.10"]), remote_tip);
}

#[test]
fn colliding_templates_are_refused() {
    let sb = Sandbox::new();
    let p = released(&sb);
    p.git(&[
        "config",
        "release.oemBranchTemplate",
        "release-{line}/{customer}",
    ]);
    let run = p.release(&["branch", "2.10/acme"]).fails(2);
    assert!(
        run.stderr.contains("a ref cannot be a file and a folder"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("release-{line}-{customer}"),
        "{}",
        run.stderr
    );
    assert!(p.git(&["branch", "--list", "release-*"]).is_empty());
    // A template that cannot collide is fine.
    p.git(&[
        "config",
        "release.oemBranchTemplate",
        "oem/{customer}/{line}",
    ]);
    p.release(&["branch", "2.10/acme"]).ok();
    assert!(p.git(&["branch", "--list"]).contains("oem/acme/2.10"));
}

#[test]
fn list_shows_lines_customers_and_newest_tags() {
    let sb = Sandbox::new();
    let p = released(&sb);
    p.release(&["branch", "2.10/acme"]).ok();
    p.release(&["branch", "2.9"]).ok();
    p.git(&[
        "tag",
        "-a",
        "-m",
        "hf",
        "hotfix/v2.10.2-20261122-p1",
        "release-2.10",
    ]);
    p.git(&[
        "tag",
        "-a",
        "-m",
        "hf",
        "hotfix/v2.10.2-20261123-p2",
        "release-2.10",
    ]);
    let run = p.release(&["branch", "--list"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("BRANCH"), "{}", run.stdout);
    assert!(
        lines[1].starts_with("release-2.9 ") && lines[1].contains("v2.9.4"),
        "{}",
        run.stdout
    );
    assert!(
        lines[2].starts_with("release-2.10 ")
            && lines[2].contains("v2.10.2")
            && lines[2].contains("hotfix/v2.10.2-20261123-p2"),
        "{}",
        run.stdout
    );
    assert!(
        lines[3].starts_with("release-2.10-acme") && lines[3].contains("acme"),
        "{}",
        run.stdout
    );
    assert_eq!(
        lines.len(),
        4,
        "main is not a release branch: {}",
        run.stdout
    );
}

/// Aether's lazy branching: the branch starts where the VERSION file reached the released version.
#[test]
fn lazy_branch_from_version_file_history() {
    let sb = Sandbox::new();
    let mut c = sb.repo("component");
    let mut ids = Vec::new();
    for (v, msg) in [
        ("1.2.0-dev", "dev"),
        ("1.2.0", "release 1.2.0"),
        ("1.2.0", "docs after release"),
        ("1.2.1-dev", "next"),
    ] {
        c.write("VERSION", &format!("{v}\n"));
        c.write("notes.txt", &format!("{msg}\n"));
        ids.push(c.commit(msg));
    }
    c.write("deploy/chart/Chart.yaml", "name: comp\nversion: 0.3.0\n");
    ids.push(c.commit("chart 0.3.0"));
    c.write("deploy/chart/Chart.yaml", "name: comp\nversion: 0.3.1\n");
    c.commit("chart 0.3.1");
    let at = |rev: &str| c.git(&["rev-parse", rev]).trim().to_string();
    let run = c
        .release(&[
            "branch",
            "2.1",
            "--at-version",
            "1.2.0",
            "--template",
            "aether-{line}",
        ])
        .ok();
    assert!(
        run.stdout.contains("created aether-2.1")
            && run.stdout.contains("first commit where VERSION is 1.2.0"),
        "{}",
        run.stdout
    );
    assert_eq!(at("aether-2.1"), ids[1]);
    // From a chart's version instead.
    c.release(&[
        "branch",
        "2.2",
        "--at-version",
        "0.3.0",
        "--chart",
        "deploy/chart",
    ])
    .ok();
    assert_eq!(at("release-2.2"), ids[4]);
    // A tag for that version wins.
    c.git(&["tag", "v1.2.1-dev", &ids[3]]);
    c.release(&["branch", "2.3", "--at-version", "1.2.1-dev"])
        .ok();
    assert_eq!(at("release-2.3"), ids[3]);
    c.git(&["tag", "1.2.0", &ids[0]]);
    c.release(&["branch", "2.4", "--at-version", "1.2.0"]).ok();
    assert_eq!(
        at("release-2.4"),
        ids[0],
        "the tag wins over the file history"
    );
    let run = c
        .release(&["branch", "2.5", "--at-version", "9.9.9"])
        .fails(2);
    assert!(
        run.stderr.contains("VERSION never reads 9.9.9"),
        "{}",
        run.stderr
    );
}

/// Issue 20, Why 10: `branch --list` shows the newest release each branch contains: an OEM branch
/// made at v1.1.0 shows v1.1.0 after the line released v1.1.1.
#[test]
fn why_10_list_shows_each_branchs_own_newest_release() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.release(&["tag", "1.1.0", "--offline"]).ok();
    p.release(&["branch", "1.1"]).ok();
    p.release(&["branch", "1.1/acme"]).ok();
    let values = p.read("addons/cyclone/values.yaml");
    p.write(
        "addons/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 3"),
    );
    let fix = p.commit("cyclone: three replicas");
    p.release(&["cherry-pick", &fix, "--onto", "1.1"]).ok();
    p.release(&["tag", "1.1.1", "release-1.1", "--offline"])
        .ok();
    let run = p.release(&["branch", "--list", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let newest = |b: &str| {
        v["branches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["branch"] == b)
            .map(|x| x["newest_release"].clone())
            .unwrap()
    };
    assert_eq!(newest("release-1.1"), "v1.1.1", "{v}");
    assert_eq!(newest("release-1.1-acme"), "v1.1.0", "{v}");
}
