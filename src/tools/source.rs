//! Reading the events stream in order: one ephemeral ordered pull consumer, streamed, never
//! collected, so memory stays flat whatever the history size.
//!
//! A bounded read (replay) ends at the first of: the stream's last sequence as of the start
//! (so a busy stream cannot keep a replay running forever), the first message stored after
//! `until`, or the server reporting nothing more pending for the filter. A follow read (tail)
//! never ends by itself.

use std::time::Duration;

use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use async_nats::jetstream::consumer::{self, DeliverPolicy};
use async_nats::jetstream::{self, context, stream, Context};
use futures::StreamExt;
use time::OffsetDateTime;

/// A bounded read that receives nothing for this long although the server said more was
/// pending gives up rather than hang (the connection is down, or history vanished).
const STALL_LIMIT: Duration = Duration::from_secs(30);

/// Why the stream cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("stream {stream}: {source}")]
    Stream {
        stream: String,
        source: context::GetStreamError,
    },
    #[error("stream {stream}: cannot read its state: {source}")]
    Info {
        stream: String,
        source: stream::InfoError,
    },
    #[error("cannot create a consumer on stream {stream}: {source}")]
    Consumer {
        stream: String,
        source: stream::ConsumerError,
    },
    #[error("cannot start reading: {0}")]
    Start(#[from] consumer::StreamError),
    #[error("reading the stream failed: {0}")]
    Read(#[from] consumer::pull::OrderedError),
    #[error("a message without JetStream metadata: {0}")]
    Metadata(String),
    #[error(
        "no message for {0:?} although the server reported more pending; output may be incomplete"
    )]
    Stalled(Duration),
}

/// Where reading starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The oldest message still in the stream.
    All,
    /// Only messages stored after the consumer is created.
    New,
    /// The first message stored at or after this time.
    Since(OffsetDateTime),
}

impl Start {
    fn policy(self) -> DeliverPolicy {
        match self {
            Self::All => DeliverPolicy::All,
            Self::New => DeliverPolicy::New,
            Self::Since(start_time) => DeliverPolicy::ByStartTime { start_time },
        }
    }
}

/// What the reader needs to know about each stream.
pub struct Options<'a> {
    pub stream: &'a str,
    pub subjects: Vec<String>,
    pub start: Start,
    /// `Some` for a bounded read (replay), with an optional stop time; `None` to follow.
    pub bound: Option<Option<OffsetDateTime>>,
    /// Deliver headers only. Replay's dry runs do not use it: for events of a few hundred
    /// bytes it costs the server more CPU per message than the payload bytes it saves.
    pub headers_only: bool,
}

/// One message with its stream sequence.
pub struct Delivered {
    pub message: jetstream::Message,
    pub sequence: u64,
}

/// The end of a bounded read, fixed when it starts.
#[derive(Debug, Clone, Copy)]
struct Bound {
    last_sequence: u64,
    until: Option<OffsetDateTime>,
}

/// An ordered read of the stream.
pub struct History {
    messages: Option<Ordered>,
    bound: Option<Bound>,
    pending: u64,
    finished: bool,
}

/// Opens the read; for a bounded read, an empty selection opens already finished.
pub async fn open(js: &Context, opts: Options<'_>) -> Result<History, SourceError> {
    let name = opts.stream.to_owned();
    let mut stream = js.get_stream(opts.stream).await.map_err(|source| {
        let stream = name.clone();
        SourceError::Stream { stream, source }
    })?;
    let state = stream.info().await.map_err(|source| {
        let stream = name.clone();
        SourceError::Info { stream, source }
    })?;
    let state = state.state.clone();
    let bound = opts.bound.map(|until| Bound {
        last_sequence: state.last_sequence,
        until,
    });
    if bound.is_some() && state.messages == 0 {
        return Ok(History::empty(bound));
    }
    let mut config = OrderedConfig {
        deliver_policy: opts.start.policy(),
        headers_only: opts.headers_only,
        ..Default::default()
    };
    match <[String; 1]>::try_from(opts.subjects) {
        Ok([one]) => config.filter_subject = one,
        Err(many) => config.filter_subjects = many,
    }
    let consumer = stream.create_consumer(config).await.map_err(|source| {
        let stream = name.clone();
        SourceError::Consumer { stream, source }
    })?;
    let pending = consumer.cached_info().num_pending;
    if bound.is_some() && pending == 0 {
        return Ok(History::empty(bound));
    }
    Ok(History {
        messages: Some(consumer.messages().await?),
        bound,
        pending,
        finished: false,
    })
}

impl History {
    fn empty(bound: Option<Bound>) -> Self {
        Self {
            messages: None,
            bound,
            pending: 0,
            finished: true,
        }
    }

    /// Messages the server counted for the filter when the read started (an upper bound on a
    /// bounded read's length; newer messages may join a follow read).
    pub fn pending_at_start(&self) -> u64 {
        self.pending
    }

    /// The next message in stream order; `None` once a bounded read is complete.
    pub async fn next(&mut self) -> Result<Option<Delivered>, SourceError> {
        if self.finished {
            return Ok(None);
        }
        let Some(messages) = self.messages.as_mut() else {
            return Ok(None);
        };
        let next = match self.bound {
            Some(_) => tokio::time::timeout(STALL_LIMIT, messages.next())
                .await
                .map_err(|_| SourceError::Stalled(STALL_LIMIT))?,
            None => messages.next().await,
        };
        let message = match next {
            Some(message) => message?,
            None => {
                self.finished = true;
                return Ok(None);
            }
        };
        let info = message
            .info()
            .map_err(|e| SourceError::Metadata(e.to_string()))?;
        let (sequence, published, pending) = (info.stream_sequence, info.published, info.pending);
        if let Some(bound) = self.bound {
            let after_until = bound.until.is_some_and(|until| published > until);
            if sequence > bound.last_sequence || after_until {
                self.finished = true;
                return Ok(None);
            }
            self.finished = sequence == bound.last_sequence || pending == 0;
        }
        Ok(Some(Delivered { message, sequence }))
    }
}
