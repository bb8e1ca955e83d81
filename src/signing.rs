//! Signed commits and tags, as git makes them: `commit.gpgSign`, `tag.gpgSign` and `tag -s` sign
//! with the configured program (`gpg.format` `openpgp`: `gpg.program` or `gpg.openpgp.program`,
//! `-bsau <user.signingKey>`; `ssh`: `gpg.ssh.program`, `ssh-keygen -Y sign -n git -f <key>`).
//! A commit carries the signature in its `gpgsig` header; a tag after its message. `git
//! verify-commit` and `git verify-tag` check them (the payload is the object without the
//! signature, git's `parse_signed_commit` and `parse_signature`).

use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::error::UserError;

/// An object written as these exact bytes (gix's encoders would reformat a signature).
struct Raw<'a> {
    kind: gix::objs::Kind,
    bytes: &'a [u8],
}

impl gix::objs::WriteTo for Raw<'_> {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.bytes)
    }
    fn kind(&self) -> gix::objs::Kind {
        self.kind
    }
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// The ssh signature namespace of package signatures (`ssh-keygen -Y verify -n git-release`),
/// apart from git's own `git` so that a package signature is never taken for a commit's.
pub const PACKAGE_NAMESPACE: &str = "git-release";

/// Signature formats git knows (`gpg.format`; `x509` is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `gpg -bsau KEY`, an armored detached signature.
    OpenPgp,
    /// `ssh-keygen -Y sign -n git -f KEY`.
    Ssh,
}

/// How to sign, from git's configuration.
#[derive(Debug, Clone)]
pub struct Signer {
    /// `gpg.format`.
    pub format: Format,
    /// The program to run.
    pub program: String,
    /// `user.signingKey`: a gpg key id, or for ssh a key file or `key::<public key>`; for
    /// openpgp without it, the committer's `Name <email>` as git does.
    pub key: Option<String>,
}

fn config_string(repo: &gix::Repository, key: &str) -> Option<String> {
    crate::settings::git_config(repo, key).filter(|s| !s.is_empty())
}

/// Whether git's setting `key` (`commit.gpgSign`, `tag.gpgSign`) is true, `git -c` included.
pub fn wanted(repo: &gix::Repository, key: &str) -> bool {
    crate::settings::git_config_bool(repo, key)
}

impl Signer {
    /// The signer git would use in `repo`.
    ///
    /// Errors (exit 2): `gpg.format` other than `openpgp` and `ssh`; ssh without
    /// `user.signingKey`.
    pub fn from_config(repo: &gix::Repository) -> Result<Self> {
        let format = match config_string(repo, "gpg.format").as_deref() {
            None | Some("openpgp") => Format::OpenPgp,
            Some("ssh") => Format::Ssh,
            Some(other) => {
                return Err(UserError::input(format!(
                    "gpg.format `{other}` is not supported for signing (openpgp and ssh are)"
                ))
                .into())
            }
        };
        let key = config_string(repo, "user.signingKey");
        let program = match format {
            Format::OpenPgp => config_string(repo, "gpg.openpgp.program")
                .or_else(|| config_string(repo, "gpg.program"))
                .unwrap_or_else(|| "gpg".into()),
            Format::Ssh => {
                config_string(repo, "gpg.ssh.program").unwrap_or_else(|| "ssh-keygen".into())
            }
        };
        if format == Format::Ssh && key.is_none() {
            return Err(
                UserError::input("gpg.format is ssh but user.signingKey is not set")
                    .hint("set user.signingKey to your SSH key file, as for `git commit -S`")
                    .into(),
            );
        }
        let key = key.or_else(|| {
            let c = repo.committer()?.ok()?;
            Some(format!("{} <{}>", c.name, c.email))
        });
        Ok(Signer {
            format,
            program,
            key,
        })
    }

    /// Sign `payload`: the armored signature, ending in a newline.
    ///
    /// Errors (exit 1): the program is missing, fails (its own message is passed on) or
    /// prints no signature.
    pub fn sign(&self, payload: &[u8]) -> Result<Vec<u8>> {
        match self.format {
            Format::OpenPgp => self.sign_openpgp(payload),
            Format::Ssh => self.sign_ssh(payload),
        }
    }

    /// Sign the file at `path` (read by the program from its standard input, however large),
    /// ssh signatures in [`PACKAGE_NAMESPACE`]: what `--sign` writes beside a package.
    ///
    /// Errors: as [`Signer::sign`]; the file cannot be opened.
    pub fn sign_file(&self, path: &std::path::Path) -> Result<Vec<u8>> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut cmd = Command::new(&self.program);
        match self.format {
            Format::OpenPgp => {
                cmd.arg("--status-fd=2").arg("-bsa");
                if let Some(k) = &self.key {
                    cmd.arg("-u").arg(k);
                }
            }
            Format::Ssh => {
                cmd.args(["-Y", "sign", "-n", PACKAGE_NAMESPACE, "-f"]);
                cmd.arg(self.ssh_key_file()?);
            }
        }
        let out = cmd
            .stdin(Stdio::from(file))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| {
                UserError::failure(format!("running {}: {e}", self.program))
                    .hint("install it, or set gpg.program (gpg.ssh.program for ssh) to its path")
            })?;
        let ok = out.status.success()
            && !out.stdout.is_empty()
            && (self.format == Format::Ssh
                || String::from_utf8_lossy(&out.stderr).contains("[GNUPG:] SIG_CREATED "));
        if !ok {
            return Err(UserError::failure(format!(
                "{} could not sign {}: {}",
                self.program,
                path.display(),
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .filter(|l| !l.starts_with("[GNUPG:]"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
            .hint("check user.signingKey and gpg.format, as for `git tag -s`")
            .into());
        }
        Ok(out.stdout)
    }

    /// Sign `payload` as [`Signer::sign_file`] does (ssh: [`PACKAGE_NAMESPACE`]).
    ///
    /// Errors: as [`Signer::sign_file`].
    pub fn sign_package_bytes(&self, payload: &[u8]) -> Result<Vec<u8>> {
        let dir = tempfile::tempdir().context("creating a temporary folder for the signature")?;
        let file = dir.path().join("payload");
        std::fs::write(&file, payload)?;
        self.sign_file(&file)
    }

    /// The key file for `ssh-keygen -f`: `user.signingKey` with `~/` expanded.
    fn ssh_key_file(&self) -> Result<std::path::PathBuf> {
        let key = self.key.as_deref().unwrap_or_default();
        if key.starts_with("key::") {
            return Err(UserError::input(
                "user.signingKey is a literal key (key::…); signing a package needs the key file",
            )
            .hint("set user.signingKey to the SSH key's file for --sign")
            .into());
        }
        Ok(home_path(key))
    }

    fn sign_openpgp(&self, payload: &[u8]) -> Result<Vec<u8>> {
        let mut cmd = Command::new(&self.program);
        cmd.arg("--status-fd=2").arg("-bsa");
        if let Some(k) = &self.key {
            cmd.arg("-u").arg(k);
        }
        let out = run_with_input(cmd, payload, &self.program)?;
        let status = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !status.contains("[GNUPG:] SIG_CREATED ") {
            return Err(UserError::failure(format!(
                "{} could not sign: {}",
                self.program,
                status
                    .lines()
                    .filter(|l| !l.starts_with("[GNUPG:]"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
            .hint("check user.signingKey and that the key is usable (`gpg --list-secret-keys`)")
            .into());
        }
        Ok(out.stdout)
    }

    fn sign_ssh(&self, payload: &[u8]) -> Result<Vec<u8>> {
        let dir = tempfile::tempdir().context("creating a temporary folder for ssh-keygen")?;
        let key = self.key.as_deref().unwrap_or_default();
        let mut cmd = Command::new(&self.program);
        cmd.args(["-Y", "sign", "-n", "git", "-f"]);
        if let Some(literal) = key.strip_prefix("key::") {
            let pubkey = dir.path().join("key.pub");
            std::fs::write(&pubkey, format!("{literal}\n"))?;
            cmd.arg(&pubkey).arg("-U");
        } else {
            cmd.arg(home_path(key));
        }
        let file = dir.path().join("payload");
        std::fs::write(&file, payload)?;
        cmd.arg(&file);
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| UserError::failure(format!("running {}: {e}", self.program)))?;
        if !out.status.success() {
            return Err(UserError::failure(format!(
                "{} could not sign: {}",
                self.program,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
            .hint("check user.signingKey (an SSH key file, or key::<public key> with ssh-agent)")
            .into());
        }
        let sig = std::fs::read(dir.path().join("payload.sig"))
            .with_context(|| format!("{} wrote no signature", self.program))?;
        Ok(sig)
    }
}

/// `path` with a leading `~/` read as `$HOME/`, as git reads `user.signingKey` and
/// `gpg.ssh.allowedSignersFile`.
fn home_path(path: &str) -> std::path::PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(rest))
            .unwrap_or_else(|| path.into()),
        None => path.into(),
    }
}

fn run_with_input(mut cmd: Command, input: &[u8], program: &str) -> Result<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            UserError::failure(format!("running {program}: {e}"))
                .hint("install it, or set gpg.program (gpg.ssh.program for ssh) to its path")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input)?;
    }
    Ok(child.wait_with_output()?)
}

/// Write `commit`, signed when `signer` is given (a `gpgsig` header after the committer, as
/// `git commit -S` writes it). Returns its id.
///
/// Errors: signing (see [`Signer::sign`]), writing the object.
pub fn write_commit(
    repo: &gix::Repository,
    commit: &gix::objs::Commit,
    signer: Option<&Signer>,
) -> Result<gix::ObjectId> {
    let Some(signer) = signer else {
        return Ok(repo.write_object(commit)?.detach());
    };
    let mut payload = Vec::new();
    gix::objs::WriteTo::write_to(commit, &mut payload)?;
    let sig = signer.sign(&payload)?;
    let end = payload
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| p + 1)
        .ok_or_else(|| anyhow::anyhow!("a commit without a message separator"))?;
    // Continuation lines start with a space (git's add_header_signature).
    let text = String::from_utf8_lossy(&sig);
    let mut header = String::from("gpgsig");
    for (i, line) in text.trim_end_matches('\n').split('\n').enumerate() {
        header.push_str(if i == 0 { " " } else { "\n " });
        header.push_str(line);
    }
    header.push('\n');
    let mut bytes = payload[..end].to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&payload[end..]);
    Ok(repo
        .write_object(Raw {
            kind: gix::objs::Kind::Commit,
            bytes: &bytes,
        })?
        .detach())
}

/// Write annotated tag `tag`, signed when `signer` is given (the signature after the message,
/// as `git tag -s` writes it). Returns its id.
///
/// Errors: signing, writing the object.
pub fn write_tag(
    repo: &gix::Repository,
    tag: &gix::objs::Tag,
    signer: Option<&Signer>,
) -> Result<gix::ObjectId> {
    let Some(signer) = signer else {
        return Ok(repo.write_object(tag)?.detach());
    };
    let mut payload = Vec::new();
    gix::objs::WriteTo::write_to(tag, &mut payload)?;
    if !payload.ends_with(b"\n") {
        payload.push(b'\n');
    }
    let sig = signer.sign(&payload)?;
    let mut bytes = payload;
    bytes.extend_from_slice(&sig);
    Ok(repo
        .write_object(Raw {
            kind: gix::objs::Kind::Tag,
            bytes: &bytes,
        })?
        .detach())
}

/// Write the annotated tag object `name` on `target` (a commit) with `message`, tagged by the
/// committer identity, signed when `sign` is true or `tag.gpgSign` is set, as `git tag -a`/`-s`
/// would. Its ref is created by [`crate::plan::apply`], in the transaction of every other ref.
///
/// Errors: no identity (exit 2), signing.
pub fn tag_object(
    repo: &gix::Repository,
    name: &str,
    target: gix::ObjectId,
    message: &str,
    sign: bool,
) -> Result<gix::ObjectId> {
    let tagger = repo
        .committer()
        .ok_or_else(|| {
            UserError::input("an annotated tag needs an identity: set user.name and user.email")
        })?
        .context("reading the committer identity")?
        .to_owned()?;
    let signer = if sign || wanted(repo, "tag.gpgSign") {
        Some(Signer::from_config(repo)?)
    } else {
        None
    };
    let mut message = message.to_string();
    if !message.ends_with('\n') {
        message.push('\n');
    }
    let tag = gix::objs::Tag {
        target,
        target_kind: gix::objs::Kind::Commit,
        name: name.into(),
        tagger: Some(tagger),
        message: message.into(),
        signature: None,
    };
    write_tag(repo, &tag, signer.as_ref())
}

/// How a package signature is checked ([`verify_detached`]): the programs and the ssh allowed
/// signers file, from git's configuration where there is one.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// `gpg.ssh.program` (default `ssh-keygen`).
    pub ssh_program: String,
    /// `gpg.openpgp.program` or `gpg.program` (default `gpg`).
    pub gpg_program: String,
    /// `gpg.ssh.allowedSignersFile` (or `verify --allowed-signers`).
    pub allowed_signers: Option<std::path::PathBuf>,
}

impl Verifier {
    /// From git's settings: the repository's when run inside one, else the global and system
    /// files and `git -c`; `allowed` overrides `gpg.ssh.allowedSignersFile`.
    pub fn from_git(allowed: Option<std::path::PathBuf>) -> Self {
        let get = |key: &str| -> Option<String> {
            if let Ok(repo) = gix::discover(".") {
                return config_string(&repo, key);
            }
            let params = crate::settings::command_line_config();
            if let Some((_, v)) = params
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            {
                return Some(v.clone());
            }
            let globals = gix::config::File::from_globals().ok()?;
            globals
                .string(key)
                .map(|v| v.to_string())
                .filter(|v| !v.is_empty())
        };
        Verifier {
            ssh_program: get("gpg.ssh.program").unwrap_or_else(|| "ssh-keygen".into()),
            gpg_program: get("gpg.openpgp.program")
                .or_else(|| get("gpg.program"))
                .unwrap_or_else(|| "gpg".into()),
            allowed_signers: allowed
                .or_else(|| get("gpg.ssh.allowedSignersFile").map(|p| home_path(&p))),
        }
    }

    /// Check the detached signature `sig` (armored ssh or OpenPGP) of the file at `data`: the
    /// signer (`bot@example.com`, or gpg's key and user id) when good, else why not.
    pub fn verify_detached(&self, data: &std::path::Path, sig: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(sig);
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let sig_file = dir.path().join("data.sig");
        std::fs::write(&sig_file, sig).map_err(|e| e.to_string())?;
        let input = || {
            std::fs::File::open(data)
                .map(Stdio::from)
                .map_err(|e| e.to_string())
        };
        if text.contains("-----BEGIN SSH SIGNATURE-----") {
            let Some(allowed) = &self.allowed_signers else {
                return Err("an ssh signature, and no allowed signers to check it against (set gpg.ssh.allowedSignersFile, or --allowed-signers FILE)".into());
            };
            let found = Command::new(&self.ssh_program)
                .args(["-Y", "find-principals", "-s"])
                .arg(&sig_file)
                .arg("-f")
                .arg(allowed)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("running {}: {e}", self.ssh_program))?;
            let principals = String::from_utf8_lossy(&found.stdout).into_owned();
            let Some(principal) = principals.lines().map(str::trim).find(|l| !l.is_empty()) else {
                return Err(format!(
                    "signed with a key {} does not list",
                    allowed.display()
                ));
            };
            let out = Command::new(&self.ssh_program)
                .args(["-Y", "verify", "-n", PACKAGE_NAMESPACE, "-f"])
                .arg(allowed)
                .arg("-I")
                .arg(principal)
                .arg("-s")
                .arg(&sig_file)
                .stdin(input()?)
                .output()
                .map_err(|e| format!("running {}: {e}", self.ssh_program))?;
            if out.status.success() {
                Ok(format!("ssh signature of {principal}"))
            } else {
                Err(format!(
                    "the ssh signature does not match: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        } else if text.contains("-----BEGIN PGP SIGNATURE-----") {
            let out = Command::new(&self.gpg_program)
                .args(["--status-fd=1", "--verify"])
                .arg(&sig_file)
                .arg("-")
                .stdin(input()?)
                .output()
                .map_err(|e| format!("running {}: {e}", self.gpg_program))?;
            let status = String::from_utf8_lossy(&out.stdout);
            match status
                .lines()
                .find_map(|l| l.strip_prefix("[GNUPG:] GOODSIG "))
            {
                Some(who) if out.status.success() => Ok(format!("OpenPGP signature of {who}")),
                _ => Err(format!(
                    "the OpenPGP signature does not verify: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
            }
        } else {
            Err("not an ssh or OpenPGP signature".into())
        }
    }
}
