//! Symlinks inside a chart, resolved the way Helm follows them when it packages a chart (helm
//! `internal/sympath`): within the chart's files only, as a file system rooted at the chart folder.

use std::collections::VecDeque;
use std::ops::Bound;

use crate::files::{FileEntry, FileKind, Files};

/// Whether some file of `files` lies below folder `dir` (`""` is the root).
pub(crate) fn is_dir(files: &Files, dir: &str) -> bool {
    !children(files, dir).is_empty()
}

/// Names directly inside folder `real` (`""` is the root), each once.
pub(crate) fn children<'f>(files: &'f Files, real: &str) -> Vec<&'f str> {
    let prefix = if real.is_empty() {
        String::new()
    } else {
        format!("{real}/")
    };
    let mut names: Vec<&str> = Vec::new();
    let range = files.range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded));
    for (path, _) in range {
        let Some(rest) = path.strip_prefix(&prefix) else {
            break;
        };
        let name = rest.split('/').next().unwrap_or(rest);
        // Paths below one folder are contiguous in a sorted map, so duplicates are adjacent.
        if !name.is_empty() && names.last() != Some(&name) {
            names.push(name);
        }
    }
    names
}

/// What a symlink resolves to inside the chart.
pub(crate) enum Target<'f> {
    /// A regular or executable file.
    File(&'f FileEntry),
    /// A folder: its path relative to the chart root (`""` is the root).
    Dir(String),
}

/// Linux's limit on links followed while resolving one path (`MAXSYMLINKS`).
const MAX_LINK_HOPS: usize = 40;

/// The target of link `path` as text. Errors (a reason) when it is not UTF-8 or is absolute.
pub(crate) fn link_text<'f>(
    path: &str,
    entry: &'f FileEntry,
) -> std::result::Result<&'f str, String> {
    let text = std::str::from_utf8(&entry.data)
        .map_err(|_| format!("`{path}` has a target that is not UTF-8"))?;
    if text.starts_with('/') {
        return Err(format!(
            "`{path}` -> `{text}` is absolute, so it leaves the chart"
        ));
    }
    Ok(text)
}

/// Resolve symlink `link` (a path in `files`) the way a file system rooted at the chart folder
/// would: component by component, `..` physical, links inside the target followed too.
/// Errors with the reason, for the caller to wrap.
pub(crate) fn resolve_link<'f>(
    files: &'f Files,
    link: &str,
) -> std::result::Result<Target<'f>, String> {
    let mut cur: Vec<String> = link.split('/').map(str::to_string).collect();
    cur.pop();
    let mut pending: VecDeque<String> = VecDeque::new();
    let mut hops = 0;
    if let Some(entry) = files.get(link) {
        pending.extend(link_text(link, entry)?.split('/').map(str::to_string));
    }
    while let Some(comp) = pending.pop_front() {
        match comp.as_str() {
            "" | "." => continue,
            ".." => {
                if cur.pop().is_none() {
                    return Err("leaves the chart folder".to_string());
                }
                continue;
            }
            _ => cur.push(comp),
        }
        let path = cur.join("/");
        match files.get(&path) {
            Some(entry) if entry.kind == FileKind::Symlink => {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return Err(format!(
                        "is a loop of symlinks (more than {MAX_LINK_HOPS} links followed)"
                    ));
                }
                cur.pop();
                let text = link_text(&path, entry)?;
                for c in text.split('/').rev() {
                    pending.push_front(c.to_string());
                }
            }
            Some(_) if !pending.is_empty() => {
                return Err(format!("goes through `{path}`, a file, not a folder"));
            }
            Some(_) => {}
            None if is_dir(files, &path) => {}
            None => return Err(format!("dangles: `{path}` does not exist in the chart")),
        }
    }
    let path = cur.join("/");
    Ok(match files.get(&path) {
        Some(entry) => Target::File(entry),
        None => Target::Dir(path),
    })
}
