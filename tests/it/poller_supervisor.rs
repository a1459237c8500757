//! An engine that panics must not leave a lease held by nobody polling: its supervisor hands
//! the lease back at once (a standby takes over well inside the TTL), counts the restart,
//! drops the leader gauge and starts the engine again after a backoff.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use esim_bridge::config::Config;
use esim_bridge::ingest::poller::supervise;
use esim_bridge::ingest::poller::Lease;
use esim_bridge::ingest::poller::{PollerHealth, StateStore, Status};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::support::bridge::{test_config, Bridge};
use crate::support::fixture::NatsServer;
use crate::support::poller::*;

/// Long enough that a takeover by expiry could not pass the timing assertion.
const TTL: Duration = Duration::from_secs(6);

async fn lease(nats_url: &str, holder: &str) -> Arc<Lease> {
    let client = async_nats::connect(nats_url).await.expect("connect");
    let js = jetstream::new(client);
    let store = StateStore::open(&js, &test_config(nats_url).nats)
        .await
        .expect("bucket");
    Arc::new(Lease::new(store.kv().clone(), holder.into(), TTL))
}

async fn holder(nats_url: &str) -> String {
    let client = async_nats::connect(nats_url).await.expect("connect");
    let kv = jetstream::new(client)
        .get_key_value("esim_bridge_state")
        .await
        .expect("bucket");
    let value = kv.get("poller.lease").await.expect("get").expect("lease");
    String::from_utf8_lossy(&value).into_owned()
}

#[tokio::test]
async fn a_panicking_engine_releases_the_lease_at_once_and_is_restarted() {
    esim_bridge::telemetry::metrics(); // the recorder, before anything counts
    let nats = NatsServer::start().await;
    let url = nats.url();

    // Replica A: its first engine panics when told to; later ones poll until their term ends.
    let (a_health, a_stop) = (
        PollerHealth::new(Status::Starting),
        CancellationToken::new(),
    );
    let a_terms = Arc::new(AtomicU32::new(0));
    let crash = Arc::new(Notify::new());
    let a = {
        let (terms, crash) = (a_terms.clone(), crash.clone());
        tokio::spawn(supervise(
            lease(&url, "replica-a").await,
            a_health.clone(),
            a_stop.clone(),
            move |token: CancellationToken| {
                let n = terms.fetch_add(1, Ordering::SeqCst);
                let crash = crash.clone();
                async move {
                    if n == 0 {
                        crash.notified().await;
                        panic!("engine bug");
                    }
                    token.cancelled().await;
                    Ok(())
                }
            },
        ))
    };
    eventually("A polls", || a_health.status() == Status::Polling).await;

    // Replica B stands by and reports each term it starts.
    let (b_health, b_stop) = (
        PollerHealth::new(Status::Starting),
        CancellationToken::new(),
    );
    let (started, mut b_started) = mpsc::unbounded_channel();
    let b = tokio::spawn(supervise(
        lease(&url, "replica-b").await,
        b_health.clone(),
        b_stop.clone(),
        move |token: CancellationToken| {
            let _ = started.send(Instant::now());
            async move {
                token.cancelled().await;
                Ok(())
            }
        },
    ));
    eventually("B stands by", || b_health.status() == Status::Standby).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let crashed_at = Instant::now();
    crash.notify_one();
    let took_over = tokio::time::timeout(2 * TTL, b_started.recv())
        .await
        .expect("B takes over")
        .expect("B started");
    let took = took_over - crashed_at;
    // Released at once: B takes it at its next check (every TTL/3), not after expiry (which
    // would take at least TTL); the second of slack is for a loaded CI machine.
    assert!(
        took < TTL - Duration::from_secs(1),
        "takeover took {took:?}"
    );
    assert!(holder(&url).await.contains("replica-b"));
    eventually("A counts the restart", || a_health.restarts() == 1).await;
    assert_eq!(a_health.consecutive_failures(), 1);
    let metrics = esim_bridge::telemetry::metrics().render();
    assert!(
        metrics.contains("esim_bridge_poller_restarts_total{reason=\"panic\"}"),
        "{metrics}"
    );

    // A restarted its engine loop after the backoff: it stands by now, and polls again (a
    // second term) once B stops and hands the lease back.
    eventually("A stands by again", || a_health.status() == Status::Standby).await;
    assert_eq!(a_terms.load(Ordering::SeqCst), 1);
    b_stop.cancel();
    b.await.expect("B stops cleanly");
    eventually("A polls again", || a_terms.load(Ordering::SeqCst) == 2).await;
    assert_eq!(a_health.status(), Status::Polling);
    a_stop.cancel();
    a.await.expect("A stops cleanly");
}

#[tokio::test]
async fn readyz_names_the_poller_state() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let bridge = Bridge::start(&nats.url(), |c: &mut Config| {
        with_poller(c, &sim.base_url())
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/readyz", bridge.admin);
    let mut body = String::new();
    // A deadline, not a count: on a loaded machine NATS, the bucket and the lease take a while.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        body = http
            .get(&url)
            .send()
            .await
            .expect("readyz")
            .text()
            .await
            .expect("body");
        if body.contains("poller: polling") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(body.starts_with("ready\npoller: polling"), "{body}");
    bridge.stop().await;
}
