//! Issue 11 (part): with `--json`, every command prints an error as
//! `{"error": {"message", "hint", "exit_code"}}` on stdout and nothing on stderr, with the same
//! exit code as without `--json`.

use crate::util::Sandbox;

fn assert_json_error(run: &crate::util::Run, code: i32, message_has: &str) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", run.stdout, run.stderr));
    let err = &v["error"];
    assert_eq!(err["exit_code"], code, "{v}");
    let message = err["message"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(
        message.contains(message_has),
        "{message:?} lacks {message_has:?}"
    );
    assert!(
        err.get("hint").is_some(),
        "hint is present (null when none): {v}"
    );
    assert_eq!(run.stderr, "", "nothing on stderr under --json");
}

#[test]
fn every_json_command_reports_errors_as_json_with_the_same_exit_code() {
    let sb = Sandbox::new();
    let p = sb.example();
    let no_rev = "`nosuch` is not a revision: no branch, tag or commit has that name";
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["check", "nosuch", "--json"], 2, no_rev),
        (vec!["package", "nosuch", "--json"], 2, no_rev),
        (vec!["hotfix", "nosuch..HEAD", "--json"], 2, "nosuch"),
        (vec!["images", "nosuch", "--json"], 2, no_rev),
        (vec!["images", "sync", "nosuch", "--json"], 2, ""),
        (
            vec!["collect", "no-such-component", "--json"],
            2,
            "no-such-component",
        ),
        (vec!["tag", "not-a-version", "--json"], 2, "not-a-version"),
        (vec!["branch", "--json", "nosuch"], 2, "nosuch"),
        (
            vec!["cherry-pick", "nosuch", "--onto", "v9.9", "--json"],
            2,
            "nosuch",
        ),
        (vec!["bump", "nosuch-chart", "--json"], 2, "nosuch-chart"),
        // clap's own refusals too.
        (vec!["check", "--bogus", "--json"], 2, "--bogus"),
    ];
    for (args, code, has) in cases {
        let plain: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
        let text = p.release(&plain);
        assert_eq!(text.code, code, "{plain:?} without --json\n{}", text.stderr);
        assert!(
            text.stderr.starts_with("error: "),
            "{plain:?}: {}",
            text.stderr
        );
        let run = p.release(&args);
        assert_json_error(&run, code, has);
    }
    // Refused by the repository's state (exit 3): a release tag is never moved.
    p.release(&["collect", "--commit"]).ok();
    p.git(&["tag", "-a", "-m", "v1.1.0", "v1.1.0", "HEAD~1"]);
    let run = p.release(&["tag", "v1.1.0", "--json"]);
    assert_json_error(&run, 3, "v1.1.0");
}

#[test]
fn init_and_protect_speak_json() {
    let sb = Sandbox::new();
    let mut repo = crate::util::Repo::open(&sb, "p");
    std::fs::create_dir_all(&repo.path).unwrap();
    repo.git(&["init", "-q", "-b", "main"]);
    let run = repo
        .release(&["init", "--product", "demo", "--dry-run", "--json"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["product"], "demo");
    assert_eq!(v["dry_run"], true);
    assert!(
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "version.yml" && f["state"] == "create"),
        "{v}"
    );
    let run = repo.release(&["init", "--product", "demo", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let created = v["created"].as_u64().unwrap();
    assert!(created > 0, "{v}");
    let run = repo.release(&["init", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["created"], 0, "a second init keeps everything: {v}");
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["state"] == "keep"));
    repo.commit("layout");
    // protect: not installed is a refusal, as JSON; then install, check, uninstall.
    let run = repo.release(&["protect", "--check", "--json"]);
    assert_json_error(&run, 3, "tags are not protected");
    let run = repo.release(&["protect", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["action"], "installed", "{v}");
    assert_eq!(v["hook"], "reference-transaction");
    assert!(
        v["protected_tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "v[0-9]*"),
        "{v}"
    );
    let run = repo.release(&["protect", "--check", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["action"], "checked", "{v}");
    let run = repo.release(&["protect", "--uninstall", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["action"], "uninstalled", "{v}");
    assert_eq!(v["removed"].as_array().unwrap().len(), 1, "{v}");
    // A stray argument is still refused, now in JSON.
    let run = repo.release(&["protect", "extra", "--json"]);
    assert_json_error(&run, 2, "extra");
}

#[test]
fn messages_name_each_url_once_and_say_when_there_is_nothing() {
    let sb = Sandbox::new();
    let mut repo = crate::util::Repo::open(&sb, "p");
    std::fs::create_dir_all(&repo.path).unwrap();
    repo.git(&["init", "-q", "-b", "main"]);
    repo.release(&["init"]).ok();
    repo.commit("layout");
    let run = repo.release(&["collect"]).ok();
    assert!(
        run.stdout
            .contains("nothing to collect: repos/ lists no component"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("every component is at"),
        "{}",
        run.stdout
    );
    // An unreachable component URL: named once, with the cause.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/demo/x.git");
    repo.write(
        "repos/components.yaml",
        &format!("- repositoryFullName: demo/x\n  url: {url}\n"),
    );
    repo.commit("x");
    let run = repo.release(&["collect"]).fails(1);
    run.err_has(&format!("could not fetch the tags of {url}: "));
    assert_eq!(run.stderr.matches(&url).count(), 1, "{}", run.stderr);
}
