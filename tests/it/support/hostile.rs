//! A provider written to misbehave, on a real port: a scripted orders API (list and detail
//! answers the test sets and changes while the bridge polls) with the faults the simulator
//! never produces — a 404 for an order that exists, a list that claims more pages forever and
//! ignores `page`, a page far larger than `per_page`, a login token that cannot be sent.
//! Counters tell what the bridge asked for, the positive markers the scenarios wait on.
#![allow(dead_code)] // Shared by several scenario files; not all use every helper.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Serves `router` on 127.0.0.1:0 until the test ends; returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// `minutes` ago, in RFC 3339.
pub fn ago(minutes: i64) -> String {
    let at = OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
    at.format(&Rfc3339).expect("format")
}

/// A delivered order as the provider lists it, created a minute ago.
pub fn listed(id: u64, iccid: &str, activated_at: Option<&str>) -> String {
    let activation = match activated_at {
        Some(at) => format!(
            r#""activation_status": "ACTIVE", "is_installed": true, "activated_at": "{at}""#
        ),
        None => r#""activation_status": "NOT_INSTALLED", "is_installed": false"#.to_owned(),
    };
    format!(
        r#"{{"id": {id}, "status": "DELIVERED", "iccid": "{iccid}", "validity_days": 0,
            "created_at": "{}", {activation}}}"#,
        ago(1)
    )
}

/// A delivered order that is installed (not yet activated), created a minute ago.
pub fn installed(id: u64, iccid: &str) -> String {
    format!(
        r#"{{"id": {id}, "status": "DELIVERED", "iccid": "{iccid}", "validity_days": 7,
            "created_at": "{}", "is_installed": true, "installed_at": "{}"}}"#,
        ago(1),
        ago(0)
    )
}

/// What the provider answers, and what it was asked; tests change it while the bridge runs.
#[derive(Debug, Default)]
pub struct Script {
    /// The list's items (JSON objects), newest first; one page unless `endless`.
    pub list: Vec<String>,
    /// Detail bodies by order id; an id without one is answered 404.
    pub details: HashMap<u64, String>,
    /// Detail reads of an order still to answer 404 although it has a body.
    pub not_found: HashMap<u64, u32>,
    /// Every list page claims `X-Has-More: true`, and `page` is ignored.
    pub endless: bool,
    /// List reads still to pad with `{"id": N}` items, and how many items each.
    pub oversize: Option<(u32, usize)>,
    /// The access token logins hand out (`None`: a well-formed one).
    pub token: Option<String>,
    /// Counters: logins, list reads, detail reads by order id.
    pub logins: u64,
    pub lists: u64,
    pub details_read: HashMap<u64, u64>,
}

/// The provider on a real port.
pub struct Provider {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Provider {
    pub async fn start(script: Script) -> Provider {
        let script = Arc::new(Mutex::new(script));
        let router = Router::new()
            .route("/auth/login", post(login))
            .route("/auth/refresh", post(login))
            .route("/api/v1/esim/orders", get(list))
            .route("/api/v1/esim/orders/{id}", get(detail))
            .with_state(script.clone());
        let url = serve(router).await;
        Provider { url, script }
    }

    /// The script, to read counters or change answers.
    pub fn script(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Detail reads of `id` so far.
    pub fn details_read(&self, id: u64) -> u64 {
        self.script().details_read.get(&id).copied().unwrap_or(0)
    }
}

type Shared = State<Arc<Mutex<Script>>>;

fn lock(s: &Arc<Mutex<Script>>) -> MutexGuard<'_, Script> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

async fn login(State(script): Shared) -> Json<serde_json::Value> {
    let mut s = lock(&script);
    s.logins += 1;
    let token = s.token.clone().unwrap_or_else(|| "access-ok".to_owned());
    let later = (OffsetDateTime::now_utc() + time::Duration::hours(1)).format(&Rfc3339);
    let at = later.expect("format");
    Json(serde_json::json!({"success": true, "data": {
        "access_token": token, "refresh_token": "refresh-1",
        "access_expires_at": at, "refresh_expires_at": at}}))
}

async fn list(State(script): Shared, RawQuery(query): RawQuery) -> Response {
    let mut s = lock(&script);
    s.lists += 1;
    let page = query
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("page=").and_then(|p| p.parse::<u32>().ok()))
        .unwrap_or(1);
    let mut items = match (s.endless, page) {
        (true, _) | (false, 1) => s.list.clone(),
        (false, _) => Vec::new(),
    };
    if let Some((left, pad)) = s.oversize.as_mut().filter(|(left, _)| *left > 0) {
        *left -= 1;
        items.extend((0..*pad as u64).map(|n| format!(r#"{{"id": {}}}"#, 1_000_000 + n)));
    }
    let mut h = HeaderMap::new();
    let more = if s.endless { "true" } else { "false" };
    h.insert("x-has-more", more.parse().expect("header"));
    (h, format!("[{}]", items.join(","))).into_response()
}

async fn detail(State(script): Shared, Path(id): Path<u64>) -> Response {
    let mut s = lock(&script);
    *s.details_read.entry(id).or_default() += 1;
    if let Some(n) = s.not_found.get_mut(&id).filter(|n| **n > 0) {
        *n -= 1;
        return StatusCode::NOT_FOUND.into_response();
    }
    match s.details.get(&id) {
        Some(body) => body.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
