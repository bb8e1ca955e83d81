//! In-place edits of scalar values in user-owned YAML files: only the bytes of the value change.
//!
//! The text is parsed with `saphyr-parser`'s event parser, which reports the span of every node;
//! an edit splices new bytes into the original text at that span, so comments, key order, quoting,
//! blank lines, indentation, the trailing newline and CRLF line endings stay byte for byte. Nothing
//! is ever round-tripped through a serializer.
//!
//! Every edit is verified before it is returned: the original and the edited text are both read
//! with `serde_yaml`, and the edited documents must equal the original ones with exactly the one
//! requested change (the value at the path is the string `value`, everything else equal). If no way
//! of writing the value passes that check, an error is returned instead of a wrong file.
//!
//! Only the first document of a multi-document file is addressed.

use std::fmt::Write as _;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle as ParserStyle, ScanError};
use serde::Deserialize as _;
use serde_yaml::Value;

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A key of a mapping, compared with the key's scalar string value (`"name"` matches `name`).
    Key(String),
    /// A 0-based position in a sequence.
    Index(usize),
}

/// Why a YAML file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum YamlEditError {
    /// The text is not valid YAML; `line` and `col` are 1-based (0 when the parser gave no position).
    #[error("line {line}, column {col}: {msg}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        col: usize,
        /// What the parser complained about.
        msg: String,
    },
    /// The path does not lead to a node; `path` is the path up to and including the segment that
    /// failed, rendered like `spec[2].currentTag`.
    #[error("{path}: not found")]
    NotFound {
        /// The path up to the first segment that matched nothing.
        path: String,
    },
    /// The node is not a single-line scalar that can be edited in place (block scalar `|`/`>`,
    /// multi-line flow scalar, alias, mapping, sequence, insertion into a flow mapping…), or no
    /// quoting of the new value reads back as that exact string.
    #[error("line {line}: {path} cannot be edited in place: {why}")]
    NotEditable {
        /// The path of the node, rendered like `spec[2].currentTag`.
        path: String,
        /// 1-based line of the node.
        line: usize,
        /// Why it cannot be edited.
        why: String,
    },
}

/// Byte range + 1-based line of a scalar value.
///
/// `start..end` indexes the file's text in bytes. For quoted scalars the range covers the quotes;
/// anchors and tags (`&a`, `!!str`) are not part of it. An empty plain value (`key:` with nothing
/// after the colon) has `start == end` at the place where a value would be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalarSpan {
    /// Byte offset of the first byte of the value (the opening quote for quoted scalars).
    pub start: usize,
    /// Byte offset just past the value (past the closing quote for quoted scalars).
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// How the value is written.
    pub style: ScalarStyle,
}

/// How a single-line scalar is written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
}

/// Locate the scalar at `path` (the span covers the quotes too, for quoted scalars).
///
/// The path is followed from the root of the first document: `Seg::Key` through mappings (block
/// `a:\n  b: 1` or flow `{b: 1}`), `Seg::Index` through sequences (block `- x` or flow `[x]`).
///
/// # Errors
/// - [`YamlEditError::Syntax`] if `text` is not valid YAML;
/// - [`YamlEditError::NotFound`] if a segment matches nothing (missing key, index out of range, key
///   into a sequence or scalar…);
/// - [`YamlEditError::NotEditable`] if the path runs through an alias, or the node found is not a
///   single-line plain, single-quoted or double-quoted scalar.
pub fn find_scalar(text: &str, path: &[Seg]) -> Result<ScalarSpan, YamlEditError> {
    let tree = Tree::parse(text)?;
    let found = tree.lookup(path)?;
    tree.scalar_span(text, found, path)
}

/// The 1-based line of the scalar at each of `paths` ([`find_scalar`] for many paths with one
/// parse): `None` where a path finds no editable scalar, or for all of them when `text` is not
/// valid YAML.
pub fn scalar_lines(text: &str, paths: &[Vec<Seg>]) -> Vec<Option<usize>> {
    let Ok(tree) = Tree::parse(text) else {
        return vec![None; paths.len()];
    };
    paths
        .iter()
        .map(|p| {
            let found = tree.lookup(p).ok()?;
            tree.scalar_span(text, found, p).ok().map(|s| s.line)
        })
        .collect()
}

/// Return `text` with the scalar at `path` set to `value`.
///
/// Only the bytes of the value change. The quoting style of the existing scalar is kept
/// (single-quoted stays single-quoted with `'` escaped as `''`; double-quoted stays double-quoted
/// with `\` and `"` escaped). A plain scalar stays plain unless the plain text would not read back
/// as exactly the string `value` (empty, `1.10`, `true`, `~`, `a: b`, `x #y`, `*ref`…); then it is
/// single-quoted. A value single quotes cannot carry on one line (line breaks, control
/// characters) is double-quoted. The value always reads back as a *string*: setting `3` over
/// `replicas: 2` writes `replicas: '3'`, and `true` over `enable: true` writes `enable: 'true'`.
/// An empty value (`key:` or `key:   # comment`) is filled in after the colon.
///
/// If the last segment is a `Seg::Key` that is absent and its parent is a *block* mapping, a new
/// line `key: value` is inserted at the indentation of that mapping's keys, directly after the
/// entry whose key is `insert_after` (when `Some` and present; after the whole value of that
/// entry, which may span lines, e.g. a nested list), otherwise after the last entry of the mapping.
/// The new line ends with the file's line ending (`\n` or `\r\n`); a file without a trailing
/// newline keeps having none. This works for mappings that are list items (`- name: x\n  version: 1`).
///
/// Before returning, the result is parsed again by `saphyr-parser` and read back with
/// `serde_yaml`: every document must equal the original except for the one value. Nodes that
/// carry an anchor referred to by an alias (or lie under one) are not edited, since the aliases
/// would change too.
///
/// # Errors
/// - [`YamlEditError::Syntax`] if `text` is not valid YAML (for `saphyr-parser` or `serde_yaml`);
/// - [`YamlEditError::NotFound`] if the path leads nowhere and no insertion applies;
/// - [`YamlEditError::NotEditable`] for block scalars, multi-line scalars, aliases, aliased
///   anchors, collections, insertion into a flow mapping (`{a: 1}`), or when the edited file
///   would not read back as expected.
pub fn set_scalar(
    text: &str,
    path: &[Seg],
    value: &str,
    insert_after: Option<&str>,
) -> Result<String, YamlEditError> {
    let tree = Tree::parse(text)?;
    let before = read_docs(text).map_err(|e| syntax_from_serde(&e))?;
    if tree.root.is_none() {
        return Err(YamlEditError::NotFound {
            path: display_path(&path[..path.len().min(1)]),
        });
    }

    if let Some((last @ Seg::Key(key), parent_path)) = path.split_last() {
        let parent = tree.lookup(parent_path)?;
        if let Kind::Map { flow, entries } = &tree.nodes[parent.node].kind {
            if tree.step(parent.node, last).is_none() {
                if *flow {
                    return Err(YamlEditError::NotEditable {
                        path: display_path(path),
                        line: tree.nodes[parent.node].line,
                        why: "the key is absent and its parent is a flow mapping (`{...}`); \
                              keys are only inserted into block mappings"
                            .to_owned(),
                    });
                }
                tree.check_not_aliased(parent_path)?;
                let expected = expected_docs(&before, path, value, true)
                    .ok_or_else(|| unverifiable(path, tree.nodes[parent.node].line))?;
                return insert_entry(text, &tree, entries, key, value, insert_after, &expected)
                    .ok_or_else(|| unreadable(path, tree.nodes[parent.node].line));
            }
        }
    }

    let found = tree.lookup(path)?;
    let span = tree.scalar_span(text, found, path)?;
    tree.check_not_aliased(path)?;
    let expected =
        expected_docs(&before, path, value, false).ok_or_else(|| unverifiable(path, span.line))?;
    // An empty plain value (`key:`) needs a space after the colon, and one before a comment.
    let pad_before = span.start == span.end && !text[..span.start].ends_with([' ', '\t']);
    let pad_after = span.start == span.end && text[span.end..].starts_with('#');
    for &style in candidate_styles(span.style) {
        let Some(rendered) = render(value, style) else {
            continue;
        };
        let mut out = String::with_capacity(text.len() + rendered.len() + 2);
        out.push_str(&text[..span.start]);
        if pad_before {
            out.push(' ');
        }
        out.push_str(&rendered);
        if pad_after {
            out.push(' ');
        }
        out.push_str(&text[span.end..]);
        if reads_as(&out, &expected) {
            return Ok(out);
        }
    }
    Err(unreadable(path, span.line))
}

/// [`set_scalar`] for many `(path, value)` edits of one file, with one parse and one read-back
/// instead of one per edit (a collect that moves 100 components edits 100 `currentTag` and
/// 100 version.yml values: sequential edits parse the whole file each time).
///
/// Every path must name an existing scalar; each value is written in its scalar's own style
/// where that reads back, and the whole result must read back as the original with exactly
/// these values set. When any of that does not hold (an absent key to insert, a style that
/// must change, two edits of one scalar), the edits are made one by one with [`set_scalar`],
/// which gives the same result or its error.
///
/// # Errors
/// As [`set_scalar`], for the first edit that cannot be made.
pub fn set_scalars(
    text: &str,
    edits: &[(Vec<Seg>, String)],
    insert_after: Option<&str>,
) -> Result<String, YamlEditError> {
    let sequential = || {
        let mut out = text.to_string();
        for (path, value) in edits {
            out = set_scalar(&out, path, value, insert_after)?;
        }
        Ok(out)
    };
    if edits.len() < 2 {
        return sequential();
    }
    let batched = || -> Option<String> {
        let tree = Tree::parse(text).ok()?;
        let mut expected = read_docs(text).ok()?;
        let mut spans = Vec::with_capacity(edits.len());
        for (path, value) in edits {
            let found = tree.lookup(path).ok()?;
            let span = tree.scalar_span(text, found, path).ok()?;
            tree.check_not_aliased(path).ok()?;
            // An empty value needs padding that the one-by-one path knows how to add.
            if span.start == span.end {
                return None;
            }
            expected = expected_docs(&expected, path, value, false)?;
            spans.push((span.start, span.end, render(value, span.style)?));
        }
        spans.sort_by_key(|s| s.0);
        if spans.windows(2).any(|w| w[0].1 > w[1].0) {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 16 * spans.len());
        let mut at = 0;
        for (start, end, rendered) in &spans {
            out.push_str(&text[at..*start]);
            out.push_str(rendered);
            at = *end;
        }
        out.push_str(&text[at..]);
        reads_as(&out, &expected).then_some(out)
    };
    match batched() {
        Some(out) => Ok(out),
        None => sequential(),
    }
}

/// Render a path like `spec[2].currentTag` for messages.
///
/// Keys are joined with `.`, indexes written `[i]`; a key that is empty or contains `.`, brackets,
/// quotes or whitespace is written `["a.b"]`. The empty path (the document root) renders as `.`.
#[must_use]
pub fn display_path(path: &[Seg]) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) if is_simple_key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Key(key) => {
                let _ = write!(out, "[{key:?}]");
            }
            Seg::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
        }
    }
    out
}

fn is_simple_key(key: &str) -> bool {
    !key.is_empty()
        && !key.chars().any(|c| {
            matches!(c, '.' | '[' | ']' | '"' | '\'') || c.is_whitespace() || c.is_control()
        })
}

/// A node of the first document, as reported by the event parser.
#[derive(Debug)]
struct Node {
    kind: Kind,
    /// Byte offset of the node's first character (anchor and tag included).
    start: usize,
    /// Byte offset just past the node's content; the line holding this offset is its last line.
    end: usize,
    /// 1-based line of the node's start.
    line: usize,
    /// 0-based column, in characters, of the node's start.
    col: usize,
    /// Anchor id (`&name`), 0 if none.
    anchor: usize,
}

#[derive(Debug)]
enum Kind {
    Scalar {
        value: String,
        style: ParserStyle,
    },
    Alias,
    Seq {
        items: Vec<usize>,
    },
    Map {
        flow: bool,
        entries: Vec<(usize, usize)>,
    },
}

/// The first document as an arena of nodes (no recursion, whatever the nesting depth).
#[derive(Debug)]
struct Tree {
    nodes: Vec<Node>,
    root: Option<usize>,
    /// Anchor ids that aliases (`*name`) refer to.
    aliased: Vec<usize>,
}

/// A collection still being filled while reading events.
struct Frame {
    node: usize,
    flow: bool,
    /// A mapping's key waiting for its value.
    pending_key: Option<usize>,
}

/// A node found by a path, with the key node it is the value of (if the last step was a key).
#[derive(Debug, Clone, Copy)]
struct Found {
    node: usize,
    key: Option<usize>,
}

impl Tree {
    /// Read all events of `text` (so syntax errors in later documents are reported too) and keep
    /// the nodes of the first document.
    fn parse(text: &str) -> Result<Self, YamlEditError> {
        crate::yaml::check_nesting(text.as_bytes()).map_err(|e| YamlEditError::Syntax {
            line: e.line,
            col: 1,
            msg: e.msg,
        })?;
        // saphyr's markers count characters; map them to byte offsets.
        let offsets: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let byte = |m: &Marker| offsets.get(m.index()).copied().unwrap_or(text.len());

        let mut tree = Tree {
            nodes: Vec::new(),
            root: None,
            aliased: Vec::new(),
        };
        let mut stack: Vec<Frame> = Vec::new();
        let mut documents = 0usize;
        let mut parser = Parser::new_from_str(text);
        while let Some(item) = parser.next_event() {
            let (event, span) = item.map_err(|e| syntax_from_scan(&e))?;
            let start = byte(&span.start);
            let end = byte(&span.end);
            let node = |kind, anchor| Node {
                kind,
                start,
                end,
                line: span.start.line(),
                col: span.start.col(),
                anchor,
            };
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart(_) => documents += 1,
                _ if documents != 1 => {}
                Event::Scalar(value, style, anchor, _) => {
                    let mut n = node(
                        Kind::Scalar {
                            value: value.into_owned(),
                            style,
                        },
                        anchor,
                    );
                    n.end = scalar_end(text, style, start, end);
                    let id = tree.push(n);
                    tree.attach(&mut stack, id)?;
                }
                Event::Alias(anchor) => {
                    tree.aliased.push(anchor);
                    let id = tree.push(node(Kind::Alias, 0));
                    tree.attach(&mut stack, id)?;
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    let opener = text.get(start..end).unwrap_or_default().trim_end();
                    let flow = stack.last().is_some_and(|f| f.flow)
                        || opener.ends_with('{')
                        || opener.ends_with('[');
                    let kind = if matches!(event, Event::MappingStart(..)) {
                        Kind::Map {
                            flow,
                            entries: Vec::new(),
                        }
                    } else {
                        Kind::Seq { items: Vec::new() }
                    };
                    let id = tree.push(node(kind, anchor));
                    tree.attach(&mut stack, id)?;
                    stack.push(Frame {
                        node: id,
                        flow,
                        pending_key: None,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some(frame) = stack.pop() {
                        let new_end = if frame.flow {
                            end
                        } else {
                            tree.last_child_end(frame.node)
                        };
                        tree.nodes[frame.node].end = new_end;
                    }
                }
                _ => {}
            }
        }
        Ok(tree)
    }

    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn attach(&mut self, stack: &mut [Frame], id: usize) -> Result<(), YamlEditError> {
        let Some(frame) = stack.last_mut() else {
            self.root.get_or_insert(id);
            return Ok(());
        };
        let map = frame.node;
        let completes_entry = frame.pending_key.is_some();
        match &mut self.nodes[frame.node].kind {
            Kind::Seq { items } => items.push(id),
            Kind::Map { entries, .. } => match frame.pending_key.take() {
                None => frame.pending_key = Some(id),
                Some(key) => entries.push((key, id)),
            },
            Kind::Scalar { .. } | Kind::Alias => {}
        }
        if completes_entry {
            self.check_duplicate_key(map)?;
        }
        Ok(())
    }

    /// Refuse a mapping key written twice (`c` and `'c'` are the same key, `1` and `'1'` are not):
    /// the path would be ambiguous, and `serde_yaml` rejects it without saying where.
    fn check_duplicate_key(&self, map: usize) -> Result<(), YamlEditError> {
        let Kind::Map { entries, .. } = &self.nodes[map].kind else {
            return Ok(());
        };
        let Some(&(last, _)) = entries.last() else {
            return Ok(());
        };
        let as_key = |id: usize| match &self.nodes[id].kind {
            Kind::Scalar { value, style, .. } => Some((value, *style == ParserStyle::Plain)),
            _ => None,
        };
        let Some(key) = as_key(last) else {
            return Ok(());
        };
        let reads_as_string =
            |text: &str| matches!(serde_yaml::from_str::<Value>(text), Ok(Value::String(_)));
        let same = |(other, other_plain): (&String, bool)| {
            other == key.0 && (other_plain == key.1 || reads_as_string(other))
        };
        if entries[..entries.len() - 1]
            .iter()
            .any(|&(k, _)| as_key(k).is_some_and(same))
        {
            let node = &self.nodes[last];
            return Err(YamlEditError::Syntax {
                line: node.line,
                col: node.col + 1,
                msg: format!("duplicate key {:?}", key.0),
            });
        }
        Ok(())
    }

    /// End of a block collection: the end of its last child's content.
    fn last_child_end(&self, id: usize) -> usize {
        let node = &self.nodes[id];
        let last = match &node.kind {
            Kind::Seq { items } => items.last().copied(),
            Kind::Map { entries, .. } => entries.last().map(|&(k, v)| {
                if self.nodes[v].end >= self.nodes[k].end {
                    v
                } else {
                    k
                }
            }),
            Kind::Scalar { .. } | Kind::Alias => None,
        };
        last.map_or(node.end, |child| self.nodes[child].end.max(node.start))
    }

    fn key_is(&self, id: usize, key: &str) -> bool {
        matches!(&self.nodes[id].kind, Kind::Scalar { value, .. } if value == key)
    }

    /// Follow one segment from `from`.
    fn step(&self, from: usize, seg: &Seg) -> Option<Found> {
        match (&self.nodes[from].kind, seg) {
            (Kind::Map { entries, .. }, Seg::Key(key)) => entries
                .iter()
                .find(|&&(k, _)| self.key_is(k, key))
                .map(|&(k, v)| Found {
                    node: v,
                    key: Some(k),
                }),
            (Kind::Seq { items }, Seg::Index(index)) => {
                items.get(*index).map(|&v| Found { node: v, key: None })
            }
            _ => None,
        }
    }

    fn lookup(&self, path: &[Seg]) -> Result<Found, YamlEditError> {
        let root = self.root.ok_or_else(|| YamlEditError::NotFound {
            path: display_path(&path[..path.len().min(1)]),
        })?;
        let mut found = Found {
            node: root,
            key: None,
        };
        for (i, seg) in path.iter().enumerate() {
            let node = &self.nodes[found.node];
            if matches!(node.kind, Kind::Alias) {
                return Err(YamlEditError::NotEditable {
                    path: display_path(&path[..i]),
                    line: node.line,
                    why: "it is an alias (`*name`); edit the node its anchor marks instead"
                        .to_owned(),
                });
            }
            found = self
                .step(found.node, seg)
                .ok_or_else(|| YamlEditError::NotFound {
                    path: display_path(&path[..=i]),
                })?;
        }
        Ok(found)
    }

    /// Refuse to change anything under a node carrying an anchor that aliases refer to: the
    /// aliases would change too.
    fn check_not_aliased(&self, path: &[Seg]) -> Result<(), YamlEditError> {
        let mut current = self.root;
        for depth in 0..=path.len() {
            let Some(id) = current else {
                break;
            };
            let node = &self.nodes[id];
            if node.anchor != 0 && self.aliased.contains(&node.anchor) {
                let anchored = display_path(&path[..depth]);
                return Err(YamlEditError::NotEditable {
                    path: display_path(path),
                    line: node.line,
                    why: format!(
                        "{anchored} carries an anchor (`&name`) that aliases refer to; \
                         the edit would change them too"
                    ),
                });
            }
            current = path
                .get(depth)
                .and_then(|seg| self.step(id, seg))
                .map(|f| f.node);
        }
        Ok(())
    }

    /// The editable byte range of the scalar `found`.
    fn scalar_span(
        &self,
        text: &str,
        found: Found,
        path: &[Seg],
    ) -> Result<ScalarSpan, YamlEditError> {
        let node = &self.nodes[found.node];
        let not_editable = |why: &str| YamlEditError::NotEditable {
            path: display_path(path),
            line: node.line,
            why: why.to_owned(),
        };
        let style = match &node.kind {
            Kind::Alias => {
                return Err(not_editable(
                    "it is an alias (`*name`); edit the node its anchor marks instead",
                ))
            }
            Kind::Seq { .. } => return Err(not_editable("it is a sequence, not a scalar")),
            Kind::Map { .. } => return Err(not_editable("it is a mapping, not a scalar")),
            Kind::Scalar { style, .. } => match style {
                ParserStyle::Plain => ScalarStyle::Plain,
                ParserStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                ParserStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                ParserStyle::Literal | ParserStyle::Folded => {
                    return Err(not_editable("it is a block scalar (`|` or `>`)"))
                }
            },
        };
        let value_start = skip_properties(text, node.start, node.end);
        let (start, end) = if value_start < node.end {
            (value_start, node.end)
        } else if node.start < node.end {
            // Only an anchor or tag (`key: !!str`): the empty value follows it.
            (node.end, node.end)
        } else {
            // `key:` with no value: the empty scalar is reported at the key's end.
            let key = found
                .key
                .ok_or_else(|| not_editable("it is an empty value outside a mapping"))?;
            let key_end = self.nodes[key].end;
            let rest = &text[key_end..];
            let colon = key_end + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
            if !text[colon..].starts_with(':') {
                return Err(not_editable("it is an empty value without `:`"));
            }
            let mut at = colon + 1;
            if text[at..].starts_with([' ', '\t']) {
                at += 1;
            }
            (at, at)
        };
        let source = &text[start..end];
        if source.contains(['\n', '\r']) {
            return Err(not_editable("it spans several lines"));
        }
        // The line, counted from the node (or, for an empty value, its key) whose line the
        // parser gave: counting from the top of the file for every scalar made reading a long
        // repos file quadratic.
        let (from, from_line) = match found.key {
            Some(key) if start < node.start => (self.nodes[key].start, self.nodes[key].line),
            _ => (node.start, node.line),
        };
        let line = from_line + newlines(&text[from.min(start)..start]);
        let quote = match style {
            ScalarStyle::Plain => None,
            ScalarStyle::SingleQuoted => Some('\''),
            ScalarStyle::DoubleQuoted => Some('"'),
        };
        if let Some(q) = quote {
            if source.len() < 2 || !source.starts_with(q) || !source.ends_with(q) {
                return Err(not_editable("its quotes were not found where expected"));
            }
        }
        Ok(ScalarSpan {
            start,
            end,
            line,
            style,
        })
    }
}

/// Insert `key: value` into the block mapping with `entries`; `None` if no rendering reads back
/// as `expected`.
fn insert_entry(
    text: &str,
    tree: &Tree,
    entries: &[(usize, usize)],
    key: &str,
    value: &str,
    insert_after: Option<&str>,
    expected: &[Value],
) -> Option<String> {
    let &(first_key, _) = entries.first()?;
    let &(after_key, after_value) = insert_after
        .and_then(|name| entries.iter().find(|&&(k, _)| tree.key_is(k, name)))
        .or_else(|| entries.last())?;
    let entry_end = tree.nodes[after_key].end.max(tree.nodes[after_value].end);
    let (at, newline_first) = match text[entry_end..].find('\n') {
        Some(i) => (entry_end + i + 1, false),
        None => (text.len(), true),
    };
    let eol = line_ending(text);
    let indent = " ".repeat(tree.nodes[first_key].col);
    for &key_style in candidate_styles(ScalarStyle::Plain) {
        let Some(key_text) = render(key, key_style) else {
            continue;
        };
        for &value_style in candidate_styles(ScalarStyle::Plain) {
            let Some(value_text) = render(value, value_style) else {
                continue;
            };
            let line = format!("{indent}{key_text}: {value_text}");
            let mut out = String::with_capacity(text.len() + line.len() + 2);
            out.push_str(&text[..at]);
            if newline_first {
                out.push_str(eol);
                out.push_str(&line);
            } else {
                out.push_str(&line);
                out.push_str(eol);
            }
            out.push_str(&text[at..]);
            if reads_as(&out, expected) {
                return Some(out);
            }
        }
    }
    None
}

/// The byte offset where the block entry that starts on 0-based line `start` (a `- ` item at
/// column `col`) ends: before the first later line at or left of `col` that is not blank, and
/// before the blank and comment lines that lead up to it.
/// `lines` are the text's lines without their `\n` (version.yml's and compass.yaml's in-place
/// insertions use it).
pub fn block_item_end(lines: &[&str], start: usize, col: usize) -> usize {
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut end = lines.len();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let t = l.trim();
        if !t.is_empty() && !t.starts_with('#') && indent(l) <= col {
            end = i;
            break;
        }
    }
    while end > start + 1 {
        let t = lines[end - 1].trim();
        if t.is_empty() || (t.starts_with('#') && indent(lines[end - 1]) <= col) {
            end -= 1;
        } else {
            break;
        }
    }
    lines[..end].iter().map(|l| l.len() + 1).sum()
}

/// `value` as a YAML scalar on one line: plain when it reads back as that string (a tag, a
/// path), else double-quoted (`"1.10"` stays a string, `yes` is not a boolean).
pub fn quote_if_needed(value: &str) -> String {
    match render(value, ScalarStyle::Plain) {
        Some(plain)
            if serde_yaml::from_str::<Value>(&format!("k: {plain}"))
                .ok()
                .and_then(|v| v.get("k").and_then(|x| x.as_str()).map(|x| x == value))
                == Some(true) =>
        {
            plain
        }
        _ => double_quoted(value),
    }
}

/// Styles to try, in order, for a value replacing one written in `old` style.
fn candidate_styles(old: ScalarStyle) -> &'static [ScalarStyle] {
    match old {
        ScalarStyle::Plain => &[
            ScalarStyle::Plain,
            ScalarStyle::SingleQuoted,
            ScalarStyle::DoubleQuoted,
        ],
        ScalarStyle::SingleQuoted => &[ScalarStyle::SingleQuoted, ScalarStyle::DoubleQuoted],
        ScalarStyle::DoubleQuoted => &[ScalarStyle::DoubleQuoted],
    }
}

/// `value` written in `style` on one line, or `None` if that style cannot hold it on one line.
fn render(value: &str, style: ScalarStyle) -> Option<String> {
    let one_line = !value.contains(['\n', '\r']);
    match style {
        ScalarStyle::Plain => {
            (one_line && !value.is_empty() && value.trim_matches([' ', '\t']) == value)
                .then(|| value.to_owned())
        }
        ScalarStyle::SingleQuoted => one_line.then(|| format!("'{}'", value.replace('\'', "''"))),
        ScalarStyle::DoubleQuoted => Some(double_quoted(value)),
    }
}

fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Where the scalar whose event span is `start..end` really ends. The parser's span of a quoted
/// scalar runs on over trailing blanks and comments, and that of a block scalar over the next
/// line's indentation.
fn scalar_end(text: &str, style: ParserStyle, start: usize, end: usize) -> usize {
    let open = skip_properties(text, start, end);
    let bytes = text.as_bytes();
    match style {
        ParserStyle::Plain => end,
        ParserStyle::SingleQuoted => {
            let mut i = open + 1;
            while i < end {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i += 1;
            }
            end
        }
        ParserStyle::DoubleQuoted => {
            let mut i = open + 1;
            while i < end {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            end
        }
        ParserStyle::Literal | ParserStyle::Folded => {
            let body = &text[start..end];
            match body.rfind('\n') {
                Some(i) if body[i + 1..].bytes().all(|b| b == b' ' || b == b'\t') => start + i,
                _ => end,
            }
        }
    }
}

/// Skip leading anchors and tags (`&a`, `!!str`, `!<tag:…>`) in `start..end`.
fn skip_properties(text: &str, start: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut i = start;
    while i < end && matches!(bytes[i], b'&' | b'!') {
        while i < end && !is_space(bytes[i]) {
            i += 1;
        }
        while i < end && is_space(bytes[i]) {
            i += 1;
        }
    }
    i
}

/// How many `\n` bytes `s` holds.
fn newlines(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

/// The file's line ending: that of its first line, `\n` if it has none.
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

fn syntax_from_scan(error: &ScanError) -> YamlEditError {
    YamlEditError::Syntax {
        line: error.marker().line(),
        col: error.marker().col() + 1,
        msg: error.info().to_owned(),
    }
}

fn syntax_from_serde(error: &serde_yaml::Error) -> YamlEditError {
    let (line, col) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
    let full = error.to_string();
    let suffix = format!(" at line {line} column {col}");
    let msg = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    YamlEditError::Syntax { line, col, msg }
}

fn unverifiable(path: &[Seg], line: usize) -> YamlEditError {
    YamlEditError::NotEditable {
        path: display_path(path),
        line,
        why: "serde_yaml does not find the same node, so the edit cannot be verified".to_owned(),
    }
}

fn unreadable(path: &[Seg], line: usize) -> YamlEditError {
    YamlEditError::NotEditable {
        path: display_path(path),
        line,
        why: "the edited file would not read back with exactly this value and nothing else changed"
            .to_owned(),
    }
}

/// All documents of `text`, as `serde_yaml` reads them.
fn read_docs(text: &str) -> Result<Vec<Value>, serde_yaml::Error> {
    serde_yaml::Deserializer::from_str(text)
        .map(Value::deserialize)
        .collect()
}

/// Whether both parsers accept `text` and `serde_yaml` reads exactly `expected` from it.
fn reads_as(text: &str, expected: &[Value]) -> bool {
    Tree::parse(text).is_ok() && read_docs(text).is_ok_and(|docs| docs == expected)
}

/// `before` with the value at `path` in the first document set to the string `value` (with
/// `insert`, the last key added to its parent mapping); `None` if `serde_yaml`'s view of the
/// document has no such node.
fn expected_docs(before: &[Value], path: &[Seg], value: &str, insert: bool) -> Option<Vec<Value>> {
    let mut docs = before.to_vec();
    let first = docs.first_mut()?;
    let new_value = Value::String(value.to_owned());
    if insert {
        let (Seg::Key(key), parent_path) = path.split_last()? else {
            return None;
        };
        let Value::Mapping(map) = untag_mut(value_at_mut(first, parent_path)?) else {
            return None;
        };
        if map.iter().any(|(k, _)| key_matches(k, key)) {
            return None;
        }
        map.insert(Value::String(key.clone()), new_value);
    } else {
        *untag_mut(value_at_mut(first, path)?) = new_value;
    }
    Some(docs)
}

fn value_at_mut<'v>(mut value: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    for seg in path {
        value = match (untag_mut(value), seg) {
            (Value::Mapping(map), Seg::Key(key)) => map
                .iter_mut()
                .find(|(k, _)| key_matches(k, key))
                .map(|(_, v)| v)?,
            (Value::Sequence(items), Seg::Index(index)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(value)
}

fn untag_mut(value: &mut Value) -> &mut Value {
    match value {
        Value::Tagged(tagged) => untag_mut(&mut tagged.value),
        other => other,
    }
}

/// Whether `serde_yaml`'s `key` is the key written with the scalar string `name`.
fn key_matches(key: &Value, name: &str) -> bool {
    match key {
        Value::String(s) => s == name,
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            serde_yaml::from_str::<Value>(name).is_ok_and(|parsed| &parsed == key)
        }
        Value::Tagged(tagged) => key_matches(&tagged.value, name),
        Value::Sequence(_) | Value::Mapping(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of many scalars at once, against the line of their first byte counted by hand:
    /// plain, quoted, anchored, tagged, empty and CRLF values.
    #[test]
    fn scalar_lines_match_a_count_from_the_top() {
        for eol in ["\n", "\r\n"] {
            let text = [
                "# components",
                "- repositoryFullName: a/one",
                "  tag: v1",
                "- repositoryFullName: 'b/two'",
                "",
                "- repositoryFullName: &x \"c/three\"",
                "- repositoryFullName: !!str d/four",
                "- repositoryFullName:",
                "  tag: v2",
                "- {repositoryFullName: e/five}",
            ]
            .join(eol);
            let paths: Vec<Vec<Seg>> = (0..7)
                .map(|i| vec![Seg::Index(i), Seg::Key("repositoryFullName".into())])
                .collect();
            let got = scalar_lines(&text, &paths);
            assert_eq!(
                got,
                [Some(2), Some(4), Some(6), Some(7), Some(8), Some(10), None],
                "{eol:?}"
            );
        }
    }

    fn key(k: &str) -> Seg {
        Seg::Key(k.to_owned())
    }

    fn idx(i: usize) -> Seg {
        Seg::Index(i)
    }

    fn set(text: &str, path: &[Seg], value: &str) -> String {
        match set_scalar(text, path, value, None) {
            Ok(out) => out,
            Err(e) => panic!("set_scalar {}: {e}", display_path(path)),
        }
    }

    fn insert(text: &str, path: &[Seg], value: &str, after: Option<&str>) -> String {
        match set_scalar(text, path, value, after) {
            Ok(out) => out,
            Err(e) => panic!("set_scalar {}: {e}", display_path(path)),
        }
    }

    const BARE_LIST: &str = "\
# Components of the devops product
- repositoryFullName: muzi502/cyclone
  currentTag: v0.5.3   # latest
  chartPaths:
    - charts/cyclone

- repositoryFullName: muzi502/argo   # second
  currentTag: v1.0.0
  chartPaths: [charts/argo]
";

    #[test]
    fn bare_list_value_with_comment() {
        let out = set(BARE_LIST, &[idx(0), key("currentTag")], "v0.5.4");
        assert_eq!(
            out,
            "\
# Components of the devops product
- repositoryFullName: muzi502/cyclone
  currentTag: v0.5.4   # latest
  chartPaths:
    - charts/cyclone

- repositoryFullName: muzi502/argo   # second
  currentTag: v1.0.0
  chartPaths: [charts/argo]
"
        );
        let out = set(BARE_LIST, &[idx(1), key("currentTag")], "v1.10.0-rc.1");
        assert_eq!(out, BARE_LIST.replace("v1.0.0", "v1.10.0-rc.1"));
    }

    #[test]
    fn find_scalar_spans() {
        let span = find_scalar(BARE_LIST, &[idx(0), key("currentTag")]).unwrap();
        assert_eq!(&BARE_LIST[span.start..span.end], "v0.5.3");
        assert_eq!(span.line, 3);
        assert_eq!(span.style, ScalarStyle::Plain);
        let span = find_scalar(BARE_LIST, &[idx(1), key("chartPaths"), idx(0)]).unwrap();
        assert_eq!(&BARE_LIST[span.start..span.end], "charts/argo");
        assert_eq!(span.line, 9);
    }

    #[test]
    fn wrapped_metadata_spec() {
        let text = "\
metadata:
  name: devops   # product
spec:
- repositoryFullName: a/b
  baseVersion: v1.2
  currentTag: v1.2.3

- repositoryFullName: a/c
  currentTag: \"v2.0.0\"
";
        let out = set(text, &[key("spec"), idx(0), key("currentTag")], "v1.2.4");
        assert_eq!(out, text.replace("v1.2.3", "v1.2.4"));
        let out = set(text, &[key("spec"), idx(1), key("currentTag")], "v2.1.0");
        assert_eq!(
            out,
            "\
metadata:
  name: devops   # product
spec:
- repositoryFullName: a/b
  baseVersion: v1.2
  currentTag: v1.2.3

- repositoryFullName: a/c
  currentTag: \"v2.1.0\"
"
        );
    }

    const VERSION_YML: &str = "\
spec:
  modules: # list of modules
  - name: core
    description: core module
    enable: true
    addons:
    - name: cyclone   # comment
      description: \"ci\"
      enable: true
      namespace: default
      version: 1.2.0
";

    #[test]
    fn version_yml_nested_list() {
        let path = [
            key("spec"),
            key("modules"),
            idx(0),
            key("addons"),
            idx(0),
            key("version"),
        ];
        let out = set(VERSION_YML, &path, "1.3.0");
        assert_eq!(
            out,
            "\
spec:
  modules: # list of modules
  - name: core
    description: core module
    enable: true
    addons:
    - name: cyclone   # comment
      description: \"ci\"
      enable: true
      namespace: default
      version: 1.3.0
"
        );
        let path = [
            key("spec"),
            key("modules"),
            idx(0),
            key("addons"),
            idx(0),
            key("description"),
        ];
        let out = set(VERSION_YML, &path, "say \"hi\" \\o/");
        assert_eq!(
            out,
            VERSION_YML.replace("\"ci\"", "\"say \\\"hi\\\" \\\\o/\"")
        );
    }

    #[test]
    fn indented_list() {
        let text = "\
spec:
  modules:
    - name: core
      version: 1.0.0

    - name: extra
      version: 2.0.0
";
        let out = set(
            text,
            &[key("spec"), key("modules"), idx(1), key("version")],
            "2.0.1",
        );
        assert_eq!(out, text.replace("2.0.0", "2.0.1"));
    }

    #[test]
    fn quotes_are_kept() {
        let text = "a: 'v1'  # single\nb: \"v1\"\nc: ''\n";
        assert_eq!(
            set(text, &[key("a")], "it's"),
            "a: 'it''s'  # single\nb: \"v1\"\nc: ''\n"
        );
        assert_eq!(
            set(text, &[key("b")], "1.10"),
            "a: 'v1'  # single\nb: \"1.10\"\nc: ''\n"
        );
        assert_eq!(
            set(text, &[key("c")], "x"),
            "a: 'v1'  # single\nb: \"v1\"\nc: 'x'\n"
        );
        // Single quotes cannot hold a line break: fall back to double quotes.
        assert_eq!(
            set(text, &[key("a")], "x\ny"),
            "a: \"x\\ny\"  # single\nb: \"v1\"\nc: ''\n"
        );
        let span = find_scalar(text, &[key("b")]).unwrap();
        assert_eq!(
            (span.start, span.end, span.style),
            (21, 25, ScalarStyle::DoubleQuoted)
        );
    }

    #[test]
    fn crlf_file() {
        let text = "# top\r\n- repositoryFullName: a/b\r\n  currentTag: v1   # c\r\n  chartPaths:\r\n  - x\r\n";
        assert_eq!(
            set(text, &[idx(0), key("currentTag")], "v2"),
            "# top\r\n- repositoryFullName: a/b\r\n  currentTag: v2   # c\r\n  chartPaths:\r\n  - x\r\n"
        );
        let text = "- repositoryFullName: a/b\r\n  chartPaths:\r\n  - x\r\n";
        assert_eq!(
            insert(
                text,
                &[idx(0), key("currentTag")],
                "v1",
                Some("repositoryFullName")
            ),
            "- repositoryFullName: a/b\r\n  currentTag: v1\r\n  chartPaths:\r\n  - x\r\n"
        );
        assert_eq!(
            insert(text, &[idx(0), key("currentTag")], "v1", None),
            "- repositoryFullName: a/b\r\n  chartPaths:\r\n  - x\r\n  currentTag: v1\r\n"
        );
    }

    #[test]
    fn non_ascii_before_value() {
        let text = "\
# 组件列表：中文注释
- repositoryFullName: a/b   # 仓库名称
  描述: 中文描述 # 说明
  currentTag: v1.0.0 # 当前版本
";
        let out = set(text, &[idx(0), key("currentTag")], "v1.0.1");
        assert_eq!(out, text.replace("v1.0.0", "v1.0.1"));
        let out = set(text, &[idx(0), key("描述")], "新的描述");
        assert_eq!(out, text.replace("中文描述", "新的描述"));
        let span = find_scalar(text, &[idx(0), key("currentTag")]).unwrap();
        assert_eq!(&text[span.start..span.end], "v1.0.0");
        assert_eq!(span.line, 4);
    }

    const ENTRY_WITH_LIST: &str = "\
- repositoryFullName: muzi502/cyclone # the repo
  chartPaths:
  - charts/a
  - charts/b
  # - charts/c
- repositoryFullName: muzi502/argo
  currentTag: v3.0.0
";

    #[test]
    fn insert_after_named_key() {
        let out = insert(
            ENTRY_WITH_LIST,
            &[idx(0), key("currentTag")],
            "v0.1.0",
            Some("repositoryFullName"),
        );
        assert_eq!(
            out,
            "\
- repositoryFullName: muzi502/cyclone # the repo
  currentTag: v0.1.0
  chartPaths:
  - charts/a
  - charts/b
  # - charts/c
- repositoryFullName: muzi502/argo
  currentTag: v3.0.0
"
        );
    }

    #[test]
    fn insert_at_end_of_mapping() {
        let expected = "\
- repositoryFullName: muzi502/cyclone # the repo
  chartPaths:
  - charts/a
  - charts/b
  currentTag: v0.1.0
  # - charts/c
- repositoryFullName: muzi502/argo
  currentTag: v3.0.0
";
        let path = [idx(0), key("currentTag")];
        assert_eq!(insert(ENTRY_WITH_LIST, &path, "v0.1.0", None), expected);
        // An absent `insert_after` key falls back to the end of the mapping.
        assert_eq!(
            insert(ENTRY_WITH_LIST, &path, "v0.1.0", Some("baseVersion")),
            expected
        );
        assert_eq!(
            insert(ENTRY_WITH_LIST, &path, "v0.1.0", Some("chartPaths")),
            expected
        );
        // Last entry of the file, and a file without a trailing newline.
        let out = insert(ENTRY_WITH_LIST, &[idx(1), key("baseVersion")], "v3.0", None);
        assert_eq!(out, format!("{ENTRY_WITH_LIST}  baseVersion: v3.0\n"));
        let text = ENTRY_WITH_LIST.trim_end();
        let out = insert(text, &[idx(1), key("baseVersion")], "v3.0", None);
        assert_eq!(out, format!("{text}\n  baseVersion: v3.0"));
    }

    #[test]
    fn insert_needs_quotes_and_nested_mapping() {
        let text = "spec:\n  name: x\n  sub:\n    a: 1\nother: 2\n";
        let out = insert(text, &[key("spec"), key("version")], "1.10", Some("name"));
        assert_eq!(
            out,
            "spec:\n  name: x\n  version: '1.10'\n  sub:\n    a: 1\nother: 2\n"
        );
        let out = insert(text, &[key("spec"), key("true")], "yes", None);
        assert_eq!(
            out,
            "spec:\n  name: x\n  sub:\n    a: 1\n  'true': yes\nother: 2\n"
        );
    }

    #[test]
    fn chart_yaml_top_level() {
        let text = "\
apiVersion: v2
name: mychart
description: A Helm chart for Kubernetes

# the chart version
version: 0.1.0
appVersion: \"1.16.0\"
";
        let out = set(text, &[key("version")], "0.2.0");
        assert_eq!(out, text.replace("0.1.0", "0.2.0"));
        let out = set(text, &[key("appVersion")], "1.17.0");
        assert_eq!(out, text.replace("1.16.0", "1.17.0"));
    }

    #[test]
    fn flow_mapping() {
        let text = "- {name: a, currentTag: v1}   # flow\n- name: b\n";
        assert_eq!(
            set(text, &[idx(0), key("currentTag")], "v2"),
            "- {name: a, currentTag: v2}   # flow\n- name: b\n"
        );
        assert_eq!(
            set(text, &[idx(0), key("currentTag")], "a, b"),
            "- {name: a, currentTag: 'a, b'}   # flow\n- name: b\n"
        );
        match set_scalar(text, &[idx(0), key("version")], "1", None) {
            Err(YamlEditError::NotEditable { path, line, .. }) => {
                assert_eq!((path.as_str(), line), ("[0].version", 1));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_found() {
        let cases: [(&[Seg], &str); 4] = [
            (&[key("spec"), idx(2), key("currentTag")], "spec[2]"),
            (&[key("metadata")], "metadata"),
            (
                &[key("spec"), idx(0), key("nope"), key("x")],
                "spec[0].nope",
            ),
            (&[key("spec"), key("x")], "spec.x"),
        ];
        let text = "spec:\n- repositoryFullName: a/b\n";
        for (path, expected) in cases {
            match find_scalar(text, path) {
                Err(YamlEditError::NotFound { path }) => assert_eq!(path, expected),
                other => panic!("{other:?}"),
            }
        }
        // A key into a scalar is not found, not inserted.
        match set_scalar(
            text,
            &[key("spec"), idx(0), key("repositoryFullName"), key("x")],
            "1",
            None,
        ) {
            Err(YamlEditError::NotFound { path }) => {
                assert_eq!(path, "spec[0].repositoryFullName.x");
            }
            other => panic!("{other:?}"),
        }
        match set_scalar("", &[key("a")], "1", None) {
            Err(YamlEditError::NotFound { path }) => assert_eq!(path, "a"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors() {
        let err = find_scalar("a: 1\nb: 2\n  c: 3\n", &[key("a")]).unwrap_err();
        match &err {
            YamlEditError::Syntax { line, .. } => assert_eq!(*line, 3),
            other => panic!("{other:?}"),
        }
        let err = set_scalar("a: 1\nb: [x,\n\nc: 2\n", &[key("a")], "2", None).unwrap_err();
        assert!(
            matches!(err, YamlEditError::Syntax { line: 4, .. }),
            "{err:?}"
        );
        // Later documents are checked too.
        let err = set_scalar("a: 1\n---\nb: 'x\n", &[key("a")], "2", None).unwrap_err();
        assert!(
            matches!(err, YamlEditError::Syntax { line: 3, .. }),
            "{err:?}"
        );
        // saphyr accepts duplicate keys; serde_yaml does not.
        let err = set_scalar("a: 1\nb:\n  c: 1\n  'c': 2\n", &[key("a")], "2", None).unwrap_err();
        assert!(
            matches!(
                err,
                YamlEditError::Syntax {
                    line: 4,
                    col: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "line 4, column 3: duplicate key \"c\"");
        // Keys serde_yaml reads as equal (1 and 0x1) are reported where it says.
        let err = set_scalar("1: a\n0x1: b\n", &[key("1")], "2", None).unwrap_err();
        assert!(
            matches!(err, YamlEditError::Syntax { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn values_needing_quotes() {
        let text = "version: 1.2.0 # v\n";
        let cases = [
            ("1.10", "version: '1.10' # v\n"),
            ("1.2", "version: '1.2' # v\n"),
            ("1.2.3", "version: 1.2.3 # v\n"),
            ("", "version: '' # v\n"),
            ("true", "version: 'true' # v\n"),
            ("~", "version: '~' # v\n"),
            ("null", "version: 'null' # v\n"),
            ("a: b", "version: 'a: b' # v\n"),
            ("a #b", "version: 'a #b' # v\n"),
            ("#x", "version: '#x' # v\n"),
            ("*x", "version: '*x' # v\n"),
            ("- x", "version: '- x' # v\n"),
            (" x", "version: ' x' # v\n"),
            ("it's", "version: it's # v\n"),
            ("'q'", "version: '''q''' # v\n"),
            ("a\tb\u{1}", "version: \"a\\tb\\u0001\" # v\n"),
        ];
        for (value, expected) in cases {
            assert_eq!(set(text, &[key("version")], value), expected, "{value:?}");
        }
    }

    #[test]
    fn empty_values() {
        let text = "a:\nb:   # none yet\nc: !!str\nd: 1\n";
        assert_eq!(
            set(text, &[key("a")], "v1"),
            "a: v1\nb:   # none yet\nc: !!str\nd: 1\n"
        );
        assert_eq!(
            set(text, &[key("b")], "v1"),
            "a:\nb: v1  # none yet\nc: !!str\nd: 1\n"
        );
        assert_eq!(
            set(text, &[key("c")], "v1"),
            "a:\nb:   # none yet\nc: !!str v1\nd: 1\n"
        );
        assert_eq!(set("a: #c\n", &[key("a")], "v"), "a: v #c\n");
    }

    #[test]
    fn not_editable_nodes() {
        let text = "\
base: &b v1
alias: *b
block: |
  text
multi: one
  two
map:
  a: 1
";
        let cases: [(&str, usize); 4] = [("alias", 2), ("block", 4), ("multi", 5), ("map", 8)];
        for (name, line) in cases {
            match set_scalar(text, &[key(name)], "x", None) {
                Err(YamlEditError::NotEditable { path, line: l, .. }) => {
                    assert_eq!((path.as_str(), l), (name, line));
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        match set_scalar(text, &[key("alias"), key("x")], "x", None) {
            Err(YamlEditError::NotEditable { path, .. }) => assert_eq!(path, "alias"),
            other => panic!("{other:?}"),
        }
        // An aliased anchor is refused, also on an ancestor; an anchor nobody refers to is kept.
        match set_scalar(text, &[key("base")], "v2", None) {
            Err(YamlEditError::NotEditable { path, line: 1, .. }) => assert_eq!(path, "base"),
            other => panic!("{other:?}"),
        }
        let text = "base: &b\n  tag: v1\nother: *b\n";
        for path in [vec![key("base"), key("tag")], vec![key("base"), key("new")]] {
            match set_scalar(text, &path, "v2", None) {
                Err(e @ YamlEditError::NotEditable { .. }) => {
                    assert!(e.to_string().contains("base carries an anchor"), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(set("a: &x v1 # c\n", &[key("a")], "v2"), "a: &x v2 # c\n");
    }

    #[test]
    fn quoted_keys_tags_and_documents() {
        let text = "\"name\": a\n'tag': !!str 12\n---\nname: b\n";
        assert_eq!(
            set(text, &[key("name")], "c"),
            "\"name\": c\n'tag': !!str 12\n---\nname: b\n"
        );
        assert_eq!(
            set(text, &[key("tag")], "13"),
            "\"name\": a\n'tag': !!str 13\n---\nname: b\n"
        );
    }

    #[test]
    fn root_scalar_and_display_path() {
        assert_eq!(set("1.0.0\n", &[], "1.0.1"), "1.0.1\n");
        assert_eq!(display_path(&[]), ".");
        assert_eq!(
            display_path(&[key("spec"), idx(2), key("currentTag")]),
            "spec[2].currentTag"
        );
        assert_eq!(display_path(&[idx(0), key("a.b")]), "[0][\"a.b\"]");
    }

    #[test]
    fn insertion_after_block_scalar() {
        let text = "a:\n  notes: |\n    line\n\n  b: 1\n";
        assert_eq!(
            insert(text, &[key("a"), key("c")], "2", Some("notes")),
            "a:\n  notes: |\n    line\n\n  c: '2'\n  b: 1\n"
        );
    }

    #[test]
    fn set_scalars_gives_what_one_by_one_edits_give() {
        let text = "# list\n- name: a\n  currentTag: v1.0.0 # pinned\n- name: b\n  currentTag: 'v1.0.0'\n- name: c\n  currentTag: \"v1.0.0\"\n- {name: d, currentTag: v1.0.0}\n- name: e\n";
        let path = |i: usize| vec![Seg::Index(i), key("currentTag")];
        let one_by_one = |edits: &[(Vec<Seg>, String)]| {
            let mut out = text.to_string();
            for (p, v) in edits {
                out = set_scalar(&out, p, v, Some("name")).unwrap();
            }
            out
        };
        // Plain, single- and double-quoted, flow: one parse.
        let edits: Vec<_> = (0..4).map(|i| (path(i), format!("v1.{i}.0"))).collect();
        let batch = set_scalars(text, &edits, Some("name")).unwrap();
        assert_eq!(batch, one_by_one(&edits));
        assert!(
            batch.contains("currentTag: v1.0.0 # pinned") && batch.contains("currentTag: 'v1.1.0'")
        );
        // A value whose style must change (`1.10` would read as a number), and an absent key to
        // insert: the one-by-one path, same result.
        let edits = vec![
            (path(0), "1.10".to_string()),
            (path(4), "v2.0.0".to_string()),
        ];
        assert_eq!(
            set_scalars(text, &edits, Some("name")).unwrap(),
            one_by_one(&edits)
        );
        // An edit that cannot be made is the error one-by-one editing gives.
        let edits = vec![
            (path(0), "v2".to_string()),
            (vec![Seg::Index(9), key("x")], "y".to_string()),
        ];
        assert!(matches!(
            set_scalars(text, &edits, None),
            Err(YamlEditError::NotFound { .. })
        ));
    }
}
