//! Connecting to NATS: auth, TLS, reconnect forever, and a connection-state probe.

use async_nats::{Client, ConnectOptions};

use crate::config::NatsConfig;

/// Why the NATS connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("nats.creds_file: {0}")]
    Creds(std::io::Error),
    #[error("nats.nkey_seed_file: {0}")]
    NkeySeed(std::io::Error),
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
}

/// Connects with the configured auth and TLS. The client reconnects forever on its own; with
/// `wait_for_server` false it returns at once and connects in the background.
pub async fn connect(cfg: &NatsConfig, wait_for_server: bool) -> Result<Client, ConnectError> {
    let mut opts = ConnectOptions::new()
        .name("esim-bridge")
        .max_reconnects(None)
        .event_callback(|event| async move {
            tracing::info!(%event, "nats connection event");
        });
    if !wait_for_server {
        opts = opts.retry_on_initial_connect();
    }
    if let Some(path) = &cfg.creds_file {
        opts = opts
            .credentials_file(path)
            .await
            .map_err(ConnectError::Creds)?;
    }
    if let (Some(user), Some(password)) = (&cfg.user, &cfg.password) {
        opts = opts.user_and_password(user.clone(), password.expose().to_owned());
    }
    if let Some(token) = &cfg.token {
        opts = opts.token(token.expose().to_owned());
    }
    if let Some(path) = &cfg.nkey_seed_file {
        let seed = std::fs::read_to_string(path).map_err(ConnectError::NkeySeed)?;
        opts = opts.nkey(seed.trim().to_owned());
    }
    let tls = &cfg.tls;
    if tls.required {
        opts = opts.require_tls(true);
    }
    if let Some(ca) = &tls.ca_file {
        opts = opts.add_root_certificates(ca.clone());
    }
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        opts = opts.add_client_certificate(cert.clone(), key.clone());
    }
    // One address per server: async-nats parses a single string as one URL, so a joined
    // "a,b,c" would be rejected as an invalid port.
    let urls: Vec<&str> = cfg.url.split(',').map(str::trim).collect();
    opts.connect(urls.as_slice())
        .await
        .map_err(|source| ConnectError::Connect {
            url: crate::config::mask_urls(&cfg.url),
            source,
        })
}

/// True while the client has a live connection to a server.
pub fn is_connected(client: &Client) -> bool {
    client.connection_state() == async_nats::connection::State::Connected
}
