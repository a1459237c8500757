//! The provider session: log in once, refresh ahead of expiry, rotate the pair atomically.
//!
//! One tokio mutex guards the token pair and is held across the login/refresh call, so however
//! many requests need a token at once, exactly one refresh (or login) happens and the rest get
//! its result. Refresh tokens rotate (the old one is revoked by the provider), so a pair is
//! replaced whole. A failed refresh falls back to a fresh login. `/auth/logout` revokes every
//! token of the account and is never called.
//!
//! A login that gives no usable token (refused, garbled, or a token that cannot be sent as a
//! header value, see [`wire::sendable`]) is counted and followed by the next one only after a
//! backoff (1 s doubling to a minute), and meanwhile [`CanRead`] says the provider cannot be
//! read (`esim_bridge_upstream_cannot_read`, and `/readyz`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::clock::Clock;
use super::error::ClientError;
use super::metrics;
use super::transport::{Call, Transport};
use super::wire::{self, Grant};
use crate::config::Secret;
use esim_events::Timestamp;

/// Refresh this long before the access token expires ...
const REFRESH_AHEAD: Duration = Duration::from_secs(300);
/// ... or this fraction of its lifetime before, if that is shorter (short test lifetimes).
const REFRESH_AHEAD_FRACTION: f64 = 0.1;
/// Token lifetimes the provider announces are believed up to these (documented: 1 h and
/// 7 days); an expiry in year 9999 must not overflow a deadline.
const MAX_ACCESS_LIFE: Duration = Duration::from_secs(24 * 3600);
const MAX_REFRESH_LIFE: Duration = Duration::from_secs(30 * 86_400);

/// First wait after a login that gave no usable token ...
const LOGIN_BACKOFF_START: Duration = Duration::from_secs(1);
/// ... doubling up to this: a provider that keeps handing out broken tokens gets a login a
/// minute, and a fixed one is used within a minute.
const LOGIN_BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Whether the provider can be read at all right now: false from a login that gave no usable
/// token until one that does. Shared (cheap to clone) with `/readyz`.
#[derive(Debug, Clone)]
pub struct CanRead(Arc<AtomicBool>);

impl CanRead {
    fn new() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, can: bool) {
        self.0.store(can, Ordering::Relaxed);
        metrics::cannot_read(!can);
    }
}

/// The account's login credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub api_key: Secret,
    pub api_secret: Secret,
}

/// The current token pair and its deadlines (tokio time).
struct Tokens {
    access: Secret,
    refresh: Secret,
    refresh_at: Instant,
    access_until: Instant,
    refresh_until: Instant,
}

/// The token pair, and the backoff of logins that gave none.
#[derive(Default)]
struct Session {
    tokens: Option<Tokens>,
    /// Logins in a row that gave no usable token, and when the next may be tried.
    refused: u32,
    next_login: Option<Instant>,
}

/// The session; shared by every request of one client.
pub struct Auth {
    credentials: Credentials,
    clock: Clock,
    session: Mutex<Session>,
    can_read: CanRead,
}

impl Auth {
    pub fn new(credentials: Credentials, clock: Clock) -> Self {
        Self {
            credentials,
            clock,
            session: Mutex::new(Session::default()),
            can_read: CanRead::new(),
        }
    }

    /// Whether the provider can be read right now (see [`CanRead`]).
    pub fn can_read(&self) -> CanRead {
        self.can_read.clone()
    }

    /// A valid access token: the current one, or a refreshed one when it is about to expire,
    /// or a fresh login when there is none or the refresh is refused.
    pub async fn bearer(&self, transport: &dyn Transport) -> Result<Secret, ClientError> {
        let mut session = self.session.lock().await;
        let session = &mut *session;
        let tokens = &mut session.tokens;
        let now = Instant::now();
        if let Some(t) = tokens.as_ref().filter(|t| now < t.refresh_at) {
            return Ok(t.access.clone());
        }
        if let Some(t) = tokens.as_ref().filter(|t| now < t.refresh_until) {
            match self.refresh(transport, &t.refresh).await {
                Ok(fresh) => {
                    let access = fresh.access.clone();
                    *tokens = Some(fresh);
                    return Ok(access);
                }
                // The provider is busy or unreachable: keep using a still-valid token and try
                // the refresh again on the next request.
                Err(ClientError::RateLimited { .. } | ClientError::Transient(_))
                    if now < t.access_until =>
                {
                    return Ok(t.access.clone());
                }
                Err(e @ (ClientError::RateLimited { .. } | ClientError::Transient(_))) => {
                    return Err(e)
                }
                Err(e) => {
                    tracing::info!(error = %e, "token refresh refused; logging in again");
                }
            }
        }
        if session.next_login.is_some_and(|at| now < at) {
            return Err(ClientError::LoginBackoff);
        }
        match self.login(transport).await {
            Ok(fresh) => {
                let access = fresh.access.clone();
                session.tokens = Some(fresh);
                session.refused = 0;
                session.next_login = None;
                self.can_read.set(true);
                Ok(access)
            }
            // A 429 pauses every read already; the login follows the pause.
            Err(e @ ClientError::RateLimited { .. }) => Err(e),
            Err(e) => {
                session.tokens = None;
                session.refused = session.refused.saturating_add(1);
                let wait = login_backoff(session.refused);
                session.next_login = Some(now.checked_add(wait).unwrap_or(now));
                self.can_read.set(false);
                tracing::warn!(error = %e, attempt = session.refused, ?wait, "provider login gave no usable token; logging in again after a backoff");
                Err(e)
            }
        }
    }

    /// A request with `used` got 401: unless the pair was replaced meanwhile, the next
    /// [`Auth::bearer`] refreshes first.
    pub async fn reject(&self, used: &Secret) {
        let mut session = self.session.lock().await;
        if let Some(t) = session.tokens.as_mut().filter(|t| t.access == *used) {
            let now = Instant::now();
            t.refresh_at = now;
            t.access_until = now;
        }
    }

    async fn login(&self, transport: &dyn Transport) -> Result<Tokens, ClientError> {
        let body = serde_json::json!({
            "username": self.credentials.api_key.expose(),
            "password": self.credentials.api_secret.expose(),
        });
        self.call(transport, "login", "/auth/login", body).await
    }

    async fn refresh(
        &self,
        transport: &dyn Transport,
        refresh: &Secret,
    ) -> Result<Tokens, ClientError> {
        let body = serde_json::json!({ "refresh_token": refresh.expose() });
        self.call(transport, "refresh", "/auth/refresh", body).await
    }

    async fn call(
        &self,
        transport: &dyn Transport,
        name: &'static str,
        path: &str,
        body: serde_json::Value,
    ) -> Result<Tokens, ClientError> {
        let call = Call {
            method: Method::POST,
            path,
            bearer: None,
            json: Some(body.to_string().into_bytes()),
        };
        let answer = match transport.send(call).await {
            Ok(a) => a,
            Err(e) => {
                metrics::auth(name, e.outcome());
                return Err(e);
            }
        };
        let status = answer.status.as_u16();
        let result = match status {
            200..=299 => wire::grant(&answer.body).map(|g| self.tokens_from(g)),
            401 => Err(ClientError::Unauthorized),
            429 => Err(ClientError::RateLimited {
                retry_after: wire::retry_after(&answer.headers, &answer.body),
            }),
            500..=599 => Err(ClientError::Transient(format!("{name} answered {status}"))),
            _ => Err(ClientError::Fatal {
                status,
                code: wire::error_code(&answer.body),
            }),
        };
        metrics::auth(
            name,
            result.as_ref().map_or_else(ClientError::outcome, |_| "ok"),
        );
        result
    }

    fn tokens_from(&self, g: Grant) -> Tokens {
        let now = Instant::now();
        let wall = self.clock.now();
        let until = |at: Option<Timestamp>, fallback: Duration| {
            at.and_then(|at| Duration::try_from(at.datetime() - wall).ok())
                .filter(|d| !d.is_zero())
                .unwrap_or(fallback)
        };
        let access_life = until(g.access_expires_at, Duration::from_secs(60)).min(MAX_ACCESS_LIFE);
        let refresh_life = until(g.refresh_expires_at, access_life).min(MAX_REFRESH_LIFE);
        let ahead = REFRESH_AHEAD.min(access_life.mul_f64(REFRESH_AHEAD_FRACTION));
        tracing::debug!(access_life = ?access_life, "provider session renewed");
        Tokens {
            access: g.access,
            refresh: g.refresh,
            refresh_at: now + access_life - ahead,
            access_until: now + access_life,
            refresh_until: now + refresh_life,
        }
    }
}

/// The wait before login number `refused + 1` after `refused` logins in a row gave no token.
fn login_backoff(refused: u32) -> Duration {
    let exp = refused.saturating_sub(1).min(16);
    LOGIN_BACKOFF_START
        .saturating_mul(1 << exp)
        .min(LOGIN_BACKOFF_CAP)
}
