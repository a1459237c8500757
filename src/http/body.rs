//! Reading a request body into one buffer, never past the size limit.
//!
//! The buffer is allocated once when the length is declared (no copy, no growth past the
//! limit), else it grows with the data up to the limit. Time limits are the caller's: it races
//! this future against the request deadline and preemption, and dropping it frees the buffer.

use axum::body::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("body could not be read")]
    Read(#[source] hyper::Error),
}

/// The declared length if any (`Content-Length`, as hyper validated it).
pub fn declared_len(body: &Incoming) -> Option<u64> {
    body.size_hint().exact()
}

/// Reads `body` whole, failing as soon as it would exceed `limit` bytes.
pub async fn read(mut body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    let too_large = BodyError::TooLarge { limit };
    let declared = declared_len(&body);
    let capacity = match declared.map(usize::try_from) {
        Some(Ok(n)) if n <= limit => n,
        Some(_) => return Err(too_large),
        None => 0,
    };
    let mut buf = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Read)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing we use
        };
        let needed = buf.len().saturating_add(data.len());
        if needed > limit {
            return Err(too_large);
        }
        if needed > buf.capacity() {
            // Grow by doubling, but never past the limit.
            let target = needed.max(buf.capacity().saturating_mul(2)).min(limit);
            buf.reserve_exact(target.saturating_sub(buf.len()));
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}
