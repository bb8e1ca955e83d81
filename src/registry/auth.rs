//! Registry credentials from docker's `config.json`, as docker, skopeo and helm read it:
//! `$DOCKER_CONFIG/config.json` else `~/.docker/config.json`; `credHelpers[host]`, then
//! `credsStore`, then `auths[host]` (read by the `docker_credential` crate). Which source was
//! used is kept, so that a 401/403 can name it.

use oci_client::secrets::RegistryAuth;

/// A credential for one registry host and where it came from.
#[derive(Clone)]
pub struct Credential {
    /// What is sent.
    pub auth: RegistryAuth,
    /// Human-readable source: `anonymous (no entry for HOST in PATH)`, `auths in PATH`,
    /// `credHelpers: docker-credential-NAME`, `credsStore: docker-credential-NAME`.
    pub source: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

fn config_path() -> std::path::PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => std::path::PathBuf::from(d).join("config.json"),
        None => std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_default()
            .join(".docker/config.json"),
    }
}

/// The key docker uses for `host` (Docker Hub is `https://index.docker.io/v1/`).
fn server_key(host: &str) -> String {
    if host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" {
        "https://index.docker.io/v1/".into()
    } else {
        host.to_string()
    }
}

/// The credential for registry `host` (`host[:port]`). Never fails: without a usable entry the
/// access is anonymous, and the source says why.
pub fn for_host(host: &str) -> Credential {
    let path = config_path();
    let key = server_key(host);
    let cfg: Option<serde_json::Value> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let source = match &cfg {
        None => format!("anonymous (no {})", path.display()),
        Some(c) => {
            if let Some(h) = c
                .get("credHelpers")
                .and_then(|h| h.get(&key))
                .and_then(|v| v.as_str())
            {
                format!("credHelpers in {}: docker-credential-{h}", path.display())
            } else if let Some(s) = c.get("credsStore").and_then(|v| v.as_str()) {
                format!("credsStore in {}: docker-credential-{s}", path.display())
            } else if c.get("auths").and_then(|a| a.get(&key)).is_some() {
                format!("auths[{key}] in {}", path.display())
            } else {
                format!("anonymous (no entry for {key} in {})", path.display())
            }
        }
    };
    if cfg.is_none() || source.starts_with("anonymous") {
        return Credential {
            auth: RegistryAuth::Anonymous,
            source,
        };
    }
    // docker_credential reads the same file ($DOCKER_CONFIG or ~/.docker).
    let auth = match docker_credential::get_credential(&key) {
        Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
            RegistryAuth::Basic(u, p)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(t)) => RegistryAuth::Bearer(t),
        Err(e) => {
            return Credential {
                auth: RegistryAuth::Anonymous,
                source: format!("anonymous ({source} failed: {e})"),
            }
        }
    };
    Credential { auth, source }
}
