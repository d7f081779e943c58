//! Opening connections: name overrides, DNS, the proxy tunnel and TLS.
//!
//! A name override sends `host:port` to a fixed socket address before any
//! DNS, IP literals included; the SNI and the certificate check still use
//! the URL's host. Tests and staging setups use it to reach a stand-in for
//! `myregistry.azurecr.io` or `169.254.169.254` on loopback.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::proxy::{ProxyConfig, join_host_port};

/// A connection failure, in words that name the host; found again in the
/// hyper error's source chain.
#[derive(Debug)]
pub(crate) struct ConnectError(pub String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

fn fail(message: String) -> io::Error {
    io::Error::other(ConnectError(message))
}

pub(crate) struct Settings {
    pub tls: tokio_rustls::TlsConnector,
    pub proxy: ProxyConfig,
    pub overrides: HashMap<(String, u16), SocketAddr>,
    pub connect_timeout: Duration,
}

/// The connector hyper's client calls for each new connection.
#[derive(Clone)]
pub(crate) struct Connector {
    pub settings: Arc<Settings>,
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A plain or TLS connection, direct or through a proxy.
pub(crate) struct Conn {
    io: TokioIo<Box<dyn Io>>,
    /// Plain HTTP sent to a proxy: requests go in absolute form.
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Conn>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let settings = Arc::clone(&self.settings);
        Box::pin(async move {
            let timeout = settings.connect_timeout;
            let target = target_of(&uri)?;
            match tokio::time::timeout(timeout, connect(&settings, &target)).await {
                Ok(result) => result,
                Err(_) => Err(fail(format!(
                    "connecting to {} timed out after {}s",
                    join_host_port(&target.host, target.port),
                    timeout.as_secs_f32()
                ))),
            }
        })
    }
}

/// Where a URL points.
pub(crate) struct Target {
    pub https: bool,
    /// Lower case, without IPv6 brackets.
    pub host: String,
    pub port: u16,
}

pub(crate) fn target_of(uri: &Uri) -> io::Result<Target> {
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => return Err(fail(format!("unsupported URL scheme {other:?}"))),
    };
    let host = uri.host().ok_or_else(|| fail("the URL has no host".to_owned()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok(Target { https, host, port })
}

async fn connect(settings: &Settings, target: &Target) -> io::Result<Conn> {
    let address = join_host_port(&target.host, target.port);
    let (tcp, proxied) = match settings.proxy.proxy_for(target.https, &target.host, target.port) {
        None => (dial(settings, &target.host, target.port).await?, false),
        Some(proxy) => {
            let mut tcp = dial(settings, &proxy.host, proxy.port)
                .await
                .map_err(|e| fail(format!("the proxy {}: {e}", proxy.address())))?;
            if target.https {
                tunnel(&mut tcp, &address, proxy.authorization.as_ref().map(|a| a.expose().as_str()))
                    .await
                    .map_err(|e| fail(format!("the proxy {}: {e}", proxy.address())))?;
                tracing::debug!(proxy = %proxy.address(), to = %address, "tunnel open");
                (tcp, false)
            } else {
                (tcp, true)
            }
        }
    };
    if !target.https {
        return Ok(Conn { io: TokioIo::new(Box::new(tcp)), proxied });
    }
    let name = ServerName::try_from(target.host.clone())
        .map_err(|_| fail(format!("{} is not a valid TLS server name", target.host)))?;
    let tls = settings
        .tls
        .connect(name, tcp)
        .await
        .map_err(|e| fail(format!("TLS with {address} failed: {}", tls_reason(&e))))?;
    Ok(Conn { io: TokioIo::new(Box::new(tls)), proxied })
}

/// The innermost message of a TLS error (`invalid peer certificate: UnknownIssuer`).
fn tls_reason(error: &io::Error) -> String {
    match error.get_ref() {
        Some(inner) => inner.to_string(),
        None => error.to_string(),
    }
}

/// A TCP connection to `host:port`, through a name override if one is set.
async fn dial(settings: &Settings, host: &str, port: u16) -> io::Result<TcpStream> {
    let address = join_host_port(host, port);
    let candidates: Vec<SocketAddr> = match settings.overrides.get(&(host.to_owned(), port)) {
        Some(addr) => vec![*addr],
        None => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| fail(format!("cannot resolve {host}: {e}")))?
            .collect(),
    };
    let mut last = None;
    for addr in &candidates {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => fail(format!("cannot connect to {address}: {e}")),
        None => fail(format!("{host} resolves to no address")),
    })
}

/// The longest proxy answer to `CONNECT` read.
const MAX_CONNECT_ANSWER: usize = 16 * 1024;

/// Opens a `CONNECT` tunnel to `address` through the proxy on `tcp`.
async fn tunnel(tcp: &mut TcpStream, address: &str, authorization: Option<&str>) -> io::Result<()> {
    let mut request = format!("CONNECT {address} HTTP/1.1\r\nHost: {address}\r\n");
    if let Some(authorization) = authorization {
        request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte up to the blank line, so nothing of the tunnel is consumed.
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_CONNECT_ANSWER {
            return Err(fail(format!("its answer to CONNECT {address} is too long")));
        }
        if tcp.read(&mut byte).await? == 0 {
            return Err(fail(format!("it closed the connection on CONNECT {address}")));
        }
        answer.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status.len() == 3 && status.starts_with('2') {
        Ok(())
    } else {
        Err(fail(format!("it refused CONNECT {address}: {}", status_line.trim())))
    }
}
