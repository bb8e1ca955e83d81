//! One module per subcommand: its `run` function, called by the thin `src/bin/git-release-<cmd>.rs`.

pub mod branch;
pub mod bump;
pub mod check;
pub mod cherry_pick;
pub mod collect;
pub mod contains;
pub mod diff;
pub mod hotfix;
pub mod images;
pub mod init;
pub mod log;
pub mod package;
pub mod plugin;
pub mod protect;
pub mod push;
pub mod tag;
pub mod upgrade;
pub mod verify;
