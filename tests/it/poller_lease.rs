//! Several replicas, one poller: only the lease holder reads the provider (the simulator
//! counts one login per polling replica), and a standby takes over when the holder crashes
//! (no release: its runtime is dropped) or stops cleanly (the lease is handed back).

use std::time::Duration;

use esim_bridge::app;
use esim_bridge::config::Config;
use esim_sim::OrderPlan;
use tokio_util::sync::CancellationToken;

use crate::support::bridge::{test_config, Bridge};
use crate::support::fixture::NatsServer;
use crate::support::poller::*;

/// A bridge on its own thread and runtime, so dropping the runtime is a crash: no graceful
/// shutdown, no lease release, connections just gone.
struct Isolated {
    crash: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Isolated {
    fn start(config: Config) -> Isolated {
        let (crash, crashed) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let running = app::start(config, CancellationToken::new()).await;
                let _running = running.expect("bridge starts");
                ready.send(()).expect("signal ready");
                let _ = crashed.await;
            });
            // Dropping `rt` here drops every task of the bridge mid-flight.
        });
        is_ready.recv().expect("bridge ready");
        Isolated {
            crash: Some(crash),
            thread: Some(thread),
        }
    }

    fn crash(mut self) {
        drop(self.crash.take());
        if let Some(t) = self.thread.take() {
            t.join().expect("bridge thread");
        }
    }
}

fn delivered_now() -> OrderPlan {
    OrderPlan::delivered(None, None)
}

#[tokio::test]
async fn one_replica_polls_and_a_standby_takes_over_after_a_crash_and_a_stop() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let configure = |c: &mut Config| with_poller(c, &sim.base_url());
    let logins = || sim.counters().logins;

    let mut leader_config = test_config(&nats.url());
    configure(&mut leader_config);
    let leader = Isolated::start(leader_config);
    eventually("the first replica polls", || logins() == 1).await;
    let standby = Bridge::start(&nats.url(), configure).await;
    let third = Bridge::start(&nats.url(), configure).await;

    let first = sim.create_order(order(delivered_now())).expect("order");
    let first_key = first.iccid.expect("iccid");
    wait_for(&nats.url(), |s| types_for(s, &first_key).len() == 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(logins(), 1, "standbys never read the provider");

    // Crash: the lease is not released; a standby takes it once it expires.
    leader.crash();
    let ttl = Duration::from_millis(600);
    let took = eventually("a standby polls after the crash", || logins() == 2).await;
    assert!(
        took < ttl + ttl / 3 + Duration::from_secs(1),
        "takeover took {took:?}"
    );
    let second = sim.create_order(order(delivered_now())).expect("order");
    let second_key = second.iccid.expect("iccid");
    wait_for(&nats.url(), |s| types_for(s, &second_key).len() == 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(logins(), 2, "only one of the two survivors polls");

    // Clean stop: the holder hands the lease back, so the standby takes over at its next
    // check instead of waiting for expiry. Which survivor holds it is not known here: stop
    // one; if it was not the holder, add a fresh standby and stop the holder.
    standby.stop().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let last = if logins() == 3 {
        third
    } else {
        let fourth = Bridge::start(&nats.url(), configure).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        third.stop().await;
        let took = eventually("the standby polls after a clean stop", || logins() == 3).await;
        assert!(took < ttl, "takeover after a release took {took:?}");
        fourth
    };
    let third_order = sim.create_order(order(delivered_now())).expect("order");
    let third_key = third_order.iccid.expect("iccid");
    wait_for(&nats.url(), |s| types_for(s, &third_key).len() == 1).await;
    assert_eq!(logins(), 3);
    last.stop().await;
    let stored = crate::support::bridge::stored(&nats.url(), STREAM).await;
    assert_code_free(&stored);
}
