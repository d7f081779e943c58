//! Single flight: concurrent requests for the same cache key share one flow.
//!
//! The first caller for a key leads: it runs the flow, stores the result in
//! the cache, then publishes it. Callers that come while it runs follow:
//! they give their instance back and wait for the leader's result. A caller
//! that comes after the leader finished finds the cache filled (the leader
//! stores before it unregisters, and joining looks at the cache under the
//! same lock). If the leader's future is dropped halfway, or its instance
//! trapped, the followers try again and one of them leads.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use crate::bindings::api::session::Credentials;
use crate::error::Error;

/// A flow's result as followers receive it.
pub(crate) type Outcome = Result<(Credentials, Option<i64>), Error>;

type Channel = watch::Receiver<Option<Outcome>>;

#[derive(Default)]
pub(crate) struct Flights {
    running: Mutex<HashMap<String, Channel>>,
}

pub(crate) enum Join<'a, C> {
    /// The cache had it.
    Cached(C),
    /// Run the flow, then [`Leader::finish`].
    Lead(Leader<'a>),
    /// Wait for the leader with [`wait`].
    Follow(Channel),
}

pub(crate) struct Leader<'a> {
    flights: &'a Flights,
    key: String,
    sender: Option<watch::Sender<Option<Outcome>>>,
}

impl Flights {
    /// Joins the flow for `key`: `cached` is looked up under the lock, so a
    /// result stored before a leader unregistered is always seen.
    pub fn join<C>(&self, key: &str, cached: impl FnOnce() -> Option<C>) -> Join<'_, C> {
        let mut running = match self.running.lock() {
            Ok(running) => running,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(hit) = cached() {
            return Join::Cached(hit);
        }
        if let Some(channel) = running.get(key) {
            return Join::Follow(channel.clone());
        }
        let (sender, receiver) = watch::channel(None);
        running.insert(key.to_owned(), receiver);
        Join::Lead(Leader { flights: self, key: key.to_owned(), sender: Some(sender) })
    }

    fn unregister(&self, key: &str) {
        let mut running = match self.running.lock() {
            Ok(running) => running,
            Err(poisoned) => poisoned.into_inner(),
        };
        running.remove(key);
    }
}

impl Leader<'_> {
    /// Publishes the result (after the caller stored it in the cache).
    pub fn finish(mut self, outcome: Outcome) {
        self.flights.unregister(&self.key);
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(Some(outcome));
        }
    }
}

impl Drop for Leader<'_> {
    /// A leader dropped before finishing: followers see the channel close
    /// and try again.
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.flights.unregister(&self.key);
        }
    }
}

/// The leader's result, or `None` if it went away without one.
pub(crate) async fn wait(mut channel: Channel) -> Option<Outcome> {
    match channel.wait_for(|v| v.is_some()).await {
        Ok(value) => value.clone(),
        Err(_) => None,
    }
}
