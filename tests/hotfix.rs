//! `git release hotfix` and `git release package`, end to end.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{Repo, Sandbox};

fn chart(p: &Repo, name: &str, version: &str, tag: &str) {
    p.write(
        &format!("addons/{name}/Chart.yaml"),
        &format!("apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{tag}\"\n"),
    );
    p.write(
        &format!("addons/{name}/values.yaml"),
        &format!("image:\n  repository: release/{name}\n  tag: {tag}\n"),
    );
    p.write(
        &format!("addons/{name}/templates/deploy.yaml"),
        "kind: Deployment\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n",
    );
}

const VERSION_YML: &str = "spec:\n  modules:\n  - name: core\n    addons:\n    - name: alpha\n      namespace: kube-system\n      version: 1.0.0\n";

/// Release v2.10.2 with charts alpha, beta, gamma and a nested omec/omec-user-plane.
fn released(sb: &Sandbox) -> Repo<'_> {
    let mut p = sb.repo("platform");
    p.write(".gitrelease", "[release]\n\tproduct = demo\n");
    for n in ["alpha", "beta", "gamma"] {
        chart(&p, n, "1.0.0", "v1.0.0");
    }
    chart(&p, "omec/omec-user-plane", "0.1.0", "v0.1.0");
    p.write(
        "addons/omec/omec-user-plane/Chart.yaml",
        "apiVersion: v2\nname: omec-user-plane\nversion: 0.1.0\n",
    );
    p.write("version.yml", VERSION_YML);
    p.write("images/images_platform.list", "release/alpha:v1.0.0\n");
    p.commit("release");
    p.git(&["tag", "-a", "-m", "v2.10.2", "v2.10.2"]);
    p
}

#[test]
fn chart_changed_without_chart_yaml_edit_counts() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    p.write(
        "addons/beta/values.yaml",
        "image:\n  repository: release/beta\n  tag: v1.0.1\n",
    );
    p.commit("fix beta image");
    // The seed pipeline would miss it (no Chart.yaml change); here it is found, and refused
    // because the chart's version did not move.
    let run = p
        .release(&["hotfix", "v2.10.2..HEAD", "--dry-run"])
        .fails(2);
    assert!(
        run.stderr
            .contains("chart content changed without a new version: beta (addons/beta 1.0.0)"),
        "{}",
        run.stderr
    );
    let run = p
        .release(&[
            "hotfix",
            "v2.10.2",
            "--dry-run",
            "--allow-same-version",
            "--json",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let charts = v["manifest"]["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0]["name"], "beta");
    assert_eq!(charts[0]["files"][0], "M values.yaml");
    assert_eq!(
        v["manifest"]["images"]["changed"][0],
        serde_json::json!({"from": "release/beta:v1.0.0", "to": "release/beta:v1.0.1"})
    );
    assert_eq!(
        v["manifest"]["same_version_allowed"][0],
        "beta (addons/beta 1.0.0)"
    );
    assert_eq!(p.status(), "", "dry run writes nothing");
}

#[test]
fn whitespace_only_and_removed_charts() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    // gamma: only trailing spaces and CRLF; alpha: real change with a bump; beta: deleted.
    p.write(
        "addons/gamma/templates/deploy.yaml",
        "kind: Deployment  \r\nspec:\n  replicas:   1\n  template:\n    spec:\n      containers:\n      - image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"  \n",
    );
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.remove("addons/beta");
    p.commit("changes");
    let run = p
        .release(&[
            "hotfix",
            "v2.10.2..HEAD",
            "--json",
            "--date",
            "2026-11-22",
            "-o",
            "out",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let m = &v["manifest"];
    assert_eq!(m["hotfix_version"], "v2.10.2-20261122-p1");
    let names: Vec<&str> = m["charts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha"], "whitespace-only gamma is not packaged");
    assert_eq!(m["charts"][0]["from"], "1.0.0");
    assert_eq!(m["charts"][0]["to"], "1.0.1");
    assert_eq!(m["charts"][0]["namespace"], "kube-system");
    assert_eq!(m["charts"][0]["module"], "core");
    assert_eq!(m["removed"][0]["name"], "beta");
    let pkg = p.path.join("out/demo-hotfix-v2.10.2-20261122-p1.tar.gz");
    let list = sb.tar_names(&pkg);
    assert!(
        list.contains(&"demo-hotfix-v2.10.2-20261122-p1/charts/alpha-1.0.1.tgz".to_string()),
        "{list:?}"
    );
    assert!(
        !list
            .iter()
            .any(|e| e.contains("beta") || e.contains("gamma")),
        "{list:?}"
    );
}

#[test]
fn package_layout_checksums_and_helm_archive() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.write("addons/alpha/templates/new.yaml", "kind: ConfigMap\n");
    p.write("addons/omec/omec-user-plane/values.yaml", "x: 2\n");
    p.write(
        "addons/omec/omec-user-plane/Chart.yaml",
        "apiVersion: v2\nname: omec-user-plane\nversion: 0.1.1\n",
    );
    p.commit("fix");
    p.release(&["hotfix", "v2.10.2", "-o", "out", "--date", "20261122"])
        .ok();
    let pkg = p.path.join("out/demo-hotfix-v2.10.2-20261122-p1.tar.gz");
    let x = sb.path("x");
    sb.untar(&pkg, &x);
    let top = x.join("demo-hotfix-v2.10.2-20261122-p1");
    let manifest: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(top.join("hotfix.yaml")).unwrap()).unwrap();
    // Every checksum verifies, and every file but the manifest has one.
    let sums = manifest["sha256"].as_mapping().unwrap();
    let mut files = Vec::new();
    for e in walk(&top) {
        let rel = e.strip_prefix(&top).unwrap().to_string_lossy().into_owned();
        if rel != "hotfix.yaml" {
            files.push(rel);
        }
    }
    files.sort();
    let mut listed: Vec<String> = sums
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(files, listed);
    for (k, v) in sums {
        let out = sb
            .cmd("sha256sum", &top)
            .arg(k.as_str().unwrap())
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&out.stdout);
        assert!(got.starts_with(v.as_str().unwrap()), "{k:?}: {got}");
    }
    // Nested chart found; Helm archive layout: one top folder named after the chart.
    let omec = top.join("charts/omec-user-plane-0.1.1.tgz");
    let list = sb.tar_names(&omec);
    assert!(
        list.iter().all(|e| e.starts_with("omec-user-plane/")),
        "{list:?}"
    );
    let alpha = sb.tar_names(&top.join("charts/alpha-1.0.1.tgz"));
    assert!(
        alpha.contains(&"alpha/Chart.yaml".to_string())
            && alpha.contains(&"alpha/templates/new.yaml".to_string()),
        "{alpha:?}"
    );
    assert_eq!(
        std::fs::read_to_string(top.join("images/images.list")).unwrap(),
        "release/alpha:v1.0.1\n"
    );
    // Owner and mtime fixed: 10000/10000 and the commit's time.
    let out = sb
        .cmd("tar", sb.dir.path())
        .args(["--numeric-owner", "-tvzf"])
        .arg(&pkg)
        .output()
        .unwrap();
    let verbose = String::from_utf8_lossy(&out.stdout);
    assert!(
        verbose.lines().all(|l| l.contains("10000/10000")),
        "{verbose}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn reproducible_across_clones_and_time() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.commit("fix");
    let mut sums = Vec::new();
    for (i, date) in ["2027-03-01T10:00:00Z", "2028-01-01T00:00:00Z"]
        .iter()
        .enumerate()
    {
        let clone = sb.path(&format!("clone{i}"));
        sb.git(
            sb.dir.path(),
            &[
                "clone",
                "-q",
                p.path.to_str().unwrap(),
                clone.to_str().unwrap(),
            ],
        );
        // Touch files so work-tree times differ; content comes from commits anyway.
        sb.cmd("touch", &clone)
            .args(["-d", "2030-01-01", "addons/alpha/Chart.yaml"])
            .status()
            .unwrap();
        let out = sb
            .cmd("git", &clone)
            .env("GIT_COMMITTER_DATE", date)
            .args(["release", "hotfix", "v2.10.2", "-o", "out"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pkg: Vec<_> = std::fs::read_dir(clone.join("out"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(pkg.len(), 1);
        sums.push(std::fs::read(&pkg[0]).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    assert!(sums[0] == sums[1], "two runs in two clones differ");
    // The date comes from the commit, so the name too: commit date 2026-01-01.
    let run = p.release(&["hotfix", "v2.10.2", "--dry-run"]).ok();
    assert!(run.stdout.contains("v2.10.2-20260101-p1"), "{}", run.stdout);
}

#[test]
fn base_not_an_ancestor() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    p.git(&["checkout", "-q", "-b", "release-2.10"]);
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.commit("fix on release line");
    p.git(&["checkout", "-q", "main"]);
    chart(&p, "alpha", "1.1.0", "v1.1.0");
    p.commit("master work");
    p.git(&["tag", "-a", "-m", "v2.11.0", "v2.11.0"]);
    let run = p.release(&["hotfix", "v2.11.0..release-2.10"]).fails(2);
    assert!(
        run.stderr.contains("`v2.11.0`")
            && run.stderr.contains("is not an ancestor of `release-2.10`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: a hotfix is built on the release line"),
        "{}",
        run.stderr
    );
    // The right range works.
    p.release(&["hotfix", "v2.10.2..release-2.10", "--dry-run"])
        .ok();
    // A range with no chart change is refused.
    p.git(&["checkout", "-q", "release-2.10"]);
    p.write("README.md", "docs\n");
    p.commit("docs");
    let run = p
        .release(&["hotfix", "release-2.10~1..release-2.10"])
        .fails(2);
    assert!(
        run.stderr.contains("changes no chart under addons"),
        "{}",
        run.stderr
    );
}

#[test]
fn sequence_numbers_and_protected_hotfix_tags() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.commit("fix 1");
    let run = p
        .release(&[
            "hotfix", "v2.10.2", "--tag", "-o", "out", "--date", "20261122",
        ])
        .ok();
    assert!(
        run.stdout.contains("tagged hotfix/v2.10.2-20261122-p1"),
        "{}",
        run.stdout
    );
    assert_eq!(
        p.git(&["cat-file", "-t", "hotfix/v2.10.2-20261122-p1"])
            .trim(),
        "tag"
    );
    chart(&p, "alpha", "1.0.2", "v1.0.2");
    p.commit("fix 2");
    // The nearest release of HEAD is still v2.10.2: hotfix tags are not product releases.
    let run = p
        .release(&[
            "hotfix",
            "HEAD~1..HEAD",
            "--tag",
            "-o",
            "out",
            "--date",
            "20261123",
            "--allow-same-version",
        ])
        .ok();
    assert!(
        run.stdout.contains("hotfix v2.10.2-20261123-p2"),
        "{}",
        run.stdout
    );
    // A plain tag that looks like a hotfix version is not a release either.
    p.git(&["tag", "v2.10.2-20261124-p9"]);
    let run = p
        .release(&[
            "hotfix",
            "HEAD~1",
            "--dry-run",
            "--date",
            "20261124",
            "--allow-same-version",
        ])
        .ok();
    // HEAD already has the p2 hotfix tag: the same range keeps its name (no p3).
    assert!(
        run.stdout
            .contains("hotfix v2.10.2-20261123-p2 for demo v2.10.2"),
        "{}",
        run.stdout
    );
    // `--tag` twice on the same range makes one tag.
    let run = p
        .release(&[
            "hotfix",
            "HEAD~1..HEAD",
            "--tag",
            "-o",
            "out",
            "--allow-same-version",
        ])
        .ok();
    assert!(
        run.stdout
            .contains("hotfix/v2.10.2-20261123-p2 already tags"),
        "{}",
        run.stdout
    );
    assert_eq!(
        p.git(&["tag", "--points-at", "HEAD", "-l", "hotfix/*"])
            .trim(),
        "hotfix/v2.10.2-20261123-p2"
    );
    // Earlier hotfix tags stay where they were.
    assert_eq!(
        p.git(&["rev-parse", "hotfix/v2.10.2-20261122-p1^{commit}"]),
        p.git(&["rev-parse", "HEAD~1"])
    );
}

#[test]
fn uncommitted_edits_never_leak_into_packages() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.commit("fix");
    p.write(
        "addons/alpha/values.yaml",
        "image:\n  repository: release/alpha\n  tag: LOCAL-EDIT\n",
    );
    let run = p
        .release(&["hotfix", "v2.10.2", "-o", "out", "--date", "20261122"])
        .ok();
    assert!(
        run.stderr
            .contains("uncommitted changes under addons are not in the package"),
        "{}",
        run.stderr
    );
    let x = sb.path("x");
    sb.untar(
        &p.path.join("out/demo-hotfix-v2.10.2-20261122-p1.tar.gz"),
        &x,
    );
    let chart_dir = sb.path("c");
    sb.untar(
        &x.join("demo-hotfix-v2.10.2-20261122-p1/charts/alpha-1.0.1.tgz"),
        &chart_dir,
    );
    let values = std::fs::read_to_string(chart_dir.join("alpha/values.yaml")).unwrap();
    assert!(
        values.contains("tag: v1.0.1") && !values.contains("LOCAL-EDIT"),
        "{values}"
    );
}

#[test]
fn per_addon_packages() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    chart(&p, "gamma", "1.0.1", "v1.0.1");
    p.commit("two fixes");
    p.release(&[
        "hotfix",
        "v2.10.2",
        "--per-addon",
        "-o",
        "out",
        "--date",
        "20261122",
    ])
    .ok();
    let mut names: Vec<String> = std::fs::read_dir(p.path.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "demo-hotfix-alpha-v2.10.2-20261122-p1.tar.gz",
            "demo-hotfix-gamma-v2.10.2-20261122-p1.tar.gz"
        ]
    );
    // Each package lists only its own chart and images.
    let x = sb.path("x");
    sb.untar(
        &p.path
            .join("out/demo-hotfix-alpha-v2.10.2-20261122-p1.tar.gz"),
        &x,
    );
    let top = x.join("demo-hotfix-alpha-v2.10.2-20261122-p1");
    assert_eq!(
        std::fs::read_to_string(top.join("images/images.list")).unwrap(),
        "release/alpha:v1.0.1\n"
    );
    let m = std::fs::read_to_string(top.join("hotfix.yaml")).unwrap();
    assert!(
        m.contains("name: alpha") && !m.contains("name: gamma"),
        "{m}"
    );
}

#[test]
fn full_package_of_a_release() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    p.write("install.sh", "#!/bin/sh\necho install\n");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(p.path.join("install.sh"))
        .status()
        .unwrap();
    p.write("configs/platform.yaml.j2", "a: b\n");
    p.write("scripts/init.sh", "echo init\n");
    p.commit("installer");
    p.git(&["tag", "-a", "-m", "v2.10.3", "v2.10.3"]);
    let run = p.release(&["package", "-o", "out"]).ok();
    assert!(
        run.stdout.contains("package demo-v2.10.3: 4 chart(s)"),
        "{}",
        run.stdout
    );
    let pkg = p.path.join("out/demo-v2.10.3.tar.gz");
    let list = sb.tar_names(&pkg);
    for want in [
        "demo-v2.10.3/charts/alpha-1.0.0.tgz",
        "demo-v2.10.3/charts/omec-user-plane-0.1.0.tgz",
        "demo-v2.10.3/version.yml",
        "demo-v2.10.3/images/images_platform.list",
        "demo-v2.10.3/install.sh",
        "demo-v2.10.3/configs/platform.yaml.j2",
        "demo-v2.10.3/scripts/init.sh",
        "demo-v2.10.3/release.yaml",
    ] {
        assert!(
            list.contains(&want.to_string()),
            "{want} missing from {list:?}"
        );
    }
    let x = sb.path("x");
    sb.untar(&pkg, &x);
    let top = x.join("demo-v2.10.3");
    let m: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(top.join("release.yaml")).unwrap()).unwrap();
    let sums: BTreeMap<String, String> = serde_yaml::from_value(m["sha256"].clone()).unwrap();
    assert_eq!(
        sums.len(),
        list.iter().filter(|e| !e.ends_with('/')).count() - 1
    );
    for (k, v) in &sums {
        let out = sb.cmd("sha256sum", &top).arg(k).output().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(v.as_str()),
            "{k}"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(top.join("install.sh"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    // Same bytes again.
    let first = std::fs::read(&pkg).unwrap();
    p.release(&["package", "v2.10.3", "-o", "out2"]).ok();
    assert!(first == std::fs::read(p.path.join("out2/demo-v2.10.3.tar.gz")).unwrap());
}

#[test]
fn base_version_override_and_no_release_tag() {
    let sb = Sandbox::new();
    let mut p = sb.repo("platform");
    chart(&p, "alpha", "1.0.0", "v1.0.0");
    p.commit("one");
    p.git(&["tag", "alpha-1.0.0"]);
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.commit("two");
    let run = p.release(&["hotfix", "alpha-1.0.0", "--dry-run"]).fails(2);
    assert!(
        run.stderr
            .contains("no release tag is reachable from `alpha-1.0.0`"),
        "{}",
        run.stderr
    );
    let run = p
        .release(&[
            "hotfix",
            "alpha-1.0.0",
            "--dry-run",
            "--base-version",
            "v3.1.0",
        ])
        .ok();
    assert!(
        run.stdout.contains("hotfix v3.1.0-20260101-p1"),
        "{}",
        run.stdout
    );
    let run = p
        .release(&[
            "hotfix",
            "alpha-1.0.0",
            "--dry-run",
            "--base-version",
            "banana",
        ])
        .fails(2);
    assert!(
        run.stderr.contains("not a release version"),
        "{}",
        run.stderr
    );
}

/// The addons path may be the repository root (`.`), as in repos that are only charts.
#[test]
fn addons_path_at_the_root_and_nested_charts() {
    let sb = Sandbox::new();
    let mut p = sb.repo("charts");
    p.write(
        ".gitrelease",
        "[release]\n\tproduct = c\n\taddonsPath = .\n",
    );
    p.write(
        "omec/omec-user-plane/Chart.yaml",
        "name: omec-user-plane\nversion: 0.1.0\n",
    );
    p.write(
        "omec/omec-user-plane/charts/sub/Chart.yaml",
        "name: sub\nversion: 0.1.0\n",
    );
    p.write("omec/omec-user-plane/charts/sub/values.yaml", "a: 1\n");
    p.write("README.md", "charts\n");
    p.commit("one");
    p.git(&["tag", "v1.0.0"]);
    p.write("omec/omec-user-plane/charts/sub/values.yaml", "a: 2\n");
    p.write(
        "omec/omec-user-plane/Chart.yaml",
        "name: omec-user-plane\nversion: 0.1.1\n",
    );
    p.write("README.md", "more docs\n");
    p.commit("two");
    let run = p.release(&["hotfix", "v1.0.0", "--json", "--dry-run"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let charts = v["manifest"]["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 1, "{charts:?}");
    assert_eq!(charts[0]["path"], "omec/omec-user-plane");
    assert_eq!(
        charts[0]["files"],
        serde_json::json!(["M Chart.yaml", "M charts/sub/values.yaml"])
    );
}

/// Regressions from real chart repos (sapcc/helm-charts, omec-project, prometheus-community).
#[test]
fn real_repo_regressions() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    // Two changed charts with one archive name are refused in the plan already, naming both.
    p.write(
        "addons/beta/vendor/alpha/Chart.yaml",
        "name: alpha\nversion: 1.0.1\n",
    );
    chart(&p, "alpha", "1.0.1", "v1.0.1");
    p.commit("clash");
    let run = p.release(&["hotfix", "v2.10.2", "--dry-run"]).fails(2);
    assert!(
        run.stderr.contains(
            "`addons/alpha` and `addons/beta/vendor/alpha` would both be packaged as `alpha-1.0.1`"
        ) || run.stderr.contains(
            "`addons/beta/vendor/alpha` and `addons/alpha` would both be packaged as `alpha-1.0.1`"
        ),
        "{}",
        run.stderr
    );
    p.remove("addons/beta/vendor");
    // A Chart.yaml with a UTF-8 byte-order mark still has a version.
    p.write(
        "addons/gamma/Chart.yaml",
        "\u{feff}apiVersion: v2\nname: gamma\nversion: 1.0.1\n",
    );
    p.commit("bom");
    let run = p
        .release(&["hotfix", "v2.10.2", "--json", "--dry-run"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = v["manifest"]["charts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "gamma"]);
    // `git -c release.*` reaches the command; a missing addons path is an error, not "no change".
    let out = sb
        .cmd("git", &p.path)
        .args([
            "-c",
            "release.addonsPath=nope",
            "release",
            "hotfix",
            "v2.10.2",
            "--dry-run",
        ])
        .output()
        .unwrap();
    let run = crate::util::Run::from(out).fails(2);
    assert!(
        run.stderr.contains("the addons path `nope` does not exist"),
        "{}",
        run.stderr
    );
    let out = sb
        .cmd("git", &p.path)
        .args([
            "-c",
            "release.product=other",
            "release",
            "package",
            "--dry-run",
        ])
        .output()
        .unwrap();
    let run = crate::util::Run::from(out).ok();
    assert!(
        run.stdout.contains("package other-v2.10.2-2-g"),
        "{}",
        run.stdout
    );
    // `..NEW` is HEAD..NEW as in git; a closed pipe is not an error.
    let run = p.release(&["hotfix", "..HEAD"]).fails(2);
    assert!(run.stderr.contains("the range is empty"), "{}", run.stderr);
    let out = sb
        .cmd("bash", &p.path)
        .args([
            "-c",
            "git release hotfix v2.10.2 --dry-run --json | true; echo ${PIPESTATUS[0]}",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
}

/// Issue 25 item 4: images only `helm test` hooks run have their own list,
/// `images/images_test.list`, which `check` holds to the charts like any list, and which
/// `hotfix` and `package` ship like any list; `--no-test-images` leaves them out.
#[test]
fn helm_test_images_have_their_own_list_and_ship_unless_left_out() {
    let sb = Sandbox::new();
    let mut p = released(&sb);
    chart(&p, "beta", "1.0.1", "v1.0.0");
    p.write(
        "addons/beta/templates/tests/test-connection.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: beta-test\n  annotations:\n    \"helm.sh/hook\": test\nspec:\n  containers:\n  - name: wget\n    image: docker.io/bats/bats:1.14.0\n  restartPolicy: Never\n",
    );
    p.commit("beta: a helm test");
    // The list is derived: check wants it, with the test image only there.
    p.release(&["check"])
        .fails(3)
        .out_has("images/images_test.list is stale: 1 missing (docker.io/bats/bats:1.14.0)");
    let run = p.release(&["images", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["test_images"][0]["image"], "docker.io/bats/bats:1.14.0");
    assert_eq!(v["test_images"][0]["lists"], serde_json::json!(["test"]));
    assert!(v["images"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["image"] != "docker.io/bats/bats:1.14.0"));
    p.write("images/images_test.list", "docker.io/bats/bats:1.14.0\n");
    p.commit("the test list");
    let run = p.release(&["check"]);
    assert!(!run.stdout.contains("images_test.list"), "{}", run.stdout);
    // hotfix ships the test image as an added image, unless told not to.
    let manifest = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["hotfix", "v2.10.2", "--dry-run", "--json"];
        args.extend_from_slice(extra);
        let run = p.release(&args).ok();
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap()["manifest"]["images"]
            .clone()
    };
    assert_eq!(
        manifest(&[])["added"],
        serde_json::json!(["docker.io/bats/bats:1.14.0"])
    );
    assert_eq!(
        manifest(&["--no-test-images"])["added"],
        serde_json::json!([])
    );
    // package carries the list like any other.
    p.release(&["package", "-o", "out"]).ok();
    let pkg = p.package_in("out");
    let names = sb.tar_names(&pkg);
    assert!(
        names.iter().any(|n| n.ends_with("images/images_test.list")),
        "{names:?}"
    );
}
