//! Policy over credential flows: a versioned JSON rules document and the
//! decision it gives for what a session request would do.
//!
//! The facts come from `session::explain` (computed from the same plan,
//! routing guard and cache key that `session.start` uses); this module only
//! reads rules ([`rules`], strictly, with [`json`] refusing duplicate keys
//! and [`pattern`] implementing the globs) and decides ([`decide`]). It
//! knows nothing of sessions, so a session can enforce rules without an
//! import cycle.

pub mod decide;
pub mod json;
pub mod pattern;
pub mod rules;

pub use decide::{Decision, Facts, decide};
pub use rules::{Category, Rules};
