//! What the bench reads from `/proc`: a process's CPU time and resident memory, and the load.

use std::time::Duration;

/// CPU time (user + system, all threads) a process has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    Duration::from_millis(stat_ticks(&stat) * 10) // USER_HZ is 100 on Linux
}

/// utime + stime in clock ticks from a `/proc/<pid>/stat` line. Fields are counted after the
/// parenthesised command name (which may hold spaces), by position: `state` is the first there,
/// utime and stime the 12th and 13th. Every field counts, numeric or not (`state` is a letter,
/// `tpgid` is -1 for a process without a terminal); skipping those would read stime and cutime.
fn stat_ticks(stat: &str) -> u64 {
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Checks the reading against the scheduler's own account before any figure depends on it:
/// while this thread spins for 300 ms, `/proc/self/stat` (ticks) must grow as much as
/// `/proc/thread-self/schedstat` (nanoseconds on CPU). An earlier parser that skipped
/// non-numeric fields read stime + cutime, a third of the real cost, and nothing noticed.
pub fn self_check() -> anyhow::Result<()> {
    let on_cpu = || {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
        let ns = s.split_whitespace().next().and_then(|f| f.parse().ok());
        Duration::from_nanos(ns.unwrap_or(0))
    };
    let (ticks0, sched0) = (own_cpu_time(), on_cpu());
    let started = std::time::Instant::now();
    let mut x = 0u64;
    while started.elapsed() < Duration::from_millis(300) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    let ticks = own_cpu_time().saturating_sub(ticks0).as_secs_f64();
    let sched = on_cpu().saturating_sub(sched0).as_secs_f64();
    anyhow::ensure!(
        sched > 0.05 && (ticks - sched).abs() < 0.05 + 0.2 * sched,
        "/proc CPU reading disagrees with schedstat: {ticks:.3} s vs {sched:.3} s"
    );
    Ok(())
}

/// CPU time of this process (the bench itself: the raw publisher, the fallback client).
pub fn own_cpu_time() -> Duration {
    cpu_time(std::process::id())
}

/// Resident memory in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The 1-minute load average, as `uptime` shows it.
pub fn load() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    avg.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// CPU time of several processes, sampled together.
#[derive(Clone, Copy)]
pub struct Sample {
    pub bridge: Duration,
    pub nats: Duration,
    pub own: Duration,
}

impl Sample {
    pub fn take(bridge: u32, nats: u32) -> Self {
        Self {
            bridge: cpu_time(bridge),
            nats: cpu_time(nats),
            own: own_cpu_time(),
        }
    }

    /// Microseconds of CPU per unit of work since `earlier`: (bridge, nats-server, this process).
    pub fn per(&self, earlier: &Sample, n: usize) -> (f64, f64, f64) {
        let us =
            |a: Duration, b: Duration| a.saturating_sub(b).as_micros() as f64 / n.max(1) as f64;
        (
            us(self.bridge, earlier.bridge),
            us(self.nats, earlier.nats),
            us(self.own, earlier.own),
        )
    }
}
