//! Envoy's external authorization, HTTP service flavour.
//!
//! Envoy's Wasm filters speak the proxy-wasm ABI, which cannot load a
//! WebAssembly component, so cloudauth meets Envoy here instead: Envoy's
//! `ext_authz` filter asks this service about every request of a route,
//! and the answer's `Authorization` header goes upstream with the request
//! (`authorization_response.allowed_upstream_headers`). See docs/envoy.md.
//!
//! What Envoy sends (its `ext_authz` HTTP service documentation): a request
//! with the original method, the `Path` of the original request (query
//! included) prefixed by `http_service.path_prefix`, the original `Host`,
//! `Content-Length: 0` and no body, the client's `Authorization` if any,
//! the headers of `allowed_headers`, and what Envoy's own HTTP client adds
//! (`x-envoy-expected-rq-timeout-ms`, `x-envoy-internal`, `x-forwarded-*`,
//! `x-request-id`). A `200` lets the request through, with the headers the
//! configuration allows; any other status denies it, and Envoy sends that
//! status to the client.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

use cloudauth_runtime::api::types::Provider;

use crate::body::{self, Body};
use crate::cloud::Cloud;
use crate::config::{ExtAuthz as ExtAuthzConfig, Route, RouteTarget};

pub struct ExtAuthz {
    config: ExtAuthzConfig,
    cloud: Arc<Cloud>,
}

impl ExtAuthz {
    pub fn new(config: ExtAuthzConfig, cloud: Arc<Cloud>) -> Self {
        ExtAuthz { config, cloud }
    }

    /// Answers one check request.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let original_path = match request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .strip_prefix(&self.config.path_prefix)
        {
            Some(p) if p.starts_with('/') => p.to_owned(),
            _ => {
                return deny(
                    StatusCode::NOT_FOUND,
                    "the check request's path does not start with the configured path-prefix",
                );
            }
        };
        let Some(host) = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return deny(StatusCode::FORBIDDEN, "the check request has no Host header");
        };
        let host = strip_port(host).to_ascii_lowercase();
        let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let Some(route) = select(&self.config.routes, &host, &original_path) else {
            tracing::info!(host, path = path_only(&original_path), request_id, "ext_authz: no route, denied");
            return deny(StatusCode::FORBIDDEN, "no cloudauth route for this host and path");
        };
        match self.authorization(route).await {
            Ok(value) => {
                tracing::info!(host, path = path_only(&original_path), request_id, identity = %route.identity.name, "ext_authz: allowed");
                let mut response = Response::new(body::empty());
                let mut value = value;
                value.set_sensitive(true);
                response.headers_mut().insert(header::AUTHORIZATION, value);
                response
            }
            Err(message) => {
                tracing::warn!(host, path = path_only(&original_path), request_id, error = %message, "ext_authz: no credentials");
                deny(StatusCode::SERVICE_UNAVAILABLE, &message)
            }
        }
    }

    async fn authorization(&self, route: &Route) -> Result<HeaderValue, String> {
        let value = match &route.target {
            RouteTarget::Registry(reference) => {
                use base64::Engine as _;
                let login = self.cloud.registry_login(&route.identity, reference).await.map_err(|e| e.to_string())?;
                let pair = format!("{}:{}", login.username, login.password.expose());
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
            }
            RouteTarget::AccessToken { provider, scopes } => {
                let token = self
                    .cloud
                    .access_token(&route.identity, provider_of(provider), scopes.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                format!("Bearer {}", token.value.expose())
            }
            RouteTarget::Cluster { provider, resource_id, address, ca_data } => {
                let token = self
                    .cloud
                    .cluster_token(
                        &route.identity,
                        provider_of(provider),
                        resource_id,
                        address.clone(),
                        ca_data.clone(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                format!("Bearer {}", token.value.expose())
            }
        };
        HeaderValue::from_str(&value).map_err(|_| "the credentials are not a valid header value".to_owned())
    }
}

fn provider_of(name: &str) -> Provider {
    match name {
        "azure" => Provider::Azure,
        "aws" => Provider::Aws,
        "gcp" => Provider::Gcp,
        _ => Provider::Generic,
    }
}

/// The route for a host and path: the host must match exactly, and the
/// longest matching path prefix wins.
pub fn select<'a>(routes: &'a [Route], host: &str, path: &str) -> Option<&'a Route> {
    routes.iter().filter(|r| r.host == host && path.starts_with(&r.path_prefix)).max_by_key(|r| r.path_prefix.len())
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(']') => h,
        _ => host,
    }
}

/// The path without its query, for logs (queries may carry signatures).
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// A denial; Envoy passes the status and body to the client.
fn deny(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(body::full(Bytes::from(format!("cloudauth: {message}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Identity;

    fn route(host: &str, prefix: &str, target: &str) -> Route {
        Route {
            host: host.into(),
            path_prefix: prefix.into(),
            identity: Identity {
                name: "a".into(),
                environment: vec![],
                service_account: None,
                registry_username: None,
                registry_password: None,
                trusted_realm_hosts: vec![],
                sts_endpoint: None,
            },
            target: RouteTarget::Registry(target.into()),
        }
    }

    #[test]
    fn longest_prefix_on_the_exact_host_wins() {
        let routes =
            [route("api.example", "/", "all"), route("api.example", "/v2/", "v2"), route("other.example", "/", "o")];
        let target = |host: &str, path: &str| select(&routes, host, path).map(|r| r.target.clone());
        assert_eq!(target("api.example", "/v2/x"), Some(RouteTarget::Registry("v2".into())));
        assert_eq!(target("api.example", "/v1/x"), Some(RouteTarget::Registry("all".into())));
        assert_eq!(target("other.example", "/v2/x"), Some(RouteTarget::Registry("o".into())));
        assert_eq!(target("api.example.evil", "/"), None);
        assert_eq!(target("sub.api.example", "/"), None);
    }

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(strip_port("api.example:8080"), "api.example");
        assert_eq!(strip_port("api.example"), "api.example");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
