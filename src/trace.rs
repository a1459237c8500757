//! W3C trace context (issue 19): a webhook's `traceparent` is continued by the bridge's span for
//! that request, a webhook without one and every poll observation start a trace of their own,
//! and every message the bridge stores carries the `traceparent` of the span that stored it, so
//! a consumer continues the same trace. Spans are exported over OTLP only when asked
//! (`telemetry`, `OTEL_EXPORTER_OTLP_ENDPOINT`); the ids exist either way.
//!
//! Only `traceparent` travels: a request's `tracestate` is vendor text the provider chose, and
//! nothing the provider chose is copied into a header of a stored message.

use std::collections::HashMap;

use axum::http::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub use esim_events::schema::header::TRACEPARENT;

/// Makes `span` the child of the trace a request's `traceparent` names. An absent, repeated or
/// invalid header (the propagator parses it by the W3C rules) leaves `span` the root of a new
/// trace.
pub fn continue_request(span: &tracing::Span, headers: &HeaderMap) {
    if headers.get_all(TRACEPARENT).iter().count() != 1 {
        return;
    }
    let extracted = TraceContextPropagator::new().extract(&Request(headers));
    let remote = extracted.span().span_context().clone();
    if !remote.is_valid() {
        return;
    }
    let parent = SpanContext::new(
        remote.trace_id(),
        remote.span_id(),
        remote.trace_flags(),
        true,
        TraceState::default(),
    );
    // Only fails for a span that is disabled (no OpenTelemetry layer): nothing to continue.
    let _ = span.set_parent(Context::new().with_remote_span_context(parent));
}

/// The `traceparent` of `span`, or `None` without a trace (no OpenTelemetry layer installed).
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// A request's headers as the propagator reads them.
struct Request<'a>(&'a HeaderMap);

impl Extractor for Request<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use tracing_subscriber::layer::SubscriberExt;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn with_spans<T>(f: impl FnOnce() -> T) -> T {
        let layer = tracing_opentelemetry::layer().with_tracer(crate::otlp::tracer());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, f)
    }

    fn parts(tp: &str) -> Vec<String> {
        tp.split('-').map(str::to_owned).collect()
    }

    #[test]
    fn a_requests_trace_is_continued_by_a_child_and_its_tracestate_is_not() {
        let mut headers = HeaderMap::new();
        let caller = format!("00-{TRACE}-00f067aa0ba902b7-01");
        headers.insert(TRACEPARENT, HeaderValue::from_str(&caller).unwrap());
        headers.insert("tracestate", HeaderValue::from_static("lpa=1$h$MID"));
        let tp = with_spans(|| {
            let span = tracing::info_span!("webhook");
            continue_request(&span, &headers);
            traceparent(&span)
        })
        .expect("a trace");
        let p = parts(&tp);
        assert_eq!((p[0].as_str(), p[1].as_str()), ("00", TRACE), "{tp}");
        assert_ne!(p[2], "00f067aa0ba902b7", "the bridge's own span: {tp}");
        let stored = with_spans(|| {
            let span = tracing::info_span!("webhook");
            continue_request(&span, &headers);
            let cx = span.context();
            let state = cx.span().span_context().trace_state().header();
            state
        });
        assert_eq!(stored, "", "no tracestate travels");
    }

    #[test]
    fn a_request_without_a_valid_single_traceparent_and_each_observation_start_new_traces() {
        let mut traces = std::collections::HashSet::new();
        for value in [None, Some("00-zz-00f067aa0ba902b7-01"), Some("garbage")] {
            let mut headers = HeaderMap::new();
            if let Some(v) = value {
                headers.insert(TRACEPARENT, HeaderValue::from_static(v));
            }
            let tp = with_spans(|| {
                let span = tracing::info_span!("webhook");
                continue_request(&span, &headers);
                traceparent(&span)
            })
            .expect("a new trace");
            traces.insert(parts(&tp)[1].clone());
        }
        let mut twice = HeaderMap::new();
        let caller = HeaderValue::from_str(&format!("00-{TRACE}-00f067aa0ba902b7-01")).unwrap();
        twice.append(TRACEPARENT, caller.clone());
        twice.append(TRACEPARENT, caller);
        let tp = with_spans(|| {
            let span = tracing::info_span!("webhook");
            continue_request(&span, &twice);
            traceparent(&span)
        })
        .expect("a new trace");
        assert_ne!(
            parts(&tp)[1],
            TRACE,
            "a repeated traceparent is not trusted"
        );
        // An observation is a root even inside another span (the poller's own spans).
        let (outer, inner) = with_spans(|| {
            let outer = tracing::info_span!("poller");
            let _entered = outer.enter();
            let observation = tracing::info_span!(parent: None, "poll_observation");
            (traceparent(&outer), traceparent(&observation))
        });
        let (outer, inner) = (outer.expect("a trace"), inner.expect("a trace"));
        assert_ne!(parts(&outer)[1], parts(&inner)[1], "{outer} {inner}");
        traces.insert(parts(&outer)[1].clone());
        traces.insert(parts(&inner)[1].clone());
        assert_eq!(traces.len(), 5, "one trace each: {traces:?}");
        assert_eq!(traceparent(&tracing::info_span!("no layer")), None);
    }
}
