//! The site side, end to end (issue: push a package into the site's registry, verify it): two
//! real registries (the build side's internal one and the site's), packages of the example's two
//! lines (see `upgrade::two_lines`), `verify` and `push` run from outside any repository.

use std::path::{Path, PathBuf};

use crate::registry::{layer_digest, TestRegistry};
use crate::util::Sandbox;

fn json(run: &crate::util::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// `git release ARGS` in a folder that is no git repository (the site has only the package).
fn at_site(sb: &Sandbox, args: &[&str]) -> crate::util::Run {
    let dir = sb.path("site");
    std::fs::create_dir_all(&dir).unwrap();
    sb.release(&dir, args)
}

/// The one file in `dir`.
fn only(dir: &Path) -> PathBuf {
    let v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].clone()
}

/// `pkg` unpacked, `edit` applied to the file `rel` of its top folder, packed again as `out`.
fn tampered(
    sb: &Sandbox,
    pkg: &Path,
    rel: &str,
    out: &str,
    edit: impl FnOnce(&mut Vec<u8>),
) -> PathBuf {
    let x = sb.path(&format!("tamper-{out}"));
    sb.untar(pkg, &x);
    let top = only(&x);
    let file = top.join(rel);
    let mut data = std::fs::read(&file).unwrap();
    edit(&mut data);
    std::fs::write(&file, data).unwrap();
    let dest = sb.path(&format!("{out}.tar.gz"));
    let status = sb
        .cmd("tar", &x)
        .arg("czf")
        .arg(&dest)
        .arg(top.file_name().unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    dest
}

#[test]
fn a_package_is_verified_pushed_to_the_site_and_its_charts_written_for_it() {
    let build = TestRegistry::start(None);
    let site = TestRegistry::start(None);
    let sb = Sandbox::new();
    let p = crate::upgrade::two_lines(&sb, &build);
    // Signed with an ssh key, as `git tag -s` would sign.
    let keys = sb.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (key, allowed) = crate::git_settings::ssh_key(&sb, &keys);
    let sign = [
        "gpg.format=ssh".to_string(),
        format!("user.signingKey={key}"),
    ];
    let sign: Vec<&str> = sign.iter().map(String::as_str).collect();
    p.release_c(
        &sign,
        &["package", "v1.0.2", "--images", "--sign", "-o", "out"],
    )
    .ok();
    let pkg = p.path.join("out/demo-platform-v1.0.2.tar.gz");
    let pkg_s = pkg.to_str().unwrap();

    // verify, outside any repository: every file, every blob, both signatures.
    at_site(&sb, &["verify", pkg_s, "--allowed-signers", &allowed])
        .ok()
        .out_has("ok: the package is as it was built")
        .out_has("release.yaml: ssh signature of bot@example.com");
    // push refuses a signed package whose signature it cannot check.
    at_site(&sb, &["push", pkg_s, "--registry", &site.host])
        .fails(3)
        .err_has("nothing was pushed");
    // A flipped byte in a chart archive, in images.tar, in the manifest: each caught.
    let flip = |d: &mut Vec<u8>| {
        let i = d.len() / 2;
        d[i] ^= 0x20;
    };
    for (rel, what) in [
        (
            "charts/cyclone-0.10.1.tgz",
            "charts/cyclone-0.10.1.tgz: sha256",
        ),
        ("images/images.tar", "images/images.tar"),
        ("release.yaml", "release.yaml"),
    ] {
        let bad = tampered(&sb, &pkg, rel, &rel.replace('/', "_"), flip);
        let run = at_site(&sb, &["verify", bad.to_str().unwrap(), "--json"]).fails(3);
        let v = json(&run);
        let found = v["mismatches"].as_array().unwrap();
        assert!(
            found.iter().any(|m| m.as_str().unwrap().starts_with(what)),
            "{rel}: {v}"
        );
        // push refuses what verify refuses, and pushes nothing.
        at_site(
            &sb,
            &["push", bad.to_str().unwrap(), "--registry", &site.host],
        )
        .fails(3)
        .err_has("nothing was pushed");
    }

    // push: every image at the site under its path and tag, with the digest the manifest records.
    let charts = sb.path("charts");
    let site_name = format!("{}/platform", site.host);
    let run = at_site(
        &sb,
        &[
            "push",
            pkg_s,
            "--registry",
            &site_name,
            "--charts-out",
            charts.to_str().unwrap(),
            "--allowed-signers",
            &allowed,
            "--json",
        ],
    )
    .ok();
    let v = json(&run);
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 5, "{v}");
    let manifest: serde_yaml::Value = {
        let x = sb.path("x");
        sb.untar(&pkg, &x);
        serde_yaml::from_str(&std::fs::read_to_string(only(&x).join("release.yaml")).unwrap())
            .unwrap()
    };
    for i in images {
        let target = i["target"].as_str().unwrap();
        assert!(target.starts_with(&format!("{site_name}/")), "{target}");
        let source = i["source"].as_str().unwrap();
        let recorded = manifest["images"][source].as_str().unwrap();
        let raw = sb.skopeo_raw(&format!("docker://{target}"));
        let digest = format!(
            "sha256:{}",
            crate::registry::hex(&<sha2::Sha256 as sha2::Digest>::digest(&raw))
        );
        assert_eq!(digest, recorded, "{target}");
    }
    // Shared base layers travel once: mounted into the other repositories.
    let sent: u64 = images.iter().map(|i| i["pushed"].as_u64().unwrap()).sum();
    let mounted: u64 = images.iter().map(|i| i["mounted"].as_u64().unwrap()).sum();
    assert!(
        mounted >= 8,
        "the two base layers mounted into four more repositories: {v}"
    );
    assert_eq!(
        sent,
        2 + 5 + 5,
        "two bases, five own layers, five configs: {v}"
    );
    // The charts, filled in for the site: real Helm renders them with the site's names.
    let written: Vec<PathBuf> = v["charts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| PathBuf::from(c.as_str().unwrap()))
        .collect();
    assert_eq!(written.len(), 2, "{v}");
    let rendered = crate::util::helm_render(&written);
    let all = rendered.join("\n");
    assert!(!all.contains("[["), "{all}");
    assert!(
        all.contains(&format!("image: \"{site_name}/release/cyclone:v0.10.0\"")),
        "{all}"
    );
    assert!(all.contains(&format!("{site_name}/library/mongo")), "{all}");
    // Reproducible: a second push writes the same chart bytes and sends no blob.
    let before: Vec<Vec<u8>> = written.iter().map(|c| std::fs::read(c).unwrap()).collect();
    let again = json(
        &at_site(
            &sb,
            &[
                "push",
                pkg_s,
                "--registry",
                &site_name,
                "--charts-out",
                charts.to_str().unwrap(),
                "--allowed-signers",
                &allowed,
                "--json",
            ],
        )
        .ok(),
    );
    let sent: u64 = again["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pushed"].as_u64().unwrap() + i["mounted"].as_u64().unwrap())
        .sum();
    assert_eq!(sent, 0, "{again}");
    let after: Vec<Vec<u8>> = written.iter().map(|c| std::fs::read(c).unwrap()).collect();
    assert!(before == after, "the charts differ on a second push");

    // The upgrade to v1.1.0 sends only its new layers.
    p.release(&["upgrade", "v1.0.2", "v1.1.0", "--images", "-o", "up"])
        .ok();
    let up = only(&p.path.join("up"));
    at_site(&sb, &["verify", up.to_str().unwrap()]).ok();
    let v = json(
        &at_site(
            &sb,
            &[
                "push",
                up.to_str().unwrap(),
                "--registry",
                &site_name,
                "--json",
            ],
        )
        .ok(),
    );
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{v}");
    let sent: u64 = images.iter().map(|i| i["pushed"].as_u64().unwrap()).sum();
    // cyclone:v0.10.1: its own layer and config; redis: two layers and a config.
    assert_eq!(sent, 2 + 3, "{v}");
    for i in images {
        let target = i["target"].as_str().unwrap();
        let out = sb
            .cmd("skopeo", sb.dir.path())
            .args(["inspect", "--tls-verify=false"])
            .arg(format!("docker://{target}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A site that never received v1.0.2 lacks the layers the upgrade expects: each named.
    let empty = TestRegistry::start(None);
    let run = at_site(
        &sb,
        &[
            "push",
            up.to_str().unwrap(),
            "--registry",
            &format!("{}/platform", empty.host),
        ],
    )
    .fails(3);
    for base in ["base-os", "base-runtime"] {
        run.err_has(&format!("layer {} of", layer_digest(base)));
    }
    run.err_has("v1.0.2");
}

#[test]
fn an_unset_placeholder_is_named_before_anything_is_pushed() {
    let build = TestRegistry::start(None);
    let site = TestRegistry::start(None);
    let sb = Sandbox::new();
    let mut p = crate::upgrade::two_lines(&sb, &build);
    // A chart that also names the site's library registry, filled in at install time.
    p.write(
        "addons/redis/values.yaml",
        "image: '[[ registry_release ]]/library/redis:7.2'\nsidecar: '[[ registry_library ]]/busybox:1.37.0'\n",
    );
    p.write(
        "addons/redis/Chart.yaml",
        "apiVersion: v2\nname: redis\nversion: 7.2.1\n",
    );
    let v = p
        .read("version.yml")
        .replace("version: 7.2.0", "version: 7.2.1");
    p.write("version.yml", &v);
    p.commit("redis: a sidecar");
    p.release(&["package", "--images", "-o", "out"]).ok();
    let pkg = only(&p.path.join("out"));
    let charts = sb.path("charts");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "push",
            pkg.to_str().unwrap(),
            "--registry",
            site.host.as_str(),
            "--charts-out",
            charts.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let a = args(&[]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    at_site(&sb, &a)
        .fails(2)
        .err_has("[[ registry_library ]] (redis-7.2.1.tgz:values.yaml)")
        .err_has("--set");
    assert!(!charts.exists(), "nothing written");
    let a = args(&["--set", "registry_library=site.example/library"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    // A dry run says what it would push and write, and does neither.
    let mut dry = a.clone();
    dry.push("-n");
    at_site(&sb, &dry)
        .ok()
        .out_has("would push")
        .out_has("would write")
        .out_has("dry run: nothing pushed or written");
    assert!(!charts.exists(), "a dry run writes no chart");
    at_site(&sb, &a).ok();
    let redis = charts.join("redis-7.2.1.tgz");
    let all = crate::util::helm_render(&[redis]).join("\n");
    assert!(!all.contains("[["), "{all}");
}

#[test]
fn a_signed_package_verifies_with_ssh_keygen_alone_and_with_verify() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    let keys = sb.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (key, allowed) = crate::git_settings::ssh_key(&sb, &keys);
    let sign = [
        "gpg.format=ssh".to_string(),
        format!("user.signingKey={key}"),
    ];
    let sign: Vec<&str> = sign.iter().map(String::as_str).collect();
    p.release_c(&sign, &["package", "--sign", "-o", "out"]).ok();
    let pkg = p
        .path
        .join("out")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.extension().is_some_and(|x| x == "gz"))
        .unwrap();
    let sig = PathBuf::from(format!("{}.sig", pkg.display()));
    assert!(sig.is_file(), "the package's signature beside it");
    // The real tools alone: the package, and the manifest inside it.
    let x = sb.path("x");
    sb.untar(&pkg, &x);
    let top = only(&x);
    for (data, sig) in [
        (pkg.clone(), sig.clone()),
        (top.join("release.yaml"), top.join("release.yaml.sig")),
    ] {
        let out = sb
            .cmd("ssh-keygen", sb.dir.path())
            .args([
                "-Y",
                "verify",
                "-f",
                &allowed,
                "-I",
                "bot@example.com",
                "-n",
                "git-release",
                "-s",
            ])
            .arg(&sig)
            .stdin(std::fs::File::open(&data).unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            data.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout)
            .contains("Good \"git-release\" signature for bot@example.com"));
    }
    // verify, with the allowed signers given and from git's own setting.
    let pkg_s = pkg.to_str().unwrap();
    at_site(&sb, &["verify", pkg_s, "--allowed-signers", &allowed])
        .ok()
        .out_has("release.yaml: ssh signature of bot@example.com")
        .out_has(".tar.gz: ssh signature of bot@example.com");
    let dir = sb.path("site");
    let run = crate::util::Run::from(
        sb.cmd("git", &dir)
            .args([
                "-c",
                &format!("gpg.ssh.allowedSignersFile={allowed}"),
                "release",
                "verify",
                pkg_s,
            ])
            .output()
            .unwrap(),
    );
    run.ok().out_has("ssh signature of bot@example.com");
    // Another key: refused, both signatures named.
    let other = sb.path("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_, other_allowed) = crate::git_settings::ssh_key(&sb, &other);
    let run = at_site(&sb, &["verify", pkg_s, "--allowed-signers", &other_allowed]).fails(3);
    run.out_has("release.yaml.sig: ").out_has(".tar.gz.sig: ");
    // Signed, and nothing to check it against: not taken as verified.
    at_site(&sb, &["verify", pkg_s])
        .fails(3)
        .out_has("no allowed signers");
}

#[test]
fn every_package_carries_a_cyclonedx_sbom_that_validates() {
    let build = TestRegistry::start(None);
    let sb = Sandbox::new();
    let p = crate::upgrade::two_lines(&sb, &build);
    p.release(&["package", "v1.0.2", "--images", "-o", "full"])
        .ok();
    p.release(&["upgrade", "v1.0.2", "v1.1.0", "--images", "-o", "up"])
        .ok();
    p.release(&["hotfix", "v1.0.1..v1.0.2", "-o", "hot"]).ok();
    let mut seen = 0;
    for dir in ["full", "up", "hot"] {
        let pkg = only(&p.path.join(dir));
        let x = sb.path(&format!("sbom-{dir}"));
        sb.untar(&pkg, &x);
        let sbom = only(&x).join("sbom.cdx.json");
        if let Some(why) = crate::util::cyclonedx_invalid(&sbom) {
            panic!("{dir}: {why}");
        }
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&sbom).unwrap()).unwrap();
        assert_eq!(v["specVersion"], "1.5");
        assert_eq!(v["metadata"]["component"]["name"], "demo-platform");
        let comps = v["components"].as_array().unwrap();
        let charts: Vec<&serde_json::Value> = comps
            .iter()
            .filter(|c| c["type"] == "application")
            .collect();
        let images: Vec<&serde_json::Value> =
            comps.iter().filter(|c| c["type"] == "container").collect();
        match dir {
            "full" => {
                assert_eq!(v["metadata"]["component"]["version"], "v1.0.2");
                assert_eq!(charts.len(), 2, "{v}");
                // cyclone came from demo/cyclone at v0.10.0.
                let cyclone = charts.iter().find(|c| c["name"] == "cyclone").unwrap();
                let props = cyclone["properties"].as_array().unwrap();
                let prop = |n: &str| {
                    props
                        .iter()
                        .find(|p| p["name"] == n)
                        .map(|p| p["value"].as_str().unwrap().to_string())
                };
                assert_eq!(
                    prop("git-release:component").as_deref(),
                    Some("demo/cyclone")
                );
                assert_eq!(
                    prop("git-release:component-tag").as_deref(),
                    Some("v0.10.0")
                );
                assert_eq!(images.len(), 5, "{v}");
                // Each image with its digest and a pkg:oci purl; charts depend on their images.
                for i in &images {
                    assert_eq!(i["hashes"][0]["alg"], "SHA-256", "{i}");
                    assert!(i["purl"].as_str().unwrap().starts_with("pkg:oci/"), "{i}");
                }
                let deps = v["dependencies"].as_array().unwrap();
                let of = |r: &str| -> Vec<String> {
                    deps.iter()
                        .find(|d| d["ref"] == r)
                        .map(|d| {
                            d["dependsOn"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|x| x.as_str().unwrap().to_string())
                                .collect()
                        })
                        .unwrap_or_default()
                };
                assert_eq!(
                    of("chart:addons/cyclone@0.10.1").len(),
                    3,
                    "cyclone, templates, busybox: {v}"
                );
                assert_eq!(of("product:demo-platform@v1.0.2").len(), 2);
            }
            "up" => {
                assert_eq!(charts.len(), 2, "{v}");
                assert_eq!(images.len(), 2, "the images the upgrade carries: {v}");
            }
            _ => {
                assert_eq!(charts.len(), 1, "{v}");
            }
        }
        seen += 1;
    }
    assert_eq!(seen, 3);
    // The same package twice: the same SBOM bytes (within byte-identical packages).
    p.release(&["package", "v1.0.2", "--images", "-o", "full2"])
        .ok();
    assert_eq!(
        std::fs::read(only(&p.path.join("full"))).unwrap(),
        std::fs::read(only(&p.path.join("full2"))).unwrap()
    );
}

#[test]
fn packages_pull_by_the_lock_and_check_sees_a_moved_tag() {
    let build = TestRegistry::start(None);
    let sb = Sandbox::new();
    let mut p = crate::upgrade::two_lines(&sb, &build);
    let run = p.release(&["images", "--lock", "--json"]).ok();
    let v = json(&run);
    assert_eq!(v["locked"], 6, "{v}");
    let lock = p.read("images/images.lock");
    assert!(
        lock.contains("'[[ registry_release ]]/release/cyclone:v0.10.1':"),
        "{lock}"
    );
    p.commit("lock the images");
    p.release(&["package", "--images", "-o", "a"]).ok();
    let before = std::fs::read(only(&p.path.join("a"))).unwrap();
    // The tag moves in the registry: another image under the same name.
    build.push_layered(
        &sb,
        "rel/release/cyclone:v0.10.1",
        &["base-os", "rebuilt-cyclone"],
    );
    p.release(&["check", "HEAD"])
        .fails(3)
        .out_has("image-digest-moved")
        .out_has("release/cyclone:v0.10.1` names sha256:");
    // The package is built from the lock: the same bytes as before the move.
    p.release(&["package", "--images", "-o", "b"]).ok();
    let after = std::fs::read(only(&p.path.join("b"))).unwrap();
    assert!(before == after, "a moved tag changed the package");
    // A new image nobody locked.
    p.write(
        "addons/redis/values.yaml",
        "image: '[[ registry_release ]]/library/redis:7.3'\n",
    );
    p.commit("redis 7.3");
    p.release(&["check", "HEAD", "--offline"])
        .fails(3)
        .out_has("image-not-locked")
        .out_has("library/redis:7.3` is not in images/images.lock");
    // collect keeps the lock in line with the lists: the new image locked, the old one dropped,
    // every other entry as it was (the moved cyclone tag stays at its locked digest).
    build.push_layered(&sb, "rel/library/redis:7.3", &["alpine-base", "redis-7.3"]);
    let cyclone_before: String = lock
        .lines()
        .skip_while(|l| !l.contains("release/cyclone:v0.10.1"))
        .nth(1)
        .unwrap()
        .to_string();
    p.release(&["collect", "--commit"]).ok();
    let relocked = p.read("images/images.lock");
    assert!(relocked.contains("library/redis:7.3"), "{relocked}");
    assert!(!relocked.contains("library/redis:7.2"), "{relocked}");
    assert!(relocked.contains(&cyclone_before), "{relocked}");
    // (redis changed under its released version: that rule still fails, the lock is whole.)
    let run = p.release(&["check", "HEAD", "--offline"]).fails(3);
    assert!(!run.stdout.contains("image-not-locked"), "{}", run.stdout);
    run.out_has("chart-version-not-bumped");
}
