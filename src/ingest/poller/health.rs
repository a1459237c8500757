//! What this replica's poller is doing, for `/readyz`, `/healthz` and the logs.
//!
//! The supervisor writes it; the admin listener reads it. `Stopped` is the one state that
//! fails the probes: the poller's supervisor ended while the bridge was not shutting down, so
//! this replica can never poll again and should be restarted (a crashed *engine* is not that:
//! the supervisor has released the lease and restarts it, see [`super::supervisor`]).

use std::sync::{Arc, Mutex, OnceLock};

use crate::provider::auth::CanRead;

/// The poller's state on this replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `upstream.enabled = false`.
    Disabled,
    /// Waiting for the state bucket.
    Starting,
    /// Another replica holds the lease (or none does yet).
    Standby,
    /// This replica holds the lease and its engine runs.
    Polling,
    /// The engine stopped or panicked; the lease is released and a restart is pending.
    Restarting,
    /// The supervisor itself is gone: this replica will never poll again.
    Stopped,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Disabled => "disabled",
            Status::Starting => "starting",
            Status::Standby => "standby",
            Status::Polling => "polling",
            Status::Restarting => "restarting",
            Status::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct State {
    status: Status,
    restarts: u64,
    consecutive_failures: u32,
}

/// Shared, cheap to clone.
#[derive(Debug, Clone)]
pub struct PollerHealth {
    inner: Arc<Mutex<State>>,
    /// The provider client's session, once the poller has one.
    reads: Arc<OnceLock<CanRead>>,
}

impl PollerHealth {
    pub fn new(status: Status) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State {
                status,
                restarts: 0,
                consecutive_failures: 0,
            })),
            reads: Arc::new(OnceLock::new()),
        }
    }

    /// Reports, from now on, whether the poller's provider client can read.
    pub fn watch_reads(&self, can_read: CanRead) {
        let _ = self.reads.set(can_read);
    }

    /// False while the provider cannot be read at all (no usable login).
    pub fn can_read(&self) -> bool {
        self.reads.get().is_none_or(CanRead::get)
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state)
    }

    pub fn set(&self, status: Status) {
        self.with(|s| s.status = status);
    }

    pub fn status(&self) -> Status {
        self.with(|s| s.status)
    }

    /// Engine restarts since the process started.
    pub fn restarts(&self) -> u64 {
        self.with(|s| s.restarts)
    }

    /// Engine failures since the last term that ran long enough to count as healthy.
    pub fn consecutive_failures(&self) -> u32 {
        self.with(|s| s.consecutive_failures)
    }

    /// An engine term failed; `consecutive` counts the failures in a row.
    pub(super) fn failed(&self, consecutive: u32) {
        self.with(|s| {
            s.status = Status::Restarting;
            s.restarts += 1;
            s.consecutive_failures = consecutive;
        });
    }

    /// A term ended without failure (lease lost, shutdown).
    pub(super) fn healthy(&self) {
        self.with(|s| s.consecutive_failures = 0);
    }

    /// For `/readyz` and `/healthz`: `None` when fine, else why not.
    pub fn problem(&self) -> Option<&'static str> {
        (self.status() == Status::Stopped).then_some("poller: stopped")
    }

    /// One line for `/readyz`: `poller: polling` (with restarts when there were any, and
    /// `(cannot read the provider)` while no login gives a usable token). Not a probe
    /// failure: the webhook listener of this replica still works.
    pub fn describe(&self) -> String {
        let s = self.with(|s| *s);
        let mut line = match s.restarts {
            0 => format!("poller: {}", s.status.label()),
            n => format!("poller: {} (engine restarts: {n})", s.status.label()),
        };
        if !self.can_read() {
            line.push_str(" (cannot read the provider)");
        }
        line
    }
}
