//! The seeds' own layout (issue 26): single-file addons under `addons/<group>/`,
//! `charts_list.yaml` with `targetPath` under `addons/`, `release_charts.yaml`, product
//! description files and image lists named by project, on the second shipped example
//! (fixtures/make_caicloud_example.sh) and a real registry.

use std::collections::BTreeSet;

use crate::registry::TestRegistry;
use crate::util::{Repo, Sandbox};

/// Every image reference the addon files of the work tree hold, named by project as the seed's
/// lists name them: `[[ registry_release ]]/x:1` -> `release/x:1`, read with plain string
/// search (independent of the product's scanner).
fn references_in_addons(p: &Repo<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let files = p.git(&["ls-files", "addons"]);
    for f in files.lines().filter(|f| f.ends_with(".yaml")) {
        let text = p.read(f);
        for (placeholder, project) in [
            ("[[ registry_release ]]/", "release/"),
            ("[[ registry_library ]]/", "library/"),
        ] {
            for (i, _) in text.match_indices(placeholder) {
                let rest = &text[i + placeholder.len()..];
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
                    .unwrap_or(rest.len());
                out.insert(format!("{project}{}", &rest[..end]));
            }
        }
    }
    out
}

/// Change tenant-admin's addon file in the work tree: its wait loop sleeps `sleep` seconds (new
/// content) and `_metadata.version` becomes `version` (`None` keeps v1.2.0).
fn edit_tenant_admin(p: &Repo<'_>, sleep: u32, version: Option<&str>) {
    let t = p.read("addons/platform/tenant-admin.yaml");
    let mut t = t.replace("sleep 2", &format!("sleep {sleep}"));
    if let Some(v) = version {
        t = t.replace("version: \"v1.2.0\"", &format!("version: \"{v}\""));
    }
    p.write("addons/platform/tenant-admin.yaml", &t);
}

fn list_of(p: &Repo<'_>) -> BTreeSet<String> {
    p.read("images-lists/images_platform.list")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_whole_chain_runs_on_the_caicloud_example() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    let out = sb.path("out");
    let out_s = out.to_str().unwrap();

    // collect: targetPath is a group under addons/, the collected tag goes to release_charts.yaml.
    let run = p.release(&["collect", "--commit"]).ok();
    run.out_has("addons/app/app-admin.yaml")
        .out_has("v0.3.29 -> v0.3.30")
        .out_has("addons/console/console-web.yaml");
    assert!(p
        .read("addons/app/app-admin.yaml")
        .contains("version: \"v0.3.30\""));
    let tags = p.read("release_charts.yaml");
    assert!(
        tags.contains("tag: v0.3.30") && tags.contains("tag: v1.1.0"),
        "{tags}"
    );
    assert!(!p.read("charts_list.yaml").contains("tag:"));
    assert_eq!(p.status(), "");

    // images: the lists equal the references in the addon files (image:, args, env), by project.
    let expected = references_in_addons(&p);
    assert!(
        expected.contains("release/canary-nginx-proxy:v0.3.4"),
        "{expected:?}"
    );
    assert!(expected.contains("library/alpine:3.7"), "{expected:?}");
    assert_eq!(list_of(&p), expected);
    let run = p.release(&["images", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let listed: BTreeSet<String> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, expected);
    let proxy = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == "release/canary-nginx-proxy:v0.3.4")
        .unwrap();
    assert_eq!(
        proxy["sources"][0]["chart"],
        "addons/app/canary-controller.yaml"
    );
    assert_eq!(proxy["sources"][0]["from"], "addon");

    // check, with every image in the registry named by project.
    let reg = TestRegistry::start(None);
    for image in &expected {
        reg.push(&sb, image, image, None);
    }
    p.git(&["config", "release.registry", &reg.host]);
    p.release(&["check"])
        .ok()
        .out_has("0 error(s)")
        .out_has("image-tag-not-semver");

    // tag warns that the product descriptions still name the release before.
    p.release(&["tag", "2.8.0", "--offline"])
        .ok()
        .err_has("compass.yaml says metadata.version 2.7.0, the tag is v2.8.0");
    p.release(&["branch", "2.8"]).ok();

    // A fix on master: new config and a new image; the version is not bumped yet.
    let admin = p.read("addons/app/app-admin.yaml");
    p.write(
        "addons/app/app-admin.yaml",
        &admin
            .replace("app-admin:v0.3.30", "app-admin:v0.3.31")
            .replace(":8080", ":9090"),
    );
    let fix = p.commit("app-admin: port 9090, image v0.3.31");
    p.release(&["check", "--offline"])
        .fails(3)
        .out_has("chart-version-not-bumped")
        .out_has("addons/app/app-admin.yaml:9");
    // bump edits _config._metadata.version in place.
    p.release(&["bump", "patch", "app-admin", "--commit"])
        .ok()
        .out_has("v0.3.30 -> v0.3.31");
    assert!(p
        .read("addons/app/app-admin.yaml")
        .contains("version: \"v0.3.31\""));
    assert_eq!(
        p.git(&["show", "--format=", "--stat", "HEAD"])
            .lines()
            .count(),
        2,
        "bump changes the addon file only"
    );
    // The image list follows through collect (the addon's local fix is kept).
    p.release(&["collect", "--commit"]).ok();
    assert!(list_of(&p).contains("release/app-admin:v0.3.31"));
    reg.push(&sb, "release/app-admin:v0.3.31", "app-admin-fix", None);
    p.release(&["check"]).ok();

    // cherry-pick onto the release line: the branch's own version, patch + 1.
    p.release(&["cherry-pick", &fix, "--onto", "2.8"])
        .ok()
        .out_has("bump addons/app/app-admin.yaml (app-admin): v0.3.30 -> v0.3.31")
        .out_has("images-lists/images_platform.list: +1 -1");
    p.release(&["check", "release-2.8"]).ok();

    // hotfix per addon, recorded as a commit, with its changed image.
    let run = p
        .release(&[
            "hotfix",
            "v2.8.0..release-2.8",
            "--per-addon",
            "--images",
            "--record",
            "--commit",
            "-o",
            out_s,
        ])
        .ok();
    let name = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("package: "))
        .unwrap()
        .to_string();
    assert!(
        name.starts_with("compass-hotfixes-app-admin-v2.8.0-") && name.ends_with(".tar.gz"),
        "{name}"
    );
    let top = name.trim_end_matches(".tar.gz");
    let names = sb.tar_names(&out.join(&name));
    assert!(
        names.contains(&format!("{top}/default/app/app-admin/values.yaml")),
        "{names:?}"
    );
    assert!(
        names.contains(&format!("{top}/images-lists/images.tar")),
        "{names:?}"
    );
    sb.untar(&out.join(&name), &sb.path("hf"));
    let manifest = std::fs::read_to_string(sb.path("hf").join(top).join("hotfix.yaml")).unwrap();
    assert!(manifest.contains("release/app-admin:v0.3.31"), "{manifest}");
    // The image in the package is the registry's, found by project.
    let layout = sb.path("hf-layout");
    std::fs::create_dir_all(&layout).unwrap();
    let tar = sb.path("hf").join(top).join("images-lists/images.tar");
    let x = sb
        .cmd("tar", &layout)
        .args(["-xf", tar.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(x.status.success());
    sb.skopeo_raw(&format!(
        "oci:{}:{}/release/app-admin:v0.3.31",
        layout.display(),
        reg.host
    ));
    // The record: the package's files (not its images) under release-hotfixes/, committed.
    let base = format!(
        "release-hotfixes/2.8.0/{}",
        &top[top.len() - 11..top.len() - 3]
    );
    let recorded = p.git(&["show", "--format=%s", "--name-only", "HEAD"]);
    assert!(recorded.starts_with("hotfix v2.8.0-"), "{recorded}");
    assert!(
        recorded.contains(&format!("{base}/{top}/default/app/app-admin/values.yaml")),
        "{recorded}"
    );
    assert!(
        recorded.contains(&format!("{base}/{top}/hotfix.yaml")),
        "{recorded}"
    );
    assert!(!recorded.contains("images.tar"), "{recorded}");
    assert_eq!(p.status(), "");

    // The full package ships the addon files and the product descriptions.
    p.release(&["tag", "2.8.1", "release-2.8", "--offline"])
        .ok();
    p.release(&["package", "v2.8.1", "--images", "-o", out_s])
        .ok();
    let full = out.join("compass-v2.8.1.tar.gz");
    // At the site: verify, then push into the site's registry under the same projects.
    p.release(&["verify", full.to_str().unwrap()]).ok();
    let site = TestRegistry::start(None);
    p.release(&["push", full.to_str().unwrap(), "--registry", &site.host])
        .ok();
    for image in ["release/app-admin:v0.3.31", "library/busybox:1.30.0"] {
        sb.skopeo_raw(&format!("docker://{}/{image}", site.host));
    }
    let names = sb.tar_names(&full);
    for f in [
        "addons/app/app-admin.yaml",
        "addons/app/canary-controller.yaml",
        "compass.yaml",
        "mini-compass.yaml",
        "images-lists/images_platform.list",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(&format!("/{f}"))),
            "{f} not in {names:?}"
        );
    }

    // log, diff and contains see addons as they see charts.
    p.release(&["log", "2.8"])
        .ok()
        .out_has("chart  addons/app/app-admin.yaml  v0.3.30 -> v0.3.31");
    p.release(&["diff", "v2.7.0", "v2.8.1"])
        .ok()
        .out_has("demo/app-admin")
        .out_has("chart addons/app/app-admin.yaml  v0.3.29 -> v0.3.31");
    p.release(&["contains", &fix])
        .ok()
        .out_has("release-2.8")
        .out_has("cherry-pick");

    // upgrade from the release before: the addons that changed, in their namespaces.
    p.release(&["upgrade", "v2.7.0", "v2.8.1", "-o", out_s])
        .ok()
        .out_has("app-admin")
        .out_has("v0.3.29 -> v0.3.31");
    let up = out.join("compass-upgrade-2.7.0-2.8.1.tar.gz");
    sb.untar(&up, &sb.path("up"));
    let steps = std::fs::read_to_string(
        sb.path("up")
            .join("compass-upgrade-2.7.0-2.8.1")
            .join("upgrade.yaml"),
    )
    .unwrap();
    assert!(steps.contains("release: app-admin\n"), "{steps}");
    assert!(
        steps.contains("archive: addons/app/app-admin.yaml"),
        "{steps}"
    );
    // run.sh names the YAML addon's install step (no Helm release to upgrade).
    let run_sh = std::fs::read_to_string(
        sb.path("up")
            .join("compass-upgrade-2.7.0-2.8.1")
            .join("run.sh"),
    )
    .unwrap();
    assert!(
        run_sh.contains("upgrade: apply addons/app/app-admin.yaml (app-admin in namespace default) with the platform"),
        "{run_sh}"
    );
    assert!(
        !run_sh.contains("helm upgrade --install app-admin"),
        "{run_sh}"
    );
}

#[test]
fn product_descriptions_are_held_against_the_addons() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    p.release(&["check", "--offline"]).ok();
    let compass = p.read("compass.yaml");
    // A listed addon no file defines, a deps entry naming nothing, a cycle, an empty module.
    p.write(
        "compass.yaml",
        &(compass
            .replace(
                "      - tenant-admin\n",
                "      - tenant-admin\n      - canary-controller\n",
            )
            .replace(
                "    - name: canary-controller\n",
                "    - name: ghost\n      description: nowhere\n    - name: canary-controller\n",
            )
            .replace("      - app-admin\n", "      - app-admin\n      - nobody\n")
            + "  - name: empty\n    required: false\n    addons: []\n"),
    );
    p.commit("compass.yaml: broken");
    let run = p.release(&["check", "--offline"]).fails(3);
    run.out_has("product-description-mismatch (error)")
        .out_has("lists addon `ghost` (module app), but no addon file defines it")
        .out_has("depends on `nobody`")
        .out_has("deps form a cycle: app-admin -> canary-controller -> app-admin")
        .out_has("module `empty` lists no addons");
    // tag runs the rule too.
    p.release(&["tag", "2.8.0", "--offline"])
        .fails(3)
        .err_has("not a consistent release");
    p.write("compass.yaml", &compass);
    p.commit("compass.yaml: fixed");
    // An addon no description lists is a warning.
    let mini = p.read("mini-compass.yaml");
    let full = p.read("compass.yaml");
    p.write(
        "compass.yaml",
        &full.replace(
            "  - name: tenant-admin\n    description: Manage tenants\n",
            "",
        ),
    );
    assert_ne!(p.read("compass.yaml"), full);
    p.write(
        "mini-compass.yaml",
        &mini.replace(
            "  - name: tenant-admin\n    description: Manage tenants\n",
            "",
        ),
    );
    // (app-admin still depends on tenant-admin in compass.yaml: put that back as listed.)
    let c = p
        .read("compass.yaml")
        .replace("      deps:\n      - tenant-admin\n", "");
    p.write("compass.yaml", &c);
    p.commit("tenant-admin unlisted");
    p.release(&["check", "--offline"])
        .ok()
        .out_has("product-description-mismatch (warning)\n  addons/platform/tenant-admin.yaml:1: addon `tenant-admin` (addons/platform/tenant-admin.yaml) is listed in no product description");
}

#[test]
fn collect_lists_a_new_addon_in_compass_yaml_and_release_charts_yaml() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    // A new component repository with one addon.
    let mut c = sb.repo("cc/components/prometheus");
    c.write(
        "release/prometheus.yaml",
        "_config:\n  _metadata:\n    name: prometheus\n    namespace: kube-system\n    version: \"[[ imageTagFromGitTag ]]\"\n  controllers:\n  - containers:\n    - args:\n      - --sidecar=[[ registry_library ]]/reloader:1.0.0\n      image: '[[ registry_release ]]/prometheus:[[ imageTagFromGitTag ]]'\n      name: prometheus\n",
    );
    c.commit("prometheus");
    c.tag_annotated("v2.1.0");
    let list = p.read("charts_list.yaml");
    p.write(
        "charts_list.yaml",
        &format!(
            "{list}- repositoryFullName: demo/prometheus\n  resourcePaths:\n  - release/prometheus.yaml\n  targetPath: monitoring\n"
        ),
    );
    p.commit("charts_list: prometheus");
    p.release(&["collect", "--commit"])
        .ok()
        .out_has("addons/monitoring/prometheus.yaml")
        .out_has("(none) -> v2.1.0")
        .err_has("compass.yaml: added addon `prometheus`");
    let compass = p.read("compass.yaml");
    assert!(
        compass.ends_with(
            "  - name: monitoring\n    required: false\n    addons:\n    - name: prometheus\n      description: prometheus\n"
        ),
        "{compass}"
    );
    let tags = p.read("release_charts.yaml");
    assert!(
        tags.ends_with(
            "- repositoryFullName: demo/prometheus\n  tag: v2.1.0\n  resourcePaths:\n  - release/prometheus.yaml\n  targetPath: monitoring\n"
        ),
        "{tags}"
    );
    let images = list_of(&p);
    assert!(
        images.contains("release/prometheus:v2.1.0") && images.contains("library/reloader:1.0.0")
    );
    p.release(&["check", "--offline"]).ok();
}

#[test]
fn files_under_addons_that_are_no_addon_are_errors_in_the_caicloud_layout() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    p.write("addons/app/notes.yaml", "todo: write the docs\n");
    p.commit("notes");
    p.release(&["check", "--offline"])
        .fails(3)
        .out_has("addon-file-unknown")
        .out_has("addons/app/notes.yaml is neither a chart nor a single-file addon");
    p.remove("addons/app/notes.yaml");
    p.commit("no notes");
    p.release(&["check", "--offline"]).ok();
}

#[test]
fn a_reused_addon_version_is_found_across_release_tags() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    // v2.7.0 shipped tenant-admin v1.2.0; change it without a new version, release again.
    edit_tenant_admin(&p, 5, None);
    p.commit("tenant-admin: slower wait");
    p.git(&["tag", "-a", "-m", "v2.7.1", "v2.7.1"]);
    p.release(&["check", "--history", "--offline"])
        .fails(3)
        .out_has("chart-version-reused")
        .out_has("tenant-admin v1.2.0 in HEAD differs from tenant-admin v1.2.0 in v2.7.0")
        .out_has("addons/platform/tenant-admin.yaml:9");
}

#[test]
fn init_writes_the_caicloud_layout() {
    let sb = Sandbox::new();
    let mut p = sb.repo("fresh");
    p.write("README.md", "compass\n");
    p.commit("start");
    p.release(&["init", "--layout", "caicloud", "--product", "compass"])
        .ok()
        .out_has("add components to charts_list.yaml");
    for f in [
        "charts_list.yaml",
        "release_charts.yaml",
        "compass.yaml",
        "mini-compass.yaml",
        "images-lists/images_platform.list",
    ] {
        assert!(p.exists(f), "{f}");
    }
    assert!(p.read(".gitrelease").contains("layout = caicloud"));
    p.commit("init");
    p.release(&["check", "--offline"]).ok();
    p.release(&["collect"])
        .ok()
        .out_has("nothing to collect: charts_list.yaml lists no component");
}

#[test]
fn a_submodule_outside_the_addons_does_not_stop_hotfix_or_tag() {
    // The real compass-release keeps `hack/lint/charts` as a submodule; with no version.yml in
    // this layout, nothing may read the whole tree as one.
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    let mut lint = sb.repo("cc/compass-release/hack/lint/charts");
    lint.write("README.md", "charts lint\n");
    lint.commit("lint");
    p.commit("lint charts as a submodule (an embedded repository: a gitlink)");
    assert!(p
        .git(&["ls-tree", "HEAD", "hack/lint/charts"])
        .starts_with("160000 commit"));
    edit_tenant_admin(&p, 5, Some("v1.2.1"));
    p.commit("tenant-admin v1.2.1");
    p.release(&["tag", "2.7.1", "--offline"]).ok();
    p.release(&["hotfix", "v2.7.0..v2.7.1", "--dry-run"])
        .ok()
        .out_has("tenant-admin         v1.2.0 -> v1.2.1");
}

#[test]
fn an_addon_version_that_goes_down_is_refused_on_its_line_and_below_an_older_line() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    // Lowered since the release before (v2.7.0 shipped tenant-admin v1.2.0).
    edit_tenant_admin(&p, 3, Some("v1.1.9"));
    p.commit("tenant-admin down");
    p.release(&["check", "--offline"])
        .fails(3)
        .out_has("chart-version-lowered")
        .out_has("tenant-admin v1.1.9 went down from v1.2.0 in v2.7.0");
    // Below an older line: 2.7 ships v1.2.5 as a hotfix release, master (2.8) still has v1.2.1.
    p.git(&["reset", "-q", "--hard", "v2.7.0"]);
    p.release(&["branch", "2.7"]).ok();
    p.git(&["checkout", "-q", "release-2.7"]);
    edit_tenant_admin(&p, 4, Some("v1.2.5"));
    p.commit("tenant-admin v1.2.5 on 2.7");
    p.release(&["tag", "2.7.1", "--offline"]).ok();
    p.git(&["checkout", "-q", "main"]);
    edit_tenant_admin(&p, 6, Some("v1.2.1"));
    p.commit("tenant-admin v1.2.1 on master");
    p.release(&["check", "--offline"])
        .fails(3)
        .out_has("chart-version-below-older-line")
        .out_has("addons/platform/tenant-admin.yaml");
}

#[test]
fn images_sync_copies_upstream_images_into_their_project_of_the_internal_registry() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    let upstream = TestRegistry::start(None);
    upstream.push(&sb, "docker/busybox:1.30.0", "busybox", None);
    upstream.push(&sb, "docker/alpine:3.7", "alpine", None);
    p.write(
        "images-lists/images_origin.yaml",
        &format!(
            "- src: {u}/docker/busybox\n  dest: library/busybox\n- src: {u}/docker/alpine\n  dest: library/alpine\n",
            u = upstream.host
        ),
    );
    p.commit("origins of the library images");
    let internal = TestRegistry::start(None);
    p.git(&["config", "release.registry", &internal.host]);
    p.release(&["images", "sync"]).ok();
    for image in ["library/busybox:1.30.0", "library/alpine:3.7"] {
        sb.skopeo_raw(&format!("docker://{}/{image}", internal.host));
    }
    // The product's own images are not mirrored: check names them missing, by project.
    p.release(&["check"])
        .fails(3)
        .out_has("image-missing")
        .out_has("release/app-admin:v0.3.29");
}

#[test]
fn a_bad_layout_or_placeholder_setting_is_a_clear_error() {
    let sb = Sandbox::new();
    let p = sb.caicloud_example();
    p.release_c(&["release.layout=caiclod"], &["check"])
        .fails(2)
        .err_has("setting release.layout `caiclod` is not a layout")
        .err_has("`helm`")
        .err_has("`caicloud`");
    p.release_c(
        &["release.placeholderProjects=registry_release"],
        &["images"],
    )
    .fails(2)
    .err_has("`registry_release` is not PLACEHOLDER=PROJECT");
    p.release_c(&["release.targetPathBase=../out"], &["collect"])
        .fails(2)
        .err_has("release.targetPathBase");
    assert_eq!(p.status(), "");
}

#[test]
fn hotfix_record_refuses_uncommitted_work_where_it_writes_before_any_package() {
    let sb = Sandbox::new();
    let mut p = sb.caicloud_example();
    edit_tenant_admin(&p, 5, Some("v1.2.1"));
    p.commit("tenant-admin v1.2.1");
    let out = sb.path("out");
    let run = p
        .release(&["hotfix", "v2.7.0", "--record", "--dry-run"])
        .ok();
    let name = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("package: "))
        .unwrap()
        .trim_end_matches(".tar.gz")
        .to_string();
    let date = &name[name.len() - 11..name.len() - 3];
    let notes = format!("release-hotfixes/2.7.0/{date}/{name}/NOTES.md");
    p.write(&notes, "review notes, not committed\n");
    p.release(&["hotfix", "v2.7.0", "--record", "-o", out.to_str().unwrap()])
        .fails(3)
        .err_has("uncommitted changes in paths hotfix --record writes")
        .err_has(&notes);
    assert!(!out.exists(), "no package was written");
    assert_eq!(p.read(&notes), "review notes, not committed\n");
    // --commit commits only a record.
    p.release(&["hotfix", "v2.7.0", "--commit", "-o", out.to_str().unwrap()])
        .fails(2)
        .err_has("--commit commits what --record writes");
    assert!(!out.exists());
}
