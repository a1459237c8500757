//! One key per eSIM when the provider leaves the ICCID out of some answers (issue 7, finding
//! 5): the poller never publishes a step under `order-<id>` that belongs under the ICCID; it
//! resolves the ICCID by detail reads first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::Value;

use super::{order, Run};
use esim_sim::{OrderPlan, SimConfig};

/// Removes `iccid` from every order in a list answer, and from detail answers while
/// `strip_detail` is set.
async fn strip_iccid(strip_detail: Arc<AtomicBool>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let list = path == "/api/v1/esim/orders";
    let detail = path.starts_with("/api/v1/esim/orders/") && strip_detail.load(Ordering::SeqCst);
    let res = next.run(req).await;
    if !(list || detail) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let inner = match v.get_mut("data") {
        Some(data) => data,
        None => &mut v,
    };
    let orders: Vec<&mut Value> = match inner {
        Value::Array(items) => items.iter_mut().collect(),
        other => vec![other],
    };
    for o in orders {
        if let Some(map) = o.as_object_mut() {
            map.remove("iccid");
        }
    }
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(serde_json::to_vec(&v).unwrap()))
}

#[tokio::test(start_paused = true)]
async fn answers_without_the_iccid_never_put_a_step_under_a_second_key() {
    let strip_detail = Arc::new(AtomicBool::new(true));
    let flag = strip_detail.clone();
    let run = Run::start_wrapped(
        SimConfig::default(),
        240,
        |_| {},
        move |router| {
            router.layer(middleware::from_fn(move |req, next| {
                strip_iccid(flag.clone(), req, next)
            }))
        },
    );
    let plan = OrderPlan::delivered(Some(Duration::from_secs(60)), None);
    let truth = run.sim.create_order(order(plan)).unwrap();
    let failed = run
        .sim
        .create_order(order(OrderPlan {
            outcome: esim_sim::Outcome::Failed,
            ..OrderPlan::default()
        }))
        .unwrap();
    // Three minutes in which neither list nor detail reads carry the ICCID.
    tokio::time::sleep(Duration::from_secs(180)).await;
    assert!(
        run.memory_events()
            .iter()
            .all(|e| e.event_type == esim_events::EventType::Failed),
        "no lifecycle step may be published without its ICCID"
    );
    strip_detail.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(120)).await;
    let (_, events, _) = run.finish().await;

    let iccid = truth.iccid.expect("a delivered order has an ICCID");
    let keys: Vec<(String, &str)> = events
        .iter()
        .map(|e| (e.key().unwrap().to_string(), e.event_type.token()))
        .collect();
    assert_eq!(
        keys,
        [
            (format!("order-{}", failed.id), "failed"),
            (iccid.clone(), "delivered"),
            (iccid, "installed"),
        ]
    );
}
