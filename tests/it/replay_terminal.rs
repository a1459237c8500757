//! Replay output never writes a terminal sequence from stored data (issue 16, row 10): a
//! message someone else published raw into the stream with ESC/OSC/CSI, C1 controls, DEL and
//! bidi overrides comes out with each of them escaped visibly, and a JSON line is still the
//! same document.

use async_nats::jetstream;
use esim_bridge::tools::Plan;

use crate::support::fixture::NatsServer;
use crate::support::replay::{nats_config, publisher, replay_to_vec};

const SUBJECT: &str = "esim.events.8910300000123456789.delivered";

/// Raw payloads as a foreign publisher could store them: JSON with C1 controls, DEL and bidi
/// characters kept raw in its strings (valid JSON), and text that is not JSON with raw
/// escape sequences and a lone C1 byte.
fn hostile() -> Vec<Vec<u8>> {
    vec![
        "{\"id\":\"evt_t1\",\"data\":{\"id\":1,\"product_name\":\"\u{202e}exe.gnp\u{2066} \u{9b}2J\u{85}\u{7f}\"}}"
            .as_bytes()
            .to_vec(),
        b"\x1b]0;owned\x07\x1b[2J\x1b[32mall events delivered\x1b[0m \x9b31m".to_vec(),
    ]
}

/// True if a terminal would act on `c` rather than show it (the line break between lines
/// aside).
fn acted_on(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[tokio::test]
async fn replay_escapes_terminal_sequences_from_stored_messages() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let js = jetstream::new(publisher.client().clone());
    let stored = hostile();
    for payload in &stored {
        let ack = js
            .publish(SUBJECT, payload.clone().into())
            .await
            .expect("publish");
        ack.await.expect("ack");
    }
    let (out, summary) = replay_to_vec(publisher.client(), &cfg, Plan::everything()).await;
    assert_eq!(summary.matched, stored.len() as u64);
    let text = std::str::from_utf8(&out).expect("escaped output is UTF-8");
    let bad: Vec<char> = text.chars().filter(|&c| acted_on(c)).collect();
    assert!(bad.is_empty(), "raw {bad:?} in {text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), stored.len());
    // The JSON line is the stored document, its characters now written as JSON escapes.
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("still JSON");
    let original: serde_json::Value = serde_json::from_slice(&stored[0]).unwrap();
    assert_eq!(line, original);
    assert!(lines[0].contains("\\u202e") && lines[0].contains("\\u009b"));
    assert_eq!(
        lines[1],
        "\\u001b]0;owned\\u0007\\u001b[2J\\u001b[32mall events delivered\\u001b[0m \\x9b31m"
    );
}
