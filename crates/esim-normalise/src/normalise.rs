//! From what a source observed to the events it implies, in causal order.
//!
//! - [`parse_envelope`] + [`from_webhook`]: the provider's webhook envelope.
//! - [`from_snapshots`]: the poller's diff of two order snapshots.
//!
//! Both emit the missing earlier steps of the chain `delivered < installed < activated <
//! depleted` before the observed one, marked `inferred`. Re-emitting a step that was already
//! published is harmless: the publisher stores one message per subject.

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use esim_events::json_fault::JsonFault;
use esim_events::key::KeyError;
use esim_events::lifecycle::EventType;
use esim_events::order::{ActivationStatus, OrderData, OrderStatus};
use esim_events::schema::{Event, SchemaError, Source};
use esim_events::timestamp::Timestamp;

/// Why a webhook body cannot be normalised (all answered 400).
#[derive(Debug, thiserror::Error)]
pub enum NormaliseError {
    /// Value-free ([`JsonFault`]): serde's own message would quote the offending value.
    #[error("body is not a JSON webhook envelope: {0}")]
    Envelope(JsonFault),
    #[error("`data` is not a valid order: {0}")]
    Data(JsonFault),
    #[error("`created_at` is not an RFC 3339 timestamp")]
    CreatedAt,
    /// A date outside 2000..2100 ([`Timestamp::is_plausible`]): `created_at`, or the order's
    /// `created_at`, `installed_at` or `activated_at` (the field is named, never the value).
    #[error("`{0}` is outside the years 2000..2100")]
    DateOutOfRange(&'static str),
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// The provider's webhook envelope, with `data` left raw until the type is known.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    data: Box<RawValue>,
}

/// What a verified webhook turns into.
#[derive(Debug)]
pub enum Normalised {
    /// Events to publish, oldest first; the last one is the webhook's own.
    Publish(Vec<Event>),
    /// A well-formed event of a type the bridge does not publish (vouchers, wallet, or an
    /// `esim.*` type added after this version): acknowledged and counted, nothing published.
    Ignored,
}

/// Parses the envelope; required fields missing or not JSON → error.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, NormaliseError> {
    serde_json::from_slice(body).map_err(|e| NormaliseError::Envelope(JsonFault::of(&e)))
}

/// Normalises a verified webhook envelope.
pub fn from_webhook(env: &Envelope) -> Result<Normalised, NormaliseError> {
    let Some(event_type) = EventType::parse(&env.event_type) else {
        return Ok(Normalised::Ignored);
    };
    let data: OrderData = crate::fields::parse_order(env.data.get())
        .map_err(|e| NormaliseError::Data(JsonFault::of(&e)))?;
    let created_at = Timestamp::parse(&env.created_at).ok_or(NormaliseError::CreatedAt)?;
    let dates = [
        ("created_at", Some(created_at)),
        ("data.created_at", data.created_at),
        ("data.installed_at", data.installed_at),
        ("data.activated_at", data.activated_at),
    ];
    if let Some((field, _)) = dates
        .into_iter()
        .find(|(_, d)| d.is_some_and(|d| !d.is_plausible()))
    {
        return Err(NormaliseError::DateOutOfRange(field));
    }
    let mut events = Vec::with_capacity(4);
    for &earlier in event_type.predecessors() {
        let at = step_time(&data, earlier).unwrap_or(created_at);
        events.push(inferred(earlier, &data, at, Source::Webhook)?);
    }
    events.push(Event::new(event_type, data, created_at, Source::Webhook)?);
    Ok(Normalised::Publish(events))
}

/// The events implied by `current` that `previous` did not already imply, oldest first.
///
/// `observed_at` is when the poller read `current`; it times transitions that the snapshot
/// itself does not date.
///
/// An order's ICCID never changes: when `current` lacks it, `previous`'s is used. When neither
/// has it and a step needs it (or the order is failed/cancelled after its delivery was
/// published), the answer is [`KeyError::MissingIccid`] and
/// nothing is emitted: the caller resolves the ICCID (a detail read) and tries again, so no
/// step is ever stored under a second key.
pub fn from_snapshots(
    previous: Option<&OrderData>,
    current: &OrderData,
    observed_at: OffsetDateTime,
) -> Result<Vec<Event>, SchemaError> {
    let resolved;
    let current = match (&current.iccid, previous.and_then(|p| p.iccid.as_ref())) {
        (None, Some(known)) => {
            resolved = OrderData {
                iccid: Some(known.clone()),
                ..current.clone()
            };
            &resolved
        }
        _ => current,
    };
    let issued = previous.is_some_and(|p| implies(p, EventType::Delivered));
    let observed = Timestamp::from_datetime(observed_at).ok_or(SchemaError::Time)?;
    let seen_before = |t: EventType| previous.is_some_and(|p| implies(p, t));
    let mut events = Vec::new();
    for t in steps(current) {
        if seen_before(t) {
            continue;
        }
        if issued && current.iccid.is_none() {
            // Failed or cancelled after delivery: the eSIM's key is its ICCID, not the order.
            return Err(KeyError::MissingIccid { event: t }.into());
        }
        let at = step_time(current, t)
            .or_else(|| previous.is_none().then_some(current.created_at).flatten())
            .unwrap_or(observed);
        let event = if has_evidence(current, t) {
            Event::new(t, current.clone(), at, Source::Poll)?
        } else {
            inferred(t, current, at, Source::Poll)?
        };
        events.push(event);
    }
    Ok(events)
}

/// Every step a snapshot implies, oldest first.
pub fn steps(order: &OrderData) -> Vec<EventType> {
    match order.status {
        Some(OrderStatus::Failed) => return vec![EventType::Failed],
        Some(OrderStatus::Cancelled) => return vec![EventType::Cancelled],
        _ => {}
    }
    let latest = [
        EventType::Depleted,
        EventType::Activated,
        EventType::Installed,
        EventType::Delivered,
    ]
    .into_iter()
    .find(|t| has_evidence(order, *t));
    match latest {
        Some(t) => t.predecessors().iter().copied().chain([t]).collect(),
        None => Vec::new(),
    }
}

/// True if the snapshot implies that `t` has happened.
pub fn implies(order: &OrderData, t: EventType) -> bool {
    steps(order).contains(&t)
}

/// True if the snapshot shows `t` directly, not just through a later step.
fn has_evidence(o: &OrderData, t: EventType) -> bool {
    let activation = o.activation_status;
    match t {
        EventType::Delivered => o.status == Some(OrderStatus::Delivered),
        EventType::Installed => o.is_installed == Some(true) || o.installed_at.is_some(),
        EventType::Activated => {
            activation == Some(ActivationStatus::Active) || o.activated_at.is_some()
        }
        EventType::Depleted => activation == Some(ActivationStatus::Expired),
        EventType::Failed => o.status == Some(OrderStatus::Failed),
        EventType::Cancelled => o.status == Some(OrderStatus::Cancelled),
    }
}

/// The timestamp a snapshot gives for a step, if any.
fn step_time(o: &OrderData, t: EventType) -> Option<Timestamp> {
    match t {
        EventType::Installed => o.installed_at,
        EventType::Activated => o.activated_at,
        _ => None,
    }
}

fn inferred(
    t: EventType,
    data: &OrderData,
    at: Timestamp,
    source: Source,
) -> Result<Event, SchemaError> {
    let mut data = data.clone();
    data.inferred = Some(true);
    Event::new(t, data, at, source)
}
