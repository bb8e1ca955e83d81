//! YAML documents read as Helm reads rendered manifests: a repeated key is not an error, the last one wins.
//!
//! Helm converts each rendered document to JSON with `sigs.k8s.io/yaml`, which accepts repeated
//! mapping keys (argo-cd's `argocd-cm` renders one); serde_yaml's own `Value` refuses them.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_yaml::Value;

/// Parse one YAML document, repeated keys allowed (last wins).
///
/// # Errors
///
/// serde_yaml's syntax errors, with their location.
pub fn from_str(text: &str) -> Result<Value, serde_yaml::Error> {
    serde_yaml::from_str::<Lenient>(text).map(|l| l.0)
}

struct Lenient(Value);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor)
    }
}

struct LenientVisitor;

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Lenient;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Lenient, E> {
        Ok(Lenient(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Lenient, E> {
        Ok(Lenient(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Lenient, E> {
        Ok(Lenient(Value::Number(v.into())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Lenient, E> {
        Ok(Lenient(Value::Number(v.into())))
    }
    fn visit_str<E>(self, v: &str) -> Result<Lenient, E> {
        Ok(Lenient(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Lenient, E> {
        Ok(Lenient(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Lenient, E> {
        Ok(Lenient(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Lenient, E> {
        Ok(Lenient(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Lenient, D::Error> {
        Lenient::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lenient, A::Error> {
        let mut v = Vec::new();
        while let Some(Lenient(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Lenient(Value::Sequence(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lenient, A::Error> {
        let mut m = serde_yaml::Mapping::new();
        while let Some((Lenient(k), Lenient(v))) = map.next_entry()? {
            m.insert(k, v);
        }
        Ok(Lenient(Value::Mapping(m)))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Lenient, A::Error> {
        // A tagged value (`!!binary …`, `!Ref x`): keep the value, drop the tag.
        let (_tag, variant) = data.variant::<String>()?;
        de::VariantAccess::newtype_variant::<Lenient>(variant)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_keys_last_wins() {
        let v = super::from_str("a: 1\nb: {x: 1}\na: 2\n").unwrap();
        assert_eq!(v["a"], serde_yaml::Value::Number(2.into()));
        assert!(super::from_str("a: [").is_err());
    }
}
