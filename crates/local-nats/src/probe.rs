//! Is a server up? [`Probe`] is the `Send + 'static` view of one server that readiness checks
//! need: its process, client port (`INFO` greeting) and monitoring port (`/healthz`, `/jsz`).
//! [`wait_until`] polls a check on tokio's blocking pool with a wall-clock deadline, so waiting
//! also works under `tokio::time::pause()` and never blocks a runtime thread.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::process::NatsProcess;

/// How long a (re)started server or cluster may take to be ready; generous for a busy 2-core box.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Pause between readiness polls.
const POLL: Duration = Duration::from_millis(50);
/// Timeout for each connect/read against a server, so a wedged server cannot hang a poll.
const IO_TIMEOUT: Duration = Duration::from_secs(1);

/// The process slot of a server: `None` while stopped on purpose (or never started).
pub(super) type Slot = Arc<Mutex<Option<NatsProcess>>>;

/// One server as readiness checks see it; cheap to clone.
#[derive(Debug, Clone)]
pub struct Probe {
    pub(super) name: String,
    pub(super) port: u16,
    pub(super) monitor_port: u16,
    pub(super) process: Slot,
}

/// Why [`wait_until`] gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    #[error("{0}")]
    Failed(String),
    #[error("not ready after {READY_TIMEOUT:?}")]
    TimedOut,
    #[error("cancelled")]
    Cancelled,
}

impl Probe {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn slot(&self) -> MutexGuard<'_, Option<NatsProcess>> {
        self.process.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `None` if stopped on purpose (or never started), else whether the process still runs.
    pub fn alive(&self) -> Option<bool> {
        self.slot().as_mut().map(NatsProcess::is_running)
    }

    pub fn is_running(&self) -> bool {
        self.alive() == Some(true)
    }

    /// `Err` if the process is gone; `Ok(true)` once `/healthz` (JetStream included) answers
    /// 200 and the client port greets with `INFO`.
    pub fn ready(&self) -> Result<bool, String> {
        if !self.is_running() {
            return Err(format!("{} is not running (exited or stopped)", self.name));
        }
        let healthy = http_get(self.monitor_port, "/healthz").is_some_and(|(s, _)| s == 200);
        Ok(healthy && self.greets())
    }

    fn greets(&self) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(stream) = TcpStream::connect_timeout(&addr, IO_TIMEOUT) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("INFO ")
    }

    /// A monitoring endpoint's JSON (`/jsz`, `/varz`, …) if it answers 200.
    pub fn get_json(&self, path: &str) -> Option<Value> {
        let (status, body) = http_get(self.monitor_port, path)?;
        serde_json::from_str(&body).ok().filter(|_| status == 200)
    }
}

/// Polls `check` on the blocking pool every 50 ms until it yields `Some`, fails, times out
/// ([`READY_TIMEOUT`]) or `cancel` fires.
pub async fn wait_until<T, F>(mut check: F, cancel: &CancellationToken) -> Result<T, WaitError>
where
    T: Send + 'static,
    F: FnMut() -> Result<Option<T>, String> + Send + 'static,
{
    let cancel = cancel.clone();
    let task = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(value) = check().map_err(WaitError::Failed)? {
                return Ok(value);
            }
            if cancel.is_cancelled() {
                return Err(WaitError::Cancelled);
            }
            if Instant::now() > deadline {
                return Err(WaitError::TimedOut);
            }
            std::thread::sleep(POLL);
        }
    });
    task.await.unwrap_or_else(|e| {
        Err(WaitError::Failed(format!(
            "the readiness check failed: {e}"
        )))
    })
}

/// A minimal HTTP/1.0 GET on loopback: `(status, body)`.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).ok()?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, body.to_owned()))
}
