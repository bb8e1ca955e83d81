//! `git release generate man|completions`: man pages and shell completions from the clap
//! definitions (ripgrep's `--generate` idea), committed under `man/` and `completions/`.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::{Cli, SUBCOMMANDS};
use clap::Args;

/// `git release generate`
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// What to generate.
    #[arg(value_enum)]
    pub what: GenerateWhat,
    /// Output folder.
    #[arg(long, default_value = ".", conflicts_with = "install")]
    pub out: std::path::PathBuf,
    /// Man pages: write them where `man` (and so `git release --help`, `git help release`)
    /// finds them for executables on PATH: `share/man/man1` beside the folder of this
    /// executable (`~/.cargo/bin` -> `~/.cargo/share/man/man1`).
    #[arg(long)]
    pub install: bool,
}

/// Artifacts of `git release generate`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum GenerateWhat {
    /// Man pages: git-release.1 and git-release-<cmd>.1.
    Man,
    /// bash, zsh and fish completions.
    Completions,
}

/// Run `git release generate`.
pub fn run(args: GenerateArgs) -> Result<()> {
    let out = match (args.install, args.what) {
        (false, _) => args.out.clone(),
        (true, GenerateWhat::Man) => installed_man_dir()?,
        (true, GenerateWhat::Completions) => {
            return Err(crate::error::UserError::input(
                "--install places man pages; completions go where your shell loads them (see the README)",
            )
            .into())
        }
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    match args.what {
        GenerateWhat::Man => {
            for (name, text) in man_pages()? {
                write(&out.join(name), &text)?;
            }
            if args.install {
                println!(
                    "installed the man pages in {}: `git release --help` opens them",
                    out.join("man1").display()
                );
            }
        }
        GenerateWhat::Completions => {
            for (name, text) in completions() {
                write(&out.join(name), &text)?;
            }
        }
    }
    Ok(())
}

/// `<folder of this executable>/../share/man`: man-db adds `../share/man` of every PATH folder to
/// its search path when MANPATH is unset (manpath(1)).
///
/// Errors: the executable's path cannot be read.
fn installed_man_dir() -> Result<std::path::PathBuf> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let bin = exe.parent().context("the executable has no folder")?;
    Ok(bin.parent().unwrap_or(bin).join("share/man"))
}

fn write(path: &Path, text: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// `man1/git-release.1` and `man1/git-release-<cmd>.1` (the names `git help release` and
/// `git release <cmd> --help` look for; `MANPATH=man` finds them): NAME, SYNOPSIS, DESCRIPTION
/// and OPTIONS from the clap definitions (the same text as `--help`), then SETTINGS, FILES,
/// EXIT STATUS, EXAMPLES and SEE ALSO from [`super::manual`].
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let page = |cmd: clap::Command, name: Option<&str>| -> Result<Vec<u8>> {
        let man_source = cmd.clone();
        let man = clap_mangen::Man::new(cmd);
        let mut buf = Vec::new();
        man.render_title(&mut buf)?;
        man.render_name_section(&mut buf)?;
        man.render_synopsis_section(&mut buf)?;
        man.render_description_section(&mut buf)?;
        man.render_options_section(&mut buf)?;
        if name.is_none() {
            man.render_subcommands_section(&mut buf)?;
        }
        let mut text = String::new();
        if let Some(after) = man_cmd_after_help(&man_source) {
            // check's rule table: its own section.
            text.push_str(".SH RULES\n.nf\n");
            for line in after.lines() {
                text.push_str(&super::manual::escape(line));
                text.push('\n');
            }
            text.push_str(".fi\n");
        }
        text.push_str(&super::manual::sections(name));
        buf.extend_from_slice(text.as_bytes());
        man.render_version_section(&mut buf)?;
        Ok(buf)
    };
    out.push((
        "man1/git-release.1".to_string(),
        page(
            Cli::command().name("git-release").bin_name("git release"),
            None,
        )?,
    ));
    for name in SUBCOMMANDS {
        out.push((
            format!("man1/git-release-{name}.1"),
            page(super::subcommand(name), Some(name))?,
        ));
    }
    Ok(out)
}

fn man_cmd_after_help(cmd: &clap::Command) -> Option<String> {
    cmd.get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|s| s.to_string())
}

/// `git-release.bash` (defines `_git_release`, which git's own bash completion calls for
/// `git release`), `_git-release` for zsh, `git-release.fish`.
pub fn completions() -> Vec<(String, Vec<u8>)> {
    vec![
        ("git-release.bash".into(), bash().into_bytes()),
        ("_git-release".into(), zsh()),
        ("git-release.fish".into(), fish()),
    ]
}

fn long_flags(cmd: &clap::Command) -> Vec<String> {
    let mut v: Vec<String> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| {
            a.get_long().map(|l| {
                if a.get_action().takes_values() {
                    format!("--{l}=")
                } else {
                    format!("--{l}")
                }
            })
        })
        .collect();
    v.push("--help".into());
    v
}

/// What a subcommand's positional words are, for bash completion.
fn positional_completion(name: &str) -> &'static str {
    match name {
        // A revision range of release tags: both sides of A..B.
        "hotfix" => "\t\t__git_release_tags\n",
        // A release tag (or any ref).
        "package" | "check" | "diff" | "upgrade" => "\t\t__git_release_tags\n",
        // REV, or the `sync` subcommand.
        "images" => "\t\t__git_release_tags\n\t\t[ \"$(__git_release_positionals)\" -eq 0 ] && __gitcomp_nl_append sync\n",
        // VERSION first (a new version: nothing to offer), then REV.
        "tag" => "\t\t[ \"$(__git_release_positionals)\" -ge 1 ] && __git_release_tags\n",
        // Commits: branches and tags.
        "cherry-pick" | "contains" => "\t\t__git_complete_refs\n",
        // A release line or OEM branch.
        "branch" => "\t\t__gitcomp_nl \"$(git release __targets 2>/dev/null)\"\n",
        // A release line alone.
        "log" => "\t\t__gitcomp_nl \"$(git release __targets lines 2>/dev/null)\"\n",
        "collect" => "\t\t__gitcomp_nl \"$(git release __components 2>/dev/null)\"\n",
        _ => "",
    }
}

/// Completion of an option's value, as `--opt=<TAB>` and `--opt <TAB>`.
fn option_values(name: &str) -> &'static str {
    match name {
        "cherry-pick" => "\t\t--onto=*)\n\t\t\t__gitcomp_nl \"$(git release __targets 2>/dev/null)\" \"\" \"${cur#--onto=}\"\n\t\t\treturn ;;\n",
        "branch" => "\t\t--from=*)\n\t\t\t__git_complete_refs --cur=\"${cur#--from=}\"\n\t\t\treturn ;;\n",
        "collect" => "\t\t--tag=*=*)\n\t\t\tlocal c=\"${cur#--tag=}\"\n\t\t\t__gitcomp_nl \"$(git release __component_tags \"${c%%=*}\" 2>/dev/null)\" \"\" \"${c#*=}\"\n\t\t\treturn ;;\n\t\t--tag=*)\n\t\t\t__gitcomp_nl \"$(git release __components 2>/dev/null)\" \"\" \"${cur#--tag=}\" \"=\"\n\t\t\treturn ;;\n",
        _ => "",
    }
}

/// Completion after an option that takes its value as the next word (`--onto 2.10`).
fn previous_word(name: &str) -> &'static str {
    match name {
        "cherry-pick" => "\tcherry-pick:--onto)\n\t\t__gitcomp_nl \"$(git release __targets 2>/dev/null)\"\n\t\treturn ;;\n",
        "branch" => "\tbranch:--from)\n\t\t__git_complete_refs\n\t\treturn ;;\n",
        _ => "",
    }
}

fn bash() -> String {
    let cli = Cli::command();
    let mut cases = String::new();
    let mut prev_cases = String::new();
    for name in SUBCOMMANDS {
        let sub = cli.find_subcommand(name).expect("shipped subcommand");
        let flags = long_flags(sub).join(" ");
        let positional = positional_completion(name);
        let values = option_values(name);
        prev_cases.push_str(previous_word(name));
        cases.push_str(&format!(
            "\t{name})\n\t\tcase \"$cur\" in\n{values}\t\t--*)\n\t\t\t__gitcomp \"{flags}\"\n\t\t\treturn ;;\n\t\tesac\n{positional}\t\t;;\n"
        ));
    }
    format!(
        "# bash completion for git-release (generated by `git release generate completions`; do not edit).\n\
# git's completion (git-completion.bash) calls _git_release for `git release …`.\n\
# Install: source this file after git's completion, or copy it to\n\
# ~/.local/share/bash-completion/completions/git-release\n\
\n\
# Revisions matching the word (tags, branches: release lines and OEM branches, HEAD), both\n\
# sides of A..B and A...B.\n\
__git_release_tags ()\n\
{{\n\
\tlocal pfx=\"\" cur_=\"$cur\"\n\
\tcase \"$cur_\" in\n\
\t*...*) pfx=\"${{cur_%%...*}}...\"; cur_=\"${{cur_#*...}}\" ;;\n\
\t*..*) pfx=\"${{cur_%%..*}}..\"; cur_=\"${{cur_#*..}}\" ;;\n\
\tesac\n\
\t__gitcomp_nl \"$(git for-each-ref --format='%(refname:short)' refs/tags refs/heads 2>/dev/null; echo HEAD)\" \"$pfx\" \"$cur_\"\n\
}}\n\
\n\
# Positional words before the current one, after the subcommand.\n\
__git_release_positionals ()\n\
{{\n\
\tlocal i n=0 seen=\"\"\n\
\tfor ((i=1; i < cword; i++)); do\n\
\t\tcase \"${{words[i]}}\" in\n\
\t\trelease) ;;\n\
\t\t-*) ;;\n\
\t\t*) if [ -n \"$seen\" ]; then n=$((n+1)); else seen=1; fi ;;\n\
\t\tesac\n\
\tdone\n\
\techo \"$n\"\n\
}}\n\
\n\
_git_release ()\n\
{{\n\
\tlocal subcommands=\"{subs} help\"\n\
\tlocal subcommand=\"$(__git_find_on_cmdline \"$subcommands\")\"\n\
\tif [ -z \"$subcommand\" ]; then\n\
\t\tcase \"$cur\" in\n\
\t\t--*) __gitcomp \"--help --version\" ;;\n\
\t\t*) __gitcomp \"$subcommands\" ;;\n\
\t\tesac\n\
\t\treturn\n\
\tfi\n\
\tcase \"$subcommand:$prev\" in\n\
{prev_cases}\
\tesac\n\
\tcase \"$subcommand\" in\n\
{cases}\
\thelp)\n\
\t\t__gitcomp \"$subcommands\" ;;\n\
\tesac\n\
}}\n",
        subs = SUBCOMMANDS.join(" "),
    )
}

fn zsh() -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(
        clap_complete::Shell::Zsh,
        &mut Cli::command(),
        "git-release",
        &mut buf,
    );
    let text = String::from_utf8_lossy(&buf).into_owned();
    // git's zsh completion lists user commands whose `_git-<cmd>` file has a #description line 2.
    let mut lines: Vec<&str> = text.lines().collect();
    let desc = "#description run the release process of a Kubernetes platform product";
    if lines.first().is_some_and(|l| l.starts_with("#compdef")) {
        lines.insert(1, desc);
    } else {
        lines.insert(0, "#compdef git-release");
        lines.insert(1, desc);
    }
    // Positions that know git, as in the bash and fish files: each `:_default` action of
    // these arguments gets a helper defined below.
    let helper = |line: &str| -> Option<&'static str> {
        let spec = line.trim_start_matches('\'');
        if spec.starts_with("::rev -- ")
            || spec.starts_with(":range -- ")
            || spec.starts_with(":from -- ")
            || spec.starts_with("::to -- ")
            || spec.starts_with(":to -- ")
        {
            Some("__git_release_tags")
        } else if spec.starts_with("*::commits -- ") || spec.starts_with(":commit -- ") {
            Some("__git_release_refs")
        } else if spec.starts_with("::target -- ") || spec.starts_with("--onto=[") {
            Some("__git_release_targets")
        } else if spec.starts_with("::line -- ") {
            Some("__git_release_lines")
        } else if spec.starts_with("*::components -- ") {
            Some("__git_release_components")
        } else if spec.starts_with("*--tag=[") {
            Some("__git_release_pins")
        } else {
            None
        }
    };
    let lines: Vec<String> = lines
        .iter()
        .map(|l| match helper(l) {
            Some(h) if l.contains(":_default'") => l.replacen(":_default'", &format!(":{h}'"), 1),
            _ => l.to_string(),
        })
        .collect();
    let (head, rest) = lines.split_at(2);
    let mut s = head.join("\n");
    s.push('\n');
    s.push_str(ZSH_HELPERS);
    s.push_str(&rest.join("\n"));
    s.push('\n');
    s.into_bytes()
}

/// zsh helpers of `_git-release`: release tags (both sides of `A..B`), refs, release lines and
/// OEM branches, components, and `--tag=COMPONENT=TAG`.
const ZSH_HELPERS: &str = r#"
__git_release_tags() {
    local -a tags
    tags=(${(f)"$(git for-each-ref --format='%(refname:short)' refs/tags refs/heads 2>/dev/null)"} HEAD)
    compset -P '*..'
    compadd -- "${tags[@]}"
}
__git_release_refs() {
    local -a refs
    refs=(${(f)"$(git for-each-ref --format='%(refname:short)' refs/heads refs/tags 2>/dev/null)"})
    compadd -- "${refs[@]}"
}
__git_release_targets() {
    local -a targets
    targets=(${(f)"$(git release __targets 2>/dev/null)"})
    compadd -- "${targets[@]}"
}
__git_release_lines() {
    local -a lines
    lines=(${(f)"$(git release __targets lines 2>/dev/null)"})
    compadd -- "${lines[@]}"
}
__git_release_components() {
    local -a names
    names=(${(f)"$(git release __components 2>/dev/null)"})
    compadd -- "${names[@]}"
}
__git_release_pins() {
    local -a items
    if compset -P '*='; then
        local c=${${IPREFIX%=}##*=}
        items=(${(f)"$(git release __component_tags "$c" 2>/dev/null)"})
        compadd -- "${items[@]}"
    else
        items=(${(f)"$(git release __components 2>/dev/null)"})
        compadd -S '=' -- "${items[@]}"
    fi
}
"#;

fn fish() -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(
        clap_complete::Shell::Fish,
        &mut Cli::command(),
        "git-release",
        &mut buf,
    );
    // `git release …`: fish's git completion does not hand custom commands their own
    // completions here, so every position is completed on `git` itself.
    let subs = SUBCOMMANDS.join(" ");
    let on = |sub: &str| {
        format!("__fish_seen_subcommand_from release; and __fish_seen_subcommand_from {sub}")
    };
    let mut text = format!(
        "\n# `git release <TAB>` (generated; see _git_release in git-release.bash for the same rules)\n\
complete -c git -n '__fish_seen_subcommand_from release; and not __fish_seen_subcommand_from {subs}' -f -a '{subs}'\n\
# Release tags at REV positions, both sides of A..B.\n\
function __git_release_tags\n\
    set -l tok (commandline -ct)\n\
    set -l pfx (string match -r '^.*\\.\\.\\.?' -- $tok)\n\
    for t in (git for-each-ref --format='%(refname:short)' refs/tags refs/heads 2>/dev/null) HEAD\n\
        echo \"$pfx$t\"\n\
    end\n\
end\n\
# collect --tag=COMPONENT=TAG: the component, then its own tags (the value after --tag=).\n\
function __git_release_pins\n\
    set -l val (string replace -r '^--tag=' '' -- (commandline -ct))\n\
    if string match -q -- '*=*' $val\n\
        set -l c (string replace -r '=.*' '' -- $val)\n\
        for t in (git release __component_tags $c 2>/dev/null)\n\
            echo \"$c=$t\"\n\
        end\n\
    else\n\
        for c in (git release __components 2>/dev/null)\n\
            echo \"$c=\"\n\
        end\n\
    end\n\
end\n\
complete -c git -n '{tags}' -f -a '(__git_release_tags)'\n\
complete -c git -n '{picks}' -f -a '(git for-each-ref --format=\"%(refname:short)\" refs/heads refs/tags 2>/dev/null)'\n\
complete -c git -n '{picks}' -l onto -x -a '(git release __targets 2>/dev/null)'\n\
complete -c git -n '{branch}' -f -a '(git release __targets 2>/dev/null)'\n\
complete -c git -n '{log}' -f -a '(git release __targets lines 2>/dev/null)'\n\
complete -c git -n '{collect}' -f -a '(git release __components 2>/dev/null)'\n\
complete -c git -n '{images}' -f -a sync -d 'copy mirrored images into the internal registry'\n",
        images = on("images"),
        tags = on("hotfix package upgrade check images tag diff"),
        picks = on("cherry-pick contains"),
        branch = on("branch"),
        log = on("log"),
        collect = on("collect"),
    );
    // Each subcommand's flags.
    let cli = Cli::command();
    for name in SUBCOMMANDS {
        let sub = cli.find_subcommand(name).expect("shipped subcommand");
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let Some(long) = arg.get_long() else { continue };
            if *name == "cherry-pick" && long == "onto" {
                continue;
            }
            let mut line = format!("complete -c git -n '{}' -l {long}", on(name));
            if let Some(short) = arg.get_short() {
                line.push_str(&format!(" -s {short}"));
            }
            if *name == "collect" && long == "tag" {
                line.push_str(" -x -a '(__git_release_pins)'");
            } else if arg.get_action().takes_values() {
                line.push_str(" -r");
            }
            if let Some(help) = arg.get_help() {
                let h = help.to_string().replace('\'', "\\'");
                line.push_str(&format!(" -d '{h}'"));
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    buf.extend_from_slice(text.as_bytes());
    buf
}
