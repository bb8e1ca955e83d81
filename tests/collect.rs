//! `git release collect`, end to end.

use crate::util::{Repo, Sandbox};

const VALUES: &str = "# values for cyclone\nimage:\n  registry: '[[ registry_release ]]'\n  repository: release/cyclone\n  tag: '[[ imageTagFromGitTag ]]'\ntemplates:\n  image: '[[ registry_release ]]/release/templates:[[ TagOfRepo(charts) ]]'\n";

/// Component `demo/cyclone`: chart at manifests/cyclone, tags v0.5.3 < v0.9.0 < v0.10.0 < v0.11.0-rc.1,
/// junk tags. v0.10.0 drops templates/old.yaml and adds an executable hook script.
fn cyclone(sb: &Sandbox) -> Repo<'_> {
    let mut c = sb.repo("components/cyclone");
    let chart = |c: &Repo, v: &str| {
        c.write(
            "manifests/cyclone/Chart.yaml",
            &format!("apiVersion: v2\nname: cyclone\nversion: {v}\nappVersion: \"{v}\"\n"),
        );
        c.write("manifests/cyclone/values.yaml", VALUES);
        c.write(
            "manifests/cyclone/images_extra.list",
            "library/busybox:1.36\n",
        );
    };
    chart(&c, "0.5.3");
    c.write("manifests/cyclone/templates/old.yaml", "kind: ConfigMap\n");
    c.write("README.md", "cyclone\n");
    c.commit("0.5.3");
    c.tag("v0.5.3");
    chart(&c, "0.9.0");
    c.commit("0.9.0");
    c.tag_annotated("v0.9.0");
    chart(&c, "0.10.0");
    c.remove("manifests/cyclone/templates/old.yaml");
    c.write(
        "manifests/cyclone/templates/dep.yaml",
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: \"{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n      - image: {{ .Values.templates.image | quote }}\n",
    );
    c.write("manifests/cyclone/hooks/run.sh", "#!/bin/sh\necho hi\n");
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(c.path.join("manifests/cyclone/hooks/run.sh"))
        .status()
        .unwrap();
    c.commit("0.10.0");
    c.tag_annotated("v0.10.0");
    c.tag("latest").tag("merge-123").tag("chart-v9.9.9");
    chart(&c, "0.11.0-rc.1");
    c.commit("rc");
    c.tag("v0.11.0-rc.1");
    c
}

fn charts_repo(sb: &Sandbox) -> Repo<'_> {
    let mut c = sb.repo("components/charts");
    c.write("README.md", "templates\n");
    c.commit("init");
    c.tag("v1.2.14");
    c
}

const REPOS: &str = "# components of the devops module\n- repositoryFullName: demo/cyclone   # the CI engine\n  currentTag: v0.5.3   # updated by collect\n  chartPaths: [manifests/cyclone]\n  targetChartPath: addons\n\n- repositoryFullName: demo/charts\n  currentTag: 'v1.2.14'\n";

const VERSION_YML: &str = "spec:\n  modules: # all modules\n  - name: devops\n    description: devops\n    enable: true\n    addons:\n    - name: cyclone   # keep me\n      description: \"CI\"\n      enable: true\n      namespace: default\n      version: 0.5.3\n";

/// A platform repo listing cyclone and charts, collected once at v0.5.3 and committed.
fn platform(sb: &Sandbox) -> Repo<'_> {
    let mut p = sb.repo("platform");
    p.write(
        ".gitrelease",
        &format!(
            "[release]\n\tproduct = demo\n\tcomponentUrl = {}/components/{{name}}\n",
            sb.dir.path().display()
        ),
    );
    p.write("repos/devops.yaml", REPOS);
    p.write("version.yml", VERSION_YML);
    p.write("images/images_platform.list", "");
    p.commit("layout");
    p
}

fn setup(sb: &Sandbox) -> Repo<'_> {
    cyclone(sb);
    charts_repo(sb);
    platform(sb)
}

#[test]
fn collects_highest_semver_and_edits_in_place() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let run = p.release(&["collect"]).ok();
    // Table: component, tag old -> new, chart path, version old -> new.
    assert!(
        run.stdout
            .contains("cyclone    v0.5.3 -> v0.10.0  addons/cyclone  (none) -> 0.10.0"),
        "{}",
        run.stdout
    );
    // Only the changed value's bytes changed: comments, quoting, blank lines stay.
    assert_eq!(
        p.read("repos/devops.yaml"),
        REPOS.replace("currentTag: v0.5.3", "currentTag: v0.10.0")
    );
    assert_eq!(
        p.read("version.yml"),
        VERSION_YML.replace("version: 0.5.3", "version: 0.10.0")
    );
    // Placeholders: own tag and TagOfRepo; cluster variables stay.
    let values = p.read("addons/cyclone/values.yaml");
    assert!(values.contains("tag: 'v0.10.0'"), "{values}");
    assert!(
        values.contains("'[[ registry_release ]]/release/templates:v1.2.14'"),
        "{values}"
    );
    // Chart files as at the tag; files outside the chart path not copied.
    assert!(p.exists("addons/cyclone/templates/dep.yaml"));
    assert!(!p.exists("addons/cyclone/README.md") && !p.exists("addons/README.md"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(p.path.join("addons/cyclone/hooks/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "executable bit kept");
    assert_eq!(
        p.read("images/images_platform.list"),
        "[[ registry_release ]]/release/cyclone:v0.10.0\n[[ registry_release ]]/release/templates:v1.2.14\n"
    );
    assert_eq!(p.read("images/images_extra.list"), "library/busybox:1.36\n");
    // Re-run: nothing to do.
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "collected"]);
    let run = p.release(&["collect"]).ok();
    assert!(run.stdout.contains("nothing to change"), "{}", run.stdout);
    assert_eq!(p.status(), "");
}

#[test]
fn replaces_folder_exactly_and_matches_git_archive() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    p.release(&["collect", "--tag", "cyclone=v0.9.0"]).ok();
    assert!(p.exists("addons/cyclone/templates/old.yaml"));
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "at 0.9.0"]);
    p.release(&["collect"]).ok();
    assert!(
        !p.exists("addons/cyclone/templates/old.yaml"),
        "file removed upstream must disappear"
    );
    // Files identical to `git archive` of the tag, except for substituted placeholders.
    let arch = sb.path("arch");
    std::fs::create_dir_all(&arch).unwrap();
    let comp = sb.path("components/cyclone");
    let tar = sb
        .cmd("git", &comp)
        .args(["archive", "--format=tar", "v0.10.0", "manifests/cyclone"])
        .output()
        .unwrap();
    let mut child = sb
        .cmd("tar", &arch)
        .args(["xf", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    child.wait().unwrap();
    let out = sb
        .cmd("diff", sb.dir.path())
        .args(["-r"])
        .arg(arch.join("manifests/cyclone"))
        .arg(p.path.join("addons/cyclone"))
        .output()
        .unwrap();
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("values.yaml"), "{diff}");
    assert_eq!(
        diff.lines()
            .filter(|l| l.starts_with("diff ") || l.starts_with("Only in"))
            .count(),
        1,
        "{diff}"
    );
}

#[test]
fn pre_releases_only_with_pre() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let run = p.release(&["collect", "--pre", "--dry-run"]).ok();
    assert!(
        run.stdout.contains("v0.5.3 -> v0.11.0-rc.1"),
        "{}",
        run.stdout
    );
}

#[test]
fn never_lower_than_current_tag() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    p.write(
        "repos/devops.yaml",
        &REPOS.replace("currentTag: v0.5.3", "currentTag: v0.11.0-rc.1"),
    );
    p.git(&["commit", "-qam", "rc"]);
    let run = p.release(&["collect", "--dry-run", "cyclone"]).ok();
    assert!(
        run.stdout.contains("cyclone    v0.11.0-rc.1 "),
        "{}",
        run.stdout
    );
    let run = p
        .release(&["collect", "--dry-run", "--allow-downgrade", "cyclone"])
        .ok();
    assert!(
        run.stdout.contains("v0.11.0-rc.1 -> v0.10.0"),
        "{}",
        run.stdout
    );
    let run = p.release(&["collect", "--tag", "cyclone=v0.9.0"]).fails(2);
    assert!(
        run.stderr.contains("lower than currentTag"),
        "{}",
        run.stderr
    );
}

#[test]
fn dry_run_writes_nothing_and_shows_diff() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let run = p.release(&["collect", "--dry-run"]).ok();
    assert!(
        run.stdout.contains("--- a/repos/devops.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-  currentTag: v0.5.3   # updated by collect"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+  currentTag: v0.10.0   # updated by collect"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+++ b/addons/cyclone/Chart.yaml"),
        "{}",
        run.stdout
    );
    assert_eq!(p.status(), "");
}

#[test]
fn json_for_scripts() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let run = p.release(&["collect", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let c = &v["components"][0];
    assert_eq!(c["repository"], "demo/cyclone");
    assert_eq!(c["from"], "v0.5.3");
    assert_eq!(c["to"], "v0.10.0");
    assert_eq!(c["charts"][0]["to"], "0.10.0");
    assert_eq!(c["fetch"], "local");
    assert!(v["changed_paths"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "addons/cyclone"));
}

#[test]
fn commit_lists_bumps_and_leaves_clean_tree() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    // An unrelated staged change stays staged and out of the commit.
    p.write("install.sh", "echo install\n");
    p.git(&["add", "install.sh"]);
    p.release(&["collect", "--commit"]).ok();
    let msg = p.git(&["log", "-1", "--format=%B"]);
    assert!(
        msg.contains("- demo/cyclone v0.5.3 -> v0.10.0 (chart cyclone (new) -> 0.10.0)"),
        "{msg}"
    );
    let files = p.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        files.contains("addons/cyclone/Chart.yaml") && !files.contains("install.sh"),
        "{files}"
    );
    assert_eq!(p.status(), "A  install.sh\n");
    // The index entry for the executable keeps its mode.
    let ls = p.git(&["ls-files", "-s", "addons/cyclone/hooks/run.sh"]);
    assert!(ls.starts_with("100755"), "{ls}");
}

/// Issue 20, Why 4: collect runs with uncommitted edits to the files it edits in place (init's
/// repos files and version.yml) and keeps them; it refuses only an uncommitted edit to a file it
/// writes whole (an image list), which it would lose.
#[test]
fn collect_keeps_uncommitted_edits_in_place_and_refuses_only_whole_files() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    p.write("images/images_platform.list", "mine:1\n");
    let run = p.release(&["collect"]).fails(3);
    assert!(
        run.stderr.contains("uncommitted changes")
            && run.stderr.contains("images/images_platform.list"),
        "{}",
        run.stderr
    );
    assert!(!p.exists("addons/cyclone"));
    assert_eq!(p.read("repos/devops.yaml"), REPOS);
    p.git(&["checkout", "--", "images"]);
    p.write("version.yml", &format!("{VERSION_YML}# local edit\n"));
    p.write("repos/devops.yaml", &format!("{REPOS}# mine\n"));
    p.release(&["collect"]).ok();
    assert_eq!(
        p.read("version.yml"),
        format!("{VERSION_YML}# local edit\n").replace("version: 0.5.3", "version: 0.10.0")
    );
    assert_eq!(
        p.read("repos/devops.yaml"),
        format!("{REPOS}# mine\n").replace("currentTag: v0.5.3", "currentTag: v0.10.0")
    );
}

#[test]
fn one_failing_component_changes_nothing() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    p.write(
        "repos/broken.yaml",
        "- repositoryFullName: demo/missing\n  chartPaths: [charts/x]\n",
    );
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "broken"]);
    let run = p.release(&["collect"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("demo/missing") && run.stderr.contains("repos/broken.yaml:1"),
        "{}",
        run.stderr
    );
    assert_eq!(p.status(), "");
}

#[test]
fn bad_inputs_get_clear_errors() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let cases: &[(&str, &str)] = &[
        (
            "- repositoryFullName: demo/cyclone\n  chartPaths: [../../etc]\n",
            "escapes the repository",
        ),
        (
            "- repositoryFullName: demo/cyclone\n  chartPaths: [manifests/nope]\n",
            "does not exist at tag v0.10.0",
        ),
        (
            "- repositoryFullName: demo/cyclone\n  chartPaths: [manifests/cyclone\n",
            "repos/devops.yaml:3",
        ),
        (
            "- repositoryFullName: demo/cyclone\n  baseVersion: banana\n",
            "not a release line",
        ),
    ];
    for (yaml, want) in cases {
        p.write("repos/devops.yaml", yaml);
        p.git(&["commit", "-qam", "case"]);
        let run = p.release(&["collect"]).fails(2);
        assert!(
            run.stderr.contains(want),
            "want `{want}` in:\n{}",
            run.stderr
        );
        assert_eq!(p.status(), "", "nothing written for {yaml}");
    }
    // An unknown component on the command line suggests one.
    p.write("repos/devops.yaml", "- repositoryFullName: demo/charts\n");
    p.git(&["commit", "-qam", "valid again"]);
    let run = p.release(&["collect", "chart"]).fails(2);
    assert!(
        run.stderr.contains("hint: did you mean `charts`?"),
        "{}",
        run.stderr
    );
    // An unknown field is an error naming file, line and the field it resembles: a typo must not
    // silently drop a setting (baseVersion would let the component leave its release line).
    p.write(
        "repos/devops.yaml",
        "- repositoryFullName: demo/charts\n  baseVersoin: v1.1\n",
    );
    p.git(&["commit", "-qam", "typo"]);
    let run = p.release(&["collect", "--dry-run"]).fails(2);
    assert!(
        run.stderr
            .contains("error: repos/devops.yaml:2: unknown field `baseVersoin` in entry `demo/charts`\nhint: did you mean `baseVersion`?"),
        "{}",
        run.stderr
    );
    assert_eq!(p.status(), "", "nothing written");
}

#[test]
fn symlink_outside_chart_is_refused() {
    let sb = Sandbox::new();
    let mut c = sb.repo("components/cyclone");
    c.write(
        "manifests/cyclone/Chart.yaml",
        "name: cyclone\nversion: 1.0.0\n",
    );
    std::os::unix::fs::symlink("../../README.md", c.path.join("manifests/cyclone/readme")).unwrap();
    std::os::unix::fs::symlink("Chart.yaml", c.path.join("manifests/cyclone/inside")).unwrap();
    c.write("README.md", "x\n");
    c.commit("one");
    c.tag("v1.0.0");
    charts_repo(&sb);
    let p = platform(&sb);
    let run = p.release(&["collect"]).fails(2);
    assert!(
        run.stderr
            .contains("symlink `readme` -> `../../README.md` leaves the chart folder"),
        "{}",
        run.stderr
    );
    assert_eq!(p.status(), "");
}

#[test]
fn wrapped_shape_with_base_version_and_tag_prefix() {
    let sb = Sandbox::new();
    let mut m = sb.repo("components/mongo");
    for v in ["1.0.0", "1.1.0", "1.1.1", "1.2.0"] {
        m.write(
            "deploy/charts/mongo/Chart.yaml",
            &format!("name: mongo\nversion: {v}\nappVersion: \"4.4.6\"\n"),
        );
        m.write(
            "deploy/charts/mongo/values.yaml",
            "image:\n  repository: library/mongo\n  tag: \"\"\n",
        );
        m.write(
            "deploy/charts/mongo/templates/sts.yaml",
            "kind: StatefulSet\nspec:\n  template:\n    spec:\n      containers:\n      - image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n",
        );
        m.commit(v);
        m.tag(v);
        m.tag(&format!("chart-v{v}"));
    }
    charts_repo(&sb);
    cyclone(&sb);
    let mut p = platform(&sb);
    let wrapped = "metadata: {name: collect set, description: A set of files to collect.}\nspec:\n- repositoryFullName: demo/mongo\n  baseVersion: v1.1\n  currentTag: 1.0.0\n  chartPaths:\n  - deploy/charts/mongo\n  targetChartPath: addons\n";
    p.write("repos/db.yaml", wrapped);
    p.commit("db");
    let run = p.release(&["collect", "mongo"]).ok();
    // Not in version.yml (issue 20, Why 2): added under the repos file's metadata.name, said.
    run.err_has(
        "version.yml: added addon `mongo` (addons/mongo, version 1.1.1) to module `collect set`",
    );
    assert_eq!(
        p.read("version.yml"),
        format!("{VERSION_YML}  - name: collect set\n    enable: true\n    addons:\n    - name: mongo\n      enable: true\n      namespace: default\n      version: 1.1.1\n")
    );
    assert_eq!(
        p.read("repos/db.yaml"),
        wrapped.replace("currentTag: 1.0.0", "currentTag: 1.1.1")
    );
    assert_eq!(
        p.read("images/images_platform.list"),
        "library/mongo:4.4.6\n"
    );
    assert!(!p.exists("addons/cyclone"), "only the named component");
    // tagPrefix selects prefixed tags instead.
    let prefixed = "- repositoryFullName: demo/mongo\n  tagPrefix: chart-\n  chartPaths: [deploy/charts/mongo]\n";
    p.write("repos/db.yaml", prefixed);
    p.commit("prefixed");
    let run = p.release(&["collect", "--dry-run", "mongo"]).ok();
    assert!(
        run.stdout.contains("(none) -> chart-v1.2.0"),
        "{}",
        run.stdout
    );
    // A missing currentTag is inserted after repositoryFullName, at the entry's indentation.
    p.release(&["collect", "mongo"]).ok();
    assert_eq!(
        p.read("repos/db.yaml"),
        "- repositoryFullName: demo/mongo\n  currentTag: chart-v1.2.0\n  tagPrefix: chart-\n  chartPaths: [deploy/charts/mongo]\n"
    );
}

#[test]
fn single_file_resources_old_shape() {
    let sb = Sandbox::new();
    let mut w = sb.repo("components/console-web");
    w.write("release/console-web.yaml", "kind: Deployment\nspec:\n  containers:\n  - image: '[[ registry_release ]]/console-web:[[ imageTagFromGitTag ]]'\n");
    w.commit("1");
    w.tag("v1.1.0");
    cyclone(&sb);
    charts_repo(&sb);
    let mut p = platform(&sb);
    p.write("repos/charts_list.yaml", "- repositoryFullName: demo/console-web\n  resourcePaths:\n  - release/console-web.yaml\n  targetPath: console\n");
    p.commit("list");
    p.release(&["collect", "console-web"]).ok();
    assert!(p
        .read("console/console-web.yaml")
        .contains("console-web:v1.1.0'"));
    assert!(p
        .read("repos/charts_list.yaml")
        .contains("  currentTag: v1.1.0\n"));
}

/// The cache folder of component `owner/name` (keyed by URL: `<name>-<hash>.git`).
pub fn cache_of(p: &Repo, owner: &str, name: &str) -> std::path::PathBuf {
    let dir = p.path.join(".git/release/components").join(owner);
    let found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|e| {
            let n = e.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&format!("{name}-")) && n.ends_with(".git")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

#[test]
fn file_url_fetches_into_cache_and_offline_reuses_it() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    // No cache yet: --offline cannot work.
    let url = format!("file://{}/components/{{name}}", sb.dir.path().display());
    let run = p
        .release(&["collect", "--offline", "--component-url", &url])
        .fails(2);
    assert!(run.stderr.contains("no cached copy"), "{}", run.stderr);
    let run = p
        .release(&["collect", "--json", "--component-url", &url])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["components"][0]["fetch"], "updated");
    assert_eq!(v["components"][0]["to"], "v0.10.0");
    let cache = cache_of(&p, "demo", "cyclone");
    // The cache is a repository git itself reads; branches are never fetched, tags are.
    let refs = sb.git(&cache, &["for-each-ref", "--format=%(refname)"]);
    assert!(
        refs.contains("refs/tags/v0.10.0") && refs.contains("refs/tags/v0.9.0"),
        "{refs}"
    );
    assert!(!refs.contains("refs/heads"), "{refs}");
    sb.git(&cache, &["fsck", "--no-progress"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "collected"]);
    let run = p
        .release(&["collect", "--json", "--component-url", &url])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["components"][0]["fetch"], "up-to-date");
    // A new upstream tag arrives on the next online run, not offline.
    let mut c = Repo::open(&sb, "components/cyclone");
    c.write(
        "manifests/cyclone/Chart.yaml",
        "apiVersion: v2\nname: cyclone\nversion: 0.10.1\n",
    );
    c.commit("fix");
    c.tag("v0.10.1");
    let run = p
        .release(&[
            "collect",
            "--offline",
            "--dry-run",
            "--all",
            "--component-url",
            &url,
        ])
        .ok();
    assert!(run.stdout.contains("cyclone    v0.10.0 "), "{}", run.stdout);
    let run = p
        .release(&["collect", "--dry-run", "--component-url", &url])
        .ok();
    assert!(run.stdout.contains("v0.10.0 -> v0.10.1"), "{}", run.stdout);
}

#[test]
fn settings_layering() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    // .gitrelease < git config < flags
    let mut cfg = p.read(".gitrelease");
    cfg.push_str("\taddonsPath = charts-from-file\n");
    p.write(".gitrelease", &cfg);
    p.git(&["commit", "-qam", "settings"]);
    p.release(&["collect", "--dry-run", "--json"]).ok();
    let run = p.release(&["collect", "--json", "--dry-run"]).ok();
    // targetChartPath in the entry wins for cyclone; the addons path decides the charts' scan root.
    assert!(run.stdout.contains("addons/cyclone"), "{}", run.stdout);
    p.git(&["config", "release.componentUrl", "/nonexistent/{name}"]);
    let run = p.release(&["collect", "--dry-run"]);
    assert_ne!(run.code, 0, "git config overrides .gitrelease");
    assert!(
        run.stderr.contains("/nonexistent/cyclone"),
        "{}",
        run.stderr
    );
    let url = format!("{}/components/{{name}}", sb.dir.path().display());
    p.release(&["collect", "--dry-run", "--component-url", &url])
        .ok();
}

/// Regression (real repos): two entries collecting the same chart folder; the last silently won.
#[test]
fn two_entries_writing_one_folder_are_refused() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    sb.git(
        &sb.path("components"),
        &["clone", "-q", "cyclone", "cyclone-app"],
    );
    p.write(
        "repos/dup.yaml",
        "- repositoryFullName: demo/cyclone-app\n  chartPaths: [manifests/cyclone]\n",
    );
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "dup"]);
    let run = p.release(&["collect"]).fails(2);
    assert!(
        run.stderr.contains("both write `addons/cyclone`")
            && run.stderr.contains("repos/dup.yaml:1"),
        "{}",
        run.stderr
    );
    assert_eq!(p.status(), "");
}

/// Regression (real repos): a component's own hint was replaced by a generic one.
#[test]
fn component_errors_keep_their_hint() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let url = format!("file://{}/components/{{name}}", sb.dir.path().display());
    let run = p
        .release(&["collect", "--offline", "--component-url", &url, "cyclone"])
        .fails(2);
    assert!(
        run.stderr
            .contains("hint: run once without --offline to fill the cache"),
        "{}",
        run.stderr
    );
    // Several failures: each is printed with its hint, then a summary.
    let run = p
        .release(&["collect", "--offline", "--component-url", &url])
        .fails(2);
    assert!(
        run.stderr.contains("demo/cyclone") && run.stderr.contains("demo/charts"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: 2 components failed; nothing was written"),
        "{}",
        run.stderr
    );
}

/// Regression (real repos): `--tag` accepted tags outside tagPrefix and baseVersion.
#[test]
fn pins_must_be_release_tags_of_the_entry() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let run = p
        .release(&["collect", "--tag", "cyclone=chart-v9.9.9"])
        .fails(2);
    assert!(
        run.stderr
            .contains("`chart-v9.9.9` is not a release tag of this entry"),
        "{}",
        run.stderr
    );
    p.write(
        "repos/devops.yaml",
        &REPOS.replace("  chartPaths:", "  baseVersion: v0.9\n  chartPaths:"),
    );
    p.git(&["commit", "-qam", "line"]);
    let run = p.release(&["collect", "--tag", "cyclone=v0.10.0"]).fails(2);
    assert!(
        run.stderr.contains("outside the entry's baseVersion v0.9"),
        "{}",
        run.stderr
    );
    let run = p.release(&["collect", "--dry-run", "cyclone"]).ok();
    assert!(run.stdout.contains("v0.5.3 -> v0.9.0"), "{}", run.stdout);
}

#[test]
fn commit_without_identity_writes_nothing() {
    let sb = Sandbox::new();
    let p = setup(&sb);
    let out = sb
        .cmd("git", &p.path)
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .args(["release", "collect", "--commit"])
        .output()
        .unwrap();
    let run = crate::util::Run::from(out).fails(2);
    assert!(
        run.stderr.contains("--commit needs an identity"),
        "{}",
        run.stderr
    );
    assert_eq!(p.status(), "");
}

/// Component URLs over HTTPS go through rustls on the ring provider that every executable
/// installs at start: against a local TLS server with a self-signed certificate, collect fails
/// on that certificate, naming the URL, instead of stopping for want of a crypto provider.
#[test]
fn https_component_urls_reach_tls_and_name_a_bad_certificate() {
    let sb = Sandbox::new();
    let p = sb.example();
    let (key, cert) = (sb.path("tls.key"), sb.path("tls.crt"));
    let made = sb
        .cmd("openssl", sb.dir.path())
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (Debian package openssl; .ci/run installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = sb
        .cmd("openssl", sb.dir.path())
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-accept",
            &port.to_string(),
            "-cert",
        ])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server");
    // Wait for it to listen.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let url = format!("https://127.0.0.1:{port}/{{name}}");
    let run = p.release(&["collect", "--component-url", &url, "-q"]);
    let _ = server.kill();
    let _ = server.wait();
    let run = run.fails(1);
    assert!(
        run.stderr
            .contains(&format!("https://127.0.0.1:{port}/cyclone"))
            && run.stderr.contains("certificate"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains("crypto provider"), "{}", run.stderr);
}

/// Issue 20, Why 1: a local change to a collected chart survives collect. Nothing moved: the
/// folder is not touched (a fix and a `bump` stay). Upstream moved: a three-way merge keeps the
/// fix and takes upstream's change, the higher chart version wins, vendored files stay; a change
/// to the same line on both sides refuses the whole collect with its hunk; `--theirs` takes
/// upstream's side and says which local change it drops.
#[test]
fn why_1_collect_keeps_local_changes_merges_upstream_and_refuses_conflicts() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v9.0.0", "v9.0.0"]);
    let values = p.read("addons/cyclone/values.yaml");
    p.write(
        "addons/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 3"),
    );
    p.write(
        "addons/cyclone/charts/redis-1.0.0.tgz",
        "vendored by helm dependency build\n",
    );
    p.commit("cyclone: three replicas, redis vendored");
    p.release(&["bump", "patch", "cyclone", "--commit"]).ok();
    assert!(p
        .read("addons/cyclone/Chart.yaml")
        .contains("version: 0.10.1"));
    // Nothing moved upstream: nothing is written, nothing refused.
    let run = p.release(&["collect"]).ok();
    run.out_has(
        "kept local changes: addons/cyclone (Chart.yaml, charts/redis-1.0.0.tgz, values.yaml)",
    );
    assert_eq!(p.status(), "");
    // Upstream releases v0.11.0: another line of values.yaml, and its own chart version.
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    c.git(&["checkout", "-q", "v0.10.0"]);
    let up = c.read("manifests/cyclone/values.yaml");
    c.write(
        "manifests/cyclone/values.yaml",
        &up.replace("port: 7099", "port: 7100"),
    );
    let chart = c.read("manifests/cyclone/Chart.yaml");
    c.write(
        "manifests/cyclone/Chart.yaml",
        &chart.replace("0.10.0", "0.11.0"),
    );
    c.commit("port 7100");
    c.write("CONTRIBUTING.md", "be nice\n");
    c.commit("docs: contributing");
    c.tag("v0.11.0");
    // Why 10: --log lists only the commits that change what is collected.
    let log = p
        .release(&["collect", "--dry-run", "--log", "cyclone"])
        .ok();
    log.out_has("1 commit (1 more change nothing collected)");
    assert!(
        log.stdout.contains("port 7100") && !log.stdout.contains("docs: contributing"),
        "{}",
        log.stdout
    );
    let run = p.release(&["collect", "--commit", "cyclone"]).ok();
    run.out_has("addons/cyclone (patched: Chart.yaml, charts/redis-1.0.0.tgz, values.yaml)");
    // Merged content is not upstream's 0.11.0: the allocator gives it the next free patch.
    run.err_has("addons/cyclone: merged with local changes, so it is no longer upstream's 0.11.0: version 0.11.1");
    // Why 10: the commit subject names what moved.
    assert_eq!(
        p.git(&["log", "-1", "--format=%s"]).trim(),
        "collect: cyclone v0.11.0"
    );
    let merged = p.read("addons/cyclone/values.yaml");
    assert!(
        merged.contains("replicaCount: 3") && merged.contains("port: 7100"),
        "{merged}"
    );
    assert!(p
        .read("addons/cyclone/Chart.yaml")
        .contains("version: 0.11.1"));
    assert!(p.exists("addons/cyclone/charts/redis-1.0.0.tgz"));
    assert_eq!(p.status(), "");
    // diff marks the chart as patched here, with the files that differ from v0.11.0.
    p.release(&["images"]).ok().out_has(
        "patched here (differ from their component's tag):\n    addons/cyclone (Chart.yaml, charts/redis-1.0.0.tgz, values.yaml)",
    );
    p.release(&["diff", "HEAD~3", "HEAD"]).ok().out_has(
        "patched here (differs from the component's tag): Chart.yaml, charts/redis-1.0.0.tgz, values.yaml",
    );
    // log marks it in the release that ships it, and not in the one before the local change.
    p.git(&["tag", "-a", "-m", "v9.1.0", "v9.1.0"]);
    p.release(&["log"]).ok().out_has(
        "chart  addons/cyclone  0.10.0 -> 0.11.1\n           patched here (differs from the component's tag): Chart.yaml, charts/redis-1.0.0.tgz, values.yaml",
    );
    let log: serde_json::Value =
        serde_json::from_str(&p.release(&["log", "--json"]).ok().stdout).unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries[0]["tag"], "v9.1.0");
    assert_eq!(
        entries[0]["charts"][0]["patched"],
        serde_json::json!(["Chart.yaml", "charts/redis-1.0.0.tgz", "values.yaml"])
    );
    p.git(&["tag", "-d", "v9.1.0"]);
    // The same line changed on both sides: refused, each hunk shown, nothing written.
    p.write(
        "addons/cyclone/values.yaml",
        &merged.replace("replicaCount: 3", "replicaCount: 4"),
    );
    p.commit("four replicas");
    let up = c.read("manifests/cyclone/values.yaml");
    c.write(
        "manifests/cyclone/values.yaml",
        &up.replace("replicaCount: 2", "replicaCount: 1"),
    );
    c.commit("one replica");
    c.tag("v0.11.1");
    let head = p.git(&["rev-parse", "HEAD"]);
    let run = p.release(&["collect", "cyclone"]).fails(3);
    run.err_has("1 file(s) changed both here and upstream do not merge");
    run.err_has("addons/cyclone/values.yaml:2: changed on both sides");
    run.err_has("here     | replicaCount: 4");
    run.err_has("upstream | replicaCount: 1");
    run.err_has("--theirs");
    assert_eq!(p.status(), "");
    assert_eq!(p.git(&["rev-parse", "HEAD"]), head);
    // --theirs: upstream's line, the plan says what it drops; vendored files stay.
    let dry = p
        .release(&["collect", "cyclone", "--theirs", "--dry-run"])
        .ok();
    dry.out_has("--theirs drops: values.yaml");
    p.release(&["collect", "cyclone", "--theirs"]).ok();
    let taken = p.read("addons/cyclone/values.yaml");
    assert!(
        taken.contains("replicaCount: 1") && taken.contains("port: 7100"),
        "{taken}"
    );
    assert!(p.exists("addons/cyclone/charts/redis-1.0.0.tgz"));
}

/// Issue 20, Why 4 (and Why 1: no command rewrote the image lists): the first run chains (init, then a component, then collect, with
/// nothing committed in between; the new addon lands in version.yml), and collect with nothing
/// moved makes the derived files follow the charts (a chart version and an image changed in a
/// committed local fix, an addon dropped from version.yml).
#[test]
fn why_4_the_first_run_chains_and_derived_files_follow_the_charts() {
    let sb = Sandbox::new();
    cyclone(&sb);
    charts_repo(&sb);
    let mut p = sb.repo("fresh");
    p.release(&["init", "--product", "demo"]).ok();
    p.write(
        ".gitrelease",
        &format!(
            "[release]\n\tproduct = demo\n\tcomponentUrl = {}/components/{{name}}\n",
            sb.dir.path().display()
        ),
    );
    p.write(
        "repos/components.yaml",
        "metadata:\n  name: devops\nspec:\n- repositoryFullName: demo/cyclone\n  chartPaths: [manifests/cyclone]\n- repositoryFullName: demo/charts\n",
    );
    let run = p.release(&["collect", "--commit"]).ok();
    run.err_has(
        "version.yml: added addon `cyclone` (addons/cyclone, version 0.10.0) to module `devops`",
    );
    let version = p.read("version.yml");
    assert!(
        version.contains("  modules:\n  - name: devops\n    enable: true\n    addons:\n    - name: cyclone\n      enable: true\n      namespace: default\n      version: 0.10.0\n"),
        "{version}"
    );
    p.release(&["check"]).ok();
    // A committed local fix: a new chart version and another image.
    let chart = p.read("addons/cyclone/Chart.yaml");
    p.write(
        "addons/cyclone/Chart.yaml",
        &chart.replace("version: 0.10.0", "version: 0.10.1"),
    );
    p.write(
        "addons/cyclone/templates/sidecar.yaml",
        "kind: Pod\nspec:\n  containers:\n  - image: library/busybox:1.36.1\n",
    );
    p.write("version.yml", &version.replace("    - name: cyclone\n      enable: true\n      namespace: default\n      version: 0.10.0\n", ""));
    p.commit("cyclone: a sidecar (version.yml and lists not updated)");
    p.release(&["check"]).fails(3);
    // Nothing moved upstream: collect brings the derived files in line and keeps the fix.
    p.release(&["collect", "--commit"]).ok();
    assert!(
        p.read("version.yml").contains("version: 0.10.1"),
        "{}",
        p.read("version.yml")
    );
    assert!(p
        .read("images/images_platform.list")
        .contains("library/busybox:1.36.1\n"));
    assert!(p.exists("addons/cyclone/templates/sidecar.yaml"));
    assert_eq!(p.status(), "");
    p.release(&["check"]).ok();
}

/// Issue 26 item 2: `release.reposPath` takes repos files as well as folders, several of them
/// (the seeds' own layout keeps its list in `charts_list.yaml` at the repository root): the same
/// components are read from a folder and a file as from the folder alone, collect and check work
/// on them, and a repository listed in both is refused naming both places.
#[test]
fn repos_path_takes_files_and_several_paths() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    let components = |p: &Repo| -> Vec<String> {
        let run = p.release(&["collect", "--dry-run", "--json"]).ok();
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let mut names: Vec<String> = v["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["repository"].as_str().unwrap_or_default().to_string())
            .collect();
        names.sort();
        names
    };
    let before = components(&p);
    assert!(before.iter().any(|n| n == "demo/console-web"), "{before:?}");
    p.git(&["mv", "repos/charts_list.yaml", "charts_list.yaml"]);
    p.write(
        ".gitrelease",
        &format!(
            "{}\treposPath = repos, charts_list.yaml\n",
            p.read(".gitrelease")
        ),
    );
    p.commit("the resource list at the root");
    assert_eq!(components(&p), before);
    p.release(&["collect", "--commit"]).ok();
    p.release(&["check"]).ok();
    // The file alone, from git's command line.
    let run = p
        .release_c(
            &["release.reposPath=charts_list.yaml"],
            &["collect", "--dry-run", "--json"],
        )
        .ok();
    assert!(
        run.stdout.contains("demo/console-web") && !run.stdout.contains("demo/cyclone"),
        "{}",
        run.stdout
    );
    // One repository in both places.
    p.write(
        "charts_list.yaml",
        &format!(
            "{}- repositoryFullName: demo/cyclone\n  chartPaths:\n  - manifests/cyclone\n  targetChartPath: addons\n",
            p.read("charts_list.yaml")
        ),
    );
    p.release(&["collect", "--dry-run"])
        .fails(2)
        .err_has("`demo/cyclone` is already listed at repos/devops.yaml:");
}
