//! `replay`, `tail` and `status` through the real binary: NDJSON on stdout, no webhook or
//! upstream secrets needed, exit 64 for bad arguments, Ctrl-C ends tail cleanly.

use std::process::{Output, Stdio};
use std::time::Duration;

use async_nats::jetstream;
use esim_bridge::ingest::poller::Lease;
use esim_bridge::ingest::poller::Quarantined;
use esim_bridge::ingest::poller::{Phase, Tracked};
use esim_bridge::ingest::poller::{StateStore, StoredOrder};
use esim_bridge::provider::sanity::Reason;
use esim_events::{EventType, OrderData};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::fixture::NatsServer;
use crate::support::replay::{
    assert_no_codes, events, nats_config, ndjson, publish_batches, publisher,
};

const BIN: &str = env!("CARGO_BIN_EXE_esim-bridge");
/// Hang guard only; nothing asserts on timing.
const PATIENCE: Duration = Duration::from_secs(30);

/// The binary with nothing but a NATS URL: no webhook secrets, no upstream credentials.
fn tool(url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ESIM_BRIDGE_NATS__URL", url)
        .args(args)
        .kill_on_drop(true);
    cmd
}

async fn run(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out: Output = tool(url, args).output().await.expect("run esim-bridge");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_no_codes(&out.stdout);
    assert_no_codes(&out.stderr);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn replay_writes_ndjson_to_stdout_and_files_and_counts_dry_runs() {
    let server = NatsServer::start().await;
    let url = server.url();
    let publisher = publisher(&nats_config(&url)).await;
    let (stored, _) = publish_batches(&publisher, vec![events(50)]).await;
    let all = String::from_utf8(ndjson(&stored)).unwrap();

    let (code, out, err) = run(&url, &["replay", "--output", "-"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, all);
    assert!(err.contains("replay: 50 events to stdout"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.ndjson");
    let (code, out, err) = run(&url, &["replay", "-o", file.to_str().unwrap()]).await;
    assert_eq!((code, out.as_str()), (Some(0), ""), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), all);

    let key = &stored
        .iter()
        .find(|s| s.event.event_type == EventType::Activated)
        .unwrap()
        .key;
    let args = [
        "replay",
        "--since",
        "1h",
        "--until",
        "2099-01-01T00:00:00Z",
        "--iccid",
        key,
    ];
    let (code, out, _) = run(&url, &args).await;
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        String::from_utf8(ndjson(stored.iter().filter(|s| &s.key == key))).unwrap()
    );

    let delivered = stored
        .iter()
        .filter(|s| s.event.event_type == EventType::Delivered)
        .count();
    let (code, out, _) = run(&url, &["replay", "--dry-run", "--type", "delivered"]).await;
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        format!("total {delivered}\nesim.delivered {delivered}\n")
    );

    let (code, out, err) = run(&url, &["replay", "--to-subject", "esim.events.copy"]).await;
    assert_eq!((code, out.as_str()), (Some(64), ""));
    assert!(err.contains("--force"), "{err}");
}

#[tokio::test]
async fn bad_arguments_exit_64_before_touching_nats() {
    let nowhere = "nats://127.0.0.1:1";
    for args in [
        &["replay", "--since", "yesterday"][..],
        &["replay", "--until", "2026-13-01T00:00:00Z"],
        &["replay", "--since", "1h", "--until", "2h"],
        &["replay", "--type", "esim.teleported"],
        &["replay", "--iccid", "89.>"],
        &["replay", "--order", "12a"],
        &["replay", "--rate", "0/s"],
        &["replay", "--to-subject", "a.*"],
        &["tail", "--since", "soon"],
    ] {
        let (code, out, err) = run(nowhere, args).await;
        assert_eq!(code, Some(64), "{args:?}: {err}");
        assert!(out.is_empty() && err.contains("--"), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn status_reports_the_stream_and_the_poller_bucket() {
    let server = NatsServer::start().await;
    let url = server.url();
    let cfg = nats_config(&url);
    let publisher = publisher(&cfg).await;
    publish_batches(&publisher, vec![events(40)]).await;

    let (code, out, err) = run(&url, &["status"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("stream ESIM_EVENTS (esim.events.>)"), "{out}");
    assert!(
        out.contains("messages: 40\n") && out.contains("subjects: 40\n"),
        "{out}"
    );
    assert!(out.contains("poller state: not found"), "{out}");

    let js = jetstream::new(publisher.client().clone());
    let store = StateStore::open(&js, &cfg).await.unwrap();
    let snapshot: OrderData = serde_json::from_value(serde_json::json!({"id": 7})).unwrap();
    store
        .save(
            7,
            &StoredOrder::new(&Tracked::new(), snapshot.clone(), None),
        )
        .await
        .unwrap();
    let installing = Tracked {
        phase: Phase::Install,
        latest: Some(EventType::Delivered),
        ..Tracked::new()
    };
    let an_hour_ago = (time::OffsetDateTime::now_utc().unix_timestamp() - 3600) * 1000;
    let overdue = StoredOrder::new(&installing, snapshot, Some(an_hour_ago));
    store.save(8, &overdue).await.unwrap();
    store.save_cursor(8).await.unwrap();
    let doomed = Quarantined::new(Reason::DateOutOfRange, time::OffsetDateTime::now_utc());
    store.save_quarantine(9, &doomed).await.unwrap();
    let lease = Lease::new(
        store.kv().clone(),
        "replica-a".into(),
        Duration::from_secs(60),
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    lease.acquire(&shutdown).await.expect("lease");

    let (code, out, _) = run(&url, &["status"]).await;
    assert_eq!(code, Some(0));
    assert!(out.contains("lease: replica-a (renewed "), "{out}");
    assert!(
        out.contains("tracked orders: 2\n    install: 1\n    pending: 1\n"),
        "{out}"
    );
    assert!(
        out.contains("quarantined orders: 1\n    date_out_of_range: 1\n    ids: 9\n"),
        "{out}"
    );
    let (code, out, _) = run(&url, &["status", "--json"]).await;
    assert_eq!(code, Some(0));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["stream"]["messages"], 40);
    let poller = &report["poller"];
    assert_eq!(
        (poller["tracked"].as_u64(), poller["cursor"].as_u64()),
        (Some(2), Some(8))
    );
    assert_eq!(poller["overdue"], 1);
    assert!(poller["max_overdue_seconds"].as_u64().unwrap() >= 3600);
    assert_eq!(poller["lease"]["holder"], "replica-a");
    assert_eq!(poller["lease"]["stale"], false);
    assert_eq!(poller["quarantined"]["date_out_of_range"], 1);
    assert_eq!(poller["quarantined_ids"], serde_json::json!([9]));
}

#[tokio::test]
async fn tail_follows_new_events_until_interrupted() {
    let server = NatsServer::start().await;
    let url = server.url();
    let cfg = nats_config(&url);
    let publisher = publisher(&cfg).await;
    let mut all = events(80);
    let new = all.split_off(30);
    publish_batches(&publisher, vec![all]).await;

    let mut child = tool(&url, &["tail", "--type", "delivered"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let js = jetstream::new(publisher.client().clone());
    let mut stream = js.get_stream(&cfg.stream).await.unwrap();
    let consuming = async {
        while stream.info().await.unwrap().state.consumer_count == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, consuming)
        .await
        .expect("tail never subscribed");
    let (stored, _) = publish_batches(&publisher, vec![new]).await;
    let expected = ndjson(
        stored
            .iter()
            .filter(|s| s.event.event_type == EventType::Delivered),
    );
    let expected = String::from_utf8(expected).unwrap();

    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut got = String::new();
    while got.len() < expected.len() {
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .expect("tail stalled");
        got.push_str(&line.unwrap().expect("tail ended early"));
        got.push('\n');
    }
    assert_eq!(got, expected, "only new delivered events, in stream order");
    assert_no_codes(got.as_bytes());

    let pid = child.id().unwrap().to_string();
    let interrupted = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(interrupted.success());
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_tools_need_only_the_nats_section() {
    use esim_bridge::config::Config;
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let url = ("ESIM_BRIDGE_NATS__URL", "nats://nats.example:4222");
    let missing = ("ESIM_BRIDGE_UPSTREAM__API_KEY_FILE", "/nonexistent/key");
    assert!(Config::load_with_env(None, env(&[url])).is_err());
    let config = Config::load_for_tools_with_env(None, env(&[url, missing])).unwrap();
    assert_eq!(config.nats.url, "nats://nats.example:4222");
    let bad = env(&[("ESIM_BRIDGE_NATS__REPLICAS", "9")]);
    let e = Config::load_for_tools_with_env(None, bad).unwrap_err();
    assert_eq!(e.key(), Some("nats.replicas"));
    let unknown = env(&[("ESIM_BRIDGE_NATS__URLS", "x")]);
    assert!(Config::load_for_tools_with_env(None, unknown).is_err());
}
