//! The `git-release` dispatcher, man pages and completions.

use crate::util::Sandbox;

#[test]
fn version_and_help() {
    let sb = Sandbox::new();
    let cwd = sb.dir.path();
    let run = sb
        .cmd("git-release", cwd)
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("git-release "));
    let run = crate::util::Run::from(sb.cmd("git-release", cwd).arg("-h").output().unwrap()).ok();
    assert!(run.stdout.contains("collect"), "{}", run.stdout);
    assert!(run.stdout.contains("init"));
    let run = crate::util::Run::from(
        sb.cmd("git-release-collect", cwd)
            .arg("--help")
            .output()
            .unwrap(),
    )
    .ok();
    assert!(run.stdout.contains("--dry-run"));
    // `git release help collect` shows the subcommand's help.
    let run = sb.release(cwd, &["help", "collect"]).ok();
    assert!(run.stdout.contains("--offline"), "{}", run.stdout);
}

#[test]
fn unknown_subcommand_suggests() {
    let sb = Sandbox::new();
    let run = sb.release(sb.dir.path(), &["colect"]).fails(2);
    assert!(
        run.stderr.contains("'colect' is not a git-release command"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `git release collect`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn external_subcommand_from_path() {
    let sb = Sandbox::new();
    let bin = sb.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("git-release-hello");
    std::fs::write(&script, "#!/bin/sh\necho \"hello $*\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = sb
        .cmd("git", sb.dir.path())
        .env(
            "PATH",
            format!(
                "{}:{path}",
                std::path::Path::new(env!("CARGO_BIN_EXE_git-release"))
                    .parent()
                    .unwrap()
                    .display()
            ),
        )
        .args(["release", "hello", "a", "b"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello a b\n");
}

/// man/ and completions/ are generated from the clap definitions and committed; they must match.
#[test]
fn generated_docs_are_fresh() {
    let sb = Sandbox::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (what, dir) in [("man", "man"), ("completions", "completions")] {
        let out = sb.path(dir);
        sb.cmd("git-release", sb.dir.path())
            .args(["generate", what, "--out"])
            .arg(&out)
            .status()
            .unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert!(!names.is_empty());
        for n in names {
            let fresh = std::fs::read(out.join(&n)).unwrap();
            let committed = std::fs::read(root.join(dir).join(&n)).unwrap_or_default();
            assert!(
                fresh == committed,
                "{dir}/{} is stale: run `cargo run --bin git-release -- generate {what} --out {dir}` and commit",
                n.to_string_lossy()
            );
        }
    }
}

#[test]
fn bash_completion_hooks_into_git() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("completions/git-release.bash")).unwrap();
    assert!(text.contains("_git_release ()"));
    assert!(text.contains("__gitcomp"));
    let zsh = std::fs::read_to_string(root.join("completions/_git-release")).unwrap();
    assert!(zsh.lines().nth(1).unwrap().starts_with("#description"));
}
