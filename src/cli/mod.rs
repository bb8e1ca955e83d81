//! Command-line definitions shared by the dispatcher, the `git-release-<cmd>` executables, the man
//! pages and the completions: one description per flag feeds all of them.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Command, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::{ExitKind, UserError};

pub mod generate;
pub mod manual;

/// Run the release process of a Kubernetes platform product from one git repository.
///
/// `git release <command>` runs the executable `git-release-<command>`, from this installation
/// or from PATH, as git and cargo do.
#[derive(Parser, Debug)]
#[command(
    name = "git-release",
    bin_name = "git release",
    version,
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Option<Commands>,
}

/// Subcommands shipped with git-release.
#[derive(Subcommand, Debug)]
pub enum Commands {
    /// Create the platform-release layout (addons/, repos/, images/, version.yml, .gitrelease).
    Init(crate::commands::init::InitArgs),
    /// Collect component charts at their newest release tags into the addons folder.
    Collect(crate::commands::collect::CollectArgs),
    /// Check that a revision is a consistent release: chart versions, image tags, version.yml, image lists.
    #[command(after_help = crate::commands::check::rules_help())]
    Check(crate::commands::check::CheckArgs),
    /// List the images a revision deploys, with the charts, files and lines each comes from;
    /// `images sync` copies the mirrored ones into the internal registry.
    Images(crate::commands::images::ImagesArgs),
    /// Package the charts changed between two revisions as a reproducible hotfix package.
    Hotfix(crate::commands::hotfix::HotfixArgs),
    /// Build the full offline package of a product version.
    Package(crate::commands::package::PackageArgs),
    /// Build the package that upgrades a site from one release to another (any two releases).
    Upgrade(crate::commands::upgrade::UpgradeArgs),
    /// The plugin files of the repository (release-plugins/): `plugin list`, `plugin bump`, `plugin package`.
    Plugin(crate::commands::plugin::PluginArgs),
    /// Check a package as the site receives it: every checksum, every image blob, outside any repository.
    Verify(crate::commands::verify::VerifyArgs),
    /// At the site: verify a package, push its images into the site's registry, write its charts for it.
    Push(crate::commands::push::PushArgs),
    /// Create the protected annotated release tag of a product version.
    Tag(crate::commands::tag::TagArgs),
    /// Install git hooks so release and hotfix tags can never be moved or deleted.
    Protect(crate::commands::protect::ProtectArgs),
    /// Create release-line and OEM branches, or list them.
    Branch(crate::commands::branch::BranchArgs),
    /// Cherry-pick fixes onto a release branch, resolving version fields to the branch's patch + 1.
    CherryPick(crate::commands::cherry_pick::CherryPickArgs),
    /// Bump chart and VERSION versions: next minor after a release, or patch on a release branch.
    Bump(crate::commands::bump::BumpArgs),
    /// List the releases and hotfixes of a line (or all), newest first, with what each changed.
    Log(crate::commands::log::LogArgs),
    /// Compare two releases component by component: tags, chart versions, files, images.
    Diff(crate::commands::diff::DiffArgs),
    /// Find every release tag, hotfix tag and release branch that contains a change, picks included.
    Contains(crate::commands::contains::ContainsArgs),
    /// Write man pages and shell completions (for packagers; output is committed under man/ and completions/).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// Names of the shipped subcommands that have their own executable.
pub const SUBCOMMANDS: &[&str] = &[
    "init",
    "collect",
    "check",
    "images",
    "hotfix",
    "package",
    "upgrade",
    "verify",
    "push",
    "plugin",
    "tag",
    "protect",
    "branch",
    "cherry-pick",
    "bump",
    "log",
    "diff",
    "contains",
];

/// The clap command of subcommand `name` as its own executable `git-release-<name>`.
pub fn subcommand(name: &str) -> Command {
    let cmd = Cli::command();
    let sub = cmd
        .find_subcommand(name)
        .cloned()
        .unwrap_or_else(|| Command::new(&*Box::leak(name.to_string().into_boxed_str())));
    let bin: &'static str = Box::leak(format!("git-release-{name}").into_boxed_str());
    // Usage lines read `git release tag …`, as users type it; the page and file stay
    // `git-release-tag` (what `git release tag --help` and man look for).
    let usage: &'static str = Box::leak(format!("git release {name}").into_boxed_str());
    sub.name(bin)
        .bin_name(usage)
        .display_name(bin)
        .version(env!("CARGO_PKG_VERSION"))
}

/// Entry point of a `git-release-<name>` executable: parse `A` from the command line, run `f`,
/// print errors as `error: …` / `hint: …` and map them to exit codes ([`ExitKind`]). With
/// `--json` (on the command or its subcommand), an error is printed on stdout as
/// `{"error": {"message", "hint", "exit_code"}}` instead, still with its exit code; so is a
/// command line clap refuses (exit 2).
pub fn main_for<A: FromArgMatches>(
    name: &str,
    f: impl FnOnce(A) -> anyhow::Result<()>,
) -> ExitCode {
    // HTTPS (component fetches through gix and reqwest) uses rustls with the ring provider;
    // reqwest is built without a provider of its own. An error only means one is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // A `--json` anywhere counts, also one clap refused or that protect's trailing hook
    // arguments swallowed.
    let json_in_argv = std::env::args_os().skip(1).any(|a| a == "--json");
    let matches = match subcommand(name).try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let json = json_in_argv;
            let usage_error = !matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            );
            if json && usage_error {
                let text = e.render().to_string();
                let message = text
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_string();
                print_json_error(
                    &message,
                    Some(&format!("see `git release {name} --help`")),
                    2,
                );
                return ExitCode::from(2);
            }
            e.exit()
        }
    };
    let json = wants_json(&matches) || json_in_argv;
    let args = match A::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    // A panic anywhere (ours or a library's) is an internal error with exit 1, said like every
    // other error (JSON included), never a bare backtrace; RUST_BACKTRACE=1 still prints one.
    let caught = catch_panics(|| f(args));
    finish_as(
        caught.unwrap_or_else(|what| {
            Err(UserError::failure(format!(
                "internal error in `git release {name}`: {what}"
            ))
            .hint("this is a bug in git-release: please report it with the command line and this message (RUST_BACKTRACE=1 shows where it happened)")
            .into())
        }),
        json,
    )
}

/// Run `f`; a panic becomes `Err` with its message and place (`msg (at src/x.rs:12)`). The
/// default panic output is kept only when `RUST_BACKTRACE` is set.
fn catch_panics<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let keep = seen.clone();
    let default = std::panic::take_hook();
    let verbose = std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        let mut slot = keep.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(format!("{msg}{at}"));
        if verbose {
            default(info);
        }
    }));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    r.map_err(|_| {
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| "a panic".into())
    })
}

/// Whether `--json` was given to the command or to any subcommand it ran.
fn wants_json(m: &clap::ArgMatches) -> bool {
    let here = m
        .try_get_one::<bool>("json")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false);
    here || m.subcommand().is_some_and(|(_, sub)| wants_json(sub))
}

/// `{"error": {"message", "hint", "exit_code"}}` on stdout (the JSON shape of every error).
fn print_json_error(message: &str, hint: Option<&str>, code: u8) {
    let v = serde_json::json!({"error": {"message": message, "hint": hint, "exit_code": code}});
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
}

/// Print an error the way every executable does and turn it into an exit code.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    finish_as(result, false)
}

/// [`finish`], the error as JSON on stdout when `json`.
pub fn finish_as(result: anyhow::Result<()>, json: bool) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let broken_pipe = err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                    || c.downcast_ref::<serde_json::Error>()
                        .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            let user = err.chain().find_map(|c| c.downcast_ref::<UserError>());
            let kind = user.map_or(ExitKind::Failure, |u| u.kind);
            let hint = user
                .and_then(|u| u.hint.clone())
                .or_else(|| missing_object_hint(&err));
            if json && user.is_some_and(|u| u.in_json_output) {
                return ExitCode::from(kind as u8);
            }
            if json {
                print_json_error(&format!("{err:#}"), hint.as_deref(), kind as u8);
                return ExitCode::from(kind as u8);
            }
            let color = std::io::stderr().is_terminal();
            let (red, yellow, reset) = if color {
                ("\x1b[31m", "\x1b[33m", "\x1b[0m")
            } else {
                ("", "", "")
            };
            eprintln!("{red}error{reset}: {err:#}");
            if let Some(h) = hint {
                eprintln!("{yellow}hint{reset}: {h}");
            }
            ExitCode::from(kind as u8)
        }
    }
}

/// A hint for an object the object database does not have (gix: "An object with id … could
/// not be found"): git-release reads objects locally and fetches nothing, so a shallow clone's
/// cut history or a partial clone's (`--filter`) missing blobs stop it where git would fetch.
fn missing_object_hint(err: &anyhow::Error) -> Option<String> {
    let text = format!("{err:#}");
    (text.contains("An object with id") && text.contains("could not be found")).then(|| {
        "the repository lacks this object: is it a shallow (--depth) or partial (--filter) clone? \
         git-release reads only objects that are present and fetches nothing; run it in a full clone \
         (`git fetch --unshallow`, or clone without --filter)"
            .to_string()
    })
}

#[cfg(test)]
mod panic_tests {
    #[test]
    fn a_panic_becomes_an_error_with_its_message_and_place() {
        let r: Result<(), String> = super::catch_panics(|| panic!("boom {}", 42));
        let e = r.unwrap_err();
        assert!(e.starts_with("boom 42 (at src/cli/mod.rs:"), "{e}");
        assert_eq!(super::catch_panics(|| 7), Ok(7));
    }
}
