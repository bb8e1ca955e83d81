//! A blocking client of the OCI distribution protocol (oci-client on a private tokio runtime):
//! HTTPS with the system roots, plain HTTP for insecure hosts ([`super::RegistryConfig::is_insecure`]),
//! basic and bearer-token auth from docker's config ([`super::auth`]).

use std::collections::HashMap;
use std::sync::Mutex;

use oci_client::errors::{OciDistributionError, OciEnvelope, OciErrorCode};
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

/// Why a request failed: an error of the protocol (classified as oci-client's are), or a refusal
/// of ours (a bound passed) that is reported as it is.
enum Fault {
    Oci(OciDistributionError),
    Refused(anyhow::Error),
}

/// A registry session for one command run.
pub struct Registry {
    rt: tokio::runtime::Runtime,
    client: Client,
    creds: Mutex<HashMap<String, Credential>>,
    /// Manifests are read by our own bounded GET ([`Registry::manifest`]): oci-client reads a
    /// response whole.
    http: reqwest::Client,
    insecure: Vec<String>,
    /// Bearer tokens oci-client obtained, per `host/repository` (`None`: anonymous or basic).
    tokens: Mutex<HashMap<String, Option<String>>>,
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
            protocol: oci_client::client::ClientProtocol::HttpsExcept(insecure_hosts.clone()),
            read_timeout: Some(std::time::Duration::from_secs(timeout_secs)),
            connect_timeout: Some(std::time::Duration::from_secs(timeout_secs)),
            ..Default::default()
        });
        let http = reqwest::Client::builder()
            .read_timeout(std::time::Duration::from_secs(timeout_secs))
            .connect_timeout(std::time::Duration::from_secs(timeout_secs))
            .build()?;
        Ok(Registry {
            rt,
            client,
            creds: Mutex::new(HashMap::new()),
            http,
            insecure: insecure_hosts,
            tokens: Mutex::new(HashMap::new()),
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
        let r = crate::image::reference::ImageRef::parse(reference)
            .map(to_oci)
            .map_err(|e| {
                UserError::input(format!("`{reference}` is not an image reference: {e}"))
            })?;
        let cred = self.credential(r.registry());
        Ok((r, cred))
    }

    /// The manifest of `reference` as the registry stores it: `(bytes, digest)`, read up to
    /// `release.maxManifestSize` ([`crate::limits::Limits::manifest_bytes`], 4 MiB by default as
    /// in containerd). The digest is the registry's `Docker-Content-Digest`, else the one asked
    /// for, else the SHA-256 of the bytes.
    ///
    /// Errors: as [`Registry::exists`]; a missing image is an error naming it (exit 1); a
    /// manifest larger than the limit, declared or sent, is refused naming registry, image and
    /// size, before or as soon as the limit is passed (exit 1).
    pub fn manifest(&self, reference: &str) -> anyhow::Result<(Vec<u8>, String)> {
        let (r, cred) = self.parse(reference)?;
        let host = r.resolve_registry().to_string();
        match self
            .rt
            .block_on(self.bounded_manifest(&r, &cred, reference))
        {
            Ok(got) => Ok(got),
            Err(Fault::Refused(e)) => Err(e),
            Err(Fault::Oci(e)) => match classify(e, &host, reference, &cred)? {
                Presence::Missing => Err(UserError::failure(format!(
                    "registry {host}: image {reference} does not exist"
                ))
                .hint("push it, or sync it from its upstream source (`images/images_origin.yaml`)")
                .into()),
                Presence::Present(_) => unreachable!("classify never reports presence"),
            },
        }
    }

    /// The bearer token oci-client holds for `r`'s repository (asked for once per repository and
    /// run; `None` when the registry wants none or takes basic auth).
    async fn token(&self, r: &Reference, cred: &Credential) -> Result<Option<String>, Fault> {
        let key = format!("{}/{}", r.resolve_registry(), r.repository());
        if let Some(t) = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(t.clone());
        }
        let t = self
            .client
            .auth(r, &cred.auth, oci_client::RegistryOperation::Pull)
            .await
            .map_err(Fault::Oci)?;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, t.clone());
        Ok(t)
    }

    /// GET the manifest of `r` with oci-client's credentials, reading at most the manifest limit.
    async fn bounded_manifest(
        &self,
        r: &Reference,
        cred: &Credential,
        reference: &str,
    ) -> Result<(Vec<u8>, String), Fault> {
        let host = r.resolve_registry().to_string();
        let max = crate::limits::get().manifest_bytes;
        let too_big = |size: String| {
            Fault::Refused(
                UserError::failure(format!(
                    "registry {host}: the manifest of image {reference} is {size}, more than the {} a manifest may have (release.maxManifestSize); nothing was kept",
                    crate::limits::human(max)
                ))
                .hint("the registry is broken or not to be trusted; push the image again (or raise release.maxManifestSize if the manifest is real)")
                .into(),
            )
        };
        let scheme = if self.insecure.contains(&host) {
            "http"
        } else {
            "https"
        };
        let wanted = r.digest().map(str::to_string);
        let url = format!(
            "{scheme}://{host}/v2/{}/manifests/{}",
            r.repository(),
            wanted.as_deref().or(r.tag()).unwrap_or("latest")
        );
        let token = self.token(r, cred).await?;
        let mut req = self
            .http
            .get(&url)
            .header(reqwest::header::ACCEPT, MANIFEST_TYPES.join(", "));
        req = match (&token, &cred.auth) {
            (Some(t), _) => req.bearer_auth(t),
            (None, oci_client::secrets::RegistryAuth::Basic(u, p)) => req.basic_auth(u, Some(p)),
            (None, oci_client::secrets::RegistryAuth::Bearer(t)) => req.bearer_auth(t),
            (None, _) => req,
        };
        let mut res = req
            .send()
            .await
            .map_err(|e| Fault::Oci(OciDistributionError::RequestError(e)))?;
        let status = res.status();
        if !status.is_success() {
            // An error body is read up to 64 KiB: enough for any OCI error envelope.
            let mut body = Vec::new();
            while let Some(chunk) = res
                .chunk()
                .await
                .map_err(|e| Fault::Oci(OciDistributionError::RequestError(e)))?
            {
                body.extend_from_slice(
                    &chunk[..chunk.len().min((64 << 10) - body.len().min(64 << 10))],
                );
                if body.len() >= 64 << 10 {
                    break;
                }
            }
            let e = match (
                status.as_u16(),
                serde_json::from_slice::<OciEnvelope>(&body),
            ) {
                (401, _) => OciDistributionError::UnauthorizedError { url },
                (400..=499, Ok(envelope)) => OciDistributionError::RegistryError { envelope, url },
                (code, _) => OciDistributionError::ServerError {
                    code,
                    url,
                    message: String::from_utf8_lossy(&body).into_owned(),
                },
            };
            return Err(Fault::Oci(e));
        }
        if let Some(n) = res.content_length().filter(|n| *n > max) {
            return Err(too_big(format!("{n} bytes by its Content-Length")));
        }
        let digest = res
            .headers()
            .get("Docker-Content-Digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|e| Fault::Oci(OciDistributionError::RequestError(e)))?
        {
            if (bytes.len() + chunk.len()) as u64 > max {
                return Err(too_big(format!(
                    "more than {} bytes",
                    bytes.len() + chunk.len()
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let digest = digest
            .or(wanted)
            .unwrap_or_else(|| format!("sha256:{}", crate::hash::sha256_hex(&bytes)));
        Ok((bytes, digest))
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
        let res = self
            .rt
            .block_on(self.client.push_blob(&r, bytes.to_vec(), digest));
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

/// The oci-client reference of a parsed image reference (`latest` when neither tag nor digest).
fn to_oci(r: crate::image::reference::ImageRef) -> Reference {
    match (r.tag, r.digest) {
        (Some(t), Some(d)) => Reference::with_tag_and_digest(r.registry, r.repository, t, d),
        (None, Some(d)) => Reference::with_digest(r.registry, r.repository, d),
        (t, None) => Reference::with_tag(
            r.registry,
            r.repository,
            t.unwrap_or_else(|| "latest".into()),
        ),
    }
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
                "registry {host} {UNREACHABLE} ({cause}) while looking up {reference}"
            ))
            .hint("check the address (release.registry) and the network; release.registryTimeout sets how long a silent registry is waited for; `check --offline` skips registry checks")
            .into())
        }
        other => Err(UserError::failure(format!("registry {host}: {reference}: {other}")).into()),
    }
}

/// The words of an unreachable registry's error (`registry HOST is unreachable (CAUSE) while
/// looking up REF`), which [`unreachable_host`] recognises.
const UNREACHABLE: &str = "is unreachable";

/// The registry host of an error a lookup gave because the registry could not be reached (a
/// refused connection, a timeout, a TLS failure); `None` for any other error (credentials
/// refused, a bad answer). `check` turns these into `registry-unreachable` findings.
pub fn unreachable_host(e: &anyhow::Error) -> Option<String> {
    let u = e.downcast_ref::<UserError>()?;
    let rest = u.message.strip_prefix("registry ")?;
    let (host, tail) = rest.split_once(' ')?;
    tail.starts_with(UNREACHABLE).then(|| host.to_string())
}
