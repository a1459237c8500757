//! Progress on stderr: an indicatif bar (rate, ETA) on a terminal, plain lines every few
//! seconds otherwise, or nothing (library callers, tests).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often plain progress lines are written.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// How often the bar's text is refreshed (it redraws itself at most ~20 times a second).
const BAR_EVERY: Duration = Duration::from_millis(100);
const BAR_TEMPLATE: &str =
    "{prefix} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {msg}, ETA {eta}";

/// The words a progress report uses: replay scans messages and matches events; the audit
/// checks orders and finds problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    pub done: &'static str,
    pub found: &'static str,
    pub rate: &'static str,
}

impl Units {
    /// Replay's: messages scanned, events matched.
    pub const MESSAGES: Units = Units {
        done: "scanned",
        found: "matched",
        rate: "msg/s",
    };
}

/// Which kind of progress to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar if stderr is a terminal, plain lines otherwise.
    Auto,
    /// Plain lines on stderr.
    Lines,
    /// Nothing.
    Off,
}

enum Kind {
    Bar(ProgressBar),
    Lines,
    Off,
}

/// Progress of one read: messages scanned (of `total` pending at start) and events matched.
pub struct Progress {
    kind: Kind,
    label: &'static str,
    units: Units,
    total: u64,
    started: Instant,
    next: Instant,
}

impl Progress {
    pub fn start(label: &'static str, total: u64, mode: ProgressMode) -> Self {
        Self::start_with(label, total, mode, Units::MESSAGES)
    }

    /// Like [`Progress::start`], in other words.
    pub fn start_with(label: &'static str, total: u64, mode: ProgressMode, units: Units) -> Self {
        let kind = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => Kind::Bar(bar(label, total)),
            ProgressMode::Auto | ProgressMode::Lines => Kind::Lines,
            ProgressMode::Off => Kind::Off,
        };
        let now = Instant::now();
        let next = match kind {
            Kind::Lines => now + LINE_EVERY,
            _ => now,
        };
        Self {
            kind,
            label,
            units,
            total,
            started: now,
            next,
        }
    }

    /// Called after every message; draws only when it is time.
    pub fn update(&mut self, scanned: u64, matched: u64) {
        if matches!(self.kind, Kind::Off) {
            return;
        }
        let now = Instant::now();
        if now < self.next {
            return;
        }
        match &self.kind {
            Kind::Bar(bar) => {
                bar.set_position(scanned);
                let rate = scanned as f64 / (now - self.started).as_secs_f64().max(1e-3);
                let Units {
                    done,
                    found,
                    rate: per,
                } = self.units;
                bar.set_message(format!("{done}, {matched} {found}, {rate:.0} {per}"));
                self.next = now + BAR_EVERY;
            }
            Kind::Lines => {
                eprintln!("{}", self.line(scanned, matched, now));
                self.next = now + LINE_EVERY;
            }
            Kind::Off => {}
        }
    }

    /// Removes the bar (the caller prints the summary).
    pub fn finish(&self) {
        if let Kind::Bar(bar) = &self.kind {
            bar.finish_and_clear();
        }
    }

    fn line(&self, scanned: u64, matched: u64, now: Instant) -> String {
        let secs = (now - self.started).as_secs_f64().max(1e-3);
        let rate = scanned as f64 / secs;
        let total = self.total.max(scanned);
        let percent = 100 * scanned / total.max(1);
        let left = total - scanned;
        let eta = match rate > 0.0 {
            true => humantime::format_duration(Duration::from_secs((left as f64 / rate) as u64)),
            false => humantime::format_duration(Duration::ZERO),
        };
        let Units {
            done,
            found,
            rate: per,
        } = self.units;
        format!(
            "{}: {scanned}/{total} {done} ({percent}%), {matched} {found}, {rate:.0} {per}, ETA {eta}",
            self.label
        )
    }
}

fn bar(label: &'static str, total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    // The template is a literal covered by the unit test below; fall back to the default.
    let style =
        ProgressStyle::with_template(BAR_TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(label);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_template_is_valid() {
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
    }

    #[test]
    fn plain_lines_say_how_far_and_how_fast() {
        let mut p = Progress::start("replay", 1000, ProgressMode::Lines);
        p.started = Instant::now() - Duration::from_secs(2);
        let line = p.line(500, 20, Instant::now());
        assert!(
            line.starts_with("replay: 500/1000 scanned (50%), 20 matched, "),
            "{line}"
        );
        assert!(line.contains("msg/s, ETA "), "{line}");
    }
}
