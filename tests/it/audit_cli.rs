//! `audit` through the real binary: exit 64 naming the flag or key, 1 when the stream cannot
//! be read, 2 with findings (NDJSON on stdout, the table on stderr, no activation code
//! anywhere), and 0 once `--repair` has closed them.

use std::process::{Output, Stdio};
use std::time::Duration;

use esim_sim::{OrderPlan, Outcome};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

use crate::support::fixture::NatsServer;
use crate::support::poller::{order, sim_config, start_sim};
use crate::support::replay::{assert_no_codes, nats_config, publisher};

const BIN: &str = env!("CARGO_BIN_EXE_esim-bridge");

/// Runs `esim-bridge audit ARGS` with NATS and the provider given by environment only.
async fn audit(env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .arg("audit")
        .args(args)
        .kill_on_drop(true);
    let out: Output = cmd.output().await.expect("run esim-bridge");
    assert_no_codes(&out.stdout);
    assert_no_codes(&out.stderr);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn env<'a>(nats: &'a str, sim: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ESIM_BRIDGE_NATS__URL", nats),
        ("ESIM_BRIDGE_UPSTREAM__BASE_URL", sim),
        ("ESIM_BRIDGE_UPSTREAM__API_KEY", "demo-key"),
        ("ESIM_BRIDGE_UPSTREAM__API_SECRET", "demo-secret"),
    ]
}

#[tokio::test]
async fn bad_usage_exits_64_and_names_the_flag_or_key() {
    let env = env("nats://127.0.0.1:1", "http://127.0.0.1:1");
    for (args, named) in [
        (&[][..], "--since"),
        (&["--since", "yesterday"], "--since"),
        (
            &["--since", "7d", "--reads-per-minute", "900"],
            "--reads-per-minute",
        ),
        (&["--since", "7d", "--order", "abc"], "--order"),
        (&["--since", "1d", "--until", "2d"], "--until"),
        (&["--since", "7d", "--no-such-flag"], "--no-such-flag"),
    ] {
        let (code, _, err) = audit(&env, args).await;
        assert_eq!(code, Some(64), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: {err}");
    }
    let (code, _, err) = audit(&env[..1], &["--since", "7d"]).await;
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("upstream.base_url"), "{err}");
    let (code, _, err) = audit(&env[..2], &["--since", "7d"]).await;
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("upstream.api_key"), "{err}");
}

#[tokio::test]
async fn findings_exit_2_a_repair_closes_them_and_the_next_run_exits_0() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let (url, base) = (nats.url(), sim.base_url());
    let env = env(&url, &base);
    let truth = sim
        .create_order(order(OrderPlan::default()))
        .expect("order");

    let (code, _, err) = audit(&env, &["--since", "1h"]).await;
    assert_eq!(code, Some(1), "no stream yet: {err}");
    assert!(err.contains("ESIM_EVENTS"), "{err}");

    publisher(&nats_config(&url)).await;
    // Placed a moment ago: within the default settle window (the poller may not have looked
    // yet), so pending, not a finding.
    let (code, out, err) = audit(&env, &["--since", "1h"]).await;
    assert_eq!(code, Some(0), "{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).expect("one NDJSON line");
    assert_eq!(
        (&line["class"], &line["event"]),
        (&"pending".into(), &"esim.delivered".into())
    );
    assert!(err.contains("pending"), "{err}");
    // Without a settle window the same step is missing.
    let (code, out, err) = audit(&env, &["--since", "1h", "--settle", "0s"]).await;
    assert_eq!(code, Some(2), "{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).expect("one NDJSON line");
    assert_eq!(line["class"], "missing");
    assert_eq!(line["order_id"], truth.id);
    assert_eq!(line["event"], "esim.delivered");
    assert!(
        err.contains("missing") && err.contains("reads: 1 list + 1 detail"),
        "{err}"
    );

    let secret = truth
        .activation_code
        .clone()
        .expect("a delivered order has a code");
    assert!(!out.contains(&secret) && !err.contains(&secret));
    let (code, out, err) = audit(
        &env,
        &["--since", "1h", "--settle", "0s", "--repair", "-o", "-"],
    )
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(out.contains(r#""repair":{"outcome":"written""#), "{out}");
    assert!(err.contains("repair: 1 written"), "{err}");

    let order_id = truth.id.to_string();
    let (code, out, err) = audit(&env, &["--order", &order_id]).await;
    assert_eq!((code, out.as_str()), (Some(0), ""), "{err}");
}

#[tokio::test]
async fn ctrl_c_prints_the_partial_report() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let (url, base) = (nats.url(), sim.base_url());
    publisher(&nats_config(&url)).await;
    // Listed newest first: the failure needs no detail read; the delivery then waits a
    // minute for its detail read at one read per minute.
    sim.create_order(order(OrderPlan::default()))
        .expect("order");
    let failed = OrderPlan {
        outcome: Outcome::Failed,
        ..OrderPlan::default()
    };
    let truth = sim.create_order(order(failed)).expect("order");
    let mut child = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env(&url, &base))
        .args([
            "audit",
            "--since",
            "1h",
            "--settle",
            "0s",
            "--reads-per-minute",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the first finding never came")
        .unwrap()
        .expect("a line");
    assert!(
        first.contains(&format!(r#""order_id":{}"#, truth.id)),
        "{first}"
    );
    let pid = child.id().unwrap().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().await;
    assert!(sent.unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("audit did not stop")
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(2), "findings so far: {err}");
    assert!(
        err.contains("1 orders") && err.contains("interrupted: partial"),
        "{err}"
    );
    assert_eq!(
        lines.next_line().await.unwrap(),
        None,
        "nothing after the finding"
    );
}
