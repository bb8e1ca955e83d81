//! Command-line definitions shared by the dispatcher, the `git-release-<cmd>` executables, the man
//! pages and the completions: one description per flag feeds all of them.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Command, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::{ExitKind, UserError};

/// Run the release process of a Kubernetes platform product from one git repository.
///
/// `git release <command>` runs the executable `git-release-<command>`, from this installation
/// or from PATH, as git and cargo do.
#[derive(Parser, Debug)]
#[command(
    name = "git-release",
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
    Init(InitArgs),
    /// Collect component charts at their newest release tags into the addons folder.
    Collect(CollectArgs),
    /// Check that a revision is a consistent release: chart versions, image tags, version.yml, image lists.
    #[command(after_help = CHECK_RULES)]
    Check(CheckArgs),
    /// List the images a revision deploys, with the charts, files and lines each comes from.
    Images(ImagesArgs),
    /// Package the charts changed between two revisions as a reproducible hotfix package.
    Hotfix(HotfixArgs),
    /// Build the full offline package of a product version.
    Package(PackageArgs),
    /// Create the protected annotated release tag of a product version.
    Tag(TagArgs),
    /// Install git hooks so release and hotfix tags can never be moved or deleted.
    Protect(ProtectArgs),
    /// Create release-line and customer (OEM) branches, or list them.
    Branch(BranchArgs),
    /// Cherry-pick fixes onto a release branch, resolving version fields to the branch's patch + 1.
    CherryPick(CherryPickArgs),
    /// Bump chart and VERSION versions: next minor after a release, or patch on a release branch.
    Bump(BumpArgs),
    /// List the releases and hotfixes of a line (or all), newest first, with what each changed.
    Log(LogArgs),
    /// Compare two releases component by component: tags, chart versions, files, images.
    Diff(DiffArgs),
    /// Find every release tag, hotfix tag and release branch that contains a change, picks included.
    Contains(ContainsArgs),
    /// Write man pages and shell completions (for packagers; output is committed under man/ and completions/).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// Names of the shipped subcommands that have their own executable.
pub const SUBCOMMANDS: &[&str] = &[
    "init",
    "collect",
    "check",
    "images",
    "hotfix",
    "package",
    "tag",
    "protect",
    "branch",
    "cherry-pick",
    "bump",
    "log",
    "diff",
    "contains",
];

/// `git release init`
#[derive(Args, Debug, Default)]
pub struct InitArgs {
    /// Product name written to .gitrelease [default: the repository folder's name].
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,
    /// Print what would be created; create nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release collect`
#[derive(Args, Debug, Default)]
pub struct CollectArgs {
    /// Components to collect, by repository name (`cyclone`) or full name (`muzi502/cyclone`) [default: all].
    #[arg(value_name = "COMPONENT")]
    pub components: Vec<String>,
    /// Fetch this many component repositories at once [default: twice the CPUs, 4 to 16; at most 64].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Use only the component cache in the git dir; never connect to a remote (a warning says when the cache was last fetched).
    #[arg(long)]
    pub offline: bool,
    /// Consider pre-release tags (v1.2.0-rc.1) too.
    #[arg(long)]
    pub pre: bool,
    /// Allow picking a tag lower than the entry's currentTag.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Collect COMPONENT at TAG instead of its newest release tag (repeatable).
    #[arg(long = "tag", value_name = "COMPONENT=TAG")]
    pub pins: Vec<String>,
    /// Write nothing; print the unified diff of every file that would change.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Commit the result (only the paths collect wrote) with a message listing each bump.
    #[arg(long, conflicts_with = "dry_run")]
    pub commit: bool,
    /// With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`.
    #[arg(long, requires = "commit")]
    pub no_verify: bool,
    /// Override release.componentUrl for this run: a template with {repo}, {owner}, {name}.
    #[arg(long, value_name = "TEMPLATE")]
    pub component_url: Option<String>,
    /// No progress display.
    #[arg(short, long)]
    pub quiet: bool,
    /// Under the table, the commits each component moved by (first-parent, merges summarised).
    #[arg(long)]
    pub log: bool,
    /// Write the changes, commits and held-back tags as Markdown to FILE (a merge request
    /// description); written in dry runs too.
    #[arg(long, value_name = "FILE")]
    pub changelog: Option<std::path::PathBuf>,
    /// List every component in the table, unchanged ones too.
    #[arg(long)]
    pub all: bool,
}

/// `git release hotfix`
#[derive(Args, Debug, Default)]
pub struct HotfixArgs {
    /// BASE..NEW (any revspecs), or BASE alone for BASE..HEAD. BASE is normally the release tag (v2.10.2).
    #[arg(value_name = "RANGE")]
    pub range: String,
    /// Folder to write the package to.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: std::path::PathBuf,
    /// Date in the hotfix version, YYYYMMDD or YYYY-MM-DD [default: NEW's commit date, UTC].
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Ship a chart whose content changed under its old Chart.yaml version (recorded in the manifest).
    #[arg(long)]
    pub allow_same_version: bool,
    /// Product version the hotfix applies to [default: BASE when it is a release tag, else the nearest release tag reachable from BASE].
    #[arg(long, value_name = "VERSION")]
    pub base_version: Option<String>,
    /// Record the hotfix as an annotated tag <release.hotfixTagPrefix><version> on NEW (never moved).
    #[arg(long)]
    pub tag: bool,
    /// One package per changed chart instead of one for all.
    #[arg(long)]
    pub per_addon: bool,
    /// Owner and group id of every archive entry (tar holds up to 2097151).
    #[arg(long, value_name = "ID", default_value_t = 10000, value_parser = clap::value_parser!(u64).range(0..=2_097_151))]
    pub owner: u64,
    /// Print the plan (charts, versions, images, name); write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Also pack the images added or changed in the range into `images.tar` (an OCI image
    /// layout; see `package --images`); with --per-addon, each package gets its addon's own.
    #[arg(long)]
    pub images: bool,
    /// Platform of the packed images (a multi-arch index is resolved to it).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", default_value = "linux/amd64")]
    pub platform: String,
}

/// `git release package`
#[derive(Args, Debug, Default)]
pub struct PackageArgs {
    /// The revision to package [default: HEAD]; its release tag names the package.
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Folder to write the package to.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: std::path::PathBuf,
    /// Owner and group id of every archive entry (tar holds up to 2097151).
    #[arg(long, value_name = "ID", default_value_t = 10000, value_parser = clap::value_parser!(u64).range(0..=2_097_151))]
    pub owner: u64,
    /// Print what would be packaged; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Also pack every image of the lists into `images/images.tar` (an OCI image layout that
    /// docker, podman, nerdctl and ctr load as it is), pulled from its registry once and then
    /// served from the blob cache under the git dir.
    #[arg(long)]
    pub images: bool,
    /// Platform of the packed images (a multi-arch index is resolved to it).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", default_value = "linux/amd64")]
    pub platform: String,
}

/// The rules of `git release check`, for its help and man page.
const CHECK_RULES: &str = "\
Rules (set each with release.check.<rule> = error | warning | off):
  chart-version-reused      one chart version, one content, in every release
  chart-version-not-bumped  a changed chart has a higher version
  chart-version-lowered     a chart version never goes down
  image-tag-mutable         no untagged image, none on latest/master/main/...
  image-tag-not-semver      image tags are SemVer (a warning by default)
  image-missing             every image is in its registry (release.registry set; not --offline)
  version-yml-mismatch      version.yml agrees with every Chart.yaml
  image-list-stale          images/*.list hold what collect writes
Images matching a glob of release.check.allowImage skip the image rules.
Exit status: 0 no error, 3 errors found, 2 bad input.";

/// `git release check`
///
/// Rules (set each one's severity with `release.check.<rule> = error|warning|off`):
/// chart-version-reused, chart-version-not-bumped, chart-version-lowered, image-tag-mutable,
/// image-tag-not-semver (warning), version-yml-mismatch, image-list-stale. Images matching a glob
/// of `release.check.allowImage` skip the image rules. Exit 0 without errors, 3 with errors,
/// 2 for bad input.
#[derive(Args, Debug, Default)]
pub struct CheckArgs {
    /// Revision to check [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Also audit every release and hotfix tag against each other (chart-version-reused).
    #[arg(long)]
    pub history: bool,
    /// Skip the rules that need the network (image-missing).
    #[arg(long)]
    pub offline: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release images`
///
/// Every chart under the addons path is rendered as `helm template` would with its default
/// values (release name: the chart folder's name; namespace: the addon's in version.yml;
/// Kubernetes version: release.kubeVersion), and images are read from the rendered objects:
/// containers, initContainers, ephemeralContainers, and any other string under an `image` key.
/// Chart.yaml's `helm.sh/images` annotation, the charts' `images_<kind>.list` files, resource
/// files and repos entries' `images:` are counted too. A chart that cannot be rendered (a
/// `required` value, a template error) is read without rendering, with a warning.
#[derive(Args, Debug, Default)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImagesArgs {
    /// `sync`: copy mirrored images into the internal registry.
    #[command(subcommand)]
    pub action: Option<ImagesAction>,
    /// Revision whose images are listed [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Only this image (an exact reference, or text the references contain): where it comes from.
    #[arg(long, value_name = "IMAGE")]
    pub why: Option<String>,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release images` subcommands.
#[derive(Subcommand, Debug)]
pub enum ImagesAction {
    /// Copy every image that has an images_origin.yaml entry from its upstream source into the
    /// internal registry (release.registry) when it is missing there, every platform included.
    Sync(ImagesSyncArgs),
}

/// `git release images sync`
#[derive(Args, Debug, Default)]
pub struct ImagesSyncArgs {
    /// Revision whose image lists are synced [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Only say which images are missing; copy nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release tag`
#[derive(Args, Debug, Default)]
pub struct TagArgs {
    /// Product version, SemVer with or without `v` (2.10.2).
    #[arg(value_name = "VERSION")]
    pub release_version: String,
    /// Commit to tag [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Text added to the tag message (after the addon versions).
    #[arg(short, long, value_name = "TEXT")]
    pub message: Option<String>,
    /// Sign the tag with the configured key (gpg.format, user.signingKey), as `git tag -s`;
    /// `tag.gpgSign` makes it the default.
    #[arg(short, long)]
    pub sign: bool,
    /// Remote whose tags are checked too.
    #[arg(long, value_name = "NAME", default_value = "origin")]
    pub remote: String,
    /// Skip the remote check (no network); the local checks still run.
    #[arg(long)]
    pub offline: bool,
    /// Print what would be tagged; create nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release protect`
#[derive(Args, Debug, Default)]
pub struct ProtectArgs {
    /// Only report whether protection is installed (exit 0 when it is, 3 when not).
    #[arg(long)]
    pub check: bool,
    /// Remove git-release's hooks and restore the hooks they chained to.
    #[arg(long, conflicts_with = "check")]
    pub uninstall: bool,
    /// Print what would be installed, chained or removed; change nothing.
    #[arg(short = 'n', long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Run as the hook NAME (used by the installed hooks; reads the ref updates on stdin).
    #[arg(long, value_name = "NAME", hide = true)]
    pub hook: Option<String>,
    /// Arguments git passed to the hook.
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub hook_args: Vec<String>,
}

/// `git release branch`
#[derive(Args, Debug, Default, Clone)]
pub struct BranchArgs {
    /// Release line, optionally with a customer: 2.10 or 2.10/acme.
    #[arg(value_name = "LINE[/CUSTOMER]", required_unless_present = "list")]
    pub target: Option<String>,
    /// Start point [default: the newest release tag of the line; for a customer, the line's branch].
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// Lazy branching: start at the first commit (first-parent history) where the version file reached VERSION; a tag for that version wins.
    #[arg(long, value_name = "VERSION")]
    pub at_version: Option<String>,
    /// With --at-version: the plain-text version file [default: VERSION].
    #[arg(long, value_name = "PATH", conflicts_with = "chart")]
    pub version_file: Option<String>,
    /// With --at-version: read the version from this chart's Chart.yaml instead.
    #[arg(long, value_name = "PATH")]
    pub chart: Option<String>,
    /// Branch name template for this run ({line}, {customer}).
    #[arg(long, value_name = "TEMPLATE")]
    pub template: Option<String>,
    /// List release lines, customer branches and their newest release and hotfix tags.
    #[arg(long, conflicts_with_all = ["target", "from", "at_version"])]
    pub list: bool,
    /// Print what would be created; create nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release cherry-pick`
#[derive(Args, Debug, Default)]
pub struct CherryPickArgs {
    /// Commits to apply, oldest first (any revspecs; A..B ranges are expanded).
    #[arg(value_name = "COMMIT", required = true)]
    pub commits: Vec<String>,
    /// Release line (2.10) or customer branch (2.10/acme) to apply them to.
    #[arg(long, value_name = "LINE[/CUSTOMER]")]
    pub onto: String,
    /// Print the resulting diff; change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release bump`
#[derive(Args, Debug, Default)]
pub struct BumpArgs {
    /// `patch` (release branch) — or use --next-minor (master after a release).
    #[arg(value_name = "LEVEL", required_unless_present = "next_minor")]
    pub level: Option<String>,
    /// Charts to bump (folders or names) [default: all charts].
    #[arg(value_name = "CHART")]
    pub charts: Vec<String>,
    /// After a release, on master: VERSION 1.2.n -> 1.3.0-dev, charts to their next minor (no -dev).
    #[arg(long)]
    pub next_minor: bool,
    /// The plain-text version file [default: VERSION, when present].
    #[arg(long, value_name = "PATH")]
    pub version_file: Option<String>,
    /// Commit the bump.
    #[arg(long, conflicts_with = "dry_run")]
    pub commit: bool,
    /// With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`.
    #[arg(long, requires = "commit")]
    pub no_verify: bool,
    /// Print the diff; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release log`
#[derive(Args, Debug, Default)]
pub struct LogArgs {
    /// Release line (2.10) [default: every line].
    #[arg(value_name = "LINE")]
    pub line: Option<String>,
    /// Show at most N releases and hotfixes.
    #[arg(long, value_name = "N")]
    pub max_count: Option<usize>,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release diff`
#[derive(Args, Debug, Default)]
pub struct DiffArgs {
    /// The older release (any revspec, normally a release tag: v2.10.2).
    #[arg(value_name = "A")]
    pub from: String,
    /// The newer release [default: HEAD].
    #[arg(value_name = "B")]
    pub to: Option<String>,
    /// Also list the components and charts that did not change.
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release contains`
#[derive(Args, Debug, Default)]
pub struct ContainsArgs {
    /// The change (any revspec): the fix as committed on master, or any cherry-pick of it.
    #[arg(value_name = "COMMIT")]
    pub commit: String,
    /// List every ref that lacks the change [default: branches, and each line's newest release or hotfix when it lacks it].
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `git release generate`
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// What to generate.
    #[arg(value_enum)]
    pub what: GenerateWhat,
    /// Output folder.
    #[arg(long, default_value = ".")]
    pub out: std::path::PathBuf,
}

/// Artifacts of `git release generate`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum GenerateWhat {
    /// Man pages: git-release.1 and git-release-<cmd>.1.
    Man,
    /// bash, zsh and fish completions.
    Completions,
}

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
    finish_as(f(args), json)
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

/// Closest candidate by edit distance, for "did you mean".
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(s, _)| *s > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
