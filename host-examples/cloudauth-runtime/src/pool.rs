//! A bounded pool of component instances.
//!
//! Each instance has its own store, hence its own memory: calls on two
//! instances never share state. A caller checks an instance out with
//! [`Pool::get`], which waits while all `size` instances are in use, calls
//! exports on it with [`PooledInstance::call`], and gives it back by
//! dropping it. Instances are made on demand from the `InstancePre`, which
//! takes microseconds.
//!
//! An instance that trapped is never reused (wasmtime refuses to enter it
//! again, and its memory may be half-written): the call fails with
//! [`ErrorKind::Trap`](crate::ErrorKind::Trap), the instance is dropped when
//! its guard is, and the next checkout makes a new one. Other instances go
//! on. So is an instance given back with a session still open in it (a flow
//! whose future was dropped halfway): its resource table would leak.
//!
//! Calls into the component are synchronous and short (microseconds to a
//! millisecond); they run on the calling task.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::Store;

use crate::bindings::Cloudauth;
use crate::bindings::api::types::Error as ComponentError;
use crate::component::{Instance, LoadedComponent};
use crate::error::{Error, ErrorKind};

/// A bounded pool of instances of one component.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    component: Arc<LoadedComponent>,
    idle: Mutex<Vec<Instance>>,
    permits: Arc<Semaphore>,
    size: usize,
    created: AtomicU64,
    discarded: AtomicU64,
}

/// Counters, for tests and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Instances made so far.
    pub created: u64,
    /// Instances dropped instead of reused (trapped, or left with a session open).
    pub discarded: u64,
    /// Instances idle in the pool now.
    pub idle: usize,
}

impl Pool {
    /// A pool of at most `size` instances (at least 1) of `component`.
    pub fn new(component: Arc<LoadedComponent>, size: usize) -> Self {
        let size = size.max(1);
        Pool {
            inner: Arc::new(Inner {
                component,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(size)),
                size,
                created: AtomicU64::new(0),
                discarded: AtomicU64::new(0),
            }),
        }
    }

    pub fn component(&self) -> &Arc<LoadedComponent> {
        &self.inner.component
    }

    /// The most instances in use at once.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            created: self.inner.created.load(Ordering::Relaxed),
            discarded: self.inner.discarded.load(Ordering::Relaxed),
            idle: self.inner.idle.lock().map(|idle| idle.len()).unwrap_or(0),
        }
    }

    /// Checks out an instance, waiting while all are in use.
    pub async fn get(&self) -> Result<PooledInstance, Error> {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| Error::new(ErrorKind::Setup, "the instance pool is closed"))?;
        self.checkout(permit)
    }

    /// Checks out an instance if one is free now.
    pub fn try_get(&self) -> Option<Result<PooledInstance, Error>> {
        let permit = Arc::clone(&self.inner.permits).try_acquire_owned().ok()?;
        Some(self.checkout(permit))
    }

    fn checkout(&self, permit: OwnedSemaphorePermit) -> Result<PooledInstance, Error> {
        let reused = self.inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        let instance = match reused {
            Some(instance) => instance,
            None => {
                let instance = self.inner.component.instantiate()?;
                self.inner.created.fetch_add(1, Ordering::Relaxed);
                instance
            }
        };
        Ok(PooledInstance {
            instance: Some(instance),
            pool: Arc::clone(&self.inner),
            _permit: permit,
            broken: false,
            open_sessions: 0,
        })
    }
}

/// An instance checked out of a [`Pool`]; given back when dropped.
pub struct PooledInstance {
    instance: Option<Instance>,
    pool: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
    broken: bool,
    open_sessions: usize,
}

impl PooledInstance {
    /// Calls into the component: `f` gets the typed exports and the store,
    /// e.g. `|api, store| api.cloudauth_auth_resolve().call_resolve_registry(store, "ghcr.io/a/b", None)`.
    /// The call gets a fresh fuel budget. A trap fails with
    /// [`ErrorKind::Trap`](crate::ErrorKind::Trap) naming `export`, and
    /// the instance is not reused.
    pub fn call<R>(
        &mut self,
        export: &str,
        f: impl FnOnce(&Cloudauth, &mut Store<()>) -> wasmtime::Result<R>,
    ) -> Result<R, Error> {
        if self.broken {
            return Err(Error::new(ErrorKind::Trap, format!("the instance trapped before `{export}`; get another")));
        }
        let fuel = self.pool.component.fuel_per_call();
        let Some(instance) = self.instance.as_mut() else {
            return Err(Error::new(ErrorKind::Setup, "the instance is gone"));
        };
        if let Some(fuel) = fuel
            && let Err(e) = instance.store.set_fuel(fuel)
        {
            self.broken = true;
            return Err(Error::trap(export, &e));
        }
        match f(&instance.api, &mut instance.store) {
            Ok(value) => Ok(value),
            Err(e) => {
                self.broken = true;
                tracing::warn!(export, error = %e, "component instance trapped; dropping it");
                Err(Error::trap(export, &e))
            }
        }
    }

    /// [`call`](Self::call) for an export that returns `result<T, error>`:
    /// the component's error becomes an [`Error`] too.
    pub fn call_checked<T>(
        &mut self,
        export: &str,
        f: impl FnOnce(&Cloudauth, &mut Store<()>) -> wasmtime::Result<Result<T, ComponentError>>,
    ) -> Result<T, Error> {
        self.call(export, f)?.map_err(Error::component)
    }

    /// True once a call trapped: the instance will not go back to the pool.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    pub(crate) fn session_opened(&mut self) {
        self.open_sessions += 1;
    }

    pub(crate) fn session_closed(&mut self) {
        self.open_sessions = self.open_sessions.saturating_sub(1);
    }
}

impl Drop for PooledInstance {
    fn drop(&mut self) {
        let Some(instance) = self.instance.take() else { return };
        if self.broken || self.open_sessions > 0 {
            self.pool.discarded.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Ok(mut idle) = self.pool.idle.lock() {
            idle.push(instance);
        }
    }
}
