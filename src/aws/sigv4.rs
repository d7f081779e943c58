//! AWS Signature Version 4: header signing and presigned URLs.

use crate::credentials::AwsCredentials;
use crate::error::{Error, Result};
use crate::http::HttpRequest;

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
    /// Add `X-Amz-Content-Sha256`.
    pub sign_body_header: bool,
    /// Lower-case names of headers to leave unsigned.
    pub unsigned_headers: &'a [String],
}

/// The signed request and the intermediate values.
#[derive(Clone, Debug)]
pub struct Signed {
    pub request: HttpRequest,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

pub fn sign(request: &HttpRequest, params: &SigningParams<'_>) -> Result<Signed> {
    let _ = (request, params);
    Err(Error::unsupported("not built yet"))
}

pub fn presign(request: &HttpRequest, params: &SigningParams<'_>, expires_in: u32) -> Result<Signed> {
    let _ = (request, params, expires_in);
    Err(Error::unsupported("not built yet"))
}
