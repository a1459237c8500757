//! What a replay did: messages scanned, events matched (total and by type), and the rare
//! exceptions worth telling the operator. `--dry-run` prints exactly this.

use std::collections::BTreeMap;
use std::fmt;

use async_nats::header::HeaderName;
use async_nats::HeaderMap;
use serde::Serialize;

use esim_events::EventType;

/// The header naming the event type.
const TYPE_HEADER: &str = "Esim-Event-Type";

/// Counts of one replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Messages read from the stream (after server-side filters).
    pub scanned: u64,
    /// Events selected (after the client-side order filter): written, republished or counted.
    pub matched: u64,
    /// `matched` by event type (`esim.delivered`, ...; `unknown` if neither header nor subject
    /// says).
    pub by_type: BTreeMap<String, u64>,
    /// Lines whose stored payload carried activation-code material and were written redacted.
    pub redacted: u64,
    /// Copies refused because the (forced, live) target subject already had its event.
    pub already_present: u64,
    /// Stopped by Ctrl-C before the end.
    pub interrupted: bool,
    /// Stopped because the reader of the output went away (`| head`).
    pub output_closed: bool,
}

impl Summary {
    /// Counts one matched event.
    pub fn count(&mut self, headers: Option<&HeaderMap>, subject: &str) {
        self.matched += 1;
        // A static name: no allocation per lookup.
        let name = HeaderName::from_static(TYPE_HEADER);
        let from_header = headers.and_then(|h| h.get(name)).map(|v| v.as_str());
        let from_subject = || {
            let token = subject.rsplit('.').next().unwrap_or_default();
            EventType::parse_loose(token).map_or("unknown", EventType::as_str)
        };
        let name = from_header.unwrap_or_else(from_subject);
        match self.by_type.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.by_type.insert(name.to_owned(), 1);
            }
        }
    }
}

/// The `--dry-run` report: `total N`, then one `<type> N` line per type.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "total {}", self.matched)?;
        for (name, n) in &self.by_type {
            writeln!(f, "{name} {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_header_or_the_subject() {
        let mut s = Summary::default();
        let mut h = HeaderMap::new();
        h.insert(TYPE_HEADER, "esim.installed");
        s.count(Some(&h), "esim.events.1.delivered");
        s.count(None, "esim.events.1.delivered");
        s.count(None, "esim.events.2.delivered");
        s.count(None, "other");
        assert_eq!(s.matched, 4);
        assert_eq!(
            s.to_string(),
            "total 4\nesim.delivered 2\nesim.installed 1\nunknown 1\n"
        );
    }
}
