//! Plain-text tables for terminal output: columns padded to their widest cell, two spaces apart.

use std::io::Write;

/// Write `rows` (the first one is the header) with every column padded to its widest cell
/// (counted in characters) and trailing spaces trimmed.
pub fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

/// One entry of version.yml's `spec.modules[].addons[]` (seed 002, "更新组件版本配置文件").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonEntry {
    /// Index of the module in `spec.modules`.
    pub module_index: usize,
    /// Index of the addon in that module's `addons`.
    pub addon_index: usize,
    /// Module `name`.
    pub module: Option<String>,
    /// Addon `name` (the chart name).
    pub name: String,
    /// Addon `namespace`.
    pub namespace: Option<String>,
    /// Addon `version`.
    pub version: Option<String>,
}

/// Every addon listed in a parsed version.yml, in file order. Numbers read as strings.
pub fn version_yml_addons(doc: &serde_yaml::Value) -> Vec<AddonEntry> {
    let s = |v: Option<&serde_yaml::Value>| match v {
        Some(serde_yaml::Value::String(s)) => Some(s.clone()),
        Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    let modules = doc
        .get("spec")
        .and_then(|x| x.get("modules"))
        .and_then(|x| x.as_sequence());
    for (i, m) in modules.into_iter().flatten().enumerate() {
        let addons = m.get("addons").and_then(|x| x.as_sequence());
        for (j, a) in addons.into_iter().flatten().enumerate() {
            if let Some(name) = s(a.get("name")) {
                out.push(AddonEntry {
                    module_index: i,
                    addon_index: j,
                    module: s(m.get("name")),
                    name,
                    namespace: s(a.get("namespace")),
                    version: s(a.get("version")),
                });
            }
        }
    }
    out
}
