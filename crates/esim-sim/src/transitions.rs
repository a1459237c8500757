//! What the simulator did: every order transition that has happened by sim now, the truth a
//! chaos test counts the events stream against (each must be emitted exactly once).

use serde::Serialize;
use time::OffsetDateTime;

use super::clock::whole_seconds;
use super::events;
use super::store::Store;

/// One transition an order made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// The order.
    pub order_id: u64,
    /// Its ICCID when it has one (the events subject key; else `order-<id>`).
    pub iccid: Option<String>,
    /// The event type it corresponds to (`esim.delivered`, `esim.installed`, ...).
    pub event_type: &'static str,
    /// When it happened (sim time).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl Transition {
    /// The subject key the bridge files this transition under.
    pub fn key(&self) -> String {
        match &self.iccid {
            Some(iccid) => iccid.clone(),
            None => format!("order-{}", self.order_id),
        }
    }
}

/// Every transition of every order in `store` that happened by `now`, in order id order.
pub fn made(store: &Store, now: OffsetDateTime) -> Vec<Transition> {
    let mut out = Vec::new();
    for order in store.orders() {
        for (at, kind) in events::planned(order) {
            if at <= now {
                out.push(Transition {
                    order_id: order.id,
                    iccid: order.iccid.clone(),
                    event_type: kind.type_name(),
                    at: whole_seconds(at),
                });
            }
        }
    }
    out
}

/// Whether every planned transition of every order has happened by `now`.
pub fn all_done(store: &Store, now: OffsetDateTime) -> bool {
    store
        .orders()
        .all(|o| events::planned(o).iter().all(|(at, _)| *at <= now))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{OrderPlan, Outcome, ScriptedOrder, SimConfig, SimState};

    #[test]
    fn transitions_appear_as_sim_time_passes_and_failed_orders_key_by_order() {
        let state = SimState::new(SimConfig::default()).expect("config");
        let step = Duration::from_secs(60);
        let plan = OrderPlan {
            pending_for: step,
            install_after: Some(step),
            activate_after: Some(step),
            expire_after: Some(step),
            ..OrderPlan::default()
        };
        let full = state.create_order(ScriptedOrder {
            plan,
            ..ScriptedOrder::default()
        });
        let failed = state.create_order(ScriptedOrder {
            plan: OrderPlan {
                outcome: Outcome::Failed,
                ..OrderPlan::default()
            },
            ..ScriptedOrder::default()
        });
        let (full, failed) = (full.expect("order"), failed.expect("order"));
        let (made, done) = state.transitions();
        let keys: Vec<_> = made.iter().map(|t| (t.key(), t.event_type)).collect();
        assert_eq!(keys, [(format!("order-{}", failed.id), "esim.failed")]);
        assert!(!done);

        state.advance(step * 5);
        let (made, done) = state.transitions();
        let types: Vec<&str> = made
            .iter()
            .filter(|t| t.order_id == full.id)
            .map(|t| t.event_type)
            .collect();
        let chain = [
            "esim.delivered",
            "esim.installed",
            "esim.activated",
            "esim.depleted",
        ];
        assert_eq!(types, chain);
        assert!(done);
        assert!(made
            .iter()
            .all(|t| t.order_id != full.id || t.iccid == full.iccid));
    }
}
