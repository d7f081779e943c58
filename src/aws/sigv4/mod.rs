//! AWS Signature Version 4: header signing and presigned URLs.
//!
//! Both ways of signing build the same canonical request ([`canonical`]) and
//! sign it the same way ([`signature`]); they differ in where the
//! authentication values travel: headers (`X-Amz-Date`, `Authorization`) or
//! query parameters (`X-Amz-Credential`, `X-Amz-Signature`, ...). What is
//! added, and in which order, follows botocore, because a presigned URL is
//! sometimes itself the credential (the EKS `k8s-aws-v1.` token is the
//! base64 of one) and must match the official SDK byte for byte.

mod url;

/// The hot path lives in its own crate, built for speed in the component.
pub use cloudauth_sigv4::key_cache;
use cloudauth_sigv4::{canonical, signature};

use std::fmt;

use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, check_header, check_single_line};
use crate::secret::Secret;
use crate::time::DateTime;

use self::canonical::Param;
use self::signature::{ALGORITHM, Scope, SigningTime, sha256_hex};
use self::url::RequestUrl;

/// What to sign with.
#[derive(Clone, Debug)]
pub struct SigningParams<'a> {
    pub credentials: &'a AwsCredentials,
    pub region: &'a str,
    pub service: &'a str,
    /// Signing time, Unix seconds.
    pub now: i64,
    /// Normalize the path and encode it twice (every service but S3).
    pub normalize_path: bool,
    /// Add `X-Amz-Content-Sha256` (header signing only; presigned URLs carry
    /// no payload hash).
    pub sign_body_header: bool,
    /// Lower-case names of headers to leave unsigned.
    pub unsigned_headers: &'a [String],
}

/// Whether the session token is part of the signature. Services sign it
/// (`Signed`); a few (AWS IoT's WebSocket endpoint) want it added to the
/// request only after signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SessionTokenMode {
    #[default]
    Signed,
    AddedAfterSigning,
}

/// The signed request and the intermediate values.
#[derive(Clone)]
pub struct Signed {
    pub request: HttpRequest,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

/// `X-Amz-Expires` may not exceed seven days.
pub const MAX_PRESIGN_EXPIRY: u32 = 604_800;

/// Headers SigV4 never signs: the SDKs leave them out because proxies and
/// HTTP clients add, drop or rewrite them (`authorization` is the signature
/// itself).
const NEVER_SIGNED: &[&str] = &["authorization", "expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"];

/// Headers that must be signed, so they cannot be listed as unsigned.
const ALWAYS_SIGNED: &[&str] = &["host", "x-amz-date"];

const AMZ_DATE: &str = "X-Amz-Date";
const SECURITY_TOKEN: &str = "X-Amz-Security-Token";
const CONTENT_SHA256: &str = "X-Amz-Content-Sha256";

/// The query parameters of a presigned URL, in botocore's order, and the
/// signature that follows them.
const PRESIGN_ALGORITHM: &str = "X-Amz-Algorithm";
const PRESIGN_CREDENTIAL: &str = "X-Amz-Credential";
const PRESIGN_EXPIRES: &str = "X-Amz-Expires";
const PRESIGN_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
const PRESIGN_SIGNATURE: &str = "X-Amz-Signature";
const PRESIGN_PARAMS: &[&str] = &[
    PRESIGN_ALGORITHM,
    PRESIGN_CREDENTIAL,
    AMZ_DATE,
    PRESIGN_EXPIRES,
    PRESIGN_SIGNED_HEADERS,
    SECURITY_TOKEN,
    PRESIGN_SIGNATURE,
];

/// Signs with the `Authorization` header; see [`sign_with`].
pub fn sign(request: &HttpRequest, params: &SigningParams<'_>) -> Result<Signed> {
    sign_with(request, params, SessionTokenMode::Signed)
}

/// Signs with the `Authorization` header. The request gets, in this order
/// and replacing any it had: `X-Amz-Date`, `X-Amz-Security-Token` (with a
/// session token), `X-Amz-Content-Sha256` (with `sign_body_header`) and
/// `Authorization`. Without a Host header, `host` is signed from the URL and
/// no header is added: HTTP clients write it.
pub fn sign_with(request: &HttpRequest, params: &SigningParams<'_>, token_mode: SessionTokenMode) -> Result<Signed> {
    let SignedParts { set, signed } = sign_parts(request, params, token_mode)?;
    let request = HttpRequest {
        method: request.method,
        url: request.url.clone(),
        headers: replace_headers(request.headers.iter().cloned(), set),
        body: request.body.clone(),
    };
    Ok(Signed { request, ..signed })
}

/// [`sign_with`] for a request the caller gives away: its URL and body move
/// into the signed request instead of being copied (the component's entry
/// point, where the body may be large).
pub fn sign_owned(request: HttpRequest, params: &SigningParams<'_>, token_mode: SessionTokenMode) -> Result<Signed> {
    let SignedParts { set, signed } = sign_parts(&request, params, token_mode)?;
    let HttpRequest { method, url, headers, body } = request;
    let request = HttpRequest { method, url, headers: replace_headers(headers, set), body };
    Ok(Signed { request, ..signed })
}

/// The headers [`sign_with`] sets, in order, and nothing else: the caller
/// sets each on its request, replacing any header of the same name
/// (case-insensitive). The cheapest way to sign, and the shape `aws-sigv4`
/// gives: the request is not copied and no debugging values are built for
/// the caller.
pub fn signing_headers(
    request: &HttpRequest,
    params: &SigningParams<'_>,
    token_mode: SessionTokenMode,
) -> Result<Vec<(String, String)>> {
    Ok(sign_parts(request, params, token_mode)?.set)
}

/// What signing sets: the headers, in order, and the signed values (with an
/// empty request, filled in by the callers).
struct SignedParts {
    set: Vec<(String, String)>,
    signed: Signed,
}

/// `headers` with the ones signing sets replaced: the others keep their
/// order, and the set ones follow.
fn replace_headers(
    headers: impl IntoIterator<Item = (String, String)>,
    set: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        headers.into_iter().filter(|(name, _)| !set.iter().any(|(s, _)| name.eq_ignore_ascii_case(s))).collect();
    out.extend(set);
    out
}

fn sign_parts(request: &HttpRequest, params: &SigningParams<'_>, token_mode: SessionTokenMode) -> Result<SignedParts> {
    let signer = Signer::new(request, params)?;
    let payload_hash = signer.payload_hash(params.sign_body_header);
    let token = signer.session_token;

    // The headers signing sets, in the order they are added; a session token
    // added after signing goes in before `Authorization`, unsigned.
    let mut set: Vec<(String, String)> = Vec::with_capacity(4);
    set.push((AMZ_DATE.to_owned(), signer.scope.amz_date.clone()));
    let token_header = token.map(|t| (SECURITY_TOKEN.to_owned(), t.to_owned()));
    if token_mode == SessionTokenMode::Signed {
        set.extend(token_header.clone());
    }
    if params.sign_body_header {
        set.push((CONTENT_SHA256.to_owned(), payload_hash.clone()));
    }
    // `Authorization` is never signed, and is always replaced.
    let replaced = |name: &str| {
        name.eq_ignore_ascii_case("authorization")
            || name.eq_ignore_ascii_case(AMZ_DATE)
            || (token.is_some() && name.eq_ignore_ascii_case(SECURITY_TOKEN))
            || (params.sign_body_header && name.eq_ignore_ascii_case(CONTENT_SHA256))
    };
    let kept = request.headers.iter().filter(|(name, _)| !replaced(name));
    let signed_headers = signer.canonical_headers(kept.chain(&set));
    let mut query = signer.url.query.map(canonical::query_params).unwrap_or_default();
    let (canonical_request, string_to_sign, signature) = signer.sign(&mut query, &signed_headers, &payload_hash)?;
    let signed_list = signed_headers.signed;

    if token_mode == SessionTokenMode::AddedAfterSigning {
        set.extend(token_header);
    }
    let credential_scope = signer.scope.credential_scope();
    let mut authorization = String::with_capacity(
        ALGORITHM.len()
            + signer.access_key_id.len()
            + credential_scope.len()
            + signed_list.len()
            + signature.len()
            + 48,
    );
    for part in [
        ALGORITHM,
        " Credential=",
        signer.access_key_id,
        "/",
        credential_scope,
        ", SignedHeaders=",
        &signed_list,
        ", Signature=",
        &signature,
    ] {
        authorization.push_str(part);
    }
    set.push(("Authorization".to_owned(), authorization));

    let empty = HttpRequest { method: "", url: String::new(), headers: Vec::new(), body: Vec::new() };
    let signed = Signed { request: empty, canonical_request, string_to_sign, signature };
    Ok(SignedParts { set, signed })
}

/// Presigns with query parameters; see [`presign_with`].
pub fn presign(request: &HttpRequest, params: &SigningParams<'_>, expires_in: u32) -> Result<Signed> {
    presign_with(request, params, expires_in, SessionTokenMode::Signed)
}

/// Presigns with query parameters, valid for `expires_in` seconds
/// (1..=[`MAX_PRESIGN_EXPIRY`]). The URL keeps its own query first, as
/// given, then gets `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
/// `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` (with a
/// session token) and `X-Amz-Signature`, exactly as botocore writes them.
/// The request's headers are signed and kept: the host must send them.
pub fn presign_with(
    request: &HttpRequest,
    params: &SigningParams<'_>,
    expires_in: u32,
    token_mode: SessionTokenMode,
) -> Result<Signed> {
    if !(1..=MAX_PRESIGN_EXPIRY).contains(&expires_in) {
        return Err(Error::invalid(format!("presign expiry {expires_in} is outside 1..={MAX_PRESIGN_EXPIRY} seconds")));
    }
    let signer = Signer::new(request, params)?;
    let existing = signer.url.query.map(canonical::query_params).unwrap_or_default();
    if existing.iter().any(|p| PRESIGN_PARAMS.iter().any(|name| p.name().eq_ignore_ascii_case(name))) {
        return Err(Error::invalid("request URL is already presigned (has X-Amz-* signing parameters)"));
    }

    let signed_headers = signer.canonical_headers(request.headers.iter());
    let auth_params = [
        Param::new(PRESIGN_ALGORITHM, ALGORITHM),
        Param::new(PRESIGN_CREDENTIAL, &format!("{}/{}", signer.access_key_id, signer.scope.credential_scope())),
        Param::new(AMZ_DATE, &signer.scope.amz_date),
        Param::new(PRESIGN_EXPIRES, &expires_in.to_string()),
        Param::new(PRESIGN_SIGNED_HEADERS, &signed_headers.signed),
    ];
    let token_param = signer.session_token.map(|t| Param::new(SECURITY_TOKEN, t));

    let mut canonical_params = existing;
    canonical_params.extend(auth_params.iter().cloned());
    if token_mode == SessionTokenMode::Signed {
        canonical_params.extend(token_param.clone());
    }
    let payload_hash = signer.payload_hash(false);
    let (canonical_request, string_to_sign, signature) =
        signer.sign(&mut canonical_params, &signed_headers, &payload_hash)?;

    let mut added = String::new();
    for param in auth_params.iter().chain(token_param.as_ref()).chain([&Param::new(PRESIGN_SIGNATURE, &signature)]) {
        if !added.is_empty() {
            added.push('&');
        }
        param.push_pair(&mut added);
    }
    let url = append_query(&request.url, &added);
    let request =
        HttpRequest { method: request.method, url, headers: request.headers.clone(), body: request.body.clone() };
    Ok(Signed { request, canonical_request, string_to_sign, signature })
}

/// Appends parameters to a URL's query, starting one if there is none.
fn append_query(url: &str, params: &str) -> String {
    let mut out = String::with_capacity(url.len() + params.len() + 1);
    out.push_str(url);
    if !url.contains('?') {
        out.push('?');
    } else if !url.ends_with(['?', '&']) {
        out.push('&');
    }
    out.push_str(params);
    out
}

/// The checked inputs both ways of signing share.
struct Signer<'a> {
    request: &'a HttpRequest,
    url: RequestUrl<'a>,
    scope: Scope,
    /// The `host` value signed when the request has no Host header.
    url_host: String,
    access_key_id: &'a str,
    secret_access_key: &'a Secret,
    /// `None` also for an empty token, which botocore treats as none.
    session_token: Option<&'a str>,
    normalize_path: bool,
    unsigned_headers: &'a [String],
}

impl<'a> Signer<'a> {
    fn new(request: &'a HttpRequest, params: &SigningParams<'a>) -> Result<Self> {
        let credentials = params.credentials;
        check_scope_part("access key id", &credentials.access_key_id)?;
        check_scope_part("region", params.region)?;
        check_scope_part("service", params.service)?;
        // The secret never reaches the wire, but a control character in it
        // means the caller's credentials are corrupt: say so, not "403".
        let secret = credentials.secret_access_key.expose();
        if secret.is_empty() {
            return Err(Error::invalid("secret access key is empty"));
        }
        check_single_line("secret access key", secret)?;
        let session_token = credentials.session_token.as_ref().map(Secret::expose).filter(|t| !t.is_empty());
        if let Some(token) = session_token {
            check_single_line("session token", token)?;
        }
        for name in params.unsigned_headers {
            check_header(name, "")?;
            if ALWAYS_SIGNED.iter().any(|a| name.eq_ignore_ascii_case(a)) {
                return Err(Error::invalid(format!("header {} is always signed", crate::error::excerpt(name))));
            }
        }
        for (name, value) in &request.headers {
            check_header(name, value)?;
        }
        let url = RequestUrl::parse(&request.url)?;
        let time = DateTime::from_unix(params.now)?;
        let url_host = url.host_header();
        Ok(Signer {
            request,
            url_host,
            url,
            scope: scope(&time, params.region, params.service),
            access_key_id: &credentials.access_key_id,
            secret_access_key: &credentials.secret_access_key,
            session_token,
            normalize_path: params.normalize_path,
            unsigned_headers: params.unsigned_headers,
        })
    }

    /// The hex SHA-256 of the body, or the `X-Amz-Content-Sha256` value the
    /// caller set (how S3 callers choose an unsigned or streaming payload),
    /// unless the header is to be (re)computed.
    fn payload_hash(&self, recompute: bool) -> String {
        match self.request.header_value(CONTENT_SHA256) {
            Some(given) if !recompute => given.trim().to_owned(),
            _ => sha256_hex(&self.request.body),
        }
    }

    /// The headers to sign among `headers`, plus `host` from the URL when
    /// there is no Host header.
    fn canonical_headers<'h>(
        &'h self,
        headers: impl Iterator<Item = &'h (String, String)> + Clone,
    ) -> canonical::Headers<'h> {
        let has_host = headers.clone().any(|(name, _)| name.eq_ignore_ascii_case("host"));
        let signed = headers.map(|(n, v)| (n.as_str(), v.as_str())).filter(|(name, _)| self.is_signed(name));
        let host = (!has_host).then_some(("host", self.url_host.as_str()));
        canonical::headers(signed.chain(host))
    }

    fn is_signed(&self, name: &str) -> bool {
        !NEVER_SIGNED.iter().any(|n| name.eq_ignore_ascii_case(n))
            && !self.unsigned_headers.iter().any(|n| name.eq_ignore_ascii_case(n))
    }

    /// Canonical request, string to sign and signature.
    fn sign(
        &self,
        query: &mut [Param],
        headers: &canonical::Headers<'_>,
        payload_hash: &str,
    ) -> Result<(String, String, String)> {
        let canonical_request =
            canonical::request(self.request.method, self.url.path, self.normalize_path, query, headers, payload_hash);
        let string_to_sign = self.scope.string_to_sign(&canonical_request);
        let signature = self.scope.sign_for(self.access_key_id, self.secret_access_key.expose(), &string_to_sign)?;
        Ok((canonical_request, string_to_sign, signature))
    }
}

/// The credential scope of a signature made at `time`.
pub(crate) fn scope(time: &DateTime, region: &str, service: &str) -> Scope {
    let time = SigningTime {
        // `DateTime` keeps years within 1970..=9999.
        year: time.year.unsigned_abs() as u32,
        month: time.month,
        day: time.day,
        hour: time.hour,
        minute: time.minute,
        second: time.second,
    };
    Scope::new(&time, region, service)
}

/// A part of the credential scope (`akid/date/region/service/aws4_request`):
/// visible ASCII without `/` (the scope separator) or `,` (the
/// `Authorization` separator). Never echoed: it is the caller's data.
fn check_scope_part(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b',') {
        return Err(Error::invalid(format!("{what} must be visible ASCII without '/' or ','")));
    }
    Ok(())
}

/// The canonical request holds the session token and, with the signature, a
/// presigned URL can be rebuilt from it: neither is shown.
impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("request", &self.request)
            .field("canonical_request", &format_args!("<{} bytes>", self.canonical_request.len()))
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &format_args!("<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests;
