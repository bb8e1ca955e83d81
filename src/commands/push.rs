//! `git release push PACKAGE --registry SITE`: the site side, outside any git repository (the
//! site has the package and the executable). The package is verified first ([`crate::unpack`]);
//! every image of its `images/images.tar` goes to SITE under its repository path and tag (the
//! build side's `release.registry` the manifest records becomes SITE), each blob once: one the
//! site has is not sent, one pushed to another repository in this run is mounted. For an upgrade
//! package, a layer left out as expected at the site must be there (or mountable from the image
//! that brought it). `--charts-out DIR` writes each chart with `[[ registry_release ]]` set to
//! SITE and other placeholders from `--set`, ready for `helm upgrade --install`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use crate::error::UserError;
use crate::oci::sync::{place_blob, Placed, Placement};
use crate::report::Report;

/// `git release push`
#[derive(Args, Debug, Default)]
pub struct PushArgs {
    /// The package (full, hotfix or upgrade).
    #[arg(value_name = "PACKAGE")]
    pub package: std::path::PathBuf,
    /// The site's registry, `host[:port][/prefix]`: what `[[ registry_release ]]` stands for there.
    #[arg(long, value_name = "SITE")]
    pub registry: String,
    /// Speak plain HTTP to SITE (localhost and 127.0.0.1 always are, as docker does).
    #[arg(long)]
    pub insecure: bool,
    /// The value of an install-time placeholder `[[ NAME ]]` in the charts (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Write every chart of the package here, placeholders filled in.
    #[arg(long, value_name = "DIR")]
    pub charts_out: Option<std::path::PathBuf>,
    /// The ssh allowed signers file a signed package's signatures are checked against [default:
    /// gpg.ssh.allowedSignersFile of git's configuration].
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<std::path::PathBuf>,
    /// Say what would be pushed and written; push and write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the result as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// One image pushed to the site.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct PushedImage {
    /// Its name in the package (the build side's reference).
    pub source: String,
    /// Its name at the site.
    pub target: String,
    /// Manifest digest (the same at both ends).
    pub digest: String,
    /// Blobs sent (bytes travelled).
    pub pushed: usize,
    /// Blobs the site had.
    pub skipped: usize,
    /// Blobs mounted from another repository of the site.
    pub mounted: usize,
    /// Whether its manifest was sent (not when the site has it under the tag already, nor in a
    /// dry run).
    pub manifest: bool,
}

/// What `push --json` prints inside the [`Report`] envelope.
#[derive(Debug, Serialize)]
pub(crate) struct PushReport {
    /// The package file.
    pub package: String,
    /// The site's registry.
    pub registry: String,
    /// Every image, in name order.
    pub images: Vec<PushedImage>,
    /// Charts written to `--charts-out`.
    pub charts: Vec<String>,
}

/// Run `git release push`.
pub fn run(args: PushArgs) -> Result<()> {
    let site = args.registry.trim().trim_end_matches('/').to_string();
    if site.is_empty() || site.contains("://") || site.contains(char::is_whitespace) {
        return Err(UserError::input(format!(
            "--registry `{}` is not host[:port][/prefix]",
            args.registry
        ))
        .hint("give the site's registry without a scheme, e.g. `registry.site:5000/platform`")
        .into());
    }
    let sets = parse_sets(&args.set)?;
    let p = crate::unpack::open(&args.package)?;
    let bad =
        crate::commands::verify::verify_opened(&p, &args.package, args.allowed_signers.clone())?
            .mismatches;
    if !bad.is_empty() {
        for b in &bad {
            eprintln!("  MISMATCH {b}");
        }
        return Err(UserError::refused(format!(
            "{}: {} mismatch(es); nothing was pushed",
            args.package.display(),
            bad.len()
        ))
        .hint("`git release verify` lists them; get the package again from where it was built")
        .into());
    }
    // Charts first: an unset placeholder is found before anything travels.
    let charts = match &args.charts_out {
        Some(dir) => fill_charts(&p, &site, &sets, dir, args.dry_run)?,
        None => Vec::new(),
    };
    let images = match &p.images {
        Some(archive) => push_images(&p, archive, &site, &args)?,
        None => Vec::new(),
    };
    let report = Report::new(
        "push",
        PushReport {
            package: args.package.display().to_string(),
            registry: site,
            images,
            charts,
        },
    );
    let dry = args.dry_run;
    report.emit(args.json, &mut std::io::stdout().lock(), |r, out| {
        print(&r.data, dry, out)
    })
}

/// `NAME=VALUE` pairs of `--set`.
///
/// Errors (exit 2): a pair without `=` or with an empty name.
fn parse_sets(sets: &[String]) -> Result<BTreeMap<String, String>> {
    sets.iter()
        .map(|s| match s.split_once('=') {
            Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_string(), v.to_string())),
            _ => Err(UserError::input(format!("--set `{s}` is not NAME=VALUE"))
                .hint("e.g. --set registry_library=registry.site:5000/library")
                .into()),
        })
        .collect()
}

/// Where the build side's image `name` goes at `site`: the recorded `release.registry`
/// prefix replaced by `site`; an image of another registry keeps its path under `site`.
fn site_name(name: &str, build: Option<&str>, site: &str) -> String {
    if let Some(rest) = build.and_then(|b| name.strip_prefix(&format!("{b}/"))) {
        return format!("{site}/{rest}");
    }
    let (host, path, suffix) = crate::image::reference::split(name);
    let _ = host;
    format!("{site}/{path}{suffix}")
}

/// The build side's `release.registry` the manifest records.
fn build_registry(m: &serde_yaml::Value) -> Option<String> {
    m["registry"]
        .as_str()
        .or_else(|| m["images"]["registry"].as_str())
        .map(str::to_string)
}

/// One image of the archive, read for pushing.
struct ImagePlan {
    name: String,
    digest: String,
    media_type: String,
    /// The manifest's bytes.
    bytes: Vec<u8>,
    /// Config, then layers.
    blobs: Vec<String>,
}

/// A layer an upgrade package left out, as found at the site.
struct Absent {
    name: String,
    digest: String,
    /// The repository at the site to mount it from (`None`: the target has it).
    mount_from: Option<String>,
    /// Why it cannot be had at the site.
    problem: Option<String>,
}

/// Push every image of `archive` to `site`, four at a time, each blob once.
///
/// Errors: registry faults naming registry, image and cause; a layer expected at the site that
/// it lacks (exit 3, naming the layer, the image and the release that should have brought it).
fn push_images(
    p: &crate::unpack::Package,
    archive: &crate::unpack::ImagesArchive,
    site: &str,
    args: &PushArgs,
) -> Result<Vec<PushedImage>> {
    use rayon::prelude::*;
    let build = build_registry(&p.manifest);
    // Layers an upgrade package leaves out: digest -> the FROM image that brought them.
    let expected: BTreeMap<String, String> = p.manifest["images"]["layers_expected"]
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|l| {
                    Some((
                        l["digest"].as_str()?.to_string(),
                        l["from_image"].as_str().unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let from_release = p.manifest["from"]["version"]
        .as_str()
        .unwrap_or("the release the site runs")
        .to_string();
    let host = crate::image::reference::split(&format!("{site}/x")).0;
    // Plain HTTP with --insecure, and to localhost and 127.0.0.1 always (docker's rule, as
    // on the build side).
    let local = crate::registry::RegistryConfig {
        registry: None,
        insecure: Vec::new(),
        timeout_secs: 60,
    }
    .is_insecure(&host);
    let insecure = if args.insecure || local {
        vec![host.clone()]
    } else {
        Vec::new()
    };
    let reg = crate::registry::client::Registry::new(insecure, timeout_secs())?;
    let mut images: Vec<(String, String, String)> = archive.images();
    images.sort();
    // Each image's manifest and blobs, and the layers an upgrade package left out checked at
    // the site before anything is sent: a site that lacks one gets nothing.
    let plans: Vec<ImagePlan> = images
        .iter()
        .map(|(name, digest, media_type)| {
            let bytes = archive.read(digest)?;
            let doc: serde_json::Value = serde_json::from_slice(&bytes)
                .with_context(|| format!("the manifest of {name} is not JSON"))?;
            let mut blobs = vec![doc["config"]["digest"]
                .as_str()
                .unwrap_or_default()
                .to_string()];
            blobs.extend(
                doc["layers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l["digest"].as_str().map(str::to_string)),
            );
            Ok(ImagePlan {
                name: name.clone(),
                digest: digest.clone(),
                media_type: media_type.clone(),
                bytes,
                blobs,
            })
        })
        .collect::<Result<_>>()?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build()?;
    // Layer left out -> the repository at the site to mount it from (None: the target has it).
    let absent: Vec<(String, String)> = plans
        .iter()
        .flat_map(|p| {
            p.blobs
                .iter()
                .filter(|d| !archive.blobs.contains_key(*d))
                .map(move |d| (p.name.clone(), d.clone()))
        })
        .collect();
    let checked: Vec<Result<Absent>> = pool.install(|| {
        absent
            .par_iter()
            .map(|(name, d)| {
                let target = site_name(name, build.as_deref(), site);
                let found = |mount_from, problem| Absent {
                    name: name.clone(),
                    digest: d.clone(),
                    mount_from,
                    problem,
                };
                if args.dry_run || reg.has_blob(&target, d)? {
                    return Ok(found(None, None));
                }
                let from = expected
                    .get(d)
                    .filter(|f| !f.is_empty())
                    .map(|f| site_name(f, build.as_deref(), site));
                if let Some(f) = &from {
                    if reg.has_blob(f, d)? {
                        let repo = crate::image::reference::name_and_suffix(f).0.to_string();
                        return Ok(found(Some(repo), None));
                    }
                }
                Ok(found(
                    None,
                    Some(format!(
                        "layer {d} of {target} is not at {site} (it should have come with {} of {from_release})",
                        from.as_deref().unwrap_or("an image")
                    )),
                ))
            })
            .collect()
    });
    let mut mount_from: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut missing = Vec::new();
    for c in checked {
        let a = c?;
        if let Some(p) = a.problem {
            missing.push(p);
        } else if let Some(f) = a.mount_from {
            mount_from.insert((a.name, a.digest), f);
        }
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(UserError::refused(format!(
            "{} layer(s) the upgrade expects at the site are missing; nothing was pushed: {}",
            missing.len(),
            missing.join("; ")
        ))
        .hint(format!(
            "push the package of {from_release} first (or the full package of the release this upgrade goes to)"
        ))
        .into());
    }
    let placed: Placed = Default::default();
    let bar = crate::progress::bar(plans.len() as u64, "push", !args.json);
    let results: Vec<Result<PushedImage>> = pool.install(|| {
        plans
            .par_iter()
            .map(
                |ImagePlan {
                     name,
                     digest,
                     media_type,
                     bytes,
                     blobs,
                 }| {
                    let target = site_name(name, build.as_deref(), site);
                    let mut out = PushedImage {
                        source: name.clone(),
                        target: target.clone(),
                        digest: digest.clone(),
                        pushed: 0,
                        skipped: 0,
                        mounted: 0,
                        manifest: false,
                    };
                    if args.dry_run {
                        bar.inc(1);
                        return Ok(out);
                    }
                    // The site has this very manifest under the tag: every blob it names is
                    // there (a registry accepts a manifest only with its blobs).
                    if let crate::registry::client::Presence::Present(d) = reg.exists(&target)? {
                        if d == *digest {
                            out.skipped += blobs.len();
                            bar.inc(1);
                            return Ok(out);
                        }
                    }
                    for d in blobs {
                        if !archive.blobs.contains_key(d) {
                            match mount_from.get(&(name.clone(), d.clone())) {
                                Some(from) if reg.mount_blob(&target, from, d)? => out.mounted += 1,
                                Some(from) => {
                                    return Err(UserError::failure(format!(
                                "layer {d} of {target}: the site declined to mount it from {from}"
                            ))
                                    .into())
                                }
                                None => out.skipped += 1,
                            }
                            continue;
                        }
                        let placement = place_blob(&reg, &target, d, &placed, || {
                            reg.push_blob(&target, d, &archive.read(d)?)
                        })?;
                        match placement {
                            Placement::Present => out.skipped += 1,
                            Placement::Mounted => out.mounted += 1,
                            Placement::Pushed => out.pushed += 1,
                        }
                    }
                    reg.push_manifest(&target, bytes.clone(), media_type)?;
                    out.manifest = true;
                    bar.inc(1);
                    Ok(out)
                },
            )
            .collect()
    });
    bar.finish_and_clear();
    let pushed = results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(pushed)
}

/// `release.registryTimeout` when run inside a repository that sets it, else 60 s.
fn timeout_secs() -> u64 {
    gix::discover(".")
        .ok()
        .and_then(|r| crate::registry::RegistryConfig::load(&r).ok())
        .map_or(60, |c| c.timeout_secs)
}

/// Write every chart archive of the package to `dir` with its `[[ NAME ]]` placeholders filled:
/// `registry_release` with `site`, the others from `sets`. Archives are rebuilt as git-release
/// builds them (same entry times and owners), so the same package and values give the same
/// bytes. Returns the paths written.
///
/// Errors (exit 2): a placeholder without a value, listing every one with its charts; a chart
/// archive that cannot be read.
fn fill_charts(
    p: &crate::unpack::Package,
    site: &str,
    sets: &BTreeMap<String, String>,
    dir: &std::path::Path,
    dry_run: bool,
) -> Result<Vec<String>> {
    let mut values = sets.clone();
    values.insert("registry_release".into(), site.to_string());
    let mut unset: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut out = Vec::new();
    let mut built = Vec::new();
    for (path, f) in &p.files {
        let Some(file_name) = path.strip_prefix("charts/").filter(|n| n.ends_with(".tgz")) else {
            continue;
        };
        let data = f
            .data
            .as_ref()
            .with_context(|| format!("{path} is too large to rewrite"))?;
        let (name, mut files, stamp) = crate::archive::read_helm_chart_archive(data)
            .with_context(|| format!("reading {path}"))?;
        for (rel, e) in files.iter_mut() {
            if e.kind == crate::files::FileKind::Symlink || !crate::placeholders::is_text(&e.data) {
                continue;
            }
            let text = String::from_utf8_lossy(&e.data).into_owned();
            let (filled, missing) = fill(&text, &values);
            for m in missing {
                unset
                    .entry(m)
                    .or_default()
                    .insert(format!("{file_name}:{rel}"));
            }
            if filled != text {
                e.data = filled.into_bytes();
            }
        }
        built.push((file_name.to_string(), name, files, stamp));
    }
    if !unset.is_empty() {
        let list: Vec<String> = unset
            .iter()
            .map(|(n, at)| {
                format!(
                    "[[ {n} ]] ({})",
                    at.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        return Err(UserError::input(format!(
            "the charts use install-time placeholders without a value: {}",
            list.join("; ")
        ))
        .hint(format!(
            "give each with --set NAME=VALUE (e.g. --set {}=…)",
            unset.keys().next().cloned().unwrap_or_default()
        ))
        .into());
    }
    if !dry_run {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    for (file_name, name, files, stamp) in built {
        let bytes = crate::archive::helm_chart_archive(&name, &files, stamp)?;
        if !dry_run {
            crate::durable::write_atomically(dir, &file_name, &bytes)?;
        }
        out.push(dir.join(&file_name).display().to_string());
    }
    Ok(out)
}

/// `text` with every `[[ NAME ]]` that `values` holds replaced, and the names it does not hold.
fn fill(text: &str, values: &BTreeMap<String, String>) -> (String, BTreeSet<String>) {
    let mut out = String::with_capacity(text.len());
    let mut missing = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("[[") {
        let Some(j) = rest[i..].find("]]").map(|j| j + i) else {
            break;
        };
        let inner = rest[i + 2..j].trim();
        out.push_str(&rest[..i]);
        let is_name = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        match values.get(inner) {
            Some(v) if is_name => out.push_str(v),
            _ => {
                if is_name {
                    missing.insert(inner.to_string());
                }
                out.push_str(&rest[i..j + 2]);
            }
        }
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    (out, missing)
}

fn print(r: &PushReport, dry_run: bool, out: &mut dyn Write) -> Result<()> {
    let verb = if dry_run { "would push" } else { "pushed" };
    for i in &r.images {
        if dry_run {
            writeln!(out, "{verb} {} -> {}", i.source, i.target)?;
        } else {
            writeln!(
                out,
                "{verb} {} ({}): {} blob(s) sent, {} there already, {} mounted",
                i.target, &i.digest, i.pushed, i.skipped, i.mounted
            )?;
        }
    }
    for c in &r.charts {
        writeln!(out, "{} {c}", if dry_run { "would write" } else { "wrote" })?;
    }
    writeln!(
        out,
        "{}: {} image(s), {} chart(s) for {}",
        r.package,
        r.images.len(),
        r.charts.len(),
        r.registry
    )?;
    if dry_run {
        writeln!(out, "dry run: nothing pushed or written")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_named() {
        let values = BTreeMap::from([("registry_release".to_string(), "site:5000/p".to_string())]);
        let (t, m) = fill(
            "image: [[ registry_release ]]/a:1\nother: '[[registry_library]]/b'\nkeep: [[ not a name ]]\n",
            &values,
        );
        assert_eq!(
            t,
            "image: site:5000/p/a:1\nother: '[[registry_library]]/b'\nkeep: [[ not a name ]]\n"
        );
        assert_eq!(m, BTreeSet::from(["registry_library".to_string()]));
    }

    #[test]
    fn site_names() {
        assert_eq!(
            site_name(
                "build:5000/rel/release/app:1.0",
                Some("build:5000/rel"),
                "site/p"
            ),
            "site/p/release/app:1.0"
        );
        assert_eq!(
            site_name(
                "docker.io/library/busybox:1.36",
                Some("build:5000/rel"),
                "site"
            ),
            "site/library/busybox:1.36"
        );
    }
}
