//! The replay loop: read the stream in order → select → pace → write NDJSON, republish, or
//! only count. One message at a time, so memory stays flat whatever the history size.

use async_nats::jetstream;
use async_nats::Client;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::filter::Filter;
use super::lines::Lines;
use super::output::{self, NdjsonWriter, OutputError, Sink};
use super::pace::Pacer;
use super::parse::Rate;
use super::progress::{Progress, ProgressMode};
use super::republish::{RepublishError, Republisher, Target};
use super::source::{self, Delivered, Options, SourceError, Start};
use super::summary::Summary;
use crate::config::NatsConfig;

/// Why a replay stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Republish(#[from] RepublishError),
}

/// What to replay and how fast.
#[derive(Debug, Clone)]
pub struct Plan {
    pub filter: Filter,
    /// [`Start::All`] or [`Start::Since`].
    pub start: Start,
    /// Stop at the first message stored after this time.
    pub until: Option<OffsetDateTime>,
    pub rate: Option<Rate>,
    pub progress: ProgressMode,
}

impl Plan {
    /// All history, no limits, no progress output.
    pub fn everything() -> Self {
        Self {
            filter: Filter::all(),
            start: Start::All,
            until: None,
            rate: None,
            progress: ProgressMode::Off,
        }
    }
}

/// Where replayed events go; with `dry_run`, nowhere (they are only counted).
#[derive(Default)]
pub struct Sinks {
    pub output: Option<Sink>,
    /// How `output` gets each event: stored JSON (NDJSON) or readable lines.
    pub lines: Lines,
    pub republish: Option<Target>,
    pub dry_run: bool,
}

/// Replays the events stream named in `nats` until its end as of now, `until`, or `shutdown`.
pub async fn replay(
    client: &Client,
    nats: &NatsConfig,
    plan: Plan,
    sinks: Sinks,
    shutdown: &CancellationToken,
) -> Result<Summary, ReplayError> {
    let mut js = jetstream::new(client.clone());
    js.set_timeout(nats.ack_timeout);
    let opts = Options {
        stream: &nats.stream,
        subjects: plan.filter.subjects(&nats.subject_prefix),
        start: plan.start,
        bound: Some(plan.until),
        headers_only: false,
    };
    let history = source::open(&js, opts).await?;
    let progress = Progress::start("replay", history.pending_at_start(), plan.progress);
    let mut run = Run {
        filter: plan.filter,
        pacer: plan.rate.map(Pacer::new),
        writer: None,
        lines: sinks.lines,
        republisher: None,
        summary: Summary::default(),
    };
    if !sinks.dry_run {
        run.writer = sinks.output.map(|sink| NdjsonWriter::new(sink, false));
        run.republisher = sinks.republish.map(|target| {
            Republisher::new(client.clone(), js.clone(), target, &nats.subject_prefix)
        });
    }
    let outcome = run.drive(history, progress, shutdown).await;
    let finished = run.finish().await;
    outcome.and(finished).map(|()| run.summary)
}

struct Run {
    filter: Filter,
    pacer: Option<Pacer>,
    writer: Option<NdjsonWriter>,
    lines: Lines,
    republisher: Option<Republisher>,
    summary: Summary,
}

impl Run {
    async fn drive(
        &mut self,
        mut history: source::History,
        mut progress: Progress,
        shutdown: &CancellationToken,
    ) -> Result<(), ReplayError> {
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        let outcome = loop {
            let next = tokio::select! {
                biased;
                () = &mut cancelled => break self.interrupted(),
                next = history.next() => next,
            };
            let delivered = match next {
                Ok(Some(delivered)) => delivered,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e.into()),
            };
            self.summary.scanned += 1;
            let (headers, payload) = (
                delivered.message.headers.as_ref(),
                &delivered.message.payload,
            );
            if self.filter.accepts(headers, payload) {
                if let Some(pacer) = &mut self.pacer {
                    tokio::select! {
                        biased;
                        () = &mut cancelled => break self.interrupted(),
                        () = pacer.wait() => {}
                    }
                }
                match self.emit(&delivered).await {
                    Ok(true) => {}
                    Ok(false) => {
                        self.summary.output_closed = true;
                        break Ok(());
                    }
                    Err(e) => break Err(e),
                }
            }
            progress.update(self.summary.scanned, self.summary.matched);
        };
        progress.finish();
        outcome
    }

    fn interrupted(&mut self) -> Result<(), ReplayError> {
        self.summary.interrupted = true;
        Ok(())
    }

    /// Counts, writes and republishes one event; `false` if the output reader went away.
    async fn emit(&mut self, delivered: &Delivered) -> Result<bool, ReplayError> {
        let message = &delivered.message;
        self.summary
            .count(message.headers.as_ref(), &message.subject);
        if let Some(writer) = &mut self.writer {
            let readable = self.lines.readable(message, delivered.sequence);
            let wrote = match readable {
                Some(line) => writer.write_text(&line).await,
                None => writer.write(&message.payload).await,
            };
            match wrote {
                Ok(()) => {}
                Err(e) if output::is_closed(&e) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(republisher) = &mut self.republisher {
            republisher.send(message, delivered.sequence).await?;
        }
        Ok(true)
    }

    async fn finish(&mut self) -> Result<(), ReplayError> {
        if let Some(writer) = &mut self.writer {
            match writer.finish().await {
                Ok(redacted) => self.summary.redacted = redacted,
                Err(e) if output::is_closed(&e) => self.summary.output_closed = true,
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(republisher) = &mut self.republisher {
            self.summary.already_present = republisher.finish().await?;
            // The writer, when there is one, counted the same payloads.
            self.summary.redacted = self.summary.redacted.max(republisher.redacted());
        }
        Ok(())
    }
}
