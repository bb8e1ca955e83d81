//! `git release check`, end to end: every rule, positive and negative, on the shipped example.

use crate::util::{Repo, Sandbox};

/// The example, collected, committed and released as v1.1.0: a consistent release.
fn released(sb: &Sandbox) -> Repo<'_> {
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    p
}

fn json(run: &crate::util::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// Set `version:` of a chart's Chart.yaml.
fn set_chart_version(p: &Repo, chart: &str, v: &str) {
    let path = format!("addons/{chart}/Chart.yaml");
    let text: String = p
        .read(&path)
        .lines()
        .map(|l| {
            if l.starts_with("version:") {
                format!("version: {v}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    p.write(&path, &text);
}

#[test]
fn a_consistent_release_passes() {
    let sb = Sandbox::new();
    let p = released(&sb);
    let run = p.release(&["check"]).ok();
    assert!(
        run.stdout.contains("HEAD: 0 error(s), 0 warning(s)"),
        "{}",
        run.stdout
    );
    let v = json(&p.release(&["check", "--json", "v1.1.0"]).ok());
    // `rev`: the commit checked (the envelope every report shares).
    assert_eq!(v["rev"], p.git(&["rev-parse", "v1.1.0^{commit}"]).trim());
    assert_eq!(v["command"], "check");
    assert_eq!(v["error_count"], 0);
    assert_eq!(v["findings"], serde_json::json!([]));
    p.release(&["check", "--history"]).ok();
    p.release(&["check", "nosuch"]).fails(2);
}

#[test]
fn chart_changed_without_a_new_version() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    let values = p.read("addons/cyclone/values.yaml");
    p.write(
        "addons/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 3"),
    );
    p.commit("three replicas, same version");
    let run = p.release(&["check", "--json"]).fails(3);
    let v = json(&run);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["chart-version-reused", "chart-version-not-bumped"]);
    let f = &v["findings"][1];
    assert_eq!(f["chart"], "cyclone");
    assert_eq!(f["version"], "0.10.0");
    assert_eq!(f["path"], "addons/cyclone/Chart.yaml");
    assert_eq!(f["line"], 5);
    assert_eq!(f["revisions"], serde_json::json!(["HEAD", "v1.1.0"]));
    assert!(
        f["message"].as_str().unwrap().contains("(values.yaml)"),
        "{f}"
    );
    assert_eq!(v["error_count"], 2);
    // The fix: a new version (and version.yml with it) passes.
    set_chart_version(&p, "cyclone", "0.10.1");
    let vy = p.read("version.yml");
    p.write(
        "version.yml",
        &vy.replace("version: 0.10.0", "version: 0.10.1"),
    );
    p.commit("bump");
    p.release(&["check"]).ok();
    // A version that goes down is caught even with new content.
    set_chart_version(&p, "cyclone", "0.9.9");
    let vy = p.read("version.yml");
    p.write(
        "version.yml",
        &vy.replace("version: 0.10.1", "version: 0.9.9"),
    );
    p.commit("lowered");
    let run = p.release(&["check"]).fails(3);
    run.err_has("is not a consistent release: 1 error(s)");
    assert!(
        run.stdout.contains("chart-version-lowered (error)")
            && run
                .stdout
                .contains("cyclone 0.9.9 went down from 0.10.0 in v1.1.0"),
        "{}",
        run.stdout
    );
}

#[test]
fn history_finds_a_version_released_twice_with_other_content() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    // v1.2.0 rebuilt mongo 1.1.0 with other values (the check did not exist then).
    let values = p.read("addons/mongo/values.yaml");
    p.write("addons/mongo/values.yaml", &format!("{values}# tuned\n"));
    p.commit("tuned mongo");
    p.git(&["tag", "-a", "-m", "v1.2.0", "v1.2.0"]);
    // HEAD moves on with a proper bump: HEAD itself is fine...
    set_chart_version(&p, "mongo", "1.1.1");
    let vy = p.read("version.yml");
    p.write(
        "version.yml",
        &vy.replace("version: 1.1.0", "version: 1.1.1"),
    );
    p.commit("bump mongo");
    p.release(&["check"]).ok();
    // ...but the history audit names the two releases.
    let run = p.release(&["check", "--history", "--json"]).fails(3);
    let v = json(&run);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "chart-version-reused");
    assert_eq!(f["chart"], "mongo");
    assert_eq!(f["version"], "1.1.0");
    assert_eq!(f["revisions"], serde_json::json!(["v1.2.0", "v1.1.0"]));
    assert!(
        f["message"].as_str().unwrap().contains("(values.yaml)"),
        "{f}"
    );
    // Confirmed by plain git: the chart folders differ between the two tags.
    assert!(!p
        .git(&["diff", "--stat", "v1.1.0", "v1.2.0", "--", "addons/mongo"])
        .is_empty());
    // And checking v1.2.0 itself reports it without --history.
    p.release(&["check", "v1.2.0"]).fails(3);
}

#[test]
fn image_tags_mutable_and_not_semver() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    let values = p.read("addons/mongo/values.yaml");
    let add = |extra: &str| format!("{values}{extra}");
    p.write(
        "addons/mongo/values.yaml",
        &add("sidecar:\n  image: busybox:latest\n"),
    );
    // Images are what the chart deploys: a template uses the sidecar value.
    p.write(
        "addons/mongo/templates/sidecar.yaml",
        "{{- with .Values.sidecar }}\nkind: Pod\nspec:\n  containers:\n  - image: {{ .image }}\n{{- end }}\n",
    );
    set_chart_version(&p, "mongo", "1.1.1");
    let vy = p
        .read("version.yml")
        .replace("version: 1.1.0", "version: 1.1.1");
    p.write("version.yml", &vy);
    p.commit("latest sidecar");
    // The image list is stale too (collect was not run): turn that rule off to look at tags.
    let off = "release.check.image-list-stale=off";
    let run = p.release_c(&[off], &["check"]).fails(3);
    assert!(
        run.stdout.contains("image-tag-mutable (error)")
            && run
                .stdout
                .contains("`busybox:latest` is on the moving tag `latest`"),
        "{}",
        run.stdout
    );
    // No tag at all is `latest` too.
    p.write(
        "addons/mongo/values.yaml",
        &add("sidecar:\n  image: busybox\n"),
    );
    p.commit("untagged");
    let run = p.release_c(&[off], &["check"]).fails(3);
    assert!(
        run.stdout.contains("`busybox` has no tag"),
        "{}",
        run.stdout
    );
    // An allow-listed upstream image, a digest and a SemVer tag pass.
    p.release_c(&[off, "release.check.allowImage=busy*"], &["check"])
        .ok();
    p.write(
        "addons/mongo/values.yaml",
        &add("sidecar:\n  image: busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"),
    );
    p.commit("digest");
    p.release_c(&[off], &["check"]).ok();
    // A tag that is not SemVer is a warning by default: reported, exit 0.
    p.write(
        "addons/mongo/values.yaml",
        &add("sidecar:\n  image: busybox:1.36-musl\n"),
    );
    p.commit("musl");
    let run = p.release_c(&[off], &["check"]).ok();
    assert!(
        run.stdout.contains("image-tag-not-semver (warning)")
            && run.stdout.contains("HEAD: 0 error(s), 1 warning(s)"),
        "{}",
        run.stdout
    );
    // Severities are settings: error, warning, off; anything else is bad input.
    let strict = "release.check.image-tag-not-semver=error";
    p.release_c(&[off, strict], &["check"]).fails(3);
    let quiet = "release.check.image-tag-not-semver=off";
    let run = p.release_c(&[off, quiet], &["check"]).ok();
    assert!(
        run.stdout.contains("0 error(s), 0 warning(s)"),
        "{}",
        run.stdout
    );
    p.release_c(&["release.check.image-tag-not-semver=maybe"], &["check"])
        .fails(2)
        .err_has("expected error, warning or off");
}

#[test]
fn version_yml_and_image_lists_agree_with_the_charts() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    let vy = p.read("version.yml");
    p.write(
        "version.yml",
        &vy.replace("version: 1.1.0", "version: 1.0.9"),
    );
    p.commit("hand edit");
    let run = p.release(&["check", "--json"]).fails(3);
    let v = json(&run);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "version-yml-mismatch");
    assert_eq!(f["path"], "version.yml");
    assert!(f["line"].as_u64().unwrap() > 1, "{f}");
    assert!(
        f["message"].as_str().unwrap().contains(
            "addon mongo is at 1.0.9 in version.yml, but addons/mongo/Chart.yaml says 1.1.0"
        ),
        "{f}"
    );
    p.write("version.yml", &vy);
    p.commit("fixed");
    p.release(&["check"]).ok();
    // A hand-edited image list.
    let list = p.read("images/images_platform.list");
    p.write(
        "images/images_platform.list",
        &format!(
            "{}docker.io/evil/miner:1.0.0\n",
            list.replace("library/mongo:4.4.18\n", "")
        ),
    );
    p.commit("hand edit");
    let run = p.release(&["check"]).fails(3);
    assert!(
        run.stdout.contains("image-list-stale (error)")
            && run.stdout.contains("images/images_platform.list is stale: 1 missing (library/mongo:4.4.18) 1 not deployed by any chart (docker.io/evil/miner:1.0.0)"),
        "{}",
        run.stdout
    );
    // collect rewrites it, and the release passes again.
    p.write("images/images_platform.list", &list);
    p.commit("collect output");
    p.release(&["check"]).ok();
}

#[test]
fn works_in_a_bare_repository_with_its_committed_settings() {
    let sb = Sandbox::new();
    let p = released(&sb);
    // A mirror (no work tree) reads the committed .gitrelease at HEAD and the charts from objects.
    let bare = sb.path("mirror.git");
    sb.git(
        sb.dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            p.path.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let run = sb.release(&bare, &["check", "--json", "v1.1.0"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["error_count"], 0);
    // A stale list is found there too: the settings and charts come from the objects.
    let mut p = p;
    p.write("images/images_platform.list", "x/y:1.0.0\n");
    p.commit("stale");
    sb.git(
        &p.path,
        &["push", "-q", bare.to_str().unwrap(), "HEAD:refs/heads/main"],
    );
    sb.release(&bare, &["check", "main"])
        .fails(3)
        .err_has("not a consistent release");
}

/// Issue 20, Why 6: a chart under addons/ that version.yml does not list is a finding (it would
/// be packaged with no module or namespace to install it).
#[test]
fn why_6_check_names_a_chart_version_yml_does_not_list() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.release(&["check"]).ok();
    p.write(
        "addons/extra/Chart.yaml",
        "apiVersion: v2\nname: extra\nversion: 0.1.0\n",
    );
    p.commit("a chart of our own");
    let run = p.release(&["check"]).fails(3);
    run.out_has("chart extra (addons/extra, version 0.1.0) is not listed in version.yml");
}

/// Issue 20, Why 2: an umbrella chart whose declared dependencies are not under charts/ is
/// refused by `check` (chart-dependency-missing) and by `package` (exit 3), as real Helm refuses
/// it; once `charts/` holds them, the package's chart archives are all accepted by real Helm.
#[test]
fn why_2_check_and_package_refuse_what_helm_refuses() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.write(
        "addons/umbrella/Chart.yaml",
        "apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: ~17.3.0\n  repository: https://charts.example.com\n",
    );
    p.write(
        "addons/umbrella/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-umbrella\n",
    );
    p.commit("umbrella chart, dependencies not built");
    // Real Helm refuses the chart as it is.
    let tgz = sb.path("umbrella-1.0.0.tgz");
    let st = sb
        .cmd("tar", &p.path.join("addons"))
        .arg("czf")
        .arg(&tgz)
        .arg("umbrella")
        .status()
        .unwrap();
    assert!(st.success());
    let refused = crate::util::helm_refuses(std::slice::from_ref(&tgz));
    assert!(
        refused.len() == 1 && refused[0].1.contains("missing in charts/ directory: redis"),
        "{refused:?}"
    );
    let run = p.release(&["check"]).fails(3);
    run.out_has("chart-dependency-missing (error)");
    run.out_has("addons/umbrella/Chart.yaml: chart umbrella declares dependencies its charts/ folder does not hold: redis ~17.3.0 (not under charts/)");
    let out = sb.path("out");
    let out = out.to_str().unwrap();
    let run = p.release(&["package", "HEAD", "-o", out]).fails(3);
    run.err_has("addons/umbrella: chart umbrella declares dependencies its charts/ folder does not hold: redis ~17.3.0 (not under charts/)");
    run.err_has("helm dependency build addons/umbrella");
    // A version outside the constraint is still refused.
    let umbrella_charts = p.path.join("addons/umbrella/charts");
    let redis = |version: &str| {
        let dir = sb.path(&format!("redis-src-{version}/redis"));
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::write(
            dir.join("Chart.yaml"),
            format!("apiVersion: v2\nname: redis\nversion: {version}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-redis\n",
        )
        .unwrap();
        let st = sb
            .cmd("tar", dir.parent().unwrap())
            .arg("czf")
            .arg(umbrella_charts.join(format!("redis-{version}.tgz")))
            .arg("redis")
            .status()
            .unwrap();
        assert!(st.success());
    };
    std::fs::create_dir_all(&umbrella_charts).unwrap();
    redis("18.0.0");
    p.commit("redis 18 vendored");
    p.release(&["check"])
        .fails(3)
        .out_has("redis ~17.3.0 (charts/ has 18.0.0)");
    p.remove("addons/umbrella/charts/redis-18.0.0.tgz");
    redis("17.3.2");
    p.commit("redis 17.3.2 vendored (helm dependency build)");
    let run = p.release(&["check", "--json"]);
    assert!(
        !run.stdout.contains("chart-dependency-missing"),
        "{}",
        run.stdout
    );
    p.release(&["package", "HEAD", "-o", out]).ok();
    // Every chart archive of the package, given to real Helm: none refused.
    let unpacked = sb.path("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let package = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .unwrap();
    let st = sb
        .cmd("tar", &unpacked)
        .arg("xzf")
        .arg(&package)
        .status()
        .unwrap();
    assert!(st.success());
    let mut charts = Vec::new();
    for top in std::fs::read_dir(&unpacked).unwrap() {
        for c in std::fs::read_dir(top.unwrap().path().join("charts")).unwrap() {
            charts.push(c.unwrap().path());
        }
    }
    assert!(charts.len() >= 3, "{charts:?}");
    assert_eq!(crate::util::helm_refuses(&charts), []);
}

/// Issue 20, Why 4 and "check on the work tree": with no REV, check checks the work tree when it
/// differs from HEAD and says so first; when the work tree is right and HEAD is not, it says to
/// commit, never to run the command just run; `check HEAD` checks the commit.
#[test]
fn why_4_check_reads_the_work_tree_and_says_commit() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    // A committed fix that left version.yml behind: HEAD fails; collect fixes the work tree.
    let chart = p.read("addons/cyclone/Chart.yaml");
    p.write(
        "addons/cyclone/Chart.yaml",
        &chart.replace("version: 0.10.0", "version: 0.10.1"),
    );
    p.write(".gitignore", "*.bak\ntmp/\n");
    p.commit("cyclone 0.10.1, version.yml not updated");
    // Ignored files are no part of the work tree check.
    p.write("addons/cyclone/values.yaml.bak", "old\n");
    p.write("tmp/scratch/notes.txt", "x\n");
    p.release(&["collect"]).ok();
    let run = p.release(&["check"]).ok();
    let first = run.stdout.lines().next().unwrap_or_default().to_string();
    assert!(
        first.starts_with("checking the work tree: it differs from HEAD in ")
            && first.contains("version.yml"),
        "{}",
        run.stdout
    );
    run.out_has("the work tree: 0 error(s)");
    assert!(
        !first.contains(".bak") && !first.contains("tmp/"),
        "{first}"
    );
    run.err_has("the work tree is consistent, HEAD is not");
    run.err_has("commit the changes");
    assert!(
        !run.stderr.contains("run `git release collect`"),
        "{}",
        run.stderr
    );
    let head = p.release(&["check", "HEAD"]).fails(3);
    assert!(
        !head.stdout.contains("checking the work tree"),
        "{}",
        head.stdout
    );
    // Nothing was written by checking the work tree.
    assert!(p.status().contains(" M version.yml"), "{}", p.status());
    let json = p.release(&["check", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        v["worktree"].as_array().is_some_and(|a| !a.is_empty()),
        "{v}"
    );
    assert!(v["rev"].is_null(), "{v}");
}

/// Issue 20, Why 10: the shipped example passes the gate as `fixtures/make_example.sh` builds it.
#[test]
fn why_10_the_example_passes_the_gate_as_built() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["check", "HEAD"]).ok();
}
