//! `esim-bridge demo`: the one-command local demo. Starts a throw-away `nats-server`, the
//! provider simulator and the bridge (webhook listener + poller), prints every event as
//! JetStream stores it, and on Ctrl-C or `--duration` stops everything and prints a summary.
//!
//! - `nats-server`: found, started, and always killed and cleaned up by the project's one
//!   launcher, [`local_nats`], in its own process group.
//! - [`setup`]: the bridge and simulator configurations and the showcase orders; [`stack`]
//!   starts and stops them in-process, in order.
//! - [`follow`] + `tools::event_line`: an ordered consumer over the stream, one compact line per
//!   event.
//! - [`banner`] and [`summary`]: the text before the first event and after the last.
//!
//! Shutdown order: the simulator first (no new webhooks), then the bridge (in-flight requests
//! finish), then the last stored events are printed, then `nats-server` is killed and its store
//! removed (unless `--keep-store`).

pub mod banner;
pub mod follow;
pub mod setup;
pub mod stack;
pub mod summary;

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use self::banner::Endpoints;
use self::follow::{FollowError, Follower};
use self::stack::Stack;
use self::summary::Summary;
use crate::app::StartError;
use crate::config::{LogConfig, LogFormat};
use crate::exit::Exit;
use crate::telemetry;
use crate::tools::event_line::Style;
use esim_sim::SimError;
use local_nats::{Launch, NatsBinary, NatsServer, NatsServerError};

/// How long printing the last stored events may take after the bridge stopped.
const DRAIN_WAIT: Duration = Duration::from_secs(3);

/// `esim-bridge demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Stop by itself after this long (`40s`, `5m`); without it, run until Ctrl-C.
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Random orders per real hour (the simulator gets N / X per simulated hour).
    #[arg(long, value_name = "N", default_value_t = 1800.0)]
    pub orders_per_hour: f64,
    /// Simulated seconds per real second; 1440 makes a simulated day pass in a minute.
    #[arg(long, value_name = "X", default_value_t = 1440.0)]
    pub speed: f64,
    /// Plain output even on a terminal (also when NO_COLOR is set).
    #[arg(long)]
    pub no_color: bool,
    /// Keep nats-server's store directory afterwards (its path is printed).
    #[arg(long)]
    pub keep_store: bool,
}

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Nats(#[from] NatsServerError),
    #[error("cannot bind the simulator's port: {0}")]
    Bind(std::io::Error),
    #[error("the bridge did not start: {0}")]
    Bridge(#[from] StartError),
    #[error("the bridge started without its webhook listener")]
    NoWebhook,
    #[error("the simulator did not start: {0}")]
    Sim(#[from] SimError),
    #[error("cannot follow the events stream: {0}")]
    Follow(#[from] FollowError),
}

impl DemoError {
    /// Bad flags, or a failure.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Usage(_) => Exit::Usage,
            _ => Exit::Failure,
        }
    }
}

/// Runs the demo as the binary does: quiet logs (warnings and errors, or `RUST_LOG`), errors
/// on stderr; returns the exit code.
pub async fn command(args: DemoArgs, shutdown: CancellationToken) -> Exit {
    telemetry::init_logs(&LogConfig {
        format: LogFormat::Text,
        level: "warn".into(),
    });
    match run_until_stopped(args, shutdown).await {
        Ok(()) => Exit::Ok,
        // The reader of stdout went away (`demo | head`): everything is stopped, nothing to say.
        Err(DemoError::Follow(FollowError::Stdout(e)))
            if e.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Exit::Ok
        }
        Err(e) => {
            eprintln!("esim-bridge demo: {e}");
            e.exit()
        }
    }
}

/// Runs the demo until `shutdown` or `--duration`; `nats-server` is gone when this returns.
pub async fn run_until_stopped(
    args: DemoArgs,
    shutdown: CancellationToken,
) -> Result<(), DemoError> {
    validate(&args)?;
    if let Some(warning) = setup::proxy_warning(|name| std::env::var(name).ok()) {
        eprintln!("{warning}");
    }
    let style = Style::detect(args.no_color);
    // Runs `nats-server --version` (milliseconds), before anything else is started.
    let bin = NatsBinary::find()?;
    let mut nats = match NatsServer::start(&bin, &nats_launch(), &shutdown).await {
        Err(NatsServerError::Cancelled) => return Ok(()),
        started => started?,
    };
    let outcome = run_with_nats(&args, &bin, &nats, style, &shutdown).await;
    let dir = nats.dir().to_owned();
    nats.keep_dir(args.keep_store);
    drop(nats); // killed and reaped; its directory removed unless kept
    if args.keep_store {
        println!(
            "nats-server's store is kept in {0}; look at it again with:\n  \
             nats-server -js -sd {0}/store -p 4222 &\n  \
             esim-bridge replay --output -",
            dir.display()
        );
    }
    outcome
}

/// The demo's server: its own process group, so a Ctrl-C in the terminal reaches only the demo,
/// which then stops the bridge first and the server last (nothing logs "NATS went away" on the
/// way out). Only a SIGKILL of the demo itself can leave the server running.
fn nats_launch() -> Launch {
    Launch {
        name: "esim-bridge-demo".into(),
        own_process_group: true,
        dir_prefix: "esim-bridge-demo-".into(),
        ..Launch::default()
    }
}

fn validate(args: &DemoArgs) -> Result<(), DemoError> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(DemoError::Usage("--speed must be a positive number".into()));
    }
    if !(args.orders_per_hour.is_finite() && args.orders_per_hour >= 0.0) {
        return Err(DemoError::Usage("--orders-per-hour must be >= 0".into()));
    }
    Ok(())
}

/// Everything between starting and killing `nats-server`.
async fn run_with_nats(
    args: &DemoArgs,
    bin: &NatsBinary,
    nats: &NatsServer,
    style: Style,
    shutdown: &CancellationToken,
) -> Result<(), DemoError> {
    let started = Instant::now();
    let nats_url = nats.url();
    let mut stack = tokio::select! {
        stack = Stack::start_bridge(&nats_url) => stack?,
        () = shutdown.cancelled() => return Ok(()),
    };
    let (js, stream) = (stack.jetstream().clone(), stack.nats.stream.clone());
    let mut follower = Follower::open(&js, &stream, &stack.nats.subject_prefix, style).await?;
    follower
        .write(&banner::banner(&endpoints(args, bin, nats, &stack), style))
        .await?;
    stack
        .start_sim(setup::Knobs {
            sim_orders_per_hour: args.orders_per_hour / args.speed,
            speed: args.speed,
        })
        .await?;

    let followed = follower
        .run_until(until_stopped(shutdown, args.duration))
        .await;
    let sim_counters = stack.stop().await;
    followed?;
    if let Some(last) = last_sequence(&js, &stream).await {
        follower.drain(last, DRAIN_WAIT).await?;
    }
    let rendered = telemetry::metrics().render();
    let summary = Summary {
        ran_for: started.elapsed(),
        tally: follower.tally().clone(),
        duplicates_suppressed: summary::duplicates_from_metrics(&rendered)
            .or_else(|| rendered.contains("esim_bridge_").then_some(0)),
        sim: sim_counters,
    };
    let line = format!("\n{}\n", summary.line(style));
    follower.write(&line).await?;
    Ok(())
}

fn endpoints(args: &DemoArgs, bin: &NatsBinary, nats: &NatsServer, stack: &Stack) -> Endpoints {
    Endpoints {
        nats_url: nats.url(),
        nats_version: bin.version.clone(),
        nats_pid: nats.pid(),
        store_dir: nats.store_dir().display().to_string(),
        sim_url: format!("http://{}", stack.sim_addr),
        webhook_url: stack.webhook_url(),
        admin_url: format!("http://{}/metrics", stack.admin_addr),
        speed: args.speed,
        orders_per_hour: args.orders_per_hour,
        reads_per_minute: stack.reads_per_minute,
        exe: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "esim-bridge".into()),
        sim_api_key: setup::API_KEY.into(),
        sim_api_secret: setup::API_SECRET.into(),
    }
}

/// Resolves on Ctrl-C/SIGTERM or when `duration` has passed.
async fn until_stopped(shutdown: &CancellationToken, duration: Option<Duration>) {
    let elapsed = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = elapsed => {}
    }
}

/// The stream's last sequence now (what the printer must reach before the summary).
async fn last_sequence(js: &async_nats::jetstream::Context, stream: &str) -> Option<u64> {
    let mut stream = js.get_stream(stream).await.ok()?;
    let info = stream.info().await.ok()?;
    Some(info.state.last_sequence)
}
