//! Sending the component's requests: an async HTTP/1.1 client over rustls.
//!
//! It sends each request exactly as the component built it and hands back
//! whatever came, any status included: the component judges the answer.
//! It follows no redirect (a redirect must not carry a token to another
//! host), bounds every exchange in time and every body in size, and uses
//! the proxy settings of [`ProxyConfig`]. Logs (`tracing`, target
//! `cloudauth_runtime::http`) name method, host, path and status, never a
//! query, a header or a body.

mod connect;
mod proxy;
mod tls;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub use proxy::{NoProxy, Proxy, ProxyConfig};
pub use tls::read_pem_certificates;

use crate::bindings::api::types::{HttpRequest, HttpResponse};
use crate::error::{Error, ErrorKind};

/// How the client connects and what it accepts.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// The longest one exchange may take: connecting, sending, and reading
    /// the whole answer.
    pub timeout: Duration,
    /// The longest connecting may take (DNS, TCP, proxy tunnel, TLS).
    pub connect_timeout: Duration,
    /// The largest response body accepted. The component refuses bodies over
    /// 1 MiB itself; a larger answer fails here, before it is all read.
    pub max_response_bytes: usize,
    pub proxy: ProxyConfig,
    /// PEM bundle used instead of Mozilla's roots (`SSL_CERT_FILE`).
    pub ca_file: Option<PathBuf>,
    /// PEM certificates trusted in addition (`CLOUDAUTH_CA_FILE`).
    pub extra_ca_files: Vec<PathBuf>,
    /// DER certificates trusted in addition (for embedders and tests).
    pub extra_roots: Vec<rustls_pki_types::CertificateDer<'static>>,
    /// Name overrides: connect to this address for `(host, port)`; for tests
    /// and staging only (see [`HttpConfig::override_host`]).
    pub overrides: HashMap<(String, u16), SocketAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 1 << 20,
            proxy: ProxyConfig::default(),
            ca_file: None,
            extra_ca_files: Vec::new(),
            extra_roots: Vec::new(),
            overrides: HashMap::new(),
        }
    }
}

impl HttpConfig {
    /// Defaults, with the process environment's proxies (`HTTPS_PROXY`,
    /// `HTTP_PROXY`, `NO_PROXY`), `SSL_CERT_FILE` and `CLOUDAUTH_CA_FILE`.
    pub fn from_env() -> Result<HttpConfig, Error> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Ok(HttpConfig {
            proxy: ProxyConfig::from_env()?,
            ca_file: var("SSL_CERT_FILE"),
            extra_ca_files: var("CLOUDAUTH_CA_FILE").into_iter().collect(),
            ..HttpConfig::default()
        })
    }

    /// Connects to `address` for `host:port` (a name or an IP literal),
    /// without DNS. TLS still checks the certificate for `host`.
    pub fn override_host(mut self, host: &str, port: u16, address: SocketAddr) -> Self {
        self.overrides.insert((host.to_ascii_lowercase(), port), address);
        self
    }
}

/// Sends a component's request and returns the answer. [`HttpClient`] is
/// the real one; a demo or a test may answer from a fake instead.
pub trait Transport: Send + Sync {
    /// Sends `request`. An error names the host and what failed; the
    /// session driver adds the step.
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, Error>> + Send + 'a>>;
}

/// The HTTP client: pooled keep-alive connections, rustls, proxies.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<connect::Connector, Full<Bytes>>,
    settings: Arc<connect::Settings>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Result<HttpClient, Error> {
        let tls = tls::client_config(&config)?;
        let settings = Arc::new(connect::Settings {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            proxy: config.proxy,
            overrides: config.overrides,
            connect_timeout: config.connect_timeout,
        });
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(8)
            .build(connect::Connector { settings: Arc::clone(&settings) });
        Ok(HttpClient { client, settings, timeout: config.timeout, max_response_bytes: config.max_response_bytes })
    }

    /// Sends `request` as it is and reads the whole answer.
    pub async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, Error> {
        let shown = shown_url(&request.url);
        let outcome = tokio::time::timeout(self.timeout, self.exchange(request)).await;
        let response = match outcome {
            Ok(result) => result?,
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("no complete answer within {}s", self.timeout.as_secs_f32()),
                ));
            }
        };
        tracing::debug!(method = %request.method, url = %shown, status = response.status, bytes = response.body.len(), "http exchange");
        Ok(response)
    }

    async fn exchange(&self, request: &HttpRequest) -> Result<HttpResponse, Error> {
        let invalid =
            |what: &str| Error::new(ErrorKind::InvalidInput, format!("the request's {what} is not valid HTTP"));
        let uri: hyper::Uri = request.url.parse().map_err(|_| invalid("URL"))?;
        let target = connect::target_of(&uri).map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))?;
        let method = hyper::Method::from_bytes(request.method.as_bytes()).map_err(|_| invalid("method"))?;
        let mut builder = hyper::Request::builder().method(method).uri(uri);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // Plain HTTP through a proxy carries the proxy's credentials.
        if !target.https
            && let Some(proxy) = self.settings.proxy.proxy_for(false, &target.host, target.port)
            && let Some(authorization) = &proxy.authorization
        {
            builder = builder.header("proxy-authorization", authorization.expose().as_str());
        }
        let http_request = builder.body(Full::new(Bytes::from(request.body.clone()))).map_err(|_| invalid("header"))?;
        let response = self.client.request(http_request).await.map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let declared = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let limit = self.max_response_bytes;
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let mut body_stream = response.into_body();
        let mut body = Vec::new();
        while let Some(frame) = body_stream.frame().await {
            let frame = frame.map_err(|e| transport_error(&e))?;
            if let Some(data) = frame.data_ref() {
                if body.len() + data.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(data);
            }
        }
        Ok(HttpResponse { status, headers, body })
    }
}

impl Transport for HttpClient {
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, Error>> + Send + 'a>> {
        Box::pin(HttpClient::send(self, request))
    }
}

fn too_large(limit: usize) -> Error {
    Error::new(ErrorKind::TooLarge, format!("the answer is larger than the limit of {limit} bytes"))
}

/// A transport failure in words: our connector's message when there is one
/// (it names the host), else the error chain.
fn transport_error(error: &(dyn std::error::Error + 'static)) -> Error {
    let mut messages = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        // An io::Error's `source()` skips the error it wraps: look inside.
        let inner =
            e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|inner| inner as &dyn std::error::Error);
        if let Some(ours) = inner.and_then(|i| i.downcast_ref::<connect::ConnectError>()).or_else(|| e.downcast_ref()) {
            return Error::new(ErrorKind::Transport, ours.0.clone());
        }
        let text = e.to_string();
        if !messages.contains(&text) {
            messages.push(text);
        }
        current = e.source();
    }
    Error::new(ErrorKind::Transport, messages.join(": "))
}

/// Scheme, host and path only: a query may carry a presigned signature.
pub fn shown_url(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The host (and port, when given) of a URL, for errors and logs.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_query_and_hosts_without_userinfo() {
        assert_eq!(shown_url("https://sts.amazonaws.com/?X-Amz-Signature=abc"), "https://sts.amazonaws.com/");
        assert_eq!(shown_url("https://r.example/v2/#frag"), "https://r.example/v2/");
        assert_eq!(url_host("http://169.254.169.254/metadata?x=1").as_deref(), Some("169.254.169.254"));
        assert_eq!(url_host("https://u:p@Reg.Example:5000/v2/").as_deref(), Some("reg.example:5000"));
        assert_eq!(url_host("nonsense"), None);
    }
}
