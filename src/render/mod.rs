//! Helm chart rendering in process: Go templates with Helm's functions. The images of the
//! rendered manifests are read by [`crate::image::rendered`].
//!
//! No Rust crate renders real charts faithfully (gtmpl-ng, the closest, has no `include`/`tpl`,
//! copies maps so `set` does nothing, and differs from sprig in argument orders), so the engine is
//! our own and follows Go's `text/template` and sprig v3 closely; see each module.

pub mod budget;
pub mod chart;
pub mod exec;
pub mod funcs;
pub mod objects;
pub mod parse;
pub mod scan;
pub mod semver;
pub mod value;

pub use chart::{render, Options, RenderError, Rendered};
