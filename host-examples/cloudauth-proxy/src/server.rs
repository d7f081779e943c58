//! Listening: one TCP listener per configured service, HTTP/1.1, a task per
//! connection.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};

/// Connections waiting to be accepted: a burst of pulls opens thousands at
/// once (the kernel caps this at `net.core.somaxconn`).
const BACKLOG: u32 = 8192;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

use crate::body::Body;

/// Binds `addr` now (so a port in use fails at start), then serves
/// `handler` on it until the process ends.
pub async fn serve<H, F>(
    name: &str,
    addr: SocketAddr,
    handler: Arc<H>,
    handle: fn(Arc<H>, Request<Incoming>) -> F,
) -> Result<tokio::task::JoinHandle<()>>
where
    H: Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = listen(addr).with_context(|| format!("{name}: cannot listen on {addr}"))?;
    let local = listener.local_addr().with_context(|| format!("{name}: {addr}"))?;
    tracing::info!(service = name, address = %local, "listening");
    // The test scripts wait for this line.
    println!("{name} listening on {local}");
    let name = name.to_owned();
    Ok(tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(service = %name, error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handle(handler, request).await) }
                });
                if let Err(e) =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await
                {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
    }))
}
