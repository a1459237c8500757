//! `--repair`: publishes the missing transitions through the bridge's own core — the
//! normalisation of a fresh snapshot ([`normalise::from_snapshots`], as the poller's backfill
//! does), the payload's activation-code check, and [`Publisher::publish`] with the event's
//! deterministic `Nats-Msg-Id` and `Nats-Expected-Last-Subject-Sequence: 0` — so a repair can
//! never duplicate an event, whoever published it first or however often the audit runs.
//!
//! Each written event carries `repaired_at` (payload) and `Esim-Repaired-At` (header) with the
//! time of the repair; id, subject and everything else are what the bridge would have
//! published. Only missing transitions are repaired: history is never deleted or rewritten,
//! so split keys, contradictions and out-of-order steps are reported, not touched.

use time::OffsetDateTime;

use super::finding::{Class, Finding, Repair};
use crate::publish::{PublishError, Published, Publisher};
use esim_events::OrderData;
use esim_events::Timestamp;
use esim_normalise::normalise;

/// What a repair run wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub written: u64,
    pub already_present: u64,
    pub not_repairable: u64,
}

/// Publishes the missing events of one order (oldest first) and records the outcome on each
/// of its `missing` findings.
pub async fn repair_order(
    publisher: &Publisher,
    order: &OrderData,
    findings: &mut [Finding],
    now: OffsetDateTime,
    tally: &mut Written,
) -> Result<(), PublishError> {
    let wanted = |f: &Finding| f.class == Class::Missing && f.order_id == order.id;
    if !findings.iter().any(wanted) {
        return Ok(());
    }
    let at = Timestamp::from_datetime(now);
    let events = normalise::from_snapshots(None, order, now).unwrap_or_default();
    for finding in findings.iter_mut().filter(|f| wanted(f)) {
        let event = events
            .iter()
            .find(|e| Some(e.event_type) == finding.event && finding.subject.is_some());
        let (Some(event), Some(at)) = (event, at) else {
            finding.repair = Some(Repair::NotRepairable);
            tally.not_repairable += 1;
            continue;
        };
        let outcome = publisher.publish(&event.clone().repaired(at)).await?;
        finding.repair = Some(match outcome {
            Published::Stored { sequence } => {
                tally.written += 1;
                Repair::Written { sequence }
            }
            Published::Duplicate => {
                tally.already_present += 1;
                Repair::AlreadyPresent
            }
        });
    }
    Ok(())
}
