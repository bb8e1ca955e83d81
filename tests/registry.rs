//! Images in a real registry: Debian's `docker-registry` (distribution 2.8) started on
//! 127.0.0.1 with a free port, images built by the tests as OCI layouts and pushed with `skopeo`.
//! `.ci/run` installs both.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sha2::{Digest, Sha256};

use crate::util::{Repo, Sandbox};

/// A running registry; stopped when dropped.
pub struct TestRegistry {
    child: Child,
    /// `127.0.0.1:PORT`
    pub host: String,
    _dir: tempfile::TempDir,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestRegistry {
    /// Start a registry; with `user`, it asks for htpasswd basic auth.
    pub fn start(user: Option<(&str, &str)>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("storage").display()
        );
        if let Some((u, p)) = user {
            let hash = bcrypt::hash(p, 4).unwrap();
            std::fs::write(dir.path().join("htpasswd"), format!("{u}:{hash}\n")).unwrap();
            cfg.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian package docker-registry; .ci/run installs it)");
        for _ in 0..200 {
            if let Ok(mut s) = TcpStream::connect(&host) {
                let _ = write!(s, "GET /v2/ HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read(&mut buf).is_ok_and(|n| n > 0) {
                    return TestRegistry {
                        child,
                        host,
                        _dir: dir,
                    };
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("docker-registry did not start on {host}");
    }

    /// Push a one-layer image built from `seed` as `NAME:TAG` (with `creds` for an auth registry).
    pub fn push(&self, sb: &Sandbox, name_tag: &str, seed: &str, creds: Option<&str>) {
        let layout = oci_layout(sb.dir.path(), name_tag, seed);
        let mut c = sb.cmd("skopeo", sb.dir.path());
        c.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some(cr) = creds {
            c.args(["--dest-creds", cr]);
        }
        let out = c
            .arg(format!("oci:{}:latest", layout.display()))
            .arg(format!("docker://{}/{name_tag}", self.host))
            .output()
            .expect("skopeo (Debian package skopeo; .ci/run installs it)");
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn sha(b: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(b))
}

/// An OCI image layout with one image tagged `latest`: a gzipped tar layer holding a file whose
/// content derives from `seed`, a linux/amd64 config, a manifest.
fn oci_layout(base: &Path, name: &str, seed: &str) -> PathBuf {
    let dir = base.join(format!("layout-{}", name.replace(['/', ':'], "_")));
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let data = format!("content of {seed}\n").repeat(64);
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "data.txt", data.as_bytes())
        .unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let layer = gz.finish().unwrap();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#,
        sha(&raw)
    );
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}}"#,
        sha(config.as_bytes()),
        config.len(),
        sha(&layer),
        layer.len()
    );
    for blob in [layer.as_slice(), config.as_bytes(), manifest.as_bytes()] {
        let d = sha(blob);
        std::fs::write(blobs.join(d.trim_start_matches("sha256:")), blob).unwrap();
    }
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}]}}"#,
            sha(manifest.as_bytes()),
            manifest.len()
        ),
    )
    .unwrap();
    dir
}

fn pod(image: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: {image}\n")
}

/// A platform repo whose charts deploy three internal images (one mirrored from upstream) and
/// release.registry pointing at `host`.
fn platform<'a>(sb: &'a Sandbox, host: &str) -> Repo<'a> {
    let mut p = sb.repo("platform");
    p.write(
        ".gitrelease",
        &format!("[release]\n\tproduct = demo\n\tregistry = {host}/rel\n"),
    );
    p.write(
        "addons/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    );
    p.write(
        "addons/app/values.yaml",
        "registry: '[[ registry_release ]]'\n",
    );
    p.write(
        "addons/app/templates/a.yaml",
        &pod("{{ .Values.registry }}/release/app:1.0.0"),
    );
    p.write(
        "addons/app/templates/b.yaml",
        &pod("{{ .Values.registry }}/release/worker:1.0.0"),
    );
    p.write(
        "addons/app/templates/c.yaml",
        &pod("{{ .Values.registry }}/library/pause:3.9"),
    );
    p.write(
        "images/images_origin.yaml",
        "# upstream sources\n- src: registry.k8s.io/pause\n  dest: library/pause\n",
    );
    p.write(
        "images/images_platform.list",
        "[[ registry_release ]]/library/pause:3.9\n[[ registry_release ]]/release/app:1.0.0\n[[ registry_release ]]/release/worker:1.0.0\n",
    );
    p.commit("charts");
    p
}

#[test]
fn check_lists_every_missing_image_with_its_chart() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push(&sb, "rel/release/app:1.0.0", "app", None);
    let p = platform(&sb, &reg.host);
    let run = p.release(&["check"]).fails(3);
    let host = &reg.host;
    assert!(
        run.stdout.contains("image-missing (error)")
            && run.stdout.contains(&format!(
                "`{host}/rel/release/worker:1.0.0` is not in registry {host}, needed by addons/app/templates/b.yaml:8; push it"
            ))
            && run.stdout.contains(&format!(
                "`{host}/rel/library/pause:3.9` is not in registry {host}, needed by addons/app/templates/c.yaml:8; `git release images sync` copies it from registry.k8s.io/pause:3.9"
            ))
            && !run.stdout.contains("release/app:1.0.0` is not"),
        "{}",
        run.stdout
    );
    // Independent reader: skopeo sees the pushed image and not the missing one.
    let inspect = |img: &str| {
        sb.cmd("skopeo", sb.dir.path())
            .args(["inspect", "--tls-verify=false", "--raw"])
            .arg(format!("docker://{host}/{img}"))
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(inspect("rel/release/app:1.0.0") && !inspect("rel/release/worker:1.0.0"));
    // Push the rest: the rule passes.
    reg.push(&sb, "rel/release/worker:1.0.0", "worker", None);
    reg.push(&sb, "rel/library/pause:3.9", "pause", None);
    p.release(&["check"]).ok();
    // --offline skips the registry; so does turning the rule off.
    drop(reg);
    p.release(&["check", "--offline"]).ok();
    p.release_c(&["release.check.image-missing=off"], &["check"])
        .ok();
}

#[test]
fn an_unreachable_registry_is_a_failure_naming_it() {
    let sb = Sandbox::new();
    let port = free_port();
    let p = platform(&sb, &format!("127.0.0.1:{port}"));
    p.release(&["check"])
        .fails(1)
        .err_has(&format!("registry 127.0.0.1:{port} is unreachable"));
}

#[test]
fn basic_auth_from_docker_config() {
    let reg = TestRegistry::start(Some(("ci", "s3cret")));
    let sb = Sandbox::new();
    for (img, seed) in [
        ("rel/release/app:1.0.0", "app"),
        ("rel/release/worker:1.0.0", "worker"),
        ("rel/library/pause:3.9", "pause"),
    ] {
        reg.push(&sb, img, seed, Some("ci:s3cret"));
    }
    let p = platform(&sb, &reg.host);
    // No credentials: refused, and the message says which source was used.
    p.release(&["check"])
        .fails(1)
        .err_has(&format!("registry {}: 401 unauthorized", reg.host))
        .err_has("credentials: anonymous (no ");
    // docker's config.json in $HOME/.docker, as `docker login` writes it.
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret");
    std::fs::create_dir_all(sb.path(".docker")).unwrap();
    std::fs::write(
        sb.path(".docker/config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
    )
    .unwrap();
    p.release(&["check"]).ok();
    // A wrong password names the source it came from.
    let bad = base64::engine::general_purpose::STANDARD.encode("ci:wrong");
    std::fs::write(
        sb.path(".docker/config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{bad}"}}}}}}"#, reg.host),
    )
    .unwrap();
    p.release(&["check"])
        .fails(1)
        .err_has(&format!("credentials: auths[{}] in ", reg.host));
}

#[test]
fn images_show_internal_name_and_upstream_source() {
    let sb = Sandbox::new();
    let p = platform(&sb, "reg.local:5000");
    let run = p.release(&["images", "--why", "pause"]).ok();
    assert!(
        run.stdout.starts_with(
            "[[ registry_release ]]/library/pause:3.9  [platform]\n    = reg.local:5000/rel/library/pause:3.9\n    <- registry.k8s.io/pause:3.9 (images_origin.yaml)\n"
        ),
        "{}",
        run.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(&p.release(&["images", "--json"]).ok().stdout).unwrap();
    let lives: Vec<&str> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["lives"].as_str().unwrap())
        .collect();
    assert_eq!(lives, vec!["mirrored", "internal", "internal"]);
    // A bad origin file is bad input, with file and line.
    let mut p = p;
    p.write(
        "images/images_origin.yaml",
        "- src: a/b\n  dest: x\n- dest: c\n",
    );
    p.commit("bad origin");
    p.release(&["images"])
        .fails(2)
        .err_has("images/images_origin.yaml:3: entry needs `src` and `dest`");
}
