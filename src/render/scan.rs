//! One rendered manifest read for what image listing needs, without building its YAML tree:
//! `kind`, `metadata.name`, the `helm.sh/hook` annotation and every string under an `image` key.
//!
//! A serde visitor walks the document's events (serde_yaml's parser, so YAML syntax is checked
//! as Helm checks it) and keeps only those values. Repeated mapping keys are accepted, as Helm's
//! `sigs.k8s.io/yaml` accepts them (argo-cd's `argocd-cm` renders one); argo-cd and
//! kube-prometheus-stack render thousands of lines per chart, so not building the tree matters.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// What a document says about images.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DocScan {
    /// Top-level `kind`.
    pub kind: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.annotations["helm.sh/hook"]`.
    pub hook: Option<String>,
    /// Strings under an `image` key, anywhere, in document order (duplicates kept).
    pub images: Vec<String>,
    /// Whether the document is empty (only comments, `---`, or `null`).
    pub empty: bool,
}

/// Scan one YAML document.
///
/// # Errors
///
/// serde_yaml's syntax errors, with their location.
pub fn scan(text: &str) -> Result<DocScan, serde_yaml::Error> {
    let mut cx = Cx {
        path: Vec::new(),
        out: DocScan::default(),
        depth: 0,
    };
    let d = serde_yaml::Deserializer::from_str(text);
    Seed { cx: &mut cx }.deserialize(d)?;
    Ok(cx.out)
}

struct Cx {
    path: Vec<Option<String>>,
    out: DocScan,
    depth: usize,
}

impl Cx {
    fn scalar(&mut self, s: &str) {
        let p: Vec<Option<&str>> = self.path.iter().map(|k| k.as_deref()).collect();
        match p.as_slice() {
            [] => {}
            [Some("kind")] => self.out.kind = Some(s.to_string()),
            [Some("metadata"), Some("name")] => self.out.name = Some(s.to_string()),
            [Some("metadata"), Some("annotations"), Some("helm.sh/hook")] => {
                self.out.hook = Some(s.to_string())
            }
            [.., Some("image")] => self.out.images.push(s.to_string()),
            _ => {}
        }
    }
}

struct Seed<'a> {
    cx: &'a mut Cx,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.cx.scalar(v);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        if self.cx.path.is_empty() {
            self.cx.out.empty = true;
        }
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        if self.cx.path.is_empty() {
            self.cx.out.empty = true;
        }
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.cx.depth > 128 {
            return Err(de::Error::custom("nested too deeply"));
        }
        self.cx.depth += 1;
        // Items of a sequence are not under their parent's key for the `kind`/`metadata`
        // matches, but `image: [a, b]` is not a reference list either: mark with None.
        self.cx.path.push(None);
        while seq.next_element_seed(Seed { cx: self.cx })?.is_some() {}
        self.cx.path.pop();
        self.cx.depth -= 1;
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.cx.depth > 128 {
            return Err(de::Error::custom("nested too deeply"));
        }
        self.cx.depth += 1;
        while let Some(Key(k)) = map.next_key::<Key>()? {
            self.cx.path.push(k);
            map.next_value_seed(Seed { cx: self.cx })?;
            self.cx.path.pop();
        }
        self.cx.depth -= 1;
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!!binary …`, `!Ref x`): scan the value, drop the tag.
        let (_tag, variant) = data.variant::<de::IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

/// A mapping key: its text when it is a string, `None` for other keys.
struct Key(Option<String>);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(Some(v.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Key, E> {
                Ok(Key(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Key, E> {
                Ok(Key(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Key, E> {
                Ok(Key(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Key, E> {
                Ok(Key(None))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Key, A::Error> {
                while s.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Key(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Key, A::Error> {
                while m.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Key(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn finds_what_listing_needs() {
        let s = scan("kind: Deployment\nmetadata:\n  name: web\n  annotations:\n    helm.sh/hook: test\nspec:\n  template:\n    spec:\n      containers:\n      - image: a:1\n        env: [{name: image, value: x}]\n      - image: b:2\n  extra: {image: c:3}\n  image: {repository: not-a-string}\n  dup: 1\n  dup: 2\n").unwrap();
        assert_eq!(s.kind.as_deref(), Some("Deployment"));
        assert_eq!(s.name.as_deref(), Some("web"));
        assert_eq!(s.hook.as_deref(), Some("test"));
        assert_eq!(s.images, vec!["a:1", "b:2", "c:3"]);
        assert!(!s.empty);
        assert!(scan("# only a comment\n").unwrap().empty);
        assert!(scan("a: [\n").is_err());
    }
}
