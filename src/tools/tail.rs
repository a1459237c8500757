//! `tail`: follow the events stream live, until shutdown: one JSON line per event (as stored,
//! through the replay guard), or one readable line ([`Lines::Human`]).
//!
//! Same ordered consumer and filters as replay, starting with new events (or `--since`). The
//! consumer recreates itself after a server restart or a missed heartbeat; an error it cannot
//! hide is logged and reading resumes after a short pause, so tail survives NATS outages.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::Client;
use tokio_util::sync::CancellationToken;

use super::filter::Filter;
use super::lines::Lines;
use super::output::{self, NdjsonWriter, OutputError, Sink};
use super::source::{self, Options, SourceError, Start};
use crate::config::NatsConfig;

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
        let wrote = match lines.readable(&message, sequence) {
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
