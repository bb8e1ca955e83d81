//! Container images into packages: a content-addressed blob cache under the git dir, pulling an
//! image for one platform from its registry, and the OCI image-layout archive (`images.tar`)
//! that `ctr images import`, `nerdctl load`, `docker load` and `podman load` read as it is.

pub mod cache;
pub mod layout;
pub mod pull;
pub mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Result;

use crate::archive::Stamp;

/// Pull `images` (as the lists hold them; `[[ registry_release ]]` filled from
/// `release.registry`, origins from `images/images_origin.yaml` at `tree`) for `platform` into
/// the blob cache, and write `images.tar` ([`layout::write`]) to a temporary file in `dir`, with
/// a progress line on a terminal.
///
/// Returns the file (removed when dropped; the caller streams it into its package), its sha256
/// (hex) and `full reference -> manifest digest`.
///
/// Errors: a bad `platform` or `release.registry` unset while an image names
/// `[[ registry_release ]]` (exit 2); any registry fault, naming registry, image and cause
/// (exit 1); a corrupt blob (removed); nothing is left in `dir` then.
pub fn pack(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    tree: gix::ObjectId,
    images: &BTreeSet<String>,
    platform: &str,
    dir: &Path,
    stamp: Stamp,
) -> Result<(tempfile::NamedTempFile, String, BTreeMap<String, String>)> {
    use std::io::IsTerminal as _;
    let platform: pull::Platform = platform.parse()?;
    let (config, located) = crate::registry::locate_at(repo, settings, tree, images)?;
    if let Some(l) = located.iter().find(|l| l.reference.is_none()) {
        return Err(crate::error::UserError::input(format!(
            "`{}` names an install-time registry, but release.registry is not set",
            l.image
        ))
        .hint("set release.registry (in .gitrelease or `git config`) to the registry that holds the images, e.g. `registry.local:5000/release`")
        .into());
    }
    let client = config.client_for(&located)?;
    let cache = cache::BlobCache::of(repo);
    let tty = std::io::stderr().is_terminal();
    let mut pulled = Vec::new();
    let mut names = BTreeMap::new();
    for (i, l) in located.iter().enumerate() {
        let reference = l.reference.as_deref().unwrap_or_default();
        if tty {
            eprint!("\rimages: {}/{} {reference}\x1b[K", i + 1, located.len());
        }
        let p = pull::pull(&client, reference, &platform, &cache)?;
        names.insert(p.name.clone(), p.manifest.digest.clone());
        pulled.push(p);
    }
    if tty {
        eprintln!();
    }
    crate::package::check_output_dir(dir)?;
    std::fs::create_dir_all(dir)?;
    let tmp = crate::archive::scratch_file(dir, "images.tar")?;
    let mut hashing = crate::archive::HashingWriter::new(std::io::BufWriter::new(tmp.as_file()));
    let written =
        layout::write(&mut hashing, &pulled, &cache, stamp).and_then(|()| Ok(hashing.finish()?));
    let sum = written.map_err(|e| disk_error(e, dir))?;
    Ok((tmp, sum, names))
}

/// Name the folder and say what to do when writing there failed for lack of room.
pub(crate) fn disk_error(e: anyhow::Error, dir: &Path) -> anyhow::Error {
    let full = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.raw_os_error() == Some(28))
    });
    if full {
        crate::error::UserError::failure(format!(
            "no space left on the device of {} while writing the images; nothing was packaged",
            dir.display()
        ))
        .hint("free some room there or write the package elsewhere with -o DIR")
        .into()
    } else {
        e
    }
}
