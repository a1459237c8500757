//! The provider's account auth: login, rotating refresh tokens, logout, bearer checks and the
//! login/refresh rate limits. Token lifetimes run on unscaled tokio time (the provider's clock).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::ids;
use super::lock::lock;
use super::ratelimit::{RollingWindow, MINUTE};

/// Why an auth call was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// Wrong username/password.
    #[error("Invalid API credentials")]
    BadCredentials,
    /// Unknown, expired or already rotated refresh token.
    #[error("Invalid or expired refresh token")]
    BadRefreshToken,
    /// Login/refresh rate limit hit; retry after this many seconds.
    #[error("Retry after {0} seconds")]
    Throttled(u64),
}

/// A freshly issued token pair, as `/auth/login` and `/auth/refresh` return it.
#[derive(Clone, serde::Serialize)]
pub struct TokenPair {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Single-use token for `/auth/refresh`.
    pub refresh_token: String,
    /// When the access token stops working.
    #[serde(serialize_with = "super::order::ts")]
    pub access_expires_at: OffsetDateTime,
    /// When the refresh token stops working.
    #[serde(serialize_with = "super::order::ts")]
    pub refresh_expires_at: OffsetDateTime,
    /// The account.
    pub client_id: String,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_expires_at", &self.access_expires_at)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Credentials and lifetimes.
#[derive(Clone)]
pub struct AuthSettings {
    /// Expected `username`.
    pub api_key: String,
    /// Expected `password`.
    pub api_secret: String,
    /// Returned as `client_id`.
    pub client_id: String,
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
    /// Logins allowed per minute.
    pub logins_per_minute: u32,
    /// Refreshes allowed per minute.
    pub refreshes_per_minute: u32,
}

/// Issued tokens and auth rate limits.
pub struct Auth {
    settings: AuthSettings,
    inner: Mutex<Inner>,
}

struct Inner {
    /// access token → expiry.
    access: HashMap<String, Instant>,
    /// refresh token → expiry (removed when rotated).
    refresh: HashMap<String, Instant>,
    logins: RollingWindow,
    refreshes: RollingWindow,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// No tokens issued yet.
    pub fn new(settings: AuthSettings) -> Self {
        let inner = Inner {
            access: HashMap::new(),
            refresh: HashMap::new(),
            logins: RollingWindow::new(settings.logins_per_minute, MINUTE),
            refreshes: RollingWindow::new(settings.refreshes_per_minute, MINUTE),
        };
        Self {
            settings,
            inner: Mutex::new(inner),
        }
    }

    /// `POST /auth/login`. Every attempt, good or bad, counts against the login limit.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        now: Instant,
        wall: OffsetDateTime,
    ) -> Result<TokenPair, AuthError> {
        let mut inner = lock(&self.inner);
        inner.logins.try_admit(now).map_err(AuthError::Throttled)?;
        let user_ok = username.as_bytes().ct_eq(self.settings.api_key.as_bytes());
        let pass_ok = password
            .as_bytes()
            .ct_eq(self.settings.api_secret.as_bytes());
        if !bool::from(user_ok & pass_ok) {
            return Err(AuthError::BadCredentials);
        }
        Ok(self.issue(&mut inner, now, wall))
    }

    /// `POST /auth/refresh`: a new pair; the presented refresh token is revoked.
    pub fn refresh(
        &self,
        refresh_token: &str,
        now: Instant,
        wall: OffsetDateTime,
    ) -> Result<TokenPair, AuthError> {
        let mut inner = lock(&self.inner);
        inner
            .refreshes
            .try_admit(now)
            .map_err(AuthError::Throttled)?;
        match inner.refresh.remove(refresh_token) {
            Some(expiry) if now < expiry => Ok(self.issue(&mut inner, now, wall)),
            _ => Err(AuthError::BadRefreshToken),
        }
    }

    fn issue(&self, inner: &mut Inner, now: Instant, wall: OffsetDateTime) -> TokenPair {
        inner.access.retain(|_, exp| now < *exp);
        inner.refresh.retain(|_, exp| now < *exp);
        let s = &self.settings;
        let mut rng = rand::rng();
        let access_token = ids::token(&mut rng, "access", &s.client_id);
        let refresh_token = ids::token(&mut rng, "refresh", &s.client_id);
        inner
            .access
            .insert(access_token.clone(), now + s.access_ttl);
        inner
            .refresh
            .insert(refresh_token.clone(), now + s.refresh_ttl);
        TokenPair {
            access_token,
            refresh_token,
            access_expires_at: wall + s.access_ttl,
            refresh_expires_at: wall + s.refresh_ttl,
            client_id: s.client_id.clone(),
        }
    }

    /// Whether `token` is a live access token at `now`.
    pub fn check_access(&self, token: &str, now: Instant) -> bool {
        lock(&self.inner)
            .access
            .get(token)
            .is_some_and(|exp| now < *exp)
    }

    /// Revokes every access and refresh token (`/auth/logout`).
    pub fn revoke_all(&self) {
        let mut inner = lock(&self.inner);
        inner.access.clear();
        inner.refresh.clear();
    }

    /// Revokes access tokens only, forcing clients through a 401 → refresh (control surface).
    pub fn revoke_access(&self) {
        lock(&self.inner).access.clear();
    }
}
