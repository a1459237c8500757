//! The few lines printed before the first event: what runs where, how to follow the same stream
//! with the operator tools, and the column headings.

use std::fmt::Write as _;

use crate::tools::event_line::Style;

/// Where everything listens, for the banner.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub nats_url: String,
    pub nats_version: String,
    pub nats_pid: u32,
    pub store_dir: String,
    pub sim_url: String,
    pub webhook_url: String,
    pub admin_url: String,
    pub speed: f64,
    /// Random orders per real hour.
    pub orders_per_hour: f64,
    pub reads_per_minute: u32,
    /// This binary, as a command a shell runs as printed (its absolute path).
    pub exe: String,
    /// The simulator's login, which `audit` needs.
    pub sim_api_key: String,
    pub sim_api_secret: String,
}

/// The banner text (several lines, ending with a newline).
pub fn banner(e: &Endpoints, style: Style) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} nats-server + provider simulator + bridge, all local. Ctrl-C stops everything.\n",
        style.bold("esim-bridge demo:")
    );
    let row = |s: &mut String, name: &str, value: &str, note: &str| {
        let _ = writeln!(
            s,
            "  {:<10} {}  {}",
            name,
            style.bold(value),
            style.dim(note)
        );
    };
    row(
        &mut s,
        "nats",
        &e.nats_url,
        &format!(
            "nats-server {}, pid {}, store {}",
            e.nats_version, e.nats_pid, e.store_dir
        ),
    );
    row(
        &mut s,
        "simulator",
        &e.sim_url,
        &format!(
            "clock {}x: {}; {}",
            e.speed,
            pace(e.speed),
            arrivals(e.orders_per_hour)
        ),
    );
    row(
        &mut s,
        "webhook",
        &e.webhook_url,
        "signed esim.* webhooks from the simulator, a few duplicated, late or reordered",
    );
    row(
        &mut s,
        "poller",
        &format!("{}/api/v1/esim/orders", e.sim_url),
        &format!(
            "the bridge also polls the simulator, within {} reads/min",
            e.reads_per_minute
        ),
    );
    row(
        &mut s,
        "metrics",
        &e.admin_url,
        "bridge metrics; also /healthz, /readyz",
    );
    let _ = writeln!(
        s,
        "\n  Follow the same stream from another terminal while the demo runs (paste as printed):"
    );
    for line in follow_commands(e) {
        let _ = writeln!(s, "    {line}");
    }
    let _ = writeln!(
        s,
        "\n  Each line is one event as JetStream stored it (time in UTC):\n"
    );
    let heading = format!(
        "{:>5}  {:<8}  {:<9}  {:<19}  {:<13}  {:<7}  {}",
        "seq", "stored", "type", "key (ICCID/order-N)", "order", "source", "product"
    );
    let _ = writeln!(s, "{}", style.dim(&heading));
    s
}

/// The operator tools against this demo's NATS (and, for `audit`, its simulator), each a line a
/// shell runs as printed.
pub fn follow_commands(e: &Endpoints) -> Vec<String> {
    let exe = shell_word(&e.exe);
    let server = format!("-s {}", e.nats_url);
    let audit_env = format!(
        "ESIM_BRIDGE_NATS__URL={} ESIM_BRIDGE_UPSTREAM__BASE_URL={} \\\n      \
         ESIM_BRIDGE_UPSTREAM__API_KEY={} ESIM_BRIDGE_UPSTREAM__API_SECRET={}",
        e.nats_url,
        e.sim_url,
        shell_word(&e.sim_api_key),
        shell_word(&e.sim_api_secret)
    );
    vec![
        format!("{exe} tail {server}"),
        format!("{exe} replay {server} --type depleted --output -"),
        format!("{exe} status {server}"),
        format!("{audit_env} \\\n      {exe} audit --since 10m"),
    ]
}

/// `w` quoted for a POSIX shell when it holds anything but plain path characters.
fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@=,".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// "a random order every ~3 s" for orders per real hour.
fn arrivals(orders_per_hour: f64) -> String {
    if orders_per_hour <= 0.0 {
        return "no random orders".into();
    }
    let gap = 3600.0 / orders_per_hour;
    if gap < 1.0 {
        format!("~{:.0} random orders per second", 1.0 / gap)
    } else {
        format!("a random order every ~{gap:.0} s")
    }
}

/// "a simulated day per real minute" and the like.
fn pace(speed: f64) -> String {
    let per_minute = speed * 60.0;
    let (amount, unit) = if per_minute >= 86_400.0 {
        (per_minute / 86_400.0, "day")
    } else if per_minute >= 3600.0 {
        (per_minute / 3600.0, "hour")
    } else {
        (per_minute / 60.0, "minute")
    };
    if (amount - 1.0).abs() < 0.05 {
        format!("a simulated {unit} per real minute")
    } else {
        format!("{amount:.1} simulated {unit}s per real minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_reads_naturally() {
        assert_eq!(pace(1440.0), "a simulated day per real minute");
        assert_eq!(pace(2880.0), "2.0 simulated days per real minute");
        assert_eq!(pace(60.0), "a simulated hour per real minute");
        assert_eq!(pace(1.0), "a simulated minute per real minute");
        assert_eq!(arrivals(1200.0), "a random order every ~3 s");
        assert_eq!(arrivals(36_000.0), "~10 random orders per second");
        assert_eq!(arrivals(0.0), "no random orders");
    }

    #[test]
    fn the_follow_commands_are_what_the_cli_accepts() {
        use clap::Parser as _;
        let e = Endpoints {
            nats_url: "nats://127.0.0.1:40001".into(),
            nats_version: "2.15.1".into(),
            nats_pid: 1,
            store_dir: "/tmp/x".into(),
            sim_url: "http://127.0.0.1:40002".into(),
            webhook_url: "http://127.0.0.1:40003/webhooks/octopus".into(),
            admin_url: "http://127.0.0.1:40004/metrics".into(),
            speed: 1.0,
            orders_per_hour: 1.0,
            reads_per_minute: 300,
            exe: "/opt/my tools/esim-bridge".into(),
            sim_api_key: "demo-key".into(),
            sim_api_secret: "demo-secret".into(),
        };
        let lines = follow_commands(&e);
        assert_eq!(lines.len(), 4, "{lines:?}");
        for line in &lines {
            // The path is quoted as a shell needs it; what follows it is the command line.
            let (before, args) = line.split_once("'/opt/my tools/esim-bridge' ").expect(line);
            let argv = std::iter::once("esim-bridge").chain(args.split_whitespace());
            let parsed = crate::cli::Cli::try_parse_from(argv);
            assert!(parsed.is_ok(), "{line}: {:?}", parsed.err());
            if args.starts_with("audit") {
                for var in [
                    "NATS__URL",
                    "UPSTREAM__BASE_URL",
                    "UPSTREAM__API_KEY",
                    "UPSTREAM__API_SECRET",
                ] {
                    assert!(before.contains(&format!("ESIM_BRIDGE_{var}=")), "{line}");
                }
            } else {
                assert!(args.contains("-s nats://127.0.0.1:40001"), "{line}");
            }
        }
    }
}
