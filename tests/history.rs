//! `git release log`, `diff` and `contains`, and collect's changelog, end to end.

use serde_json::Value;

use crate::util::{Repo, Sandbox};

fn chart(p: &Repo, version: &str) {
    p.write(
        "addons/app/Chart.yaml",
        &format!("apiVersion: v2\nname: app\nversion: {version}\n"),
    );
}

fn image_list(p: &Repo, tag: &str) {
    p.write(
        "images/images_platform.list",
        &format!(
            "[[ registry_release ]]/release/app:{tag}\n[[ registry_release ]]/library/pause:3.9\n"
        ),
    );
}

/// The app's deployment: `replicas` and `paused` far enough apart that a change to one picks
/// cleanly over a change to the other.
fn deploy(replicas: u32, paused: bool) -> String {
    format!("kind: Deployment\nspec:\n  replicas: {replicas}\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n  paused: {paused}\n")
}

fn json(run: crate::util::Run) -> Value {
    serde_json::from_str(&run.ok().stdout).expect("JSON on stdout")
}

/// The platform repo of the history tests:
///
/// ```text
/// master:       v1.0.0 ── v1.1.0 ── other ── FIX ── v1.2.0
/// release-1.0:  v1.0.0 ── pick -x (hotfix/v1.0.0-20260102-p1) ── bump (v1.0.1)
/// release-1.0-acme: release-1.0's pick ── pick -x of that pick
/// release-1.1:  v1.1.0 ── unrelated change to the same file ── plain pick (no trailer)
/// release-1.2:  v1.2.0 (the fix itself)
/// ```
struct History<'a> {
    p: Repo<'a>,
    fix: String,
    pick_10: String,
    pick_acme: String,
    pick_11: String,
}

fn history(sb: &Sandbox) -> History<'_> {
    let mut p = sb.repo("platform");
    p.write(".gitrelease", "[release]\n\tproduct = demo\n");
    chart(&p, "1.0.0");
    p.write("addons/app/templates/deploy.yaml", &deploy(1, false));
    p.write(
        "addons/db/Chart.yaml",
        "apiVersion: v2\nname: db\nversion: 0.1.0\n",
    );
    image_list(&p, "v1.0.0");
    p.commit("release 1.0.0");
    p.tag_annotated("v1.0.0");
    chart(&p, "1.1.0");
    image_list(&p, "v1.1.0");
    p.remove("addons/db");
    p.commit("release 1.1.0");
    p.tag_annotated("v1.1.0");
    p.write("README.md", "platform\n");
    p.commit("other work");
    p.write("addons/app/templates/deploy.yaml", &deploy(2, false));
    let fix = p.commit("fix: two replicas");
    chart(&p, "1.2.0");
    p.commit("release 1.2.0");
    p.tag_annotated("v1.2.0");
    p.git(&["branch", "release-1.2", "v1.2.0"]);

    // release-1.0: the fix picked with -x, a hotfix tag on it, then a patch release.
    p.git(&["checkout", "-q", "-b", "release-1.0", "v1.0.0"]);
    p.git(&["cherry-pick", "-x", &fix]);
    let pick_10 = p.git(&["rev-parse", "HEAD"]).trim().to_string();
    p.git(&["tag", "-a", "-m", "hotfix", "hotfix/v1.0.0-20260102-p1"]);
    chart(&p, "1.0.1");
    image_list(&p, "v1.0.1");
    p.commit("release 1.0.1");
    p.tag_annotated("v1.0.1");

    // The OEM branch picks release-1.0's pick (a pick of a pick).
    p.git(&["checkout", "-q", "-b", "release-1.0-acme", "v1.0.0"]);
    p.write("addons/app/values.yaml", "acme: true\n");
    p.commit("acme values");
    p.git(&["cherry-pick", "-x", &pick_10]);
    let pick_acme = p.git(&["rev-parse", "HEAD"]).trim().to_string();

    // release-1.1: an unrelated change to the same file, then a pick without trailer.
    p.git(&["checkout", "-q", "-b", "release-1.1", "v1.1.0"]);
    p.write("addons/app/templates/deploy.yaml", &deploy(1, true));
    p.commit("pause app");
    p.git(&["cherry-pick", &fix]);
    let pick_11 = p.git(&["rev-parse", "HEAD"]).trim().to_string();
    p.git(&["checkout", "-q", "main"]);
    History {
        p,
        fix,
        pick_10,
        pick_acme,
        pick_11,
    }
}

/// ref name -> (commit carrying the change, how), for the refs that contain it.
fn carriers(v: &Value) -> std::collections::BTreeMap<String, (String, String)> {
    v["refs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["contains"].as_bool().unwrap())
        .map(|r| {
            (
                r["ref"].as_str().unwrap().to_string(),
                (
                    r["via"]["commit"].as_str().unwrap().to_string(),
                    r["via"]["how"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn contains_finds_picks_on_two_lines_and_an_oem_branch() {
    let sb = Sandbox::new();
    let h = history(&sb);
    // What git alone answers: only the refs that hold the commit itself.
    let git_tags = h.p.git(&["tag", "--contains", &h.fix]);
    assert_eq!(git_tags.trim(), "v1.2.0");

    let v = json(h.p.release(&["contains", &h.fix, "--json"]));
    let got = carriers(&v);
    let want = |c: &str, how: &str| (c.to_string(), how.to_string());
    assert_eq!(got["v1.2.0"], want(&h.fix, "same-commit"));
    assert_eq!(got["release-1.2"], want(&h.fix, "same-commit"));
    assert_eq!(got["release-1.0"], want(&h.pick_10, "cherry-pick-trailer"));
    assert_eq!(got["v1.0.1"], want(&h.pick_10, "cherry-pick-trailer"));
    assert_eq!(
        got["hotfix/v1.0.0-20260102-p1"],
        want(&h.pick_10, "cherry-pick-trailer")
    );
    assert_eq!(
        got["release-1.0-acme"],
        want(&h.pick_acme, "cherry-pick-trailer")
    );
    assert_eq!(got["release-1.1"], want(&h.pick_11, "patch-id"));
    assert_eq!(got.len(), 7, "{got:?}");
    for lacking in ["v1.0.0", "v1.1.0"] {
        let r = v["refs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ref"] == lacking)
            .unwrap_or_else(|| panic!("{lacking} listed"));
        assert_eq!(r["contains"], false);
        assert!(r["via"].is_null());
    }
    assert_eq!(v["equivalents"].as_array().unwrap().len(), 4);

    // Asked with a pick, the answer is the same: the trailer leads back to the original.
    let from_pick = json(h.p.release(&["contains", &h.pick_acme, "--json"]));
    assert_eq!(
        carriers(&from_pick).keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );

    // The human answer names each ref and how.
    let text = h.p.release(&["contains", &h.fix]).ok().stdout;
    assert!(text.contains("contained in 7 ref(s)"), "{text}");
    assert!(text.contains("release-1.1"), "{text}");
    assert!(text.contains("same patch"), "{text}");
    assert!(text.contains("not in 2 ref(s)"), "{text}");
    // Line 1.0's newest release (v1.0.1) has the fix: its older v1.0.0 is history, not a line
    // that still lacks it. Line 1.1's newest (v1.1.0) lacks it and is named.
    let lacking = text.split("not in 2 ref(s)").nth(1).unwrap();
    assert!(lacking.contains("v1.1.0"), "{text}");
    assert!(!lacking.contains("v1.0.0"), "{text}");
    assert!(
        lacking.contains("and 1 tag(s) older than their line's newest (--all lists them)"),
        "{text}"
    );
    let all = h.p.release(&["contains", &h.fix, "--all"]).ok().stdout;
    let lacking = all.split("not in 2 ref(s)").nth(1).unwrap();
    assert!(
        lacking.contains("v1.0.0") && lacking.contains("v1.1.0"),
        "{all}"
    );

    // A change nothing else carries: only its own history.
    let other = h.p.git(&["rev-parse", "release-1.1~1"]).trim().to_string();
    let v = json(h.p.release(&["contains", &other, "--json"]));
    assert_eq!(carriers(&v).keys().collect::<Vec<_>>(), vec!["release-1.1"]);

    // Bad input: a clear error, exit 2.
    h.p.release(&["contains", "nosuch"])
        .fails(2)
        .err_has("`nosuch` is not a revision");
}

#[test]
fn contains_reads_remote_tracking_release_branches() {
    let sb = Sandbox::new();
    let h = history(&sb);
    let clone = sb.path("clone");
    sb.git(
        sb.dir.path(),
        &[
            "clone",
            "-q",
            h.p.path.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let c = Repo::open(&sb, "clone");
    let got = carriers(&json(c.release(&["contains", &h.fix, "--json"])));
    assert_eq!(got["origin/release-1.1"].1, "patch-id");
    assert_eq!(got["origin/release-1.0-acme"].1, "cherry-pick-trailer");
}

#[test]
fn log_lists_releases_and_hotfixes_newest_first_with_changes() {
    let sb = Sandbox::new();
    let h = history(&sb);
    let v = json(h.p.release(&["log", "1.0", "--json"]));
    let e = v["entries"].as_array().unwrap();
    let tags: Vec<&str> = e.iter().map(|x| x["tag"].as_str().unwrap()).collect();
    assert_eq!(tags, ["v1.0.1", "hotfix/v1.0.0-20260102-p1", "v1.0.0"]);
    // v1.0.1 against v1.0.0: the chart version and the image.
    assert_eq!(e[0]["previous"], "v1.0.0");
    assert_eq!(e[0]["kind"], "release");
    let app = e[0]["charts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "addons/app")
        .expect("addons/app changed");
    assert_eq!(
        (app["from"].as_str(), app["to"].as_str()),
        (Some("1.0.0"), Some("1.0.1"))
    );
    assert_eq!(
        e[0]["images"]["changed"][0],
        serde_json::json!({"from": "[[ registry_release ]]/release/app:v1.0.0", "to": "[[ registry_release ]]/release/app:v1.0.1"})
    );
    // The hotfix against its release: the template changed, the version did not.
    assert_eq!(e[1]["kind"], "hotfix");
    assert_eq!(e[1]["previous"], "v1.0.0");
    assert_eq!(e[1]["charts"][0]["from"], "1.0.0");
    assert_eq!(e[1]["charts"][0]["to"], "1.0.0");
    assert!(e[2]["previous"].is_null());
    assert_eq!(
        e[0]["commit"].as_str().unwrap(),
        h.p.git(&["rev-parse", "v1.0.1^{commit}"]).trim()
    );

    // Every line: v1.1.0 is compared with v1.0.1 (the release below it) and drops db.
    let v = json(h.p.release(&["log", "--json"]));
    let e = v["entries"].as_array().unwrap();
    let tags: Vec<&str> = e.iter().map(|x| x["tag"].as_str().unwrap()).collect();
    assert_eq!(
        tags,
        [
            "v1.2.0",
            "v1.1.0",
            "v1.0.1",
            "hotfix/v1.0.0-20260102-p1",
            "v1.0.0"
        ]
    );
    assert_eq!(e[1]["previous"], "v1.0.1");
    let db = e[1]["charts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "addons/db")
        .expect("db removed");
    assert_eq!(
        (db["from"].as_str(), db["to"].as_str()),
        (Some("0.1.0"), None)
    );

    let text = h.p.release(&["log", "--max-count", "2"]).ok().stdout;
    assert!(text.starts_with("v1.2.0  "), "{text}");
    // The date says its time zone: the tagger's time, in UTC, to the minute.
    let first = text.lines().next().unwrap();
    let date = first.split("  ").nth(1).unwrap();
    assert!(
        date.len() == 20 && date.ends_with(" UTC") && date.as_bytes()[10] == b' ',
        "{first}"
    );
    assert!(text.contains("chart  addons/app  1.1.0 -> 1.2.0"), "{text}");
    assert!(text.contains("since v1.0.1"), "{text}");
    assert!(!text.contains("v1.0.0  "), "{text}");
    h.p.release(&["log", "2.x"])
        .fails(2)
        .err_has("not a release line");
    let none = h.p.release(&["log", "3.0"]).ok().stdout;
    assert!(
        none.contains("no release or hotfix tag of line 3.0"),
        "{none}"
    );
}

#[test]
fn diff_compares_two_releases_component_by_component() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "1.1.0", "v1.1.0"]);
    let v = json(p.release(&["diff", "v1.0.0", "v1.1.0", "--json"]));
    assert_eq!(v["from"]["rev"], "v1.0.0");
    let comp = |name: &str| {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {v:#}"))
            .clone()
    };
    let cyclone = comp("demo/cyclone");
    assert_eq!(
        (cyclone["from"].as_str(), cyclone["to"].as_str()),
        (Some("v0.5.3"), Some("v0.10.0"))
    );
    let chart = &cyclone["charts"][0];
    assert_eq!(chart["path"], "addons/cyclone");
    assert_eq!(
        (chart["from"].as_str(), chart["to"].as_str()),
        (Some("0.5.3"), Some("0.10.0"))
    );
    let files: Vec<&str> = chart["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"M Chart.yaml"), "{files:?}");
    assert!(
        !chart["images"]["changed"].as_array().unwrap().is_empty(),
        "{chart:#}"
    );
    let web = comp("demo/console-web");
    assert_eq!(
        web["resources"],
        serde_json::json!(["M console/console-web.yaml"])
    );
    let mongo = comp("demo/mongo");
    assert_eq!(mongo["to"], "1.1.0");
    assert!(!v["images"]["changed"].as_array().unwrap().is_empty());
    assert_eq!(v["unchanged"], 1);
    // The same pair, the other way round: every arrow turns.
    let back = json(p.release(&["diff", "v1.1.0", "v1.0.0", "--json"]));
    let c = back["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "demo/cyclone")
        .unwrap();
    assert_eq!(
        (c["from"].as_str(), c["to"].as_str()),
        (Some("v0.10.0"), Some("v0.5.3"))
    );

    let text = p.release(&["diff", "v1.0.0"]).ok().stdout;
    assert!(text.contains("demo/cyclone  v0.5.3 -> v0.10.0"), "{text}");
    assert!(
        text.contains("chart addons/cyclone  0.5.3 -> 0.10.0"),
        "{text}"
    );
    assert!(text.contains("1 component(s) unchanged"), "{text}");
    let all = json(p.release(&["diff", "v1.0.0", "--all", "--json"]));
    assert_eq!(
        all["components"].as_array().unwrap().len(),
        v["components"].as_array().unwrap().len() + 1
    );
    p.release(&["diff", "v9.9.9"])
        .fails(2)
        .err_has("not a revision");
}

/// Component `demo/svc`: v1.2.0; then a fix, a merged feature branch (2 commits) and v1.2.1;
/// then v1.2.2-rc.1 and v1.3.0 (another line). Component `demo/quiet`: v1.0.0 only.
fn components(sb: &Sandbox) {
    let mut c = sb.repo("components/svc");
    let chart = |c: &Repo, v: &str| {
        c.write(
            "chart/Chart.yaml",
            &format!("apiVersion: v2\nname: svc\nversion: {v}\n"),
        );
    };
    chart(&c, "1.2.0");
    c.commit("chart 1.2.0");
    c.tag("v1.2.0");
    c.write("chart/files/a", "a\n");
    c.commit("fix a | pipes too");
    c.git(&["checkout", "-q", "-b", "feature"]);
    c.write("chart/files/f1", "1\n");
    c.commit("feature part 1");
    c.write("chart/files/f2", "2\n");
    c.commit("feature part 2");
    c.git(&["checkout", "-q", "main"]);
    // A commit outside the chart: not in the changelog (issue 20, Why 10).
    c.write("README.md", "svc\n");
    c.commit("docs: readme");
    c.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge branch 'feature'",
        "feature",
    ]);
    chart(&c, "1.2.1");
    c.commit("chart 1.2.1");
    c.tag("v1.2.1");
    chart(&c, "1.2.2-rc.1");
    c.commit("rc");
    c.tag("v1.2.2-rc.1");
    chart(&c, "1.3.0");
    c.commit("1.3.0");
    c.tag("v1.3.0");

    let mut q = sb.repo("components/quiet");
    q.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: quiet\nversion: 1.0.0\n",
    );
    q.commit("quiet 1.0.0");
    q.tag("v1.0.0");
}

#[test]
fn collect_shows_commits_held_back_tags_and_only_what_moved() {
    let sb = Sandbox::new();
    components(&sb);
    let p = sb.platform(&[(
        "repos/app.yaml",
        "metadata: {name: app}\nspec:\n- repositoryFullName: demo/svc\n  baseVersion: v1.2\n  currentTag: v1.2.0\n  chartPaths: [chart]\n  targetChartPath: addons\n- repositoryFullName: demo/quiet\n  currentTag: v1.0.0\n  chartPaths: [chart]\n  targetChartPath: addons/quiet\n",
    )]);
    // First collect, pinned at the current tag: the newer candidate is held back as pinned.
    let v = json(p.release(&["collect", "--tag", "svc=v1.2.0", "--commit", "--json", "-q"]));
    let svc = &v["components"][0];
    assert_eq!(svc["name"], "svc");
    assert!(svc["changelog"].is_null(), "same tag: no changelog");
    let held: Vec<(&str, &str)> = svc["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["tag"].as_str().unwrap(), h["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        held,
        [
            ("v1.3.0", "outside-base-version"),
            ("v1.2.2-rc.1", "pre-release"),
            ("v1.2.1", "pinned")
        ]
    );

    // The dry run with --log: the commits, the merge summarised, only svc in the table.
    let md = sb.path("mr.md");
    let run = p
        .release(&[
            "collect",
            "-n",
            "--log",
            "--changelog",
            md.to_str().unwrap(),
        ])
        .ok();
    let text = run.stdout;
    let rows: Vec<&str> = text
        .lines()
        .take_while(|l| !l.contains("unchanged"))
        .collect();
    assert!(
        rows[1].starts_with("svc ") && rows[1].contains("v1.2.0 -> v1.2.1"),
        "{text}"
    );
    assert_eq!(rows.len(), 2, "only the component that moved: {text}");
    assert!(
        text.contains("1 component(s) unchanged (--all lists them)"),
        "{text}"
    );
    assert!(
        text.contains("held back: svc v1.3.0 (outside baseVersion"),
        "{text}"
    );
    assert!(
        text.contains("held back: svc v1.2.2-rc.1 (pre-release"),
        "{text}"
    );
    assert!(
        text.contains("demo/svc v1.2.0 -> v1.2.1: 3 commits (1 more change nothing collected)"),
        "{text}"
    );
    let log_lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("demo/svc v1.2.0 -> v1.2.1"))
        .skip(1)
        .take(3)
        .collect();
    assert!(
        log_lines[0].ends_with("chart 1.2.1 (Release Bot)"),
        "{log_lines:?}"
    );
    assert!(
        log_lines[1].contains("Merge branch 'feature' [merge: 2 commit(s)]"),
        "{log_lines:?}"
    );
    assert!(log_lines[2].contains("fix a | pipes too"), "{log_lines:?}");
    let mdtext = std::fs::read_to_string(&md).expect("--changelog written in a dry run");
    assert!(
        mdtext.contains("| demo/svc | v1.2.0 → v1.2.1 | svc 1.2.0 → 1.2.1 |"),
        "{mdtext}"
    );
    assert!(mdtext.contains("### demo/svc v1.2.0 → v1.2.1"), "{mdtext}");
    assert!(
        mdtext.contains("Merge branch 'feature' (merge, 2 commits)"),
        "{mdtext}"
    );
    assert!(
        mdtext.contains("- demo/svc: `v1.3.0` (outside baseVersion"),
        "{mdtext}"
    );
    assert!(
        p.status().is_empty(),
        "a dry run writes nothing in the repo"
    );

    // From a fetched component (the cache under the git dir), the same commits.
    let url = format!("file://{}/components/{{name}}", sb.dir.path().display());
    let v = json(p.release(&["collect", "-n", "--json", "-q", "--component-url", &url]));
    assert_eq!(v["components"][0]["fetch"], "updated");
    assert_eq!(
        v["components"][0]["changelog"]["commits"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // --all lists the unchanged component too.
    let all = p.release(&["collect", "-n", "--all"]).ok().stdout;
    assert!(all.contains("quiet"), "{all}");

    // JSON always has the changelog; the commit message carries it.
    let v = json(p.release(&["collect", "--commit", "--json", "-q"]));
    let cl = &v["components"][0]["changelog"];
    let subjects: Vec<&str> = cl["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["chart 1.2.1", "Merge branch 'feature'", "fix a | pipes too"]
    );
    assert_eq!(cl["commits"][1]["merged"], 2);
    assert_eq!(cl["commits"][0]["author"], "Release Bot");
    assert!(v["components"][1]["changelog"].is_null());
    let msg = p.git(&["log", "-1", "--format=%B"]);
    assert!(msg.contains("demo/svc v1.2.0 -> v1.2.1"), "{msg}");
    assert!(msg.contains("fix a | pipes too"), "{msg}");
    assert!(msg.contains("Held back:\n- demo/svc v1.3.0"), "{msg}");

    // Nothing moved: no table rows, the count says so.
    let again = p.release(&["collect"]).ok().stdout;
    assert!(again.contains("2 component(s) unchanged"), "{again}");
    assert!(!again.contains("COMPONENT"), "{again}");
}

/// A partial clone (`--filter=blob:none`) lacks the blobs a patch-id comparison reads: the
/// command fails naming the missing object and says why, instead of a bare lookup error; the
/// trailer and ancestry answers of a full clone are not weakened silently.
#[test]
fn contains_in_a_partial_clone_says_what_is_missing() {
    let sb = Sandbox::new();
    let h = history(&sb);
    h.p.git(&["config", "uploadpack.allowFilter", "true"]);
    let url = format!("file://{}", h.p.path.display());
    sb.git(
        sb.dir.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            "--no-checkout",
            &url,
            "partial",
        ],
    );
    let c = Repo::open(&sb, "partial");
    for b in [
        "release-1.0",
        "release-1.1",
        "release-1.0-acme",
        "release-1.2",
    ] {
        c.git(&["branch", "-q", b, &format!("origin/{b}")]);
    }
    let run = c.release(&["contains", &h.fix]).fails(1);
    run.err_has("could not be found")
        .err_has("hint: the repository lacks this object: is it a shallow (--depth) or partial (--filter) clone?");
    let run = c.release(&["contains", &h.fix, "--json"]).fails(1);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON error on stdout");
    assert!(
        v["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("partial (--filter) clone")),
        "{v}"
    );
}
