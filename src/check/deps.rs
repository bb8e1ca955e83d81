//! `chart-dependency-missing`: every dependency a chart at REV declares is under its `charts/`,
//! at a version its constraint allows ([`crate::chart::deps`]); Helm refuses to install the chart
//! otherwise ("found in Chart.yaml, but missing in charts/ directory").

use anyhow::Result;

use super::{ChartAt, Finding};

/// Add a finding for each chart of `charts` with unmet dependencies. `files` holds the charts'
/// files when the caller already read them (same order), else is empty: then only charts whose
/// Chart.yaml or requirements.yaml mentions `dependencies` are read.
///
/// Errors: unreadable objects.
pub fn check(
    repo: &gix::Repository,
    charts: &[ChartAt],
    files: &[crate::files::Files],
    findings: &mut Vec<Finding>,
) -> Result<()> {
    for (i, c) in charts.iter().enumerate() {
        let read;
        let files = match files.get(i).filter(|f| !f.is_empty()) {
            Some(f) => f,
            None => {
                let declares = |p: &str| -> Result<bool> {
                    Ok(crate::git::blob_at(repo, c.tree, p)?
                        .is_some_and(|d| d.windows(12).any(|w| w == b"dependencies")))
                };
                if !declares("Chart.yaml")? && !declares("requirements.yaml")? {
                    continue;
                }
                read = crate::git::read_tree_files(repo, c.tree)?;
                &read
            }
        };
        let unmet = crate::chart::deps::unmet(files, crate::render::semver::matches);
        if unmet.is_empty() {
            continue;
        }
        let list: Vec<String> = unmet.iter().map(ToString::to_string).collect();
        findings.push(
            Finding::new(
                "chart-dependency-missing",
                format!(
                    "chart {} declares dependencies its charts/ folder does not hold: {}; Helm refuses to install it. Run `helm dependency build {}` and commit charts/",
                    c.name,
                    list.join(", "),
                    c.path
                ),
            )
            .chart(&c.name, c.version.as_deref())
            .at(&format!("{}/{}", c.path, unmet[0].declared_in), None),
        );
    }
    Ok(())
}
