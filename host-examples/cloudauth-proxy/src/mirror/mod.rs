//! The registry mirror: docker, containerd and skopeo pull from it with no
//! credentials of their own, and it pulls from the upstream registry with
//! the configured identity's.
//!
//! A request for `/v2/<repository>/{manifests,blobs,tags,referrers}/...`
//! goes to the upstream with an `Authorization` from [`auth::Authorizer`];
//! the answer streams back as it arrives (bodies are never buffered whole).
//! Redirects to blob storage are followed here, and the registry's
//! `Authorization` goes only to the registry itself: a redirect to any other
//! host is followed without it. Only pulls are mirrored: other methods, and
//! paths outside the pull API, are refused.

pub mod auth;
pub mod route;

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::body::{self, Body};
use crate::cloud::{Cloud, ProxyError};
use crate::config::{Mirror as MirrorConfig, Upstream};
use crate::upstream::Client;
use auth::{Authorization, Authorizer};
use route::{Endpoint, Refused};

/// At most this many redirects are followed for one request.
const MAX_REDIRECTS: usize = 5;

/// Upstream requests in flight at once, per mirror (a response counts until
/// its body has streamed out): a burst of pulls waits here instead of
/// opening a connection each and running out of file descriptors.
const MAX_UPSTREAM_IN_FLIGHT: usize = 4096;

/// Request headers passed on to the upstream; everything else (the
/// client's own `Authorization` and cookies above all) stays behind.
const FORWARDED_REQUEST_HEADERS: &[HeaderName] =
    &[header::ACCEPT, header::RANGE, header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE, header::USER_AGENT];

/// Response headers not passed back: hop-by-hop ones, and the upstream's
/// challenge (the client must not try to log in upstream by itself).
const DROPPED_RESPONSE_HEADERS: &[HeaderName] = &[
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::WWW_AUTHENTICATE,
    header::SET_COOKIE,
    header::LOCATION,
];

/// One configured mirror.
pub struct Mirror {
    upstream: Upstream,
    identity_name: String,
    client: Client,
    authorizer: Authorizer,
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl Mirror {
    pub fn new(config: &MirrorConfig, cloud: Arc<Cloud>, client: Client) -> Self {
        Mirror {
            upstream: config.upstream.clone(),
            identity_name: config.identity.name.clone(),
            client,
            authorizer: Authorizer::new(cloud, config.upstream.clone(), config.identity.clone()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_UPSTREAM_IN_FLIGHT)),
        }
    }

    /// Answers one client request.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path().to_owned();
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
                "this mirror only serves pulls (GET and HEAD)",
            );
        }
        // containerd names the registry it means in `ns`; a mirror for
        // another registry must not answer with this one's content.
        if let Some(ns) = query_param(request.uri(), "ns")
            && !ns.eq_ignore_ascii_case(&self.upstream.authority)
        {
            return error(
                StatusCode::NOT_FOUND,
                "NAME_UNKNOWN",
                &format!("this mirror serves {}, not {ns}", self.upstream.authority),
            );
        }
        match route::parse(&path) {
            Ok(Endpoint::Base) => base(),
            Ok(Endpoint::Repository { name }) => {
                let name = name.to_owned();
                match self.forward(&request, &name).await {
                    Ok(response) => response,
                    Err(e) => {
                        tracing::warn!(mirror = %self.upstream, identity = %self.identity_name, repository = %name, error = %e, "pull failed");
                        error(e.status(), e.code(), &e.to_string())
                    }
                }
            }
            Err(Refused::NotFound) => {
                error(StatusCode::NOT_FOUND, "UNSUPPORTED", "not a pull endpoint of the distribution API")
            }
            Err(Refused::BadName) => error(StatusCode::BAD_REQUEST, "NAME_INVALID", "invalid repository name"),
        }
    }

    async fn forward(&self, request: &Request<Incoming>, repository: &str) -> Result<Response<Body>, ProxyError> {
        let path_and_query = upstream_path(request.uri());
        let url = format!("{}{path_and_query}", self.upstream.base());
        let mut headers = HeaderMap::new();
        for name in FORWARDED_REQUEST_HEADERS {
            for value in request.headers().get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        let method = request.method().clone();

        let permit = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ProxyError::internal("the mirror is shutting down".to_owned()))?;
        let mut auth = self.authorizer.current(repository).await?;
        let mut response = self.send(&method, &url, &headers, auth.as_ref()).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            let challenge = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| ProxyError::upstream(format!("{} answered 401 without a challenge", self.upstream)))?;
            let fresh = self.authorizer.challenged(repository, &challenge, auth.as_ref()).await?;
            auth = Some(fresh);
            response = self.send(&method, &url, &headers, auth.as_ref()).await?;
        }
        let response = self.follow_redirects(response, &method, &url, &headers, auth.as_ref()).await?;
        tracing::info!(
            mirror = %self.upstream,
            identity = %self.identity_name,
            method = %method,
            repository,
            status = response.status().as_u16(),
            "pull"
        );
        let (parts, body) = pass_back(response).into_parts();
        Ok(Response::from_parts(parts, body::holding(body, permit)))
    }

    async fn send(
        &self,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        auth: Option<&Authorization>,
    ) -> Result<Response<Incoming>, ProxyError> {
        let mut request = Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(auth) = auth {
            let mut value = HeaderValue::from_str(auth.header.expose())
                .map_err(|_| ProxyError::upstream("the registry token is not a valid header value".to_owned()))?;
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        let request = request
            .body(body::empty())
            .map_err(|e| ProxyError::internal(format!("request to {}: {e}", self.upstream)))?;
        self.client.send(request).await
    }

    /// Follows redirects (blob storage), sending the registry's
    /// `Authorization` only to the registry's own scheme and authority.
    async fn follow_redirects(
        &self,
        mut response: Response<Incoming>,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        auth: Option<&Authorization>,
    ) -> Result<Response<Incoming>, ProxyError> {
        let mut current: Uri =
            url.parse().map_err(|_| ProxyError::internal(format!("bad upstream URL for {}", self.upstream)))?;
        for _ in 0..MAX_REDIRECTS {
            if !response.status().is_redirection() || response.status() == StatusCode::NOT_MODIFIED {
                return Ok(response);
            }
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| ProxyError::upstream(format!("{} redirected without a Location", self.upstream)))?;
            let next = resolve(&current, location, &self.upstream)?;
            let same_origin = next.scheme_str() == Some(self.upstream.scheme.as_str())
                && next.authority().is_some_and(|a| a.as_str().eq_ignore_ascii_case(&self.upstream.authority));
            tracing::debug!(mirror = %self.upstream, to = %next.authority().map(|a| a.as_str()).unwrap_or(""), same_origin, "redirect");
            let next_method = if response.status() == StatusCode::SEE_OTHER { Method::GET } else { method.clone() };
            response =
                self.send(&next_method, &next.to_string(), headers, if same_origin { auth } else { None }).await?;
            current = next;
        }
        Err(ProxyError::upstream(format!("{} redirected more than {MAX_REDIRECTS} times", self.upstream)))
    }
}

/// A `Location` against the URL it came from: absolute `https://` (or the
/// upstream's own scheme), or a path on the same origin.
fn resolve(current: &Uri, location: &str, upstream: &Upstream) -> Result<Uri, ProxyError> {
    let bad = || ProxyError::upstream(format!("{upstream} redirected to an unusable location"));
    if location.starts_with('/') && !location.starts_with("//") {
        let origin = format!("{}://{}", current.scheme_str().ok_or_else(bad)?, current.authority().ok_or_else(bad)?);
        return format!("{origin}{location}").parse().map_err(|_| bad());
    }
    let uri: Uri = location.parse().map_err(|_| bad())?;
    let scheme_ok = uri.scheme_str() == Some("https") || uri.scheme_str() == Some(upstream.scheme.as_str());
    let authority_ok = uri.authority().is_some_and(|a| !a.as_str().contains('@'));
    if scheme_ok && authority_ok { Ok(uri) } else { Err(bad()) }
}

/// The path and query sent upstream: the client's, without containerd's
/// `ns` parameter (which names the mirror's upstream for the mirror only).
fn upstream_path(uri: &Uri) -> String {
    let path = uri.path();
    match uri.query() {
        None => path.to_owned(),
        Some(query) => {
            let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("ns=") && *p != "ns").collect();
            if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) }
        }
    }
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.replace("%3A", ":").replace("%3a", ":"))
    })
}

/// The upstream's response, streamed: status, headers (less hop-by-hop and
/// challenge headers), and the body as it arrives.
fn pass_back(response: Response<Incoming>) -> Response<Body> {
    let (mut parts, incoming) = response.into_parts();
    for name in DROPPED_RESPONSE_HEADERS {
        parts.headers.remove(name);
    }
    Response::from_parts(parts, incoming.map_err(body::Error::from).boxed())
}

/// `/v2/`: the mirror needs no login of its clients.
fn base() -> Response<Body> {
    let mut response = Response::new(body::full(Bytes::from_static(b"{}")));
    response.headers_mut().insert("docker-distribution-api-version", HeaderValue::from_static("registry/2.0"));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An error in the distribution API's JSON shape.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let text = serde_json::json!({ "errors": [{ "code": code, "message": message }] }).to_string();
    let mut response = Response::new(body::full(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert("docker-distribution-api-version", HeaderValue::from_static("registry/2.0"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream() -> Upstream {
        Upstream { scheme: "https".into(), authority: "reg.example".into(), host: "reg.example".into() }
    }

    #[test]
    fn redirect_locations() {
        let current: Uri = "https://reg.example/v2/a/blobs/sha256:1".parse().unwrap();
        let u = upstream();
        assert_eq!(resolve(&current, "/b/data?sig=1", &u).unwrap().to_string(), "https://reg.example/b/data?sig=1");
        assert_eq!(
            resolve(&current, "https://blobs.example/x", &u).unwrap().authority().unwrap().as_str(),
            "blobs.example"
        );
        // Plain http, user info and scheme-relative locations are refused.
        assert!(resolve(&current, "http://blobs.example/x", &u).is_err());
        assert!(resolve(&current, "https://user@blobs.example/x", &u).is_err());
        assert!(resolve(&current, "//blobs.example/x", &u).is_err());
    }

    #[test]
    fn containerd_ns_is_not_sent_upstream() {
        let uri: Uri = "/v2/a/manifests/v1?ns=reg.example".parse().unwrap();
        assert_eq!(upstream_path(&uri), "/v2/a/manifests/v1");
        let uri: Uri = "/v2/a/tags/list?n=10&ns=reg.example&last=b".parse().unwrap();
        assert_eq!(upstream_path(&uri), "/v2/a/tags/list?n=10&last=b");
        assert_eq!(query_param(&uri, "ns").as_deref(), Some("reg.example"));
    }
}
