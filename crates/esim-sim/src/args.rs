//! `esim-bridge simulate` and `esim-sim`: command-line flags (each also read from `ESIM_SIM_*`)
//! and [`simulate`].

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::config::{Envelope, Secret, SimConfig};
use super::faults::FaultConfig;
use super::webhook::WebhookConfig;
use super::workload::WorkloadConfig;

/// Flags of `esim-bridge simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Address the simulated provider API listens on.
    #[arg(long, env = "ESIM_SIM_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Login username (API key) the simulator accepts.
    #[arg(long, env = "ESIM_SIM_API_KEY", default_value = "demo-key")]
    pub api_key: String,
    /// Login password (API secret) the simulator accepts.
    #[arg(
        long,
        env = "ESIM_SIM_API_SECRET",
        default_value = "demo-secret",
        hide_env_values = true
    )]
    pub api_secret: String,
    /// Shared budget of all GETs per rolling minute (production 300, sandbox 600).
    #[arg(long, env = "ESIM_SIM_READS_PER_MINUTE", default_value_t = 300)]
    pub reads_per_minute: u32,
    /// Access token lifetime (e.g. `1h`, `30s`).
    #[arg(long, env = "ESIM_SIM_ACCESS_TTL", default_value = "1h", value_parser = humantime::parse_duration)]
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    #[arg(long, env = "ESIM_SIM_REFRESH_TTL", default_value = "7d", value_parser = humantime::parse_duration)]
    pub refresh_ttl: Duration,
    /// Random orders per simulated hour (0 disables the workload).
    #[arg(long, env = "ESIM_SIM_ORDERS_PER_HOUR", default_value_t = 60.0)]
    pub orders_per_hour: f64,
    /// Simulated seconds per real second.
    #[arg(long, env = "ESIM_SIM_SPEED", default_value_t = 1.0)]
    pub speed: f64,
    /// Seed for every random choice.
    #[arg(long, env = "ESIM_SIM_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Detail/list body shape.
    #[arg(long, env = "ESIM_SIM_ENVELOPE", value_enum, default_value = "bare")]
    pub envelope: Envelope,
    /// Where to POST signed `esim.*` webhooks (none sent when absent).
    #[arg(long, env = "ESIM_SIM_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// Webhook signing secret.
    #[arg(
        long,
        env = "ESIM_SIM_WEBHOOK_SECRET",
        default_value = "demo-webhook-secret",
        hide_env_values = true
    )]
    pub webhook_secret: String,
    /// Probability (0..=1) that a webhook is delivered twice.
    #[arg(
        long,
        env = "ESIM_SIM_WEBHOOK_DUPLICATE_PROBABILITY",
        default_value_t = 0.0
    )]
    pub webhook_duplicate_probability: f64,
    /// Random delay per webhook delivery, up to this.
    #[arg(long, env = "ESIM_SIM_WEBHOOK_MAX_DELAY", default_value = "0s", value_parser = humantime::parse_duration)]
    pub webhook_max_delay: Duration,
    /// Hold this many webhooks and send them shuffled (0 = in order).
    #[arg(long, env = "ESIM_SIM_WEBHOOK_REORDER_BATCH", default_value_t = 0)]
    pub webhook_reorder_batch: usize,
    /// Probability (0..=1) that a read answers 500/502/503.
    #[arg(long, env = "ESIM_SIM_ERROR_RATE", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Latency added to every provider API answer.
    #[arg(long, env = "ESIM_SIM_LATENCY", default_value = "0s", value_parser = humantime::parse_duration)]
    pub latency: Duration,
}

impl SimulateArgs {
    /// The simulator config these flags describe.
    pub fn to_config(&self) -> SimConfig {
        SimConfig {
            api_key: self.api_key.clone(),
            api_secret: Secret::new(self.api_secret.clone()),
            reads_per_minute: self.reads_per_minute,
            access_token_ttl: self.access_ttl,
            refresh_token_ttl: self.refresh_ttl,
            envelope: self.envelope,
            speed: self.speed,
            seed: self.seed,
            workload: WorkloadConfig {
                orders_per_hour: self.orders_per_hour,
                seed: None,
            },
            webhook: WebhookConfig {
                url: self.webhook_url.clone(),
                secret: Secret::new(self.webhook_secret.clone()),
                duplicate_probability: self.webhook_duplicate_probability,
                max_delay: self.webhook_max_delay,
                reorder_batch: self.webhook_reorder_batch,
                ..WebhookConfig::default()
            },
            faults: FaultConfig {
                error_rate: self.error_rate,
                latency: self.latency,
                ..FaultConfig::default()
            },
            ..SimConfig::default()
        }
    }
}

/// Runs the simulator until `shutdown`, then waits for its tasks to finish.
pub async fn simulate(args: SimulateArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding the simulator to {}", args.listen))?;
    let handle = super::spawn(args.to_config(), listener, shutdown.clone()).await?;
    tracing::info!(
        base_url = %handle.base_url(),
        orders_per_hour = args.orders_per_hour,
        webhooks = args.webhook_url.is_some(),
        "simulator running; control surface under /_sim/"
    );
    shutdown.cancelled().await;
    handle.stopped().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimulateArgs,
    }

    #[test]
    fn flags_build_a_valid_config_with_documented_defaults() {
        let cli = Cli::try_parse_from([
            "simulate",
            "--envelope",
            "wrapped",
            "--webhook-url",
            "http://127.0.0.1:8080/webhooks/octopus",
            "--webhook-reorder-batch",
            "4",
            "--access-ttl",
            "90s",
        ]);
        let Ok(cli) = cli else {
            panic!("parse failed");
        };
        assert_eq!(cli.sim.listen.to_string(), "127.0.0.1:8081");
        let cfg = cli.sim.to_config();
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.envelope, Envelope::Wrapped);
        assert_eq!(cfg.access_token_ttl, Duration::from_secs(90));
        assert_eq!(
            (cfg.api_key.as_str(), cfg.api_secret.expose()),
            ("demo-key", "demo-secret")
        );
        assert_eq!(cfg.webhook.reorder_batch, 4);
        assert_eq!(cfg.reads_per_minute, 300);
        assert_eq!(format!("{:?}", cfg.webhook.secret), "Secret(***)");
    }
}
