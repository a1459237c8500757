//! The NATS configs under `deploy/nats/`: every one is valid, and the least-privilege users of
//! `accounts.conf` are exactly enough. The `bridge` user runs the whole bridge (stream and KV
//! provisioning, webhook publishes, the poller's lease, state and stream follower) without a
//! single permissions violation; the `consumer` user can read, replay, tail and inspect, but a
//! publish to an events subject is refused and never stored.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use esim_bridge::config::Secret;

use crate::bridge::{esim_webhook, signed, Bridge};
use crate::container_stack::stored_subjects;
use crate::poller_support::{full_lifecycle, order, sim_config, start_sim, with_poller, PATIENCE};

const BRIDGE_PASSWORD: &str = "bridge-test-password";
const CONSUMER_PASSWORD: &str = "consumer-test-password";

fn deploy_nats() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nats")
}

fn nats_server() -> String {
    std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".into())
}

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
            .env("ESIM_NATS_BRIDGE_PASSWORD", BRIDGE_PASSWORD)
            .env("ESIM_NATS_CONSUMER_PASSWORD", CONSUMER_PASSWORD)
            .output()
            .expect("run nats-server -t");
        let text = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        assert!(out.status.success(), "{conf}: {text}");
        assert!(text.contains("is valid"), "{conf}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_user_runs_everything_and_the_consumer_user_reads_but_cannot_publish() {
    let server = AccountsServer::start();
    let sim = start_sim(sim_config()).await;
    let bridge = Bridge::start(&server.url(), |c| {
        c.nats.user = Some("bridge".into());
        c.nats.password = Some(Secret::new(BRIDGE_PASSWORD));
        with_poller(c, &sim.base_url());
    })
    .await;
    let consumer = server.consumer().await;

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

    // The consumer user replays, tails and inspects with the real operator tools.
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
    let (errors_tx, mut errors) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .event_callback(move |event| {
            let errors_tx = errors_tx.clone();
            async move {
                let _ = errors_tx.send(event.to_string());
            }
        })
        .user_and_password("consumer".into(), CONSUMER_PASSWORD.into())
        .connect(server.url())
        .await
        .expect("consumer connects");
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
        .expect("no permissions violation reported to the consumer");
    assert!(refusal.contains(forged), "{refusal}");
    let subjects = stored_subjects(&consumer).await;
    assert!(
        !subjects.iter().any(|s| s == forged),
        "the forged event was stored"
    );

    // And the bridge never hit a permission it lacks.
    bridge.stop().await;
    let log = std::fs::read_to_string(server.log()).expect("server log");
    let violations: Vec<&str> = log.lines().filter(|l| l.contains("Violation")).collect();
    assert!(
        violations
            .iter()
            .all(|l| l.contains("user:consumer") || l.contains(forged)),
        "{violations:#?}"
    );
    assert_eq!(
        violations.len(),
        1,
        "only the forged publish is refused: {violations:#?}"
    );
}

/// Runs `esim-bridge <args>` as the consumer user against `server`; returns stdout.
fn tool(server: &AccountsServer, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_esim-bridge"))
        .args(args)
        .env("ESIM_BRIDGE_NATS__URL", server.url())
        .env("ESIM_BRIDGE_NATS__USER", "consumer")
        .env("ESIM_BRIDGE_NATS__PASSWORD", CONSUMER_PASSWORD)
        .output()
        .expect("run esim-bridge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "esim-bridge {args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// nats-server on loopback with `deploy/nats/accounts.conf` included verbatim.
struct AccountsServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl AccountsServer {
    fn start() -> AccountsServer {
        let dir = tempfile::TempDir::with_prefix("nats-acl-").expect("temp dir");
        std::fs::copy(
            deploy_nats().join("accounts.conf"),
            dir.path().join("accounts.conf"),
        )
        .expect("copy accounts.conf");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let store = dir.path().join("store").display().to_string();
        let conf = format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: {store:?} }}\ninclude accounts.conf\n"
        );
        std::fs::write(dir.path().join("test.conf"), conf).expect("write config");
        let log = std::fs::File::create(dir.path().join("nats.log")).expect("log");
        let child = Command::new(nats_server())
            .arg("-c")
            .arg(dir.path().join("test.conf"))
            .env("ESIM_NATS_BRIDGE_PASSWORD", BRIDGE_PASSWORD)
            .env("ESIM_NATS_CONSUMER_PASSWORD", CONSUMER_PASSWORD)
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn nats-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server with accounts.conf did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        AccountsServer { child, port, dir }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn consumer(&self) -> async_nats::Client {
        let options = async_nats::ConnectOptions::with_user_and_password(
            "consumer".into(),
            CONSUMER_PASSWORD.into(),
        );
        options
            .connect(self.url())
            .await
            .expect("consumer connects")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("nats.log")
    }
}

impl Drop for AccountsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
