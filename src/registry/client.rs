//! A blocking client of the OCI distribution protocol (oci-client on a private tokio runtime):
//! HTTPS with the system roots, plain HTTP for insecure hosts ([`super::RegistryConfig::is_insecure`]),
//! basic and bearer-token auth from docker's config ([`super::auth`]).

use std::collections::HashMap;
use std::sync::Mutex;

use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::{Client, Reference};

use super::auth::{self, Credential};
use crate::error::UserError;

/// Whether an image exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Present, with its manifest digest.
    Present(String),
    /// The registry answered that the repository or tag does not exist.
    Missing,
}

/// A registry session for one command run.
pub struct Registry {
    rt: tokio::runtime::Runtime,
    client: Client,
    creds: Mutex<HashMap<String, Credential>>,
}

impl Registry {
    /// A client that speaks plain HTTP to `insecure_hosts` and HTTPS to every other host, and
    /// gives up on a connection or read silent for `timeout_secs` seconds.
    ///
    /// Errors: the async runtime cannot start (exit 1).
    pub fn new(insecure_hosts: Vec<String>, timeout_secs: u64) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let client = Client::new(oci_client::client::ClientConfig {
            protocol: oci_client::client::ClientProtocol::HttpsExcept(insecure_hosts),
            read_timeout: Some(std::time::Duration::from_secs(timeout_secs)),
            connect_timeout: Some(std::time::Duration::from_secs(timeout_secs)),
            ..Default::default()
        });
        Ok(Registry {
            rt,
            client,
            creds: Mutex::new(HashMap::new()),
        })
    }

    fn credential(&self, host: &str) -> Credential {
        let mut m = self.creds.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(host.to_string())
            .or_insert_with(|| auth::for_host(host))
            .clone()
    }

    /// Ask the registry whether `reference` (`host/path:tag` or `@digest`) exists: a manifest
    /// `HEAD` (a `GET` when the registry sends no digest header).
    ///
    /// Errors, each naming registry, image and cause: registry unreachable (exit 1), 401/403
    /// with the credential source used (exit 1), a reference that does not parse (exit 2).
    pub fn exists(&self, reference: &str) -> anyhow::Result<Presence> {
        let (r, cred) = self.parse(reference)?;
        let host = r.resolve_registry().to_string();
        let res = self
            .rt
            .block_on(self.client.fetch_manifest_digest(&r, &cred.auth));
        match res {
            Ok(d) => Ok(Presence::Present(d)),
            Err(e) => classify(e, &host, reference, &cred),
        }
    }
}

/// Media types accepted for manifests: OCI and Docker v2, images and indexes.
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

impl Registry {
    /// [`Registry::parse`], with the credential handed to the client for the registry (tokens
    /// scoped to a repository are then fetched once per repository and operation, and reused).
    /// Returns the reference, the credential and the registry's host.
    fn session(&self, reference: &str) -> anyhow::Result<(Reference, Credential, String)> {
        let (r, cred) = self.parse(reference)?;
        let host = r.resolve_registry().to_string();
        self.rt
            .block_on(self.client.store_auth_if_needed(&host, &cred.auth));
        Ok((r, cred, host))
    }

    fn parse(&self, reference: &str) -> anyhow::Result<(Reference, Credential)> {
        let r = parse_reference(reference).map_err(|e| {
            UserError::input(format!("`{reference}` is not an image reference: {e}"))
        })?;
        let cred = self.credential(r.registry());
        Ok((r, cred))
    }

    /// The manifest of `reference` as the registry stores it: `(bytes, digest)`.
    ///
    /// Errors: as [`Registry::exists`]; a missing image is an error naming it (exit 1).
    pub fn manifest(&self, reference: &str) -> anyhow::Result<(Vec<u8>, String)> {
        let (r, cred) = self.parse(reference)?;
        let host = r.resolve_registry().to_string();
        match self.rt.block_on(
            self.client
                .pull_manifest_raw(&r, &cred.auth, MANIFEST_TYPES),
        ) {
            Ok(x) => Ok(x),
            Err(e) => match classify(e, &host, reference, &cred)? {
                Presence::Missing => Err(UserError::failure(format!(
                    "registry {host}: image {reference} does not exist"
                ))
                .hint("push it, or sync it from its upstream source (`images/images_origin.yaml`)")
                .into()),
                Presence::Present(_) => unreachable!("classify never reports presence"),
            },
        }
    }

    /// Stream blob `digest` of the repository of `reference` into `out`.
    ///
    /// Errors: as [`Registry::exists`]; a write error of `out`.
    pub fn blob(
        &self,
        reference: &str,
        digest: &str,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<u64> {
        use futures_util::StreamExt;
        let (r, cred, host) = self.session(reference)?;
        self.rt.block_on(async {
            let mut stream = match self.client.pull_blob_stream(&r, digest).await {
                Ok(s) => s,
                Err(e) => {
                    return match classify(e, &host, reference, &cred) {
                        Ok(_) => Err(UserError::failure(format!(
                            "registry {host}: blob {digest} of {reference} does not exist"
                        ))
                        .into()),
                        Err(e) => Err(e),
                    }
                }
            };
            let mut n = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| {
                    let mismatch = e.get_ref().and_then(|inner| {
                        match inner.downcast_ref::<oci_client::errors::DigestError>() {
                            Some(oci_client::errors::DigestError::VerificationError {
                                actual,
                                ..
                            }) => Some(actual.clone()),
                            _ => None,
                        }
                    });
                    match mismatch {
                        Some(actual) => UserError::failure(format!(
                            "registry {host}: blob {digest} of {reference} arrived with content hashing to {actual}; not stored"
                        ))
                        .hint("the registry's storage or the transfer corrupted it; nothing was packaged"),
                        None => UserError::failure(format!(
                            "registry {host}: reading blob {digest} of {reference}: {e}"
                        )),
                    }
                })?;
                out.write_all(&chunk)?;
                n += chunk.len() as u64;
            }
            Ok(n)
        })
    }
}

impl Registry {
    /// Whether the repository of `reference` has blob `digest`: a ranged `GET` of its first byte
    /// (oci-client has no blob `HEAD`).
    ///
    /// Errors: as [`Registry::exists`].
    pub fn has_blob(&self, reference: &str, digest: &str) -> anyhow::Result<bool> {
        let (r, cred, host) = self.session(reference)?;
        let res = self.rt.block_on(async {
            self.client
                .pull_blob_stream_partial(&r, digest, 0, Some(1))
                .await
                .map(drop)
        });
        match res {
            Ok(()) => Ok(true),
            Err(OciDistributionError::RegistryError { envelope, .. })
                if envelope
                    .errors
                    .iter()
                    .any(|x| matches!(x.code, OciErrorCode::BlobUnknown)) =>
            {
                Ok(false)
            }
            Err(e) => classify(e, &host, reference, &cred).map(|_| false),
        }
    }

    /// Mount blob `digest` from repository `from` (same registry) into the repository of
    /// `reference`: no bytes travel. `Ok(false)` when the registry declines (then push it).
    ///
    /// Errors: a reference that does not parse.
    pub fn mount_blob(&self, reference: &str, from: &str, digest: &str) -> anyhow::Result<bool> {
        let (r, _, _) = self.session(reference)?;
        let (source, _) = self.parse(from)?;
        let res = self
            .rt
            .block_on(self.client.mount_blob(&r, &source, digest));
        Ok(res.is_ok())
    }

    /// Push blob `digest` (its bytes) to the repository of `reference`.
    ///
    /// Errors: as [`Registry::exists`] (auth naming the credential source).
    pub fn push_blob(&self, reference: &str, digest: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let (r, cred, host) = self.session(reference)?;
        let res = self.rt.block_on(self.client.push_blob(&r, bytes, digest));
        match res {
            Ok(_) => Ok(()),
            Err(e) => classify(e, &host, reference, &cred).and_then(|_| {
                Err(UserError::failure(format!(
                    "registry {host}: pushing blob {digest} of {reference} failed"
                ))
                .into())
            }),
        }
    }

    /// Push a manifest (`bytes`, of `media_type`) as `reference` (a tag or a digest).
    ///
    /// Errors: as [`Registry::push_blob`].
    pub fn push_manifest(
        &self,
        reference: &str,
        bytes: Vec<u8>,
        media_type: &str,
    ) -> anyhow::Result<()> {
        let ct = reqwest_header(media_type)?;
        let (r, cred, host) = self.session(reference)?;
        let res = self
            .rt
            .block_on(self.client.push_manifest_raw(&r, bytes, ct));
        match res {
            Ok(_) => Ok(()),
            Err(e) => classify(e, &host, reference, &cred).and_then(|_| {
                Err(UserError::failure(format!(
                    "registry {host}: pushing the manifest of {reference} failed"
                ))
                .into())
            }),
        }
    }
}

/// Parse an image reference as distribution's reference grammar does
/// (`[host[:port]/]path[:tag][@algo:hex]`, github.com/distribution/reference `regexp.go`), with
/// its defaults: no host -> `docker.io` (`index.docker.io` is read as it), a one-part path on
/// Docker Hub -> `library/…`, neither tag nor digest -> `latest`. The same answers as
/// `oci_spec::distribution::Reference::from_str`, without its regular expression (compiling it
/// took 50 ms of every registry command); ASCII only, as the grammar (Go's `\w`) is.
///
/// Errors: a description of the first rule broken.
pub fn parse_reference(s: &str) -> Result<Reference, String> {
    fn alnum_lower(c: char) -> bool {
        c.is_ascii_lowercase() || c.is_ascii_digit()
    }
    // path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
    fn path_component(p: &str) -> bool {
        let b = p.as_bytes();
        if b.is_empty() || !alnum_lower(b[0] as char) || !alnum_lower(b[b.len() - 1] as char) {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            let c = b[i] as char;
            if alnum_lower(c) {
                i += 1;
                continue;
            }
            let sep_end = match c {
                '.' => i + 1,
                '_' if b.get(i + 1) == Some(&b'_') => i + 2,
                '_' => i + 1,
                '-' => i + b[i..].iter().take_while(|&&x| x == b'-').count(),
                _ => return false,
            };
            if !b.get(sep_end).is_some_and(|&x| alnum_lower(x as char)) {
                return false;
            }
            i = sep_end;
        }
        true
    }
    // domain: label (\. label)* (:[0-9]+)?, label = [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
    fn domain(d: &str) -> bool {
        let (host, port) = match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        };
        let label = |l: &str| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        host.split('.').all(label)
            && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    }
    if s.is_empty() {
        return Err("repository name must have at least one component".into());
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(c) => (&rest[..last_slash + c], Some(&rest[last_slash + c + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && !t.starts_with(['.', '-']);
        if !ok {
            return Err("invalid reference format".into());
        }
    }
    if let Some(d) = digest {
        let (algo, hex) = d.split_once(':').ok_or("invalid reference format")?;
        let algo_ok = algo.split(['-', '_', '+', '.']).all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !algo_ok || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("invalid reference format".into());
        }
        let want = match algo {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return Err("unsupported digest algorithm".into()),
        };
        if hex.len() != want {
            return Err("invalid checksum digest length".into());
        }
    }
    // The grammar reads a first part as a domain when it can be one and what follows is a path;
    // docker then keeps it as the registry only if it has a `.` or `:` or is `localhost`.
    let parts: Vec<&str> = name.split('/').collect();
    let grammar_ok = |from: usize| parts[from..].iter().all(|p| path_component(p));
    let valid = grammar_ok(0) || (parts.len() > 1 && domain(parts[0]) && grammar_ok(1));
    if !valid {
        return Err(if name.chars().any(|c| c.is_ascii_uppercase()) {
            "repository name must be lowercase".into()
        } else {
            "invalid reference format".into()
        });
    }
    // Docker's defaults (`docker.io`, `library/`), the legacy Docker Hub name read as it.
    let name = match name.strip_prefix("index.docker.io/") {
        Some(rest) => format!("docker.io/{rest}"),
        None => name.to_string(),
    };
    let (registry, repository, _) = super::split(&name);
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository name must be lowercase".into());
    }
    if repository.len() > 255 {
        return Err("repository name must not be more than 255 characters".into());
    }
    Ok(match (tag, digest) {
        (Some(t), Some(d)) => {
            Reference::with_tag_and_digest(registry, repository, t.into(), d.into())
        }
        (None, Some(d)) => Reference::with_digest(registry, repository, d.into()),
        (t, None) => Reference::with_tag(registry, repository, t.unwrap_or("latest").into()),
    })
}

fn reqwest_header(v: &str) -> anyhow::Result<http::HeaderValue> {
    http::HeaderValue::from_str(v).map_err(|_| {
        UserError::failure(format!("media type `{v}` is not a valid header value")).into()
    })
}

fn classify(
    e: OciDistributionError,
    host: &str,
    reference: &str,
    cred: &Credential,
) -> anyhow::Result<Presence> {
    let denied = |what: &str| -> anyhow::Result<Presence> {
        Err(UserError::failure(format!(
            "registry {host}: {what} for {reference} (credentials: {})",
            cred.source
        ))
        .hint("log in with `docker login` or `skopeo login`, or fix the entry in docker's config.json")
        .into())
    };
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => Ok(Presence::Missing),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|x| &x.code).collect();
            if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                )
            }) {
                Ok(Presence::Missing)
            } else if codes
                .iter()
                .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
            {
                denied("access denied")
            } else {
                Err(UserError::failure(format!(
                    "registry {host}: {reference}: {}",
                    envelope
                        .errors
                        .iter()
                        .map(|x| x.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
                .into())
            }
        }
        OciDistributionError::ServerError { code: 404, .. } => Ok(Presence::Missing),
        OciDistributionError::ServerError { code: 401, .. }
        | OciDistributionError::UnauthorizedError { .. } => denied("401 unauthorized"),
        OciDistributionError::ServerError { code: 403, .. } => denied("403 forbidden"),
        OciDistributionError::AuthenticationFailure(m) => {
            denied(&format!("authentication failed ({m})"))
        }
        OciDistributionError::RequestError(r) => {
            let mut cause = r.to_string();
            let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&r);
            while let Some(s) = src {
                cause = s.to_string();
                src = s.source();
            }
            Err(UserError::failure(format!(
                "registry {host} is unreachable ({cause}) while looking up {reference}"
            ))
            .hint("check the address (release.registry) and the network; release.registryTimeout sets how long a silent registry is waited for; `check --offline` skips registry checks")
            .into())
        }
        other => Err(UserError::failure(format!("registry {host}: {reference}: {other}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ours and oci-spec's regular-expression parser agree, field by field, valid or not (except
    /// where distribution itself rejects what the regular expression lets through: uppercase in
    /// a Docker Hub path, and non-ASCII tags: Go's `\w` is ASCII, Rust's is not).
    #[test]
    fn parse_reference_agrees_with_oci_spec() {
        let c_ok = |s: &str| parse_reference(s).is_ok();
        let digest = format!("sha256:{}", "ab".repeat(32));
        let cases: Vec<String> = [
            "busybox",
            "busybox:1.36",
            "library/busybox",
            "docker.io/busybox",
            "index.docker.io/busybox:latest",
            "quay.io/jetstack/cert-manager-controller:v1.14.4",
            "registry.k8s.io/ingress-nginx/controller:v1.10.0",
            "127.0.0.1:5000/rel/app:1.0.0",
            "localhost:5000/app",
            "localhost/app:1",
            "localhost",
            "test.com:tag",
            "test.com:5000",
            "test.com/repo:tag",
            "my-host.example-1.com:443/a/b/c:v1",
            "a__b/c.d/e-f/g---h:tag_1.2-3",
            "a_b_c/d",
            "a.-b/c",
            "a-/b",
            "-a/b",
            "a//b",
            "a/b/",
            "/a/b",
            "UPPER.io/lower:Tag",
            "host_with_underscore.io/a",
            "host-.io/a",
            "app:.tag",
            "app:-tag",
            "app:_tag",
            "app:",
            "app@",
            "app:t@",
            "app@sha256:abc",
            "app@sha512:abc",
            "app@md5:0123456789abcdef0123456789abcdef",
            "a:b:c",
            "a/b:c/d",
            ":tag",
            "",
            "ü/x",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("app@{digest}"),
            format!("quay.io/a/b:1.0@{digest}"),
            format!("quay.io/a/b@{digest}x"),
            format!("app:{}", "t".repeat(128)),
            format!("app:{}", "t".repeat(129)),
            format!("host.io/{}", "a".repeat(256)),
        ])
        .collect();
        for c in &cases {
            let ours = parse_reference(c);
            let theirs: Result<Reference, _> = c.parse();
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(
                    (a.registry(), a.repository(), a.tag(), a.digest()),
                    (b.registry(), b.repository(), b.tag(), b.digest()),
                    "{c:?}"
                ),
                (Err(_), Err(_)) => {}
                _ => panic!("{c:?}: ours {ours:?}, oci-spec {theirs:?}"),
            }
        }
        assert!(c_ok("app:tag_1"), "ASCII tag");
        assert!(!c_ok("app:tägg"), "non-ASCII tag");
        assert!(
            "app:tägg".parse::<Reference>().is_ok(),
            "oci-spec lets it through"
        );
        assert_eq!(
            parse_reference("Foo/bar").unwrap_err(),
            "repository name must be lowercase"
        );
    }
}
