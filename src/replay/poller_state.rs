//! The poller's state bucket (`nats.state_bucket`) as `status` shows it.
//!
//! Until the poller's own record types are shared, this reads the bucket generically: how many
//! keys, grouped by their first dot-separated segment (one group per kind of record), and the
//! leader lease (a key named `lease` or `leader`, or ending so): its holder as stored, and how
//! long ago it was renewed. Values are scrubbed and shortened before they are shown.

use std::collections::BTreeMap;
use std::fmt;

use async_nats::jetstream::Context;
use futures::StreamExt;
use serde::Serialize;
use time::OffsetDateTime;

use super::guard;
use super::status::{is_not_found, StatusError};

/// Longest value shown for the lease.
const MAX_SHOWN: usize = 200;

/// What the bucket holds.
#[derive(Debug, Clone, Serialize)]
pub struct PollerState {
    pub bucket: String,
    /// Live keys (deleted and purged keys excluded).
    pub keys: u64,
    /// Keys by their first segment (`order.123` counts under `order`).
    pub groups: BTreeMap<String, u64>,
    pub lease: Option<Lease>,
}

/// The leader lease record.
#[derive(Debug, Clone, Serialize)]
pub struct Lease {
    pub key: String,
    /// The stored value (the holder), scrubbed and shortened.
    pub value: String,
    /// Seconds since it was last written.
    pub age_seconds: i64,
}

/// Reads the bucket; `None` if it does not exist.
pub async fn read(js: &Context, bucket: &str) -> Result<Option<PollerState>, StatusError> {
    let failed = |reason: String| StatusError::Bucket {
        bucket: bucket.to_owned(),
        reason,
    };
    match js.get_stream(format!("KV_{bucket}")).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(failed(e.to_string())),
    }
    let store = js
        .get_key_value(bucket)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut keys = store.keys().await.map_err(|e| failed(e.to_string()))?;
    let mut state = PollerState {
        bucket: bucket.to_owned(),
        keys: 0,
        groups: BTreeMap::new(),
        lease: None,
    };
    let mut lease_key = None;
    while let Some(key) = keys.next().await {
        let key = key.map_err(|e| failed(e.to_string()))?;
        state.keys += 1;
        let group = key.split('.').next().unwrap_or_default();
        *state.groups.entry(group.to_owned()).or_default() += 1;
        if lease_key.is_none() && is_lease(&key) {
            lease_key = Some(key);
        }
    }
    if let Some(key) = lease_key {
        let entry = store.entry(&key).await.map_err(|e| failed(e.to_string()))?;
        state.lease = entry.map(|entry| Lease {
            value: shown(&entry.value),
            age_seconds: (OffsetDateTime::now_utc() - entry.created).whole_seconds(),
            key,
        });
    }
    Ok(Some(state))
}

fn is_lease(key: &str) -> bool {
    let last = key
        .rsplit(['.', '/'])
        .next()
        .unwrap_or(key)
        .to_ascii_lowercase();
    last.ends_with("lease") || last.ends_with("leader")
}

fn shown(value: &[u8]) -> String {
    let line = guard::line(value);
    let text = String::from_utf8_lossy(line.bytes());
    match text.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

impl fmt::Display for PollerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "poller state {}", self.bucket)?;
        match &self.lease {
            Some(l) => writeln!(f, "  lease: {} (written {}s ago)", l.value, l.age_seconds)?,
            None => writeln!(f, "  lease: none")?,
        }
        writeln!(f, "  keys: {}", self.keys)?;
        for (group, n) in &self.groups {
            writeln!(f, "    {group}: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_keys_are_recognised() {
        for key in ["lease", "poller.lease", "leader", "poller/Leader"] {
            assert!(is_lease(key), "{key}");
        }
        assert!(!is_lease("order.123"));
    }

    #[test]
    fn shown_values_are_scrubbed_and_short() {
        assert!(!shown(br#"{"x":"LPA:1$a.b$c"}"#).contains("LPA:"));
        assert_eq!(shown(&[b'a'; 500]).chars().count(), MAX_SHOWN + 1);
    }
}
