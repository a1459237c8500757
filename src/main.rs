//! `esim-bridge`: parse the command line, load config, start telemetry, dispatch, exit with a
//! code that means something (`esim_bridge::exit`).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser as _;
use esim_bridge::cli::{Cli, Command, ConfigArg, VERSION};
use esim_bridge::config::Config;
use esim_bridge::exit::Exit;
use esim_bridge::{app, healthcheck, telemetry, tools};
use tokio_util::sync::CancellationToken;

/// jemalloc instead of glibc's malloc: a webhook allocates and frees a few hundred small
/// objects across two runtime threads, and glibc's arenas spent a fifth of the bridge's CPU
/// on it. jemalloc cut the bridge's CPU per webhook by a fifth for 2–3 MiB more RSS (mimalloc:
/// as fast, 8–30 MiB more); docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let exit = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            let _ = e.print();
            return exit.into();
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("esim-bridge: cannot start the async runtime: {e}");
            return Exit::Failure.into();
        }
    };
    let code = runtime.block_on(dispatch(cli.command));
    // Outside the runtime: the exporter's last batch leaves from its own thread.
    esim_bridge::otlp::flush_at_exit();
    code
}

async fn dispatch(command: Command) -> ExitCode {
    match command {
        Command::Serve(arg) => match load(&arg) {
            Ok(config) => serve(config, &arg).await,
            Err(code) => code,
        },
        Command::CheckConfig(args) => match load(&args.config) {
            Ok(config) => {
                print!("{}", config.to_masked_toml());
                match args.connect {
                    true => esim_bridge::reach::check(&config).await.into(),
                    false => Exit::Ok.into(),
                }
            }
            Err(code) => code,
        },
        #[cfg(feature = "demo")]
        Command::Simulate(args) => simulate(args).await,
        Command::Replay(args) => tool(tools::command::replay(args, on_signal())).await,
        Command::Tail(args) => tool(tools::command::tail(args, on_signal())).await,
        Command::Status(args) => tool(tools::command::status(args)).await,
        Command::Audit(args) => tools::audit::command(args, on_signal()).await.into(),
        #[cfg(feature = "demo")]
        Command::Demo(args) => esim_bridge::demo::command(args, on_signal()).await.into(),
        Command::Healthcheck(args) => healthcheck::check(&args).into(),
        Command::Completions { shell } => {
            esim_bridge::cli_docs::completions(shell, &mut std::io::stdout());
            Exit::Ok.into()
        }
        Command::Man => match esim_bridge::cli_docs::man(&mut std::io::stdout()) {
            Ok(()) => Exit::Ok.into(),
            Err(e) => {
                eprintln!("esim-bridge man: {e}");
                Exit::Failure.into()
            }
        },
    }
}

/// Runs an operator tool and turns its outcome into the exit code it decides.
async fn tool(
    run: impl std::future::Future<Output = Result<tools::command::Done, tools::command::CommandError>>,
) -> ExitCode {
    match run.await {
        Ok(done) => done.exit().into(),
        Err(e) => {
            eprintln!("esim-bridge: {e}");
            e.exit().into()
        }
    }
}

#[cfg(feature = "demo")]
async fn simulate(args: esim_sim::SimulateArgs) -> ExitCode {
    telemetry::init_logs(&Default::default());
    match esim_sim::simulate(args, on_signal()).await {
        Ok(()) => Exit::Ok.into(),
        Err(e) => {
            eprintln!("esim-bridge simulate: {e:#}");
            Exit::Failure.into()
        }
    }
}

/// A token cancelled on SIGINT or SIGTERM.
fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let signal = token.clone();
    tokio::spawn(async move {
        app::shutdown_signal().await;
        signal.cancel();
    });
    token
}

fn load(arg: &ConfigArg) -> Result<Config, ExitCode> {
    Config::load(arg.config.as_deref()).map_err(|e| {
        eprintln!("esim-bridge: invalid configuration: {e}");
        Exit::Usage.into()
    })
}

async fn serve(config: Config, arg: &ConfigArg) -> ExitCode {
    telemetry::init_logs(&config.log);
    let source = arg.config.as_deref().map_or_else(
        || "defaults and ESIM_BRIDGE_* environment".to_owned(),
        |file| format!("{} and ESIM_BRIDGE_* environment", file.display()),
    );
    let webhook = (config.webhook.enabled).then(|| config.webhook.listen.to_string());
    tracing::info!(
        version = %VERSION,
        config = %source,
        nats = %esim_bridge::config::mask_urls(&config.nats.url),
        stream = %config.nats.stream,
        webhook = %webhook.as_deref().unwrap_or("off"),
        admin = %config.admin.listen,
        poller = %if config.upstream.enabled { "on" } else { "off" },
        "esim-bridge starting"
    );
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        app::shutdown_signal().await;
        signal.cancel();
    });
    match app::start(config, shutdown).await {
        Ok(running) => {
            running.wait().await;
            Exit::Ok.into()
        }
        Err(app::StartError::Cancelled) => Exit::Ok.into(),
        Err(e @ app::StartError::Config(_)) => {
            tracing::error!(error = %e, "cannot start");
            Exit::Usage.into()
        }
        Err(e) => {
            // Once, through the log (text or JSON as configured), which goes to stderr.
            tracing::error!(error = %e, "cannot start");
            Exit::Failure.into()
        }
    }
}
