//! Plugins (seed 001, "插件包"): one YAML file a plugin, `release-plugins/<name>.yaml`
//! (`release.pluginsPath`), in the plugin center's format. Only what the release rules need is
//! read: `metadata.name`, `spec.version` (`v0.0.0` form), `spec.service.image`,
//! `spec.service.port`, `spec.modules[].slots[]` and the product requirement
//! (`spec.compassRequirement`); every other field is the plugin center's business and is left
//! alone.

use anyhow::Result;

use crate::error::UserError;
use crate::yaml_edit::{self, Seg};

/// A slot a module of a plugin claims.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Slot {
    /// The slot (`system.plugin_center`).
    pub slot: String,
    /// The module claiming it.
    pub module: String,
    /// 1-based line of the slot in the file.
    pub line: usize,
}

/// One plugin file, read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plugin {
    /// Repo-relative path (`release-plugins/gpu-manager.yaml`).
    pub file: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.version`, as written (`v0.1.3`).
    pub version: String,
    /// Its line.
    pub version_line: usize,
    /// `spec.service.image`, when set.
    pub image: Option<String>,
    /// Its line (0 when absent).
    pub image_line: usize,
    /// `spec.service.port`, when set.
    pub port: Option<u64>,
    /// Its line (0 when absent).
    pub port_line: usize,
    /// Every slot of every module, in file order.
    pub slots: Vec<Slot>,
    /// The product versions it runs on (`spec.compassRequirement`, `>=v2.7.1`), when set.
    pub requirement: Option<String>,
    /// The file's bytes (compared across releases).
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// A plugin added, removed or changed between two revisions (`log`, `diff`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginChange {
    /// `metadata.name`.
    pub name: String,
    /// Its file on the newer side (the older one for a removed plugin).
    pub file: String,
    /// Version before (`None`: added).
    pub from: Option<String>,
    /// Version after (`None`: removed).
    pub to: Option<String>,
    /// `spec.service.image` after (before, for a removed plugin).
    pub image: Option<String>,
}

/// The plugins that differ between `old` and `new` (by name; any byte of the file counts), by
/// name.
pub fn changes(old: &[Plugin], new: &[Plugin]) -> Vec<PluginChange> {
    let mut out = Vec::new();
    for n in new {
        let o = old.iter().find(|o| o.name == n.name);
        if o.is_some_and(|o| o.bytes == n.bytes) {
            continue;
        }
        out.push(PluginChange {
            name: n.name.clone(),
            file: n.file.clone(),
            from: o.map(|o| o.version.clone()),
            to: Some(n.version.clone()),
            image: n.image.clone(),
        });
    }
    for o in old.iter().filter(|o| !new.iter().any(|n| n.name == o.name)) {
        out.push(PluginChange {
            name: o.name.clone(),
            file: o.file.clone(),
            from: Some(o.version.clone()),
            to: None,
            image: o.image.clone(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// One line of a [`PluginChange`], as `log` and `diff` print it: `plugin NAME FROM -> TO  IMAGE`.
pub fn change_line(c: &PluginChange) -> String {
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".into());
    let what = match (&c.from, &c.to) {
        (None, _) => " (added)",
        (_, None) => " (removed)",
        (a, b) if a == b => " (changed, same version)",
        _ => "",
    };
    let image = c
        .image
        .as_deref()
        .map_or(String::new(), |i| format!("  {i}"));
    format!(
        "plugin  {}  {} -> {}{what}{image}",
        c.name,
        v(&c.from),
        v(&c.to)
    )
}

/// The requirement `spec.<key>` of `p` (`compassRequirement` by default, seed 001), when set.
pub fn requirement(p: &Plugin, key: &str) -> Option<String> {
    if key == "compassRequirement" {
        return p.requirement.clone();
    }
    let doc = crate::yaml::parse(&p.bytes).ok()?;
    doc["spec"][key].as_str().map(str::to_string)
}

impl Plugin {
    /// `spec.version` as SemVer (`v` optional), when it is one.
    pub fn semver(&self) -> Option<semver::Version> {
        semver::Version::parse(self.version.trim_start_matches('v')).ok()
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.into())
}

/// Read the plugin file `rel` (its bytes `bytes`).
///
/// Errors (exit 2), each naming the file and line: not YAML; no string `metadata.name`; no
/// `spec.version` in the `v0.0.0` form; a port that is not a number.
pub fn parse(rel: &str, bytes: &[u8]) -> Result<Plugin> {
    let doc = crate::yaml::parse(bytes)
        .map_err(|e| UserError::input(format!("{rel}:{}: not valid YAML: {}", e.line, e.msg)))?;
    let text = String::from_utf8_lossy(crate::placeholders::strip_bom(bytes)).into_owned();
    let line = |path: &[Seg]| {
        yaml_edit::find_scalar(&text, path)
            .map(|s| s.line)
            .unwrap_or(0)
    };
    let spec = &doc["spec"];
    let Some(name) = doc["metadata"]["name"].as_str().map(str::to_string) else {
        return Err(
            UserError::input(format!("{rel}:1: the plugin has no `metadata.name`"))
                .hint("a plugin file names its plugin in metadata.name")
                .into(),
        );
    };
    let version_path = [key("spec"), key("version")];
    let version = match &spec["version"] {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let vline = line(&version_path).max(1);
    if crate::versions::parse_loose(&version).is_none() || !version.starts_with('v') {
        return Err(UserError::input(format!(
            "{rel}:{vline}: spec.version `{version}` is not a plugin version (v0.0.0)"
        ))
        .hint("write it as vMAJOR.MINOR.PATCH, e.g. v0.1.3; raise it with every change")
        .into());
    }
    let service = &spec["service"];
    let image = service["image"].as_str().map(str::to_string);
    let port_path = [key("spec"), key("service"), key("port")];
    let port = match &service["port"] {
        serde_yaml::Value::Null => None,
        serde_yaml::Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
        serde_yaml::Value::String(s) if s.parse::<u64>().is_ok() => s.parse().ok(),
        other => {
            return Err(UserError::input(format!(
                "{rel}:{}: spec.service.port `{}` is not a port number",
                line(&port_path).max(1),
                serde_yaml::to_string(other).unwrap_or_default().trim()
            ))
            .into())
        }
    };
    let mut slots = Vec::new();
    for (i, m) in spec["modules"]
        .as_sequence()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let module = m["name"].as_str().unwrap_or_default().to_string();
        for (j, s) in m["slots"].as_sequence().into_iter().flatten().enumerate() {
            if let Some(slot) = s.as_str() {
                slots.push(Slot {
                    slot: slot.to_string(),
                    module: module.clone(),
                    line: line(&[
                        key("spec"),
                        key("modules"),
                        Seg::Index(i),
                        key("slots"),
                        Seg::Index(j),
                    ]),
                });
            }
        }
    }
    Ok(Plugin {
        file: rel.to_string(),
        name,
        version,
        version_line: vline,
        image,
        image_line: line(&[key("spec"), key("service"), key("image")]),
        port,
        port_line: line(&port_path),
        slots,
        requirement: spec["compassRequirement"].as_str().map(str::to_string),
        bytes: bytes.to_vec(),
    })
}

/// Every plugin file (`*.yaml`, `*.yml`) directly under `settings.plugins_path` at `tree`, by
/// file name; none when the folder does not exist.
///
/// Errors: as [`parse`], for the first file that fails; unreadable objects.
pub fn at(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &crate::settings::Settings,
) -> Result<Vec<Plugin>> {
    let Some(files) = crate::git::read_path(repo, tree, &settings.plugins_path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, e) in files {
        if name.contains('/') || !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let rel = crate::files::join(&settings.plugins_path, &name);
        out.push(parse(&rel, &e.data)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPU: &str = "metadata:\n  name: gpu-manager\n  alias: GPU manager\nspec:\n  class: gpu-manager\n  version: v0.1.3\n  compassRequirement: \">=v2.7.1\"\n  service:\n    port: 9999\n    image: \"[[ registry_release ]]/release/compass-plugins-gpu-manager:v0.1.3\"\n  modules:\n  - name: gpu-manager\n    sources: [\"/src/index.js\"]\n    slots:\n    - system.plugin_center\n    - gpu.panel\n";

    #[test]
    fn reads_what_the_rules_need_with_lines() {
        let p = parse("release-plugins/gpu.yaml", GPU.as_bytes()).unwrap();
        assert_eq!(p.name, "gpu-manager");
        assert_eq!((p.version.as_str(), p.version_line), ("v0.1.3", 6));
        assert_eq!((p.port, p.port_line), (Some(9999), 9));
        assert_eq!(p.image_line, 10);
        assert_eq!(p.requirement.as_deref(), Some(">=v2.7.1"));
        assert_eq!(
            p.slots,
            [
                Slot {
                    slot: "system.plugin_center".into(),
                    module: "gpu-manager".into(),
                    line: 15
                },
                Slot {
                    slot: "gpu.panel".into(),
                    module: "gpu-manager".into(),
                    line: 16
                },
            ]
        );
    }

    #[test]
    fn bad_files_name_file_and_line() {
        let e = parse(
            "release-plugins/x.yaml",
            GPU.replace("v0.1.3\n  compass", "0.1\n  compass")
                .as_bytes(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("release-plugins/x.yaml:6: spec.version `0.1`"),
            "{e}"
        );
        let e = parse(
            "release-plugins/x.yaml",
            GPU.replace("port: 9999", "port: nine").as_bytes(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("release-plugins/x.yaml:9: spec.service.port"),
            "{e}"
        );
        let e = parse("release-plugins/x.yaml", b"spec: [1\n").unwrap_err();
        assert!(e.to_string().starts_with("release-plugins/x.yaml:"), "{e}");
    }
}
