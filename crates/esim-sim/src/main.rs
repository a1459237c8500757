//! `esim-sim`: the provider simulator as its own binary, for the simulator container of the
//! container tests and `deploy/compose.yaml` (the production bridge image does not carry it).
//! The same flags as `esim-bridge simulate`, each also read from `ESIM_SIM_*`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use esim_sim::SimulateArgs;
use tokio_util::sync::CancellationToken;

/// A real-HTTP model of the eSIM provider's API, for demos, tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "esim-sim", version, about)]
struct Cli {
    #[command(flatten)]
    sim: SimulateArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("esim-sim: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            stop_signal().await;
            signal.cancel();
        });
        match esim_sim::simulate(cli.sim, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("esim-sim: {e:#}");
                ExitCode::FAILURE
            }
        }
    })
}

/// SIGINT or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
