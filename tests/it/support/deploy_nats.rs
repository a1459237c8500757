//! The committed NATS configs of `deploy/nats/`, run as real `nats-server` processes on loopback:
//! [`AccountsServer`] is one server with `accounts.conf` included verbatim (plus an optional
//! extra block such as `tls/tls.conf`); [`DeployCluster`] is the three `cluster/n*.conf` files,
//! changed only where a loopback test must (ports, store, include path), so their `cluster {}`
//! blocks — route authentication included — are the ones that ship.
#![allow(dead_code)] // Shared by cluster_accounts.rs and nats_tls.rs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use local_nats::{probe, NatsProcess, Output};
use serde_json::Value;

use crate::support::free_port;

pub const BRIDGE_PASSWORD: &str = "bridge-test-password";
pub const OPS_PASSWORD: &str = "ops-test-password";
pub const ANALYTICS_PASSWORD: &str = "analytics-test-password";
pub const BILLING_PASSWORD: &str = "billing-test-password";
/// The cluster's route password (`ESIM_NATS_ROUTE_PASSWORD`).
pub const ROUTE_PASSWORD: &str = "route-test-password";
/// How long a server or cluster may take to come up on a busy CI machine.
const STARTUP: Duration = Duration::from_secs(20);

pub fn deploy_nats() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nats")
}

/// The checked `nats-server` (see the fixture).
pub fn nats_server() -> PathBuf {
    crate::support::fixture::binary().path.clone()
}

/// Every variable the configs read, for a server that includes `accounts.conf`; the route
/// URLs name `route_ports` (n1..n3's cluster ports) with the route password.
pub fn server_env(route_ports: [u16; 3]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("ESIM_NATS_BRIDGE_PASSWORD", BRIDGE_PASSWORD),
        ("ESIM_NATS_OPS_PASSWORD", OPS_PASSWORD),
        ("ESIM_NATS_ANALYTICS_PASSWORD", ANALYTICS_PASSWORD),
        ("ESIM_NATS_BILLING_PASSWORD", BILLING_PASSWORD),
        ("ESIM_NATS_ROUTE_PASSWORD", ROUTE_PASSWORD),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    for (i, port) in route_ports.iter().enumerate() {
        let url = format!("nats-route://route:{ROUTE_PASSWORD}@127.0.0.1:{port}");
        env.push((format!("ESIM_NATS_ROUTE_N{}", i + 1), url));
    }
    env
}

/// A `nats-server -c <conf>` process (the launcher's [`NatsProcess`], SIGKILLed on drop); output
/// in `log`.
pub struct Proc {
    _process: NatsProcess,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(conf: &Path, env: &[(String, String)]) -> Proc {
        let log = conf.with_extension("log");
        let args = [OsString::from("-c"), conf.into()];
        let output = Output::File(log.clone());
        let process = NatsProcess::spawn(&nats_server(), &args, env, &output, false);
        Proc {
            _process: process.expect("spawn nats-server"),
            log,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Waits until `ready` holds, panicking with `what` after [`STARTUP`].
pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + STARTUP;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// nats-server on loopback with `deploy/nats/accounts.conf` included verbatim, plus `extra`.
pub struct AccountsServer {
    proc: Proc,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl AccountsServer {
    pub fn start() -> AccountsServer {
        AccountsServer::with_extra("")
    }

    pub fn with_extra(extra: &str) -> AccountsServer {
        let dir = tempfile::TempDir::with_prefix("nats-acl-").expect("temp dir");
        std::fs::copy(
            deploy_nats().join("accounts.conf"),
            dir.path().join("accounts.conf"),
        )
        .expect("copy accounts.conf");
        let port = free_port();
        let store = dir.path().join("store").display().to_string();
        let conf = format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: {store:?} }}\n{extra}\ninclude accounts.conf\n"
        );
        let path = dir.path().join("nats.conf");
        std::fs::write(&path, conf).expect("write config");
        let proc = Proc::spawn(&path, &server_env([0; 3]));
        wait_for("nats-server with accounts.conf", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        AccountsServer { proc, port, dir }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.proc.log_text()
    }

    /// A client logged in as `user`; every async-nats event (permission refusals included) is
    /// sent to the returned channel as text.
    pub async fn login(
        &self,
        user: &str,
        password: &str,
    ) -> (
        async_nats::Client,
        tokio::sync::mpsc::UnboundedReceiver<String>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let client = async_nats::ConnectOptions::new()
            .event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(event.to_string());
                }
            })
            .user_and_password(user.into(), password.into())
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("{user} connects: {e}"));
        (client, rx)
    }
}

/// `deploy/nats/cluster/n1..n3.conf` on loopback ports, routes authenticated as shipped.
pub struct DeployCluster {
    nodes: Vec<Proc>,
    pub monitor_ports: [u16; 3],
    pub route_ports: [u16; 3],
    pub dir: tempfile::TempDir,
}

impl DeployCluster {
    /// Starts the three nodes and waits until each routes to the other two.
    pub fn start() -> DeployCluster {
        let dir = tempfile::TempDir::with_prefix("nats-deploy-cluster-").expect("temp dir");
        std::fs::copy(
            deploy_nats().join("accounts.conf"),
            dir.path().join("accounts.conf"),
        )
        .expect("copy accounts.conf");
        let monitor_ports = [free_port(), free_port(), free_port()];
        let route_ports = [free_port(), free_port(), free_port()];
        let env = server_env(route_ports);
        let mut nodes = Vec::new();
        for i in 0..3 {
            let name = format!("n{}", i + 1);
            let shipped =
                std::fs::read_to_string(deploy_nats().join(format!("cluster/{name}.conf")))
                    .expect("read cluster config");
            let store = dir.path().join(&name).display().to_string();
            let conf = [
                (
                    "listen: 0.0.0.0:4222",
                    format!("listen: 127.0.0.1:{}", free_port()),
                ),
                (
                    "http: 127.0.0.1:8222",
                    format!("http: 127.0.0.1:{}", monitor_ports[i]),
                ),
                ("store_dir: /data", format!("store_dir: {store:?}")),
                (
                    "listen: 0.0.0.0:6222",
                    format!("listen: 127.0.0.1:{}", route_ports[i]),
                ),
                (
                    "include ../accounts.conf",
                    "include accounts.conf".to_owned(),
                ),
            ]
            .iter()
            .fold(shipped, |text, (from, to)| {
                assert!(text.contains(from), "{name}.conf no longer has {from:?}");
                text.replace(from, to)
            });
            let path = dir.path().join(format!("{name}.conf"));
            std::fs::write(&path, conf).expect("write node config");
            nodes.push(Proc::spawn(&path, &env));
        }
        let cluster = DeployCluster {
            nodes,
            monitor_ports,
            route_ports,
            dir,
        };
        for i in 0..3 {
            let others: Vec<String> = (0..3)
                .filter(|&j| j != i)
                .map(|j| format!("n{}", j + 1))
                .collect();
            wait_for(&format!("n{} to route to {others:?}", i + 1), || {
                cluster.routed_to(i) == others
            });
        }
        cluster
    }

    /// Sorted names of the servers node `i` has a route to.
    pub fn routed_to(&self, i: usize) -> Vec<String> {
        routed_to(self.monitor_ports[i])
    }

    pub fn log(&self, i: usize) -> String {
        self.nodes[i].log_text()
    }

    pub fn log_path(&self, i: usize) -> PathBuf {
        self.nodes[i].log.clone()
    }
}

/// Sorted, de-duplicated names of the servers the server monitored on `port` routes to.
pub fn routed_to(port: u16) -> Vec<String> {
    let routez: Option<Value> =
        http_get(port, "/routez").and_then(|b| serde_json::from_str(&b).ok());
    let routes = routez.map(|r| r["routes"].clone()).unwrap_or_default();
    let mut names: Vec<String> = routes
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["remote_name"].as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.dedup();
    names
}

/// The body of a 200 answer to a GET on the monitoring port.
fn http_get(port: u16, path: &str) -> Option<String> {
    let (status, body) = probe::http_get(port, path)?;
    (status == 200).then_some(body)
}
