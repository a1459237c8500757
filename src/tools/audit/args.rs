//! `esim-bridge audit`'s arguments (clap) and their checks. Values stay text until
//! [`AuditArgs::plan`], so a bad one is a usage error naming its flag (exit 64), never
//! clap's exit 2.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use time::OffsetDateTime;

use super::run::Plan;
use super::window::Window;
use crate::cli::ConfigArg;
use crate::tools::parse::{self, ArgError};
use crate::tools::progress::ProgressMode;

/// The default read budget: a fifth of the provider's 300/min, so an audit fits next to a
/// poller spending its default 240/min.
pub const DEFAULT_READS_PER_MINUTE: u32 = 60;
/// The provider's per-account limit on reads; an audit may never ask for more.
pub const PROVIDER_READS_PER_MINUTE: u32 = 300;

/// `esim-bridge audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Audit orders placed since this time: RFC 3339 or an age (`7d`, `36h`). Required
    /// unless --order is given.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Audit orders placed up to this time (same forms; default: no upper limit).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Audit exactly this order id (one detail read each, no list); repeatable.
    #[arg(long = "order", value_name = "ID")]
    pub orders: Vec<String>,
    /// Write one NDJSON line per finding to FILE, or `-` for stdout (the default).
    #[arg(long, short, value_name = "FILE|-")]
    pub output: Option<PathBuf>,
    /// Publish the missing transitions (same ids and subjects; marked `repaired_at`).
    #[arg(long)]
    pub repair: bool,
    /// Provider reads the audit may start per rolling minute (1-300; default 60, leaving
    /// 240 of the account's 300 to a running poller).
    #[arg(long, value_name = "N")]
    pub reads_per_minute: Option<String>,
    /// A step the stream lacks that may be younger than this is reported as `pending`, not
    /// `missing` (the poller may not have looked yet). Default: the poller's longest cadence
    /// (`upstream.cadence.lifecycle`, 6h) plus 10m; `0s` reports every absent step as missing.
    #[arg(long, value_name = "DURATION")]
    pub settle: Option<String>,
}

impl AuditArgs {
    /// The checked plan, judged at `now`.
    pub fn plan(&self, now: OffsetDateTime, to_terminal: bool) -> Result<Plan, ArgError> {
        let (since, until) = parse::span(self.since.as_deref(), self.until.as_deref(), now)?;
        let orders = self
            .orders
            .iter()
            .map(|id| order_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        if since.is_none() && orders.is_empty() {
            return Err(ArgError::new(
                "since",
                "is required (e.g. --since 7d) unless --order names the orders",
            ));
        }
        let reads_per_minute = match self.reads_per_minute.as_deref() {
            None => DEFAULT_READS_PER_MINUTE,
            Some(text) => reads_per_minute(text)?,
        };
        let label = match (&self.since, &self.until) {
            _ if !orders.is_empty() => format!("of {} ordered ids", orders.len()),
            (Some(s), Some(u)) => format!("since {s} until {u}"),
            (Some(s), None) => format!("since {s}"),
            (None, _) => String::new(),
        };
        Ok(Plan {
            window: Window { since, until },
            orders,
            reads_per_minute,
            repair: self.repair,
            // A bar on the terminal that also shows the NDJSON would garble both.
            progress: match to_terminal {
                true => ProgressMode::Off,
                false => ProgressMode::Auto,
            },
            label,
            settle: self.settle.as_deref().map(settle).transpose()?,
        })
    }
}

fn settle(text: &str) -> Result<Duration, ArgError> {
    humantime::parse_duration(text.trim())
        .ok()
        .filter(|d| *d <= crate::config::MAX_DURATION)
        .ok_or_else(|| ArgError::new("settle", "is not a duration like 30m, 6h or 0s"))
}

fn order_id(text: &str) -> Result<u64, ArgError> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| ArgError::new("order", format!("{text:?} is not an order id (a number)")))
}

fn reads_per_minute(text: &str) -> Result<u32, ArgError> {
    let max = PROVIDER_READS_PER_MINUTE;
    text.trim()
        .trim_end_matches("/min")
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ArgError::new(
                "reads-per-minute",
                format!("{text:?} must be a whole number from 1 to {max}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use time::macros::datetime;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        audit: AuditArgs,
    }

    fn plan(args: &[&str]) -> Result<Plan, ArgError> {
        let cli = Cli::try_parse_from(["audit"].iter().chain(args)).unwrap();
        cli.audit.plan(datetime!(2026-05-15 12:00 UTC), false)
    }

    #[test]
    fn bad_values_name_their_flag() {
        for (args, flag) in [
            (&["--since", "yesterday"][..], "since"),
            (&["--since", "1d", "--until", "2d"], "until"),
            (&["--since", "1d", "--order", "x7"], "order"),
            (
                &["--since", "1d", "--reads-per-minute", "0"],
                "reads-per-minute",
            ),
            (
                &["--since", "1d", "--reads-per-minute", "301"],
                "reads-per-minute",
            ),
            (&[], "since"),
        ] {
            assert_eq!(plan(args).unwrap_err().flag, flag, "{args:?}");
        }
    }

    #[test]
    fn the_default_budget_leaves_room_for_the_poller() {
        let p = plan(&["--since", "7d"]).unwrap();
        assert_eq!(p.reads_per_minute, 60);
        assert_eq!(p.window.since, Some(datetime!(2026-05-08 12:00 UTC)));
        assert!(p.orders.is_empty() && !p.repair);
        let p = plan(&[
            "--order",
            "7",
            "--order",
            "8",
            "--reads-per-minute",
            "30/min",
        ])
        .unwrap();
        assert_eq!((p.orders, p.reads_per_minute), (vec![7, 8], 30));
    }
}
