//! The poller's state bucket (`nats.state_bucket`) as `status` shows it, read with the
//! poller's own record types ([`crate::ingest::poller::state`]) and never written.
//!
//! - the lease (`poller.lease`): who holds it, when it was last renewed, and whether it is
//!   stale (older than `upstream.lease_ttl`: no live leader);
//! - the discovery cursor (newest order id seen);
//! - tracked orders by phase, streamed one at a time (flat memory for 100,000 orders);
//! - lag: orders whose next read is overdue, and by how much at most;
//! - budget demand: detail reads due within the next minute against `upstream.reads_per_minute`
//!   (the live spend is the `esim_bridge_upstream_budget_used` gauge on `/metrics`);
//! - quarantined orders by reason category (ids only in `--json`; never their content).

use std::collections::BTreeMap;
use std::fmt;

use async_nats::jetstream::Context;
use serde::Serialize;
use time::OffsetDateTime;

use super::guard;
use crate::config::Config;
use crate::ingest::poller::nats::lease;
use crate::ingest::poller::nats::state::{self, StateStore, StoredOrder};
use crate::publish::is_stream_not_found;
use crate::telemetry::ErrorChain;

/// Longest holder name shown.
const MAX_SHOWN: usize = 120;

/// What the bucket holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PollerState {
    pub bucket: String,
    /// `None` if no poller ever took the lease.
    pub lease: Option<Lease>,
    /// The newest order id discovery has seen.
    pub cursor: Option<u64>,
    pub tracked: u64,
    /// Tracked orders by phase (`pending`, `install`, `lifecycle`).
    pub by_phase: BTreeMap<String, u64>,
    /// Orders whose next read is past due.
    pub overdue: u64,
    /// How late the most overdue read is, in seconds.
    pub max_overdue_seconds: u64,
    /// Detail reads due within the next minute.
    pub due_next_minute: u64,
    /// The configured read budget per minute.
    pub reads_per_minute: u32,
    /// Orders the poller set aside for good, by reason (`date_out_of_range`, ...).
    pub quarantined: BTreeMap<String, u64>,
    /// Their order ids, lowest first (at most [`MAX_IDS_SHOWN`]).
    pub quarantined_ids: Vec<u64>,
}

/// Most quarantined order ids listed.
const MAX_IDS_SHOWN: usize = 1000;

/// The leader lease.
#[derive(Debug, Clone, Serialize)]
pub struct Lease {
    /// The replica holding it; `None` once released by a clean shutdown.
    pub holder: Option<String>,
    /// Seconds since it was last written (renewed).
    pub age_seconds: i64,
    /// Older than `upstream.lease_ttl`: the holder is gone and a standby may take over.
    pub stale: bool,
}

/// Why the state bucket could not be read.
#[derive(Debug, thiserror::Error)]
#[error("state bucket {bucket}: {}", ErrorChain(.source.as_ref()))]
pub struct BucketError {
    bucket: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// Reads the bucket; `None` if it does not exist (this never creates it).
pub async fn read(js: &Context, config: &Config) -> Result<Option<PollerState>, BucketError> {
    let bucket = &config.nats.state_bucket;
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| BucketError {
        bucket: bucket.clone(),
        source,
    };
    match js.get_stream(format!("KV_{bucket}")).await {
        Ok(_) => {}
        Err(e) if is_stream_not_found(&e) => return Ok(None),
        Err(e) => return Err(failed(e.into())),
    }
    // The bucket exists, so `open` only opens it.
    let store = StateStore::open(js, &config.nats)
        .await
        .map_err(|e| failed(e.into()))?;
    let now_ms = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let mut out = PollerState {
        bucket: bucket.clone(),
        reads_per_minute: config.upstream.reads_per_minute,
        ..PollerState::default()
    };
    store
        .load(|_, order| out.count(&order, now_ms))
        .await
        .map_err(|e| failed(e.into()))?;
    store
        .load_quarantined(|id, q| {
            *out.quarantined
                .entry(q.reason.label().to_owned())
                .or_default() += 1;
            out.quarantined_ids.push(id);
        })
        .await
        .map_err(|e| failed(e.into()))?;
    out.quarantined_ids.sort_unstable();
    out.quarantined_ids.truncate(MAX_IDS_SHOWN);
    out.cursor = store.cursor().await.map_err(|e| failed(e.into()))?;
    let entry = store.kv().entry(lease::KEY).await;
    let entry = entry.map_err(|e| failed(e.into()))?;
    out.lease = entry.filter(state::is_live).map(|entry| {
        let age = OffsetDateTime::now_utc() - entry.created;
        Lease {
            holder: holder(&entry.value),
            age_seconds: age.whole_seconds(),
            stale: age > config.upstream.lease_ttl,
        }
    });
    Ok(Some(out))
}

impl PollerState {
    fn count(&mut self, order: &StoredOrder, now_ms: i64) {
        self.tracked += 1;
        let phase = serde_json::to_value(order.phase).ok();
        let phase = phase.as_ref().and_then(|v| v.as_str()).unwrap_or("unknown");
        match self.by_phase.get_mut(phase) {
            Some(n) => *n += 1,
            None => {
                self.by_phase.insert(phase.to_owned(), 1);
            }
        }
        let Some(due) = order.next_due_ms else {
            return;
        };
        if due <= now_ms {
            self.overdue += 1;
            // `due` is read from the bucket: a corrupt entry (`i64::MIN`) must not overflow.
            let late = u64::try_from(now_ms.saturating_sub(due) / 1000).unwrap_or(0);
            self.max_overdue_seconds = self.max_overdue_seconds.max(late);
        }
        if due <= now_ms + 60_000 {
            self.due_next_minute += 1;
        }
    }
}

/// The lease value's `holder`, scrubbed and shortened.
fn holder(value: &[u8]) -> Option<String> {
    let line = guard::line(value);
    let v: serde_json::Value = serde_json::from_slice(line.bytes()).ok()?;
    let name = v.get("holder")?.as_str()?;
    Some(name.chars().take(MAX_SHOWN).collect())
}

impl fmt::Display for PollerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "poller state {}", self.bucket)?;
        match &self.lease {
            Some(l) => {
                let who = l.holder.as_deref().unwrap_or("(released)");
                let stale = if l.stale {
                    ", stale: no live leader"
                } else {
                    ""
                };
                writeln!(f, "  lease: {who} (renewed {}s ago{stale})", l.age_seconds)?;
            }
            None => writeln!(f, "  lease: never taken")?,
        }
        match self.cursor {
            Some(id) => writeln!(f, "  discovery cursor: order {id}")?,
            None => writeln!(f, "  discovery cursor: none")?,
        }
        writeln!(f, "  tracked orders: {}", self.tracked)?;
        for (phase, n) in &self.by_phase {
            writeln!(f, "    {phase}: {n}")?;
        }
        writeln!(
            f,
            "  lag: {} overdue, oldest by {}s",
            self.overdue, self.max_overdue_seconds
        )?;
        writeln!(
            f,
            "  budget: {} reads due in the next minute of {}/min (live use: /metrics)",
            self.due_next_minute, self.reads_per_minute
        )?;
        let total: u64 = self.quarantined.values().sum();
        writeln!(f, "  quarantined orders: {total}")?;
        for (reason, n) in &self.quarantined {
            writeln!(f, "    {reason}: {n}")?;
        }
        if total > 0 {
            let ids: Vec<String> = self
                .quarantined_ids
                .iter()
                .take(20)
                .map(u64::to_string)
                .collect();
            let more = if total > 20 { ", ..." } else { "" };
            writeln!(f, "    ids: {}{more}", ids.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(phase: &str, next_due_ms: Option<i64>) -> StoredOrder {
        let v =
            serde_json::json!({"phase": phase, "next_due_ms": next_due_ms, "snapshot": {"id": 1}});
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn orders_count_by_phase_and_lateness() {
        let mut s = PollerState::default();
        s.count(&order("pending", None), 100_000);
        s.count(&order("install", Some(40_000)), 100_000);
        s.count(&order("install", Some(130_000)), 100_000);
        s.count(&order("lifecycle", Some(10_000_000)), 100_000);
        assert_eq!(s.tracked, 4);
        assert_eq!(s.by_phase["install"], 2);
        assert_eq!(
            (s.overdue, s.max_overdue_seconds, s.due_next_minute),
            (1, 60, 2)
        );
    }

    #[test]
    fn a_corrupt_due_time_in_the_bucket_saturates_instead_of_overflowing() {
        let mut s = PollerState::default();
        s.count(&order("install", Some(i64::MIN)), 100_000);
        s.count(&order("install", Some(i64::MAX)), 100_000);
        assert_eq!((s.tracked, s.overdue), (2, 1));
        assert_eq!(s.max_overdue_seconds, (i64::MAX / 1000) as u64);
        assert_eq!(s.due_next_minute, 1);
    }

    #[test]
    fn lease_holders_are_read_and_scrubbed() {
        assert_eq!(
            holder(br#"{"holder":"host-1a2b"}"#).as_deref(),
            Some("host-1a2b")
        );
        assert_eq!(holder(br#"{"holder":null}"#), None);
        let shown = holder(br#"{"holder":"LPA:1$a.b$c"}"#).unwrap_or_default();
        assert!(!shown.contains("LPA:"));
    }
}
