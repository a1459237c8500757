//! What the audit scenarios share: a config naming NATS and the simulator, an in-process
//! audit whose NDJSON lands in memory, and the tools to make gaps on purpose (purge one
//! subject, publish an event the bridge would never have published).

use std::collections::BTreeSet;
use std::time::Duration;

use esim_bridge::config::{Config, Secret};
use esim_bridge::publish::{Published, Publisher};
use esim_bridge::tools::audit::{self, Plan, Report, Window};
use esim_bridge::tools::ProgressMode;
use esim_events::{Event, EventType, OrderData, Source, Timestamp};
use serde_json::Value;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::support::bridge::test_config;
use crate::support::replay::{assert_no_codes, SharedBuf};

/// The msg-id window of the scenarios' stream: short, so that a repair of a purged event is
/// not mistaken for a retry of the original.
pub const DUPLICATE_WINDOW: Duration = Duration::from_millis(300);

/// A bridge/audit config for NATS at `nats_url` and the simulator at `sim_url`.
pub fn audit_config(nats_url: &str, sim_url: &str) -> Config {
    let mut c = test_config(nats_url);
    c.nats.duplicate_window = DUPLICATE_WINDOW;
    let u = &mut c.upstream;
    u.base_url = Some(sim_url.to_owned());
    u.api_key = Some(Secret::new("demo-key"));
    u.api_secret = Some(Secret::new("demo-secret"));
    c
}

/// An audit plan over the last hour.
pub fn last_hour(reads_per_minute: u32, repair: bool) -> Plan {
    last(Duration::from_secs(3600), reads_per_minute, repair)
}

/// An audit plan over the last `span`.
pub fn last(span: Duration, reads_per_minute: u32, repair: bool) -> Plan {
    let since = OffsetDateTime::now_utc() - span;
    Plan {
        window: Window {
            since: Some(since),
            until: None,
        },
        orders: Vec::new(),
        reads_per_minute,
        repair,
        progress: ProgressMode::Off,
        label: format!("since {}", humantime::format_duration(span)),
        // No settle window: these scenarios plant their gaps and want each one as missing.
        settle: Some(std::time::Duration::ZERO),
    }
}

/// Runs an audit in process; returns its report and its NDJSON lines (checked code-free).
pub async fn run_audit(config: &Config, plan: Plan) -> (Report, Vec<Value>) {
    let (report, text) = run_audit_text(config, plan).await;
    let findings = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    (report, findings)
}

/// Runs an audit in process; returns its report and its NDJSON output as written.
pub async fn run_audit_text(config: &Config, plan: Plan) -> (Report, String) {
    let client = async_nats::connect(&config.nats.url)
        .await
        .expect("connect");
    let buf = SharedBuf::default();
    let report = audit::audit(
        config,
        &client,
        plan,
        Some(Box::new(buf.clone())),
        &CancellationToken::new(),
    )
    .await
    .expect("audit completes");
    let out = buf.take();
    assert_no_codes(&out);
    (report, String::from_utf8(out).expect("utf-8"))
}

/// (class, order id, event type) of every finding.
pub fn classes(findings: &[Value]) -> BTreeSet<(String, u64, String)> {
    findings
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or("").to_owned();
            (
                text("class"),
                f["order_id"].as_u64().unwrap_or(0),
                text("event"),
            )
        })
        .collect()
}

/// Removes the one message of `subject` from the stream (an event "lost").
pub async fn purge(nats_url: &str, stream: &str, subject: &str) {
    let js = async_nats::jetstream::new(async_nats::connect(nats_url).await.expect("connect"));
    let stream = js.get_stream(stream).await.expect("stream");
    let purged = stream.purge().filter(subject).await.expect("purge");
    assert_eq!(purged.purged, 1, "{subject} held one message");
}

/// Publishes `event_type` for this order data as the bridge's core would, and asserts it
/// was stored.
pub async fn inject(publisher: &Publisher, t: EventType, data: Value) {
    let data: OrderData = serde_json::from_value(data).expect("order data");
    let at = Timestamp::parse("2026-05-15T14:30:32Z").expect("a time");
    let event = Event::new(t, data, at, Source::Poll).expect("event");
    let got = publisher.publish(&event).await.expect("publish");
    assert!(matches!(got, Published::Stored { .. }), "{got:?}");
}
