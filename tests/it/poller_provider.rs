//! The bridge (poller on, real nats-server) against a provider that loses or misroutes events
//! without any error (issue 16, rows 1 to 5): a 404 for an order that exists, an order moved
//! to another order's ICCID, a list that never ends, a page far larger than asked for, and a
//! login token that cannot be sent. In each, nothing may be lost or misrouted, and the poller
//! must keep working.

use esim_bridge::tools::status;

use crate::support::bridge::{test_config, Bridge, Stored};
use crate::support::fixture::NatsServer;
use crate::support::hostile::{ago, installed, listed, Provider, Script};
use crate::support::poller::{eventually, state_values, types_for, wait_for, with_poller};

/// What `/readyz` and `/metrics` of `bridge` say.
async fn admin(bridge: &Bridge, path: &str) -> String {
    let url = format!("http://{}{path}", bridge.admin);
    let res = reqwest::get(url).await.expect(path);
    res.text().await.expect("body")
}

/// The `Esim-Order-Id` header of a stored event.
fn order_id(m: &Stored) -> &str {
    m.headers.get("Esim-Order-Id").map_or("", |v| v.as_str())
}

#[tokio::test]
async fn a_404_once_does_not_untrack_an_order_and_its_install_is_published() {
    let iccid = "8910300000000000101";
    let provider = Provider::start(Script {
        list: vec![listed(1, iccid, None)],
        details: [(1, installed(1, iccid))].into(),
        not_found: [(1, 1)].into(),
        ..Script::default()
    })
    .await;
    let nats = NatsServer::start().await;
    let url = nats.url();
    let bridge = Bridge::start(&url, |c| with_poller(c, &provider.url)).await;
    wait_for(&url, |s| types_for(s, iccid) == ["delivered", "installed"]).await;
    assert!(provider.details_read(1) >= 2, "read again after the 404");
    let keys: Vec<String> = state_values(&url)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        !keys.iter().any(|k| k.starts_with("quarantine.")),
        "{keys:?}"
    );
    bridge.stop().await;
}

#[tokio::test]
async fn an_order_reported_with_another_orders_iccid_is_quarantined_and_publishes_nothing_there() {
    let (mine, theirs) = ("8910300000000000201", "8910300000000000202");
    let provider = Provider::start(Script {
        list: vec![listed(2, theirs, None), listed(1, mine, None)],
        // Order 1's detail names order 2's ICCID, installed and activated.
        details: [
            (1, listed(1, theirs, Some(&ago(0)))),
            (2, listed(2, theirs, None)),
        ]
        .into(),
        ..Script::default()
    })
    .await;
    let nats = NatsServer::start().await;
    let url = nats.url();
    let bridge = Bridge::start(&url, |c| with_poller(c, &provider.url)).await;
    eventually("order 1 read with the other ICCID", || {
        provider.details_read(1) >= 1
    })
    .await;
    // Two more list reads: the poller has moved on since that answer.
    let lists = provider.script().lists;
    eventually("the poller listed again", || {
        provider.script().lists >= lists + 2
    })
    .await;
    provider.script().details.insert(2, installed(2, theirs));
    let stored = wait_for(&url, |s| {
        types_for(s, theirs).contains(&"installed".to_owned())
    })
    .await;

    let under_theirs: Vec<(&str, &str)> = stored
        .iter()
        .filter(|m| m.subject.contains(theirs))
        .map(|m| (m.subject.as_str(), order_id(m)))
        .collect();
    assert!(
        under_theirs.iter().all(|(_, id)| *id == "2"),
        "order 1 published under order 2's ICCID: {under_theirs:?}"
    );
    assert_eq!(types_for(&stored, theirs), ["delivered", "installed"]);
    assert_eq!(types_for(&stored, mine), ["delivered"]);
    let state = state_values(&url).await;
    let entry = state.iter().find(|(k, _)| k == "quarantine.1");
    assert!(
        entry.is_some_and(|(_, v)| v.contains("\"iccid_changed\"")),
        "{state:?}"
    );
    let client = async_nats::connect(&url).await.expect("connect");
    let report = status::status(&client, &test_config(&url))
        .await
        .expect("status");
    let poller = report.poller.as_ref().expect("poller state");
    assert_eq!(poller.quarantined.get("iccid_changed"), Some(&1));
    assert_eq!(poller.quarantined_ids, [1]);
    assert!(report.to_string().contains("iccid_changed: 1"), "{report}");
    bridge.stop().await;
}

#[tokio::test]
async fn a_list_that_never_ends_does_not_starve_install_checks() {
    let iccid = "8910300000000000301";
    let provider = Provider::start(Script {
        list: vec![listed(1, iccid, None)],
        details: [(1, installed(1, iccid))].into(),
        endless: true,
        ..Script::default()
    })
    .await;
    let nats = NatsServer::start().await;
    let url = nats.url();
    let bridge = Bridge::start(&url, |c| with_poller(c, &provider.url)).await;
    wait_for(&url, |s| types_for(s, iccid) == ["delivered", "installed"]).await;
    let metrics = admin(&bridge, "/metrics").await;
    let cut = r#"esim_bridge_upstream_list_cut_total{list="discovery",end="repeated"}"#;
    assert!(metrics.contains(cut), "{metrics}");
    bridge.stop().await;
}

#[tokio::test]
async fn a_page_larger_than_asked_for_is_refused_and_counted_and_polling_goes_on() {
    let iccid = "8910300000000000401";
    let provider = Provider::start(Script {
        list: vec![listed(1, iccid, None)],
        details: [(1, listed(1, iccid, None))].into(),
        ..Script::default()
    })
    .await;
    let nats = NatsServer::start().await;
    let url = nats.url();
    let bridge = Bridge::start(&url, |c| with_poller(c, &provider.url)).await;
    wait_for(&url, |s| types_for(s, iccid) == ["delivered"]).await;
    // The next list read: 100,000 ids more than the 100 asked for.
    provider.script().oversize = Some((1, 100_000));
    eventually("the oversized page was served", || {
        provider.script().oversize == Some((0, 100_000))
    })
    .await;
    let lists = provider.script().lists;
    eventually("the poller listed again", || {
        provider.script().lists >= lists + 2
    })
    .await;
    let metrics = admin(&bridge, "/metrics").await;
    // Counted (the registry is shared by the scenarios of this process: at least once).
    let counted = metrics
        .lines()
        .find_map(|l| l.strip_prefix("esim_bridge_upstream_oversized_pages_total "))
        .and_then(|n| n.trim().parse::<f64>().ok());
    assert!(counted.is_some_and(|n| n >= 1.0), "{metrics}");
    // And the poller keeps working: order 1's install is found.
    provider.script().details.insert(1, installed(1, iccid));
    wait_for(&url, |s| types_for(s, iccid) == ["delivered", "installed"]).await;
    let read: Vec<u64> = provider.script().details_read.keys().copied().collect();
    assert_eq!(read, [1], "only order 1 was ever read: {read:?}");
    bridge.stop().await;
}

#[tokio::test]
async fn a_token_that_cannot_be_sent_is_refused_and_a_new_login_follows() {
    let iccid = "8910300000000000501";
    let provider = Provider::start(Script {
        list: vec![listed(1, iccid, None)],
        details: [(1, listed(1, iccid, None))].into(),
        token: Some("access\nsmuggled: header".to_owned()),
        ..Script::default()
    })
    .await;
    let nats = NatsServer::start().await;
    let url = nats.url();
    let bridge = Bridge::start(&url, |c| with_poller(c, &provider.url)).await;
    eventually("a second login after the refused token", || {
        provider.script().logins >= 2
    })
    .await;
    let ready = admin(&bridge, "/readyz").await;
    assert!(ready.contains("(cannot read the provider)"), "{ready}");
    let metrics = admin(&bridge, "/metrics").await;
    let refused = r#"esim_bridge_upstream_auth_total{call="login",outcome="unsendable_token"}"#;
    assert!(metrics.contains(refused), "{metrics}");
    assert_eq!(
        provider.script().lists,
        0,
        "nothing read with a broken token"
    );

    provider.script().token = None;
    wait_for(&url, |s| types_for(s, iccid) == ["delivered"]).await;
    // Published, so a login gave a usable token: readiness says so again.
    let ready = admin(&bridge, "/readyz").await;
    assert!(ready.starts_with("ready\npoller: polling"), "{ready}");
    assert!(!ready.contains("cannot read"), "{ready}");
    bridge.stop().await;
}
