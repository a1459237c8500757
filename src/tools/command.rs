//! The `replay`, `tail` and `status` commands as the binary runs them: arguments, then the
//! tools' configuration ([`Config::load_for_tools`]: `nats.*` only), connect, run, report.
//! Arguments are checked before anything else, so a usage error never touches NATS.
//! [`Done::exit`] and [`CommandError::exit`] say which outcome each had ([`Exit`]).

use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::args::ToolConfigArg;
use super::filter::Filter;
use super::output::{self, OutputError};
use super::parse::{self, ArgError};
use super::progress::ProgressMode;
use super::republish::Target;
use super::run::{self, Plan, ReplayError, Sinks};
use super::source::Start;
use super::status::{self, StatusError};
use super::summary::Summary;
use super::tail::{self, TailError};
use super::visible;
use super::{Lines, ReplayArgs, StatusArgs, TailArgs};
use crate::config::{Config, ConfigError, LogConfig};
use crate::exit::Exit;
use crate::publish::{self, ConnectError};
use crate::telemetry;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Completed,
    /// Stopped by Ctrl-C before the end (replay); output so far is complete and flushed.
    Interrupted,
    /// Ran, but what it reports on does not exist (`status` without the events stream).
    NotFound,
}

impl Done {
    pub fn exit(self) -> Exit {
        match self {
            Self::Completed => Exit::Ok,
            Self::Interrupted => Exit::Interrupted,
            Self::NotFound => Exit::Failure,
        }
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Usage(#[from] ArgError),
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("replay failed: {0}")]
    Replay(#[from] ReplayError),
    #[error("tail failed: {0}")]
    Tail(#[from] TailError),
    #[error("status failed: {0}")]
    Status(#[from] StatusError),
}

impl CommandError {
    /// Bad arguments or configuration, or anything that went wrong at run time.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Usage(_) | Self::Config(_) => Exit::Usage,
            _ => Exit::Failure,
        }
    }
}

/// `esim-bridge replay`.
pub async fn replay(args: ReplayArgs, shutdown: CancellationToken) -> Result<Done, CommandError> {
    let now = OffsetDateTime::now_utc();
    let (since, until) = parse::span(args.since.as_deref(), args.until.as_deref(), now)?;
    let filter = Filter::from_args(&args.filter)?;
    let rate = args.rate.as_deref().map(parse::rate).transpose()?;
    let config = load(&args.config)?;
    let prefix = &config.nats.subject_prefix;
    let target = args.to_subject.as_deref();
    let target = target
        .map(|s| Target::new(s, prefix, args.force))
        .transpose()?;
    let client = publish::connect(&config.nats, true).await?;
    let output = match (&args.output, &target) {
        _ if args.dry_run => None,
        (Some(path), _) => Some(output::open(path).await?),
        (None, None) => Some(output::open(Path::new("-")).await?),
        (None, Some(_)) => None,
    };
    // A bar on the terminal that also shows the NDJSON would garble both.
    let to_terminal = output.is_some() && writes_stdout(&args) && std::io::stdout().is_terminal();
    let plan = Plan {
        filter,
        start: since.map_or(Start::All, Start::Since),
        until,
        rate,
        progress: match to_terminal {
            true => ProgressMode::Off,
            false => ProgressMode::Auto,
        },
    };
    let where_to = destination(&args, target.as_ref().map(|_| prefix.as_str()));
    let sinks = Sinks {
        output,
        lines: Lines::chosen(args.format.human(to_terminal), to_terminal),
        republish: target,
        dry_run: args.dry_run,
    };
    let started = Instant::now();
    let summary = run::replay(&client, &config.nats, plan, sinks, &shutdown).await?;
    if args.dry_run {
        print!("{}", visible::text(&summary.to_string()));
    }
    let report = report(&summary, args.dry_run, &where_to, started);
    eprintln!("{}", visible::text(&report));
    Ok(match summary.interrupted {
        true => Done::Interrupted,
        false => Done::Completed,
    })
}

/// `esim-bridge tail`.
pub async fn tail(args: TailArgs, shutdown: CancellationToken) -> Result<Done, CommandError> {
    let now = OffsetDateTime::now_utc();
    let since = args
        .since
        .as_deref()
        .map(|t| parse::instant("since", t, now));
    let start = since.transpose()?.map_or(Start::New, Start::Since);
    let filter = Filter::from_args(&args.filter)?;
    let config = load(&args.config)?;
    let client = publish::connect(&config.nats, true).await?;
    let stdout = Box::new(tokio::io::stdout());
    let to_terminal = std::io::stdout().is_terminal();
    let lines = Lines::chosen(args.format.human(to_terminal), to_terminal);
    tail::tail(
        &client,
        &config.nats,
        &filter,
        start,
        (stdout, lines),
        &shutdown,
    )
    .await?;
    Ok(Done::Completed)
}

/// `esim-bridge status`.
pub async fn status(args: StatusArgs) -> Result<Done, CommandError> {
    let config = load(&args.config)?;
    let client = publish::connect(&config.nats, true).await?;
    let report = status::status(&client, &config).await?;
    match args.json {
        // The report is plain data (strings, numbers, maps): serialising it cannot fail.
        true => println!(
            "{}",
            visible::text(&serde_json::to_string_pretty(&report).unwrap_or_default())
        ),
        false => print!("{}", visible::text(&report.to_string())),
    }
    // The report is printed either way; a missing stream is a failure for a script.
    Ok(match report.stream {
        Some(_) => Done::Completed,
        None => Done::NotFound,
    })
}

/// The tools' configuration; logs go to stderr at `warn` unless `RUST_LOG` says otherwise,
/// so stdout carries only the command's output.
fn load(arg: &ToolConfigArg) -> Result<Config, ConfigError> {
    let mut config = Config::load_for_tools(arg.config.config.as_deref())?;
    if let Some(server) = &arg.server {
        crate::config::check_servers(server)
            .map_err(|why| ConfigError::invalid("--server (NATS_URL)", why))?;
        config.nats.url.clone_from(server);
    }
    if let Some(creds) = &arg.creds {
        config.nats.creds_file = Some(creds.clone());
    }
    telemetry::init_logs(&LogConfig {
        format: config.log.format,
        level: "warn".into(),
    });
    Ok(config)
}

fn writes_stdout(args: &ReplayArgs) -> bool {
    match &args.output {
        Some(path) => path == Path::new("-"),
        None => args.to_subject.is_none(),
    }
}

fn destination(args: &ReplayArgs, republish_prefix: Option<&str>) -> String {
    let mut to = Vec::new();
    match &args.output {
        Some(path) if path != Path::new("-") => to.push(path.display().to_string()),
        Some(_) => to.push("stdout".into()),
        None if republish_prefix.is_none() => to.push("stdout".into()),
        None => {}
    }
    if let (Some(s), Some(_)) = (&args.to_subject, republish_prefix) {
        to.push(format!("{}.events.>", s.trim().trim_end_matches('.')));
    }
    to.join(" and ")
}

/// The closing line on stderr.
fn report(s: &Summary, dry_run: bool, to: &str, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64();
    let rate = s.scanned as f64 / secs.max(1e-3);
    let mut line = match dry_run {
        true => format!("replay (dry run): {} events match", s.matched),
        false => format!("replay: {} events to {to}", s.matched),
    };
    line.push_str(&format!(
        " (scanned {} in {secs:.1}s, {rate:.0} msg/s)",
        s.scanned
    ));
    if s.redacted > 0 {
        line.push_str(&format!("; {} redacted", s.redacted));
    }
    if s.already_present > 0 {
        line.push_str(&format!("; {} already present", s.already_present));
    }
    if s.interrupted {
        line.push_str("; interrupted");
    }
    if s.output_closed {
        line.push_str("; the output was closed early");
    }
    line
}
