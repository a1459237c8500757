//! What the bench reads from `/proc`: a process's CPU time and resident memory, and the load.

use std::time::Duration;

/// CPU time (user + system, all threads) a process has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th there.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
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
