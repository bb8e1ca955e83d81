//! Entry points for the coverage-guided fuzz targets under `bench/fuzz/` (built with
//! `--cfg fuzzing`, which `cargo fuzz` sets, and for the unit test that runs every committed seed
//! through its target, so that neither rots). Each takes the fuzzer's bytes, runs one parser the
//! way the product does, and panics when an invariant breaks: no panic inside (a panic is a
//! crash to libFuzzer), bounded time and memory (libFuzzer's `-timeout` and `-rss_limit_mb`),
//! and for the YAML editor: an edit changes only the value's bytes.

/// Split `data` at the first NUL into two UTF-8 (lossy) strings.
fn two(data: &[u8]) -> (String, String) {
    let cut = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let rest = data.get(cut + 1..).unwrap_or_default();
    (
        String::from_utf8_lossy(&data[..cut]).into_owned(),
        String::from_utf8_lossy(rest).into_owned(),
    )
}

/// A chart of one template (the bytes before the first NUL) and a values.yaml (the rest),
/// rendered under the render budget ([`crate::render::budget`]) with limits small enough that
/// an input cannot outgrow the fuzzer's memory limit.
pub fn template(data: &[u8]) {
    let (tpl, values) = two(data);
    let limits = crate::limits::Limits {
        render_steps: 200_000,
        render_output_bytes: 4 << 20,
        render_value_bytes: 2 << 20,
        render_memory_bytes: 64 << 20,
        ..crate::limits::Limits::DEFAULT
    };
    let mut files = std::collections::BTreeMap::new();
    files.insert(
        "Chart.yaml".to_string(),
        b"apiVersion: v2\nname: fuzz\nversion: 1.0.0\n".to_vec(),
    );
    files.insert("values.yaml".to_string(), values.into_bytes());
    files.insert("templates/t.yaml".to_string(), tpl.into_bytes());
    let _ = crate::render::chart::render_with_limits(&files, &Default::default(), limits);
}

/// The YAML editor: text before the first NUL, a path and a value after it (`a.b.0=value`).
/// When an edit succeeds, only the edited scalar's bytes changed: the text before the scalar's
/// span and after it are kept, and the result reads back with the new value.
pub fn yaml_edit(data: &[u8]) {
    use crate::yaml_edit::{find_scalar, set_scalar, Seg};
    let (text, edit) = two(data);
    let (path, value) = edit.split_once('=').unwrap_or((&edit, ""));
    let path: Vec<Seg> = path
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| match p.parse() {
            Ok(i) => Seg::Index(i),
            Err(_) => Seg::Key(p.to_string()),
        })
        .collect();
    if path.is_empty() || value.contains('\n') {
        return;
    }
    let Ok(span) = find_scalar(&text, &path) else {
        let _ = set_scalar(&text, &path, value, None);
        return;
    };
    if let Ok(out) = set_scalar(&text, &path, value, None) {
        assert!(
            out.starts_with(&text[..span.start]),
            "bytes before the value changed"
        );
        assert!(
            out.ends_with(&text[span.end..]),
            "bytes after the value changed"
        );
        let again = find_scalar(&out, &path).expect("the edited value is found again");
        // An empty plain value (`key:`) gets the space YAML needs after the colon.
        let pad = usize::from(span.start == span.end);
        assert!(
            again.start == span.start || again.start == span.start + pad,
            "the value moved from {} to {}",
            span.start,
            again.start
        );
    }
}

/// A repos file (the component list).
pub fn repos_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut warnings = Vec::new();
    let _ = crate::components::parse("repos/fuzz.yaml", &text, &mut warnings);
}

/// version.yml.
pub fn version_yml(data: &[u8]) {
    let _ = crate::version_yml::read("version.yml", data);
}

/// The image-reference parser: what parses prints back to a reference that parses to the same.
pub fn image_reference(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(r) = crate::image::reference::ImageRef::parse(s) else {
        return;
    };
    let mut printed = format!("{}/{}", r.registry, r.repository);
    if let Some(t) = &r.tag {
        printed.push(':');
        printed.push_str(t);
    }
    if let Some(d) = &r.digest {
        printed.push('@');
        printed.push_str(d);
    }
    let again = crate::image::reference::ImageRef::parse(&printed)
        .unwrap_or_else(|e| panic!("{s:?} printed as {printed:?} does not parse: {e}"));
    assert_eq!(again, r, "{s:?} printed as {printed:?}");
}

/// The OCI manifest and index reader.
pub fn oci_manifest(data: &[u8]) {
    let _ = crate::oci::pull::read_manifest(data, "fuzz.example/app:1");
}

/// `.helmignore` rules (before the first NUL) against paths (the rest, one a line).
pub fn helmignore(data: &[u8]) {
    let (rules, paths) = two(data);
    let Ok(r) = crate::chart::helmignore::IgnoreRules::from_text("fuzz", &rules) else {
        return;
    };
    for p in paths.lines() {
        let _ = r.ignores_file(p);
    }
}

/// A single-file addon (the caicloud layout): its `_config._metadata`, its images through the
/// addon scanner, and the in-place edit of `_metadata.version`: when it succeeds, only the
/// version's bytes changed and the file reads back with the new version (a crash of the first
/// run, kept as seed `cr-line-breaks`, was the harness's own: it counted lines at `\n` only).
pub fn addon_file(data: &[u8]) {
    let mut warnings = Vec::new();
    let _ = crate::image::scan::addon_images(
        "addons/x/fuzz.yaml",
        data,
        &["registry_release", "registry_library"],
        &mut warnings,
    );
    let Some(meta) = crate::chart::meta::addon_file(data) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(crate::placeholders::strip_bom(data)) else {
        return;
    };
    let bom = data.len() - text.len();
    let path = crate::chart::meta::version_path(data);
    let Ok(span) = crate::yaml_edit::find_scalar(text, &path) else {
        return;
    };
    let new = "v9.8.7";
    if let Some(out) = crate::chart::meta::set_version(data, new) {
        let back = crate::chart::meta::addon_file(&out).expect("still an addon");
        assert_eq!(back.version.as_deref(), Some(new), "version read back");
        assert_eq!(back.name, meta.name, "name kept");
        // Only the version's bytes changed (lines are YAML's: `\r` alone breaks one too).
        let out = &out[bom..];
        assert!(
            out.starts_with(&text.as_bytes()[..span.start]),
            "bytes before the version changed"
        );
        assert!(
            out.ends_with(&text.as_bytes()[span.end..]),
            "bytes after the version changed"
        );
    }
}

/// A product description file (compass.yaml): read, the rule against a few addon names, and
/// adding an addon in place: when it succeeds, the file reads back with every addon it listed
/// and the new one.
pub fn product_file(data: &[u8]) {
    let Ok(d) = crate::product::read("compass.yaml", data) else {
        return;
    };
    let defined = [("a".to_string(), "addons/x/a.yaml".to_string())].into();
    let _ = crate::product::findings(std::slice::from_ref(&d), &defined);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(out) = crate::product::add_addon("compass.yaml", text, "fuzzmod", "fuzz-addon") {
        let back = crate::product::read("compass.yaml", out.as_bytes()).expect("reads back");
        assert_eq!(back.addons.len(), d.addons.len() + 1);
        assert!(back.addons.iter().any(|a| a.name == "fuzz-addon"));
    }
}

#[cfg(test)]
mod tests {
    /// Every committed seed (`bench/fuzz/seeds/<target>/`) through its target: the seeds parse
    /// as the fuzzer starts from them, and a seed kept from a finding stays fixed.
    #[test]
    fn every_seed_passes_its_target() {
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 9] = [
            ("template", super::template),
            ("yaml_edit", super::yaml_edit),
            ("repos_file", super::repos_file),
            ("version_yml", super::version_yml),
            ("image_reference", super::image_reference),
            ("oci_manifest", super::oci_manifest),
            ("helmignore", super::helmignore),
            ("addon_file", super::addon_file),
            ("product_file", super::product_file),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/fuzz/seeds");
        for (name, run) in targets {
            let dir = root.join(name);
            let mut n = 0;
            for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = e.unwrap().path();
                run(&std::fs::read(&path).unwrap());
                n += 1;
            }
            assert!(n > 0, "no seed for {name}");
        }
    }
}
