//! The release chain (issue 8): collect → check → tag → branch → cherry-pick → tag → hotfix, on the
//! shipped example, with every command keeping the release consistent for the next one.

use crate::util::{Repo, Sandbox};

fn example(sb: &Sandbox) -> Repo<'_> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/make_example.sh");
    let out = sb
        .cmd("bash", sb.dir.path())
        .arg(&script)
        .arg(sb.path("ex"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Repo::open(sb, "ex/platform-release")
}

#[test]
fn hotfix_week_on_the_example() {
    let sb = Sandbox::new();
    let mut p = example(&sb);
    // Release day.
    p.release(&["collect", "--commit"]).ok();
    p.release(&["check"]).ok();
    p.release(&["tag", "1.1.0", "--offline"]).ok();
    p.release(&["branch", "1.1"]).ok();
    // A fix on master.
    let dep = p.read("addons/cyclone/templates/deployment.yaml");
    p.write(
        "addons/cyclone/templates/deployment.yaml",
        &dep.replace(
            "imagePullPolicy:",
            "terminationMessagePolicy: FallbackToLogsOnError\n        imagePullPolicy:",
        ),
    );
    let fix = p.commit("cyclone: log on error");
    // Hotfix week: the pick bumps the chart and version.yml in the same commit.
    let run = p.release(&["cherry-pick", &fix, "--onto", "1.1"]).ok();
    assert!(
        run.stdout
            .contains("bump addons/cyclone/Chart.yaml: 0.10.0 -> 0.10.1")
            && run
                .stdout
                .contains("bump version.yml (cyclone): 0.10.0 -> 0.10.1"),
        "{}",
        run.stdout
    );
    p.release(&["check", "release-1.1"]).ok();
    p.release(&["tag", "1.1.1", "release-1.1", "--offline"])
        .ok();
    // The hotfix of the branch, tagged twice: one name, one tag.
    let out = sb.path("out");
    let out = out.to_str().unwrap();
    let first = p
        .release(&["hotfix", "v1.1.0..release-1.1", "--tag", "-o", out])
        .ok();
    assert!(
        first.stdout.contains("tagged hotfix/v1.1.0-"),
        "{}",
        first.stdout
    );
    let again = p
        .release(&["hotfix", "v1.1.0..release-1.1", "--tag", "-o", out])
        .ok();
    assert!(again.stdout.contains("already tags"), "{}", again.stdout);
    let tags = p.git(&["tag", "-l", "hotfix/*"]);
    assert_eq!(tags.lines().count(), 1, "{tags}");
    // Collect on the branch would lower the picked chart: refused, nothing written.
    p.git(&["checkout", "-q", "release-1.1"]);
    p.release(&["collect"])
        .fails(2)
        .err_has("chart addons/cyclone would go down from 0.10.1 to 0.10.0");
    assert_eq!(p.status(), "");
    p.release(&["collect", "--dry-run", "--allow-downgrade"])
        .ok();
}

#[test]
fn collect_flags_a_tag_moved_upstream() {
    let sb = Sandbox::new();
    let mut p = example(&sb);
    p.release(&["collect", "--commit"]).ok();
    // Only a placeholder value changes (the charts repo released): not a moved tag.
    let mut charts = Repo::open(&sb, "ex/components/charts");
    charts.write("README.md", "next\n");
    charts.commit("next");
    charts.tag("v1.2.15");
    let run = p.release(&["collect", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["tag_moved"] == false),
        "{v}"
    );
    p.commit("charts v1.2.15");
    // cyclone's v0.10.0 is re-pointed at another commit upstream.
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    c.git(&["checkout", "-q", "v0.10.0"]);
    let values = c.read("manifests/cyclone/values.yaml");
    c.write(
        "manifests/cyclone/values.yaml",
        &values.replace("replicaCount: 2", "replicaCount: 5"),
    );
    c.commit("sneaky");
    c.git(&["tag", "-f", "-a", "-m", "moved", "v0.10.0"]);
    let run = p.release(&["collect"]).ok();
    assert!(
        run.stdout.contains("v0.10.0 (moved upstream)"),
        "{}",
        run.stdout
    );
    run.err_has("tag v0.10.0 is the one collected before, but its content differs");
}

/// A charts repository that keeps its charts at the root (seed 004, Aether), with no addonsPath
/// set: cherry-pick and bump find the charts by their Chart.yaml.
#[test]
fn charts_at_the_root_aether_layout() {
    let sb = Sandbox::new();
    let mut c = sb.repo("aether-charts");
    let chart = |c: &Repo, v: &str, replicas: u32| {
        c.write(
            "sd-core/Chart.yaml",
            &format!("apiVersion: v2\nname: sd-core\nversion: {v}\n"),
        );
        c.write(
            "sd-core/templates/deploy.yaml",
            &format!("kind: Deployment\nspec:\n  replicas: {replicas}\n"),
        );
    };
    chart(&c, "0.3.0", 1);
    c.commit("sd-core 0.3.0");
    c.git(&["tag", "-a", "-m", "v1.2.0", "v1.2.0"]);
    chart(&c, "0.4.0", 1);
    c.commit("next minor");
    // The master fix also bumps the chart version, as master does: the only conflict a plain
    // cherry-pick would have.
    chart(&c, "0.4.1", 2);
    let fix = c.commit("fix: two replicas");
    let run = c.release(&["cherry-pick", &fix, "--onto", "1.2"]).ok();
    assert!(
        run.stdout
            .contains("bump sd-core/Chart.yaml: 0.3.0 -> 0.3.1"),
        "{}",
        run.stdout
    );
    assert_eq!(
        c.git(&["show", "release-1.2:sd-core/templates/deploy.yaml"]),
        "kind: Deployment\nspec:\n  replicas: 2\n"
    );
    // bump finds the chart at the root too (it used to skip it without a word).
    c.git(&["checkout", "-q", "release-1.2"]);
    let run = c.release(&["bump", "patch", "--dry-run"]).ok();
    assert!(run.stdout.contains("sd-core/Chart.yaml"), "{}", run.stdout);
    assert!(run.stdout.contains("0.3.1 -> 0.3.2"), "{}", run.stdout);
}

/// The charts_list shape (seed 000): single resource files are part of the release: their
/// images are listed, `package` ships them, `hotfix` packages them when they change.
#[test]
fn resource_files_are_part_of_the_release() {
    let sb = Sandbox::new();
    let mut p = example(&sb);
    p.release(&["collect", "--commit"]).ok();
    assert!(
        p.read("images/images_platform.list")
            .contains("[[ registry_release ]]/console-web:v1.1.0\n"),
        "{}",
        p.read("images/images_platform.list")
    );
    p.release(&["check"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let out = sb.path("out");
    let out_s = out.to_str().unwrap();
    p.release(&["package", "v1.1.0", "-o", out_s]).ok();
    let tar = sb
        .cmd("tar", sb.dir.path())
        .arg("-tzf")
        .arg(out.join("demo-platform-v1.1.0.tar.gz"))
        .output()
        .unwrap();
    let entries = String::from_utf8_lossy(&tar.stdout);
    assert!(
        entries.contains("demo-platform-v1.1.0/console/console-web.yaml"),
        "{entries}"
    );
    // Only the resource file changes: the hotfix ships it (it used to say "changes no chart").
    let web = p.read("console/console-web.yaml");
    p.write(
        "console/console-web.yaml",
        &web.replace(":v1.1.0'", ":v1.1.1'"),
    );
    p.commit("console-web v1.1.1");
    let run = p.release(&["hotfix", "v1.1.0", "-o", out_s, "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["manifest"]["resources"],
        serde_json::json!(["M console/console-web.yaml"])
    );
    assert_eq!(
        v["manifest"]["images"]["changed"],
        serde_json::json!(["[[ registry_release ]]/console-web:v1.1.0 -> [[ registry_release ]]/console-web:v1.1.1"])
    );
    let pkg = v["packages"][0]["path"].as_str().unwrap().to_string();
    let tar = sb
        .cmd("tar", sb.dir.path())
        .args(["-tzf", &pkg])
        .output()
        .unwrap();
    let entries = String::from_utf8_lossy(&tar.stdout);
    assert!(entries.contains("/console/console-web.yaml"), "{entries}");
}
