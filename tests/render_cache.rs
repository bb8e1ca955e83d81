//! The render cache (`.git/release/cache/render/`), end to end: read on a hit, missed when any
//! input of a render changes, ignored when an entry is corrupt, off with `--no-cache` and
//! `release.renderCache=false`, and invisible in what commands produce (a hotfix package is the
//! same bytes cold and warm).

use std::path::{Path, PathBuf};

use crate::util::{Repo, Sandbox};

fn deployment(image_expr: &str) -> String {
    format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{{{ .Release.Name }}}}\n  namespace: {{{{ .Release.Namespace }}}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: {image_expr}\n")
}

/// A platform repo with one chart, `addons/web`, whose image depends on the values, the
/// namespace and the kube version, committed and tagged v1.0.0.
fn platform(sb: &Sandbox) -> Repo<'_> {
    let mut p = sb.repo("platform");
    p.write(".gitrelease", "[release]\n\tproduct = demo\n");
    p.write(
        "version.yml",
        "spec:\n  modules:\n  - name: core\n    addons:\n    - name: web\n      namespace: infra\n      version: 1.0.0\n",
    );
    p.write(
        "addons/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    p.write("addons/web/values.yaml", "image: nginx\ntag: \"1.0\"\n");
    // The namespace and the kube version show in the tag, so a render with another one of
    // either gives another image.
    p.write(
        "addons/web/templates/dep.yaml",
        &deployment("\"{{ .Values.image }}:{{ .Values.tag }}-{{ .Release.Namespace }}-{{ .Capabilities.KubeVersion.Minor }}\""),
    );
    p.write("images/images_platform.list", "");
    p.commit("web");
    p.git(&["tag", "-a", "-m", "v1.0.0", "v1.0.0"]);
    p
}

fn cache_dir(p: &Repo) -> PathBuf {
    p.path.join(".git/release/cache/render")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The platform images `git release images --json [extra]` lists.
fn images(p: &Repo, config: &[&str], extra: &[&str]) -> Vec<String> {
    let mut args = vec!["images", "--json"];
    args.extend(extra);
    let run = p.release_c(config, &args).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["image"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn read_on_a_hit_missed_on_each_input_ignored_when_corrupt_and_off_when_asked() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    let dir = cache_dir(&p);
    // Off: nothing is written.
    assert_eq!(images(&p, &[], &["--no-cache"]), ["nginx:1.0-infra-36"]);
    assert_eq!(
        images(&p, &["release.renderCache=false"], &[]),
        ["nginx:1.0-infra-36"]
    );
    assert!(
        entries(&dir).is_empty(),
        "--no-cache and renderCache=false write no entry"
    );

    // First run: one entry; a hit returns what the entry holds (proved by editing it).
    assert_eq!(images(&p, &[], &[]), ["nginx:1.0-infra-36"]);
    let first = entries(&dir);
    assert_eq!(first.len(), 1, "one chart, one entry");
    let text = std::fs::read_to_string(&first[0]).unwrap();
    std::fs::write(&first[0], text.replace("nginx:1.0", "edited:9")).unwrap();
    assert_eq!(
        images(&p, &[], &[]),
        ["edited:9-infra-36"],
        "the entry is read"
    );
    // --no-cache and renderCache=false render again.
    assert_eq!(images(&p, &[], &["--no-cache"]), ["nginx:1.0-infra-36"]);
    assert_eq!(
        images(&p, &["release.renderCache=false"], &[]),
        ["nginx:1.0-infra-36"]
    );

    // Corrupt entries (truncated, not JSON, empty) are ignored and rewritten.
    for bad in [&text[..text.len() / 2], "\u{0}not json", ""] {
        std::fs::write(&first[0], bad).unwrap();
        assert_eq!(images(&p, &[], &[]), ["nginx:1.0-infra-36"]);
        let again = std::fs::read_to_string(&first[0]).unwrap();
        assert!(again.contains("nginx:1.0-infra-36"), "rewritten: {again}");
    }

    // Each input of a render in turn: a miss (a new entry, and the new image).
    // A chart file.
    p.write("addons/web/values.yaml", "image: nginx\ntag: \"1.1\"\n");
    p.commit("values");
    assert_eq!(images(&p, &[], &[]), ["nginx:1.1-infra-36"]);
    assert_eq!(entries(&dir).len(), 2);
    // A file added under charts/ (a subchart) that changes nothing rendered: still a miss.
    p.write(
        "addons/web/charts/sub/Chart.yaml",
        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    );
    p.commit("subchart");
    assert_eq!(images(&p, &[], &[]), ["nginx:1.1-infra-36"]);
    assert_eq!(entries(&dir).len(), 3);
    // The namespace (version.yml).
    let v = p.read("version.yml").replace("infra", "edge");
    p.write("version.yml", &v);
    p.commit("namespace");
    assert_eq!(images(&p, &[], &[]), ["nginx:1.1-edge-36"]);
    assert_eq!(entries(&dir).len(), 4);
    // The kube version.
    assert_eq!(
        images(&p, &["release.kubeVersion=v1.28.0"], &[]),
        ["nginx:1.1-edge-28"]
    );
    assert_eq!(entries(&dir).len(), 5);
    // The folder (the release name).
    p.git(&["mv", "addons/web", "addons/web2"]);
    p.commit("rename");
    assert_eq!(images(&p, &[], &[]), ["nginx:1.1-default-36"]);
    assert_eq!(entries(&dir).len(), 6);
    // An older revision is a hit again: no new entry, the same answer as before.
    let run = p.release(&["images", "v1.0.0"]).ok();
    assert!(run.stdout.contains("nginx:1.0-infra-36"), "{}", run.stdout);
    assert_eq!(entries(&dir).len(), 6);
}

#[test]
fn check_reads_it_and_a_hotfix_is_the_same_cold_and_warm() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    p.write("addons/web/values.yaml", "image: nginx\ntag: \"1.1\"\n");
    p.write(
        "addons/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.1\n",
    );
    p.write(
        "version.yml",
        &p.read("version.yml")
            .replace("version: 1.0.0", "version: 1.0.1"),
    );
    p.write("images/images_platform.list", "nginx:1.1-infra-36\n");
    p.commit("fix");
    let dir = cache_dir(&p);
    let package = |out: &str, extra: &[&str]| -> Vec<u8> {
        let mut args = vec!["hotfix", "v1.0.0", "-o", out, "--date", "20261203"];
        args.extend(extra);
        p.release(&args).ok();
        let files = entries(&p.path.join(out));
        assert_eq!(files.len(), 1, "{files:?}");
        std::fs::read(&files[0]).unwrap()
    };
    let uncached = package("out0", &["--no-cache"]);
    assert!(entries(&dir).is_empty(), "--no-cache writes no entry");
    let cold = package("out1", &[]);
    let written = entries(&dir);
    assert_eq!(written.len(), 2, "both ends of the change rendered once");
    let warm = package("out2", &[]);
    assert_eq!(entries(&dir), written, "the warm run renders nothing new");
    assert!(
        uncached == cold && cold == warm,
        "the package differs cold and warm"
    );

    // check reads it too: an entry edited by hand shows as an image list that no longer
    // matches (which is how a stale cache would show), and --no-cache does not see it.
    p.release(&["check", "HEAD"]).ok();
    for e in &written {
        let t = std::fs::read_to_string(e).unwrap();
        std::fs::write(e, t.replace("nginx:1.1", "edited:9")).unwrap();
    }
    p.release(&["check", "HEAD"]).fails(3).out_has("edited:9");
    p.release(&["check", "HEAD", "--no-cache"]).ok();
}
