//! The first step of every response parser: check size and status, and turn
//! a non-2xx answer into [`Error::HttpStatus`] with the service's own error
//! code, read from wherever that protocol puts it.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{HttpResponse, MAX_RESPONSE_BODY};

pub mod xml;

/// Where a protocol puts its error code in an error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorFormat {
    /// OAuth2 and Entra: `{"error": "invalid_client", "error_description": ...}`.
    OAuth2,
    /// Google APIs: `{"error": {"status": "PERMISSION_DENIED", "message": ...}}`
    /// (Google STS answers in the OAuth2 shape, which is accepted too).
    Google,
    /// AWS query protocol: `<ErrorResponse><Error><Code>...`.
    AwsQueryXml,
    /// AWS JSON protocol: `{"__type": "AccessDeniedException", "message": ...}`.
    AwsJson,
    /// Kubernetes `Status`: `{"kind": "Status", "reason": "Forbidden", "message": ...}`.
    KubernetesStatus,
    /// Registries (distribution): `{"errors": [{"code": "UNAUTHORIZED", ...}]}`.
    Distribution,
    /// Azure Resource Manager: `{"error": {"code": "ResourceNotFound", "message": ...}}`.
    AzureResourceManager,
    /// The GitHub REST API: `{"message": "Bad credentials", "documentation_url": ...}` (no code).
    GitHub,
}

/// Checks the status and body size; returns the body of a 2xx response.
pub fn success_body(response: &HttpResponse, format: ErrorFormat) -> Result<&[u8]> {
    if response.body.len() > MAX_RESPONSE_BODY {
        return Err(Error::malformed(format!(
            "response body of {} bytes exceeds the {} byte limit",
            response.body.len(),
            MAX_RESPONSE_BODY
        )));
    }
    if response.is_success() {
        return Ok(&response.body);
    }
    let (code, message) = error_details(&response.body, format);
    Err(Error::HttpStatus {
        status: response.status,
        code,
        message: message.unwrap_or_else(|| default_message(response.status).to_owned()),
    })
}

/// Parses a 2xx JSON body, with a clear error when it is not JSON.
pub fn json_body<T: serde::de::DeserializeOwned>(response: &HttpResponse, format: ErrorFormat) -> Result<T> {
    let body = success_body(response, format)?;
    serde_json::from_slice(body)
        .map_err(|e| Error::malformed(format!("body is not the expected JSON: {}", describe_json_error(&e))))
}

/// Parses a 2xx JSON body that must be an object, for the field look-ups
/// below. Response types are read this way rather than with
/// `#[derive(Deserialize)]`: the same checks in less component
/// (docs/size.md). Unknown fields are ignored; of two equal keys the last
/// counts (serde_json's `Map`).
pub fn json_object(response: &HttpResponse, format: ErrorFormat) -> Result<Value> {
    let body: Value = json_body(response, format)?;
    if !body.is_object() {
        return Err(Error::malformed("body is not the expected JSON: not an object"));
    }
    Ok(body)
}

/// A field that is missing or of the wrong type (the words of
/// [`describe_json_error`], with the field's name instead of a position).
pub fn mistyped_field(name: &str) -> Error {
    Error::malformed(format!("body is not the expected JSON: missing or mistyped field {name}"))
}

/// An optional field of `object`: absent and `null` are `None`, any other
/// value must pass `typed`, else the field is mistyped.
pub fn optional_field<'a, T>(
    object: &'a Value,
    name: &str,
    typed: impl FnOnce(&'a Value) -> Option<T>,
) -> Result<Option<T>> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => typed(value).map(Some).ok_or_else(|| mistyped_field(name)),
    }
}

/// An optional string field.
pub fn opt_str<'a>(object: &'a Value, name: &str) -> Result<Option<&'a str>> {
    optional_field(object, name, Value::as_str)
}

/// An optional string field, owned.
pub fn opt_string(object: &Value, name: &str) -> Result<Option<String>> {
    Ok(opt_str(object, name)?.map(str::to_owned))
}

/// A string field that must be there (not `null`).
pub fn req_str<'a>(object: &'a Value, name: &str) -> Result<&'a str> {
    opt_str(object, name)?.ok_or_else(|| mistyped_field(name))
}

/// An optional object field (for look-ups in it).
pub fn opt_object<'a>(object: &'a Value, name: &str) -> Result<Option<&'a Value>> {
    optional_field(object, name, |v| v.is_object().then_some(v))
}

/// serde_json's messages can quote input; keep only the category and position
/// so no token text reaches an error message.
fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "syntax error",
        Category::Data => "missing or mistyped field",
        Category::Eof => "truncated",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// Longest service message carried into an error. Messages are diagnostics;
/// a long one is more likely to be an echoed request than help.
const MAX_MESSAGE: usize = 300;

fn error_details(body: &[u8], format: ErrorFormat) -> (Option<String>, Option<String>) {
    let (code, message) = match format {
        ErrorFormat::AwsQueryXml => xml_error(body),
        _ => match serde_json::from_slice::<Value>(body) {
            Ok(json) => json_error(&json, format),
            Err(_) => (None, None),
        },
    };
    let clean = |s: String| -> Option<String> {
        let s: String = s.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE).collect();
        (!s.is_empty()).then_some(s)
    };
    (code.and_then(clean), message.and_then(clean))
}

fn json_error(json: &Value, format: ErrorFormat) -> (Option<String>, Option<String>) {
    let str_at = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    match format {
        ErrorFormat::OAuth2 => (str_at(json, "error"), str_at(json, "error_description")),
        ErrorFormat::Google => match json.get("error") {
            Some(Value::Object(_)) => {
                let err = &json["error"];
                (str_at(err, "status"), str_at(err, "message"))
            }
            Some(Value::String(code)) => (Some(code.clone()), str_at(json, "error_description")),
            _ => (None, None),
        },
        ErrorFormat::AwsJson => {
            // `__type` may be namespaced: `com.amazonaws.ecr#AccessDeniedException`.
            let code = str_at(json, "__type").map(|t| t.rsplit('#').next().unwrap_or_default().to_owned());
            let message = str_at(json, "message").or_else(|| str_at(json, "Message"));
            (code, message)
        }
        ErrorFormat::KubernetesStatus => (str_at(json, "reason"), str_at(json, "message")),
        ErrorFormat::GitHub => (None, str_at(json, "message")),
        ErrorFormat::AzureResourceManager => match json.get("error") {
            Some(err) => (str_at(err, "code"), str_at(err, "message")),
            None => (None, None),
        },
        ErrorFormat::Distribution => {
            let first = json.get("errors").and_then(|e| e.get(0));
            match first {
                Some(err) => (str_at(err, "code"), str_at(err, "message")),
                // ACR's OAuth endpoints sometimes answer in the OAuth2 shape.
                None => (str_at(json, "error"), str_at(json, "error_description")),
            }
        }
        ErrorFormat::AwsQueryXml => unreachable!("handled by xml_error"),
    }
}

/// Largest XML body parsed. AWS query responses are a few KiB (a session
/// token is ~1 KiB). Parsing is linear in the input ([`xml`]); the bound
/// keeps what one answer can cost small.
pub const MAX_XML_BODY: usize = 32 * 1024;

/// Parses an XML body of at most [`MAX_XML_BODY`] bytes. Errors never quote
/// the document.
pub fn parse_xml(body: &[u8], what: &str) -> Result<xml::Document> {
    if body.len() > MAX_XML_BODY {
        return Err(Error::malformed(format!(
            "{what} of {} bytes exceeds the {MAX_XML_BODY} byte XML limit",
            body.len()
        )));
    }
    let text = std::str::from_utf8(body).map_err(|_| Error::malformed(format!("{what} is not UTF-8")))?;
    xml::Document::parse(text).map_err(|e| match e {
        xml::XmlError::Dtd => Error::malformed(format!("{what} has a document type declaration")),
        xml::XmlError::Malformed => Error::malformed(format!("{what} is not well-formed XML")),
    })
}

fn xml_error(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(doc) = parse_xml(body, "error body") else { return (None, None) };
    let root = doc.root();
    let error = if root.name() == "Error" { Some(root) } else { root.descendants().find(|n| n.name() == "Error") };
    let child_text =
        |name: &str| error.and_then(|e| e.children().find(|c| c.name() == name)).map(|c| c.text().trim().to_owned());
    (child_text("Code"), child_text("Message"))
}

fn default_message(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        429 => "too many requests",
        500..=599 => "server error",
        _ => "unexpected status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    fn code(r: Result<&[u8]>) -> (u16, Option<String>) {
        match r {
            Err(Error::HttpStatus { status, code, .. }) => (status, code),
            other => panic!("expected http-status, got {other:?}"),
        }
    }

    #[test]
    fn codes_per_protocol() {
        let cases = [
            (ErrorFormat::OAuth2, r#"{"error":"invalid_client"}"#, "invalid_client"),
            (ErrorFormat::Google, r#"{"error":{"code":403,"status":"PERMISSION_DENIED"}}"#, "PERMISSION_DENIED"),
            (ErrorFormat::Google, r#"{"error":"invalid_grant"}"#, "invalid_grant"),
            (ErrorFormat::AwsJson, r#"{"__type":"com.amazonaws#AccessDeniedException"}"#, "AccessDeniedException"),
            (ErrorFormat::KubernetesStatus, r#"{"kind":"Status","reason":"Forbidden"}"#, "Forbidden"),
            (ErrorFormat::Distribution, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#, "UNAUTHORIZED"),
            (
                ErrorFormat::AzureResourceManager,
                r#"{"error":{"code":"ResourceNotFound","message":"not found"}}"#,
                "ResourceNotFound",
            ),
            (
                ErrorFormat::AwsQueryXml,
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code></Error></ErrorResponse>",
                "InvalidIdentityToken",
            ),
        ];
        for (format, body, want) in cases {
            assert_eq!(code(success_body(&resp(400, body), format)), (400, Some(want.to_owned())), "{format:?}");
        }
    }

    #[test]
    fn unparseable_error_body_still_gives_the_status() {
        assert_eq!(code(success_body(&resp(502, "<html>bad gateway"), ErrorFormat::OAuth2)), (502, None));
        assert_eq!(code(success_body(&resp(404, "Not Found"), ErrorFormat::AwsQueryXml)), (404, None));
    }

    #[test]
    fn xml_is_bounded() {
        let big = format!("<ErrorResponse {}/>", "a=\"\" ".repeat(MAX_XML_BODY));
        assert!(matches!(parse_xml(big.as_bytes(), "x"), Err(Error::MalformedResponse(_))));
        // The status still comes through, without a code.
        assert_eq!(code(success_body(&resp(400, &big), ErrorFormat::AwsQueryXml)), (400, None));
        assert!(parse_xml(b"<a><b>t</b></a>", "x").is_ok());
    }

    #[test]
    fn oversized_bodies_are_rejected() {
        let big = HttpResponse { status: 200, headers: vec![], body: vec![b' '; MAX_RESPONSE_BODY + 1] };
        assert!(matches!(success_body(&big, ErrorFormat::OAuth2), Err(Error::MalformedResponse(_))));
    }

    #[test]
    fn json_errors_do_not_echo_the_body() {
        let r = resp(200, r#"{"access_token": secret-not-json}"#);
        let err = json_body::<Value>(&r, ErrorFormat::OAuth2).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
