//! Helm's chart model for rendering: chart tree (unpacked and packaged subcharts), dependency
//! `condition`/`tags`/`alias`, values coalescing, and rendering every template of every enabled chart.
//!
//! Rules from Helm v3/v4 `pkg/chart/loader`, `pkg/chartutil/{coalesce,dependencies}.go` and
//! `pkg/engine/engine.go`.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::rc::Rc;

use super::exec::{self, Marks, TemplateSet};
use super::value::Object;
use super::value::Value;

/// Render settings: what `helm template --name-template NAME --namespace NS --kube-version V` sets.
#[derive(Debug, Clone)]
pub struct Options {
    /// `.Release.Name`.
    pub release_name: String,
    /// `.Release.Namespace`.
    pub namespace: String,
    /// `.Capabilities.KubeVersion.Version`, `vMAJOR.MINOR.PATCH`.
    pub kube_version: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release_name: "release".into(),
            namespace: "default".into(),
            kube_version: DEFAULT_KUBE_VERSION.into(),
        }
    }
}

use crate::versions::DEFAULT_KUBE_VERSION;

/// Why a chart could not be rendered: chart-relative file, 1-based line (0 when unknown) and the error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}:{line}: {msg}")]
pub struct RenderError {
    /// Chart-relative path (`templates/dep.yaml`, `charts/sub/values.yaml`).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What failed.
    pub msg: String,
}

fn rerr(file: &str, line: usize, msg: impl Into<String>) -> RenderError {
    RenderError {
        file: file.into(),
        line,
        msg: msg.into(),
    }
}

/// One chart of the tree.
struct Chart {
    /// Folder prefix within the top chart's files (`""`, `charts/sub/`).
    dir: String,
    /// Name (the alias when aliased).
    name: String,
    meta: serde_yaml::Mapping,
    values: serde_yaml::Value,
    templates: Vec<(String, String)>,
    files: BTreeMap<String, Vec<u8>>,
    subs: Vec<Chart>,
    library: bool,
}

/// A rendered manifest document.
pub struct Doc {
    /// Chart-relative path of the template that produced it.
    pub template: String,
    /// Index into [`Rendered::outputs`].
    pub output: usize,
    /// Byte range of the document in that output.
    pub range: std::ops::Range<usize>,
    /// What the document says about images (`[[ … ]]` placeholders kept as text).
    pub scan: super::scan::DocScan,
}

/// The output of a render: each template's text with its line marks, and the documents.
#[derive(Default)]
pub struct Rendered {
    /// `(chart-relative template path, output, marks)`.
    pub outputs: Vec<(String, String, Marks)>,
    /// Every non-empty document.
    pub docs: Vec<Doc>,
    /// Non-fatal notes (unknown dependency, non-boolean condition).
    pub warnings: Vec<String>,
    /// Templates that failed while the others rendered: `(chart-relative path of the template
    /// executed, why)`: an execution error (`required`, `fail`, a nil pointer, the render budget)
    /// or a rendered document that is not YAML. Their documents are left out.
    pub failed: Vec<(String, RenderError)>,
}

impl Rendered {
    /// The template line that wrote byte `offset` of output `output`.
    pub fn line_at(&self, output: usize, offset: usize) -> Option<usize> {
        let (_, text, marks) = &self.outputs[output];
        let i = marks.partition_point(|m| m.0 <= offset);
        let (start, line, is_text) = *marks.get(i.checked_sub(1)?)?;
        Some(if is_text {
            line + text[start..offset].matches('\n').count()
        } else {
            line
        })
    }
}

fn utf8(path: &str, bytes: &[u8]) -> Result<String, RenderError> {
    String::from_utf8(crate::placeholders::strip_bom(bytes).to_vec())
        .map_err(|_| rerr(path, 0, "not UTF-8"))
}

fn yaml_value(path: &str, bytes: &[u8]) -> Result<serde_yaml::Value, RenderError> {
    let text = utf8(path, bytes)?;
    crate::yaml::check_nesting(text.as_bytes()).map_err(|m| rerr(path, 0, m.to_string()))?;
    let mut v: serde_yaml::Value = serde_yaml::from_str(&text)
        .map_err(|e| rerr(path, e.location().map_or(0, |l| l.line()), e.to_string()))?;
    let _ = v.apply_merge();
    Ok(v)
}

/// Load the chart in `files` (paths relative to the chart folder) with its subcharts.
fn load(dir: &str, files: &BTreeMap<String, Vec<u8>>, depth: usize) -> Result<Chart, RenderError> {
    if depth > 20 {
        return Err(rerr(dir, 0, "subcharts nested too deeply"));
    }
    let chart_yaml = format!("{dir}Chart.yaml");
    let meta = match files.get(&chart_yaml) {
        Some(b) => match yaml_value(&chart_yaml, b)? {
            serde_yaml::Value::Mapping(m) => m,
            _ => return Err(rerr(&chart_yaml, 1, "Chart.yaml is not a mapping")),
        },
        None => return Err(rerr(&chart_yaml, 0, "Chart.yaml is missing")),
    };
    let values_path = format!("{dir}values.yaml");
    let values = match files.get(&values_path) {
        Some(b) => match yaml_value(&values_path, b)? {
            serde_yaml::Value::Null => serde_yaml::Value::Mapping(Default::default()),
            v @ serde_yaml::Value::Mapping(_) => v,
            _ => return Err(rerr(&values_path, 1, "values.yaml is not a mapping")),
        },
        None => serde_yaml::Value::Mapping(Default::default()),
    };
    let name = meta
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            dir.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string()
        });
    let library = meta.get("type").and_then(|v| v.as_str()) == Some("library");
    let mut chart = Chart {
        dir: dir.to_string(),
        name,
        meta,
        values,
        templates: Vec::new(),
        files: BTreeMap::new(),
        subs: Vec::new(),
        library,
    };
    let mut sub_dirs: Vec<String> = Vec::new();
    for (path, bytes) in files.range(dir.to_string()..) {
        let Some(rel) = path.strip_prefix(dir) else {
            break;
        };
        if let Some(rest) = rel.strip_prefix("charts/") {
            if let Some((sub, _)) = rest.split_once('/') {
                let d = format!("{dir}charts/{sub}/");
                if sub_dirs.last() != Some(&d) && files.contains_key(&format!("{d}Chart.yaml")) {
                    sub_dirs.push(d);
                }
            } else if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") {
                chart.subs.push(load_archive(path, bytes, depth)?);
            }
            continue;
        }
        if rel.starts_with("templates/") {
            chart.templates.push((path.clone(), utf8(path, bytes)?));
        } else if rel != "Chart.yaml" && rel != "values.yaml" {
            chart.files.insert(rel.to_string(), bytes.clone());
        }
    }
    for d in sub_dirs {
        chart.subs.push(load(&d, files, depth + 1)?);
    }
    Ok(chart)
}

/// A packaged subchart (`charts/x-1.0.0.tgz`): a gzipped tar with one top folder.
fn load_archive(path: &str, bytes: &[u8], depth: usize) -> Result<Chart, RenderError> {
    let mut files = BTreeMap::new();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let entries = ar.entries().map_err(|e| rerr(path, 0, e.to_string()))?;
    let mut total = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(|e| rerr(path, 0, e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let p = entry
            .path()
            .map_err(|e| rerr(path, 0, e.to_string()))?
            .to_string_lossy()
            .into_owned();
        let Some((_, rel)) = p.split_once('/') else {
            continue;
        };
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| rerr(path, 0, e.to_string()))?;
        total += data.len();
        if total > 64 << 20 {
            return Err(rerr(
                path,
                0,
                "packaged subchart larger than 64 MiB unpacked",
            ));
        }
        files.insert(format!("{path}/{rel}"), data);
    }
    let mut c = load(&format!("{path}/"), &files, depth + 1)?;
    // Files of a packaged chart are named inside the archive.
    c.dir = format!("{path}/");
    Ok(c)
}

fn yaml_to_map(v: &serde_yaml::Value) -> BTreeMap<String, Value> {
    match Value::from_yaml(v) {
        Value::Map(m) => m.borrow().clone(),
        _ => BTreeMap::new(),
    }
}

/// Helm's `coalesceValues`: `dest` (higher priority) filled from `src` defaults; a `null` in
/// `dest` removes the key.
fn coalesce_tables(dest: &super::value::Map, src: &BTreeMap<String, Value>) {
    let mut d = dest.borrow_mut();
    for (k, v) in src {
        match d.get(k) {
            None => {
                d.insert(k.clone(), v.deep_copy());
            }
            Some(Value::Map(dm)) => {
                if let Value::Map(sm) = v {
                    let dm = dm.clone();
                    let sm = sm.borrow().clone();
                    drop(d);
                    coalesce_tables(&dm, &sm);
                    d = dest.borrow_mut();
                }
            }
            Some(_) => {}
        }
    }
    d.retain(|_, v| !matches!(v, Value::Nil));
}

fn child_map(parent: &super::value::Map, key: &str) -> super::value::Map {
    let existing = parent.borrow().get(key).cloned();
    match existing {
        Some(Value::Map(m)) => m,
        _ => {
            let m = Rc::new(std::cell::RefCell::new(BTreeMap::new()));
            parent
                .borrow_mut()
                .insert(key.to_string(), Value::Map(m.clone()));
            m
        }
    }
}

/// Helm's `coalesce` of a chart into `dest`, recursively into subcharts with globals pushed down.
fn coalesce(chart: &Chart, dest: &super::value::Map) {
    coalesce_tables(dest, &yaml_to_map(&chart.values));
    for sub in &chart.subs {
        let sv = child_map(dest, &sub.name);
        // Parent globals win over the subchart's.
        let pg = dest.borrow().get("global").cloned();
        if let Some(Value::Map(pg)) = pg {
            let sg = child_map(&sv, "global");
            let parent_globals = pg.borrow().clone();
            let sub_globals = sg.borrow().clone();
            let mut merged = parent_globals;
            for (k, v) in sub_globals {
                match (merged.get(&k).cloned(), &v) {
                    (Some(Value::Map(pm)), Value::Map(sm)) => {
                        let pm = Value::Map(pm).deep_copy();
                        if let Value::Map(pm) = &pm {
                            coalesce_tables(pm, &sm.borrow());
                        }
                        merged.insert(k, pm);
                    }
                    (None, _) => {
                        merged.insert(k, v);
                    }
                    _ => {}
                }
            }
            *sg.borrow_mut() = merged;
        }
        coalesce(sub, &sv);
    }
}

fn lookup_path(values: &super::value::Map, path: &str) -> Option<Value> {
    let mut cur = Value::Map(values.clone());
    for part in path.split('.') {
        cur = match &cur {
            Value::Map(m) => m.borrow().get(part)?.clone(),
            _ => return None,
        };
    }
    Some(cur)
}

/// Helm's `ProcessDependencies`: aliases, then `tags`, then `condition` (which wins), then
/// subcharts disabled are dropped; recursive. Values are looked up in the top chart's
/// coalesced values, `path` being the subchart path prefix (`sub.`).
fn process_dependencies(
    chart: &mut Chart,
    top: &super::value::Map,
    path: &str,
    warnings: &mut Vec<String>,
) {
    let deps = match chart.meta.get("dependencies") {
        Some(serde_yaml::Value::Sequence(s)) => s.clone(),
        _ => Vec::new(),
    };
    // Aliases: a dependency with an alias gets a copy of the subchart under the alias.
    let mut enabled: BTreeMap<String, bool> = BTreeMap::new();
    let mut subs: Vec<Chart> = Vec::new();
    let mut taken = vec![false; chart.subs.len()];
    for dep in &deps {
        let name = dep.get("name").and_then(|v| v.as_str()).unwrap_or("");
        let alias = dep.get("alias").and_then(|v| v.as_str());
        let Some(i) = chart.subs.iter().position(|c| c.name == name) else {
            warnings.push(format!(
                "{}Chart.yaml: dependency `{name}` is not in charts/ (run `helm dependency build`); it is not rendered",
                chart.dir
            ));
            continue;
        };
        let mut sub = clone_chart(&chart.subs[i]);
        taken[i] = true;
        if let Some(a) = alias {
            sub.name = a.to_string();
        }
        let mut on = true;
        if let Some(serde_yaml::Value::Sequence(tags)) = dep.get("tags") {
            let mut any_true = false;
            let mut any_found = false;
            for t in tags.iter().filter_map(|t| t.as_str()) {
                if let Some(Value::Bool(b)) = lookup_path(top, &format!("tags.{t}")) {
                    any_found = true;
                    any_true |= b;
                }
            }
            if any_found {
                on = any_true;
            }
        }
        if let Some(cond) = dep.get("condition").and_then(|v| v.as_str()) {
            for c in cond.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                match lookup_path(top, &format!("{path}{c}")) {
                    Some(Value::Bool(b)) => {
                        on = b;
                        break;
                    }
                    Some(Value::Nil) | None => {}
                    Some(other) => warnings.push(format!(
                        "{}Chart.yaml: condition path `{c}` returned a non-bool value ({}); ignored",
                        chart.dir,
                        other.to_go_string()
                    )),
                }
            }
        }
        enabled.insert(sub.name.clone(), on);
        subs.push(sub);
    }
    // Subcharts not named in dependencies are always enabled.
    for (i, c) in chart.subs.drain(..).enumerate() {
        if !taken[i] {
            enabled.insert(c.name.clone(), true);
            subs.push(c);
        }
    }
    subs.retain(|c| enabled.get(&c.name).copied().unwrap_or(true));
    for sub in &mut subs {
        let p = format!("{path}{}.", sub.name);
        process_dependencies(sub, top, &p, warnings);
    }
    chart.subs = subs;
}

fn clone_chart(c: &Chart) -> Chart {
    Chart {
        dir: c.dir.clone(),
        name: c.name.clone(),
        meta: c.meta.clone(),
        values: c.values.clone(),
        templates: c.templates.clone(),
        files: c.files.clone(),
        subs: c.subs.iter().map(clone_chart).collect(),
        library: c.library,
    }
}

/// `.Chart`: Chart.yaml with Helm's Go field names (`Name`, `Version`, `AppVersion`, `APIVersion`, …).
/// Scalars keep their written text (`appVersion: 1.10` is `1.10`), as Helm's typed metadata does.
fn chart_object(meta: &serde_yaml::Mapping, name: &str) -> Value {
    let mut m = BTreeMap::new();
    for (k, v) in meta {
        let Some(k) = k.as_str() else { continue };
        let go = match k {
            "apiVersion" => "APIVersion".to_string(),
            "kubeVersion" => "KubeVersion".to_string(),
            "appVersion" => "AppVersion".to_string(),
            other => {
                let mut c = other.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        };
        let val = match v {
            serde_yaml::Value::Number(n) => Value::str(n.to_string()),
            other => Value::from_yaml(other),
        };
        m.insert(go, val);
    }
    m.insert("Name".into(), Value::str(name));
    for key in [
        "Version",
        "AppVersion",
        "Description",
        "Type",
        "KubeVersion",
    ] {
        m.entry(key.to_string()).or_insert_with(|| Value::str(""));
    }
    m.insert("IsRoot".into(), Value::Bool(false));
    Value::map(m)
}

/// Read the written text of numeric Chart.yaml scalars (`appVersion: 1.10`), which serde_yaml
/// would turn into `1.1`.
fn raw_scalars(bytes: &[u8], meta: &mut serde_yaml::Mapping) {
    let text = String::from_utf8_lossy(bytes);
    for key in ["appVersion", "version"] {
        if !matches!(meta.get(key), Some(serde_yaml::Value::Number(_))) {
            continue;
        }
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
                let raw = rest.split(" #").next().unwrap_or("").trim();
                meta.insert(key.into(), serde_yaml::Value::String(raw.to_string()));
                break;
            }
        }
    }
}

const API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1",
    "apps/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "certificates.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1",
    "networking.k8s.io/v1",
    "node.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "resource.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
];

const API_KINDS: &[&str] = &[
    "v1/ConfigMap",
    "v1/Pod",
    "v1/Secret",
    "v1/Service",
    "v1/ServiceAccount",
    "apps/v1/DaemonSet",
    "apps/v1/Deployment",
    "apps/v1/StatefulSet",
    "autoscaling/v2/HorizontalPodAutoscaler",
    "batch/v1/CronJob",
    "batch/v1/Job",
    "networking.k8s.io/v1/Ingress",
    "networking.k8s.io/v1/IngressClass",
    "networking.k8s.io/v1/NetworkPolicy",
    "policy/v1/PodDisruptionBudget",
    "rbac.authorization.k8s.io/v1/ClusterRole",
    "rbac.authorization.k8s.io/v1/Role",
];

fn capabilities(kube: &str) -> Value {
    let v = kube.trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts.next().unwrap_or("1").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    let mut kv = BTreeMap::new();
    kv.insert("Version".into(), Value::str(format!("v{v}")));
    kv.insert("GitVersion".into(), Value::str(format!("v{v}")));
    kv.insert("Major".into(), Value::str(major));
    kv.insert("Minor".into(), Value::str(minor));
    let mut api: Vec<String> = API_VERSIONS.iter().map(|s| s.to_string()).collect();
    api.extend(API_KINDS.iter().map(|s| s.to_string()));
    let mut c = BTreeMap::new();
    c.insert("KubeVersion".into(), Value::map(kv));
    c.insert(
        "APIVersions".into(),
        Value::Object(Rc::new(Object::ApiVersions(Rc::new(api)))),
    );
    let mut hv = BTreeMap::new();
    hv.insert("Version".into(), Value::str("v3.19.0"));
    hv.insert("GitCommit".into(), Value::str(""));
    hv.insert("GoVersion".into(), Value::str("go1.25"));
    c.insert("HelmVersion".into(), Value::map(hv));
    Value::map(c)
}

/// Render the chart in `files` (chart-relative paths -> bytes, `charts/*/` and `charts/*.tgz`
/// subcharts included) as `helm template` does with the chart's default values.
///
/// # Errors
///
/// The first problem that stops the whole chart: Chart.yaml or values.yaml unreadable, a
/// template that does not parse. A template that fails to execute (`required`, `fail`, nil
/// pointer, the budget) or renders a document that is not YAML is left out and named in
/// [`Rendered::failed`]; the other templates render, so that the images of the rest of the
/// chart are read as Helm would render them.
///
/// The whole render runs under one budget ([`super::budget`], the limits of
/// [`crate::limits::get`]); exceeding it is an execution error at the template's line.
///
/// Each render runs on its own thread with a [`RENDER_STACK`] stack: values a template chains
/// (`$d = dict "a" $d` in a loop, up to the memory budget) are freed recursively, deeper than an
/// ordinary thread's stack allows. The stack is reserved address space; only what is used is
/// touched.
pub fn render(files: &BTreeMap<String, Vec<u8>>, opts: &Options) -> Result<Rendered, RenderError> {
    render_with_limits(files, opts, crate::limits::get())
}

/// [`render`] under `limits` instead of the process's (the fuzz targets' small budget).
///
/// # Errors
///
/// As [`render`].
pub fn render_with_limits(
    files: &BTreeMap<String, Vec<u8>>,
    opts: &Options,
    limits: crate::limits::Limits,
) -> Result<Rendered, RenderError> {
    let within = || super::budget::scope(limits, || render_within_budget(files, opts));
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("render".into())
            .stack_size(RENDER_STACK)
            .spawn_scoped(s, within)
        {
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            // No thread to be had: render here (the budget still holds).
            Err(_) => super::budget::scope(limits, || render_within_budget(files, opts)),
        }
    })
}

/// The stack of a render thread (1 GiB of address space): the memory budget's worth of chained
/// dicts (about 600 bytes each) is freed at about 300 bytes of stack a level.
pub const RENDER_STACK: usize = 1 << 30;

fn render_within_budget(
    files: &BTreeMap<String, Vec<u8>>,
    opts: &Options,
) -> Result<Rendered, RenderError> {
    // Helm applies the top chart's .helmignore to the whole folder, subcharts included, with
    // the rules `helm package` follows (crate::archive).
    let filtered;
    let files = match files.get(".helmignore") {
        Some(b) => {
            let text = utf8(".helmignore", b)?;
            let ignore = crate::chart::helmignore::IgnoreRules::from_text(".", &text)
                .map_err(|e| rerr(".helmignore", 0, e.to_string()))?;
            filtered = files
                .iter()
                .filter(|(k, _)| *k == "Chart.yaml" || !ignore.ignores_file(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>();
            &filtered
        }
        None => files,
    };
    let mut chart = load("", files, 0)?;
    fix_raw(&mut chart, files);
    let mut rendered = Rendered::default();
    let top = Rc::new(std::cell::RefCell::new(BTreeMap::new()));
    coalesce(&chart, &top);
    process_dependencies(&mut chart, &top, "", &mut rendered.warnings);
    // Values again over the enabled tree (Helm coalesces once more after dependencies).
    let top = Rc::new(std::cell::RefCell::new(BTreeMap::new()));
    coalesce(&chart, &top);

    // Parse every template; parent defines win (added last).
    let mut all: Vec<(String, &Chart, Vec<String>, &String, &String)> = Vec::new();
    fn collect<'c>(
        c: &'c Chart,
        chain: Vec<String>,
        top_name: &str,
        out: &mut Vec<(String, &'c Chart, Vec<String>, &'c String, &'c String)>,
    ) {
        for (path, text) in &c.templates {
            let rel = path.strip_prefix(&c.dir).unwrap_or(path);
            let mut name = top_name.to_string();
            for sub in &chain {
                name.push_str("/charts/");
                name.push_str(sub);
            }
            name.push('/');
            name.push_str(rel);
            out.push((name, c, chain.clone(), path, text));
        }
        for s in &c.subs {
            let mut ch = chain.clone();
            ch.push(s.name.clone());
            collect(s, ch, top_name, out);
        }
    }
    collect(&chart, Vec::new(), &chart.name, &mut all);
    let mut parsed = Vec::with_capacity(all.len());
    for (_, _, _, path, text) in &all {
        let p = super::parse::parse(text).map_err(|e| rerr(path, e.line, e.msg))?;
        parsed.push(p);
    }
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(all[i].2.len()));
    let mut set = TemplateSet::default();
    for &i in &order {
        set.add(&all[i].0, &parsed[i]);
    }

    let release = {
        let mut m = BTreeMap::new();
        m.insert("Name".into(), Value::str(opts.release_name.as_str()));
        m.insert("Namespace".into(), Value::str(opts.namespace.as_str()));
        m.insert("IsInstall".into(), Value::Bool(true));
        m.insert("IsUpgrade".into(), Value::Bool(false));
        m.insert("Revision".into(), Value::Int(1));
        m.insert("Service".into(), Value::str("Helm"));
        Value::map(m)
    };
    let caps = capabilities(&opts.kube_version);
    static SPLITTER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let splitter =
        SPLITTER.get_or_init(|| regex::Regex::new(r"(?:^|\s*\n)---\s*").expect("static regex"));
    for (i, (name, c, chain, path, _)) in all.iter().enumerate() {
        let rel = path.strip_prefix(&c.dir).unwrap_or(path);
        let base = rel.rsplit('/').next().unwrap_or(rel);
        if c.library || base.starts_with('_') || rel == "templates/NOTES.txt" {
            continue;
        }
        let mut values = top.clone();
        for sub in chain {
            values = child_map(&values, sub);
        }
        let mut dot = BTreeMap::new();
        dot.insert("Values".to_string(), Value::Map(values));
        dot.insert("Release".to_string(), release.clone());
        let chart_obj = chart_object(&c.meta, &c.name);
        if let Value::Map(m) = &chart_obj {
            m.borrow_mut()
                .insert("IsRoot".into(), Value::Bool(chain.is_empty()));
        }
        dot.insert("Chart".to_string(), chart_obj);
        dot.insert(
            "Files".to_string(),
            Value::Object(Rc::new(Object::Files(Rc::new(c.files.clone())))),
        );
        dot.insert("Capabilities".to_string(), caps.clone());
        let mut t = BTreeMap::new();
        t.insert("Name".to_string(), Value::str(name.as_str()));
        // Helm: the chart's templates folder, whatever subfolder the file is in.
        let base_path = &name[..name.len() - rel.len()];
        t.insert(
            "BasePath".to_string(),
            Value::str(format!("{base_path}templates")),
        );
        dot.insert("Template".to_string(), Value::map(t));
        dot.insert("Subcharts".to_string(), Value::map(BTreeMap::new()));
        let (out, marks) = match exec::execute(&set, name, &parsed[i].root, Value::map(dot)) {
            Ok(done) => done,
            Err(e) => {
                let file = if e.template == *name {
                    (*path).clone()
                } else {
                    e.template.clone()
                };
                let err = rerr(&file, e.line, format!("executing {name:?}: {}", e.msg));
                rendered.failed.push(((*path).clone(), err));
                continue;
            }
        };
        let idx = rendered.outputs.len();
        let mut docs = Vec::new();
        let mut bad = None;
        // Split into documents with Helm's separator rule.
        let mut starts = vec![0usize];
        let mut ends = Vec::new();
        for m in splitter.find_iter(&out) {
            ends.push(m.start());
            starts.push(m.end());
        }
        ends.push(out.len());
        for (s, e) in starts.into_iter().zip(ends) {
            let doc = &out[s..e];
            // A document without the word `image` names none: not parsed (most of a chart's
            // objects are Services, ConfigMaps, RBAC). Its YAML is then not checked, which only
            // matters for a chart Helm itself would refuse.
            if doc.trim().is_empty() || !doc.contains("image") {
                continue;
            }
            let value = match parse_doc(doc) {
                Ok(v) => v,
                Err((line, msg)) => {
                    bad = Some(rerr(
                        path,
                        rendered_line(&out, &marks, s, line),
                        format!("rendered manifest is not YAML: {msg}"),
                    ));
                    break;
                }
            };
            if value.empty {
                continue;
            }
            docs.push(Doc {
                template: (*path).clone(),
                output: idx,
                range: s..e,
                scan: value,
            });
        }
        if let Some(err) = bad {
            rendered.failed.push(((*path).clone(), err));
            continue;
        }
        rendered.docs.extend(docs);
        rendered.outputs.push(((*path).clone(), out, marks));
    }
    Ok(rendered)
}

fn rendered_line(out: &str, marks: &Marks, doc_start: usize, doc_line: usize) -> usize {
    let mut off = doc_start;
    for _ in 1..doc_line {
        match out[off..].find('\n') {
            Some(i) => off += i + 1,
            None => break,
        }
    }
    let i = marks.partition_point(|m| m.0 <= off);
    match i.checked_sub(1).and_then(|i| marks.get(i)) {
        Some(&(start, line, true)) => line + out[start..off].matches('\n').count(),
        Some(&(_, line, false)) => line,
        None => 0,
    }
}

fn fix_raw(chart: &mut Chart, files: &BTreeMap<String, Vec<u8>>) {
    if let Some(b) = files.get(&format!("{}Chart.yaml", chart.dir)) {
        raw_scalars(b, &mut chart.meta);
    }
    for s in &mut chart.subs {
        fix_raw(s, files);
    }
}

/// Scan one rendered document ([`super::scan`]). `[[ … ]]` install-time placeholders
/// (`image: [[ registry_release ]]/x:1`) are read as the text they are, not as YAML flow sequences.
fn parse_doc(doc: &str) -> Result<super::scan::DocScan, (usize, String)> {
    let mut protected = std::borrow::Cow::Borrowed(doc);
    let mut tokens: Vec<(String, String)> = Vec::new();
    if doc.contains("[[") {
        let mut out = String::with_capacity(doc.len());
        let mut rest = doc;
        while let Some(i) = rest.find("[[") {
            let Some(j) = rest[i..].find("]]") else { break };
            let ph = &rest[i..i + j + 2];
            if ph.contains('\n') {
                out.push_str(&rest[..i + 2]);
                rest = &rest[i + 2..];
                continue;
            }
            let token = format!("GITRELEASEPLACEHOLDER{}X", tokens.len());
            out.push_str(&rest[..i]);
            out.push_str(&token);
            tokens.push((token, ph.to_string()));
            rest = &rest[i + j + 2..];
        }
        out.push_str(rest);
        protected = std::borrow::Cow::Owned(out);
    }
    let mut v = super::scan::scan(&protected)
        .map_err(|e| (e.location().map_or(1, |l| l.line()), e.to_string()))?;
    if !tokens.is_empty() {
        let restore = |s: &mut String| {
            if s.contains("GITRELEASEPLACEHOLDER") {
                for (t, ph) in tokens.iter().rev() {
                    *s = s.replace(t, ph);
                }
            }
        };
        v.images.iter_mut().for_each(restore);
        v.kind.iter_mut().for_each(restore);
        v.name.iter_mut().for_each(restore);
    }
    Ok(v)
}
