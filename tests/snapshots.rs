//! JSON snapshots (issue 11): the `--json` output of every command, dry run and real run, on the
//! shipped example (fixed dates, so ids and checksums are stable), compared with
//! `tests/snapshots/<step>.json`. Paths of the sandbox read `<sandbox>`. After an intended change
//! of the output, run `UPDATE_SNAPSHOTS=1 cargo test --test tests snapshots` and review the diff.

use std::path::Path;

use crate::util::{Run, Sandbox};

fn snapshot(sb: &Sandbox, step: &str, run: &Run) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let text = run
        .stdout
        .replace(&sb.dir.path().display().to_string(), "<sandbox>");
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{step}: not JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    let pretty = format!("{}\n", serde_json::to_string_pretty(&v).unwrap());
    let file = root.join(format!("{step}.json"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(&file, &pretty).unwrap();
        return v;
    }
    let want = std::fs::read_to_string(&file).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run `UPDATE_SNAPSHOTS=1 cargo test --test tests snapshots`",
            file.display()
        )
    });
    assert!(
        want == pretty,
        "{step}: --json output differs from tests/snapshots/{step}.json\n--- want\n{want}\n--- got\n{pretty}"
    );
    v
}

/// A report without what only a real run can know: `dry_run`, the commit made, checksums and
/// sizes of packages written, the id of a tag object made.
fn planned(mut v: serde_json::Value) -> serde_json::Value {
    let o = v.as_object_mut().unwrap();
    o.remove("dry_run");
    o.remove("commit");
    if let Some(ps) = o.get_mut("packages").and_then(|p| p.as_array_mut()) {
        for p in ps {
            p["sha256"] = serde_json::Value::Null;
            p["size"] = serde_json::Value::Null;
        }
    }
    if let Some(m) = o.get_mut("manifest").and_then(|m| m.as_object_mut()) {
        m.remove("sha256");
    }
    if o.get("command") == Some(&serde_json::json!("tag")) {
        o["ref"]["to"] = serde_json::Value::Null;
    }
    v
}

#[test]
fn json_snapshots_of_every_command_dry_and_real() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    let out = sb.path("out");
    let out = out.to_str().unwrap();
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("collect-dry", vec!["collect", "--dry-run", "--json"]),
        ("collect", vec!["collect", "--commit", "--json"]),
        ("check", vec!["check", "--offline", "--json"]),
        ("images", vec!["images", "--json"]),
        (
            "tag-dry",
            vec!["tag", "1.1.0", "--offline", "--dry-run", "--json"],
        ),
        ("tag", vec!["tag", "1.1.0", "--offline", "--json"]),
        (
            "package-dry",
            vec!["package", "v1.1.0", "-o", out, "--dry-run", "--json"],
        ),
        ("package", vec!["package", "v1.1.0", "-o", out, "--json"]),
        (
            "branch-dry",
            vec!["branch", "1.1/acme", "--dry-run", "--json"],
        ),
        ("branch", vec!["branch", "1.1/acme", "--json"]),
        ("branch-list", vec!["branch", "--list", "--json"]),
        ("protect-dry", vec!["protect", "--dry-run", "--json"]),
        ("protect", vec!["protect", "--json"]),
        ("protect-check", vec!["protect", "--check", "--json"]),
    ];
    let mut reports = std::collections::BTreeMap::new();
    for (step, args) in &steps {
        let run = p.release(args).ok();
        reports.insert(step.to_string(), snapshot(&sb, step, &run));
    }
    let svc = p.read("addons/cyclone/templates/service.yaml");
    p.write(
        "addons/cyclone/templates/service.yaml",
        &format!("{svc}# fixed: the service port is named\n"),
    );
    let fix = p.commit("cyclone: fix the service");
    let steps: Vec<(&str, Vec<&str>)> = vec![
        (
            "cherry-pick-dry",
            vec!["cherry-pick", &fix, "--onto", "1.1", "--dry-run", "--json"],
        ),
        (
            "cherry-pick",
            vec!["cherry-pick", &fix, "--onto", "1.1", "--json"],
        ),
        (
            "hotfix-dry",
            vec![
                "hotfix",
                "v1.1.0..release-1.1",
                "-o",
                out,
                "--dry-run",
                "--json",
            ],
        ),
        (
            "hotfix",
            vec!["hotfix", "v1.1.0..release-1.1", "-o", out, "--json"],
        ),
        (
            "bump-dry",
            vec!["bump", "--next-minor", "--dry-run", "--json"],
        ),
        ("bump", vec!["bump", "--next-minor", "--commit", "--json"]),
        (
            "protect-uninstall",
            vec!["protect", "--uninstall", "--json"],
        ),
        ("log", vec!["log", "--json"]),
        ("diff", vec!["diff", "v1.0.0", "v1.1.0", "--json"]),
        ("contains", vec!["contains", &fix, "--json"]),
    ];
    for (step, args) in &steps {
        let run = p.release(args).ok();
        reports.insert(step.to_string(), snapshot(&sb, step, &run));
    }
    // --dry-run reports the plan the real run applies: every writing command's dry-run report
    // equals its real one but for what only writing can know.
    for command in [
        "collect",
        "tag",
        "package",
        "branch",
        "protect",
        "cherry-pick",
        "hotfix",
        "bump",
    ] {
        let (dry, real) = (&reports[&format!("{command}-dry")], &reports[command]);
        assert_eq!(dry["dry_run"], true, "{command}");
        assert_eq!(real["dry_run"], false, "{command}");
        assert_eq!(
            planned(dry.clone()),
            planned(real.clone()),
            "{command}: the dry run reports another plan than the real run"
        );
    }
    // One envelope for every report.
    for (step, v) in &reports {
        for key in ["command", "dry_run", "rev", "commit", "warnings"] {
            assert!(v.get(key).is_some(), "{step}: no `{key}` in {v}");
        }
    }
}
