//! Follows the events stream from its first message with an ordered consumer (the same reader
//! as `replay`/`tail`), prints each event as it is stored and counts what it printed.
//!
//! The main task drives it: [`Follower::run_until`] while the demo runs, then
//! [`Follower::drain`] after the bridge stopped, so the last events stored are printed before
//! the summary.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::Context;
use time::OffsetDateTime;
use tokio::io::{AsyncWriteExt, Stdout};

use crate::tools::event_line::{self, Style};
use crate::tools::source::{self, Delivered, History, Options, SourceError, Start};
use esim_events::{Event, EventType, Source};

/// Pause after a read error before reading again (the ordered consumer recreates itself).
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Why following stopped early.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("cannot write to stdout: {0}")]
    Stdout(#[from] std::io::Error),
}

/// What was printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub by_type: BTreeMap<EventType, u64>,
    pub webhook: u64,
    pub poll: u64,
    pub inferred: u64,
    /// Stream messages that are not events of this schema (skipped, counted).
    pub unreadable: u64,
    /// The last stream sequence printed.
    pub last_sequence: u64,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.by_type.values().sum()
    }

    fn count(&mut self, event: &Event) {
        *self.by_type.entry(event.event_type).or_default() += 1;
        match event.source {
            Source::Webhook => self.webhook += 1,
            Source::Poll => self.poll += 1,
        }
        if event.data.inferred == Some(true) {
            self.inferred += 1;
        }
    }
}

/// The reader, the output and the counts.
pub struct Follower {
    history: History,
    out: Stdout,
    style: Style,
    tally: Tally,
}

impl Follower {
    /// Opens an ordered consumer on `stream` for `<prefix>.events.>`, from the first message.
    pub async fn open(
        js: &Context,
        stream: &str,
        prefix: &str,
        style: Style,
    ) -> Result<Self, FollowError> {
        let opts = Options {
            stream,
            subjects: vec![format!("{prefix}.events.>")],
            start: Start::All,
            bound: None,
            headers_only: false,
        };
        Ok(Self {
            history: source::open(js, opts).await?,
            out: tokio::io::stdout(),
            style,
            tally: Tally::default(),
        })
    }

    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Prints events as they are stored until `stop` resolves. Read errors are logged and
    /// retried; only a closed stdout ends it early.
    pub async fn run_until(&mut self, stop: impl Future<Output = ()>) -> Result<(), FollowError> {
        let mut stop = std::pin::pin!(stop);
        loop {
            let next = tokio::select! {
                biased;
                () = &mut stop => return Ok(()),
                next = self.history.next() => next,
            };
            match next {
                Ok(Some(delivered)) => self.print(&delivered).await?,
                Ok(None) => return Ok(()), // a follow read never ends; defensive
                Err(e) => {
                    tracing::warn!(error = %e, "demo: reading the stream failed; retrying");
                    tokio::select! {
                        () = &mut stop => return Ok(()),
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                }
            }
        }
    }

    /// Prints what is still unprinted up to stream sequence `last`, for at most `limit`.
    pub async fn drain(&mut self, last: u64, limit: Duration) -> Result<(), FollowError> {
        if self.tally.last_sequence >= last {
            return Ok(());
        }
        let deadline = tokio::time::sleep(limit);
        let mut deadline = std::pin::pin!(deadline);
        while self.tally.last_sequence < last {
            let next = tokio::select! {
                () = &mut deadline => return Ok(()),
                next = self.history.next() => next,
            };
            match next {
                Ok(Some(delivered)) => self.print(&delivered).await?,
                Ok(None) | Err(_) => return Ok(()),
            }
        }
        Ok(())
    }

    async fn print(&mut self, delivered: &Delivered) -> Result<(), FollowError> {
        let sequence = delivered.sequence;
        self.tally.last_sequence = self.tally.last_sequence.max(sequence);
        let message = &delivered.message;
        let Ok(event) = serde_json::from_slice::<Event>(&message.payload) else {
            self.tally.unreadable += 1;
            return Ok(());
        };
        self.tally.count(&event);
        // `History` only yields messages whose metadata parsed; now is a fine stand-in anyway.
        let stored_at = message
            .info()
            .map_or_else(|_| OffsetDateTime::now_utc(), |info| info.published);
        let mut line = event_line::event_line(sequence, stored_at, &event, self.style);
        line.push('\n');
        self.out.write_all(line.as_bytes()).await?;
        self.out.flush().await?;
        Ok(())
    }

    /// Writes `text` (a whole line or several) to the same stdout as the events.
    pub async fn write(&mut self, text: &str) -> Result<(), FollowError> {
        self.out.write_all(text.as_bytes()).await?;
        self.out.flush().await?;
        Ok(())
    }
}
