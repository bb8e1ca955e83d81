//! `.helmignore`: which files of a chart Helm leaves out when it packages or renders it (helm
//! `pkg/ignore/rules.go`, <https://helm.sh/docs/chart_template_guide/helm_ignore_file/>): one
//! pattern a line, Go `filepath.Match` globs, `!` re-includes, a trailing `/` for folders, and
//! Helm's built-in `templates/.?*` after the file's own rules.

use anyhow::Result;

use crate::chart::links::{resolve_link, Target};
use crate::error::UserError;
use crate::files::{FileKind, Files};

/// Parsed `.helmignore` plus Helm's built-in rule.
pub(crate) struct IgnoreRules {
    rules: Vec<IgnoreRule>,
}

/// One `.helmignore` line.
struct IgnoreRule {
    /// `!pattern`: re-include.
    negate: bool,
    /// `pattern/`: folders only.
    dir_only: bool,
    /// Match the last name only (no `/` in the pattern) or the whole relative path.
    name_only: bool,
    glob: Vec<Tok>,
}

/// Helm adds this after the chart's rules (`Rules::AddDefaults`): dot files in `templates/`.
const HELM_DEFAULT_RULE: &str = "templates/.?*";

impl IgnoreRules {
    /// Read the chart's `.helmignore` (following a link) and add Helm's default rule.
    pub(crate) fn load(chart: &str, files: &Files) -> Result<Self> {
        let text = match files.get(".helmignore") {
            None => String::new(),
            Some(entry) => {
                let entry = if entry.kind == FileKind::Symlink {
                    match resolve_link(files, ".helmignore") {
                        Ok(Target::File(e)) => e,
                        Ok(Target::Dir(_)) => {
                            crate::bail_input!(
                                "chart `{chart}`: `.helmignore` is a link to a folder"
                            )
                        }
                        Err(reason) => crate::bail_input!(
                            "chart `{chart}`: symlink `.helmignore` -> `{}` {reason}",
                            String::from_utf8_lossy(&entry.data)
                        ),
                    }
                } else {
                    entry
                };
                match String::from_utf8(entry.data.clone()) {
                    Ok(text) => text,
                    Err(_) => {
                        crate::bail_input!("chart `{chart}`: `.helmignore` is not UTF-8 text")
                    }
                }
            }
        };
        Self::from_text(chart, &text)
    }

    /// Parse `.helmignore` text (`chart` names it in errors) and add Helm's default rule.
    ///
    /// Errors (exit 2): a line Helm refuses (`**`, a malformed `[...]`), naming it.
    pub(crate) fn from_text(chart: &str, text: &str) -> Result<Self> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            match IgnoreRule::parse(line) {
                Ok(Some(rule)) => rules.push(rule),
                Ok(None) => {}
                Err(reason) => {
                    return Err(UserError::input(format!(
                        "{chart}/.helmignore line {}: `{}` {reason}",
                        n + 1,
                        line.trim()
                    ))
                    .hint("Helm supports `*`, `?`, `[...]`, `!` and a trailing `/`; see https://helm.sh/docs/chart_template_guide/helm_ignore_file/")
                    .into())
                }
            }
        }
        if let Ok(Some(rule)) = IgnoreRule::parse(HELM_DEFAULT_RULE) {
            rules.push(rule);
        }
        Ok(IgnoreRules { rules })
    }

    /// Whether file `path` (relative to the chart root) is left out, itself or through one of
    /// its folders, as Helm's loader walks a chart folder (an ignored folder is skipped whole).
    pub(crate) fn ignores_file(&self, path: &str) -> bool {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            end += i;
            if self.ignored(&path[..end], true) {
                return true;
            }
            end += 1;
        }
        self.ignored(path, false)
    }

    /// Whether `path` (relative to the chart root; a folder when `is_dir`) is left out: the last
    /// matching rule decides, `!` rules re-include.
    pub(crate) fn ignored(&self, path: &str, is_dir: bool) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        let mut ignored = false;
        for rule in &self.rules {
            if rule.dir_only && !is_dir {
                continue;
            }
            let subject = if rule.name_only { name } else { path };
            if glob_match(&rule.glob, subject) {
                ignored = !rule.negate;
            }
        }
        ignored
    }
}

impl IgnoreRule {
    /// Parse one line like Helm's `parseRule`: `None` for blank lines and comments.
    fn parse(line: &str) -> std::result::Result<Option<Self>, String> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        if line.contains("**") {
            return Err("uses `**`, which Helm does not support".to_string());
        }
        let (negate, rest) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (dir_only, rest) = match rest.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let (name_only, rest) = match rest.strip_prefix('/') {
            Some(rest) => (false, rest),
            None => (!rest.contains('/'), rest),
        };
        Ok(Some(IgnoreRule {
            negate,
            dir_only,
            name_only,
            glob: parse_glob(rest)?,
        }))
    }
}

/// One element of a glob (Go `filepath.Match` syntax).
#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `?`
    One,
    /// `*`
    Star,
    /// `[...]`: inclusive ranges, negated with `^`.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Parse a glob; errors (a reason) on a lone trailing `\`, an unclosed or empty `[...]`, or an
/// unescaped `-`/`]` where a class character is expected, as Go's `filepath.Match` does.
fn parse_glob(pattern: &str) -> std::result::Result<Vec<Tok>, String> {
    const UNCLOSED: &str = "has a `[` without its `]`";
    fn class_char(
        c: char,
        it: &mut std::iter::Peekable<std::str::Chars<'_>>,
    ) -> std::result::Result<char, String> {
        match c {
            '-' | ']' => Err("has an unescaped `-` or `]` inside `[...]`".to_string()),
            '\\' => it.next().ok_or_else(|| UNCLOSED.to_string()),
            c => Ok(c),
        }
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::One),
            '\\' => match it.next() {
                Some(c) => toks.push(Tok::Lit(c)),
                None => return Err("ends with a lone `\\`".to_string()),
            },
            '[' => {
                let negated = it.next_if_eq(&'^').is_some();
                let mut ranges = Vec::new();
                loop {
                    let c = it.next().ok_or_else(|| UNCLOSED.to_string())?;
                    if c == ']' && !ranges.is_empty() {
                        break;
                    }
                    let lo = class_char(c, &mut it)?;
                    let hi = if it.next_if_eq(&'-').is_some() {
                        let c = it.next().ok_or_else(|| UNCLOSED.to_string())?;
                        class_char(c, &mut it)?
                    } else {
                        lo
                    };
                    ranges.push((lo, hi));
                }
                toks.push(Tok::Class { negated, ranges });
            }
            c => toks.push(Tok::Lit(c)),
        }
    }
    Ok(toks)
}

/// Whether `glob` matches all of `s`. `*` and `?` never match `/`.
/// Go's `filepath.Match` of a parsed glob: `*` matches any run of characters but `/`. Greedy,
/// with the last `*` taking one more character on a mismatch; since no `*` crosses a `/`, that
/// finds every match (the dynamic-programming form is the tests' oracle). No allocation: it runs
/// for every file of every packaged chart.
fn glob_match(glob: &[Tok], s: &str) -> bool {
    let (mut g, mut p) = (0usize, 0usize);
    // The token after the last `*`, and where that `*`'s match ends.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let c = s[p..].chars().next();
        match (glob.get(g), c) {
            (Some(Tok::Star), _) => {
                star = Some((g + 1, p));
                g += 1;
                continue;
            }
            (Some(t), Some(ch)) if tok_matches(t, ch) => {
                g += 1;
                p += ch.len_utf8();
                continue;
            }
            (None, None) => return true,
            _ => {}
        }
        let Some((after, end)) = star else {
            return false;
        };
        match s[end..].chars().next() {
            Some(ch) if ch != '/' => {
                star = Some((after, end + ch.len_utf8()));
                g = after;
                p = end + ch.len_utf8();
            }
            _ => return false,
        }
    }
}

fn tok_matches(tok: &Tok, c: char) -> bool {
    match tok {
        Tok::Lit(l) => *l == c,
        Tok::One => c != '/',
        Tok::Star => true,
        Tok::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dynamic-programming matcher `glob_match` replaced: the oracle.
    fn glob_match_dp(glob: &[Tok], s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        let mut matched = vec![false; chars.len() + 1];
        matched[0] = true;
        for tok in glob {
            let mut next = vec![false; chars.len() + 1];
            for j in 0..=chars.len() {
                next[j] = match tok {
                    Tok::Star => matched[j] || (j > 0 && next[j - 1] && chars[j - 1] != '/'),
                    _ => j > 0 && matched[j - 1] && tok_matches(tok, chars[j - 1]),
                };
            }
            matched = next;
        }
        matched[chars.len()]
    }

    proptest::proptest! {
        #[test]
        fn greedy_matching_agrees_with_the_oracle(
            pat in "[ab*?/.]{0,8}",
            s in "[ab/.é]{0,10}",
        ) {
            let glob = parse_glob(&pat).unwrap();
            proptest::prop_assert_eq!(glob_match(&glob, &s), glob_match_dp(&glob, &s), "{} {}", pat, s);
        }
    }

    #[test]
    fn globs_follow_go_filepath_match() {
        let m = |p: &str, s: &str| glob_match(&parse_glob(p).unwrap(), s);
        assert!(m("*.tmp", "a.tmp") && !m("*.tmp", "a/b.tmp") && m("*", ""));
        assert!(m("a?c", "abc") && !m("a?c", "a/c"));
        assert!(m("[a-c]x", "bx") && !m("[a-c]x", "dx") && m("[^a-c]x", "dx"));
        assert!(m("\\*", "*") && !m("\\*", "a"));
        assert!(m("templates/.?*", "templates/.x") && !m("templates/.?*", "templates/."));
        for bad in ["[", "[]", "[a-", "x\\", "[-a]"] {
            assert!(parse_glob(bad).is_err(), "{bad:?}");
        }
        let rules = IgnoreRules {
            rules: ["/top.txt", "templates/*.bak", "*.log", "!keep.log"]
                .iter()
                .filter_map(|l| IgnoreRule::parse(l).ok().flatten())
                .collect(),
        };
        assert!(rules.ignored("top.txt", false) && !rules.ignored("sub/top.txt", false));
        assert!(
            rules.ignored("templates/a.bak", false) && !rules.ignored("x/templates/a.bak", false)
        );
        assert!(rules.ignored("x/a.log", false) && !rules.ignored("x/keep.log", false));
    }
}
