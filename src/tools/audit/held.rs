//! What the events stream holds for the audited orders: one read of the whole stream (an
//! ordered consumer, as replay uses), keeping only the messages of the orders' keys (ICCID,
//! `order-<id>`) or carrying one of their ids in `Esim-Order-Id`, so memory grows with the
//! audited orders, not with the stream.
//!
//! The whole stream is read, not a time range: the provider's `created_at` and the stream's
//! storage time come from different clocks, and an order's events may be stored long after it
//! was placed. The stream's `max_age` bounds the read.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_nats::jetstream::Context;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::tools::progress::{Progress, ProgressMode, Units};
use crate::tools::source::{self, Options, SourceError, Start};
use esim_events::schema::header;
use esim_events::EventType;

/// The stream read's progress words.
const UNITS: Units = Units {
    done: "messages read",
    found: "of the audited orders",
    rate: "msg/s",
};

/// One stored event of an audited order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub sequence: u64,
    /// The subject key (ICCID or `order-<id>`).
    pub key: String,
    pub event: EventType,
    /// From `Esim-Order-Id`, else the payload's `data.id`.
    pub order_id: Option<u64>,
    /// `data.inferred`: emitted because a later step implied it.
    pub inferred: bool,
    /// `repaired_at` present: written late by `audit --repair`.
    pub repaired: bool,
}

/// The stored events of the audited orders, in stream order per key.
#[derive(Debug, Default)]
pub struct Holdings {
    by_key: BTreeMap<String, Vec<Held>>,
    /// Keys that hold events naming an order id.
    keys_of_order: HashMap<u64, HashSet<String>>,
    /// Messages read.
    pub scanned: u64,
    /// True if shutdown stopped the read before the end.
    pub interrupted: bool,
}

impl Holdings {
    /// Records one stored event (in stream order).
    pub fn add(&mut self, held: Held) {
        if let Some(id) = held.order_id {
            let keys = self.keys_of_order.entry(id).or_default();
            keys.insert(held.key.clone());
        }
        self.by_key.entry(held.key.clone()).or_default().push(held);
    }

    /// Every stored event of an order: under its keys, or naming it, in stream order.
    pub fn of_order(&self, id: u64, keys: &[String]) -> Vec<&Held> {
        let mut all: HashSet<&str> = keys.iter().map(String::as_str).collect();
        if let Some(named) = self.keys_of_order.get(&id) {
            all.extend(named.iter().map(String::as_str));
        }
        let mut held: Vec<&Held> = all
            .into_iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .filter(|h| h.order_id.is_none_or(|o| o == id))
            .collect();
        held.sort_by_key(|h| h.sequence);
        held
    }

    /// True if `key` holds an event naming another order than `id`.
    pub fn holds_other(&self, key: &str, id: u64) -> bool {
        self.by_key
            .get(key)
            .is_some_and(|v| v.iter().any(|h| h.order_id.is_some_and(|o| o != id)))
    }

    /// True if `key` holds an event of type `t`.
    pub fn has(&self, key: &str, t: EventType) -> bool {
        self.by_key
            .get(key)
            .is_some_and(|v| v.iter().any(|h| h.event == t))
    }
}

/// What the read needs to know.
pub struct Wanted<'a> {
    pub stream: &'a str,
    pub prefix: &'a str,
    pub keys: &'a HashSet<String>,
    pub orders: &'a HashSet<u64>,
    pub progress: ProgressMode,
}

/// Reads the stream to its last message as of now and keeps what `wanted` names.
pub async fn read(
    js: &Context,
    wanted: Wanted<'_>,
    shutdown: &CancellationToken,
) -> Result<Holdings, SourceError> {
    let opts = Options {
        stream: wanted.stream,
        subjects: vec![crate::publish::events_subject(wanted.prefix)],
        start: Start::All,
        bound: Some(None),
        headers_only: false,
    };
    let mut history = source::open(js, opts).await?;
    let mut progress = Progress::start_with(
        "audit stream",
        history.pending_at_start(),
        wanted.progress,
        UNITS,
    );
    let mut kept = 0u64;
    let subject_prefix = format!("{}.events.", wanted.prefix);
    let mut holdings = Holdings::default();
    loop {
        let next = tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                holdings.interrupted = true;
                break;
            }
            next = history.next() => next,
        };
        let Some(delivered) = next.inspect_err(|_| progress.finish())? else {
            break;
        };
        holdings.scanned += 1;
        progress.update(holdings.scanned, kept);
        let message = &delivered.message;
        let Some((key, event)) = split_subject(&message.subject, &subject_prefix) else {
            continue;
        };
        let named = message
            .headers
            .as_ref()
            .and_then(|h| h.get(header::ORDER_ID))
            .and_then(|v| v.as_str().parse::<u64>().ok());
        if !wanted.keys.contains(key) && !named.is_some_and(|id| wanted.orders.contains(&id)) {
            continue;
        }
        kept += 1;
        let marks = Marks::of(&message.payload);
        holdings.add(Held {
            sequence: delivered.sequence,
            key: key.to_owned(),
            event,
            order_id: named.or(marks.data.id),
            inferred: marks.data.inferred == Some(true),
            repaired: marks.repaired_at.is_some(),
        });
    }
    progress.finish();
    Ok(holdings)
}

/// `<prefix>.events.<key>.<event>` → (key, event).
fn split_subject<'s>(subject: &'s str, prefix: &str) -> Option<(&'s str, EventType)> {
    let (key, token) = subject.strip_prefix(prefix)?.split_once('.')?;
    Some((key, EventType::parse_loose(token)?))
}

/// The few payload fields the audit reads; anything unparsable reads as unmarked.
#[derive(Debug, Default, Deserialize)]
struct Marks {
    #[serde(default)]
    repaired_at: Option<String>,
    #[serde(default)]
    data: MarkData,
}

#[derive(Debug, Default, Deserialize)]
struct MarkData {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    inferred: Option<bool>,
}

impl Marks {
    fn of(payload: &[u8]) -> Self {
        serde_json::from_slice(payload).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_split_into_key_and_event() {
        let p = "esim.events.";
        assert_eq!(
            split_subject("esim.events.8910.installed", p),
            Some(("8910", EventType::Installed))
        );
        assert_eq!(
            split_subject("esim.events.order-7.failed", p).map(|s| s.0),
            Some("order-7")
        );
        assert_eq!(split_subject("esim.events.8910.nope", p), None);
        assert_eq!(split_subject("other.events.8910.installed", p), None);
    }

    #[test]
    fn marks_are_read_leniently() {
        let m =
            Marks::of(br#"{"repaired_at":"2026-01-01T00:00:00Z","data":{"id":7,"inferred":true}}"#);
        assert!(m.repaired_at.is_some() && m.data.inferred == Some(true));
        assert_eq!(m.data.id, Some(7));
        assert!(Marks::of(b"not json").repaired_at.is_none());
    }

    #[test]
    fn an_order_gathers_its_events_from_every_key_in_stream_order() {
        let mut h = Holdings::default();
        let held = |sequence, key: &str, event, order_id| Held {
            sequence,
            key: key.into(),
            event,
            order_id,
            inferred: false,
            repaired: false,
        };
        h.add(held(1, "8910", EventType::Delivered, Some(7)));
        h.add(held(2, "order-7", EventType::Failed, Some(7)));
        h.add(held(3, "8911", EventType::Delivered, Some(8)));
        h.add(held(4, "8910", EventType::Failed, None));
        let got: Vec<u64> = h
            .of_order(7, &["8910".into()])
            .iter()
            .map(|h| h.sequence)
            .collect();
        assert_eq!(got, vec![1, 2, 4]);
        assert!(h.has("order-7", EventType::Failed) && !h.has("order-7", EventType::Delivered));
    }
}
