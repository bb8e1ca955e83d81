//! Template values with Go's semantics: Helm's `map[string]interface{}` trees, printing as `fmt` does.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// A map shared by reference, as a Go map is: `set $d "k" v` changes every holder of `$d`.
pub type Map = Rc<RefCell<BTreeMap<String, Value>>>;

/// A value during template execution.
///
/// Numbers from YAML are [`Value::Float`] (Helm reads values through JSON, so every number is a
/// `float64`); integer literals in templates and integer results of functions are [`Value::Int`].
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's untyped nil (a missing map key under `missingkey=zero`).
    #[default]
    Nil,
    /// `bool`.
    Bool(bool),
    /// `int` / `int64`.
    Int(i64),
    /// `float64`.
    Float(f64),
    /// `string`.
    Str(Rc<str>),
    /// `[]interface{}` (immutable: sprig's list functions return new lists).
    List(Rc<Vec<Value>>),
    /// `map[string]interface{}`.
    Map(Map),
    /// A Helm object with methods (`.Files`, `.Capabilities.APIVersions`).
    Object(Rc<Object>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Rc<str>>) -> Self {
        Value::Str(s.into())
    }

    /// A new map value.
    pub fn map(m: BTreeMap<String, Value>) -> Self {
        Value::Map(Rc::new(RefCell::new(m)))
    }

    /// A list value.
    pub fn list(v: Vec<Value>) -> Self {
        Value::List(Rc::new(v))
    }

    /// Go's truth: false, 0, nil, empty string, list or map are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Object(_) => true,
        }
    }

    /// Go's `reflect.Kind` name as sprig's `kindOf` gives it.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(_) => "ptr",
        }
    }

    /// Go's type name as sprig's `typeOf` gives it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Object(_) => "*chart.Object",
        }
    }

    /// The string inside, if a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// As a number, if an integer or float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Deep copy (maps are shared by reference otherwise).
    ///
    /// A walk charged to the render budget ([`super::budget::enter`]): past it, what is copied so
    /// far (the executor then reports the budget).
    pub fn deep_copy(&self) -> Value {
        let Some(_level) = super::budget::enter() else {
            return Value::Nil;
        };
        match self {
            Value::Map(m) => Value::map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect(),
            ),
            Value::List(l) => Value::list(l.iter().map(Value::deep_copy).collect()),
            v => v.clone(),
        }
    }

    /// `fmt.Sprint(v)`, as the template engine prints a pipeline's result (`%v`).
    pub fn to_go_string(&self) -> String {
        let mut s = String::new();
        self.write_go(&mut s, true);
        s
    }

    fn write_go(&self, out: &mut String, top: bool) {
        // A walk charged to the render budget: one step a node, and the text so far must fit one
        // value; past either, printing stops (the executor reports the budget).
        let Some(_level) = super::budget::enter() else {
            return;
        };
        if super::budget::value(out.len() as u64).is_err() {
            return;
        }
        match self {
            Value::Nil => out.push_str(if top { "<no value>" } else { "<nil>" }),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float_g(*f)),
            Value::Str(s) => out.push_str(s),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_go(out, false);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out, false);
                }
                out.push(']');
            }
            Value::Object(o) => out.push_str(&o.describe()),
        }
    }

    /// Convert a parsed YAML value (numbers become floats, as Helm's JSON round trip makes them;
    /// non-string keys are printed).
    pub fn from_yaml(v: &serde_yaml::Value) -> Value {
        use serde_yaml::Value as Y;
        match v {
            Y::Null => Value::Nil,
            Y::Bool(b) => Value::Bool(*b),
            Y::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            Y::String(s) => Value::str(s.as_str()),
            Y::Sequence(s) => Value::list(s.iter().map(Value::from_yaml).collect()),
            Y::Mapping(m) => Value::map(
                m.iter()
                    .map(|(k, v)| (yaml_key(k), Value::from_yaml(v)))
                    .collect(),
            ),
            Y::Tagged(t) => Value::from_yaml(&t.value),
        }
    }

    /// Convert to a YAML value (for `toYaml`, `toJson`). A walk charged to the render budget:
    /// one step a node, and the strings copied must fit one value; past either, the rest is
    /// null (the executor reports the budget).
    pub fn to_yaml(&self) -> serde_yaml::Value {
        self.to_yaml_within(&mut 0)
    }

    fn to_yaml_within(&self, copied: &mut u64) -> serde_yaml::Value {
        use serde_yaml::Value as Y;
        let Some(_level) = super::budget::enter() else {
            return Y::Null;
        };
        if let Value::Str(s) = self {
            *copied += s.len() as u64;
            if super::budget::value(*copied).is_err() {
                return Y::Null;
            }
        }
        match self {
            Value::Nil => Y::Null,
            Value::Bool(b) => Y::Bool(*b),
            Value::Int(i) => Y::Number((*i).into()),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    Y::Number((*f as i64).into())
                } else {
                    Y::Number((*f).into())
                }
            }
            Value::Str(s) => Y::String(s.to_string()),
            Value::List(l) => Y::Sequence(l.iter().map(|v| v.to_yaml_within(copied)).collect()),
            Value::Map(m) => Y::Mapping(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (Y::String(k.clone()), v.to_yaml_within(copied)))
                    .collect(),
            ),
            Value::Object(o) => Y::String(o.describe()),
        }
    }
}

fn yaml_key(k: &serde_yaml::Value) -> String {
    match k {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Null => "null".into(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// A `float64` printed as Go's `%v` does (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest
/// digits, exponent form when the exponent is below -4 or at least 6. This is why Helm prints a
/// value `1000000` as `1e+06` (values are floats).
pub fn format_float_g(f: f64) -> String {
    format_float(f, 6)
}

/// Shortest representation with Go's exponent rule: `e` form when exp < -4 || exp >= `eprec`.
pub fn format_float(f: f64, eprec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits from Rust's `{:e}`: `d.ddde±x`.
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let sign = if neg { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    } else if exp < 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

/// YAML text of a value as Helm's `toYaml` writes it (sigs.k8s.io/yaml): keys sorted, two-space
/// indent, sequences under a key not indented, strings quoted only when plain would change their
/// meaning, multi-line strings as literal blocks. Ends with a newline (callers trim it).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Map(m) if !m.borrow().is_empty() => emit_map(&mut out, m, 0),
        Value::List(l) if !l.is_empty() => emit_list(&mut out, l, 0),
        Value::Map(_) => out.push_str("{}\n"),
        Value::List(_) => out.push_str("[]\n"),
        scalar => {
            // A top-level block scalar's lines are indented too (`key: {{ toYaml $multiline }}`).
            out.push_str(&scalar_text(scalar, 2));
            out.push('\n');
        }
    }
    out
}

fn emit_map(out: &mut String, m: &Map, ind: usize) {
    let pad = " ".repeat(ind);
    for (k, v) in m.borrow().iter() {
        out.push_str(&pad);
        out.push_str(&quote_if_needed(k));
        out.push(':');
        emit_child(out, v, ind, false);
    }
}

fn emit_list(out: &mut String, l: &[Value], ind: usize) {
    let pad = " ".repeat(ind);
    for v in l {
        out.push_str(&pad);
        out.push('-');
        emit_child(out, v, ind, true);
    }
}

fn emit_child(out: &mut String, v: &Value, ind: usize, in_list: bool) {
    // A walk charged to the render budget (see `Value::write_go`).
    let Some(_level) = super::budget::enter() else {
        return;
    };
    if super::budget::value((out.len() + ind) as u64).is_err() {
        return;
    }
    match v {
        Value::Map(m) if !m.borrow().is_empty() => {
            if in_list {
                // `- key: value` with the following keys aligned under the first.
                let start = out.len();
                emit_map(out, m, ind + 2);
                if out.len() >= start + ind + 2 {
                    out.replace_range(start..start + ind + 2, " ");
                }
            } else {
                out.push('\n');
                emit_map(out, m, ind + 2);
            }
        }
        Value::List(l) if !l.is_empty() => {
            if in_list {
                let start = out.len();
                emit_list(out, l, ind + 2);
                if out.len() >= start + ind + 2 {
                    out.replace_range(start..start + ind + 2, " ");
                }
            } else {
                out.push('\n');
                emit_list(out, l, ind);
            }
        }
        Value::Map(_) => out.push_str(" {}\n"),
        Value::List(_) => out.push_str(" []\n"),
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, ind + 2));
            out.push('\n');
        }
    }
}

fn scalar_text(v: &Value, ind: usize) -> String {
    match v {
        Value::Nil => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e21 {
                format!("{}", *f as i128)
            } else {
                format!("{f}")
            }
        }
        Value::Str(x) => {
            if x.contains('\n') && !x.contains(|c: char| (c as u32) < 0x20 && c != '\n') {
                let pad = " ".repeat(ind);
                let chomp = if x.ends_with('\n') { "" } else { "-" };
                let keep = if x.ends_with("\n\n") { "+" } else { chomp };
                let lead = if x.starts_with(' ') { "2" } else { "" };
                let mut t = format!("|{lead}{keep}");
                for line in x.strip_suffix('\n').unwrap_or(x).split('\n') {
                    t.push('\n');
                    if !line.is_empty() {
                        t.push_str(&pad);
                        t.push_str(line);
                    }
                }
                t
            } else {
                quote_if_needed(x)
            }
        }
        other => quote_if_needed(&other.to_go_string()),
    }
}

/// A string as a YAML scalar: plain when YAML would read it back as the same string, else
/// single-quoted (double-quoted with escapes when it holds control characters).
pub fn quote_if_needed(x: &str) -> String {
    if x.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f) {
        return serde_json::to_string(x).unwrap_or_default();
    }
    let needs = x.is_empty()
        || x.starts_with([
            ' ', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"',
            '%', '@', '`',
        ])
        || x.ends_with(' ')
        || x.ends_with(':')
        || x.contains(": ")
        || x.contains(" #")
        || matches!(
            x.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
        )
        || looks_numeric(x);
    if needs {
        format!("'{}'", x.replace('\'', "''"))
    } else {
        x.to_string()
    }
}

fn looks_numeric(x: &str) -> bool {
    let t = x.strip_prefix(['-', '+']).unwrap_or(x);
    if t.is_empty() {
        return false;
    }
    t.parse::<f64>().is_ok()
        || t.starts_with("0x")
        || t.starts_with("0o")
        || matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN")
        || (t.contains(':')
            && t.split(':')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

/// An object whose methods templates call.
#[derive(Debug)]
pub enum Object {
    /// `.Files`: the chart's files outside `templates/` (Helm's `chart.Files`), path -> bytes.
    Files(Rc<BTreeMap<String, Vec<u8>>>),
    /// `.Capabilities.APIVersions`: `group/version` and `group/version/Kind` strings.
    ApiVersions(Rc<Vec<String>>),
}

impl Object {
    /// How `fmt` would print it (rarely printed; kept short).
    pub fn describe(&self) -> String {
        match self {
            Object::Files(f) => format!("Files({} files)", f.len()),
            Object::ApiVersions(v) => format!("{:?}", v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_does() {
        assert_eq!(format_float_g(1.0), "1");
        assert_eq!(format_float_g(1.1), "1.1");
        assert_eq!(format_float_g(1000000.0), "1e+06");
        assert_eq!(format_float_g(123456.0), "123456");
        assert_eq!(format_float_g(20230101.0), "2.0230101e+07");
        assert_eq!(format_float_g(0.0001), "0.0001");
        assert_eq!(format_float_g(0.00001), "1e-05");
        assert_eq!(format_float_g(-2.5), "-2.5");
    }
}
