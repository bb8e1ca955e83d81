//! `git release bump`, end to end.

use crate::util::{Repo, Sandbox};

const ALPHA: &str = "# alpha chart\napiVersion: v2\nname: alpha\n\n# bumped by git release bump\nversion: \"0.4.1\"  # keep\nappVersion: \"1.0.0\"\n";
const BETA: &str = "apiVersion: v2\nname: beta-chart\ndescription: 'beta: the second'\nversion: 'v2.0.3' # quoted, with v\ndependencies:\n- name: sub\n  version: 9.9.9\n";
const SUB: &str = "apiVersion: v2\nname: sub\nversion: 9.9.9\n";

/// A platform repo at release 1.2.3: VERSION, charts alpha and beta (beta with a subchart), committed.
fn platform(sb: &Sandbox) -> Repo<'_> {
    let mut p = sb.repo("platform");
    p.write("VERSION", "1.2.3\n");
    p.write("addons/alpha/Chart.yaml", ALPHA);
    p.write("addons/alpha/values.yaml", "replicas: 1\n");
    p.write("addons/beta/Chart.yaml", BETA);
    p.write("addons/beta/charts/sub/Chart.yaml", SUB);
    p.commit("release 1.2.3");
    p
}

#[test]
fn next_minor_moves_version_to_dev_and_charts_to_plain_minor() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p.release(&["bump", "--next-minor"]).ok();
    assert_eq!(p.read("VERSION"), "1.3.0-dev\n");
    assert_eq!(
        p.read("addons/alpha/Chart.yaml"),
        ALPHA.replace("\"0.4.1\"", "\"0.5.0\"")
    );
    assert_eq!(
        p.read("addons/beta/Chart.yaml"),
        BETA.replace("'v2.0.3'", "'v2.1.0'")
    );
    // A subchart is packaged inside its parent: its version is the parent's business.
    assert_eq!(p.read("addons/beta/charts/sub/Chart.yaml"), SUB);
    assert!(
        run.stdout
            .contains("VERSION                  1.2.3 -> 1.3.0-dev")
            && run
                .stdout
                .contains("addons/alpha/Chart.yaml  0.4.1 -> 0.5.0")
            && run
                .stdout
                .contains("addons/beta/Chart.yaml   v2.0.3 -> v2.1.0")
            && run.stdout.contains("3 file(s) changed"),
        "{}",
        run.stdout
    );
}

/// Decision: VERSION is idempotent (1.3.0-dev stays), charts always move one more minor, with a
/// warning that says why.
#[test]
fn next_minor_twice_keeps_version_and_moves_charts_again() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    p.release(&["bump", "--next-minor", "--commit"]).ok();
    let run = p.release(&["bump", "--next-minor"]).ok();
    assert_eq!(p.read("VERSION"), "1.3.0-dev\n");
    assert!(p
        .read("addons/alpha/Chart.yaml")
        .contains("version: \"0.6.0\"  # keep"));
    assert!(
        run.stderr.contains("VERSION is already at 1.3.0-dev"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("VERSION "), "{}", run.stdout);
}

#[test]
fn version_file_keeps_v_prefix_and_line_ending() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    p.write("VERSION", "v1.2.3\r\n");
    p.commit("crlf");
    p.release(&["bump", "--next-minor"]).ok();
    assert_eq!(p.read("VERSION"), "v1.3.0-dev\r\n");
}

#[test]
fn patch_with_one_named_chart_bumps_it_and_version() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    p.release(&["bump", "patch", "alpha"]).ok();
    assert_eq!(p.read("VERSION"), "1.2.4\n");
    assert_eq!(
        p.read("addons/alpha/Chart.yaml"),
        ALPHA.replace("\"0.4.1\"", "\"0.4.2\"")
    );
    assert_eq!(p.read("addons/beta/Chart.yaml"), BETA);
    assert_eq!(
        p.status(),
        " M VERSION\n M addons/alpha/Chart.yaml\n",
        "only the bumped files change"
    );
}

#[test]
fn patch_names_charts_by_folder_or_chart_name() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    // By Chart.yaml name (beta-chart), by path relative to the addons folder, by repo path.
    p.release(&["bump", "patch", "beta-chart"]).ok();
    assert!(p
        .read("addons/beta/Chart.yaml")
        .contains("version: 'v2.0.4'"));
    p.git(&["checkout", "--", "."]);
    p.release(&["bump", "patch", "addons/beta/"]).ok();
    assert!(p
        .read("addons/beta/Chart.yaml")
        .contains("version: 'v2.0.4'"));
    p.git(&["checkout", "--", "."]);
    p.release(&["bump", "patch", "beta"]).ok();
    assert!(p
        .read("addons/beta/Chart.yaml")
        .contains("version: 'v2.0.4'"));
    assert_eq!(p.read("addons/alpha/Chart.yaml"), ALPHA);
}

#[test]
fn patch_of_a_dev_version_is_its_release() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    p.write("VERSION", "1.3.0-dev\n");
    p.commit("dev");
    p.release(&["bump", "patch"]).ok();
    assert_eq!(p.read("VERSION"), "1.3.0\n");
    assert!(p.read("addons/alpha/Chart.yaml").contains("\"0.4.2\""));
    assert!(p.read("addons/beta/Chart.yaml").contains("'v2.0.4'"));
}

#[test]
fn dry_run_writes_nothing_and_shows_diff() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p.release(&["bump", "--next-minor", "--dry-run"]).ok();
    assert!(
        run.stdout.contains("--- a/addons/alpha/Chart.yaml")
            && run.stdout.contains("-version: \"0.4.1\"  # keep")
            && run.stdout.contains("+version: \"0.5.0\"  # keep")
            && run.stdout.contains("-1.2.3")
            && run.stdout.contains("+1.3.0-dev"),
        "{}",
        run.stdout
    );
    assert_eq!(p.status(), "");
}

#[test]
fn json_for_scripts() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p.release(&["bump", "patch", "alpha", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        v["files"],
        serde_json::json!([
            {"name": "VERSION", "path": "VERSION", "from": "1.2.3", "to": "1.2.4"},
            {"name": "alpha", "path": "addons/alpha/Chart.yaml", "from": "0.4.1", "to": "0.4.2"},
        ])
    );
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["commit"], serde_json::Value::Null);
}

#[test]
fn refuses_uncommitted_changes_in_written_files() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    p.write("addons/alpha/Chart.yaml", &format!("{ALPHA}# local edit\n"));
    let run = p.release(&["bump", "--next-minor"]).fails(3);
    assert!(
        run.stderr.contains("uncommitted changes")
            && run.stderr.contains("addons/alpha/Chart.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(p.read("VERSION"), "1.2.3\n", "nothing was written");
    assert_eq!(p.read("addons/beta/Chart.yaml"), BETA);
    // A dirty file bump does not write is no reason to refuse.
    p.release(&["bump", "patch", "beta"]).ok();
}

#[test]
fn commit_makes_one_commit_of_exactly_the_bumped_files() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    // An unrelated staged change stays staged and out of the commit.
    p.write("install.sh", "echo install\n");
    p.git(&["add", "install.sh"]);
    let before = p.git(&["rev-parse", "HEAD"]);
    let run = p.release(&["bump", "--next-minor", "--commit"]).ok();
    assert!(run.stdout.contains("committed "), "{}", run.stdout);
    assert_eq!(
        p.git(&["rev-parse", "HEAD~1"]),
        before,
        "exactly one commit"
    );
    let msg = p.git(&["log", "-1", "--format=%B"]);
    assert!(
        msg.starts_with("bump: next minor (VERSION 1.2.3 -> 1.3.0-dev, 2 charts)\n\n")
            && msg.contains("- addons/alpha/Chart.yaml 0.4.1 -> 0.5.0\n")
            && msg.contains("- addons/beta/Chart.yaml v2.0.3 -> v2.1.0\n"),
        "{msg}"
    );
    let files = p.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        files,
        "VERSION\naddons/alpha/Chart.yaml\naddons/beta/Chart.yaml\n"
    );
    assert_eq!(p.status(), "A  install.sh\n");
}

#[test]
fn commit_message_names_a_single_chart() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    p.release(&["bump", "patch", "alpha", "--commit"]).ok();
    let msg = p.git(&["log", "-1", "--format=%s"]);
    assert_eq!(
        msg,
        "bump: patch (VERSION 1.2.3 -> 1.2.4, chart alpha 0.4.1 -> 0.4.2)\n"
    );
    assert_eq!(p.status(), "");
}

#[test]
fn bad_chart_version_names_file_and_line() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    p.write(
        "addons/alpha/Chart.yaml",
        "apiVersion: v2\nname: alpha\nversion: latest\n",
    );
    p.commit("bad");
    let run = p.release(&["bump", "--next-minor"]).fails(2);
    assert!(
        run.stderr
            .contains("addons/alpha/Chart.yaml:3: version `latest` is not SemVer"),
        "{}",
        run.stderr
    );
    assert_eq!(p.read("VERSION"), "1.2.3\n", "nothing was written");
}

#[test]
fn input_errors() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p.release(&["bump", "patch", "gamma"]).fails(2);
    assert!(
        run.stderr.contains("unknown chart `gamma`"),
        "{}",
        run.stderr
    );
    let run = p.release(&["bump", "minor"]).fails(2);
    assert!(
        run.stderr
            .contains("unknown level `minor`: only `patch` is supported"),
        "{}",
        run.stderr
    );
    let run = p.release(&["bump", "alpha"]).fails(2);
    assert!(
        run.stderr.contains("`git release bump patch alpha`"),
        "{}",
        run.stderr
    );
    let run = p
        .release(&["bump", "patch", "--version-file", "nope.txt"])
        .fails(2);
    assert!(run.stderr.contains("nope.txt"), "{}", run.stderr);
    p.release(&["bump", "patch", "--commit", "--dry-run"])
        .fails(2);
    assert_eq!(p.status(), "");
}

#[test]
fn charts_at_the_repository_root_and_another_version_file() {
    let sb = Sandbox::new();
    let mut p = sb.repo("flat");
    p.write(".gitrelease", "[release]\n\taddonsPath = .\n");
    p.write("app/Chart.yaml", "name: app\nversion: 1.0.0\n");
    p.write("meta/version.txt", "2.4.9\n");
    p.commit("flat");
    p.release(&["bump", "--next-minor", "--version-file", "meta/version.txt"])
        .ok();
    assert_eq!(p.read("meta/version.txt"), "2.5.0-dev\n");
    assert_eq!(p.read("app/Chart.yaml"), "name: app\nversion: 1.1.0\n");
}

/// `--next-minor` with named charts moves only those charts (and VERSION).
#[test]
fn next_minor_with_named_charts() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    p.release(&["bump", "--next-minor", "alpha"]).ok();
    assert_eq!(p.read("VERSION"), "1.3.0-dev\n");
    assert_eq!(
        p.read("addons/alpha/Chart.yaml"),
        ALPHA.replace("\"0.4.1\"", "\"0.5.0\"")
    );
    assert_eq!(p.read("addons/beta/Chart.yaml"), BETA);
}

/// Issue 20, Why 10: bump's table names the addon of each version.yml row.
#[test]
fn why_10_bump_table_names_each_version_yml_addon() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    let run = p.release(&["bump", "--next-minor", "--dry-run"]).ok();
    run.out_has("version.yml (cyclone)      0.10.0 -> 0.11.0");
    run.out_has("version.yml (mongo)        1.1.0 -> 1.2.0");
}
