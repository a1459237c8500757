//! Chaos, counted. Two `esim-bridge serve` processes share one KV lease (one polls the
//! in-process simulator, both take webhooks) under a steady signed-webhook load while a feeder
//! keeps creating orders with short lifecycles. Then things break: the polling replica is
//! `kill -9`ed (twice) and restarted, nats-server is killed and restarted on its store, the
//! simulator answers 429 storms, 5xx bursts and garbage (malformed, absurd, huge), and in the
//! cluster scenario the events stream's leader among three nats-servers is killed.
//!
//! Afterwards everything is counted, printed as a summary block (`--nocapture`) and asserted:
//! every webhook that got a 2xx is in the stream exactly once (and, after re-sending what did
//! not, every webhook); every transition the simulator made is emitted exactly once; nothing
//! else is stored; after every poller death a standby took over within the lease TTL plus one
//! renew interval (the bound the lease documents).

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::support::chaos::{await_single_leader, kill_leader, BridgeProc, Setup};
use crate::support::chaos_load::{self, Count, WebhookLoad};
use crate::support::chaos_report::{assert_counts, report, Log};
use crate::support::chaos_watch::{double_polling, lease_timeline, StallWatch};
use crate::support::fixture::{NatsCluster, NatsServer};
use crate::support::poller::{sim_config, start_sim, Sim, STREAM};

/// Offered webhook load (new events per second, spread over the replicas).
const WEBHOOKS_PER_SEC: u32 = 40;
/// A new simulator order this often.
const ORDER_EVERY: Duration = Duration::from_millis(900);
/// Upper bound for the poller to catch up with the simulator after the chaos stops.
const DRAIN_LIMIT: Duration = Duration::from_secs(90);

struct Stack {
    sim: Sim,
    bridges: Vec<BridgeProc>,
    load: WebhookLoad,
    stalls: StallWatch,
    feeder_stop: CancellationToken,
    feeder: tokio::task::JoinHandle<u64>,
    _logs: tempfile::TempDir,
}

async fn start_stack(nats_url: &str, replicas: u8, log: &mut Log) -> Stack {
    let sim = start_sim(sim_config()).await;
    let mut logs = tempfile::TempDir::with_prefix("chaos-").expect("temp dir");
    if std::env::var_os("CHAOS_KEEP_LOGS").is_some() {
        logs.disable_cleanup(true);
        log.note(format!("bridge logs kept in {}", logs.path().display()));
    }
    let setup = Setup {
        nats_url,
        replicas,
        sim_url: &sim.base_url(),
        log_dir: logs.path(),
    };
    let a = BridgeProc::start("bridge-a", &setup).await;
    let b = BridgeProc::start("bridge-b", &setup).await;
    let bridges = vec![a, b];
    let urls = bridges.iter().map(BridgeProc::webhook_url).collect();
    let load = WebhookLoad::start(urls, WEBHOOKS_PER_SEC, 7);
    let stalls = StallWatch::start(&bridges);
    let feeder_stop = CancellationToken::new();
    let feeder = chaos_load::feed_orders(sim.state().clone(), ORDER_EVERY, feeder_stop.clone());
    log.note("two bridges ready; webhook load and order feeder running");
    Stack {
        sim,
        bridges,
        load,
        stalls,
        feeder_stop,
        feeder,
        _logs: logs,
    }
}

/// Kills the polling replica, records the takeover, restarts the killed one as a standby.
async fn kill_the_poller(stack: &mut Stack, log: &mut Log) {
    let looked = Instant::now();
    let leader = await_single_leader(&stack.bridges, Duration::from_secs(60)).await;
    let leader = leader.expect("exactly one replica polls");
    if looked.elapsed() > Duration::from_secs(1) {
        log.note(format!(
            "(one polling replica only after {:?})",
            looked.elapsed()
        ));
    }
    let took = kill_leader(&mut stack.bridges, leader, Duration::from_secs(30)).await;
    log.poller_deaths += 1;
    let (survivor, took) = took.unwrap_or_else(|| {
        panic!(
            "no standby took over within 30 s of killing {}",
            stack.bridges[leader].name
        )
    });
    log.note(format!(
        "kill -9 {} (polling); {} took over after {took:?}",
        stack.bridges[leader].name, stack.bridges[survivor].name
    ));
    log.takeovers.push(took);
    stack.bridges[leader].restart().await;
    log.note(format!(
        "{} restarted (standby)",
        stack.bridges[leader].name
    ));
}

/// Stops the chaos, re-sends failed webhooks, waits for the poller to catch up with every
/// transition the simulator made, then counts.
async fn drain_and_count(stack: Stack, nats_url: &str, log: &mut Log) -> Count {
    stack.feeder_stop.cancel();
    let orders = stack.feeder.await.expect("feeder");
    let answers = stack.load.stop().await;
    log.stalls = stack.stalls.stop().await;
    let urls: Vec<String> = stack.bridges.iter().map(BridgeProc::webhook_url).collect();
    let resent = chaos_load::resend_failed(&answers, &urls).await;
    log.note(format!(
        "load stopped; {orders} orders created; {resent} webhooks re-sent until 2xx"
    ));
    let start = Instant::now();
    let counted = loop {
        let (transitions, all_done) = stack.sim.transitions();
        let stored = crate::support::bridge::stored(nats_url, STREAM).await;
        let subjects: Vec<String> = stored.into_iter().map(|m| m.subject).collect();
        let c = chaos_load::count(&answers, &transitions, &subjects);
        let caught_up = all_done && c.transitions_emitted_once == c.transitions;
        if caught_up || start.elapsed() > DRAIN_LIMIT {
            break c;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    log.note(format!("poller drained after {:?}", start.elapsed()));
    log.double_polling = double_polling(&stack.bridges);
    log.lease_timeline = lease_timeline(&stack.bridges);
    for b in &stack.bridges {
        let text = b.log_text();
        assert!(
            !text.contains("panicked"),
            "{} panicked:\n{}",
            b.name,
            b.log_tail()
        );
        assert!(
            !text.contains(crate::support::bridge::SECRET),
            "{} logged the secret",
            b.name
        );
    }
    let counters = stack.sim.counters();
    log.note(format!(
        "simulator: {} reads served, {} 429s, {} injected 5xx, {} garbage answers, {} logins",
        counters.reads_served,
        counters.throttled,
        counters.server_errors,
        counters.garbage_answers,
        counters.logins
    ));
    counted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_single_node_kills_restarts_storms_and_garbage_lose_and_duplicate_nothing() {
    let mut log = Log::default();
    let nats = NatsServer::start().await;
    let mut stack = start_stack(&nats.url(), 1, &mut log).await;
    tokio::time::sleep(Duration::from_secs(4)).await;

    kill_the_poller(&mut stack, &mut log).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    stack.sim.throttle_for(Duration::from_secs(3));
    log.note("simulator: 429 storm for 3 s");
    tokio::time::sleep(Duration::from_secs(4)).await;
    stack.sim.fail_next_reads(15, 503);
    log.note("simulator: next 15 reads answer 503");
    tokio::time::sleep(Duration::from_secs(3)).await;

    nats.restart().await;
    log.note("nats-server killed and restarted on its store");
    for b in &stack.bridges {
        b.await_ready().await;
    }
    log.note("both bridges ready again");
    tokio::time::sleep(Duration::from_secs(3)).await;

    stack
        .sim
        .garbage_next_reads(9, esim_sim::GarbageKind::Mixed);
    log.note("simulator: next 9 reads answer garbage (malformed, absurd, huge)");
    tokio::time::sleep(Duration::from_secs(5)).await;

    kill_the_poller(&mut stack, &mut log).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let c = drain_and_count(stack, &nats.url(), &mut log).await;
    report("single node", &c, &log);
    assert_counts(&c, &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_cluster_stream_leader_and_poller_killed_lose_and_duplicate_nothing() {
    let mut log = Log::default();
    let cluster = NatsCluster::start(3).await;
    let mut stack = start_stack(&cluster.urls(), 3, &mut log).await;
    tokio::time::sleep(Duration::from_secs(4)).await;

    let leader = cluster.await_stream_leader(STREAM, None).await;
    cluster.kill(leader);
    log.note(format!("kill -9 n{} (leader of {STREAM})", leader + 1));
    let next = cluster.await_stream_leader(STREAM, Some(leader)).await;
    log.note(format!("n{} leads {STREAM}", next + 1));
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.restart(leader).await;
    log.note(format!("n{} restarted and caught up", leader + 1));

    kill_the_poller(&mut stack, &mut log).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let url = cluster.node(next).url();
    let c = drain_and_count(stack, &url, &mut log).await;
    report("3-node cluster", &c, &log);
    assert_counts(&c, &log);
}
