//! `audit` scenarios against a real nats-server and the simulator: gaps made on purpose —
//! events purged from the stream, orders placed while the bridge was down and started without
//! backfill, an order keyed two ways, an event the provider denies, steps stored out of order
//! — are found exactly; `--repair` closes what publishing can close, never twice; a second
//! audit is clean; reads stay within the budget and honour the provider's 429.

use std::collections::BTreeSet;
use std::time::Duration;

use esim_events::EventType;
use esim_sim::{OrderPlan, Outcome, SimConfig};
use serde_json::json;

use crate::support::audit::*;
use crate::support::bridge::{stored, Bridge};
use crate::support::fixture::NatsServer;
use crate::support::poller::*;
use crate::support::replay::{nats_config, publisher};

const ZERO: Duration = Duration::ZERO;

fn set(items: &[(&str, u64, &str)]) -> BTreeSet<(String, u64, String)> {
    items
        .iter()
        .map(|(c, id, e)| ((*c).to_owned(), *id, (*e).to_owned()))
        .collect()
}

/// Strict, published and frozen v1 schemas (tests/it/support/schema.rs).
use crate::support::schema::event_schemas as schema;

#[tokio::test]
async fn the_audit_finds_exactly_the_gaps_made_and_a_repair_closes_them_once() {
    let nats = NatsServer::start().await;
    let url = nats.url();
    // The provider's clock starts two hours back: orders placed then (and resolved at once)
    // while the bridge is down, which then starts with a backfill of one hour.
    let two_hours = Duration::from_secs(2 * 3600);
    let sim = start_sim(SimConfig {
        start_time: Some(time::OffsetDateTime::now_utc() - two_hours),
        ..sim_config()
    })
    .await;
    let installed_active = OrderPlan {
        install_after: Some(ZERO),
        activate_after: Some(ZERO),
        ..OrderPlan::default()
    };
    let a1 = sim.create_order(order(installed_active)).expect("order");
    let failed = OrderPlan {
        outcome: Outcome::Failed,
        ..OrderPlan::default()
    };
    let a2 = sim.create_order(order(failed)).expect("order");
    sim.advance(two_hours);
    let bridge = Bridge::start(&url, |c| {
        with_poller(c, &sim.base_url());
        c.upstream.backfill = Duration::from_secs(3600);
        c.nats.duplicate_window = DUPLICATE_WINDOW;
    })
    .await;
    let b1 = sim
        .create_order(order(full_lifecycle(Duration::from_millis(300))))
        .expect("order");
    let installs = OrderPlan {
        install_after: Some(Duration::from_millis(300)),
        ..OrderPlan::default()
    };
    let b2 = sim.create_order(order(installs)).expect("order");
    let (b1_iccid, b2_iccid) = (b1.iccid.clone().unwrap(), b2.iccid.clone().unwrap());
    wait_for(&url, |s| {
        types_for(s, &b1_iccid).len() == 4 && types_for(s, &b2_iccid).len() == 2
    })
    .await;
    bridge.stop().await;
    // One event lost from the stream.
    purge(&url, STREAM, &format!("esim.events.{b1_iccid}.installed")).await;
    // Outlast the msg-id window, so that a repair is not taken for a retry of the original.
    tokio::time::sleep(DUPLICATE_WINDOW * 2).await;

    let config = audit_config(&url, &sim.base_url());
    let three_hours = Duration::from_secs(3 * 3600);
    sim.reset_counters();
    let (report, findings) = run_audit(&config, last(three_hours, 60, false)).await;
    let expected = set(&[
        ("missing", a1.id, "esim.delivered"),
        ("missing", a1.id, "esim.installed"),
        ("missing", a1.id, "esim.activated"),
        ("missing", a2.id, "esim.failed"),
        ("missing", b1.id, "esim.installed"),
    ]);
    assert_eq!(classes(&findings), expected, "{findings:#?}");
    assert_eq!(findings.len(), 5);
    let text = serde_json::to_string(&findings).unwrap();
    for truth in [&a1, &a2, &b1, &b2] {
        let code = truth.activation_code.as_deref().unwrap_or("LPA:");
        assert!(!text.contains(code), "an activation code in the findings");
    }
    assert_eq!((report.orders, report.exit().code()), (4, 2), "{report}");
    let a2_subject = format!("esim.events.order-{}.failed", a2.id);
    assert!(findings.iter().any(|f| f["subject"] == a2_subject.as_str()));
    // Reads: one list page, and a detail read only where install state can still change.
    let counters = sim.counters();
    assert_eq!(
        counters.reads_served,
        report.reads.list + report.reads.detail
    );
    assert_eq!((report.reads.list, report.reads.detail), (1, 2), "{report}");
    assert!(counters.max_reads_in_window <= 60 && counters.throttled == 0);

    let (report, findings) = run_audit(&config, last(three_hours, 60, true)).await;
    assert_eq!(classes(&findings), expected);
    assert!(
        findings.iter().all(|f| f["repair"]["outcome"] == "written"),
        "{findings:#?}"
    );
    let tally = report.repair.expect("a repair tally");
    assert_eq!((tally.written, tally.already_present), (5, 0), "{report}");

    let all = stored(&url, STREAM).await;
    let repaired: Vec<_> = all
        .iter()
        .filter(|m| m.headers.get("Esim-Repaired-At").is_some())
        .collect();
    assert_eq!(repaired.len(), 5);
    let schema = schema();
    for m in &repaired {
        let v: serde_json::Value = serde_json::from_str(&m.payload).expect("json");
        assert!(schema.is_valid(&v), "{}", m.payload);
        assert!(v["repaired_at"].is_string());
        let msg_id = m.headers.get("Nats-Msg-Id").map(|v| v.to_string());
        assert_eq!(msg_id.as_deref(), v["id"].as_str());
    }
    assert_eq!(
        types_for(&all, &a1.iccid.clone().unwrap()),
        ["delivered", "installed", "activated"]
    );
    assert_code_free(&all);

    let (report, findings) = run_audit(&config, last(three_hours, 60, true)).await;
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(
        (report.exit().code(), report.repair.unwrap().written),
        (0, 0)
    );
    assert_eq!(
        stored(&url, STREAM).await.len(),
        all.len(),
        "a repair never duplicates"
    );
}

#[tokio::test]
async fn split_keys_contradictions_and_disorder_are_reported_and_never_rewritten() {
    let nats = NatsServer::start().await;
    let url = nats.url();
    let sim = start_sim(sim_config()).await;
    let failed = OrderPlan {
        outcome: Outcome::Failed,
        with_iccid: true,
        ..OrderPlan::default()
    };
    let c1 = sim.create_order(order(failed)).expect("order");
    let c2 = sim
        .create_order(order(OrderPlan::default()))
        .expect("order");
    let installs = OrderPlan {
        install_after: Some(ZERO),
        ..OrderPlan::default()
    };
    let c3 = sim.create_order(order(installs)).expect("order");
    let publisher = publisher(&nats_config(&url)).await;
    let (i1, i2, i3) = (c1.iccid.unwrap(), c2.iccid.unwrap(), c3.iccid.unwrap());
    // One failure under its ICCID and, as a webhook without the ICCID would, under the order.
    let failed_data = json!({"id": c1.id, "status": "FAILED"});
    inject(&publisher, EventType::Failed, failed_data.clone()).await;
    let mut with_iccid = failed_data;
    with_iccid["iccid"] = json!(i1);
    inject(&publisher, EventType::Failed, with_iccid).await;
    // An install the provider denies.
    let c2_data = json!({"id": c2.id, "status": "DELIVERED", "iccid": i2});
    inject(&publisher, EventType::Delivered, c2_data.clone()).await;
    let mut installed = c2_data;
    installed["is_installed"] = json!(true);
    inject(&publisher, EventType::Installed, installed).await;
    // Installed stored before delivered.
    let c3_data = json!({"id": c3.id, "status": "DELIVERED", "iccid": i3, "is_installed": true});
    inject(&publisher, EventType::Installed, c3_data.clone()).await;
    inject(&publisher, EventType::Delivered, c3_data).await;

    let config = audit_config(&url, &sim.base_url());
    let expected = set(&[
        ("split_keys", c1.id, ""),
        ("contradicted", c2.id, "esim.installed"),
        ("out_of_order", c3.id, ""),
    ]);
    let before = stored(&url, STREAM).await.len();
    for repair in [false, true, false] {
        let (report, findings) = run_audit(&config, last_hour(60, repair)).await;
        assert_eq!(classes(&findings), expected, "{findings:#?}");
        assert_eq!(report.exit().code(), 2);
        assert!(
            findings.iter().all(|f| f.get("repair").is_none()),
            "{findings:#?}"
        );
    }
    assert_eq!(stored(&url, STREAM).await.len(), before, "nothing written");
}

#[tokio::test]
async fn reads_stay_within_the_budget_and_wait_out_a_429() {
    let nats = NatsServer::start().await;
    let url = nats.url();
    const BUDGET: u32 = 20;
    // The provider enforces the same limit: one read over it would be answered 429.
    let sim = start_sim(SimConfig {
        reads_per_minute: BUDGET,
        ..SimConfig::default()
    })
    .await;
    for _ in 0..6 {
        sim.create_order(order(OrderPlan::default()))
            .expect("order");
    }
    publisher(&nats_config(&url)).await;
    let mut config = audit_config(&url, &sim.base_url());
    config.upstream.page_size = 1;
    sim.reset_counters();
    sim.throttle_for(Duration::from_millis(500));
    let (report, findings) = run_audit(&config, last_hour(BUDGET, false)).await;
    assert_eq!(
        findings.len(),
        6,
        "every delivery is missing: {findings:#?}"
    );
    assert_eq!((report.reads.list, report.reads.detail), (6, 6), "{report}");
    let counters = sim.counters();
    assert!(report.reads.throttled >= 1, "{report}");
    assert_eq!(
        counters.throttled, report.reads.throttled,
        "only the storm answered 429"
    );
    assert_eq!(counters.requests_during_retry_after, 0);
    assert!(
        counters.max_reads_in_window <= u64::from(BUDGET),
        "{counters:?}"
    );
}
