//! A misbehaving provider, in process and in virtual time: answers the simulator never gives
//! (absurd `Retry-After`, dates at the end of time, control characters in an ICCID). The
//! engine must neither panic nor stall; unprocessable orders are quarantined, the rest flows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

use super::Memory;
use esim_bridge::config::{Secret, UpstreamConfig};
use esim_bridge::ingest::poller::Quarantined;
use esim_bridge::ingest::poller::{Engine, Settings};
use esim_bridge::provider::sanity::Reason;
use esim_bridge::provider::Credentials;
use esim_bridge::provider::{Budget, Clock, UpstreamClient};
use esim_events::Event;
use esim_testkit::InProcess;

/// What the fake provider answers.
#[derive(Default)]
pub(super) struct Script {
    /// The list body (a JSON array of orders), newest first.
    pub list: String,
    /// Detail bodies by order id.
    pub details: HashMap<u64, String>,
    /// 429s still to answer on list calls, with this `Retry-After` header.
    pub throttle: Option<(u32, String)>,
    /// Detail reads per order id.
    pub detail_reads: HashMap<u64, u32>,
}

pub(super) type Fake = Arc<Mutex<Script>>;

/// The provider's routes, answering from `script`.
pub(super) fn fake_provider(script: Fake) -> Router {
    let grant = || async {
        axum::Json(serde_json::json!({"success": true, "data": {
            "access_token": "access-1", "refresh_token": "refresh-1",
            "access_expires_at": "2026-05-15T13:00:00Z"}}))
    };
    Router::new()
        .route("/auth/login", post(grant))
        .route("/auth/refresh", post(grant))
        .route("/api/v1/esim/orders", get(list))
        .route("/api/v1/esim/orders/{id}", get(detail))
        .with_state(script)
}

async fn list(State(script): State<Fake>) -> Response {
    let mut s = script.lock().unwrap();
    if let Some((n, retry_after)) = s.throttle.as_mut().filter(|(n, _)| *n > 0) {
        *n -= 1;
        let mut h = HeaderMap::new();
        h.insert("retry-after", retry_after.parse().unwrap());
        return (StatusCode::TOO_MANY_REQUESTS, h, "{}").into_response();
    }
    let mut h = HeaderMap::new();
    h.insert("x-has-more", "false".parse().unwrap());
    (h, s.list.clone()).into_response()
}

pub(super) async fn detail(State(script): State<Fake>, Path(id): Path<u64>) -> Response {
    let mut s = script.lock().unwrap();
    *s.detail_reads.entry(id).or_default() += 1;
    match s.details.get(&id) {
        Some(body) => body.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The engine against `script` in virtual time, its clock at 2026-05-15T12:00Z.
pub(super) struct FakeRun {
    pub memory: Memory,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl FakeRun {
    pub fn start(script: &Fake, quarantined: &[u64]) -> FakeRun {
        Self::start_router(fake_provider(script.clone()), quarantined)
    }

    /// [`FakeRun::start`] against any provider router.
    pub fn start_router(router: Router, quarantined: &[u64]) -> FakeRun {
        let cfg = UpstreamConfig::default();
        let transport = std::sync::Arc::new(InProcess {
            router,
            timeout: cfg.request_timeout,
        });
        let credentials = Credentials {
            api_key: Secret::new("key"),
            api_secret: Secret::new("secret"),
        };
        let clock = Clock::starting_at(datetime!(2026-05-15 12:00 UTC));
        let budget = Budget::new(cfg.reads_per_minute);
        let client = UpstreamClient::new(transport, credentials, budget, clock, cfg.page_size);
        let memory = Memory::default();
        let settings = Settings::from_config(&cfg);
        let mut engine = Engine::new(client, memory.clone(), clock, settings);
        for &id in quarantined {
            engine.restore_quarantined(id);
        }
        let stop = CancellationToken::new();
        let (_facts, facts_rx) = tokio::sync::mpsc::channel(1);
        let task = tokio::spawn(engine.poll(facts_rx, stop.clone()));
        FakeRun { memory, stop, task }
    }

    /// Stops the engine; panics if it panicked.
    pub async fn finish(self) -> (Vec<Event>, Vec<(u64, Quarantined)>) {
        self.stop.cancel();
        self.task.await.expect("the engine never panics");
        let events = self.memory.events.lock().unwrap().clone();
        let quarantined = self.memory.quarantined.lock().unwrap().clone();
        (events, quarantined)
    }
}

/// A delivered order, created just before the clock's start.
pub(super) fn delivered(id: u64, iccid: &str, extra: &str) -> String {
    format!(
        r#"{{"id": {id}, "status": "DELIVERED", "iccid": "{iccid}", "validity_days": 7,
            "activation_status": "NOT_INSTALLED", "is_installed": false,
            "created_at": "2026-05-15T11:59:00Z"{extra}}}"#
    )
}

pub(super) fn script(orders: &[(u64, String)]) -> Fake {
    let list = orders.iter().map(|(_, o)| o.as_str()).collect::<Vec<_>>();
    Arc::new(Mutex::new(Script {
        list: format!("[{}]", list.join(",")),
        details: orders.iter().cloned().collect(),
        ..Script::default()
    }))
}

pub(super) fn ids(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.data.id).collect()
}

#[tokio::test(start_paused = true)]
async fn an_absurd_retry_after_pauses_at_most_an_hour_and_polling_goes_on() {
    let fake = script(&[(1, delivered(1, "8910300000000000001", ""))]);
    fake.lock().unwrap().throttle = Some((1, "10000000000000000000".into()));
    let run = FakeRun::start(&fake, &[]);
    tokio::time::sleep(Duration::from_secs(3590)).await;
    assert!(run.memory.events.lock().unwrap().is_empty(), "paused");
    tokio::time::sleep(Duration::from_secs(20)).await;
    let (events, _) = run.finish().await;
    assert_eq!(ids(&events), [1], "found once the hour is over");
}

#[tokio::test(start_paused = true)]
async fn an_order_at_the_end_of_time_is_quarantined_and_stays_skipped_after_a_restart() {
    let doomed = delivered(2, "8910300000000000002", "")
        .replace(r#""validity_days": 7"#, r#""validity_days": 0"#)
        .replace("NOT_INSTALLED", "ACTIVE")
        .replace(r#""is_installed": false"#, r#""is_installed": true"#)
        .replace("}", r#", "activated_at": "9999-12-31T23:59:30Z"}"#);
    let newline = delivered(3, "8910300000000000003\\n", "");
    let fake = script(&[
        (3, newline),
        (2, doomed),
        (1, delivered(1, "8910300000000000001", "")),
    ]);
    let run = FakeRun::start(&fake, &[]);
    tokio::time::sleep(Duration::from_secs(120)).await;
    let (events, quarantined) = run.finish().await;
    assert_eq!(ids(&events), [1], "only the sane order became events");
    let mut reasons: Vec<(u64, Reason)> =
        quarantined.iter().map(|(id, q)| (*id, q.reason)).collect();
    reasons.sort_by_key(|(id, _)| *id);
    assert_eq!(
        reasons,
        [(2, Reason::DateOutOfRange), (3, Reason::InvalidIccid)]
    );
    let reads_before = fake.lock().unwrap().detail_reads.clone();
    assert!(
        reads_before.get(&1).is_some_and(|&n| n >= 2),
        "{reads_before:?}"
    );

    // A restart with the stored quarantine skips both at no cost.
    let run = FakeRun::start(&fake, &[2, 3]);
    tokio::time::sleep(Duration::from_secs(120)).await;
    let (events, quarantined) = run.finish().await;
    assert_eq!(ids(&events), [1]);
    assert!(quarantined.is_empty(), "{quarantined:?}");
    let reads = fake.lock().unwrap().detail_reads.clone();
    assert_eq!(reads.get(&2), reads_before.get(&2), "{reads:?}");
    assert_eq!(reads.get(&3), None, "{reads:?}");
}

#[tokio::test(start_paused = true)]
async fn an_order_listed_late_with_a_lower_id_is_found_and_a_re_seen_one_costs_nothing() {
    let failed = delivered(20, "8910300000000000020", "").replace("DELIVERED", "FAILED");
    let fake = script(&[(20, failed.clone())]);
    let run = FakeRun::start(&fake, &[]);
    tokio::time::sleep(Duration::from_secs(12)).await;
    // Created after order 20, listed only now, with a lower id (ids need not follow creation).
    let late = delivered(10, "8910300000000000010", "").replace("11:59:00", "11:59:30");
    {
        let mut s = fake.lock().unwrap();
        s.list = format!("[{late}, {failed}]");
        s.details.insert(10, late);
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = run.memory.calls.lock().unwrap().clone();
    let (events, _) = run.finish().await;
    let mut found = ids(&events);
    found.sort_unstable();
    assert_eq!(found, [10, 20], "the late order is found");
    let publishes_of = |id: u64| calls.iter().filter(|&&c| c == id).count();
    assert_eq!(
        publishes_of(20),
        1,
        "re-listed every pass, published once: {calls:?}"
    );
    assert_eq!(publishes_of(10), 1, "{calls:?}");
}
