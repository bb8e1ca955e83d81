//! `git release verify PACKAGE`: check a package as the site receives it, outside any git
//! repository: every checksum of its manifest (`release.yaml`, `hotfix.yaml`, `upgrade.yaml`),
//! every blob of `images/images.tar` against its digest, every manifest and config the image
//! index names present (and every layer, but those an upgrade package lists as expected at the
//! site), no file the manifest does not list.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::error::UserError;
use crate::report::Report;

/// `git release verify`
#[derive(Args, Debug, Default)]
pub struct VerifyArgs {
    /// The package (`<product>-<version>.tar.gz`, a hotfix or an upgrade package).
    #[arg(value_name = "PACKAGE")]
    pub package: std::path::PathBuf,
    /// The ssh allowed signers file to check an ssh signature against [default:
    /// gpg.ssh.allowedSignersFile of git's configuration].
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<std::path::PathBuf>,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// What `verify --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct VerifyReport {
    /// The package file.
    pub package: String,
    /// Its top folder.
    pub top: String,
    /// `release.yaml`, `hotfix.yaml` or `upgrade.yaml`.
    pub manifest: String,
    /// Files checked against the manifest.
    pub files: usize,
    /// Blobs of `images.tar` checked against their digests.
    pub blobs: usize,
    /// The good signatures: of the manifest (`<manifest>.sig` inside) and of the package
    /// (`<package>.sig` beside it), each naming the signer.
    pub signatures: Vec<String>,
    /// Everything wrong, one sentence each; empty when the package is whole.
    pub mismatches: Vec<String>,
}

/// Run `git release verify`: exit 0 when the package is whole, 3 listing every mismatch.
pub fn run(args: VerifyArgs) -> Result<()> {
    let report = verify(&args.package, args.allowed_signers.clone())?;
    let failed = !report.mismatches.is_empty();
    let n = report.mismatches.len();
    let envelope = Report::new("verify", report);
    envelope.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        print(&r.data, out)
    })?;
    if failed {
        return Err(UserError::refused(format!(
            "{}: {n} mismatch(es); do not install it",
            args.package.display()
        ))
        .hint("get the package again from where it was built, and compare its sha256")
        .in_json_output()
        .into());
    }
    Ok(())
}

/// Read and check the package at `path` ([`crate::unpack`]).
///
/// Errors: a file that is not a package (exit 2); I/O.
pub(crate) fn verify(
    path: &std::path::Path,
    allowed_signers: Option<std::path::PathBuf>,
) -> Result<VerifyReport> {
    let p = crate::unpack::open(path)?;
    verify_opened(&p, path, allowed_signers)
}

/// [`verify`] of a package already read from `path`.
///
/// Errors: I/O writing the manifest to a temporary file for the signature check.
pub(crate) fn verify_opened(
    p: &crate::unpack::Package,
    path: &std::path::Path,
    allowed_signers: Option<std::path::PathBuf>,
) -> Result<VerifyReport> {
    let mut mismatches = crate::unpack::mismatches(p);
    let mut signatures = Vec::new();
    let verifier = crate::signing::Verifier::from_git(allowed_signers);
    let sig_name = format!("{}.sig", p.manifest_name);
    if let Some(sig) = p.files.get(&sig_name).and_then(|f| f.data.as_ref()) {
        let dir = tempfile::tempdir()?;
        let manifest = dir.path().join(&p.manifest_name);
        std::fs::write(&manifest, &p.manifest_bytes)?;
        match verifier.verify_detached(&manifest, sig) {
            Ok(who) => signatures.push(format!("{}: {who}", p.manifest_name)),
            Err(why) => mismatches.push(format!("{sig_name}: {why}")),
        }
    }
    let beside = std::path::PathBuf::from(format!("{}.sig", path.display()));
    if let Ok(sig) = std::fs::read(&beside) {
        let file = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        match verifier.verify_detached(path, &sig) {
            Ok(who) => signatures.push(format!("{file}: {who}")),
            Err(why) => mismatches.push(format!("{}: {why}", beside.display())),
        }
    }
    Ok(VerifyReport {
        package: path.display().to_string(),
        top: p.top.clone(),
        manifest: p.manifest_name.clone(),
        files: p.files.len(),
        blobs: p
            .images
            .as_ref()
            .map_or(0, |i| i.blobs.len() + i.corrupt.len()),
        signatures,
        mismatches,
    })
}

fn print(r: &VerifyReport, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{}: {} file(s) against {}/{}, {} image blob(s) against their digests",
        r.package, r.files, r.top, r.manifest, r.blobs
    )?;
    for s in &r.signatures {
        writeln!(out, "  signed  {s}")?;
    }
    for m in &r.mismatches {
        writeln!(out, "  MISMATCH {m}")?;
    }
    if r.mismatches.is_empty() {
        writeln!(out, "ok: the package is as it was built")?;
    }
    Ok(())
}
