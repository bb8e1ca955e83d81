//! Template functions: Go's builtins, the sprig functions charts use, and Helm's own (`toYaml`, `required`, `lookup`, …).
//!
//! Argument order and results follow sprig v3 (`github.com/Masterminds/sprig`) and Helm's
//! `engine/funcs.go`. Functions whose results cannot be reproduced offline (random strings,
//! certificates, the clock, DNS, the cluster) return fixed stand-ins so that renders are
//! deterministic: `randAlphaNum 5` is `xxxxx`, `now` is the Unix epoch, `lookup` is an empty map.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use super::budget;
use super::value::{format_float_g, to_yaml, Value};

type R = Result<Value, String>;

fn want(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

fn at_least(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() >= n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        ))
    }
}

/// sprig's `strval`: strings as they are, everything else as `fmt.Sprint` prints it.
pub fn strval(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Nil => String::new(),
        other => {
            let mut s = other.to_go_string();
            if s == "<no value>" {
                s.clear();
            }
            s
        }
    }
}

/// sprig's `toInt64` (numbers truncated, strings parsed, booleans 0/1, anything else 0).
pub fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .or_else(|_| s.parse::<f64>().map(|f| f as i64))
                .unwrap_or(0)
        }
        _ => 0,
    }
}

fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn list_of(v: &Value) -> Result<Rc<Vec<Value>>, String> {
    match v {
        Value::List(l) => Ok(l.clone()),
        Value::Nil => Ok(Rc::new(Vec::new())),
        other => Err(format!("cannot find list on type {}", other.type_name())),
    }
}

fn s(args: &[Value], i: usize) -> String {
    args.get(i).map(strval).unwrap_or_default()
}

/// Go's `==` as `eq` applies it; numbers compare by value whatever their type (Go would refuse
/// int against float64; charts that do it fail in Helm, so accepting them changes no output).
pub fn equal(a: &Value, b: &Value) -> bool {
    // A walk: one step a node; past the budget the answer is `false` and the executor reports why.
    let Some(_level) = budget::enter() else {
        return false;
    };
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => {
            budget::steps(x.len().min(y.len()) as u64 / 64).is_ok() && x == y
        }
        (x, y) if x.as_f64().is_some() && y.as_f64().is_some() => x.as_f64() == y.as_f64(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            Rc::ptr_eq(x, y) || {
                let (x, y) = (x.borrow(), y.borrow());
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((k1, v1), (k2, v2))| k1 == k2 && equal(v1, v2))
            }
        }
        _ => false,
    }
}

fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (x, y) if x.as_f64().is_some() && y.as_f64().is_some() => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .ok_or_else(|| "incomparable numbers".to_string()),
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

/// sprig's `empty`.
pub fn empty(v: &Value) -> bool {
    !v.truthy()
}

fn regex(p: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(p).map_err(|e| format!("regexp: {e}"))
}

/// Go's regexp replacement syntax (`$1`, `${name}`) is the same as the regex crate's.
fn go_repl(r: &str) -> String {
    r.to_string()
}

/// Call function `name`. Unknown names are an error, as Go reports `function "x" not defined`.
///
/// # Errors
///
/// Argument count or type errors, `fail`, `required`, bad regular expressions, bad JSON/YAML.
pub fn call(name: &str, args: &[Value]) -> R {
    let a0 = || args.first().cloned().unwrap_or_default();
    Ok(match name {
        // --- Go builtins ---
        "not" => {
            want(name, args, 1)?;
            Value::Bool(!args[0].truthy())
        }
        "len" => {
            want(name, args, 1)?;
            Value::Int(match &args[0] {
                Value::Str(s) => s.len() as i64,
                Value::List(l) => l.len() as i64,
                Value::Map(m) => m.borrow().len() as i64,
                Value::Nil => return Err("len of nil pointer".into()),
                other => return Err(format!("len of type {}", other.type_name())),
            })
        }
        "index" => {
            at_least(name, args, 1)?;
            let mut v = args[0].clone();
            for k in &args[1..] {
                v = match (&v, k) {
                    (Value::Map(m), k) => m.borrow().get(&strval(k)).cloned().unwrap_or_default(),
                    (Value::List(l), k) => {
                        let i = to_i64(k);
                        if i < 0 || i as usize >= l.len() {
                            return Err(format!("error calling index: index out of range: {i}"));
                        }
                        l[i as usize].clone()
                    }
                    (Value::Str(s), k) => {
                        let i = to_i64(k);
                        Value::Int(i64::from(
                            *s.as_bytes().get(i as usize).ok_or("index out of range")?,
                        ))
                    }
                    (Value::Nil, _) => {
                        return Err("error calling index: index of untyped nil".into())
                    }
                    (o, _) => return Err(format!("can't index item of type {}", o.type_name())),
                };
            }
            v
        }
        "slice" => {
            at_least(name, args, 1)?;
            let from = args.get(1).map(to_i64).unwrap_or(0).max(0) as usize;
            match &args[0] {
                Value::Str(st) => {
                    let to = args
                        .get(2)
                        .map_or(st.len(), |v| to_i64(v) as usize)
                        .min(st.len());
                    Value::str(st.get(from.min(to)..to).unwrap_or(""))
                }
                other => {
                    let l = list_of(other)?;
                    let to = args
                        .get(2)
                        .map_or(l.len(), |v| to_i64(v) as usize)
                        .min(l.len());
                    Value::list(l[from.min(to)..to].to_vec())
                }
            }
        }
        "print" => Value::str(go_sprint(args)),
        "println" => {
            let mut out: Vec<String> = args.iter().map(go_fmt_v).collect();
            let mut s = out.join(" ");
            out.clear();
            s.push('\n');
            Value::str(s)
        }
        "printf" => {
            at_least(name, args, 1)?;
            Value::str(sprintf(&strval(&args[0]), &args[1..])?)
        }
        "eq" => {
            at_least(name, args, 2)?;
            Value::Bool(args[1..].iter().any(|b| equal(&args[0], b)))
        }
        "ne" => {
            want(name, args, 2)?;
            Value::Bool(!equal(&args[0], &args[1]))
        }
        "lt" | "le" | "gt" | "ge" => {
            want(name, args, 2)?;
            let o = compare(&args[0], &args[1])?;
            use std::cmp::Ordering::*;
            Value::Bool(match name {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        "html" | "js" | "urlquery" => Value::str(go_sprint(args)),
        "call" => return Err("call is not supported in chart templates".into()),

        // --- Helm ---
        "toYaml" | "mustToYaml" => Value::str(to_yaml(&a0()).trim_end_matches('\n').to_string()),
        "toYamlPretty" => Value::str(to_yaml(&a0()).trim_end_matches('\n').to_string()),
        "fromYaml" => Value::from_yaml_text(&s(args, 0)).unwrap_or_else(|e| {
            let mut m = BTreeMap::new();
            m.insert("Error".into(), Value::str(e));
            Value::map(m)
        }),
        "fromYamlArray" => match serde_yaml::from_str::<serde_yaml::Value>(&s(args, 0)) {
            Ok(v @ serde_yaml::Value::Sequence(_)) => Value::from_yaml(&v),
            Ok(serde_yaml::Value::Null) => Value::list(Vec::new()),
            Ok(_) => Value::list(vec![Value::str("error: not an array")]),
            Err(e) => Value::list(vec![Value::str(e.to_string())]),
        },
        "toJson" | "mustToJson" | "toRawJson" | "mustToRawJson" => {
            Value::str(serde_json::to_string(&a0().to_yaml()).unwrap_or_default())
        }
        "toPrettyJson" | "mustToPrettyJson" => {
            Value::str(serde_json::to_string_pretty(&a0().to_yaml()).unwrap_or_default())
        }
        "fromJson" | "mustFromJson" => match serde_json::from_str::<serde_yaml::Value>(&s(args, 0))
        {
            Ok(v) => Value::from_yaml(&v),
            Err(e) if name == "mustFromJson" => return Err(e.to_string()),
            Err(e) => {
                let mut m = BTreeMap::new();
                m.insert("Error".into(), Value::str(e.to_string()));
                Value::map(m)
            }
        },
        "fromJsonArray" => match serde_json::from_str::<serde_yaml::Value>(&s(args, 0)) {
            Ok(v) => Value::from_yaml(&v),
            Err(e) => Value::list(vec![Value::str(e.to_string())]),
        },
        "toToml" => Value::str(to_yaml(&a0())),
        "required" => {
            want(name, args, 2)?;
            match &args[1] {
                Value::Nil => return Err(strval(&args[0])),
                Value::Str(x) if x.is_empty() => return Err(strval(&args[0])),
                v => v.clone(),
            }
        }
        "fail" => return Err(s(args, 0)),
        "lookup" => Value::map(BTreeMap::new()),

        // --- sprig: defaults and logic ---
        "default" => {
            at_least(name, args, 1)?;
            match args.get(1) {
                Some(v) if !empty(v) => v.clone(),
                _ => args[0].clone(),
            }
        }
        "empty" => Value::Bool(empty(&a0())),
        "coalesce" => args.iter().find(|v| !empty(v)).cloned().unwrap_or_default(),
        "all" => Value::Bool(args.iter().all(|v| !empty(v))),
        "any" => Value::Bool(args.iter().any(|v| !empty(v))),
        "ternary" => {
            want(name, args, 3)?;
            if args[2].truthy() {
                args[0].clone()
            } else {
                args[1].clone()
            }
        }
        "kindOf" => Value::str(a0().kind()),
        "kindIs" => Value::Bool(s(args, 0) == args.get(1).map_or("invalid", Value::kind)),
        "typeOf" => Value::str(a0().type_name()),
        "typeIs" | "typeIsLike" => {
            Value::Bool(s(args, 0) == args.get(1).map_or("<nil>", Value::type_name))
        }
        "deepEqual" => Value::Bool(args.len() == 2 && equal(&args[0], &args[1])),

        // --- strings ---
        // sprig's strval of nil is `fmt.Sprintf("%v", nil)`: `<nil>` (the other callers of
        // strval drop nil elements first, as sprig's do).
        "toString" => Value::str(match a0() {
            Value::Nil => "<nil>".to_string(),
            v => strval(&v),
        }),
        "toStrings" => Value::list(
            list_of(&a0())?
                .iter()
                .map(|v| Value::str(strval(v)))
                .collect(),
        ),
        "quote" => Value::str(
            args.iter()
                .filter(|v| !matches!(v, Value::Nil))
                .map(|v| go_quote(&strval(v)))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "squote" => Value::str(
            args.iter()
                .filter(|v| !matches!(v, Value::Nil))
                .map(|v| format!("'{}'", strval(v)))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "cat" => Value::str(
            args.iter()
                .filter(|v| !matches!(v, Value::Nil))
                .map(strval)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "upper" => Value::str(s(args, 0).to_uppercase()),
        "lower" => Value::str(s(args, 0).to_lowercase()),
        "title" => Value::str(title(&s(args, 0))),
        "untitle" => Value::str(
            s(args, 0)
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map_or(String::new(), |f| {
                        f.to_lowercase().collect::<String>() + c.as_str()
                    })
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "trim" => Value::str(s(args, 0).trim()),
        "trimAll" => {
            let cut: Vec<char> = s(args, 0).chars().collect();
            Value::str(s(args, 1).trim_matches(|c| cut.contains(&c)))
        }
        "trimPrefix" => {
            let (p, x) = (s(args, 0), s(args, 1));
            Value::str(x.strip_prefix(p.as_str()).unwrap_or(&x))
        }
        "trimSuffix" => {
            let (p, x) = (s(args, 0), s(args, 1));
            Value::str(x.strip_suffix(p.as_str()).unwrap_or(&x))
        }
        "trunc" => {
            want(name, args, 2)?;
            let n = to_i64(&args[0]);
            let x = s(args, 1);
            let chars: Vec<char> = x.chars().collect();
            Value::str(if n >= 0 {
                chars.iter().take(n as usize).collect::<String>()
            } else {
                let k = (-n) as usize;
                chars[chars.len().saturating_sub(k)..]
                    .iter()
                    .collect::<String>()
            })
        }
        "substr" => {
            want(name, args, 3)?;
            let (a, b) = (to_i64(&args[0]), to_i64(&args[1]));
            let x: Vec<char> = s(args, 2).chars().collect();
            let a = if a < 0 { 0 } else { (a as usize).min(x.len()) };
            let b = if b < 0 || b as usize > x.len() {
                x.len()
            } else {
                b as usize
            };
            Value::str(x[a.min(b)..b].iter().collect::<String>())
        }
        "abbrev" => {
            let n = to_i64(&a0()).max(0) as usize;
            let x = s(args, 1);
            Value::str(if x.chars().count() <= n || n < 4 {
                x
            } else {
                x.chars().take(n - 3).collect::<String>() + "..."
            })
        }
        "repeat" => {
            let (n, x) = (to_i64(&a0()).max(0) as u64, s(args, 1));
            budget::value(n.saturating_mul(x.len() as u64))?;
            Value::str(x.repeat(n as usize))
        }
        "nospace" => Value::str(s(args, 0).split_whitespace().collect::<String>()),
        "contains" => Value::Bool(s(args, 1).contains(&s(args, 0))),
        "hasPrefix" => Value::Bool(s(args, 1).starts_with(&s(args, 0))),
        "hasSuffix" => Value::Bool(s(args, 1).ends_with(&s(args, 0))),
        "replace" => {
            want(name, args, 3)?;
            let (old, new, x) = (s(args, 0), s(args, 1), s(args, 2));
            if new.len() > old.len() {
                // An empty `old` matches before every character and at the end.
                let hits = if old.is_empty() {
                    x.chars().count() + 1
                } else {
                    x.matches(old.as_str()).count()
                };
                budget::value(x.len() as u64 + hits as u64 * (new.len() - old.len()) as u64)?;
            }
            Value::str(x.replace(&old, &new))
        }
        "indent" => {
            want(name, args, 2)?;
            Value::str(indent(to_i64(&args[0]), &s(args, 1))?)
        }
        "nindent" => {
            want(name, args, 2)?;
            Value::str(format!("\n{}", indent(to_i64(&args[0]), &s(args, 1))?))
        }
        "plural" => Value::str(if to_i64(args.get(2).unwrap_or(&Value::Nil)) == 1 {
            s(args, 0)
        } else {
            s(args, 1)
        }),
        "snakecase" => Value::str(case_words(&s(args, 0)).join("_").to_lowercase()),
        "kebabcase" => Value::str(case_words(&s(args, 0)).join("-").to_lowercase()),
        "camelcase" => Value::str(
            s(args, 0)
                .split(['_', '-', ' '])
                .map(title)
                .collect::<String>(),
        ),
        "swapcase" => Value::str(
            s(args, 0)
                .chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<String>()
                    } else {
                        c.to_uppercase().collect()
                    }
                })
                .collect::<String>(),
        ),
        "initials" => Value::str(
            s(args, 0)
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .collect::<String>(),
        ),
        "wrap" | "wrapWith" => Value::str(s(args, args.len().saturating_sub(1))),
        "split" | "splitn" => {
            let (sep, x, n) = if name == "split" {
                (s(args, 0), s(args, 1), -1)
            } else {
                (
                    s(args, 0),
                    s(args, 2),
                    to_i64(args.get(1).unwrap_or(&Value::Nil)),
                )
            };
            let parts: Vec<&str> = if n < 0 {
                x.split(sep.as_str()).collect()
            } else {
                x.splitn(n as usize, sep.as_str()).collect()
            };
            Value::map(
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("_{i}"), Value::str(*p)))
                    .collect(),
            )
        }
        "splitList" => {
            let (sep, x) = (s(args, 0), s(args, 1));
            Value::list(x.split(sep.as_str()).map(Value::str).collect())
        }
        "join" => {
            want(name, args, 2)?;
            let sep = s(args, 0);
            let items: Vec<String> = match &args[1] {
                Value::List(l) => l.iter().map(strval).collect(),
                Value::Nil => Vec::new(),
                other => vec![strval(other)],
            };
            let total: u64 = items.iter().map(|i| (i.len() + sep.len()) as u64).sum();
            budget::value(total)?;
            Value::str(items.join(&sep))
        }
        "sortAlpha" => {
            let mut items: Vec<String> = list_of(&a0())?.iter().map(strval).collect();
            items.sort();
            Value::list(items.into_iter().map(Value::str).collect())
        }
        "regexMatch" | "mustRegexMatch" => Value::Bool(regex(&s(args, 0))?.is_match(&s(args, 1))),
        "regexFind" | "mustRegexFind" => Value::str(
            regex(&s(args, 0))?
                .find(&s(args, 1))
                .map_or("", |m| m.as_str()),
        ),
        "regexFindAll" | "mustRegexFindAll" => {
            let n = to_i64(args.get(2).unwrap_or(&Value::Int(-1)));
            let x = s(args, 1);
            let all: Vec<Value> = regex(&s(args, 0))?
                .find_iter(&x)
                .take(if n < 0 { usize::MAX } else { n as usize })
                .map(|m| Value::str(m.as_str()))
                .collect();
            Value::list(all)
        }
        "regexReplaceAll" | "mustRegexReplaceAll" => {
            let (re, x, repl) = (regex(&s(args, 0))?, s(args, 1), go_repl(&s(args, 2)));
            replace_room(&re, &x, &repl, true)?;
            Value::str(re.replace_all(&x, repl.as_str()).into_owned())
        }
        "regexReplaceAllLiteral" | "mustRegexReplaceAllLiteral" => {
            let (re, x, repl) = (regex(&s(args, 0))?, s(args, 1), s(args, 2));
            replace_room(&re, &x, &repl, false)?;
            Value::str(re.replace_all(&x, regex::NoExpand(&repl)).into_owned())
        }
        "regexSplit" | "mustRegexSplit" => {
            let n = to_i64(args.get(2).unwrap_or(&Value::Int(-1)));
            let x = s(args, 1);
            let re = regex(&s(args, 0))?;
            let parts: Vec<Value> = if n < 0 {
                re.split(&x).map(Value::str).collect()
            } else {
                re.splitn(&x, n as usize).map(Value::str).collect()
            };
            Value::list(parts)
        }
        "regexQuoteMeta" => Value::str(regex::escape(&s(args, 0))),
        "b64enc" => {
            use base64::Engine as _;
            Value::str(base64::engine::general_purpose::STANDARD.encode(s(args, 0)))
        }
        "b64dec" => {
            use base64::Engine as _;
            Value::str(
                base64::engine::general_purpose::STANDARD
                    .decode(s(args, 0))
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_else(|e| e.to_string()),
            )
        }
        "sha256sum" => Value::str(crate::hash::sha256_hex(s(args, 0).as_bytes())),
        "sha1sum" | "adler32sum" | "sha512sum" => {
            Value::str(crate::hash::sha256_hex(s(args, 0).as_bytes())[..40].to_string())
        }
        "randAlphaNum" | "randAlpha" | "randAscii" | "randNumeric" => {
            let c = if name == "randNumeric" { "0" } else { "x" };
            Value::str(c.repeat(to_i64(&a0()).clamp(0, 4096) as usize))
        }
        "uuidv4" => Value::str("00000000-0000-4000-8000-000000000000"),
        "derivePassword" | "encryptAES" | "decryptAES" | "htpasswd" | "bcrypt" => Value::str("x"),
        "genPrivateKey" => Value::str("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----"),
        "genCA"
        | "genSelfSignedCert"
        | "genSignedCert"
        | "genCAWithKey"
        | "genSelfSignedCertWithKey"
        | "genSignedCertWithKey"
        | "buildCustomCert" => {
            let mut m = BTreeMap::new();
            m.insert(
                "Cert".into(),
                Value::str("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"),
            );
            m.insert(
                "Key".into(),
                Value::str("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----"),
            );
            Value::map(m)
        }
        "now" => Value::str("1970-01-01 00:00:00 +0000 UTC"),
        "date" | "dateInZone" | "htmlDate" | "htmlDateInZone" => Value::str("1970-01-01"),
        "unixEpoch" => Value::str("0"),
        "dateModify" | "mustDateModify" | "toDate" | "mustToDate" | "ago" | "duration"
        | "durationRound" => Value::str(""),
        "env" => Value::str(""),
        "expandenv" => Value::str(s(args, 0)),
        "getHostByName" => Value::str(""),
        "base" => Value::str(s(args, 0).rsplit('/').next().unwrap_or("").to_string()),
        "dir" => {
            let x = s(args, 0);
            Value::str(match x.rfind('/') {
                Some(0) => "/".to_string(),
                Some(i) => x[..i].to_string(),
                None => ".".to_string(),
            })
        }
        "ext" => {
            let x = s(args, 0);
            let b = x.rsplit('/').next().unwrap_or("");
            Value::str(b.rfind('.').map_or("", |i| &b[i..]))
        }
        "clean" => Value::str(s(args, 0)),
        "isAbs" => Value::Bool(s(args, 0).starts_with('/')),
        "urlParse" => {
            let x = s(args, 0);
            let mut m = BTreeMap::new();
            let (scheme, rest) = x.split_once("://").unwrap_or(("", &x));
            let (host, path) = rest
                .split_once('/')
                .map_or((rest, String::new()), |(h, p)| (h, format!("/{p}")));
            m.insert("scheme".into(), Value::str(scheme));
            m.insert("host".into(), Value::str(host));
            m.insert(
                "hostname".into(),
                Value::str(host.split(':').next().unwrap_or("")),
            );
            m.insert("path".into(), Value::str(path));
            m.insert("query".into(), Value::str(""));
            m.insert("fragment".into(), Value::str(""));
            m.insert("userinfo".into(), Value::str(""));
            m.insert("opaque".into(), Value::str(""));
            Value::map(m)
        }

        // --- numbers ---
        "int" | "int64" | "atoi" => Value::Int(to_i64(&a0())),
        "float64" | "toDecimal" => Value::Float(to_f64(&a0())),
        "add" => Value::Int(args.iter().map(to_i64).sum()),
        "add1" => Value::Int(to_i64(&a0()) + 1),
        "sub" => {
            want(name, args, 2)?;
            Value::Int(to_i64(&args[0]) - to_i64(&args[1]))
        }
        "mul" => Value::Int(args.iter().map(to_i64).product()),
        "div" => {
            want(name, args, 2)?;
            let d = to_i64(&args[1]);
            if d == 0 {
                return Err("runtime error: integer divide by zero".into());
            }
            Value::Int(to_i64(&args[0]) / d)
        }
        "mod" => {
            want(name, args, 2)?;
            let d = to_i64(&args[1]);
            if d == 0 {
                return Err("runtime error: integer divide by zero".into());
            }
            Value::Int(to_i64(&args[0]) % d)
        }
        "max" => Value::Int(args.iter().map(to_i64).max().unwrap_or(0)),
        "min" => Value::Int(args.iter().map(to_i64).min().unwrap_or(0)),
        "addf" => Value::Float(args.iter().map(to_f64).sum()),
        "add1f" => Value::Float(to_f64(&a0()) + 1.0),
        "subf" => Value::Float(
            args.iter()
                .skip(1)
                .fold(to_f64(&a0()), |a, b| a - to_f64(b)),
        ),
        "mulf" => Value::Float(args.iter().map(to_f64).product()),
        "divf" => Value::Float(
            args.iter()
                .skip(1)
                .fold(to_f64(&a0()), |a, b| a / to_f64(b)),
        ),
        "maxf" => Value::Float(args.iter().map(to_f64).fold(f64::MIN, f64::max)),
        "minf" => Value::Float(args.iter().map(to_f64).fold(f64::MAX, f64::min)),
        "floor" => Value::Float(to_f64(&a0()).floor()),
        "ceil" => Value::Float(to_f64(&a0()).ceil()),
        "round" => {
            let p = 10f64.powi(to_i64(args.get(1).unwrap_or(&Value::Int(0))) as i32);
            Value::Float((to_f64(&a0()) * p).round() / p)
        }
        "until" => {
            let n = to_i64(&a0());
            budget::items(n.max(0) as usize)?;
            Value::list((0..n).map(Value::Int).collect())
        }
        "untilStep" => {
            want(name, args, 3)?;
            let (start, stop, step) = (to_i64(&args[0]), to_i64(&args[1]), to_i64(&args[2]));
            if step != 0 {
                let span = (stop as i128 - start as i128) / step as i128;
                budget::items(span.clamp(0, usize::MAX as i128) as usize)?;
            }
            let mut v = Vec::new();
            let mut i = start;
            while step != 0 && ((step > 0 && i < stop) || (step < 0 && i > stop)) {
                v.push(Value::Int(i));
                i += step;
            }
            Value::list(v)
        }
        "seq" => {
            let n: Vec<i64> = args.iter().map(to_i64).collect();
            let (start, step, end) = match n.as_slice() {
                [e] => (1, 1, *e),
                [s0, e] => (*s0, if s0 <= e { 1 } else { -1 }, *e),
                [s0, st, e] => (*s0, *st, *e),
                _ => return Ok(Value::str("")),
            };
            if step != 0 {
                // Each number takes its digits and a space: at most 21 bytes.
                let span = (end as i128 - start as i128) / step as i128 + 1;
                budget::value((span.clamp(0, u64::MAX as i128 / 21) as u64) * 21)?;
            }
            let mut out = Vec::new();
            let mut i = start;
            while step != 0 && ((step > 0 && i <= end) || (step < 0 && i >= end)) {
                out.push(i.to_string());
                match i.checked_add(step) {
                    Some(n) => i = n,
                    None => break,
                }
            }
            Value::str(out.join(" "))
        }

        // --- lists ---
        "list" | "tuple" => Value::list(args.to_vec()),
        "first" | "mustFirst" => list_of(&a0())?.first().cloned().unwrap_or_default(),
        "last" | "mustLast" => list_of(&a0())?.last().cloned().unwrap_or_default(),
        "rest" | "mustRest" => Value::list(list_of(&a0())?.iter().skip(1).cloned().collect()),
        "initial" | "mustInitial" => {
            let l = list_of(&a0())?;
            Value::list(l[..l.len().saturating_sub(1)].to_vec())
        }
        "append" | "push" | "mustAppend" | "mustPush" => {
            want(name, args, 2)?;
            budget::items(list_of(&args[0])?.len() + 1)?;
            let mut l = list_of(&args[0])?.to_vec();
            l.push(args[1].clone());
            Value::list(l)
        }
        "prepend" | "mustPrepend" => {
            want(name, args, 2)?;
            budget::items(list_of(&args[0])?.len() + 1)?;
            let mut l = vec![args[1].clone()];
            l.extend(list_of(&args[0])?.iter().cloned());
            Value::list(l)
        }
        "concat" => {
            let mut n = 0;
            for a in args {
                n += list_of(a)?.len();
            }
            budget::items(n)?;
            let mut l = Vec::new();
            for a in args {
                l.extend(list_of(a)?.iter().cloned());
            }
            Value::list(l)
        }
        "reverse" | "mustReverse" => Value::list(list_of(&a0())?.iter().rev().cloned().collect()),
        "uniq" | "mustUniq" => {
            let mut out: Vec<Value> = Vec::new();
            for v in list_of(&a0())?.iter() {
                if !out.iter().any(|o| equal(o, v)) {
                    out.push(v.clone());
                }
            }
            Value::list(out)
        }
        "without" | "mustWithout" => {
            let l = list_of(&a0())?;
            Value::list(
                l.iter()
                    .filter(|v| !args[1..].iter().any(|x| equal(x, v)))
                    .cloned()
                    .collect(),
            )
        }
        "has" | "mustHas" => {
            want(name, args, 2)?;
            Value::Bool(list_of(&args[1])?.iter().any(|v| equal(v, &args[0])))
        }
        "compact" | "mustCompact" => Value::list(
            list_of(&a0())?
                .iter()
                .filter(|v| !empty(v))
                .cloned()
                .collect(),
        ),
        "chunk" => {
            let n = to_i64(&a0()).max(1) as usize;
            let l = list_of(args.get(1).unwrap_or(&Value::Nil))?;
            Value::list(l.chunks(n).map(|c| Value::list(c.to_vec())).collect())
        }

        // --- dicts ---
        "dict" => {
            let mut m = BTreeMap::new();
            for pair in args.chunks(2) {
                m.insert(strval(&pair[0]), pair.get(1).cloned().unwrap_or_default());
            }
            Value::map(m)
        }
        "get" => {
            want(name, args, 2)?;
            match &args[0] {
                Value::Map(m) => m
                    .borrow()
                    .get(&strval(&args[1]))
                    .cloned()
                    .unwrap_or_else(|| Value::str("")),
                _ => Value::str(""),
            }
        }
        "set" => {
            want(name, args, 3)?;
            match &args[0] {
                Value::Map(m) => {
                    m.borrow_mut().insert(strval(&args[1]), args[2].clone());
                    args[0].clone()
                }
                other => {
                    return Err(format!(
                        "set: first argument is {}, not a dict",
                        other.type_name()
                    ))
                }
            }
        }
        "unset" => {
            want(name, args, 2)?;
            if let Value::Map(m) = &args[0] {
                m.borrow_mut().remove(&strval(&args[1]));
            }
            args[0].clone()
        }
        "hasKey" => {
            want(name, args, 2)?;
            Value::Bool(
                matches!(&args[0], Value::Map(m) if m.borrow().contains_key(&strval(&args[1]))),
            )
        }
        "keys" => {
            let mut k = Vec::new();
            for a in args {
                if let Value::Map(m) = a {
                    k.extend(m.borrow().keys().map(|x| Value::str(x.as_str())));
                }
            }
            Value::list(k)
        }
        "values" => match &a0() {
            Value::Map(m) => Value::list(m.borrow().values().cloned().collect()),
            _ => Value::list(Vec::new()),
        },
        "pluck" => {
            let key = s(args, 0);
            Value::list(
                args[1.min(args.len())..]
                    .iter()
                    .filter_map(|d| match d {
                        Value::Map(m) => m.borrow().get(&key).cloned(),
                        _ => None,
                    })
                    .collect(),
            )
        }
        "pick" | "omit" => {
            let keep = name == "pick";
            let names: Vec<String> = args.iter().skip(1).map(strval).collect();
            match &a0() {
                Value::Map(m) => Value::map(
                    m.borrow()
                        .iter()
                        .filter(|(k, _)| names.contains(k) == keep)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                _ => Value::map(BTreeMap::new()),
            }
        }
        "merge" | "mustMerge" | "mergeOverwrite" | "mustMergeOverwrite" => {
            at_least(name, args, 1)?;
            let overwrite = name.contains("Overwrite");
            let Value::Map(dst) = &args[0] else {
                return Err(format!("{name}: first argument is not a dict"));
            };
            for src in &args[1..] {
                if let Value::Map(src) = src {
                    if Rc::ptr_eq(dst, src) {
                        continue;
                    }
                    let src = src.borrow().clone();
                    merge_into(dst, &src, overwrite);
                }
            }
            args[0].clone()
        }
        "deepCopy" | "mustDeepCopy" => a0().deep_copy(),
        "dig" => {
            at_least(name, args, 3)?;
            let n = args.len();
            let default = args[n - 2].clone();
            let mut cur = args[n - 1].clone();
            for k in &args[..n - 2] {
                cur = match &cur {
                    Value::Map(m) => match m.borrow().get(&strval(k)) {
                        Some(v) => v.clone(),
                        None => return Ok(default),
                    },
                    _ => return Ok(default),
                };
            }
            cur
        }
        "semver" | "mustSemver" => {
            let v = s(args, 0);
            let p = crate::versions::parse_loose(&v)
                .ok_or_else(|| format!("Invalid Semantic Version: {v}"))?;
            let mut m = BTreeMap::new();
            m.insert("Major".into(), Value::Int(p.0 as i64));
            m.insert("Minor".into(), Value::Int(p.1 as i64));
            m.insert("Patch".into(), Value::Int(p.2 as i64));
            m.insert("Prerelease".into(), Value::str(p.3.as_str()));
            m.insert("Original".into(), Value::str(v.as_str()));
            Value::map(m)
        }
        "semverCompare" => {
            want(name, args, 2)?;
            Value::Bool(super::semver::matches(&s(args, 0), &s(args, 1))?)
        }
        _ => return Err(format!("function {name:?} not defined")),
    })
}

/// sprig's `merge` (mergo without override: a non-empty destination value stays) and
/// `mergeOverwrite` (non-empty source values win); maps merge recursively.
fn merge_into(dst: &super::value::Map, src: &BTreeMap<String, Value>, overwrite: bool) {
    let Some(_level) = budget::enter() else {
        return;
    };
    for (k, v) in src {
        let existing = dst.borrow().get(k).cloned();
        match (existing, v) {
            (Some(Value::Map(d)), Value::Map(s)) => {
                if !Rc::ptr_eq(&d, s) {
                    let s = s.borrow().clone();
                    merge_into(&d, &s, overwrite);
                }
            }
            (Some(cur), _) if !overwrite && !empty(&cur) => {}
            (Some(_), v) if overwrite && empty(v) => {}
            (_, v) => {
                dst.borrow_mut().insert(k.clone(), v.clone());
            }
        }
    }
}

fn title(x: &str) -> String {
    let mut out = String::with_capacity(x.len());
    let mut start = true;
    for c in x.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric() && c != '\'';
    }
    out
}

fn case_words(x: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in x.chars() {
        if c == '_' || c == '-' || c == ' ' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn indent(n: i64, x: &str) -> Result<String, String> {
    let n = n.max(0) as u64;
    let lines = x.bytes().filter(|b| *b == b'\n').count() as u64 + 1;
    budget::value(x.len() as u64 + n.saturating_mul(lines))?;
    let pad = " ".repeat(n as usize);
    let mut out = String::with_capacity(x.len() + pad.len());
    out.push_str(&pad);
    out.push_str(&x.replace('\n', &format!("\n{pad}")));
    Ok(out)
}

/// Go's `%q` for a string.
pub fn go_quote(x: &str) -> String {
    let mut out = String::with_capacity(x.len() + 2);
    out.push('"');
    for c in x.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn go_fmt_v(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        other => other.to_go_string(),
    }
}

/// `fmt.Sprint`: spaces only between operands when neither is a string.
fn go_sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        out.push_str(&go_fmt_v(a));
    }
    out
}

/// `fmt.Sprintf` for the verbs charts use (`%s %v %d %q %t %f %x %%`, width and precision).
/// A verb that does not fit its operand prints as Go does (`%!s(float64=1.5)`), which is what
/// Helm renders for `printf "%s" .Values.number`.
///
/// Errors: a width or precision that would make the result larger than the render budget allows
/// for one value ([`budget::value`]).
pub fn sprintf(format: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut it = format.chars().peekable();
    let mut argi = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = it.peek() {
            if "+-# 0".contains(f) {
                flags.push(f);
                it.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            it.next();
        }
        let mut prec: Option<usize> = None;
        if it.peek() == Some(&'.') {
            it.next();
            let mut p = String::new();
            while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                it.next();
            }
            prec = Some(if p.is_empty() {
                0
            } else {
                p.parse().unwrap_or(usize::MAX)
            });
        }
        let Some(verb) = it.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        argi += 1;
        if matches!(verb, 'f' | 'F') {
            budget::value((out.len() as u64).saturating_add(prec.unwrap_or(0) as u64))?;
        }
        let bad = |arg: &Value| match arg {
            Value::Nil => format!("%!{verb}(<nil>)"),
            a => format!("%!{verb}({}={})", a.type_name(), a.to_go_string()),
        };
        let text = match (verb, arg) {
            ('v', a) => go_fmt_v(a),
            ('s', Value::Str(x)) => match prec {
                Some(p) => x.chars().take(p).collect(),
                None => x.to_string(),
            },
            ('s', a @ (Value::List(_) | Value::Map(_))) => a.to_go_string(),
            ('q', Value::Str(x)) => go_quote(x),
            ('d', Value::Int(i)) => i.to_string(),
            ('t', Value::Bool(b)) => b.to_string(),
            ('f' | 'F', a) if a.as_f64().is_some() && matches!(a, Value::Float(_)) => {
                format!("{:.*}", prec.unwrap_or(6), a.as_f64().unwrap_or(0.0))
            }
            ('g', Value::Float(f)) => format_float_g(*f),
            ('x', Value::Int(i)) => format!("{i:x}"),
            ('X', Value::Int(i)) => format!("{i:X}"),
            ('x', Value::Str(x)) => x.bytes().map(|b| format!("{b:02x}")).collect(),
            ('c', Value::Int(i)) => char::from_u32(*i as u32)
                .map(String::from)
                .unwrap_or_default(),
            (_, a) => bad(a),
        };
        let w: usize = match width.parse() {
            Ok(w) => w,
            Err(_) if width.is_empty() => 0,
            Err(_) => usize::MAX,
        };
        budget::value((out.len() + text.len()) as u64 + w as u64)?;
        let len = text.chars().count();
        if len < w {
            let pad = w - len;
            if flags.contains('-') {
                out.push_str(&text);
                out.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && verb != 's' {
                out.push_str(&"0".repeat(pad));
                out.push_str(&text);
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&text);
            }
        } else {
            out.push_str(&text);
        }
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| format!("{}={}", a.type_name(), go_fmt_v(a)))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    Ok(out)
}

/// Check the room a regexp replacement needs before it runs: the text, plus for every match the
/// replacement, each `$name` of which may expand to at most the match itself (a group lies
/// inside its match).
fn replace_room(re: &regex::Regex, x: &str, repl: &str, expand: bool) -> Result<(), String> {
    let refs = if expand { repl.matches('$').count() } else { 0 } as u64;
    let mut total = x.len() as u64;
    for m in re.find_iter(x) {
        total += repl.len() as u64 + refs * m.len() as u64;
        budget::value(total)?;
    }
    Ok(())
}

impl Value {
    /// Parse YAML text into a value (`fromYaml`); an empty document is an empty map.
    pub fn from_yaml_text(text: &str) -> Result<Value, String> {
        match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Ok(serde_yaml::Value::Null) => Ok(Value::map(BTreeMap::new())),
            Ok(v) => Ok(Value::from_yaml(&v)),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(y: &str) -> Value {
        Value::from_yaml(&serde_yaml::from_str(y).unwrap())
    }

    #[test]
    fn printf_follows_go() {
        assert_eq!(
            sprintf("%s:%s", &[Value::str("a"), Value::str("b")]).unwrap(),
            "a:b"
        );
        assert_eq!(
            sprintf("%s", &[Value::Float(1.5)]).unwrap(),
            "%!s(float64=1.5)"
        );
        assert_eq!(
            sprintf("%v-%d", &[Value::Float(1.0), Value::Int(3)]).unwrap(),
            "1-3"
        );
        assert_eq!(sprintf("%q", &[Value::str("x")]).unwrap(), "\"x\"");
        assert_eq!(sprintf("v%s", &[Value::str("1.0")]).unwrap(), "v1.0");
    }

    #[test]
    fn sprig_argument_orders() {
        assert!(call("has", &[Value::str("a"), v("[a, b]")])
            .unwrap()
            .truthy());
        assert_eq!(
            strval(&call("trimPrefix", &[Value::str("v"), Value::str("v1.2")]).unwrap()),
            "1.2"
        );
        assert_eq!(
            strval(
                &call(
                    "regexReplaceAll",
                    &[
                        Value::str("a(x*)b"),
                        Value::str("-ab-axxb-"),
                        Value::str("${1}W")
                    ]
                )
                .unwrap()
            ),
            "-W-xxW-"
        );
        assert_eq!(
            strval(
                &call(
                    "dig",
                    &[
                        Value::str("a"),
                        Value::str("b"),
                        Value::str("d"),
                        v("{a: {b: x}}")
                    ]
                )
                .unwrap()
            ),
            "x"
        );
        assert_eq!(
            strval(
                &call(
                    "dig",
                    &[
                        Value::str("a"),
                        Value::str("z"),
                        Value::str("d"),
                        v("{a: {b: x}}")
                    ]
                )
                .unwrap()
            ),
            "d"
        );
        assert_eq!(
            strval(&call("default", &[Value::str("d"), Value::str("")]).unwrap()),
            "d"
        );
        assert_eq!(
            strval(&call("nindent", &[Value::Int(2), Value::str("a\nb")]).unwrap()),
            "\n  a\n  b"
        );
        assert_eq!(
            strval(&call("join", &[Value::str(","), v("[a, 1]")]).unwrap()),
            "a,1"
        );
        assert_eq!(
            strval(&call("splitList", &[Value::str(":"), Value::str("a:b")]).unwrap()),
            "[a b]"
        );
        assert!(call(
            "semverCompare",
            &[Value::str(">=1.21-0"), Value::str("v1.31.0")]
        )
        .unwrap()
        .truthy());
        assert!(call("required", &[Value::str("need x"), Value::Nil])
            .unwrap_err()
            .contains("need x"));
        assert_eq!(strval(&call("quote", &[Value::Nil]).unwrap()), "");
    }

    #[test]
    fn merge_is_deep_and_first_wins() {
        let dst = v("{a: {x: 1}, b: 2}");
        call("merge", &[dst.clone(), v("{a: {x: 9, z: 2}, b: 3, c: 4}")]).unwrap();
        assert_eq!(to_yaml(&dst), "a:\n  x: 1\n  z: 2\nb: 2\nc: 4\n");
        let dst = v("{a: {x: 1}}");
        call("mergeOverwrite", &[dst.clone(), v("{a: {x: 9}}")]).unwrap();
        assert_eq!(to_yaml(&dst), "a:\n  x: 9\n");
    }

    #[test]
    fn to_yaml_round_trips() {
        let src = v("{b: [1, {x: 'yes', y: [a]}], a: \"multi\\nline\", c: '', d: '1.10', e: {}}");
        let text = to_yaml(&src);
        assert_eq!(
            text,
            "a: |-\n  multi\n  line\nb:\n- 1\n- x: 'yes'\n  'y':\n  - a\nc: ''\nd: '1.10'\ne: {}\n"
        );
        let back: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(
            back,
            serde_yaml::from_str::<serde_yaml::Value>(
                "{b: [1, {x: 'yes', y: [a]}], a: \"multi\\nline\", c: '', d: '1.10', e: {}}"
            )
            .unwrap()
        );
    }
}
