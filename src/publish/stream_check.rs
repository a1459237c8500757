//! What an existing events stream must promise before the bridge writes to it.
//!
//! Exactly-once rests on the stream keeping each subject's one message: a publish carries
//! `Nats-Expected-Last-Subject-Sequence: 0`, which refuses a second event only while the first
//! is still stored. So a setting that removes a stored event before `nats.max_age`, or never
//! stores it, breaks both promises at once: a 2xx for an event that is gone, and a re-sent event
//! stored twice. [`check`] refuses such a stream at start (exit 1, naming the setting); the
//! docs/configuration.md lists the same rules.
//!
//! Not checked, on purpose: `max_msgs_per_subject` (the bridge stores at most one message per
//! subject, so any limit, 1 included, keeps every event), `discard: new` with any limit (a full
//! stream refuses new events, answered 503 and retried; nothing stored is removed), and
//! `deny_delete`/`deny_purge` (an operator's own deletions are theirs to make).

use std::time::Duration;

use async_nats::jetstream::stream::{Config as StreamConfig, DiscardPolicy, RetentionPolicy};

use crate::config::NatsConfig;

/// One setting of an existing stream that breaks the bridge's promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeStreamSetting {
    /// The stream setting, as `nats stream info` names it.
    pub setting: &'static str,
    /// Its value on the stream.
    pub found: String,
    /// What the bridge requires instead.
    pub required: String,
    /// What would go wrong with the found value.
    pub why: &'static str,
}

/// Checks an existing stream's settings against what the bridge promises (see the module doc).
pub fn check(found: &StreamConfig, cfg: &NatsConfig) -> Result<(), UnsafeStreamSetting> {
    if found.retention != RetentionPolicy::Limits {
        return Err(UnsafeStreamSetting {
            setting: "retention",
            found: retention_name(found.retention).into(),
            required: "limits".into(),
            why:
                "interest and work-queue retention delete an event once consumers acknowledged it \
                  (or at once, with none): a 2xx would mean nothing is kept",
        });
    }
    if found.no_ack {
        return Err(UnsafeStreamSetting {
            setting: "no_ack",
            found: "true".into(),
            required: "false".into(),
            why: "the bridge answers 2xx only once the server acknowledged the event",
        });
    }
    if found.sealed {
        return Err(UnsafeStreamSetting {
            setting: "sealed",
            found: "true".into(),
            required: "false".into(),
            why: "a sealed stream stores nothing: every event would be refused",
        });
    }
    if !found.max_age.is_zero() && found.max_age < cfg.max_age {
        return Err(UnsafeStreamSetting {
            setting: "max_age",
            found: duration(found.max_age),
            required: format!(
                "at least nats.max_age ({}), or 0 (unlimited)",
                duration(cfg.max_age)
            ),
            why: "events would vanish before nats.max_age, and a re-sent one would be stored again",
        });
    }
    let limited = [
        ("max_msgs", found.max_messages),
        ("max_bytes", found.max_bytes),
    ]
    .into_iter()
    .find(|&(_, limit)| limit > 0);
    if let (DiscardPolicy::Old, Some((limit, value))) = (found.discard, limited) {
        return Err(UnsafeStreamSetting {
            setting: "discard",
            found: format!("old (with {limit} {value})"),
            required: format!("new, or no {limit} limit"),
            why: "a full stream would silently delete its oldest events, and a re-sent one would \
                  be stored again",
        });
    }
    Ok(())
}

fn retention_name(r: RetentionPolicy) -> &'static str {
    match r {
        RetentionPolicy::Limits => "limits",
        RetentionPolicy::Interest => "interest",
        RetentionPolicy::WorkQueue => "workqueue",
    }
}

/// Whole seconds, the way the config writes durations (`7776000s`).
fn duration(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::desired_stream;

    fn setting(tweak: impl FnOnce(&mut StreamConfig)) -> Option<&'static str> {
        let cfg = NatsConfig::default();
        let mut found = desired_stream(&cfg);
        tweak(&mut found);
        check(&found, &cfg).err().map(|u| u.setting)
    }

    #[test]
    fn the_stream_the_bridge_creates_passes_its_own_check() {
        assert_eq!(setting(|_| {}), None);
        assert_eq!(setting(|s| s.max_age = Duration::ZERO), None, "unlimited");
        assert_eq!(setting(|s| s.max_messages_per_subject = 1), None);
        let bounded_new = |s: &mut StreamConfig| {
            s.discard = DiscardPolicy::New;
            s.max_messages = 10;
            s.max_bytes = 1 << 20;
        };
        assert_eq!(
            setting(bounded_new),
            None,
            "a full stream refuses, removes nothing"
        );
    }

    #[test]
    fn each_unsafe_setting_is_named() {
        let interest = |s: &mut StreamConfig| s.retention = RetentionPolicy::Interest;
        assert_eq!(setting(interest), Some("retention"));
        let queue = |s: &mut StreamConfig| s.retention = RetentionPolicy::WorkQueue;
        assert_eq!(setting(queue), Some("retention"));
        assert_eq!(setting(|s| s.no_ack = true), Some("no_ack"));
        assert_eq!(setting(|s| s.sealed = true), Some("sealed"));
        let short = |s: &mut StreamConfig| s.max_age = Duration::from_secs(2);
        assert_eq!(setting(short), Some("max_age"));
        assert_eq!(setting(|s| s.max_messages = 10), Some("discard"));
        assert_eq!(setting(|s| s.max_bytes = 1 << 20), Some("discard"));
    }
}
