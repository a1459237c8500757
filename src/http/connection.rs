//! One accepted connection: HTTP/1 under the header timeout, closed at once when preempted for
//! a newcomer, drained gracefully on shutdown, and lingering after an answer that left the
//! request body unread.
//!
//! Lingering is nginx's "lingering close": send FIN after the answer, then read and discard
//! what the client still sends, for at most [`LINGER_TIME`] and [`LINGER_BYTES`]. Closing a
//! socket with unread input sends a reset, and a reset can destroy the answer before the
//! client reads it: a provider would see a connection error instead of the 413 and retry.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::pool::Slot;
use super::request::{count, ConnState, RequestService, Shared};
use super::RETRY_AFTER_SECS;

/// Longest time a connection lingers after an early answer.
pub const LINGER_TIME: Duration = Duration::from_secs(2);
/// Most bytes read and discarded while lingering.
pub const LINGER_BYTES: usize = 16 * 1024 * 1024;

/// Serves one connection until it ends, is preempted, or shutdown has drained it.
pub(super) async fn serve_connection(
    stream: TcpStream,
    slot: Slot,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let mut preempted = Box::pin(slot.preempted());
    let state = ConnState::new(slot);
    let service = RequestService {
        shared: shared.clone(),
        conn: state.clone(),
    };
    let mut conn = shared.http.serve_connection(TokioIo::new(stream), service);
    let mut draining = false;
    let ended = loop {
        tokio::select! {
            ended = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => break ended,
            () = &mut preempted => {
                count(shared.name, "connection_preempted");
                return; // dropping the connection closes the socket
            }
            () = shutdown.cancelled(), if !draining => {
                draining = true;
                std::pin::Pin::new(&mut conn).graceful_shutdown();
            }
        }
    };
    if let Err(e) = ended {
        let kind = match error_kind(&e) {
            "header_timeout" if state.has_served() => "idle_timeout",
            kind => kind,
        };
        count(shared.name, kind);
        tracing::debug!(
            listener = shared.name,
            kind,
            "connection closed on a protocol error"
        );
        return;
    }
    let mut stream = conn.into_parts().io.into_inner();
    if state.wants_linger() {
        linger(stream, preempted).await;
    } else {
        let _ = stream.shutdown().await;
    }
}

/// Refuses a connection beyond the cap without waiting: a fixed 503 if the socket takes it
/// at once, then close.
pub(super) fn refuse(stream: TcpStream, listener: &'static str) {
    count(listener, "connection_refused");
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: {RETRY_AFTER_SECS}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// FIN after the answer, then discard input until the client closes or a bound is reached.
async fn linger(
    mut stream: TcpStream,
    mut preempted: std::pin::Pin<Box<WaitForCancellationFutureOwned>>,
) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let until = Instant::now() + LINGER_TIME;
    let mut left = LINGER_BYTES;
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let read = tokio::select! {
            () = &mut preempted => return,
            read = tokio::time::timeout_at(until, stream.read(&mut buf)) => read,
        };
        match read {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
            _ => return, // closed by the client, an error, or out of time
        }
        if left == 0 {
            return;
        }
    }
}

/// A fixed label for a connection error (hyper's text is not logged: no request bytes, ever).
fn error_kind(e: &hyper::Error) -> &'static str {
    if e.is_timeout() {
        "header_timeout"
    } else if e.is_parse_too_large() {
        "header_too_large"
    } else if e.is_parse() || e.is_parse_status() {
        "malformed_request"
    } else if e.is_incomplete_message() {
        "incomplete_request"
    } else {
        "connection_error"
    }
}
