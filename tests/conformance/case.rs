//! Reading case files (SPEC.md "File format") and the typed access to a
//! case's `input` that the ops use.
//!
//! Nothing here panics on file content: every shape problem is a [`Stop`].
//! Fields are kept as their raw JSON text beside the parsed value, because
//! one field (`gcp.sts-exchange.request`'s `options`) must reach the
//! component with its key order exactly as written.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

/// Why a case did not get to (or through) its component call.
pub enum Stop {
    /// The case or the runner is wrong: a FAIL line with this text.
    Fail(String),
    /// The input cannot be expressed in the WIT types (an unknown enum name,
    /// a number out of range, two mutually exclusive choices). A typed host
    /// cannot even make that call, so the case gets the outcome a host would
    /// report: an `invalid-input` error.
    Inexpressible(String),
}

/// A parsed case file: its `op` and each case's raw text.
pub struct CaseFile<'a> {
    pub op: String,
    pub cases: Vec<&'a RawValue>,
}

/// Parses the top level of a case file.
pub fn parse_file(text: &str) -> Result<CaseFile<'_>, String> {
    let top: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let op = match top.get("op").map(|raw| serde_json::from_str::<Value>(raw.get())) {
        Some(Ok(Value::String(op))) => op,
        _ => return Err("`op` is missing or not a string".into()),
    };
    let cases = match top.get("cases") {
        Some(raw) => {
            serde_json::from_str::<Vec<&RawValue>>(raw.get()).map_err(|e| format!("`cases` is not a list: {e}"))?
        }
        None => return Err("`cases` is missing".into()),
    };
    Ok(CaseFile { op, cases })
}

/// One case: its input fields and expectation (its id: [`case_id`]).
pub struct Case<'a> {
    pub input: Input<'a>,
    pub expect: Value,
}

/// The id of a case, for its FAIL line, even when the rest is malformed.
pub fn case_id(raw: &RawValue, index: usize) -> String {
    let id = serde_json::from_str::<BTreeMap<String, Value>>(raw.get())
        .ok()
        .and_then(|case| case.get("id").and_then(Value::as_str).map(str::to_string));
    match id {
        Some(id) if !id.is_empty() => id,
        _ => format!("#{index}"),
    }
}

/// Parses one case. Keys besides `id`, `source`, `input` and `expect` are
/// left alone (notes for readers).
pub fn parse_case<'a>(raw: &'a RawValue) -> Result<Case<'a>, String> {
    let fields: BTreeMap<String, &'a RawValue> =
        serde_json::from_str(raw.get()).map_err(|e| format!("case is not a JSON object: {e}"))?;
    let input_raw = fields.get("input").ok_or("case has no `input`")?;
    let raw_fields: BTreeMap<String, &'a RawValue> =
        serde_json::from_str(input_raw.get()).map_err(|e| format!("`input` is not an object: {e}"))?;
    let mut input = BTreeMap::new();
    for (name, raw) in raw_fields {
        let value: Value = serde_json::from_str(raw.get()).map_err(|e| format!("input.{name}: {e}"))?;
        input.insert(name, (raw, value));
    }
    let expect = match fields.get("expect") {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| format!("`expect`: {e}"))?,
        None => return Err("case has no `expect`".into()),
    };
    Ok(Case { input: Input { fields: input }, expect })
}

/// A case's `input`. Accessors give the typed values the WIT calls take.
/// A JSON `null` reads as an absent field.
pub struct Input<'a> {
    fields: BTreeMap<String, (&'a RawValue, Value)>,
}

type Res<T> = Result<T, Stop>;

fn fail<T>(message: String) -> Res<T> {
    Err(Stop::Fail(message))
}

impl Input<'_> {
    /// Fails on any field not in `known`: a field the runner does not pass
    /// on would be silently ignored otherwise. `now` is always allowed: SPEC
    /// gives request builders `now` "where the wire format depends on the
    /// time", and a builder that takes none does not need it.
    pub fn only(&self, known: &[&str]) -> Res<()> {
        let unknown: Vec<&str> =
            self.fields.keys().map(String::as_str).filter(|k| *k != "now" && !known.contains(k)).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            fail(format!("input field(s) this op does not take: {}", unknown.join(", ")))
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    fn required(&self, name: &str) -> Res<&Value> {
        match self.get(name) {
            Some(v) => Ok(v),
            None => fail(format!("input.{name} is missing")),
        }
    }

    pub fn str(&self, name: &str) -> Res<String> {
        as_str(name, self.required(name)?)
    }

    pub fn opt_str(&self, name: &str) -> Res<Option<String>> {
        self.get(name).map(|v| as_str(name, v)).transpose()
    }

    pub fn bool(&self, name: &str) -> Res<bool> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => fail(format!("input.{name} is not a boolean")),
        }
    }

    pub fn i64(&self, name: &str) -> Res<i64> {
        as_int(name, self.required(name)?)
    }

    pub fn opt_i64(&self, name: &str) -> Res<Option<i64>> {
        self.get(name).map(|v| as_int(name, v)).transpose()
    }

    pub fn opt_u32(&self, name: &str) -> Res<Option<u32>> {
        self.opt_i64(name)?.map(|n| u32::try_from(n).map_err(|_| out_of_range(name, n, "u32"))).transpose()
    }

    /// A list of strings; required.
    pub fn strings(&self, name: &str) -> Res<Vec<String>> {
        as_strings(name, self.required(name)?)
    }

    /// A list of strings; absent reads as empty.
    pub fn opt_strings(&self, name: &str) -> Res<Vec<String>> {
        self.get(name).map(|v| as_strings(name, v)).unwrap_or(Ok(Vec::new()))
    }

    /// The field's JSON text exactly as the case file writes it.
    pub fn raw_json(&self, name: &str) -> Option<String> {
        self.fields.get(name).filter(|(_, v)| !v.is_null()).map(|(raw, _)| raw.get().to_string())
    }

    /// Any field as JSON (for lists of objects such as `answers`).
    pub fn opt_value(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }

    /// An object field, for records such as `custom_cloud`.
    pub fn opt_object(&self, name: &str) -> Res<Option<&serde_json::Map<String, Value>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => fail(format!("input.{name} is not an object")),
        }
    }

    /// Response headers: an object `{name: value}` or a list of `[name, value]`.
    pub fn headers(&self, name: &str) -> Res<Vec<(String, String)>> {
        let bad = || Err(Stop::Fail(format!("input.{name} must be an object or a list of [name, value] strings")));
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(v) => Ok((k.clone(), v.clone())),
                    _ => bad(),
                })
                .collect(),
            Some(Value::Array(pairs)) => pairs
                .iter()
                .map(|pair| match pair.as_array().map(Vec::as_slice) {
                    Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
                    _ => bad(),
                })
                .collect(),
            Some(_) => Err(Stop::Fail(format!("input.{name} must be an object or a list of pairs"))),
        }
    }
}

fn as_str(name: &str, value: &Value) -> Res<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => fail(format!("input.{name} is not a string")),
    }
}

fn as_int(name: &str, value: &Value) -> Res<i64> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(n) => Ok(n),
            None => Err(Stop::Inexpressible(format!("input.{name} = {n} is not a 64-bit integer"))),
        },
        _ => fail(format!("input.{name} is not a number")),
    }
}

fn as_strings(name: &str, value: &Value) -> Res<Vec<String>> {
    match value {
        Value::Array(items) => items.iter().map(|v| as_str(name, v)).collect(),
        _ => fail(format!("input.{name} is not a list of strings")),
    }
}

pub fn out_of_range(name: &str, n: i64, ty: &str) -> Stop {
    Stop::Inexpressible(format!("input.{name} = {n} does not fit the WIT type {ty}"))
}
