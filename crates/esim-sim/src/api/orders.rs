//! `/api/v1/esim/orders`: list (stored state, never refreshes), detail (refresh-on-read),
//! create, and attaching a notification email.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::ApiError;
use super::{json_body, parse_json};
use crate::catalog;
use crate::lock::lock;
use crate::order::OrderStatus;
use crate::state::{CreateError, SimState};
use crate::store::{ListFilter, NewOrder, StoreError};

fn positive(q: &HashMap<String, String>, key: &str, default: u32) -> Result<u32, ApiError> {
    match q.get(key).map(String::as_str) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ApiError::Validation(format!("{key} must be a positive integer"))),
    }
}

fn non_empty(q: &HashMap<String, String>, key: &str) -> Option<String> {
    q.get(key).filter(|v| !v.is_empty()).cloned()
}

/// `GET /api/v1/esim/orders`: newest first, filtered, paginated; stored state only.
pub async fn list(
    State(state): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let cfg = state.config();
    let page = positive(&q, "page", 1)?;
    let per_page = positive(&q, "per_page", cfg.default_per_page)?.min(cfg.max_per_page);
    let status = match non_empty(&q, "status") {
        None => None,
        Some(s) => Some(
            OrderStatus::parse(&s.to_ascii_uppercase())
                .ok_or_else(|| ApiError::Validation(format!("unknown status {s:?}")))?,
        ),
    };
    let filter = ListFilter {
        status,
        client_reference: non_empty(&q, "client_reference"),
    };
    let now = state.clock().now();
    let (body, total, size) = {
        let mut store = lock(&state.shared.store);
        store.settle_all(now);
        let found = store.page(&filter, page as usize, per_page as usize);
        let views: Vec<_> = found
            .items
            .iter()
            .map(|o| o.view(false, cfg.null_lifecycle_until_delivered))
            .collect();
        (json_body(cfg.envelope, &views)?, found.total, views.len())
    };
    let total_pages = total.div_ceil(per_page as usize);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("x-page", page.to_string());
    set("x-per-page", per_page.to_string());
    set("x-total-count", total.to_string());
    set("x-total-pages", total_pages.to_string());
    set("x-page-size", size.to_string());
    set("x-has-more", ((page as usize) < total_pages).to_string());
    Ok(response)
}

fn order_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(format!("Order {raw} not found")))
}

/// `GET /api/v1/esim/orders/{id}`: refreshes status and lifecycle from the plan at sim now.
pub async fn detail(
    State(state): State<SimState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = order_id(&raw)?;
    let cfg = state.config();
    let now = state.clock().now();
    let mut store = lock(&state.shared.store);
    let order = store
        .refresh(id, now)
        .ok_or_else(|| ApiError::NotFound(format!("Order {id} not found")))?;
    tracing::debug!(order_id = id, status = ?order.status, "sim detail read");
    Ok(json_body(
        cfg.envelope,
        &order.view(true, cfg.null_lifecycle_until_delivered),
    )?
    .into_response())
}

#[derive(Deserialize)]
struct CreateBody {
    product_id: String,
    #[serde(default)]
    amount: Option<Box<RawValue>>,
    #[serde(default)]
    quantity: Option<u32>,
    client_reference: String,
}

/// Checks an amount is a positive JSON number with at most 4 decimals; returns its exact text.
fn amount_text(raw: &RawValue) -> Result<String, ApiError> {
    let text = raw.get();
    let invalid =
        || ApiError::Validation("amount must be a positive number with up to 4 decimals".into());
    let value: f64 = serde_json::from_str(text).map_err(|_| invalid())?;
    let decimals = text.split('.').nth(1).map_or(0, str::len);
    if value <= 0.0 || decimals > 4 || text.contains(['e', 'E']) {
        return Err(invalid());
    }
    Ok(text.to_owned())
}

/// `POST /api/v1/esim/orders`: creates an order following its scripted or random plan.
pub async fn create(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let body: CreateBody = parse_json(&body)?;
    if body.client_reference.is_empty() {
        return Err(ApiError::Validation("client_reference is required".into()));
    }
    if body.quantity.is_some_and(|q| q != 1) {
        return Err(ApiError::Validation("quantity must be 1".into()));
    }
    let product = catalog::find(&body.product_id)
        .ok_or_else(|| ApiError::Validation(format!("unknown product_id {:?}", body.product_id)))?;
    let amount = body.amount.as_deref().map(amount_text).transpose()?;
    let plan = state.plan_for(Some(&body.client_reference));
    let record = state
        .insert(NewOrder {
            client_reference: Some(body.client_reference),
            product,
            amount,
            plan,
        })
        .map_err(|e| match e {
            CreateError::Store(StoreError::DuplicateReference) => {
                ApiError::BadRequest("Duplicate client_reference".into())
            }
            other => ApiError::Validation(other.to_string()),
        })?;
    let cfg = state.config();
    let hold = cfg.create_hold;
    if record.status == OrderStatus::Pending && !hold.is_zero() && record.plan.pending_for <= hold {
        state.clock().sleep_until(record.timeline.resolved_at).await;
    }
    let now = state.clock().now();
    let mut store = lock(&state.shared.store);
    let order = store.refresh(record.id, now).ok_or(ApiError::Server(500))?;
    Ok(json_body(
        cfg.envelope,
        &order.view(true, cfg.null_lifecycle_until_delivered),
    )?
    .into_response())
}

#[derive(Deserialize)]
struct EmailBody {
    email: String,
}

/// `PATCH /api/v1/esim/orders/{id}/notification-email`.
pub async fn notification_email(
    State(state): State<SimState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = order_id(&raw)?;
    let body: EmailBody = parse_json(&body)?;
    if !body.email.contains('@') {
        return Err(ApiError::Validation("email is not valid".into()));
    }
    let mut store = lock(&state.shared.store);
    let order = store
        .get_mut(id)
        .ok_or_else(|| ApiError::NotFound(format!("Order {id} not found")))?;
    order.notification_email = Some(body.email);
    Ok(Json(serde_json::json!({"success": true})).into_response())
}
