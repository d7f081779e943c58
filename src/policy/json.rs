//! A strict JSON reader for rules documents.
//!
//! serde_json keeps the last of two equal keys silently; a policy document
//! where `"deny"` appears twice would then mean something its author did not
//! see. This reader refuses duplicate keys, documents over [`MAX_BYTES`], and
//! (through serde_json's recursion limit) deep nesting, and keeps the key
//! order so errors can name the first bad field.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, Result};

/// Largest rules document read.
pub const MAX_BYTES: usize = 256 * 1024;

/// A JSON value with its object keys in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The JSON type name, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// Parses a rules document.
pub fn parse(text: &str) -> Result<Json> {
    if text.len() > MAX_BYTES {
        return Err(Error::invalid(format!("rules: the document is {} bytes, more than {MAX_BYTES}", text.len())));
    }
    serde_json::from_str(text).map_err(|e| Error::invalid(format!("rules: not a valid JSON document: {e}")))
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> std::result::Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Json, E> {
        serde_json::Number::from_f64(v).map(Json::Number).ok_or_else(|| E::custom("a number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Json, A::Error> {
        let mut entries: Vec<(String, Json)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Json::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_refuses_duplicates() {
        let v = parse(r#"{"b":1,"a":[true,null,"x"]}"#).unwrap();
        let Json::Object(entries) = v else { panic!() };
        assert_eq!(entries[0].0, "b");
        assert_eq!(entries[1].1, Json::Array(vec![Json::Bool(true), Json::Null, Json::String("x".into())]));
        let err = parse(r#"{"allow":{},"deny":{},"allow":{}}"#).unwrap_err().to_string();
        assert!(err.contains("duplicate key \"allow\""), "{err}");
        let nested = parse(r#"{"a":{"x":1,"x":2}}"#).unwrap_err().to_string();
        assert!(nested.contains("duplicate key \"x\""), "{nested}");
    }

    #[test]
    fn refuses_huge_and_deep_documents() {
        let huge = format!("[{}1]", "1,".repeat(MAX_BYTES));
        assert!(parse(&huge).unwrap_err().to_string().contains("more than"));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse(&deep).unwrap_err().kind(), "invalid-input");
        assert!(parse("{").is_err() && parse("").is_err() && parse("{} x").is_err());
    }
}
