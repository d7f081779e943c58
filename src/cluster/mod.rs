//! Kubernetes cluster access on AKS, EKS and GKE: the pure pieces of Flux's
//! `GetRESTConfig`, which the session's cluster flows put together.
//!
//! Every provider works the same way. The REST config's bearer token is a
//! cloud token (an Entra token for AKS, a presigned STS URL for EKS, a Google
//! access token for GKE). When the caller knows both the API server address
//! and its CA, nothing else is needed; otherwise the cloud API describes the
//! cluster ([`aks`], [`eks`], [`gke`]) and fills in what is missing
//! ([`Discovered`], [`rest_config`]). `docs/clusters.md` walks through the
//! three flows.
//!
//! What comes back from a cloud API is checked before it lands in a REST
//! config: the address must be an `https://` URL with a valid host, and the
//! CA must be a PEM bundle of certificates. Values that go into request paths
//! (subscription, resource group, cluster names, ...) are validated against
//! each cloud's naming rules, never escaped, so no crafted ID can move a
//! request to another path or host.

pub mod aks;
pub mod eks;
pub mod gke;
mod kubeconfig;
mod yaml;

use std::net::Ipv6Addr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};
use crate::host::Authority;
use crate::http::MAX_RESPONSE_BODY;
use crate::secret::Secret;

/// How to reach a Kubernetes cluster (the WIT `rest-config`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestConfig {
    /// The `https://` API server address.
    pub host: String,
    /// The CA bundle (PEM) the API server's certificate chains to.
    pub ca_data: Option<String>,
    pub bearer_token: Secret,
    /// Unix seconds.
    pub expires_at: i64,
}

/// What a cloud API says about a cluster: both values checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The API server address, `https://...`.
    pub host: String,
    /// The CA bundle, PEM.
    pub ca_data: String,
}

/// Whether the cloud API must describe the cluster: Flux looks it up when
/// the address or the CA is missing (an empty string counts as missing).
pub fn needs_lookup(address: Option<&str>, ca_data: Option<&str>) -> bool {
    given(address).is_none() || given(ca_data).is_none()
}

/// Builds the REST config as Flux does: the caller's address and CA win,
/// the looked-up values fill the gaps. The caller's address is kept as
/// written (a bare host or IP gets `https://`), after the checks of
/// [`api_server_address`]; the caller's CA must pass [`check_ca_pem`].
pub fn rest_config(
    address: Option<&str>,
    ca_data: Option<&str>,
    discovered: Option<&Discovered>,
    bearer_token: Secret,
    expires_at: i64,
) -> Result<RestConfig> {
    if bearer_token.is_empty() {
        return Err(Error::invalid("the bearer token for the cluster is empty"));
    }
    let host = match (given(address), discovered) {
        (Some(address), _) => api_server_address(address)?,
        (None, Some(d)) => d.host.clone(),
        (None, None) => return Err(Error::invalid("cluster address is required to create a REST config")),
    };
    let ca_data = match (given(ca_data), discovered) {
        (Some(pem), _) => {
            check_ca_pem(pem)?;
            pem.to_owned()
        }
        (None, Some(d)) => d.ca_data.clone(),
        (None, None) => return Err(Error::invalid("the cluster CA is required to create a REST config")),
    };
    Ok(RestConfig { host, ca_data: Some(ca_data), bearer_token, expires_at })
}

fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// Longest API server address accepted.
const MAX_ADDRESS: usize = 2048;

/// An API server address, parsed.
struct Address<'a> {
    /// The authority as written (an unbracketed IPv6 address bracketed).
    authority: String,
    authority_parsed: Authority,
    /// The path, possibly empty (`/` and anything after it).
    path: &'a str,
}

fn parse_address(address: &str) -> Result<Address<'_>> {
    let bad = |why: &str| {
        Error::invalid(format!("failed to parse Kubernetes API server address '{}': {why}", quote(address)))
    };
    if address.is_empty() {
        return Err(Error::invalid("empty address"));
    }
    if address.len() > MAX_ADDRESS {
        return Err(bad("too long"));
    }
    let (rest, bare) = match address.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (rest, false),
        Some(_) => {
            return Err(Error::invalid(format!(
                "the Kubernetes API server address '{}' must use https scheme",
                quote(address)
            )));
        }
        None => (address, true),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(bad("user info is not allowed"));
    }
    // GKE may describe a cluster by a bare IPv6 address.
    let authority =
        if bare && authority.parse::<Ipv6Addr>().is_ok() { format!("[{authority}]") } else { authority.to_owned() };
    let authority_parsed = Authority::parse(&authority).map_err(|_| bad("not a valid host[:port]"))?;
    if path.bytes().any(|b| !b.is_ascii_graphic() || b == b'?' || b == b'#') {
        return Err(bad("the path has a query, fragment, space or control character"));
    }
    Ok(Address { authority, authority_parsed, path })
}

/// An API server address for a REST config: `https://host[:port][/path]`,
/// returned as written, or a bare `host[:port]` / IP address (how GKE
/// describes a cluster), which gets `https://`. Any other scheme is
/// refused with Flux's message; so are user info, queries, fragments and
/// invalid hosts.
pub fn api_server_address(address: &str) -> Result<String> {
    let parsed = parse_address(address)?;
    Ok(format!("https://{}{}", parsed.authority, parsed.path))
}

/// Flux's `ParseClusterAddress`: the form addresses are compared in,
/// `https://` + lower-case `host:port`, port 443 when none is given, path
/// dropped.
pub fn canonical_address(address: &str) -> Result<String> {
    let parsed = parse_address(address)?;
    let authority = &parsed.authority_parsed;
    Ok(format!("https://{}:{}", authority.host(), authority.port().unwrap_or(443)))
}

/// Decodes base64 CA data from a cloud API into PEM text and checks it.
/// `what` names it in errors, Flux's way: `failed to decode <what>: ...`.
/// Like Go's decoder, line breaks in the base64 are ignored.
pub fn decode_ca_data(what: &str, base64: &str) -> Result<String> {
    let fail = |why: &str| Error::malformed(format!("failed to decode {what}: {why}"));
    let compact: String = base64.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    if compact.is_empty() {
        return Err(fail("empty"));
    }
    let bytes = STANDARD.decode(compact.as_bytes()).map_err(|_| fail("not valid base64"))?;
    let pem = String::from_utf8(bytes).map_err(|_| fail("not PEM text"))?;
    check_ca_pem(&pem).map_err(|e| fail(error_text(&e)))?;
    Ok(pem)
}

/// An address from a cloud API, checked as [`api_server_address`] checks the
/// caller's; a bad one is the service's fault (`malformed-response`).
pub(crate) fn discovered_address(what: &str, address: &str) -> Result<String> {
    api_server_address(address).map_err(|e| Error::malformed(format!("{what}: {}", error_text(&e))))
}

/// Flux's `<context>: <cause>` wrapping of a lookup's failure; an HTTP
/// status keeps its status and code.
pub(crate) fn wrap_error(what: &str, error: Error) -> Error {
    match error {
        Error::HttpStatus { status, code, message } => {
            Error::HttpStatus { status, code, message: format!("{what}: {message}") }
        }
        Error::MalformedResponse(m) => Error::malformed(format!("{what}: {m}")),
        other => other,
    }
}

pub(crate) fn error_text(error: &Error) -> &str {
    match error {
        Error::InvalidInput(m) | Error::Unsupported(m) | Error::MalformedResponse(m) => m,
        Error::HttpStatus { message, .. } => message,
    }
}

const BEGIN_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";
const END_CERTIFICATE: &str = "-----END CERTIFICATE-----";

/// Checks that a CA bundle is PEM with at least one certificate and nothing
/// but certificates: each `BEGIN CERTIFICATE` block closed by its `END`,
/// with a base64 body. Text outside the blocks is ignored, as Go's PEM
/// decoder ignores it. A private key or any other block is refused, and the
/// bundle is never quoted in the error.
pub fn check_ca_pem(pem: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("the CA data is not a PEM certificate bundle: {why}"));
    if pem.len() > MAX_RESPONSE_BODY {
        return Err(bad("too large"));
    }
    if !pem.bytes().all(|b| b.is_ascii_graphic() || b" \t\r\n".contains(&b)) {
        return Err(bad("it has non-ASCII or control characters"));
    }
    let mut certificates = 0usize;
    let mut body: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            if line != BEGIN_CERTIFICATE {
                return Err(bad("it has a block that is not a certificate"));
            }
            if body.is_some() {
                return Err(bad("a block is not closed"));
            }
            body = Some(String::new());
        } else if line.starts_with("-----END ") {
            let content = body.take().ok_or_else(|| bad("an END line has no BEGIN"))?;
            if line != END_CERTIFICATE {
                return Err(bad("a block is closed by a different label"));
            }
            if content.is_empty() || STANDARD.decode(content.as_bytes()).is_err() {
                return Err(bad("a certificate is not base64"));
            }
            certificates += 1;
        } else if let Some(content) = body.as_mut() {
            content.push_str(line);
        }
    }
    if body.is_some() {
        return Err(bad("a block is not closed"));
    }
    if certificates == 0 {
        return Err(bad("it has no certificate"));
    }
    Ok(())
}

/// Caller input for an error message, Flux-style inside `'...'`: control
/// characters escaped (so a value cannot forge log lines) and long values cut
/// (the shared rule of [`crate::error::excerpt`]).
pub(crate) fn quote(input: &str) -> String {
    crate::error::excerpt(input)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A syntactically valid one-certificate bundle.
    pub(crate) const TEST_PEM: &str = "-----BEGIN CERTIFICATE-----\nMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWVw==\n-----END CERTIFICATE-----\n";
    /// [`TEST_PEM`], base64-encoded as the cloud APIs send CA data.
    pub(crate) const TEST_PEM_BASE64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1ERXlNelExTmpjNE9UbzdQRDArUDBCQlFrTkVSVVpIU0VsS1MweE5UazlRVVZKVFZGVldWdz09Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";

    fn discovered() -> Discovered {
        Discovered { host: "https://203.0.113.10".into(), ca_data: TEST_PEM.into() }
    }

    #[test]
    fn lookup_is_needed_when_address_or_ca_is_missing() {
        assert!(!needs_lookup(Some("https://h"), Some(TEST_PEM)));
        assert!(needs_lookup(None, Some(TEST_PEM)));
        assert!(needs_lookup(Some("https://h"), None));
        assert!(needs_lookup(Some(""), Some(TEST_PEM)));
        assert!(needs_lookup(Some("https://h"), Some("")));
    }

    #[test]
    fn rest_config_prefers_the_callers_values() {
        let token = || Secret::new("tok-secret");
        let d = discovered();
        let c = rest_config(None, None, Some(&d), token(), 42).unwrap();
        assert_eq!((c.host.as_str(), c.ca_data.as_deref(), c.expires_at), ("https://203.0.113.10", Some(TEST_PEM), 42));
        let c = rest_config(Some("https://198.51.100.10:443"), None, Some(&d), token(), 42).unwrap();
        assert_eq!(c.host, "https://198.51.100.10:443");
        assert_eq!(c.ca_data.as_deref(), Some(TEST_PEM));
        let other = TEST_PEM.replace("MDEy", "MDEz");
        let c = rest_config(Some(""), Some(&other), Some(&d), token(), 42).unwrap();
        assert_eq!((c.host.as_str(), c.ca_data.as_deref()), ("https://203.0.113.10", Some(other.as_str())));
        // "CA and address only": no lookup at all; a bare IP gets https://.
        let c = rest_config(Some("203.0.113.10"), Some(TEST_PEM), None, token(), 42).unwrap();
        assert_eq!(c.host, "https://203.0.113.10");
        assert!(!format!("{c:?}").contains("tok-secret"));
    }

    #[test]
    fn rest_config_errors() {
        let token = Secret::new("t");
        let kind = |a: Option<&str>, ca: Option<&str>, d: Option<&Discovered>, t: &Secret| {
            rest_config(a, ca, d, t.clone(), 0).unwrap_err().kind()
        };
        assert_eq!(kind(None, Some(TEST_PEM), None, &token), "invalid-input");
        assert_eq!(kind(Some("https://h"), None, None, &token), "invalid-input");
        assert_eq!(kind(Some("http://h"), Some(TEST_PEM), None, &token), "invalid-input");
        assert_eq!(kind(Some("https://h"), Some("not pem"), None, &token), "invalid-input");
        assert_eq!(kind(None, None, Some(&discovered()), &Secret::new("")), "invalid-input");
        let err = rest_config(None, Some(TEST_PEM), None, token, 0).unwrap_err();
        assert_eq!(err, Error::invalid("cluster address is required to create a REST config"));
    }

    #[test]
    fn api_server_addresses() {
        for (input, want) in [
            ("https://h.example", "https://h.example"),
            ("https://H.Example:6443/", "https://H.Example:6443/"),
            ("HTTPS://h.example", "https://h.example"),
            ("https://rancher.example/k8s/clusters/c-abc", "https://rancher.example/k8s/clusters/c-abc"),
            ("203.0.113.10", "https://203.0.113.10"),
            ("h.example:443", "https://h.example:443"),
            ("httpbin.example", "https://httpbin.example"),
            ("2001:db8::1", "https://[2001:db8::1]"),
            ("https://[2001:db8::1]:443", "https://[2001:db8::1]:443"),
        ] {
            assert_eq!(api_server_address(input).unwrap(), want, "{input}");
        }
        assert_eq!(api_server_address("").unwrap_err(), Error::invalid("empty address"));
        assert_eq!(
            api_server_address("http://h.example").unwrap_err(),
            Error::invalid("the Kubernetes API server address 'http://h.example' must use https scheme")
        );
        for bad in [
            "ftp://h",
            "https://",
            "https://u:p@h.example",
            "https://h.example?x=1",
            "https://h.example/#f",
            "https://h.example/a b",
            "https://h example",
            "https://h.example:0",
            "https://h.example\r\nX: y",
            "https://evil.example\\@h.example",
            "//h.example",
            &format!("https://h.example/{}", "p".repeat(MAX_ADDRESS)),
        ] {
            assert_eq!(api_server_address(bad).unwrap_err().kind(), "invalid-input", "{bad:?}");
        }
    }

    #[test]
    fn canonical_addresses() {
        assert_eq!(canonical_address("https://H.Example").unwrap(), "https://h.example:443");
        assert_eq!(canonical_address("h.example:6443/x").unwrap(), "https://h.example:6443");
        assert_eq!(canonical_address("https://[2001:DB8::1]").unwrap(), "https://[2001:db8::1]:443");
        assert!(canonical_address("http://h").is_err());
    }

    #[test]
    fn ca_data_decoding() {
        assert_eq!(decode_ca_data("EKS CA certificate", TEST_PEM_BASE64).unwrap(), TEST_PEM);
        let wrapped: String = TEST_PEM_BASE64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(decode_ca_data("x", &wrapped).unwrap(), TEST_PEM);
        for (input, why) in [
            ("", "empty"),
            ("!!!", "not valid base64"),
            ("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", "not closed"),
            ("/w==", "not PEM text"),
            ("aGVsbG8=", "no certificate"),
        ] {
            let err = decode_ca_data("GKE CA certificate", input).unwrap_err();
            assert_eq!(err.kind(), "malformed-response");
            let msg = err.to_string();
            assert!(msg.contains("failed to decode GKE CA certificate: ") && msg.contains(why), "{msg}");
        }
    }

    #[test]
    fn pem_bundles() {
        let two = format!("subject=CN=x\n{TEST_PEM}\r\n{TEST_PEM}");
        check_ca_pem(TEST_PEM).unwrap();
        check_ca_pem(&two).unwrap();
        let key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n";
        for bad in [
            "",
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n",
            "-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &format!("{TEST_PEM}{key}"),
            &format!("{TEST_PEM}\u{0}"),
            &format!("{TEST_PEM}é"),
        ] {
            let err = check_ca_pem(bad).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{bad:?}");
            assert!(!err.to_string().contains("c2VjcmV0"), "{err}");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\r\nb"), "a\\r\\nb");
        assert_eq!(quote(&"x".repeat(300)).len(), crate::error::MAX_QUOTED + 3);
    }
}
