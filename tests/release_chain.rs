//! The release chain (issue 8): collect → check → tag → branch → cherry-pick → tag → hotfix, on the
//! shipped example, with every command keeping the release consistent for the next one.

use crate::util::{Repo, Sandbox};

#[test]
fn hotfix_week_on_the_example() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    // Release day.
    p.release(&["collect", "--commit"]).ok();
    p.release(&["check"]).ok();
    p.release(&["tag", "1.1.0", "--offline"]).ok();
    p.release(&["branch", "1.1"]).ok();
    // A fix on master.
    let dep = p.read("addons/cyclone/templates/deployment.yaml");
    p.write(
        "addons/cyclone/templates/deployment.yaml",
        &dep.replace(
            "imagePullPolicy:",
            "terminationMessagePolicy: FallbackToLogsOnError\n        imagePullPolicy:",
        ),
    );
    let fix = p.commit("cyclone: log on error");
    // Hotfix week: the pick bumps the chart and version.yml in the same commit.
    let run = p.release(&["cherry-pick", &fix, "--onto", "1.1"]).ok();
    assert!(
        run.stdout
            .contains("bump addons/cyclone/Chart.yaml: 0.10.0 -> 0.10.1")
            && run
                .stdout
                .contains("bump version.yml (cyclone): 0.10.0 -> 0.10.1"),
        "{}",
        run.stdout
    );
    p.release(&["check", "release-1.1"]).ok();
    // A second fix changes an image: the branch's image list follows in the same commit.
    let values = p.read("addons/mongo/values.yaml");
    p.write(
        "addons/mongo/values.yaml",
        &format!("{values}exporter:\n  image: library/mongo-exporter:0.40.0\n"),
    );
    p.write(
        "addons/mongo/templates/exporter.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-exporter\nspec:\n  template:\n    spec:\n      containers:\n      - name: exporter\n        image: {{ .Values.exporter.image }}\n",
    );
    let img_fix = p.commit("mongo: exporter sidecar");
    let run = p.release(&["cherry-pick", &img_fix, "--onto", "1.1"]).ok();
    assert!(
        run.stdout
            .contains("images images/images_platform.list: +1 -0"),
        "{}",
        run.stdout
    );
    assert!(p
        .git(&["show", "release-1.1:images/images_platform.list"])
        .contains("library/mongo-exporter:0.40.0\n"));
    p.release(&["check", "release-1.1"]).ok();
    p.release(&["tag", "1.1.1", "release-1.1", "--offline"])
        .ok();
    // The hotfix of the branch, tagged twice: one name, one tag.
    let out = sb.path("out");
    let out = out.to_str().unwrap();
    let first = p
        .release(&["hotfix", "v1.1.0..release-1.1", "--tag", "-o", out])
        .ok();
    assert!(
        first.stdout.contains("tagged hotfix/v1.1.0-"),
        "{}",
        first.stdout
    );
    let again = p
        .release(&["hotfix", "v1.1.0..release-1.1", "--tag", "-o", out])
        .ok();
    assert!(again.stdout.contains("already tags"), "{}", again.stdout);
    let tags = p.git(&["tag", "-l", "hotfix/*"]);
    assert_eq!(tags.lines().count(), 1, "{tags}");
    // Collect on the branch keeps the picked fix (issue 20, Why 1): the component did not move,
    // so its folder is not touched, and the table says it is patched here.
    p.git(&["checkout", "-q", "release-1.1"]);
    let run = p.release(&["collect"]).ok();
    assert!(
        run.stdout
            .contains("kept local changes: addons/cyclone (Chart.yaml"),
        "{}",
        run.stdout
    );
    assert_eq!(p.status(), "");
}

/// A tag re-pointed upstream (same name, other content) changes nothing here: collect keeps what
/// it collected and marks the chart as differing from its tag.
#[test]
fn collect_keeps_what_it_collected_when_a_tag_moves_upstream() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    // Only a placeholder value changes (the charts repo released): the chart follows it.
    let mut charts = Repo::open(&sb, "ex/components/charts");
    charts.write("README.md", "next\n");
    charts.commit("next");
    charts.tag("v1.2.15");
    let run = p.release(&["collect", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["charts"].as_array().unwrap().iter())
            .all(|ch| ch["patched"].as_array().unwrap().is_empty()),
        "{v}"
    );
    p.commit("charts v1.2.15");
    // cyclone's v0.10.0 is re-pointed at another commit upstream.
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    c.git(&["checkout", "-q", "v0.10.0"]);
    let values = c.read("manifests/cyclone/values.yaml");
    c.write(
        "manifests/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 5"),
    );
    c.commit("sneaky");
    c.git(&["tag", "-f", "-a", "-m", "moved", "v0.10.0"]);
    let run = p.release(&["collect"]).ok();
    assert!(
        run.stdout.contains(
            "kept local changes: addons/cyclone (values.yaml), which differs from cyclone v0.10.0"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(p.status(), "");
    assert!(p
        .read("addons/cyclone/values.yaml")
        .contains("replicaCount: 2"));
}

/// A charts repository that keeps its charts at the root (seed 004, Aether), with no addonsPath
/// set: cherry-pick and bump find the charts by their Chart.yaml.
#[test]
fn charts_at_the_root_aether_layout() {
    let sb = Sandbox::new();
    let mut c = sb.repo("aether-charts");
    let chart = |c: &Repo, v: &str, replicas: u32| {
        c.write(
            "sd-core/Chart.yaml",
            &format!("apiVersion: v2\nname: sd-core\nversion: {v}\n"),
        );
        c.write(
            "sd-core/templates/deploy.yaml",
            &format!("kind: Deployment\nspec:\n  replicas: {replicas}\n  image: omecproject/sd-core:v1.2.0\n"),
        );
    };
    chart(&c, "0.3.0", 1);
    c.commit("sd-core 0.3.0");
    c.git(&["tag", "-a", "-m", "v1.2.0", "v1.2.0"]);
    chart(&c, "0.4.0", 1);
    c.commit("next minor");
    // The master fix also bumps the chart version, as master does: the only conflict a plain
    // cherry-pick would have.
    chart(&c, "0.4.1", 2);
    let fix = c.commit("fix: two replicas");
    let run = c.release(&["cherry-pick", &fix, "--onto", "1.2"]).ok();
    assert!(
        run.stdout
            .contains("bump sd-core/Chart.yaml: 0.3.0 -> 0.3.1"),
        "{}",
        run.stdout
    );
    assert_eq!(
        c.git(&["show", "release-1.2:sd-core/templates/deploy.yaml"]),
        "kind: Deployment\nspec:\n  replicas: 2\n  image: omecproject/sd-core:v1.2.0\n"
    );
    // A charts repository keeps no image lists: check (and so tag) has none to compare.
    let run = c
        .release_c(
            &["release.addonsPath=."],
            &["check", "--json", "release-1.2"],
        )
        .ok();
    assert!(run.stdout.contains("\"error_count\": 0"), "{}", run.stdout);
    // bump finds the chart at the root too (it used to skip it without a word).
    c.git(&["checkout", "-q", "release-1.2"]);
    let run = c.release(&["bump", "patch", "--dry-run"]).ok();
    assert!(run.stdout.contains("sd-core/Chart.yaml"), "{}", run.stdout);
    assert!(run.stdout.contains("0.3.1 -> 0.3.2"), "{}", run.stdout);
}

/// The charts_list shape (seed 000): single resource files are part of the release: their
/// images are listed, `package` ships them, `hotfix` packages them when they change.
#[test]
fn resource_files_are_part_of_the_release() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    assert!(
        p.read("images/images_platform.list")
            .contains("[[ registry_release ]]/console-web:v1.1.0\n"),
        "{}",
        p.read("images/images_platform.list")
    );
    p.release(&["check"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let out = sb.path("out");
    let out_s = out.to_str().unwrap();
    p.release(&["package", "v1.1.0", "-o", out_s]).ok();
    let tar = sb
        .cmd("tar", sb.dir.path())
        .arg("-tzf")
        .arg(out.join("demo-platform-v1.1.0.tar.gz"))
        .output()
        .unwrap();
    let entries = String::from_utf8_lossy(&tar.stdout);
    assert!(
        entries.contains("demo-platform-v1.1.0/console/console-web.yaml"),
        "{entries}"
    );
    // Only the resource file changes: the hotfix ships it (it used to say "changes no chart").
    let web = p.read("console/console-web.yaml");
    p.write(
        "console/console-web.yaml",
        &web.replace(":v1.1.0'", ":v1.1.1'"),
    );
    p.commit("console-web v1.1.1");
    let run = p.release(&["hotfix", "v1.1.0", "-o", out_s, "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["manifest"]["resources"],
        serde_json::json!(["M console/console-web.yaml"])
    );
    assert_eq!(
        v["manifest"]["images"]["changed"],
        serde_json::json!([{"from": "[[ registry_release ]]/console-web:v1.1.0", "to": "[[ registry_release ]]/console-web:v1.1.1"}])
    );
    let pkg = v["packages"][0]["path"].as_str().unwrap().to_string();
    let tar = sb
        .cmd("tar", sb.dir.path())
        .args(["-tzf", &pkg])
        .output()
        .unwrap();
    let entries = String::from_utf8_lossy(&tar.stdout);
    assert!(entries.contains("/console/console-web.yaml"), "{entries}");
}

/// `git push origin TAG` from `p`, which must fail; its stderr.
#[track_caller]
fn push_refused(sb: &Sandbox, p: &Repo, tag: &str) -> String {
    let out = sb
        .cmd("git", &p.path)
        .args(["push", "origin", tag])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    stderr
}

/// `release.checkOnPush`: the server's pre-receive hook (installed by `git release protect`)
/// refuses a pushed release tag whose commit fails `git release check`.
#[test]
fn the_server_refuses_a_release_tag_that_fails_check() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    let server = sb.path("server.git");
    let server_s = server.to_str().unwrap();
    sb.git(
        sb.dir.path(),
        &["clone", "-q", "--bare", p.path.to_str().unwrap(), server_s],
    );
    sb.git(&server, &["config", "release.checkOnPush", "true"]);
    sb.release(&server, &["protect"]).ok();
    p.git(&["remote", "add", "origin", server_s]);
    // A release whose chart changed without a new version (against v1.1.0 on the server).
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    p.git(&["push", "-q", "origin", "v1.1.0"]);
    let values = p.read("addons/cyclone/values.yaml");
    p.write(
        "addons/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 4"),
    );
    p.commit("four replicas, same version");
    p.git(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    p.git(&["tag", "-a", "-m", "v1.2.0", "v1.2.0"]);
    let stderr = push_refused(&sb, &p, "v1.2.0");
    assert!(
        stderr.contains("release tags must name a consistent release")
            && stderr.contains("chart-version-not-bumped"),
        "{stderr}"
    );
    assert!(sb.git(&server, &["tag", "-l", "v1.2.0"]).is_empty());
    // Fixed (chart and version.yml bumped): accepted.
    p.git(&["tag", "-d", "v1.2.0"]);
    let chart = p.read("addons/cyclone/Chart.yaml");
    p.write(
        "addons/cyclone/Chart.yaml",
        &chart.replace("version: 0.10.0", "version: 0.10.1"),
    );
    let vy = p.read("version.yml");
    p.write(
        "version.yml",
        &vy.replace("version: 0.10.0", "version: 0.10.1"),
    );
    p.commit("bump");
    p.git(&["tag", "-a", "-m", "v1.2.0", "v1.2.0"]);
    p.git(&["push", "-q", "origin", "HEAD:refs/heads/main", "v1.2.0"]);
    assert_eq!(sb.git(&server, &["tag", "-l", "v1.2.0"]).trim(), "v1.2.0");
    // A setting the server cannot read refuses the push and says which (it never passes as off).
    sb.git(&server, &["config", "release.checkOnPush", "maybe"]);
    p.git(&["tag", "-a", "-m", "v1.2.1", "v1.2.1"]);
    let stderr = push_refused(&sb, &p, "v1.2.1");
    assert!(
        stderr.contains("setting release.checkOnPush `maybe` is not a boolean"),
        "{stderr}"
    );
    assert!(sb.git(&server, &["tag", "-l", "v1.2.1"]).is_empty());
}

/// bump keeps version.yml in step with the charts it bumps, so the result passes check.
#[test]
fn bump_updates_version_yml() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let run = p.release(&["bump", "patch", "cyclone", "--commit"]).ok();
    assert!(run.stdout.contains("version.yml"), "{}", run.stdout);
    assert!(
        p.read("version.yml").contains("version: 0.10.1"),
        "{}",
        p.read("version.yml")
    );
    assert!(p
        .read("addons/cyclone/Chart.yaml")
        .contains("version: 0.10.1"));
    assert_eq!(p.status(), "");
    // A change after the bump: the release is consistent (new content, new version).
    let values = p.read("addons/cyclone/values.yaml");
    p.write("addons/cyclone/values.yaml", &format!("{values}# tuned\n"));
    p.commit("tune");
    p.release(&["check"]).ok();
}

/// Issue 20, Why 3: one version allocator across lines. A fix made on master and bumped there is
/// picked onto the line with master's version (same content, same version); a second fix on the
/// line gets the next free patch; master then ships a chart below the line's newer release, which
/// `check` refuses (chart-version-below-older-line); master's next `bump patch` skips the
/// version the line released with other content.
#[test]
fn why_3_one_version_allocator_across_lines() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.release(&["tag", "1.1.0", "--offline"]).ok();
    p.release(&["branch", "1.1"])
        .ok()
        .err_has("run `git release bump --next-minor --commit` on master");
    // A fix on master, bumped there.
    let dep = p.read("addons/cyclone/templates/deployment.yaml");
    p.write(
        "addons/cyclone/templates/deployment.yaml",
        &dep.replace(
            "imagePullPolicy:",
            "terminationMessagePolicy: FallbackToLogsOnError\n        imagePullPolicy:",
        ),
    );
    let fix = p.commit("cyclone: log on error");
    p.release(&["bump", "patch", "cyclone", "--commit"]).ok();
    assert!(p
        .read("addons/cyclone/Chart.yaml")
        .contains("version: 0.10.1"));
    // The same fix on the line: master's version, since the content is the same.
    let run = p.release(&["cherry-pick", &fix, "--onto", "1.1"]).ok();
    run.out_has("bump addons/cyclone/Chart.yaml: 0.10.0 -> 0.10.1");
    assert_eq!(
        p.git(&["rev-parse", "release-1.1:addons/cyclone"]),
        p.git(&["rev-parse", "HEAD:addons/cyclone"]),
        "one chart version, one content"
    );
    p.release(&["tag", "1.1.1", "release-1.1", "--offline"])
        .ok();
    // A second fix, on the line only: the next free patch there.
    p.git(&["checkout", "-q", "release-1.1"]);
    let values = p.read("addons/cyclone/values.yaml");
    p.write(
        "addons/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 3"),
    );
    p.commit("cyclone: three replicas on 1.1");
    p.release(&["bump", "patch", "cyclone", "--commit"]).ok();
    assert!(p
        .read("addons/cyclone/Chart.yaml")
        .contains("version: 0.10.2"));
    p.release(&["tag", "1.1.2", "--offline"]).ok();
    p.git(&["checkout", "-q", "-"]);
    // Master (the 1.2 line) now carries 0.10.1, below v1.1.2's 0.10.2: an upgrade would
    // downgrade it.
    let run = p.release(&["check"]).fails(3);
    run.out_has("chart-version-below-older-line (error)");
    run.out_has("cyclone 0.10.1 is below cyclone 0.10.2 in v1.1.2, a release of an older line");
    p.release(&["tag", "1.2.0", "--offline"]).fails(3);
    // bump patch skips 0.10.2 (released on the line with other content).
    p.release(&["bump", "patch", "cyclone", "--commit"]).ok();
    assert!(
        p.read("addons/cyclone/Chart.yaml")
            .contains("version: 0.10.3"),
        "{}",
        p.read("addons/cyclone/Chart.yaml")
    );
    p.release(&["check"]).ok();
}

/// Issue 20, Why 10: the tag message names the component tags the release is made of, and a
/// repository without a remote is said once.
#[test]
fn why_10_tag_names_component_tags_and_says_no_remote_once() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    let run = p.release(&["tag", "1.1.0"]).ok();
    assert_eq!(
        (run.stdout + &run.stderr).matches("remote").count(),
        1,
        "the missing remote is said once"
    );
    let msg = p.git(&["tag", "-l", "--format=%(contents)", "v1.1.0"]);
    assert!(
        msg.contains("Components:\ndemo/console-web v1.1.0\n")
            && msg.contains("demo/cyclone v0.10.0\n"),
        "{msg}"
    );
}

/// Issue 20, Why 10: `.gitkeep` files (init's placeholders for empty folders) are not shipped
/// nor checksummed in a package.
#[test]
fn why_10_gitkeep_files_are_not_shipped() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.write("configs/.gitkeep", "");
    p.write("configs/site.yaml", "a: 1\n");
    p.commit("configs");
    let out = sb.path("out");
    p.release(&["package", "HEAD", "-o", out.to_str().unwrap()])
        .ok();
    let pkg = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let names = sb.tar_names(&pkg);
    assert!(
        names.iter().any(|n| n.ends_with("/configs/site.yaml")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(".gitkeep")), "{names:?}");
}
