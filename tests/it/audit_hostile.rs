//! `audit` against a provider that misbehaves: a list that ignores `page` and claims more
//! pages forever must not keep the audit reading (it stops at the first page with nothing
//! new), an order moved to another order's ICCID is reported as such and never repaired under
//! that ICCID, and nothing it sends can crash it.

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::audit::*;
use crate::support::bridge::stored;
use crate::support::fixture::NatsServer;
use crate::support::hostile::{installed, listed, Provider, Script};
use crate::support::replay::{nats_config, publisher};
use esim_events::EventType;

async fn login() -> Json<serde_json::Value> {
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let at = later.format(&Rfc3339).unwrap();
    Json(
        json!({"success": true, "data": {"access_token": "a", "refresh_token": "r",
        "access_expires_at": at, "refresh_expires_at": at}}),
    )
}

/// The same two failed orders on every page, and always "more".
async fn endless() -> (HeaderMap, Json<serde_json::Value>) {
    let now = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-has-more", "true".parse().unwrap());
    let order = |id: u64| json!({"id": id, "status": "FAILED", "created_at": now});
    (headers, Json(json!([order(2), order(1)])))
}

#[tokio::test]
async fn a_list_that_never_ends_is_read_until_it_repeats_itself() {
    let nats = NatsServer::start().await;
    let url = nats.url();
    publisher(&nats_config(&url)).await;
    let app = Router::new()
        .route("/auth/login", post(login))
        .route("/api/v1/esim/orders", get(endless));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let config = audit_config(&url, &base);
    let (report, findings) = run_audit(&config, last_hour(60, false)).await;
    assert_eq!(report.reads.list, 2, "page 2 repeats page 1: {report}");
    assert_eq!(report.orders, 2);
    assert_eq!(findings.len(), 2, "{findings:#?}");
    server.abort();
}

#[tokio::test]
async fn an_order_moved_to_another_orders_iccid_is_reported_and_never_repaired_there() {
    let nats = NatsServer::start().await;
    let url = nats.url();
    let publisher = publisher(&nats_config(&url)).await;
    let (mine, theirs) = ("8910300000000000601", "8910300000000000602");
    let delivered = |id: u64, iccid: &str| json!({"id": id, "status": "DELIVERED", "iccid": iccid});
    inject(&publisher, EventType::Delivered, delivered(1, mine)).await;
    inject(&publisher, EventType::Delivered, delivered(2, theirs)).await;
    // The provider now reports order 1, installed, under order 2's ICCID.
    let provider = Provider::start(Script {
        list: vec![listed(2, theirs, None), installed(1, theirs)],
        details: [(1, installed(1, theirs)), (2, listed(2, theirs, None))].into(),
        ..Script::default()
    })
    .await;
    let config = audit_config(&url, &provider.url);
    let (report, findings) = run_audit(&config, last_hour(600, true)).await;
    let found = classes(&findings);
    let changed = ("iccid_changed".to_owned(), 1, String::new());
    assert!(found.contains(&changed), "{findings:#?}");
    assert_eq!(
        found.len(),
        1,
        "order 1's change is its only finding: {findings:#?}"
    );
    assert_eq!(report.repair.map(|r| r.written), Some(0), "{report}");
    assert!(report.to_string().contains("iccid_changed"), "{report}");
    let subjects: Vec<String> = stored(&url, "ESIM_EVENTS")
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        subjects,
        [
            format!("esim.events.{mine}.delivered"),
            format!("esim.events.{theirs}.delivered")
        ]
    );
}
