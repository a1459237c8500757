//! Logs (tracing, text or JSON, to stderr) and the Prometheus metrics recorder.

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{log_filter, LogConfig, LogFormat};

/// Whether text logs on stderr may carry ANSI colour: on a terminal, unless `NO_COLOR` is set
/// to anything but the empty string.
fn colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global tracing subscriber: logs, and the spans of [`crate::trace`].
///
/// `RUST_LOG` overrides `log.level` (which the config loader has already checked). Text logs
/// are coloured only on a terminal, and never with `NO_COLOR` set (no-color.org), so a log file
/// or collector gets no escape codes. The log level filters logs only: the bridge's spans at
/// `info` always get trace ids (and are exported when [`crate::otlp`] is asked to), whatever
/// is logged. Calling it twice is harmless (the second call keeps the first subscriber).
pub fn init_logs(cfg: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| log_filter(&cfg.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(colour(std::io::stderr().is_terminal()))
        .with_writer(std::io::stderr);
    let logs = match cfg.format {
        LogFormat::Text => fmt.with_filter(filter).boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).with_filter(filter).boxed(),
    };
    let spans = tracing_opentelemetry::layer()
        .with_tracer(crate::otlp::tracer())
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_filter(filter_fn(|meta| {
            // The bridge's own spans; log events stay in the logs.
            meta.is_span()
                && meta.target().starts_with("esim_bridge")
                && *meta.level() <= Level::INFO
        }));
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init();
    if installed.is_ok() {
        crate::otlp::say_if_refused();
    }
}

/// Publish latency buckets (seconds): a local JetStream ack is ~0.2–2 ms, a cluster a few ms.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Detection lag buckets (seconds): from a webhook's instant to a poller's 6 h lifecycle cadence.
const LAG_BUCKETS: [f64; 11] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0, 604800.0,
];

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // An exact name wins over the suffix match. Bucket lists are non-empty constants, so
        // neither call fails; should one, the default (summary) rendering is used instead.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("esim_bridge_detection_lag_seconds".into()),
                &LAG_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Only fails if another recorder is already installed (e.g. an embedding program's);
        // then our handle simply renders nothing, which is visible on /metrics.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// An error with its causes, `outer: cause: root cause`, for a log field or a message.
///
/// The bridge's errors say what failed at their own level and keep the cause as their
/// `source()`; logs print the whole chain with `error = %ErrorChain(&e)`. A cause whose text
/// the level above already ends with (async-nats errors print their source themselves) is not
/// repeated.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut previous = self.0.to_string();
        f.write_str(&previous)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !previous.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            previous = text;
            next = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorChain;

    #[derive(Debug, thiserror::Error)]
    #[error("poll state not stored")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("write failed: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn the_chain_is_printed_once_each() {
        let e = Outer(Middle(std::io::Error::other("timed out")));
        let shown = ErrorChain(&e).to_string();
        assert_eq!(shown, "poll state not stored: write failed: timed out");
    }
}
