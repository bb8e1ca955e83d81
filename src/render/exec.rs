//! Go `text/template` execution with Helm's settings: `missingkey=zero`, `include`, `tpl`, `required`, `lookup`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::parse::{BranchKind, Cmd, Node, Parsed, Pipe, Term};
use super::value::Value;

/// Depth limit of `include`/`template`/`tpl` nesting (Helm stops recursive includes too).
const MAX_DEPTH: usize = 100;

/// An execution error: the template (Helm's name, e.g. `chart/templates/dep.yaml`), the 1-based
/// line of the action, and Go's message where Go has one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{template}:{line}: {msg}")]
pub struct ExecError {
    /// Template name.
    pub template: String,
    /// 1-based line.
    pub line: usize,
    /// What went wrong.
    pub msg: String,
}

/// The named templates of a chart tree (`define`s of every file), shared by `include` and `template`.
#[derive(Default)]
pub struct TemplateSet {
    /// Name -> body; the file that defines it (for errors).
    pub defines: HashMap<String, (Rc<Vec<Node>>, Rc<str>)>,
    tpl_cache: RefCell<HashMap<String, Rc<Parsed>>>,
}

impl TemplateSet {
    /// Add a parsed file: its body under its own name (Helm's `include (print
    /// $.Template.BasePath "/configmap.yaml") .` idiom) and its defines (a later file's define
    /// replaces an earlier one, as Go's `AddParseTree` does; Helm adds parent charts last so that
    /// they win).
    pub fn add(&mut self, file: &str, parsed: &Parsed) {
        let file: Rc<str> = file.into();
        self.defines
            .insert(file.to_string(), (parsed.root.clone(), file.clone()));
        for (name, body) in &parsed.defines {
            self.defines
                .insert(name.clone(), (body.clone(), file.clone()));
        }
    }
}

/// Where each piece of output came from: `(output byte offset, template line, is literal text)`.
pub type Marks = Vec<(usize, usize, bool)>;

/// Execute `root` (the body of template `name`) with `dot` as `.` and `$`.
///
/// Returns the output (Helm's `<no value>` already removed) and marks that map output offsets
/// back to template lines (top-level nodes only: an `include` counts as its own line).
///
/// # Errors
///
/// The first execution error ([`ExecError`]): `required`/`fail`, nil pointer field access,
/// calls of undefined functions or templates, wrong argument types.
pub fn execute(
    set: &TemplateSet,
    name: &str,
    root: &[Node],
    dot: Value,
) -> Result<(String, Marks), ExecError> {
    let mut ex = Exec {
        set,
        overlay: Vec::new(),
        out: String::new(),
        vars: vec![("$".into(), dot.clone())],
        dot,
        depth: 0,
        name: name.into(),
        line: 1,
        marks: Vec::new(),
    };
    ex.walk(root)?;
    let out = if ex.out.contains("<no value>") {
        ex.out.replace("<no value>", "")
    } else {
        ex.out
    };
    Ok((out, ex.marks))
}

enum Flow {
    Normal,
    Break,
    Continue,
}

struct Exec<'s> {
    set: &'s TemplateSet,
    overlay: Vec<Rc<Parsed>>,
    out: String,
    vars: Vec<(Rc<str>, Value)>,
    dot: Value,
    depth: usize,
    name: Rc<str>,
    line: usize,
    marks: Marks,
}

type R<T> = Result<T, ExecError>;

impl Exec<'_> {
    fn fail(&self, msg: impl Into<String>) -> ExecError {
        ExecError {
            template: self.name.to_string(),
            line: self.line,
            msg: msg.into(),
        }
    }

    fn step(&mut self) -> R<()> {
        super::budget::steps(1).map_err(|e| self.fail(e))
    }

    /// Charge what was just appended to the output: the chart's output budget at the top level,
    /// the value budget inside an `include` or `tpl` (whose output becomes a value).
    fn wrote(&mut self, n: usize) -> R<()> {
        let r = if self.depth == 0 {
            super::budget::output(n)
        } else {
            super::budget::value(self.out.len() as u64)
        };
        r.map_err(|e| self.fail(e))
    }

    /// The budget's verdict after a function call or a print: a walker that stopped early has
    /// left its reason; a result must fit the value budget, and a string or list costs a step
    /// per 64 bytes or 4 items (functions build them anew).
    fn measure(&mut self, v: &Value) -> R<()> {
        if let Some(e) = super::budget::exceeded() {
            return Err(self.fail(e));
        }
        let (bytes, cost) = match v {
            Value::Str(s) => (s.len() as u64, s.len() as u64 / 64),
            Value::List(l) => (
                l.len() as u64 * super::budget::ITEM_BYTES,
                l.len() as u64 / 4,
            ),
            // No steps for a dict: `set` and `merge` change it in place (a loop of `set`s stays
            // linear); `deepCopy` and `merge` charge their walks.
            Value::Map(m) => (m.borrow().len() as u64 * super::budget::ITEM_BYTES, 0),
            _ => (0, 0),
        };
        super::budget::value(bytes)
            .and_then(|()| super::budget::steps(cost))
            .map_err(|e| self.fail(e))
    }

    fn walk(&mut self, nodes: &[Node]) -> R<Flow> {
        for node in nodes {
            self.step()?;
            match node {
                Node::Text { text, line } => {
                    if self.depth == 0 {
                        self.marks.push((self.out.len(), *line, true));
                    }
                    self.out.push_str(text);
                    self.wrote(text.len())?;
                }
                Node::Action { line, pipe } => {
                    self.line = *line;
                    if self.depth == 0 {
                        self.marks.push((self.out.len(), *line, false));
                    }
                    let v = self.pipe(pipe)?;
                    if pipe.vars.is_empty() {
                        let before = self.out.len();
                        print_value(&mut self.out, &v);
                        if let Some(e) = super::budget::exceeded() {
                            return Err(self.fail(e));
                        }
                        self.wrote(self.out.len() - before)?;
                    }
                }
                Node::Branch {
                    kind,
                    line,
                    pipe,
                    body,
                    els,
                } => {
                    self.line = *line;
                    let mark = self.vars.len();
                    let flow = match kind {
                        BranchKind::If => {
                            let v = self.pipe(pipe)?;
                            if v.truthy() {
                                self.walk(body)?
                            } else {
                                self.walk(els)?
                            }
                        }
                        BranchKind::With => {
                            let v = self.pipe(pipe)?;
                            if v.truthy() {
                                let saved = std::mem::replace(&mut self.dot, v);
                                let f = self.walk(body);
                                self.dot = saved;
                                f?
                            } else {
                                self.walk(els)?
                            }
                        }
                        BranchKind::Range => self.range(pipe, body, els)?,
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Template { line, name, pipe } => {
                    self.line = *line;
                    if self.depth == 0 {
                        self.marks.push((self.out.len(), *line, false));
                    }
                    let dot = match pipe {
                        Some(p) => self.pipe(p)?,
                        None => Value::Nil,
                    };
                    let text = self.include(name, dot)?;
                    self.out.push_str(&text);
                    self.wrote(text.len())?;
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, pipe: &Pipe, body: &[Node], els: &[Node]) -> R<Flow> {
        // Variables belong to each iteration, not to the pipeline.
        let v = self.eval_cmds(pipe)?;
        // `range N` counts lazily: a huge N costs steps, not memory.
        let count = match &v {
            Value::Int(n) => Some(*n),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        };
        let items: Vec<(Value, Value)> = match &v {
            _ if count.is_some() => Vec::new(),
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                .collect(),
            Value::Map(m) => m
                .borrow()
                .iter()
                .map(|(k, x)| (Value::str(k.as_str()), x.clone()))
                .collect(),
            Value::Nil => Vec::new(),
            Value::Object(o) => match &**o {
                super::value::Object::Files(f) => f
                    .iter()
                    .map(|(k, b)| {
                        (
                            Value::str(k.as_str()),
                            Value::str(String::from_utf8_lossy(b)),
                        )
                    })
                    .collect(),
                super::value::Object::ApiVersions(v) => v
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (Value::Int(i as i64), Value::str(x.as_str())))
                    .collect(),
            },
            other => {
                return Err(self.fail(format!("range can't iterate over {}", other.to_go_string())))
            }
        };
        let len = count.map_or(items.len() as i64, |n| n.max(0));
        if len == 0 {
            return self.walk(els);
        }
        let mut items = items.into_iter();
        let mark = self.vars.len();
        for i in 0..len {
            // Every iteration is a step, even one whose body is empty.
            self.step()?;
            let (k, x) = match count {
                Some(_) => (Value::Int(i), Value::Int(i)),
                None => match items.next() {
                    Some(kx) => kx,
                    None => break,
                },
            };
            self.vars.truncate(mark);
            match pipe.vars.len() {
                0 => {}
                1 => self.vars.push((pipe.vars[0].clone(), x.clone())),
                _ => {
                    self.vars.push((pipe.vars[0].clone(), k));
                    self.vars.push((pipe.vars[1].clone(), x.clone()));
                }
            }
            let saved = std::mem::replace(&mut self.dot, x);
            let f = self.walk(body);
            self.dot = saved;
            match f? {
                Flow::Break => break,
                Flow::Continue | Flow::Normal => {}
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    /// Evaluate a pipeline and bind its variables.
    fn pipe(&mut self, pipe: &Pipe) -> R<Value> {
        let v = self.eval_cmds(pipe)?;
        if let Some(var) = pipe.vars.first() {
            if pipe.assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == var) {
                    Some(slot) => slot.1 = v.clone(),
                    None => return Err(self.fail(format!("undefined variable: {var}"))),
                }
            } else {
                self.vars.push((var.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn eval_cmds(&mut self, pipe: &Pipe) -> R<Value> {
        let mut last: Option<Value> = None;
        for cmd in &pipe.cmds {
            last = Some(self.cmd(cmd, last)?);
        }
        Ok(last.unwrap_or_default())
    }

    fn var(&self, name: &str) -> R<Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| self.fail(format!("undefined variable: {name}")))
    }

    fn cmd(&mut self, cmd: &Cmd, piped: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        let rest = &cmd.args[1..];
        match first {
            Term::Ident(name) => self.call(name, rest, piped),
            Term::Field(chain) if !rest.is_empty() || piped.is_some() => {
                let recv = self.chain(self.dot.clone(), &chain[..chain.len() - 1])?;
                self.method(recv, &chain[chain.len() - 1], rest, piped)
            }
            Term::Var(v, chain) if !chain.is_empty() && (!rest.is_empty() || piped.is_some()) => {
                let recv = self.var(v)?;
                let recv = self.chain(recv, &chain[..chain.len() - 1])?;
                self.method(recv, &chain[chain.len() - 1], rest, piped)
            }
            Term::Sub(p, chain) if !chain.is_empty() && (!rest.is_empty() || piped.is_some()) => {
                let recv = self.eval_cmds(p)?;
                let recv = self.chain(recv, &chain[..chain.len() - 1])?;
                self.method(recv, &chain[chain.len() - 1], rest, piped)
            }
            _ => {
                if !rest.is_empty() || piped.is_some() {
                    return Err(self.fail(format!(
                        "can't give argument to non-function {}",
                        describe(first)
                    )));
                }
                self.arg(first)
            }
        }
    }

    fn method(&mut self, recv: Value, name: &str, rest: &[Term], piped: Option<Value>) -> R<Value> {
        let mut args = Vec::with_capacity(rest.len() + 1);
        for t in rest {
            args.push(self.arg(t)?);
        }
        args.extend(piped);
        match &recv {
            Value::Object(o) => match o.call(name, &args) {
                Some(r) => r.map_err(|e| self.fail(e)),
                None => Err(self.fail(format!("can't evaluate field {name}"))),
            },
            Value::Nil => Err(self.fail(format!("nil pointer evaluating interface {{}}.{name}"))),
            _ => Err(self.fail(format!(
                "{name} has arguments but cannot be invoked as function"
            ))),
        }
    }

    /// Go's `evalFieldChain`: a nil receiver at the start of a chain (a pipeline result or a
    /// variable, which Go unwraps to an invalid value) gives nil, but a nil met inside the chain
    /// (`.Values.missing.x`) is an error.
    fn chain(&self, mut v: Value, fields: &[Rc<str>]) -> R<Value> {
        for (i, f) in fields.iter().enumerate() {
            if i == 0 && matches!(v, Value::Nil) {
                return Ok(Value::Nil);
            }
            v = self.field(&v, f)?;
        }
        Ok(v)
    }

    fn field(&self, v: &Value, name: &str) -> R<Value> {
        match v {
            Value::Map(m) => Ok(m.borrow().get(name).cloned().unwrap_or_default()),
            Value::Object(o) => match o.call(name, &[]) {
                Some(r) => r.map_err(|e| self.fail(e)),
                None => Err(self.fail(format!("can't evaluate field {name}"))),
            },
            Value::Nil => Err(self.fail(format!("nil pointer evaluating interface {{}}.{name}"))),
            other => Err(self.fail(format!(
                "can't evaluate field {name} in type {}",
                other.type_name()
            ))),
        }
    }

    fn arg(&mut self, t: &Term) -> R<Value> {
        match t {
            Term::Dot => Ok(self.dot.clone()),
            Term::Field(chain) => self.chain(self.dot.clone(), chain),
            Term::Var(v, chain) => {
                let v = self.var(v)?;
                self.chain(v, chain)
            }
            Term::Ident(name) => self.call(name, &[], None),
            Term::Lit(v) => Ok(v.clone()),
            Term::Sub(p, chain) => {
                let v = self.eval_cmds(p)?;
                self.chain(v, chain)
            }
        }
    }

    fn call(&mut self, name: &str, rest: &[Term], piped: Option<Value>) -> R<Value> {
        // Short-circuit `and`/`or` (Go 1.18+): arguments are evaluated until the answer is known.
        if name == "and" || name == "or" {
            let want = name == "or";
            let mut last = Value::Nil;
            let n = rest.len() + usize::from(piped.is_some());
            if n == 0 {
                return Err(self.fail(format!(
                    "wrong number of args for {name}: want at least 1 got 0"
                )));
            }
            for t in rest {
                last = self.arg(t)?;
                if last.truthy() == want {
                    return Ok(last);
                }
            }
            if let Some(p) = piped {
                last = p;
            }
            return Ok(last);
        }
        let mut args = Vec::with_capacity(rest.len() + 1);
        for t in rest {
            args.push(self.arg(t)?);
        }
        args.extend(piped);
        match name {
            "include" => {
                let tname = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| self.fail("include needs a template name"))?
                    .to_string();
                let dot = args.get(1).cloned().unwrap_or_default();
                self.include(&tname, dot).map(Value::str)
            }
            "tpl" => {
                let text = match args.first() {
                    Some(Value::Str(s)) => s.to_string(),
                    Some(Value::Nil) | None => String::new(),
                    Some(other) => other.to_go_string(),
                };
                let dot = args.get(1).cloned().unwrap_or_default();
                self.tpl(&text, dot).map(Value::str)
            }
            _ => {
                let v = super::funcs::call(name, &args).map_err(|e| self.fail(e))?;
                self.measure(&v)?;
                Ok(v)
            }
        }
    }

    fn lookup_define(&self, name: &str) -> Option<Rc<Vec<Node>>> {
        for p in self.overlay.iter().rev() {
            if let Some(b) = p.defines.get(name) {
                return Some(b.clone());
            }
        }
        self.set.defines.get(name).map(|(b, _)| b.clone())
    }

    /// Run a named template with `dot`, returning its output.
    fn include(&mut self, name: &str, dot: Value) -> R<String> {
        let body = self.lookup_define(name).ok_or_else(|| {
            self.fail(format!(
                "no template {name:?} associated with template \"gotpl\""
            ))
        })?;
        self.nested(&body, dot)
    }

    fn nested(&mut self, body: &[Node], dot: Value) -> R<String> {
        if self.depth >= MAX_DEPTH {
            return Err(self.fail("templates nested too deeply (recursive include?)"));
        }
        let saved_out = std::mem::take(&mut self.out);
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$".into(), dot.clone())]);
        let saved_dot = std::mem::replace(&mut self.dot, dot);
        let saved_line = self.line;
        self.depth += 1;
        let r = self.walk(body);
        self.depth -= 1;
        self.line = saved_line;
        self.dot = saved_dot;
        self.vars = saved_vars;
        let text = std::mem::replace(&mut self.out, saved_out);
        r?;
        Ok(text)
    }

    /// Helm's `tpl`: parse `text` as a template (its `define`s visible to itself) and run it.
    fn tpl(&mut self, text: &str, dot: Value) -> R<String> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        let cached = self.set.tpl_cache.borrow().get(text).cloned();
        let parsed = match cached {
            Some(p) => p,
            None => {
                let p = Rc::new(
                    super::parse::parse(text)
                        .map_err(|e| self.fail(format!("error calling tpl: {e}")))?,
                );
                self.set
                    .tpl_cache
                    .borrow_mut()
                    .insert(text.to_string(), p.clone());
                p
            }
        };
        self.overlay.push(parsed.clone());
        let r = self.nested(&parsed.root, dot);
        self.overlay.pop();
        r
    }
}

fn describe(t: &Term) -> String {
    match t {
        Term::Lit(v) => v.to_go_string(),
        Term::Dot => ".".into(),
        Term::Field(c) => format!(".{}", c.join(".")),
        Term::Var(v, c) if c.is_empty() => v.to_string(),
        Term::Var(v, c) => format!("{v}.{}", c.join(".")),
        Term::Ident(i) => i.to_string(),
        Term::Sub(..) => "(…)".into(),
    }
}

/// Print a pipeline result as `text/template` does (a missing value prints nothing in Helm).
fn print_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => {}
        Value::Str(s) => out.push_str(s),
        other => out.push_str(&other.to_go_string()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    pub(crate) fn render(src: &str, values: &str) -> Result<String, String> {
        let parsed = super::super::parse::parse(src).map_err(|e| e.to_string())?;
        let mut set = TemplateSet::default();
        set.add("t", &parsed);
        let v: serde_yaml::Value = serde_yaml::from_str(values).unwrap();
        let mut top = BTreeMap::new();
        top.insert("Values".to_string(), Value::from_yaml(&v));
        top.insert(
            "Chart".to_string(),
            Value::map(
                [
                    ("Name".to_string(), Value::str("demo")),
                    ("AppVersion".to_string(), Value::str("1.2.3")),
                ]
                .into_iter()
                .collect(),
            ),
        );
        execute(&set, "t", &parsed.root, Value::map(top))
            .map(|(o, _)| o)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn fields_conditions_ranges() {
        let v = "image: {repository: nginx, tag: ''}\nlist: [a, b]\nm: {z: 1, a: 2}\non: false";
        assert_eq!(
            render("{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}", v).unwrap(),
            "nginx:1.2.3"
        );
        assert_eq!(
            render(
                "{{ range $i, $x := .Values.list }}{{$i}}={{$x}};{{ end }}",
                v
            )
            .unwrap(),
            "0=a;1=b;"
        );
        assert_eq!(
            render("{{ range $k, $x := .Values.m }}{{$k}}{{ end }}", v).unwrap(),
            "az"
        );
        assert_eq!(
            render(
                "{{ if .Values.on }}y{{ else if .Values.list }}l{{ else }}n{{ end }}",
                v
            )
            .unwrap(),
            "l"
        );
        assert_eq!(
            render("{{ with .Values.image }}{{ .repository }}{{ end }}", v).unwrap(),
            "nginx"
        );
        assert_eq!(render("{{ .Values.missing }}", v).unwrap(), "");
        assert!(render("{{ .Values.missing.deeper }}", v)
            .unwrap_err()
            .contains("nil pointer evaluating interface {}.deeper"));
        assert_eq!(
            render(
                "{{ $x := 1 }}{{ range .Values.list }}{{ $x = 2 }}{{ end }}{{ $x }}",
                v
            )
            .unwrap(),
            "2"
        );
        assert_eq!(
            render(
                "{{ range .Values.list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
                v
            )
            .unwrap(),
            "a"
        );
        assert_eq!(
            render(
                "{{ and .Values.on .Values.missing.x }}|{{ or .Values.on \"d\" }}",
                v
            )
            .unwrap(),
            "false|d"
        );
    }

    #[test]
    fn include_and_tpl() {
        let src = r#"{{- define "img" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default (printf "v%s" .Chart.AppVersion) }}{{- end -}}
image: {{ include "img" . | quote }}
t: {{ tpl .Values.t . }}"#;
        let out = render(src, "image: {repository: x/y, tag: ''}\nt: '{{ .Chart.Name }}-{{ .Values.image.repository }}'").unwrap();
        assert_eq!(out, "image: \"x/y:v1.2.3\"\nt: demo-x/y");
        assert!(render(r#"{{ include "nope" . }}"#, "{}")
            .unwrap_err()
            .contains("no template"));
        assert!(render(
            r#"{{- define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#,
            "{}"
        )
        .is_err());
    }

    #[test]
    fn dict_mutation_is_shared() {
        let src = r#"{{- $d := dict "a" 1 -}}{{- $_ := set $d "b" "x" -}}{{ $d.b }}{{ $_ := set .Values "k" "v" }}{{ .Values.k }}"#;
        assert_eq!(render(src, "{}").unwrap(), "xv");
    }
}

#[cfg(test)]
mod more_tests {
    use super::tests::render;

    #[test]
    fn with_else_block_and_template() {
        assert_eq!(
            render(
                "{{ with .Values.a }}A{{ else with .Values.b }}{{ . }}{{ else }}none{{ end }}",
                "b: B"
            )
            .unwrap(),
            "B"
        );
        assert_eq!(
            render(r#"{{ block "x" . }}default{{ end }}"#, "{}").unwrap(),
            "default"
        );
        assert_eq!(
            render(
                r#"{{ define "n" }}[{{ . }}]{{ end }}{{ template "n" .Values.v }}"#,
                "v: 1"
            )
            .unwrap(),
            "[1]"
        );
        assert_eq!(
            render("{{ range $k, $v := .Values.m }}{{ if eq $k \"b\" }}{{ continue }}{{ end }}{{ $k }}={{ $v }} {{ end }}", "m: {a: 1, b: 2, c: x}").unwrap(),
            "a=1 c=x "
        );
        assert_eq!(
            render("{{ range 3 }}{{ . }}{{ end }}", "{}").unwrap(),
            "012"
        );
        assert_eq!(
            render("{{ range .Values.none }}x{{ else }}empty{{ end }}", "{}").unwrap(),
            "empty"
        );
    }

    #[test]
    fn to_yaml_nindent_and_pipelines() {
        let out = render(
            "spec:\n  containers:\n    {{- toYaml .Values.c | nindent 4 }}",
            "c: [{name: a, image: 'x/a:1'}]",
        )
        .unwrap();
        assert_eq!(
            out,
            "spec:\n  containers:\n    - image: x/a:1\n      name: a"
        );
        assert_eq!(
            render(
                "{{ .Values.s | upper | replace \"A\" \"b\" | trunc 3 }}",
                "s: aaaa"
            )
            .unwrap(),
            "bbb"
        );
        assert_eq!(
            render("{{ $img := .Values.i }}{{ printf \"%s/%s:%s\" $img.registry $img.repository ($img.tag | toString) }}", "i: {registry: r, repository: p, tag: 2}").unwrap(),
            "r/p:2"
        );
        assert_eq!(
            render(
                "{{ printf \"%s:%s\" .Values.i.repository .Values.i.tag }}",
                "i: {repository: p, tag: 1.16}"
            )
            .unwrap(),
            "p:%!s(float64=1.16)"
        );
        // `(x).y` on a missing x is nil, not an error (Go unwraps pipeline results).
        assert_eq!(
            render(
                "{{ (.Values.r.limits).memory | default \"none\" }}",
                "r: {}"
            )
            .unwrap(),
            "none"
        );
    }

    /// Issue 24's template rows: each stops with the budget's error at its line, in bounded time
    /// and memory (the end-to-end tests measure both through the installed executable).
    #[test]
    fn every_unbounded_template_stops_within_the_budget() {
        let cases: &[(&str, &str)] = &[
            (r#"{{ repeat 1000000000 "x" }}"#, "a value of 1000000000 bytes"),
            (r#"{{ printf "%0999999999d" 1 }}"#, "one value may have"),
            (r#"{{ printf "%.999999999f" 1.5 }}"#, "one value may have"),
            (
                "{{ $x := repeat 30000000 \"x\" }}\n{{ range until 100 }}{{ $x }}{{ end }}",
                "wrote more than 64 MiB",
            ),
            (
                "{{ $l := list 1 2 }}{{ range until 64 }}{{ $l = concat $l $l }}{{ end }}",
                "one value may have",
            ),
            (
                "{{ $d := dict }}{{ range until 64 }}{{ $d = dict \"a\" $d \"b\" $d }}{{ end }}\n{{ toYaml $d }}",
                "exceeded",
            ),
            (
                "{{ $d := dict }}{{ range until 64 }}{{ $d = dict \"a\" $d \"b\" $d }}{{ end }}\n{{ $d }}",
                "exceeded",
            ),
            (
                "{{ $d := dict }}{{ range until 64 }}{{ $d = dict \"a\" $d \"b\" $d }}{{ end }}\n{{ deepCopy $d }}",
                "exceeded",
            ),
            (
                "{{ range until 2000 }}{{ range until 2000 }}{{ range until 2000 }}{{ end }}{{ end }}{{ end }}",
                "steps",
            ),
            ("{{ range 1000000000000 }}{{ end }}", "steps"),
            (
                "{{ $d := dict }}{{ range 100000000 }}{{ $d = dict \"a\" $d }}{{ end }}",
                "the render holds more than 256 MiB",
            ),
            ("{{ until 1000000000000 }}", "one value may have"),
            (r#"{{ $d := dict }}{{ $_ := set $d "me" $d }}{{ toYaml $d }}"#, "nested more than"),
            (r#"{{ replace "" (repeat 1000 "y") (repeat 100000 "x") }}"#, "one value may have"),
            (r#"{{ indent 1000000 (repeat 1000 "\n") }}"#, "one value may have"),
        ];
        for (src, want) in cases {
            let started = std::time::Instant::now();
            let files: std::collections::BTreeMap<String, Vec<u8>> = [
                (
                    "Chart.yaml".to_string(),
                    b"apiVersion: v2\nname: c\nversion: 1.0.0\n".to_vec(),
                ),
                ("templates/t.yaml".to_string(), src.as_bytes().to_vec()),
            ]
            .into_iter()
            .collect();
            let r = super::super::chart::render(&files, &Default::default()).expect(src);
            let e = r.failed.first().map(|(_, e)| e.to_string()).expect(src);
            assert!(
                e.contains("render budget exceeded") && e.contains(want),
                "{src}: {e}"
            );
            let line = src.lines().count();
            assert!(
                e.starts_with(&format!("templates/t.yaml:{line}:")),
                "{src}: {e}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{src}: {:?}",
                started.elapsed()
            );
        }
        // A dict grown by `set` in a loop is linear work: 20 000 entries fit the default budget.
        let grown = super::super::budget::scope(crate::limits::Limits::DEFAULT, || {
            render(
                r#"{{ $d := dict }}{{ range $i := until 20000 }}{{ $_ := set $d (print $i) $i }}{{ end }}{{ len $d }}"#,
                "{}",
            )
        });
        assert_eq!(grown.unwrap(), "20000");
        // Within the budget, the same functions work as Helm's do.
        assert_eq!(render(r#"{{ repeat 3 "ab" }}"#, "{}").unwrap(), "ababab");
        assert_eq!(
            render("{{ range 3 }}{{ . }}{{ end }}", "{}").unwrap(),
            "012"
        );
        assert_eq!(
            render(r#"{{ replace "" "-" "ab" }}"#, "{}").unwrap(),
            "-a-b-"
        );
    }
}
