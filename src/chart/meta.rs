//! Chart.yaml's `name` and `version`: the one reader (a line scan for the common file, the YAML
//! parser otherwise), the SemVer check Helm documents, and the in-place edit of `version`.
//! Source: helm.sh/docs/topics/charts ("The Chart.yaml File").

use crate::files::Files;
use crate::yaml_edit::Seg;

/// `name` and `version` of a Chart.yaml, as written (numbers as YAML reads them); `None` for an
/// absent field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartMeta {
    /// `name:`; Helm names the chart archive after it.
    pub name: Option<String>,
    /// `version:`; SemVer 2 when checked ([`checked_version`]).
    pub version: Option<String>,
    /// Read from a single-file addon's `_config._metadata` ([`addon_file`]), not a Chart.yaml.
    pub single_file: bool,
    /// A single-file addon's `_metadata.namespace` (where it is installed).
    pub namespace: Option<String>,
}

impl ChartMeta {
    /// The chart's name, or the last segment of its folder `path` when Chart.yaml has none.
    /// A single-file addon without `_metadata.name` is named after its file, without extension.
    pub fn name_or_folder(&self, path: &str) -> String {
        self.name.clone().unwrap_or_else(|| match self.single_file {
            true => addon_stem(path),
            false => path.rsplit('/').next().unwrap_or(path).to_string(),
        })
    }
}

/// A single-file addon's name from its path when `_metadata` has none, and its Helm-like
/// release name: the file name without `.yaml`/`.yml` (`addons/app/app-admin.yaml` ->
/// `app-admin`).
pub fn addon_stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name)
        .to_string()
}

/// `name` and `version` of a Chart.yaml (UTF-8 BOM allowed, numbers read as written by YAML);
/// `None` for an absent field or a file that is not YAML.
pub fn parse(data: &[u8]) -> ChartMeta {
    if let Some(m) = addon_file(data) {
        return m;
    }
    if let Some((name, version)) = std::str::from_utf8(crate::placeholders::strip_bom(data))
        .ok()
        .and_then(simple_chart_yaml_meta)
    {
        return ChartMeta {
            name,
            version,
            single_file: false,
            namespace: None,
        };
    }
    let Ok(v) = crate::yaml::parse(data) else {
        return ChartMeta::default();
    };
    let s = |k: &str| match v.get(k) {
        Some(serde_yaml::Value::String(s)) => Some(s.clone()),
        Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    ChartMeta {
        name: s("name"),
        version: s("version"),
        single_file: false,
        namespace: None,
    }
}

/// The file that holds the version of the chart or addon at `root` (repo-relative): the
/// single-file addon itself when `root` names a YAML file, else `root/Chart.yaml`.
pub fn file_of(root: &str) -> String {
    if root.ends_with(".yaml") || root.ends_with(".yml") {
        root.to_string()
    } else {
        crate::files::join(root, "Chart.yaml")
    }
}

/// Path of the version of a single-file addon: `_config._metadata.version`.
pub const ADDON_VERSION_PATH: [&str; 3] = ["_config", "_metadata", "version"];

/// A single-file addon (seed 000: the platform's application format, `addons/<group>/<addon>.yaml`):
/// a YAML mapping whose `_config._metadata` is a mapping. Its `name` and `version` are
/// `_metadata.name` and `_metadata.version` (numbers as written); `None` for any other file.
/// Files that do not mention `_metadata` are answered without a YAML parse.
pub fn addon_file(data: &[u8]) -> Option<ChartMeta> {
    if !data.windows(9).any(|w| w == b"_metadata") {
        return None;
    }
    let v = crate::yaml::parse(data).ok()?;
    let m = v.get("_config")?.get("_metadata")?.as_mapping()?;
    let s = |k: &str| match m.get(k) {
        Some(serde_yaml::Value::String(s)) => Some(s.clone()),
        Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some(ChartMeta {
        name: s("name"),
        version: s("version"),
        single_file: true,
        namespace: s("namespace"),
    })
}

/// The YAML path of the version in `data`: `_config._metadata.version` in a single-file addon,
/// else Chart.yaml's top-level `version`.
pub fn version_path(data: &[u8]) -> Vec<Seg> {
    version_path_of(addon_file(data).is_some())
}

/// [`version_path`] once the file is known to be a single-file addon or not.
fn version_path_of(single_file: bool) -> Vec<Seg> {
    if single_file {
        ADDON_VERSION_PATH
            .iter()
            .map(|k| Seg::Key((*k).into()))
            .collect()
    } else {
        vec![Seg::Key("version".into())]
    }
}

/// The chart version of `files`' `Chart.yaml`, required to be SemVer 2 as Helm documents it
/// (`version: A SemVer 2 version`, helm.sh/docs/topics/charts), with an optional `v` as real
/// charts carry it (cert-manager publishes `v1.14.0`; Helm accepts it): `None` when the chart has
/// no Chart.yaml or no version. A version such as `latest` or `1.2` would name an archive
/// `x-latest.tgz` and break every version comparison of tag, bump and hotfix.
///
/// Errors: `Chart.yaml:LINE: version `VALUE` is not SemVer 2 …`, for the caller to prefix with
/// the chart's path.
pub fn checked_version(files: &Files) -> Result<Option<String>, String> {
    let Some((file, entry)) = files
        .get("Chart.yaml")
        .map(|e| ("Chart.yaml", e))
        .or_else(|| files.get("").map(|e| ("", e)))
    else {
        return Ok(None);
    };
    let Some(version) = parse(&entry.data).version else {
        return Ok(None);
    };
    if semver::Version::parse(version.strip_prefix('v').unwrap_or(&version)).is_ok() {
        return Ok(Some(version));
    }
    let line = version_line(&entry.data).unwrap_or(1);
    let at = if file.is_empty() {
        format!("{line}")
    } else {
        format!("{file}:{line}")
    };
    Err(format!(
        "{at}: version `{version}` is not SemVer 2 ([v]MAJOR.MINOR.PATCH[-PRE][+BUILD])"
    ))
}

/// A chart's identity as Helm requires it before installing, checked where a chart enters the
/// repository (collect), as package does when it is archived: Chart.yaml has a `version`, and its
/// `name`, when set, is a plain name (`[A-Za-z0-9._-]`, not `.` or `..`: it names the archive
/// and its top folder, so `../../x` would leave it). No Chart.yaml: nothing to check here.
///
/// Errors: `Chart.yaml:LINE: …`, naming what is wrong.
pub fn checked_identity(files: &Files) -> Result<(), String> {
    let Some(entry) = files.get("Chart.yaml") else {
        return Ok(());
    };
    let meta = parse(&entry.data);
    if meta.version.is_none() {
        return Err("Chart.yaml:1: no `version` (Helm refuses a chart without one)".into());
    }
    if let Some(name) = &meta.name {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !plain {
            let line = String::from_utf8_lossy(&entry.data)
                .lines()
                .position(|l| l.starts_with("name:"))
                .map_or(1, |i| i + 1);
            return Err(format!(
                "Chart.yaml:{line}: name `{name}` is not a chart name (letters, digits, `.`, `_`, `-`)"
            ));
        }
    }
    Ok(())
}

/// [`parse`] without a YAML parser, for the common Chart.yaml: every line at column 0 is
/// `key: value` with a plain key, and `name` / `version` are single-line strings (plain, or quoted
/// without escapes). `None` whenever anything is less simple (flow or quoted keys, anchors, tags,
/// block scalars, multi-line plain values, duplicate keys, values YAML reads as numbers or
/// booleans): the caller then parses. Auditing hundreds of release tags reads thousands of
/// Chart.yaml files; this makes each one a line scan.
fn simple_chart_yaml_meta(text: &str) -> Option<(Option<String>, Option<String>)> {
    let (mut name, mut version) = (None, None);
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let first = line.chars().next()?;
        if first == ' ' || first == '#' {
            continue;
        }
        if line.contains('\t') {
            return None;
        }
        let (key, rest) = line.split_once(':')?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        if key != "name" && key != "version" {
            // Other keys: only what a line can tell (the parser sees the rest).
            let v = rest.trim();
            let closed = match v.as_bytes().first() {
                Some(b'"') => v.len() > 1 && v.ends_with('"'),
                Some(b'\'') => v.len() > 1 && v.ends_with('\''),
                Some(b'[') => v.ends_with(']'),
                Some(b'{') => v.ends_with('}'),
                _ => !v.contains(": "),
            };
            if !closed {
                return None;
            }
            continue;
        }
        if !rest.is_empty() && !rest.starts_with(' ') {
            return None;
        }
        let mut v = rest.trim();
        if let Some(i) = v.find(" #") {
            v = v[..i].trim_end();
        }
        let value = match v.as_bytes().first()? {
            b'"' => {
                let inner = v.strip_prefix('"')?.strip_suffix('"')?;
                if inner.contains(['"', '\\']) {
                    return None;
                }
                inner.to_string()
            }
            b'\'' => {
                let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
                if inner.contains('\'') {
                    return None;
                }
                inner.to_string()
            }
            b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' | b'[' | b'{' | b'-' | b'?' => {
                return None
            }
            _ => {
                let lower = v.to_ascii_lowercase();
                let numeric = v.parse::<f64>().is_ok()
                    || v.starts_with("0x")
                    || v.starts_with("0o")
                    || v.contains('_');
                let special = matches!(
                    lower.as_str(),
                    "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | ".inf" | ".nan"
                );
                if numeric || special || v.contains(": ") || v.ends_with(':') {
                    return None;
                }
                // A plain value continued on the next, indented line is one multi-line scalar.
                if lines.get(i + 1).is_some_and(|n| {
                    n.starts_with(' ') && !n.trim().is_empty() && !n.trim_start().starts_with('#')
                }) {
                    return None;
                }
                v.to_string()
            }
        };
        let slot = if key == "name" {
            &mut name
        } else {
            &mut version
        };
        if slot.replace(value).is_some() {
            return None; // a duplicate key: YAML refuses the file
        }
    }
    Some((name, version))
}

/// [`parse`] of the `Chart.yaml` in a chart's files (chart-relative paths), or of the one file
/// of a single-file addon (keyed `""`, as [`crate::git::read_path`] reads a file); empty
/// without either.
pub fn of(files: &Files) -> ChartMeta {
    files
        .get("Chart.yaml")
        .or_else(|| files.get(""))
        .map_or_else(ChartMeta::default, |e| parse(&e.data))
}

/// The 1-based line of the top-level `version:` of Chart.yaml bytes; `None` when there is none
/// or the text is not YAML.
pub fn version_line(data: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(crate::placeholders::strip_bom(data));
    crate::yaml_edit::find_scalar(&text, &version_path(data))
        .ok()
        .map(|s| s.line)
}

/// Chart.yaml bytes with the top-level `version` set to `version` (a single-file addon's
/// `_config._metadata.version`), edited in place (only the value's bytes change; a UTF-8 BOM is
/// kept); `None` when the file has no editable version, or none [`parse`] reads (a key written
/// with a YAML tag, `!x version: 1.0.0`, is found by the editor but is no `version` to the
/// reader: found by fuzzing, seed `tagged-version-key`).
pub fn set_version(data: &[u8], version: &str) -> Option<Vec<u8>> {
    let meta = parse(data);
    meta.version.as_ref()?;
    let text = std::str::from_utf8(crate::placeholders::strip_bom(data)).ok()?;
    let bom = data.len() - text.len();
    let path = version_path_of(meta.single_file);
    let edited = crate::yaml_edit::set_scalar(text, &path, version, None).ok()?;
    let mut out = data[..bom].to_vec();
    out.extend_from_slice(edited.as_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_scan_agrees_with_the_parser_or_steps_aside() {
        let cases = [
            "apiVersion: v2\nname: cyclone\nversion: 0.10.0\n",
            "name: 'quoted'\nversion: \"1.2.3\"  # released\n",
            "name: x\nversion: v1.2.3-rc.1+build.5\ndescription: a: b\n",
            "name: x\nversion: 1.10\n",
            "name: x\nversion: 1\n",
            "name: x\nversion: true\n",
            "name: x\nversion: &v 1.0.0\n",
            "name: x\nversion:\n  1.0.0\n",
            "name: x\nversion: 1.0.0\n  continued\n",
            "\"name\": x\nversion: 1.0.0\n",
            "{name: x, version: 1.0.0}\n",
            "name: x\nname: y\nversion: 1.0.0\n",
            "---\nname: x\nversion: 1.0.0\n",
            "name: x # comment\nversion: 1.0.0\nmaintainers:\n- name: me\n",
            "name: 'it''s'\nversion: 1.0.0\n",
            "name: x\nversion: 0x10\n",
            "version: 1.0.0\n",
        ];
        for c in cases {
            let parsed = {
                let v = crate::yaml::parse(c.as_bytes()).ok();
                let s = |k: &str| match v.as_ref().and_then(|v| v.get(k)) {
                    Some(serde_yaml::Value::String(s)) => Some(s.clone()),
                    Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                (s("name"), s("version"))
            };
            // On valid YAML the line scan gives what the parser gives, or steps aside.
            if crate::yaml::parse(c.as_bytes()).is_ok() {
                if let Some(fast) = simple_chart_yaml_meta(c) {
                    assert_eq!(fast, parsed, "{c:?}");
                }
            }
            assert_eq!(
                {
                    let m = parse(c.as_bytes());
                    (m.name, m.version)
                },
                parsed,
                "{c:?}"
            );
        }
        assert!(simple_chart_yaml_meta("name: x\nversion: 1.0.0\n").is_some());
    }
}
