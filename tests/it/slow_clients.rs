//! Slow and abusive clients against the real binary: slowloris headers, slow bodies, thousands
//! of idle connections, bodies at the limit from many clients, oversized bodies still being
//! sent. Signed webhooks keep being answered and memory stays under the documented bound.
//!
//! Timeouts are configured short so the suite stays fast; every loop is bounded.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::bridge::esim_webhook;
use crate::support::fixture::NatsServer;
use crate::support::slow::{
    exchange, head_for_body, is_closed, read_status, signed_request, spare_fds, BridgeProcess, PATH,
};

/// The issue asks that a signed webhook be answered within 1 s under attack; the assertion
/// allows twice that for a loaded 2-core CI machine (measured figures are printed).
const ANSWERED_WITHIN: Duration = Duration::from_secs(2);
/// How long a test client waits for any answer before calling the listener stalled.
const STALLED: Duration = Duration::from_secs(5);

/// The documented memory bound: RSS stays below this allowance for the process itself plus
/// `webhook.max_buffered_bytes`.
const RSS_ALLOWANCE: u64 = 64 * 1024 * 1024;

fn valid(order: u64) -> Vec<u8> {
    let iccid = format!("89440000000000{order:05}");
    let body = esim_webhook(
        &format!("evt_{order}"),
        "esim.delivered",
        order,
        Some(&iccid),
    );
    signed_request(body.as_bytes())
}

/// A signed webhook is answered 200 quickly; returns how long it took.
async fn answered_quickly(bridge: &BridgeProcess, order: u64) -> Duration {
    let answer = exchange(bridge.webhook, &valid(order), STALLED).await;
    let (status, took) = answer.unwrap_or_else(|e| panic!("signed webhook: {e}"));
    assert_eq!(status, 200);
    assert!(took < ANSWERED_WITHIN, "answered after {took:?}");
    took
}

/// The header timeout the slowloris test configures, and how late after it the cut may come
/// on a loaded 2-core machine: a later cut means the timeout was not applied.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const CUT_MARGIN: Duration = Duration::from_secs(2);

#[tokio::test]
async fn slowloris_headers_are_cut_at_the_header_timeout() {
    let nats = NatsServer::start().await;
    let env = [("ESIM_BRIDGE_WEBHOOK__HEADER_TIMEOUT", "1s")];
    let bridge = BridgeProcess::start(&nats.url(), &env, None).await;
    let mut conn = TcpStream::connect(bridge.webhook).await.expect("connect");
    let started = Instant::now();
    conn.write_all(format!("POST {PATH} HTTP/1.1\r\n").as_bytes())
        .await
        .expect("request line");
    // One header line every 200 ms until the timeout plus the margin: never a complete head.
    let mut closed = false;
    let mut i = 0;
    while started.elapsed() < HEADER_TIMEOUT + CUT_MARGIN {
        let line = format!("x-trickle-{i}: a\r\n");
        i += 1;
        if conn.write_all(line.as_bytes()).await.is_err()
            || is_closed(&mut conn, Duration::from_millis(200)).await
        {
            closed = true;
            break;
        }
    }
    let open_for = started.elapsed();
    assert!(
        closed,
        "still open after trickling headers for {open_for:?} (header_timeout {HEADER_TIMEOUT:?} + {CUT_MARGIN:?})"
    );
    println!("slowloris connection closed after {open_for:?} (header_timeout 1s)");
    answered_quickly(&bridge, 1).await;
}

#[tokio::test]
async fn slow_bodies_in_every_request_slot_do_not_delay_a_signed_webhook() {
    let nats = NatsServer::start().await;
    let env = [
        ("ESIM_BRIDGE_WEBHOOK__MAX_CONCURRENCY", "4"),
        ("ESIM_BRIDGE_WEBHOOK__REQUEST_TIMEOUT", "3s"),
    ];
    let bridge = BridgeProcess::start(&nats.url(), &env, None).await;
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut conn = TcpStream::connect(bridge.webhook).await.expect("connect");
        conn.write_all(&head_for_body(100_000)).await.expect("head");
        conn.write_all(&[b' '; 1000])
            .await
            .expect("part of the body");
        slow.push(conn);
    }
    tokio::time::sleep(Duration::from_millis(300)).await; // let the listener take them in
    let took = answered_quickly(&bridge, 2).await;
    println!("signed webhook behind 4 slow bodies (max_concurrency 4): {took:?}");
    for mut conn in slow {
        let answer = tokio::time::timeout(STALLED, read_status(&mut conn)).await;
        let status = answer
            .expect("the deadline answers a slow body")
            .expect("an answer");
        assert!(matches!(status, 408 | 503), "slow body answered {status}");
    }
}

#[tokio::test]
async fn with_every_slot_busy_a_further_webhook_gets_503_at_once() {
    let nats = NatsServer::start().await;
    let env = [
        ("ESIM_BRIDGE_WEBHOOK__MAX_CONCURRENCY", "2"),
        // Long enough that the busy requests are surely still publishing when the third comes.
        ("ESIM_BRIDGE_WEBHOOK__REQUEST_TIMEOUT", "8s"),
    ];
    let bridge = BridgeProcess::start(&nats.url(), &env, None).await;
    // Without the stream every publish is retried until the deadline: both slots stay busy.
    let js = crate::support::fixture::jetstream(&nats.url()).await;
    js.delete_stream("ESIM_EVENTS")
        .await
        .expect("delete the stream");
    let addr = bridge.webhook;
    let busy: Vec<_> = (10..12)
        .map(|order| tokio::spawn(async move { exchange(addr, &valid(order), 3 * STALLED).await }))
        .collect();
    // let both reach the publish (generous: a loaded CI machine schedules the bridge late)
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    conn.write_all(&valid(12)).await.expect("send");
    let mut head = Vec::new();
    let answer = tokio::time::timeout(STALLED, async {
        use tokio::io::AsyncReadExt;
        conn.read_to_end(&mut head).await
    })
    .await;
    assert!(answer.is_ok(), "the third webhook waited for a slot");
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 503"), "{head}");
    assert!(head.contains("retry-after: 5"), "{head}");
    assert!(
        busy.iter().all(|b| !b.is_finished()),
        "the 503 came before the busy requests ended: it was not queued behind them"
    );
    for b in busy {
        let (status, _) = b.await.expect("join").expect("answered by the deadline");
        assert_eq!(status, 503, "not stored: the sender is told to retry");
    }
}

#[tokio::test]
async fn thousands_of_idle_connections_neither_exhaust_files_nor_delay_a_signed_webhook() {
    // 2000 idle connections, fewer if this process may not open that many; the bridge gets a
    // quarter as many files (512 at full scale, as a small container might allow) and half of
    // those as max_connections: more connections than it has files must not make accept() fail.
    let n = 2000.min(spare_fds().saturating_sub(300));
    assert!(n >= 400, "too few file descriptors for this test: {n}");
    let (files, cap) = (n / 4 + 12, n / 8);
    let nats = NatsServer::start().await;
    let cap_text = cap.to_string();
    let env = [
        ("ESIM_BRIDGE_WEBHOOK__MAX_CONNECTIONS", cap_text.as_str()),
        ("ESIM_BRIDGE_WEBHOOK__MAX_CONCURRENCY", "16"),
        ("ESIM_BRIDGE_WEBHOOK__HEADER_TIMEOUT", "20s"), // idle ones stay until the cap acts
        ("ESIM_BRIDGE_WEBHOOK__REQUEST_TIMEOUT", "5s"),
    ];
    let files = u32::try_from(files).expect("small");
    let bridge = BridgeProcess::start(&nats.url(), &env, Some(files)).await;
    let mut idle = Vec::with_capacity(n);
    let mut failed = Vec::new();
    let opening = Instant::now();
    for _ in 0..n {
        // Bounded: a listener that stopped accepting (every connect timing out) must not make
        // this loop run for long, but a busy machine that is only slow to open them must not
        // fail it (10 s of wall time did, beside a benchmark): five failures end it, and a
        // generous bound in time.
        if failed.len() >= 5 || opening.elapsed() > Duration::from_secs(120) {
            break;
        }
        let connect = TcpStream::connect(bridge.webhook);
        // Above the 1 s SYN retransmission: a backlog full for a moment is no failure.
        match tokio::time::timeout(Duration::from_secs(3), connect).await {
            Ok(Ok(conn)) => idle.push(conn),
            Ok(Err(e)) => failed.push(e.kind().to_string()),
            Err(_) => failed.push("timed out".to_owned()),
        }
    }
    // Every connect succeeded: a listener that stopped accepting (out of files) fills its
    // backlog and makes connects time out, which this count would show.
    assert_eq!(
        idle.len(),
        n,
        "only {} of {n} connects succeeded; failures: {failed:?}",
        idle.len()
    );
    let took = answered_quickly(&bridge, 3).await;
    println!(
        "signed webhook with {} idle connections open (bridge: {files} files, {cap} connections): {took:?}",
        idle.len()
    );
    let mut open = idle.len();
    for _ in 0..50 {
        open = idle.iter().filter(|c| still_open(c)).count();
        if open <= cap {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        open <= cap,
        "{open} idle connections held past max_connections {cap}"
    );
}

/// Whether the peer has neither closed nor written anything (non-blocking).
fn still_open(conn: &TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(conn.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[tokio::test]
async fn bodies_at_the_limit_from_many_clients_keep_rss_under_the_bound() {
    let nats = NatsServer::start().await;
    let bridge = BridgeProcess::start(&nats.url(), &[], None).await; // default limits
    let bound = RSS_ALLOWANCE + 96 * 1024 * 1024; // + webhook.max_buffered_bytes default
    let before = bridge.rss_bytes();
    let limit = 1_048_576;
    let addr = bridge.webhook;
    const CLIENTS: usize = 200;
    const DEFAULT_MAX_CONCURRENCY: usize = 64;
    let senders: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(async move {
                let mut conn = TcpStream::connect(addr).await.expect("connect");
                conn.write_all(&head_for_body(limit)).await?;
                conn.write_all(&vec![b' '; limit - 1]).await?;
                Ok::<_, std::io::Error>(conn) // held open, one byte short
            })
        })
        .collect();
    let mut peak = before;
    while !senders.iter().all(|s| s.is_finished()) {
        peak = peak.max(bridge.rss_bytes());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut sent = Vec::new();
    let mut cut_while_sending = 0;
    for s in senders {
        match s.await.expect("join") {
            Ok(conn) => sent.push(conn),
            Err(_) => cut_while_sending += 1,
        }
    }
    for _ in 0..25 {
        peak = peak.max(bridge.rss_bytes());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every client is accounted for: its body is held (no answer, still open), or it was
    // refused (503: its slot went to a newer body) after or while sending.
    let mut held = Vec::new();
    let mut refused_after_sending = 0;
    let mut held_to_deadline = 0;
    for mut conn in sent {
        // No answer within a short wait: the body is held (its deadline is far off).
        match tokio::time::timeout(Duration::from_millis(200), read_status(&mut conn)).await {
            Err(_) => held.push(conn),
            Ok(Ok(503)) => refused_after_sending += 1,
            // Held until its request deadline.
            Ok(Ok(408)) => held_to_deadline += 1,
            Ok(other) => panic!("a body at the limit answered {other:?}"),
        }
    }
    println!(
        "{CLIENTS} bodies at the limit: {} held, {held_to_deadline} held to their deadline, \
         {refused_after_sending} refused after sending, {cut_while_sending} cut while sending",
        held.len()
    );
    assert_eq!(
        held.len() + held_to_deadline + refused_after_sending + cut_while_sending,
        CLIENTS
    );
    // The bridge held as many bodies as it has request slots (default max_concurrency): the
    // memory bound below was measured under that load, not on a listener that held nothing.
    assert_eq!(
        held.len() + held_to_deadline,
        DEFAULT_MAX_CONCURRENCY,
        "bodies held"
    );
    let took = answered_quickly(&bridge, 4).await;
    peak = peak.max(bridge.rss_bytes());
    let mib = |b: u64| b / (1024 * 1024);
    println!(
        "RSS {} MiB before, peak {} MiB with {CLIENTS} 1 MiB bodies sent (bound {} MiB); webhook {took:?}",
        mib(before),
        mib(peak),
        mib(bound)
    );
    assert!(
        peak < bound,
        "peak RSS {} MiB over {} MiB",
        mib(peak),
        mib(bound)
    );
    drop(held);
}

#[tokio::test]
async fn an_oversized_body_gets_its_413_while_the_client_is_still_sending() {
    let nats = NatsServer::start().await;
    let env = [("ESIM_BRIDGE_WEBHOOK__MAX_BODY_BYTES", "65536")];
    let bridge = BridgeProcess::start(&nats.url(), &env, None).await;
    let body = vec![b' '; 4 * 1024 * 1024];
    for round in 0..10 {
        let mut conn = TcpStream::connect(bridge.webhook).await.expect("connect");
        let chunked = round % 2 == 1; // declared too large, or found too large while reading
        let head = if chunked {
            let h = String::from_utf8(head_for_body(0)).expect("ascii");
            h.replace("content-length: 0", "transfer-encoding: chunked")
                .into_bytes()
        } else {
            head_for_body(body.len())
        };
        conn.write_all(&head).await.expect("head");
        // Like a simple client: send everything, then read the answer. A reset while still
        // sending is what makes a client report an error instead of the 413.
        let mut reset = None;
        for chunk in body.chunks(64 * 1024) {
            let sent = if chunked {
                let size = format!("{:x}\r\n", chunk.len());
                conn.write_all(&[size.as_bytes(), chunk, b"\r\n"].concat())
                    .await
            } else {
                conn.write_all(chunk).await
            };
            if let Err(e) = sent {
                reset = Some(e);
                break;
            }
        }
        let status = tokio::time::timeout(STALLED, read_status(&mut conn)).await;
        let status = status.expect("answered in time");
        assert!(
            reset.is_none(),
            "round {round} (chunked: {chunked}): sending failed with {reset:?}; then read {status:?}"
        );
        assert_eq!(status, Ok(413), "round {round} (chunked: {chunked})");
    }
}

#[tokio::test]
async fn shutdown_waits_for_no_slow_client() {
    let nats = NatsServer::start().await;
    let env = [
        ("ESIM_BRIDGE_SHUTDOWN_GRACE", "3s"),
        ("ESIM_BRIDGE_WEBHOOK__REQUEST_TIMEOUT", "20s"),
    ];
    let mut bridge = BridgeProcess::start(&nats.url(), &env, None).await;
    let mut trickle = TcpStream::connect(bridge.webhook).await.expect("connect");
    trickle
        .write_all(format!("POST {PATH} HTTP/1.1\r\nx-a: b\r\n").as_bytes())
        .await
        .expect("part of a head");
    let _idle = TcpStream::connect(bridge.webhook).await.expect("connect");
    let mut slow = TcpStream::connect(bridge.webhook).await.expect("connect");
    slow.write_all(&head_for_body(100_000)).await.expect("head");
    slow.write_all(&[b' '; 1000])
        .await
        .expect("part of the body");
    tokio::time::sleep(Duration::from_millis(1000)).await; // let the listener take them in

    let exit = bridge.terminate(Duration::from_secs(15)).await;
    assert_eq!(exit.and_then(|s| s.code()), Some(0), "{}", bridge.logs());
    let logs = bridge.logs();
    assert!(logs.contains("stopped"), "{logs}");
    assert!(
        !logs.contains("abandoning in-flight work"),
        "shutdown waited for slow clients until the grace ran out"
    );
    let answer = tokio::time::timeout(STALLED, read_status(&mut slow)).await;
    assert_eq!(
        answer.expect("answered"),
        Ok(503),
        "the slow body is told to retry"
    );
}
