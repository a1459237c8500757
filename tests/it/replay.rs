//! Replay over 10,000 stored events: every filter (time window, ICCID, type, order, and
//! combinations) returns exactly the expected events, byte for byte, in stream order; dry runs
//! count them; `--rate` holds a replay back.

use esim_bridge::tools::{self, Filter, Plan, Sinks, Start};
use esim_events::EventType;
use tokio_util::sync::CancellationToken;

use crate::support::fixture::NatsServer;
use crate::support::replay::{
    assert_no_codes, events, nats_config, ndjson, publish_batches, publisher, replay_to_vec,
    split_inside_a_lifecycle, SharedBuf, Stored,
};

const EVENTS: usize = 10_000;

#[tokio::test]
async fn replays_of_ten_thousand_events_select_exactly_and_in_stream_order() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let mut all = events(EVENTS);
    let third = split_inside_a_lifecycle(&mut all, 7_000);
    let second = split_inside_a_lifecycle(&mut all, 3_000);
    let spans = &second[0].key().unwrap().to_string();
    let (stored, bounds) = publish_batches(&publisher, vec![all, second, third]).await;
    assert_eq!(stored.len(), EVENTS);
    let client = publisher.client();

    let check = |name: &str, plan: Plan, keep: &dyn Fn(&Stored) -> bool| {
        let expected = ndjson(stored.iter().filter(|s| keep(s)));
        let (client, cfg) = (client.clone(), cfg.clone());
        let name = name.to_owned();
        async move {
            let (out, summary) = replay_to_vec(&client, &cfg, plan).await;
            assert!(!expected.is_empty(), "{name}: the case selects nothing");
            let lines = expected.iter().filter(|b| **b == b'\n').count() as u64;
            assert_eq!(summary.matched, lines, "{name}: count");
            assert!(
                out == expected,
                "{name}: output differs from the expected events"
            );
            assert_no_codes(&out);
        }
    };
    let plan = |filter: Filter| Plan {
        filter,
        ..Plan::everything()
    };

    check("everything", Plan::everything(), &|_| true).await;

    let window = Plan {
        start: Start::Since(bounds[0]),
        until: Some(bounds[1]),
        ..Plan::everything()
    };
    check("second batch by time", window, &|s| s.batch == 1).await;
    let since = Plan {
        start: Start::Since(bounds[1]),
        ..Plan::everything()
    };
    check("since the second boundary", since, &|s| s.batch == 2).await;
    let until = Plan {
        until: Some(bounds[0]),
        ..Plan::everything()
    };
    check("until the first boundary", until, &|s| s.batch == 0).await;

    // An ICCID with a full lifecycle, one spanning batches, and an order-keyed failure.
    let full = &stored
        .iter()
        .find(|s| s.event.event_type == EventType::Depleted)
        .unwrap()
        .key;
    let f = Filter::all().key(full).unwrap();
    check("one iccid", plan(f), &|s| &s.key == full).await;
    assert!(stored.iter().any(|s| &s.key == spans && s.batch == 0));
    let f = Filter::all().key(full).unwrap().key(spans).unwrap();
    let both = |s: &Stored| &s.key == full || &s.key == spans;
    check("two iccids, one straddling batches", plan(f), &both).await;

    let f = Filter::all().event_type(EventType::Delivered);
    check("delivered", plan(f), &|s| {
        s.event.event_type == EventType::Delivered
    })
    .await;
    let f = Filter::all()
        .event_type(EventType::Failed)
        .event_type(EventType::Cancelled);
    let terminal =
        |s: &Stored| matches!(s.event.event_type, EventType::Failed | EventType::Cancelled);
    check("failed or cancelled", plan(f), &terminal).await;

    let full_order = stored.iter().find(|s| &s.key == full).unwrap().order();
    check(
        "order of an iccid",
        plan(Filter::all().order(full_order)),
        &|s| s.order() == full_order,
    )
    .await;
    let failed = stored
        .iter()
        .find(|s| s.key.starts_with("order-"))
        .unwrap()
        .order();
    let f = Filter::all().order(failed).order(full_order);
    check("two orders", plan(f), &|s| {
        s.order() == failed || s.order() == full_order
    })
    .await;

    let combined = Plan {
        filter: Filter::all().event_type(EventType::Installed),
        start: Start::Since(bounds[0]),
        until: Some(bounds[1]),
        ..Plan::everything()
    };
    let keep = |s: &Stored| s.batch == 1 && s.event.event_type == EventType::Installed;
    check("type within a window", combined, &keep).await;

    dry_runs_count_by_type(client, &cfg, &stored).await;
    nothing_matches_is_an_empty_replay(client, &cfg).await;
}

async fn dry_runs_count_by_type(
    client: &async_nats::Client,
    cfg: &esim_bridge::config::NatsConfig,
    stored: &[Stored],
) {
    let shutdown = CancellationToken::new();
    let out = SharedBuf::default();
    let sinks = |out: &SharedBuf| Sinks {
        output: Some(Box::new(out.clone())),
        dry_run: true,
        ..Sinks::default()
    };
    let summary = tools::replay(client, cfg, Plan::everything(), sinks(&out), &shutdown)
        .await
        .unwrap();
    assert_eq!(summary.matched, EVENTS as u64);
    for t in EventType::ALL {
        let expected = stored.iter().filter(|s| s.event.event_type == t).count() as u64;
        assert_eq!(
            summary.by_type.get(t.as_str()).copied().unwrap_or(0),
            expected,
            "{t}"
        );
    }
    assert!(out.take().is_empty(), "a dry run writes nothing");

    let order = stored[10].order();
    let plan = Plan {
        filter: Filter::all().order(order),
        ..Plan::everything()
    };
    let summary = tools::replay(client, cfg, plan, sinks(&out), &shutdown)
        .await
        .unwrap();
    let expected = stored.iter().filter(|s| s.order() == order).count() as u64;
    assert_eq!(
        (summary.matched, summary.scanned),
        (expected, EVENTS as u64)
    );
}

async fn nothing_matches_is_an_empty_replay(
    client: &async_nats::Client,
    cfg: &esim_bridge::config::NatsConfig,
) {
    let plan = Plan {
        filter: Filter::all().key("nobody").unwrap(),
        ..Plan::everything()
    };
    let (out, summary) = replay_to_vec(client, cfg, plan).await;
    assert!(out.is_empty());
    assert_eq!((summary.scanned, summary.matched), (0, 0));
    let future = Plan {
        start: Start::Since(time::OffsetDateTime::now_utc() + time::Duration::hours(1)),
        ..Plan::everything()
    };
    assert_eq!(replay_to_vec(client, cfg, future).await.1.matched, 0);
}

#[tokio::test]
async fn a_rate_limit_holds_the_replay_back_without_reordering() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let (stored, _) = publish_batches(&publisher, vec![events(200)]).await;
    let out = SharedBuf::default();
    let sinks = Sinks {
        output: Some(Box::new(out.clone())),
        ..Sinks::default()
    };
    let plan = Plan {
        rate: Some(tools::parse::rate("40/s").unwrap()),
        ..Plan::everything()
    };
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        stop.cancel();
    });
    let summary = tools::replay(publisher.client(), &cfg, plan, sinks, &shutdown)
        .await
        .unwrap();
    // Unthrottled, all 200 take a few milliseconds; at 40/s half a second allows about 20.
    assert!(summary.interrupted);
    assert!(
        (1..=100).contains(&summary.matched),
        "{} emitted",
        summary.matched
    );
    let written = out.take();
    let prefix = ndjson(stored.iter().take(summary.matched as usize));
    assert!(
        written == prefix,
        "a throttled replay is a prefix of the full one"
    );
}
