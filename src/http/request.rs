//! One request under the listener's limits: a request slot, the body read within the size
//! limit and the deadline, then the router within what is left of the deadline.
//!
//! Refusals are fixed answers that never echo the request; those that leave the body unread
//! close the connection and ask it to linger (see `connection`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use tokio::time::Instant;
use tower::ServiceExt;

use super::body::{self, BodyError};
use super::pool::{Pool, Slot};
use super::{Deadline, Limits, CONNECTION_BUFFER_BYTES, RETRY_AFTER_SECS};

/// How long past the deadline a handler may take before the listener answers for it; handlers
/// see [`Deadline`] and normally answer first.
const BACKSTOP: Duration = Duration::from_millis(250);

/// What every connection of one listener shares.
pub(super) struct Shared {
    pub(super) name: &'static str,
    pub(super) http: http1::Builder,
    router: Router,
    requests: Arc<Pool>,
    request_timeout: Duration,
    max_body_bytes: usize,
}

impl Shared {
    pub(super) fn new(name: &'static str, router: Router, limits: &Limits) -> Self {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(CONNECTION_BUFFER_BYTES / 2);
        Self {
            name,
            http,
            router,
            requests: Pool::new(limits.max_concurrency),
            request_timeout: limits.request_timeout,
            max_body_bytes: limits.max_body_bytes,
        }
    }
}

impl Shared {
    /// Gives every request still receiving its body a 503 (on shutdown).
    pub(super) fn preempt_body_readers(&self) {
        self.requests.preempt_yielding();
    }
}

/// What a connection and the requests on it share.
pub(super) struct ConnState {
    slot: Mutex<Slot>,
    /// Set when an answer left request bytes unread: the connection lingers before closing.
    linger: AtomicBool,
    /// Set once a request arrived: a later header timeout is an idle kept-alive connection.
    served: AtomicBool,
}

impl ConnState {
    pub(super) fn new(slot: Slot) -> Arc<Self> {
        Arc::new(Self {
            slot: Mutex::new(slot),
            linger: AtomicBool::new(false),
            served: AtomicBool::new(false),
        })
    }

    pub(super) fn wants_linger(&self) -> bool {
        self.linger.load(Ordering::Relaxed)
    }

    pub(super) fn has_served(&self) -> bool {
        self.served.load(Ordering::Relaxed)
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps the connection busy (not preemptible) while a request is in progress.
struct Busy<'a>(&'a ConnState);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        // If this fails, the connection was preempted and closes; nothing more to do here.
        let _ = self.0.slot().yielding();
    }
}

/// The hyper service of one connection.
#[derive(Clone)]
pub(super) struct RequestService {
    pub(super) shared: Arc<Shared>,
    pub(super) conn: Arc<ConnState>,
}

impl hyper::service::Service<Request<Incoming>> for RequestService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let (shared, conn) = (self.shared.clone(), self.conn.clone());
        Box::pin(async move { Ok(handle(&shared, &conn, req).await) })
    }
}

/// Why the listener answered instead of the router.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// Every request slot busy.
    Shed,
    /// A newer request took this one's slot while its body was still arriving.
    Preempted,
    TooLarge,
    /// The body did not arrive before the deadline.
    BodyTimeout,
    BodyRead,
    /// The handler did not answer before the deadline.
    Timeout,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Self::Shed => "request_shed",
            Self::Preempted => "request_preempted",
            Self::TooLarge => "too_large",
            Self::BodyTimeout => "body_timeout",
            Self::BodyRead => "body_read",
            Self::Timeout => "request_timeout",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::Shed | Self::Preempted | Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::BodyRead => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether the request body may still be arriving (then the connection closes, lingering).
    fn body_unread(self) -> bool {
        !matches!(self, Self::Timeout | Self::BodyRead)
    }
}

async fn handle(shared: &Shared, conn: &ConnState, req: Request<Incoming>) -> Response<Body> {
    let deadline = Instant::now() + shared.request_timeout;
    conn.served.store(true, Ordering::Relaxed);
    if conn.slot().busy().is_err() {
        return refuse(shared, conn, Refusal::Preempted);
    }
    let _busy = Busy(conn);
    let Ok(mut slot) = shared.requests.admit() else {
        return refuse(shared, conn, Refusal::Shed);
    };
    let (mut parts, body) = req.into_parts();
    let read = tokio::select! {
        read = body::read(body, shared.max_body_bytes) => read,
        () = slot.preempted() => return refuse(shared, conn, Refusal::Preempted),
        () = tokio::time::sleep_until(deadline) => return refuse(shared, conn, Refusal::BodyTimeout),
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge { .. }) => return refuse(shared, conn, Refusal::TooLarge),
        Err(BodyError::Read(_)) => return refuse(shared, conn, Refusal::BodyRead),
    };
    if slot.busy().is_err() {
        return refuse(shared, conn, Refusal::Preempted);
    }
    parts.extensions.insert(Deadline(deadline));
    let routed = shared
        .router
        .clone()
        .oneshot(Request::from_parts(parts, Body::from(bytes)));
    match tokio::time::timeout_at(deadline + BACKSTOP, routed).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) => refuse(shared, conn, Refusal::Timeout),
    }
}

fn refuse(shared: &Shared, conn: &ConnState, why: Refusal) -> Response<Body> {
    count(shared.name, why.reason());
    tracing::debug!(
        listener = shared.name,
        reason = why.reason(),
        "request refused by the listener"
    );
    let status = why.status();
    let mut response = Response::new(Body::from(status.canonical_reason().unwrap_or("refused")));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
    }
    if why.body_unread() {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        conn.linger.store(true, Ordering::Relaxed);
    }
    response
}

/// Counts one refusal or shed connection by listener and reason.
pub(super) fn count(listener: &'static str, reason: &'static str) {
    metrics::counter!("esim_bridge_http_refused_total", "listener" => listener, "reason" => reason)
        .increment(1);
}
