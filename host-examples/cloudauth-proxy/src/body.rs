//! The body type every handler answers with: streamed or whole, boxed.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;

/// An error while streaming a body.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A response or request body.
pub type Body = BoxBody<Bytes, Error>;

pub fn empty() -> Body {
    Empty::<Bytes>::new().map_err(|never| match never {}).boxed()
}

pub fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A body that holds a permit until it is done or dropped: the mirror
/// bounds its upstream requests in flight, and a response counts until its
/// body has streamed out.
pub fn holding(body: Body, permit: OwnedSemaphorePermit) -> Body {
    Holding { inner: body, _permit: permit }.boxed()
}

struct Holding {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl hyper::body::Body for Holding {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
