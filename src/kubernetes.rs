//! The Kubernetes TokenRequest API: service-account tokens for an audience,
//! as the Kubernetes Python client creates them
//! (`create_namespaced_service_account_token`).
//!
//! Every caller value lands in the URL or a header, so each is checked:
//! the API server is an `https://` base, the namespace a DNS-1123 label, the
//! service account a DNS-1123 subdomain, as Kubernetes itself requires.
//!
//! The audience each cloud expects is [`crate::registry::service_account_audience`].

use serde::Serialize;

use crate::credentials::AccessToken;
use crate::error::{Error, Result, quoted};
use crate::host::Authority;
use crate::http::{HttpRequest, HttpResponse, check_non_empty};
use crate::response::{ErrorFormat, json_object, opt_object, opt_string};
use crate::secret::Secret;
use crate::time::parse_rfc3339;
use crate::token::non_empty_token;

/// The shortest lifetime the API server grants (10 minutes).
pub const MIN_EXPIRATION_SECONDS: i64 = 600;
/// The longest lifetime the API server accepts (2^32 seconds).
pub const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;

#[derive(Clone, Debug)]
pub struct TokenRequestParams<'a> {
    /// `https://host[:port]`, optionally with a path prefix (an API server
    /// behind a proxy, e.g. `https://rancher.example/k8s/clusters/c-1`).
    pub api_server: &'a str,
    pub namespace: &'a str,
    pub service_account: &'a str,
    /// The token is valid for each; none (an empty list) means the API
    /// server's own audiences, as the TokenRequest API defines it.
    pub audiences: &'a [String],
    /// None lets the API server choose (one hour by default).
    pub expiration_seconds: Option<i64>,
    /// The caller's own credentials for the API server.
    pub bearer_token: Option<&'a Secret>,
}

#[derive(Serialize)]
struct TokenRequestBody<'a> {
    spec: TokenRequestSpec<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequestSpec<'a> {
    audiences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_seconds: Option<i64>,
}

/// Builds the TokenRequest. The body holds only the spec, as the Python
/// client sends it (it drops unset fields; the API server takes the kind
/// from the URL).
pub fn token_request(params: &TokenRequestParams<'_>) -> Result<HttpRequest> {
    let base = api_server_base(params.api_server)?;
    check_dns1123_label("namespace", params.namespace)?;
    check_dns1123_subdomain("service account", params.service_account)?;
    params.audiences.iter().try_for_each(|a| check_non_empty("audience", a))?;
    if let Some(secs) = params.expiration_seconds
        && !(MIN_EXPIRATION_SECONDS..=MAX_EXPIRATION_SECONDS).contains(&secs)
    {
        return Err(Error::invalid(format!(
            "expiration of {secs} s is outside {MIN_EXPIRATION_SECONDS}..={MAX_EXPIRATION_SECONDS}"
        )));
    }

    let url = format!("{base}/api/v1/namespaces/{}/serviceaccounts/{}/token", params.namespace, params.service_account);
    let body = TokenRequestBody {
        spec: TokenRequestSpec { audiences: params.audiences, expiration_seconds: params.expiration_seconds },
    };
    let request = HttpRequest::post(url).header("Accept", "application/json")?.json(&body, "application/json")?;
    match params.bearer_token {
        Some(token) => {
            check_non_empty("bearer token", token.expose())?;
            request.header("authorization", format!("Bearer {}", token.expose()))
        }
        None => Ok(request),
    }
}

/// Parses the created TokenRequest (201): `status.token` and the RFC 3339
/// `status.expirationTimestamp`. Errors are `Status` objects (`reason`).
pub fn parse_token_request(response: &HttpResponse) -> Result<AccessToken> {
    let body = json_object(response, ErrorFormat::KubernetesStatus)?;
    let status = opt_object(&body, "status")?.ok_or_else(|| Error::malformed("no status in the TokenRequest"))?;
    let token = opt_string(status, "token")?;
    let expiration = opt_string(status, "expirationTimestamp")?
        .ok_or_else(|| Error::malformed("no status.expirationTimestamp in the TokenRequest"))?;
    let expires_at = parse_rfc3339(&expiration)?;
    let token = non_empty_token(token, "status.token")?;
    Ok(AccessToken { token, expires_at })
}

/// The API server base URL, normalized: `https://`, a validated authority
/// and an optional path prefix of plain segments, no trailing slash. Userinfo,
/// query, fragment, percent-escapes and dot segments are refused, so the
/// request cannot be steered to another host or path.
pub fn api_server_base(api_server: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::invalid(format!("API server {} is not an https://host[:port][/path] URL: {why}", quoted(api_server)))
    };
    let rest = api_server.strip_prefix("https://").ok_or_else(|| bad("not https"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = Authority::parse(authority).map_err(|_| bad("invalid host"))?;
    let path = path.strip_suffix('/').unwrap_or(path);
    for segment in path.split('/').skip(1) {
        let plain = segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if segment.is_empty() || segment == "." || segment == ".." || !plain {
            return Err(bad("invalid path"));
        }
    }
    Ok(format!("https://{authority}{path}"))
}

/// A DNS-1123 label, as Kubernetes names namespaces: 1 to 63 lower-case
/// letters, digits and inner hyphens.
pub fn check_dns1123_label(what: &str, name: &str) -> Result<()> {
    if is_dns1123_label(name) {
        Ok(())
    } else {
        Err(Error::invalid(format!("{what} {} is not a DNS-1123 label", quoted(name))))
    }
}

/// A DNS-1123 subdomain, as Kubernetes names service accounts: labels joined
/// by dots, 253 characters at most.
pub fn check_dns1123_subdomain(what: &str, name: &str) -> Result<()> {
    if name.len() <= 253 && name.split('.').all(is_dns1123_label) {
        Ok(())
    } else {
        Err(Error::invalid(format!("{what} {} is not a DNS-1123 subdomain", quoted(name))))
    }
}

fn is_dns1123_label(label: &str) -> bool {
    let b = label.as_bytes();
    (1..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audiences() -> Vec<String> {
        vec!["sts.amazonaws.com".to_owned()]
    }

    fn params<'a>(audiences: &'a [String]) -> TokenRequestParams<'a> {
        TokenRequestParams {
            api_server: "https://kubernetes.default.svc",
            namespace: "default",
            service_account: "workload-sa",
            audiences,
            expiration_seconds: None,
            bearer_token: None,
        }
    }

    #[test]
    fn builds_the_python_client_request() {
        let audiences = audiences();
        let bearer = Secret::new("eyJ.caller.sig");
        let p =
            TokenRequestParams { expiration_seconds: Some(3600), bearer_token: Some(&bearer), ..params(&audiences) };
        let req = token_request(&p).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.url,
            "https://kubernetes.default.svc/api/v1/namespaces/default/serviceaccounts/workload-sa/token"
        );
        let headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            headers,
            [
                ("Accept", "application/json"),
                ("Content-Type", "application/json"),
                ("authorization", "Bearer eyJ.caller.sig")
            ]
        );
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"spec":{"audiences":["sts.amazonaws.com"],"expirationSeconds":3600}}"#
        );
        assert!(!format!("{req:?}").contains("caller"));
    }

    #[test]
    fn optional_fields_are_left_out() {
        let audiences = vec!["api://AzureADTokenExchange".to_owned(), "other".to_owned()];
        let req = token_request(&params(&audiences)).unwrap();
        assert_eq!(req.header_value("authorization"), None);
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"spec":{"audiences":["api://AzureADTokenExchange","other"]}}"#
        );
    }

    #[test]
    fn api_server_bases() {
        for (input, want) in [
            ("https://kubernetes.default.svc", "https://kubernetes.default.svc"),
            ("https://kubernetes.default.svc/", "https://kubernetes.default.svc"),
            ("https://10.96.0.1:443", "https://10.96.0.1:443"),
            ("https://[fd00::1]:6443", "https://[fd00::1]:6443"),
            ("https://API.Example.com:6443/k8s/clusters/c-m4x2z/", "https://api.example.com:6443/k8s/clusters/c-m4x2z"),
        ] {
            assert_eq!(api_server_base(input).unwrap(), want);
        }
        for bad in [
            "",
            "kubernetes.default.svc",
            "http://kubernetes.default.svc",
            "https://",
            "https://user:pass@kubernetes.default.svc",
            "https://kubernetes.default.svc?x=1",
            "https://kubernetes.default.svc#x",
            "https://kubernetes.default.svc/a/../b",
            "https://kubernetes.default.svc/./b",
            "https://kubernetes.default.svc//b",
            "https://kubernetes.default.svc/a%2F..",
            "https://kubernetes.default.svc/a?b",
            "https://kubernetes.default.svc/a b",
            "https://kubernetes.default.svc\r\n/a",
            "https://kubernetes.default.svc:0",
            "https://kube\\rnetes",
            "https://evil.example\\@kubernetes.default.svc",
        ] {
            assert_eq!(api_server_base(bad).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
    }

    #[test]
    fn rejects_bad_names_and_values() {
        let audiences = audiences();
        let long_label = "a".repeat(64);
        for ns in [
            "",
            "../kube-system",
            "kube-system/..",
            "Default",
            "-ns",
            "ns-",
            "a.b",
            "ns\n",
            "ns%2F",
            long_label.as_str(),
        ] {
            let p = TokenRequestParams { namespace: ns, ..params(&audiences) };
            assert_eq!(token_request(&p).unwrap_err().kind(), "invalid-input", "{ns:?}");
        }
        let long_name =
            format!("{}.{}.{}.{}", long_label[1..].to_owned(), "b".repeat(63), "c".repeat(63), "d".repeat(63));
        for sa in ["", "..", "a..b", ".a", "a.", "A", "a/b", "a?b", "a b", "sa\r\n", long_name.as_str()] {
            let p = TokenRequestParams { service_account: sa, ..params(&audiences) };
            assert_eq!(token_request(&p).unwrap_err().kind(), "invalid-input", "{sa:?}");
        }
        let p = TokenRequestParams { service_account: "system.sa-1", ..params(&audiences) };
        assert!(token_request(&p).is_ok());
        // No audiences: the API server's own (TokenRequest's documented default).
        let none: Vec<String> = Vec::new();
        let req = token_request(&params(&none)).unwrap();
        assert_eq!(String::from_utf8(req.body).unwrap(), r#"{"spec":{"audiences":[]}}"#);
        for audiences in [vec!["".to_owned()], vec!["a\nb".to_owned()]] {
            assert_eq!(token_request(&params(&audiences)).unwrap_err().kind(), "invalid-input");
        }
        for secs in [i64::MIN, -1, 0, 599, MAX_EXPIRATION_SECONDS + 1, i64::MAX] {
            let p = TokenRequestParams { expiration_seconds: Some(secs), ..params(&audiences) };
            assert_eq!(token_request(&p).unwrap_err().kind(), "invalid-input", "{secs}");
        }
        for secs in [MIN_EXPIRATION_SECONDS, MAX_EXPIRATION_SECONDS] {
            let p = TokenRequestParams { expiration_seconds: Some(secs), ..params(&audiences) };
            assert!(token_request(&p).is_ok());
        }
        for bearer in ["", "secret-token\r\nX-Evil: 1", "secret-token\n"] {
            let bearer = Secret::new(bearer);
            let p = TokenRequestParams { bearer_token: Some(&bearer), ..params(&audiences) };
            let err = token_request(&p).unwrap_err();
            assert_eq!(err.kind(), "invalid-input");
            assert!(!err.to_string().contains("secret-token"), "{err}");
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_tokens_and_errors() {
        let body = r#"{"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"name": "workload-sa", "namespace": "default", "creationTimestamp": null}, "spec": {"audiences": ["sts.amazonaws.com"], "expirationSeconds": 3600, "boundObjectRef": null}, "status": {"token": "eyJ.sa.sig", "expirationTimestamp": "2100-01-01T00:00:00Z"}}"#;
        for status in [200, 201] {
            let t = parse_token_request(&resp(status, body)).unwrap();
            assert_eq!((t.token.expose(), t.expires_at), ("eyJ.sa.sig", 4_102_444_800));
        }

        let forbidden = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"forbidden","reason":"Forbidden","code":403}"#;
        let err = parse_token_request(&resp(403, forbidden)).unwrap_err();
        assert!(matches!(&err, Error::HttpStatus { status: 403, code: Some(c), .. } if c == "Forbidden"), "{err:?}");
        let err = parse_token_request(&resp(401, "Unauthorized")).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 401, code: None, .. }), "{err:?}");
        let err = parse_token_request(&resp(404, r#"{"kind":"Status","status":"Failure"}"#)).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 404, code: None, .. }), "{err:?}");

        let big = format!("{{\"status\": {{\"token\": \"{}\"}}}}", "a".repeat(crate::http::MAX_RESPONSE_BODY));
        for body in [
            "",
            "<html>login</html>",
            r#"{"status": {"token": "eyJ", "expirationTimestamp": "2100-01-01T00:00:00Z""#,
            r#"{"kind": "TokenRequest"}"#,
            r#"{"status": {"expirationTimestamp": "2100-01-01T00:00:00Z"}}"#,
            r#"{"status": {"token": "eyJ"}}"#,
            r#"{"status": {"token": "", "expirationTimestamp": "2100-01-01T00:00:00Z"}}"#,
            r#"{"status": {"token": 1, "expirationTimestamp": "2100-01-01T00:00:00Z"}}"#,
            r#"{"status": {"token": "eyJ", "expirationTimestamp": 4102444800}}"#,
            r#"{"status": {"token": "eyJ", "expirationTimestamp": "soon"}}"#,
            r#"{"status": "Success"}"#,
            big.as_str(),
        ] {
            assert_eq!(parse_token_request(&resp(201, body)).unwrap_err().kind(), "malformed-response", "{body:.80}");
        }
    }
}
