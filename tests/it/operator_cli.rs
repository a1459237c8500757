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

#[tokio::test]
async fn the_tools_take_the_server_as_the_nats_cli_does() {
    let nats = NatsServer::start().await;
    let js = jetstream(&nats.url()).await;
    js.create_stream(Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.events.>".into()],
        ..Default::default()
    })
    .await
    .expect("create stream");
    let dry_run = |cmd: &mut Command, extra: &[&str]| {
        let out = cmd
            .args(["replay", "--dry-run"])
            .args(extra)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), err)
    };
    let url = nats.url();
    let (code, err) = dry_run(&mut bridge_cmd(), &["-s", &url]);
    assert_eq!(code, Some(0), "-s: {err}");
    let (code, err) = dry_run(bridge_cmd().env("NATS_URL", &url), &[]);
    assert_eq!(code, Some(0), "NATS_URL: {err}");
    let (code, err) = dry_run(&mut bridge_cmd(), &["--server", "htp:/127.0.0.1::4222"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("--server"), "{err}");
}

#[tokio::test]
async fn status_fails_without_the_stream_and_writes_durations_as_the_config_does() {
    let nats = NatsServer::start().await;
    let url = nats.url();
    let status = || {
        let out = bridge_cmd()
            .args(["status", "-s", &url])
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), text)
    };
    let (code, out) = status();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("stream ESIM_EVENTS: not found"), "{out}");

    let js = jetstream(&url).await;
    js.create_stream(Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.events.>".into()],
        max_age: std::time::Duration::from_secs(90 * 86_400),
        ..Default::default()
    })
    .await
    .expect("create stream");
    let (code, out) = status();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("max age: 90d\n"), "{out}");
}

#[test]
fn completions_and_the_man_page_come_from_the_cli_definition() {
    let run = |args: &[&str]| {
        let out = bridge_cmd().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let bash = run(&["completions", "bash"]);
    for sub in ["serve", "check-config", "replay", "tail", "status", "audit"] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    assert!(bash.contains("--server"), "the tools' flags are completed");
    let man = run(&["man"]);
    assert!(man.starts_with(".ie"), "{}", &man[..man.len().min(200)]);
    assert!(man.contains(".TH esim-bridge 1"), "roff header");
    let bad = bridge_cmd()
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(64));
}

/// Issue 18: a file with four mistakes gets four answers in one run (exit 64), each with the
/// file and line it is on, the misspelt key with the closest known one; `serve` refuses the
/// same file the same way before it starts anything.
#[test]
fn every_mistake_of_a_config_file_is_named_at_once_with_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bridge.toml");
    let text = "[nats]\nurl = \"htp:/127.0.0.1::14222\"\nreplicas = 9\n\n[log]\nlevel = \"verbose\"\n\n[webhook]\nsecretz = [\"x\"]\n";
    std::fs::write(&file, text).expect("write");
    let shown = file.display().to_string();
    for command in ["check-config", "serve"] {
        let out = bridge_cmd()
            .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
            .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false")
            .args([command, "--config", &shown])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{command}: {err}");
        assert!(err.contains("4 problems:"), "{command}: {err}");
        for (key, line) in [
            ("nats.url", 2),
            ("nats.replicas", 3),
            ("log.level", 6),
            ("webhook.secretz", 9),
        ] {
            let at = format!("(at {shown}:{line})");
            assert!(
                err.lines()
                    .any(|l| l.trim_start().starts_with(key) && l.ends_with(&at)),
                "{command}: no {key} {at} in {err}"
            );
        }
        assert!(err.contains("did you mean `secrets`?"), "{command}: {err}");
    }
}
