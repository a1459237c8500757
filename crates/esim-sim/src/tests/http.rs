//! Real-socket scenario: `spawn`, the provider API over reqwest, and the `/_sim/` control surface.

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::config;
use crate::spawn;

#[tokio::test]
async fn a_scripted_lifecycle_driven_over_the_http_control_surface() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let shutdown = CancellationToken::new();
    let sim = spawn(config(), listener, shutdown.clone())
        .await
        .expect("spawn");
    let base = sim.base_url();
    let http = reqwest::Client::new();

    let login: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"username": "demo-key", "password": "demo-secret"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["data"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let created = http
        .post(format!("{base}/_sim/orders"))
        .json(
            &json!({"client_reference": "HTTP-1", "product_id": "usa-5gb-30d",
                      "plan": {"pending_for": "2m", "install_after": "1m"}}),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 200);
    let truth: Value = created.json().await.expect("json");
    assert_eq!(truth["stored_status"], "PENDING");
    assert_eq!(truth["installed_at"], "2026-05-15T12:03:00Z");

    let detail_url = format!("{base}/api/v1/esim/orders/{}", truth["id"]);
    let get = |url: String| {
        http.get(url)
            .bearer_auth(&token)
            .header("x-request-id", "abc")
            .send()
    };
    let pending = get(detail_url.clone()).await.expect("detail");
    assert_eq!(pending.headers()["x-request-id"], "abc");
    let pending: Value = pending.json().await.expect("json");
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["status_text"], "Your order is being processed");

    let clock: Value = http
        .post(format!("{base}/_sim/clock/advance"))
        .json(&json!({"by": "3m"}))
        .send()
        .await
        .expect("advance")
        .json()
        .await
        .expect("json");
    assert!(clock["now"]
        .as_str()
        .is_some_and(|s| s.starts_with("2026-05-15T12:03")));
    let installed: Value = get(detail_url)
        .await
        .expect("detail")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (
            installed["status"].as_str(),
            installed["is_installed"].as_bool()
        ),
        (Some("DELIVERED"), Some(true))
    );
    assert_eq!(installed["product_name"], "USA eSIM");

    let counters: Value = http
        .get(format!("{base}/_sim/counters?times=true"))
        .send()
        .await
        .expect("counters")
        .json()
        .await
        .expect("json");
    assert_eq!(counters["reads_served"], 2);
    assert_eq!(counters["logins"], 1);
    assert_eq!(counters["read_times_ms"].as_array().map(Vec::len), Some(2));

    shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(5), sim.stopped())
        .await
        .expect("server and tasks stop on shutdown");
}
