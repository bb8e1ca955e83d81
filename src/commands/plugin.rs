//! `git release plugin`: the plugin files of the repository (seed 001, "插件包"):
//! `release-plugins/<name>.yaml` (`release.pluginsPath`). `plugin list [REV]` shows what the
//! release rules read from each.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::report::Report;

/// `git release plugin`
#[derive(Args, Debug)]
pub struct PluginArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: PluginAction,
}

/// `git release plugin` subcommands.
#[derive(Subcommand, Debug)]
pub enum PluginAction {
    /// List the plugins of a revision: name, version, image, port, slots, requirement.
    List(PluginListArgs),
}

/// `git release plugin list`
#[derive(Args, Debug, Default)]
pub struct PluginListArgs {
    /// Revision whose plugins are listed [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// What `plugin list --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct ListReport {
    /// The plugins, by file name.
    pub plugins: Vec<crate::plugins::Plugin>,
}

/// Run `git release plugin`.
pub fn run(args: PluginArgs) -> Result<()> {
    let (repo, settings) = crate::open::with_settings(&Default::default())?;
    match args.action {
        PluginAction::List(a) => {
            let rev = a.rev.as_deref().unwrap_or("HEAD");
            let commit = crate::git::resolve_commit(&repo, rev)?;
            let tree = repo.find_commit(commit)?.tree_id()?.detach();
            let plugins = crate::plugins::at(&repo, tree, &settings)?;
            let mut report = Report::new("plugin list", ListReport { plugins });
            report.rev = Some(commit.to_string());
            let folder = settings.plugins_path.clone();
            report.emit(a.json, &mut std::io::stdout().lock(), |r, out| {
                print(&r.data, &folder, out)
            })
        }
    }
}

fn print(r: &ListReport, folder: &str, out: &mut dyn Write) -> Result<()> {
    if r.plugins.is_empty() {
        writeln!(out, "no plugin under {folder}/")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = r
        .plugins
        .iter()
        .map(|p| {
            let mut slots: Vec<&str> = p.slots.iter().map(|s| s.slot.as_str()).collect();
            slots.dedup();
            vec![
                p.name.clone(),
                p.version.clone(),
                p.image.clone().unwrap_or_else(|| "-".into()),
                p.port.map_or_else(|| "-".into(), |n| n.to_string()),
                if slots.is_empty() {
                    "-".into()
                } else {
                    slots.join(",")
                },
                p.requirement.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let head = ["PLUGIN", "VERSION", "IMAGE", "PORT", "SLOTS", "REQUIRES"].map(String::from);
    let mut table = vec![head.to_vec()];
    table.extend(rows);
    crate::table::write_table(out, &table)?;
    Ok(())
}
