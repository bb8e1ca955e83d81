//! The static fallback: container image references a Helm chart deploys, read from values.yaml
//! and templates without rendering. Used only when a chart cannot be rendered
//! ([`crate::image::chart::chart_images_detailed`] tries the renderer first, as Zarf falls back to
//! a pattern match), and for the single-file resource manifests of the repos files.
//!
//! The chart is never rendered: references are collected statically from
//!
//! 1. the values of the chart and of its unpacked subcharts (`values.yaml`,
//!    `charts/<sub>/values.yaml`, ...), where
//!    - a mapping with `tag` and a `repository` / `image` / `name` string (optional
//!      `registry`, `digest`) is an image `[registry/]repository[:tag][@digest]`,
//!      an empty or missing tag falling back to the chart's `appVersion`, and
//!    - a string under a key named `image` is an image reference as is;
//! 2. the literal `image: <reference>` lines of `templates/**`.
//!
//! Values containing Go template syntax (`{{`) are skipped (templated lines are
//! resolved from the values instead); `[[ ... ]]` placeholders (cluster variables
//! filled at install time, e.g. `[[ registry_release ]]`) are kept as they are.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::{Mapping, Number, Value};

/// Files of one chart: path relative to the chart folder (forward slashes, e.g. `values.yaml`, `templates/dep.yaml`, `charts/sub/values.yaml`) -> bytes.
pub type ChartFiles = std::collections::BTreeMap<String, Vec<u8>>;

/// A fatal problem in one chart file: `file` is the chart-relative path (e.g.
/// `values.yaml`, `charts/sub/Chart.yaml`), `line` is 1-based.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {msg}")]
pub struct ImageError {
    /// Chart-relative path of the file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong (the parser's message, without its position).
    pub msg: String,
}

/// Images of a chart, sorted and unique. Warnings (non-fatal oddities, e.g. a values.yaml that is not valid YAML is an ERROR; an image map without tag and without appVersion is a warning) are pushed to `warnings`.
///
/// Sources, for the chart folder and every unpacked subchart folder
/// `charts/<sub>/` (recursively; packaged `charts/*.tgz` are not opened, a
/// warning says so):
///
/// - `values.yaml`, walked as a YAML tree after Helm-like coalescing: the parent's
///   `<sub>:` section (`<alias>:` when `Chart.yaml` `dependencies` gives one) and
///   its `global:` override the subchart's own values, so a parent overriding a
///   subchart image lists the overriding image only. Disabled subcharts
///   (`condition`, `tags`) are still listed. Image mappings (shape
///   `{registry?, repository|image|name, tag, digest?}`) and strings under an
///   `image` key are taken, see the module documentation.
/// - `templates/**` (any extension): literal `image:` / `- image:` lines with a
///   plain or quoted scalar, trailing `# comment` removed.
///
/// Warnings: image mappings without tag and appVersion (listed untagged),
/// numeric tags, references with whitespace (dropped), packaged subcharts,
/// template files that are not UTF-8 (their invalid lines are skipped).
///
/// # Errors
///
/// A `values.yaml` or `Chart.yaml` that is not valid YAML (or not UTF-8), with
/// the file and 1-based line.
pub fn chart_images(
    files: &ChartFiles,
    warnings: &mut Vec<String>,
) -> Result<BTreeSet<String>, ImageError> {
    read_chart(files, warnings, None)
}

/// The static reading of the templates that failed to render while the rest of their chart
/// rendered (`templates`: chart-relative, `templates/x.yaml` or `charts/sub/templates/x.yaml`),
/// each on its own, from one reading of the chart's values: its literal `image:` lines, and the images of its chart's values (coalesced as
/// [`chart_images`] reads them) under a path the template names (`.Values.controller.image.tag`
/// names `controller.image`; a path is taken when one is a prefix of the other). Not the whole
/// chart's values: images of components a chart turns off by default stay out.
///
/// Errors: as [`chart_images`].
pub fn template_images_static(
    files: &ChartFiles,
    templates: &[&str],
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, BTreeSet<String>>, ImageError> {
    let mut picked: BTreeMap<String, BTreeSet<String>> = templates
        .iter()
        .map(|t| (t.to_string(), BTreeSet::new()))
        .collect();
    read_chart(files, warnings, Some(&mut picked))?;
    Ok(picked)
}

/// The `.Values.a.b.c` paths a template's text names, as key lists.
fn values_refs(text: &str) -> Vec<Vec<String>> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"\.Values((?:\.[A-Za-z0-9_-]+)+)").expect("static regex")
    });
    re.captures_iter(text)
        .map(|c| {
            c[1].split('.')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn read_chart(
    files: &ChartFiles,
    warnings: &mut Vec<String>,
    only: Option<&mut BTreeMap<String, BTreeSet<String>>>,
) -> Result<BTreeSet<String>, ImageError> {
    let mut charts: BTreeMap<&str, Chart> = BTreeMap::new();
    charts.insert("", Chart::default());
    for path in files.keys() {
        let (mut dir, _) = split_chart_dir(path);
        while !dir.is_empty() && !charts.contains_key(dir) {
            charts.insert(dir, Chart::default());
            dir = parent_dir(dir);
        }
    }

    let mut numbers = WrittenNumbers::default();
    for (dir, chart) in &mut charts {
        let values_path = format!("{dir}values.yaml");
        if let Some(bytes) = files.get(&values_path) {
            numbers.scan(bytes);
            let mut values = parse_yaml(&values_path, bytes)?;
            if values.apply_merge().is_err() {
                warnings.push(format!(
                    "{values_path}: merge keys (`<<`) could not be applied"
                ));
            }
            chart.values = values;
        }
        let chart_path = format!("{dir}Chart.yaml");
        if let Some(bytes) = files.get(&chart_path) {
            numbers.scan(bytes);
            chart.meta = parse_yaml(&chart_path, bytes)?;
        }
        chart.name = match chart.meta.get("name") {
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            _ => dir_name(dir).to_string(),
        };
    }
    // Second pass: numbers are matched against the text of every file.
    for (dir, chart) in &mut charts {
        chart.app_version = match chart.meta.get("appVersion") {
            Some(Value::String(v)) if !v.trim().is_empty() => Some(v.trim().to_string()),
            Some(Value::Number(n)) => Some(numbers.text(n)),
            _ => None,
        };
        chart.values_path = format!("{dir}values.yaml");
    }
    let dirs: Vec<&str> = charts.keys().copied().collect();
    for dir in dirs.into_iter().filter(|d| !d.is_empty()) {
        if let Some(parent) = charts.get_mut(parent_dir(dir)) {
            parent.children.push(dir);
        }
    }

    let first_warning = warnings.len();
    let mut images = BTreeSet::new();
    let root_values = charts[""].values.clone();
    let mut cx = Walk {
        charts: &charts,
        numbers: &numbers,
        images: &mut images,
        warnings,
        path: Vec::new(),
        placed: Vec::new(),
        record: only.is_some(),
    };
    cx.chart("", root_values);
    let placed = std::mem::take(&mut cx.placed);
    if let Some(only) = only {
        // Each template's share: its literal lines, and the values images under a path it names.
        for (template, picked) in only.iter_mut() {
            let (dir, _) = split_chart_dir(template);
            let values_file = format!("{dir}values.yaml");
            let bytes = files.get(template.as_str()).map_or(&[][..], |b| &b[..]);
            let refs = values_refs(&String::from_utf8_lossy(bytes));
            for (file, path, image) in &placed {
                if *file == values_file
                    && refs.iter().any(|r| {
                        let n = r.len().min(path.len());
                        n > 0 && r[..n] == path[..n]
                    })
                    && images.contains(image)
                {
                    picked.insert(image.clone());
                }
            }
            template_images(template, bytes, picked, warnings);
        }
        return Ok(images);
    }

    for (path, bytes) in files {
        let (_, rel) = split_chart_dir(path);
        if rel.starts_with("templates/") {
            template_images(path, bytes, &mut images, warnings);
        } else if rel.starts_with("charts/") && rel.ends_with(".tgz") {
            warnings.push(format!(
                "{path}: packaged subchart not inspected for images"
            ));
        }
    }
    // A subchart used under several aliases walks its values several times.
    let mut seen = BTreeSet::new();
    let mut index = 0;
    warnings.retain(|warning| {
        index += 1;
        index <= first_warning || seen.insert(warning.clone())
    });
    Ok(images)
}

/// One chart folder (`""` for the chart itself, `charts/<sub>/` for subcharts).
#[derive(Default)]
struct Chart<'a> {
    /// Its own `values.yaml` (Null when absent or empty).
    values: Value,
    /// Its `Chart.yaml` (Null when absent).
    meta: Value,
    /// `name` of `Chart.yaml`, else the folder name.
    name: String,
    app_version: Option<String>,
    values_path: String,
    /// Folders of its unpacked subcharts.
    children: Vec<&'a str>,
}

/// Splits a chart-relative path into its chart folder (`""`, `charts/a/`,
/// `charts/a/charts/b/`, ...) and the path inside that folder.
fn split_chart_dir(path: &str) -> (&str, &str) {
    let mut dir_len = 0;
    while let Some(rest) = path[dir_len..].strip_prefix("charts/") {
        match rest.find('/') {
            Some(name_len) if name_len > 0 => dir_len += "charts/".len() + name_len + 1,
            _ => break,
        }
    }
    path.split_at(dir_len)
}

/// `charts/a/charts/b/` -> `b`; `""` -> `""`.
fn dir_name(dir: &str) -> &str {
    let trimmed = dir.strip_suffix('/').unwrap_or(dir);
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// `charts/a/charts/b/` -> `charts/a/`; `charts/a/` -> `""`.
fn parent_dir(dir: &str) -> &str {
    let cut = dir.len().saturating_sub(dir_name(dir).len() + 1);
    dir[..cut].strip_suffix("charts/").unwrap_or("")
}

/// Parses a YAML file (Null when empty), errors carrying the 1-based line.
fn parse_yaml(path: &str, bytes: &[u8]) -> Result<Value, ImageError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        let valid = &bytes[..e.valid_up_to()];
        return Err(ImageError {
            file: path.to_string(),
            line: valid.split(|&b| b == b'\n').count(),
            msg: "not valid UTF-8".to_string(),
        });
    }
    crate::yaml::parse(bytes).map_err(|e| ImageError {
        file: path.to_string(),
        line: e.line,
        msg: e.msg,
    })
}

/// Numbers as written in the YAML sources, for `tag:` and `appVersion:` keys.
///
/// `serde_yaml` turns `tag: 1.10` into the float 1.1 and keeps no source text, so
/// plain scalars after those keys are scanned line by line and matched back by
/// value. Known limitation: when one value is written several ways (`1.1` and
/// `1.10`), or the scalar spans lines, the number's own Display is used. (Helm
/// itself renders unquoted numeric tags through float64, e.g. `1.10` as `1.1`;
/// hence the warning advising to quote them.)
#[derive(Default)]
struct WrittenNumbers {
    entries: Vec<(Number, String)>,
}

impl WrittenNumbers {
    fn scan(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        for line in text.lines() {
            for key in ["tag:", "appVersion:"] {
                for (at, _) in line.match_indices(key) {
                    let boundary = line[..at]
                        .chars()
                        .next_back()
                        .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',');
                    let rest = &line[at + key.len()..];
                    if !boundary || !rest.starts_with([' ', '\t']) {
                        continue;
                    }
                    let end = rest.find([',', '}', '#']).unwrap_or(rest.len());
                    let written = rest[..end].trim();
                    if let Ok(Value::Number(n)) = serde_yaml::from_str::<Value>(written) {
                        self.entries.push((n, written.to_string()));
                    }
                }
            }
        }
    }

    /// The number as written, when written one way only; else its Display.
    fn text(&self, n: &Number) -> String {
        let written: BTreeSet<&str> = self
            .entries
            .iter()
            .filter(|(m, _)| m == n)
            .map(|(_, w)| w.as_str())
            .collect();
        match written.first() {
            Some(w) if written.len() == 1 => w.to_string(),
            _ => n.to_string(),
        }
    }
}

/// What a mapping of the values is.
enum MapImage {
    /// Not an image mapping: walk into it.
    NotImage,
    /// An image mapping giving no reference (empty or templated parts).
    Nothing,
    Image(String),
}

/// State of the values walk.
struct Walk<'c, 'a> {
    charts: &'c BTreeMap<&'a str, Chart<'a>>,
    numbers: &'c WrittenNumbers,
    images: &'c mut BTreeSet<String>,
    warnings: &'c mut Vec<String>,
    /// The values path of the node being walked (keys from the chart's values root).
    path: Vec<String>,
    /// Every image found with its values file and path: `(values file, path, image)`, when
    /// `record` (only a failed template's reading needs them).
    placed: Vec<(String, Vec<String>, String)>,
    record: bool,
}

/// Where the walk is: chart folder (for `appVersion`) and file (for warnings).
#[derive(Clone, Copy)]
struct At<'c> {
    app_version: Option<&'c str>,
    file: &'c str,
    /// Registry for image maps without their own `registry`: the chart's `global.imageRegistry`
    /// (Bitnami convention) or `global.image.registry` (ingress-nginx 4.x). Seen on real charts:
    /// without it ingress-nginx's images lost `registry.k8s.io/`.
    default_registry: Option<&'c str>,
    /// Set while walking the parent's values section of a dependency that is not unpacked
    /// (a remote or packaged subchart): its appVersion is unknown here, never the parent's.
    dependency: Option<&'c str>,
}

impl Walk<'_, '_> {
    /// Walks `values` (already coalesced) of the chart in `dir`, then recurses
    /// into its subcharts with their coalesced values.
    fn chart(&mut self, dir: &str, mut values: Value) {
        let Some(chart) = self.charts.get(dir) else {
            return;
        };
        let mut sub_keys = BTreeSet::new();
        for &child_dir in &chart.children {
            let Some(child) = self.charts.get(child_dir) else {
                continue;
            };
            for key in dependency_keys(&chart.meta, &child.name) {
                let mut child_values = match &child.values {
                    Value::Null => Value::Mapping(Mapping::new()),
                    own => own.clone(),
                };
                if let Some(over @ Value::Mapping(_)) = values.get(&key) {
                    coalesce(&mut child_values, over);
                }
                if let (Some(global @ Value::Mapping(_)), Value::Mapping(m)) =
                    (values.get("global"), &mut child_values)
                {
                    let own = m
                        .entry(Value::from("global"))
                        .or_insert_with(|| Value::Mapping(Mapping::new()));
                    coalesce(own, global);
                }
                self.chart(child_dir, child_values);
                sub_keys.insert(key);
            }
        }
        if let Value::Mapping(map) = &mut values {
            for key in &sub_keys {
                map.remove(key.as_str());
            }
        }
        let global = values.get("global").cloned();
        let default_registry = global.as_ref().and_then(|g| {
            let direct = g.get("imageRegistry").and_then(Value::as_str);
            let nested = g
                .get("image")
                .and_then(|i| i.get("registry"))
                .and_then(Value::as_str);
            direct
                .or(nested)
                .map(str::trim)
                .filter(|r| !r.is_empty() && !r.contains("{{"))
        });
        // Dependencies that are not unpacked here (remote, or packaged `.tgz`): the parent's
        // section configures a chart we cannot see. Seen on voltha-infra (bitnami etcd, kafka,
        // redis as remote dependencies): their images got the umbrella's appVersion as tag.
        let mut remote: Vec<(String, Value)> = Vec::new();
        if let (Some(Value::Sequence(deps)), Value::Mapping(map)) =
            (chart.meta.get("dependencies"), &mut values)
        {
            for dep in deps {
                let Some(name) = dep.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let key = match dep.get("alias").and_then(Value::as_str) {
                    Some(alias) if !alias.is_empty() => alias,
                    _ => name,
                };
                if sub_keys.contains(key) {
                    continue;
                }
                if let Some(section) = map.remove(key) {
                    remote.push((key.to_string(), section));
                }
            }
        }
        let at = At {
            app_version: chart.app_version.as_deref(),
            file: &chart.values_path,
            default_registry,
            dependency: None,
        };
        for (key, section) in &remote {
            let dep_at = At {
                app_version: None,
                dependency: Some(key),
                ..at
            };
            let saved = std::mem::replace(&mut self.path, vec![key.clone()]);
            self.value(dep_at, None, section);
            self.path = saved;
        }
        let saved = std::mem::take(&mut self.path);
        self.value(at, None, &values);
        self.path = saved;
    }

    /// Walks one node whose mapping key (or, for sequence items, the key of
    /// the sequence) is `parent_key`.
    fn value(&mut self, at: At<'_>, parent_key: Option<&str>, value: &Value) {
        match value {
            Value::Mapping(map) => {
                match self.image_map(at, parent_key, map) {
                    MapImage::NotImage => {}
                    MapImage::Nothing => return,
                    MapImage::Image(image) => return self.add(at.file, image),
                }
                for (key, child) in map {
                    let key = key_text(key);
                    self.path.push(key.clone().unwrap_or_default());
                    if let (Some("image"), Value::String(s)) = (key.as_deref(), child) {
                        self.add(at.file, s.trim().to_string());
                    } else {
                        self.value(at, key.as_deref(), child);
                    }
                    self.path.pop();
                }
            }
            Value::Sequence(items) => {
                for item in items {
                    self.value(at, parent_key, item);
                }
            }
            Value::Tagged(tagged) => self.value(at, parent_key, &tagged.value),
            _ => {}
        }
    }

    /// Reads `map` as an image mapping `{registry?, repository|image|name,
    /// tag, digest?}` (see the module documentation for the rules).
    fn image_map(&mut self, at: At<'_>, parent_key: Option<&str>, map: &Mapping) -> MapImage {
        let image_parent = parent_key.is_some_and(|k| k.to_ascii_lowercase().contains("image"));
        let text = |key: &str| match map.get(key) {
            Some(Value::String(s)) => Some(s.trim()),
            _ => None,
        };
        let tag = map.get("tag");
        let path = match (text("repository"), text("image"), text("name")) {
            (Some(repo), ..) if tag.is_some() || image_parent => repo,
            (None, Some(image), _) if tag.is_some() => image,
            (None, None, Some(name)) if tag.is_some() && image_parent => name,
            _ => return MapImage::NotImage,
        };
        let tag = match tag {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => {
                let written = self.numbers.text(n);
                self.warnings.push(format!(
                    "{}: image `{path}` has the numeric tag {written}; Helm may render \
                     numbers differently (e.g. 1.10 as 1.1), quote it",
                    at.file
                ));
                written
            }
            Some(_) => return MapImage::NotImage,
        };
        let registry = text("registry")
            .filter(|r| !r.is_empty())
            .or(at.default_registry)
            .unwrap_or("")
            .trim_end_matches('/');
        let digest = text("digest").unwrap_or("");
        if path.is_empty()
            || [path, registry, &tag, digest]
                .iter()
                .any(|s| s.contains("{{"))
        {
            return MapImage::Nothing;
        }

        let mut image = String::new();
        if !registry.is_empty() && !crate::image::reference::has_registry(path) {
            image.push_str(registry);
            image.push('/');
        }
        image.push_str(path);
        let last = path.rsplit('/').next().unwrap_or(path);
        let already_pinned = last.contains(':') || path.contains('@');
        let tag = if !tag.is_empty() || already_pinned {
            Some(tag)
        } else if let Some(app_version) = at.app_version {
            Some(app_version.to_string())
        } else if digest.is_empty() {
            if let Some(dep) = at.dependency {
                self.warnings.push(format!(
                    "{}: image `{path}` in the values of dependency `{dep}` has no tag: Helm takes that subchart's appVersion, and the subchart is not unpacked here; not listed",
                    at.file
                ));
                return MapImage::Nothing;
            }
            self.warnings.push(format!(
                "{}: image `{path}` has no tag and the chart has no appVersion; listed untagged",
                at.file
            ));
            None
        } else {
            None
        };
        if let Some(tag) = tag.filter(|t| !t.is_empty()) {
            image.push(':');
            image.push_str(&tag);
        }
        if !digest.is_empty() {
            image.push('@');
            image.push_str(digest);
        }
        MapImage::Image(image)
    }

    /// Adds a candidate reference: skips empty and templated ones, warns about
    /// and drops ones with whitespace outside `[[ ... ]]`.
    fn add(&mut self, file: &str, image: String) {
        if self.record {
            self.placed
                .push((file.to_string(), self.path.clone(), image.clone()));
        }
        add_reference(file, image, self.images, self.warnings);
    }
}

fn add_reference(
    file: &str,
    image: String,
    images: &mut BTreeSet<String>,
    warnings: &mut Vec<String>,
) {
    if image.is_empty() || image.contains("{{") {
        return;
    }
    if crate::image::reference::is_plausible(&image) {
        images.insert(image);
    } else {
        warnings.push(format!(
            "{file}: `{image}` is not an image reference, skipped"
        ));
    }
}

/// Keys under which the parent's values configure the subchart `name`: the
/// aliases (or name) of matching `dependencies` entries, else the name itself.
fn dependency_keys(parent_meta: &Value, name: &str) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(Value::Sequence(deps)) = parent_meta.get("dependencies") {
        for dep in deps {
            if dep.get("name").and_then(Value::as_str) != Some(name) {
                continue;
            }
            let key = match dep.get("alias").and_then(Value::as_str) {
                Some(alias) if !alias.is_empty() => alias,
                _ => name,
            };
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
    }
    if keys.is_empty() {
        keys.push(name.to_string());
    }
    keys
}

/// Helm-like coalescing: `over` wins, mappings merge recursively, a null in
/// `over` deletes the key.
fn coalesce(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (key, value) in over {
                if value.is_null() {
                    base.remove(key);
                } else if let Some(existing) = base.get_mut(key) {
                    coalesce(existing, value);
                } else {
                    base.insert(key.clone(), value.clone());
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// Mapping key as text (strings, numbers and bools; other keys are ignored).
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Literal `image:` lines of one template file; lines that are not UTF-8 are
/// skipped with one warning per file.
/// Images of a single Kubernetes manifest file (the `resourcePaths` shape of repos files, seed
/// 000's `charts_list.yaml`): its literal `image:` lines, as for chart templates. Warnings name
/// `path`.
pub fn manifest_images(path: &str, bytes: &[u8], warnings: &mut Vec<String>) -> BTreeSet<String> {
    let mut images = BTreeSet::new();
    template_images(path, bytes, &mut images, warnings);
    images
}

/// Images of a single-file addon (seed 000's application format, `addons/<group>/<addon>.yaml`),
/// with their 1-based lines: every literal `image:` value (containers and init containers), and
/// every reference that starts with an install-time registry placeholder (`[[ NAME ]]/`, NAME
/// one of `placeholders`) anywhere else: container args (`--proxy-image=[[ registry_release
/// ]]/canary-nginx-proxy:v0.3.4`), env values, JSON held in a config value. A reference runs up
/// to whitespace, a quote, `,`, `;` or a closing bracket. Each is checked by the one
/// image-reference check ([`crate::image::reference::is_plausible`]); others are warnings that
/// name `path`.
pub fn addon_images(
    path: &str,
    bytes: &[u8],
    placeholders: &[&str],
    warnings: &mut Vec<String>,
) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut invalid = 0usize;
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let Ok(line) = std::str::from_utf8(line) else {
            invalid += 1;
            continue;
        };
        let mut found = BTreeSet::new();
        let literal = literal_image(line);
        if let Some(image) = &literal {
            add_reference(path, image.clone(), &mut found, warnings);
        }
        let mut rest = line;
        while let Some(open) = rest.find("[[") {
            let after = &rest[open..];
            let Some(close) = after.find("]]") else { break };
            let name = after[2..close].trim();
            let tail = &after[close + 2..];
            if placeholders.contains(&name) && tail.starts_with('/') {
                let len = tail
                    .find(|c: char| {
                        c.is_whitespace()
                            || matches!(c, '\'' | '"' | ',' | ';' | ')' | '}' | ']' | '`')
                    })
                    .unwrap_or(tail.len());
                let image = format!("{}{}", &after[..close + 2], &tail[..len]);
                if literal.as_deref() != Some(image.as_str()) && len > 1 {
                    add_reference(path, image, &mut found, warnings);
                }
                rest = &tail[len..];
            } else {
                rest = &after[2..];
            }
        }
        out.extend(found.into_iter().map(|i| (i, n + 1)));
    }
    if invalid > 0 {
        warnings.push(format!(
            "{path}: not valid UTF-8, {invalid} line(s) skipped"
        ));
    }
    out
}

fn template_images(
    path: &str,
    bytes: &[u8],
    images: &mut BTreeSet<String>,
    warnings: &mut Vec<String>,
) {
    let mut invalid = 0usize;
    for line in bytes.split(|&b| b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(line) => {
                if let Some(image) = literal_image(line) {
                    add_reference(path, image, images, warnings);
                }
            }
            Err(_) => invalid += 1,
        }
    }
    if invalid > 0 {
        warnings.push(format!(
            "{path}: not valid UTF-8, {invalid} line(s) skipped"
        ));
    }
}

/// The scalar of an `image: <value>` or `- image: <value>` line, unquoted and
/// without trailing comment; None for other lines, empty values, block
/// scalars, flow collections, anchors/aliases/tags and unterminated quotes.
fn literal_image(line: &str) -> Option<String> {
    let mut s = line.trim_start();
    if let Some(item) = s.strip_prefix('-') {
        if !item.starts_with([' ', '\t']) {
            return None;
        }
        s = item.trim_start();
    }
    let rest = s.strip_prefix("image:")?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t', '\r']) {
        return None;
    }
    let value = rest.trim();
    let (scalar, after) = if let Some(quoted) = value.strip_prefix('"') {
        let mut escaped = false;
        let end = quoted.char_indices().find_map(|(i, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes.then_some(i)
        })?;
        (quoted[..end].to_string(), &quoted[end + 1..])
    } else if let Some(quoted) = value.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = quoted.char_indices().peekable();
        let end = loop {
            let (i, c) = chars.next()?;
            if c == '\'' {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                } else {
                    break i;
                }
            }
            out.push(c);
        };
        (out, &quoted[end + 1..])
    } else {
        let plain_end = value
            .match_indices('#')
            .find(|&(i, _)| value[..i].ends_with([' ', '\t']))
            .map_or(value.len(), |(i, _)| i);
        let plain = value[..plain_end].trim_end();
        let indicator = plain.starts_with(['|', '>', '{', '&', '*', '!', '"', '\''])
            || (plain.starts_with('[') && !plain.starts_with("[["));
        if plain.is_empty() || indicator {
            return None;
        }
        (plain.to_string(), "")
    };
    let after = after.trim();
    (after.is_empty() || after.starts_with('#')).then(|| scalar.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> ChartFiles {
        entries
            .iter()
            .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
            .collect()
    }

    fn images(entries: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
        let mut warnings = Vec::new();
        let found = chart_images(&files(entries), &mut warnings).expect("valid chart");
        (found.into_iter().collect(), warnings)
    }

    fn only_images(entries: &[(&str, &str)]) -> Vec<String> {
        images(entries).0
    }

    #[test]
    fn benchmark_example() {
        let values = "\
# values for comp0001
replicaCount: 1
image:
  registry: '[[ registry_release ]]'
  repository: release/comp0001
  tag: v0.1.0
sidecar:
  image: '[[ registry_release ]]/library/nginx:1.19.0'
";
        let template = "\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          image: \"{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}\"
        - name: sidecar
          image: {{ .Values.sidecar.image }}
";
        let (found, warnings) = images(&[
            (
                "Chart.yaml",
                "name: comp0001\nversion: 0.1.0\nappVersion: 0.1.0\n",
            ),
            ("values.yaml", values),
            ("templates/deployment.yaml", template),
        ]);
        assert_eq!(
            found,
            [
                "[[ registry_release ]]/library/nginx:1.19.0",
                "[[ registry_release ]]/release/comp0001:v0.1.0",
            ]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// Regression (ingress-nginx 4.x): the registry lives in `global.image.registry`.
    #[test]
    fn global_registry_applies_to_maps_without_one() {
        let values = "global:\n  image:\n    registry: registry.k8s.io\ncontroller:\n  image:\n    image: ingress-nginx/controller\n    tag: v1.15.1\nother:\n  image: {registry: quay.io, repository: a/b, tag: '1'}\n";
        let found = only_images(&[("values.yaml", values)]);
        assert_eq!(
            found,
            [
                "quay.io/a/b:1",
                "registry.k8s.io/ingress-nginx/controller:v1.15.1"
            ]
        );
        let values = "global:\n  imageRegistry: my.reg\nimage:\n  repository: bitnami/nginx\n  tag: '1.25'\n";
        assert_eq!(
            only_images(&[("values.yaml", values)]),
            ["my.reg/bitnami/nginx:1.25"]
        );
    }

    #[test]
    fn bitnami_map_with_registry_and_empty_digest() {
        let values = "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  \
                      tag: 1.25.3-debian-11-r0\n  digest: \"\"\n  pullPolicy: IfNotPresent\n";
        assert_eq!(
            only_images(&[("values.yaml", values)]),
            ["docker.io/bitnami/nginx:1.25.3-debian-11-r0"]
        );
    }

    #[test]
    fn digest_is_appended() {
        let values = "image: {registry: docker.io, repository: bitnami/nginx, tag: '1.25', \
                      digest: 'sha256:0123abcd'}\n";
        assert_eq!(
            only_images(&[("values.yaml", values)]),
            ["docker.io/bitnami/nginx:1.25@sha256:0123abcd"]
        );
    }

    #[test]
    fn registry_trailing_slash_and_no_doubling() {
        let values = "\
a:
  image: {registry: 'quay.io/', repository: org/a, tag: '1'}
b:
  image: {registry: docker.io, repository: docker.io/library/b, tag: '2'}
c:
  image: {registry: '[[ registry_release ]]', repository: '[[ registry_release ]]/c', tag: '3'}
d:
  image: {registry: my.reg, repository: localhost:5000/d, tag: '4'}
";
        assert_eq!(
            only_images(&[("values.yaml", values)]),
            [
                "[[ registry_release ]]/c:3",
                "docker.io/library/b:2",
                "localhost:5000/d:4",
                "quay.io/org/a:1",
            ]
        );
    }

    #[test]
    fn empty_or_missing_tag_falls_back_to_app_version() {
        let chart = "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.16.0\"\n";
        let values = "\
image:
  repository: nginx
  tag: \"\"
other:
  image:
    repository: busybox
    tag:
third:
  image:
    repository: alpine
    pullPolicy: Always
";
        assert_eq!(
            only_images(&[("Chart.yaml", chart), ("values.yaml", values)]),
            ["alpine:1.16.0", "busybox:1.16.0", "nginx:1.16.0"]
        );
    }

    #[test]
    fn numeric_app_version_is_kept_as_written() {
        let chart = "name: demo\nappVersion: 1.10\n";
        let values = "image: {repository: nginx, tag: ''}\n";
        assert_eq!(
            only_images(&[("Chart.yaml", chart), ("values.yaml", values)]),
            ["nginx:1.10"]
        );
    }

    #[test]
    fn no_tag_and_no_app_version_warns_and_lists_untagged() {
        let (found, warnings) = images(&[("values.yaml", "image: {repository: nginx, tag: ''}\n")]);
        assert_eq!(found, ["nginx"]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("no appVersion"), "{warnings:?}");

        let values = "image: {repository: nginx, tag: '', digest: 'sha256:ab'}\n";
        let (found, warnings) = images(&[("values.yaml", values)]);
        assert_eq!(found, ["nginx@sha256:ab"]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn numeric_and_bool_tags_are_rendered_as_written() {
        let values = "\
a:
  image:
    repository: a
    tag: 1.10 # trailing zero matters
b:
  image: {repository: b, tag: 8}
c:
  image: {repository: c, tag: 1.19}
d:
  image: {repository: d, tag: true}
";
        let (found, warnings) = images(&[("values.yaml", values)]);
        assert_eq!(found, ["a:1.10", "b:8", "c:1.19", "d:true"]);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings.iter().all(|w| w.contains("numeric tag")));
    }

    #[test]
    fn path_preference_and_name_maps() {
        let values = "\
one:
  image: {repository: repo/one, image: not/this, name: nor-this, tag: '1'}
two:
  image: {repository: {url: x}, image: img/two, tag: '2'}
service:
  name: web
  tag: v1
initImage:
  name: busybox
  tag: '1.36'
images:
  - name: first
    tag: '1'
";
        assert_eq!(
            only_images(&[("values.yaml", values)]),
            ["busybox:1.36", "first:1", "img/two:2", "repo/one:1"]
        );
    }

    #[test]
    fn image_strings_at_any_depth() {
        let values = "\
image: top/level:1
deep:
  er:
    containers:
      - name: a
        image: list/item:2
      - name: b
        image: \"  spaced/trim:3  \"
    notimage: ignored:4
";
        assert_eq!(
            only_images(&[("values.yaml", values)]),
            ["list/item:2", "spaced/trim:3", "top/level:1"]
        );
    }

    #[test]
    fn templated_and_empty_values_are_skipped() {
        let values = "\
a:
  image: ''
b:
  image: '{{ .Values.global.registry }}/b:1'
c:
  image: {repository: '{{ .Values.repo }}', tag: '1'}
d:
  image: {repository: d, tag: '{{ .Chart.AppVersion }}'}
e:
  image: {repository: '', tag: '1'}
f:
  image: ~
";
        let (found, warnings) = images(&[("values.yaml", values)]);
        assert!(found.is_empty(), "{found:?}");
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn whitespace_outside_placeholders_is_not_an_image() {
        let values = "\
a:
  image: 'two words'
b:
  image: '[[ registry_release ]]/b:1'
c:
  image: '[[ unclosed /c:1'
";
        let (found, warnings) = images(&[("values.yaml", values)]);
        assert_eq!(found, ["[[ registry_release ]]/b:1"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn subchart_values_use_their_own_app_version() {
        let (found, warnings) = images(&[
            ("Chart.yaml", "name: parent\nappVersion: '1.0'\n"),
            ("values.yaml", "image: {repository: parent, tag: ''}\n"),
            ("charts/sub/Chart.yaml", "name: sub\nappVersion: '2.0'\n"),
            (
                "charts/sub/values.yaml",
                "image: {repository: sub, tag: ''}\n",
            ),
            ("charts/sub/charts/deep/values.yaml", "image: deep:3\n"),
            (
                "charts/sub/templates/dep.yaml",
                "      image: sub-literal:4\n",
            ),
        ]);
        assert_eq!(found, ["deep:3", "parent:1.0", "sub-literal:4", "sub:2.0"]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// voltha-infra: bitnami etcd/kafka/redis as remote dependencies (not unpacked), their
    /// sections giving only `repository:`. The umbrella's appVersion is not their tag.
    #[test]
    fn remote_dependency_sections_never_take_the_parents_app_version() {
        let (found, warnings) = images(&[
            (
                "Chart.yaml",
                "name: voltha-infra\nappVersion: '2.15'\ndependencies:\n  - name: etcd\n    repository: https://charts.bitnami.com/bitnami\n  - name: kafka\n    alias: bus\n",
            ),
            (
                "values.yaml",
                "image: {repository: infra, tag: ''}\netcd:\n  image:\n    repository: bitnamilegacy/etcd\nbus:\n  image:\n    repository: bitnamilegacy/kafka\n    tag: 3.4.0\n",
            ),
        ]);
        // etcd's tag comes from a chart that is not here: not listed (it used to be
        // `bitnamilegacy/etcd:2.15`); kafka's section pins its tag itself.
        assert_eq!(found, ["bitnamilegacy/kafka:3.4.0", "infra:2.15"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("dependency `etcd` has no tag")
                && warnings[0].contains("not listed"),
            "{warnings:?}"
        );
    }

    #[test]
    fn parent_values_override_subchart_images() {
        let (found, _) = images(&[
            (
                "Chart.yaml",
                "name: parent\ndependencies:\n  - name: db\n    alias: primary\n  \
                 - name: db\n    alias: replica\n",
            ),
            (
                "values.yaml",
                "primary:\n  image:\n    tag: '16'\nreplica:\n  enabled: false\n\
                 global:\n  image: {repository: global, tag: g}\n",
            ),
            ("charts/db/Chart.yaml", "name: db\nappVersion: '15'\n"),
            (
                "charts/db/values.yaml",
                "image: {registry: docker.io, repository: postgres, tag: ''}\n",
            ),
        ]);
        assert_eq!(
            found,
            ["docker.io/postgres:15", "docker.io/postgres:16", "global:g"]
        );
    }

    #[test]
    fn alias_warnings_are_reported_once() {
        let (found, warnings) = images(&[
            (
                "Chart.yaml",
                "name: p\ndependencies:\n  - {name: db, alias: one}\n  - {name: db, alias: two}\n",
            ),
            (
                "charts/db/values.yaml",
                "image: {repository: db, tag: ''}\n",
            ),
        ]);
        assert_eq!(found, ["db"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn helm_create_default_values() {
        let values = "\
replicaCount: 1
image:
  repository: nginx
  pullPolicy: IfNotPresent
  # Overrides the image tag whose default is the chart appVersion.
  tag: \"\"
imagePullSecrets: []
nameOverride: \"\"
serviceAccount:
  create: true
  annotations: {}
  name: \"\"
service:
  type: ClusterIP
  port: 80
ingress:
  hosts:
    - host: chart-example.local
      paths:
        - path: /
          pathType: ImplementationSpecific
";
        let template = "\
      containers:
        - name: {{ .Chart.Name }}
          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
";
        let (found, warnings) = images(&[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.16.0\"\n",
            ),
            ("values.yaml", values),
            ("templates/deployment.yaml", template),
            (
                "templates/_helpers.tpl",
                "{{- define \"demo.name\" -}}\n{{- end }}\n",
            ),
        ]);
        assert_eq!(found, ["nginx:1.16.0"]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn packaged_subcharts_are_reported() {
        let (found, warnings) = images(&[
            ("values.yaml", "image: a:1\n"),
            ("charts/redis-1.0.0.tgz", "\u{1f}binary"),
        ]);
        assert_eq!(found, ["a:1"]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("charts/redis-1.0.0.tgz: packaged subchart"));
    }

    #[test]
    fn yaml_merge_keys_are_applied() {
        let values = "\
base: &base
  repository: merged
  tag: '1'
component:
  image:
    <<: *base
    tag: '2'
";
        assert_eq!(
            only_images(&[("values.yaml", values)]),
            ["merged:1", "merged:2"]
        );
    }

    #[test]
    fn template_literal_lines() {
        let template = "\
spec:
  containers:
    - image: \"quay.io/org/quoted:1\"
    - name: single
      image: 'docker.io/single:2' # comment
    - name: plain
      image: plain/image:3   # trailing comment
    - name: hash
      image: reg/hash:4#notacomment
      imagePullPolicy: Always
    - image: {{ .Values.image }}
    - image: \"{{ .Values.registry }}/x:1\"
    - image: '[[ registry_release ]]/kept:5'
    - image:
        repository: not-a-line
    - image: |
        block
  initImage: not/matched:6
";
        let (found, warnings) = images(&[("templates/sub/dep.yaml", template)]);
        assert_eq!(
            found,
            [
                "[[ registry_release ]]/kept:5",
                "docker.io/single:2",
                "plain/image:3",
                "quay.io/org/quoted:1",
                "reg/hash:4#notacomment",
            ]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn literal_image_parsing() {
        assert_eq!(literal_image("image: a:1\r").as_deref(), Some("a:1"));
        assert_eq!(literal_image("- image: 'it''s'").as_deref(), Some("it's"));
        assert_eq!(literal_image("image: \"unterminated"), None);
        assert_eq!(literal_image("image: \"a\" junk"), None);
        assert_eq!(literal_image("-image: a"), None);
        assert_eq!(literal_image("images: a"), None);
        assert_eq!(literal_image("image: [a, b]"), None);
        assert_eq!(literal_image("image: *alias"), None);
    }

    #[test]
    fn only_templates_are_scanned_for_lines() {
        let found = only_images(&[
            ("crds/crd.yaml", "image: crd/image:1\n"),
            ("README.md", "    image: readme/image:1\n"),
            ("values.schema.json", "image: schema:1\n"),
            ("templates/NOTES.txt", "image: notes/image:1\n"),
        ]);
        assert_eq!(found, ["notes/image:1"]);
    }

    #[test]
    fn non_utf8_template_lines_are_skipped() {
        let mut chart = ChartFiles::new();
        chart.insert(
            "templates/bin.yaml".to_string(),
            b"image: \xff\xfe/bad:1\n  image: good/image:1\n".to_vec(),
        );
        let mut warnings = Vec::new();
        let found = chart_images(&chart, &mut warnings).expect("not fatal");
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["good/image:1"]);
        assert_eq!(
            warnings,
            ["templates/bin.yaml: not valid UTF-8, 1 line(s) skipped"]
        );
    }

    #[test]
    fn invalid_values_is_an_error_with_line() {
        let err = chart_images(&files(&[("values.yaml", "a: 1\nb: [\n")]), &mut Vec::new())
            .expect_err("invalid YAML");
        assert_eq!(err.file, "values.yaml");
        assert_eq!(err.line, 3);
        assert!(!err.msg.contains("at line"), "{}", err.msg);
        assert!(err.to_string().starts_with("values.yaml:3: "));

        let mut chart = ChartFiles::new();
        chart.insert("charts/sub/values.yaml".into(), b"a: 1\nb: \xff\n".to_vec());
        let err = chart_images(&chart, &mut Vec::new()).expect_err("not UTF-8");
        assert_eq!((err.file.as_str(), err.line), ("charts/sub/values.yaml", 2));

        let err = chart_images(&files(&[("Chart.yaml", "name: [x\n")]), &mut Vec::new())
            .expect_err("invalid Chart.yaml");
        assert_eq!(err.file, "Chart.yaml");
    }

    #[test]
    fn empty_chart_has_no_images() {
        let (found, warnings) = images(&[("values.yaml", ""), ("Chart.yaml", "name: x\n")]);
        assert!(found.is_empty() && warnings.is_empty());
    }

    #[test]
    fn chart_dirs() {
        assert_eq!(split_chart_dir("values.yaml"), ("", "values.yaml"));
        assert_eq!(
            split_chart_dir("charts/a/values.yaml"),
            ("charts/a/", "values.yaml")
        );
        assert_eq!(
            split_chart_dir("charts/a/charts/b/templates/x.yaml"),
            ("charts/a/charts/b/", "templates/x.yaml")
        );
        assert_eq!(split_chart_dir("charts/a.tgz"), ("", "charts/a.tgz"));
        assert_eq!(parent_dir("charts/a/charts/b/"), "charts/a/");
        assert_eq!(parent_dir("charts/a/"), "");
        assert_eq!(dir_name("charts/a/charts/b/"), "b");
    }
}
