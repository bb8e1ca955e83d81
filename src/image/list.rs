//! The image list files `images_<kind>.list` (seed 002): one reference a line, sorted, `#`
//! comments allowed; `<kind>` is `platform` for what the charts deploy, or the kind of a list a
//! chart carries.

use std::collections::BTreeSet;

/// Parse an `images_<kind>.list` file: one image per line, trimmed, blank lines and `#` comment lines skipped.
///
/// Lines are returned in file order, duplicates kept.
#[must_use]
pub fn parse(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// `images_extra.list` -> Some("extra"); `images_platform.list` -> Some("platform"); anything else None. Only the file name is looked at.
///
/// A path is accepted too; only its last component (after `/` or `\`) counts.
/// The kind must be non-empty.
#[must_use]
pub fn kind(file_name: &str) -> Option<&str> {
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    name.strip_prefix("images_")?
        .strip_suffix(".list")
        .filter(|kind| !kind.is_empty())
}

/// Render a sorted unique list as file text: one per line, trailing newline, empty string for an empty set.
#[must_use]
pub fn text(images: &BTreeSet<String>) -> String {
    let mut text = String::new();
    for image in images {
        text.push_str(image);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_list_files() {
        let file = "# extra images\n\n  docker.io/a:1  \nb:2\n   # indented comment\nb:2\n";
        assert_eq!(parse(file), ["docker.io/a:1", "b:2", "b:2"]);
        assert!(parse("").is_empty());

        assert_eq!(kind("images_extra.list"), Some("extra"));
        assert_eq!(kind("images_platform.list"), Some("platform"));
        assert_eq!(kind("images/images_platform.list"), Some("platform"));
        assert_eq!(kind("images_.list"), None);
        assert_eq!(kind("images_extra.txt"), None);
        assert_eq!(kind("my_images_extra.list"), None);

        let set: BTreeSet<String> = ["b:2", "a:1"].into_iter().map(String::from).collect();
        assert_eq!(text(&set), "a:1\nb:2\n");
        assert_eq!(text(&BTreeSet::new()), "");
    }
}
