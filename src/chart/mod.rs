//! Helm charts as files: `.helmignore`, symlinks inside a chart.

pub mod helmignore;
pub mod links;
