//! Wiring for `serve`: connect, provision, bind the listeners, start the poller, and shut
//! everything down together.
//!
//! [`start`] returns once the listeners are bound, with their addresses, so tests can run the
//! whole bridge in-process on port 0; [`Running::wait`] drives it to a graceful end.

use std::net::SocketAddr;
use std::time::Duration;

use futures::FutureExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::admin::{self, AdminState};
use crate::config::{Config, ConfigError, PollerConfig};
use crate::http;
use crate::ingest::poller::{self, PollerHealth};
use crate::ingest::webhook::{self, WebhookState};
use crate::publish::{self, ConnectError, Publisher, StreamError};
use crate::telemetry::ErrorChain;

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error("shut down before the stream was ready")]
    Cancelled,
    /// A configuration built in code that [`Config::load`] would have refused.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
}

/// A started bridge.
pub struct Running {
    pub webhook_addr: Option<SocketAddr>,
    pub admin_addr: SocketAddr,
    pub publisher: Publisher,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    grace: Duration,
}

impl Running {
    /// Waits until `shutdown` fires, then gives in-flight work `shutdown_grace` to finish.
    pub async fn wait(self) {
        self.shutdown.cancelled().await;
        self.tasks.close();
        if tokio::time::timeout(self.grace, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(grace = ?self.grace, "shutdown grace period over; abandoning in-flight work");
        }
        tracing::info!("stopped");
    }
}

/// Starts the bridge. Waits for NATS and the stream (retrying while NATS is unreachable) before
/// the webhook listener is bound, so the provider never gets a 2xx that was not stored.
pub async fn start(config: Config, shutdown: CancellationToken) -> Result<Running, StartError> {
    // Install the recorder before anything counts.
    crate::telemetry::metrics();
    // `[upstream]` decoded once, before anything starts: the poller receives typed settings.
    let poller_cfg = match config.upstream.enabled {
        true => Some(config.upstream.poller()?),
        false => None,
    };
    let tasks = TaskTracker::new();
    let client = publish::connect(&config.nats, false).await?;
    let publisher = Publisher::new(client, &config.nats);
    let health = PollerHealth::new(match config.upstream.enabled {
        true => poller::Status::Starting,
        false => poller::Status::Disabled,
    });
    let admin_addr = start_admin(&config, &publisher, &health, &tasks, &shutdown).await?;
    provision(&publisher, &config, &shutdown).await?;
    let webhook_addr = match config.webhook.enabled {
        true => Some(start_webhook(&config, &publisher, &tasks, &shutdown).await?),
        false => None,
    };
    if let Some(upstream) = poller_cfg {
        spawn_poller(&config, upstream, &publisher, health, &tasks, &shutdown);
    }
    Ok(Running {
        webhook_addr,
        admin_addr,
        publisher,
        shutdown,
        tasks,
        grace: config.shutdown_grace,
    })
}

/// The admin listener (`/healthz`, `/readyz`, `/metrics`), up before NATS is ready so probes
/// can tell why the bridge is not.
async fn start_admin(
    config: &Config,
    publisher: &Publisher,
    health: &PollerHealth,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> Result<SocketAddr, StartError> {
    let listener = bind("admin", config.admin.listen).await?;
    let addr = local_addr(&listener, config.admin.listen);
    let router = admin::router(AdminState {
        publisher: publisher.clone(),
        stream: config.nats.stream.clone(),
        poller: health.clone(),
    });
    let limits = http::Limits::admin();
    tasks.spawn(http::serve(
        "admin",
        listener,
        router,
        limits,
        shutdown.clone(),
    ));
    tracing::info!(%addr, "admin listener up (/healthz, /readyz, /metrics)");
    Ok(addr)
}

/// The webhook listener, bound only once the stream is ready.
async fn start_webhook(
    config: &Config,
    publisher: &Publisher,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> Result<SocketAddr, StartError> {
    let listener = bind("webhook", config.webhook.listen).await?;
    let addr = local_addr(&listener, config.webhook.listen);
    let state = WebhookState::new(&config.webhook, publisher.clone());
    let router = webhook::router(&config.webhook, state);
    let limits = config.webhook.limits();
    tasks.spawn(http::serve(
        "webhook",
        listener,
        router,
        limits,
        shutdown.clone(),
    ));
    tracing::info!(%addr, path = %config.webhook.path, "webhook listener up");
    Ok(addr)
}

/// The poller, supervised: it never returns before shutdown; if it does (or panics), this
/// replica cannot poll any more and says so on `/readyz` and `/healthz`.
fn spawn_poller(
    config: &Config,
    upstream: PollerConfig,
    publisher: &Publisher,
    health: PollerHealth,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) {
    let (cfg, publisher, shutdown) = (config.clone(), publisher.clone(), shutdown.clone());
    let poller = async move {
        let polling =
            poller::keep_polling(&cfg, upstream, publisher, shutdown.clone(), health.clone());
        match std::panic::AssertUnwindSafe(polling).catch_unwind().await {
            Ok(Ok(())) if shutdown.is_cancelled() => return,
            Ok(Ok(())) => tracing::error!("poller stopped"),
            Ok(Err(e)) => tracing::error!(error = %ErrorChain(&e), "poller stopped"),
            Err(_) => tracing::error!("poller supervisor panicked"),
        }
        health.set(poller::Status::Stopped);
    };
    tasks.spawn(poller.instrument(tracing::info_span!("poller")));
}

/// Ensures the events stream, retrying while NATS cannot be reached.
async fn provision(
    publisher: &Publisher,
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<(), StartError> {
    let mut warned = false;
    loop {
        match publish::ensure_stream(publisher.jetstream(), &config.nats).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_permanent() => return Err(e.into()),
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "waiting for NATS and the events stream");
                    warned = true;
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Err(StartError::Cancelled),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { what, addr, source })
}

fn local_addr(listener: &TcpListener, fallback: SocketAddr) -> SocketAddr {
    listener.local_addr().unwrap_or(fallback)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
    }
}
