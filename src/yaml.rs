//! Parsing YAML that users and component repositories wrote: nesting bounded before any parser
//! runs (so parsing stays linear), errors with a real 1-based line.
//!
//! libyaml (behind serde_yaml) checks every open flow collection at every token, so a values.yaml
//! holding one line of 200 000 nested `[` took 87 s of CPU before it failed. [`check_nesting`]
//! refuses such input in one linear pass first.

use serde_yaml::Value;

/// The deepest flow nesting (`[` / `{`) accepted: serde_yaml refuses more than 128 levels of any
/// nesting anyway, and no real chart comes near.
pub const MAX_FLOW_DEPTH: usize = 128;

/// A YAML text that cannot be read: 1-based `line` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong (without the position).
    pub msg: String,
}

/// Refuse an input over `release.maxYamlSize` ([`crate::limits::Limits::yaml_bytes`], 32 MiB by
/// default: values.yaml and Chart.yaml for rendering and the static reader, repos files,
/// version.yml, and every file the YAML editor edits; rendered documents are bounded by the
/// render instead), and flow collections nested deeper than
/// [`MAX_FLOW_DEPTH`], in one pass over `text`. Quoted scalars, comments and block scalars (`|`,
/// `>`) are skipped the way YAML reads them, so brackets inside strings do not count.
///
/// Errors: the size (line 1), or the line where the nesting passes the limit.
pub fn check_nesting(text: &[u8]) -> Result<(), YamlError> {
    let max = crate::limits::get().yaml_bytes;
    if text.len() as u64 > max {
        return Err(YamlError {
            line: 1,
            msg: format!(
                "{} bytes, more than the {} a YAML input may have (release.maxYamlSize); nothing past it is read",
                text.len(),
                crate::limits::human(max)
            ),
        });
    }
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut depth = 0usize;
    let mut quote = Quote::None;
    let mut block_indent: Option<usize> = None;
    for (n, line) in text.split(|b| *b == b'\n').enumerate() {
        let indent = line.iter().take_while(|b| **b == b' ').count();
        let blank = line.iter().all(|b| b.is_ascii_whitespace());
        if let Some(b) = block_indent {
            if blank || indent > b {
                continue;
            }
            block_indent = None;
        }
        let mut prev: u8 = b' ';
        let mut i = 0;
        let mut last_token: &[u8] = b"";
        let mut token_start = 0;
        while i < line.len() {
            let c = line[i];
            match quote {
                Quote::Double => {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        quote = Quote::None;
                    }
                }
                Quote::Single => {
                    if c == b'\'' {
                        if line.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            quote = Quote::None;
                        }
                    }
                }
                Quote::None => {
                    // Where a quoted scalar or a flow collection may start: after white space
                    // in block context; also after `[`, `{`, `,`, `:` inside a flow collection.
                    let at_token = if depth == 0 {
                        matches!(prev, b' ' | b'\t')
                    } else {
                        matches!(prev, b' ' | b'\t' | b'[' | b'{' | b',' | b':')
                    };
                    match c {
                        b'#' if matches!(prev, b' ' | b'\t') => break,
                        b'"' if at_token => quote = Quote::Double,
                        b'\'' if at_token => quote = Quote::Single,
                        b'[' | b'{' if depth > 0 || at_token => {
                            depth += 1;
                            if depth > MAX_FLOW_DEPTH {
                                return Err(YamlError {
                                    line: n + 1,
                                    msg: format!(
                                        "flow collections (`[` / `{{`) nested deeper than {MAX_FLOW_DEPTH} levels"
                                    ),
                                });
                            }
                        }
                        b']' | b'}' if depth > 0 => depth -= 1,
                        _ => {}
                    }
                    if c.is_ascii_whitespace() {
                        if token_start < i {
                            last_token = &line[token_start..i];
                        }
                        token_start = i + 1;
                    }
                }
            }
            prev = c;
            i += 1;
        }
        if quote == Quote::None && token_start < line.len() {
            let t = line[token_start..].trim_ascii_end();
            if !t.is_empty() {
                last_token = t;
            }
        }
        // `key: |`, `- >-`, `|2+`: a block scalar; its more indented lines are text.
        if quote == Quote::None
            && depth == 0
            && matches!(last_token.first(), Some(b'|' | b'>'))
            && last_token[1..]
                .iter()
                .all(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
        {
            block_indent = Some(indent);
        }
    }
    Ok(())
}

/// Parse one YAML document (a UTF-8 BOM is skipped) into a [`Value`], after [`check_nesting`].
///
/// Errors: invalid YAML, more than one document, nesting past the limits, always with a 1-based
/// line (the parser's, or the line of the second document's `---`, or the last line when the
/// parser gives none).
pub fn parse(bytes: &[u8]) -> Result<Value, YamlError> {
    let bytes = crate::placeholders::strip_bom(bytes);
    check_nesting(bytes)?;
    serde_yaml::from_slice(bytes).map_err(|e| {
        let msg = e.to_string();
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        let line = match e.location() {
            Some(l) => l.line(),
            None if msg.contains("more than one document") => second_document_line(bytes),
            None => bytes.split(|b| *b == b'\n').count().max(1),
        };
        YamlError { line, msg }
    })
}

/// The 1-based line of the `---` that starts the second document (1 when there is none).
fn second_document_line(bytes: &[u8]) -> usize {
    let mut seen_content = false;
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let t = line.trim_ascii();
        if t.starts_with(b"---") && (t.len() == 3 || t[3].is_ascii_whitespace()) {
            if seen_content {
                return n + 1;
            }
            seen_content = true;
        } else if !t.is_empty() && !t.starts_with(b"#") {
            seen_content = true;
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_in_linear_time() {
        let deep = "[".repeat(200_000);
        let t = std::time::Instant::now();
        let e = parse(format!("a: 1\nb: {deep}\n").as_bytes()).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.msg.contains("deeper than 128"), "{e}");
        // Linear: a quadratic scan of 200k levels takes minutes, not this.
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn brackets_in_strings_comments_and_block_scalars_do_not_count() {
        let many = "[".repeat(300);
        let text = format!(
            "a: '{many}'\nb: \"{many}\"\nc: x{many}\n# {many}\nd: |\n  {many}\n  more\ne: [1, [2, {{f: 3}}]]\n"
        );
        assert!(check_nesting(text.as_bytes()).is_ok());
        let v = parse(text.as_bytes()).unwrap();
        assert_eq!(v["e"][1][1]["f"], Value::from(3));
    }

    #[test]
    fn errors_have_real_lines() {
        assert_eq!(parse(b"a: 1\nb: [\n").unwrap_err().line, 3);
        let e = parse(b"a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = parse(b"x:\n  y: 1\n z: 2\n").unwrap_err();
        assert!(e.line >= 2, "{e}");
        assert!(parse("\u{feff}a: 1\n".as_bytes()).is_ok());
    }
}
