//! version.yml (`spec.modules[].addons[]`, seed 002 "更新组件版本配置文件"): reading and checking
//! its entries.

use crate::error::UserError;
use crate::yaml_edit::{self, Seg};

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
    /// `enable: false` on the addon or on its module (the platform installs neither); `true`
    /// when absent or anything else.
    pub enabled: bool,
}

impl AddonEntry {
    /// The YAML path of field `key` of this addon (`spec.modules[i].addons[j].<key>`), for
    /// in-place edits and line lookups.
    pub fn field_path(&self, key: &str) -> Vec<Seg> {
        vec![
            Seg::Key("spec".into()),
            Seg::Key("modules".into()),
            Seg::Index(self.module_index),
            Seg::Key("addons".into()),
            Seg::Index(self.addon_index),
            Seg::Key(key.into()),
        ]
    }
}

/// Read version.yml (`rel` names it in messages) and every addon it lists, in file order
/// (numbers read as strings), checking its shape: `spec.modules` a list of mappings, each
/// `addons` a list of mappings with a string `name`, and no addon name listed twice (collect
/// and tag would update or check only one of them).
///
/// Errors (exit 2), each naming `rel` and a 1-based line: not YAML
/// ([`crate::yaml::parse`]); a shape error; a duplicate name (with the line of the first).
pub fn read(rel: &str, bytes: &[u8]) -> anyhow::Result<Vec<AddonEntry>> {
    let doc = crate::yaml::parse(bytes)
        .map_err(|e| UserError::input(format!("{rel}:{}: not valid YAML: {}", e.line, e.msg)))?;
    let text = String::from_utf8_lossy(crate::placeholders::strip_bom(bytes));
    let line_of = |path: &[Seg]| -> usize {
        let mut p = path.to_vec();
        // The line of the value itself when it is a scalar, else of its first scalar child.
        for _ in 0..2 {
            if let Ok(s) = yaml_edit::find_scalar(&text, &p) {
                return s.line;
            }
            p.push(Seg::Index(0));
        }
        let key = path.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        });
        key.and_then(|k| {
            text.lines().position(|l| {
                l.trim_start()
                    .trim_start_matches("- ")
                    .starts_with(&format!("{k}:"))
            })
        })
        .map_or(1, |i| i + 1)
    };
    let shape = |path: &[Seg], what: &str| -> anyhow::Error {
        UserError::input(format!(
            "{rel}:{}: `{}` must be {what}",
            line_of(path),
            yaml_edit::display_path(path)
        ))
        .hint(
            "version.yml lists addons as spec.modules[].addons[] with name, namespace and version",
        )
        .into()
    };
    let s = |v: Option<&serde_yaml::Value>| match v {
        Some(serde_yaml::Value::String(s)) => Some(s.clone()),
        Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    let mut first_seen: std::collections::HashMap<String, Vec<Seg>> = Default::default();
    let modules = match doc.get("spec").and_then(|x| x.get("modules")) {
        None | Some(serde_yaml::Value::Null) => return Ok(out),
        Some(serde_yaml::Value::Sequence(m)) => m,
        Some(_) => {
            return Err(shape(
                &[Seg::Key("spec".into()), Seg::Key("modules".into())],
                "a list of modules",
            ))
        }
    };
    for (i, m) in modules.iter().enumerate() {
        let mpath = vec![
            Seg::Key("spec".into()),
            Seg::Key("modules".into()),
            Seg::Index(i),
        ];
        if !m.is_mapping() {
            return Err(shape(&mpath, "a mapping with `name` and `addons`"));
        }
        let addons = match m.get("addons") {
            None | Some(serde_yaml::Value::Null) => continue,
            Some(serde_yaml::Value::Sequence(a)) => a,
            Some(_) => {
                let mut p = mpath.clone();
                p.push(Seg::Key("addons".into()));
                return Err(shape(&p, "a list of addons"));
            }
        };
        for (j, a) in addons.iter().enumerate() {
            let mut apath = mpath.clone();
            apath.push(Seg::Key("addons".into()));
            apath.push(Seg::Index(j));
            let Some(name) = a.is_mapping().then(|| s(a.get("name"))).flatten() else {
                return Err(shape(&apath, "a mapping with a `name`"));
            };
            // Lines are looked up for the error only: each lookup parses the file.
            let name_path = |seg: &[Seg]| {
                let mut p = seg.to_vec();
                p.push(Seg::Key("name".into()));
                p
            };
            if let Some(first) = first_seen.insert(name.clone(), apath.clone()) {
                return Err(UserError::input(format!(
                    "{rel}:{}: addon `{name}` is listed twice (first at line {})",
                    line_of(&name_path(&apath)),
                    line_of(&name_path(&first))
                ))
                .hint(
                    "list each addon once; collect and tag would update or check only one of them",
                )
                .into());
            }
            out.push(AddonEntry {
                module_index: i,
                addon_index: j,
                module: s(m.get("name")),
                name,
                namespace: s(a.get("namespace")),
                version: s(a.get("version")),
                enabled: [m.get("enable"), a.get("enable")]
                    .iter()
                    .all(|e| !matches!(e, Some(serde_yaml::Value::Bool(false)))),
            });
        }
    }
    Ok(out)
}

/// Set `spec.modules[].addons[].version` of every addon named in `versions` (chart name ->
/// version), in place: only the bytes of each changed value change ([`yaml_edit::set_scalar`]).
/// Returns the new text and the names `versions` holds that version.yml does not list (never
/// invented: which module and namespace they belong to is the user's call).
///
/// Errors (exit 2, naming `rel`): the reading errors of [`read`]; a value that cannot be edited
/// in place.
pub fn set_versions(
    rel: &str,
    text: &str,
    versions: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<(String, Vec<String>)> {
    let addons = read(rel, text.as_bytes())?;
    let edits: Vec<(Vec<yaml_edit::Seg>, String)> = addons
        .iter()
        .filter_map(|a| {
            let v = versions.get(&a.name)?;
            (a.version.as_deref() != Some(v.as_str())).then(|| (a.field_path("version"), v.clone()))
        })
        .collect();
    let out = yaml_edit::set_scalars(text, &edits, Some("namespace"))
        .map_err(|e| UserError::input(format!("{rel}: {e}")))?;
    let missing = versions
        .keys()
        .filter(|n| !addons.iter().any(|a| &a.name == *n))
        .cloned()
        .collect();
    Ok((out, missing))
}

/// An addon collect adds to version.yml: a chart no entry lists yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddon {
    /// Module to list it under (created at the end of `spec.modules` when absent).
    pub module: String,
    /// Addon name (the chart name).
    pub name: String,
    /// Chart version.
    pub version: String,
}

/// `text` with `new` listed under `spec.modules[].addons[]`, in place: each addon is appended to
/// its module's `addons` (after its last entry, with that entry's indentation), a module that does
/// not exist is appended to `spec.modules` (an empty flow list `modules: []`, as `init` writes it,
/// becomes a block list). Every new entry gets `enable: true`, the namespace its module's addons
/// share (else `default`) and `version`. The result is read back: every entry the file had is
/// unchanged, the new ones are there, nothing else of the document moved.
///
/// Returns `None` when the file's shape does not allow an in-place insertion (a flow-style
/// module, a module without a block `addons:` list, no `spec.modules`): the caller then asks the
/// user to add the entries.
pub fn add_addons(rel: &str, text: &str, new: &[NewAddon]) -> Option<String> {
    let mut out = text.to_string();
    for a in new {
        out = add_one(rel, &out, a)?;
    }
    let before = read(rel, text.as_bytes()).ok()?;
    let after = read(rel, out.as_bytes()).ok()?;
    let key = |e: &AddonEntry| {
        (
            e.name.clone(),
            e.module.clone(),
            e.namespace.clone(),
            e.version.clone(),
        )
    };
    let unchanged = before
        .iter()
        .all(|b| after.iter().any(|x| key(x) == key(b)));
    let added = new.iter().all(|n| {
        after.iter().any(|x| {
            x.name == n.name
                && x.module.as_deref() == Some(&n.module)
                && x.version.as_deref() == Some(&n.version)
        })
    });
    let others = |t: &str| -> Option<serde_yaml::Value> {
        let mut v: serde_yaml::Value = serde_yaml::from_str(t).ok()?;
        if let Some(spec) = v.get_mut("spec").and_then(|s| s.as_mapping_mut()) {
            spec.remove("modules");
        }
        Some(v)
    };
    (unchanged
        && added
        && after.len() == before.len() + new.len()
        && others(text)? == others(&out)?)
    .then_some(out)
}

/// Indentation (spaces) of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn add_one(rel: &str, text: &str, a: &NewAddon) -> Option<String> {
    if text.contains('\r') || !text.ends_with('\n') {
        return None;
    }
    let entries = read(rel, text.as_bytes()).ok()?;
    let lines: Vec<&str> = text
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches('\n'))
        .collect();
    let line_of = |path: &[Seg]| yaml_edit::find_scalar(text, path).ok().map(|s| s.line - 1);
    let in_module: Vec<&AddonEntry> = entries
        .iter()
        .filter(|e| e.module.as_deref() == Some(a.module.as_str()))
        .collect();
    let namespaces: std::collections::BTreeSet<&str> = in_module
        .iter()
        .filter_map(|e| e.namespace.as_deref())
        .collect();
    let namespace = match namespaces.len() {
        1 => namespaces.into_iter().next()?.to_string(),
        _ => "default".to_string(),
    };
    let quote = |v: &str| -> String {
        if v.is_empty() || serde_yaml::from_str::<String>(v).ok().as_deref() != Some(v) {
            format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            v.to_string()
        }
    };
    let addon = |pad: &str| {
        format!(
            "{pad}- name: {}\n{pad}  enable: true\n{pad}  namespace: {}\n{pad}  version: {}\n",
            quote(&a.name),
            quote(&namespace),
            quote(&a.version)
        )
    };
    let splice = |at: usize, insert: &str| format!("{}{insert}{}", &text[..at], &text[at..]);
    if let Some(last) = in_module.last() {
        let l = line_of(&last.field_path("name"))?;
        let col = lines[l]
            .find('-')
            .filter(|c| lines[l][*c..].starts_with("- "))?;
        return Some(splice(
            yaml_edit::block_item_end(&lines, l, col),
            &addon(&" ".repeat(col)),
        ));
    }
    // A new module, after the last one (or in place of `modules: []`).
    let module = |pad: &str| {
        format!(
            "{pad}- name: {}\n{pad}  enable: true\n{pad}  addons:\n{}",
            quote(&a.module),
            addon(&format!("{pad}  "))
        )
    };
    let modules_path = [Seg::Key("spec".into()), Seg::Key("modules".into())];
    let last_module = (0..)
        .map(|i| {
            let mut p = modules_path.to_vec();
            p.extend([Seg::Index(i), Seg::Key("name".into())]);
            line_of(&p)
        })
        .take_while(Option::is_some)
        .last()
        .flatten();
    if let Some(l) = last_module {
        let col = lines[l]
            .find('-')
            .filter(|c| lines[l][*c..].starts_with("- "))?;
        return Some(splice(
            yaml_edit::block_item_end(&lines, l, col),
            &module(&" ".repeat(col)),
        ));
    }
    // `modules: []`
    let (i, line) = lines.iter().enumerate().find(|(_, l)| {
        let t = l.trim();
        t.starts_with("modules:") && t["modules:".len()..].trim_start().starts_with("[]")
    })?;
    let pad = " ".repeat(indent(line));
    let rest = line.trim()["modules:".len()..].trim_start()["[]".len()..].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let start: usize = lines[..i].iter().map(|l| l.len() + 1).sum();
    let end = start + line.len() + 1;
    let comment = if rest.is_empty() {
        String::new()
    } else {
        format!(" {rest}")
    };
    Some(format!(
        "{}{pad}modules:{comment}\n{}{}",
        &text[..start],
        module(&pad),
        &text[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "spec:\n  modules:\n  - name: devops\n    addons:\n    - name: cyclone\n      namespace: devops\n      version: 1.0.0\n";

    #[test]
    fn add_addons_appends_to_a_module_creates_one_and_fills_an_empty_list() {
        let fixture = "spec:\n  modules: # all\n  - name: devops\n    addons:\n    - name: cyclone   # keep\n      namespace: devops\n      version: 1.0.0\n\n  # later modules go here\nother: 1\n";
        let add = |module: &str, name: &str| NewAddon {
            module: module.into(),
            name: name.into(),
            version: "0.1.0".into(),
        };
        let out = add_addons(
            "v",
            fixture,
            &[add("devops", "mongo"), add("infra", "redis")],
        )
        .unwrap();
        assert_eq!(
            out,
            "spec:\n  modules: # all\n  - name: devops\n    addons:\n    - name: cyclone   # keep\n      namespace: devops\n      version: 1.0.0\n    - name: mongo\n      enable: true\n      namespace: devops\n      version: 0.1.0\n  - name: infra\n    enable: true\n    addons:\n    - name: redis\n      enable: true\n      namespace: default\n      version: 0.1.0\n\n  # later modules go here\nother: 1\n"
        );
        let init = "# top\nspec:\n  modules: []\n  # - name: core\n";
        let out = add_addons("v", init, &[add("devops", "cyclone")]).unwrap();
        assert_eq!(
            out,
            "# top\nspec:\n  modules:\n  - name: devops\n    enable: true\n    addons:\n    - name: cyclone\n      enable: true\n      namespace: default\n      version: 0.1.0\n  # - name: core\n"
        );
        // A flow-style module cannot take an entry in place.
        assert_eq!(
            add_addons(
                "v",
                "spec:\n  modules: [{name: a, addons: [{name: b}]}]\n",
                &[add("a", "c")]
            ),
            None
        );
    }

    #[test]
    fn reads_addons() {
        let a = read("version.yml", GOOD.as_bytes()).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].name, "cyclone");
        assert_eq!(a[0].module.as_deref(), Some("devops"));
        assert_eq!(a[0].version.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn set_versions_edits_in_place() {
        let v = std::collections::BTreeMap::from([
            ("cyclone".to_string(), "1.0.1".to_string()),
            ("other".to_string(), "2.0.0".to_string()),
        ]);
        let (text, missing) = set_versions("version.yml", GOOD, &v).unwrap();
        assert_eq!(text, GOOD.replace("version: 1.0.0", "version: 1.0.1"));
        assert_eq!(missing, ["other"]);
    }

    #[test]
    fn shape_errors_and_duplicates_name_the_line() {
        let e = read("version.yml", b"spec:\n  modules: 5\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "version.yml:2: `spec.modules` must be a list of modules"
        );
        let dup = format!("{GOOD}    - name: cyclone\n      version: 2.0.0\n");
        let e = read("version.yml", dup.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e,
            "version.yml:8: addon `cyclone` is listed twice (first at line 5)"
        );
        let e = read(
            "version.yml",
            b"spec:\n  modules:\n  - name: m\n    addons:\n    - 7\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("version.yml:5:"), "{e}");
    }
}
