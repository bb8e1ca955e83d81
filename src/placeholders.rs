//! `[[ … ]]` placeholders in collected files (seed 000, "更新 repo tag"): `[[ imageTagFromGitTag ]]`
//! becomes the component's collected tag, `[[ TagOfRepo(NAME) ]]` the collected tag of repo `NAME`;
//! every other `[[ … ]]` (cluster variables such as `[[ registry_release ]]`) is left as it is.

/// `data` without a leading UTF-8 byte-order mark (editors on Windows write one; YAML parsers
/// then fail with misleading errors, seen on real charts).
pub fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data)
}

/// Whether `data` is text by git's rule: no NUL byte in the first 8000 bytes.
pub fn is_text(data: &[u8]) -> bool {
    !data[..data.len().min(8000)].contains(&0)
}

/// An unknown `TagOfRepo(NAME)`: 1-based line and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRepo {
    /// 1-based line of the placeholder.
    pub line: usize,
    /// The `NAME` inside `TagOfRepo(NAME)`.
    pub name: String,
}

/// [`substitute`] in every text file of `files` (symlinks and binary files stay as they are).
/// A file with an unknown `TagOfRepo` is left as it was and the others are still substituted;
/// the first such file (`(path, placeholder)`, in path order) is returned as the error.
pub fn substitute_files(
    files: &mut crate::files::Files,
    own_tag: &str,
    tag_of: impl Fn(&str) -> Option<String>,
) -> Result<(), (String, UnknownRepo)> {
    let mut first = None;
    for (rel, entry) in files.iter_mut() {
        if entry.kind == crate::files::FileKind::Symlink || !is_text(&entry.data) {
            continue;
        }
        match substitute(&entry.data, own_tag, &tag_of) {
            Ok(d) => entry.data = d,
            Err(u) => {
                first.get_or_insert((rel.clone(), u));
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// Replace the placeholders in `data`. `own_tag` is the component's collected tag; `tag_of(name)`
/// answers `TagOfRepo(name)`. Spaces inside the brackets are optional (`[[imageTagFromGitTag]]`).
///
/// Returns the new bytes, or the first `TagOfRepo` whose repo is unknown.
pub fn substitute(
    data: &[u8],
    own_tag: &str,
    tag_of: impl Fn(&str) -> Option<String>,
) -> Result<Vec<u8>, UnknownRepo> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    let mut line = 1usize;
    while let Some(start) = find(rest, b"[[") {
        let Some(len) = find(&rest[start + 2..], b"]]") else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + len];
        let before = &rest[..start];
        line += before.iter().filter(|&&b| b == b'\n').count();
        out.extend_from_slice(before);
        let whole = &rest[start..start + 2 + len + 2];
        let trimmed = trim(inner);
        let replacement = if trimmed == b"imageTagFromGitTag" {
            Some(own_tag.to_string())
        } else if let Some(arg) = trimmed
            .strip_prefix(b"TagOfRepo(")
            .and_then(|r| r.strip_suffix(b")"))
        {
            let name = String::from_utf8_lossy(trim(arg)).into_owned();
            match tag_of(&name) {
                Some(t) => Some(t),
                None => return Err(UnknownRepo { line, name }),
            }
        } else {
            None
        };
        match replacement {
            Some(r) => out.extend_from_slice(r.as_bytes()),
            None => out.extend_from_slice(whole),
        }
        line += whole.iter().filter(|&&b| b == b'\n').count();
        rest = &rest[start + 2 + len + 2..];
    }
    out.extend_from_slice(rest);
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(name: &str) -> Option<String> {
        (name == "charts").then(|| "v1.2.14".to_string())
    }

    #[test]
    fn replaces_known_keeps_others() {
        let src = b"image: '[[ registry_release ]]/hodor:[[ imageTagFromGitTag ]]'\nt: [[TagOfRepo(charts)]]\n";
        let out = substitute(src, "v0.5.4", tags).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "image: '[[ registry_release ]]/hodor:v0.5.4'\nt: v1.2.14\n"
        );
    }

    #[test]
    fn unknown_repo_names_line() {
        let src = b"a: 1\nb: 2\nimage: x:[[ TagOfRepo(nope) ]]\n";
        let err = substitute(src, "v1", tags).unwrap_err();
        assert_eq!(
            err,
            UnknownRepo {
                line: 3,
                name: "nope".into()
            }
        );
    }

    #[test]
    fn unterminated_is_left_alone() {
        let src = b"x: [[ imageTagFromGitTag";
        assert_eq!(substitute(src, "v1", tags).unwrap(), src.to_vec());
    }

    #[test]
    fn binary_detection() {
        assert!(is_text(b"abc"));
        assert!(!is_text(b"a\0c"));
    }
}
