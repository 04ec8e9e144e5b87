//! Reading `kubectl` dumps: JSON or YAML, one object, `List` objects,
//! multi-document YAML, comment-only documents and duplicate keys.

use crate::error::ImportError;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// A JSON value built from YAML the way `sigs.k8s.io/yaml` does: a repeated
/// key keeps its last value, non-string keys become strings, non-finite
/// floats become strings.
struct Loose(Value);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor).map(Loose)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(v.to_string())))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Loose::deserialize(d).map(|l| l.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(Loose(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(Loose(k)) = map.next_key()? {
            let Loose(v) = map.next_value()?;
            let key = match k {
                Value::String(s) => s,
                Value::Null => "null".to_owned(),
                other => other.to_string(),
            };
            // Last one wins, as in sigs.k8s.io/yaml.
            m.insert(key, v);
        }
        Ok(Value::Object(m))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A YAML tag (`!Foo value`): keep the value, drop the tag.
        use serde::de::VariantAccess;
        let (_tag, variant): (Loose, _) = data.variant()?;
        variant.newtype_variant::<Loose>().map(|l| l.0)
    }
}

/// One top-level document of a dump, with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// 0-based index of the YAML document (0 for JSON).
    pub index: usize,
    /// The document as JSON.
    pub value: Value,
}

/// Parses a dump (JSON or YAML, one or many documents) into JSON values.
/// Empty and comment-only documents are dropped. `source` names the input in
/// errors.
///
/// ```
/// let docs = rightsizer_k8s::dump::parse_documents(
///     "# a comment\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n---\n",
///     "pods.yaml",
/// )?;
/// assert_eq!(docs.len(), 1);
/// assert_eq!(docs[0].value["metadata"]["name"], "a");
/// # Ok::<(), rightsizer_k8s::ImportError>(())
/// ```
///
/// # Errors
///
/// [`ImportError::Syntax`] with the document index and the line when the
/// text is neither valid JSON nor valid YAML.
pub fn parse_documents(text: &str, source: &str) -> Result<Vec<Document>, ImportError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // JSON first (fast); a YAML flow mapping that is not JSON falls through.
        let mut out = Vec::new();
        let mut ok = true;
        for (index, v) in serde_json::Deserializer::from_str(trimmed)
            .into_iter::<Value>()
            .enumerate()
        {
            match v {
                Ok(value) => out.push(Document { index, value }),
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok(out);
        }
    }
    // serde_yaml takes quadratic time on deeply nested flow collections
    // before its recursion limit trips: refuse them first, with the one
    // depth check every YAML reader of the workspace shares.
    if let Err(e) = rightsizer_model::spec::check_yaml_depth(text) {
        let (line, message) = match e {
            rightsizer_model::spec::SpecError::Syntax { line, message, .. } => (line, message),
            other => (None, other.to_string()),
        };
        return Err(ImportError::Syntax {
            source_name: source.to_owned(),
            document: 0,
            line,
            message,
        });
    }
    let mut out = Vec::new();
    for (index, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        match Loose::deserialize(doc) {
            Ok(Loose(Value::Null)) => {}
            Ok(Loose(value)) => out.push(Document { index, value }),
            Err(e) => {
                return Err(ImportError::Syntax {
                    source_name: source.to_owned(),
                    document: index,
                    line: e.location().map(|l| l.line()),
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(out)
}

/// Flattens `List` objects (`kind: List` or `kind: FooList` with `items`)
/// into their items; an item without `kind`/`apiVersion` inherits them from
/// a typed list (`NodeList` → `Node`).
pub fn flatten_lists(docs: Vec<Document>) -> Vec<(usize, Value)> {
    let mut out = Vec::new();
    for d in docs {
        match d.value {
            Value::Array(items) => {
                for it in items {
                    push_flat(d.index, it, &mut out);
                }
            }
            v => push_flat(d.index, v, &mut out),
        }
    }
    out
}

fn push_flat(index: usize, v: Value, out: &mut Vec<(usize, Value)>) {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let is_list = kind.ends_with("List") && v.get("items").is_some_and(Value::is_array);
    if !is_list {
        out.push((index, v));
        return;
    }
    let item_kind = kind.strip_suffix("List").unwrap_or("").to_owned();
    let api = v.get("apiVersion").cloned();
    let Value::Object(mut m) = v else { return };
    let Some(Value::Array(items)) = m.remove("items") else {
        return;
    };
    for mut it in items {
        if let Value::Object(o) = &mut it {
            if !o.contains_key("kind") && !item_kind.is_empty() {
                o.insert("kind".into(), Value::String(item_kind.clone()));
            }
            if !o.contains_key("apiVersion") {
                if let Some(a) = &api {
                    o.insert("apiVersion".into(), a.clone());
                }
            }
        }
        push_flat(index, it, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_last_wins_and_non_string_keys() {
        let d = parse_documents("a: 1\na: 2\n3: x\ntrue: y\n", "t").unwrap();
        assert_eq!(d[0].value["a"], 2);
        assert_eq!(d[0].value["3"], "x");
        assert_eq!(d[0].value["true"], "y");
    }

    #[test]
    fn lists_flatten_and_inherit_kind() {
        let d = parse_documents(
            r#"{"kind":"NodeList","apiVersion":"v1","items":[{"metadata":{"name":"n"}}]}"#,
            "t",
        )
        .unwrap();
        let f = flatten_lists(d);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].1["kind"], "Node");
        assert_eq!(f[0].1["apiVersion"], "v1");
    }

    #[test]
    fn syntax_error_names_document() {
        let e = parse_documents("a: 1\n---\nb: [1, 2\n", "x.yaml").unwrap_err();
        match e {
            ImportError::Syntax { document, .. } => assert_eq!(document, 1),
            other => panic!("{other}"),
        }
    }
}
