//! The real `esim-bridge` binary: exit codes, graceful shutdown, stream verification, and a
//! scan of everything it wrote to stderr.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::bridge::{esim_webhook, signed, stored, SECRET};
use crate::support::fixture::NatsServer;

const BIN: &str = env!("CARGO_BIN_EXE_esim-bridge");

pub(crate) fn bridge_cmd() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false");
    cmd
}

/// Runs `cmd` until it exits: its code and stderr. One still running after 30 s (a bridge that
/// started serving) is killed and reported as `None`.
pub(crate) async fn run_until_exit(mut cmd: Command) -> (Option<i32>, String) {
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    match tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await {
        Ok(out) => {
            let out = out.expect("wait");
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into(),
            )
        }
        Err(_) => (None, "still running after 30 s".to_owned()),
    }
}

#[test]
fn bad_config_exits_64_and_names_the_key() {
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(bridge_cmd()
        .arg("check-config")
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789")
        .env("ESIM_BRIDGE_WEBHOOK__TOLERANCE", "a while"));
    assert_eq!(code, Some(64));
    assert!(err.contains("webhook.tolerance"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[webhook]\nsecrets = \"s\"\nlisten = 8080\n").expect("write");
    let (code, err) = run(bridge_cmd().arg("check-config").arg("--config").arg(&file));
    assert_eq!(code, Some(64));
    assert!(err.contains("webhook.listen"), "{err}");

    let (code, err) = run(bridge_cmd()
        .arg("serve")
        .env("ESIM_BRIDGE_CONFIG", dir.path().join("missing.toml")));
    assert_eq!(code, Some(64));
    assert!(err.contains("missing.toml"), "{err}");

    let (code, err) = run(bridge_cmd().arg("serve").arg("--no-such-flag"));
    assert_eq!(
        code,
        Some(64),
        "usage errors are configuration errors too: {err}"
    );
}

#[test]
fn check_config_prints_the_effective_config_with_secrets_masked() {
    let out = bridge_cmd()
        .env(
            "ESIM_BRIDGE_WEBHOOK__SECRETS",
            "[old-secret-0000001, new-secret-0000002]",
        )
        .env("ESIM_BRIDGE_NATS__PASSWORD", "pw-secret-3")
        .env("ESIM_BRIDGE_NATS__USER", "bridge")
        .arg("check-config")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("[webhook]") && text.contains("user = \"bridge\""),
        "{text}"
    );
    for secret in ["old-secret-0000001", "new-secret-0000002", "pw-secret-3"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn serve_stores_a_webhook_stops_on_sigterm_and_logs_no_secret() {
    let nats = NatsServer::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = tokio::process::Command::new(BIN)
        .env_clear()
        .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false")
        .env("ESIM_BRIDGE_NATS__URL", nats.url())
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .env("ESIM_BRIDGE_WEBHOOK__LISTEN", format!("127.0.0.1:{port}"))
        .env("ESIM_BRIDGE_ADMIN__LISTEN", "127.0.0.1:0")
        .env("ESIM_BRIDGE_LOG__FORMAT", "json")
        .env("ESIM_BRIDGE_LOG__LEVEL", "debug")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let url = format!("http://127.0.0.1:{port}/webhooks/octopus");
    let http = reqwest::Client::new();
    let body = esim_webhook("evt_bin", "esim.delivered", 42, Some("8944000000000000042"));
    let mut status = 0;
    for _ in 0..100 {
        match signed(&http, &url, &body).send().await {
            Ok(r) => {
                status = r.status().as_u16();
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(status, 200);
    assert_eq!(stored(&nats.url(), "ESIM_EVENTS").await.len(), 1);

    let pid = child.id().expect("pid");
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    let exit = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits")
        .expect("wait");
    assert_eq!(exit.code(), Some(0), "graceful shutdown exits 0");
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("read");
    assert!(stderr.contains("webhook listener up"), "{stderr}");
    assert!(!stderr.contains(SECRET), "signing secret in logs");
    assert!(
        !stderr.to_ascii_uppercase().contains("LPA:"),
        "activation code in logs"
    );
}

#[tokio::test]
async fn an_existing_stream_that_does_not_cover_our_subjects_is_refused_not_changed() {
    let nats = NatsServer::start().await;
    let js = crate::support::fixture::jetstream(&nats.url()).await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["other.>".into()],
        ..Default::default()
    })
    .await
    .expect("create");
    let out = bridge_cmd()
        .env("ESIM_BRIDGE_NATS__URL", nats.url())
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .env("ESIM_BRIDGE_WEBHOOK__LISTEN", "127.0.0.1:0")
        .env("ESIM_BRIDGE_ADMIN__LISTEN", "127.0.0.1:0")
        .arg("serve")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("do not cover esim.events.>"), "{err}");
    let mut stream = js.get_stream("ESIM_EVENTS").await.expect("stream");
    assert_eq!(
        stream.info().await.expect("info").config.subjects,
        ["other.>"]
    );
}

#[tokio::test]
async fn an_operators_wider_stream_is_used_as_it_is() {
    let nats = NatsServer::start().await;
    let js = crate::support::fixture::jetstream(&nats.url()).await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.>".into()],
        max_messages: 12345,
        discard: async_nats::jetstream::stream::DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .expect("create");
    let bridge = crate::support::bridge::Bridge::start(&nats.url(), |_| {}).await;
    let mut stream = js.get_stream("ESIM_EVENTS").await.expect("stream");
    let config = stream.info().await.expect("info").config.clone();
    assert_eq!(
        (config.subjects, config.max_messages),
        (vec!["esim.>".to_owned()], 12345)
    );
    bridge.stop().await;
}
