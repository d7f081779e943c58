//! The body type every handler answers with: streamed or whole, boxed.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};

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
