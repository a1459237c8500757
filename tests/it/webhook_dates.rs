//! Webhook dates are believed only within the range the poller accepts (2000..2100, owned by
//! `esim_events::timestamp`): a date outside it, in the envelope or the order, is a 400 and
//! nothing is published. A valid sentinel sent last proves the refusals were processed.

use crate::support::bridge::{esim_webhook, signed, Scenario};

const ICCID: &str = "8910300000123456789";

/// An `esim.activated` webhook for order 7 with `field` of `data` set to `date`; `created_at`
/// is the envelope's, `order_created_at` the order's own.
fn dated(field: &str, date: &str) -> String {
    let mut body: serde_json::Value = serde_json::json!({
        "id": "evt_dated", "type": "esim.activated", "created_at": "2026-05-15T14:30:32Z",
        "data": {
            "id": 7, "status": "DELIVERED", "iccid": ICCID, "activation_status": "ACTIVE",
            "is_installed": true, "installed_at": "2026-05-15T15:00:00Z",
            "activated_at": "2026-05-16T08:00:00Z", "created_at": "2026-05-15T14:00:00Z",
        }
    });
    match field {
        "created_at" => body["created_at"] = date.into(),
        "order_created_at" => body["data"]["created_at"] = date.into(),
        _ => body["data"][field] = date.into(),
    }
    body.to_string()
}

#[tokio::test]
async fn a_webhook_dated_outside_2000_to_2100_is_refused_400_and_nothing_is_published() {
    let s = Scenario::start(|_| {}).await;
    let url = s.bridge.url();
    for field in [
        "created_at",
        "order_created_at",
        "installed_at",
        "activated_at",
    ] {
        for date in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
            let answer = signed(&s.http, &url, &dated(field, date)).send().await;
            let status = answer.expect("send").status().as_u16();
            assert_eq!(status, 400, "{field} = {date}");
        }
    }
    let ok = signed(&s.http, &url, &dated("created_at", "2026-05-16T09:00:00Z"));
    assert_eq!(ok.send().await.expect("send").status(), 200, "in range");
    let sentinel = esim_webhook(
        "evt_sentinel",
        "esim.delivered",
        8,
        Some("8910300000000000088"),
    );
    let answer = signed(&s.http, &url, &sentinel).send().await.expect("send");
    assert_eq!(answer.status(), 200);
    let stored = s.stored().await;
    // The in-range webhook stores delivered, installed, activated; the sentinel its own.
    assert_eq!(stored.len(), 4, "{stored:?}");
    assert!(s.logs.text().contains("date_out_of_range"));
    s.finish().await;
}
