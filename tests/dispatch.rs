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
        // Every generated file, in subfolders too (man/man1/), relative to `out`.
        let mut names: Vec<std::path::PathBuf> = Vec::new();
        let mut stack = vec![out.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    names.push(e.path().strip_prefix(&out).unwrap().to_path_buf());
                }
            }
        }
        names.sort();
        assert!(!names.is_empty());
        for n in names {
            let fresh = std::fs::read(out.join(&n)).unwrap();
            let committed = std::fs::read(root.join(dir).join(&n)).unwrap_or_default();
            assert!(
                fresh == committed,
                "{dir}/{} is stale: run `cargo run --bin git-release -- generate {what} --out {dir}` and commit",
                n.display()
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

/// git's own bash completion calls `_git_release`; complete `git release co<TAB>`, a flag and a
/// component name through it, as a user's shell would.
#[test]
fn bash_completion_through_git_completion() {
    let sb = Sandbox::new();
    let mut repo = crate::util::Repo::open(&sb, "p");
    std::fs::create_dir_all(&repo.path).unwrap();
    repo.git(&["init", "-q", "-b", "main"]);
    repo.write(
        "repos/a.yaml",
        "- repositoryFullName: demo/cyclone\n- repositoryFullName: demo/mongo\n",
    );
    repo.commit("repos");
    let complete = |line: &str| bash_complete(&sb, &repo.path, line).join("\n");
    assert!(
        complete("git release co").contains("collect"),
        "{}",
        complete("git release co")
    );
    assert!(complete("git release collect --of").contains("--offline"));
    let names = complete("git release collect mo");
    assert!(
        names.contains("mongo") && !names.contains("cyclone"),
        "{names}"
    );
}

/// Completion that knows git (issue 11): release tags for REV positions (both sides of A..B),
/// refs for cherry-pick, release lines and OEM branches for `--onto` and `branch`, a
/// component's own tags after `--tag=COMPONENT=`, flags everywhere; driven through git's own
/// bash completion on the shipped example.
#[test]
fn bash_completion_knows_tags_lines_and_component_tags() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["branch", "1.0"]).ok();
    p.release(&["branch", "1.0/acme"]).ok();
    let complete = |line: &str| bash_complete(&sb, &p.path, line);
    let has = |line: &str, want: &str| {
        let got = complete(line);
        assert!(
            got.iter().any(|g| g == want),
            "`{line}<TAB>` gave {got:?}, not {want:?}"
        );
    };
    let lacks = |line: &str, not: &str| {
        let got = complete(line);
        assert!(!got.iter().any(|g| g == not), "`{line}<TAB>` gave {got:?}");
    };
    // Release tags at REV positions, both sides of a range.
    has("git release hotfix v1", "v1.0.0");
    has("git release hotfix v1.0.0..v", "v1.0.0..v1.0.0");
    has("git release package v", "v1.0.0");
    has("git release check v1", "v1.0.0");
    lacks("git release package v", "release-1.0");
    // tag: VERSION first (nothing to offer), then REV.
    lacks("git release tag v", "v1.0.0");
    has("git release tag 1.1.0 v", "v1.0.0");
    // cherry-pick: branches and tags; --onto: release lines and OEM branches.
    has("git release cherry-pick rel", "release-1.0");
    has("git release cherry-pick HEAD --onto ", "1.0");
    has("git release cherry-pick HEAD --onto ", "1.0/acme");
    has("git release cherry-pick HEAD --onto=1", "1.0/acme");
    // branch: lines and customers; --from: refs.
    has("git release branch ", "1.0");
    has("git release branch 1.0/acme --from v", "v1.0.0");
    // collect --tag=: the component, then that component's tags (no repeated component).
    has("git release collect --tag=cyc", "cyclone=");
    has("git release collect --tag=cyclone=v0.1", "v0.10.0");
    has("git release collect --tag=cyclone=v0.1", "v0.11.0-rc.1");
    lacks("git release collect --tag=cyclone=", "cyclone=");
    // The history commands: a line, two release tags, any ref.
    has("git release log ", "1.0");
    lacks("git release log ", "1.0/acme");
    has("git release branch ", "1.0/acme");
    has("git release diff v", "v1.0.0");
    has("git release diff v1.0.0 v", "v1.0.0");
    has("git release contains rel", "release-1.0");
    has("git release collect --chan", "--changelog=");
    // Flags of each subcommand.
    has("git release hotfix --ima", "--images");
    has("git release cherry-pick --on", "--onto=");
    has("git release branch --li", "--list");
    // Issue 20, Why 9: a range's end completes release branches and HEAD too; `images s` is
    // `sync`; `--tag=NAME=` offers only the tags collect accepts (within baseVersion).
    has("git release hotfix v1.0.0..rel", "v1.0.0..release-1.0");
    has("git release hotfix v1.0.0..rel", "v1.0.0..release-1.0-acme");
    has("git release hotfix v1.0.0..H", "v1.0.0..HEAD");
    has("git release images s", "sync");
    has("git release collect --tag=mongo=1.1", "1.1.0");
    lacks("git release collect --tag=mongo=1.2", "1.2.1");
}

/// Man pages worth opening (issue 11): laid out for MANPATH, every section present, and
/// `git help release` finds the page through MANPATH as git users open it.
#[test]
fn man_pages_have_every_section_and_git_help_finds_them() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let man1 = root.join("man/man1");
    for name in std::iter::once("git-release".to_string()).chain(
        git_release::cli::SUBCOMMANDS
            .iter()
            .map(|c| format!("git-release-{c}")),
    ) {
        let page = std::fs::read_to_string(man1.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("man/man1/{name}.1: {e}"));
        let mut want = vec![
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH OPTIONS",
            ".SH SETTINGS",
            ".SH JSON",
            ".SH \"EXIT STATUS\"",
            ".SH \"SEE ALSO\"",
        ];
        if name != "git-release" {
            want.extend([".SH EXAMPLES"]);
        }
        for section in want {
            assert!(page.contains(section), "{name}.1 lacks {section}");
        }
        let page = page.replace("\\-", "-");
        if name != "git-release" {
            assert!(
                page.contains(&format!(
                    "\\fBgit release {}\\fR",
                    name.trim_start_matches("git-release-")
                )),
                "{name}.1: the synopsis reads `git release <cmd>`"
            );
        }
    }
    let sb = Sandbox::new();
    let out = sb
        .cmd("git", sb.dir.path())
        .args(["help", "release"])
        .env("MANPATH", root.join("man"))
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "git-release(1)",
        "SETTINGS",
        "release.registry",
        "EXIT STATUS",
        "git-release-collect(1)",
    ] {
        assert!(
            text.contains(want),
            "`git help release` lacks {want}:\n{text}"
        );
    }
    // Usage lines read as users type them.
    let run = sb.release(sb.dir.path(), &["tag", "--help"]);
    assert!(
        run.stdout
            .contains("Usage: git release tag [OPTIONS] <VERSION> [REV]"),
        "{}",
        run.stdout
    );
}

/// fish completes the same positions (issue 11), through `complete -C` as a fish user's <TAB>.
#[test]
fn fish_completion_knows_tags_lines_and_component_tags() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["branch", "1.0"]).ok();
    p.release(&["branch", "1.0/acme"]).ok();
    let ours =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/git-release.fish");
    let complete = |line: &str| -> Vec<String> {
        let out = sb
            .cmd("fish", &p.path)
            .args(["--no-config", "-c"])
            .arg(format!("source {}; complete -C '{line}'", ours.display()))
            .output()
            .expect("fish (Debian package fish; .ci/run installs it)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .collect()
    };
    let has = |line: &str, want: &str| {
        let got = complete(line);
        assert!(
            got.iter().any(|g| g == want),
            "`{line}<TAB>` gave {got:?}, not {want:?}"
        );
    };
    has("git release pa", "package");
    has("git release hotfix v1", "v1.0.0");
    has("git release hotfix v1.0.0..v", "v1.0.0..v1.0.0");
    has("git release package v", "v1.0.0");
    has("git release cherry-pick rel", "release-1.0");
    has("git release cherry-pick HEAD --onto ", "1.0/acme");
    has("git release branch ", "1.0");
    has("git release branch ", "1.0/acme");
    has("git release log ", "1.0");
    assert!(
        !complete("git release log ").contains(&"1.0/acme".to_string()),
        "log offers an OEM branch"
    );
    has("git release collect mo", "mongo");
    has("git release collect --tag=cyc", "--tag=cyclone=");
    has(
        "git release collect --tag=cyclone=v0.1",
        "--tag=cyclone=v0.10.0",
    );
    has("git release hotfix --ima", "--images");
}

/// zsh: the positions that know git are wired to helpers, and each helper offers what the bash
/// and fish files offer (run in zsh with `compadd` recording its candidates).
#[test]
fn zsh_completion_helpers_offer_tags_refs_lines_and_components() {
    let sb = Sandbox::new();
    let p = sb.example();
    p.release(&["branch", "1.0/acme"]).ok();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/_git-release");
    let text = std::fs::read_to_string(&file).unwrap();
    for (spec, helper) in [
        (":range -- ", "__git_release_tags'"),
        ("::rev -- Commit to tag", "__git_release_tags'"),
        ("*::commits -- ", "__git_release_refs'"),
        ("--onto=[", "__git_release_targets'"),
        ("::target -- ", "__git_release_targets'"),
        ("::line -- ", "__git_release_lines'"),
        ("*::components -- ", "__git_release_components'"),
        ("*--tag=[", "__git_release_pins'"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("'{spec}")) && l.contains(helper)),
            "_git-release: `{spec}` is not completed by {helper}"
        );
    }
    let offer = |helper: &str| -> Vec<String> {
        let script = format!(
            "compdef() {{ }}; source {}; compadd() {{ print -rl -- \"$@\" }}; compset() {{ return 1 }}; {helper}",
            file.display()
        );
        let out = sb
            .cmd("zsh", &p.path)
            .args(["-f", "-c", &script])
            .output()
            .expect("zsh (Debian package zsh; .ci/run installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert!(offer("__git_release_tags").contains(&"v1.0.0".to_string()));
    assert!(offer("__git_release_refs").contains(&"release-1.0".to_string()));
    assert!(offer("__git_release_targets").contains(&"1.0/acme".to_string()));
    let lines = offer("__git_release_lines");
    assert!(
        lines.contains(&"1.0".to_string()) && !lines.contains(&"1.0/acme".to_string()),
        "{lines:?}"
    );
    assert!(offer("__git_release_components").contains(&"cyclone".to_string()));
    let pins = offer("__git_release_pins");
    assert!(
        pins.contains(&"cyclone".to_string()) && pins.contains(&"=".to_string()),
        "{pins:?}"
    );
}

/// What `<TAB>` offers after `line` in bash, through git's own completion script and ours, run in
/// `cwd`: COMPREPLY, one candidate a line, trailing spaces trimmed.
fn bash_complete(sb: &Sandbox, cwd: &std::path::Path, line: &str) -> Vec<String> {
    let git_completion = [
        "/usr/share/bash-completion/completions/git",
        "/etc/bash_completion.d/git",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).is_file())
    .expect("git's bash completion script (Debian package git ships it)");
    let ours =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/git-release.bash");
    let words: Vec<&str> = line.split(' ').collect();
    let script = format!(
        "source {git_completion}; source {ours}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        ours = ours.display(),
        words = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        cword = words.len() - 1,
    );
    let out = sb.cmd("bash", cwd).args(["-c", &script]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Issue 20, Why 9: `git release --help` works right after the README's install: `generate man
/// --install` puts the pages beside the executables' folder, where man finds them with MANPATH
/// unset.
#[test]
fn why_9_git_release_help_opens_the_installed_page() {
    let sb = Sandbox::new();
    let bin = sb.path("prefix/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let built = std::path::Path::new(env!("CARGO_BIN_EXE_git-release"));
    std::fs::copy(built, bin.join("git-release")).unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let git = |args: &[&str]| {
        sb.cmd("git", sb.dir.path())
            .args(args)
            .env("PATH", &path)
            .env_remove("MANPATH")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap()
    };
    let before = git(&["release", "--help"]);
    assert!(!before.status.success(), "no page before the install");
    let out = sb
        .cmd(bin.join("git-release").to_str().unwrap(), sb.dir.path())
        .args(["generate", "man", "--install"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sb
        .path("prefix/share/man/man1/git-release-collect.1")
        .is_file());
    let after = git(&["release", "--help"]);
    let text = String::from_utf8_lossy(&after.stdout);
    assert!(
        after.status.success() && text.contains("git-release(1)") && text.contains("SETTINGS"),
        "{text}{}",
        String::from_utf8_lossy(&after.stderr)
    );
    // The built-in help reads as users type it and names `images sync`; a mistyped `images`
    // subcommand gets a suggestion.
    let out = sb
        .cmd("git-release", sb.dir.path())
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Usage: git release [COMMAND]")
            && help.contains("`images sync` copies the mirrored ones"),
        "{help}"
    );
    let p = sb.example();
    p.release(&["images", "snyc"])
        .fails(2)
        .err_has("`snyc` is neither a revision nor a subcommand of images")
        .err_has("did you mean `git release images sync`?");
}
