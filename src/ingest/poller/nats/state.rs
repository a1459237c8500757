//! The poller's durable state in a JetStream KV bucket (`nats.state_bucket`, history 1).
//!
//! Keys: `cursor` (where discovery stops, see [`crate::ingest::poller::cursor`]), `learned` (the
//! learned schedule's estimate, see `engine::learned`), `order.<id>` (one per tracked
//! order: phase, furthest published step, dates, next due time and the last code-free
//! snapshot), and `poller.lease` (see [`super::lease`]). The engine writes an order's key only
//! after the events its observation implies are acknowledged, so a restart resumes exactly
//! where the previous leader stopped, at worst re-emitting an event (stored once anyway).

use std::time::Duration;

use async_nats::jetstream::consumer::{push, DeliverPolicy, ReplayPolicy};
use async_nats::jetstream::context::CreateKeyValueError;
use async_nats::jetstream::kv::{self, Operation};
use async_nats::jetstream::stream::StorageType;
use async_nats::jetstream::Context;
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::config::NatsConfig;
use crate::ingest::poller::cursor::Cursor;
use crate::ingest::poller::engine::learned::Learned;
use crate::ingest::poller::tracked::{installed_at, IccidPrint, Phase, Tracked};
use esim_events::{EventType, OrderData};

const CURSOR_KEY: &str = "cursor";
/// What the learned schedule knows (see `engine::learned`).
const LEARNED_KEY: &str = "learned";
const ORDER_PREFIX: &str = "order.";
/// How long the marker of a forgotten order stays before the server removes it.
const MARKER_TTL: Duration = Duration::from_secs(60);
/// Longest wait for the next stored entry while loading.
const LOAD_STALL: Duration = Duration::from_secs(30);

/// Why the state bucket could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The bucket could be neither opened nor created.
    #[error("state bucket {bucket} cannot be opened or created")]
    Bucket {
        bucket: String,
        #[source]
        source: CreateKeyValueError,
    },
    /// A record could not be encoded (never expected: the records are plain data).
    #[error("state record cannot be encoded")]
    Encode(#[from] serde_json::Error),
    #[error("state write failed")]
    Put(#[from] kv::PutError),
    /// Removing a key (an order no longer tracked, an expired quarantine entry) failed.
    #[error("state removal failed")]
    Purge(#[from] kv::PurgeError),
    #[error("state read failed")]
    Get(#[from] kv::EntryError),
    /// Loading every stored key failed on the way (consumer, messages, metadata).
    #[error("state load failed")]
    Load(#[source] async_nats::Error),
    /// No stored key arrived for [`LOAD_STALL`].
    #[error("state load stalled for {0:?}")]
    Stalled(Duration),
    #[error("state stream ended while loading")]
    Ended,
}

/// One tracked order as stored under `order.<id>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredOrder {
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<EventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_days: Option<u16>,
    /// Unix ms; absent for PENDING orders (the list watches them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_ms: Option<i64>,
    /// The last snapshot, code-free by construction ([`OrderData`] is an allowlist).
    pub snapshot: OrderData,
}

impl StoredOrder {
    pub fn new(t: &Tracked, snapshot: OrderData, next_due_ms: Option<i64>) -> Self {
        Self {
            phase: t.phase,
            latest: t.latest,
            delivered_at: t.delivered_at,
            activated_at: t.activated_at,
            validity_days: t.validity_days,
            next_due_ms,
            snapshot,
        }
    }

    pub fn tracked(&self) -> Tracked {
        Tracked {
            phase: self.phase,
            latest: self.latest,
            delivered_at: self.delivered_at,
            installed_at: installed_at(&self.snapshot),
            activated_at: self.activated_at,
            validity_days: self.validity_days,
            iccid: self.snapshot.iccid.as_ref().map(IccidPrint::of),
        }
    }
}

/// The state bucket.
#[derive(Clone)]
pub struct StateStore {
    kv: kv::Store,
    client: async_nats::Client,
}

impl StateStore {
    /// Opens the bucket, creating it (history 1) if missing.
    pub async fn open(js: &Context, cfg: &NatsConfig) -> Result<Self, StateError> {
        let bucket = cfg.state_bucket.clone();
        let kv = match js.get_key_value(&bucket).await {
            Ok(kv) => kv,
            Err(_) => {
                let config = kv::Config {
                    bucket: bucket.clone(),
                    description: "esim-bridge poller state and lease".into(),
                    history: 1,
                    num_replicas: cfg.replicas,
                    storage: StorageType::File,
                    // Lets forgotten orders' markers expire instead of piling up.
                    limit_markers: Some(MARKER_TTL),
                    ..Default::default()
                };
                match js.create_key_value(config).await {
                    Ok(kv) => kv,
                    // Another replica may have created it in between.
                    Err(source) => match js.get_key_value(&bucket).await {
                        Ok(kv) => kv,
                        Err(_) => return Err(StateError::Bucket { bucket, source }),
                    },
                }
            }
        };
        Ok(Self {
            kv,
            client: js.client(),
        })
    }

    /// The bucket (the lease lives here too).
    pub fn kv(&self) -> &kv::Store {
        &self.kv
    }

    /// Stores one tracked order.
    pub async fn save(&self, id: u64, order: &StoredOrder) -> Result<(), StateError> {
        let value = serde_json::to_vec(order)?;
        self.put(format!("{ORDER_PREFIX}{id}"), value).await
    }

    /// Removes an order that needs no more watching.
    pub async fn forget(&self, id: u64) -> Result<(), StateError> {
        let key = format!("{ORDER_PREFIX}{id}");
        if self.kv.purge_with_ttl(&key, MARKER_TTL).await.is_ok() {
            return Ok(());
        }
        // A bucket created without per-message TTLs: a plain purge leaves a permanent marker.
        Ok(self.kv.purge(&key).await?)
    }

    /// The discovery cursor, if one was stored (a legacy `{"last_id"}` record included).
    pub async fn discovery(&self) -> Result<Option<Cursor>, StateError> {
        let value = self.kv.get(CURSOR_KEY).await?;
        Ok(value.and_then(|v| serde_json::from_slice::<Cursor>(&v).ok()))
    }

    /// The highest order id discovery has seen, if a cursor was stored.
    pub async fn cursor(&self) -> Result<Option<u64>, StateError> {
        Ok(self.discovery().await?.map(|c| c.last_id))
    }

    /// Stores the discovery cursor.
    pub async fn save_discovery(&self, cursor: &Cursor) -> Result<(), StateError> {
        let value = serde_json::to_vec(cursor)?;
        self.put(CURSOR_KEY.to_owned(), value).await
    }

    /// Stores a cursor in the legacy form (only `last_id`), as versions before the
    /// creation-time mark wrote it.
    pub async fn save_cursor(&self, last_id: u64) -> Result<(), StateError> {
        let cursor = Cursor {
            last_id,
            ..Cursor::default()
        };
        self.save_discovery(&cursor).await
    }

    /// What the learned schedule stored, if anything it can trust (a record of another shape
    /// is ignored, and the schedule starts from the ladder).
    pub async fn learned(&self) -> Result<Option<Learned>, StateError> {
        let value = self.kv.get(LEARNED_KEY).await?;
        Ok(value.and_then(|v| {
            let learned = Learned::from_stored(&v);
            if learned.is_none() {
                tracing::warn!("stored schedule estimate unreadable; starting from the ladder");
            }
            learned
        }))
    }

    /// Stores what the learned schedule knows.
    pub async fn save_learned(&self, learned: &Learned) -> Result<(), StateError> {
        let value = serde_json::to_vec(learned)?;
        self.put(LEARNED_KEY.to_owned(), value).await
    }

    /// Streams every stored order to `each` (one ordered consumer, last value per key), so
    /// 100,000 orders never sit in memory as snapshots. Returns how many were read.
    pub async fn load(&self, mut each: impl FnMut(u64, StoredOrder)) -> Result<usize, StateError> {
        self.scan(ORDER_PREFIX, |id, payload| {
            match serde_json::from_slice::<StoredOrder>(payload) {
                Ok(order) => {
                    each(id, order);
                    true
                }
                Err(e) => {
                    tracing::warn!(order_id = id, error = %e, "unreadable poll state skipped");
                    false
                }
            }
        })
        .await
    }

    /// Streams the live value of every `<prefix><id>` key to `each`; counts the values `each`
    /// accepted.
    pub(super) async fn scan(
        &self,
        prefix: &str,
        mut each: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<usize, StateError> {
        let read = |e| StateError::Load(Box::new(e));
        let prefix = format!("{}{prefix}", self.kv.prefix);
        let consumer = self
            .kv
            .stream
            .create_consumer(push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                filter_subject: format!("{prefix}>"),
                deliver_policy: DeliverPolicy::LastPerSubject,
                replay_policy: ReplayPolicy::Instant,
                ..Default::default()
            })
            .await
            .map_err(read)?;
        if consumer.cached_info().num_pending == 0 {
            return Ok(0);
        }
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| StateError::Load(Box::new(e)))?;
        let mut count = 0;
        loop {
            let next = tokio::time::timeout(LOAD_STALL, messages.next()).await;
            let message = match next {
                Ok(Some(Ok(m))) => m,
                Ok(Some(Err(e))) => return Err(StateError::Load(Box::new(e))),
                Ok(None) => return Err(StateError::Ended),
                Err(_) => return Err(StateError::Stalled(LOAD_STALL)),
            };
            let info = message.info().map_err(StateError::Load)?;
            let pending = info.pending;
            let deleted = message.headers.as_ref().is_some_and(|h| {
                h.get("Nats-Marker-Reason").is_some()
                    || h.get("KV-Operation").is_some_and(|op| op.as_str() != "PUT")
            });
            let id = message
                .subject
                .strip_prefix(prefix.as_str())
                .and_then(|s| s.parse::<u64>().ok());
            if let (false, Some(id)) = (deleted, id) {
                if each(id, &message.payload) {
                    count += 1;
                }
            }
            if pending == 0 {
                return Ok(count);
            }
        }
    }

    /// Puts one value under `key`.
    pub(super) async fn put(&self, key: String, value: Vec<u8>) -> Result<(), StateError> {
        self.kv.put(key, Bytes::from(value)).await?;
        Ok(())
    }
}

/// Whether a KV entry is a live value (not a delete or purge marker).
pub fn is_live(entry: &kv::Entry) -> bool {
    entry.operation == Operation::Put
}
