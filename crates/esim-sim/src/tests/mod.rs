//! Scenario tests of the simulator through its HTTP surface (oneshot and real sockets).

mod auth;
mod garbage;
mod http;
mod orders;
mod ratelimit;
mod webhook;
mod workload;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use time::macros::datetime;
use tower::ServiceExt;

use super::{router, SimConfig, SimState};

/// A config with a fixed start time and no background tasks.
pub(super) fn config() -> SimConfig {
    SimConfig {
        start_time: Some(datetime!(2026-05-15 12:00 UTC)),
        ..SimConfig::default()
    }
}

/// One answer, parsed.
#[derive(Debug)]
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub raw: String,
    pub json: Value,
}

impl Answer {
    /// A response header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The error envelope's `code`.
    pub fn error_code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// An in-process client over `router(state)` using `oneshot` (works under paused time).
pub(super) struct Client {
    pub state: SimState,
    app: Router,
    pub token: Option<String>,
}

impl Client {
    pub fn new(cfg: SimConfig) -> Self {
        let state = SimState::new(cfg).expect("valid config");
        let app = router(state.clone());
        Self {
            state,
            app,
            token: None,
        }
    }

    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(token) = &self.token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible service");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let raw = String::from_utf8(bytes.to_vec()).expect("utf-8");
        let json = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            raw,
            json,
        }
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.call(Method::GET, uri, None).await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Answer {
        self.call(Method::POST, uri, Some(body)).await
    }

    /// Logs in with the default credentials and keeps the access token.
    pub async fn login(&mut self) -> Value {
        let a = self
            .post(
                "/auth/login",
                serde_json::json!({"username": "demo-key", "password": "demo-secret"}),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
        self.token = a.json["data"]["access_token"].as_str().map(str::to_owned);
        a.json["data"].clone()
    }
}
