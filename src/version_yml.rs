//! version.yml (`spec.modules[].addons[]`, seed 002 "更新组件版本配置文件"): reading its entries.

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
pub fn addons(doc: &serde_yaml::Value) -> Vec<AddonEntry> {
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
