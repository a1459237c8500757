//! `log.level`: a tracing filter, checked here so that `check-config` refuses what would make
//! `serve` log nothing. `tracing_subscriber`'s own parser takes any word as a target name
//! (`verbose` means "everything from a module called verbose", so the bridge would be silent);
//! this parser takes each comma-separated directive only when it ends in a level.

use tracing_subscriber::EnvFilter;

/// The level names a directive may end in (any case).
pub const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// The filter `serve` uses for `level`, or why `level` is refused.
pub fn log_filter(level: &str) -> Result<EnvFilter, String> {
    let accepted = || {
        format!(
            "expected a level ({}) or directives such as `info,esim_bridge=debug`",
            LEVELS.join(", ")
        )
    };
    let directives: Vec<&str> = level.split(',').map(str::trim).collect();
    for d in &directives {
        let last = d.rsplit('=').next().unwrap_or_default();
        if !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(last)) {
            return Err(format!("`{d}` does not end in a level: {}", accepted()));
        }
    }
    EnvFilter::try_new(level).map_err(|e| format!("{e}: {}", accepted()))
}

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn levels_and_directives_are_accepted() {
        for ok in [
            "info",
            "DEBUG",
            "warn,esim_bridge=debug",
            "esim_bridge::poller=trace",
            "off",
        ] {
            assert!(log_filter(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_word_that_is_no_level_is_refused_with_the_accepted_forms() {
        for bad in ["verbose", "", "info,", "esim_bridge=loud", "info,,debug"] {
            let e = log_filter(bad).expect_err(bad);
            assert!(e.contains("trace, debug, info, warn, error, off"), "{e}");
        }
    }
}
