//! Product description files (`release.productFiles`: seed 000's `compass.yaml`,
//! `mini-compass.yaml`, and `oem.yaml` on OEM branches): which addons a full, a minimal or a
//! customer's installation deploys. Shape:
//!
//! ```yaml
//! metadata: {name: full compass, version: 2.7.3, description: …}
//! spec:
//!   systemAddons:            # installed first, outside every module
//!   - {name: tenant-admin, description: Manage tenants}
//!   modules:
//!   - name: app
//!     required: true
//!     addons:
//!     - {name: app-admin, description: app-admin, deps: [tenant-admin]}
//! ```
//!
//! In the caicloud layout these files have version.yml's role: the rule
//! `product-description-mismatch` ([`findings`]) holds them against the addons, and collect adds
//! newly collected addons to the first of them ([`add_addon`]), edited in place.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::UserError;
use crate::yaml_edit::{self, Seg};

/// One addon a description lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `name`.
    pub name: String,
    /// The module's `name`; `None` for a system addon (`spec.systemAddons`).
    pub module: Option<String>,
    /// `deps`: addons installed before it.
    pub deps: Vec<String>,
    /// 1-based line of its `name`.
    pub line: usize,
}

/// One module of a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// `name`.
    pub name: String,
    /// How many addons it lists.
    pub addons: usize,
    /// 1-based line of its `name`.
    pub line: usize,
}

/// A product description file, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// Work-tree-relative path (`compass.yaml`).
    pub file: String,
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.version` (as written; numbers as strings).
    pub version: Option<String>,
    /// Every addon, system addons first, then modules in order.
    pub addons: Vec<Listed>,
    /// Every module.
    pub modules: Vec<Module>,
}

/// Read a description file (`rel` names it in messages). Several YAML documents are not
/// expected; a leading `---` is fine.
///
/// Errors (exit 2), each naming `rel` and a line: not YAML; `spec.systemAddons` or
/// `spec.modules` not a list; a module or addon that is not a mapping with a string `name`.
pub fn read(rel: &str, bytes: &[u8]) -> anyhow::Result<Description> {
    let doc = crate::yaml::parse(bytes)
        .map_err(|e| UserError::input(format!("{rel}:{}: not valid YAML: {}", e.line, e.msg)))?;
    let text = String::from_utf8_lossy(crate::placeholders::strip_bom(bytes)).into_owned();
    let line_of =
        |path: &[Seg]| -> usize { yaml_edit::find_scalar(&text, path).map_or(1, |s| s.line) };
    let scalar = |v: Option<&serde_yaml::Value>| match v {
        Some(serde_yaml::Value::String(s)) => Some(s.clone()),
        Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut out = Description {
        file: rel.to_string(),
        name: scalar(doc.get("metadata").and_then(|m| m.get("name"))),
        version: scalar(doc.get("metadata").and_then(|m| m.get("version"))),
        ..Default::default()
    };
    let shape = |path: &[Seg], what: &str| -> anyhow::Error {
        UserError::input(format!(
            "{rel}:{}: {} is not {what}",
            line_of(path),
            yaml_edit::display_path(path)
        ))
        .hint("the file's shape: metadata {name, version}, spec.systemAddons[] {name}, spec.modules[] {name, addons[] {name, deps[]}}")
        .into()
    };
    let spec = doc.get("spec");
    let list =
        |v: Option<&serde_yaml::Value>, path: &[Seg]| -> anyhow::Result<Vec<serde_yaml::Value>> {
            match v {
                None | Some(serde_yaml::Value::Null) => Ok(Vec::new()),
                Some(serde_yaml::Value::Sequence(s)) => Ok(s.clone()),
                Some(_) => Err(shape(path, "a list")),
            }
        };
    let addon =
        |v: &serde_yaml::Value, path: Vec<Seg>, module: Option<&str>| -> anyhow::Result<Listed> {
            let mut name_path = path.clone();
            name_path.push(Seg::Key("name".into()));
            let name =
                scalar(v.get("name")).ok_or_else(|| shape(&path, "an addon with a `name`"))?;
            let mut deps_path = path.clone();
            deps_path.push(Seg::Key("deps".into()));
            let deps = list(v.get("deps"), &deps_path)?
                .iter()
                .filter_map(|d| scalar(Some(d)))
                .collect();
            Ok(Listed {
                name,
                module: module.map(str::to_string),
                deps,
                line: line_of(&name_path),
            })
        };
    let sys_path = vec![Seg::Key("spec".into()), Seg::Key("systemAddons".into())];
    for (i, a) in list(spec.and_then(|s| s.get("systemAddons")), &sys_path)?
        .iter()
        .enumerate()
    {
        let mut p = sys_path.clone();
        p.push(Seg::Index(i));
        out.addons.push(addon(a, p, None)?);
    }
    let mod_path = vec![Seg::Key("spec".into()), Seg::Key("modules".into())];
    for (i, m) in list(spec.and_then(|s| s.get("modules")), &mod_path)?
        .iter()
        .enumerate()
    {
        let mut p = mod_path.clone();
        p.push(Seg::Index(i));
        let mut name_path = p.clone();
        name_path.push(Seg::Key("name".into()));
        let name = scalar(m.get("name")).ok_or_else(|| shape(&p, "a module with a `name`"))?;
        let mut addons_path = p.clone();
        addons_path.push(Seg::Key("addons".into()));
        let addons = list(m.get("addons"), &addons_path)?;
        for (j, a) in addons.iter().enumerate() {
            let mut ap = addons_path.clone();
            ap.push(Seg::Index(j));
            out.addons.push(addon(a, ap, Some(&name))?);
        }
        out.modules.push(Module {
            name,
            addons: addons.len(),
            line: line_of(&name_path),
        });
    }
    Ok(out)
}

/// What [`findings`] reports: `(file, line, message)`, errors and warnings apart.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// Errors of rule `product-description-mismatch`.
    pub errors: Vec<(String, usize, String)>,
    /// Warnings: addons no description lists.
    pub warnings: Vec<(String, usize, String)>,
}

/// The rule `product-description-mismatch` (issue: "product description files replace
/// version.yml's role"): errors for an addon a description lists that no addon file defines, a
/// `deps` entry that names no addon of the description or closes a cycle, a module without
/// addons; a warning for an addon (`defined`: name -> its file) that no description lists.
pub fn findings(descriptions: &[Description], defined: &BTreeMap<String, String>) -> Mismatch {
    let mut out = Mismatch::default();
    for d in descriptions {
        let names: BTreeSet<&str> = d.addons.iter().map(|a| a.name.as_str()).collect();
        for a in &d.addons {
            if !defined.contains_key(&a.name) {
                out.errors.push((
                    d.file.clone(),
                    a.line,
                    format!(
                        "{} lists addon `{}`{}, but no addon file defines it",
                        d.file,
                        a.name,
                        a.module
                            .as_deref()
                            .map(|m| format!(" (module {m})"))
                            .unwrap_or_default()
                    ),
                ));
            }
            for dep in &a.deps {
                if !names.contains(dep.as_str()) {
                    out.errors.push((
                        d.file.clone(),
                        a.line,
                        format!(
                            "{}: addon `{}` depends on `{dep}`, which {} does not list",
                            d.file, a.name, d.file
                        ),
                    ));
                }
            }
        }
        for m in d.modules.iter().filter(|m| m.addons == 0) {
            out.errors.push((
                d.file.clone(),
                m.line,
                format!("{}: module `{}` lists no addons", d.file, m.name),
            ));
        }
        if let Some(cycle) = cycle(d) {
            let line = d
                .addons
                .iter()
                .find(|a| a.name == cycle[0])
                .map_or(1, |a| a.line);
            out.errors.push((
                d.file.clone(),
                line,
                format!("{}: deps form a cycle: {}", d.file, cycle.join(" -> ")),
            ));
        }
    }
    if !descriptions.is_empty() {
        let listed: BTreeSet<&str> = descriptions
            .iter()
            .flat_map(|d| d.addons.iter().map(|a| a.name.as_str()))
            .collect();
        for (name, file) in defined {
            if !listed.contains(name.as_str()) {
                let files: Vec<&str> = descriptions.iter().map(|d| d.file.as_str()).collect();
                out.warnings.push((
                    file.clone(),
                    1,
                    format!(
                        "addon `{name}` ({file}) is listed in no product description ({}); no installation deploys it",
                        files.join(", ")
                    ),
                ));
            }
        }
    }
    out
}

/// The first cycle of `deps` in `d` (names, the first repeated at the end), in file order.
fn cycle(d: &Description) -> Option<Vec<String>> {
    let deps: BTreeMap<&str, &[String]> = d
        .addons
        .iter()
        .map(|a| (a.name.as_str(), a.deps.as_slice()))
        .collect();
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        n: &'a str,
        deps: &BTreeMap<&'a str, &'a [String]>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(n).copied().unwrap_or(0) {
            1 => {
                let start = stack.iter().position(|s| *s == n)?;
                let mut c: Vec<String> = stack[start..].iter().map(|s| s.to_string()).collect();
                c.push(n.to_string());
                return Some(c);
            }
            2 => return None,
            _ => {}
        }
        state.insert(n, 1);
        stack.push(n);
        for d in deps.get(n).copied().unwrap_or_default() {
            if deps.contains_key(d.as_str()) {
                if let Some(c) = visit(d.as_str(), deps, state, stack) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    for a in &d.addons {
        let mut stack = Vec::new();
        if let Some(c) = visit(a.name.as_str(), &deps, &mut state, &mut stack) {
            return Some(c);
        }
    }
    None
}

/// `text` (a description file) with addon `name` added to module `module`'s `addons` (after its
/// last entry, with that entry's indentation), or as a new module `{name: MODULE, required:
/// false, addons: [...]}` after the last module; edited in place and read back (every addon it
/// listed is still there, the new one too, nothing else moved).
///
/// Returns `None` when the shape does not allow it (flow style, no block `spec.modules`).
pub fn add_addon(rel: &str, text: &str, module: &str, name: &str) -> Option<String> {
    if text.contains('\r') || !text.ends_with('\n') {
        return None;
    }
    let before = read(rel, text.as_bytes()).ok()?;
    let lines: Vec<&str> = text
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches('\n'))
        .collect();
    let quoted = yaml_edit::quote_if_needed(name);
    let entry = |pad: &str| format!("{pad}- name: {quoted}\n{pad}  description: {quoted}\n");
    let splice = |at: usize, insert: &str| format!("{}{insert}{}", &text[..at], &text[at..]);
    let col_of = |line: usize| -> Option<usize> {
        let l = lines.get(line - 1)?;
        l.find('-').filter(|c| l[*c..].starts_with("- "))
    };
    let out = if let Some(last) = before
        .addons
        .iter()
        .rfind(|a| a.module.as_deref() == Some(module))
    {
        let col = col_of(last.line)?;
        splice(
            yaml_edit::block_item_end(&lines, last.line - 1, col),
            &entry(&" ".repeat(col)),
        )
    } else {
        let last = before.modules.last()?;
        let col = col_of(last.line)?;
        let pad = " ".repeat(col);
        let m = format!(
            "{pad}- name: {}\n{pad}  required: false\n{pad}  addons:\n{}",
            yaml_edit::quote_if_needed(module),
            entry(&format!("{pad}  "))
        );
        splice(yaml_edit::block_item_end(&lines, last.line - 1, col), &m)
    };
    let after = read(rel, out.as_bytes()).ok()?;
    let kept = before.addons.iter().all(|b| {
        after
            .addons
            .iter()
            .any(|a| a.name == b.name && a.module == b.module && a.deps == b.deps)
    });
    let added = after
        .addons
        .iter()
        .any(|a| a.name == name && a.module.as_deref() == Some(module));
    (kept && added && after.addons.len() == before.addons.len() + 1).then_some(out)
}

/// The descriptions `release.productFiles` names that exist at `tree` (absent ones skipped).
///
/// Errors: a description that does not read ([`read`]); unreadable objects.
pub fn at(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &crate::settings::Settings,
) -> anyhow::Result<Vec<Description>> {
    let mut out = Vec::new();
    for rel in &settings.product_files {
        if let Some(data) = crate::git::blob_at(repo, tree, rel)? {
            out.push(read(rel, &data)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPASS: &str = "---\nmetadata:\n  name: full compass\n  version: 2.7.0\nspec:\n  systemAddons:\n  - name: tenant-admin\n    description: Manage tenants\n  modules:\n  - name: app\n    required: true\n    addons:\n    - name: app-admin\n      description: app-admin\n      deps:\n      - tenant-admin\n    # the canary\n    - name: canary\n      deps: [app-admin]\n  - name: console\n    addons:\n    - name: console-web\n";

    fn defined(names: &[&str]) -> BTreeMap<String, String> {
        names
            .iter()
            .map(|n| (n.to_string(), format!("addons/x/{n}.yaml")))
            .collect()
    }

    #[test]
    fn reads_system_addons_modules_and_deps_with_lines() {
        let d = read("compass.yaml", COMPASS.as_bytes()).unwrap();
        assert_eq!(d.version.as_deref(), Some("2.7.0"));
        let names: Vec<(&str, Option<&str>, usize)> = d
            .addons
            .iter()
            .map(|a| (a.name.as_str(), a.module.as_deref(), a.line))
            .collect();
        assert_eq!(
            names,
            [
                ("tenant-admin", None, 7),
                ("app-admin", Some("app"), 13),
                ("canary", Some("app"), 18),
                ("console-web", Some("console"), 22)
            ]
        );
        assert_eq!(d.addons[2].deps, ["app-admin"]);
    }

    #[test]
    fn the_rule_finds_each_mismatch_and_passes_a_consistent_description() {
        let d = read("compass.yaml", COMPASS.as_bytes()).unwrap();
        let all = defined(&["tenant-admin", "app-admin", "canary", "console-web"]);
        assert_eq!(
            findings(std::slice::from_ref(&d), &all),
            Mismatch::default()
        );
        // A listed addon without a file, and an unlisted addon.
        let mut fewer = defined(&["tenant-admin", "app-admin", "console-web", "extra"]);
        fewer.remove("canary");
        let m = findings(std::slice::from_ref(&d), &fewer);
        assert_eq!(m.errors.len(), 1, "{m:?}");
        assert!(m.errors[0].2.contains("`canary` (module app)"));
        assert_eq!(m.errors[0].1, 18);
        assert_eq!(m.warnings.len(), 1);
        assert!(m.warnings[0].2.contains("`extra`"));
        // An unknown dep, a cycle, an empty module.
        let bad = COMPASS
            .replace(
                "      - tenant-admin\n",
                "      - tenant-admin\n      - canary\n",
            )
            .replace("deps: [app-admin]", "deps: [app-admin, nowhere]")
            + "  - name: empty\n    addons: []\n";
        let d = read("compass.yaml", bad.as_bytes()).unwrap();
        let m = findings(&[d], &all);
        let msgs: Vec<&str> = m.errors.iter().map(|e| e.2.as_str()).collect();
        assert!(
            msgs.iter().any(|e| e.contains("depends on `nowhere`")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|e| e.contains("cycle: app-admin -> canary -> app-admin")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|e| e.contains("module `empty` lists no addons")),
            "{msgs:?}"
        );
        assert_eq!(msgs.len(), 3, "{msgs:?}");
    }

    #[test]
    fn an_addon_is_added_in_place_to_its_module_or_a_new_one() {
        let out = add_addon("compass.yaml", COMPASS, "app", "new-one").unwrap();
        assert!(
            out.contains("      deps: [app-admin]\n    - name: new-one\n      description: new-one\n  - name: console\n"),
            "{out}"
        );
        assert_eq!(
            out.replace("    - name: new-one\n      description: new-one\n", ""),
            COMPASS
        );
        let out = add_addon("compass.yaml", COMPASS, "monitoring", "prom").unwrap();
        assert!(out.ends_with("    - name: console-web\n  - name: monitoring\n    required: false\n    addons:\n    - name: prom\n      description: prom\n"), "{out}");
        assert_eq!(
            add_addon(
                "c.yaml",
                "spec: {modules: [{name: a, addons: [{name: x}]}]}\n",
                "a",
                "y"
            ),
            None
        );
    }
}
