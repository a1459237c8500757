//! `check-config --connect`: what `serve` needs to reach at start, tried without changing
//! anything. NATS (connect, JetStream), the events stream (absent, so `serve` creates it, or
//! present and compatible) and, with the poller enabled, the provider (one login; no read
//! budget spent). One line per check on stderr; any failure makes the exit code 1.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream;

use crate::config::Config;
use crate::exit::Exit;
use crate::provider::{Budget, Clock, UpstreamClient};
use crate::publish::{self, StreamFound};
use crate::telemetry::ErrorChain;

/// How long one check may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// Runs every check `config` calls for; [`Exit::Failure`] if any failed.
pub async fn check(config: &Config) -> Exit {
    let mut failed = false;
    let mut report = |what: &str, outcome: Result<String, String>| match outcome {
        Ok(ok) => eprintln!("check-config: {what}: ok ({ok})"),
        Err(e) => {
            failed = true;
            eprintln!("check-config: {what}: FAILED: {e}");
        }
    };
    let nats = crate::config::mask_urls(&config.nats.url);
    match within(publish::connect(&config.nats, true)).await {
        Err(e) => report("nats", Err(e)),
        Ok(client) => {
            let version = client.server_info().version;
            report("nats", Ok(format!("{nats}, nats-server {version}")));
            let js = jetstream::new(client);
            match within(js.query_account()).await {
                Ok(account) => report(
                    "jetstream",
                    Ok(format!("{} streams in the account", account.streams)),
                ),
                Err(e) => report("jetstream", Err(e)),
            }
            let stream = format!("stream {}", config.nats.stream);
            match within(publish::inspect_stream(&js, &config.nats)).await {
                Ok(StreamFound::Compatible) => report(&stream, Ok("present, compatible".into())),
                Ok(StreamFound::Absent) => report(&stream, Ok("absent: serve creates it".into())),
                Err(e) => report(&stream, Err(e)),
            }
        }
    }
    if config.upstream.enabled {
        report("provider", provider(config).await);
    }
    match failed {
        true => Exit::Failure,
        false => Exit::Ok,
    }
}

/// One login to the provider.
async fn provider(config: &Config) -> Result<String, String> {
    let upstream = config.upstream.poller().map_err(|e| e.to_string())?;
    let budget = Budget::new(upstream.settings.reads_per_minute);
    let client = UpstreamClient::from_config(&upstream, budget, Clock::new())
        .map_err(|e| ErrorChain(&e).to_string())?;
    within(client.login()).await?;
    Ok(format!("{}: logged in", upstream.base_url))
}

/// `f` within [`PATIENCE`], its error as text.
async fn within<T, E: std::error::Error + 'static>(
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(PATIENCE, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ErrorChain(&e).to_string()),
        Err(_) => Err(format!("no answer within {}s", PATIENCE.as_secs())),
    }
}
