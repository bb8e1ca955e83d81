//! Review and history: the releases, hotfixes and branches of the platform repo, what changed
//! between two revisions, the commits a component moved by, and which refs contain a change.

pub mod allocate;
pub mod changelog;
pub mod compare;
pub mod contains;
pub mod refs;
