//! Image references in rendered manifests, read as Zarf's find-images reads them.
//!
//! Every string under a key named `image`, anywhere in an object, is an image reference: this
//! covers `containers`, `initContainers` and `ephemeralContainers` of every workload kind
//! (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController)
//! and custom resources that name images the same way (`Prometheus.spec.image`). Objects whose
//! `helm.sh/hook` annotation names `test` (or `test-success`) are `helm test` pods: their images
//! are reported apart.

use super::chart::Rendered;

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
        let v = &doc.value;
        let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
        let name = v
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("?");
        let test = v
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("helm.sh/hook"))
            .and_then(|h| h.as_str())
            .is_some_and(|h| h.split(',').any(|p| p.trim().starts_with("test")));
        let mut refs = Vec::new();
        let mut rejected = Vec::new();
        walk(v, &mut refs, &mut rejected, 0);
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

fn walk(v: &serde_yaml::Value, out: &mut Vec<String>, rejected: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        serde_yaml::Value::Mapping(m) => {
            for (k, x) in m {
                if k.as_str() == Some("image") {
                    if let Some(s) = x.as_str() {
                        let s = s.trim();
                        if is_reference(s) {
                            if !out.iter().any(|o| o == s) {
                                out.push(s.to_string());
                            }
                        } else if !s.is_empty() && !rejected.iter().any(|o| o == s) {
                            rejected.push(s.to_string());
                        }
                        continue;
                    }
                }
                walk(x, out, rejected, depth + 1);
            }
        }
        serde_yaml::Value::Sequence(s) => s.iter().for_each(|x| walk(x, out, rejected, depth + 1)),
        serde_yaml::Value::Tagged(t) => walk(&t.value, out, rejected, depth + 1),
        _ => {}
    }
}

/// Whether a rendered string can name an image: non-empty, no whitespace outside `[[ … ]]`
/// placeholders, not a bare separator left by empty values (`:`, `/:`, `@`).
pub fn is_reference(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let mut rest = s.to_string();
    while let (Some(i), Some(j)) = (rest.find("[["), rest.find("]]")) {
        if j < i {
            break;
        }
        rest.replace_range(i..j + 2, "x");
    }
    !rest.chars().any(char::is_whitespace)
        && rest.chars().any(|c| c.is_ascii_alphanumeric())
        && !rest.ends_with(':')
        && !rest.ends_with('/')
        && !rest.ends_with('@')
}
