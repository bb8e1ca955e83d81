//! git-release: run the release process of a Kubernetes platform product from one git repository.
//!
//! Each subcommand is an executable `git-release-<cmd>` (see `src/bin/`) whose logic lives in
//! [`commands`]; pure logic (versions, YAML edits, image references, placeholders) lives in modules
//! that know nothing of the command line. DOMAIN.md describes the process.

pub mod archive;
pub mod branches;
pub mod bump;
pub mod chart;
pub mod check;
pub mod cli;
pub mod commands;
pub mod commit;
pub mod components;
pub mod derived;
pub mod dispatch;
pub mod durable;
pub mod error;
pub mod files;
pub mod git;
pub mod hash;
pub mod history;
pub mod hooks;
pub mod image;
pub mod journal;
pub mod lines;
pub mod oci;
pub mod open;
pub mod package;
pub mod paths;
pub mod placeholders;
pub mod plan;
pub mod progress;
pub mod registry;
pub mod render;
pub mod report;
pub mod settings;
pub mod signing;
pub mod table;
pub mod version_yml;
pub mod versions;

pub mod worktree;
pub mod yaml;
pub mod yaml_edit;
