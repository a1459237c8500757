//! The clap definitions of `replay`, `tail` and `status` (wired into [`crate::cli::Command`]).
//!
//! Values stay text here and are parsed by [`super::parse`], so that a bad `--since` is a usage
//! error with exit code 64 (clap itself would exit 2). The filters are per invocation, so they
//! have no `ESIM_BRIDGE_*` variables: that prefix belongs to configuration keys.

use std::path::PathBuf;

use clap::Args;

use crate::cli::ConfigArg;

/// Where the operator tools connect: `--config` and `ESIM_BRIDGE_NATS__*` as `serve` reads
/// them, or the nats CLI's own conventions, which override them: `-s/--server` (or `NATS_URL`)
/// and `--creds` (or `NATS_CREDS`).
#[derive(Debug, Clone, Args)]
pub struct ToolConfigArg {
    #[command(flatten)]
    pub config: ConfigArg,
    /// NATS server URL(s), comma-separated; overrides `nats.url`.
    #[arg(long, short = 's', env = "NATS_URL", value_name = "URL")]
    pub server: Option<String>,
    /// NATS credentials file; overrides `nats.creds_file`.
    #[arg(long, env = "NATS_CREDS", value_name = "FILE")]
    pub creds: Option<PathBuf>,
}

/// Which events: shared by `replay` and `tail`.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Only this subject key: an ICCID (or `order-<id>`); repeatable. Server-side filter.
    #[arg(long = "iccid", value_name = "ICCID")]
    pub iccids: Vec<String>,
    /// Only this event type (`delivered` or `esim.delivered`); repeatable. Server-side filter.
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only events of this upstream order id (the `Esim-Order-Id` header); repeatable.
    #[arg(long = "order", value_name = "ID")]
    pub orders: Vec<String>,
}

/// `esim-bridge replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub config: ToolConfigArg,
    /// Start at this time: RFC 3339 (`2026-05-15T14:00:00Z`) or an age (`2h`, `30m`, `7d`).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Stop after this time (same forms as --since). Replay always stops at the stream's last
    /// message as of the start.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Write the events (NDJSON, one stored payload per line, unless --format human) to FILE,
    /// or `-` for stdout. The default when --to-subject is not given.
    #[arg(long, short, value_name = "FILE|-")]
    pub output: Option<PathBuf>,
    /// Republish each event under the subject prefix S: `<prefix>.events.<key>.<event>` goes to
    /// `S.events.<key>.<event>` with an `Esim-Replayed-From: <stream sequence>` header.
    #[arg(long, value_name = "S")]
    pub to_subject: Option<String>,
    /// Allow --to-subject under the live events prefix (keeps one message per subject).
    #[arg(long)]
    pub force: bool,
    /// Emit at most N events per second (`500`, `500/s`, `6000/m`).
    #[arg(long, value_name = "N/s")]
    pub rate: Option<String>,
    /// Count the matching events (total and by type); write and publish nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// `esim-bridge tail`.
#[derive(Debug, Clone, Args)]
pub struct TailArgs {
    #[command(flatten)]
    pub config: ToolConfigArg,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Start this far back instead of with new events (RFC 3339 or an age like `10m`).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `--format` and `--json` of `tail` and `replay`.
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// `human`: one readable line per event (sequence, time stored, type, key, order, source,
    /// product), coloured on a terminal; `json`: each payload as stored, one line each.
    /// `auto` (the default): human on a terminal, json when piped or redirected.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl FormatArgs {
    /// True for readable lines: asked for, or `auto` writing to a terminal.
    pub fn human(&self, to_terminal: bool) -> bool {
        match (self.json, self.format) {
            (true, _) | (false, Format::Json) => false,
            (false, Format::Human) => true,
            (false, Format::Auto) => to_terminal,
        }
    }
}

/// How `tail` and `replay` write events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Auto,
    Human,
    Json,
}

/// `esim-bridge status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ToolConfigArg,
    /// Print the report as one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}
