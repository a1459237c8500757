//! What an operator meets first, with the real binary: `--version` names the build,
//! `check-config` refuses a log level or NATS URL that would make `serve` misbehave (exit 64,
//! naming the key), and `serve` writes one start line, no colour codes into a pipe, and a fatal
//! error once.

use std::process::Command;

use async_nats::jetstream::stream::{Config, RetentionPolicy};

use crate::binary::{bridge_cmd, run_until_exit};
use crate::support::bridge::SECRET;
use crate::support::fixture::{jetstream, NatsServer};

fn check_config(cmd: &mut Command) -> (Option<i32>, String) {
    let out = cmd
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .arg("check-config")
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_names_the_release_the_commit_and_the_build_date() {
    let out = bridge_cmd().arg("--version").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let re = regex::Regex::new(
        r"^esim-bridge \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}|unknown), built \d{4}-\d{2}-\d{2}\)\n$",
    )
    .expect("regex");
    assert!(re.is_match(&text), "{text:?}");
}

#[test]
fn a_log_level_that_would_silence_serve_is_refused_with_the_accepted_forms() {
    let (code, err) = check_config(bridge_cmd().env("ESIM_BRIDGE_LOG__LEVEL", "verbose"));
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("log.level"), "{err}");
    assert!(
        err.contains("trace, debug, info, warn, error, off"),
        "{err}"
    );

    let (code, err) =
        check_config(bridge_cmd().env("ESIM_BRIDGE_LOG__LEVEL", "warn,esim_bridge=debug"));
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_nats_url_that_cannot_be_dialled_is_refused_naming_the_key_not_the_value() {
    for url in [
        "htp:/127.0.0.1::14222",
        "http://127.0.0.1:4222",
        "nats://a:4222,nats://user:hunter2@b:4222/x",
    ] {
        let (code, err) = check_config(bridge_cmd().env("ESIM_BRIDGE_NATS__URL", url));
        assert_eq!(code, Some(64), "{url}: {err}");
        assert!(err.contains("nats.url"), "{url}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

#[tokio::test]
async fn serve_says_once_what_started_and_once_why_it_stopped_without_colour_codes() {
    let nats = NatsServer::start().await;
    let js = jetstream(&nats.url()).await;
    js.create_stream(Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.events.>".into()],
        retention: RetentionPolicy::Interest,
        ..Default::default()
    })
    .await
    .expect("create stream");
    let mut cmd = bridge_cmd();
    cmd.env("ESIM_BRIDGE_NATS__URL", nats.url())
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .env("ESIM_BRIDGE_WEBHOOK__LISTEN", "127.0.0.1:0")
        .env("ESIM_BRIDGE_ADMIN__LISTEN", "127.0.0.1:0")
        .arg("serve");
    let (code, err) = run_until_exit(cmd).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "ANSI escape in piped logs: {err:?}"
    );
    let start: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("esim-bridge starting"))
        .collect();
    assert_eq!(start.len(), 1, "{err}");
    for field in [
        "version=",
        "stream=ESIM_EVENTS",
        "webhook=127.0.0.1:0",
        "poller=off",
    ] {
        assert!(start[0].contains(field), "{field} missing: {}", start[0]);
    }
    let cause = "retention is interest";
    assert_eq!(err.matches(cause).count(), 1, "the fatal error once: {err}");
}
