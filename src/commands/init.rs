//! `git release init`: create the platform-release layout of DOMAIN.md, never overwriting a file.

use clap::Args;

use anyhow::Result;
use serde::Serialize;

use crate::error::UserError;
use crate::files::{FileEntry, FileKind};
use crate::git;
use crate::plan::Plan;
use crate::report::Report;
use crate::settings::{self, Settings};
use crate::worktree::Change;

/// `git release init`
#[derive(Args, Debug, Default)]
pub struct InitArgs {
    /// Product name written to .gitrelease [default: the repository folder's name].
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,
    /// Which layout to create: `helm` (charts under addons/, repos/*.yaml, version.yml,
    /// images/) or `caicloud` (single-file addons under addons/<group>/, charts_list.yaml and
    /// release_charts.yaml, compass.yaml and mini-compass.yaml, images-lists/); written to
    /// .gitrelease as release.layout.
    #[arg(long, value_name = "LAYOUT", default_value = "helm", value_parser = ["helm", "caicloud"])]
    pub layout: String,
    /// Print what would be created; create nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// Run `git release init`: [`plan`] the layout, then (unless `--dry-run`) create the files that
/// are missing (through the journal, never over a file), then report.
pub fn run(args: InitArgs) -> Result<()> {
    let repo = crate::open::repository()?;
    let (mut report, writes) = plan(&repo, &args)?;
    report.dry_run = args.dry_run;
    if !args.dry_run && !writes.is_empty() {
        let _lock = crate::journal::lock(&repo, "init")?;
        // A file that appeared since the plan is never overwritten.
        for rel in writes.paths() {
            if std::fs::symlink_metadata(git::workdir(&repo)?.join(rel)).is_ok() {
                return Err(UserError::refused(format!(
                    "{rel} appeared meanwhile; nothing was written"
                ))
                .hint("run `git release init` again")
                .into());
            }
        }
        crate::plan::apply(&repo, &writes)?;
    }
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        for f in &r.data.files {
            if f.state == "keep" {
                writeln!(out, "keep    {} (exists)", f.path)?;
            } else {
                writeln!(out, "create  {}", f.path)?;
            }
        }
        let created = r.data.created;
        if r.dry_run {
            writeln!(out, "dry run: {created} file(s) would be created")?;
        } else {
            writeln!(
                out,
                "{created} file(s) created; add components to {}, then run `git release collect`",
                r.data.components_file
            )?;
        }
        Ok(())
    })
}

/// What `init` creates, as `--json` prints it inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct InitReport {
    /// The product name written to `.gitrelease`.
    pub product: String,
    /// Each file of the layout and what `init` does with it: `keep` (it exists) or `create`.
    pub files: Vec<InitFile>,
    /// How many files are created.
    pub created: usize,
    /// `helm` or `caicloud`.
    pub layout: &'static str,
    /// Where components are listed (`repos/components.yaml`, `charts_list.yaml`).
    pub components_file: String,
}

/// One file of the layout.
#[derive(Debug, Serialize)]
pub(crate) struct InitFile {
    /// Repo-relative path.
    pub path: String,
    /// `keep` (it exists; never overwritten) or `create`.
    pub state: &'static str,
}

const REPOS_TEMPLATE: &str = r#"# Component repositories that `git release collect` collects charts from.
# One entry per repository; currentTag is updated by collect.
#
# - repositoryFullName: owner/name     # fetched as release.componentUrl says
#   currentTag: v0.1.0                 # last collected release tag
#   baseVersion: v0.1                  # optional: only v0.1.x tags are candidates
#   chartPaths:                        # chart folders inside the component repo
#   - charts/name
#   targetChartPath: addons            # where they land here
[]
"#;

const VERSION_TEMPLATE: &str = r#"# Addon versions of this product; collect keeps `version` in step with each Chart.yaml.
spec:
  modules: []
  # - name: core
  #   description: core services
  #   enable: true
  #   addons:
  #   - name: cyclone            # the chart name (Chart.yaml name)
  #     description: CI engine
  #     enable: true
  #     namespace: default
  #     version: 1.0.0
"#;

const CHARTS_LIST_TEMPLATE: &str = r#"# Components of this product: each entry's resourcePaths (single-file addons) are copied
# into addons/<targetPath>/ by `git release collect`; the collected tags are kept in
# release_charts.yaml.
#
# - repositoryFullName: owner/name     # fetched as release.componentUrl says
#   resourcePaths:                     # addon files inside the component repo
#   - release/name.yaml
#   targetPath: app                    # the group folder under addons/
metadata:
  name: collect set
  description: A set of files to collect.
spec: []
"#;

const RELEASE_CHARTS_TEMPLATE: &str = r#"# The tag collect took of each component (written by `git release collect`).
metadata:
  name: collect set
  description: A set of files to collect.
spec: []
"#;

/// A product description file (`compass.yaml`, `mini-compass.yaml`) named `name`.
fn description_template(name: &str) -> String {
    format!(
        "---\n# Which addons an installation deploys (`git release check`: product-description-mismatch).\n\
metadata:\n  name: {name}\n  version: 0.1.0\n  description: {name} deployment config\n\
spec:\n  systemAddons: []\n  # - name: tenant-admin\n  #   description: Manage tenants\n\
  modules: []\n  # - name: app\n  #   required: true\n  #   addons:\n  #   - name: app-admin\n\
  #     description: app-admin\n  #     deps: [tenant-admin]\n"
    )
}

/// Files `init` creates for `layout` (`caicloud` or the helm layout): repo-relative path and
/// content. Settings paths are the layout's defaults.
pub(crate) fn layout_files(product: &str, which: settings::Layout) -> Vec<(String, String)> {
    if which == settings::Layout::Caicloud {
        return vec![
            (
                settings::SETTINGS_FILE.into(),
                settings::template_file_for(product, which),
            ),
            ("charts_list.yaml".into(), CHARTS_LIST_TEMPLATE.into()),
            ("release_charts.yaml".into(), RELEASE_CHARTS_TEMPLATE.into()),
            (
                "compass.yaml".into(),
                description_template(&format!("full {product}")),
            ),
            (
                "mini-compass.yaml".into(),
                description_template(&format!("mini {product}")),
            ),
            ("addons/.gitkeep".into(), String::new()),
            ("images-lists/images_platform.list".into(), String::new()),
            ("configs/.gitkeep".into(), String::new()),
            ("scripts/.gitkeep".into(), String::new()),
        ];
    }
    layout(product)
}

/// Files `init` creates: repo-relative path and content. Settings paths are the defaults.
pub(crate) fn layout(product: &str) -> Vec<(String, String)> {
    vec![
        (settings::SETTINGS_FILE.into(), settings::template_file(product)),
        ("repos/components.yaml".into(), REPOS_TEMPLATE.into()),
        ("version.yml".into(), VERSION_TEMPLATE.into()),
        ("addons/.gitkeep".into(), String::new()),
        ("images/images_platform.list".into(), String::new()),
        ("images/images_origin.yaml".into(), "# Upstream source of mirrored images.\n# - src: k8s.gcr.io/pause\n#   dest: library/pause\n[]\n".into()),
        ("configs/.gitkeep".into(), String::new()),
        ("scripts/.gitkeep".into(), String::new()),
    ]
}

/// The layout `init` creates in `repo`'s work tree: every file of [`layout`], kept when it
/// exists. Writes nothing.
///
/// Errors: a bare repository (exit 2).
pub(crate) fn plan(repo: &gix::Repository, args: &InitArgs) -> Result<(Report<InitReport>, Plan)> {
    let workdir = git::workdir(repo)?;
    let product = args
        .product
        .clone()
        .unwrap_or_else(|| Settings::defaults(&workdir).product);
    let which = settings::Layout::parse(&args.layout).unwrap_or_default();
    let mut writes = Plan::new("init");
    let mut files = Vec::new();
    let content = layout_files(&product, which);
    let components_file = content
        .iter()
        .map(|(p, _)| p.clone())
        .find(|p| p == "charts_list.yaml" || p == "repos/components.yaml")
        .unwrap_or_default();
    for (rel, content) in content {
        let exists = std::fs::symlink_metadata(workdir.join(&rel)).is_ok();
        if !exists {
            writes.files.push(Change::WriteFile {
                path: rel.clone(),
                entry: FileEntry {
                    kind: FileKind::Regular,
                    data: content.into_bytes(),
                },
            });
        }
        files.push(InitFile {
            path: rel,
            state: if exists { "keep" } else { "create" },
        });
    }
    let created = writes.files.len();
    Ok((
        Report::new(
            "init",
            InitReport {
                product,
                files,
                created,
                layout: which.name(),
                components_file,
            },
        ),
        writes,
    ))
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::testkit::TestRepo;

    #[test]
    fn existing_files_are_kept_and_the_rest_planned() {
        let t = TestRepo::new();
        t.write("version.yml", "# mine\n");
        let args = InitArgs {
            product: Some("demo".into()),
            ..Default::default()
        };
        let (report, writes) = plan(&t.repo(), &args).unwrap();
        let kept: Vec<&str> = report
            .data
            .files
            .iter()
            .filter(|f| f.state == "keep")
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(kept, ["version.yml"]);
        assert_eq!(report.data.created, writes.files.len());
        assert!(!writes.paths().contains(&"version.yml"));
        assert!(writes.paths().contains(&".gitrelease"));
        crate::plan::apply(&t.repo(), &writes).unwrap();
        assert_eq!(t.read("version.yml"), "# mine\n");
        assert!(t.read(".gitrelease").contains("product = demo"));
    }
}
