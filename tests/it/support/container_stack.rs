//! The containerised pipeline the container and partition scenarios start: `esim-nats:local`
//! with this repo's `single.conf` (least-privilege users), `esim-bridge:local serve` logging in
//! as `bridge`, and optionally `esim-sim:local` (the simulator), all on one user-defined
//! network, addressed by container name. Ports are published by Docker and used from the test
//! through 127.0.0.1 only.
#![allow(dead_code)] // Shared by container.rs and partition.rs.

use std::time::Duration;

use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use crate::container_docker::{
    nats_password_env, unique, BRIDGE_IMAGE, BRIDGE_PASSWORD, NATS_IMAGE, OPS_PASSWORD, SIM_IMAGE,
};
use crate::support::bridge::SECRET;

/// How long a container may take to become healthy on a busy 2-core CI machine.
const STARTUP: Duration = Duration::from_secs(90);

/// A running container and the name other containers reach it by.
pub struct Node {
    pub name: String,
    pub container: ContainerAsync<GenericImage>,
}

impl Node {
    /// The Docker-published host port of `port`, as seen from the test: `127.0.0.1:<port>`.
    pub async fn local(&self, port: u16) -> String {
        let mapped = self.container.get_host_port_ipv4(port.tcp()).await;
        format!("127.0.0.1:{}", mapped.expect("published port"))
    }

    pub fn id(&self) -> &str {
        self.container.id()
    }

    /// The container's stdout and stderr so far (for failure messages).
    pub async fn logs(&self) -> String {
        let out = self.container.stdout_to_vec().await.unwrap_or_default();
        let err = self.container.stderr_to_vec().await.unwrap_or_default();
        String::from_utf8_lossy(&[out, err].concat()).into_owned()
    }
}

/// NATS from `deploy/nats/single.conf`, healthy (its image HEALTHCHECK) before this returns.
pub async fn nats(network: &str) -> Node {
    let name = unique("esim-nats");
    let image = GenericImage::new(NATS_IMAGE.0, NATS_IMAGE.1)
        .with_exposed_port(4222.tcp())
        .with_wait_for(WaitFor::healthcheck());
    let mut request = image
        .with_network(network)
        .with_container_name(&name)
        .with_startup_timeout(STARTUP);
    for (key, value) in nats_password_env() {
        request = request.with_env_var(key, value);
    }
    let container = request.start().await.expect("start the NATS container");
    Node { name, container }
}

/// The bridge against `nats_host`, its poller on `upstream` (or off), ready (`/readyz` via the
/// image HEALTHCHECK) unless `wait` is false. Short ack/retry timeouts so a lost NATS shows up
/// as 503 within seconds.
pub async fn bridge(network: &str, nats_host: &str, upstream: Option<&str>, wait: bool) -> Node {
    let name = unique("esim-bridge");
    let mut image = GenericImage::new(BRIDGE_IMAGE.0, BRIDGE_IMAGE.1)
        .with_exposed_port(8080.tcp())
        .with_exposed_port(9090.tcp());
    if wait {
        image = image.with_wait_for(WaitFor::healthcheck());
    }
    let env = [
        ("ESIM_BRIDGE_NATS__URL", format!("nats://{nats_host}:4222")),
        ("ESIM_BRIDGE_NATS__USER", "bridge".into()),
        ("ESIM_BRIDGE_NATS__PASSWORD", BRIDGE_PASSWORD.into()),
        ("ESIM_BRIDGE_NATS__ACK_TIMEOUT", "1s".into()),
        ("ESIM_BRIDGE_NATS__RETRY_FOR", "3s".into()),
        ("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET.into()),
        (
            "ESIM_BRIDGE_UPSTREAM__ENABLED",
            upstream.is_some().to_string(),
        ),
        (
            "ESIM_BRIDGE_UPSTREAM__BASE_URL",
            upstream.unwrap_or("").into(),
        ),
        ("ESIM_BRIDGE_UPSTREAM__ALLOW_INSECURE_HTTP", "true".into()),
        ("ESIM_BRIDGE_UPSTREAM__API_KEY", "demo-key".into()),
        ("ESIM_BRIDGE_UPSTREAM__API_SECRET", "demo-secret".into()),
        ("ESIM_BRIDGE_UPSTREAM__CADENCE__DISCOVERY", "1s".into()),
        ("ESIM_BRIDGE_UPSTREAM__CADENCE__PENDING", "1s".into()),
        ("ESIM_BRIDGE_UPSTREAM__CADENCE__INSTALL_FAST", "2s".into()),
    ];
    let mut request = image
        .with_network(network)
        .with_container_name(&name)
        .with_cmd(["serve"])
        .with_startup_timeout(STARTUP);
    for (key, value) in env.into_iter().filter(|(_, v)| !v.is_empty()) {
        request = request.with_env_var(key, value);
    }
    let container = request.start().await.expect("start the bridge container");
    Node { name, container }
}

/// The simulator (`esim-sim:local`) as container `name`, sending signed webhooks to
/// `webhook_url` (signed with the bridge's test secret) and serving the provider API on 8081.
pub async fn simulator(network: &str, name: String, webhook_url: &str) -> Node {
    let image = GenericImage::new(SIM_IMAGE.0, SIM_IMAGE.1)
        .with_exposed_port(8081.tcp())
        .with_wait_for(WaitFor::message_on_either_std("simulator running"));
    let request = image
        .with_network(network)
        .with_container_name(&name)
        .with_cmd([
            "--listen=0.0.0.0:8081",
            &format!("--webhook-url={webhook_url}"),
            "--orders-per-hour=600",
            "--speed=10",
            // Webhooks that lag behind the provider's API let the poller see some transitions
            // first, so both adapters show up in the stream (the first one to publish wins).
            "--webhook-max-delay=20s",
        ])
        .with_env_var("ESIM_SIM_WEBHOOK_SECRET", SECRET)
        .with_startup_timeout(STARTUP);
    let container = request
        .start()
        .await
        .expect("start the simulator container");
    Node { name, container }
}

/// A client for the containerised NATS as the read-only `ops` user, via its published port.
pub async fn consumer_client(nats: &Node) -> async_nats::Client {
    let url = format!("nats://{}", nats.local(4222).await);
    let options =
        async_nats::ConnectOptions::with_user_and_password("ops".into(), OPS_PASSWORD.into());
    let client = options.connect(&url).await;
    client.unwrap_or_else(|e| panic!("connect to {url} as ops: {e}"))
}

/// Subjects stored in `ESIM_EVENTS` and how often each occurs, read as `ops`.
pub async fn stored_subjects(client: &async_nats::Client) -> Vec<String> {
    let js = async_nats::jetstream::new(client.clone());
    let mut stream = js.get_stream("ESIM_EVENTS").await.expect("events stream");
    let state = stream.info().await.expect("stream info").state.clone();
    let mut subjects = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        if let Ok(m) = stream.get_raw_message(seq).await {
            subjects.push(m.subject.to_string());
        }
    }
    subjects
}
