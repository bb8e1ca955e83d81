//! Helm charts as files: where they are in a tree (and which changed), Chart.yaml,
//! `.helmignore`, symlinks inside a chart.

pub mod deps;
pub mod discover;
pub mod helmignore;
pub mod links;
pub mod meta;
