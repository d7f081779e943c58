use super::exports::cloudauth::auth::sigv4::{Guest, Signed, SigningParams};
use super::wit::HttpRequest;
use super::{Component, WitResult, request_from_wit};
use crate::aws::sigv4::{self, SessionTokenMode};
use crate::credentials::AwsCredentials;

fn signed(s: sigv4::Signed) -> Signed {
    Signed {
        request: s.request.into(),
        canonical_request: s.canonical_request,
        string_to_sign: s.string_to_sign,
        signature: s.signature,
    }
}

fn with_params<T>(params: SigningParams, f: impl FnOnce(&sigv4::SigningParams<'_>, SessionTokenMode) -> T) -> T {
    let credentials: AwsCredentials = params.credentials.into();
    let core = sigv4::SigningParams {
        credentials: &credentials,
        region: &params.region,
        service: &params.service,
        now: params.now,
        normalize_path: params.normalize_path,
        sign_body_header: params.sign_body_header,
        unsigned_headers: &params.unsigned_headers,
    };
    let token_mode =
        if params.omit_session_token { SessionTokenMode::AddedAfterSigning } else { SessionTokenMode::Signed };
    f(&core, token_mode)
}

impl Guest for Component {
    fn sign_request(request: HttpRequest, params: SigningParams) -> WitResult<Signed> {
        let request = request_from_wit(request)?;
        Ok(signed(with_params(params, |p, mode| sigv4::sign_owned(request, p, mode))?))
    }

    fn sign_headers(request: HttpRequest, params: SigningParams) -> WitResult<Vec<(String, String)>> {
        let request = request_from_wit(request)?;
        Ok(with_params(params, |p, mode| sigv4::signing_headers(&request, p, mode))?)
    }

    fn presign_request(request: HttpRequest, params: SigningParams, expires_in: u32) -> WitResult<Signed> {
        let request = request_from_wit(request)?;
        Ok(signed(with_params(params, |p, mode| sigv4::presign_with(&request, p, expires_in, mode))?))
    }
}
