//! `tail`: follow the events stream live, until shutdown: one JSON line per event (as stored,
//! through the replay guard), or one readable line ([`Lines::Human`], `event_line`).
//!
//! Same ordered consumer and filters as replay, starting with new events (or `--since`). The
//! consumer recreates itself after a server restart or a missed heartbeat; an error it cannot
//! hide is logged and reading resumes after a short pause, so tail survives NATS outages.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::Client;
use tokio_util::sync::CancellationToken;

use super::event_line::{self, Style};
use super::filter::Filter;
use super::output::{self, NdjsonWriter, OutputError, Sink};
use super::source::{self, Options, SourceError, Start};
use super::visible;
use crate::config::NatsConfig;
use esim_events::Event;

/// Pause after a read error before reading again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why tail stopped other than by shutdown.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// How each event is written.
#[derive(Debug, Clone, Copy)]
pub enum Lines {
    /// The payload as stored (guarded), one line each.
    Json,
    /// One readable line; a payload that is no event of ours falls back to its JSON line.
    Human(Style),
}

/// Writes every selected event from `start` on to `sink` (flushed per line) until `shutdown`
/// or until the reader of the output goes away; returns how many events were written.
pub async fn tail(
    client: &Client,
    nats: &NatsConfig,
    filter: &Filter,
    start: Start,
    (sink, lines): (Sink, Lines),
    shutdown: &CancellationToken,
) -> Result<u64, TailError> {
    let js = jetstream::new(client.clone());
    let opts = Options {
        stream: &nats.stream,
        subjects: filter.subjects(&nats.subject_prefix),
        start,
        bound: None,
        headers_only: false,
    };
    let mut history = source::open(&js, opts).await?;
    let mut writer = NdjsonWriter::new(sink, true);
    let mut written = 0;
    loop {
        let next = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            next = history.next() => next,
        };
        let (message, sequence) = match next {
            Ok(Some(delivered)) => (delivered.message, delivered.sequence),
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "tail: reading failed; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(RETRY_AFTER) => continue,
                }
            }
        };
        if !filter.accepts(message.headers.as_ref(), &message.payload) {
            continue;
        }
        let human = match lines {
            Lines::Human(style) => readable(&message, sequence, style),
            Lines::Json => None,
        };
        let wrote = match human {
            Some(line) => writer.write_text(&line).await,
            None => writer.write(&message.payload).await,
        };
        match wrote {
            Ok(()) => written += 1,
            Err(e) if output::is_closed(&e) => return Ok(written),
            Err(e) => return Err(e.into()),
        }
    }
    match writer.finish().await {
        Ok(_) => Ok(written),
        Err(e) if output::is_closed(&e) => Ok(written),
        Err(e) => Err(e.into()),
    }
}

/// The readable line for a stored event; `None` if the payload is no event this version reads.
fn readable(message: &jetstream::Message, sequence: u64, style: Style) -> Option<String> {
    let event: Event = serde_json::from_slice(&message.payload).ok()?;
    let stored_at = message.info().map(|i| i.published).ok()?;
    let plain = event_line::event_line(sequence, stored_at, &event, Style { color: false });
    // Text the stream carries (a product name) may hold control characters: then the line is
    // shown escaped and without colour.
    if !visible::is_safe(plain.as_bytes(), false) {
        return Some(visible::text(&plain).into_owned());
    }
    match style.color {
        true => Some(event_line::event_line(sequence, stored_at, &event, style)),
        false => Some(plain),
    }
}
