//! `git release upgrade FROM TO`, end to end (issue: upgrade packages between any two releases):
//! two lines of the example, `v1.0.2` on `release-1.0` and `v1.1.0` on master (not ancestors),
//! images in a real registry sharing base layers, `run.sh` driven with recording `helm` and
//! `kubectl` (no cluster here).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::registry::{layer_digest, TestRegistry};
use crate::util::{Repo, Sandbox};

/// The two base layers every image of the platform is built on (as real images share a distro
/// and a runtime).
const BASE: [&str; 2] = ["base-os", "base-runtime"];

/// The example with `release.registry` at `host`, collected, and two lines: `v1.0.2` on
/// release-1.0 (a cyclone fix) and `v1.1.0` on master (cyclone's image moves to v0.10.1, a new
/// chart `redis` listed first in version.yml, mongo disabled). Returns the repo.
pub(crate) fn two_lines<'a>(sb: &'a Sandbox, reg: &TestRegistry) -> Repo<'a> {
    let mut p = sb.example();
    let settings = p.read(".gitrelease");
    p.write(
        ".gitrelease",
        &format!("{settings}\tregistry = {}/rel\n", reg.host),
    );
    p.commit("the internal registry");
    p.release(&["collect", "--commit"]).ok();
    // mongo's image from the internal registry, as every image of the platform.
    let values = p.read("addons/mongo/values.yaml");
    p.write(
        "addons/mongo/values.yaml",
        &values.replace(
            "repository: library/mongo",
            "repository: '[[ registry_release ]]/library/mongo'",
        ),
    );
    p.commit("mongo: from the internal registry");
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.0.1", "v1.0.1"]);
    p.git(&["branch", "release-1.0"]);
    // release-1.0: a fix in cyclone, bumped.
    p.git(&["checkout", "-q", "release-1.0"]);
    let values = p.read("addons/cyclone/values.yaml");
    p.write(
        "addons/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 3"),
    );
    p.commit("cyclone: three replicas");
    p.release(&["bump", "patch", "cyclone", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.0.2", "v1.0.2"]);
    // master: cyclone's image moves, a new chart, mongo turned off.
    p.git(&["checkout", "-q", "-"]);
    let values = p.read("addons/cyclone/values.yaml");
    p.write(
        "addons/cyclone/values.yaml",
        &values.replace("tag: 'v0.10.0'", "tag: 'v0.10.1'"),
    );
    p.commit("cyclone: image v0.10.1");
    p.release(&["bump", "patch", "cyclone", "--commit"]).ok();
    p.write(
        "addons/redis/Chart.yaml",
        "apiVersion: v2\nname: redis\nversion: 7.2.0\n",
    );
    p.write(
        "addons/redis/values.yaml",
        "image: '[[ registry_release ]]/library/redis:7.2'\n",
    );
    p.write(
        "addons/redis/templates/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: redis\nspec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        image: {{ .Values.image | quote }}\n",
    );
    let v = p.read("version.yml");
    let v = v
        .replace(
            "    addons:\n    - name: cyclone",
            "    addons:\n    - name: redis\n      enable: true\n      namespace: devops\n      version: 7.2.0\n    - name: cyclone",
        )
        .replace(
            "    - name: mongo\n      description: MongoDB   # held on 1.1.x, see repos/devops.yaml\n      enable: true",
            "    - name: mongo\n      description: MongoDB   # held on 1.1.x, see repos/devops.yaml\n      enable: false",
        );
    p.write("version.yml", &v);
    p.commit("redis; mongo off");
    // The image lists follow the charts.
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    // Every image of both releases in the registry. All but redis share the two base layers;
    // redis is built on its own base (so the upgrade carries it whole).
    for (image, own) in [
        ("release/cyclone:v0.10.0", vec!["cyclone-0.10.0"]),
        ("release/cyclone:v0.10.1", vec!["cyclone-0.10.1"]),
        ("release/templates:v1.2.14", vec!["templates"]),
        ("library/busybox:1.37.0", vec!["busybox"]),
        ("library/mongo:4.4.18", vec!["mongo"]),
        ("console-web:v1.1.0", vec!["console-web"]),
    ] {
        let layers: Vec<&str> = BASE.iter().copied().chain(own).collect();
        reg.push_layered(sb, &format!("rel/{image}"), &layers);
    }
    reg.push_layered(sb, "rel/library/redis:7.2", &["alpine-base", "redis-7.2"]);
    p
}

fn json(run: &crate::util::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// A `helm` and a `kubectl` that record their arguments, one call a line, into `log`;
/// `kubectl get pods` prints the file `pods`.
fn recorders(sb: &Sandbox, log: &Path, pods: &Path) -> PathBuf {
    let bin = sb.path("recorders");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["helm", "kubectl"] {
        let script = format!(
            "#!/usr/bin/env bash\necho \"{tool} $*\" >>{}\nif [[ $1 == get && $2 == pods ]]; then cat {}; fi\n",
            log.display(),
            pods.display()
        );
        let path = bin.join(tool);
        std::fs::write(&path, script).unwrap();
        sb.cmd("chmod", sb.dir.path())
            .args(["+x", path.to_str().unwrap()])
            .status()
            .unwrap();
    }
    bin
}

/// `run.sh ARGS` in `dir` with the recorders first on PATH: (exit code, stdout, stderr).
fn run_sh(sb: &Sandbox, dir: &Path, bin: &Path, args: &[&str]) -> (i32, String, String) {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = sb
        .cmd("bash", dir)
        .env("PATH", path)
        .arg("run.sh")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_upgrade_between_two_lines_carries_the_changed_charts_and_only_the_new_layers() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    let p = two_lines(&sb, &reg);
    // Not ancestors either way: hotfix refuses, upgrade compares the trees.
    p.release(&["hotfix", "v1.0.2..v1.1.0", "--dry-run"])
        .fails(2);

    // The plan: charts as the trees differ, the removed component, the order.
    let plan = json(
        &p.release(&["upgrade", "v1.0.2", "v1.1.0", "-n", "--json"])
            .ok(),
    );
    let m = &plan["manifest"];
    let charts = m["charts"].as_array().unwrap();
    let by_path = |why: &[&str]| -> BTreeSet<String> {
        charts
            .iter()
            .filter(|c| why.contains(&c["why"].as_str().unwrap()))
            .map(|c| c["path"].as_str().unwrap().to_string())
            .collect()
    };
    // The chart folders whose trees differ, by git itself.
    let diffed: BTreeSet<String> = p
        .git(&["diff", "--name-only", "v1.0.2", "v1.1.0", "--", "addons"])
        .lines()
        .map(|l| l.split('/').take(2).collect::<Vec<_>>().join("/"))
        .collect();
    assert_eq!(by_path(&["added", "changed", "removed"]), diffed);
    assert_eq!(
        diffed,
        BTreeSet::from(["addons/cyclone".to_string(), "addons/redis".to_string()])
    );
    assert_eq!(
        by_path(&["disabled"]),
        BTreeSet::from(["addons/mongo".to_string()])
    );
    // diff FROM TO agrees on which charts change.
    let diff = json(&p.release(&["diff", "v1.0.2", "v1.1.0", "--json"]).ok());
    let mut from_diff = BTreeSet::new();
    for c in diff["components"].as_array().unwrap() {
        for ch in c["charts"].as_array().unwrap() {
            from_diff.insert(ch["path"].as_str().unwrap().to_string());
        }
    }
    for ch in diff["charts"].as_array().into_iter().flatten() {
        from_diff.insert(ch["path"].as_str().unwrap().to_string());
    }
    assert_eq!(from_diff, diffed, "{diff}");
    // run.sh's steps: version.yml order (redis is listed before cyclone), mongo removed.
    let steps = &m["steps"];
    let order: Vec<&str> = steps["upgrade"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["release"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["redis", "cyclone"]);
    assert_eq!(steps["remove"][0]["release"], "mongo");
    assert_eq!(steps["remove"][0]["namespace"], "devops");

    // Downgrade, FROM = TO: refused, nothing written.
    p.release(&["upgrade", "v1.1.0", "v1.0.2", "-o", "down"])
        .fails(3)
        .err_has("goes down")
        .err_has("cyclone (addons/cyclone)");
    assert!(!p.path.join("down").exists());
    p.release(&["upgrade", "v1.1.0", "v1.1.0"]).fails(2);
    // --allow-downgrade lets it through and records what went down.
    let down = json(
        &p.release(&[
            "upgrade",
            "v1.1.0",
            "v1.0.2",
            "--allow-downgrade",
            "-n",
            "--json",
        ])
        .ok(),
    );
    let allowed = down["manifest"]["downgrades_allowed"].as_array().unwrap();
    assert!(
        allowed
            .iter()
            .any(|d| d.as_str().unwrap().starts_with("cyclone (addons/cyclone)")),
        "{down}"
    );

    // The package, with images.
    let run = p
        .release(&[
            "upgrade", "v1.0.2", "v1.1.0", "--images", "-o", "out1", "--json",
        ])
        .ok();
    let v = json(&run);
    let name = "demo-platform-upgrade-1.0.2-1.1.0";
    let pkg = p.path.join(format!("out1/{name}.tar.gz"));
    assert!(
        v["package"]["sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64),
        "{v}"
    );
    let x = sb.path("x");
    sb.untar(&pkg, &x);
    let top = x.join(name);
    let mut archives: Vec<String> = std::fs::read_dir(top.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    archives.sort();
    assert_eq!(archives, ["cyclone-0.10.2.tgz", "redis-7.2.0.tgz"]);
    // Only the new images, and of them only the layers the site lacks.
    let host = &reg.host;
    let images = v["manifest"]["images"].clone();
    let packed: BTreeSet<String> = images["digests"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        packed,
        BTreeSet::from([
            format!("{host}/rel/library/redis:7.2"),
            format!("{host}/rel/release/cyclone:v0.10.1"),
        ])
    );
    let tar_names = sb.tar_names(&top.join("images/images.tar"));
    let has_blob =
        |d: &str| tar_names.contains(&format!("blobs/sha256/{}", d.trim_start_matches("sha256:")));
    for base in BASE {
        assert!(
            !has_blob(&layer_digest(base)),
            "{base} is at the site: left out"
        );
    }
    for own in ["cyclone-0.10.1", "alpine-base", "redis-7.2"] {
        assert!(has_blob(&layer_digest(own)), "{own} is new: included");
    }
    let expected: Vec<(String, String)> = images["layers_expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["digest"].as_str().unwrap().to_string(),
                l["from_image"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        expected
            .iter()
            .map(|e| e.0.clone())
            .collect::<BTreeSet<_>>(),
        BASE.iter()
            .map(|b| layer_digest(b))
            .collect::<BTreeSet<_>>()
    );
    assert!(
        expected
            .iter()
            .all(|e| e.1.starts_with(&format!("{host}/rel/"))),
        "{expected:?}"
    );
    let sizes = &images["sizes"];
    let (tar, whole, full) = (
        sizes["images_tar"].as_u64().unwrap(),
        sizes["whole_image_differential"].as_u64().unwrap(),
        sizes["full_package"].as_u64().unwrap(),
    );
    assert!(tar < whole && whole < full, "{sizes}");
    // The layout says it is partial.
    let index = sb
        .cmd("tar", sb.dir.path())
        .args([
            "-xOf",
            top.join("images/images.tar").to_str().unwrap(),
            "index.json",
        ])
        .output()
        .unwrap();
    let index: serde_json::Value = serde_json::from_slice(&index.stdout).unwrap();
    assert_eq!(index["annotations"]["dev.git-release.partial"], "true");
    assert_eq!(index["annotations"]["dev.git-release.layers-omitted"], "2");
    // skopeo reads the complete image (redis) and copies it out.
    let redis = format!(
        "oci-archive:{}:{host}/rel/library/redis:7.2",
        top.join("images/images.tar").display()
    );
    for args in [
        vec!["inspect".to_string(), "--raw".into(), redis.clone()],
        vec![
            "copy".into(),
            "--quiet".into(),
            redis.clone(),
            format!("dir:{}", sb.path("redis-copy").display()),
        ],
    ] {
        let out = sb
            .cmd("skopeo", sb.dir.path())
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // upgrade.yaml: the checksums of every other file.
    let manifest: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(top.join("upgrade.yaml")).unwrap()).unwrap();
    for f in [
        "run.sh",
        "charts/redis-7.2.0.tgz",
        "images/images.tar",
        "images/images.list",
    ] {
        let sum = manifest["sha256"][f]
            .as_str()
            .unwrap_or_else(|| panic!("{f}"));
        let out = sb.cmd("sha256sum", &top).arg(f).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(sum), "{f}");
    }

    // run.sh: each subcommand's dry run prints the commands in order.
    let log = sb.path("calls.log");
    let pods = sb.path("pods.txt");
    let bin = recorders(&sb, &log, &pods);
    let (code, out, _) = run_sh(&sb, &top, &bin, &["backup", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "helm get values cyclone --namespace devops --output yaml > release_backup/devops/cyclone/values.yaml",
            "helm get manifest cyclone --namespace devops > release_backup/devops/cyclone/manifest.yaml",
            "helm get values mongo --namespace devops --output yaml > release_backup/devops/mongo/values.yaml",
            "helm get manifest mongo --namespace devops > release_backup/devops/mongo/manifest.yaml",
        ]
    );
    let (code, out, _) = run_sh(&sb, &top, &bin, &["upgrade", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "helm upgrade --install redis charts/redis-7.2.0.tgz --namespace devops --create-namespace --reset-then-reuse-values",
            "helm upgrade --install cyclone charts/cyclone-0.10.2.tgz --namespace devops --create-namespace --reset-then-reuse-values",
        ]
    );
    let (code, out, _) = run_sh(&sb, &top, &bin, &["remove", "--dry-run"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "helm uninstall mongo --namespace devops\n")
    );
    let (code, out, _) = run_sh(&sb, &top, &bin, &["check", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("kubectl get pods --namespace devops --output jsonpath="),
        "{out}"
    );
    assert!(!log.exists(), "a dry run calls neither helm nor kubectl");
    // Run for real against the recorders: the same calls, in the same order.
    let (code, _, err) = run_sh(&sb, &top, &bin, &["upgrade"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_sh(&sb, &top, &bin, &["remove"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "helm upgrade --install redis charts/redis-7.2.0.tgz --namespace devops --create-namespace --reset-then-reuse-values\n\
helm upgrade --install cyclone charts/cyclone-0.10.2.tgz --namespace devops --create-namespace --reset-then-reuse-values\n\
helm uninstall mongo --namespace devops\n"
    );
    // check: what runs at the site (its own registry name) against what TO deploys.
    let site = "site.example:5000/platform";
    std::fs::write(
        &pods,
        format!("{site}/release/cyclone:v0.10.1\n{site}/release/templates:v1.2.14\n{site}/library/redis:7.2\n{site}/library/mongo:4.4.18\n"),
    )
    .unwrap();
    let (code, out, err) = run_sh(&sb, &top, &bin, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("every expected image runs"), "{out}");
    std::fs::write(
        &pods,
        format!("{site}/release/cyclone:v0.10.0\n{site}/release/templates:v1.2.14\n"),
    )
    .unwrap();
    let (code, _, err) = run_sh(&sb, &top, &bin, &["check"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("release/cyclone:v0.10.1 is not running"),
        "{err}"
    );
    assert!(err.contains("library/redis:7.2 is not running"), "{err}");
    assert!(err.contains("release/cyclone:v0.10.0 still runs"), "{err}");
    assert!(err.contains("check: 3 mismatch(es)"), "{err}");
    std::fs::remove_file(&log).unwrap();
    let (code, _, _) = run_sh(&sb, &top, &bin, &["backup"]);
    assert_eq!(code, 0);
    assert!(top.join("release_backup/devops/mongo/values.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "helm get values cyclone --namespace devops --output yaml\nhelm get manifest cyclone --namespace devops\nhelm get values mongo --namespace devops --output yaml\nhelm get manifest mongo --namespace devops\n"
    );

    // Byte for byte: a second run, and a second clone.
    p.release(&["upgrade", "v1.0.2", "v1.1.0", "--images", "-o", "out2"])
        .ok()
        .out_has("left out, expected at the site); a whole-image differential:");
    let again = std::fs::read(p.path.join(format!("out2/{name}.tar.gz"))).unwrap();
    let first = std::fs::read(&pkg).unwrap();
    assert!(first == again, "a second run differs");
    let clone = sb.clone_repo(&p.path, "clone");
    clone
        .release(&["upgrade", "v1.0.2", "v1.1.0", "--images", "-o", "out"])
        .ok();
    let cloned = std::fs::read(clone.path.join(format!("out/{name}.tar.gz"))).unwrap();
    assert!(first == cloned, "a second clone differs");
}
