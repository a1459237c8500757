//! A steady, open-loop webhook load for the failure scenarios (leader loss, partition), and the
//! bookkeeping that proves nothing was lost: every webhook is a unique `esim.delivered` for its
//! own ICCID, every answer is recorded, failed ones are re-sent afterwards as the provider would,
//! and the stream is checked to hold each ICCID's event exactly once.
//!
//! Open loop: a request starts every `1/rate` seconds whether or not earlier ones have been
//! answered (up to [`MAX_IN_FLIGHT`]), so a stall shows up as failures and latency instead of
//! silently lowering the offered load.
#![allow(dead_code)] // Shared by cluster.rs and partition.rs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::support::bridge::{esim_webhook, signed};
use crate::support::chaos_load::{paced, until_accepted};

/// Requests allowed in flight at once (a stalled bridge should not get thousands of sockets).
const MAX_IN_FLIGHT: usize = 128;
/// Per-request client timeout; longer than the bridge's own ack + retry budget.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// One webhook and what became of it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The ICCID (and so the subject key) this webhook is about.
    pub iccid: String,
    /// HTTP status, or 0 when no answer came (connection refused, timeout).
    pub status: u16,
    pub sent: Instant,
    pub answered: Instant,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The subject the bridge stores this event under.
    pub fn subject(&self) -> String {
        format!("esim.events.{}.delivered", self.iccid)
    }
}

/// A running load; [`Load::stop`] ends it and returns every outcome.
pub struct Load {
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    /// Starts `rate` webhooks per second against `url`; ICCIDs are `8910<series><counter>`.
    pub fn start(url: String, rate: u32, series: u32) -> Load {
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let (log, halt) = (outcomes.clone(), stop.clone());
        let http = client();
        let task = tokio::spawn(paced(rate, MAX_IN_FLIGHT, halt, move |n| {
            let (http, url, log) = (http.clone(), url.clone(), log.clone());
            let iccid = format!("8910{series:03}{n:012}");
            async move {
                let outcome = send(&http, &url, iccid).await;
                log.lock().expect("outcomes").push(outcome);
            }
        }));
        Load {
            outcomes,
            stop,
            task,
        }
    }

    /// Outcomes so far (answered requests only).
    pub fn snapshot(&self) -> Vec<Outcome> {
        self.outcomes.lock().expect("outcomes").clone()
    }

    /// Waits until a request *sent* after `since` has been answered 2xx, or `limit` passes.
    pub async fn await_success_after(&self, since: Instant, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.snapshot().iter().any(|o| o.ok() && o.sent > since) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Stops sending, waits for the requests in flight, returns every outcome.
    pub async fn stop(self) -> Vec<Outcome> {
        self.stop.cancel();
        let _ = self.task.await;
        let mut all = self.outcomes.lock().expect("outcomes").clone();
        all.sort_by_key(|o| o.sent);
        all
    }
}

fn client() -> reqwest::Client {
    let builder = reqwest::Client::builder().timeout(REQUEST_TIMEOUT);
    builder.build().expect("http client")
}

/// POSTs the signed `esim.delivered` webhook of `iccid` and records the answer.
pub async fn send(http: &reqwest::Client, url: &str, iccid: String) -> Outcome {
    let order: u64 = iccid[iccid.len() - 9..].parse().unwrap_or(1) + 1;
    let body = esim_webhook(
        &format!("evt_{iccid}"),
        "esim.delivered",
        order,
        Some(&iccid),
    );
    let sent = Instant::now();
    let status = match signed(http, url, &body).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    };
    Outcome {
        iccid,
        status,
        sent,
        answered: Instant::now(),
    }
}

/// Re-sends every webhook that never got a 2xx until it does (the provider's retries), at most
/// `attempts` rounds; returns how many were re-sent.
pub async fn resend_failed(url: &str, outcomes: &[Outcome], attempts: usize) -> usize {
    let http = client();
    let pending: Vec<String> = unanswered(outcomes);
    let resent = pending.len();
    until_accepted(pending, attempts, async |_, _, iccid| {
        send(&http, url, iccid.to_owned()).await.ok()
    })
    .await;
    resent
}

/// ICCIDs that no attempt got a 2xx for.
fn unanswered(outcomes: &[Outcome]) -> Vec<String> {
    let ok: std::collections::HashSet<&str> = outcomes
        .iter()
        .filter(|o| o.ok())
        .map(|o| o.iccid.as_str())
        .collect();
    let mut failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !ok.contains(o.iccid.as_str()))
        .map(|o| o.iccid.clone())
        .collect();
    failed.dedup();
    failed
}

/// The correctness claim: every ICCID that was ever answered 2xx — and, after the re-sends,
/// every ICCID sent at all — is stored exactly once, and nothing else of this series is stored.
pub fn assert_each_stored_once(outcomes: &[Outcome], stored_subjects: &[String], series: u32) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for s in stored_subjects {
        *counts.entry(s.as_str()).or_default() += 1;
    }
    let sent: std::collections::HashSet<String> = outcomes.iter().map(Outcome::subject).collect();
    for subject in &sent {
        let n = counts.get(subject.as_str()).copied().unwrap_or(0);
        assert_eq!(
            n, 1,
            "{subject} is stored {n} times (expected exactly once)"
        );
    }
    let prefix = format!("esim.events.8910{series:03}");
    let strays = counts
        .keys()
        .filter(|s| s.starts_with(&prefix) && !sent.contains(**s));
    assert_eq!(strays.count(), 0, "the stream holds events nobody sent");
}

/// Answer statistics of a run, printed by the scenarios (never asserted on: timing varies).
#[derive(Debug)]
pub struct Window {
    pub sent: usize,
    pub ok: usize,
    pub unavailable: usize,
    pub other: Vec<u16>,
    /// First non-2xx answer → first 2xx answered after it.
    pub outage: Option<Duration>,
    /// Slowest 2xx answer.
    pub max_ok_latency: Duration,
}

pub fn window(outcomes: &[Outcome]) -> Window {
    let first_fail = outcomes
        .iter()
        .filter(|o| !o.ok())
        .map(|o| o.answered)
        .min();
    let recovered = first_fail.and_then(|t| {
        let after = outcomes.iter().filter(|o| o.ok() && o.answered > t);
        after.map(|o| o.answered).min().map(|r| r - t)
    });
    let other = outcomes
        .iter()
        .map(|o| o.status)
        .filter(|s| !(200..300).contains(s) && *s != 503);
    Window {
        sent: outcomes.len(),
        ok: outcomes.iter().filter(|o| o.ok()).count(),
        unavailable: outcomes.iter().filter(|o| o.status == 503).count(),
        other: other.collect(),
        outage: recovered,
        max_ok_latency: outcomes
            .iter()
            .filter(|o| o.ok())
            .map(|o| o.answered - o.sent)
            .max()
            .unwrap_or_default(),
    }
}
