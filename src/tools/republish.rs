//! `--to-subject S`: republish replayed events under another subject prefix.
//!
//! `<prefix>.events.<key>.<event>` goes to `S.events.<key>.<event>`: the copy has the shape of
//! the live stream under prefix `S`, so a stream capturing `S.events.>` can itself be replayed
//! or tailed with `nats.subject_prefix = S`. Each copy carries the original `Esim-*` headers
//! plus `Esim-Replayed-From: <original stream sequence>`. A target under the live
//! `<prefix>.events.` is refused unless forced; when forced, the copy also keeps `Nats-Msg-Id`
//! and `Nats-Expected-Last-Subject-Sequence: 0`, so one-message-per-subject still holds and an
//! event already present is counted and skipped (this is how a lost stream is restored).
//!
//! If a JetStream stream captures the target, every copy waits for its PubAck (a bounded
//! window of acks in flight); otherwise copies go out as core NATS messages and are flushed.
//!
//! Copies pass the same [`guard`] as replay output: a payload carrying activation-code
//! material (in any encoding) goes out redacted, and a copied `Esim-*` header whose value
//! carries any is left out; both are counted ([`Republisher::redacted`]).

use async_nats::jetstream::context::{
    GetStreamByNameErrorKind, PublishAckFuture, PublishError, PublishErrorKind,
};
use async_nats::jetstream::{self, Context};
use async_nats::{Client, HeaderMap, HeaderValue};
use futures::stream::FuturesOrdered;
use futures::StreamExt;

use super::guard;
use super::parse::ArgError;
use esim_events::key::validate_token;

/// The header naming the original stream sequence.
pub const REPLAYED_FROM: &str = "Esim-Replayed-From";
/// PubAcks awaited at once: enough to keep the pipe full, small enough to keep memory flat.
const ACK_WINDOW: usize = 512;

/// Why republishing failed.
#[derive(Debug, thiserror::Error)]
pub enum RepublishError {
    #[error("cannot tell whether a stream captures {subject}: {reason}")]
    Lookup { subject: String, reason: String },
    #[error("cannot republish to {subject}: {reason}")]
    Publish { subject: String, reason: String },
    #[error("a republished event was not acknowledged: {0}")]
    Ack(PublishError),
    #[error("cannot flush republished events: {0}")]
    Flush(String),
}

/// A validated `--to-subject` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    prefix: String,
    live: bool,
}

impl Target {
    /// Validates `to` as dot-separated `[0-9A-Za-z_-]` tokens; refuses a target under the
    /// live `<live_prefix>.events.` unless `force`.
    pub fn new(to: &str, live_prefix: &str, force: bool) -> Result<Self, ArgError> {
        let to = to.trim().trim_end_matches('.');
        if to.is_empty() || to.split('.').any(|t| validate_token(t).is_err()) {
            let reason = format!("{to:?}: dot-separated tokens of [0-9A-Za-z_-] expected");
            return Err(ArgError::new("to-subject", reason));
        }
        let live = format!("{to}.events.").starts_with(&format!("{live_prefix}.events."));
        if live && !force {
            let reason = format!(
                "{to}.events.> is under the live {live_prefix}.events.>; \
                 choose another prefix or pass --force"
            );
            return Err(ArgError::new("to-subject", reason));
        }
        Ok(Self {
            prefix: to.to_owned(),
            live,
        })
    }

    /// The copy's subject: the original's tail after `<live_prefix>.` under the target prefix.
    pub fn subject_for(&self, original: &str, live_prefix: &str) -> String {
        let tail = original
            .strip_prefix(live_prefix)
            .and_then(|t| t.strip_prefix('.'))
            .unwrap_or(original);
        format!("{}.{tail}", self.prefix)
    }
}

/// How copies are sent, decided on the first one.
enum Mode {
    JetStream,
    Core,
}

/// Republishes events, in stream order.
pub struct Republisher {
    client: Client,
    js: Context,
    target: Target,
    live_prefix: String,
    mode: Option<Mode>,
    acks: FuturesOrdered<<PublishAckFuture as std::future::IntoFuture>::IntoFuture>,
    /// Copies refused as already present (forced live target only).
    already_present: u64,
    /// Copies whose payload or headers had activation-code material removed.
    redacted: u64,
}

impl Republisher {
    pub fn new(client: Client, js: Context, target: Target, live_prefix: &str) -> Self {
        Self {
            client,
            js,
            target,
            live_prefix: live_prefix.to_owned(),
            mode: None,
            acks: FuturesOrdered::new(),
            already_present: 0,
            redacted: 0,
        }
    }

    /// Sends one copy of `message` (stored at `sequence`).
    pub async fn send(
        &mut self,
        message: &jetstream::Message,
        sequence: u64,
    ) -> Result<(), RepublishError> {
        let subject = self.target.subject_for(&message.subject, &self.live_prefix);
        let (headers, headers_redacted) = self.headers(message.headers.as_ref(), sequence);
        let line = guard::line(&message.payload);
        if line.redacted() || headers_redacted {
            self.redacted += 1;
            tracing::warn!(
                sequence,
                "a stored event carried activation-code material; copied redacted"
            );
        }
        let payload = match line {
            guard::Line::Stored(_) => message.payload.clone(),
            guard::Line::Rewritten { bytes, .. } => bytes.into(),
        };
        let failed = |e: &dyn std::fmt::Display| RepublishError::Publish {
            subject: subject.clone(),
            reason: e.to_string(),
        };
        if self.mode.is_none() {
            self.mode = Some(self.mode_for(&subject).await?);
        }
        if let Some(Mode::Core) = self.mode {
            let sent = self
                .client
                .publish_with_headers(subject.clone(), headers, payload);
            return sent.await.map_err(|e| failed(&e));
        }
        if self.acks.len() >= ACK_WINDOW {
            self.settle_one().await?;
        }
        let ack = self
            .js
            .publish_with_headers(subject.clone(), headers, payload);
        let ack = ack.await.map_err(|e| failed(&e))?;
        self.acks
            .push_back(std::future::IntoFuture::into_future(ack));
        Ok(())
    }

    /// Waits for every outstanding ack (or flushes core messages); returns how many copies were
    /// skipped as already present.
    pub async fn finish(&mut self) -> Result<u64, RepublishError> {
        while !self.acks.is_empty() {
            self.settle_one().await?;
        }
        if let Some(Mode::Core) = self.mode {
            let flushed = self.client.flush().await;
            flushed.map_err(|e| RepublishError::Flush(e.to_string()))?;
        }
        Ok(self.already_present)
    }

    async fn settle_one(&mut self) -> Result<(), RepublishError> {
        let present = |e: &PublishError| e.kind() == PublishErrorKind::WrongLastSequence;
        match self.acks.next().await {
            // A duplicate (msg-id window) or a taken subject: the event is already there.
            Some(Ok(ack)) if ack.duplicate => self.already_present += 1,
            Some(Err(e)) if self.target.live && present(&e) => self.already_present += 1,
            Some(Ok(_)) | None => {}
            Some(Err(e)) => return Err(RepublishError::Ack(e)),
        }
        Ok(())
    }

    async fn mode_for(&self, subject: &str) -> Result<Mode, RepublishError> {
        match self.js.stream_by_subject(subject).await {
            Ok(stream) => {
                tracing::info!(%subject, %stream, "republishing into a stream, awaiting acks");
                Ok(Mode::JetStream)
            }
            Err(e) if e.kind() == GetStreamByNameErrorKind::NotFound => {
                tracing::warn!(%subject, "no stream captures the target; publishing without acks");
                Ok(Mode::Core)
            }
            Err(e) => Err(RepublishError::Lookup {
                subject: subject.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    /// Copies whose payload or headers had activation-code material removed.
    pub fn redacted(&self) -> u64 {
        self.redacted
    }

    /// The copy's headers, and whether a header was left out for carrying code material.
    fn headers(&self, original: Option<&HeaderMap>, sequence: u64) -> (HeaderMap, bool) {
        let mut out = HeaderMap::new();
        let mut redacted = false;
        for (name, values) in original.into_iter().flat_map(HeaderMap::iter) {
            let text: &str = name.as_ref();
            let keep = text
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("esim-"));
            let keep_live = self.target.live && text.eq_ignore_ascii_case("Nats-Msg-Id");
            if (keep && !text.eq_ignore_ascii_case(REPLAYED_FROM)) || keep_live {
                if let Some(value) = values.first() {
                    if guard::header_leaks(value.as_str()) || guard::header_leaks(text) {
                        redacted = true;
                    } else {
                        out.insert(name.clone(), value.clone());
                    }
                }
            }
        }
        out.insert(REPLAYED_FROM, HeaderValue::from(sequence));
        if self.target.live {
            out.insert(
                "Nats-Expected-Last-Subject-Sequence",
                HeaderValue::from(0u64),
            );
        }
        (out, redacted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_the_tail_under_a_new_prefix() {
        let t = Target::new("replay.esim", "esim", false).unwrap();
        let copy = t.subject_for("esim.events.8910.delivered", "esim");
        assert_eq!(copy, "replay.esim.events.8910.delivered");
    }

    #[test]
    fn the_live_prefix_needs_force() {
        for live in ["esim", "esim.events", "esim.events.x"] {
            let e = Target::new(live, "esim", false).unwrap_err();
            assert!(e.reason.contains("--force"), "{live}: {e}");
            assert!(Target::new(live, "esim", true).is_ok());
        }
        assert!(Target::new("esim2", "esim", false).is_ok());
        assert!(Target::new("esim.eventsx", "esim", false).is_ok());
        assert!(Target::new("esim.copy", "esim", false).is_ok());
    }

    #[test]
    fn targets_are_plain_tokens() {
        for bad in ["", "a.*", "a.>", "a..b", "a b"] {
            assert_eq!(
                Target::new(bad, "esim", false).unwrap_err().flag,
                "to-subject"
            );
        }
    }
}
