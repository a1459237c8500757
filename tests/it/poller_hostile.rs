//! The provider client against a fake provider on 127.0.0.1 serving answers the simulator
//! never gives: a redirect of the login to another origin, and answers larger than
//! `upstream.max_response_bytes` (announced, or streamed without a length).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use esim_bridge::config::{Secret, UpstreamConfig};
use esim_bridge::provider::{Budget, ClientError, Clock, UpstreamClient};

use crate::support::hostile::{listed, serve};

fn client(base_url: &str, tweak: impl FnOnce(&mut UpstreamConfig)) -> UpstreamClient {
    let mut cfg = UpstreamConfig {
        base_url: Some(base_url.to_owned()),
        api_key: Some(Secret::new("key")),
        api_secret: Some(Secret::new("api-secret-7f3e")),
        ..UpstreamConfig::default()
    };
    tweak(&mut cfg);
    let cfg = cfg.poller().expect("a complete [upstream]");
    UpstreamClient::from_config(&cfg, Budget::new(600), Clock::new()).expect("client")
}

async fn list(client: &UpstreamClient) -> Result<usize, ClientError> {
    let slot = client.budget().start().await;
    client.list(slot, None, 1).await.map(|p| p.orders.len())
}

fn grant() -> Response {
    let body = r#"{"success": true, "data": {"access_token": "a", "refresh_token": "r",
        "access_expires_at": "2100-01-01T00:00:00Z"}}"#;
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[tokio::test]
async fn a_login_redirected_to_another_origin_is_not_followed() {
    let elsewhere = Arc::new(AtomicU64::new(0));
    let seen = elsewhere.clone();
    let other = serve(Router::new().fallback(any(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async { grant() }
    })))
    .await;
    let target = format!("{other}/auth/login");
    let provider = serve(Router::new().route(
        "/auth/login",
        post(move || async move {
            (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response()
        }),
    ))
    .await;

    let result = list(&client(&provider, |_| {})).await;
    assert!(
        matches!(result, Err(ClientError::Fatal { status: 307, .. })),
        "{result:?}"
    );
    assert_eq!(
        elsewhere.load(Ordering::SeqCst),
        0,
        "the credentials went to another origin"
    );
}

#[tokio::test]
async fn answers_over_the_size_limit_are_abandoned_and_counted() {
    const LIMIT: u64 = 64 * 1024;
    let page = |n: usize| format!("[{}]", vec![r#"{"id": 1}"#; n].join(","));
    let fits = page(500); // ~5 kB
    let announced = page(20_000); // ~200 kB with a Content-Length
    let router = Router::new()
        .route("/auth/login", post(|| async { grant() }))
        .route(
            "/api/v1/esim/orders",
            get(move |q: axum::extract::RawQuery| {
                let (fits, announced) = (fits.clone(), announced.clone());
                async move {
                    match q.0.unwrap_or_default().ends_with("per_page=500") {
                        true => fits,
                        false => announced,
                    }
                }
            }),
        )
        .route(
            "/api/v1/esim/orders/{id}",
            get(|| async {
                // 64 MiB streamed without a length: read only up to the limit.
                let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
                let chunks = (0..1024).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
                Body::from_stream(futures::stream::iter(chunks))
            }),
        );
    let provider = serve(router).await;

    let small = client(&provider, |c| {
        c.max_response_bytes = LIMIT;
        c.page_size = 500;
    });
    assert_eq!(
        list(&small).await,
        Ok(500),
        "a page within the limit is read"
    );
    let client = client(&provider, |c| c.max_response_bytes = LIMIT);
    let limit = usize::try_from(LIMIT).expect("fits");
    assert_eq!(list(&client).await, Err(ClientError::TooLarge { limit }));
    let slot = client.budget().start().await;
    let detail = client.detail(slot, 7).await;
    assert_eq!(detail, Err(ClientError::TooLarge { limit }));
    assert_eq!(ClientError::TooLarge { limit }.outcome(), "too_large");
}

#[tokio::test]
async fn unprocessable_orders_are_quarantined_in_kv_and_the_bridge_keeps_polling_across_restarts() {
    use crate::support::bridge::Bridge;
    use crate::support::fixture::NatsServer;
    use crate::support::poller::{eventually, state_values, types_for, wait_for, with_poller};

    let good = listed(1, "8910300000000000001", None);
    let orders = [
        (3, listed(3, "8910300000000000003\\n", None)),
        (
            2,
            listed(2, "8910300000000000002", Some("9999-12-31T23:59:30Z")),
        ),
        (1, good.clone()),
    ];
    let list = format!(
        "[{}]",
        orders
            .iter()
            .map(|(_, o)| o.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let details: std::collections::HashMap<u64, String> = orders.into_iter().collect();
    // List calls served: the positive marker that the poller is still polling.
    let lists = Arc::new(AtomicU64::new(0));
    let lists_served = lists.clone();
    let router = Router::new()
        .route("/auth/login", post(|| async { grant() }))
        .route(
            "/api/v1/esim/orders",
            get(move || {
                lists_served.fetch_add(1, Ordering::Relaxed);
                async move { list }
            }),
        )
        .route(
            "/api/v1/esim/orders/{id}",
            get(move |axum::extract::Path(id): axum::extract::Path<u64>| {
                let body = details.get(&id).cloned();
                async move { body.ok_or(StatusCode::NOT_FOUND) }
            }),
        );
    let provider = serve(router).await;
    let nats = NatsServer::start().await;
    let url = nats.url();

    for run in 0..2 {
        let bridge = Bridge::start(&url, |c| with_poller(c, &provider)).await;
        let stored = wait_for(&url, |s| types_for(s, "8910300000000000001").len() == 1).await;
        assert_eq!(
            stored.len(),
            1,
            "only the sane order became an event (run {run})"
        );
        let keys: Vec<String> = state_values(&url)
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for key in ["quarantine.2", "quarantine.3"] {
            assert!(keys.iter().any(|k| k == key), "{key} missing: {keys:?}");
        }
        // Still polling after the quarantines (and, on the second run, after the restart).
        let from = lists.load(Ordering::Relaxed);
        eventually("more list calls after the quarantines", || {
            lists.load(Ordering::Relaxed) >= from + 2
        })
        .await;
        let http = reqwest::Client::new();
        let ready = http
            .get(format!("http://{}/readyz", bridge.admin))
            .send()
            .await
            .expect("readyz");
        let body = ready.text().await.expect("body");
        assert!(body.starts_with("ready\npoller: polling"), "{body}");
        bridge.stop().await;
    }
}
