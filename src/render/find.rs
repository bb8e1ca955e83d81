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
