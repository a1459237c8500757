//! Stream provisioning: create `ESIM_EVENTS` if missing, verify it if present, never overwrite.

use std::time::Duration;

use async_nats::jetstream::stream::{
    Config as StreamConfig, DiscardPolicy, RetentionPolicy, StorageType,
};
use async_nats::jetstream::Context;

use super::stream_check::{self, UnsafeStreamSetting};
use crate::config::NatsConfig;
use crate::telemetry::ErrorChain;

/// Why the events stream cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(
        "stream {stream} exists but its subjects {existing:?} do not cover {wanted}; \
         add the subject to the stream or set nats.stream / nats.subject_prefix"
    )]
    SubjectsNotCovered {
        stream: String,
        existing: Vec<String>,
        wanted: String,
    },
    #[error(
        "stream {stream}: {} is {}, the bridge requires {}: {}; change the stream or set \
         nats.stream to another",
        .unsafe_.setting, .unsafe_.found, .unsafe_.required, .unsafe_.why
    )]
    UnsafeStreamSetting {
        stream: String,
        unsafe_: UnsafeStreamSetting,
    },
    #[error("cannot read or create stream {stream}: {}", ErrorChain(.source.as_ref()))]
    Unavailable {
        stream: String,
        #[source]
        source: async_nats::Error,
    },
}

impl StreamError {
    /// True if retrying cannot help: the stream exists and is unfit (exit 1 at start).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::SubjectsNotCovered { .. } | Self::UnsafeStreamSetting { .. }
        )
    }
}

/// The wildcard subject the bridge publishes under.
pub fn events_subject(prefix: &str) -> String {
    format!("{prefix}.events.>")
}

/// The stream configuration the bridge creates when the stream does not exist.
pub fn desired_stream(cfg: &NatsConfig) -> StreamConfig {
    StreamConfig {
        name: cfg.stream.clone(),
        description: Some(
            "esim-bridge: normalised esim.* lifecycle events, one per subject".into(),
        ),
        subjects: vec![events_subject(&cfg.subject_prefix)],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        max_age: cfg.max_age,
        duplicate_window: cfg.duplicate_window,
        num_replicas: cfg.replicas,
        deny_delete: true,
        allow_direct: true,
        ..Default::default()
    }
}

/// What `check-config --connect` found of the events stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFound {
    /// Absent: `serve` creates it.
    Absent,
    /// Present, covering the bridge's subjects and keeping its promises.
    Compatible,
}

/// Looks at the events stream without changing anything: absent, or present and checked as
/// [`ensure_stream`] checks it.
pub async fn inspect_stream(js: &Context, cfg: &NatsConfig) -> Result<StreamFound, StreamError> {
    match js.get_stream(&cfg.stream).await {
        Ok(mut stream) => {
            let info = stream.info().await.map_err(|e| StreamError::Unavailable {
                stream: cfg.stream.clone(),
                source: e.into(),
            })?;
            verify(&info.config, cfg).map(|()| StreamFound::Compatible)
        }
        Err(e) if is_stream_not_found(&e) => Ok(StreamFound::Absent),
        Err(e) => Err(StreamError::Unavailable {
            stream: cfg.stream.clone(),
            source: e.into(),
        }),
    }
}

/// An existing stream covers our subjects and keeps the bridge's promises ([`stream_check`]).
fn verify(found: &StreamConfig, cfg: &NatsConfig) -> Result<(), StreamError> {
    let wanted = events_subject(&cfg.subject_prefix);
    let existing = &found.subjects;
    if !existing.iter().any(|s| covers(s, &wanted)) {
        return Err(StreamError::SubjectsNotCovered {
            stream: cfg.stream.clone(),
            existing: existing.clone(),
            wanted,
        });
    }
    stream_check::check(found, cfg).map_err(|unsafe_| StreamError::UnsafeStreamSetting {
        stream: cfg.stream.clone(),
        unsafe_,
    })
}

/// Creates the stream if missing, or checks that an existing one covers our subjects and keeps
/// the bridge's promises ([`stream_check`]). An operator's settings are left as they are.
pub async fn ensure_stream(js: &Context, cfg: &NatsConfig) -> Result<(), StreamError> {
    let wanted = events_subject(&cfg.subject_prefix);
    let unavailable = |source: async_nats::Error| StreamError::Unavailable {
        stream: cfg.stream.clone(),
        source,
    };
    for _attempt in 0..3 {
        match js.get_stream(&cfg.stream).await {
            Ok(mut stream) => {
                let info = stream.info().await.map_err(|e| unavailable(e.into()))?;
                return verify(&info.config, cfg);
            }
            Err(e) if is_stream_not_found(&e) => {
                match js.create_stream(desired_stream(cfg)).await {
                    Ok(_) => {
                        tracing::info!(stream = %cfg.stream, subjects = %wanted, "created stream");
                        return Ok(());
                    }
                    // Another replica may have created it meanwhile: look again.
                    Err(e) => tracing::debug!(error = %e, "create stream raced; retrying"),
                }
            }
            Err(e) => return Err(unavailable(e.into())),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(unavailable(
        "stream could be neither found nor created".into(),
    ))
}

/// True if a stream lookup failed because the stream does not exist (not because NATS is away).
pub fn is_stream_not_found(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    use async_nats::jetstream::context::GetStreamErrorKind;
    matches!(e.kind(), GetStreamErrorKind::JetStream(err)
        if err.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND)
}

/// True if subject filter `pattern` matches every subject that `wanted` matches.
pub fn covers(pattern: &str, wanted: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let w: Vec<&str> = wanted.split('.').collect();
    for (i, pt) in p.iter().enumerate() {
        match (*pt, w.get(i)) {
            (">", Some(_)) => return true,
            (_, None) => return false,
            ("*", Some(&wt)) if wt != ">" => {}
            (pt, Some(&wt)) if pt == wt => {}
            _ => return false,
        }
    }
    p.len() == w.len()
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn subject_coverage() {
        assert!(covers("esim.events.>", "esim.events.>"));
        assert!(covers("esim.>", "esim.events.>"));
        assert!(covers(">", "esim.events.>"));
        assert!(covers("*.events.>", "esim.events.>"));
        assert!(!covers("esim.events.*", "esim.events.>"));
        assert!(!covers("esim.events.*.delivered", "esim.events.>"));
        assert!(!covers("other.>", "esim.events.>"));
        assert!(!covers("esim", "esim.events.>"));
    }
}
