//! HTTP/1 serving under hard limits, so a client without a secret can neither stall the
//! listener nor exhaust its memory.
//!
//! - [`serve`]: the accept loop. Open connections are capped; at the cap the connection idle
//!   the longest (no request in progress) is closed for the newcomer, and only if none is idle
//!   is the newcomer refused (a fixed 503, then closed). The loop itself never waits for a
//!   connection, so a flood cannot starve it.
//! - `connection`: one connection. Its request line and headers must arrive within the header
//!   timeout (also before each kept-alive request); after an answer that left the body unread
//!   it lingers briefly (as nginx does), so a client still sending sees the answer, not a reset.
//! - `request`: one request. It takes a request slot (at the cap the oldest request still
//!   sending its body gives way, else 503 + `Retry-After` at once: nothing queues), reads the
//!   body into one buffer within the size limit, and runs under one deadline from its headers
//!   to its answer ([`Deadline`], so handlers stop in time too).
//!
//! Worst-case memory for request data is [`Limits::worst_case_buffered`]; config validation
//! checks it against `webhook.max_buffered_bytes`. Nothing here reads the configuration: the
//! config converts itself into [`Limits`].

mod body;
mod connection;
mod pool;
mod request;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use pool::Pool;
use request::Shared;

/// Per-connection allowance for hyper's read and write buffers (the header size limit is half
/// of it), counted in the memory bound.
pub const CONNECTION_BUFFER_BYTES: usize = 32 * 1024;

/// Seconds a sender should wait before retrying after a 503 (the listener's and the handlers').
pub const RETRY_AFTER_SECS: u64 = 5;

/// When the current request must be answered; handlers finish their work before it.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub tokio::time::Instant);

/// The limits one listener enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request line and headers must arrive within this.
    pub header_timeout: Duration,
    /// From a request's headers to its answer.
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_concurrency: usize,
    pub max_connections: usize,
}

impl Limits {
    /// The admin listener's: probes and scrapes are small GETs.
    pub fn admin() -> Self {
        Self {
            header_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 16 * 1024,
            max_concurrency: 16,
            max_connections: 64,
        }
    }

    /// Worst-case bytes held for request data: every request slot with a full body plus every
    /// connection's buffers. `None` on overflow.
    pub fn worst_case_buffered(&self) -> Option<u64> {
        let bodies = u64::try_from(self.max_concurrency)
            .ok()?
            .checked_mul(u64::try_from(self.max_body_bytes).ok()?)?;
        let connections = u64::try_from(self.max_connections)
            .ok()?
            .checked_mul(u64::try_from(CONNECTION_BUFFER_BYTES).ok()?)?;
        bodies.checked_add(connections)
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown`; then stops accepting, closes
/// idle connections, answers requests still receiving their body with 503, and lets the others
/// finish (the caller bounds how long).
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let connections = Pool::new(limits.max_connections);
    let shared = Arc::new(Shared::new(name, router, &limits));
    let tasks = TaskTracker::new();
    let mut accept_errors = AcceptErrors::default();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                accept_errors.pause(name, &e).await;
                continue;
            }
        };
        match connections.admit() {
            Ok(slot) => {
                let (shared, shutdown) = (shared.clone(), shutdown.clone());
                tasks.spawn(connection::serve_connection(stream, slot, shared, shutdown));
            }
            Err(pool::Full) => connection::refuse(stream, name),
        }
    }
    drop(listener);
    // Idle connections close, and requests still receiving a body are answered 503 now: only
    // work that can finish quickly is waited for.
    connections.preempt_yielding();
    shared.preempt_body_readers();
    tasks.close();
    tasks.wait().await;
}

/// Accept errors: per-connection ones are skipped, resource exhaustion (`EMFILE`) pauses the
/// loop briefly instead of spinning; a warning at most every 10 s.
#[derive(Default)]
struct AcceptErrors {
    warned: Option<Instant>,
}

impl AcceptErrors {
    async fn pause(&mut self, name: &'static str, e: &std::io::Error) {
        use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
        if matches!(
            e.kind(),
            ConnectionAborted | ConnectionRefused | ConnectionReset
        ) {
            return;
        }
        request::count(name, "accept_error");
        if self
            .warned
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            tracing::warn!(listener = name, error = %e, "cannot accept connections; pausing");
            self.warned = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
