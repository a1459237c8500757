//! Alerts and dashboard evaluated for real: a Prometheus (support/prometheus.rs) scrapes a
//! bridge that took webhooks (stored, duplicated, rejected for signature and for timestamp),
//! polled the simulator (a whole lifecycle, a failed and a cancelled order, 429s and 5xx, an
//! order dated past 2100), shed
//! a webhook while NATS was frozen, then lost NATS. Every alert expression, as Prometheus loaded it from deploy/monitoring/, and every
//! dashboard query, from the dashboard's JSON, must then match real series (what is probed:
//! monitoring_promql.rs). The metrics registry is process-wide, so other scenarios running in
//! this binary may add series; they can never remove one this scenario produced.

use std::path::Path;
use std::time::{Duration, Instant};

use esim_sim::{OrderPlan, Outcome};
use serde_json::Value;

use crate::monitoring_promql::probes;
use crate::support::bridge::{esim_webhook, now_secs, signed_at, Bridge, SECRET};
use crate::support::fixture::NatsServer;
use crate::support::poller::*;
use crate::support::prometheus::{gate, Prometheus};

const DASHBOARD: &str = include_str!("../../deploy/monitoring/esim-bridge.dashboard.json");
const RULES: &str = "deploy/monitoring/esim-bridge.rules.yaml";

#[tokio::test]
async fn every_alert_and_dashboard_expression_matches_series_of_a_real_bridge() {
    let Some(bin) = gate("monitoring::every_alert_and_dashboard_expression") else {
        return;
    };
    let started = Instant::now();
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let bridge = Bridge::start(&nats.url(), |c| {
        with_poller(c, &sim.base_url());
        c.webhook.request_timeout = Duration::from_secs(2);
        c.webhook.max_concurrency = 1; // so one stuck webhook makes the next one shed
    })
    .await;
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join(RULES);
    let prom = Prometheus::start(&bin, bridge.admin, &rules).await;

    drive_webhooks(&bridge).await;
    drive_full_stream(&bridge, &nats).await;
    drive_poller(&sim, &nats.url(), &bridge).await;
    drive_shedding(&bridge, &nats).await;
    // Last, NATS goes away: the gauge says so, a webhook gets 503, the publish error is counted.
    nats.stop();
    metrics_contain(&bridge, "esim_bridge_nats_connected 0").await;
    let answer = post(&bridge, "evt_mon_down", 10, SECRET, now_secs()).await;
    assert_eq!(answer, 503, "a webhook while NATS is down");
    // Three scrapes of the newest series, so that range functions see it.
    let newest = r#"esim_bridge_webhooks_total{reason="nats_unavailable"}"#;
    prom.wait_for(&format!("count_over_time({newest}[1m]) >= 3"))
        .await;

    let alerts = loaded_rules(&prom).await;
    let queries = dashboard_queries();
    assert!(alerts.len() >= 10, "alert rules loaded: {alerts:?}");
    assert!(queries.len() >= 15, "dashboard queries: {queries:?}");
    let mut failures = Vec::new();
    let mut probed = 0;
    for (what, expr) in alerts.iter().chain(&queries) {
        probed += check(&prom, what, expr, &mut failures).await;
    }
    assert!(
        failures.is_empty(),
        "{} of {probed} probes match no series:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The rules also evaluate for real: the disconnect is an alert (pending: `for: 1m`).
    wait_for_alert(&prom, "EsimBridgeNatsDisconnected").await;
    eprintln!(
        "monitoring: {} alerts and {} dashboard queries, {probed} probes, all match series ({:.1?})",
        alerts.len(),
        queries.len(),
        started.elapsed()
    );
    bridge.stop().await;
}

#[tokio::test]
async fn the_nats_connected_gauge_follows_the_client_at_each_scrape() {
    let nats = NatsServer::start().await;
    let bridge = Bridge::start(&nats.url(), |_| {}).await;
    metrics_contain(&bridge, "esim_bridge_nats_connected 1").await;
    nats.stop();
    metrics_contain(&bridge, "esim_bridge_nats_connected 0").await;
    nats.restart().await;
    metrics_contain(&bridge, "esim_bridge_nats_connected 1").await;
    bridge.stop().await;
}

/// Stored, duplicate, rejected for a foreign secret and for an old timestamp; one stored with
/// an unknown status and a dropped field.
async fn drive_webhooks(bridge: &Bridge) {
    let now = now_secs();
    for (id, n, secret, ts, status) in [
        ("evt_mon_1", 1, SECRET, now, 200),
        ("evt_mon_1", 1, SECRET, now, 200),
        ("evt_mon_2", 2, SECRET, now, 200),
        ("evt_mon_3", 3, "rotated-on-one-side-only", now, 401),
        ("evt_mon_4", 4, SECRET, now - 3_600, 401),
    ] {
        assert_eq!(post(bridge, id, n, secret, ts).await, status, "{id}");
    }
    // Stored, with a status this version does not know and a product name it drops.
    let mut odd: Value = serde_json::from_str(&esim_webhook(
        "evt_mon_5",
        "esim.delivered",
        7_300_005,
        Some("8910300000073000105"),
    ))
    .expect("json");
    odd["data"]["status"] = "REISSUED".into();
    odd["data"]["product_name"] = "Japan\u{7} eSIM".into();
    let http = reqwest::Client::new();
    let sent = signed_at(&http, &bridge.url(), &odd.to_string(), SECRET, now).send();
    assert_eq!(
        sent.await.expect("POST webhook").status(),
        200,
        "odd webhook"
    );
}

/// The stream full for one webhook (`discard: new` at its current count, as an operator might
/// bound it), then unbounded again: a 503 `stream_full` for the 503 alert's expression.
async fn drive_full_stream(bridge: &Bridge, nats: &NatsServer) {
    use async_nats::jetstream::stream::DiscardPolicy;
    let js = crate::support::fixture::jetstream(&nats.url()).await;
    let mut stream = js.get_stream("ESIM_EVENTS").await.expect("stream");
    let info = stream.info().await.expect("info").clone();
    let mut bounded = info.config.clone();
    bounded.discard = DiscardPolicy::New;
    bounded.max_messages = i64::try_from(info.state.messages).expect("count");
    js.update_stream(&bounded).await.expect("bound the stream");
    assert_eq!(
        post(bridge, "evt_mon_full", 8, SECRET, now_secs()).await,
        503
    );
    js.update_stream(&info.config)
        .await
        .expect("unbound the stream");
}

async fn post(bridge: &Bridge, id: &str, n: u64, secret: &str, ts: u64) -> u16 {
    post_to(bridge.url(), id.to_owned(), n, secret, ts).await
}

async fn post_to(url: String, id: String, n: u64, secret: &str, ts: u64) -> u16 {
    let iccid = format!("89103000000730001{n:02}");
    let body = esim_webhook(&id, "esim.delivered", 7_300_000 + n, Some(&iccid));
    let http = reqwest::Client::new();
    let sent = signed_at(&http, &url, &body, secret, ts).send().await;
    sent.expect("POST webhook").status().as_u16()
}

/// With nats-server frozen (SIGSTOP), a webhook holds the only request slot while its publish
/// waits for an ack, so a webhook arriving meanwhile is shed at once (503); then NATS resumes.
async fn drive_shedding(bridge: &Bridge, nats: &NatsServer) {
    signal(nats.pid(), "-STOP");
    for n in (20..30).step_by(2) {
        let url = bridge.url();
        let holder = tokio::spawn(post_to(url, format!("evt_mon_{n}"), n, SECRET, now_secs()));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let newcomer = post(
            bridge,
            &format!("evt_mon_{}", n + 1),
            n + 1,
            SECRET,
            now_secs(),
        )
        .await;
        let held = holder.await.expect("holder task");
        assert!([200, 503].contains(&held), "the held webhook got {held}");
        if newcomer == 503
            && metrics_text(bridge)
                .await
                .contains(r#"reason="request_shed""#)
        {
            signal(nats.pid(), "-CONT");
            return;
        }
    }
    panic!("no webhook was shed while NATS was frozen");
}

fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .arg(sig)
        .arg(pid.to_string())
        .status();
    assert!(status.is_ok_and(|s| s.success()), "kill {sig} {pid}");
}

/// Every event type detected by the poller, then 429s and 5xx from the provider, then an order
/// the poller quarantines.
async fn drive_poller(sim: &Sim, nats_url: &str, bridge: &Bridge) {
    let step = Duration::from_millis(300);
    let lifecycle = sim
        .create_order(order(full_lifecycle(step)))
        .expect("order");
    let mut expected = vec![(lifecycle.iccid.expect("iccid"), 4)];
    for outcome in [Outcome::Failed, Outcome::Cancelled] {
        let plan = OrderPlan {
            outcome,
            with_iccid: true,
            pending_for: step,
            ..OrderPlan::default()
        };
        let truth = sim.create_order(order(plan)).expect("order");
        expected.push((truth.iccid.expect("iccid"), 1));
    }
    wait_for(nats_url, |s| {
        expected
            .iter()
            .all(|(key, n)| types_for(s, key).len() == *n)
    })
    .await;
    sim.throttle_for(Duration::from_millis(1_500));
    metrics_contain(bridge, "esim_bridge_upstream_429_total").await;
    sim.fail_next_reads(2, 503);
    metrics_contain(bridge, r#"outcome="server_error""#).await;
    // A provider clock a century ahead: the new order's dates are past 2100, so it is
    // quarantined.
    sim.advance(Duration::from_secs(100 * 366 * 86_400));
    sim.create_order(order(OrderPlan::default()))
        .expect("order");
    metrics_contain(bridge, "esim_bridge_poller_quarantined_total").await;
}

async fn metrics_text(bridge: &Bridge) -> String {
    let url = format!("http://{}/metrics", bridge.admin);
    match reqwest::get(&url).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the bridge's `/metrics` text contains `needle`.
async fn metrics_contain(bridge: &Bridge, needle: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = metrics_text(bridge).await;
        if text.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/metrics never showed {needle}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The alerting rules as Prometheus loaded them, once each was evaluated: (name, query).
async fn loaded_rules(prom: &Prometheus) -> Vec<(String, String)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let data = prom.api("rules").await;
        let groups = data["groups"].as_array().cloned().unwrap_or_default();
        let rules: Vec<Value> = groups
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        if !rules.is_empty() && rules.iter().all(|r| r["health"] != "unknown") {
            for r in &rules {
                assert_eq!(
                    r["health"], "ok",
                    "rule {} fails: {}",
                    r["name"], r["lastError"]
                );
            }
            let alerts = rules.iter().filter(|r| r["type"] == "alerting");
            let pair = |r: &Value| (format!("alert {}", r["name"]), text(&r["query"]));
            return alerts.map(pair).collect();
        }
        assert!(
            Instant::now() < deadline,
            "rules never evaluated: {data}\n{}",
            prom.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Every dashboard query, variables substituted (`$__rate_interval` → 1m, each template variable
/// → `.+` so a misspelt label cannot match by absence), plus each variable's own query.
fn dashboard_queries() -> Vec<(String, String)> {
    let dash: Value = serde_json::from_str(DASHBOARD).expect("dashboard JSON");
    let vars = dash["templating"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = vars.iter().map(|v| text(&v["name"])).collect();
    let var = regex::Regex::new(r"\$\{?(\w+)\}?").expect("regex");
    let label_values = regex::Regex::new(r"^label_values\((\w+), *(\w+)\)$").expect("regex");
    let mut out = Vec::new();
    for v in vars.iter().filter(|v| v["type"] == "query") {
        let query = text(&v["definition"]);
        let caps = label_values.captures(&query);
        let caps = caps.unwrap_or_else(|| panic!("variable query {query:?}"));
        let q = format!("group by ({}) ({})", &caps[2], &caps[1]);
        out.push((format!("variable {}", v["name"]), q));
    }
    let panels = dash["panels"].as_array().cloned().unwrap_or_default();
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        let targets = panel["targets"].as_array().cloned().unwrap_or_default();
        assert!(!targets.is_empty(), "panel {} has no query", panel["title"]);
        for t in targets {
            let expr = var.replace_all(
                t["expr"].as_str().unwrap_or_default(),
                |c: &regex::Captures| {
                    let name = &c[1];
                    if name.starts_with("__") {
                        "1m".to_owned()
                    } else {
                        assert!(names.iter().any(|n| n == name), "unknown variable ${name}");
                        ".+".to_owned()
                    }
                },
            );
            out.push((
                format!("panel {} {}", panel["title"], t["refId"]),
                expr.into_owned(),
            ));
        }
    }
    out
}

/// Runs an expression's probes; records each that matches nothing. Returns how many ran.
async fn check(prom: &Prometheus, what: &str, expr: &str, failures: &mut Vec<String>) -> usize {
    let p = match probes(expr) {
        Ok(p) => p,
        Err(e) => {
            failures.push(format!("{what}: cannot parse `{expr}`: {e}"));
            return 1;
        }
    };
    for q in p.selectors.iter().chain(&p.parts) {
        match prom.query(q).await {
            Ok(series) if !series.is_empty() => {}
            Ok(_) => failures.push(format!("{what}: no series for `{q}`")),
            Err(e) => failures.push(format!("{what}: `{q}` fails: {e}")),
        }
    }
    for label in &p.labels {
        let mut carried = false;
        for s in &p.selectors {
            let series = prom.query(&format!("count by ({label}) ({s})")).await;
            let has = |v: &Value| v["metric"][label].as_str().is_some_and(|x| !x.is_empty());
            carried |= series.is_ok_and(|r| r.iter().any(has));
        }
        if !carried {
            failures.push(format!(
                "{what}: no series of its selectors carries `{label}`"
            ));
        }
    }
    p.selectors.len() + p.parts.len() + p.labels.len()
}

async fn wait_for_alert(prom: &Prometheus, name: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let data = prom.api("alerts").await;
        let alerts = data["alerts"].as_array().cloned().unwrap_or_default();
        if alerts.iter().any(|a| a["labels"]["alertname"] == name) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never pending: {data}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
