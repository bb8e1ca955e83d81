//! `semverCompare` constraints as Masterminds/semver reads them (`>=1.21-0`, `^1.2`, `~1.2.3`, `1.x`, `a || b`).

use crate::versions::parse_loose;

/// Whether `version` satisfies `constraint`. Prerelease parts are ignored on both sides (Helm
/// charts write `>=1.21-0` precisely so that prerelease cluster versions match).
///
/// # Errors
///
/// A version or constraint that cannot be read, in Masterminds' words.
pub fn matches(constraint: &str, version: &str) -> Result<bool, String> {
    let (ma, mi, pa, _) =
        parse_loose(version).ok_or_else(|| format!("Invalid Semantic Version: {version}"))?;
    let v = (ma, mi, pa);
    for alt in constraint.split("||") {
        let mut ok = true;
        let mut any = false;
        // Operators may be separated from versions by spaces: `>= 1.19, < 1.25`.
        let tokens: Vec<&str> = alt.split([',', ' ']).filter(|t| !t.is_empty()).collect();
        let mut i = 0;
        while i < tokens.len() {
            let mut t = tokens[i].to_string();
            if t.chars().all(|c| "<>=!~^".contains(c)) {
                i += 1;
                t.push_str(tokens.get(i).copied().unwrap_or(""));
            }
            i += 1;
            any = true;
            if !one(&t, v)? {
                ok = false;
            }
        }
        if ok && any {
            return Ok(true);
        }
    }
    Ok(false)
}

fn one(c: &str, v: (u64, u64, u64)) -> Result<bool, String> {
    let op_len = c.chars().take_while(|ch| "<>=!~^".contains(*ch)).count();
    let (op, ver) = c.split_at(op_len);
    let ver = ver.trim_start_matches(['v', 'V']);
    let ver = ver.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = ver.split('.').collect();
    let wild = |p: Option<&&str>| p.is_none_or(|s| matches!(*s, "x" | "X" | "*"));
    let num = |p: Option<&&str>| -> Result<u64, String> {
        match p {
            Some(s) if !matches!(*s, "x" | "X" | "*") => {
                s.parse().map_err(|_| format!("improper constraint: {c}"))
            }
            _ => Ok(0),
        }
    };
    if parts
        .first()
        .is_none_or(|p| matches!(*p, "x" | "X" | "*" | ""))
    {
        return Ok(true);
    }
    let (a, b, p) = (num(parts.first())?, num(parts.get(1))?, num(parts.get(2))?);
    let c = (a, b, p);
    let (minor_wild, patch_wild) = (wild(parts.get(1)), wild(parts.get(2)));
    let upper = if minor_wild {
        (a + 1, 0, 0)
    } else if patch_wild {
        (a, b + 1, 0)
    } else {
        (a, b, p + 1)
    };
    Ok(match op {
        "" | "=" | "==" => {
            if minor_wild || patch_wild {
                v >= c && v < upper
            } else {
                v == c
            }
        }
        "!=" => v != c,
        ">" => {
            if minor_wild || patch_wild {
                v >= upper
            } else {
                v > c
            }
        }
        ">=" | "=>" => v >= c,
        "<" => v < c,
        "<=" | "=<" => {
            if minor_wild || patch_wild {
                v < upper
            } else {
                v <= c
            }
        }
        "~" | "~>" => v >= c && v < (a, if minor_wild { u64::MAX } else { b + 1 }, 0),
        "^" => {
            v >= c
                && v < if a > 0 {
                    (a + 1, 0, 0)
                } else if b > 0 {
                    (0, b + 1, 0)
                } else {
                    (0, 0, p + 1)
                }
        }
        _ => return Err(format!("improper constraint: {c:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn constraints() {
        assert!(matches(">=1.21-0", "v1.31.0").unwrap());
        assert!(!matches("<1.19-0", "v1.31.0").unwrap());
        assert!(matches(">= 1.19.0-0, < 1.40", "1.31.0-gke.1").unwrap());
        assert!(matches("^1.2", "1.9.0").unwrap());
        assert!(!matches("~1.2.3", "1.3.0").unwrap());
        assert!(matches("1.x || >=3", "3.1.0").unwrap());
        assert!(matches(">=1.16.0-0 <1.22.0-0", "1.20.3").unwrap());
    }
}
