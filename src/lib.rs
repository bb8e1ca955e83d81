//! git-release: run the release process of a Kubernetes platform product from one git repository.
//!
//! Each subcommand is an executable `git-release-<cmd>` (see `src/bin/`) whose logic lives in
//! [`commands`]; pure logic (versions, YAML edits, image references, placeholders) lives in modules
//! that know nothing of the command line. DOMAIN.md describes the process.
//!
//! The library is the executables' own: only `cli`, `commands` and `dispatch` are public (for
//! `src/bin/` and the tests), so rustc reports dead code. Read the rest with
//! `cargo doc --document-private-items`.

// Docs of the public items link to the private ones on purpose (see above).
#![allow(rustdoc::private_intra_doc_links)]

mod archive;
mod branches;
mod chart;
mod check;
pub mod cli;
pub mod commands;
mod commit;
mod components;
mod derived;
pub mod dispatch;
mod durable;
mod error;
mod files;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
mod git;
mod hash;
mod history;
mod hooks;
mod image;
mod journal;
mod limits;
mod lines;
mod memory;
mod oci;
mod open;
mod packaging;
mod paths;
mod placeholders;
mod plan;
mod plugins;
mod product;
mod progress;
mod registry;
mod render;
mod report;
mod sbom;
mod settings;
mod signing;
mod table;
#[cfg(test)]
mod testkit;
mod unpack;
mod version_bump;
mod version_yml;
mod versions;

mod worktree;
mod yaml;
mod yaml_edit;
