//! The webhook's negative cases as one table: each row spoils a valid signed request in one way
//! and names the answer docs/webhook.md documents for it. After every row the stream must still be
//! empty; at the end a valid sentinel webhook is sent and awaited, so "nothing was published"
//! is checked against a positive marker, not after a pause.

use reqwest::RequestBuilder;

use crate::support::bridge::{esim_webhook, now_secs, signed, signed_at, Scenario, SECRET};

const ICCID: &str = "8910300000123456789";
/// The listener's body limit in this scenario (the oversized row exceeds it).
const MAX_BODY: usize = 4096;

/// What a row may use to build its request.
struct Ctx {
    http: reqwest::Client,
    /// The webhook URL.
    url: String,
    /// `http://<webhook listener>`, for other paths.
    base: String,
    /// A valid `esim.delivered` body.
    body: String,
}

/// One negative case: what is wrong with the request, how it is built, the status it gets.
struct Row {
    what: &'static str,
    request: fn(&Ctx) -> RequestBuilder,
    status: u16,
}

/// The valid body with a fresh `X-Timestamp` and `content_type`, and no signature header.
fn bare(c: &Ctx, content_type: &str) -> RequestBuilder {
    let post = c.http.post(&c.url).header("content-type", content_type);
    let post = post.header("x-timestamp", now_secs().to_string());
    post.body(c.body.clone())
}

const ROWS: &[Row] = &[
    Row {
        what: "wrong signature (another secret)",
        request: |c| signed_at(&c.http, &c.url, &c.body, "not-the-secret", now_secs()),
        status: 401,
    },
    Row {
        what: "missing signature (the token header is not a signature)",
        request: |c| bare(c, "application/json").header("x-octopus-webhook-token", SECRET),
        status: 401,
    },
    Row {
        what: "stale timestamp (tolerance 5 min)",
        request: |c| signed_at(&c.http, &c.url, &c.body, SECRET, now_secs() - 301),
        status: 401,
    },
    Row {
        what: "future timestamp (skew 1 min)",
        request: |c| signed_at(&c.http, &c.url, &c.body, SECRET, now_secs() + 120),
        status: 401,
    },
    Row {
        what: "body over webhook.max_body_bytes",
        request: |c| {
            let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_BODY));
            signed(&c.http, &c.url, &big)
        },
        status: 413,
    },
    Row {
        what: "broken JSON under a valid signature",
        request: |c| signed(&c.http, &c.url, "{not json"),
        status: 400,
    },
    Row {
        what: "required fields missing",
        request: |c| signed(&c.http, &c.url, r#"{"id":"evt_1","type":"esim.delivered"}"#),
        status: 400,
    },
    Row {
        what: "two content types (JSON and text/plain)",
        request: |c| signed(&c.http, &c.url, &c.body).header("content-type", "text/plain"),
        status: 415,
    },
    Row {
        what: "content type not JSON",
        request: |c| {
            let sig = esim_sim::octopus_signature(SECRET, c.body.as_bytes());
            bare(c, "application/x-www-form-urlencoded").header("x-signature", sig)
        },
        status: 415,
    },
    Row {
        what: "header/body event id mismatch",
        request: |c| signed(&c.http, &c.url, &c.body).header("x-event-id", "evt_other"),
        status: 400,
    },
    Row {
        what: "header/body event type mismatch",
        request: |c| signed(&c.http, &c.url, &c.body).header("x-event-type", "esim.failed"),
        status: 400,
    },
    Row {
        what: "ICCID that is not a subject token",
        request: |c| {
            let body = esim_webhook("evt_y", "esim.delivered", 1, Some("89.>"));
            signed(&c.http, &c.url, &body)
        },
        status: 400,
    },
    Row {
        what: "another event family: acknowledged, ignored",
        request: |c| {
            let voucher = r#"{"id":"evt_v","type":"order.delivered","created_at":"2026-05-15T14:30:32Z","data":{"id":3}}"#;
            signed(&c.http, &c.url, voucher)
        },
        status: 200,
    },
    Row {
        what: "unknown esim.* type: acknowledged, ignored",
        request: |c| {
            let body = esim_webhook("evt_z", "esim.roaming_started", 1, Some(ICCID));
            signed(&c.http, &c.url, &body)
        },
        status: 200,
    },
    Row {
        what: "wrong method",
        request: |c| c.http.get(&c.url),
        status: 405,
    },
    Row {
        what: "unknown path",
        request: |c| signed(&c.http, &format!("{}/webhooks/other", c.base), &c.body),
        status: 404,
    },
];

#[tokio::test]
async fn each_bad_request_gets_its_documented_status_and_publishes_nothing() {
    let s = Scenario::start(|c| c.webhook.max_body_bytes = MAX_BODY).await;
    let ctx = Ctx {
        http: s.http.clone(),
        url: s.bridge.url(),
        base: format!("http://{}", s.bridge.webhook),
        body: esim_webhook("evt_x", "esim.delivered", 1, Some(ICCID)),
    };
    for row in ROWS {
        let answer = (row.request)(&ctx).send().await.expect("an answer");
        assert_eq!(answer.status().as_u16(), row.status, "{}", row.what);
        // A webhook is answered only after its publish was acknowledged (or refused before
        // any publish), so the stream is final for this row once the answer is here.
        assert!(s.stored().await.is_empty(), "{} published", row.what);
    }

    // The sentinel: a valid webhook after all the rows is stored, and is all that is stored.
    let sentinel = esim_webhook("evt_sentinel", "esim.delivered", 2, Some(ICCID));
    let answer = signed(&ctx.http, &ctx.url, &sentinel).send().await;
    assert_eq!(answer.expect("an answer").status(), 200, "sentinel");
    let subjects: Vec<String> = s.stored().await.into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, [format!("esim.events.{ICCID}.delivered")]);
    s.finish().await;
}
