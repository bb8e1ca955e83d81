//! Go `text/template` parser: `{{ }}` actions with trim markers, comments, pipelines, `define`/`block`.
//!
//! Follows Go's `text/template/parse` (the syntax Helm templates are written in): `{{-`/`-}}` trim
//! the whitespace beside them, `else if`/`else with` chain, fields chain when written without
//! spaces (`.A.B`, `$x.A`, `(f .).A`), and `define` bodies are collected by name.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::value::Value;

/// A parse error: 1-based line in the template text and what is wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{line}: {msg}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// Message in Go's words where Go has one.
    pub msg: String,
}

/// A node of a parsed template body.
#[derive(Debug)]
pub enum Node {
    /// Literal text (already trimmed by `{{-`/`-}}`) and the 1-based line it starts on.
    Text { text: Rc<str>, line: usize },
    /// `{{ pipeline }}`: printed unless it declares variables.
    Action { line: usize, pipe: Pipe },
    /// `{{if}}` (`kind` = "if"), `{{with}}` or `{{range}}` with its body and `else` branch.
    Branch {
        kind: BranchKind,
        line: usize,
        pipe: Pipe,
        body: Vec<Node>,
        els: Vec<Node>,
    },
    /// `{{template "name" pipeline}}`.
    Template {
        line: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    /// `{{break}}`.
    Break,
    /// `{{continue}}`.
    Continue,
}

/// Which branching action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchKind {
    /// `if`.
    If,
    /// `with`.
    With,
    /// `range`.
    Range,
}

/// A pipeline: optional variable declaration (`$x :=`) or assignment (`$x =`), then commands joined by `|`.
#[derive(Debug, Default)]
pub struct Pipe {
    /// Declared or assigned variables (`$i, $v := range …` has two).
    pub vars: Vec<Rc<str>>,
    /// `=` instead of `:=`.
    pub assign: bool,
    /// The commands; each command's result is the last argument of the next.
    pub cmds: Vec<Cmd>,
}

/// One command: a function call or a single operand.
#[derive(Debug)]
pub struct Cmd {
    /// First term is the function (an [`Term::Ident`]) or the operand.
    pub args: Vec<Term>,
}

/// An operand.
#[derive(Debug)]
pub enum Term {
    /// `.`
    Dot,
    /// `.A.B`
    Field(Vec<Rc<str>>),
    /// `$x.A.B` (`$` alone is the root).
    Var(Rc<str>, Vec<Rc<str>>),
    /// A function name or `true`/`false`/`nil` resolved at parse time to [`Term::Lit`].
    Ident(Rc<str>),
    /// A literal.
    Lit(Value),
    /// `(pipeline).A.B`
    Sub(Box<Pipe>, Vec<Rc<str>>),
}

/// A parsed template: its body and the `define`s it holds.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The top-level body.
    pub root: Rc<Vec<Node>>,
    /// `define`/`block` name -> body.
    pub defines: BTreeMap<String, Rc<Vec<Node>>>,
}

#[derive(Debug, Clone)]
enum Tok {
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    Dot,
    Field(Rc<str>),
    Var(Rc<str>),
    Ident(Rc<str>),
    Str(Rc<str>),
    Num(Value),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    space_before: bool,
}

/// One lexed item of the source: text or an action's tokens.
enum Item {
    Text(String, usize),
    Action { line: usize, toks: Vec<Token> },
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn lex(src: &str) -> Result<Vec<Item>, ParseError> {
    let b = src.as_bytes();
    let mut items = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    let mut trim_next = false;
    loop {
        let start = pos;
        let open = src[pos..].find("{{").map(|i| pos + i);
        let text_end = open.unwrap_or(b.len());
        let mut text = &src[start..text_end];
        if trim_next {
            text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        }
        let text_line = |t: &str| {
            line + src[start..start + (t.as_ptr() as usize - src[start..].as_ptr() as usize)]
                .matches('\n')
                .count()
        };
        let Some(open) = open else {
            if !text.is_empty() {
                items.push(Item::Text(text.to_string(), text_line(text)));
            }
            break;
        };
        let tline = text_line(text);
        line += src[start..open].matches('\n').count();
        let mut p = open + 2;
        if b.get(p) == Some(&b'-') && b.get(p + 1).is_some_and(|&c| is_space(c)) {
            text = text.trim_end_matches([' ', '\t', '\r', '\n']);
            p += 2;
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string(), tline));
        }
        let action_line = line;
        // Comment.
        let q = skip_space(b, p);
        if src[q..].starts_with("/*") {
            let Some(end) = src[q + 2..].find("*/").map(|i| q + 2 + i + 2) else {
                return Err(err(line, "unclosed comment"));
            };
            line += src[p..end].matches('\n').count();
            let r = skip_space(b, end);
            if src[r..].starts_with("-}}") && r > end {
                trim_next = true;
                pos = r + 3;
            } else if src[end..].starts_with("}}") {
                trim_next = false;
                pos = end + 2;
            } else {
                return Err(err(line, "comment ends before closing delimiter"));
            }
            continue;
        }
        let mut toks = Vec::new();
        let mut space = true;
        loop {
            let c = *b.get(p).ok_or_else(|| err(line, "unclosed action"))?;
            if is_space(c) {
                if c == b'\n' {
                    line += 1;
                }
                // ` -}}` closes with trimming.
                if src[p + 1..].starts_with("-}}") {
                    trim_next = true;
                    pos = p + 4;
                    break;
                }
                space = true;
                p += 1;
                continue;
            }
            if src[p..].starts_with("}}") {
                trim_next = false;
                pos = p + 2;
                break;
            }
            let (tok, next) = lex_token(src, p, line)?;
            line += src[p..next].matches('\n').count();
            toks.push(Token {
                tok,
                space_before: space,
            });
            space = false;
            p = next;
        }
        items.push(Item::Action {
            line: action_line,
            toks,
        });
    }
    Ok(items)
}

fn skip_space(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && is_space(b[p]) {
        p += 1;
    }
    p
}

fn err(line: usize, msg: impl Into<String>) -> ParseError {
    ParseError {
        line,
        msg: msg.into(),
    }
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn lex_token(src: &str, p: usize, line: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    let c = b[p];
    let word_end = |mut q: usize| {
        while q < b.len() && is_ident_char(b[q]) {
            q += 1;
        }
        q
    };
    Ok(match c {
        b'|' => (Tok::Pipe, p + 1),
        b'(' => (Tok::LParen, p + 1),
        b')' => (Tok::RParen, p + 1),
        b',' => (Tok::Comma, p + 1),
        b':' if b.get(p + 1) == Some(&b'=') => (Tok::Declare, p + 2),
        b'=' => (Tok::Assign, p + 1),
        b'.' if b.get(p + 1).is_some_and(|c| c.is_ascii_digit()) => lex_number(src, p, line)?,
        b'.' => {
            let e = word_end(p + 1);
            if e == p + 1 {
                (Tok::Dot, p + 1)
            } else {
                (Tok::Field(src[p + 1..e].into()), e)
            }
        }
        b'$' => {
            let e = word_end(p + 1);
            (Tok::Var(src[p..e].into()), e)
        }
        b'"' => {
            let mut q = p + 1;
            let mut s = String::new();
            loop {
                let ch = src[q..]
                    .chars()
                    .next()
                    .ok_or_else(|| err(line, "unterminated quoted string"))?;
                match ch {
                    '"' => break,
                    '\n' => return Err(err(line, "unterminated quoted string")),
                    '\\' => {
                        let (c2, n) = unescape(&src[q + 1..])
                            .ok_or_else(|| err(line, "invalid escape in quoted string"))?;
                        s.push_str(&c2);
                        q += 1 + n;
                    }
                    _ => {
                        s.push(ch);
                        q += ch.len_utf8();
                    }
                }
            }
            (Tok::Str(s.into()), q + 1)
        }
        b'`' => {
            let end = src[p + 1..]
                .find('`')
                .ok_or_else(|| err(line, "unterminated raw quoted string"))?;
            (Tok::Str(src[p + 1..p + 1 + end].into()), p + 2 + end)
        }
        b'\'' => {
            let rest = &src[p + 1..];
            let (ch, n) = if let Some(r) = rest.strip_prefix('\\') {
                let (s, n) = unescape(r).ok_or_else(|| err(line, "invalid character constant"))?;
                (s.chars().next().unwrap_or('\0'), n + 1)
            } else {
                let ch = rest
                    .chars()
                    .next()
                    .ok_or_else(|| err(line, "unterminated character constant"))?;
                (ch, ch.len_utf8())
            };
            if src.as_bytes().get(p + 1 + n) != Some(&b'\'') {
                return Err(err(line, "unterminated character constant"));
            }
            (Tok::Num(Value::Int(ch as i64)), p + 2 + n)
        }
        b'0'..=b'9' => lex_number(src, p, line)?,
        b'-' | b'+'
            if b.get(p + 1)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'.') =>
        {
            lex_number(src, p, line)?
        }
        _ if is_ident_char(c) => {
            let e = word_end(p);
            (Tok::Ident(src[p..e].into()), e)
        }
        _ => {
            let ch = src[p..].chars().next().unwrap_or('?');
            return Err(err(line, format!("unexpected {ch:?} in command")));
        }
    })
}

fn unescape(s: &str) -> Option<(String, usize)> {
    let c = s.chars().next()?;
    Some(match c {
        'n' => ("\n".into(), 1),
        't' => ("\t".into(), 1),
        'r' => ("\r".into(), 1),
        '\\' => ("\\".into(), 1),
        '"' => ("\"".into(), 1),
        '\'' => ("'".into(), 1),
        'a' => ("\x07".into(), 1),
        'b' => ("\x08".into(), 1),
        'f' => ("\x0c".into(), 1),
        'v' => ("\x0b".into(), 1),
        '0'..='7' => {
            let v = u32::from_str_radix(s.get(..3)?, 8).ok()?;
            (char::from_u32(v)?.to_string(), 3)
        }
        'x' | 'u' | 'U' => {
            let n = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let v = u32::from_str_radix(s.get(1..1 + n)?, 16).ok()?;
            (char::from_u32(v)?.to_string(), 1 + n)
        }
        _ => return None,
    })
}

fn lex_number(src: &str, p: usize, line: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    let mut q = p;
    if b[q] == b'-' || b[q] == b'+' {
        q += 1;
    }
    while q < b.len()
        && (b[q].is_ascii_alphanumeric()
            || b[q] == b'.'
            || b[q] == b'_'
            || ((b[q] == b'-' || b[q] == b'+') && matches!(b[q - 1], b'e' | b'E' | b'p' | b'P')))
    {
        q += 1;
    }
    let text: String = src[p..q].chars().filter(|&c| c != '_').collect();
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let lower = digits.to_ascii_lowercase();
    if lower.starts_with("0x") && lower.contains('p') {
        // Hexadecimal float: 0x1p60.
        let (m, e) = lower[2..].split_once('p').unwrap_or(("0", "0"));
        let (ip, fp) = m.split_once('.').unwrap_or((m, ""));
        let mut mant =
            i64::from_str_radix(if ip.is_empty() { "0" } else { ip }, 16).unwrap_or(0) as f64;
        for (i, c) in fp.chars().enumerate() {
            mant += f64::from(c.to_digit(16).unwrap_or(0)) / 16f64.powi(i as i32 + 1);
        }
        let e: i32 = e
            .parse()
            .map_err(|_| err(line, format!("bad number syntax: {:?}", &src[p..q])))?;
        let f = mant * 2f64.powi(e);
        return Ok((Tok::Num(Value::Float(if neg { -f } else { f })), q));
    }
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(bn) = lower.strip_prefix("0b") {
        i64::from_str_radix(bn, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    let v = match int {
        Some(i) => Value::Int(if neg { -i } else { i }),
        None => match lower.parse::<f64>() {
            Ok(f) => Value::Float(if neg { -f } else { f }),
            Err(_) => return Err(err(line, format!("bad number syntax: {:?}", &src[p..q]))),
        },
    };
    Ok((Tok::Num(v), q))
}

/// Parse template text.
///
/// # Errors
///
/// Go's parse errors: unclosed actions, unexpected `{{end}}`, missing `{{end}}`, bad syntax.
pub fn parse(src: &str) -> Result<Parsed, ParseError> {
    let items = lex(src)?;
    let mut p = Parser {
        items: items.into_iter().peekable(),
        defines: BTreeMap::new(),
        last_line: 1,
        pending_else: None,
    };
    let (root, end) = p.list(0)?;
    if let Some((line, word)) = end {
        return Err(err(line, format!("unexpected {{{{{word}}}}}")));
    }
    Ok(Parsed {
        root: Rc::new(root),
        defines: p.defines,
    })
}

struct Parser {
    items: std::iter::Peekable<std::vec::IntoIter<Item>>,
    defines: BTreeMap<String, Rc<Vec<Node>>>,
    last_line: usize,
    pending_else: Option<Vec<Token>>,
}

/// How a list of nodes ended: `end`, `else` (with the tokens after `else`).
type Ending = Option<(usize, String)>;

impl Parser {
    /// Nodes until `{{end}}` or `{{else …}}` (returned as the ending) or the end of input.
    fn list(&mut self, depth: usize) -> Result<(Vec<Node>, Ending), ParseError> {
        if depth > 200 {
            return Err(err(self.last_line, "templates nested too deeply"));
        }
        let mut nodes = Vec::new();
        while let Some(item) = self.items.next() {
            match item {
                Item::Text(t, line) => nodes.push(Node::Text {
                    text: t.into(),
                    line,
                }),
                Item::Action { line, toks } => {
                    self.last_line = line;
                    let word = match toks.first().map(|t| &t.tok) {
                        Some(Tok::Ident(w)) => Some(w.to_string()),
                        _ => None,
                    };
                    match word.as_deref() {
                        Some("end") => {
                            if toks.len() > 1 {
                                return Err(err(line, "unexpected tokens after end"));
                            }
                            return Ok((nodes, Some((line, "end".into()))));
                        }
                        Some("else") => {
                            // Keep the rest of the tokens for `else if` / `else with`.
                            let rest = toks[1..].to_vec();
                            self.pending_else = Some(rest);
                            return Ok((nodes, Some((line, "else".into()))));
                        }
                        Some(kind @ ("if" | "with" | "range")) => {
                            let kind = match kind {
                                "if" => BranchKind::If,
                                "with" => BranchKind::With,
                                _ => BranchKind::Range,
                            };
                            nodes.push(self.branch(kind, line, &toks[1..], depth)?);
                        }
                        Some(kind @ ("define" | "block")) => {
                            let (name, rest) = match toks.get(1).map(|t| &t.tok) {
                                Some(Tok::Str(s)) => (s.to_string(), &toks[2..]),
                                _ => return Err(err(line, format!("{kind} needs a quoted name"))),
                            };
                            let (body, end) = self.list(depth + 1)?;
                            match end {
                                Some((_, w)) if w == "end" => {}
                                _ => {
                                    return Err(err(
                                        line,
                                        format!("unexpected EOF in {kind} clause"),
                                    ))
                                }
                            }
                            self.defines.insert(name.clone(), Rc::new(body));
                            if kind == "block" {
                                let pipe = Some(pipe_of(rest, line)?);
                                nodes.push(Node::Template { line, name, pipe });
                            } else if !rest.is_empty() {
                                return Err(err(line, "unexpected tokens after define name"));
                            }
                        }
                        Some("template") => {
                            let (name, rest) = match toks.get(1).map(|t| &t.tok) {
                                Some(Tok::Str(s)) => (s.to_string(), &toks[2..]),
                                _ => return Err(err(line, "template needs a quoted name")),
                            };
                            let pipe = if rest.is_empty() {
                                None
                            } else {
                                Some(pipe_of(rest, line)?)
                            };
                            nodes.push(Node::Template { line, name, pipe });
                        }
                        Some("break") => nodes.push(Node::Break),
                        Some("continue") => nodes.push(Node::Continue),
                        _ => {
                            if toks.is_empty() {
                                return Err(err(line, "missing value for command"));
                            }
                            nodes.push(Node::Action {
                                line,
                                pipe: pipe_of(&toks, line)?,
                            });
                        }
                    }
                }
            }
        }
        Ok((nodes, None))
    }

    fn branch(
        &mut self,
        kind: BranchKind,
        line: usize,
        toks: &[Token],
        depth: usize,
    ) -> Result<Node, ParseError> {
        let pipe = pipe_of(toks, line)?;
        let (body, end) = self.list(depth + 1)?;
        let els = match end {
            Some((_, w)) if w == "end" => Vec::new(),
            Some((eline, w)) if w == "else" => {
                let rest = self.pending_else.take().unwrap_or_default();
                match rest.first().map(|t| &t.tok) {
                    None => {
                        let (els, end) = self.list(depth + 1)?;
                        match end {
                            Some((_, w)) if w == "end" => els,
                            _ => return Err(err(line, "unexpected EOF")),
                        }
                    }
                    Some(Tok::Ident(w)) if &**w == "if" || &**w == "with" => {
                        let k = if &**w == "if" {
                            BranchKind::If
                        } else {
                            BranchKind::With
                        };
                        // `else if` shares the enclosing `end`.
                        vec![self.branch(k, eline, &rest[1..], depth + 1)?]
                    }
                    _ => return Err(err(eline, "unexpected tokens after else")),
                }
            }
            _ => return Err(err(line, "unexpected EOF")),
        };
        Ok(Node::Branch {
            kind,
            line,
            pipe,
            body,
            els,
        })
    }
}

fn pipe_of(toks: &[Token], line: usize) -> Result<Pipe, ParseError> {
    let mut pos = 0;
    let pipe = pipeline(toks, &mut pos, line, 0)?;
    if pos < toks.len() {
        return Err(err(
            line,
            format!("unexpected {:?} in operand", toks[pos].tok),
        ));
    }
    Ok(pipe)
}

fn pipeline(
    toks: &[Token],
    pos: &mut usize,
    line: usize,
    depth: usize,
) -> Result<Pipe, ParseError> {
    if depth > 100 {
        return Err(err(line, "parentheses nested too deeply"));
    }
    let mut pipe = Pipe::default();
    // Declarations: `$x :=`, `$x =`, `$i, $v :=`.
    let mut look = *pos;
    let mut vars = Vec::new();
    while let Some(Tok::Var(v)) = toks.get(look).map(|t| &t.tok) {
        vars.push(v.clone());
        look += 1;
        match toks.get(look).map(|t| &t.tok) {
            Some(Tok::Comma) => {
                look += 1;
                continue;
            }
            Some(Tok::Declare) => {
                pipe.vars = vars;
                *pos = look + 1;
                break;
            }
            Some(Tok::Assign) => {
                pipe.vars = vars;
                pipe.assign = true;
                *pos = look + 1;
                break;
            }
            _ => break,
        }
    }
    loop {
        let mut args = Vec::new();
        while let Some(t) = toks.get(*pos) {
            match &t.tok {
                Tok::Pipe | Tok::RParen => break,
                _ => args.push(term(toks, pos, line, depth)?),
            }
        }
        if args.is_empty() {
            return Err(err(line, "missing value for command"));
        }
        pipe.cmds.push(Cmd { args });
        match toks.get(*pos).map(|t| &t.tok) {
            Some(Tok::Pipe) => *pos += 1,
            _ => break,
        }
    }
    Ok(pipe)
}

fn fields_after(toks: &[Token], pos: &mut usize) -> Vec<Rc<str>> {
    let mut fields = Vec::new();
    while let Some(Token {
        tok: Tok::Field(f),
        space_before: false,
    }) = toks.get(*pos)
    {
        fields.push(f.clone());
        *pos += 1;
    }
    fields
}

fn term(toks: &[Token], pos: &mut usize, line: usize, depth: usize) -> Result<Term, ParseError> {
    let t = &toks[*pos];
    *pos += 1;
    Ok(match &t.tok {
        Tok::Dot => Term::Dot,
        Tok::Field(f) => {
            let mut fields = vec![f.clone()];
            fields.extend(fields_after(toks, pos));
            Term::Field(fields)
        }
        Tok::Var(v) => Term::Var(v.clone(), fields_after(toks, pos)),
        Tok::Ident(w) => match &**w {
            "true" => Term::Lit(Value::Bool(true)),
            "false" => Term::Lit(Value::Bool(false)),
            "nil" => Term::Lit(Value::Nil),
            _ => Term::Ident(w.clone()),
        },
        Tok::Str(s) => Term::Lit(Value::Str(s.clone())),
        Tok::Num(n) => Term::Lit(n.clone()),
        Tok::LParen => {
            let p = pipeline(toks, pos, line, depth + 1)?;
            match toks.get(*pos).map(|t| &t.tok) {
                Some(Tok::RParen) => *pos += 1,
                _ => return Err(err(line, "unclosed left paren")),
            }
            Term::Sub(Box::new(p), fields_after(toks, pos))
        }
        other => return Err(err(line, format!("unexpected {other:?} in operand"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_comments() {
        let p = parse("a  {{- /* c */ -}}  b {{- 1 }}\n").unwrap();
        let texts: Vec<String> = p
            .root
            .iter()
            .filter_map(|n| match n {
                Node::Text { text, .. } => Some(text.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, vec!["a", "b", "\n"]);
    }

    #[test]
    fn defines_and_else_if() {
        let p =
            parse(r#"{{define "x"}}X{{end}}{{if .A}}a{{else if .B}}b{{else}}c{{end}}"#).unwrap();
        assert!(p.defines.contains_key("x"));
        assert_eq!(p.root.len(), 1);
        assert!(parse("{{if .A}}").is_err());
        assert!(parse("{{end}}").is_err());
    }

    #[test]
    fn numbers_and_strings() {
        let p = parse(r#"{{ printf "%s\t" `raw` -1 0x10 1.5 'a' }}"#).unwrap();
        let Node::Action { pipe, .. } = &p.root[0] else {
            panic!()
        };
        assert_eq!(pipe.cmds[0].args.len(), 7);
    }
}
