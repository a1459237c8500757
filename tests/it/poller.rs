//! Poller scenarios against a real nats-server and the simulator over real HTTP: lifecycles
//! become exactly the expected events, failures land on their subjects, webhooks and polling
//! together emit each transition once, and a restart neither misses nor repeats anything.

use std::time::Duration;

use esim_sim::{Failure, OrderPlan, Outcome, WebhookConfig};

use crate::support::bridge::{Bridge, Logs, SECRET};
use crate::support::fixture::NatsServer;
use crate::support::poller::*;

/// Strict, published and frozen v1 schemas (tests/it/support/schema.rs).
use crate::support::schema::event_schemas as schema;

const CHAIN: [&str; 4] = ["delivered", "installed", "activated", "depleted"];

#[tokio::test]
async fn a_scripted_lifecycle_becomes_four_events_in_order_and_code_free() {
    let (logs, _guard) = Logs::capture();
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let bridge = Bridge::start(&nats.url(), |c| with_poller(c, &sim.base_url())).await;

    let truth = sim
        .create_order(order(full_lifecycle(Duration::from_millis(900))))
        .expect("order");
    let iccid = truth.iccid.clone().expect("iccid");
    let code = truth.activation_code.clone().expect("code");
    let stored = wait_for(&nats.url(), |s| types_for(s, &iccid).len() == 4).await;

    assert_eq!(types_for(&stored, &iccid), CHAIN);
    assert_eq!(stored.len(), 4, "nothing else was published");
    assert_code_free(&stored);
    let schema = schema();
    for m in &stored {
        let v: serde_json::Value = serde_json::from_str(&m.payload).expect("json");
        assert!(schema.is_valid(&v), "{}", m.payload);
        assert_eq!(
            m.headers.get("Esim-Source").map(|v| v.as_str()),
            Some("poll")
        );
    }
    for (key, value) in state_values(&nats.url()).await {
        assert!(!value.to_ascii_uppercase().contains("LPA:"), "KV {key}");
    }
    bridge.stop().await;
    logs.assert_clean(&["demo-secret", &code]);
}

#[tokio::test]
async fn failed_and_cancelled_orders_land_on_their_subjects_with_failure_fields() {
    // With the bridge's spans (as `serve` has them): each observation is a trace of its own.
    let (_logs, _spans) = crate::support::bridge::Logs::capture();
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let bridge = Bridge::start(&nats.url(), |c| with_poller(c, &sim.base_url())).await;

    let failure = Failure {
        code: "OUT_OF_STOCK".into(),
        reason: "No eSIM profiles left".into(),
        user_fixable: false,
    };
    let mut expected = Vec::new();
    for (outcome, with_iccid, pending_ms) in [
        (Outcome::Failed, true, 500),
        (Outcome::Failed, false, 0),
        (Outcome::Cancelled, true, 0),
        (Outcome::Cancelled, false, 500),
    ] {
        let plan = OrderPlan {
            outcome,
            with_iccid,
            pending_for: Duration::from_millis(pending_ms),
            failure: (outcome == Outcome::Failed).then(|| failure.clone()),
            ..OrderPlan::default()
        };
        let truth = sim.create_order(order(plan)).expect("order");
        let key = match &truth.iccid {
            Some(iccid) => iccid.clone(),
            None => format!("order-{}", truth.id),
        };
        let token = if outcome == Outcome::Failed {
            "failed"
        } else {
            "cancelled"
        };
        expected.push(format!("esim.events.{key}.{token}"));
    }
    let stored = wait_for(&nats.url(), |s| s.len() >= expected.len()).await;
    polled_again(&sim, 4).await;
    let stored_again = crate::support::bridge::stored(&nats.url(), STREAM).await;
    assert_eq!(
        stored_again.len(),
        stored.len(),
        "nothing more was published"
    );

    let mut subjects: Vec<&str> = stored.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort();
    expected.sort();
    assert_eq!(subjects, expected);
    for m in &stored {
        let v: serde_json::Value = serde_json::from_str(&m.payload).expect("json");
        let data = &v["data"];
        assert!(data["failure_code"].is_string(), "{}", m.payload);
        assert!(data["failure_reason"].is_string(), "{}", m.payload);
        assert!(data["is_user_fixable"].is_boolean(), "{}", m.payload);
    }
    let failed = stored
        .iter()
        .find(|m| m.subject.ends_with(".failed"))
        .expect("failed");
    assert!(failed.payload.contains("OUT_OF_STOCK"));
    // Four orders, four observations: four traces, though the poller runs inside spans of its
    // own (each observation's span is a root).
    let traces: std::collections::HashSet<String> = stored
        .iter()
        .map(|m| {
            let tp = m.headers.get("traceparent").expect("traceparent");
            tp.as_str().split('-').nth(1).expect("trace id").to_owned()
        })
        .collect();
    assert_eq!(traces.len(), stored.len(), "{traces:?}");
    bridge.stop().await;
}

#[tokio::test]
async fn with_webhooks_and_polling_each_transition_is_stored_exactly_once() {
    let nats = NatsServer::start().await;
    let listener = bind().await;
    let sim_url = format!("http://{}", listener.local_addr().expect("addr"));
    let bridge = Bridge::start(&nats.url(), |c| with_poller(c, &sim_url)).await;
    let mut cfg = sim_config();
    cfg.webhook = WebhookConfig {
        url: Some(bridge.url()),
        secret: esim_sim::Secret::new(SECRET),
        duplicate_probability: 0.5,
        max_delay: Duration::from_millis(300),
        reorder_batch: 3,
        reorder_hold: Duration::from_millis(400),
        initial_backoff: Duration::from_millis(100),
        ..WebhookConfig::default()
    };
    let sim = start_sim_on(listener, cfg).await;

    let mut keys = Vec::new();
    for step_ms in [600, 800, 1000] {
        let truth = sim
            .create_order(order(full_lifecycle(Duration::from_millis(step_ms))))
            .expect("order");
        keys.push(truth.iccid.expect("iccid"));
    }
    let failed = OrderPlan {
        outcome: Outcome::Failed,
        pending_for: Duration::from_millis(700),
        ..OrderPlan::default()
    };
    let failed = sim.create_order(order(failed)).expect("order");
    let failed_key = format!("order-{}", failed.id);

    let all_there = |s: &[crate::support::bridge::Stored]| {
        keys.iter().all(|k| types_for(s, k).len() == 4) && types_for(s, &failed_key).len() == 1
    };
    wait_for(&nats.url(), all_there).await;
    // Every webhook copy answered and the poller past the orders again: nothing is on its way.
    webhooks_settled(&sim).await;
    polled_again(&sim, 4).await;
    let stored = crate::support::bridge::stored(&nats.url(), STREAM).await;
    assert_eq!(
        stored.len(),
        13,
        "4 transitions x 3 eSIMs + 1 failure, once each"
    );
    for k in &keys {
        assert_eq!(types_for(&stored, k), CHAIN, "causal order for {k}");
    }
    assert_eq!(types_for(&stored, &failed_key), ["failed"]);
    let webhooks = sim.counters().webhooks;
    assert!(webhooks.acked >= webhooks.events, "{webhooks:?}");
    assert_code_free(&stored);
    bridge.stop().await;
}

#[tokio::test]
async fn a_restarted_bridge_resumes_from_kv_without_missing_or_repeating() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let first = Bridge::start(&nats.url(), |c| with_poller(c, &sim.base_url())).await;
    let truth = sim
        .create_order(order(full_lifecycle(Duration::from_millis(1500))))
        .expect("order");
    let iccid = truth.iccid.clone().expect("iccid");
    wait_for(&nats.url(), |s| types_for(s, &iccid) == ["delivered"]).await;
    first.stop().await;

    let state = state_values(&nats.url()).await;
    let key = format!("order.{}", truth.id);
    let (_, value) = state
        .iter()
        .find(|(k, _)| *k == key)
        .expect("order state in KV");
    assert!(value.contains("\"phase\":\"install\""), "{value}");
    assert!(state.iter().any(|(k, _)| k == "cursor"), "{state:?}");

    // The install happens while no bridge runs.
    let installed_at = truth.installed_at.expect("an install is planned");
    eventually("the install while no bridge runs", || {
        sim.clock().now() > installed_at
    })
    .await;
    let second = Bridge::start(&nats.url(), |c| with_poller(c, &sim.base_url())).await;
    let stored = wait_for(&nats.url(), |s| types_for(s, &iccid).len() == 4).await;
    polled_again(&sim, 4).await;
    let stored_again = crate::support::bridge::stored(&nats.url(), STREAM).await;
    assert_eq!(stored_again.len(), stored.len());
    assert_eq!(types_for(&stored, &iccid), CHAIN);
    assert_eq!(stored.len(), 4);
    second.stop().await;
}

#[tokio::test]
async fn an_install_seen_by_webhook_ends_install_polling_for_that_order() {
    let nats = NatsServer::start().await;
    let listener = bind().await;
    let sim_url = format!("http://{}", listener.local_addr().expect("addr"));
    let bridge = Bridge::start(&nats.url(), |c| {
        with_poller(c, &sim_url);
        // Install checks far apart: within this test only the webhook can see the install.
        c.upstream.cadence.install_fast = Duration::from_secs(30);
        c.upstream.cadence.lifecycle = Duration::from_secs(30);
    })
    .await;
    let mut cfg = sim_config();
    cfg.webhook = WebhookConfig {
        url: Some(bridge.url()),
        secret: esim_sim::Secret::new(SECRET),
        ..WebhookConfig::default()
    };
    let sim = start_sim_on(listener, cfg).await;
    let plan = OrderPlan::delivered(Some(Duration::from_millis(800)), None);
    let truth = sim.create_order(order(plan)).expect("order");
    let iccid = truth.iccid.expect("iccid");
    let stored = wait_for(&nats.url(), |s| types_for(s, &iccid).len() == 2).await;
    let installed = stored.iter().find(|m| m.subject.ends_with(".installed"));
    let source = installed.and_then(|m| m.headers.get("Esim-Source"));
    assert_eq!(source.map(|v| v.as_str()), Some("webhook"));

    let key = format!("order.{}", truth.id);
    let mut phase = String::new();
    for _ in 0..50 {
        let state = state_values(&nats.url()).await;
        if let Some((_, v)) = state.iter().find(|(k, _)| *k == key) {
            let v: serde_json::Value = serde_json::from_str(v).expect("json");
            phase = v["phase"].as_str().unwrap_or_default().to_owned();
            if phase == "lifecycle" {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        phase, "lifecycle",
        "the webhook's install moved the order out of install polling"
    );
    let details = sim
        .counters()
        .requests
        .get("GET /api/v1/esim/orders/{id}")
        .copied();
    assert_eq!(details.unwrap_or(0), 0, "no install check was needed");
    bridge.stop().await;
}

/// `upstream.backfill = 0` on an account with no order yet: every order made after the start
/// is found. Before the fix a pass that listed nothing left the cursor empty, so each pass was
/// a "first run" again with the back-fill limit moved to its own time, and an order made
/// between two passes was always older than the limit: nothing was ever imported.
#[tokio::test]
async fn with_no_backfill_orders_made_after_an_empty_start_are_found() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let bridge = Bridge::start(&nats.url(), |c| {
        with_poller(c, &sim.base_url());
        c.upstream.backfill = Duration::ZERO;
    })
    .await;
    // Several discovery passes over an empty list go by first.
    polled_again(&sim, 4).await;
    // Delivered at once: never PENDING, so only discovery can find it.
    let order = sim
        .create_order(order(OrderPlan {
            pending_for: Duration::ZERO,
            ..OrderPlan::default()
        }))
        .expect("order");
    let key = order.iccid.clone().expect("iccid");
    let stored = wait_for(&nats.url(), |s| !types_for(s, &key).is_empty()).await;
    assert_eq!(types_for(&stored, &key), ["delivered"]);
    bridge.stop().await;
}
