//! Helm chart rendering in process: Go templates with Helm's functions, then image references read from the manifests.
//!
//! No Rust crate renders real charts faithfully (gtmpl-ng, the closest, has no `include`/`tpl`,
//! copies maps so `set` does nothing, and differs from sprig in argument orders), so the engine is
//! our own and follows Go's `text/template` and sprig v3 closely; see each module.

pub mod chart;
pub mod exec;
pub mod find;
pub mod funcs;
pub mod objects;
pub mod parse;
pub mod scan;
pub mod semver;
pub mod value;

pub use chart::{render, Options, RenderError, Rendered};
pub use find::Found;

/// Render the chart in `files` and list the images of its manifests ([`find::images`]).
///
/// # Errors
///
/// [`RenderError`] when Helm would fail too (see [`chart::render`]).
pub fn chart_images(
    files: &std::collections::BTreeMap<String, Vec<u8>>,
    opts: &Options,
) -> Result<(Vec<Found>, Vec<String>), RenderError> {
    let r = render(files, opts)?;
    let (found, mut warnings) = find::images(&r);
    warnings.extend(r.warnings);
    Ok((found, warnings))
}
