//! [`NatsServer`]: one `nats-server` with JetStream on loopback (`-a 127.0.0.1 -js`), its client
//! and monitoring ports, and its own directory holding the store (`store/`) and the log
//! (`nats-server.log`, appended across restarts). Started on fresh free ports (retried when
//! another process took one first); stopped with SIGKILL and restarted on the same ports and
//! store; killed, and its directory removed unless kept, on drop.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::binary::NatsBinary;
use super::probe::{wait_until, Probe, Slot, WaitError};
use super::process::{NatsProcess, Output};
use super::store::StoreDir;
use super::NatsServerError;

/// Fresh-port attempts: another process may grab a picked port before nats-server binds it.
const PORT_ATTEMPTS: usize = 5;
/// Lines of the server's log quoted when it does not come up.
const LOG_TAIL: usize = 15;

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Server name (`-n`): `solo` standalone, `n1..nN` in a cluster.
    pub name: String,
    /// Flags after the standard ones (e.g. `--cluster_name`, `--routes`).
    pub extra_args: Vec<String>,
    /// Output into `<dir>/nats-server.log` (false: inherited, for `TEST_LOG`).
    pub log_to_file: bool,
    /// Its own process group (the demo: Ctrl-C reaches the demo, which stops things in order).
    pub own_process_group: bool,
    /// The directory is `<tmp>/<dir_prefix><pid>-<random>`.
    pub dir_prefix: String,
}

impl Default for Launch {
    fn default() -> Self {
        Launch {
            name: "solo".into(),
            extra_args: Vec::new(),
            log_to_file: true,
            own_process_group: false,
            dir_prefix: "nats-".into(),
        }
    }
}

/// A `nats-server` with JetStream, its ports and its directory.
#[derive(Debug)]
pub struct NatsServer {
    bin: PathBuf,
    args: Vec<String>,
    output: Output,
    own_group: bool,
    probe: Probe,
    /// Declared last: dropped after the process is gone.
    dir: StoreDir,
}

impl NatsServer {
    /// Starts a server and waits until it accepts clients and JetStream is healthy; gives up on
    /// `cancel` ([`NatsServerError::Cancelled`]).
    pub async fn start(
        bin: &NatsBinary,
        launch: &Launch,
        cancel: &CancellationToken,
    ) -> Result<NatsServer, NatsServerError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let ports = free_ports(2).map_err(NatsServerError::Ports)?;
            let server = NatsServer::create(bin, launch, ports[0], ports[1])?;
            server.spawn()?;
            match server.wait_ready(cancel).await {
                Ok(()) => return Ok(server),
                Err(_) if attempt < PORT_ATTEMPTS && !server.is_running() => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// A server on the given ports, not started yet (see [`spawn`](Self::spawn)): the nodes of
    /// a cluster are all created before any is spawned.
    pub fn create(
        bin: &NatsBinary,
        launch: &Launch,
        port: u16,
        monitor_port: u16,
    ) -> Result<NatsServer, NatsServerError> {
        let dir = StoreDir::create(&launch.dir_prefix)?;
        let (p, m, store) = (
            port.to_string(),
            monitor_port.to_string(),
            dir.path.join("store"),
        );
        let flags = [
            "-a",
            "127.0.0.1",
            "-js",
            "-n",
            &launch.name,
            "-p",
            &p,
            "-m",
            &m,
            "-sd",
        ];
        let mut args: Vec<String> = flags.iter().map(|s| (*s).to_owned()).collect();
        args.push(store.display().to_string());
        args.extend(launch.extra_args.iter().cloned());
        let output = match launch.log_to_file {
            true => Output::File(dir.path.join("nats-server.log")),
            false => Output::Inherit,
        };
        let probe = Probe {
            name: launch.name.clone(),
            port,
            monitor_port,
            process: Slot::default(),
        };
        Ok(NatsServer {
            bin: bin.path.clone(),
            args,
            output,
            own_group: launch.own_process_group,
            probe,
            dir,
        })
    }

    /// Starts the process (replacing a stopped one); does not wait.
    pub fn spawn(&self) -> Result<(), NatsServerError> {
        let spawned = NatsProcess::spawn(&self.bin, &self.args, &[], &self.output, self.own_group);
        let process = spawned.map_err(|source| NatsServerError::Spawn {
            path: self.bin.display().to_string(),
            source,
        })?;
        *self.probe.slot() = Some(process);
        Ok(())
    }

    /// Waits until the server is ready (see [`Probe::ready`]).
    pub async fn wait_ready(&self, cancel: &CancellationToken) -> Result<(), NatsServerError> {
        let probe = self.probe.clone();
        let ready = wait_until(move || probe.ready().map(|ok| ok.then_some(())), cancel).await;
        ready.map_err(|e| self.not_ready(e))
    }

    /// The error for a server that did not come up, with the tail of its log.
    pub fn not_ready(&self, why: WaitError) -> NatsServerError {
        match why {
            WaitError::Cancelled => NatsServerError::Cancelled,
            why => NatsServerError::NotReady {
                name: self.probe.name.clone(),
                reason: why.to_string(),
                log: self.log_tail(LOG_TAIL),
            },
        }
    }

    /// SIGKILLs the server (a crash, not a clean shutdown) and reaps it; keeps ports and store.
    pub fn stop(&self) {
        let process = self.probe.slot().take();
        drop(process); // `NatsProcess` kills and reaps on drop.
    }

    /// Stops the server if it runs, starts it on the same ports and store, waits until ready.
    pub async fn restart(&self, cancel: &CancellationToken) -> Result<(), NatsServerError> {
        self.stop();
        self.spawn()?;
        self.wait_ready(cancel).await
    }

    /// Keep the directory (store and log) after the server is gone.
    pub fn keep_dir(&mut self, keep: bool) {
        self.dir.keep = keep;
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.probe.port)
    }

    pub fn port(&self) -> u16 {
        self.probe.port
    }

    /// The HTTP monitoring port (`/healthz`, `/jsz`, `/varz`).
    pub fn monitor_port(&self) -> u16 {
        self.probe.monitor_port
    }

    pub fn name(&self) -> &str {
        &self.probe.name
    }

    /// The server's directory: `store/` and `nats-server.log`.
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// The JetStream store directory; it survives [`stop`](Self::stop) and `restart`.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path.join("store")
    }

    /// The server's stdout/stderr (appended across restarts), empty if output is inherited.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path.join("nats-server.log")
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The process id (0 while stopped), e.g. to read its CPU time.
    pub fn pid(&self) -> u32 {
        self.probe.slot().as_ref().map_or(0, NatsProcess::pid)
    }

    /// Whether the process is alive (not stopped and not exited on its own).
    pub fn is_running(&self) -> bool {
        self.probe.is_running()
    }

    /// The readiness view of this server, for checks on the blocking pool.
    pub fn probe(&self) -> Probe {
        self.probe.clone()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `n` distinct loopback ports free right now (all bound at once, then released).
pub fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}
