//! An existing events stream is checked, not trusted: `serve` refuses (exit 1, naming the
//! setting and what it requires) a stream whose settings would lose or duplicate events, and
//! leaves the stream as it found it.

use std::time::Duration;

use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy};

use crate::binary::{bridge_cmd, run_until_exit};
use crate::support::bridge::SECRET;
use crate::support::fixture::{jetstream, NatsServer};

/// The bridge's own subjects, so only the setting under test is wrong.
fn base() -> Config {
    Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.events.>".into()],
        ..Default::default()
    }
}

/// Runs `serve` against `nats_url` until it exits (`None`: it started serving).
/// Creates the operator's stream. The previous case deleted a stream of the same name, and
/// nats-server removes its store in the background: creating it again at once can fail with
/// "error creating store for stream" (10049), so that one setup error is retried briefly.
async fn create(js: &async_nats::jetstream::Context, config: Config, case: &str) {
    for _ in 0..50 {
        match js.create_stream(config.clone()).await {
            Ok(_) => return,
            Err(e) if e.to_string().contains("error creating store") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{case}: {e}"),
        }
    }
    panic!("{case}: stream not created after 5 s");
}

async fn serve(nats_url: &str) -> (Option<i32>, String) {
    let mut cmd = bridge_cmd();
    cmd.env("ESIM_BRIDGE_NATS__URL", nats_url)
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .env("ESIM_BRIDGE_WEBHOOK__LISTEN", "127.0.0.1:0")
        .env("ESIM_BRIDGE_ADMIN__LISTEN", "127.0.0.1:0")
        .arg("serve");
    run_until_exit(cmd).await
}

#[tokio::test]
async fn a_stream_whose_settings_would_drop_or_duplicate_events_is_refused_by_name() {
    let nats = NatsServer::start().await;
    let js = jetstream(&nats.url()).await;
    let cases: [(&str, Config, &str); 6] = [
        (
            "interest",
            Config {
                retention: RetentionPolicy::Interest,
                ..base()
            },
            "retention is interest, the bridge requires limits",
        ),
        (
            "work queue",
            Config {
                retention: RetentionPolicy::WorkQueue,
                ..base()
            },
            "retention is workqueue, the bridge requires limits",
        ),
        (
            "2 s max age",
            Config {
                max_age: Duration::from_secs(2),
                duplicate_window: Duration::from_secs(1),
                ..base()
            },
            "max_age is 2s, the bridge requires at least nats.max_age (7776000s)",
        ),
        (
            "discard old when full",
            Config {
                max_messages: 100,
                discard: DiscardPolicy::Old,
                ..base()
            },
            "discard is old (with max_msgs 100), the bridge requires new",
        ),
        (
            "discard old over bytes",
            Config {
                max_bytes: 1 << 20,
                discard: DiscardPolicy::Old,
                ..base()
            },
            "discard is old (with max_bytes 1048576), the bridge requires new",
        ),
        (
            "no ack",
            Config {
                no_ack: true,
                ..base()
            },
            "no_ack is true, the bridge requires false",
        ),
    ];
    for (case, config, named) in cases {
        create(&js, config.clone(), case).await;
        let (code, err) = serve(&nats.url()).await;
        assert_eq!(code, Some(1), "{case}: {err}");
        assert!(err.contains(named), "{case}: {err}");
        let mut stream = js.get_stream("ESIM_EVENTS").await.expect(case);
        let kept = stream.info().await.expect(case).config.clone();
        assert_eq!(
            (kept.retention, kept.max_age, kept.discard, kept.no_ack),
            (
                config.retention,
                config.max_age,
                config.discard,
                config.no_ack
            ),
            "{case}: the operator's stream is left as it was"
        );
        js.delete_stream("ESIM_EVENTS").await.expect(case);
    }

    // Sealing is only possible on an existing stream (re-created right after a delete, so
    // through the same retry as above).
    create(&js, base(), "sealed").await;
    js.update_stream(Config {
        sealed: true,
        ..base()
    })
    .await
    .expect("seal");
    let (code, err) = serve(&nats.url()).await;
    assert_eq!(code, Some(1), "sealed: {err}");
    assert!(
        err.contains("sealed is true, the bridge requires false"),
        "{err}"
    );
}
