//! Issue 20: the release week on two chart shapes, end to end through the installed executables,
//! with no generated file edited by hand: a component with its chart at the repository's root
//! and release branches, and an umbrella chart whose dependency is not committed upstream.

use std::path::PathBuf;

use crate::util::{Repo, Sandbox};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\nspec:\n  containers:\n  - name: main\n    image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n";

/// A charts repository with its charts at the root (`core/`, as Aether keeps them), released as
/// v1.0.0, with a release branch.
fn core_component(sb: &Sandbox) -> Repo<'_> {
    let mut c = sb.repo("components/core");
    c.write(
        "core/Chart.yaml",
        "apiVersion: v2\nname: core\nversion: 1.0.0\nappVersion: \"1.0.0\"\n",
    );
    c.write(
        "core/values.yaml",
        "replicas: 1\nimage:\n  repository: library/core\n  tag: 1.0.0\nport: 80\n",
    );
    c.write("core/templates/pod.yaml", POD);
    c.commit("core 1.0.0");
    c.tag("v1.0.0");
    c.git(&["branch", "release-1.0"]);
    c
}

/// An umbrella chart depending on redis; `charts/` is not committed (as upstream repos do).
fn umbrella_component(sb: &Sandbox) -> Repo<'_> {
    let mut u = sb.repo("components/umbrella");
    u.write(
        "charts/umbrella/Chart.yaml",
        "apiVersion: v2\nname: umbrella\nversion: 2.0.0\ndependencies:\n- name: redis\n  version: ~17.3.0\n  repository: https://charts.example.com\n",
    );
    u.write(
        "charts/umbrella/values.yaml",
        "image:\n  repository: library/umbrella\n  tag: 2.0.0\n",
    );
    u.write("charts/umbrella/templates/pod.yaml", POD);
    u.commit("umbrella 2.0.0");
    u.tag("v2.0.0");
    u
}

/// `charts/redis-17.3.2.tgz` as `helm dependency build` leaves it, under `dir`.
fn vendor_redis(sb: &Sandbox, dir: &std::path::Path) {
    let src = sb.path("redis-src/redis");
    std::fs::create_dir_all(src.join("templates")).unwrap();
    std::fs::write(
        src.join("Chart.yaml"),
        "apiVersion: v2\nname: redis\nversion: 17.3.2\n",
    )
    .unwrap();
    std::fs::write(
        src.join("values.yaml"),
        "image:\n  repository: library/redis\n  tag: 7.0.5\n",
    )
    .unwrap();
    std::fs::write(src.join("templates/pod.yaml"), POD).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let st = sb
        .cmd("tar", src.parent().unwrap())
        .arg("czf")
        .arg(dir.join("redis-17.3.2.tgz"))
        .arg("redis")
        .status()
        .unwrap();
    assert!(st.success());
}

/// Every chart archive (`charts/*.tgz`) of the package at `pkg`, unpacked under `into`.
fn chart_archives(sb: &Sandbox, pkg: &std::path::Path, into: &str) -> Vec<PathBuf> {
    let dir = sb.path(into);
    std::fs::create_dir_all(&dir).unwrap();
    let st = sb.cmd("tar", &dir).arg("xzf").arg(pkg).status().unwrap();
    assert!(st.success());
    let mut out = Vec::new();
    for top in std::fs::read_dir(&dir).unwrap() {
        let charts = top.unwrap().path().join("charts");
        for c in std::fs::read_dir(charts).unwrap() {
            out.push(c.unwrap().path());
        }
    }
    out.sort();
    out
}

#[test]
fn the_release_week_chains_on_two_chart_shapes() {
    let sb = Sandbox::new();
    let mut core = core_component(&sb);
    umbrella_component(&sb);
    // Day 1: init, components, collect (nothing committed in between), check, tag, protect.
    let mut p = sb.repo("platform");
    p.release(&["init", "--product", "week"]).ok();
    p.write(
        ".gitrelease",
        &format!(
            "[release]\n\tproduct = week\n\tcomponentUrl = {}/components/{{name}}\n",
            sb.dir.path().display()
        ),
    );
    p.write(
        "repos/components.yaml",
        "metadata:\n  name: platform\nspec:\n- repositoryFullName: week/core\n  chartPaths: [core]\n- repositoryFullName: week/umbrella\n  chartPaths: [charts/umbrella]\n",
    );
    p.release(&["collect"]).ok();
    p.commit("week: first collect");
    let run = p.release(&["check"]).fails(3);
    run.out_has(
        "chart umbrella declares dependencies its charts/ folder does not hold: redis ~17.3.0",
    );
    vendor_redis(&sb, &p.path.join("addons/umbrella/charts"));
    p.commit("umbrella: helm dependency build");
    // The vendored subchart brings an image: collect (nothing moved) rewrites the lists.
    p.release(&["collect", "--commit"]).ok();
    assert!(p
        .read("images/images_platform.list")
        .contains("library/redis:7.0.5\n"));
    p.release(&["check"]).ok();
    p.release(&["tag", "1.0.0", "--offline"]).ok();
    p.release(&["protect"]).ok();
    // Branches: the line and an OEM branch.
    p.release(&["branch", "1.0"]).ok();
    p.release(&["branch", "1.0/acme"]).ok();
    // A fix in the platform repo on master, bumped; picked onto the line.
    let values = p.read("addons/core/values.yaml");
    p.write(
        "addons/core/values.yaml",
        &values.replace("replicas: 1", "replicas: 2"),
    );
    let fix = p.commit("core: two replicas");
    p.release(&["bump", "patch", "core", "--commit"]).ok();
    p.release(&["cherry-pick", &fix, "--onto", "1.0"])
        .ok()
        .out_has("bump addons/core/Chart.yaml: 1.0.0 -> 1.0.1");
    // A fix in the component (new tag): collect merges it and keeps the local fix and the
    // vendored dependency.
    let up = core.read("core/values.yaml");
    core.write("core/values.yaml", &up.replace("port: 80", "port: 8080"));
    let chart = core.read("core/Chart.yaml");
    core.write(
        "core/Chart.yaml",
        &chart.replace("version: 1.0.0", "version: 1.1.0"),
    );
    core.commit("core 1.1.0: port 8080");
    core.tag("v1.1.0");
    p.release(&["collect", "--commit"]).ok();
    let merged = p.read("addons/core/values.yaml");
    assert!(
        merged.contains("replicas: 2") && merged.contains("port: 8080"),
        "{merged}"
    );
    // Merged, so not upstream's 1.1.0: the next free patch.
    assert!(p.read("addons/core/Chart.yaml").contains("version: 1.1.1"));
    assert!(p.exists("addons/umbrella/charts/redis-17.3.2.tgz"));
    // A conflicting upstream change is refused with its hunk; --theirs takes it.
    core.write(
        "core/values.yaml",
        &core
            .read("core/values.yaml")
            .replace("replicas: 1", "replicas: 5"),
    );
    let chart = core.read("core/Chart.yaml");
    core.write(
        "core/Chart.yaml",
        &chart.replace("version: 1.1.0", "version: 1.2.0"),
    );
    core.commit("core 1.2.0: five replicas");
    core.tag("v1.2.0");
    let run = p.release(&["collect"]).fails(3);
    run.err_has("addons/core/values.yaml:1: changed on both sides");
    run.err_has("here     | replicas: 2");
    run.err_has("upstream | replicas: 5");
    assert_eq!(p.status(), "");
    p.release(&["collect", "--theirs", "--commit"]).ok();
    assert!(p.read("addons/core/values.yaml").contains("replicas: 5"));
    // Tags on both lines; the history is clean.
    p.release(&["tag", "1.0.1", "release-1.0", "--offline"])
        .ok();
    p.release(&["tag", "1.1.0", "--offline"]).ok();
    p.release(&["check", "--history"]).ok();
    // Hotfix of the line and the full package of master: real Helm takes every chart archive.
    let out = sb.path("out");
    let out_s = out.to_str().unwrap();
    p.release(&["hotfix", "v1.0.0..release-1.0", "-o", out_s])
        .ok();
    p.release(&["package", "v1.1.0", "-o", out_s]).ok();
    let mut archives = Vec::new();
    for (i, pkg) in std::fs::read_dir(&out).unwrap().enumerate() {
        archives.extend(chart_archives(&sb, &pkg.unwrap().path(), &format!("x{i}")));
    }
    assert!(archives.len() >= 3, "{archives:?}");
    assert_eq!(crate::util::helm_refuses(&archives), []);
}
