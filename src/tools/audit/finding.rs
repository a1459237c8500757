//! What the audit reports: one [`Finding`] per problem (one NDJSON line each), in a handful
//! of [`Class`]es, plus what a repair did about it.

use serde::Serialize;

use crate::tools::output::{self, NdjsonWriter, OutputError};

use esim_events::order::{ActivationStatus, OrderStatus};
use esim_events::{EventType, OrderData};

/// The kind of a finding. `ok` is an order with none (counted, never written as a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Every event the provider's state implies is in the stream, and nothing else is wrong.
    Ok,
    /// The provider's state implies an event the stream does not hold yet, but the step may be
    /// younger than the settle window (`--settle`): the bridge may not have seen it yet (the
    /// poller looks at an order on a schedule). Not a finding, never repaired.
    Pending,
    /// The provider's state implies an event that no key of the order holds.
    Missing,
    /// The stream holds an event (not marked inferred) that the provider's state denies.
    Contradicted,
    /// The order's events are stored under more than one subject key.
    SplitKeys,
    /// Under one key, stream order disagrees with lifecycle order.
    OutOfOrder,
    /// The provider listed the order but its detail could not be read or processed.
    Unreadable,
    /// The provider names another ICCID for the order than the stream holds its events
    /// under, or the order's ICCID holds another order's events. Nothing else is judged and
    /// nothing is repaired: a repair would put one eSIM's events under another's key.
    IccidChanged,
}

impl Class {
    /// Every class, in table order.
    pub const ALL: [Class; 8] = [
        Self::Ok,
        Self::Pending,
        Self::Missing,
        Self::Contradicted,
        Self::SplitKeys,
        Self::OutOfOrder,
        Self::Unreadable,
        Self::IccidChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Pending => "pending",
            Self::Missing => "missing",
            Self::Contradicted => "contradicted",
            Self::SplitKeys => "split_keys",
            Self::OutOfOrder => "out_of_order",
            Self::Unreadable => "unreadable",
            Self::IccidChanged => "iccid_changed",
        }
    }
}

/// The provider's side of an order, as far as a finding needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_status: Option<ActivationStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_installed: Option<bool>,
    /// True if read by a detail GET (install state refreshed); false if from the list.
    pub fresh: bool,
}

impl ProviderState {
    pub fn of(order: &OrderData, fresh: bool) -> Self {
        Self {
            status: order.status,
            activation_status: order.activation_status,
            is_installed: order.is_installed,
            fresh,
        }
    }
}

/// One stored event, as a finding cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cited {
    pub sequence: u64,
    pub key: String,
    pub event: EventType,
}

/// What `--repair` did about a missing transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Repair {
    /// Published now, at this stream sequence.
    Written { sequence: u64 },
    /// The server already held the subject (or still remembered its msg-id): nothing written.
    AlreadyPresent,
    /// Not something publishing can fix (no ICCID for a step that needs one).
    NotRepairable,
}

/// One problem with one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub class: Class,
    pub order_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    /// The event concerned (missing, contradicted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<EventType>,
    /// The subject the event belongs on (missing) or is stored on (contradicted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Every key holding events of the order (split keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// The stored events concerned, in stream order (out of order, split keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stored: Vec<Cited>,
    pub provider: ProviderState,
    /// One sentence for a person.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair: Option<Repair>,
}

impl Finding {
    /// A finding of `class` about `order` with everything optional left empty.
    pub fn new(class: Class, order: &OrderData, fresh: bool, detail: String) -> Self {
        Self {
            class,
            order_id: order.id,
            iccid: order.iccid.as_ref().map(|i| i.as_str().to_owned()),
            event: None,
            subject: None,
            keys: Vec::new(),
            stored: Vec::new(),
            provider: ProviderState::of(order, fresh),
            detail,
            repair: None,
        }
    }
}

/// Writes findings as NDJSON lines, each through the replay guard. If the reader went away
/// (`| head`), the audit goes on without output: the table and exit code still tell.
pub(super) async fn emit(
    out: &mut Option<NdjsonWriter>,
    findings: &[Finding],
) -> Result<(), OutputError> {
    let Some(writer) = out else { return Ok(()) };
    for f in findings {
        // A finding is strings, numbers and enums: serialising it cannot fail.
        let line = serde_json::to_vec(f).unwrap_or_default();
        match writer.write(&line).await {
            Ok(()) => {}
            Err(e) if output::is_closed(&e) => {
                *out = None;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
