//! Issue 7 regressions: collect cannot be turned against its user, survives kill -9, and never
//! ships what it did not check. One test per finding, named after it.

use std::path::{Path, PathBuf};

use crate::util::{Repo, Sandbox};

/// The tree id of the work tree as it is (untracked files included, ignored ones not), through a
/// temporary index so the repository's own index is untouched.
fn worktree_tree(p: &Repo) -> String {
    let index = p.path.join(".git/tmp-test-index");
    let run = |args: &[&str]| {
        let out =
            p.sb.cmd("git", &p.path)
                .env("GIT_INDEX_FILE", &index)
                .args(args)
                .output()
                .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&["read-tree", "HEAD"]);
    run(&["add", "-A"]);
    let tree = run(&["write-tree"]);
    std::fs::remove_file(&index).unwrap();
    tree
}

/// Paths below `dir` whose name marks a staging or moved-aside copy, or a package temporary.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == ".git" {
                continue;
            }
            if name.contains(".git-release-") {
                out.push(e.path());
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

fn strace_kill_at_rename(sb: &Sandbox, cwd: &Path, n: usize, args: &[&str]) -> crate::util::Run {
    strace_signal_at(sb, cwd, "rename,renameat,renameat2", n, "SIGKILL", args)
}

/// Run `args` under strace, sending `signal` to the process on its `n`th call of one of
/// `syscalls` (comma-separated; the call itself still runs).
pub fn strace_signal_at(
    sb: &Sandbox,
    cwd: &Path,
    syscalls: &str,
    n: usize,
    signal: &str,
    args: &[&str],
) -> crate::util::Run {
    let inject = format!("inject={syscalls}:signal={signal}:when={n}");
    let out = sb
        .cmd("strace", cwd)
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={syscalls}"))
        .arg("-e")
        .arg(&inject)
        .args(args)
        .output()
        .expect("strace must be installed (.ci/run installs it)");
    crate::util::Run::from(out)
}

#[test]
fn code_execution_through_git_dir_targets_is_refused() {
    let sb = Sandbox::new();
    let p = sb.example();
    let list = p.read("repos/charts_list.yaml");
    // targetPath: .git/hooks would put the resource file among the hooks.
    p.write(
        "repos/charts_list.yaml",
        &list.replace("targetPath: console", "targetPath: .git/hooks"),
    );
    let run = p.release(&["collect"]).fails(2);
    run.err_has("repos/charts_list.yaml:5: resource `release/console-web.yaml` of `demo/console-web` would be written to `.git/hooks/console-web.yaml`, which is inside a git directory (`.git`)");
    // Any case, and a chart folder landing in .git through targetChartPath.
    p.write("repos/charts_list.yaml", &list);
    let devops = p.read("repos/devops.yaml");
    p.write(
        "repos/devops.yaml",
        &devops.replacen("targetChartPath: addons", "targetChartPath: .GIT", 1),
    );
    let run = p.release(&["collect"]).fails(2);
    assert!(
        run.stderr.contains("repos/devops.yaml:")
            && run
                .stderr
                .contains("`.GIT/cyclone`, which is inside a git directory"),
        "{}",
        run.stderr
    );
    // A committed symlink in the work tree that leads out of it.
    std::os::unix::fs::symlink("../..", p.path.join("escape")).unwrap();
    p.write(
        "repos/devops.yaml",
        &devops.replacen("targetChartPath: addons", "targetChartPath: escape", 1),
    );
    let run = p.release(&["collect"]).fails(2);
    run.err_has("resolves outside the work tree");
    std::fs::remove_file(p.path.join("escape")).unwrap();
    // Settings cannot point into .git either.
    p.write("repos/devops.yaml", &devops);
    p.release_c(&["release.addonsPath=.git/hooks"], &["collect"])
        .fails(2)
        .err_has("setting release.addonsPath `.git/hooks` is inside a git directory");
    // GIT_DIR elsewhere in the work tree: its real location is out of bounds too.
    std::fs::rename(p.path.join(".git"), p.path.join("meta")).unwrap();
    p.write(
        "repos/devops.yaml",
        &devops.replacen("targetChartPath: addons", "targetChartPath: meta", 1),
    );
    let out =
        p.sb.cmd("git", &p.path)
            .env("GIT_DIR", p.path.join("meta"))
            .env("GIT_WORK_TREE", &p.path)
            .args(["release", "collect"])
            .output()
            .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("resolves into the git directory"),
        "{stderr}"
    );
    // Nothing landed among the hooks.
    let hooks: Vec<_> = std::fs::read_dir(p.path.join("meta/hooks"))
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !hooks
            .iter()
            .any(|h| h.to_string_lossy().contains("console") || h == "cyclone"),
        "{hooks:?}"
    );
}

#[test]
fn kill_9_at_every_rename_leaves_the_work_tree_old_or_new() {
    let sb = Sandbox::new();
    let pristine = sb.example();
    let old_tree = pristine
        .git(&["rev-parse", "HEAD^{tree}"])
        .trim()
        .to_string();
    // The reference: an uninterrupted collect on a copy.
    let copy = |name: &str| -> PathBuf {
        let dest = sb.path(name);
        let st = sb
            .cmd("cp", sb.dir.path())
            .arg("-a")
            .arg(sb.path("ex"))
            .arg(&dest)
            .status()
            .unwrap();
        assert!(st.success());
        dest.join("platform-release")
    };
    let reference = copy("reference");
    let r = Repo::open(&sb, "reference/platform-release");
    r.release(&["collect"]).ok();
    let new_tree = worktree_tree(&r);
    assert_ne!(old_tree, new_tree);
    let _ = reference;

    for commit in [false, true] {
        let mut n = 1;
        let (mut undone, mut finished) = (0, 0);
        loop {
            let name = format!("kill-{commit}-{n}");
            copy(&name);
            let p = Repo::open(&sb, &format!("{name}/platform-release"));
            let head = p.git(&["rev-parse", "HEAD"]);
            let mut args = vec!["git-release-collect"];
            if commit {
                args.push("--commit");
            }
            let killed = strace_kill_at_rename(&sb, &p.path, n, &args);
            let was_killed = killed.code != 0;
            // The next run of any command (here a read-only one) finishes or undoes the swap.
            let next = p.release(&["branch", "--list"]).ok();
            let tree = worktree_tree(&p);
            let moved = p.git(&["rev-parse", "HEAD"]) != head;
            assert!(
                tree == old_tree || tree == new_tree,
                "kill at rename {n} (commit: {commit}): the work tree is neither old nor new\n{}\n{}",
                next.stderr,
                p.status()
            );
            if moved {
                // The commit was made: the work tree and index follow it.
                assert_eq!(tree, new_tree, "rename {n}");
                assert_eq!(p.status(), "", "rename {n}: index follows the commit");
            }
            assert!(
                leftovers(&p.path).is_empty(),
                "rename {n}: {:?}",
                leftovers(&p.path)
            );
            assert!(!p.path.join(".git/release/journal.json").exists());
            if was_killed && tree == old_tree {
                undone += 1;
            } else if was_killed {
                finished += 1;
            }
            if was_killed && tree == old_tree {
                assert!(
                    next.stderr
                        .contains("undid an interrupted `git release collect`")
                        || next.stderr.contains("had not changed the work tree yet")
                        || !next.stderr.contains("interrupted"),
                    "{}",
                    next.stderr
                );
            }
            // And the run after that succeeds and ends entirely new.
            let mut again = vec!["collect"];
            if commit {
                again.push("--commit");
            }
            p.release(&again).ok();
            assert_eq!(worktree_tree(&p), new_tree, "rename {n}");
            if !was_killed {
                break;
            }
            n += 1;
            assert!(n < 200, "collect never finished under strace");
        }
        assert!(
            n > 10,
            "only {n} renames: the injection did not hit the swap"
        );
        // Kills before the last swap are undone; with --commit, kills after the commit moved
        // HEAD are finished (without it, the cleanup after the last swap renames nothing).
        assert!(undone > 5, "undone {undone}");
        assert_eq!(finished > 0, commit, "finished {finished}");
        eprintln!("commit: {commit}: {n} kill points, {undone} undone, {finished} finished");
    }
}

#[test]
fn killed_package_leaves_no_stray_temporary() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let out = sb.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let killed = strace_kill_at_rename(
        &sb,
        &p.path,
        1,
        &["git-release-package", "v1.1.0", "-o", out.to_str().unwrap()],
    );
    assert_ne!(killed.code, 0);
    assert_eq!(leftovers(&out).len(), 1, "the kill left its temporary");
    let run = p
        .release(&["package", "v1.1.0", "-o", out.to_str().unwrap()])
        .ok();
    run.err_has("left by an interrupted run");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    assert!(out.join("demo-platform-v1.1.0.tar.gz").is_file());
}

#[test]
fn concurrent_runs_wait_for_the_lock_not_interleave() {
    let sb = Sandbox::new();
    let p = sb.example();
    std::fs::create_dir_all(p.path.join(".git/release")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(p.path.join(".git/release/lock"))
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(p.path.join(".git/release/lock"), "collect (pid 4242)\n").unwrap();
    let run = p.release(&["collect"]).fails(3);
    run.err_has("git release collect (pid 4242) is running in this repository");
    assert_eq!(p.status(), "");
    drop(lock);
    p.release(&["collect"]).ok();
}

#[test]
fn stale_component_cache_follows_url_and_upstream_deletions() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    let url = format!("file://{}/ex/components/{{name}}", sb.dir.path().display());
    let run = p
        .release(&["collect", "--json", "--component-url", &url])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let cyclone = &v["components"][2];
    assert_eq!(cyclone["to"], "v0.10.0");
    assert!(cyclone["fetched_at"].as_str().unwrap().ends_with(" UTC"));
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "collected"]);

    // A tag deleted upstream is pruned from the cache: collect no longer sees it.
    let c = Repo::open(&sb, "ex/components/cyclone");
    c.git(&["tag", "-d", "v0.10.0"]);
    let run = p
        .release(&["collect", "--component-url", &url, "cyclone"])
        .fails(2);
    assert!(
        run.stderr.contains("currentTag v0.10.0 is not a tag of")
            && run.stderr.contains("the newest candidate v0.9.0 is lower"),
        "{}",
        run.stderr
    );

    // --offline says how old the cache is.
    let run = p
        .release(&["collect", "--offline", "--dry-run", "--component-url", &url])
        .fails(2);
    let _ = run;
    let run = p
        .release(&[
            "collect",
            "--offline",
            "--dry-run",
            "--component-url",
            &url,
            "mongo",
        ])
        .ok();
    assert!(
        run.stderr.contains("--offline: tags are as last fetched")
            && run.stderr.contains("(demo/mongo) was fetched 20"),
        "{}",
        run.stderr
    );

    // A new url: the entry is read from the new repository, never the old cache.
    sb.git(
        sb.dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            "ex/components/mongo",
            "other-mongo.git",
        ],
    );
    let other = Repo::open(&sb, "other-mongo.git");
    other.git(&["tag", "1.1.5", "1.1.0"]);
    let devops = p.read("repos/devops.yaml");
    let with_url = devops.replace(
        "- repositoryFullName: demo/mongo\n",
        &format!(
            "- repositoryFullName: demo/mongo\n  url: file://{}/other-mongo.git\n",
            sb.dir.path().display()
        ),
    );
    assert_ne!(with_url, devops);
    p.write("repos/devops.yaml", &with_url);
    p.commit("mongo moves");
    let run = p.release(&["collect", "--json", "mongo"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["components"][0]["to"], "1.1.5",
        "read from the new url, not the old cache"
    );
}

#[test]
fn chart_paths_that_are_not_charts_are_refused() {
    let sb = Sandbox::new();
    let p = sb.example();
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    // The chart moved away; only a note stays (seen in grafana/helm-charts mimir-distributed).
    for f in ["Chart.yaml", "values.yaml", "images_extra.list"] {
        c.remove(&format!("manifests/cyclone/{f}"));
    }
    c.remove("manifests/cyclone/templates");
    c.write(
        "manifests/cyclone/README.md",
        "moved to another repository\n",
    );
    c.commit("moved");
    c.tag("v0.12.0");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    run.err_has("chart path `manifests/cyclone` at tag v0.12.0 has no Chart.yaml");
    // A chart path that is a symlink to the chart (seen in sapcc/helm-charts).
    c.remove("manifests/cyclone");
    std::os::unix::fs::symlink("../other", c.path.join("manifests/cyclone")).unwrap();
    c.commit("link");
    c.tag("v0.12.1");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    run.err_has("chart path `manifests/cyclone` at tag v0.12.1 is a symlink (to `../other`)");
    assert_eq!(p.status(), "");
}

/// Component `demo/cyclone` gets a chart whose links escape through another link.
#[test]
fn symlinks_through_symlinks_out_of_the_chart_are_refused() {
    let sb = Sandbox::new();
    let p = sb.example();
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    let chart = c.path.join("manifests/cyclone");
    std::os::unix::fs::symlink("..", chart.join("templates/d")).unwrap();
    std::os::unix::fs::symlink("templates/d/../../../../etc/passwd", chart.join("x")).unwrap();
    c.commit("links");
    c.tag("v0.10.1");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    // `templates/d -> ..` makes `x` resolve outside the chart (and d itself loops): refused
    // before anything is written, as package refuses it.
    run.err_has("chart `cyclone`: symlink `templates/d` -> `..`");
    // Without the loop, the escape through the link is named.
    c.remove("manifests/cyclone/templates/d");
    std::fs::create_dir_all(chart.join("lib")).unwrap();
    std::os::unix::fs::symlink("../templates", chart.join("lib/t")).unwrap();
    c.remove("manifests/cyclone/x");
    std::os::unix::fs::symlink("lib/t/../../../etc/passwd", chart.join("x")).unwrap();
    c.commit("links 2");
    c.tag("v0.10.2");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    run.err_has("symlink `x` -> `lib/t/../../../etc/passwd` leaves the chart folder");
    assert_eq!(p.status(), "");
}

#[test]
fn tracked_symlinked_version_yml_and_repos_files_are_refused() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    std::fs::rename(
        p.path.join("version.yml"),
        p.path.join("configs/version.yml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("configs/version.yml", p.path.join("version.yml")).unwrap();
    p.commit("version.yml is a link");
    let run = p.release(&["collect"]).fails(2);
    run.err_has("version.yml is a symlink (to `configs/version.yml`)");
    assert_eq!(
        std::fs::read_link(p.path.join("version.yml")).unwrap(),
        Path::new("configs/version.yml")
    );
    assert_eq!(p.status(), "");
    // The same for a repos file (through its real folder).
    p.git(&["reset", "-q", "--hard", "HEAD~1"]);
    std::fs::rename(
        p.path.join("repos/devops.yaml"),
        p.path.join("configs/devops.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../configs/devops.yaml", p.path.join("repos/devops.yaml")).unwrap();
    p.commit("repos file is a link");
    let run = p.release(&["collect"]).fails(2);
    run.err_has("repos/devops.yaml is a symlink");
    assert_eq!(p.status(), "");
}

#[test]
fn replace_refs_do_not_change_package_bytes() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let out1 = sb.path("out1");
    p.release(&["package", "v1.1.0", "-o", out1.to_str().unwrap()])
        .ok();
    // Replace the blob of the cyclone values by another one.
    let blob = p.git(&["rev-parse", "v1.1.0:addons/cyclone/values.yaml"]);
    let other =
        p.write("evil.yaml", "image: evil/evil:latest\n")
            .git(&["hash-object", "-w", "evil.yaml"]);
    p.git(&["replace", blob.trim(), other.trim()]);
    assert!(p
        .git(&["show", "v1.1.0:addons/cyclone/values.yaml"])
        .contains("evil"));
    let out2 = sb.path("out2");
    p.release(&["package", "v1.1.0", "-o", out2.to_str().unwrap()])
        .ok();
    let name = "demo-platform-v1.1.0.tar.gz";
    assert_eq!(
        std::fs::read(out1.join(name)).unwrap(),
        std::fs::read(out2.join(name)).unwrap(),
        "a package depends only on the commit it names"
    );
}

#[test]
fn non_semver_chart_versions_are_refused() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    // collect: a component whose chart says `version: latest`.
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    let chart = c.read("manifests/cyclone/Chart.yaml");
    c.write(
        "manifests/cyclone/Chart.yaml",
        &chart.replace("version: 0.11.0", "version: latest"),
    );
    c.commit("latest");
    c.tag("v0.12.0");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    run.err_has("manifests/cyclone/Chart.yaml:5: version `latest` is not SemVer 2");
    // Every bad chart is named in one run, not only the first.
    let mut m = Repo::open(&sb, "ex/components/mongo");
    let mchart = m.read("deploy/charts/mongo/Chart.yaml");
    let bad = mchart
        .lines()
        .map(|l| {
            if l.starts_with("version:") {
                "version: 0.2"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    m.write("deploy/charts/mongo/Chart.yaml", &format!("{bad}\n"));
    m.commit("0.2");
    m.tag("1.1.9");
    let run = p.release(&["collect"]).fails(2);
    assert!(
        run.stderr.contains("version `latest` is not SemVer 2")
            && run.stderr.contains("version `0.2` is not SemVer 2")
            && run.stderr.contains("2 charts failed; nothing was written"),
        "{}",
        run.stderr
    );
    m.git(&["tag", "-d", "1.1.9"]);
    // A leading `v`, as real charts carry it (cert-manager), is SemVer with a prefix: accepted.
    c.write(
        "manifests/cyclone/Chart.yaml",
        &chart.replace("version: 0.11.0", "version: v0.13.0"),
    );
    c.commit("v-prefixed");
    c.tag("v0.13.0");
    let run = p.release(&["collect", "--dry-run", "cyclone"]).ok();
    assert!(run.stdout.contains("-> v0.13.0"), "{}", run.stdout);
    c.git(&["tag", "-d", "v0.13.0"]);
    // tag, package and hotfix: a committed chart with `version: 1.2`.
    p.release(&["collect", "--commit", "--tag", "cyclone=v0.10.0"])
        .ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let y = p.read("addons/mongo/Chart.yaml");
    p.write(
        "addons/mongo/Chart.yaml",
        &y.replace("version: 1.1.0", "version: 1.2"),
    );
    p.commit("bad version");
    let run = p.release(&["tag", "1.1.1", "--offline"]).fails(2);
    assert!(
        run.stderr.contains("addons/mongo/Chart.yaml:")
            && run.stderr.contains("version `1.2` is not SemVer 2"),
        "{}",
        run.stderr
    );
    let run = p.release(&["package", "-o", "out"]).fails(2);
    run.err_has("version `1.2` is not SemVer 2");
    let run = p.release(&["hotfix", "v1.1.0..HEAD", "-o", "out"]).fails(2);
    run.err_has("version `1.2` is not SemVer 2");
    assert!(!p.exists("out"));
}

#[test]
fn resource_limits_jobs_and_deep_yaml() {
    let sb = Sandbox::new();
    let p = sb.example();
    let run = p
        .release(&["collect", "--dry-run", "--jobs", "1000000"])
        .ok();
    run.err_has("--jobs 1000000 is more than collect runs at once; using 64");
    // 200 000 nested `[` on one line: refused in one linear pass (was 71 s of CPU, then exit 1).
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    c.write(
        "manifests/cyclone/values.yaml",
        &format!("replicaCount: 1\nimage: {}\n", "[".repeat(200_000)),
    );
    c.commit("deep");
    c.tag("v0.12.0");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    run.err_has("manifests/cyclone/values.yaml:2: flow collections (`[` / `{`) nested deeper than 128 levels");
    // The same guard fronts the in-place editor of repos files.
    let repos = p.read("repos/devops.yaml");
    p.write(
        "repos/devops.yaml",
        &format!("{repos}# x\nextra: {}\n", "{".repeat(300)),
    );
    let run = p.release(&["collect"]).fails(2);
    run.err_has("repos/devops.yaml:");
}

#[test]
fn errors_name_file_line_and_exit_2() {
    let sb = Sandbox::new();
    let mut p = sb.example();

    // A malformed component values.yaml: exit 2 with its real line (was exit 1, `line 0`).
    let mut c = Repo::open(&sb, "ex/components/cyclone");
    c.write("manifests/cyclone/values.yaml", "a: 1\n---\nb: 2\n");
    c.commit("two documents");
    c.tag("v0.12.0");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    run.err_has("manifests/cyclone/values.yaml:2: deserializing from YAML containing more than one document is not supported");
    c.write("manifests/cyclone/values.yaml", "a: 1\nb: [\n");
    c.commit("broken");
    c.tag("v0.12.1");
    let run = p.release(&["collect", "cyclone"]).fails(2);
    run.err_has("manifests/cyclone/values.yaml:3:");
    c.git(&["tag", "-d", "v0.12.0", "v0.12.1"]);

    // version.yml: shape errors and duplicate addons, with file and line.
    let version = p.read("version.yml");
    p.write("version.yml", "spec:\n  modules: 5\n");
    let run = p.release(&["collect"]).fails(2);
    run.err_has("version.yml:2: `spec.modules` must be a list of modules");
    let dup = format!("{version}    - name: cyclone\n      version: 9.9.9\n");
    p.write("version.yml", &dup);
    let run = p.release(&["collect"]).fails(2);
    assert!(
        run.stderr.contains("version.yml:")
            && run
                .stderr
                .contains("addon `cyclone` is listed twice (first at line"),
        "{}",
        run.stderr
    );
    p.write("version.yml", &version);

    // Read-only addons/: the error names the folder (was "Read-only file system (os error 30)").
    let out = sb
        .cmd("unshare", &p.path)
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind -o ro addons addons && exec git release collect",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/addons")
            && stderr.contains("Read-only file system")
            && stderr.contains("make")
            && stderr.contains("writable"),
        "{stderr}"
    );
    assert_eq!(p.status(), "");

    // The stash hint covers ignored files too.
    p.write(".gitignore", "*.bak\n");
    p.commit("ignore");
    p.write("addons/cyclone/x.bak", "mine\n");
    let run = p.release(&["collect"]).fails(3);
    run.err_has("git stash --all");
    // A dry run shows its plan, then fails where the real run fails.
    let dry = p.release(&["collect", "--dry-run"]).fails(3);
    assert!(
        dry.stdout.contains("+++ b/addons/cyclone/Chart.yaml"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stderr
            .contains("uncommitted changes in paths collect writes: addons/cyclone/x.bak"),
        "{}",
        dry.stderr
    );
    p.remove("addons/cyclone/x.bak");

    // Package and hotfix: -o naming a file, a product name that cannot be a file name.
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    p.write("notdir", "x\n");
    let run = p.release(&["package", "-o", "notdir"]).fails(2);
    run.err_has("-o notdir: not a folder");
    let run = p.release(&["hotfix", "v1.1.0", "-o", "notdir"]).fails(2);
    run.err_has("-o notdir: not a folder");
    p.release_c(&["release.product=a/b"], &["package", "-o", "out"])
        .fails(2)
        .err_has("setting release.product `a/b` cannot name a package file");

    // A dry run fails exactly where the real run fails: a symlink loop in a chart.
    std::os::unix::fs::symlink("b", p.path.join("addons/cyclone/templates/a")).unwrap();
    std::os::unix::fs::symlink("a", p.path.join("addons/cyclone/templates/b")).unwrap();
    p.commit("loop");
    let same = "--allow-same-version";
    let dry = p
        .release(&["hotfix", "v1.1.0", "-n", "-o", "out", same])
        .fails(2);
    let real = p.release(&["hotfix", "v1.1.0", "-o", "out", same]).fails(2);
    assert!(dry.stderr.contains("loop of symlinks"), "{}", dry.stderr);
    assert_eq!(dry.stderr, real.stderr);
    let dry = p.release(&["package", "-n", "-o", "out"]).fails(2);
    assert!(dry.stderr.contains("loop of symlinks"), "{}", dry.stderr);
}

#[test]
fn kill_9_during_a_cherry_pick_checkout_keeps_branch_and_work_tree_together() {
    let sb = Sandbox::new();
    let (c, fix) = crate::cherry_pick::component(&sb);
    c.release(&["branch", "1.2"]).ok();
    c.git(&["checkout", "-q", "release-1.2"]);
    let old_tip = c.git(&["rev-parse", "HEAD"]);
    let (mut undone, mut finished) = (0, 0);
    let mut n = 1;
    loop {
        let name = format!("pick-{n}");
        let st = sb
            .cmd("cp", sb.dir.path())
            .arg("-a")
            .arg(&c.path)
            .arg(sb.path(&name))
            .status()
            .unwrap();
        assert!(st.success());
        let p = Repo::open(&sb, &name);
        let killed = strace_kill_at_rename(
            &sb,
            &p.path,
            n,
            &["git-release-cherry-pick", &fix, "--onto", "1.2"],
        );
        let next = p.release(&["branch", "--list"]).ok();
        // Whatever moment the kill hit, the checkout matches the branch it is on.
        assert_eq!(p.status(), "", "kill at rename {n}\n{}", next.stderr);
        assert!(leftovers(&p.path).is_empty(), "{:?}", leftovers(&p.path));
        assert!(!p.path.join(".git/release/journal.json").exists());
        let moved = p.git(&["rev-parse", "HEAD"]) != old_tip;
        if killed.code == 0 {
            assert!(moved);
            break;
        }
        if moved {
            finished += 1;
            assert_eq!(p.read("VERSION"), "1.2.1\n");
        } else {
            undone += 1;
            // And the pick can simply be run again.
            p.release(&["cherry-pick", &fix, "--onto", "1.2"]).ok();
            assert_eq!(p.read("VERSION"), "1.2.1\n");
            assert_eq!(p.status(), "");
        }
        n += 1;
        assert!(n < 100, "cherry-pick never finished under strace");
    }
    assert!(
        undone > 2 && finished > 0,
        "undone {undone}, finished {finished}"
    );
}

/// A dry run writes nothing anywhere (issue 11: dry and real runs share everything but the
/// write): no object, no ref, no file of the work tree, for every writing command.
#[test]
fn dry_runs_write_no_object_ref_or_file() {
    let sb = Sandbox::new();
    let mut p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    let state = |p: &crate::util::Repo| {
        (
            p.git(&["count-objects", "-v"]),
            p.git(&["for-each-ref"]),
            p.status(),
        )
    };
    let before = state(&p);
    p.release(&["tag", "1.1.0", "--offline", "--dry-run"]).ok();
    assert_eq!(state(&p), before, "tag --dry-run wrote something");
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let svc = p.read("addons/cyclone/templates/service.yaml");
    p.write(
        "addons/cyclone/templates/service.yaml",
        &format!("{svc}# fix\n"),
    );
    p.commit("cyclone: fix");
    let before = state(&p);
    let out = sb.path("dry-out");
    let out = out.to_str().unwrap();
    for args in [
        vec!["collect", "--dry-run"],
        vec!["bump", "--next-minor", "--dry-run"],
        vec!["cherry-pick", "HEAD", "--onto", "1.1", "--dry-run"],
        vec!["branch", "1.1/acme", "--dry-run"],
        vec![
            "hotfix",
            "v1.1.0..HEAD",
            "-o",
            out,
            "--dry-run",
            "--allow-same-version",
        ],
        vec!["package", "v1.1.0", "-o", out, "--dry-run"],
        vec!["init", "--dry-run"],
    ] {
        p.release(&args).ok();
        assert_eq!(
            state(&p),
            before,
            "`git release {}` wrote something",
            args.join(" ")
        );
    }
    assert!(!std::path::Path::new(out).exists(), "no output folder");
}

/// `release.fsync`: by default a package is renamed as soon as it is written (no fsync of it,
/// as `git archive -o` and `tar` write); `true` flushes it before the rename; any other value is
/// refused before anything is written. strace (`-y`: paths of descriptors) shows the calls.
#[test]
fn package_fsync_follows_release_fsync() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0"]);
    let syncs_of_package = |config: &[&str], out: &str| -> Vec<String> {
        let trace = sb.path(&format!("{out}.trace"));
        let mut c = sb.cmd("strace", &p.path);
        c.args(["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync", "-o"])
            .arg(&trace)
            .arg("git");
        for kv in config {
            c.args(["-c", kv]);
        }
        let run = crate::util::Run::from(
            c.args(["release", "package", "v1.1.0", "-o"])
                .arg(sb.path(out))
                .output()
                .expect("strace must be installed (.ci/run installs it)"),
        )
        .ok();
        assert!(
            sb.path(out).join("demo-platform-v1.1.0.tar.gz").is_file(),
            "{}",
            run.stderr
        );
        std::fs::read_to_string(&trace)
            .unwrap()
            .lines()
            .filter(|l| l.contains("demo-platform-v1.1.0.tar.gz"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(syncs_of_package(&[], "plain"), Vec::<String>::new());
    let synced = syncs_of_package(&["release.fsync=true"], "synced");
    assert!(
        synced
            .iter()
            .any(|l| l.contains("fsync(") && l.contains(".git-release-tmp-")),
        "{synced:?}"
    );
    let bad = sb.path("bad");
    let run = p
        .release_c(
            &["release.fsync=maybe"],
            &["package", "v1.1.0", "-o", bad.to_str().unwrap()],
        )
        .fails(2);
    run.err_has("setting release.fsync `maybe` is not a boolean");
    assert!(!bad.join("demo-platform-v1.1.0.tar.gz").exists());
    // Both ways, the same bytes.
    assert_eq!(
        std::fs::read(sb.path("plain/demo-platform-v1.1.0.tar.gz")).unwrap(),
        std::fs::read(sb.path("synced/demo-platform-v1.1.0.tar.gz")).unwrap()
    );
}
