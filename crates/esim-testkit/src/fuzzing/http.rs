//! A bounded HTTP/1.1 request parser for fuzz inputs: raw bytes → method, path, headers, body.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// At most this many headers are parsed (more: the input is not a request).
const MAX_HEADERS: usize = 64;
/// Bodies longer than this are cut (the listener's own limit is larger; fuzz inputs are not).
pub const MAX_BODY: usize = 256 * 1024;

/// One parsed request.
#[derive(Debug, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Parses `raw` as one request; the body is what follows the headers, cut at `Content-Length`
/// when that is a smaller number. `None` if the head is incomplete or invalid.
pub fn parse(raw: &[u8]) -> Option<Request> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    let httparse::Status::Complete(head_len) = req.parse(raw).ok()? else {
        return None;
    };
    let mut headers = HeaderMap::new();
    for h in req.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(h.value).ok()?;
        headers.append(name, value);
    }
    let rest = raw.get(head_len..).unwrap_or_default();
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let len = rest.len().min(declared).min(MAX_BODY);
    Some(Request {
        method: req.method.unwrap_or_default().to_owned(),
        path: req.path.unwrap_or_default().to_owned(),
        headers,
        body: rest[..len].to_vec(),
    })
}
