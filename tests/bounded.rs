//! Issue 24 (bounded everywhere), registry rows: a registry that lies about a layer's size gets
//! a clear error in bounded time, and nothing is left in the blob cache or the output folder.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::util::Sandbox;

fn sha(b: &[u8]) -> String {
    format!("sha256:{}", crate::registry::hex(&Sha256::digest(b)))
}

/// A registry on 127.0.0.1 serving one image, `rel/app:1.0`: a real config, and a layer whose
/// descriptor declares `declared` bytes while the blob response carries `sent` bytes. Returns
/// `host:port` and the layer digest.
fn lying_registry(declared: u64, sent: usize) -> (String, String) {
    serve(declared, sent, None)
}

/// How a padded manifest is sent: its size, and whether the response says so (`Content-Length`)
/// or just streams until the connection closes.
#[derive(Clone, Copy)]
struct BigManifest {
    size: usize,
    declared: bool,
}

/// [`lying_registry`], with the manifest padded to `big`'s size (JSON whitespace) when given.
fn serve(declared: u64, sent: usize, big: Option<BigManifest>) -> (String, String) {
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#.to_vec();
    let layer_digest = sha(b"a layer that is not what it says");
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer_digest}","size":{declared}}}]}}"#,
        sha(&config),
        config.len()
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let config_digest = sha(&config);
    let manifest_digest = sha(manifest.as_bytes());
    let layer = layer_digest.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match conn.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let line = head.lines().next().unwrap_or_default().to_string();
            let send = |conn: &mut std::net::TcpStream, ctype: &str, extra: &str, body: &[u8]| {
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: {ctype}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(body);
            };
            if line.contains(" /v2/ ") {
                send(&mut conn, "application/json", "", b"{}");
            } else if let (true, Some(big)) = (line.contains("/manifests/"), big) {
                let length = if big.declared {
                    format!("Content-Length: {}\r\n", big.size)
                } else {
                    String::new()
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n{length}Connection: close\r\n\r\n"
                );
                if line.starts_with("GET") {
                    let _ = conn.write_all(manifest.as_bytes());
                    let chunk = vec![b' '; 64 << 10];
                    let mut left = big.size.saturating_sub(manifest.len());
                    while left > 0 {
                        let n = left.min(chunk.len());
                        if conn.write_all(&chunk[..n]).is_err() {
                            break;
                        }
                        left -= n;
                    }
                }
            } else if line.contains("/manifests/") {
                let extra = format!("Docker-Content-Digest: {manifest_digest}\r\n");
                let body = if line.starts_with("HEAD") {
                    Vec::new()
                } else {
                    manifest.clone().into_bytes()
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    manifest.len()
                );
                let _ = conn.write_all(&body);
            } else if line.contains(&config_digest) {
                send(&mut conn, "application/octet-stream", "", &config);
            } else if line.contains(&layer) {
                // Streamed in 64 KiB pieces until `sent` bytes (or the client hangs up).
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/octet-stream\r\nContent-Length: {sent}\r\nConnection: close\r\n\r\n"
                );
                let chunk = vec![0u8; 64 << 10];
                let mut left = sent;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if conn.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    left -= n;
                }
            } else {
                let _ = write!(
                    conn,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        }
    });
    (host, layer_digest)
}

/// A platform repo whose one chart deploys `[[ registry_release ]]/app:1.0`, release.registry
/// at `host/rel`.
fn platform<'a>(sb: &'a Sandbox, host: &str) -> crate::util::Repo<'a> {
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
        "addons/app/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: \"[[ registry_release ]]/app:1.0\"\n",
    );
    p.write(
        "images/images_platform.list",
        "[[ registry_release ]]/app:1.0\n",
    );
    p.commit("app");
    p
}

/// Neither blob `digest` nor a temporary of it is in `p`'s blob cache.
#[track_caller]
fn not_cached(p: &crate::util::Repo, digest: &str) {
    let hex = digest.trim_start_matches("sha256:");
    let files = cached(p);
    assert!(files.iter().all(|f| !f.contains(hex)), "{files:?}");
}

/// Files under the blob cache (finished blobs and temporaries alike).
fn cached(p: &crate::util::Repo) -> Vec<String> {
    let dir = p.path.join(".git/release/blobs/sha256");
    std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_layer_response_that_never_ends_stops_at_its_declared_size() {
    let (host, layer) = lying_registry(114, 256 << 20);
    let sb = Sandbox::new();
    let p = platform(&sb, &host);
    let run = bounded(&p, &["package", "--images", "-o", "out"], 1);
    run.err_has(&format!("registry {host}: blob {layer} of image {host}/rel/app:1.0 runs past the 114 bytes its descriptor declares"));
    not_cached(&p, &layer);
    assert!(!p.path.join("out").join("demo-g").exists());
    assert!(std::fs::read_dir(p.path.join("out")).map_or(true, |mut d| d.next().is_none()));
}

#[test]
fn a_layer_descriptor_of_2_62_bytes_is_refused_before_downloading() {
    let (host, layer) = lying_registry(1 << 62, 114);
    let sb = Sandbox::new();
    let p = platform(&sb, &host);
    let run = bounded(&p, &["package", "--images", "-o", "out"], 1);
    run.err_has(&format!(
        "registry {host}: image {host}/rel/app:1.0 declares blob {layer} of {} bytes",
        1u64 << 62
    ))
    .err_has("nothing was downloaded");
    not_cached(&p, &layer);
}

#[test]
fn a_layer_shorter_than_its_descriptor_is_refused() {
    // Cut short, its bytes do not hash to its digest: refused as such, nothing stored.
    let (host, layer) = lying_registry(4096, 100);
    let sb = Sandbox::new();
    let p = platform(&sb, &host);
    p.release(&["package", "--images", "-o", "out"])
        .fails(1)
        .err_has(&format!(
            "blob {layer} of {host}/rel/app:1.0 arrived with content hashing to"
        ))
        .err_has("not stored");
    not_cached(&p, &layer);
}

/// Issue 24, the 120 MB values.yaml row: a component values.yaml past the YAML size cap is
/// refused at collect, naming the file, in bounded time; nothing is written.
#[test]
fn a_huge_component_values_yaml_is_refused_at_collect() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    let head = p.git(&["rev-parse", "HEAD"]);
    let mut c = crate::util::Repo::open(&sb, "ex/components/cyclone");
    c.git(&["checkout", "-q", "v0.10.0"]);
    let mut big = c.read("manifests/cyclone/values.yaml");
    let mut n = 0;
    while big.len() <= 33 << 20 {
        big.push_str(&format!(
            "key{n:08}: value-of-some-length-to-fill-the-file-quickly-{n:08}\n"
        ));
        n += 1;
    }
    c.write("manifests/cyclone/values.yaml", &big);
    let chart = c.read("manifests/cyclone/Chart.yaml");
    c.write(
        "manifests/cyclone/Chart.yaml",
        &chart.replace("0.10.0", "0.12.0"),
    );
    c.commit("a huge values.yaml");
    c.tag("v0.12.0");
    let run = bounded(&p, &["collect", "cyclone"], 2);
    run.err_has("manifests/cyclone/values.yaml")
        .err_has("more than the 32 MiB a YAML input may have (release.maxYamlSize)");
    untouched(&p, &head);
}

/// Issue 24, the 100 MB manifest row: refused at the cap (4 MiB), naming registry, image and
/// size, whether the registry declares the size or just streams; bounded in time and memory.
#[test]
fn a_100_mb_manifest_is_refused_at_the_manifest_cap() {
    for declared in [true, false] {
        let (host, _) = serve(
            114,
            114,
            Some(BigManifest {
                size: 100 << 20,
                declared,
            }),
        );
        let sb = Sandbox::new();
        let p = platform(&sb, &host);
        let run = bounded(&p, &["package", "--images", "-o", "out"], 1);
        run.err_has(&format!(
            "registry {host}: the manifest of image {host}/rel/app:1.0 is "
        ))
        .err_has("more than the 4 MiB a manifest may have (release.maxManifestSize)");
        if declared {
            run.err_has(&format!("{} bytes by its Content-Length", 100 << 20));
        }
        assert!(cached(&p).is_empty(), "{:?}", cached(&p));
        assert!(std::fs::read_dir(p.path.join("out")).map_or(true, |mut d| d.next().is_none()));
        // Raised, the same manifest is read (and then found to be a manifest with padding).
        p.git(&["config", "release.maxManifestSize", "128m"]);
        p.release(&["package", "--images", "-o", "out"])
            .fails(1)
            .err_lacks("a manifest may have");
    }
}

/// A platform whose one chart has `templates/x.yaml` = `template` (line 3 holds the action that
/// runs away), run through `git release images --json`: that template fails with the budget's
/// error at `templates/x.yaml:3` (a warning; its static reading takes over), the chart's other
/// template renders, within 5 s and 512 MiB, and nothing is written.
fn template_row(template: &str, budget: &str) {
    let sb = Sandbox::new();
    let mut p = sb.repo("platform");
    p.write(".gitrelease", "[release]\n\tproduct = demo\n");
    p.write(
        "addons/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    );
    p.write(
        "addons/app/templates/x.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\n{template}\n"),
    );
    p.write(
        "addons/app/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: quay.io/demo/app:1.0\n",
    );
    p.write("images/images_platform.list", "quay.io/demo/app:1.0\n");
    p.commit("app");
    bounded(&p, &["images", "--json"], 0)
        .err_has("addons/app: templates/x.yaml cannot be rendered with its default values (templates/x.yaml:3:")
        .err_has("render budget exceeded")
        .err_has(budget)
        .out_has("quay.io/demo/app:1.0");
    assert_eq!(p.status(), "");
}

#[test]
fn a_template_repeating_x_a_billion_times() {
    template_row(
        r#"data: {{ repeat 1000000000 "x" }}"#,
        "a value of 1000000000 bytes, more than the 32 MiB one value may have (release.renderMaxValue raises it)",
    );
}

#[test]
fn a_printf_width_of_999999999() {
    template_row(
        r#"data: {{ printf "%0999999999d" 1 }}"#,
        "one value may have",
    );
}

#[test]
fn a_30_mb_value_printed_100_times() {
    template_row(
        "{{- $x := repeat 30000000 \"x\" }}{{ range until 100 }}{{ $x }}{{ end }}",
        "the chart's templates wrote more than 64 MiB (release.renderMaxOutput raises it)",
    );
}

#[test]
fn concat_of_a_list_with_itself_64_times() {
    template_row(
        "{{- $l := list 1 2 }}{{ range until 64 }}{{ $l = concat $l $l }}{{ end }}",
        "one value may have",
    );
}

#[test]
fn a_self_doubling_dict_through_to_yaml() {
    template_row(
        "{{- $d := dict }}{{ range until 64 }}{{ $d = dict \"a\" $d \"b\" $d }}{{ end }}{{ toYaml $d }}",
        "render budget exceeded",
    );
}

#[test]
fn three_nested_range_until_2000_with_an_empty_body() {
    template_row(
        "{{- range until 2000 }}{{ range until 2000 }}{{ range until 2000 }}{{ end }}{{ end }}{{ end }}",
        "more than 5000000 steps (an endless or huge loop?; release.renderMaxSteps raises it)",
    );
}

/// The settings raise the budget: with `release.renderMaxSteps` above what the loops need, the
/// same chart renders.
#[test]
fn the_render_budget_is_raised_by_its_settings() {
    let sb = Sandbox::new();
    let mut p = sb.repo("platform");
    p.write(
        ".gitrelease",
        "[release]\n\tproduct = demo\n\trenderMaxSteps = 10\n",
    );
    p.write(
        "addons/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    );
    p.write(
        "addons/app/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n{{- range until 20 }}\n  - image: quay.io/demo/app:{{ . }}\n{{- end }}\n",
    );
    p.write("images/images_platform.list", "");
    p.commit("app");
    p.release(&["images", "--json"])
        .ok()
        .err_has("more than 10 steps");
    p.release_c(&["release.renderMaxSteps=1k"], &["images", "--json"])
        .ok()
        .err_lacks("render budget")
        .out_has("quay.io/demo/app:19");
    p.release_c(&["release.renderMaxSteps=lots"], &["images"])
        .fails(2)
        .err_has("setting release.renderMaxSteps `lots` is not a size");
}

/// Issue 24, the 100 000-entry repos file row: refused at once with the limit and the setting
/// that raises it; nothing is fetched or written.
#[test]
fn a_repos_file_with_100_000_entries() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    let mut text = String::from("spec:\n");
    for i in 0..100_000 {
        text.push_str(&format!(
            "- repositoryFullName: demo/c{i}\n  resourcePaths: [charts/c{i}]\n  targetPath: addons/c{i}\n"
        ));
    }
    p.write("repos/huge.yaml", &text);
    p.commit("a huge repos file");
    let head = p.git(&["rev-parse", "HEAD"]);
    bounded(&p, &["collect"], 2)
        .err_has("repos/huge.yaml: 100000 components, more than the 10000 a repos file may list (release.maxComponents)");
    untouched(&p, &head);
}

/// Issue 24, the refs row: symbolic refs that point at each other, a tag that points at itself
/// and one at a missing object: `log` and `contains` skip them with git's warning, naming each,
/// and go on (no panic, exit 0).
#[test]
fn symbolic_refs_that_point_at_each_other_and_a_tag_that_points_at_itself() {
    let sb = Sandbox::new();
    let p = sb.example();
    let refs = p.path.join(".git/refs");
    std::fs::write(
        refs.join("heads/release-9.8"),
        "ref: refs/heads/release-9.9\n",
    )
    .unwrap();
    std::fs::write(
        refs.join("heads/release-9.9"),
        "ref: refs/heads/release-9.8\n",
    )
    .unwrap();
    std::fs::write(refs.join("tags/v9.9.8"), "ref: refs/tags/v9.9.8\n").unwrap();
    std::fs::write(refs.join("tags/v9.9.9"), format!("{}\n", "f".repeat(40))).unwrap();
    for args in [
        &["log"][..],
        &["contains", "v1.0.0"][..],
        &["log", "--json"][..],
        &["branch", "--list"][..],
    ] {
        let started = Instant::now();
        let run = p.release(args).ok();
        assert!(started.elapsed() < Duration::from_secs(5), "{args:?}");
        run.err_has("warning: ignoring broken ref refs/tags/v9.9.8")
            .err_has("warning: ignoring broken ref refs/tags/v9.9.9")
            .err_lacks("panicked")
            .err_lacks("internal error");
        if args[0] == "branch" {
            run.err_has("warning: ignoring broken ref refs/heads/release-9.8")
                .out_has("BRANCH");
            continue;
        }
        if args[0] == "contains" {
            run.err_has("warning: ignoring broken ref refs/heads/release-9.8")
                .out_has("v1.0.0");
        }
    }
}

/// The example collected, and its cyclone component at v0.10.0 ready for a new tag.
fn collected_example(sb: &Sandbox) -> (crate::util::Repo<'_>, crate::util::Repo<'_>, String) {
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    let head = p.git(&["rev-parse", "HEAD"]);
    let c = crate::util::Repo::open(sb, "ex/components/cyclone");
    c.git(&["checkout", "-q", "v0.10.0"]);
    (p, c, head)
}

/// Issue 24 item 5: a component chart without `version:` is refused at collect (exit 2, file
/// and line), as package refuses it; nothing is written.
#[test]
fn a_component_chart_yaml_without_version() {
    let sb = Sandbox::new();
    let (p, mut c, head) = collected_example(&sb);
    let without: String = c
        .read("manifests/cyclone/Chart.yaml")
        .lines()
        .filter(|l| !l.starts_with("version:"))
        .map(|l| format!("{l}\n"))
        .collect();
    c.write("manifests/cyclone/Chart.yaml", &without);
    c.commit("no version");
    c.tag("v0.12.0");
    p.release(&["collect", "cyclone"])
        .fails(2)
        .err_has("manifests/cyclone/Chart.yaml:1: no `version`");
    untouched(&p, &head);
}

/// Issue 24 item 5: a component chart whose `name:` would leave the chart's folder is refused
/// at collect (exit 2), as package refuses it; nothing is written.
#[test]
fn a_component_chart_yaml_with_name_dot_dot_evil() {
    let sb = Sandbox::new();
    let (p, mut c, head) = collected_example(&sb);
    let chart = c.read("manifests/cyclone/Chart.yaml");
    let evil = chart.replace("name: cyclone", "name: ../../../evil");
    assert_ne!(evil, chart);
    c.write(
        "manifests/cyclone/Chart.yaml",
        &evil.replace("0.10.0", "0.13.0"),
    );
    c.commit("evil name");
    c.tag("v0.13.0");
    p.release(&["collect", "cyclone"])
        .fails(2)
        .err_has("name `../../../evil` is not a chart name");
    untouched(&p, &head);
    assert!(!sb.path("ex/evil").exists() && !p.path.join("../evil").exists());
}

/// The work tree is clean and HEAD is still `head`: a refused run wrote nothing.
#[track_caller]
fn untouched(p: &crate::util::Repo, head: &str) {
    assert_eq!(p.status(), "");
    assert_eq!(p.git(&["rev-parse", "HEAD"]), head);
}

/// Run `git release ARGS` in `p` as issue 24 bounds it: it exits `code` within 5 s, its process
/// tree never holding 512 MiB.
#[track_caller]
fn bounded(p: &crate::util::Repo, args: &[&str], code: i32) -> crate::util::Run {
    let started = Instant::now();
    let run = p.release_measured(args).fails(code);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
    run.peak_rss_below(512 << 20);
    run
}
