//! Target `upstream_responses`: what a provider answers — list, detail, auth and error bodies
//! and their headers (`Retry-After`, `X-Has-More`, `X-Total-Pages`) — through the poller's
//! wire parsing ([`esim_bridge::provider::wire`]) and on to the events an order implies.
//!
//! Input: one selector byte, header lines (`Name: value`) up to an empty line, then the body.
//! Properties: no panic (overflow included) through parsing, the sanity gate, normalising,
//! tracking and the cadence arithmetic on provider dates; a 429's wait is capped at an hour;
//! no activation code in any event, subject, header or error text. And the hostile provider
//! of issue 16: a page never admits more than the `per_page` asked for; a page served again
//! (a provider ignoring `page` or claiming more forever) always ends the reading; a granted
//! token can always be sent as a header value; an order listed again under another ICCID is
//! always a change; a burst of 404s never confirms an order vanished.

use std::sync::LazyLock;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;

use super::{oracle, webhook};
use esim_bridge::config::CadenceConfig;
use esim_bridge::ingest::poller::Cadence;
use esim_bridge::ingest::poller::Tracked;
use esim_bridge::ingest::poller::{wait_of, Learned, Rates};
use esim_bridge::ingest::poller::{Suspects, Suspicion};
use esim_bridge::provider::sanity;
use esim_bridge::provider::wire;
use esim_bridge::provider::ClientError;
use esim_bridge::provider::Paging;
use esim_events::OrderData;
use esim_normalise::normalise;

/// Headers parsed from one input at most.
const MAX_HEADERS: usize = 32;
/// The longest wait a 429 may impose (issue 8, finding 1).
const MAX_RETRY_AFTER: Duration = wire::MAX_RETRY_AFTER;

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (headers, body) = split(rest);
    let page = u32::from(selector >> 3);
    let per_page = u32::from(selector & 0x07).saturating_mul(25).max(1);
    let observed = OffsetDateTime::from_unix_timestamp(webhook::NOW as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);

    let wait = wire::retry_after(&headers, body);
    assert!(
        wait <= MAX_RETRY_AFTER,
        "Retry-After of {wait:?} not capped"
    );
    let fatal = ClientError::Fatal {
        status: 400,
        code: wire::error_code(body),
    };
    oracle::assert_clean("provider error", &fatal.to_string());

    match wire::order(body) {
        Ok(order) => snapshot(None, &order, observed),
        Err(e) => oracle::assert_clean("detail error", &e.to_string()),
    }
    match wire::list_page(&headers, body, page, per_page) {
        Ok((items, more)) => {
            let asked = usize::try_from(per_page).unwrap_or(usize::MAX);
            assert!(items.len() <= asked, "a page of {} admitted", items.len());
            let mut previous: Option<&OrderData> = None;
            for order in items.orders.iter().take(64) {
                snapshot(previous, order, observed);
                iccid_change(previous, order);
                previous = Some(order);
            }
            served_again(&items, more);
        }
        Err(e) => oracle::assert_clean("list error", &e.to_string()),
    }
    let _ = wire::has_more(&headers, page, usize::from(selector), per_page);
    match wire::grant(body) {
        Ok(g) => {
            let header = format!("Bearer {}", g.access.expose());
            assert!(
                HeaderValue::from_str(&header).is_ok(),
                "an unsendable token granted"
            );
        }
        Err(e) => oracle::assert_clean("grant error", &e.to_string()),
    }
    not_found_burst(selector);
}

/// The same page served twice (as by a provider that ignores `page`) ends the reading at the
/// second, whatever its headers claim.
fn served_again(items: &wire::Items, more: bool) {
    let ids: Vec<u64> = items
        .orders
        .iter()
        .map(|o| o.id)
        .chain(items.unfit.iter().map(|u| u.0))
        .collect();
    let mut paging = Paging::new(u32::MAX);
    for _ in 0..2 {
        for &id in &ids {
            paging.see(id);
        }
        if paging.turn(more).is_err() {
            return;
        }
    }
    panic!("a page served again did not end the reading");
}

/// An order whose ICCID differs from the one first seen for it is a change (the engine
/// quarantines it instead of publishing under the new one).
fn iccid_change(previous: Option<&OrderData>, order: &OrderData) {
    let Some(first) = previous else { return };
    let mut tracked = Tracked::new();
    tracked.learn(first);
    let changed = matches!((&first.iccid, &order.iccid), (Some(a), Some(b)) if a != b);
    assert_eq!(
        tracked.iccid_changed(order),
        changed,
        "ICCID change misjudged"
    );
}

/// However many 404s arrive at once, they never confirm an order vanished: confirmation
/// takes time (a provider replica's lag is not a deletion).
fn not_found_burst(selector: u8) {
    let mut suspects = Suspects::default();
    let now = tokio::time::Instant::now();
    for _ in 0..=selector % 16 {
        assert_ne!(
            suspects.not_found(7, now),
            Suspicion::Confirmed,
            "a burst confirmed"
        );
    }
}

/// What the poller does with one order snapshot: the sanity gate (else quarantine), the
/// events it implies, checked as they would be published, then the tracking state and the
/// cadence arithmetic on the provider's dates.
fn snapshot(previous: Option<&OrderData>, order: &OrderData, observed: OffsetDateTime) {
    oracle::assert_clean_json("order", &serde_json::to_vec(order).unwrap_or_default());
    if sanity::check(order).is_err() {
        return;
    }
    let events = match normalise::from_snapshots(previous, order, observed) {
        Ok(events) => events,
        Err(e) => return oracle::assert_clean("snapshot error", &e.to_string()),
    };
    webhook::check_events(&events);
    let mut tracked = Tracked::new();
    if let Some(p) = previous {
        tracked.learn(p);
    }
    tracked.apply(&events, order);
    static CADENCE: LazyLock<Cadence> = LazyLock::new(|| Cadence::new(CadenceConfig::default()));
    let next = CADENCE.next(&tracked, observed);
    let _ = CADENCE.early(&tracked, next, observed);
    learned_schedule(&tracked, observed);
}

/// The learned schedule's arithmetic on the provider's dates: the wait's age counted into an
/// estimate, and the next read always within the schedule's bounds.
fn learned_schedule(tracked: &Tracked, observed: OffsetDateTime) {
    const BOUNDS: (Duration, Duration) = (Duration::from_secs(30), Duration::from_secs(6 * 3600));
    static RATES: LazyLock<Rates> = LazyLock::new(|| {
        let mut l = Learned::default();
        for age in [20.0, 90.0, 600.0, 7200.0, 86_400.0] {
            for _ in 0..20 {
                l.install.event(age);
                l.activation.event(age);
            }
        }
        Rates::compute(&l, [&[0.0, 300.0], &[60.0]], 3.0, |_, _| 0.0, BOUNDS)
    });
    let Some((wait, since)) = wait_of(tracked) else {
        return;
    };
    let age = observed.unix_timestamp().saturating_sub(since) as f64;
    let mut l = Learned::default();
    l.get_mut(wait).event(age);
    l.get_mut(wait).censored(age);
    let interval = RATES.interval(wait, age);
    assert!(
        interval.is_some_and(|i| (BOUNDS.0..=BOUNDS.1).contains(&i)),
        "learned interval {interval:?} at age {age}"
    );
}

/// Header lines up to the first empty line, then the body.
fn split(raw: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let mut rest = raw;
    while let Some(end) = rest.iter().position(|b| *b == b'\n') {
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.is_empty() || line == b"\r" {
            return (headers, rest);
        }
        if headers.len() >= MAX_HEADERS {
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(line[..colon].trim_ascii()),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(n, v);
        }
    }
    (headers, rest)
}
