//! A simulated day with gaps made on purpose, audited, repaired and audited again; prints
//! what an operator sees (the table and the NDJSON). Ignored by default: it is the
//! reproducible source of the figures in the notes, not a check the suite needs twice.
//!
//! `cargo test --test it audit_day -- --ignored --nocapture`
//!
//! The provider's clock starts 24 h back. Hours 0-6: 12 orders while the bridge is down.
//! Then the bridge starts with a 12 h backfill (too short to reach the outage) and 30 more
//! orders follow, 20 minutes apart, until about an hour ago. Once the stream has every event
//! of those, the bridge stops and the gaps are made: three events purged, one failure
//! published again under its order key, one install the provider denies, one delivery
//! re-published after its install.

use std::time::Duration;

use esim_events::EventType;
use esim_sim::{OrderPlan, OrderTruth, Outcome, SimConfig};
use serde_json::json;
use time::OffsetDateTime;

use crate::support::audit::*;
use crate::support::bridge::{stored, Bridge};
use crate::support::fixture::NatsServer;
use crate::support::poller::*;
use crate::support::replay::{nats_config, publisher};

const MIN: Duration = Duration::from_secs(60);

/// The i-th order's plan: a fixed mix of the lifecycles an account sees.
fn plan(i: usize) -> OrderPlan {
    let step = |m: u64| Some(MIN * m as u32);
    let delivered = OrderPlan::default();
    match i % 6 {
        0 => OrderPlan {
            outcome: Outcome::Failed,
            ..delivered
        },
        1 => delivered,
        2 => OrderPlan {
            install_after: step(5),
            ..delivered
        },
        3 => OrderPlan {
            install_after: step(5),
            activate_after: step(10),
            ..delivered
        },
        4 => OrderPlan {
            install_after: step(5),
            activate_after: step(10),
            expire_after: step(30),
            ..delivered
        },
        _ => OrderPlan {
            outcome: Outcome::Cancelled,
            with_iccid: true,
            ..delivered
        },
    }
}

/// The subjects the bridge publishes for the i-th order once its plan has played out.
fn subjects(i: usize, truth: &OrderTruth) -> Vec<String> {
    let key = truth
        .iccid
        .clone()
        .unwrap_or_else(|| format!("order-{}", truth.id));
    let types: &[&str] = match i % 6 {
        0 => &["failed"],
        1 => &["delivered"],
        2 => &["delivered", "installed"],
        3 => &["delivered", "installed", "activated"],
        4 => &["delivered", "installed", "activated", "depleted"],
        _ => &["cancelled"],
    };
    types
        .iter()
        .map(|t| format!("esim.events.{key}.{t}"))
        .collect()
}

#[tokio::test]
#[ignore = "prints the notes' example; run with --ignored --nocapture"]
async fn a_simulated_day_with_injected_gaps() {
    let nats = NatsServer::start().await;
    let url = nats.url();
    let day_start = OffsetDateTime::now_utc() - Duration::from_secs(24 * 3600);
    let sim = start_sim(SimConfig {
        start_time: Some(day_start),
        ..sim_config()
    })
    .await;
    let mut orders = Vec::new();
    for i in 0..12 {
        orders.push(sim.create_order(order(plan(i))).expect("order"));
        sim.advance(30 * MIN);
    }
    sim.advance(7 * 60 * MIN); // a quiet stretch; the provider's clock is now 11 h back
    let bridge = Bridge::start(&url, |c| {
        with_poller(c, &sim.base_url());
        c.upstream.backfill = 12 * 60 * MIN;
        c.nats.duplicate_window = DUPLICATE_WINDOW;
    })
    .await;
    let mut expected = Vec::new();
    for i in 12..42 {
        let truth = sim.create_order(order(plan(i))).expect("order");
        expected.extend(subjects(i, &truth));
        orders.push(truth);
        sim.advance(20 * MIN);
    }
    sim.advance(50 * MIN); // every lifecycle has played out
    wait_for(&url, |s| {
        expected.iter().all(|e| s.iter().any(|m| &m.subject == e))
    })
    .await;
    bridge.stop().await;

    let iccid = |i: usize| orders[i].iccid.clone().expect("iccid");
    for (i, t) in [(15, "installed"), (16, "installed"), (21, "activated")] {
        purge(&url, STREAM, &format!("esim.events.{}.{t}", iccid(i))).await;
    }
    purge(
        &url,
        STREAM,
        &format!("esim.events.{}.delivered", iccid(14)),
    )
    .await;
    tokio::time::sleep(DUPLICATE_WINDOW * 2).await; // outlast the msg-id window
    let p = publisher(&nats_config(&url)).await;
    let o = |i: usize| &orders[i];
    let iccid14 = json!({"id": o(14).id, "status": "DELIVERED", "iccid": iccid(14)});
    inject(&p, EventType::Delivered, iccid14).await;
    inject(
        &p,
        EventType::Cancelled,
        json!({"id": o(17).id, "status": "CANCELLED"}),
    )
    .await;
    let denied = json!({"id": o(13).id, "status": "DELIVERED", "iccid": iccid(13),
        "is_installed": true});
    inject(&p, EventType::Installed, denied).await;

    let config = audit_config(&url, &sim.base_url());
    let day = Duration::from_secs(25 * 3600);
    for (title, repair) in [
        ("audit", false),
        ("audit --repair", true),
        ("audit again", false),
    ] {
        let (report, ndjson) = run_audit_text(&config, last(day, 60, repair)).await;
        println!(
            "$ esim-bridge {title} --since 25h   # exit {}",
            report.exit().code()
        );
        println!("{report}");
        println!("{ndjson}");
    }
    assert!(!stored(&url, STREAM).await.is_empty());
}
