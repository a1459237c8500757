//! Command-line interface (clap). Every option can also be given through the environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `--version`: the crate version, the commit it was built from and the build date (build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ESIM_BUILD_COMMIT"),
    ", built ",
    env!("ESIM_BUILD_DATE"),
    ")"
);

/// Turns an eSIM provider's order and lifecycle changes into one replayable esim.* event
/// stream on NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = "esim-bridge", version = VERSION, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bridge: webhook listener, poller, admin endpoints.
    Serve(ConfigArg),
    /// Validate the configuration and print it with secrets masked; exit 0 or 64. With
    /// --connect, also reach NATS, the stream and the provider as `serve` would (exit 1 if any
    /// check fails).
    CheckConfig(CheckConfigArgs),
    /// Run the upstream provider simulator (API + signed webhook sender).
    #[cfg(feature = "demo")]
    Simulate(esim_sim::SimulateArgs),
    /// Replay history as NDJSON, into another subject, or as counts (--dry-run).
    Replay(crate::tools::ReplayArgs),
    /// Follow new events live, one JSON line each, until Ctrl-C.
    Tail(crate::tools::TailArgs),
    /// Show the events stream and the poller's state, read from NATS.
    Status(crate::tools::StatusArgs),
    /// Compare the provider's orders with the stream; report (and --repair) what is missing.
    /// Exit 0 clean, 2 findings, 64 bad usage, 1 failure.
    Audit(crate::tools::audit::AuditArgs),
    /// One-command local demo: nats-server + simulator + bridge, events printed as they flow.
    #[cfg(feature = "demo")]
    Demo(crate::demo::DemoArgs),
    /// Probe a local HTTP endpoint (the admin `/readyz`); exit 0 on 2xx, 1 otherwise.
    Healthcheck(crate::healthcheck::HealthcheckArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `esim-bridge man > esim-bridge.1`.
    Man,
}

/// `check-config`.
#[derive(Debug, Clone, Args)]
pub struct CheckConfigArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Also connect: NATS and JetStream, the events stream (absent, or present and compatible),
    /// and with the poller enabled one provider login. Changes nothing; one line per check on
    /// stderr.
    #[arg(long)]
    pub connect: bool,
}

/// `--config FILE`.
#[derive(Debug, Clone, Args)]
pub struct ConfigArg {
    /// TOML configuration file; environment variables ESIM_BRIDGE_* override it.
    #[arg(long, short, env = "ESIM_BRIDGE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}
