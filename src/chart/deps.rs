//! A chart's declared dependencies against what its `charts/` folder holds, as Helm checks them
//! before it installs (`action.CheckDependencies`, Helm v3 `pkg/action/install.go`: every
//! dependency of Chart.yaml, or of `requirements.yaml` for `apiVersion: v1`, must be a subchart,
//! matched by name, else "found in Chart.yaml, but missing in charts/ directory"), and as
//! `helm dependency list` does for versions (a subchart whose version is outside the
//! dependency's constraint is "wrong version").

use std::io::Read;

use crate::files::Files;

/// Most bytes read from one packaged subchart while looking for its Chart.yaml.
const ARCHIVE_READ_LIMIT: u64 = 64 << 20;

/// A declared dependency that `charts/` does not satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// Dependency `name`.
    pub name: String,
    /// Its `version` constraint, when it has one.
    pub constraint: Option<String>,
    /// Versions of the subcharts of that name that are there (none: missing; some: none of them
    /// satisfies the constraint).
    pub found: Vec<String>,
    /// The file that declares it: `Chart.yaml` or `requirements.yaml`.
    pub declared_in: &'static str,
}

impl std::fmt::Display for Unmet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let want = self
            .constraint
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        if self.found.is_empty() {
            write!(f, "{}{want} (not under charts/)", self.name)
        } else {
            write!(
                f,
                "{}{want} (charts/ has {})",
                self.name,
                self.found.join(", ")
            )
        }
    }
}

/// The dependencies of the chart in `files` (paths relative to the chart folder) that its
/// `charts/` folder does not satisfy: no subchart of that name (unpacked `charts/<x>/` or packaged
/// `charts/<x>.tgz`), or none whose version `matches` the dependency's constraint. `matches` is
/// Helm's constraint check (`crate::render::semver::matches`); a constraint it cannot read is
/// not held against the chart (Helm itself checks only names before installing).
pub fn unmet(files: &Files, matches: impl Fn(&str, &str) -> Result<bool, String>) -> Vec<Unmet> {
    let declared = declared(files);
    if declared.is_empty() {
        return Vec::new();
    }
    let present = present(files);
    declared
        .into_iter()
        .filter_map(|(name, constraint, declared_in)| {
            let found: Vec<String> = present
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v.clone().unwrap_or_else(|| "no version".into()))
                .collect();
            let satisfied = !found.is_empty()
                && match constraint.as_deref() {
                    None | Some("") => true,
                    Some(c) => present
                        .iter()
                        .filter(|(n, _)| *n == name)
                        .any(|(_, v)| v.as_deref().is_none_or(|v| matches(c, v).unwrap_or(true))),
                };
            (!satisfied).then_some(Unmet {
                name,
                constraint,
                found,
                declared_in,
            })
        })
        .collect()
}

/// `(name, version constraint, file)` of each declared dependency.
fn declared(files: &Files) -> Vec<(String, Option<String>, &'static str)> {
    let read = |p: &str| -> Option<serde_yaml::Value> {
        let data = &files.get(p)?.data;
        serde_yaml::from_slice(crate::placeholders::strip_bom(data)).ok()
    };
    // No YAML parse for the common chart that declares nothing: a `dependencies` key has to be
    // spelled out, unless escapes (`\x64`) spell it in a quoted key.
    let mentions = |p: &str| {
        files.get(p).is_some_and(|e| {
            let d = &e.data;
            d.windows(12).any(|w| w == b"dependencies") || d.contains(&b'\\')
        })
    };
    if !mentions("Chart.yaml") && !mentions("requirements.yaml") {
        return Vec::new();
    }
    let Some(chart) = read("Chart.yaml") else {
        return Vec::new();
    };
    let v1 = chart.get("apiVersion").and_then(|v| v.as_str()) == Some("v1");
    let (doc, file) = match (v1, read("requirements.yaml")) {
        (true, Some(req)) => (req, "requirements.yaml"),
        _ => (chart, "Chart.yaml"),
    };
    let Some(deps) = doc.get("dependencies").and_then(|d| d.as_sequence()) else {
        return Vec::new();
    };
    deps.iter()
        .filter_map(|d| {
            let name = d.get("name")?.as_str()?.to_string();
            let constraint = d.get("version").and_then(|v| match v {
                serde_yaml::Value::String(s) => Some(s.clone()),
                serde_yaml::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            Some((name, constraint, file))
        })
        .collect()
}

/// `(name, version)` of each subchart under `charts/`: unpacked folders with a Chart.yaml, and
/// packaged `.tgz` archives (their Chart.yaml read from the archive).
fn present(files: &Files) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for (path, entry) in files.range("charts/".to_string()..) {
        let Some(rest) = path.strip_prefix("charts/") else {
            break;
        };
        let meta = match rest.split_once('/') {
            Some((_, "Chart.yaml")) => Some(crate::chart::meta::parse(&entry.data)),
            None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => {
                archive_chart_yaml(&entry.data).map(|d| crate::chart::meta::parse(&d))
            }
            _ => None,
        };
        if let Some(m) = meta {
            let fallback = rest.split('/').next().unwrap_or(rest);
            out.push((m.name.unwrap_or_else(|| fallback.to_string()), m.version));
        }
    }
    out
}

/// The `<top>/Chart.yaml` of a packaged chart, read through at most [`ARCHIVE_READ_LIMIT`] bytes.
fn archive_chart_yaml(bytes: &[u8]) -> Option<Vec<u8>> {
    let gz = flate2::read::GzDecoder::new(bytes).take(ARCHIVE_READ_LIMIT);
    let mut ar = tar::Archive::new(gz);
    for entry in ar.entries().ok()? {
        let mut entry = entry.ok()?;
        let path = entry.path().ok()?.to_string_lossy().into_owned();
        if path.split('/').filter(|s| !s.is_empty()).count() == 2 && path.ends_with("/Chart.yaml") {
            let mut data = Vec::new();
            entry.by_ref().take(1 << 20).read_to_end(&mut data).ok()?;
            return Some(data);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &[u8])]) -> Files {
        crate::files::regular_files(entries)
    }

    fn exact(c: &str, v: &str) -> Result<bool, String> {
        match c.strip_prefix('~') {
            Some(rest) => Ok(v.starts_with(rest.rsplit_once('.').map_or(rest, |(a, _)| a))),
            None => Ok(c == v),
        }
    }

    fn tgz(top: &str, chart_yaml: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut h = tar::Header::new_gnu();
        h.set_size(chart_yaml.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, format!("{top}/Chart.yaml"), chart_yaml.as_bytes())
            .unwrap();
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn an_umbrella_without_its_subcharts_lists_each_missing_one() {
        let chart = b"apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: ~17.3.0\n  repository: https://charts.bitnami.com/bitnami\n- name: common\n  version: 2.0.0\n";
        let f = files(&[("Chart.yaml", chart)]);
        let u = unmet(&f, exact);
        assert_eq!(
            u.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "redis ~17.3.0 (not under charts/)",
                "common 2.0.0 (not under charts/)"
            ]
        );
        // Vendored: one packaged, one unpacked; the packaged one at the wrong version.
        let redis = tgz("redis", "name: redis\nversion: 18.0.0\n");
        let f = files(&[
            ("Chart.yaml", chart),
            ("charts/redis-18.0.0.tgz", &redis),
            (
                "charts/common/Chart.yaml",
                b"name: common\nversion: 2.0.0\n",
            ),
        ]);
        let u = unmet(&f, exact);
        assert_eq!(
            u.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["redis ~17.3.0 (charts/ has 18.0.0)"]
        );
        let redis = tgz("redis", "name: redis\nversion: 17.3.2\n");
        let f = files(&[
            ("Chart.yaml", chart),
            ("charts/redis-17.3.2.tgz", &redis),
            (
                "charts/common/Chart.yaml",
                b"name: common\nversion: 2.0.0\n",
            ),
        ]);
        assert!(unmet(&f, exact).is_empty());
    }

    #[test]
    fn api_v1_charts_declare_in_requirements_yaml() {
        let f = files(&[
            ("Chart.yaml", b"apiVersion: v1\nname: old\nversion: 1.0.0\n"),
            (
                "requirements.yaml",
                b"dependencies:\n- name: mysql\n  version: 1.6.9\n",
            ),
        ]);
        let u = unmet(&f, exact);
        assert_eq!(u[0].declared_in, "requirements.yaml");
        assert_eq!(u[0].to_string(), "mysql 1.6.9 (not under charts/)");
        let none = files(&[(
            "Chart.yaml",
            b"apiVersion: v2\nname: plain\nversion: 1.0.0\n",
        )]);
        assert!(unmet(&none, exact).is_empty());
    }
}
