//! Helm's objects with methods: `.Files` (`Get`, `Glob`, `AsConfig`, …) and `.Capabilities.APIVersions` (`Has`).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::value::{Object, Value};

impl Object {
    /// Call method `name` with `args`; `None` when there is no such method.
    ///
    /// Helm's `Files` methods: `Get` (text, empty when missing), `GetBytes`, `Lines`, `Glob`
    /// (a new `Files`; `*` stays within a path segment, `**` crosses segments), `AsConfig`
    /// (YAML map of base name -> content), `AsSecrets` (base name -> base64). `APIVersions.Has`.
    pub fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let arg = |i: usize| -> String {
            args.get(i)
                .map(|a| a.as_str().map_or_else(|| a.to_go_string(), str::to_string))
                .unwrap_or_default()
        };
        Some(Ok(match (self, name) {
            (Object::Files(f), "Get") => Value::str(
                f.get(&arg(0))
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
            ),
            (Object::Files(f), "GetBytes") => Value::str(
                f.get(&arg(0))
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
            ),
            (Object::Files(f), "Lines") => Value::list(
                f.get(&arg(0))
                    .map(|b| {
                        String::from_utf8_lossy(b)
                            .split('\n')
                            .map(Value::str)
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            (Object::Files(f), "Glob") => {
                let pat = arg(0);
                let m: BTreeMap<String, Vec<u8>> = f
                    .iter()
                    .filter(|(k, _)| glob_match(&pat, k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Value::Object(Rc::new(Object::Files(Rc::new(m))))
            }
            (Object::Files(f), "AsConfig" | "AsSecrets") => {
                let secret = name == "AsSecrets";
                let m: BTreeMap<String, Value> = f
                    .iter()
                    .map(|(k, v)| {
                        let base = k.rsplit('/').next().unwrap_or(k).to_string();
                        let text = if secret {
                            use base64::Engine as _;
                            base64::engine::general_purpose::STANDARD.encode(v)
                        } else {
                            String::from_utf8_lossy(v).into_owned()
                        };
                        (base, Value::str(text))
                    })
                    .collect();
                if m.is_empty() {
                    return Some(Ok(Value::str("")));
                }
                Value::str(super::value::to_yaml(&Value::map(m)))
            }
            (Object::ApiVersions(v), "Has") => {
                let want = arg(0);
                Value::Bool(v.contains(&want))
            }
            _ => return None,
        }))
    }
}

/// Shell-style glob as Helm's `Files.Glob` (gobwas/glob with `/` as separator): `*` and `?`
/// stay within a segment, `**` matches across segments, `{a,b}` alternatives, `[abc]` classes.
pub fn glob_match(pat: &str, path: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') if p.get(1) == Some(&'*') => {
                let rest = &p[2..];
                (0..=s.len()).any(|i| go(rest, &s[i..]))
            }
            Some('*') => {
                let rest = &p[1..];
                for i in 0..=s.len() {
                    if go(rest, &s[i..]) {
                        return true;
                    }
                    if i < s.len() && s[i] == '/' {
                        break;
                    }
                }
                false
            }
            Some('?') => !s.is_empty() && s[0] != '/' && go(&p[1..], &s[1..]),
            Some('{') => {
                let Some(close) = p.iter().position(|&c| c == '}') else {
                    return !s.is_empty() && s[0] == '{' && go(&p[1..], &s[1..]);
                };
                let inner: String = p[1..close].iter().collect();
                inner.split(',').any(|alt| {
                    let mut np: Vec<char> = alt.chars().collect();
                    np.extend_from_slice(&p[close + 1..]);
                    go(&np, s)
                })
            }
            Some('[') => {
                let Some(close) = p.iter().position(|&c| c == ']') else {
                    return false;
                };
                let Some(&c) = s.first() else { return false };
                let class = &p[1..close];
                let (neg, class) = match class.first() {
                    Some('!' | '^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != neg && go(&p[close + 1..], &s[1..])
            }
            Some(&c) => !s.is_empty() && s[0] == c && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = path.chars().collect();
    go(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("files/*.conf", "files/a.conf"));
        assert!(!glob_match("files/*.conf", "files/x/a.conf"));
        assert!(glob_match("files/**.conf", "files/x/a.conf"));
        assert!(glob_match("{a,b}/*", "b/c"));
        assert!(glob_match("dash[0-9].json", "dash1.json"));
    }
}
