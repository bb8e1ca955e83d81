//! The `git-release` dispatcher: `git release <cmd> args…` runs `git-release-<cmd> args…` found
//! next to this executable or on PATH (as git and cargo do), with a "did you mean" for typos.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Commands};
use crate::error::UserError;

/// Entry point of `git-release`.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let first = args.get(1).and_then(|a| a.to_str()).map(str::to_string);
    match first.as_deref() {
        None => {
            let _ = Cli::command().print_help();
            ExitCode::from(2)
        }
        Some(a) if a.starts_with('-') => parse_builtin(&args),
        Some("help") => match args.get(2) {
            Some(cmd) => {
                let cmd = cmd.to_string_lossy().into_owned();
                run_external(&cmd, &[OsString::from("--help")])
            }
            None => {
                let _ = Cli::command().print_long_help();
                ExitCode::SUCCESS
            }
        },
        Some("generate") => parse_builtin(&args),
        Some("__targets") => {
            // For shell completion: release lines and OEM branches (`__targets lines`:
            // the lines alone, for `log`), errors ignored.
            let oem_branches = args.get(2).is_none_or(|a| a != "lines");
            if let Ok(repo) = crate::open::repository() {
                for t in
                    crate::branches::completion_targets(&repo, oem_branches).unwrap_or_default()
                {
                    println!("{t}");
                }
            }
            ExitCode::SUCCESS
        }
        Some("__component_tags") => {
            // For shell completion: tags of one component (local or cached), errors ignored.
            let name = args.get(2).map(|a| a.to_string_lossy().into_owned());
            if let (Ok(repo), Some(name)) = (crate::open::repository(), name) {
                for t in crate::components::read::component_tags(&repo, &name).unwrap_or_default() {
                    println!("{t}");
                }
            }
            ExitCode::SUCCESS
        }
        Some("__components") => {
            // For shell completion: component names of the current repo, errors ignored.
            if let Ok(names) = component_names() {
                for n in names {
                    println!("{n}");
                }
            }
            ExitCode::SUCCESS
        }
        Some(cmd) => run_external(cmd, &args[2..]),
    }
}

fn parse_builtin(args: &[OsString]) -> ExitCode {
    // Only `generate` runs here; -h/--version/usage errors exit inside clap.
    match Cli::parse_from(args).command {
        Some(Commands::Generate(g)) => crate::cli::finish(crate::cli::generate::run(g)),
        _ => {
            let _ = Cli::command().print_help();
            ExitCode::from(2)
        }
    }
}

/// Where `git-release-<name>` is: next to the running executable first, then on PATH.
pub fn find_executable(name: &str) -> Option<PathBuf> {
    let file = format!("git-release-{name}");
    search_dirs()
        .into_iter()
        .map(|d| d.join(&file))
        .find(|p| is_executable(p))
}

/// The running executable's folder, then PATH: where `git-release-<cmd>` is looked for.
fn search_dirs() -> Vec<PathBuf> {
    let own_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    own_dir.into_iter().chain(path_dirs).collect()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Every `git-release-*` command name available: shipped ones plus those on PATH.
pub fn available_commands() -> Vec<String> {
    let mut names: Vec<String> = crate::cli::SUBCOMMANDS
        .iter()
        .map(|s| s.to_string())
        .collect();
    for dir in search_dirs() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(cmd) = n.strip_prefix("git-release-") {
                if is_executable(&e.path()) && !names.iter().any(|x| x == cmd) {
                    names.push(cmd.to_string());
                }
            }
        }
    }
    names.sort();
    names
}

fn run_external(cmd: &str, rest: &[OsString]) -> ExitCode {
    let Some(exe) = find_executable(cmd) else {
        let mut err = UserError::input(format!("'{cmd}' is not a git-release command"));
        let names = available_commands();
        err = match crate::error::suggest(cmd, names.iter().map(String::as_str)) {
            Some(s) => err.hint(format!("did you mean `git release {s}`?")),
            None => err.hint(format!("available commands: {}", names.join(", "))),
        };
        return crate::cli::finish(Err(err.into()));
    };
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new(&exe).args(rest).exec();
    crate::cli::finish(Err(anyhow::anyhow!("running {}: {e}", exe.display())))
}

fn component_names() -> anyhow::Result<Vec<String>> {
    let (repo, settings) = crate::open::with_settings(&Default::default())?;
    let lists = crate::components::read_worktree(&repo, &settings)?;
    Ok(lists
        .components
        .iter()
        .map(|c| c.name().to_string())
        .collect())
}
