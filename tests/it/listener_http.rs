//! HTTP/1 framings a provider's client may use still work through the listener's own accept
//! loop: `Expect: 100-continue`, HTTP/1.0, several requests on one kept-alive connection, and
//! pipelined requests.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::bridge::{esim_webhook, Scenario};
use crate::support::slow::{is_closed, read_status, signed_request};

const LIMIT: Duration = Duration::from_secs(10);
/// The header timeout the idle-connection test configures, and how late after it a close may
/// come on a loaded 2-core machine: a later close means the timeout was not applied.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const CLOSE_MARGIN: Duration = Duration::from_secs(2);

fn body(order: u64) -> Vec<u8> {
    let iccid = format!("89440000000001{order:05}");
    esim_webhook(
        &format!("evt_h{order}"),
        "esim.delivered",
        order,
        Some(&iccid),
    )
    .into_bytes()
}

/// A signed request for `order` that keeps the connection open.
fn keep_alive(order: u64) -> Vec<u8> {
    let raw = signed_request(&body(order));
    let text = String::from_utf8(raw).expect("ascii request");
    text.replace("connection: close\r\n", "").into_bytes()
}

/// Reads one whole response (head + `content-length` body) and returns its status.
async fn read_response(conn: &mut TcpStream) -> u16 {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(LIMIT, conn.read(&mut byte)).await;
        assert_eq!(n.expect("answered").expect("read"), 1, "closed mid-answer");
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut rest = vec![0u8; len];
    conn.read_exact(&mut rest).await.expect("body");
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn expect_continue_http10_keep_alive_and_pipelining_are_served() {
    let s = Scenario::start(|_| {}).await;
    let addr = s.bridge.webhook;

    // Expect: 100-continue: the listener asks for the body, then answers.
    let b = body(1);
    let raw = String::from_utf8(signed_request(&b)).expect("ascii");
    let head = raw.replace("\r\n\r\n", "\r\nexpect: 100-continue\r\n\r\n");
    let head = head
        .strip_suffix(std::str::from_utf8(&b).expect("utf8"))
        .expect("head");
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    conn.write_all(head.as_bytes()).await.expect("head");
    assert_eq!(read_response(&mut conn).await, 100);
    conn.write_all(&b).await.expect("body");
    assert_eq!(read_response(&mut conn).await, 200);

    // HTTP/1.0.
    let raw = String::from_utf8(signed_request(&body(2))).expect("ascii");
    let old = raw.replacen("HTTP/1.1", "HTTP/1.0", 1);
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    conn.write_all(old.as_bytes()).await.expect("send");
    assert_eq!(read_status(&mut conn).await, Ok(200));

    // Two requests one after the other, then two pipelined, on one connection.
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    for order in 3..5 {
        conn.write_all(&keep_alive(order)).await.expect("send");
        assert_eq!(read_response(&mut conn).await, 200, "request {order}");
    }
    conn.write_all(&[keep_alive(5), keep_alive(6)].concat())
        .await
        .expect("send");
    assert_eq!(read_response(&mut conn).await, 200);
    assert_eq!(read_response(&mut conn).await, 200);

    assert_eq!(s.stored().await.len(), 6);
    s.finish().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_closes_at_the_header_timeout_and_is_counted_apart() {
    let s = Scenario::start(|c| c.webhook.header_timeout = HEADER_TIMEOUT).await;
    let addr = s.bridge.webhook;
    let mut served = TcpStream::connect(addr).await.expect("connect");
    served.write_all(&keep_alive(7)).await.expect("send");
    assert_eq!(read_response(&mut served).await, 200);
    let mut trickle = TcpStream::connect(addr).await.expect("connect");
    trickle
        .write_all(b"POST /webhooks/octopus HTTP/1.1\r\n")
        .await
        .expect("part of a head");
    for conn in [&mut served, &mut trickle] {
        assert!(
            is_closed(conn, HEADER_TIMEOUT + CLOSE_MARGIN).await,
            "not closed within the header timeout ({HEADER_TIMEOUT:?}) + {CLOSE_MARGIN:?}"
        );
    }
    let admin = format!("http://{}/metrics", s.bridge.admin);
    let line = |reason: &str| {
        format!(r#"esim_bridge_http_refused_total{{listener="webhook",reason="{reason}"}}"#)
    };
    let mut metrics = String::new();
    for _ in 0..50 {
        let answer = s.http.get(&admin).send().await.expect("metrics");
        metrics = answer.text().await.expect("text");
        if metrics.contains(&line("idle_timeout")) && metrics.contains(&line("header_timeout")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(metrics.contains(&line("idle_timeout")), "{metrics}");
    assert!(metrics.contains(&line("header_timeout")), "{metrics}");
    s.finish().await;
}
