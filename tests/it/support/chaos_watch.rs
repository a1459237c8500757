//! Watching the chaos bridges from outside: [`StallWatch`] records how long each running
//! bridge left `/healthz` unanswered (a stalled runtime), and [`double_polling`] reads the
//! bridges' logs for the time two replicas polled at once (the lease should make that zero).
#![allow(dead_code)] // Shared by the chaos scenarios.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::support::chaos::{admin_get, BridgeProc};

/// The lease's story across the bridges, in time order: every polling term (start, end) and
/// every log line about the lease or the engine's start and stop. Printed when the
/// single-poller assertion fails, so a flake explains itself.
pub fn lease_timeline(bridges: &[BridgeProc]) -> String {
    let mut rows: Vec<(SystemTime, String)> = Vec::new();
    for b in bridges {
        for (from, to) in b.polling_terms() {
            rows.push((from, format!("{} term starts (ends {})", b.name, stamp(to))));
            rows.push((to, format!("{} term ends", b.name)));
        }
        for line in b.log_text().lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let message = entry["message"].as_str().unwrap_or_default();
            if !(message.contains("lease") || message.starts_with("poller")) {
                continue;
            }
            let at = entry["timestamp"].as_str().unwrap_or_default();
            if let Ok(at) =
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            {
                rows.push((at.into(), format!("{} {} {line}", b.name, entry["level"])));
            }
        }
    }
    rows.sort_by_key(|(at, _)| *at);
    rows.into_iter()
        .map(|(at, what)| format!("{}  {what}\n", stamp(at)))
        .collect()
}

fn stamp(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// How long two or more replicas polled at the same time: total and longest stretch.
pub fn double_polling(bridges: &[BridgeProc]) -> (Duration, Duration) {
    let mut edges: Vec<(SystemTime, i32)> = Vec::new();
    for b in bridges {
        for (from, to) in b.polling_terms() {
            edges.extend([(from, 1), (to, -1)]);
        }
    }
    edges.sort();
    let (mut polling, mut since) = (0, None);
    let (mut total, mut longest) = (Duration::ZERO, Duration::ZERO);
    for (at, step) in edges {
        polling += step;
        match (polling >= 2, since) {
            (true, None) => since = Some(at),
            (false, Some(from)) => {
                let overlap = at.duration_since(from).unwrap_or_default();
                total += overlap;
                longest = longest.max(overlap);
                since = None;
            }
            _ => {}
        }
    }
    (total, longest)
}

/// Watches every bridge's `/healthz` while it is serving and keeps the longest time each went
/// without answering (a stalled runtime: the process is alive but answers nothing).
pub struct StallWatch {
    longest: Arc<Mutex<Vec<(String, Duration)>>>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl StallWatch {
    pub fn start(bridges: &[BridgeProc]) -> StallWatch {
        let targets: Vec<(String, u16, Arc<std::sync::atomic::AtomicBool>)> = bridges
            .iter()
            .map(|b| (b.name.clone(), b.admin_port, b.serving.clone()))
            .collect();
        let longest = Arc::new(Mutex::new(
            targets
                .iter()
                .map(|(n, _, _)| (n.clone(), Duration::ZERO))
                .collect::<Vec<_>>(),
        ));
        let (stop, record) = (CancellationToken::new(), longest.clone());
        let halt = stop.clone();
        let task = tokio::spawn(async move {
            let mut since: Vec<Option<Instant>> = vec![None; targets.len()];
            while !halt.is_cancelled() {
                for (i, (_, port, serving)) in targets.iter().enumerate() {
                    let asked = Instant::now();
                    let answered = admin_get(*port, "/healthz").await.is_some();
                    if !serving.load(Ordering::SeqCst) || answered {
                        since[i] = None;
                        continue;
                    }
                    let from = *since[i].get_or_insert(asked);
                    let stalled = asked.elapsed().max(from.elapsed());
                    let mut record = record.lock().expect("stalls");
                    record[i].1 = record[i].1.max(stalled);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        StallWatch {
            longest,
            stop,
            task,
        }
    }

    /// Stops watching; the longest unanswered stretch per bridge.
    pub async fn stop(self) -> Vec<(String, Duration)> {
        self.stop.cancel();
        let _ = self.task.await;
        self.longest.lock().expect("stalls").clone()
    }
}
