//! Image references in rendered manifests, read as Zarf's find-images reads them.
//!
//! Every string under a key named `image`, anywhere in an object, is an image reference: this
//! covers `containers`, `initContainers` and `ephemeralContainers` of every workload kind
//! (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController)
//! and custom resources that name images the same way (`Prometheus.spec.image`). Objects whose
//! `helm.sh/hook` annotation names `test` (or `test-success`) are `helm test` pods: their images
//! are reported apart.

use crate::render::{render, Options, RenderError, Rendered};

/// One image found in a rendered chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The reference as rendered (`[[ … ]]` placeholders kept).
    pub image: String,
    /// Chart-relative template path (`templates/deployment.yaml`, `charts/sub/templates/x.yaml`).
    pub template: String,
    /// 1-based line of the template action or text that wrote it, when known.
    pub line: Option<usize>,
    /// `Kind/name` of the object that names it.
    pub object: String,
    /// Whether the object is a `helm test` hook.
    pub test: bool,
}

/// Images of every document of a render, in document order, one entry per (image, object); and
/// warnings for strings under an `image` key that cannot be a reference (left out).
pub fn images(r: &Rendered) -> (Vec<Found>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for doc in &r.docs {
        let d = &doc.scan;
        let kind = d.kind.as_deref().unwrap_or("?");
        let name = d.name.as_deref().unwrap_or("?");
        let test = d
            .hook
            .as_deref()
            .is_some_and(|h| h.split(',').any(|p| p.trim().starts_with("test")));
        let mut refs: Vec<String> = Vec::new();
        let mut rejected: Vec<String> = Vec::new();
        for s in &d.images {
            let s = s.trim();
            if crate::image::reference::is_plausible(s) {
                if !refs.iter().any(|o| o == s) {
                    refs.push(s.to_string());
                }
            } else if !s.is_empty() && !rejected.iter().any(|o| o == s) {
                rejected.push(s.to_string());
            }
        }
        for bad in rejected {
            warnings.push(format!(
                "{}: {kind}/{name} has `image: {bad}`, which is not an image reference (whitespace, unrendered template text or an empty part); left out",
                doc.template
            ));
        }
        let (_, text, _) = &r.outputs[doc.output];
        let doc_text = &text[doc.range.clone()];
        for image in refs {
            let line = doc_text
                .find(image.as_str())
                .and_then(|i| r.line_at(doc.output, doc.range.start + i));
            let f = Found {
                image,
                template: doc.template.clone(),
                line,
                object: format!("{kind}/{name}"),
                test,
            };
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    (out, warnings)
}

/// What [`chart_images`] found: the images of the rendered manifests, warnings, and the
/// templates that failed while the others rendered ([`crate::render::Rendered::failed`]).
pub type ChartFound = (Vec<Found>, Vec<String>, Vec<(String, RenderError)>);

/// Render the chart in `files` and list the images of its manifests ([`images`]).
///
/// # Errors
///
/// [`RenderError`] when the whole chart cannot be rendered (see [`crate::render::render`]).
pub fn chart_images(
    files: &std::collections::BTreeMap<String, Vec<u8>>,
    opts: &Options,
) -> Result<ChartFound, RenderError> {
    let r = render(files, opts)?;
    let (found, mut warnings) = images(&r);
    warnings.extend(r.warnings.iter().cloned());
    Ok((found, warnings, r.failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn images(list: &[(&str, &str)]) -> Vec<String> {
        let r = render(&files(list), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        let (found, _) = super::images(&r);
        let mut v: Vec<String> = found.into_iter().map(|f| f.image).collect();
        v.sort();
        v.dedup();
        v
    }

    const POD: &str =
        "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: {{ .Values.image }}\n";

    #[test]
    fn subcharts_globals_alias_tags_conditions() {
        let got = images(&[
            ("Chart.yaml", "name: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  alias: one\n- name: sub\n  alias: two\n  tags: [extras]\n- name: sub\n  alias: three\n  condition: three.on,global.three\n  tags: [extras]\n"),
            ("values.yaml", "global:\n  registry: r.io\none:\n  image: x/one:1\ntwo:\n  image: x/two:1\nthree:\n  on: true\n  image: x/three:1\ntags:\n  extras: false\n"),
            ("charts/sub/Chart.yaml", "name: sub\nversion: 0.1.0\n"),
            ("charts/sub/values.yaml", "image: x/default:1\nglobal:\n  registry: own.io\n"),
            ("charts/sub/templates/pod.yaml", "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: {{ .Values.global.registry }}/{{ .Values.image }}\n"),
        ]);
        // two is off by its tag; three's condition wins over the tag; globals come from the parent.
        assert_eq!(got, vec!["r.io/x/one:1", "r.io/x/three:1"]);
    }

    #[test]
    fn null_in_parent_removes_a_default() {
        let got = images(&[
            ("Chart.yaml", "name: top\nversion: 1.0.0\n"),
            ("values.yaml", "image: x/a:1\nsidecar: null\n"),
            ("charts/s/Chart.yaml", "name: s\nversion: 1.0.0\n"),
            ("charts/s/values.yaml", "image: x/s:1\n"),
            ("charts/s/templates/p.yaml", POD),
            ("templates/p.yaml", "{{- if .Values.sidecar }}\nkind: Pod\nspec:\n  containers:\n  - image: side\n{{- end }}\n---\n# comment only\n---# cert-manager style\nkind: Pod\nspec:\n  containers:\n  - image: {{ .Values.image }}\n"),
        ]);
        assert_eq!(got, vec!["x/a:1", "x/s:1"]);
    }

    #[test]
    fn files_capabilities_and_template_files_by_name() {
        let got = images(&[
            ("Chart.yaml", "name: c\nversion: 1.0.0\nappVersion: 1.10\n"),
            ("values.yaml", "tag: 1.10\nbig: 1000000\n"),
            ("files/images.txt", "x/from-file:2\n"),
            ("templates/cm.yaml", "kind: ConfigMap\ndata:\n{{ (.Files.Glob \"files/*\").AsConfig | indent 2 }}\n"),
            ("templates/p.yaml", concat!(
                "kind: Pod\nmetadata:\n  annotations:\n    checksum: {{ include (print $.Template.BasePath \"/cm.yaml\") . | sha256sum }}\nspec:\n  containers:\n",
                "  - image: {{ .Files.Get \"files/images.txt\" | trim }}\n",
                "  - image: x/app:{{ .Chart.AppVersion }}\n",
                "  - image: x/float:{{ .Values.tag }}\n",
                "  - image: x/big:{{ .Values.big }}\n",
                "  {{- if .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" }}\n  - image: x/monitoring:1\n  {{- end }}\n",
                "  {{- if semverCompare \">=1.25-0\" .Capabilities.KubeVersion.Version }}\n  - image: x/new-kube:1\n  {{- end }}\n",
                "  {{- if (lookup \"v1\" \"Secret\" \"ns\" \"s\").data }}\n  - image: x/cluster:1\n  {{- end }}\n",
            )),
        ]);
        // Chart.yaml keeps `1.10` as written; values are floats, printed as Go prints them.
        assert_eq!(
            got,
            vec![
                "x/app:1.10",
                "x/big:1e+06",
                "x/float:1.1",
                "x/from-file:2",
                "x/new-kube:1"
            ]
        );
    }

    #[test]
    fn helmignore_and_packaged_subcharts() {
        let mut tgz = Vec::new();
        {
            let gz = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::default());
            let mut t = tar::Builder::new(gz);
            for (p, d) in [
                ("packed/Chart.yaml", "name: packed\nversion: 1.0.0\n"),
                ("packed/values.yaml", "image: x/packed:3\n"),
                ("packed/templates/p.yaml", POD),
            ] {
                let mut h = tar::Header::new_gnu();
                h.set_size(d.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                t.append_data(&mut h, p, d.as_bytes()).unwrap();
            }
            t.into_inner().unwrap().finish().unwrap();
        }
        let mut f = files(&[
            ("Chart.yaml", "name: c\nversion: 1.0.0\n"),
            ("values.yaml", "image: x/c:1\n"),
            (".helmignore", "# comment\ntests/\n*.bak\n"),
            ("templates/p.yaml", POD),
            (
                "templates/tests/t.yaml",
                "kind: Pod\nspec:\n  containers:\n  - image: x/ignored:1\n",
            ),
            (
                "templates/old.yaml.bak",
                "kind: Pod\nspec:\n  containers:\n  - image: x/bak:1\n",
            ),
        ]);
        f.insert("charts/packed-1.0.0.tgz".into(), tgz);
        let r = render(&f, &Options::default()).unwrap();
        let mut got: Vec<String> = super::images(&r).0.into_iter().map(|f| f.image).collect();
        got.sort();
        assert_eq!(got, vec!["x/c:1", "x/packed:3"]);
    }

    #[test]
    fn placeholders_test_hooks_and_lines() {
        let f = files(&[
            ("Chart.yaml", "name: c\nversion: 1.0.0\n"),
            ("values.yaml", "registry: '[[ registry_release ]]'\n"),
            ("templates/p.yaml", "# header\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: {{ .Values.registry }}/x/a:1\n"),
            ("templates/t.yaml", "kind: Pod\nmetadata:\n  name: t\n  annotations:\n    \"helm.sh/hook\": test-success\nspec:\n  containers:\n  - image: x/test:1\n"),
        ]);
        let r = render(&f, &Options::default()).unwrap();
        let (found, _) = super::images(&r);
        assert_eq!(found[0].image, "[[ registry_release ]]/x/a:1");
        assert_eq!((found[0].line, found[0].test), (Some(8), false));
        assert_eq!(found[0].object, "Pod/p");
        assert_eq!((found[1].image.as_str(), found[1].test), ("x/test:1", true));
    }

    /// The one failed template of a chart that otherwise rendered.
    fn failed_template(r: Result<crate::render::Rendered, RenderError>) -> RenderError {
        let r = r.unwrap();
        assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
        r.failed[0].1.clone()
    }

    #[test]
    fn errors_name_file_and_line() {
        // An execution error fails its template only: the others render.
        let r = render(
            &files(&[
                ("Chart.yaml", "name: c\nversion: 1.0.0\n"),
                (
                    "templates/p.yaml",
                    "a: 1\n\nb: {{ required \"b is required\" .Values.b }}\n",
                ),
                (
                    "templates/q.yaml",
                    "kind: Pod\nmetadata:\n  name: q\nspec:\n  containers:\n  - image: x/q:1\n",
                ),
            ]),
            &Options::default(),
        );
        let ok = r.as_ref().map(|r| super::images(r).0).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].image, "x/q:1");
        let e = failed_template(r);
        assert_eq!((e.file.as_str(), e.line), ("templates/p.yaml", 3));
        assert!(e.msg.contains("b is required"), "{e}");
        // A template that does not parse stops the chart, as in Helm.
        let e = render(
            &files(&[
                ("Chart.yaml", "name: c\nversion: 1.0.0\n"),
                ("templates/p.yaml", "{{ if .Values.x }}\n"),
            ]),
            &Options::default(),
        )
        .err()
        .unwrap();
        assert_eq!(e.file, "templates/p.yaml");
        let e = render(
            &files(&[
                ("Chart.yaml", "name: c\nversion: 1.0.0\n"),
                ("templates/p.yaml", "image: [\n"),
            ]),
            &Options::default(),
        );
        let e = failed_template(e);
        assert!(e.msg.starts_with("rendered manifest is not YAML"), "{e}");
    }
}
