//! Where each image of the lists lives: the internal registry (`release.registry`, what
//! `[[ registry_release ]]` stands for), upstream sources (`images/images_origin.yaml`, seed 002),
//! and the registry protocol to ask whether an image exists.

pub mod auth;
pub mod client;
pub mod origin;

use anyhow::Result;
use serde::Serialize;

use crate::error::UserError;

/// Registry settings: `release.registry` and `release.insecureRegistries`.
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// `host[:port][/prefix]` that `[[ registry_release ]]` stands for; `None` when unset.
    pub registry: Option<String>,
    /// Hosts (`host[:port]`) spoken to over plain HTTP, besides `localhost` and `127.0.0.1`
    /// (docker's rule for insecure registries).
    pub insecure: Vec<String>,
    /// `release.registryTimeout`: seconds a registry may stay silent on a connection or a read
    /// before the command fails naming it (default 60).
    pub timeout_secs: u64,
}

impl RegistryConfig {
    /// Read the settings of `repo` (`.gitrelease` < git config, as every `release.*` key).
    ///
    /// Errors (exit 2): a `release.registry` with a scheme, spaces or an empty host.
    pub fn load(repo: &gix::Repository) -> Result<Self> {
        let get = crate::settings::raw(repo);
        let registry = get("registry")
            .map(|r| r.trim().trim_end_matches('/').to_string())
            .filter(|r| !r.is_empty());
        if let Some(r) = &registry {
            if r.contains("://") || r.contains(char::is_whitespace) || r.starts_with('/') {
                return Err(UserError::input(format!(
                    "setting release.registry `{r}` is not host[:port][/prefix]"
                ))
                .hint("write it without a scheme, e.g. `registry.local:5000/release`")
                .into());
            }
        }
        let insecure = get("insecureRegistries")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let timeout_secs = match get("registryTimeout") {
            None => 60,
            Some(t) => match t.trim().parse::<u64>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(UserError::input(format!(
                        "setting release.registryTimeout `{t}` is not a number of seconds"
                    ))
                    .into())
                }
            },
        };
        Ok(RegistryConfig {
            registry,
            insecure,
            timeout_secs,
        })
    }

    /// Whether `host` (`host[:port]`) is spoken to over plain HTTP.
    pub fn is_insecure(&self, host: &str) -> bool {
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        name == "localhost"
            || name == "127.0.0.1"
            || name == "[::1]"
            || self.insecure.iter().any(|h| h == host)
    }
}

/// An image of the lists resolved to where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    /// As the lists hold it (`[[ registry_release ]]/library/pause:3.9`).
    pub image: String,
    /// Full reference to use (`registry.local:5000/library/pause:3.9`, `quay.io/x:1`), or
    /// `None` when it names `[[ registry_release ]]` and `release.registry` is unset.
    pub reference: Option<String>,
    /// Upstream source from images_origin.yaml (`k8s.gcr.io/pause:3.9`), for internal images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `internal` (in release.registry, no origin: a product image CI pushes), `mirrored`
    /// (internal with an origin entry), `external` (another registry, used as it is).
    pub kind: &'static str,
}

/// Replace `[[ registry_release ]]` (spaces inside the brackets optional) with `registry`.
pub fn fill_registry(image: &str, registry: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = image;
    let mut any = false;
    while let Some(i) = rest.find("[[") {
        let j = rest[i..].find("]]")? + i;
        let inner = rest[i + 2..j].trim();
        out.push_str(&rest[..i]);
        if inner == "registry_release" {
            out.push_str(registry);
            any = true;
        } else {
            return None; // another install-time placeholder: cannot be resolved here
        }
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    any.then_some(out)
        .or_else(|| (!image.contains("[[")).then(|| image.to_string()))
}

/// Resolve every image of `images` with `config` and the origin entries. `projects` are the
/// projects of `release.placeholderProjects` (`release`, `library`): an image the lists name by
/// project (`release/app-admin:v1`, the caicloud layout) lives in `release.registry`.
pub fn locate<'a>(
    images: impl IntoIterator<Item = &'a String>,
    config: &RegistryConfig,
    projects: &[(String, String)],
    origins: &[origin::Origin],
) -> Vec<Located> {
    let registry = config.registry.as_deref();
    images
        .into_iter()
        .map(|image| {
            // Named by project (`release/app-admin:v1`): the image `[[ registry_release ]]`
            // holds under that project.
            let by_project = !crate::image::reference::has_registry(image)
                && image
                    .split('/')
                    .next()
                    .is_some_and(|p| projects.iter().any(|(_, x)| x == p));
            let internal_form = if by_project {
                format!("[[ registry_release ]]/{image}")
            } else {
                image.clone()
            };
            let names_internal = internal_form.contains("[[");
            let reference = match registry {
                Some(r) => fill_registry(&internal_form, r),
                None if names_internal => None,
                None => Some(image.clone()),
            };
            let internal_path = match (&reference, registry) {
                (Some(full), Some(r)) if full.starts_with(&format!("{r}/")) => {
                    Some(full[r.len() + 1..].to_string())
                }
                (None, None) if names_internal => internal_form
                    .find("]]")
                    .map(|j| internal_form[j + 2..].trim_start_matches('/').to_string()),
                _ => None,
            };
            let source = internal_path
                .as_ref()
                .and_then(|p| origin::source_of(origins, p));
            let kind = match (&internal_path, &source) {
                (Some(_), Some(_)) => "mirrored",
                (Some(_), None) => "internal",
                _ => "external",
            };
            Located {
                image: image.clone(),
                reference,
                source,
                kind,
            }
        })
        .collect()
}

/// Where each of `images` lives at `tree`: `release.*` settings of `repo` and
/// `images/images_origin.yaml` at `tree`, then [`locate`]. Returns the settings too.
///
/// Errors: bad settings or origin file (exit 2), unreadable objects.
pub fn locate_at<'a>(
    repo: &gix::Repository,
    settings: &crate::settings::Settings,
    tree: gix::ObjectId,
    images: impl IntoIterator<Item = &'a String>,
) -> Result<(RegistryConfig, Vec<Located>)> {
    let config = RegistryConfig::load(repo)?;
    let origins = origin::at(repo, tree, settings)?;
    let located = locate(images, &config, &settings.placeholder_projects, &origins);
    Ok((config, located))
}

impl RegistryConfig {
    /// A client for the registries `located` names (references and upstream sources), speaking
    /// plain HTTP to the insecure ones ([`RegistryConfig::is_insecure`]).
    ///
    /// Errors: the client's runtime cannot start (exit 1).
    pub fn client_for(&self, located: &[Located]) -> Result<client::Registry> {
        let hosts: std::collections::BTreeSet<String> = located
            .iter()
            .flat_map(|l| [&l.reference, &l.source])
            .flatten()
            .map(|r| crate::image::reference::split(r).0)
            .filter(|h| self.is_insecure(h))
            .collect();
        client::Registry::new(hosts.into_iter().collect(), self.timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_named_by_project_live_in_the_internal_registry() {
        let cfg = RegistryConfig {
            registry: Some("reg.local:5000".into()),
            insecure: vec![],
            timeout_secs: 60,
        };
        let projects = [
            ("registry_release".to_string(), "release".to_string()),
            ("registry_library".to_string(), "library".to_string()),
        ];
        let origins = origin::parse(
            "images_origin.yaml",
            b"- src: docker.io/library/busybox\n  dest: library/busybox\n",
        )
        .unwrap();
        let images = [
            "release/app-admin:v0.3.30".to_string(),
            "library/busybox:1.30.0".to_string(),
            "other/x:1".to_string(),
            "quay.io/release/y:1".to_string(),
        ];
        let got: Vec<(Option<String>, &str)> = locate(&images, &cfg, &projects, &origins)
            .into_iter()
            .map(|l| (l.reference, l.kind))
            .collect();
        assert_eq!(
            got,
            [
                (
                    Some("reg.local:5000/release/app-admin:v0.3.30".into()),
                    "internal"
                ),
                (
                    Some("reg.local:5000/library/busybox:1.30.0".into()),
                    "mirrored"
                ),
                (Some("other/x:1".into()), "external"),
                (Some("quay.io/release/y:1".into()), "external"),
            ]
        );
    }

    #[test]
    fn internal_mirrored_external() {
        let cfg = RegistryConfig {
            registry: Some("reg.local:5000/rel".into()),
            insecure: vec![],
            timeout_secs: 60,
        };
        let origins = origin::parse(
            "images_origin.yaml",
            b"- src: k8s.gcr.io/pause\n  dest: library/pause\n",
        )
        .unwrap();
        let imgs: Vec<String> = vec![
            "[[ registry_release ]]/library/pause:3.9".into(),
            "[[registry_release]]/release/app:1".into(),
            "quay.io/x:1".into(),
        ];
        let l = locate(&imgs, &cfg, &[], &origins);
        assert_eq!(
            l[0].reference.as_deref(),
            Some("reg.local:5000/rel/library/pause:3.9")
        );
        assert_eq!(
            (l[0].kind, l[0].source.as_deref()),
            ("mirrored", Some("k8s.gcr.io/pause:3.9"))
        );
        assert_eq!(
            (l[1].kind, l[1].reference.as_deref()),
            ("internal", Some("reg.local:5000/rel/release/app:1"))
        );
        assert_eq!(
            (l[2].kind, l[2].reference.as_deref()),
            ("external", Some("quay.io/x:1"))
        );
        assert!(cfg.is_insecure("127.0.0.1:5000") && !cfg.is_insecure("reg.local:5000"));
    }
}
