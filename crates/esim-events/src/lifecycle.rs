//! The six `esim.*` event types and their causal order per ICCID.

use serde::{Deserialize, Serialize};

/// A lifecycle transition the bridge publishes. The serialised form is the full type
/// (`esim.delivered`); [`EventType::token`] is the subject token (`delivered`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "esim.delivered")]
    Delivered,
    #[serde(rename = "esim.installed")]
    Installed,
    #[serde(rename = "esim.activated")]
    Activated,
    #[serde(rename = "esim.depleted")]
    Depleted,
    #[serde(rename = "esim.failed")]
    Failed,
    #[serde(rename = "esim.cancelled")]
    Cancelled,
}

impl EventType {
    /// Every type, in a stable order (used for metrics and docs).
    pub const ALL: [EventType; 6] = [
        Self::Delivered,
        Self::Installed,
        Self::Activated,
        Self::Depleted,
        Self::Failed,
        Self::Cancelled,
    ];

    /// Parses the provider's type string (`esim.delivered`); `None` for anything else.
    pub fn parse(type_name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == type_name)
    }

    /// Parses a subject token or a full type (`delivered` or `esim.delivered`).
    pub fn parse_loose(s: &str) -> Option<Self> {
        Self::parse(s).or_else(|| Self::ALL.into_iter().find(|t| t.token() == s))
    }

    /// The full type name, as in the payload's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "esim.delivered",
            Self::Installed => "esim.installed",
            Self::Activated => "esim.activated",
            Self::Depleted => "esim.depleted",
            Self::Failed => "esim.failed",
            Self::Cancelled => "esim.cancelled",
        }
    }

    /// The subject token: the type without `esim.`.
    pub fn token(self) -> &'static str {
        &self.as_str()["esim.".len()..]
    }

    /// True for the steps of an issued eSIM's life, which are keyed by its ICCID and so cannot
    /// be published without it. `failed` and `cancelled` can happen before an ICCID is issued.
    pub fn needs_iccid(self) -> bool {
        !matches!(self, Self::Failed | Self::Cancelled)
    }

    /// The events that must precede this one for the same ICCID, oldest first.
    ///
    /// `delivered < installed < activated < depleted`; terminal failures have no predecessors.
    /// An observation of a later step implies the earlier ones happened even if nobody saw them,
    /// so they are emitted first (marked inferred) to keep per-ICCID causal order.
    pub fn predecessors(self) -> &'static [EventType] {
        const CHAIN: [EventType; 4] = [
            EventType::Delivered,
            EventType::Installed,
            EventType::Activated,
            EventType::Depleted,
        ];
        match self {
            Self::Delivered => &CHAIN[..0],
            Self::Installed => &CHAIN[..1],
            Self::Activated => &CHAIN[..2],
            Self::Depleted => &CHAIN[..3],
            Self::Failed | Self::Cancelled => &[],
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(EventType::parse_loose(t.token()), Some(t));
            assert!(!t.token().contains('.'));
        }
        assert_eq!(EventType::parse("order.delivered"), None);
    }

    #[test]
    fn causal_chain_is_ordered() {
        assert_eq!(
            EventType::Depleted.predecessors(),
            &[
                EventType::Delivered,
                EventType::Installed,
                EventType::Activated
            ]
        );
        assert!(EventType::Failed.predecessors().is_empty());
    }
}
