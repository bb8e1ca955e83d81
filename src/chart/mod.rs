//! Helm charts as files: `.helmignore`, symlinks inside a chart, Chart.yaml.

pub mod helmignore;
pub mod links;
pub mod meta;
