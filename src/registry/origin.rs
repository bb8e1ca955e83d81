//! `images/images_origin.yaml` (seed 002): `- src: k8s.gcr.io/pause` / `dest: library/pause`, the
//! upstream source of an image kept under another name in the internal registry.

use anyhow::Result;

use crate::error::UserError;

/// One origin entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Upstream repository, without tag (`k8s.gcr.io/pause`).
    pub src: String,
    /// Repository path in the internal registry, without registry and tag (`library/pause`).
    pub dest: String,
    /// 1-based line of the entry.
    pub line: usize,
}

/// Parse the file (`rel` names it in errors).
///
/// Errors (exit 2): not YAML, not a list, an entry without `src` or `dest`, a `dest` twice.
pub fn parse(rel: &str, bytes: &[u8]) -> Result<Vec<Origin>> {
    let v = crate::yaml::parse(bytes)
        .map_err(|e| UserError::input(format!("{rel}:{}: not valid YAML: {}", e.line, e.msg)))?;
    let items = match v {
        serde_yaml::Value::Null => return Ok(Vec::new()),
        serde_yaml::Value::Sequence(s) => s,
        _ => {
            return Err(UserError::input(format!(
                "{rel}: expected a list of `- src: …` / `dest: …` entries"
            ))
            .into())
        }
    };
    let text = String::from_utf8_lossy(bytes);
    let src_lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("- "))
        .map(|(i, _)| i + 1)
        .collect();
    let mut out: Vec<Origin> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let line = src_lines.get(i).copied().unwrap_or(1);
        let get = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_str())
                .map(|s| s.trim().to_string())
        };
        let (Some(src), Some(dest)) = (get("src"), get("dest")) else {
            return Err(
                UserError::input(format!("{rel}:{line}: entry needs `src` and `dest`"))
                    .hint("write `- src: k8s.gcr.io/pause` and `dest: library/pause`")
                    .into(),
            );
        };
        if let Some(o) = out.iter().find(|o| o.dest == dest) {
            return Err(UserError::input(format!(
                "{rel}:{line}: dest `{dest}` is already the destination of `{}` (line {})",
                o.src, o.line
            ))
            .into());
        }
        out.push(Origin { src, dest, line });
    }
    Ok(out)
}

/// The upstream source of internal path `path` (`library/pause:3.9`): `k8s.gcr.io/pause:3.9`.
pub fn source_of(origins: &[Origin], path: &str) -> Option<String> {
    let (repo, suffix) = crate::image::reference::name_and_suffix(path);
    origins
        .iter()
        .find(|o| o.dest == repo)
        .map(|o| format!("{}{suffix}", o.src))
}

/// The origin entries at `tree` (`<imagesPath>/images_origin.yaml`; none when absent).
///
/// Errors: as [`parse`]; unreadable objects.
pub fn at(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    settings: &crate::settings::Settings,
) -> Result<Vec<Origin>> {
    let rel = crate::files::join(&settings.images_path, "images_origin.yaml");
    match crate::git::blob_at(repo, tree, &rel)? {
        Some(b) => parse(&rel, &b),
        None => Ok(Vec::new()),
    }
}
