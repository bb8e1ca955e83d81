//! `git release init`: create the platform-release layout of DOMAIN.md, never overwriting a file.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::InitArgs;
use crate::git;
use crate::settings::{self, Settings};

/// Run `git release init`.
pub fn run(args: InitArgs) -> Result<()> {
    let repo = crate::open::repository()?;
    let stdout = std::io::stdout();
    init(&repo, &args, &mut stdout.lock())
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

/// Files `init` creates: repo-relative path and content. Settings paths are the defaults.
pub fn layout(product: &str) -> Vec<(String, String)> {
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

/// Create the layout in the work tree of `repo`, reporting each path as `create` or `keep`.
pub fn init(repo: &gix::Repository, args: &InitArgs, out: &mut dyn Write) -> Result<()> {
    let workdir = git::workdir(repo)?;
    let product = args
        .product
        .clone()
        .unwrap_or_else(|| Settings::defaults(&workdir).product);
    // Plan: each file of the layout and whether it is there already; nothing is written.
    let plan: Vec<(String, String, bool)> = layout(&product)
        .into_iter()
        .map(|(rel, content)| {
            let exists = std::fs::symlink_metadata(workdir.join(&rel)).is_ok();
            (rel, content, exists)
        })
        .collect();
    let created = plan.iter().filter(|p| !p.2).count();
    let files: Vec<serde_json::Value> = plan
        .iter()
        .map(|(rel, _, exists)| {
            let state = match (exists, args.dry_run) {
                (true, _) => "kept",
                (false, true) => "would-create",
                (false, false) => "created",
            };
            serde_json::json!({"path": rel, "state": state})
        })
        .collect();
    if !args.json {
        for (rel, _, exists) in &plan {
            if *exists {
                writeln!(out, "keep    {rel} (exists)")?;
            } else {
                writeln!(out, "create  {rel}")?;
            }
        }
    }
    // Apply: create what is missing; a file that appeared meanwhile is never overwritten.
    if !args.dry_run {
        for (rel, content, _) in plan.iter().filter(|p| !p.2) {
            let path = workdir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .with_context(|| format!("creating {rel}"))?;
            f.write_all(content.as_bytes())?;
        }
    }
    if args.json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({"product": product, "files": files, "created": created, "dry_run": args.dry_run}),
        )?;
        writeln!(out)?;
    } else if args.dry_run {
        writeln!(out, "dry run: {created} file(s) would be created")?;
    } else {
        writeln!(out, "{created} file(s) created; add components to repos/components.yaml, then run `git release collect`")?;
    }
    Ok(())
}
