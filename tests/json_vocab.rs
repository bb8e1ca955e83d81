//! The shared JSON vocabulary (issue 11): every command reports a version change as
//! `{"name", "path", "from", "to"}`, a package as `{"path", "sha256", "size"}` and a ref update as
//! `{"ref", "from", "to"}`, dry runs and real runs alike; walked through the release chain on the
//! shipped example.

use serde_json::Value;

use crate::util::Sandbox;

fn json(run: &crate::util::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// A version change: these four keys (others may follow), name and path strings.
fn version_change(v: &Value) {
    for k in ["name", "path", "from", "to"] {
        assert!(v.get(k).is_some(), "no `{k}` in {v}");
    }
    assert!(v["name"].is_string() && v["path"].is_string(), "{v}");
    for k in ["from", "to"] {
        assert!(v[k].is_string() || v[k].is_null(), "{k} in {v}");
    }
}

/// A package: path, and sha256 (64 hex) and size when written, null in a dry run.
fn package(v: &Value, written: bool) {
    assert!(v["path"].is_string(), "{v}");
    if written {
        let sum = v["sha256"].as_str().unwrap_or_else(|| panic!("{v}"));
        assert_eq!(sum.len(), 64, "{v}");
        let size = v["size"].as_u64().unwrap_or_else(|| panic!("{v}"));
        assert_eq!(
            size,
            std::fs::metadata(v["path"].as_str().unwrap())
                .unwrap()
                .len()
        );
    } else {
        assert!(v["sha256"].is_null() && v["size"].is_null(), "{v}");
    }
}

/// A ref update: a full ref name; `to` an object id when written.
fn ref_update(v: &Value, written: bool) {
    assert!(
        v["ref"].as_str().is_some_and(|r| r.starts_with("refs/")),
        "{v}"
    );
    assert!(v["from"].is_string() || v["from"].is_null(), "{v}");
    if written {
        assert_eq!(v["to"].as_str().map(str::len), Some(40), "{v}");
    }
}

#[test]
fn every_command_speaks_one_vocabulary() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    // collect: components and charts are version changes.
    for args in [
        &["collect", "--dry-run", "--json"][..],
        &["collect", "--commit", "--json"],
    ] {
        let v = json(&p.release(args).ok());
        for c in v["components"].as_array().unwrap() {
            version_change(c);
            for ch in c["charts"].as_array().unwrap() {
                version_change(ch);
            }
        }
    }
    // tag: the ref it creates.
    let v = json(
        &p.release(&["tag", "1.1.0", "--dry-run", "--json", "--offline"])
            .ok(),
    );
    ref_update(&v["ref"], false);
    assert!(v["ref"]["to"].is_null(), "{v}");
    let v = json(&p.release(&["tag", "1.1.0", "--json", "--offline"]).ok());
    ref_update(&v["ref"], true);
    assert_eq!(v["ref"]["ref"], "refs/tags/v1.1.0");
    // package: the package file.
    let out = sb.path("out");
    let out = out.to_str().unwrap();
    let v = json(
        &p.release(&["package", "v1.1.0", "-o", out, "--dry-run", "--json"])
            .ok(),
    );
    package(&v["packages"][0], false);
    let v = json(&p.release(&["package", "v1.1.0", "-o", out, "--json"]).ok());
    package(&v["packages"][0], true);
    // branch: branches and the refs made.
    let v = json(&p.release(&["branch", "1.1", "--json"]).ok());
    ref_update(&v["refs"][0], true);
    assert_eq!(v["refs"][0]["ref"], "refs/heads/release-1.1");
    let v = json(&p.release(&["branch", "--list", "--json"]).ok());
    assert!(
        v["branches"].as_array().is_some_and(|b| !b.is_empty()),
        "{v}"
    );
    // cherry-pick: the branch's move, each pick, the version bumps.
    let chart = p.read("addons/cyclone/templates/service.yaml");
    p.write(
        "addons/cyclone/templates/service.yaml",
        &format!("{chart}# fixed: the service port is named\n"),
    );
    let fix = p.commit("cyclone: fix notes");
    for dry in [true, false] {
        let mut args = vec!["cherry-pick", fix.as_str(), "--onto", "1.1", "--json"];
        if dry {
            args.push("--dry-run");
        }
        let v = json(&p.release(&args).ok());
        ref_update(&v["ref"], true);
        assert_eq!(v["commits"][0]["from"], fix.as_str(), "{v}");
        let bumps = v["bumps"].as_array().unwrap();
        assert!(!bumps.is_empty(), "{v}");
        bumps.iter().for_each(version_change);
    }
    // hotfix: packages, and the manifest's charts as version changes.
    for dry in [true, false] {
        let mut args = vec!["hotfix", "v1.1.0..release-1.1", "-o", out, "--json"];
        if dry {
            args.push("--dry-run");
        }
        let v = json(&p.release(&args).ok());
        let packages = v["packages"].as_array().unwrap();
        assert!(!packages.is_empty(), "{v}");
        for pk in packages {
            package(pk, !dry);
        }
        let charts = v["manifest"]["charts"].as_array().unwrap();
        assert!(!charts.is_empty(), "{v}");
        charts.iter().for_each(version_change);
    }
    // bump: each file's version change.
    let v = json(
        &p.release(&["bump", "--next-minor", "--dry-run", "--json"])
            .ok(),
    );
    let files = v["files"].as_array().unwrap();
    assert!(!files.is_empty(), "{v}");
    files.iter().for_each(version_change);
}
