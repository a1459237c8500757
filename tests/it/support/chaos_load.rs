//! What the chaos scenarios drive and count: a steady signed-webhook load spread over the
//! bridge replicas (open loop; every answer recorded; what did not get a 2xx is re-sent at the
//! end, as the provider would), a feeder that keeps creating simulator orders with short
//! scripted lifecycles for the poller to follow, and the final count against the stream.
#![allow(dead_code)] // Shared by the chaos scenarios.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use esim_sim::{OrderPlan, Outcome, ScriptedOrder, SimState, Transition};
use tokio_util::sync::CancellationToken;

use crate::support::bridge::{esim_webhook, signed};

/// Webhook ICCIDs are 20 digits (`8910<series><n>`), so they never collide with the
/// simulator's 19-digit ones.
pub fn webhook_iccid(series: u32, n: u64) -> String {
    format!("8910{series:03}{n:013}")
}

/// An open-loop load: starts `job(n)` for n = 0, 1, … every `1/rate` seconds whether or not
/// earlier ones were answered (at most `max_in_flight` at once), until `halt`; then waits for
/// those in flight.
pub async fn paced<F, Fut>(rate: u32, max_in_flight: usize, halt: CancellationToken, mut job: F)
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut in_flight = tokio::task::JoinSet::new();
    for n in 0u64.. {
        tokio::select! {
            _ = halt.cancelled() => break,
            _ = tick.tick() => {}
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let run = job(n);
        in_flight.spawn(async move {
            run.await;
            drop(permit);
        });
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
}

/// Answers per webhook ICCID (HTTP status, 0 when no answer came), shared with the load task.
pub type Answers = Arc<Mutex<BTreeMap<String, Vec<u16>>>>;

/// A running webhook load; [`WebhookLoad::stop`] ends it.
pub struct WebhookLoad {
    pub answers: Answers,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookLoad {
    /// `rate` new `esim.delivered` webhooks per second, round-robin over `urls`.
    pub fn start(urls: Vec<String>, rate: u32, series: u32) -> WebhookLoad {
        let answers: Answers = Arc::default();
        let stop = CancellationToken::new();
        let (log, halt) = (answers.clone(), stop.clone());
        let http = client();
        let task = tokio::spawn(paced(rate, 64, halt, move |n| {
            let url = urls[n as usize % urls.len()].clone();
            let (http, log) = (http.clone(), log.clone());
            async move {
                let iccid = webhook_iccid(series, n);
                let status = send(&http, &url, &iccid).await;
                log.lock()
                    .expect("answers")
                    .entry(iccid)
                    .or_default()
                    .push(status);
            }
        }));
        WebhookLoad {
            answers,
            stop,
            task,
        }
    }

    /// Stops sending and waits for the requests in flight.
    pub async fn stop(self) -> Answers {
        self.stop.cancel();
        let _ = self.task.await;
        self.answers
    }
}

fn client() -> reqwest::Client {
    let builder = reqwest::Client::builder().no_proxy();
    builder
        .timeout(Duration::from_secs(15))
        .build()
        .expect("http client")
}

/// POSTs the signed `esim.delivered` webhook of `iccid`; the status, 0 if none came.
async fn send(http: &reqwest::Client, url: &str, iccid: &str) -> u16 {
    let order: u64 = iccid[iccid.len() - 9..].parse().unwrap_or(1) + 1;
    let body = esim_webhook(
        &format!("evt_{iccid}"),
        "esim.delivered",
        order,
        Some(iccid),
    );
    match signed(http, url, &body).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// The provider's retries: re-sends each of `pending` (`send(round, index, iccid)` says whether
/// it got a 2xx) in up to `rounds` rounds 500 ms apart; panics if one never did.
pub async fn until_accepted(
    mut pending: Vec<String>,
    rounds: usize,
    mut send: impl AsyncFnMut(usize, usize, &str) -> bool,
) {
    for round in 0..rounds {
        let mut still = Vec::new();
        for (i, iccid) in pending.into_iter().enumerate() {
            if !send(round, i, &iccid).await {
                still.push(iccid);
            }
        }
        pending = still;
        if pending.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        pending.is_empty(),
        "{} webhooks never got a 2xx on re-send",
        pending.len()
    );
}

/// Re-sends every webhook that never got a 2xx, round-robin over `urls`, until each does (at
/// most 20 rounds); returns how many needed it.
pub async fn resend_failed(answers: &Answers, urls: &[String]) -> usize {
    let http = client();
    let failed: Vec<String> = {
        let answers = answers.lock().expect("answers");
        let ok = |s: &Vec<u16>| s.iter().any(|c| (200..300).contains(c));
        answers
            .iter()
            .filter(|(_, s)| !ok(s))
            .map(|(k, _)| k.clone())
            .collect()
    };
    until_accepted(failed.clone(), 20, async |round, i, iccid| {
        let status = send(&http, &urls[(i + round) % urls.len()], iccid).await;
        answers
            .lock()
            .expect("answers")
            .entry(iccid.to_owned())
            .or_default()
            .push(status);
        (200..300).contains(&status)
    })
    .await;
    failed.len()
}

/// Creates a simulator order every `every`, cycling through short scripted lifecycles
/// (full chains, failures with and without ICCID, cancellations, a pending spell, never
/// installed), until stopped. Returns how many it created.
pub fn feed_orders(
    sim: SimState,
    every: Duration,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let ms = Duration::from_millis;
        let plans = [
            full(ms(300), ms(600), ms(600), ms(900)),
            full(ms(0), ms(1200), ms(1500), ms(1200)),
            OrderPlan {
                outcome: Outcome::Failed,
                pending_for: ms(800),
                ..OrderPlan::default()
            },
            full(ms(0), ms(400), ms(400), ms(400)),
            OrderPlan {
                outcome: Outcome::Cancelled,
                with_iccid: true,
                ..OrderPlan::default()
            },
            full(ms(1500), ms(900), ms(2000), ms(700)),
            OrderPlan {
                outcome: Outcome::Failed,
                ..OrderPlan::default()
            },
            OrderPlan::delivered(None, None),
        ];
        let mut created = 0;
        let mut tick = tokio::time::interval(every);
        for plan in plans.iter().cycle() {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let order = ScriptedOrder {
                plan: plan.clone(),
                ..ScriptedOrder::default()
            };
            sim.create_order(order).expect("simulator order");
            created += 1;
        }
        created
    })
}

fn full(pending: Duration, install: Duration, activate: Duration, expire: Duration) -> OrderPlan {
    OrderPlan {
        pending_for: pending,
        install_after: Some(install),
        activate_after: Some(activate),
        expire_after: Some(expire),
        ..OrderPlan::default()
    }
}

/// The subject a simulator transition is emitted under.
pub fn transition_subject(t: &Transition) -> String {
    let event = t.event_type.trim_start_matches("esim.");
    format!("esim.events.{}.{event}", t.key())
}

/// The final count: webhooks answered 2xx (first try or re-sent) and stored once, simulator
/// transitions emitted once, and anything stored that nobody made.
#[derive(Debug, Default)]
pub struct Count {
    pub webhooks_sent: usize,
    pub webhooks_2xx_first_try: usize,
    pub webhooks_resent: usize,
    pub webhooks_stored_once: usize,
    pub webhook_subjects_wrong: Vec<(String, usize)>,
    pub transitions: usize,
    pub transitions_emitted_once: usize,
    pub transitions_wrong: Vec<(String, usize)>,
    pub strays: Vec<String>,
    pub stored_total: usize,
}

/// Counts `stored_subjects` against the webhook answers and the simulator's transitions.
pub fn count(answers: &Answers, transitions: &[Transition], stored_subjects: &[String]) -> Count {
    let mut times: HashMap<&str, usize> = HashMap::new();
    for s in stored_subjects {
        *times.entry(s.as_str()).or_default() += 1;
    }
    let answers = answers.lock().expect("answers");
    let mut c = Count {
        stored_total: stored_subjects.len(),
        ..Count::default()
    };
    let mut expected: HashSet<String> = HashSet::new();
    for (iccid, statuses) in answers.iter() {
        c.webhooks_sent += 1;
        let first_ok = statuses.first().is_some_and(|s| (200..300).contains(s));
        c.webhooks_2xx_first_try += usize::from(first_ok);
        c.webhooks_resent += usize::from(!first_ok);
        let subject = format!("esim.events.{iccid}.delivered");
        match times.get(subject.as_str()).copied().unwrap_or(0) {
            1 => c.webhooks_stored_once += 1,
            n => c.webhook_subjects_wrong.push((subject.clone(), n)),
        }
        expected.insert(subject);
    }
    for t in transitions {
        c.transitions += 1;
        let subject = transition_subject(t);
        match times.get(subject.as_str()).copied().unwrap_or(0) {
            1 => c.transitions_emitted_once += 1,
            n => c.transitions_wrong.push((subject.clone(), n)),
        }
        expected.insert(subject);
    }
    c.strays = times
        .keys()
        .filter(|s| !expected.contains(**s))
        .map(|s| s.to_string())
        .collect();
    c.strays.sort();
    c
}
