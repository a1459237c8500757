//! The NATS configs under `deploy/nats/`: every one is valid, and the least-privilege users of
//! `accounts.conf` are exactly enough. The `bridge` user runs the whole bridge (stream and KV
//! provisioning, webhook publishes, the poller's lease, state and stream follower) without a
//! single permissions violation; the `ops` user can read, replay, tail and inspect, but a
//! publish to an events subject is refused and never stored; a team user manages its own
//! durable consumers and cannot delete, re-create or drain another team's; and the shipped
//! cluster configs refuse a route that does not authenticate.

use std::process::Command;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use esim_bridge::config::Secret;

use crate::support::bridge::{esim_webhook, signed, Bridge};
use crate::support::container_stack::stored_subjects;
use crate::support::deploy_nats::*;
use crate::support::free_port;
use crate::support::poller::{full_lifecycle, order, sim_config, start_sim, with_poller, PATIENCE};

#[test]
fn every_deploy_nats_config_is_valid() {
    let dir = deploy_nats();
    for conf in [
        "single.conf",
        "cluster/n1.conf",
        "cluster/n2.conf",
        "cluster/n3.conf",
    ] {
        let out = Command::new(nats_server())
            .args(["-t", "-c"])
            .arg(dir.join(conf))
            .envs(server_env([6222, 6223, 6224]))
            .output()
            .expect("run nats-server -t");
        let text = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        assert!(out.status.success(), "{conf}: {text}");
        assert!(text.contains("is valid"), "{conf}: {text}");
        assert!(
            !text.contains(ROUTE_PASSWORD),
            "{conf}: the route password is printed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_user_runs_everything_and_the_ops_user_reads_but_cannot_publish() {
    let server = AccountsServer::start();
    let sim = start_sim(sim_config()).await;
    let bridge = Bridge::start(&server.url(), |c| {
        c.nats.user = Some("bridge".into());
        c.nats.password = Some(Secret::new(BRIDGE_PASSWORD));
        with_poller(c, &sim.base_url());
    })
    .await;
    let (consumer, _) = server.login("ops", OPS_PASSWORD).await;

    // Given the bridge logged in as `bridge`: a signed webhook is stored ...
    let http = reqwest::Client::new();
    let body = esim_webhook(
        "evt_acl",
        "esim.delivered",
        8_800_001,
        Some("8910300000088000011"),
    );
    let answer = signed(&http, &bridge.url(), &body)
        .send()
        .await
        .expect("POST");
    assert_eq!(answer.status(), 200);
    // ... and the poller (lease, KV state, stream follower) publishes a whole lifecycle.
    let truth = sim.create_order(order(full_lifecycle(Duration::from_millis(300))));
    let iccid = truth.expect("order").iccid.expect("iccid");
    let key = format!("esim.events.{iccid}.");
    let deadline = Instant::now() + PATIENCE;
    while stored_subjects(&consumer)
        .await
        .iter()
        .filter(|s| s.starts_with(&key))
        .count()
        < 3
    {
        assert!(
            Instant::now() < deadline,
            "the poller's lifecycle events never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The ops user replays, tails and inspects with the real operator tools.
    let replay = tool(&server, &["replay", "--output", "-"]);
    assert!(
        replay.contains("8910300000088000011") && replay.contains(&iccid),
        "{replay}"
    );
    let status = tool(&server, &["status"]);
    assert!(
        status.contains("poller state") && status.contains("lease"),
        "{status}"
    );

    // But its publish to an events subject is refused by the server and never stored.
    let (client, mut errors) = server.login("ops", OPS_PASSWORD).await;
    let forged = "esim.events.x.delivered";
    let mut js = jetstream::new(client.clone());
    js.set_timeout(Duration::from_secs(1));
    let ack = js.publish(forged, "forged".into()).await.expect("send");
    assert!(ack.await.is_err(), "a PubAck for a forbidden publish");
    let refusal = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(e) = errors.recv().await {
            if e.to_lowercase().contains("permissions violation") {
                return e;
            }
        }
        String::new()
    });
    let refusal = refusal
        .await
        .expect("no permissions violation reported to the ops user");
    assert!(refusal.contains(forged), "{refusal}");
    let subjects = stored_subjects(&consumer).await;
    assert!(
        !subjects.iter().any(|s| s == forged),
        "the forged event was stored"
    );

    // And the bridge never hit a permission it lacks.
    bridge.stop().await;
    let log = server.log();
    let violations: Vec<&str> = log.lines().filter(|l| l.contains("Violation")).collect();
    assert!(
        violations
            .iter()
            .all(|l| l.contains("user:ops") || l.contains(forged)),
        "{violations:#?}"
    );
    assert_eq!(
        violations.len(),
        1,
        "only the forged publish is refused: {violations:#?}"
    );
}

/// Runs `esim-bridge <args>` as the ops user against `server`; returns stdout.
fn tool(server: &AccountsServer, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_esim-bridge"))
        .args(args)
        .env("ESIM_BRIDGE_NATS__URL", server.url())
        .env("ESIM_BRIDGE_NATS__USER", "ops")
        .env("ESIM_BRIDGE_NATS__PASSWORD", OPS_PASSWORD)
        .output()
        .expect("run esim-bridge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "esim-bridge {args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The JetStream API of `user`, with a short timeout: a refused request gets no answer.
async fn team(server: &AccountsServer, user: &str, password: &str) -> jetstream::stream::Stream {
    let (client, _) = server.login(user, password).await;
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_secs(2));
    let stream = js.get_stream("ESIM_EVENTS").await;
    stream.unwrap_or_else(|e| panic!("{user} reads the stream info: {e}"))
}

fn durable(name: &str, filter: &str) -> jetstream::consumer::pull::Config {
    jetstream::consumer::pull::Config {
        durable_name: Some(name.into()),
        filter_subject: filter.into(),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ..Default::default()
    }
}

/// Fetches up to 10 messages from `consumer` (1 s), acks each and returns their subjects.
async fn drain(consumer: &jetstream::consumer::PullConsumer) -> Vec<String> {
    use futures::StreamExt;
    let mut batch = consumer
        .fetch()
        .max_messages(10)
        .expires(Duration::from_secs(1))
        .messages()
        .await
        .expect("fetch");
    let mut subjects = Vec::new();
    while let Some(message) = batch.next().await {
        let message = message.expect("message");
        message.double_ack().await.expect("ack confirmed");
        subjects.push(message.subject.to_string());
    }
    subjects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_manages_its_own_durables_but_cannot_touch_another_teams() {
    let server = AccountsServer::start();
    let bridge = Bridge::start(&server.url(), |c| {
        c.nats.user = Some("bridge".into());
        c.nats.password = Some(Secret::new(BRIDGE_PASSWORD));
    })
    .await;
    let body = esim_webhook(
        "evt_team",
        "esim.delivered",
        8_800_002,
        Some("8910300000088000029"),
    );
    let answer = signed(&reqwest::Client::new(), &bridge.url(), &body)
        .send()
        .await;
    assert_eq!(answer.expect("POST").status(), 200);

    // Given billing's durable, created by billing ...
    let billing = team(&server, "billing", BILLING_PASSWORD).await;
    let invoices = billing.create_consumer(durable("billing-invoices", "esim.events.>"));
    invoices.await.expect("billing creates its durable");

    // ... analytics creates, reads, acks and deletes its own.
    let analytics = team(&server, "analytics", ANALYTICS_PASSWORD).await;
    let live = analytics.create_consumer(durable("analytics-live", "esim.events.*.delivered"));
    let live = live.await.expect("analytics creates its durable");
    assert_eq!(drain(&live).await.len(), 1, "analytics reads and acks");

    // But it cannot delete billing's, re-create it with another filter, pull from it, or create
    // a durable under a name that is not its own.
    let deleted = analytics.delete_consumer("billing-invoices").await;
    assert!(deleted.is_err(), "analytics deleted billing's durable");
    let hijack = durable("billing-invoices", "esim.events.*.failed");
    assert!(analytics.create_consumer(hijack).await.is_err());
    let stolen: Result<jetstream::consumer::PullConsumer, _> =
        analytics.get_consumer("billing-invoices").await;
    assert!(stolen.is_err(), "analytics reads billing's durable");
    let foreign = analytics
        .create_consumer(durable("reports", "esim.events.>"))
        .await;
    assert!(
        foreign.is_err(),
        "analytics created a durable outside its names"
    );

    // Nor can the operator tools' user, which may create consumers of any other name.
    let ops = team(&server, "ops", OPS_PASSWORD).await;
    let hijack = durable("billing-invoices", "esim.events.*.failed");
    assert!(
        ops.create_consumer(hijack).await.is_err(),
        "ops re-configured billing's durable"
    );
    let deleted = ops.delete_consumer("billing-invoices").await;
    assert!(deleted.is_err(), "ops deleted billing's durable");
    // The bridge's user may create consumers of any name too (its ordered consumers).
    let as_bridge = team(&server, "bridge", BRIDGE_PASSWORD).await;
    let hijack = durable("billing-invoices", "esim.events.*.failed");
    let hijacked = as_bridge.create_consumer(hijack).await;
    assert!(hijacked.is_err(), "bridge re-configured billing's durable");

    // Billing's durable is intact: same filter, and its message is still there for billing.
    let mut invoices: jetstream::consumer::PullConsumer = billing
        .get_consumer("billing-invoices")
        .await
        .expect("still there");
    let info = invoices.info().await.expect("info");
    assert_eq!(info.config.filter_subject, "esim.events.>");
    assert_eq!(
        drain(&invoices).await.len(),
        1,
        "billing's message is still pending"
    );

    analytics
        .delete_consumer("analytics-live")
        .await
        .expect("analytics deletes its own durable");
    let gone: Result<jetstream::consumer::PullConsumer, _> =
        billing.get_consumer("analytics-live").await;
    assert!(
        gone.is_err(),
        "billing may not even look at analytics' durable"
    );
    bridge.stop().await;

    // Every refusal was the server's, for exactly the users that tried.
    let log = server.log();
    let violations: Vec<&str> = log.lines().filter(|l| l.contains("Violation")).collect();
    assert!(violations.len() >= 7, "{violations:#?}");
    assert!(
        violations.iter().any(|l| l.contains("user:bridge")),
        "{violations:#?}"
    );
    assert!(
        violations.iter().all(
            |l| ["user:analytics", "user:billing", "user:ops", "user:bridge"]
                .iter()
                .any(|u| l.contains(u))
        ),
        "{violations:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_cluster_refuses_a_route_without_credentials() {
    let cluster = tokio::task::spawn_blocking(DeployCluster::start);
    let cluster = cluster.await.expect("cluster starts");

    // A server that knows the cluster's name and address but not the route password, once
    // without credentials and once with a wrong password.
    let mut rogues = Vec::new();
    for (i, creds) in ["", "route:wrong-password@"].iter().enumerate() {
        let (monitor, port) = (free_port(), free_port());
        let conf = format!(
            "server_name: rogue{i}\nlisten: 127.0.0.1:{}\nhttp: 127.0.0.1:{monitor}\n\
             cluster {{\n  name: esim\n  listen: 127.0.0.1:{port}\n  \
             routes: [\"nats-route://{creds}127.0.0.1:{}\"]\n}}\n",
            free_port(),
            cluster.route_ports[0],
        );
        let path = cluster.dir.path().join(format!("rogue{i}.conf"));
        std::fs::write(&path, conf).expect("write rogue config");
        rogues.push((Proc::spawn(&path, &[]), monitor));
    }
    let n1_log = cluster.log_path(0);
    tokio::task::spawn_blocking(move || {
        wait_for("n1 to refuse both rogue routes", || {
            let log = std::fs::read_to_string(&n1_log).unwrap_or_default();
            log.matches("Authentication Failure").count() >= 2
        })
    })
    .await
    .expect("wait");
    for (rogue, monitor) in &rogues {
        assert!(routed_to(*monitor).is_empty(), "{}", rogue.log_text());
    }
    assert_eq!(
        cluster.routed_to(0),
        ["n2", "n3"],
        "n1 routes only to its peers"
    );
    for i in 0..3 {
        assert!(
            !cluster.log(i).contains(ROUTE_PASSWORD),
            "n{} logged the route password",
            i + 1
        );
    }
}
