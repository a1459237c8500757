//! `POST /auth/login`, `/auth/refresh` and `/auth/logout`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::error::ApiError;
use super::{bearer, parse_json};
use crate::auth::{AuthError, TokenPair};
use crate::state::SimState;

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

fn pair_response(pair: &TokenPair) -> Response {
    Json(json!({"success": true, "data": pair})).into_response()
}

fn auth_error(e: AuthError) -> ApiError {
    match e {
        AuthError::BadCredentials => ApiError::Unauthorized("Invalid API credentials"),
        AuthError::BadRefreshToken => ApiError::Unauthorized("Invalid or expired refresh token"),
        AuthError::Throttled(secs) => ApiError::TooManyRequests(secs),
    }
}

/// `POST /auth/login`.
pub async fn login(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let body: LoginBody = parse_json(&body)?;
    let wall = state.clock().wall_now();
    let pair = state
        .shared
        .auth
        .login(&body.username, &body.password, Instant::now(), wall)
        .map_err(auth_error)?;
    state.shared.counters.bump(|c| c.logins += 1);
    tracing::debug!(client_id = %pair.client_id, "sim login");
    Ok(pair_response(&pair))
}

/// `POST /auth/refresh`: rotates the refresh token.
pub async fn refresh(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let body: RefreshBody = parse_json(&body)?;
    let wall = state.clock().wall_now();
    let pair = state
        .shared
        .auth
        .refresh(&body.refresh_token, Instant::now(), wall)
        .map_err(auth_error)?;
    state.shared.counters.bump(|c| c.refreshes += 1);
    tracing::debug!(client_id = %pair.client_id, "sim refresh");
    Ok(pair_response(&pair))
}

/// `POST /auth/logout`: revokes every token of the account (counted: clients must not call it).
pub async fn logout(
    State(state): State<SimState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.shared.counters.bump(|c| c.logouts += 1);
    let authorised =
        bearer(&headers).is_some_and(|t| state.shared.auth.check_access(t, Instant::now()));
    if !authorised {
        return Err(ApiError::Unauthorized("Missing or invalid access token"));
    }
    state.shared.auth.revoke_all();
    tracing::debug!("sim logout: all tokens revoked");
    Ok(Json(json!({"success": true})).into_response())
}
