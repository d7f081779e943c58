//! The HTTP client for the proxied traffic itself (manifests, blobs,
//! signed AWS requests): hyper over rustls, pooled connections, bodies
//! streamed both ways.
//!
//! Credential flows do not use it: sessions run on the cloudauth runtime
//! library's transport. This client carries what the proxy forwards, and
//! follows no redirects by itself (the mirror decides which header a
//! redirect may keep).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::body::Body;
use crate::cloud::ProxyError;

/// How long the upstream may take to answer with its headers; bodies then
/// stream for as long as they take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Body>,
}

impl Client {
    /// Trusts Mozilla's roots and the PEM certificates of `ca_file`.
    pub fn new(ca_file: Option<&Path>) -> Result<Client> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(file) = ca_file {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let mut count = 0;
            for cert in CertificateDer::pem_file_iter(file).with_context(|| format!("ca-file {}", file.display()))? {
                let cert = cert.with_context(|| format!("ca-file {}: not PEM certificates", file.display()))?;
                roots.add(cert).with_context(|| format!("ca-file {}: a certificate is unusable", file.display()))?;
                count += 1;
            }
            if count == 0 {
                bail!("ca-file {}: holds no certificate", file.display());
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .context("TLS setup")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        Ok(Client { inner })
    }

    /// Sends one request; the error names the host, never the query.
    pub async fn send(&self, request: Request<Body>) -> Result<Response<Incoming>, ProxyError> {
        let host = request.uri().authority().map(|a| a.to_string()).unwrap_or_default();
        let path = request.uri().path().to_owned();
        match tokio::time::timeout(RESPONSE_TIMEOUT, self.inner.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => {
                let mut cause = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    cause = format!("{cause}: {s}");
                    source = s.source();
                }
                Err(ProxyError::unreachable(format!("{host}{path}: {cause}")))
            }
            Err(_) => {
                Err(ProxyError::unreachable(format!("{host}{path}: no answer within {}s", RESPONSE_TIMEOUT.as_secs())))
            }
        }
    }
}
