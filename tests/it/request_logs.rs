//! Nothing taken from a request reaches the logs or metrics of the real binary: signed bodies
//! that are broken JSON, have wrong types, or carry an activation code where an id, a type, a
//! timestamp or an ICCID belongs are rejected, and the code appears in no encoding anywhere.

use base64::Engine;
use rand::Rng;

use crate::support::fixture::NatsServer;
use crate::support::slow::{exchange, signed_request, BridgeProcess};

const LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// One activation code with a random matching id, in the encodings a sender might use.
fn encodings(id: &str) -> Vec<String> {
    let code = format!("LPA:1$smdp.example.com${id}");
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let percent: String = code
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let entities: String = code.chars().map(|c| format!("&#{};", c as u32)).collect();
    let full_width: String = code
        .chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    vec![
        code.clone(),
        code.to_ascii_lowercase(),
        percent,
        b64.encode(&code),
        b64url.encode(&code),
        entities,
        full_width,
        format!("1${}${id}", "smdp.example.com:8443"),
    ]
}

/// JSON string content that decodes to `s`, written entirely as `\uXXXX` escapes.
fn json_escaped(s: &str) -> String {
    s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect()
}

/// Signed bodies that must all be rejected (or ignored), each carrying `value` somewhere.
fn hostile_bodies(value: &str) -> Vec<String> {
    let v = serde_json::Value::String(value.to_owned()).to_string(); // a JSON string literal
    let e = format!("\"{}\"", json_escaped(value));
    let at = r#""created_at":"2026-05-15T14:30:32Z""#;
    let order =
        |data: &str| format!(r#"{{"id":"evt_1","type":"esim.delivered",{at},"data":{{{data}}}}}"#);
    vec![
        format!(r#"{{"id":{v},"type":"esim.delivered","#), // broken JSON
        format!(r#"{{"id":{v} "type":"esim.delivered"}}"#),
        order(&format!(r#""id":{v}"#)), // a string where the order id is a number
        order(&format!(r#""id":{e}"#)),
        order(&format!(r#""id":1,"iccid":{v}"#)), // not a subject token
        order(&format!(r#""id":1,"validity_days":{v}"#)),
        order(&format!(r#""id":1,"status":{{"nested":{v}}}"#)),
        format!(r#"{{"id":{v},"type":"order.delivered",{at},"data":{{}}}}"#), // ignored type
        format!(r#"{{"id":{e},"type":"voucher.issued",{at},"data":{{}}}}"#),
        format!(r#"{{"id":"evt_2","type":{v},{at},"data":{{}}}}"#),
        format!(r#"{{"id":"evt_3","type":"esim.delivered","created_at":{v},"data":{{"id":1}}}}"#),
        format!(r#"{{"id":[{v}],"type":"esim.delivered",{at},"data":{{}}}}"#),
    ]
}

#[tokio::test]
async fn values_from_requests_never_reach_logs_or_metrics() {
    let id: String = {
        let mut rng = rand::rng();
        (0..20)
            .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
            .collect()
    };
    let nats = NatsServer::start().await;
    let bridge = BridgeProcess::start(&nats.url(), &[], None).await;
    let encoded = encodings(&id);
    let (mut sent, mut rejected) = (0, 0);
    for value in &encoded {
        for body in hostile_bodies(value) {
            let (status, _) = exchange(bridge.webhook, &signed_request(body.as_bytes()), LIMIT)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(status == 400 || status == 200, "{status} for a signed body");
            sent += 1;
            rejected += usize::from(status == 400);
        }
        // The same value in the headers the provider sends.
        if value.is_ascii() {
            let body = crate::support::bridge::esim_webhook("evt_h", "esim.delivered", 5, None);
            let mut request = signed_request(body.as_bytes());
            let at = request.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
            let extra = format!("x-event-id: {value}\r\nx-webhook-id: {value}\r\n");
            request.splice(at..at, extra.into_bytes());
            let (status, _) = exchange(bridge.webhook, &request, LIMIT)
                .await
                .expect("answer");
            assert_eq!(status, 400, "header/body id mismatch");
            rejected += 1;
        }
    }
    let metrics = exchange_text(bridge.admin, "/metrics").await;
    let logs = bridge.logs();
    assert!(
        logs.contains("webhook rejected") && logs.contains("invalid_event"),
        "nothing logged: the scan proves nothing"
    );
    assert!(metrics.contains("esim_bridge_webhooks_total"), "{metrics}");
    assert_eq!(
        logs.matches("webhook rejected").count(),
        rejected,
        "each rejection is logged once"
    );
    let everything = format!("{logs}\n{metrics}");
    for (i, value) in encoded.iter().enumerate() {
        assert!(
            !everything.contains(value.as_str()),
            "encoding {i} reached the logs"
        );
        assert!(
            !everything.contains(&json_escaped(value)),
            "escaped {i} reached the logs"
        );
    }
    assert!(
        !everything.contains(&id),
        "the matching id reached the logs"
    );
    assert!(
        !everything.to_ascii_uppercase().contains("LPA:"),
        "a code reached the logs"
    );
    println!(
        "{sent} hostile signed bodies, {} log bytes scanned",
        logs.len()
    );
}

/// A plain GET's whole answer as text.
async fn exchange_text(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let get = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    conn.write_all(get.as_bytes()).await.expect("send");
    let mut text = String::new();
    let read = tokio::time::timeout(LIMIT, conn.read_to_string(&mut text)).await;
    read.expect("answered").expect("read");
    text
}
