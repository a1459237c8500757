//! The real `esim-bridge` binary as a child process, plus raw-TCP clients for the slow-client
//! suite: requests are written byte by byte as an attacker would, not through an HTTP library
//! that would add its own timeouts, pooling or retries.
#![allow(dead_code)] // Shared by several scenario files; not all use every helper.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::bridge::{now_secs, SECRET};

const BIN: &str = env!("CARGO_BIN_EXE_esim-bridge");
pub const PATH: &str = "/webhooks/octopus";

/// A bridge process (webhook listener + admin, poller off) logging JSON at debug to a file.
pub struct BridgeProcess {
    child: Child,
    pub webhook: SocketAddr,
    pub admin: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl BridgeProcess {
    /// Starts the binary with `env` on top of the test defaults; `fd_limit` caps its open files
    /// (`ulimit -n`) as a small container would. Returns once the webhook port accepts.
    pub async fn start(nats_url: &str, env: &[(&str, &str)], fd_limit: Option<u32>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("bridge.log");
        let (webhook, admin) = (free_addr(), free_addr());
        let mut cmd = match fd_limit {
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" serve"), BIN]);
                sh
            }
            None => {
                let mut bin = Command::new(BIN);
                bin.arg("serve");
                bin
            }
        };
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false")
            .env("ESIM_BRIDGE_NATS__URL", nats_url)
            .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
            .env("ESIM_BRIDGE_WEBHOOK__LISTEN", webhook.to_string())
            .env("ESIM_BRIDGE_ADMIN__LISTEN", admin.to_string())
            .env("ESIM_BRIDGE_LOG__FORMAT", "json")
            .env("ESIM_BRIDGE_LOG__LEVEL", "debug")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        let child = cmd.spawn().expect("spawn esim-bridge");
        let bridge = Self {
            child,
            webhook,
            admin,
            log,
            _dir: dir,
        };
        bridge.wait_until_listening().await;
        bridge
    }

    async fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(self.webhook).await.is_err() {
            assert!(Instant::now() < deadline, "not listening: {}", self.logs());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now (`VmRSS`), in bytes.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()));
        let status = status.expect("the bridge process runs");
        let line = status.lines().find(|l| l.starts_with("VmRSS:"));
        let kib = line.and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok());
        kib.expect("VmRSS in /proc/<pid>/status") * 1024
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit; `None` if it did not.
    pub async fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM");
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Everything the process wrote to stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for BridgeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address that was free a moment ago.
fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// The raw bytes of a provider-signed webhook request carrying `body`.
pub fn signed_request(body: &[u8]) -> Vec<u8> {
    let sig = esim_sim::octopus_signature(SECRET, body);
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-timestamp: {}\r\nx-signature: {sig}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        now_secs(),
        body.len()
    );
    [head.as_bytes(), body].concat()
}

/// Headers announcing a signed-looking body of `len` bytes (the body is the caller's to send).
pub fn head_for_body(len: usize) -> Vec<u8> {
    format!(
        "POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-timestamp: {}\r\nx-signature: 00\r\ncontent-length: {len}\r\n\r\n",
        now_secs()
    )
    .into_bytes()
}

/// Sends `request` on a new connection and reads the status line: `(status, elapsed)`.
/// Gives up (an `Err`) after `limit`, so a stalled listener fails the test instead of hanging it.
pub async fn exchange(
    addr: SocketAddr,
    request: &[u8],
    limit: Duration,
) -> Result<(u16, Duration), String> {
    let started = Instant::now();
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.write_all(request).await.map_err(|e| e.to_string())?;
        read_status(&mut stream).await
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(Ok(status)) => Ok((status, started.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no answer within {limit:?}")),
    }
}

/// Reads up to the end of a response head and returns its status code.
pub async fn read_status(stream: &mut TcpStream) -> Result<u16, String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut byte).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!(
                "closed without an answer after {} bytes",
                head.len()
            ));
        }
        head.extend_from_slice(&byte[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok());
    code.ok_or_else(|| format!("not an HTTP answer: {text:?}"))
}

/// Whether the server has closed `stream` (EOF or reset), without waiting for more than `wait`.
pub async fn is_closed(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // an answer before the close: keep reading
            Err(_) => return false,
        }
    }
}

/// How many more files this test process may open (the soft `RLIMIT_NOFILE` less those open).
pub fn spare_fds() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        .unwrap_or(1024);
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    soft.saturating_sub(open)
}
