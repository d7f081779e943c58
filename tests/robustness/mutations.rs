//! Hostile inputs for the parsers: byte-level and structural JSON
//! mutations of valid bodies, and random bodies.

use super::*;

/// Bytes that break parsers: delimiters, escapes, controls, invalid UTF-8.
const INTERESTING_BYTES: &[u8] = b"\0\r\n\t \"\\{}[],:<>&;'/=+-.0123456789eE\x7f\x80\xbf\xc0\xc1\xed\xf4\xf5\xfe\xff";

/// Snippets that break parsers: extreme numbers, escapes, entities,
/// invalid UTF-8, structure.
const INTERESTING_SNIPPETS: &[&str] = &[
    "null",
    "true",
    "-1",
    "0",
    "1e309",
    "-1e309",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1.7976931348623157e308",
    "4.9e-324",
    "-0.0",
    "NaN",
    "Infinity",
    "\"\\u0000\"",
    "\"\\r\\nX-Injected: 1\"",
    "\"\\ud800\"",
    "\"\\udfff\\ud800\"",
    "\\u0000",
    "\\r\\n",
    "\"",
    "\\",
    "{}",
    "[]",
    "[[[[[[[[[[",
    "]]]]]",
    "}}}}",
    "{\"a\":",
    ",,",
    "&#0;",
    "&#13;&#10;",
    "&lt;",
    "&undefined;",
    "<![CDATA[\r\n]]>",
    "<!-- -->",
    "<?xml version=\"1.0\"?>",
    "<!DOCTYPE x [<!ENTITY e \"eeee\">]>",
    "</Credentials>",
    "<Credentials>",
    "\r\n",
    "\u{2028}",
    "\u{feff}",
    "\u{10ffff}",
];

/// Byte-level mutations of a body: 1 to 4 of flips, interesting bytes and
/// snippets, deletions, duplications, truncation and splicing.
pub(crate) fn mutate_bytes(rng: &mut Rng, body: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = *rng.pick(INTERESTING_BYTES);
            }
            2 => out.insert(at, *rng.pick(INTERESTING_BYTES)),
            3 => {
                let s = rng.pick(INTERESTING_SNIPPETS).as_bytes();
                out.splice(at..at, s.iter().copied());
            }
            4 => {
                let end = (at + 1 + rng.below(32)).min(out.len());
                out.drain(at.min(end)..end);
            }
            5 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                let copy = out[at.min(end)..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, copy);
            }
            6 => out.truncate(at),
            7 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(128)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let len = 1 + rng.below(8);
                let junk = rng.bytes(len);
                out.splice(at..at, junk);
            }
        }
    }
    out
}

/// Replacement values for structural JSON mutations. Numbers that JSON
/// values cannot hold go in as `@@n@@` strings and are unquoted after
/// serializing.
fn hostile_json_value(rng: &mut Rng, secret: bool) -> Value {
    // Only a secret field gets the marker; other fields may be echoed.
    let mark = if secret { MARKER } else { "NOTSECRET" };
    let numbers = [
        "1e309",
        "-1e309",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "1e400",
        "123456789012345678901234567890",
    ];
    match rng.below(16) {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => serde_json::json!(-1),
        3 => serde_json::json!(i64::MAX),
        4 => serde_json::json!(i64::MIN),
        5 => serde_json::json!(1.0e300),
        6 => serde_json::json!(-0.5),
        7 => Value::String(format!("@@{}@@", rng.pick(&numbers))),
        8 => Value::String(String::new()),
        9 => Value::String(format!("{mark}\r\nX-Injected: yes")),
        10 => Value::String(format!("{mark}\u{0}")),
        11 => Value::String(format!("{mark}{}", "A".repeat(70_000))),
        12 => Value::String(
            (*rng.pick(&[
                "-1",
                "1e309",
                " 42 ",
                "3600",
                "0x10",
                "+5",
                "9223372036854775808",
                "2024-01-15T13:00:00Z",
                "9999-12-31T23:59:60Z",
                "0000-01-01T00:00:00Z",
                "2024-02-30T00:00:00Z",
                "2024-01-15T12:00:00+99:99",
                "2024-01-15T12:00:00.Z",
            ]))
            .to_owned(),
        ),
        13 => serde_json::json!([]),
        14 => serde_json::json!({}),
        _ => {
            let mut v = Value::String(mark.into());
            for _ in 0..200 {
                v = Value::Array(vec![v]);
            }
            v
        }
    }
}

/// Every node of a JSON value, as paths of keys and indices.
fn json_paths(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(path.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                path.push(Value::String(k.clone()));
                json_paths(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(serde_json::json!(i));
                json_paths(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn json_at<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        Value::String(k) => v.get_mut(k.as_str()),
        Value::Number(i) => v.get_mut(i.as_u64()? as usize),
        _ => None,
    })
}

/// A structural mutation of a JSON body: one node replaced by a hostile
/// value, removed, renamed, or its key repeated.
pub(crate) fn mutate_json(rng: &mut Rng, body: &[u8]) -> Option<Vec<u8>> {
    let mut json: Value = serde_json::from_slice(body).ok()?;
    let mut paths = Vec::new();
    json_paths(&json, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    let op = rng.below(8);
    if op == 0 && !path.is_empty() {
        // Remove the node from its parent.
        let (last, parent) = path.split_last()?;
        match (json_at(&mut json, parent)?, last) {
            (Value::Object(map), Value::String(k)) => {
                map.remove(k);
            }
            (Value::Array(items), Value::Number(i)) => {
                items.remove(i.as_u64()? as usize);
            }
            _ => {}
        }
    } else if op == 1 && !path.is_empty() {
        // Rename the key (e.g. `token` to `access_token`).
        let (last, parent) = path.split_last()?;
        if let (Value::Object(map), Value::String(k)) = (json_at(&mut json, parent)?, last) {
            let v = map.remove(k)?;
            let names = [
                "access_token",
                "token",
                "refresh_token",
                "expires_in",
                "expires_on",
                "accessToken",
                "expireTime",
                "status",
                "authorizationData",
                "error",
                "errors",
            ];
            map.insert((*rng.pick(&names)).to_owned(), v);
        }
    } else {
        let secret = path.last().and_then(Value::as_str).is_some_and(|k| SECRET_KEYS.contains(&k));
        *json_at(&mut json, &path)? = hostile_json_value(rng, secret);
    }
    let mut text = json.to_string();
    while let Some(start) = text.find("\"@@") {
        let end = text[start + 3..].find("@@\"")? + start + 3;
        let number = text[start + 3..end].to_owned();
        text.replace_range(start..end + 3, &number);
    }
    if op == 2 {
        // Repeat a top-level member: `{"k": 1, ..., "k": 2}`.
        if let Some(body) = text.strip_prefix('{') {
            text = format!("{{\"access_token\": \"{MARKER}-dup\", \"expires_in\": 5, {body}");
        }
    }
    Some(text.into_bytes())
}

/// Random text from a JSON- or XML-ish alphabet, or raw random bytes.
pub(crate) fn random_body(rng: &mut Rng, xml: bool) -> Vec<u8> {
    let len = rng.below(2048);
    match rng.below(3) {
        0 => rng.bytes(len),
        _ => {
            let alphabet: &[u8] = if xml {
                b"<>/=\"' &;#!?[]-ABCDEFGHIJKLMNOPQRSTUVWXYZacdeiknorstxy0123456789:\r\n"
            } else {
                b"{}[]\":,. -+eE0123456789truefalsn\\u_aceiokrsxp\r\n\t"
            };
            (0..len).map(|_| *rng.pick(alphabet)).collect()
        }
    }
}
