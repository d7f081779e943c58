//! Comparing what the component did with what a case expects, per SPEC.md.
//!
//! Everything here is pure: it knows nothing of wasmtime or of the ops. The
//! runner turns each component call into an [`Actual`], and [`check`] says
//! whether it meets the case's `expect`, or describes every difference it
//! found in one line. Values that may carry secrets are shortened by
//! [`show`] before they are printed.

use serde_json::{Map, Value};

/// An HTTP request as the component built it.
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What one call of the component gave.
pub enum Actual {
    /// A request builder's result.
    Request(Request),
    /// A parser's or resolver's result, as a JSON object with SPEC's field names.
    Output(Value),
    /// A WIT `error`: its kind in WIT spelling, the service code, the message.
    Error { kind: &'static str, code: Option<String>, message: String },
}

/// Checks `actual` against a case's `expect` object. `Err` describes every
/// difference (or what is wrong with the expectation itself).
pub fn check(expect: &Value, actual: &Actual) -> Result<(), String> {
    let Some(expect) = expect.as_object() else {
        return Err("case error: `expect` is not an object".into());
    };
    let mut keys = expect.keys();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return Err("case error: `expect` must hold exactly one of request, output, error".into());
    };
    let wanted = &expect[key.as_str()];
    match (key.as_str(), actual) {
        ("request", Actual::Request(request)) => check_request(wanted, request),
        ("output", Actual::Output(output)) => check_output(wanted, output),
        ("error", Actual::Error { kind, code, .. }) => check_error(wanted, kind, code.as_deref()),
        ("request" | "output", Actual::Error { kind, code, message }) => Err(format!(
            "unexpected error {kind}{}: {}",
            code.as_ref().map(|c| format!(" (code {})", show(c))).unwrap_or_default(),
            shorten(message, 160)
        )),
        ("error", success) => {
            Err(format!("expected error {}, got success: {}", describe_expected_error(wanted), summary(success)))
        }
        ("request", Actual::Output(_)) => Err("case error: this op gives an output, not a request".into()),
        ("output", Actual::Request(_)) => Err("case error: this op gives a request, not an output".into()),
        (other, _) => Err(format!("case error: unknown expectation `{other}` (want request, output or error)")),
    }
}

fn describe_expected_error(wanted: &Value) -> String {
    let kind = wanted.get("kind").and_then(Value::as_str).unwrap_or("?");
    match wanted.get("code").and_then(Value::as_str) {
        Some(code) => format!("{kind} (code {code})"),
        None => kind.to_string(),
    }
}

/// A one-line description of a successful result, for "expected an error" lines.
fn summary(actual: &Actual) -> String {
    match actual {
        Actual::Request(r) => format!("{} {}", r.method, show(&r.url)),
        Actual::Output(v) => show(&v.to_string()),
        Actual::Error { kind, .. } => kind.to_string(),
    }
}

// ---------------------------------------------------------------- errors

fn check_error(wanted: &Value, kind: &str, code: Option<&str>) -> Result<(), String> {
    let Some(wanted) = wanted.as_object() else {
        return Err("case error: `expect.error` is not an object".into());
    };
    if let Some(unknown) = wanted.keys().find(|k| !["kind", "code"].contains(&k.as_str())) {
        return Err(format!("case error: unknown field `expect.error.{unknown}`"));
    }
    let Some(wanted_kind) = wanted.get("kind").and_then(Value::as_str) else {
        return Err("case error: `expect.error.kind` is missing or not a string".into());
    };
    let mut diffs = Vec::new();
    if wanted_kind != kind {
        diffs.push(format!("error kind: expected {wanted_kind}, actual {kind}"));
    }
    match wanted.get("code") {
        None => {}
        // `"code": null`: the service gave no code.
        Some(Value::Null) if code.is_some() => {
            diffs.push(format!("error code: expected none, actual {}", show(code.unwrap_or_default())))
        }
        Some(Value::Null) => {}
        Some(Value::String(wanted_code)) if Some(wanted_code.as_str()) != code => diffs.push(format!(
            "error code: expected {}, actual {}",
            show(wanted_code),
            code.map(show).unwrap_or_else(|| "none".into())
        )),
        Some(Value::String(_)) => {}
        Some(_) => return Err("case error: `expect.error.code` is not a string".into()),
    }
    finish(diffs)
}

// ---------------------------------------------------------------- outputs

fn check_output(wanted: &Value, actual: &Value) -> Result<(), String> {
    let Some(wanted) = wanted.as_object() else {
        return Err("case error: `expect.output` is not an object".into());
    };
    let mut diffs = Vec::new();
    for (field, expected) in wanted {
        // A field the output omits reads as null: `realm: null` matches a
        // challenge without a realm.
        let got = actual.get(field).unwrap_or(&Value::Null);
        json_diff(&format!("output.{field}"), expected, got, &mut diffs);
    }
    finish(diffs)
}

// ---------------------------------------------------------------- requests

const REQUEST_FIELDS: &[&str] = &["method", "url", "headers", "absent_headers", "form", "json", "body"];

fn check_request(wanted: &Value, actual: &Request) -> Result<(), String> {
    let Some(wanted) = wanted.as_object() else {
        return Err("case error: `expect.request` is not an object".into());
    };
    if let Some(unknown) = wanted.keys().find(|k| !REQUEST_FIELDS.contains(&k.as_str())) {
        return Err(format!("case error: unknown field `expect.request.{unknown}`"));
    }
    let mut diffs = Vec::new();
    match wanted.get("method") {
        Some(Value::String(method)) if *method != actual.method => {
            diffs.push(format!("method: {}", show_difference(method, &actual.method)))
        }
        Some(Value::String(_)) => {}
        _ => return Err("case error: `expect.request.method` is missing or not a string".into()),
    }
    match wanted.get("url") {
        Some(Value::String(url)) => compare_urls(url, &actual.url, &mut diffs)?,
        _ => return Err("case error: `expect.request.url` is missing or not a string".into()),
    }
    if let Some(headers) = wanted.get("headers") {
        compare_headers(headers, &actual.headers, &mut diffs)?;
    }
    if let Some(absent) = wanted.get("absent_headers") {
        check_absent_headers(absent, &actual.headers, &mut diffs)?;
    }
    compare_body(wanted, &actual.body, &mut diffs)?;
    finish(diffs)
}

/// The parts of an absolute URL that SPEC compares.
#[derive(Debug, PartialEq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    pub userinfo: Option<&'a str>,
    pub host: &'a str,
    pub port: Option<&'a str>,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

/// Splits `scheme://[userinfo@]host[:port]path[?query][#fragment]`.
/// Only the structure is checked; the parts are compared, not validated.
pub fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        // An IPv6 literal: `[addr]` or `[addr]:port`.
        let (addr, after) = bracketed.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (hostport.get(..addr.len() + 2)?, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some(UrlParts { scheme, userinfo, host, port, path, query, fragment })
}

fn compare_urls(expected: &str, actual: &str, diffs: &mut Vec<String>) -> Result<(), String> {
    let Some(e) = split_url(expected) else {
        return Err(format!("case error: expected url {} is not an absolute URL", show(expected)));
    };
    let Some(a) = split_url(actual) else {
        diffs.push(format!("url: not an absolute URL: {}", show(actual)));
        return Ok(());
    };
    let mut part = |name: &str, same: bool, want: &str, got: &str| {
        if !same {
            diffs.push(format!("url {name}: expected {}, actual {}", show(want), show(got)));
        }
    };
    let opt = |p: Option<&str>| p.map(str::to_string).unwrap_or_else(|| "(none)".into());
    part("scheme", e.scheme == a.scheme, e.scheme, a.scheme);
    part("userinfo", e.userinfo == a.userinfo, &opt(e.userinfo), &opt(a.userinfo));
    part("host", e.host.eq_ignore_ascii_case(a.host), e.host, a.host);
    part("port", e.port == a.port, &opt(e.port), &opt(a.port));
    part("path", e.path == a.path, e.path, a.path);
    part("fragment", e.fragment == a.fragment, &opt(e.fragment), &opt(a.fragment));
    multiset_diff(
        "query",
        &decode_pairs(e.query.unwrap_or("").as_bytes()),
        &decode_pairs(a.query.unwrap_or("").as_bytes()),
        diffs,
    );
    Ok(())
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space), the
/// way servers read both form bodies and query strings.
pub fn decode_pairs(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Compares two lists of pairs as multisets. Differences are reported per
/// name when both sides have it ("expected X, actual Y"), else as missing or
/// unexpected pairs.
pub fn multiset_diff(what: &str, expected: &[(String, String)], actual: &[(String, String)], diffs: &mut Vec<String>) {
    let mut unmatched: Vec<&(String, String)> = actual.iter().collect();
    let mut missing = Vec::new();
    for pair in expected {
        match unmatched.iter().position(|p| *p == pair) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(pair),
        }
    }
    for (name, value) in missing {
        match unmatched.iter().position(|(n, _)| n == name) {
            Some(i) => {
                let (_, got) = unmatched.remove(i);
                diffs.push(format!("{what} {name}: {}", show_difference(value, got)));
            }
            None => diffs.push(format!("{what}: missing {name}={}", show(value))),
        }
    }
    for (name, value) in unmatched {
        diffs.push(format!("{what}: unexpected {name}={}", show(value)));
    }
}

fn compare_headers(wanted: &Value, actual: &[(String, String)], diffs: &mut Vec<String>) -> Result<(), String> {
    let Some(wanted) = wanted.as_object() else {
        return Err("case error: `expect.request.headers` is not an object".into());
    };
    for (name, value) in wanted {
        let Some(value) = value.as_str() else {
            return Err(format!("case error: expected header {name} is not a string"));
        };
        let found: Vec<&str> =
            actual.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect();
        match found.as_slice() {
            [] => diffs.push(format!("header {name}: missing (expected {})", show(value))),
            [got] if *got == value => {}
            [got] => diffs.push(format!("header {name}: {}", show_difference(value, got))),
            many => diffs.push(format!("header {name}: present {} times, expected once", many.len())),
        }
    }
    Ok(())
}

fn check_absent_headers(wanted: &Value, actual: &[(String, String)], diffs: &mut Vec<String>) -> Result<(), String> {
    let Some(names) = wanted.as_array() else {
        return Err("case error: `expect.request.absent_headers` is not a list".into());
    };
    for name in names {
        let Some(name) = name.as_str() else {
            return Err("case error: `expect.request.absent_headers` holds a non-string".into());
        };
        for (n, v) in actual.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
            diffs.push(format!("header {n}: must be absent, found {}", show(v)));
        }
    }
    Ok(())
}

fn compare_body(wanted: &Map<String, Value>, body: &[u8], diffs: &mut Vec<String>) -> Result<(), String> {
    let form = wanted.get("form");
    let json = wanted.get("json");
    if let Some(form) = form {
        let expected = expected_pairs(form)?;
        multiset_diff("form", &expected, &decode_pairs(body), diffs);
    }
    if let Some(json) = json {
        match serde_json::from_slice::<Value>(body) {
            Ok(got) => json_diff("json", &without_nulls(json), &without_nulls(&got), diffs),
            Err(e) => diffs.push(format!("json: body is not JSON ({e}): {}", show(&String::from_utf8_lossy(body)))),
        }
    }
    if form.is_some() || json.is_some() {
        return Ok(());
    }
    match wanted.get("body") {
        Some(Value::String(expected)) if expected.as_bytes() != body => {
            let got = String::from_utf8_lossy(body);
            diffs.push(format!("body: {}", show_difference(expected, &got)));
        }
        Some(Value::String(_)) => {}
        Some(_) => return Err("case error: `expect.request.body` is not a string".into()),
        None if !body.is_empty() => diffs.push(format!(
            "body: expected empty, actual {} bytes: {}",
            body.len(),
            show(&String::from_utf8_lossy(body))
        )),
        None => {}
    }
    Ok(())
}

fn expected_pairs(form: &Value) -> Result<Vec<(String, String)>, String> {
    let bad = || "case error: `expect.request.form` must be a list of [name, value] strings".to_string();
    let list = form.as_array().ok_or_else(bad)?;
    list.iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
            _ => Err(bad()),
        })
        .collect()
}

// ---------------------------------------------------------------- JSON values

/// The value with every object member whose value is null removed, at any depth.
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// At most this many differences are listed inside one JSON value.
const MAX_JSON_DIFFS: usize = 6;

/// Records where `actual` differs from `expected`, by path. Numbers compare
/// as JSON numbers: `3600` and `3600.0` differ, as a Go decoder into an
/// integer field would see.
pub fn json_diff(path: &str, expected: &Value, actual: &Value, diffs: &mut Vec<String>) {
    if diffs.len() >= MAX_JSON_DIFFS {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => json_diff(&format!("{path}.{k}"), ev, av, diffs),
                    None => diffs.push(format!("{path}.{k}: missing (expected {})", show_json(ev))),
                }
            }
            for (k, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                diffs.push(format!("{path}.{k}: unexpected {}", show_json(av)));
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                json_diff(&format!("{path}[{i}]"), ev, av, diffs);
            }
        }
        (Value::String(e), Value::String(a)) if e != a => {
            diffs.push(format!("{path}: {}", show_difference(e, a)));
        }
        (e, a) if e != a => {
            diffs.push(format!("{path}: expected {}, actual {}", show_json(e), show_json(a)));
        }
        _ => {}
    }
}

fn show_json(value: &Value) -> String {
    match value {
        Value::String(s) => show(s),
        other => shorten(&other.to_string(), 80),
    }
}

// ---------------------------------------------------------------- printing

/// Values longer than this are shortened: they may be secrets.
const SHOW_LIMIT: usize = 80;

/// A value for a FAIL line: quoted, control characters escaped, and cut to a
/// prefix when long, so that no long (possibly secret) value is printed whole.
pub fn show(value: &str) -> String {
    let count = value.chars().count();
    if count <= SHOW_LIMIT {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(40).collect();
        format!("{head:?}... ({count} chars)")
    }
}

/// Two differing strings, shown around the first difference only, so that
/// long values are never printed whole.
pub fn show_difference(expected: &str, actual: &str) -> String {
    if expected.chars().count() <= SHOW_LIMIT && actual.chars().count() <= SHOW_LIMIT {
        return format!("expected {expected:?}, actual {actual:?}");
    }
    let at = expected.chars().zip(actual.chars()).take_while(|(e, a)| e == a).count();
    let window = |s: &str| -> String {
        let start = at.saturating_sub(12);
        let part: String = s.chars().skip(start).take(36).collect();
        let prefix = if start > 0 { "..." } else { "" };
        let suffix = if s.chars().count() > start + 36 { "..." } else { "" };
        format!("{prefix}{part:?}{suffix} ({} chars)", s.chars().count())
    };
    format!("differ at char {at}: expected {}, actual {}", window(expected), window(actual))
}

/// Cuts a message to `limit` characters.
pub fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        let head: String = text.chars().take(limit).collect();
        format!("{head}...")
    }
}

fn finish(diffs: Vec<String>) -> Result<(), String> {
    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("; ")) }
}
