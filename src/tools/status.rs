//! `status`: what NATS holds, read from NATS only (no bridge needed): the events stream, and
//! the poller's state bucket if it exists (see [`super::poller_state`]).

use std::fmt;

use async_nats::jetstream;
use async_nats::Client;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::poller_state::{self, PollerState};
use crate::config::{Config, NatsConfig};
use crate::publish::is_stream_not_found;

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("stream {stream}: {reason}")]
    Stream { stream: String, reason: String },
    #[error(transparent)]
    Bucket(#[from] poller_state::BucketError),
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// `None` if the stream does not exist (the bridge creates it on first start).
    pub stream: Option<StreamStatus>,
    /// `None` if the poller's bucket does not exist.
    pub poller: Option<PollerState>,
    #[serde(skip)]
    stream_name: String,
}

/// The events stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamStatus {
    pub name: String,
    pub subjects: Vec<String>,
    pub messages: u64,
    pub bytes: u64,
    pub first_sequence: u64,
    pub last_sequence: u64,
    /// When the oldest / newest message still present was stored; `None` when empty.
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    /// Distinct subjects: one per emitted transition.
    pub subjects_count: u64,
    pub consumers: usize,
    pub replicas: usize,
    pub max_age: String,
}

/// Reads the report.
pub async fn status(client: &Client, config: &Config) -> Result<StatusReport, StatusError> {
    let nats = &config.nats;
    let js = jetstream::new(client.clone());
    let stream = match js.get_stream(&nats.stream).await {
        Ok(mut stream) => match stream.info().await {
            Ok(info) => Some(stream_status(info)),
            Err(e) => return Err(stream_error(nats, e.to_string())),
        },
        Err(e) if is_stream_not_found(&e) => None,
        Err(e) => return Err(stream_error(nats, e.to_string())),
    };
    let poller = poller_state::read(&js, config).await?;
    Ok(StatusReport {
        stream,
        poller,
        stream_name: nats.stream.clone(),
    })
}

fn stream_error(nats: &NatsConfig, reason: String) -> StatusError {
    StatusError::Stream {
        stream: nats.stream.clone(),
        reason,
    }
}

fn stream_status(info: &jetstream::stream::Info) -> StreamStatus {
    let s = &info.state;
    let time = |t: OffsetDateTime| (s.messages > 0).then(|| t.format(&Rfc3339).ok()).flatten();
    StreamStatus {
        name: info.config.name.clone(),
        subjects: info.config.subjects.clone(),
        messages: s.messages,
        bytes: s.bytes,
        first_sequence: s.first_sequence,
        last_sequence: s.last_sequence,
        first_time: time(s.first_timestamp),
        last_time: time(s.last_timestamp),
        subjects_count: s.subjects_count,
        consumers: s.consumer_count,
        replicas: info.config.num_replicas,
        max_age: match info.config.max_age.is_zero() {
            true => "unlimited".into(),
            false => crate::config::format_duration(info.config.max_age),
        },
    }
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stream {
            Some(s) => {
                writeln!(f, "stream {} ({})", s.name, s.subjects.join(", "))?;
                writeln!(f, "  messages: {}", s.messages)?;
                writeln!(f, "  bytes: {}", s.bytes)?;
                writeln!(f, "  sequences: {}..{}", s.first_sequence, s.last_sequence)?;
                let none = || "-".to_owned();
                writeln!(f, "  first: {}", s.first_time.clone().unwrap_or_else(none))?;
                writeln!(f, "  last: {}", s.last_time.clone().unwrap_or_else(none))?;
                writeln!(f, "  subjects: {}", s.subjects_count)?;
                writeln!(f, "  consumers: {}", s.consumers)?;
                writeln!(f, "  replicas: {}, max age: {}", s.replicas, s.max_age)?;
            }
            None => writeln!(f, "stream {}: not found", self.stream_name)?,
        }
        match &self.poller {
            Some(p) => write!(f, "{p}"),
            None => writeln!(f, "poller state: not found"),
        }
    }
}
