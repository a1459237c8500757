//! `check-config --connect` through the real binary: one line per check on stderr, exit 0 when
//! `serve` could start, 1 naming what it could not reach or would refuse, and nothing changed.

use std::process::Output;

use async_nats::jetstream::stream::{Config, RetentionPolicy};

use crate::binary::bridge_cmd;
use crate::support::bridge::SECRET;
use crate::support::fixture::{jetstream, NatsServer};
use crate::support::free_port;
use crate::support::poller::{sim_config, start_sim};

/// `check-config --connect` against `nats_url`, with the poller reading `provider` if given.
async fn check(nats_url: &str, provider: Option<(&str, &str)>) -> (Option<i32>, String) {
    let mut cmd = bridge_cmd();
    cmd.env("ESIM_BRIDGE_NATS__URL", nats_url)
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .args(["check-config", "--connect"]);
    match provider {
        Some((base_url, secret)) => cmd
            .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "true")
            .env("ESIM_BRIDGE_UPSTREAM__BASE_URL", base_url)
            .env("ESIM_BRIDGE_UPSTREAM__API_KEY", "demo-key")
            .env("ESIM_BRIDGE_UPSTREAM__API_SECRET", secret),
        None => cmd.env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false"),
    };
    let out: Output = tokio::process::Command::from(cmd)
        .output()
        .await
        .expect("run check-config");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn every_check_passes_when_serve_could_start_and_nothing_is_created() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let (code, err) = check(&nats.url(), Some((&sim.base_url(), "demo-secret"))).await;
    assert_eq!(code, Some(0), "{err}");
    for line in [
        "check-config: nats: ok",
        "check-config: jetstream: ok",
        "check-config: stream ESIM_EVENTS: ok (absent: serve creates it)",
        "check-config: provider: ok",
    ] {
        assert!(err.contains(line), "{line:?} missing from:\n{err}");
    }
    let js = jetstream(&nats.url()).await;
    assert!(
        js.get_stream("ESIM_EVENTS").await.is_err(),
        "created a stream"
    );
}

#[tokio::test]
async fn what_serve_would_fail_on_is_named_and_exits_1() {
    // No server on the port.
    let nowhere = format!("nats://127.0.0.1:{}", free_port());
    let (code, err) = check(&nowhere, None).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("check-config: nats: FAILED"), "{err}");

    // A stream that would drop events; a provider that refuses the login.
    let nats = NatsServer::start().await;
    let js = jetstream(&nats.url()).await;
    js.create_stream(Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.events.>".into()],
        retention: RetentionPolicy::Interest,
        ..Default::default()
    })
    .await
    .expect("create the stream");
    let sim = start_sim(sim_config()).await;
    let (code, err) = check(&nats.url(), Some((&sim.base_url(), "not-the-secret"))).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("check-config: nats: ok"), "{err}");
    assert!(
        err.contains("check-config: stream ESIM_EVENTS: FAILED")
            && err.contains("retention is interest"),
        "{err}"
    );
    assert!(err.contains("check-config: provider: FAILED"), "{err}");
    assert!(
        !err.contains("not-the-secret"),
        "the secret is echoed:\n{err}"
    );
}
