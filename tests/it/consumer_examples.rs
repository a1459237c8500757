//! The consumer examples (examples/consumer.rs, examples/python/consumer.py) against a real
//! nats-server fed by the bridge: given the events of a few signed webhooks, each example
//! processes every event exactly once, even when it crashes after processing an event and
//! before acking it (the server redelivers it; the example recognises its id), and its ICCID
//! filter gets that eSIM's events only.
//!
//! The Python example needs nats-py and the OpenTelemetry SDK (`python3 -m pip install -r
//! examples/python/requirements.txt`):
//! without it its test is skipped with a message, unless `ESIM_PYTHON_TESTS=required`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::bridge::{esim_webhook, signed, Scenario};

const ICCID_A: &str = "8910300000123456789";
const ICCID_B: &str = "8944000000000000005";
/// How long one run of an example may take before the test gives up on it (a hang guard, not
/// a timing assertion: a run normally ends within seconds).
const RUN_LIMIT: Duration = Duration::from_secs(180);
/// The examples' `ack_wait` here: how soon an unacked event comes back.
const ACK_WAIT_SECS: &str = "1";

#[tokio::test]
async fn the_rust_consumer_example_processes_every_event_exactly_once() {
    let example = tokio::task::spawn_blocking(build_rust_example)
        .await
        .expect("build task");
    exactly_once_across_a_crash_before_ack(&[example.display().to_string()]).await;
}

#[tokio::test]
async fn the_python_consumer_example_processes_every_event_exactly_once() {
    if !python_ready() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python/consumer.py");
    exactly_once_across_a_crash_before_ack(&["python3".into(), script.display().to_string()]).await;
}

/// The scenario both examples pass: feed, crash after the second event, restart, filter.
async fn exactly_once_across_a_crash_before_ack(command: &[String]) {
    let s = Scenario::start(|_| {}).await;
    let all = feed(&s).await;
    assert!(all.len() >= 4, "{all:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let processed = dir.path().join("processed-ids.txt");
    let env = |durable: &str| {
        vec![
            ("NATS_URL", s.nats.url()),
            ("ESIM_DURABLE", durable.to_owned()),
            ("ESIM_PROCESSED", processed.display().to_string()),
            ("ESIM_ACK_WAIT_SECS", ACK_WAIT_SECS.to_owned()),
        ]
    };

    // First run: processes two events, then dies before acking the second.
    let mut crash = env("crm");
    crash.push(("ESIM_CRASH_AFTER", "2".to_owned()));
    let first = run(command, &crash).await;
    assert_eq!(first.status, Some(3), "{first:?}");
    assert_eq!(first.processed.len(), 2, "{first:?}");
    assert!(first.duplicates.is_empty(), "{first:?}");

    // Restarted: the unacked event comes back and is recognised; the rest is processed.
    let mut resume = env("crm");
    resume.push(("ESIM_EXIT_WHEN_DONE", "1".to_owned()));
    let second = run(command, &resume).await;
    assert_eq!(second.status, Some(0), "{second:?}");
    assert_eq!(
        second.duplicates,
        [first.processed[1].clone()],
        "{second:?}"
    );
    let mut once: Vec<String> = first
        .processed
        .into_iter()
        .chain(second.processed)
        .collect();
    once.sort();
    assert_eq!(once, all, "every event processed exactly once");
    let mut stored: Vec<String> = std::fs::read_to_string(&processed)
        .expect("processed ids")
        .lines()
        .map(str::to_owned)
        .collect();
    stored.sort();
    assert_eq!(stored, all);

    // Another durable consumer, filtered to one eSIM. Without ESIM_PROCESSED its store is
    // keyed by its durable (processed-ids-support.txt in its working directory), so the
    // first consumer's ids do not make it skip events it never processed.
    let mut one_esim = env("support");
    one_esim.retain(|(k, _)| *k != "ESIM_PROCESSED");
    std::fs::copy(&processed, dir.path().join("processed-ids.txt")).expect("copy store");
    one_esim.push(("ESIM_ICCID", ICCID_A.to_owned()));
    one_esim.push(("ESIM_EXIT_WHEN_DONE", "1".to_owned()));
    let filtered = run_in(command, &one_esim, dir.path()).await;
    assert_eq!(filtered.status, Some(0), "{filtered:?}");
    assert!(filtered.duplicates.is_empty(), "{filtered:?}");
    let mut mine = filtered.processed;
    mine.sort();
    let expected: Vec<&String> = all.iter().filter(|id| id.contains(ICCID_A)).collect();
    assert_eq!(mine.iter().collect::<Vec<_>>(), expected);
    let own = std::fs::read_to_string(dir.path().join("processed-ids-support.txt"));
    assert_eq!(
        own.expect("the durable's own store").lines().count(),
        mine.len()
    );
    s.finish().await;
}

/// Sends signed webhooks for two eSIMs and one early failure; returns the stored event ids,
/// sorted.
async fn feed(s: &Scenario) -> Vec<String> {
    let bodies = [
        esim_webhook("wh_1", "esim.activated", 1, Some(ICCID_A)),
        esim_webhook("wh_2", "esim.delivered", 2, Some(ICCID_B)),
        esim_webhook("wh_3", "esim.failed", 3, None),
    ];
    for body in &bodies {
        let answer = signed(&s.http, &s.bridge.url(), body).send().await;
        assert_eq!(answer.expect("send").status(), 200, "{body}");
    }
    let mut ids: Vec<String> = s
        .stored()
        .await
        .iter()
        .map(|m| {
            let payload: serde_json::Value = serde_json::from_str(&m.payload).expect("json");
            payload["id"].as_str().expect("id").to_owned()
        })
        .collect();
    ids.sort();
    ids
}

/// What one run of an example printed, and how it ended.
#[derive(Debug)]
struct Run {
    status: Option<i32>,
    processed: Vec<String>,
    duplicates: Vec<String>,
}

async fn run(command: &[String], env: &[(&str, String)]) -> Run {
    run_in(command, env, Path::new(env!("CARGO_MANIFEST_DIR"))).await
}

/// [`run`] with `cwd` as the working directory (where a default store file goes).
async fn run_in(command: &[String], env: &[(&str, String)], cwd: &Path) -> Run {
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..])
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let child = cmd.spawn().expect("start the example");
    let out = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .expect("the example ends")
        .expect("example output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprint!("{}: {stdout}", command.join(" ")); // shown when the test fails
    let ids = |word: &str| -> Vec<String> {
        let lines = stdout.lines().filter_map(|l| l.strip_prefix(word));
        lines
            .filter_map(|rest| rest.split(' ').next())
            .map(str::to_owned)
            .collect()
    };
    Run {
        status: out.status.code(),
        processed: ids("processed "),
        duplicates: ids("duplicate "),
    }
}

/// The executable of `examples/consumer.rs`: the one `cargo test` built beside this test
/// binary when it is newer than the example's sources; else one built now, into a target dir of
/// its own (a second cargo in the shared one would fight the running one's fingerprints).
pub(crate) fn build_rust_example() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let built = profile_dir.join(format!("examples/consumer{}", std::env::consts::EXE_SUFFIX));
    let sources = [
        root.join("examples/consumer.rs"),
        root.join("crates/esim-events/src"),
    ];
    if is_newer_than(&built, &sources) {
        return built;
    }
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "--example",
        "consumer",
        "--message-format=json-render-diagnostics",
    ])
    .arg("--manifest-path")
    .arg(root.join("Cargo.toml"))
    .env("CARGO_TARGET_DIR", profile_dir.join("../consumer-example"))
    .stderr(Stdio::inherit());
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd.output().expect("run cargo build --example consumer");
    assert!(
        out.status.success(),
        "cargo build --example consumer failed"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "consumer")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported the example's executable")
}

/// Whether `file` exists and was written after every file under `sources`.
fn is_newer_than(file: &Path, sources: &[PathBuf]) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(file) else {
        return false;
    };
    let mut pending: Vec<PathBuf> = sources.to_vec();
    while let Some(p) = pending.pop() {
        match std::fs::read_dir(&p) {
            Ok(entries) => pending.extend(entries.filter_map(|e| e.ok().map(|e| e.path()))),
            Err(_) if modified(&p).is_some_and(|m| m <= built) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Whether python3 with nats-py is there; if not, the test is skipped (with a message) unless
/// `ESIM_PYTHON_TESTS=required`.
pub(crate) fn python_ready() -> bool {
    crate::support::python::modules_ready(
        "nats, opentelemetry.sdk.trace",
        "examples/python/requirements.txt",
        "the Python consumer example",
    )
}
