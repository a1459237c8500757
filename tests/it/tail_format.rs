//! `tail` and `replay` output: one readable line per event with `--format human` (what a
//! terminal gets by default), each payload as stored with `--json` (what a pipe gets by
//! default).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::fixture::NatsServer;
use crate::support::replay::{
    assert_no_codes, events, nats_config, ndjson, publish_batches, publisher,
};

const BIN: &str = env!("CARGO_BIN_EXE_esim-bridge");
/// Hang guard only; nothing asserts on timing.
const PATIENCE: Duration = Duration::from_secs(30);

/// The first `n` lines `tail --since 1h ARGS` writes, then the process is stopped.
async fn first_lines(url: &str, args: &[&str], n: usize) -> Vec<String> {
    let mut child = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .args(["tail", "-s", url, "--since", "1h"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tail");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut got = Vec::new();
    while got.len() < n {
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .expect("tail stalled");
        got.push(line.expect("read").expect("tail ended early"));
    }
    got
}

#[tokio::test]
async fn human_lines_name_each_event_and_json_lines_are_the_payloads() {
    let server = NatsServer::start().await;
    let url = server.url();
    let publisher = publisher(&nats_config(&url)).await;
    // Stored now (stamped by JetStream), so `--since 1h` selects them.
    let (stored, _) = publish_batches(&publisher, vec![events(6)]).await;

    let human = first_lines(&url, &["--format", "human"], stored.len()).await;
    for (line, s) in human.iter().zip(&stored) {
        let e = &s.event;
        let sequence = line.split_whitespace().next();
        assert_eq!(sequence, Some(s.sequence.to_string().as_str()), "{line}");
        for part in [
            e.event_type.token(),
            s.key.as_str(),
            &format!("order {}", e.data.id),
            e.source.as_str(),
        ] {
            assert!(line.contains(part), "{part:?} not in {line:?}");
        }
        assert!(!line.contains('{') && !line.contains('\x1b'), "{line:?}");
    }
    assert_no_codes(human.join("\n").as_bytes());

    let json = first_lines(&url, &["--json"], stored.len()).await;
    let expected = String::from_utf8(ndjson(&stored)).expect("utf-8");
    assert_eq!(
        json.join("\n") + "\n",
        expected,
        "payloads as stored, in order"
    );
    // Piped without a format: JSON, as before.
    let piped = first_lines(&url, &[], stored.len()).await;
    assert_eq!(piped, json);

    // replay: the same lines, and the same default when piped.
    let replay = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .args(["replay", "-s", &url])
            .args(args)
            .output()
            .expect("replay");
        assert_eq!(out.status.code(), Some(0), "replay {args:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    assert_eq!(replay(&["--format", "human"]), human.join("\n") + "\n");
    assert_eq!(replay(&["--json"]), expected);
    assert_eq!(replay(&[]), expected, "piped: NDJSON as before");
}
