//! The engine against a provider that would lose events without an error (issue 16), in
//! virtual time: an order answered 404 for good is dropped only after the confirmation
//! window, and quarantined `vanished`; a list that invents a new page forever does not starve
//! install checks.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use super::hostile::{delivered, detail, ids, script, Fake, FakeRun};
use esim_bridge::ingest::poller::PAGES_PER_TURN;
use esim_bridge::ingest::poller::{CONFIRM_OVER, CONFIRM_READS, RECHECK};
use esim_bridge::provider::sanity::Reason;
use esim_events::EventType;

#[tokio::test(start_paused = true)]
async fn an_order_answered_404_for_good_is_quarantined_as_vanished_only_after_minutes() {
    let fake = script(&[(1, delivered(1, "8910300000000000001", ""))]);
    let run = FakeRun::start(&fake, &[]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Admitted from the list; from now on every detail read answers 404.
    fake.lock().unwrap().details.clear();
    tokio::time::sleep(CONFIRM_OVER - Duration::from_secs(60)).await;
    assert!(
        run.memory.quarantined.lock().unwrap().is_empty(),
        "dropped before the 404 was confirmed"
    );
    let suspected = fake.lock().unwrap().detail_reads.get(&1).copied();
    assert!(suspected >= Some(CONFIRM_READS), "{suspected:?}");
    tokio::time::sleep(RECHECK * 2).await;
    let (events, quarantined) = run.finish().await;
    assert_eq!(ids(&events), [1], "its delivery was published before");
    let reasons: Vec<(u64, Reason)> = quarantined.iter().map(|(id, q)| (*id, q.reason)).collect();
    assert_eq!(reasons, [(1, Reason::Vanished)]);
    let reads = fake
        .lock()
        .unwrap()
        .detail_reads
        .get(&1)
        .copied()
        .unwrap_or(0);
    assert!(reads <= 2 * CONFIRM_READS + 2, "{reads} detail reads");
}

/// Page `n` lists one new failed order (id `1000 + n`), and always claims more; page 1 also
/// lists order 1, delivered.
async fn endless_new_pages(State(fake): State<Fake>, RawQuery(q): RawQuery) -> impl IntoResponse {
    let page = q
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("page=")?.parse::<u64>().ok())
        .unwrap_or(1);
    let failed = delivered(1000 + page, "8910300000000000999", "").replace("DELIVERED", "FAILED");
    let mut items = vec![failed];
    if page == 1 {
        items.push(fake.lock().unwrap().list.clone());
    }
    let mut h = HeaderMap::new();
    h.insert("x-has-more", "true".parse().unwrap());
    (h, format!("[{}]", items.join(",")))
}

#[tokio::test(start_paused = true)]
async fn a_list_inventing_new_pages_forever_leaves_reads_to_install_checks() {
    let order = delivered(1, "8910300000000000001", "");
    let fake = script(&[(1, order.clone())]);
    fake.lock().unwrap().list = order;
    let grant = || async {
        axum::Json(serde_json::json!({"success": true, "data": {
            "access_token": "access-1", "refresh_token": "refresh-1",
            "access_expires_at": "2026-05-15T13:00:00Z"}}))
    };
    let router = Router::new()
        .route("/auth/login", post(grant))
        .route("/api/v1/esim/orders", get(endless_new_pages))
        .route("/api/v1/esim/orders/{id}", get(detail))
        .with_state(fake.clone());
    let run = FakeRun::start_router(router, &[]);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let installed = delivered(
        1,
        "8910300000000000001",
        r#", "installed_at": "2026-05-15T12:00:10Z""#,
    )
    .replace(r#""is_installed": false"#, r#""is_installed": true"#);
    fake.lock().unwrap().details.insert(1, installed);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let (events, _) = run.finish().await;
    let mine: Vec<EventType> = events
        .iter()
        .filter(|e| e.data.id == 1)
        .map(|e| e.event_type)
        .collect();
    assert_eq!(mine, [EventType::Delivered, EventType::Installed]);
    // At most a turn of pages per discovery cadence (5 s) in 65 s, plus the first turn.
    let pages = events
        .iter()
        .filter(|e| e.event_type == EventType::Failed)
        .count();
    let most = (65 / 5 + 1) * PAGES_PER_TURN as usize;
    assert!(pages <= most, "{pages} pages read");
}
