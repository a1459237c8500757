//! Real `esim-bridge serve` processes for the chaos scenarios: started from the test binary's
//! sibling (`CARGO_BIN_EXE_esim-bridge`) with short cadences and a short lease through
//! `ESIM_BRIDGE_*` variables, killed with SIGKILL (`kill -9`: no shutdown, no lease release),
//! restarted on the same ports, and watched through their admin endpoints (`/readyz`, and
//! `esim_bridge_poller_leader` in `/metrics`).
#![allow(dead_code)] // Shared by the chaos scenarios; not all use every helper.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::bridge::SECRET;
use crate::support::free_port;

/// The poller's lease TTL in the chaos runs (renewed every third of it).
pub const LEASE_TTL: Duration = Duration::from_secs(2);
/// How long a (re)started bridge may take to answer `/readyz` 200 on a busy 2-core machine.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// One bridge process and the ports it keeps across restarts.
pub struct BridgeProc {
    pub name: String,
    pub webhook_port: u16,
    pub admin_port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
    /// True from ready until killed: when the admin port must answer.
    pub(crate) serving: Arc<AtomicBool>,
    /// When each `kill -9` happened (a polling term ends there without a log line).
    kills: Vec<SystemTime>,
}

/// Settings every chaos bridge shares.
pub struct Setup<'a> {
    pub nats_url: &'a str,
    pub replicas: u8,
    pub sim_url: &'a str,
    pub log_dir: &'a std::path::Path,
}

impl BridgeProc {
    /// Starts `esim-bridge serve` named `name` and waits until it is ready.
    pub async fn start(name: &str, setup: &Setup<'_>) -> BridgeProc {
        let (webhook_port, admin_port) = (free_port(), free_port());
        let env = [
            ("NATS__URL", setup.nats_url.to_owned()),
            ("NATS__REPLICAS", setup.replicas.to_string()),
            ("NATS__ACK_TIMEOUT", "1s".into()),
            ("NATS__RETRY_FOR", "2s".into()),
            ("WEBHOOK__LISTEN", format!("127.0.0.1:{webhook_port}")),
            ("WEBHOOK__SECRETS", SECRET.into()),
            ("ADMIN__LISTEN", format!("127.0.0.1:{admin_port}")),
            ("UPSTREAM__ENABLED", "true".into()),
            ("UPSTREAM__BASE_URL", setup.sim_url.to_owned()),
            ("UPSTREAM__API_KEY", "demo-key".into()),
            ("UPSTREAM__API_SECRET", "demo-secret".into()),
            ("UPSTREAM__READS_PER_MINUTE", "600".into()),
            (
                "UPSTREAM__LEASE_TTL",
                format!("{}ms", LEASE_TTL.as_millis()),
            ),
            ("UPSTREAM__BACKFILL", "1h".into()),
            ("UPSTREAM__REQUEST_TIMEOUT", "5s".into()),
            ("UPSTREAM__CADENCE__DISCOVERY", "1s".into()),
            ("UPSTREAM__CADENCE__PENDING", "1s".into()),
            ("UPSTREAM__CADENCE__INSTALL_FAST", "700ms".into()),
            ("UPSTREAM__CADENCE__INSTALL_FAST_FOR", "5m".into()),
            ("UPSTREAM__CADENCE__INSTALL_SLOW", "2s".into()),
            ("UPSTREAM__CADENCE__INSTALL_SLOW_UNTIL", "10m".into()),
            ("UPSTREAM__CADENCE__INSTALL_TAIL", "5s".into()),
            ("UPSTREAM__CADENCE__LIFECYCLE", "700ms".into()),
            ("UPSTREAM__CADENCE__AFTER_EXPIRY", "10ms".into()),
            ("LOG__LEVEL", "info".into()),
            ("LOG__FORMAT", "json".into()),
            ("SHUTDOWN_GRACE", "2s".into()),
        ];
        let env = env
            .into_iter()
            .map(|(k, v)| (format!("ESIM_BRIDGE_{k}"), v))
            .collect();
        let mut bridge = BridgeProc {
            name: name.to_owned(),
            webhook_port,
            admin_port,
            env,
            log: setup.log_dir.join(format!("{name}.log")),
            child: None,
            serving: Arc::default(),
            kills: Vec::new(),
        };
        bridge.spawn();
        bridge.await_ready().await;
        bridge
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("bridge log");
        let child = Command::new(env!("CARGO_BIN_EXE_esim-bridge"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn esim-bridge serve");
        self.child = Some(child);
    }

    /// `kill -9`: the process dies mid-flight; its lease is not released.
    pub fn kill9(&mut self) {
        self.serving.store(false, Ordering::SeqCst);
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            self.kills.push(SystemTime::now());
            let _ = child.wait();
        }
    }

    /// When this replica polled, from its log ("poller lease acquired" until "poller stopped",
    /// "poller lease lost" or "poller engine stopped", whichever comes first) and its kills.
    pub fn polling_terms(&self) -> Vec<(SystemTime, SystemTime)> {
        let mut marks: Vec<(SystemTime, bool)> = self.kills.iter().map(|&t| (t, false)).collect();
        for line in self.log_text().lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let message = entry["message"].as_str().unwrap_or_default();
            let starts = message.starts_with("poller lease acquired");
            // The term's end as each path logs it: the engine stopped (term over), the lease
            // lost, or the supervisor releasing the lease after the engine failed.
            let ends = message == "poller stopped"
                || message.starts_with("poller lease lost")
                || message.starts_with("poller engine stopped");
            let at = entry["timestamp"].as_str().unwrap_or_default();
            if let (true, Ok(at)) = (starts || ends, OffsetDateTime::parse(at, &Rfc3339)) {
                marks.push((at.into(), starts));
            }
        }
        marks.sort();
        let mut terms = Vec::new();
        let mut open: Option<SystemTime> = None;
        for (at, starts) in marks {
            match (open, starts) {
                (None, true) => open = Some(at),
                (Some(from), false) => {
                    terms.push((from, at));
                    open = None;
                }
                _ => {}
            }
        }
        terms.extend(open.map(|from| (from, SystemTime::now())));
        terms
    }

    /// Starts the process again on the same ports and waits until it is ready.
    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn();
        self.await_ready().await;
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn webhook_url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks/octopus", self.webhook_port)
    }

    /// Waits until `/readyz` answers 200 (NATS connected, stream present).
    pub async fn await_ready(&self) {
        let start = Instant::now();
        while admin_get(self.admin_port, "/readyz").await.map(|(s, _)| s) != Some(200) {
            assert!(
                start.elapsed() < READY_LIMIT,
                "{} not ready after {READY_LIMIT:?}; log tail:\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.serving.store(true, Ordering::SeqCst);
    }

    /// Whether this replica reports itself as the active poller; `None` when it is not
    /// running or its admin port does not answer (then it may be either).
    pub async fn is_leader(&self) -> Option<bool> {
        if !self.is_running() {
            return None;
        }
        let (_, body) = admin_get(self.admin_port, "/metrics").await?;
        let leads = body
            .lines()
            .any(|l| l.trim() == "esim_bridge_poller_leader 1");
        Some(leads)
    }

    /// The last 30 lines of the process's log (stderr, across restarts).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The whole log (for scans: panics, secrets).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for BridgeProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Index of the single replica that polls, once every running replica answers and exactly
/// one says it polls (up to `limit`).
pub async fn await_single_leader(bridges: &[BridgeProc], limit: Duration) -> Option<usize> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let mut leaders = Vec::new();
        let mut all_answered = true;
        for (i, b) in bridges.iter().enumerate().filter(|(_, b)| b.is_running()) {
            match b.is_leader().await {
                Some(true) => leaders.push(i),
                Some(false) => {}
                None => all_answered = false,
            }
        }
        if let ([only], true) = (&leaders[..], all_answered) {
            return Some(*only);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// `kill -9`s the polling replica `leader`, then measures how long until another one polls.
/// Returns the survivor's index and the time from the kill to its takeover (`None`: none
/// took over within `limit`).
pub async fn kill_leader(
    bridges: &mut [BridgeProc],
    leader: usize,
    limit: Duration,
) -> Option<(usize, Duration)> {
    bridges[leader].kill9();
    let killed_at = Instant::now();
    while killed_at.elapsed() < limit {
        for (i, b) in bridges.iter().enumerate() {
            if i != leader && b.is_leader().await == Some(true) {
                return Some((i, killed_at.elapsed()));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// GET on an admin port: `(status, body)`, `None` when nothing answers within 2 s.
pub async fn admin_get(port: u16, path: &str) -> Option<(u16, String)> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .ok()?;
    let answer = http
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .ok()?;
    let status = answer.status().as_u16();
    Some((status, answer.text().await.ok()?))
}
