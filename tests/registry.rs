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
    /// Its configuration and storage.
    pub _dir: tempfile::TempDir,
    /// The token server of a registry with bearer-token auth.
    pub token: Option<TokenServer>,
}

/// How a test registry authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// Anyone may pull and push.
    None,
    /// htpasswd basic auth for `(user, password)`.
    Basic(&'a str, &'a str),
    /// Bearer tokens (the Docker token protocol, as Docker Hub, Harbor and GHCR use) from a
    /// token server that takes basic auth for `(user, password)`.
    Token(&'a str, &'a str),
}

/// A token server for distribution's `auth.token`: answers `GET /token?service=…&scope=…` with
/// basic auth by a JWT (RS256, signed with `openssl dgst`, its certificate in the `x5c` header)
/// granting the scopes asked for; 401 otherwise. Runs on a thread of the test; counts requests.
pub struct TokenServer {
    /// Token requests answered with a token.
    pub issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// The request line and headers of an HTTP/1.1 request, up to the blank line (read a byte at a
/// time, so nothing of a body is taken).
fn request_head(conn: &mut std::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenServer {
    /// Start on a free port; keys and certificate go into `dir`. Returns the server and its URL.
    fn start(dir: &Path, user: &str, password: &str) -> (Self, String) {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=token",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .expect("openssl (Debian package openssl; .ci/run installs it)");
        assert!(ok.success(), "openssl req failed");
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap()
            .stdout;
        use base64::Engine as _;
        let x5c = base64::engine::general_purpose::STANDARD.encode(der);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = issued.clone();
        let user = user.to_string();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let head = request_head(&mut conn);
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let authorized = head.lines().any(|l| {
                    l.split_once(':').is_some_and(|(k, v)| {
                        k.eq_ignore_ascii_case("authorization") && v.trim() == expected
                    })
                });
                if !authorized {
                    let _ = conn.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                }
                let query = target.split_once('?').map(|x| x.1).unwrap_or("");
                let mut service = String::new();
                let mut access = Vec::new();
                for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
                    let v = v
                        .replace("%3A", ":")
                        .replace("%2F", "/")
                        .replace("%2C", ",")
                        .replace('+', " ");
                    match k {
                        "service" => service = v,
                        "scope" => {
                            for scope in v.split(' ') {
                                let parts: Vec<&str> = scope.splitn(2, ':').collect();
                                if let [kind, rest] = parts.as_slice() {
                                    if let Some((name, actions)) = rest.rsplit_once(':') {
                                        access.push(serde_json::json!({
                                            "type": kind, "name": name,
                                            "actions": actions.split(',').collect::<Vec<_>>(),
                                        }));
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [x5c]});
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let claims = serde_json::json!({
                    "iss": "test-issuer", "sub": user, "aud": service,
                    "exp": now + 600, "nbf": now - 60, "iat": now - 60, "jti": format!("t{n}"),
                    "access": access,
                });
                let input = format!(
                    "{}.{}",
                    b64url(header.to_string().as_bytes()),
                    b64url(claims.to_string().as_bytes())
                );
                let mut sign = Command::new("openssl")
                    .args(["dgst", "-sha256", "-sign"])
                    .arg(&key)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                sign.stdin
                    .take()
                    .unwrap()
                    .write_all(input.as_bytes())
                    .unwrap();
                let sig = sign.wait_with_output().unwrap().stdout;
                let token = format!("{input}.{}", b64url(&sig));
                let body =
                    serde_json::json!({"token": token, "access_token": token, "expires_in": 600})
                        .to_string();
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (TokenServer { issued }, url)
    }
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
    /// Start a registry on 127.0.0.1; with `user`, it asks for htpasswd basic auth.
    pub fn start(user: Option<(&str, &str)>) -> Self {
        Self::start_on("127.0.0.1", user)
    }

    /// Start a registry on loopback address `ip` (127.0.0.2 is not insecure by default).
    pub fn start_on(ip: &str, user: Option<(&str, &str)>) -> Self {
        Self::start_with(ip, user.map_or(Auth::None, |(u, p)| Auth::Basic(u, p)))
    }

    /// Start a registry on loopback address `ip` with `auth`.
    pub fn start_with(ip: &str, auth: Auth<'_>) -> Self {
        let dir = tempfile::tempdir_in(crate::util::temp_root()).unwrap();
        let port = free_port();
        let host = format!("{ip}:{port}");
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("storage").display()
        );
        let mut token = None;
        match auth {
            Auth::None => {}
            Auth::Basic(u, p) => {
                let hash = bcrypt::hash(p, 4).unwrap();
                std::fs::write(dir.path().join("htpasswd"), format!("{u}:{hash}\n")).unwrap();
                cfg.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                ));
            }
            Auth::Token(u, p) => {
                let (server, url) = TokenServer::start(dir.path(), u, p);
                cfg.push_str(&format!(
                    "auth:\n  token:\n    realm: {url}\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: {}\n",
                    dir.path().join("token.crt").display()
                ));
                token = Some(server);
            }
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
                        token,
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
        self.push_arches(sb, name_tag, seed, creds, &[]);
    }

    /// Push the three images [`platform`]'s charts deploy (app, worker, pause).
    pub fn push_platform_images(&self, sb: &Sandbox, creds: Option<&str>) {
        for (img, seed) in [
            ("rel/release/app:1.0.0", "app"),
            ("rel/release/worker:1.0.0", "worker"),
            ("rel/library/pause:3.9", "pause"),
        ] {
            self.push(sb, img, seed, creds);
        }
    }

    /// Push an image index with one image per architecture in `arches` (a plain image when empty).
    pub fn push_arches(
        &self,
        sb: &Sandbox,
        name_tag: &str,
        seed: &str,
        creds: Option<&str>,
        arches: &[&str],
    ) {
        let layout = oci_layout_arches(sb.dir.path(), name_tag, seed, arches);
        let mut c = sb.cmd("skopeo", sb.dir.path());
        c.args(["copy", "--all", "--quiet", "--dest-tls-verify=false"]);
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

impl TestRegistry {
    /// Push `NAME:TAG` as a linux/amd64 image of one layer per entry of `layers` (each a tar.gz
    /// of one file made from its seed: the same seed gives the same layer, so images share
    /// layers as images built on one base do).
    pub fn push_layered(&self, sb: &Sandbox, name_tag: &str, layers: &[&str]) {
        let dir = sb
            .dir
            .path()
            .join(format!("layered-{}", name_tag.replace(['/', ':'], "_")));
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let mut raws = Vec::new();
        let mut descs = Vec::new();
        for seed in layers {
            let (raw, layer) = layer_bytes(seed);
            descs.push(format!(
                r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}"#,
                sha(&layer),
                layer.len()
            ));
            std::fs::write(
                blobs.join(sha(&layer).trim_start_matches("sha256:")),
                &layer,
            )
            .unwrap();
            raws.push(format!("\"{}\"", sha(&raw)));
        }
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}},"config":{{}}}}"#,
            raws.join(",")
        );
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{}]}}"#,
            sha(config.as_bytes()),
            config.len(),
            descs.join(",")
        );
        for blob in [config.as_bytes(), manifest.as_bytes()] {
            std::fs::write(blobs.join(sha(blob).trim_start_matches("sha256:")), blob).unwrap();
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
        let out = sb
            .cmd("skopeo", sb.dir.path())
            .args(["copy", "--quiet", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:latest", dir.display()))
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

/// The digest (`sha256:…`) of the layer [`TestRegistry::push_layered`] makes from `seed`.
pub fn layer_digest(seed: &str) -> String {
    sha(&layer_bytes(seed).1)
}

/// The uncompressed tar and the tar.gz of the layer made from `seed` (one file of 8 KiB or so).
fn layer_bytes(seed: &str) -> (Vec<u8>, Vec<u8>) {
    let mut tar = tar::Builder::new(Vec::new());
    let data = format!("layer {seed}\n").repeat(512);
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, format!("{seed}.txt"), data.as_bytes())
        .unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let layer = gz.finish().unwrap();
    (raw, layer)
}

fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(b)))
}

/// Layer, config and manifest blobs of a one-layer image for `arch` into `blobs`; returns the
/// manifest bytes.
fn image_blobs(blobs: &Path, seed: &str, arch: &str) -> String {
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
        r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#,
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
    manifest
}

/// An OCI image layout tagged `latest`: one linux/amd64 image, or with `arches` an image index of
/// one image per architecture.
fn oci_layout_arches(base: &Path, name: &str, seed: &str, arches: &[&str]) -> PathBuf {
    let dir = base.join(format!("layout-{}", name.replace(['/', ':'], "_")));
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let (media, top) = if arches.is_empty() {
        (
            "application/vnd.oci.image.manifest.v1+json",
            image_blobs(&blobs, seed, "amd64"),
        )
    } else {
        let entries: Vec<String> = arches
            .iter()
            .map(|a| {
                let m = image_blobs(&blobs, &format!("{seed}-{a}"), a);
                format!(
                    r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"platform":{{"architecture":"{a}","os":"linux"}}}}"#,
                    sha(m.as_bytes()),
                    m.len()
                )
            })
            .collect();
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
            entries.join(",")
        );
        std::fs::write(
            blobs.join(sha(index.as_bytes()).trim_start_matches("sha256:")),
            &index,
        )
        .unwrap();
        ("application/vnd.oci.image.index.v1+json", index)
    };
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{media}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}]}}"#,
            sha(top.as_bytes()),
            top.len()
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
fn an_unreachable_registry_is_a_finding_naming_it() {
    let sb = Sandbox::new();
    let port = free_port();
    let p = platform(&sb, &format!("127.0.0.1:{port}"));
    p.release(&["check"])
        .fails(3)
        .out_has("registry-unreachable (error)")
        .out_has(&format!(
            "registry 127.0.0.1:{port} could not be reached, so 3 image(s) were not looked up"
        ))
        .out_has("Connection refused");
}

/// Write `$HOME/.docker/config.json` with `user:password` for `host`, as `docker login` does.
fn docker_login(sb: &Sandbox, host: &str, user_password: &str) {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(user_password);
    std::fs::create_dir_all(sb.path(".docker")).unwrap();
    std::fs::write(
        sb.path(".docker/config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
}

#[test]
fn basic_auth_from_docker_config() {
    let reg = TestRegistry::start(Some(("ci", "s3cret")));
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, Some("ci:s3cret"));
    let p = platform(&sb, &reg.host);
    // No credentials: refused, and the message says which source was used.
    p.release(&["check"])
        .fails(1)
        .err_has(&format!("registry {}: 401 unauthorized", reg.host))
        .err_has("credentials: anonymous (no ");
    // docker's config.json in $HOME/.docker, as `docker login` writes it.
    docker_login(&sb, &reg.host, "ci:s3cret");
    p.release(&["check"]).ok();
    // A wrong password names the source it came from.
    docker_login(&sb, &reg.host, "ci:wrong");
    p.release(&["check"])
        .fails(1)
        .err_has(&format!("credentials: auths[{}] in ", reg.host));
}

#[test]
fn ctrl_c_mid_pull_leaves_no_package_and_the_next_run_finishes() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    let p = platform(&sb, &reg.host);
    let cache = p.path.join(".git/release/blobs/sha256");
    let out = p.path.join("out");
    // SIGINT (what Ctrl-C sends) as the first blob is flushed to disk, before it is renamed into
    // the cache: the run dies mid-pull with at least that blob's temporary file on disk.
    let killed = crate::hardening::strace_signal_at(
        &sb,
        &p.path,
        "fsync,fdatasync",
        1,
        "SIGINT",
        &[
            "git-release-package",
            "--images",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_ne!(killed.code, 0, "{}", killed.stderr);
    let partial: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".git-release-tmp-"))
        .collect();
    assert!(!partial.is_empty(), "the interrupted download is on disk");
    assert!(
        !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
        "no package, no temporary"
    );
    // The next run removes the partial download and finishes; same bytes as a clean run.
    let run = p.release(&["package", "--images", "-o", "out"]).ok();
    run.err_has("left by an interrupted run");
    let left: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".git-release-tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let name = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    std::fs::remove_dir_all(&cache).unwrap();
    p.release(&["package", "--images", "-o", "clean"]).ok();
    assert_eq!(
        std::fs::read(out.join(&name)).unwrap(),
        std::fs::read(p.path.join("clean").join(&name)).unwrap(),
        "an interrupted run changes nothing in what is packaged"
    );
}

#[test]
fn credential_helpers_and_docker_config_env() {
    let reg = TestRegistry::start(Some(("ci", "s3cret")));
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, Some("ci:s3cret"));
    let p = platform(&sb, &reg.host);
    // A credential helper on PATH, as `docker login` with credHelpers uses: `get` reads the
    // server on stdin and prints the credential.
    let bin = sb.path("helpers");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-testvault");
    std::fs::write(
        &helper,
        "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" >> \"$(dirname \"$0\")/asked\"\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"ci\",\"Secret\":\"s3cret\"}' \"$server\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        sb.bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // $DOCKER_CONFIG names the folder of config.json (as docker, skopeo and helm read it).
    let conf = sb.path("dockerconf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"testvault"}}}}"#, reg.host),
    )
    .unwrap();
    let run = |args: &[&str]| {
        crate::util::Run::from(
            sb.cmd("git", &p.path)
                .arg("release")
                .args(args)
                .env("PATH", &path)
                .env("DOCKER_CONFIG", &conf)
                .output()
                .unwrap(),
        )
    };
    run(&["check"]).ok();
    let asked = std::fs::read_to_string(bin.join("asked")).unwrap();
    assert!(asked.contains(&reg.host), "{asked}");
    // credsStore: the default helper for every registry without its own.
    std::fs::write(conf.join("config.json"), r#"{"credsStore":"testvault"}"#).unwrap();
    run(&["check"]).ok();
    // A helper that says no: the error names the helper that was asked.
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\necho 'credentials not found in native keychain'\nexit 1\n",
    )
    .unwrap();
    run(&["check"])
        .fails(1)
        .err_has("credentials: ")
        .err_has("docker-credential-testvault");
}

#[test]
fn a_corrupt_registry_blob_is_never_stored_or_packed() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    let p = platform(&sb, &reg.host);
    // Rot one layer inside the registry's own storage (same size, one byte flipped): it still
    // serves it under the old digest.
    let blobs = reg
        ._dir
        .path()
        .join("storage/docker/registry/v2/blobs/sha256");
    let mut datas = Vec::new();
    let mut stack = vec![blobs];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e.file_name() == "data" {
                datas.push(e.path());
            }
        }
    }
    // A layer: gzip data (configs and manifests are JSON).
    let layer = datas
        .iter()
        .find(|d| std::fs::read(d).unwrap().starts_with(&[0x1f, 0x8b]))
        .unwrap();
    let mut bytes = std::fs::read(layer).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(layer, &bytes).unwrap();
    let run = p.release(&["package", "--images", "-o", "out"]).fails(1);
    run.err_has("arrived with content hashing to sha256:")
        .err_has("not stored");
    assert!(
        !p.path.join("out").exists()
            || std::fs::read_dir(p.path.join("out"))
                .unwrap()
                .next()
                .is_none()
    );
    let cache = p.path.join(".git/release/blobs/sha256");
    let hex = layer.parent().unwrap().file_name().unwrap().to_owned();
    assert!(
        !cache.join(&hex).exists(),
        "the corrupt blob is not in the cache"
    );
}

#[test]
fn bearer_token_auth_from_docker_config() {
    let reg = TestRegistry::start_with("127.0.0.1", Auth::Token("ci", "t0ken"));
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, Some("ci:t0ken"));
    let p = platform(&sb, &reg.host);
    // No credentials: the token server refuses, and the message says which source was used.
    p.release(&["check"])
        .fails(1)
        .err_has(&format!("registry {}: ", reg.host))
        .err_has("credentials: anonymous (no ");
    docker_login(&sb, &reg.host, "ci:t0ken");
    let issued = reg.token.as_ref().unwrap().issued.clone();
    let before = issued.load(std::sync::atomic::Ordering::SeqCst);
    p.release(&["check"]).ok();
    assert!(
        issued.load(std::sync::atomic::Ordering::SeqCst) > before,
        "the registry was reached with tokens from the token server"
    );
    // Pull through tokens: the package holds the three images, as skopeo reads them.
    p.release(&["package", "--images", "-o", "out"]).ok();
    let tokens = issued.load(std::sync::atomic::Ordering::SeqCst) - before;
    let out = p.path.join("out");
    let pkg = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let dir = extract_package(&sb, &p, pkg.to_str().unwrap(), "tok");
    let names = index_names(&dir.join("images/images.tar"));
    assert_eq!(names.len(), 3, "{names:?}");
    // One token per repository and operation, not one per request: 3 repositories for check,
    // at most 3 more for the package (tokens are cached per run, so 6 at most).
    assert!(tokens <= 6, "{tokens} tokens for check + package");
}

#[test]
fn images_show_internal_name_and_upstream_source() {
    let sb = Sandbox::new();
    let p = platform(&sb, "reg.local:5000");
    // A dry run names what would be pulled, without asking the (unreachable) registry.
    let run = p.release(&["package", "--images", "--dry-run"]).ok();
    assert!(
        run.stdout
            .contains("images/images.tar: 3 image(s)\n  reg.local:5000/rel/library/pause:3.9\n"),
        "{}",
        run.stdout
    );
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

/// Extract the package at `path` (relative to `p`, or absolute) into a fresh folder named
/// `into`; returns its top folder.
fn extract_package(sb: &Sandbox, p: &Repo, path: &str, into: &str) -> PathBuf {
    let path = PathBuf::from(path);
    let path = if path.is_absolute() {
        path
    } else {
        p.path.join(path)
    };
    let x = sb.path(into);
    sb.untar(&path, &x);
    std::fs::read_dir(&x)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

/// `io.containerd.image.name` of every image in `images.tar`'s index.json.
fn index_names(images_tar: &Path) -> Vec<String> {
    let index: serde_json::Value = serde_json::from_slice(
        &Command::new("tar")
            .args(["-xOf"])
            .arg(images_tar)
            .arg("index.json")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["io.containerd.image.name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn package_images_is_an_oci_archive_skopeo_reads_and_reproducible() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    let p = platform(&sb, &reg.host);
    p.git(&["tag", "-a", "-m", "v1.0.0", "v1.0.0"]);
    let run = p
        .release(&["package", "--images", "-o", "out1", "--json"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let host = &reg.host;
    let images = v["manifest"]["images"].as_object().unwrap();
    assert_eq!(images.len(), 3, "{v}");
    assert!(images[&format!("{host}/rel/release/app:1.0.0")]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let pkg = p.path.join("out1/demo-v1.0.0.tar.gz");
    assert!(sb
        .tar_names(&pkg)
        .contains(&"demo-v1.0.0/images/images.tar".to_string()));
    let x = sb.path("x");
    sb.untar(&pkg, &x);
    let images_tar = x.join("demo-v1.0.0/images/images.tar");
    let names = sb.tar_names(&images_tar);
    for want in ["oci-layout", "index.json", "manifest.json"] {
        assert!(names.contains(&want.to_string()), "{names:?}");
    }
    // skopeo reads every image back by its full name, and copies it out.
    for img in ["rel/release/app:1.0.0", "rel/library/pause:3.9"] {
        let out = sb
            .cmd("skopeo", sb.dir.path())
            .args(["inspect", "--raw"])
            .arg(format!("oci-archive:{}:{host}/{img}", images_tar.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = sb.path(&format!("copy-{}", img.replace(['/', ':'], "_")));
        let out = sb
            .cmd("skopeo", sb.dir.path())
            .args(["copy", "--quiet"])
            .arg(format!("oci-archive:{}:{host}/{img}", images_tar.display()))
            .arg(format!("dir:{}", dir.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // podman loads the archive as it is (its own storage in the sandbox, vfs driver) and names
    // every image by its full reference.
    let store = sb.path("podman");
    let podman = |args: &[&str]| {
        let out = sb
            .cmd("podman", sb.dir.path())
            .arg("--root")
            .arg(store.join("root"))
            .arg("--runroot")
            .arg(store.join("run"))
            .args(["--storage-driver", "vfs", "--events-backend", "none"])
            .args(args)
            .output()
            .expect("podman (Debian package podman; .ci/run installs it)");
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    podman(&["load", "-i", images_tar.to_str().unwrap()]);
    let mut loaded: Vec<String> = podman(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .lines()
        .map(str::to_string)
        .collect();
    loaded.sort();
    assert_eq!(
        loaded,
        [
            format!("{host}/rel/library/pause:3.9"),
            format!("{host}/rel/release/app:1.0.0"),
            format!("{host}/rel/release/worker:1.0.0"),
        ]
    );
    // Docker's manifest.json names each image with RepoTags.
    let docker: serde_json::Value = serde_json::from_slice(
        &std::process::Command::new("tar")
            .args(["-xOf"])
            .arg(&images_tar)
            .arg("manifest.json")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(docker.as_array().unwrap().len(), 3);
    assert_eq!(
        docker[0]["RepoTags"][0],
        format!("{host}/rel/library/pause:3.9")
    );
    // The first run remembered images.tar's sha256 by what it is made of; the second run takes
    // it from there (blobs verified, not re-hashed) and must write the same bytes, release.yaml
    // included.
    let memo: Vec<_> = std::fs::read_dir(p.path.join(".git/release/checksums"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(memo.len(), 1);
    let sum = hex(&Sha256::digest(std::fs::read(&images_tar).unwrap()));
    assert_eq!(memo[0].trim(), sum);
    assert!(std::fs::read_to_string(x.join("demo-v1.0.0/release.yaml"))
        .unwrap()
        .contains(&format!("images/images.tar: {sum}")));
    // Second run: blobs from the cache, same bytes.
    p.release(&["package", "--images", "-o", "out2"]).ok();
    assert_eq!(
        std::fs::read(&pkg).unwrap(),
        std::fs::read(p.path.join("out2/demo-v1.0.0.tar.gz")).unwrap()
    );
    // A second clone (its own empty blob cache, everything downloaded again) writes the same
    // bytes too.
    let c = sb.clone_repo(&p.path, "clone");
    assert!(!c.path.join(".git/release").exists());
    c.release(&["package", "v1.0.0", "--images", "-o", "out"])
        .ok();
    assert_eq!(
        std::fs::read(&pkg).unwrap(),
        std::fs::read(c.path.join("out/demo-v1.0.0.tar.gz")).unwrap(),
        "packages from two clones differ"
    );
    // A missing image: a clear error naming registry and image, no package written.
    let mut p = p;
    p.write(
        "addons/app/templates/d.yaml",
        &pod("{{ .Values.registry }}/release/ghost:9.9.9"),
    );
    p.commit("ghost");
    p.release(&["package", "--images", "-o", "out3"])
        .fails(1)
        .err_has(&format!(
            "registry {host}: image {host}/rel/release/ghost:9.9.9 does not exist"
        ));
    assert!(
        !p.path.join("out3").exists()
            || std::fs::read_dir(p.path.join("out3"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn why_7_a_multi_arch_index_is_resolved_and_a_missing_platform_refuses() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_arches(
        &sb,
        "rel/release/app:1.0.0",
        "app",
        None,
        &["amd64", "arm64"],
    );
    reg.push(&sb, "rel/release/worker:1.0.0", "worker", None);
    reg.push(&sb, "rel/library/pause:3.9", "pause", None);
    let p = platform(&sb, &reg.host);
    let host = &reg.host;
    let config_arch = |out: &str, platform: &str| -> String {
        let run = p
            .release(&[
                "package",
                "--images",
                "--platform",
                platform,
                "--allow-other-platform",
                "-o",
                out,
            ])
            .ok();
        // worker and pause are linux/amd64 images only: packed as they are, each named.
        let others = run.stderr.matches("packed as it is (linux/amd64)").count();
        assert_eq!(
            others,
            if platform == "linux/amd64" { 0 } else { 2 },
            "{}",
            run.stderr
        );
        let pkg = std::fs::read_dir(p.path.join(out))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let dir = sb.path(&format!("x-{out}"));
        sb.untar(&pkg, &dir);
        let tar = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("images/images.tar");
        let out = sb
            .cmd("skopeo", sb.dir.path())
            .args(["inspect", "--config"])
            .arg(format!(
                "oci-archive:{}:{host}/rel/release/app:1.0.0",
                tar.display()
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["architecture"].as_str().unwrap().to_string()
    };
    assert_eq!(config_arch("amd", "linux/amd64"), "amd64");
    assert_eq!(config_arch("arm", "linux/arm64"), "arm64");
    p.release(&[
        "package",
        "--images",
        "--platform",
        "linux/s390x",
        "-o",
        "s390",
    ])
    .fails(3)
    .err_has(&format!(
        "3 image(s) have no linux/s390x image: {host}/rel/library/pause:3.9 (has linux/amd64), {host}/rel/release/app:1.0.0 (has linux/amd64, linux/arm64), {host}/rel/release/worker:1.0.0 (has linux/amd64)"
    ));
    // Issue 20, Why 7: without --allow-other-platform, amd64-only images refuse an arm64
    // package, each named with what it has; nothing is written.
    p.release(&["package", "--images", "--platform", "linux/arm64", "-o", "arm-strict"])
        .fails(3)
        .err_has(&format!(
            "2 image(s) have no linux/arm64 image: {host}/rel/library/pause:3.9 (has linux/amd64), {host}/rel/release/worker:1.0.0 (has linux/amd64)"
        ))
        .err_has("--allow-other-platform");
    assert!(
        !p.path.join("arm-strict").exists()
            || std::fs::read_dir(p.path.join("arm-strict"))
                .unwrap()
                .next()
                .is_none()
    );
    p.release(&["package", "--images", "--platform", "linux", "-o", "bad"])
        .fails(2)
        .err_has("platform `linux` is not os/arch[/variant]");
}

#[test]
fn a_corrupt_cached_blob_is_never_packed() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    let p = platform(&sb, &reg.host);
    p.release(&["package", "--images", "-o", "a"]).ok();
    let cache = p.path.join(".git/release/blobs/sha256");
    let mut blobs: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    blobs.sort();
    assert!(
        blobs.len() >= 9,
        "3 images x (manifest, config, layer): {blobs:?}"
    );
    // A blob cut short, and one with a flipped byte (same size): both are found and removed.
    std::fs::write(&blobs[0], b"bit rot").unwrap();
    p.release(&["package", "--images", "-o", "b"])
        .fails(1)
        .err_has("is corrupt (it has 7 bytes, not ");
    assert!(!blobs[0].exists(), "the corrupt blob is removed");
    let mut bytes = std::fs::read(&blobs[1]).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&blobs[1], &bytes).unwrap();
    p.release(&["package", "--images", "-o", "b"])
        .fails(1)
        .err_has("is corrupt (its content hashes to sha256:");
    assert!(!blobs[1].exists(), "the corrupt blob is removed");
    assert!(
        !p.path.join("b").exists()
            || std::fs::read_dir(p.path.join("b"))
                .unwrap()
                .next()
                .is_none(),
        "no package and no temporary left"
    );
    // The next run downloads it again; same package as before the damage. A temporary left by
    // a killed run (its process is gone) is removed first.
    std::fs::create_dir_all(p.path.join("c")).unwrap();
    let stale = p.path.join("c/.images.tar.git-release-tmp-999999999");
    std::fs::write(&stale, b"half an archive").unwrap();
    p.release(&["package", "--images", "-o", "c"]).ok();
    assert!(!stale.exists(), "stale temporary removed");
    let name = std::fs::read_dir(p.path.join("a"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    assert_eq!(
        std::fs::read(p.path.join("a").join(&name)).unwrap(),
        std::fs::read(p.path.join("c").join(&name)).unwrap()
    );
}

#[test]
fn hotfix_images_packs_only_the_changed_image() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    for (img, seed) in [
        ("rel/release/app:1.0.0", "app"),
        ("rel/release/app:1.0.1", "app-fix"),
        ("rel/release/worker:1.0.0", "worker"),
        ("rel/library/pause:3.9", "pause"),
    ] {
        reg.push(&sb, img, seed, None);
    }
    let mut p = platform(&sb, &reg.host);
    p.git(&["tag", "-a", "-m", "v1.0.0", "v1.0.0"]);
    p.write(
        "addons/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.1\n",
    );
    p.write(
        "addons/app/templates/a.yaml",
        &pod("{{ .Values.registry }}/release/app:1.0.1"),
    );
    p.commit("app 1.0.1");
    let run = p
        .release(&[
            "hotfix",
            "v1.0.0..HEAD",
            "--images",
            "--date",
            "2026-12-01",
            "-o",
            "hf",
            "--json",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let host = &reg.host;
    let digests = v["manifest"]["image_digests"].as_object().unwrap();
    assert_eq!(
        digests.keys().collect::<Vec<_>>(),
        vec![&format!("{host}/rel/release/app:1.0.1")],
        "{v}"
    );
    let top = extract_package(&sb, &p, v["packages"][0]["path"].as_str().unwrap(), "hx");
    assert_eq!(
        index_names(&top.join("images/images.tar")),
        vec![format!("{host}/rel/release/app:1.0.1")]
    );
    let out = sb
        .cmd("skopeo", sb.dir.path())
        .args(["inspect", "--raw"])
        .arg(format!(
            "oci-archive:{}:{host}/rel/release/app:1.0.1",
            top.join("images/images.tar").display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sync_copies_mirrored_images_from_upstream() {
    let upstream = TestRegistry::start(None);
    let internal = TestRegistry::start(None);
    let sb = Sandbox::new();
    upstream.push_arches(&sb, "k8s/pause:3.9", "pause", None, &["amd64", "arm64"]);
    internal.push(&sb, "rel/release/app:1.0.0", "app", None);
    internal.push(&sb, "rel/release/worker:1.0.0", "worker", None);
    let mut p = platform(&sb, &internal.host);
    p.write(
        "images/images_origin.yaml",
        &format!(
            "- src: {}/k8s/pause\n  dest: library/pause\n",
            upstream.host
        ),
    );
    p.commit("origin upstream");
    let (u, i) = (&upstream.host, &internal.host);
    // The gate sees the mirrored image missing.
    p.release(&["check"]).fails(3);
    let run = p.release(&["images", "sync", "--dry-run"]).ok();
    assert!(
        run.stdout.contains(&format!(
            "would copy {u}/k8s/pause:3.9 -> {i}/rel/library/pause:3.9"
        )),
        "{}",
        run.stdout
    );
    p.release(&["check"]).fails(3);
    let run = p.release(&["images", "sync", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["images"][0]["state"], "copied", "{v}");
    // Both platforms arrived: skopeo reads the index and each image from the internal registry.
    let raw = sb
        .cmd("skopeo", sb.dir.path())
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{i}/rel/library/pause:3.9"))
        .output()
        .unwrap();
    assert!(
        raw.status.success(),
        "{}",
        String::from_utf8_lossy(&raw.stderr)
    );
    let index: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    // The sync wrote the lock: the pause index's digest, with both platforms.
    assert_eq!(v["lock"]["path"], "images/images.lock", "{v}");
    let lock: serde_yaml::Value = serde_yaml::from_str(&p.read("images/images.lock")).unwrap();
    let pause = &lock["images"]["[[ registry_release ]]/library/pause:3.9"];
    assert_eq!(
        pause["digest"].as_str().unwrap(),
        format!("sha256:{}", hex(&Sha256::digest(&raw.stdout)))
    );
    assert_eq!(
        pause["platforms"].as_mapping().unwrap().len(),
        2,
        "{lock:?}"
    );
    for arch in ["amd64", "arm64"] {
        let out = sb
            .cmd("skopeo", sb.dir.path())
            .args([
                "inspect",
                "--tls-verify=false",
                "--override-arch",
                arch,
                "--config",
            ])
            .arg(format!("docker://{i}/rel/library/pause:3.9"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    p.release(&["check"]).ok();
    // Nothing left to do.
    let run = p.release(&["images", "sync"]).ok();
    assert!(
        run.stdout
            .contains(&format!("present {i}/rel/library/pause:3.9")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("1 mirrored image(s): 0 copied, 1 present"),
        "{}",
        run.stdout
    );
    // A new tag of the same upstream repository with the same blobs: only its manifests travel;
    // the blobs the internal repository has already are skipped.
    upstream.push_arches(&sb, "k8s/pause:3.10", "pause", None, &["amd64", "arm64"]);
    p.write(
        "addons/app/templates/d.yaml",
        &pod("{{ .Values.registry }}/library/pause:3.10"),
    );
    p.write(
        "images/images_platform.list",
        "[[ registry_release ]]/library/pause:3.10\n[[ registry_release ]]/library/pause:3.9\n[[ registry_release ]]/release/app:1.0.0\n[[ registry_release ]]/release/worker:1.0.0\n",
    );
    p.commit("pause 3.10");
    let run = p.release(&["images", "sync", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let new = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["target"] == format!("{i}/rel/library/pause:3.10"))
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(new["state"], "copied", "{v}");
    assert_eq!(new["skipped"], 4, "2 configs + 2 layers already there: {v}");
    assert_eq!(new["pushed"], 3, "the index and 2 image manifests: {v}");
    assert_eq!(new["downloaded"], 0, "blobs came from the cache: {v}");
    p.release(&["check"]).ok();
}

#[test]
fn a_full_disk_leaves_no_package_and_says_where() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    let p = platform(&sb, &reg.host);
    // The blobs fit in the cache; the package folder is a 16 KiB tmpfs in a private mount namespace.
    p.release(&["package", "--images", "-o", "warm"]).ok();
    std::fs::create_dir_all(p.path.join("small")).unwrap();
    let out = sb
        .cmd("unshare", &p.path)
        .args([
            "-m",
            "sh",
            "-c",
            "mount -t tmpfs -o size=16k tmpfs small && git release package --images -o small; rc=$?; ls -A small; exit $rc",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no space left on the device of small while writing the images")
            && stderr.contains("-o DIR"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "nothing left in the folder"
    );
}

#[test]
fn hotfix_per_addon_images_packs_each_addons_own() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    for (img, seed) in [
        ("rel/release/app:1.0.1", "app-fix"),
        ("rel/release/other:1.0.0", "other"),
        ("rel/release/other:1.0.1", "other-fix"),
    ] {
        reg.push(&sb, img, seed, None);
    }
    let mut p = platform(&sb, &reg.host);
    p.write(
        "addons/other/Chart.yaml",
        "apiVersion: v2\nname: other\nversion: 1.0.0\n",
    );
    p.write(
        "addons/other/values.yaml",
        "registry: '[[ registry_release ]]'\n",
    );
    p.write(
        "addons/other/templates/o.yaml",
        &pod("{{ .Values.registry }}/release/other:1.0.0"),
    );
    p.commit("other");
    p.git(&["tag", "-a", "-m", "v1.0.0", "v1.0.0"]);
    p.write(
        "addons/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.1\n",
    );
    p.write(
        "addons/app/templates/a.yaml",
        &pod("{{ .Values.registry }}/release/app:1.0.1"),
    );
    p.write(
        "addons/other/Chart.yaml",
        "apiVersion: v2\nname: other\nversion: 1.0.1\n",
    );
    p.write(
        "addons/other/templates/o.yaml",
        &pod("{{ .Values.registry }}/release/other:1.0.1"),
    );
    p.commit("fixes");
    let run = p
        .release(&[
            "hotfix",
            "v1.0.0..HEAD",
            "--per-addon",
            "--images",
            "--date",
            "2026-12-01",
            "-o",
            "hf",
            "--json",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let host = &reg.host;
    let packages = v["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 2, "{v}");
    for (pkg, want) in packages.iter().zip(["app:1.0.1", "other:1.0.1"]) {
        let top = extract_package(&sb, &p, pkg["path"].as_str().unwrap(), &format!("x-{want}"));
        assert_eq!(
            index_names(&top.join("images/images.tar")),
            vec![format!("{host}/rel/release/{want}")]
        );
    }
}

#[test]
fn why_5_a_silent_registry_times_out_and_is_a_finding() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().take(8) {
            conns.push(c);
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    let sb = Sandbox::new();
    let p = platform(&sb, &host);
    let t = std::time::Instant::now();
    // Issue 20, Why 5: an unreachable registry is a finding, not an abort: every other rule
    // still runs, and the exit is 3.
    let run = p
        .release_c(&["release.registryTimeout=1"], &["check"])
        .fails(3);
    run.out_has("registry-unreachable (error)");
    run.out_has(&format!(
        "registry {host} could not be reached, so 3 image(s) were not looked up"
    ));
    run.out_has("(operation timed out); release.registry names it");
    run.out_has("image-tag-not-semver (warning)");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
    p.release_c(&["release.registryTimeout=soon"], &["check"])
        .fails(2)
        .err_has("release.registryTimeout `soon` is not a number of seconds");
    drop(held);
}

#[test]
fn insecure_registries_are_spoken_to_over_http() {
    // Plain HTTP on 127.0.0.2: not localhost, so HTTPS unless release.insecureRegistries names it.
    let reg = TestRegistry::start_on("127.0.0.2", None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    let p = platform(&sb, &reg.host);
    p.release(&["check"])
        .fails(3)
        .out_has(&format!("registry {} could not be reached", reg.host));
    let insecure = format!("release.insecureRegistries=other.local {}", reg.host);
    p.release_c(&[&insecure], &["check"]).ok();
}

/// A registry that challenges for basic auth and then refuses every repository with 403
/// `DENIED`, as Harbor or Docker Hub answer an account without access to a project. A thread of
/// the test, on a free port; returns its `host:port`.
fn forbidding_registry() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let head = request_head(&mut conn).to_lowercase();
            let reply = if !head.contains("\r\nauthorization: basic ") {
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else if head.starts_with("get /v2/ ") {
                "HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_string()
            } else {
                let body = r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
                format!("HTTP/1.1 403 Forbidden\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            };
            let _ = conn.write_all(reply.as_bytes());
        }
    });
    host
}

#[test]
fn a_403_names_the_credential_source_and_writes_nothing() {
    let sb = Sandbox::new();
    let host = forbidding_registry();
    let p = platform(&sb, &host);
    p.git(&["tag", "-a", "-m", "v1.0.0", "v1.0.0"]);
    docker_login(&sb, &host, "robot:no-access");
    p.release(&["check"])
        .fails(1)
        .err_has(&format!("registry {host}: access denied for {host}/rel/"))
        .err_has(&format!("(credentials: auths[{host}] in "))
        .err_has("docker login");
    p.release(&["package", "--images", "-o", "out"])
        .fails(1)
        .err_has(&format!("registry {host}: access denied for {host}/rel/"));
    assert!(
        !p.path.join("out").exists()
            || std::fs::read_dir(p.path.join("out"))
                .unwrap()
                .next()
                .is_none(),
        "no package after a 403"
    );
    assert_eq!(p.status(), "", "nothing in the work tree changed");
}

/// Lowercase hex of a digest, as `sha256sum` prints it.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Issue 20, Why 8: on a fresh registry, two mirrored images sharing every blob: each blob is
/// pushed once in the run, the other image mounts it, whatever order the parallel copies take.
#[test]
fn why_8_images_sync_sends_each_blob_once_and_mounts_it_after() {
    let upstream = TestRegistry::start(None);
    let internal = TestRegistry::start(None);
    let sb = Sandbox::new();
    upstream.push(&sb, "k8s/pause:3.9", "shared", None);
    upstream.push(&sb, "k8s/busybox:1.0", "shared", None);
    internal.push(&sb, "rel/release/app:1.0.0", "app", None);
    internal.push(&sb, "rel/release/worker:1.0.0", "worker", None);
    let mut p = platform(&sb, &internal.host);
    p.write(
        "addons/app/templates/d.yaml",
        &pod("{{ .Values.registry }}/library/busybox:1.0"),
    );
    let u = &upstream.host;
    p.write(
        "images/images_origin.yaml",
        &format!("- src: {u}/k8s/pause\n  dest: library/pause\n- src: {u}/k8s/busybox\n  dest: library/busybox\n"),
    );
    p.commit("two mirrored images, one layer");
    let run = p.release(&["images", "sync", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{v}");
    let sum = |k: &str| images.iter().map(|i| i[k].as_u64().unwrap()).sum::<u64>();
    // One image: its config and layer blobs and its manifest pushed (3); the other: both
    // blobs mounted, its manifest pushed (1).
    assert_eq!(
        (sum("pushed"), sum("mounted"), sum("skipped")),
        (4, 2, 0),
        "{v}"
    );
}

/// Issue 20, Why 5: a registry other than `release.registry` that cannot be reached is a
/// warning: the internal registry's images are still looked up and the gate passes.
#[test]
fn why_5_another_unreachable_registry_is_a_warning() {
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    let mut p = platform(&sb, &reg.host);
    let elsewhere = format!("127.0.0.1:{}", free_port());
    p.write(
        "addons/app/templates/d.yaml",
        &pod(&format!("{elsewhere}/vendor/agent:1.0.0")),
    );
    p.write(
        "images/images_platform.list",
        &format!("{elsewhere}/vendor/agent:1.0.0\n[[ registry_release ]]/library/pause:3.9\n[[ registry_release ]]/release/app:1.0.0\n[[ registry_release ]]/release/worker:1.0.0\n"),
    );
    p.commit("an image from another registry");
    let run = p.release(&["check"]).ok();
    run.out_has("registry-unreachable (warning)");
    run.out_has(&format!(
        "registry {elsewhere} could not be reached, so 1 image(s) were not looked up"
    ));
    assert!(!run.stdout.contains("image-missing"), "{}", run.stdout);
}

#[test]
fn no_test_images_leaves_helm_test_images_out_of_package_and_upgrade() {
    // Issue 25's flag, through the two commands whose only test so far was hotfix's.
    let reg = TestRegistry::start(None);
    let sb = Sandbox::new();
    reg.push_platform_images(&sb, None);
    reg.push(&sb, "rel/release/app-test:1.0.0", "app-test", None);
    let mut p = platform(&sb, &reg.host);
    p.git(&["tag", "-a", "-m", "v1.0.0", "v1.0.0"]);
    p.write(
        "addons/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.1\n",
    );
    p.write(
        "addons/app/templates/tests/t.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    \"helm.sh/hook\": test\nspec:\n  containers:\n  - name: t\n    image: {{ .Values.registry }}/release/app-test:1.0.0\n",
    );
    p.write(
        "images/images_test.list",
        "[[ registry_release ]]/release/app-test:1.0.0\n",
    );
    p.commit("app: a helm test");
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let test_image = format!("{}/rel/release/app-test:1.0.0", reg.host);
    let packed = |args: &[&str], into: &str| -> (Vec<String>, bool) {
        let run = p.release(args).ok();
        let path = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("wrote "))
            .and_then(|l| l.split(" (").next())
            .unwrap()
            .to_string();
        let top = extract_package(&sb, &p, &path, into);
        // No images.tar when no image is needed.
        let tar = std::fs::read_dir(&top)
            .unwrap()
            .flatten()
            .map(|e| e.path().join("images.tar"))
            .find(|t| t.is_file());
        let lists = std::fs::read_dir(top.join("images"))
            .map(|d| d.flatten().any(|e| e.file_name() == "images_test.list"))
            .unwrap_or(false);
        (tar.map(|t| index_names(&t)).unwrap_or_default(), lists)
    };
    let (all, with_list) = packed(&["package", "v1.1.0", "--images", "-o", "o1"], "x1");
    assert!(all.contains(&test_image) && with_list, "{all:?}");
    let (without, with_list) = packed(
        &[
            "package",
            "v1.1.0",
            "--images",
            "--no-test-images",
            "-o",
            "o2",
        ],
        "x2",
    );
    assert!(!without.contains(&test_image) && !with_list, "{without:?}");
    assert_eq!(without.len(), all.len() - 1, "{all:?} {without:?}");
    let (up, _) = packed(
        &["upgrade", "v1.0.0", "v1.1.0", "--images", "-o", "o3"],
        "x3",
    );
    assert!(up.contains(&test_image), "{up:?}");
    let (up, _) = packed(
        &[
            "upgrade",
            "v1.0.0",
            "v1.1.0",
            "--images",
            "--no-test-images",
            "-o",
            "o4",
        ],
        "x4",
    );
    assert!(up.is_empty(), "only the test image was new: {up:?}");
}
