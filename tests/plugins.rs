//! Plugins (issue: plugin packages; seed 001's rules): `release-plugins/*.yaml` in the example,
//! `plugin list`, and each plugin rule of `check`, positive and negative, with the file and line
//! it reports.

use crate::util::{Repo, Sandbox};

fn plugin(name: &str, version: &str, port: u16, slots: &[(&str, &[&str])]) -> String {
    let mut modules = String::new();
    for (module, ss) in slots {
        modules.push_str(&format!(
            "  - name: {module}\n    sources: [\"/src/index.js\"]\n    slots:\n"
        ));
        for s in *ss {
            modules.push_str(&format!("    - {s}\n"));
        }
    }
    format!(
        "# {name}: a plugin of the plugin center\nmetadata:\n  name: {name}\n  alias: {name}\nspec:\n  class: {name}\n  version: {version}\n  compassRequirement: \">=v1.0.0\"\n  service:\n    port: {port}\n    image: \"[[ registry_release ]]/release/demo-platform-plugins-{name}:{version}\"\n    configs: {{envs: [], files: []}}\n  modules:\n{modules}"
    )
}

/// The example (which ships three plugins, one with two modules sharing a slot) collected and
/// released as v1.0.1.
fn with_plugins(sb: &Sandbox) -> Repo<'_> {
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    // The shipped example has the three plugins; they are what the helper writes.
    assert_eq!(
        p.read("release-plugins/gpu-manager.yaml"),
        plugin(
            "gpu-manager",
            "v0.1.3",
            9999,
            &[("gpu-manager", &["system.plugin_center", "gpu.panel"])]
        )
    );
    p.git(&["tag", "-a", "-m", "v1.0.1", "v1.0.1"]);
    p
}

fn check(p: &Repo, config: &[&str]) -> crate::util::Run {
    p.release_c(config, &["check", "--offline"])
}

#[test]
fn plugin_list_and_the_rules_each_way() {
    let sb = Sandbox::new();
    let mut p = with_plugins(&sb);
    // list: every plugin with what the rules read.
    let run = p.release(&["plugin", "list"]).ok();
    run.out_has("gpu-manager  v0.1.3")
        .out_has("system.plugin_center,gpu.panel")
        .out_has("9100");
    let v: serde_json::Value =
        serde_json::from_str(&p.release(&["plugin", "list", "--json"]).ok().stdout).unwrap();
    let plugins = v["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), 3);
    assert_eq!(plugins[1]["name"], "gpu-manager");
    assert_eq!(plugins[1]["port_line"], 10);
    // Clean: no plugin finding (two modules of one plugin share logs.panel: allowed).
    let run = check(&p, &[]).ok();
    assert!(!run.stdout.contains("plugin-"), "{}", run.stdout);

    // plugin-port-conflict: both files and lines named.
    let log = p.read("release-plugins/log-viewer.yaml");
    p.write(
        "release-plugins/log-viewer.yaml",
        &log.replace("port: 9100", "port: 9999"),
    );
    check(&p, &[])
        .fails(3)
        .out_has("plugin-port-conflict")
        .out_has("port 9999 is claimed by gpu-manager (release-plugins/gpu-manager.yaml:10) and log-viewer (release-plugins/log-viewer.yaml:10)");
    p.write("release-plugins/log-viewer.yaml", &log);

    // plugin-slot-conflict: a slot of another plugin; allowed once release.sharedSlots lists it.
    let backup = p.read("release-plugins/backup.yaml");
    p.write(
        "release-plugins/backup.yaml",
        &backup.replace("- backup.panel", "- gpu.panel"),
    );
    check(&p, &[])
        .fails(3)
        .out_has("plugin-slot-conflict")
        .out_has("release-plugins/gpu-manager.yaml:18: slot gpu.panel is claimed by modules of 2 plugins: backup/backup (release-plugins/backup.yaml:17), gpu-manager/gpu-manager (release-plugins/gpu-manager.yaml:18)");
    let run = check(&p, &["release.sharedSlots=system.plugin_center gpu.panel"]);
    assert!(
        !run.stdout.contains("plugin-slot-conflict"),
        "{}",
        run.stdout
    );
    p.write("release-plugins/backup.yaml", &backup);

    // plugin-image-format: the expected reference named; release.registry's own name passes.
    p.write(
        "release-plugins/backup.yaml",
        &backup.replace("demo-platform-plugins-backup:v0.2.0", "backup:v0.2.0"),
    );
    check(&p, &[])
        .fails(3)
        .out_has("release-plugins/backup.yaml:11: plugin backup: spec.service.image `[[ registry_release ]]/release/backup:v0.2.0`, expected `[[ registry_release ]]/release/demo-platform-plugins-backup:v0.2.0`");
    p.write(
        "release-plugins/backup.yaml",
        &backup.replace("[[ registry_release ]]", "registry.local:5000/rel"),
    );
    let run = check(&p, &["release.registry=registry.local:5000/rel"]);
    assert!(
        !run.stdout.contains("plugin-image-format"),
        "{}",
        run.stdout
    );
    p.write("release-plugins/backup.yaml", &backup);

    // image-tag-mutable applies to plugin images.
    p.write(
        "release-plugins/backup.yaml",
        &backup.replace(
            "demo-platform-plugins-backup:v0.2.0",
            "demo-platform-plugins-backup:latest",
        ),
    );
    check(&p, &[])
        .fails(3)
        .out_has("image-tag-mutable")
        .out_has("release-plugins/backup.yaml:11: plugin backup: `[[ registry_release ]]/release/demo-platform-plugins-backup:latest` is on the moving tag `latest`");
    p.write("release-plugins/backup.yaml", &backup);

    // plugin-version-not-bumped: changed since v1.0.1 under its version; raised, it passes.
    p.write(
        "release-plugins/backup.yaml",
        &backup.replace("files: []", "files: [/etc/backup.conf]"),
    );
    p.commit("backup: a config file");
    check(&p, &[])
        .fails(3)
        .out_has("plugin-version-not-bumped")
        .out_has("release-plugins/backup.yaml:7: plugin backup changed since v1.0.1 but kept spec.version v0.2.0");
    let bumped = p
        .read("release-plugins/backup.yaml")
        .replace("v0.2.0", "v0.2.1");
    p.write("release-plugins/backup.yaml", &bumped);
    p.commit("backup v0.2.1");
    let run = check(&p, &[]).ok();
    assert!(!run.stdout.contains("plugin-"), "{}", run.stdout);

    // plugin-version-lowered.
    let lowered = p
        .read("release-plugins/gpu-manager.yaml")
        .replace("v0.1.3", "v0.1.2");
    p.write("release-plugins/gpu-manager.yaml", &lowered);
    p.commit("gpu-manager back to v0.1.2");
    check(&p, &[])
        .fails(3)
        .out_has("plugin-version-lowered")
        .out_has("release-plugins/gpu-manager.yaml:7: plugin gpu-manager went down from v0.1.3 in v1.0.1 to v0.1.2");

    // A plugin file that is not one: file and line, exit 2.
    p.write(
        "release-plugins/broken.yaml",
        "metadata:\n  name: broken\nspec:\n  version: 2\n",
    );
    p.commit("broken");
    check(&p, &[])
        .fails(2)
        .err_has("release-plugins/broken.yaml:4: spec.version `2` is not a plugin version");
}

#[test]
fn plugin_package_with_its_image_verifies_and_is_reproducible() {
    let reg = crate::registry::TestRegistry::start(None);
    let sb = Sandbox::new();
    let mut p = with_plugins(&sb);
    let settings = p.read(".gitrelease");
    p.write(
        ".gitrelease",
        &format!("{settings}\tregistry = {}/rel\n", reg.host),
    );
    p.commit("the internal registry");
    // Plugin images are looked up like the charts' (image-missing), each with its plugin file.
    p.release(&["check", "HEAD"])
        .fails(3)
        .out_has("image-missing")
        .out_has("/rel/release/demo-platform-plugins-gpu-manager:v0.1.3` is not in registry")
        .out_has("needed by release-plugins/gpu-manager.yaml:11");
    reg.push_layered(
        &sb,
        "rel/release/demo-platform-plugins-gpu-manager:v0.1.3",
        &["base-os", "gpu-manager"],
    );
    let run = p.release(&["check", "HEAD"]).fails(3);
    assert!(
        !run.stdout
            .contains("plugins-gpu-manager:v0.1.3` is not in registry"),
        "{}",
        run.stdout
    );
    let run = p
        .release(&[
            "plugin",
            "package",
            "gpu-manager",
            "--images",
            "-o",
            "out",
            "--json",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let pkg = p
        .path
        .join("out/demo-platform-plugins-gpu-manager-v0.1.3.tar.gz");
    assert_eq!(
        v["package"]["path"],
        pkg.display()
            .to_string()
            .replace(&format!("{}/", p.path.display()), "")
    );
    let names = sb.tar_names(&pkg);
    for want in [
        "demo-platform-plugins-gpu-manager-v0.1.3/demo-platform-plugins-gpu-manager.yaml",
        "demo-platform-plugins-gpu-manager-v0.1.3/images/images.tar",
        "demo-platform-plugins-gpu-manager-v0.1.3/sbom.cdx.json",
        "demo-platform-plugins-gpu-manager-v0.1.3/plugin-package.yaml",
    ] {
        assert!(names.contains(&want.to_string()), "{want}: {names:?}");
    }
    // The plugin file as committed, byte for byte.
    let x = sb.path("x");
    sb.untar(&pkg, &x);
    let top = x.join("demo-platform-plugins-gpu-manager-v0.1.3");
    assert_eq!(
        std::fs::read_to_string(top.join("demo-platform-plugins-gpu-manager.yaml")).unwrap(),
        p.read("release-plugins/gpu-manager.yaml")
    );
    // skopeo reads the image back; verify takes the package like any other.
    let out = sb
        .cmd("skopeo", sb.dir.path())
        .args(["inspect", "--raw"])
        .arg(format!(
            "oci-archive:{}:{}/rel/release/demo-platform-plugins-gpu-manager:v0.1.3",
            top.join("images/images.tar").display(),
            reg.host
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p.release(&["verify", pkg.to_str().unwrap()])
        .ok()
        .out_has("ok: the package is as it was built");
    // push takes it like any package: the image lands at the site under its path and tag.
    let site = crate::registry::TestRegistry::start(None);
    let v: serde_json::Value = serde_json::from_str(
        &p.release(&[
            "push",
            pkg.to_str().unwrap(),
            "--registry",
            &site.host,
            "--json",
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(
        v["images"][0]["target"],
        format!(
            "{}/release/demo-platform-plugins-gpu-manager:v0.1.3",
            site.host
        )
    );
    // A second run: the same bytes.
    p.release(&[
        "plugin",
        "package",
        "gpu-manager",
        "--images",
        "-o",
        "again",
    ])
    .ok();
    assert!(
        std::fs::read(&pkg).unwrap()
            == std::fs::read(
                p.path
                    .join("again/demo-platform-plugins-gpu-manager-v0.1.3.tar.gz")
            )
            .unwrap(),
        "a second run differs"
    );
    // A plugin that fails its rules is not packaged; an unknown one is named.
    let log = p.read("release-plugins/log-viewer.yaml");
    p.write(
        "release-plugins/log-viewer.yaml",
        &log.replace("port: 9100", "port: 9999"),
    );
    p.commit("log-viewer on gpu-manager's port");
    p.release(&["plugin", "package", "log-viewer", "-o", "bad"])
        .fails(3)
        .err_has("plugin log-viewer fails its rules: plugin-port-conflict");
    assert!(!p.path.join("bad").exists());
    p.release(&["plugin", "package", "nope"])
        .fails(2)
        .err_has("no plugin `nope`")
        .err_has("backup, gpu-manager, log-viewer");
}

#[test]
fn plugin_bump_changes_the_two_values_and_nothing_else() {
    let sb = Sandbox::new();
    let mut p = with_plugins(&sb);
    let before = p.read("release-plugins/backup.yaml");
    // A change to the plugin, then the bump the rules ask for.
    p.write(
        "release-plugins/backup.yaml",
        &before.replace("files: []", "files: [/etc/backup.conf]"),
    );
    p.commit("backup: a config file");
    let edited = p.read("release-plugins/backup.yaml");
    p.release(&["plugin", "bump", "backup", "--dry-run"])
        .ok()
        .out_has("release-plugins/backup.yaml: v0.2.0 -> v0.2.1");
    assert_eq!(
        p.read("release-plugins/backup.yaml"),
        edited,
        "a dry run writes nothing"
    );
    p.release(&["plugin", "bump", "backup", "--commit"]).ok();
    let after = p.read("release-plugins/backup.yaml");
    assert_eq!(
        after,
        edited.replace("v0.2.0", "v0.2.1"),
        "only the version and the image tag"
    );
    assert_eq!(p.status(), "");
    assert_eq!(
        p.git(&["log", "-1", "--format=%s"]).trim(),
        "plugin backup: v0.2.0 -> v0.2.1"
    );
    let run = p.release(&["check", "HEAD", "--offline"]).ok();
    assert!(!run.stdout.contains("plugin-"), "{}", run.stdout);
    // --minor and --major.
    p.release(&["plugin", "bump", "gpu-manager", "--minor", "--commit"])
        .ok();
    assert!(p
        .read("release-plugins/gpu-manager.yaml")
        .contains("version: v0.2.0"));
    assert!(p
        .read("release-plugins/gpu-manager.yaml")
        .contains("demo-platform-plugins-gpu-manager:v0.2.0\""));
    p.release(&["plugin", "bump", "gpu-manager", "--major", "--json"])
        .ok()
        .out_has("\"to\": \"v1.0.0\"");
    // diff and log list plugin changes beside chart changes.
    p.release(&["diff", "v1.0.1", "HEAD"]).ok().out_has(
        "plugin  backup  v0.2.0 -> v0.2.1  [[ registry_release ]]/release/demo-platform-plugins-backup:v0.2.1",
    );
    p.git(&["tag", "-a", "-m", "v1.0.2", "v1.0.2"]);
    let log = p.release(&["log"]).ok();
    log.out_has("    plugin  gpu-manager  v0.1.3 -> v0.2.0");
    let v: serde_json::Value =
        serde_json::from_str(&p.release(&["log", "--json"]).ok().stdout).unwrap();
    assert_eq!(v["entries"][0]["plugins"][0]["name"], "backup");
    assert_eq!(v["entries"][0]["plugins"][0]["to"], "v0.2.1");
}

#[test]
fn tag_refuses_a_port_conflict_and_an_unmet_requirement() {
    let sb = Sandbox::new();
    let mut p = with_plugins(&sb);
    let log = p.read("release-plugins/log-viewer.yaml");
    p.write(
        "release-plugins/log-viewer.yaml",
        &log.replace("port: 9100", "port: 9999"),
    );
    p.commit("log-viewer on gpu-manager's port");
    p.release(&["tag", "1.0.2", "--offline"])
        .fails(3)
        .err_has("plugin-port-conflict")
        .err_has("port 9999 is claimed by gpu-manager");
    p.write("release-plugins/log-viewer.yaml", &log);
    // backup asks for a product of at least v2.0.0: tagging v1.0.2 is refused, naming it.
    let backup = p.read("release-plugins/backup.yaml");
    p.write(
        "release-plugins/backup.yaml",
        &backup
            .replace(">=v1.0.0", ">=v2.0.0")
            .replace("v0.2.0", "v0.2.1"),
    );
    p.commit("backup needs v2");
    p.release(&["tag", "1.0.2", "--offline"])
        .fails(3)
        .err_has("plugin-requirement-unmet")
        .err_has("plugin backup requires compassRequirement `>=v2.0.0`, which v1.0.2 is not");
    assert!(!p.git(&["tag"]).contains("v1.0.2"));
    // Within the requirement: tagged.
    p.release(&["tag", "2.0.0", "--offline"]).ok();
    assert!(p.git(&["tag"]).contains("v2.0.0"));
}

#[test]
fn check_history_finds_a_plugin_version_released_twice_with_other_content() {
    let sb = Sandbox::new();
    let mut p = with_plugins(&sb);
    let backup = p.read("release-plugins/backup.yaml");
    p.write(
        "release-plugins/backup.yaml",
        &backup.replace("files: []", "files: [/etc/backup.conf]"),
    );
    p.commit("backup changed, not bumped");
    p.git(&["tag", "-a", "-m", "v1.0.2", "v1.0.2"]);
    let run = p.release(&["check", "--history", "--offline"]).fails(3);
    run.out_has("plugin-version-reused")
        .out_has("plugin backup v0.2.0 has 2 contents: in v1.0.0, v1.0.1 and in v1.0.2");
    // Without --history the rule does not run.
    let run = p.release(&["check", "HEAD", "--offline"]).fails(3);
    assert!(
        !run.stdout.contains("plugin-version-reused"),
        "{}",
        run.stdout
    );
}
