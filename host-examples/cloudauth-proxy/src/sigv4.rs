//! The SigV4 signing proxy, as aws-sigv4-proxy does it: every request that
//! arrives is forwarded to the configured AWS service endpoint, signed with
//! the identity's AWS credentials (from a session; the library's cache keeps
//! them until they near expiry). Signing is the component's `sigv4`
//! interface; this module only moves bytes.
//!
//! Payloads: a service that accepts `UNSIGNED-PAYLOAD` (S3) gets the body
//! streamed through as it arrives, never held whole; any other service gets
//! the body read (up to [`MAX_SIGNED_BODY`]) and its SHA-256 signed.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use cloudauth_runtime::api::sigv4::SigningParams;
use cloudauth_runtime::api::types::HttpRequest;

use crate::body::{self, Body};
use crate::cloud::Cloud;
use crate::config::Sigv4 as Sigv4Config;
use crate::time::now;
use crate::upstream::Client;

/// The largest body hashed for signing (services other than S3).
pub const MAX_SIGNED_BODY: usize = 16 << 20;

/// Request headers that are not forwarded: hop-by-hop ones, the client's
/// host, and whatever a previous signature left (they are replaced).
const DROPPED_REQUEST_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

const DROPPED_RESPONSE_HEADERS: &[HeaderName] =
    &[header::CONNECTION, header::TRANSFER_ENCODING, header::TE, header::TRAILER, header::UPGRADE];

pub struct Sigv4Proxy {
    config: Sigv4Config,
    cloud: Arc<Cloud>,
    client: Client,
}

impl Sigv4Proxy {
    pub fn new(config: Sigv4Config, cloud: Arc<Cloud>, client: Client) -> Self {
        Sigv4Proxy { config, cloud, client }
    }

    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        match self.forward(request).await {
            Ok(response) => {
                tracing::info!(service = %self.config.service, %method, path, status = response.status().as_u16(), "signed");
                response
            }
            Err((status, message)) => {
                tracing::warn!(service = %self.config.service, %method, path, error = %message, "not forwarded");
                let mut response = Response::new(body::full(Bytes::from(format!("cloudauth-proxy: {message}\n"))));
                *response.status_mut() = status;
                response
            }
        }
    }

    async fn forward(&self, request: Request<Incoming>) -> Result<Response<Body>, (StatusCode, String)> {
        let (parts, incoming) = request.into_parts();
        if self.config.unsigned_payload && transfer_chunked(&parts.headers) {
            return Err((
                StatusCode::LENGTH_REQUIRED,
                "a streamed (unsigned-payload) body needs a Content-Length; S3 refuses chunked bodies without aws-chunked encoding".into(),
            ));
        }
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{path_and_query}", self.config.upstream.base());
        let mut headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .filter(|(name, _)| !DROPPED_REQUEST_HEADERS.contains(&name.as_str()))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();

        let (signed_body, outgoing_body) = if self.config.unsigned_payload {
            headers.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
            (Vec::new(), incoming.map_err(body::Error::from).boxed())
        } else {
            let bytes = Limited::new(incoming, MAX_SIGNED_BODY)
                .collect()
                .await
                .map_err(|_| {
                    (StatusCode::PAYLOAD_TOO_LARGE, format!("a body to sign may hold at most {MAX_SIGNED_BODY} bytes"))
                })?
                .to_bytes();
            (bytes.to_vec(), body::full(bytes))
        };

        let credentials = self
            .cloud
            .aws_credentials(&self.config.identity)
            .await
            .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
        let unsigned = HttpRequest { method: parts.method.as_str().to_owned(), url, headers, body: signed_body };
        let params = SigningParams {
            credentials,
            region: self.config.region.clone(),
            service: self.config.service.clone(),
            now: now(),
            // S3 signs the path as sent; every other service normalizes it.
            normalize_path: self.config.service != "s3",
            sign_body_header: false,
            unsigned_headers: Vec::new(),
            omit_session_token: false,
        };
        let signed = self.cloud.sign(unsigned, params).await.map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;

        let mut builder = Request::builder().method(parts.method).uri(&signed.url);
        for (name, value) in &signed.headers {
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| (StatusCode::BAD_REQUEST, format!("header {name} is not valid")))?;
            if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("x-amz-security-token") {
                value.set_sensitive(true);
            }
            builder = builder.header(name, value);
        }
        let outgoing = builder.body(outgoing_body).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
        let response = self.client.send(outgoing).await.map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
        let (mut parts, incoming) = response.into_parts();
        for name in DROPPED_RESPONSE_HEADERS {
            parts.headers.remove(name);
        }
        Ok(Response::from_parts(parts, incoming.map_err(body::Error::from).boxed()))
    }
}

fn transfer_chunked(headers: &http::HeaderMap) -> bool {
    headers.get(header::TRANSFER_ENCODING).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("chunked"))
}
