//! `git release images` and rendered image lists in collect, end to end: charts written for the
//! tests, each using one construct that static reading got wrong (issue: image lists that match
//! what Helm deploys).

use crate::util::{Repo, Sandbox};

fn json(run: &crate::util::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn pod(image: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: {image}\n")
}

/// A platform repo with one chart per construct, committed.
fn platform(sb: &Sandbox) -> Repo<'_> {
    let mut p = sb.repo("platform");
    p.write(".gitrelease", "[release]\n\tproduct = demo\n");
    p.write(
        "version.yml",
        "spec:\n  modules:\n  - name: core\n    addons:\n    - name: helpers\n      namespace: infra\n      version: 1.0.0\n",
    );
    // 1. A value that is itself a template, rendered with tpl (ONF charts).
    p.write(
        "addons/tplvalue/Chart.yaml",
        "apiVersion: v2\nname: tplvalue\nversion: 1.0.0\nappVersion: 2.4.1\n",
    );
    p.write(
        "addons/tplvalue/values.yaml",
        "image:\n  repository: voltha/bbsim\n  tag: '{{ .Chart.AppVersion }}'\n",
    );
    p.write(
        "addons/tplvalue/templates/pod.yaml",
        &pod("\"{{ .Values.image.repository }}:{{ tpl .Values.image.tag . }}\""),
    );
    // 2 and 3. Names assembled in helpers (printf, include, default, trimPrefix) and a `v` added to appVersion.
    p.write(
        "addons/helpers/Chart.yaml",
        "apiVersion: v2\nname: helpers\nversion: 1.0.0\nappVersion: \"0.8.1\"\n",
    );
    p.write(
        "addons/helpers/values.yaml",
        "imageRegistry: registry.k8s.io\nimageNamespace: metrics-server\nimage:\n  name: metrics-server\n  tag: \"\"\n",
    );
    p.write(
        "addons/helpers/templates/_helpers.tpl",
        "{{- define \"helpers.image\" -}}\n{{- $tag := .Values.image.tag | default (printf \"v%s\" (.Chart.AppVersion | trimPrefix \"v\")) -}}\n{{- printf \"%s/%s/%s:%s\" .Values.imageRegistry .Values.imageNamespace .Values.image.name $tag -}}\n{{- end -}}\n",
    );
    p.write(
        "addons/helpers/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\nspec:\n  template:\n    spec:\n      containers:\n      - name: server\n        image: {{ include \"helpers.image\" . | quote }}\n        args: [\"--ns={{ .Release.Namespace }}\"]\n",
    );
    // 4. Components off by default: a values switch and a subchart condition.
    p.write(
        "addons/toggles/Chart.yaml",
        "apiVersion: v2\nname: toggles\nversion: 1.0.0\ndependencies:\n- name: extra\n  version: 1.0.0\n  condition: extra.enabled\n",
    );
    p.write(
        "addons/toggles/values.yaml",
        "main:\n  image: quay.io/demo/main:1.0.0\nexporter:\n  enabled: false\n  image: quay.io/demo/exporter:1.0.0\nextra:\n  enabled: false\n",
    );
    p.write(
        "addons/toggles/templates/main.yaml",
        &pod("{{ .Values.main.image }}"),
    );
    p.write(
        "addons/toggles/templates/exporter.yaml",
        &format!(
            "{{{{- if .Values.exporter.enabled }}}}\n{}{{{{- end }}}}\n",
            pod("{{ .Values.exporter.image }}")
        ),
    );
    p.write(
        "addons/toggles/charts/extra/Chart.yaml",
        "apiVersion: v2\nname: extra\nversion: 1.0.0\n",
    );
    p.write(
        "addons/toggles/charts/extra/values.yaml",
        "image: quay.io/demo/extra:1.0.0\n",
    );
    p.write(
        "addons/toggles/charts/extra/templates/pod.yaml",
        &pod("{{ .Values.image }}"),
    );
    // 5. Umbrella: the parent overrides the subchart's repository, not its tag; the tag falls
    // back to the subchart's appVersion, never the umbrella's.
    p.write(
        "addons/umbrella/Chart.yaml",
        "apiVersion: v2\nname: umbrella\nversion: 3.0.0\nappVersion: \"9.9.9\"\n",
    );
    p.write(
        "addons/umbrella/values.yaml",
        "db:\n  image:\n    repository: mirror.local/library/postgres\n",
    );
    p.write(
        "addons/umbrella/charts/db/Chart.yaml",
        "apiVersion: v2\nname: db\nversion: 1.0.0\nappVersion: \"16.4\"\n",
    );
    p.write(
        "addons/umbrella/charts/db/values.yaml",
        "image:\n  repository: library/postgres\n  tag: \"\"\n",
    );
    p.write(
        "addons/umbrella/charts/db/templates/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n",
    );
    // 6. Images in a template comment and in unused values; 7. a helm test hook; 8. the
    // helm.sh/images annotation.
    p.write(
        "addons/quiet/Chart.yaml",
        "apiVersion: v2\nname: quiet\nversion: 1.0.0\nannotations:\n  helm.sh/images: |\n    - name: reloader\n      image: ghcr.io/demo/reloader:0.3.0\n",
    );
    p.write(
        "addons/quiet/values.yaml",
        "image: quay.io/demo/quiet:2.0.0\nunused:\n  image: quay.io/demo/unused:1.0.0\n",
    );
    p.write(
        "addons/quiet/templates/pod.yaml",
        &format!(
            "{{{{/* image: quay.io/demo/commented:1.0.0 */}}}}\n{}",
            pod("{{ .Values.image }}")
        ),
    );
    p.write(
        "addons/quiet/templates/tests/test.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers:\n  - name: t\n    image: docker.io/bats/bats:1.14.0\n",
    );
    p.write("images/images_platform.list", "");
    p.commit("charts");
    p
}

fn images_of(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["image"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn images_are_what_the_charts_render() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p.release(&["images", "--json"]).ok();
    let v = json(&run);
    assert_eq!(
        images_of(&v, "images"),
        vec![
            "ghcr.io/demo/reloader:0.3.0",
            "mirror.local/library/postgres:16.4",
            "quay.io/demo/main:1.0.0",
            "quay.io/demo/quiet:2.0.0",
            "registry.k8s.io/metrics-server/metrics-server:v0.8.1",
            "voltha/bbsim:2.4.1",
        ],
        "{}",
        run.stdout
    );
    assert_eq!(
        images_of(&v, "test_images"),
        vec!["docker.io/bats/bats:1.14.0"]
    );
    assert_eq!(v["fallbacks"], serde_json::json!([]));
    // Provenance: chart, template file and line, object, how.
    let ms = &v["images"][4]["sources"][0];
    assert_eq!(ms["chart"], "addons/helpers");
    assert_eq!(ms["file"], "templates/deploy.yaml");
    assert_eq!(ms["line"], 11);
    assert_eq!(ms["object"], "Deployment/helpers");
    assert_eq!(ms["from"], "rendered");
    let ann = &v["images"][0]["sources"][0];
    assert_eq!(ann["from"], "annotation");
    assert_eq!(ann["file"], "Chart.yaml");
    // The table says the same.
    let run = p.release(&["images"]).ok();
    assert!(
        run.stdout
            .contains("addons/umbrella/charts/db/templates/sts.yaml:10 StatefulSet/db  (rendered)")
            && run
                .stdout
                .contains("helm test images (images_test.list, or the list of the workload that also runs them):\ndocker.io/bats/bats:1.14.0  [test]")
            && run.stdout.contains("HEAD: 6 image(s)"),
        "{}",
        run.stdout
    );
}

#[test]
fn release_name_and_namespace_come_from_the_folder_and_version_yml() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    let t = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ns\nspec:\n  containers:\n  - name: c\n    image: registry.local/{{ .Release.Namespace }}/{{ .Release.Name }}:1.0.0\n";
    // helpers is in version.yml with namespace infra; tplvalue is not (namespace default).
    p.write("addons/helpers/templates/ns.yaml", t);
    p.write("addons/tplvalue/templates/ns.yaml", t);
    p.commit("namespaced images");
    let v = json(
        &p.release(&["images", "--why", "registry.local", "--json"])
            .ok(),
    );
    assert_eq!(
        images_of(&v, "images"),
        vec![
            "registry.local/default/tplvalue:1.0.0",
            "registry.local/infra/helpers:1.0.0"
        ]
    );
}

#[test]
fn why_answers_for_one_image() {
    let sb = Sandbox::new();
    let p = platform(&sb);
    let run = p.release(&["images", "--why", "voltha/bbsim:2.4.1"]).ok();
    assert!(
        run.stdout.starts_with("voltha/bbsim:2.4.1  [platform]\n    addons/tplvalue/templates/pod.yaml:8 Pod/p  (rendered)"),
        "{}",
        run.stdout
    );
    p.release(&["images", "--why", "quay.io/demo/unused:1.0.0"])
        .fails(2)
        .err_has("no image of HEAD matches `quay.io/demo/unused:1.0.0`");
    p.release(&["images", "nosuch"]).fails(2);
}

/// Issue 25 item 3: a template that fails (here `required`) is read statically on its own (its
/// literal lines and the values it names) while the rest of the chart renders: the image of a
/// component that is off by default stays out, and JSON names the template, not the chart.
#[test]
fn a_template_that_cannot_render_falls_back_alone_with_a_warning() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    p.write(
        "addons/strict/Chart.yaml",
        "apiVersion: v2\nname: strict\nversion: 1.0.0\n",
    );
    p.write(
        "addons/strict/values.yaml",
        "image:\n  repository: quay.io/demo/strict\n  tag: 1.2.3\npassword: \"\"\nsidecar:\n  image:\n    repository: quay.io/demo/sidecar\n    tag: 0.1.0\nmetrics:\n  enabled: false\n  image:\n    repository: quay.io/demo/metrics\n    tag: 9.9.9\n",
    );
    p.write(
        "addons/strict/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: strict\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n{{- if .Values.metrics.enabled }}\n      - name: metrics\n        image: \"{{ .Values.metrics.image.repository }}:{{ .Values.metrics.image.tag }}\"\n{{- end }}\n",
    );
    p.write(
        "addons/strict/templates/secret.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: s\n  annotations:\n    p: {{ required \"password is required\" .Values.password }}\nspec:\n  containers:\n  - name: sidecar\n    image: \"{{ .Values.sidecar.image.repository }}:{{ .Values.sidecar.image.tag }}\"\n  - name: fixed\n    image: busybox:1.36\n",
    );
    p.commit("strict chart");
    let run = p.release(&["images", "--json"]).ok();
    let v = json(&run);
    let strict: Vec<&serde_json::Value> = v["fallbacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["chart"] == "addons/strict")
        .collect();
    assert_eq!(strict.len(), 1, "{}", v["fallbacks"]);
    assert_eq!(strict[0]["template"], "templates/secret.yaml");
    assert!(
        strict[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("templates/secret.yaml:6: executing"),
        "{}",
        v["fallbacks"]
    );
    run.err_has("warning: addons/strict: templates/secret.yaml cannot be rendered with its default values (templates/secret.yaml:6:")
        .err_has("password is required");
    let from = |image: &str| -> Vec<String> {
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["image"] == image)
            .flat_map(|e| e["sources"].as_array().unwrap().iter())
            .map(|s| {
                format!(
                    "{} {}",
                    s["from"].as_str().unwrap(),
                    s["file"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(
        from("quay.io/demo/strict:1.2.3"),
        vec!["rendered templates/deploy.yaml"]
    );
    assert_eq!(
        from("quay.io/demo/sidecar:0.1.0"),
        vec!["static templates/secret.yaml"]
    );
    assert_eq!(from("busybox:1.36"), vec!["static templates/secret.yaml"]);
    assert!(
        from("quay.io/demo/metrics:9.9.9").is_empty(),
        "off by default: {}",
        run.stdout
    );
}

#[test]
fn repos_entry_images_are_listed_with_their_entry() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    p.write(
        "repos/ops.yaml",
        "- repositoryFullName: demo/operator\n  currentTag: v1.0.0\n  images:\n  - quay.io/demo/config-reloader:0.9.0\n",
    );
    p.commit("operator");
    let run = p
        .release(&["images", "--why", "config-reloader", "--json"])
        .ok();
    let v = json(&run);
    let s = &v["images"][0]["sources"][0];
    assert_eq!(s["chart"], "repos/ops.yaml:3");
    assert_eq!(s["from"], "repos");
}

/// collect writes rendered lists and reports image changes per chart, images_*.list included.
#[test]
fn collect_reports_list_images_per_chart() {
    let sb = Sandbox::new();
    let mut c = sb.repo("components/web");
    let chart = |c: &Repo, v: &str, busybox: &str| {
        c.write(
            "chart/Chart.yaml",
            &format!("apiVersion: v2\nname: web\nversion: {v}\nappVersion: \"{v}\"\n"),
        );
        c.write("chart/values.yaml", "image:\n  repository: quay.io/demo/web\n  tag: \"\"\ndebug:\n  enabled: false\n  image: quay.io/demo/debug:1.0.0\n");
        c.write(
            "chart/templates/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n      {{- if .Values.debug.enabled }}\n      - name: debug\n        image: {{ .Values.debug.image }}\n      {{- end }}\n",
        );
        c.write(
            "chart/images_extra.list",
            &format!("library/busybox:{busybox}\n"),
        );
    };
    chart(&c, "1.0.0", "1.36");
    c.commit("1.0.0");
    c.tag("v1.0.0");
    chart(&c, "1.0.1", "1.37");
    c.commit("1.0.1");
    c.tag("v1.0.1");
    let mut p = sb.repo("platform");
    p.write(
        ".gitrelease",
        &format!(
            "[release]\n\tproduct = demo\n\tcomponentUrl = {}/components/{{name}}\n",
            sb.dir.path().display()
        ),
    );
    p.write(
        "repos/web.yaml",
        "- repositoryFullName: demo/web\n  currentTag: v1.0.0\n  chartPaths: [chart]\n",
    );
    p.write("version.yml", "spec:\n  modules:\n  - name: m\n    addons:\n    - name: web\n      namespace: web\n      version: 1.0.0\n");
    p.write("images/images_platform.list", "");
    p.commit("layout");
    p.release(&["collect", "--tag", "web=v1.0.0", "--commit"])
        .ok();
    assert_eq!(
        p.read("images/images_platform.list"),
        "quay.io/demo/web:1.0.0\n"
    );
    assert_eq!(p.read("images/images_extra.list"), "library/busybox:1.36\n");
    let run = p.release(&["collect", "--json"]).ok();
    let v = json(&run);
    let chart = &v["components"][0]["charts"][0];
    assert_eq!(
        chart["images_added"],
        serde_json::json!(["library/busybox:1.37", "quay.io/demo/web:1.0.1"]),
        "{v}"
    );
    assert_eq!(
        chart["images_removed"],
        serde_json::json!(["library/busybox:1.36", "quay.io/demo/web:1.0.0"])
    );
    // The disabled debug container is in no list.
    assert_eq!(
        p.read("images/images_platform.list"),
        "quay.io/demo/web:1.0.1\n"
    );
}

#[test]
fn release_kube_version_is_what_capabilities_report() {
    let sb = Sandbox::new();
    let mut p = platform(&sb);
    p.write(
        "addons/kube/Chart.yaml",
        "apiVersion: v2\nname: kube\nversion: 1.0.0\n",
    );
    p.write(
        "addons/kube/templates/pod.yaml",
        &pod("{{ if semverCompare \">=1.30-0\" .Capabilities.KubeVersion.Version }}quay.io/demo/new:2{{ else }}quay.io/demo/old:1{{ end }}"),
    );
    p.commit("kube-dependent image");
    let why = |config: &[&str]| {
        let v = json(
            &p.release_c(config, &["images", "--why", "quay.io/demo/", "--json"])
                .ok(),
        );
        images_of(&v, "images")
            .into_iter()
            .filter(|i| i.ends_with(":1") || i.ends_with(":2"))
            .collect::<Vec<_>>()
    };
    // Default: Helm v4's Kubernetes version.
    assert!(why(&[]).contains(&"quay.io/demo/new:2".to_string()));
    assert!(why(&["release.kubeVersion=v1.25.0"]).contains(&"quay.io/demo/old:1".to_string()));
    p.release_c(&["release.kubeVersion=latest"], &["images"])
        .fails(2)
        .err_has("setting release.kubeVersion `latest` is not a Kubernetes version");
}

/// Issue 25 item 3: missing keys read as Helm reads them (`missingkey=zero`, Go's field chains):
/// a variable or a parenthesised pipeline holding nil gives nil for its fields, a missing key of
/// a present map gives nil, `with`/`if`/`default` see nil as empty. Real Helm renders the same
/// chart archive (from `git release package`) and must deploy the very images we list.
#[test]
fn missing_keys_render_as_helm_renders_them() {
    let sb = Sandbox::new();
    let mut p = sb.repo("platform");
    p.write(".gitrelease", "[release]\n\tproduct = demo\n");
    p.write(
        "addons/nil/Chart.yaml",
        "apiVersion: v2\nname: nil\nversion: 1.0.0\n",
    );
    p.write(
        "addons/nil/values.yaml",
        "present:\n  tag: \"2.0\"\nempty: {}\n",
    );
    p.write(
        "addons/nil/templates/pod.yaml",
        r#"apiVersion: v1
kind: Pod
metadata:
  name: nil
spec:
  containers:
  {{- $x := .Values.missing }}
  - name: a
    image: "quay.io/demo/a:{{ $x.tag | default "1.0" }}"
  - name: b
    image: "quay.io/demo/b:{{ (.Values.missing).tag | default "1.1" }}"
  - name: c
    image: "quay.io/demo/c:{{ .Values.present.missing | default "1.2" }}"
  - name: d
    image: "quay.io/demo/d:{{ .Values.present.tag }}"
  {{- with .Values.missing }}
  - name: e
    image: "quay.io/demo/e:{{ .tag }}"
  {{- end }}
  - name: f
    image: "quay.io/demo/f:{{ $.Values.missing | default "1.3" }}"
  - name: g
    image: "quay.io/demo/g:{{ if .Values.empty.tag }}x{{ else }}1.4{{ end }}"
  - name: h
    image: "quay.io/demo/h:{{ index .Values.present "tag" }}"
  - name: i
    image: "quay.io/demo/i:{{ .Values.empty.tag | toString | replace "<nil>" "1.5" }}"
"#,
    );
    p.write("images/images_platform.list", "");
    p.commit("nil");
    p.git(&["tag", "-a", "-m", "v1.0.0", "v1.0.0"]);
    let run = p.release(&["images", "--json"]).ok();
    let v = json(&run);
    assert_eq!(v["fallbacks"], serde_json::json!([]), "{}", run.stderr);
    let ours = images_of(&v, "images");
    p.release(&["package", "-o", "out"]).ok();
    let pkg = p.package_in("out");
    let x = p.path.join("x");
    sb.untar(&pkg, &x);
    let archive = walk(&x)
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with("nil-1.0.0.tgz"))
        .expect("the chart archive in the package");
    let rendered = crate::util::helm_render(&[archive]).join("\n");
    let mut helm: Vec<String> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .map(|i| i.trim_matches('"').to_string())
        .collect();
    helm.sort();
    assert_eq!(ours, helm, "{rendered}");
    assert_eq!(ours.len(), 8, "{ours:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
