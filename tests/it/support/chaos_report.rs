//! The chaos scenarios' record and verdict: what happened when ([`Log`]), the summary block
//! printed at the end, and the assertions on the final count.

use std::time::{Duration, Instant};

use crate::support::chaos::LEASE_TTL;
use crate::support::chaos_load::Count;

/// The longest a takeover may take after a `kill -9`: the TTL plus one renew interval (the
/// standby checks every TTL/3), plus a second for process scheduling on a loaded CI machine.
const TAKEOVER_LIMIT: Duration = Duration::from_millis(2000 + 667 + 1000);
/// Longest two replicas may poll at once in a run (scheduling noise at a lease handover;
/// the lease itself stops the holder a sixth of the TTL before a standby may take over).
const DOUBLE_POLLING_LIMIT: Duration = Duration::from_millis(500);
/// Longest a running bridge may leave `/healthz` unanswered (a stalled runtime).
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// What a scenario did, for the summary.
#[derive(Default)]
pub struct Log {
    pub takeovers: Vec<Duration>,
    pub poller_deaths: usize,
    pub stalls: Vec<(String, Duration)>,
    /// Total and longest time two replicas polled at once.
    pub double_polling: (Duration, Duration),
    /// [`lease_timeline`](crate::support::chaos_watch::lease_timeline), for the failure message.
    pub lease_timeline: String,
    events: Vec<String>,
    started: Option<Instant>,
}

impl Log {
    pub fn note(&mut self, what: impl Into<String>) {
        let at = self.started.get_or_insert_with(Instant::now).elapsed();
        self.events
            .push(format!("{:>6.1}s  {}", at.as_secs_f64(), what.into()));
    }
}

/// Prints the summary block and, when `ESIM_CHAOS_REPORT` names a file, appends it there too
/// (`.ci/run` prints that file after `cargo test`, which captures a passing test's stdout).
pub fn report(name: &str, c: &Count, log: &Log) {
    let text = summary(name, c, log);
    println!("{text}");
    if let Some(path) = std::env::var_os("ESIM_CHAOS_REPORT") {
        use std::io::Write as _;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = appended {
            eprintln!("cannot append the chaos summary to {path:?}: {e}");
        }
    }
}

fn summary(name: &str, c: &Count, log: &Log) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let takeovers: Vec<String> = log.takeovers.iter().map(|d| format!("{d:.2?}")).collect();
    let _ = writeln!(out, "\n==== chaos summary: {name} ====");
    for line in &log.events {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "  webhooks: {} sent, {} answered 2xx first time, {} re-sent until 2xx; \
         stored exactly once: {}/{}",
        c.webhooks_sent,
        c.webhooks_2xx_first_try,
        c.webhooks_resent,
        c.webhooks_stored_once,
        c.webhooks_sent
    );
    let _ = writeln!(
        out,
        "  simulator transitions: {} made; emitted exactly once: {}/{}",
        c.transitions, c.transitions_emitted_once, c.transitions
    );
    let _ = writeln!(
        out,
        "  poller deaths: {}; takeovers: [{}] (lease TTL {LEASE_TTL:?}, bound {TAKEOVER_LIMIT:?})",
        log.poller_deaths,
        takeovers.join(", ")
    );
    let stalls: Vec<String> = log
        .stalls
        .iter()
        .map(|(n, d)| format!("{n} {d:.2?}"))
        .collect();
    let _ = writeln!(
        out,
        "  longest /healthz stall while running: {}",
        stalls.join(", ")
    );
    let (total, longest) = log.double_polling;
    let _ = writeln!(
        out,
        "  two replicas polling at once: {total:.2?} in all, longest {longest:.2?}"
    );
    let _ = writeln!(
        out,
        "  stream: {} events; stored by nobody's doing: {}",
        c.stored_total,
        c.strays.len()
    );
    let _ = writeln!(out, "==== end of chaos summary: {name} ====\n");
    out
}

pub fn assert_counts(c: &Count, log: &Log) {
    assert!(
        c.webhooks_sent > 0 && c.transitions > 0,
        "nothing was counted"
    );
    assert_eq!(
        c.webhook_subjects_wrong,
        [],
        "webhooks not stored exactly once (subject, times)"
    );
    assert_eq!(
        c.transitions_wrong,
        [],
        "transitions not emitted exactly once (subject, times)"
    );
    assert_eq!(c.strays, Vec::<String>::new(), "events nobody made");
    assert_eq!(log.takeovers.len(), log.poller_deaths);
    assert_single_poller(log);
    for took in &log.takeovers {
        assert!(*took <= TAKEOVER_LIMIT, "takeover took {took:?}");
    }
    for (name, stalled) in &log.stalls {
        assert!(
            *stalled <= STALL_LIMIT,
            "{name} answered nothing for {stalled:?} (a stalled runtime)"
        );
    }
}

/// An assertion about the lease that a stalled runtime breaks (see [`STALL_LIMIT`]).
fn assert_single_poller(log: &Log) {
    let (total, _) = log.double_polling;
    assert!(
        total <= DOUBLE_POLLING_LIMIT,
        "two replicas polled at once for {total:?}; the lease's story:\n{}",
        log.lease_timeline
    );
}
