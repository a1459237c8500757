//! An order's scripted future: how and when it leaves PENDING, installs, activates and expires.
//!
//! A plan is relative (durations); [`Timeline`] anchors it at the order's `created_at` and answers
//! "what is true at sim time t". The store and the webhook sender both read the timeline, so the
//! API and the webhooks always agree on when each transition happened.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Terminal order status a plan leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Fulfilled: ICCID and activation code issued.
    #[default]
    Delivered,
    /// Fulfilment failed; refunded.
    Failed,
    /// Cancelled administratively; refunded.
    Cancelled,
}

/// Why an order failed or was cancelled (copied into `failure_*` fields and webhooks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Machine-readable code, e.g. `OUT_OF_STOCK`.
    pub code: String,
    /// Human-readable reason.
    pub reason: String,
    /// Whether the customer can fix it (e.g. top up the wallet).
    #[serde(default)]
    pub user_fixable: bool,
}

impl Failure {
    /// The failure a FAILED plan gets when none was scripted.
    pub fn default_failed() -> Self {
        Self {
            code: "PROVIDER_ERROR".into(),
            reason: "The carrier rejected the order".into(),
            user_fixable: false,
        }
    }

    /// The failure a CANCELLED plan gets when none was scripted.
    pub fn default_cancelled() -> Self {
        Self {
            code: "CANCELLED_BY_ADMIN".into(),
            reason: "Order cancelled by the provider's support team".into(),
            user_fixable: false,
        }
    }
}

/// A scripted lifecycle. All durations are simulated time. JSON uses humantime strings
/// (`"90s"`, `"2h"`); omitted optional steps never happen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OrderPlan {
    /// Final status.
    pub outcome: Outcome,
    /// How long the order stays PENDING; zero = resolved synchronously by the create call.
    #[serde(with = "humantime_serde")]
    pub pending_for: Duration,
    /// Failure details for FAILED/CANCELLED (a default is used when absent).
    pub failure: Option<Failure>,
    /// Whether a FAILED/CANCELLED order still carries an ICCID (always true for DELIVERED).
    pub with_iccid: bool,
    /// Delay from delivery until the device downloads the profile; `None` = never installs.
    #[serde(with = "humantime_serde")]
    pub install_after: Option<Duration>,
    /// Delay from install until first data use; `None` = never activates.
    #[serde(with = "humantime_serde")]
    pub activate_after: Option<Duration>,
    /// Delay from activation until EXPIRED; `None` = the product's `validity_days`.
    #[serde(with = "humantime_serde")]
    pub expire_after: Option<Duration>,
}

impl OrderPlan {
    /// Delivered at once, installed after `install`, activated `activate` later.
    pub fn delivered(install: Option<Duration>, activate: Option<Duration>) -> Self {
        Self {
            install_after: install,
            activate_after: activate,
            ..Self::default()
        }
    }

    /// The failure details this plan's terminal state carries, if any.
    pub fn failure_details(&self) -> Option<Failure> {
        match self.outcome {
            Outcome::Delivered => None,
            Outcome::Failed => Some(self.failure.clone().unwrap_or_else(Failure::default_failed)),
            Outcome::Cancelled => Some(
                self.failure
                    .clone()
                    .unwrap_or_else(Failure::default_cancelled),
            ),
        }
    }

    /// Whether the order ends with an ICCID.
    pub fn has_iccid(&self) -> bool {
        self.outcome == Outcome::Delivered || self.with_iccid
    }
}

/// Install/activation truth at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivationStatus {
    /// Profile not in use yet (it may be downloaded: see `is_installed`).
    #[default]
    NotInstalled,
    /// First data use happened.
    Active,
    /// Validity over or data used up.
    Expired,
}

/// Lifecycle fields as the provider reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifecycle {
    /// `activation_status`.
    pub activation_status: ActivationStatus,
    /// `is_installed`.
    pub is_installed: bool,
    /// `installed_at`.
    pub installed_at: Option<OffsetDateTime>,
    /// `activated_at`.
    pub activated_at: Option<OffsetDateTime>,
}

/// A plan anchored at an order's creation time: absolute transition instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    /// When the order left PENDING (equal to creation for synchronous outcomes).
    pub resolved_at: OffsetDateTime,
    /// When the device installed the profile.
    pub installed_at: Option<OffsetDateTime>,
    /// When first use happened.
    pub activated_at: Option<OffsetDateTime>,
    /// When the eSIM expired.
    pub expires_at: Option<OffsetDateTime>,
}

impl Timeline {
    /// Anchors `plan` at `created_at` for a product valid `validity_days` after first use.
    pub fn new(plan: &OrderPlan, created_at: OffsetDateTime, validity_days: u32) -> Self {
        let resolved_at = created_at + plan.pending_for;
        let delivered = plan.outcome == Outcome::Delivered;
        let installed_at = plan
            .install_after
            .filter(|_| delivered)
            .map(|d| resolved_at + d);
        let activated_at = installed_at.and_then(|i| plan.activate_after.map(|d| i + d));
        let validity = Duration::from_secs(u64::from(validity_days) * 86_400);
        let expires_at = activated_at.map(|a| a + plan.expire_after.unwrap_or(validity));
        Self {
            resolved_at,
            installed_at,
            activated_at,
            expires_at,
        }
    }

    /// Whether the order has left PENDING at `now`.
    pub fn is_resolved(&self, now: OffsetDateTime) -> bool {
        now >= self.resolved_at
    }

    /// The true lifecycle at `now` (meaningful for delivered orders only).
    pub fn lifecycle_at(&self, now: OffsetDateTime) -> Lifecycle {
        let seen = |t: Option<OffsetDateTime>| t.filter(|t| *t <= now);
        let installed_at = seen(self.installed_at);
        let activated_at = seen(self.activated_at);
        let activation_status = match (activated_at, seen(self.expires_at)) {
            (_, Some(_)) => ActivationStatus::Expired,
            (Some(_), None) => ActivationStatus::Active,
            _ => ActivationStatus::NotInstalled,
        };
        Lifecycle {
            activation_status,
            is_installed: installed_at.is_some(),
            installed_at,
            activated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timeline_walks_install_activation_and_expiry() {
        let plan = OrderPlan {
            pending_for: Duration::from_secs(60),
            ..OrderPlan::delivered(
                Some(Duration::from_secs(300)),
                Some(Duration::from_secs(3600)),
            )
        };
        let t0 = datetime!(2026-05-15 12:00 UTC);
        let tl = Timeline::new(&plan, t0, 7);
        assert!(!tl.is_resolved(t0));
        assert!(tl.is_resolved(datetime!(2026-05-15 12:01 UTC)));
        let before = tl.lifecycle_at(datetime!(2026-05-15 12:05 UTC));
        assert!(!before.is_installed);
        let installed = tl.lifecycle_at(datetime!(2026-05-15 12:06 UTC));
        assert!(installed.is_installed);
        assert_eq!(installed.activation_status, ActivationStatus::NotInstalled);
        let active = tl.lifecycle_at(datetime!(2026-05-15 13:06 UTC));
        assert_eq!(active.activation_status, ActivationStatus::Active);
        assert_eq!(tl.expires_at, Some(datetime!(2026-05-22 13:06 UTC)));
        let expired = tl.lifecycle_at(datetime!(2026-05-22 13:06 UTC));
        assert_eq!(expired.activation_status, ActivationStatus::Expired);
    }

    #[test]
    fn failed_orders_never_install_and_plans_parse_from_json() {
        let plan: Result<OrderPlan, _> = serde_json::from_value(serde_json::json!({
            "outcome": "failed", "pending_for": "10m", "with_iccid": true,
            "install_after": "1m", "failure": {"code": "OUT_OF_STOCK", "reason": "none left"}
        }));
        let plan = plan.map_err(|e| e.to_string());
        let Ok(plan) = plan else { panic!("{plan:?}") };
        assert!(plan.has_iccid());
        let tl = Timeline::new(&plan, datetime!(2026-05-15 12:00 UTC), 7);
        assert_eq!(tl.installed_at, None);
        assert_eq!(
            plan.failure_details().map(|f| f.code),
            Some("OUT_OF_STOCK".into())
        );
    }
}
