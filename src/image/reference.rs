//! Image references: the one parser of `[host[:port]/]path[:tag][@algo:hex]` (distribution's
//! reference grammar with docker's defaults), the textual splits the registry code and the image
//! diffs use, and the one plausibility check for strings found in charts. Every other module asks
//! here (as Zarf's `transform.ParseImageRef` and Hauler's `reference.Parse` are used everywhere).

/// A parsed image reference. `registry` and `repository` carry docker's defaults (`docker.io`,
/// `library/`); `tag` is `None` when only a digest was written, `latest` when neither was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host, with its port: `quay.io`, `127.0.0.1:5000`, `docker.io`.
    pub registry: String,
    /// Repository path on the registry: `jetstack/cert-manager-controller`, `library/busybox`.
    pub repository: String,
    /// Tag: `v1.14.4`; `latest` when neither tag nor digest was written.
    pub tag: Option<String>,
    /// Digest `algo:hex`: `sha256:…`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parse an image reference as distribution's reference grammar does
    /// (`[host[:port]/]path[:tag][@algo:hex]`, github.com/distribution/reference `regexp.go`), with
    /// its defaults: no host -> `docker.io` (`index.docker.io` is read as it), a one-part path on
    /// Docker Hub -> `library/…`, neither tag nor digest -> `latest`. The same answers as
    /// `oci_spec::distribution::Reference::from_str`, without its regular expression (compiling it
    /// took 50 ms of every registry command); ASCII only, as the grammar (Go's `\w`) is.
    ///
    /// Errors: a description of the first rule broken.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
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
        let (registry, repository, _) = split(&name);
        if repository.chars().any(|c| c.is_ascii_uppercase()) {
            return Err("repository name must be lowercase".into());
        }
        if repository.len() > 255 {
            return Err("repository name must not be more than 255 characters".into());
        }
        Ok(ImageRef {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        })
    }
}

/// A reference split before its digest (`@sha256:…`, which wins over a tag written with it) or
/// else before its tag (`:1.0`), the suffix `""` when it has neither: `host:5000/a/b:1` ->
/// (`host:5000/a/b`, `:1`). A port is not a tag: only a `:` after the last `/` starts one.
pub fn name_and_suffix(reference: &str) -> (&str, &str) {
    if let Some(at) = reference.find('@') {
        return reference.split_at(at);
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    let cut = reference[last_slash..]
        .rfind(':')
        .map_or(reference.len(), |c| last_slash + c);
    reference.split_at(cut)
}

/// Split a reference into `(registry host, repository path, tag or digest suffix)` with docker's
/// defaults: no host -> `docker.io`, a single path segment -> `library/…`, no tag -> `:latest`.
pub fn split(reference: &str) -> (String, String, String) {
    let (name, suffix) = match name_and_suffix(reference) {
        (name, "") => (name, ":latest".to_string()),
        (name, suffix) => (name, suffix.to_string()),
    };
    let (host, path) = match name.split_once('/') {
        Some((h, p)) if h.contains('.') || h.contains(':') || h == "localhost" => {
            (h.to_string(), p.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let path = if host == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    (host, path, suffix)
}

/// The repository part of an image reference, without tag or digest, as written (no defaults):
/// `reg:5000/release/app:v1` -> `reg:5000/release/app`; `a/b:1@sha256:…` -> `a/b`.
pub fn repository(r: &str) -> &str {
    let r = r.split('@').next().unwrap_or(r);
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => &r[..i],
        _ => r,
    }
}

/// Whether the first path component of a repository names a registry
/// (`docker.io/...`, `localhost:5000/...`, `localhost/...`, `[[ reg ]]/...`).
pub fn has_registry(path: &str) -> bool {
    match path.split_once('/') {
        Some((first, _)) => {
            first.contains(['.', ':']) || first == "localhost" || first.starts_with("[[")
        }
        None => false,
    }
}

/// Whether a string found in a chart (rendered, or read without rendering) can name an image:
/// non-empty; every `[[ … ]]` placeholder closed; no whitespace or control character outside
/// them; some letter or digit; not a bare separator left by empty values (ending in `:`, `/` or
/// `@`). Not the grammar ([`ImageRef::parse`]): placeholders and upper case stay, so that a
/// list can show what a chart says and `check` can name what is wrong with it.
pub fn is_plausible(s: &str) -> bool {
    let bad = |c: char| c.is_whitespace() || c.is_control();
    let mut outside = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("[[") {
        outside.push_str(&rest[..open]);
        match rest[open..].find("]]") {
            Some(close) => {
                outside.push('x');
                rest = &rest[open + close + 2..];
            }
            None => return false,
        }
    }
    outside.push_str(rest);
    !outside.is_empty()
        && !outside.chars().any(bad)
        && outside.chars().any(|c| c.is_ascii_alphanumeric())
        && !outside.ends_with([':', '/', '@'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_client::Reference;

    impl ImageRef {
        /// `(registry, repository, tag, digest)` as oci-spec's `Reference` reports them.
        pub fn to_oci_parts(&self) -> (String, String, Option<String>, Option<String>) {
            let tag = match (&self.tag, &self.digest) {
                (None, None) => Some("latest".to_string()),
                (t, _) => t.clone(),
            };
            (
                self.registry.clone(),
                self.repository.clone(),
                tag,
                self.digest.clone(),
            )
        }
    }

    /// Ours and oci-spec's regular-expression parser agree, field by field, valid or not (except
    /// where distribution itself rejects what the regular expression lets through: uppercase in
    /// a Docker Hub path, and non-ASCII tags: Go's `\w` is ASCII, Rust's is not).
    #[test]
    fn parse_agrees_with_oci_spec() {
        let c_ok = |s: &str| ImageRef::parse(s).is_ok();
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
            let ours = ImageRef::parse(c).map(|r| r.to_oci_parts());
            let theirs: Result<Reference, _> = c.parse();
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(
                    a.clone(),
                    (
                        b.registry().to_string(),
                        b.repository().to_string(),
                        b.tag().map(str::to_string),
                        b.digest().map(str::to_string)
                    ),
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
            ImageRef::parse("Foo/bar").unwrap_err(),
            "repository name must be lowercase"
        );
    }

    #[test]
    fn references_split_as_docker_reads_them() {
        assert_eq!(
            split("nginx"),
            ("docker.io".into(), "library/nginx".into(), ":latest".into())
        );
        assert_eq!(
            split("localhost:5000/a/b:1@sha256:00"),
            ("localhost:5000".into(), "a/b:1".into(), "@sha256:00".into())
        );
        assert_eq!(
            split("quay.io/x/y:2"),
            ("quay.io".into(), "x/y".into(), ":2".into())
        );
        assert_eq!(
            name_and_suffix("h:5/a/b:1@sha256:0"),
            ("h:5/a/b:1", "@sha256:0")
        );
        assert_eq!(name_and_suffix("h:5/a/b:1"), ("h:5/a/b", ":1"));
        assert_eq!(name_and_suffix("h:5/a"), ("h:5/a", ""));
        assert_eq!(
            split("host:5000/x"),
            ("host:5000".into(), "x".into(), ":latest".into())
        );
    }

    #[test]
    fn plausible_references() {
        assert!(is_plausible("[[ a ]]/x:[[ b ]]"));
        assert!(is_plausible("busybox"));
        assert!(!is_plausible(""));
        assert!(!is_plausible("a\tb"));
        assert!(!is_plausible("a\u{1}b"));
        assert!(!is_plausible("[[ a ]]/x:[[ b"));
        for empty_parts in [":", "/:", "@", "repo:", "reg/", "x@"] {
            assert!(!is_plausible(empty_parts), "{empty_parts:?}");
        }
        assert_eq!(
            repository("reg:5000/release/app:v1"),
            "reg:5000/release/app"
        );
        assert_eq!(repository("a/b:1@sha256:00"), "a/b");
        assert!(has_registry("localhost/x") && has_registry("[[ r ]]/x") && !has_registry("a/b"));
    }

    proptest::proptest! {
        /// On any string of the reference alphabet (lower case: upper case in a Docker Hub path
        /// is where distribution itself rejects what oci-spec's expression accepts), the one
        /// parser and oci-spec agree: both refuse, or both give the same four parts.
        #[test]
        fn parse_agrees_with_oci_spec_on_any_string(s in "[a-z0-9._:/@-]{0,24}(@sha256:[0-9a-f]{64})?") {
            let ours = ImageRef::parse(&s).map(|r| r.to_oci_parts());
            let theirs: Result<Reference, _> = s.parse();
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => proptest::prop_assert_eq!(
                    a.clone(),
                    (
                        b.registry().to_string(),
                        b.repository().to_string(),
                        b.tag().map(str::to_string),
                        b.digest().map(str::to_string)
                    )
                ),
                (Err(_), Err(_)) => {}
                _ => proptest::prop_assert!(false, "{:?}: ours {:?}, oci-spec {:?}", s, ours, theirs),
            }
        }
    }
}

/// `image` named by project (`release.placeholderProjects`, the caicloud layout, seed 000's
/// image lists): a leading `[[ NAME ]]/` whose NAME stands for a project is replaced by
/// `PROJECT/` (`[[ registry_release ]]/app-admin:v0.3.30` -> `release/app-admin:v0.3.30`,
/// `[[registry_library]]/busybox:1.30.0` -> `library/busybox:1.30.0`); any other image is
/// returned as it is.
pub fn by_project(image: &str, projects: &[(String, String)]) -> String {
    if let Some(rest) = image.strip_prefix("[[") {
        if let Some(close) = rest.find("]]") {
            let name = rest[..close].trim();
            let tail = &rest[close + 2..];
            if let (Some(path), Some((_, project))) = (
                tail.strip_prefix('/'),
                projects.iter().find(|(p, _)| p == name),
            ) {
                return format!("{project}/{path}");
            }
        }
    }
    image.to_string()
}

#[cfg(test)]
mod project_tests {
    use super::by_project;

    #[test]
    fn placeholders_become_projects() {
        let p = vec![
            ("registry_release".to_string(), "release".to_string()),
            ("registry_library".to_string(), "library".to_string()),
        ];
        assert_eq!(
            by_project("[[ registry_release ]]/app-admin:v0.3.30", &p),
            "release/app-admin:v0.3.30"
        );
        assert_eq!(
            by_project("[[registry_library]]/busybox:1.30.0", &p),
            "library/busybox:1.30.0"
        );
        assert_eq!(
            by_project("[[ cargo_registry ]]/x:1", &p),
            "[[ cargo_registry ]]/x:1"
        );
        assert_eq!(by_project("quay.io/x:1", &p), "quay.io/x:1");
        assert_eq!(
            by_project("[[ registry_release ]]", &p),
            "[[ registry_release ]]"
        );
    }
}
