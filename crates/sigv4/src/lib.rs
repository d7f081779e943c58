//! The hot path of cloudauth's AWS Signature Version 4 signer: the canonical
//! request ([`canonical`]), the credential scope, string to sign and
//! signature ([`signature`]) and the instance's cache of derived signing
//! keys ([`key_cache`]).
//!
//! It is a crate of its own for one reason: the component is built for size
//! (`opt-level = "z"`), and a signing proxy calls this code on every
//! request. Cargo sets the optimisation level per crate, so this crate (and
//! the SHA-256 and HMAC code instantiated in it) is built for speed while
//! the rest of the component stays small (docs/size.md, docs/benchmarks.md).
//! It takes plain strings and bytes: validating the request, the
//! credentials and the URL stays with `cloudauth::aws::sigv4`, which is the
//! API to use.

pub mod canonical;
pub mod key_cache;
pub mod signature;
