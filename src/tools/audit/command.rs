//! `esim-bridge audit` as the binary runs it: arguments → configuration (`nats.*` and
//! `upstream.*`) → connect → audit → the summary table on stderr → the exit code, decided
//! here and only here: 0 clean, 2 findings, 64 bad usage or configuration (the message names
//! the flag or key), 1 failure (after the table of what was compared until then), 130
//! interrupted before any finding.

use std::io::IsTerminal;
use std::path::Path;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::args::AuditArgs;
use super::run::audit;
use crate::config::{Config, LogConfig};
use crate::exit::Exit;
use crate::publish;
use crate::telemetry;
use crate::tools::{output, visible};

/// Runs the command; returns how it ended.
pub async fn command(args: AuditArgs, shutdown: CancellationToken) -> Exit {
    let out_path = args.output.clone().unwrap_or_else(|| "-".into());
    let to_terminal = out_path == Path::new("-") && std::io::stdout().is_terminal();
    let plan = match args.plan(OffsetDateTime::now_utc(), to_terminal) {
        Ok(plan) => plan,
        Err(e) => return fail(Exit::Usage, &e),
    };
    let config = match Config::load_for_audit(args.config.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(Exit::Usage, &format!("invalid configuration: {e}")),
    };
    telemetry::init_logs(&LogConfig {
        format: config.log.format,
        level: "warn".into(),
    });
    let client = match publish::connect(&config.nats, true).await {
        Ok(client) => client,
        Err(e) => return fail(Exit::Failure, &e),
    };
    let sink = match output::open(&out_path).await {
        Ok(sink) => sink,
        Err(e) => return fail(Exit::Failure, &e),
    };
    match audit(&config, &client, plan, Some(sink), &shutdown).await {
        Ok(report) => {
            eprint!("{}", visible::text(&report.to_string()));
            report.exit()
        }
        Err(failed) => {
            eprint!("{}", visible::text(&failed.report.to_string()));
            fail(Exit::Failure, &failed.error)
        }
    }
}

fn fail(exit: Exit, e: &dyn std::fmt::Display) -> Exit {
    eprintln!("esim-bridge audit: {}", visible::text(&e.to_string()));
    exit
}
