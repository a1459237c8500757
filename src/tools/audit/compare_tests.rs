//! The comparison rules, one scenario each.

use serde_json::json;

use super::*;

const ICCID: &str = "8910300000123456789";

fn order(v: serde_json::Value) -> OrderData {
    serde_json::from_value(v).unwrap()
}

fn delivered(extra: serde_json::Value) -> OrderData {
    let mut v = json!({"id": 7, "status": "DELIVERED", "iccid": ICCID});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    order(v)
}

fn held(sequence: u64, key: &str, event: EventType) -> Held {
    Held {
        sequence,
        key: key.into(),
        event,
        order_id: Some(7),
        inferred: false,
        repaired: false,
    }
}

fn classes(f: &[Finding]) -> Vec<(Class, Option<EventType>)> {
    f.iter().map(|f| (f.class, f.event)).collect()
}

#[test]
fn a_complete_history_is_ok() {
    let o = delivered(json!({"is_installed": true, "activation_status": "ACTIVE"}));
    let h = [
        held(1, ICCID, EventType::Delivered),
        held(2, ICCID, EventType::Installed),
        held(3, ICCID, EventType::Activated),
    ];
    let refs: Vec<&Held> = h.iter().collect();
    assert!(compare(&o, true, &refs, "esim", no_settle()).is_empty());
}

#[test]
fn every_implied_step_the_stream_lacks_is_missing_with_its_subject() {
    let o = delivered(json!({"is_installed": true, "activation_status": "ACTIVE"}));
    let h = [held(3, ICCID, EventType::Activated)];
    let refs: Vec<&Held> = h.iter().collect();
    let f = compare(&o, true, &refs, "esim", no_settle());
    assert_eq!(
        classes(&f),
        vec![
            (Class::Missing, Some(EventType::Delivered)),
            (Class::Missing, Some(EventType::Installed)),
        ]
    );
    assert_eq!(
        f[1].subject.as_deref(),
        Some(format!("esim.events.{ICCID}.installed").as_str())
    );
}

#[test]
fn an_installed_event_the_fresh_provider_denies_is_contradicted_unless_inferred() {
    let o = delivered(json!({"is_installed": false, "activation_status": "NOT_INSTALLED"}));
    let mut h = [
        held(1, ICCID, EventType::Delivered),
        held(2, ICCID, EventType::Installed),
    ];
    let refs: Vec<&Held> = h.iter().collect();
    let f = compare(&o, true, &refs, "esim", no_settle());
    assert_eq!(
        classes(&f),
        vec![(Class::Contradicted, Some(EventType::Installed))]
    );
    // A stale list snapshot cannot deny an install.
    assert!(compare(&o, false, &refs, "esim", no_settle()).is_empty());
    h[1].inferred = true;
    let refs: Vec<&Held> = h.iter().collect();
    assert!(compare(&o, true, &refs, "esim", no_settle()).is_empty());
}

#[test]
fn an_order_under_two_keys_is_split_and_not_missing() {
    let o = order(json!({"id": 7, "status": "FAILED", "iccid": ICCID}));
    let h = [
        held(1, "order-7", EventType::Failed),
        held(2, ICCID, EventType::Failed),
    ];
    let refs: Vec<&Held> = h.iter().collect();
    let f = compare(&o, true, &refs, "esim", no_settle());
    assert_eq!(classes(&f), vec![(Class::SplitKeys, None)]);
    assert_eq!(f[0].keys, vec![ICCID.to_owned(), "order-7".to_owned()]);
}

#[test]
fn a_later_step_stored_first_is_out_of_order_unless_repaired() {
    let o = delivered(json!({"is_installed": true}));
    let mut h = [
        held(1, ICCID, EventType::Installed),
        held(2, ICCID, EventType::Delivered),
    ];
    let refs: Vec<&Held> = h.iter().collect();
    assert_eq!(
        classes(&compare(&o, true, &refs, "esim", no_settle())),
        vec![(Class::OutOfOrder, None)]
    );
    h[1].repaired = true;
    let refs: Vec<&Held> = h.iter().collect();
    assert!(compare(&o, true, &refs, "esim", no_settle()).is_empty());
}

#[test]
fn pending_orders_imply_nothing_and_delivered_before_a_failure_is_history() {
    let pending = order(json!({"id": 7, "status": "PENDING"}));
    assert!(compare(&pending, false, &[], "esim", no_settle()).is_empty());
    let failed = order(json!({"id": 7, "status": "FAILED", "iccid": ICCID}));
    let h = [
        held(1, ICCID, EventType::Delivered),
        held(2, ICCID, EventType::Failed),
    ];
    let refs: Vec<&Held> = h.iter().collect();
    assert!(compare(&failed, false, &refs, "esim", no_settle()).is_empty());
}

#[test]
fn events_under_another_iccid_or_another_orders_events_under_ours_are_an_iccid_change() {
    let o = delivered(json!({"is_installed": true}));
    let before = "8910300000000000001";
    let h = [held(1, before, EventType::Delivered)];
    let refs: Vec<&Held> = h.iter().collect();
    let f = iccid_changed(&o, true, &refs, false).expect("a changed ICCID");
    assert_eq!(f.class, Class::IccidChanged);
    assert_eq!(f.keys, [before, ICCID]);
    assert_eq!(f.stored.len(), 1);
    let mine = [
        held(1, ICCID, EventType::Delivered),
        held(2, "order-7", EventType::Failed),
    ];
    let refs: Vec<&Held> = mine.iter().collect();
    assert_eq!(iccid_changed(&o, true, &refs, false), None);
    let taken = iccid_changed(&o, true, &refs, true).expect("our ICCID holds another order");
    assert!(taken.stored.is_empty(), "{taken:?}");
    let no_iccid = order(json!({"id": 7, "status": "FAILED"}));
    assert_eq!(iccid_changed(&no_iccid, true, &[], true), None);
}

fn no_settle() -> Settle {
    Settle::none(time::OffsetDateTime::now_utc())
}

#[test]
fn an_absent_step_that_may_be_younger_than_the_settle_window_is_pending() {
    use std::time::Duration;
    let now = time::macros::datetime!(2026-05-16 12:00 UTC);
    let settle = |window_mins: u64| Settle {
        now,
        window: Duration::from_secs(window_mins * 60),
    };
    // Installed 50 minutes ago, delivered (placed) two hours ago; only `delivered` stored.
    let o = delivered(json!({
        "created_at": "2026-05-16T10:00:00Z",
        "is_installed": true,
        "installed_at": "2026-05-16T11:10:00Z",
    }));
    let h = [held(1, ICCID, EventType::Delivered)];
    let refs: Vec<&Held> = h.iter().collect();
    let judged = |minutes| classes(&compare(&o, true, &refs, "esim", settle(minutes)));
    assert_eq!(judged(60), [(Class::Pending, Some(EventType::Installed))]);
    assert_eq!(judged(30), [(Class::Missing, Some(EventType::Installed))]);
    assert_eq!(judged(0), [(Class::Missing, Some(EventType::Installed))]);
    // A step without a timestamp of its own is as old as the latest step before it.
    let o = delivered(json!({"created_at": "2026-05-16T11:30:00Z"}));
    let judged = |minutes| classes(&compare(&o, true, &[], "esim", settle(minutes)));
    assert_eq!(judged(60), [(Class::Pending, Some(EventType::Delivered))]);
    assert_eq!(judged(20), [(Class::Missing, Some(EventType::Delivered))]);
    // Nothing to date it by: missing.
    let o = delivered(json!({}));
    let judged = classes(&compare(&o, true, &[], "esim", settle(600)));
    assert_eq!(judged, [(Class::Missing, Some(EventType::Delivered))]);
}
