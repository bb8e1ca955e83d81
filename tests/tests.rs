//! All end-to-end tests in one binary (ripgrep's layout): they run the built `git-release*`
//! executables through real `git` in temporary repositories with a hermetic environment.

mod util;

mod bounded;
mod branch;
mod bump;
mod caicloud;
mod check;
mod cherry_pick;
mod collect;
mod dispatch;
mod git_settings;
mod hardening;
mod history;
mod hotfix;
mod images;
mod init;
mod json_errors;
mod json_vocab;
mod plugins;
mod protect;
mod registry;
mod release_chain;
mod release_week;
mod render_cache;
mod site;
mod snapshots;
mod tag;
mod upgrade;
